-- Run by blas_after_oom.sh under an address-space limit (ulimit -v). Fills memory with
-- tensors until the allocator fails, then multiplies two 4000 x 4000 matrices, which
-- needs OpenBLAS's work buffers (128 MiB per thread) from outside actrun's allocator.
--   dropped: every filler is dropped first (the issue: the cache kept 1 GiB of them, and
--            OpenBLAS retried its buffer forever)
--   held:    the fillers stay but for 80 MB: room for the result, not for the buffers
-- Either way the product must finish or fail with a clean error; a hang is the failure.
local actrun = require("actrun")
local mode = assert(arg[1], "usage: blas_after_oom.lua dropped|held")
local a, b
if mode == "held" then a, b = actrun.randn(4000, 4000), actrun.randn(4000, 4000) end
local hold, n = {}, 0
for _, size in ipairs{16 * 2^20, 2^20} do -- 64 MB tensors, then 4 MB ones
  while true do
    local ok, t = pcall(actrun.zeros, size)
    if not ok then
      assert(tostring(t):find("actrun.zeros: not enough memory for a tensor of shape", 1, true), t)
      break
    end
    n = n + 1
    hold[n] = t
  end
end
print(string.format("filled %d MB", math.floor(actrun.memory().live / 2^20)))
if mode == "dropped" then
  hold = nil
else
  local freed = 0
  while freed < 80 * 2^20 and n > 0 do
    freed = freed + hold[n]:numel() * 4
    hold[n], n = nil, n - 1
  end
end
collectgarbage()
collectgarbage()
local m = actrun.memory()
print(string.format("%s: live %d MB, cached %d MB", mode, m.live >> 20, m.cached >> 20))
if mode == "dropped" then a, b = actrun.randn(4000, 4000), actrun.randn(4000, 4000) end
io.stdout:flush()
local ok, c = pcall(actrun.matmul, a, b)
if ok then
  assert(c:shape()[1] == 4000 and c:shape()[2] == 4000)
  print("matmul: ok")
else
  assert(tostring(c):find("^actrun.matmul: not enough memory"), c)
  print("matmul: error " .. tostring(c))
end
