-- Creation functions of the Tensors section: tensor, zeros, ones, full, empty, rand,
-- randn, range, linspace, eye; plus is_tensor, the shape queries and loading.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local T = require "testlib"
local actrun = T.actrun
local test, eq, near, tensor_near = T.test, T.eq, T.near, T.tensor_near

local function f32(x) return (string.unpack("f", string.pack("f", x))) end

test("tensor(number) is a 1-element tensor of shape {1}", function()
  local t = actrun.tensor(5)
  eq(t:shape(), {1})
  eq(t:dim(), 1)
  eq(t:numel(), 1)
  eq(t:item(), 5.0)
end)

test("tensor(flat table) is 1-D with the values in order", function()
  local t = actrun.tensor{1, -2.5, 3}
  eq(t:shape(), {3})
  eq(t:get(1), 1.0); eq(t:get(2), -2.5); eq(t:get(3), 3.0)
end)

test("tensor(nested table) takes its shape from the nesting (row-major)", function()
  local t = actrun.tensor{{1, 2, 3}, {4, 5, 6}}
  eq(t:shape(), {2, 3})
  eq(t:get(1, 3), 3.0)
  eq(t:get(2, 1), 4.0)
  local u = actrun.tensor{{{1, 2}, {3, 4}}, {{5, 6}, {7, 8}}}
  eq(u:shape(), {2, 2, 2})
  eq(u:get(2, 1, 2), 6.0)
end)

test("tensor values are stored as float32", function()
  eq(actrun.tensor(0.1):item(), f32(0.1))
  eq(actrun.tensor{1e-3, 16777217}:totable(), {f32(1e-3), 16777216.0})
end)

test("tensor keeps infinities and NaN", function()
  local t = actrun.tensor{math.huge, -math.huge, 0 / 0}
  local v = t:totable()
  eq(v[1], math.huge); eq(v[2], -math.huge)
  T.truthy(v[3] ~= v[3], "third element is NaN")
end)

test("tensor copies the Lua table (later edits of the table do not show)", function()
  local src = {1, 2, 3}
  local t = actrun.tensor(src)
  src[1] = 100
  eq(t:get(1), 1.0)
end)

test("tensor with {requires_grad=true} sets the field; the default is false", function()
  if not T.has_requires_grad() then T.skip("no requires_grad in this build yet") end
  eq(actrun.tensor({1, 2}, {requires_grad = true}).requires_grad, true)
  eq(actrun.tensor{1, 2}.requires_grad, false)
  eq(actrun.tensor({1, 2}, {requires_grad = false}).requires_grad, false)
end)

test("zeros(d1, d2) and zeros{d1, d2} give the same all-zero tensor", function()
  local a, b = actrun.zeros(2, 3), actrun.zeros{2, 3}
  tensor_near(a, {{0, 0, 0}, {0, 0, 0}}, 0)
  tensor_near(b, {{0, 0, 0}, {0, 0, 0}}, 0)
end)

test("sizes given as integral floats are accepted (zeros(2.0, 3.0))", function()
  eq(actrun.zeros(2.0, 3.0):shape(), {2, 3})
end)

test("zeros(0) is an empty tensor of shape {0}", function()
  local t = actrun.zeros(0)
  eq(t:shape(), {0})
  eq(t:numel(), 0)
  eq(actrun.zeros(3, 0):numel(), 0)
end)

test("tensors take up to 8 dimensions", function()
  local t = actrun.zeros(1, 2, 1, 2, 1, 2, 1, 2)
  eq(t:dim(), 8)
  eq(t:numel(), 16)
end)

test("ones fills with 1 (numbers and table forms)", function()
  tensor_near(actrun.ones(2, 2), {{1, 1}, {1, 1}}, 0)
  tensor_near(actrun.ones{3}, {1, 1, 1}, 0)
end)

test("full(shape_table, value) fills with the value", function()
  tensor_near(actrun.full({2, 3}, 7.5), {{7.5, 7.5, 7.5}, {7.5, 7.5, 7.5}}, 0)
  tensor_near(actrun.full({4}, -1), {-1, -1, -1, -1}, 0)
end)

test("full with NaN or inf fills with that value (memory reused from freed tensors included)", function()
  local old = actrun.full({1000}, 7)
  old = nil
  collectgarbage("collect")
  collectgarbage("collect")
  local t = actrun.full({1000}, 0 / 0)
  for _, i in ipairs{1, 500, 1000} do
    local v = t:get(i)
    T.truthy(v ~= v, "element " .. i .. " is NaN, got " .. tostring(v))
  end
  eq(actrun.full({3}, -math.huge):totable(), {-math.huge, -math.huge, -math.huge})
end)

test("empty has the requested shape", function()
  eq(actrun.empty(2, 3):shape(), {2, 3})
  eq(actrun.empty{4, 1}:shape(), {4, 1})
end)

test("rand and randn have the requested shape (numbers and table forms)", function()
  eq(actrun.rand(3, 4):shape(), {3, 4})
  eq(actrun.rand{5}:shape(), {5})
  eq(actrun.randn(2, 3, 4):shape(), {2, 3, 4})
  eq(actrun.randn{7}:shape(), {7})
end)

test("range(a, b) is inclusive with step 1", function()
  tensor_near(actrun.range(1, 5), {1, 2, 3, 4, 5}, 0)
  tensor_near(actrun.range(-2, 1), {-2, -1, 0, 1}, 0)
end)

test("range(a, b, step) with fractional and negative steps", function()
  tensor_near(actrun.range(1, 2, 0.5), {1, 1.5, 2}, 0)
  tensor_near(actrun.range(0, 1, 0.25), {0, 0.25, 0.5, 0.75, 1}, 0)
  tensor_near(actrun.range(5, 1, -2), {5, 3, 1}, 0)
end)

test("range stops at the last value not past b, like a Lua for", function()
  tensor_near(actrun.range(1, 2.5), {1, 2}, 0)
  tensor_near(actrun.range(0, 10, 4), {0, 4, 8}, 0)
end)

test("range(a, b) with b < a (step 1) is empty, like a Lua for", function()
  eq(actrun.range(3, 1):numel(), 0)
end)

test("linspace(a, b, n) includes both ends", function()
  tensor_near(actrun.linspace(0, 1, 5), {0, 0.25, 0.5, 0.75, 1}, 1e-7)
  tensor_near(actrun.linspace(-1, 1, 3), {-1, 0, 1}, 1e-7)
  tensor_near(actrun.linspace(3, -3, 4), {3, 1, -1, -3}, 1e-6)
end)

test("linspace(a, b, 1) is {a}, as PyTorch", function()
  tensor_near(actrun.linspace(2, 5, 1), {2}, 0)
end)

test("eye(n) is the identity", function()
  tensor_near(actrun.eye(3), {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}, 0)
  tensor_near(actrun.eye(1), {{1}}, 0)
end)

test("is_tensor is true for tensors and views, false for anything else", function()
  local t = actrun.zeros(2, 2)
  eq(actrun.is_tensor(t), true)
  eq(actrun.is_tensor(t:t()), true)
  for _, v in ipairs{5, "x", {}, true, print, io.stdout} do
    eq(actrun.is_tensor(v), false, "is_tensor(" .. type(v) .. ")")
  end
  eq(actrun.is_tensor(nil), false)
end)

test("the tensor metatable is named actrun.Tensor", function()
  eq(getmetatable(actrun.zeros(1)).__name, "actrun.Tensor")
end)

test("shape() returns a fresh table (editing it does not change the tensor)", function()
  local t = actrun.zeros(2, 3)
  local s = t:shape()
  s[1] = 99
  eq(t:shape(), {2, 3})
end)

test("size() is the shape table; size(dim) one size, negative dims from the end", function()
  local t = actrun.zeros(2, 3, 4)
  eq(t:size(), {2, 3, 4})
  eq(t:size(1), 2); eq(t:size(3), 4)
  eq(t:size(-1), 4); eq(t:size(-3), 2)
end)

test("dim, numel and size return Lua integers", function()
  local t = actrun.zeros(2, 3)
  eq(math.type(t:dim()), "integer")
  eq(math.type(t:numel()), "integer")
  eq(math.type(t:size(1)), "integer")
  eq(math.type(t:shape()[1]), "integer")
  eq(t:dim(), 2); eq(t:numel(), 6)
end)

test("version is a dotted version string", function()
  eq(type(actrun.version), "string")
  T.truthy(actrun.version:match("^%d+%.%d+%.%d+"), "version " .. actrun.version)
end)

test("no_grad runs fn with the arguments and returns all its results", function()
  local a, b, c = actrun.no_grad(function(x, y) return x + y, "two", nil end, 1, 2)
  eq(a, 3); eq(b, "two"); eq(c, nil)
  local t = actrun.no_grad(function(u) return u * 2 end, actrun.tensor{1, 2})
  tensor_near(t, {2, 4}, 0)
end)

T.done()
