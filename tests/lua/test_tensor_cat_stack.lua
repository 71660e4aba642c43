-- cat(list, dim) and stack(list, dim).
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local T = require "testlib"
local actrun = T.actrun
local test, eq, tensor_near = T.test, T.eq, T.tensor_near

local a = actrun.tensor{{1, 2}, {3, 4}}
local b = actrun.tensor{{5, 6}}

test("cat along dim 1 appends rows", function()
  tensor_near(actrun.cat({a, b}, 1), {{1, 2}, {3, 4}, {5, 6}}, 0)
end)

test("cat along dim 2 and dim -1 appends columns", function()
  local c = actrun.tensor{{7}, {8}}
  tensor_near(actrun.cat({a, c}, 2), {{1, 2, 7}, {3, 4, 8}}, 0)
  tensor_near(actrun.cat({a, c, a}, -1), {{1, 2, 7, 1, 2}, {3, 4, 8, 3, 4}}, 0)
end)

test("cat without a dim uses dim 1 (PyTorch's default)", function()
  tensor_near(actrun.cat{a, b}, {{1, 2}, {3, 4}, {5, 6}}, 0)
end)

test("cat of 1-D tensors, of one tensor, and with an empty part", function()
  tensor_near(actrun.cat({actrun.tensor{1}, actrun.tensor{2, 3}}, 1), {1, 2, 3}, 0)
  tensor_near(actrun.cat({a}, 1), a, 0)
  tensor_near(actrun.cat({actrun.zeros(0, 2), b}, 1), {{5, 6}}, 0)
end)

test("cat of views (transposed, expanded) copies their logical values", function()
  local r = actrun.cat({a:t(), actrun.tensor{{9, 9}}:expand(2, 2)}, 2)
  tensor_near(r, {{1, 3, 9, 9}, {2, 4, 9, 9}}, 0)
end)

test("cat of 3-D tensors along the middle dim", function()
  local x = actrun.range(1, 8):reshape(2, 2, 2)
  local y = actrun.range(9, 12):reshape(2, 1, 2)
  local r = actrun.cat({x, y}, 2)
  eq(r:shape(), {2, 3, 2})
  tensor_near(r, {{{1, 2}, {3, 4}, {9, 10}}, {{5, 6}, {7, 8}, {11, 12}}}, 0)
end)

test("cat returns new storage", function()
  local x = actrun.ones(2)
  local r = actrun.cat({x, x}, 1)
  r:fill(0)
  tensor_near(x, {1, 1}, 0)
end)

test("stack along dim 1 adds a leading dim", function()
  local u, v = actrun.tensor{1, 2, 3}, actrun.tensor{4, 5, 6}
  local r = actrun.stack({u, v}, 1)
  eq(r:shape(), {2, 3})
  tensor_near(r, {{1, 2, 3}, {4, 5, 6}}, 0)
end)

test("stack along dim 2 and dim -1 (a new last dim)", function()
  local u, v = actrun.tensor{1, 2, 3}, actrun.tensor{4, 5, 6}
  tensor_near(actrun.stack({u, v}, 2), {{1, 4}, {2, 5}, {3, 6}}, 0)
  tensor_near(actrun.stack({u, v}, -1), {{1, 4}, {2, 5}, {3, 6}}, 0)
end)

test("stack without a dim uses dim 1", function()
  eq(actrun.stack{a, a, a}:shape(), {3, 2, 2})
end)

test("stack of 2-D tensors along dims 2 and 3", function()
  local r2 = actrun.stack({a, a * 10}, 2)
  eq(r2:shape(), {2, 2, 2})
  tensor_near(r2, {{{1, 2}, {10, 20}}, {{3, 4}, {30, 40}}}, 0)
  local r3 = actrun.stack({a, a * 10}, 3)
  eq(r3:shape(), {2, 2, 2})
  tensor_near(r3, {{{1, 10}, {2, 20}}, {{3, 30}, {4, 40}}}, 0)
end)

T.done()
