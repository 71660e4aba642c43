-- Cost of every registered activation: ns per element, forward and backward, at 1e3,
-- 1e5 and 1.6e7 elements, on 1 and 2 threads. Not part of the test suite.
--
--   actrun bench/act_cost.lua [max_elements]
local actrun = require "actrun"
local act = actrun.act

local sizes = {1000, 100000, 16000000}
local maxn = tonumber(arg and arg[1])
local clock = actrun.clock -- wall-clock seconds (os.clock would sum CPU time of threads)

local function measure(fn, n)
  -- repeat until ~0.2 s of work, best of 3
  local reps = math.max(1, math.floor(2e7 / n))
  local best = math.huge
  for _ = 1, 3 do
    local t0 = clock()
    for _ = 1, reps do fn() end
    local t1 = clock()
    best = math.min(best, (t1 - t0) / reps)
  end
  return best * 1e9 / n
end

print(string.format("%-12s %7s %3s %10s %10s", "name", "n", "thr", "fwd ns/el", "bwd ns/el"))
for _, name in ipairs(act.list()) do
  for _, n in ipairs(sizes) do
    if not maxn or n <= maxn then
      local x = actrun.randn(n) * 5
      local dy = actrun.randn(n)
      for _, th in ipairs({1, 2}) do
        actrun.set_num_threads(th)
        local f = measure(function() act.apply(name, x) end, n)
        local b = measure(function() act.backward(name, x, dy) end, n)
        print(string.format("%-12s %7.0e %3d %10.3f %10.3f", name, n, th, f, b))
      end
    end
  end
  collectgarbage()
end
