-- Threads, clock and version of the Tensors section's "Other" functions.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local T = require "testlib"
local actrun = T.actrun
local test, eq = T.test, T.eq

test("get_num_threads returns a positive integer", function()
  local n = actrun.get_num_threads()
  eq(math.type(n), "integer")
  T.truthy(n >= 1, "threads " .. n)
end)

test("set_num_threads changes what get_num_threads returns", function()
  local before = actrun.get_num_threads()
  actrun.set_num_threads(1)
  eq(actrun.get_num_threads(), 1)
  actrun.set_num_threads(2)
  eq(actrun.get_num_threads(), 2)
  actrun.set_num_threads(before)
  eq(actrun.get_num_threads(), before)
end)

test("work gives the same result after switching thread counts back and forth", function()
  local before = actrun.get_num_threads()
  local x = actrun.range(1, 400000) * 1e-5
  local results = {}
  for _, n in ipairs{1, 2, 1, 2} do
    actrun.set_num_threads(n)
    results[#results + 1] = (x:exp():log() + x):sum():item()
  end
  actrun.set_num_threads(before)
  eq(results[2], results[1]); eq(results[3], results[1]); eq(results[4], results[1])
end)

test("clock returns a number that never goes backwards", function()
  local prev = actrun.clock()
  eq(type(prev), "number")
  for _ = 1, 100000 do
    local now = actrun.clock()
    if now < prev then T.fail("clock went back from " .. prev .. " to " .. now) end
    prev = now
  end
end)

test("clock has sub-microsecond resolution", function()
  local smallest = math.huge
  local prev = actrun.clock()
  for _ = 1, 100000 do
    local now = actrun.clock()
    local d = now - prev
    if d > 0 and d < smallest then smallest = d end
    prev = now
  end
  T.truthy(smallest < 1e-6, "smallest step " .. smallest .. " s")
end)

test("clock counts seconds of wall time (a busy loop of 0.2 s uses CPU time)", function()
  -- CPU-time accounting on a loaded virtual machine is only roughly right: check that a
  -- 0.2 s wall-clock busy loop took some, and not impossibly much, process CPU time.
  local c0, w0 = os.clock(), actrun.clock()
  local x = 0
  while actrun.clock() - w0 < 0.2 do x = x + 1 end
  local cpu, wall = os.clock() - c0, actrun.clock() - w0
  T.truthy(wall >= 0.2 and wall < 5, string.format("wall %.3f s", wall))
  T.truthy(cpu > 0.01 and cpu < wall * 2 + 0.1, string.format("wall %.3f s, cpu %.3f s", wall, cpu))
end)

test("version is a non-empty string", function()
  eq(type(actrun.version), "string")
  T.truthy(#actrun.version > 0, "non-empty")
end)

T.done()
