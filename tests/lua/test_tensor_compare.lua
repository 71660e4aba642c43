-- Comparisons gt lt ge le eq -> 0/1 float tensors, with broadcasting.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local T = require "testlib"
local actrun = T.actrun
local test, eq, tensor_near = T.test, T.eq, T.tensor_near

local x = actrun.tensor{1, 2, 3}
local y = actrun.tensor{3, 2, 1}

test("gt lt ge le eq against a tensor", function()
  tensor_near(x:gt(y), {0, 0, 1}, 0)
  tensor_near(x:lt(y), {1, 0, 0}, 0)
  tensor_near(x:ge(y), {0, 1, 1}, 0)
  tensor_near(x:le(y), {1, 1, 0}, 0)
  tensor_near(x:eq(y), {0, 1, 0}, 0)
end)

test("gt lt ge le eq against a number", function()
  tensor_near(x:gt(2), {0, 0, 1}, 0)
  tensor_near(x:lt(2), {1, 0, 0}, 0)
  tensor_near(x:ge(2), {0, 1, 1}, 0)
  tensor_near(x:le(2), {1, 1, 0}, 0)
  tensor_near(x:eq(2), {0, 1, 0}, 0)
  tensor_near(x:eq(2.5), {0, 0, 0}, 0)
end)

test("comparisons broadcast ({2,1} against {3})", function()
  local col = actrun.tensor{{1}, {3}}
  tensor_near(col:gt(actrun.tensor{0, 2, 4}), {{1, 0, 0}, {1, 1, 0}}, 0)
  tensor_near(actrun.tensor{0, 2, 4}:le(col), {{1, 0, 0}, {1, 1, 0}}, 0)
end)

test("comparison results are float tensors of the broadcast shape", function()
  local r = actrun.zeros(2, 3):eq(0)
  eq(r:shape(), {2, 3})
  eq(math.type(r:get(1, 1)), "float")
  eq(r:sum():item(), 6.0)
end)

test("comparisons with NaN are false, with infinities ordered", function()
  local n = actrun.tensor{0 / 0, 0 / 0, -math.huge, math.huge}
  tensor_near(n:eq(n), {0, 0, 1, 1}, 0)
  tensor_near(n:gt(0), {0, 0, 0, 1}, 0)
  tensor_near(n:le(0), {0, 0, 1, 0}, 0)
end)

test("comparisons compare float32 values (0.1 stored equals 0.1 given)", function()
  tensor_near(actrun.tensor{0.1}:eq(0.1), {1}, 0)
  tensor_near(actrun.tensor{0.1}:eq(actrun.tensor{0.1}), {1}, 0)
end)

test("comparisons on transposed views", function()
  local a = actrun.tensor{{1, 2}, {3, 4}}
  tensor_near(a:t():gt(a), {{0, 1}, {0, 0}}, 0) -- {{1,3},{2,4}} > {{1,2},{3,4}}
end)

T.done()
