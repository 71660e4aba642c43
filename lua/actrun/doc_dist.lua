-- help entries for actrun.dist (merged by actrun.help on first use).
return {
  ["actrun.dist"] = [=[
actrun.dist: many processes (MPI ranks) as one experiment
`mpirun -np N actrun script.lua` runs the script N times, ranks 0..N-1 (0-based, as
MPI's own tools and logs count). rank, size, allreduce, broadcast, barrier,
gather_rows, allgather_rows, broadcast_value, abort, info. Collectives must be called
by every rank in the same order. Without mpirun, or in a build without MPI, the same
script runs as one rank (size() is 1; no MPI_Init). lab.compare spreads its runs over
the ranks; lab.train{distributed=true} is data parallel. A rank that fails ends the
whole job (MPI_Abort). See docs/DISTRIBUTED.md (hostfile, Slurm).
  local dist = actrun.dist
  if dist.rank() == 0 then print("ranks:", dist.size()) end]=],

  ["actrun.dist.rank"] = [=[
actrun.dist.rank() -> integer
This process's rank, 0..size()-1 (MPI_COMM_WORLD; 0 without mpirun). Rank 0 is the one
that prints and writes files in lab.compare and lab.train.
  if actrun.dist.rank() == 0 then print("done") end]=],

  ["actrun.dist.size"] = [=[
actrun.dist.size() -> integer
The number of ranks (mpirun -np N gives N; 1 without mpirun or without MPI).
  print(actrun.dist.size())]=],

  ["actrun.dist.is_root"] = [=[
actrun.dist.is_root() -> boolean
rank() == 0.
  if actrun.dist.is_root() then io.write(report) end]=],

  ["actrun.dist.info"] = [=[
actrun.dist.info() -> {mpi=, active=, rank=, size=, library=, host=, error=}
mpi: this build has MPI; active: MPI was initialised (launched by mpirun/srun);
library: the MPI library's version line; host: this rank's processor name; error: why
MPI_Init failed, when it did.
  print(actrun.dist.info().library)]=],

  ["actrun.dist.allreduce"] = [=[
actrun.dist.allreduce(t [, op="sum"]) -> t
Combines t over every rank, in place, and returns it; op is "sum", "mean", "max" or
"min". t is a contiguous float tensor (a non-contiguous view is an error: reduce
v:contiguous() and copy it back) or a Lua array of numbers (combined as doubles, written
back into the array). Every rank passes the same shape. With one rank t is unchanged.
  local n = actrun.dist.allreduce({correct, seen}, "sum")]=],

  ["actrun.dist.broadcast"] = [=[
actrun.dist.broadcast(t [, root=0]) -> t
Copies rank root's tensor into t on every rank, in place (t contiguous, the same shape
everywhere). root is a rank 0..size()-1.
  actrun.dist.broadcast(model[1].weight:detach(), 0)]=],

  ["actrun.dist.barrier"] = [=[
actrun.dist.barrier()
Waits until every rank has reached it.
  actrun.dist.barrier()]=],

  ["actrun.dist.gather_rows"] = [=[
actrun.dist.gather_rows(rows [, root=0]) -> all (on root), nil (elsewhere)
rows is a list of plain values: numbers, strings, booleans and tables of those (no
tensors, functions or cycles; send t:totable()). On root, every rank's rows concatenated
in rank order; the other ranks get nil. Integers stay integers, floats are exact.
  local all = dist.gather_rows(my_rows)
  if all then write_csv(all) end]=],

  ["actrun.dist.allgather_rows"] = [=[
actrun.dist.allgather_rows(rows) -> all
As gather_rows, but every rank gets the concatenated list (what lab.compare uses to
give every rank every row).
  local everything = actrun.dist.allgather_rows(mine)]=],

  ["actrun.dist.broadcast_value"] = [=[
actrun.dist.broadcast_value(v [, root=0]) -> v
Rank root's plain value (number, string, boolean or table of those) on every rank; the
v passed by the other ranks is ignored.
  local cfg = actrun.dist.broadcast_value(dist.rank() == 0 and read_config() or nil)]=],

  ["actrun.dist.serialize"] = [=[
actrun.dist.serialize(v) -> string; actrun.dist.deserialize(s) -> v
The byte form of a plain value that the row collectives send (string.pack; floats
exact, integers kept).
  local v2 = actrun.dist.deserialize(actrun.dist.serialize({1, "a", {b=true}}))]=],

  ["actrun.dist.deserialize"] = [=[
actrun.dist.deserialize(s) -> v
The value that actrun.dist.serialize(v) wrote.
  local v = actrun.dist.deserialize(bytes)]=],

  ["actrun.dist.gather_bytes"] = [=[
actrun.dist.gather_bytes(s [, root=0]) -> list of strings (on root), nil (elsewhere)
Every rank's byte string, in rank order (MPI_Gatherv of the lengths, then the bytes).
  local parts = actrun.dist.gather_bytes(line)]=],

  ["actrun.dist.allgather_bytes"] = [=[
actrun.dist.allgather_bytes(s) -> list of strings
Every rank's byte string, in rank order, on every rank.
  local parts = actrun.dist.allgather_bytes(tostring(dist.rank()))]=],

  ["actrun.dist.broadcast_bytes"] = [=[
actrun.dist.broadcast_bytes(s [, root=0]) -> string
Rank root's byte string on every rank.
  local text = actrun.dist.broadcast_bytes(dist.rank() == 0 and io.read("a") or "")]=],

  ["actrun.dist.abort"] = [=[
actrun.dist.abort([code=1])
Ends every rank now (MPI_Abort) with exit status code; without MPI, os.exit(code). The
actrun command does this itself when a script fails on one rank of several.
  if not ok then actrun.dist.abort(2) end]=],
}
