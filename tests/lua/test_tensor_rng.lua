-- Randomness: manual_seed reproducibility, independence from the thread count, and the
-- distributions of rand (uniform [0,1)) and randn (standard normal).
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local T = require "testlib"
local actrun = T.actrun
local test, eq = T.test, T.eq

local function values(t) return t:flatten():totable() end

test("manual_seed makes rand and randn reproducible", function()
  actrun.manual_seed(42)
  local a, b = values(actrun.rand(100)), values(actrun.randn(3, 5))
  actrun.manual_seed(42)
  local c, d = values(actrun.rand(100)), values(actrun.randn(3, 5))
  eq(c, a)
  eq(d, b)
end)

test("successive draws differ, and different seeds give different numbers", function()
  actrun.manual_seed(1)
  local a = values(actrun.rand(50))
  local b = values(actrun.rand(50))
  actrun.manual_seed(2)
  local c = values(actrun.rand(50))
  T.truthy(not T.deep_eq(a, b), "second draw repeats the first")
  T.truthy(not T.deep_eq(a, c), "seed 2 repeats seed 1")
end)

test("the sequence depends on the seed and draw order only, not on shapes", function()
  actrun.manual_seed(5)
  local flat = values(actrun.rand(12))
  actrun.manual_seed(5)
  local shaped = values(actrun.rand(3, 4))
  eq(shaped, flat)
end)

test("rand and randn give the same numbers with 1 and 2 threads", function()
  local before = actrun.get_num_threads()
  local n = 300000 -- above the size where work is split across threads
  actrun.set_num_threads(1)
  actrun.manual_seed(123)
  local u1, g1 = actrun.rand(n), actrun.randn(n)
  actrun.set_num_threads(2)
  actrun.manual_seed(123)
  local u2, g2 = actrun.rand(n), actrun.randn(n)
  actrun.set_num_threads(before)
  eq(u1:eq(u2):sum():item(), n + 0.0, "rand elements equal")
  eq(g1:eq(g2):sum():item(), n + 0.0, "randn elements equal")
  eq(u1:get(n), u2:get(n))
  eq(g1:get(n - 1), g2:get(n - 1))
end)

test("rand lies in [0, 1) and is uniform (1e6 samples)", function()
  actrun.manual_seed(2024)
  local v = values(actrun.rand(1000000))
  local n, lo, hi, sum, below_quarter = #v, math.huge, -math.huge, 0, 0
  for i = 1, n do
    local x = v[i]
    if x < lo then lo = x end
    if x > hi then hi = x end
    sum = sum + x
    if x < 0.25 then below_quarter = below_quarter + 1 end
  end
  eq(n, 1000000)
  T.truthy(lo >= 0, "min " .. lo .. " >= 0")
  T.truthy(hi < 1, "max " .. hi .. " < 1")
  T.near(sum / n, 0.5, 0.003, "mean")
  T.near(below_quarter / n, 0.25, 0.003, "fraction below 0.25")
end)

test("randn has mean 0 and std 1 (1e6 samples)", function()
  actrun.manual_seed(99)
  local v = values(actrun.randn(1000000))
  local n, sum, sq, within1 = #v, 0, 0, 0
  for i = 1, n do
    local x = v[i]
    T.truthy(x == x and x ~= math.huge and x ~= -math.huge, "finite sample")
    sum = sum + x
    sq = sq + x * x
    if math.abs(x) < 1 then within1 = within1 + 1 end
  end
  local mean = sum / n
  local std = math.sqrt((sq - n * mean * mean) / (n - 1))
  T.truthy(math.abs(mean) < 0.005, "mean " .. mean)
  T.truthy(math.abs(std - 1) < 0.005, "std " .. std)
  T.near(within1 / n, 0.6826895, 0.003, "fraction within 1 std")
end)

test("reseeding after other work restarts the same stream", function()
  actrun.manual_seed(77)
  local a = values(actrun.randn(10))
  actrun.rand(1000)
  actrun.manual_seed(77)
  eq(values(actrun.randn(10)), a)
end)

T.done()
