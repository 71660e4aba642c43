-- Views and copies (clone contiguous reshape view transpose t narrow select flatten
-- unsqueeze squeeze expand) and the in-place fill, zero, copy.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local T = require "testlib"
local actrun = T.actrun
local test, eq, tensor_near = T.test, T.eq, T.tensor_near

-- {{1,2,3},{4,5,6}}
local function m23() return actrun.tensor{{1, 2, 3}, {4, 5, 6}} end

test("clone copies values into independent storage", function()
  local a = m23()
  local b = a:clone()
  tensor_near(b, {{1, 2, 3}, {4, 5, 6}}, 0)
  b:set(1, 1, 100)
  eq(a:get(1, 1), 1.0)
  a:set(2, 2, -7)
  eq(b:get(2, 2), 5.0)
end)

test("clone of a transposed view has the view's logical values", function()
  tensor_near(m23():t():clone(), {{1, 4}, {2, 5}, {3, 6}}, 0)
end)

test("contiguous of a transposed view gives the same values, copied", function()
  local a = m23()
  local c = a:t():contiguous()
  tensor_near(c, {{1, 4}, {2, 5}, {3, 6}}, 0)
  c:set(1, 1, 50)
  eq(a:get(1, 1), 1.0)
end)

test("contiguous of an already contiguous tensor shares its storage (as PyTorch)", function()
  local a = m23()
  local c = a:contiguous()
  c:set(1, 2, 20)
  eq(a:get(1, 2), 20.0)
end)

test("reshape accepts numbers or one table, and one -1", function()
  local a = m23()
  tensor_near(a:reshape(3, 2), {{1, 2}, {3, 4}, {5, 6}}, 0)
  tensor_near(a:reshape{3, 2}, {{1, 2}, {3, 4}, {5, 6}}, 0)
  tensor_near(a:reshape(-1, 2), {{1, 2}, {3, 4}, {5, 6}}, 0)
  tensor_near(a:reshape(6), {1, 2, 3, 4, 5, 6}, 0)
  eq(a:reshape(1, -1, 1):shape(), {1, 6, 1})
end)

test("reshape of a contiguous tensor is a view (writes show in the original)", function()
  local a = m23()
  a:reshape(6):fill(0)
  tensor_near(a, {{0, 0, 0}, {0, 0, 0}}, 0)
end)

test("reshape of a transposed view copies, in logical order", function()
  tensor_near(m23():t():reshape(6), {1, 4, 2, 5, 3, 6}, 0)
end)

test("view shares storage and infers -1", function()
  local a = m23()
  local v = a:view(-1)
  eq(v:shape(), {6})
  v:set(6, 60)
  eq(a:get(2, 3), 60.0)
  eq(a:view{3, -1}:shape(), {3, 2})
  eq(a:view(2, 1, 3):shape(), {2, 1, 3})
end)

test("view of a transposed (non-contiguous) tensor is an error", function()
  T.expect_error(function() return m23():t():view(6) end, "Tensor:view")
end)

test("transpose swaps two dims and shares storage", function()
  local a = m23()
  local t = a:transpose(1, 2)
  eq(t:shape(), {3, 2})
  tensor_near(t, {{1, 4}, {2, 5}, {3, 6}}, 0)
  t:set(3, 1, 30)
  eq(a:get(1, 3), 30.0)
end)

test("transpose with negative dims and on 3-D tensors", function()
  tensor_near(m23():transpose(-1, -2), {{1, 4}, {2, 5}, {3, 6}}, 0)
  local x = actrun.range(1, 24):reshape(2, 3, 4)
  local y = x:transpose(1, 3)
  eq(y:shape(), {4, 3, 2})
  eq(y:get(4, 2, 1), x:get(1, 2, 4))
  eq(y:get(1, 3, 2), x:get(2, 3, 1))
end)

test("t() transposes a 2-D tensor", function()
  tensor_near(m23():t(), {{1, 4}, {2, 5}, {3, 6}}, 0)
  tensor_near(m23():t():t(), {{1, 2, 3}, {4, 5, 6}}, 0)
end)

test("narrow(dim, start, len) takes len slices from start (1-based), as a view", function()
  local a = actrun.range(1, 12):reshape(4, 3)
  tensor_near(a:narrow(1, 2, 2), {{4, 5, 6}, {7, 8, 9}}, 0)
  tensor_near(a:narrow(2, 3, 1), {{3}, {6}, {9}, {12}}, 0)
  tensor_near(a:narrow(-1, 1, 2), {{1, 2}, {4, 5}, {7, 8}, {10, 11}}, 0)
  a:narrow(1, 4, 1):fill(0)
  tensor_near(a:select(1, 4), {0, 0, 0}, 0)
  eq(a:get(3, 3), 9.0)
end)

test("narrow with len 0 gives an empty view", function()
  eq(actrun.zeros(4, 3):narrow(1, 2, 0):shape(), {0, 3})
end)

test("select(dim, i) removes the dim and shares storage", function()
  local a = m23()
  tensor_near(a:select(1, 2), {4, 5, 6}, 0)
  tensor_near(a:select(2, 3), {3, 6}, 0)
  tensor_near(a:select(-1, 1), {1, 4}, 0)
  a:select(2, 2):fill(-1)
  tensor_near(a, {{1, -1, 3}, {4, -1, 6}}, 0)
end)

test("flatten gives a 1-D tensor in logical order", function()
  tensor_near(m23():flatten(), {1, 2, 3, 4, 5, 6}, 0)
  tensor_near(m23():t():flatten(), {1, 4, 2, 5, 3, 6}, 0)
  eq(actrun.zeros(2, 3, 4):flatten():shape(), {24})
end)

test("unsqueeze inserts a size-1 dim (negative dims count from the end)", function()
  local v = actrun.tensor{1, 2, 3}
  eq(v:unsqueeze(1):shape(), {1, 3})
  eq(v:unsqueeze(2):shape(), {3, 1})
  eq(v:unsqueeze(-1):shape(), {3, 1})
  eq(v:unsqueeze(-2):shape(), {1, 3})
  eq(actrun.zeros(2, 3):unsqueeze(2):shape(), {2, 1, 3})
  tensor_near(v:unsqueeze(1), {{1, 2, 3}}, 0)
end)

test("squeeze() drops every size-1 dim; squeeze(dim) only that one", function()
  local a = actrun.zeros(1, 3, 1, 2)
  eq(a:squeeze():shape(), {3, 2})
  eq(a:squeeze(1):shape(), {3, 1, 2})
  eq(a:squeeze(3):shape(), {1, 3, 2})
  eq(a:squeeze(-2):shape(), {1, 3, 2})
end)

test("squeeze(dim) of a dim whose size is not 1 leaves the shape (as PyTorch)", function()
  eq(actrun.zeros(1, 3):squeeze(2):shape(), {1, 3})
end)

test("squeeze shares storage", function()
  local a = actrun.zeros(1, 3)
  a:squeeze():fill(2)
  tensor_near(a, {{2, 2, 2}}, 0)
end)

test("expand repeats size-1 dims without copying", function()
  local row = actrun.tensor{{1, 2, 3}}
  local e = row:expand(2, 3)
  tensor_near(e, {{1, 2, 3}, {1, 2, 3}}, 0)
  tensor_near(row:expand{2, 3}, {{1, 2, 3}, {1, 2, 3}}, 0)
  row:set(1, 2, 20)
  eq(e:get(2, 2), 20.0)
end)

test("expand with -1 keeps a size and can add leading dims", function()
  local col = actrun.tensor{{1}, {2}}
  tensor_near(col:expand(-1, 3), {{1, 1, 1}, {2, 2, 2}}, 0)
  local v = actrun.tensor{1, 2}
  eq(v:expand(3, 2):shape(), {3, 2})
  eq(v:expand(4, 3, 2):shape(), {4, 3, 2})
  tensor_near(v:expand(3, 2), {{1, 2}, {1, 2}, {1, 2}}, 0)
end)

test("contiguous of an expanded view materialises the copies", function()
  local c = actrun.tensor{{5, 6}}:expand(3, 2):contiguous()
  c:set(3, 1, 0)
  tensor_near(c, {{5, 6}, {5, 6}, {0, 6}}, 0)
end)

test("views of views compose (narrow of transpose of reshape)", function()
  local a = actrun.range(1, 12):reshape(3, 4)
  local v = a:t():narrow(1, 2, 2) -- columns 2..3 of a, as rows
  tensor_near(v, {{2, 6, 10}, {3, 7, 11}}, 0)
  tensor_near(v:select(2, 3), {10, 11}, 0)
end)

test("fill sets every element and returns the tensor", function()
  local a = actrun.zeros(2, 2)
  local r = a:fill(3.5)
  tensor_near(a, {{3.5, 3.5}, {3.5, 3.5}}, 0)
  T.truthy(actrun.is_tensor(r), "fill returns a tensor")
  tensor_near(r, {{3.5, 3.5}, {3.5, 3.5}}, 0)
end)

test("zero sets every element to 0", function()
  local a = actrun.ones(3)
  a:zero()
  tensor_near(a, {0, 0, 0}, 0)
end)

test("fill and zero on a transposed view touch exactly the viewed elements", function()
  local a = actrun.ones(2, 3)
  a:t():narrow(1, 1, 2):fill(7) -- columns 1 and 2 of a
  tensor_near(a, {{7, 7, 1}, {7, 7, 1}}, 0)
  a:narrow(2, 2, 2):zero()
  tensor_near(a, {{7, 0, 0}, {7, 0, 0}}, 0)
end)

test("copy(src) copies values of the same shape", function()
  local a = actrun.zeros(2, 3)
  a:copy(m23())
  tensor_near(a, {{1, 2, 3}, {4, 5, 6}}, 0)
end)

test("copy broadcasts src to the destination's shape", function()
  local a = actrun.zeros(2, 3)
  a:copy(actrun.tensor{7, 8, 9})
  tensor_near(a, {{7, 8, 9}, {7, 8, 9}}, 0)
end)

test("copy into a view writes into the base tensor; from a transposed source", function()
  local a = actrun.zeros(3, 3)
  a:narrow(1, 2, 2):copy(actrun.tensor{{1, 2}, {3, 4}, {5, 6}}:t())
  tensor_near(a, {{0, 0, 0}, {1, 3, 5}, {2, 4, 6}}, 0)
end)

T.done()
