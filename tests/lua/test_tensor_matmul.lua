-- matmul: 2-D, batched 3-D (with a broadcast 2-D side), 1-D cases, transposed inputs.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local T = require "testlib"
local actrun = T.actrun
local test, eq, tensor_near = T.test, T.eq, T.tensor_near

-- Reference product of two nested tables (double precision).
local function naive(a, b)
  local n, k, m = #a, #b, #b[1]
  local c = {}
  for i = 1, n do
    c[i] = {}
    for j = 1, m do
      local s = 0
      for p = 1, k do s = s + a[i][p] * b[p][j] end
      c[i][j] = s
    end
  end
  return c
end

local A = actrun.tensor{{1, 2, 3}, {4, 5, 6}}       -- {2,3}
local B = actrun.tensor{{1, 0}, {0, 1}, {2, -1}}    -- {3,2}

test("2-D matmul (function and method)", function()
  tensor_near(actrun.matmul(A, B), {{7, -1}, {16, -1}}, 0)
  tensor_near(A:matmul(B), {{7, -1}, {16, -1}}, 0)
  tensor_near(B:matmul(A), naive(B:totable(), A:totable()), 0)
end)

test("matmul with the identity returns the matrix", function()
  tensor_near(actrun.eye(2):matmul(A), A, 0)
  tensor_near(A:matmul(actrun.eye(3)), A, 0)
end)

test("matmul of transposed views (no explicit copy needed)", function()
  tensor_near(A:t():matmul(A), naive(A:t():totable(), A:totable()), 0)
  tensor_near(A:matmul(A:t()), {{14, 32}, {32, 77}}, 0)
  tensor_near(B:t():matmul(A:t()), {{7, 16}, {-1, -1}}, 0)
end)

test("matmul of a non-contiguous narrow/expand view", function()
  local M = actrun.range(1, 16):reshape(4, 4)
  local sub = M:narrow(2, 2, 2) -- {4,2}, row stride 4
  tensor_near(sub:t():matmul(sub), naive(sub:t():totable(), sub:totable()), 0)
  local ex = actrun.tensor{{1, 2}}:expand(3, 2)
  tensor_near(ex:matmul(actrun.tensor{{1}, {1}}), {{3}, {3}, {3}}, 0)
end)

test("batched 3-D matmul multiplies each batch", function()
  local X = actrun.range(1, 12):reshape(2, 2, 3)
  local Y = actrun.range(1, 12):reshape(2, 3, 2)
  local Z = X:matmul(Y)
  eq(Z:shape(), {2, 2, 2})
  tensor_near(Z[1], naive(X[1]:totable(), Y[1]:totable()), 0)
  tensor_near(Z[2], naive(X[2]:totable(), Y[2]:totable()), 0)
end)

test("3-D @ 2-D and 2-D @ 3-D broadcast the 2-D side over the batch", function()
  local X = actrun.range(1, 12):reshape(2, 2, 3)
  local Z = X:matmul(B)
  eq(Z:shape(), {2, 2, 2})
  tensor_near(Z[2], naive(X[2]:totable(), B:totable()), 0)
  local W = A:matmul(actrun.range(1, 12):reshape(2, 3, 2))
  eq(W:shape(), {2, 2, 2})
  tensor_near(W[2], naive(A:totable(), actrun.range(7, 12):reshape(3, 2):totable()), 0)
end)

test("2-D @ 1-D is a matrix-vector product of shape {m}", function()
  local r = A:matmul(actrun.tensor{1, 1, 1})
  tensor_near(r, {6, 15}, 0)
end)

test("1-D @ 2-D is a vector-matrix product of shape {n}", function()
  local r = actrun.tensor{1, -1}:matmul(A)
  tensor_near(r, {-3, -3, -3}, 0)
end)

test("1-D @ 1-D is the dot product (one element)", function()
  local r = actrun.matmul(actrun.tensor{1, 2, 3}, actrun.tensor{4, 5, 6})
  eq(r:numel(), 1)
  eq(r:item(), 32.0)
end)

test("a larger product against a double-precision reference", function()
  actrun.manual_seed(3)
  local P, Q = actrun.randn(37, 53), actrun.randn(53, 29)
  local R = P:matmul(Q)
  eq(R:shape(), {37, 29})
  local ref = naive(P:totable(), Q:totable())
  local got = R:totable()
  for i = 1, 37 do
    for j = 1, 29 do
      T.truthy(math.abs(got[i][j] - ref[i][j]) <= 1e-4 * (1 + math.abs(ref[i][j])),
        string.format("element %d,%d: %g vs %g", i, j, got[i][j], ref[i][j]))
    end
  end
end)

test("matmul does not modify its inputs and returns new storage", function()
  local a, b = A:clone(), B:clone()
  local c = a:matmul(b)
  c:fill(0)
  tensor_near(a, A, 0)
  tensor_near(b, B, 0)
end)

test("matmul with an inner size of 0 gives zeros", function()
  tensor_near(actrun.zeros(2, 0):matmul(actrun.zeros(0, 3)), {{0, 0, 0}, {0, 0, 0}}, 0)
end)

-- OpenBLAS's own threads split a product by the thread count, and its edge kernels then
-- sum some elements in another order: products must not depend on it, backward included.
test("1 and 2 threads give the same bits (matmul, its backward, linear)", function()
  local threads = actrun.get_num_threads()
  local shapes = { -- m, k, n
    {256, 400, 256}, {128, 784, 256}, {37, 513, 1601}, {1, 2048, 1001}, {513, 1024, 17},
    {16, 72, 1600}, {1601, 64, 33}, {300, 301, 299}, {127, 129, 131},
  }
  local function run(nt, m, k, n)
    actrun.set_num_threads(nt)
    actrun.manual_seed(3)
    local a = actrun.randn(m, k):detach()
    a.requires_grad = true
    local b = actrun.randn(k, n):detach()
    b.requires_grad = true
    local y = a:matmul(b)
    ;(y * actrun.randn(y:shape())):sum():backward()
    -- linear: the weight {n, k} read through a transposed view, a bias, and its backward
    local x = actrun.randn(m, k):detach()
    x.requires_grad = true
    local w = actrun.randn(n, k):detach()
    w.requires_grad = true
    local bias = actrun.randn(n):detach()
    bias.requires_grad = true
    local z = actrun.linear(x, w, bias)
    ;(z * actrun.randn(z:shape())):sum():backward()
    local batched = actrun.randn(3, m, k):matmul(b:detach())
    return {y, a.grad, b.grad, z, x.grad, w.grad, bias.grad, batched}
  end
  for _, c in ipairs(shapes) do
    local one, two = run(1, table.unpack(c)), run(2, table.unpack(c))
    for i, what in ipairs{"y", "da", "db", "linear", "linear dx", "linear dw", "linear db",
                          "batched y"} do
      -- elementwise eq first (fast); the tables only to describe a difference
      if two[i]:eq(one[i]):sum():item() ~= one[i]:numel() then
        eq(two[i]:totable(), one[i]:totable(), table.concat(c, "x") .. " " .. what)
      end
    end
  end
  actrun.set_num_threads(threads)
end)

T.done()
