-- Rank 1 raises an error while rank 0 waits in a barrier: the actrun binary must end the
-- whole job with a non-zero status (MPI_Abort), not hang (ctest: TIMEOUT 60).
local dist = require "actrun.dist"
if dist.rank() == 1 then error("rank 1 fails on purpose") end
dist.barrier()
print("rank " .. dist.rank() .. " passed the barrier")
