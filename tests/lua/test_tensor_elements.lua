-- Element access: get, set, item, totable, t[i], t[i] = v, #t.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local T = require "testlib"
local actrun = T.actrun
local test, eq, tensor_near = T.test, T.eq, T.tensor_near

local function f32(x) return (string.unpack("f", string.pack("f", x))) end

test("get reads with 1-based indices, one per dim", function()
  local a = actrun.tensor{{1, 2, 3}, {4, 5, 6}}
  eq(a:get(1, 1), 1.0)
  eq(a:get(2, 3), 6.0)
  eq(a:get(1, 2), 2.0)
  eq(type(a:get(1, 1)), "number")
  local b = actrun.range(1, 24):reshape(2, 3, 4)
  eq(b:get(2, 3, 4), 24.0)
  eq(b:get(2, 1, 3), 15.0)
  eq(actrun.tensor{9, 8}:get(2), 8.0)
end)

test("set writes one element (rounded to float32) and nothing else", function()
  local a = actrun.zeros(2, 3)
  a:set(2, 1, 0.1)
  eq(a:get(2, 1), f32(0.1))
  tensor_near(a, {{0, 0, 0}, {f32(0.1), 0, 0}}, 0)
  local v = actrun.zeros(3)
  v:set(3, -4)
  tensor_near(v, {0, 0, -4}, 0)
end)

test("get and set on a transposed view address logical positions", function()
  local a = actrun.tensor{{1, 2, 3}, {4, 5, 6}}
  local t = a:t()
  eq(t:get(3, 2), 6.0)
  eq(t:get(1, 2), 4.0)
  t:set(2, 1, -2)
  eq(a:get(1, 2), -2.0)
end)

test("item returns the number of a 1-element tensor of any rank", function()
  eq(actrun.tensor(2.5):item(), 2.5)
  eq(actrun.full({1, 1, 1}, -3):item(), -3.0)
  eq(type(actrun.tensor{4}:item()), "number")
end)

test("totable returns nested Lua tables in row-major order", function()
  eq(actrun.tensor{1, 2, 3}:totable(), {1.0, 2.0, 3.0})
  eq(actrun.tensor{{1, 2}, {3, 4}, {5, 6}}:totable(), {{1.0, 2.0}, {3.0, 4.0}, {5.0, 6.0}})
  eq(actrun.range(1, 8):reshape(2, 2, 2):totable(),
    {{{1.0, 2.0}, {3.0, 4.0}}, {{5.0, 6.0}, {7.0, 8.0}}})
end)

test("totable of a view follows the view's logical layout", function()
  local a = actrun.tensor{{1, 2, 3}, {4, 5, 6}}
  eq(a:t():totable(), {{1.0, 4.0}, {2.0, 5.0}, {3.0, 6.0}})
  eq(a:select(2, 2):totable(), {2.0, 5.0})
  eq(actrun.tensor{{1, 2}}:expand(2, 2):totable(), {{1.0, 2.0}, {1.0, 2.0}})
end)

test("totable of an empty tensor is an empty table", function()
  eq(actrun.zeros(0):totable(), {})
end)

test("t[i] on a 1-D tensor is a number", function()
  local v = actrun.tensor{10, 20, 30}
  eq(v[1], 10.0)
  eq(v[3], 30.0)
  eq(type(v[2]), "number")
end)

test("t[i] on a 2-D tensor is row i, a view", function()
  local a = actrun.tensor{{1, 2, 3}, {4, 5, 6}}
  local row = a[2]
  T.truthy(actrun.is_tensor(row), "a[2] is a tensor")
  tensor_near(row, {4, 5, 6}, 0)
  row:set(1, 40)
  eq(a:get(2, 1), 40.0)
  eq(a[1][3], 3.0)
end)

test("t[i] on a 3-D tensor is a 2-D view", function()
  local b = actrun.range(1, 24):reshape(2, 3, 4)
  local s = b[2]
  eq(s:shape(), {3, 4})
  eq(s:get(1, 1), 13.0)
  eq(b[2][3][4], 24.0)
end)

test("t[i] on a transposed tensor selects along its first (logical) dim", function()
  local a = actrun.tensor{{1, 2, 3}, {4, 5, 6}}
  tensor_near(a:t()[3], {3, 6}, 0)
end)

test("t[i] = number sets an element of a 1-D tensor", function()
  local v = actrun.zeros(3)
  v[2] = 5
  tensor_near(v, {0, 5, 0}, 0)
end)

test("t[i] = number fills row i of an N-D tensor", function()
  local a = actrun.zeros(2, 3)
  a[1] = 7
  tensor_near(a, {{7, 7, 7}, {0, 0, 0}}, 0)
end)

test("t[i] = tensor copies a same-shape or broadcastable tensor into row i", function()
  local a = actrun.zeros(3, 2)
  a[2] = actrun.tensor{1, 2}
  a[3] = actrun.tensor{9}
  tensor_near(a, {{0, 0}, {1, 2}, {9, 9}}, 0)
  local b = actrun.zeros(2, 2, 2)
  b[1] = actrun.tensor{{1, 2}, {3, 4}}
  b[2] = actrun.tensor{5, 6}
  tensor_near(b, {{{1, 2}, {3, 4}}, {{5, 6}, {5, 6}}}, 0)
end)

test("t[i] = v through a transposed view writes the right elements", function()
  local a = actrun.zeros(2, 3)
  local t = a:t()
  t[3] = actrun.tensor{1, 2}
  tensor_near(a, {{0, 0, 1}, {0, 0, 2}}, 0)
end)

test("methods and fields stay reachable next to integer indexing", function()
  local a = actrun.zeros(2)
  eq(type(a.sum), "function")
  eq(type(a.shape), "function")
  eq(a.no_such_method, nil)
end)

test("#t is t:size(1)", function()
  eq(#actrun.zeros(4), 4)
  eq(#actrun.zeros(3, 5), 3)
  eq(#actrun.zeros(3, 5):t(), 5)
  eq(#actrun.zeros(0), 0)
  eq(math.type(#actrun.zeros(2)), "integer")
end)

T.done()
