-- actrun.linear(x, w [, b]) = x w^T + b: the fused op behind nn.Linear, and the direct
-- (non-BLAS) path of tiny products: values against matmul + add, gradients by finite
-- differences and against the unfused ops, errors.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local T = require "testlib"
local actrun = T.actrun
local test, tensor_near = T.test, T.tensor_near
local lab = actrun.lab

local function max_diff(a, b) return (a - b):abs():max():item() end
local function rg(t) t.requires_grad = true return t end

test("linear equals matmul with the transposed weight plus the bias", function()
  actrun.manual_seed(3)
  -- tiny (direct loop), medium and large (sgemm) products
  for _, s in ipairs{{4, 2, 8}, {5, 3, 4}, {33, 70, 20}, {128, 784, 256}} do
    local x, w, b = actrun.randn(s[1], s[2]), actrun.randn(s[3], s[2]), actrun.randn(s[3])
    local ref = x:matmul(w:t()) + b
    T.near(max_diff(actrun.linear(x, w, b), ref), 0, 1e-4 * s[2], "with bias")
    T.near(max_diff(actrun.linear(x, w), x:matmul(w:t())), 0, 1e-4 * s[2], "without bias")
    T.eq(actrun.linear(x, w, b):shape(), {s[1], s[3]})
  end
end)

test("linear of exact small integers is exact (direct path and sgemm)", function()
  local x = actrun.tensor{{1, 2}, {3, 4}, {5, 6}}
  local w = actrun.tensor{{1, 0}, {0, 1}, {1, 1}, {2, -1}}
  local b = actrun.tensor{10, 20, 30, 40}
  tensor_near(actrun.linear(x, w, b), {{11, 22, 33, 40}, {13, 24, 37, 42}, {15, 26, 41, 44}}, 0)
  local X = actrun.ones(64, 100)
  local W = actrun.full({50, 100}, 2)
  tensor_near(actrun.linear(X, W, actrun.ones(50)), actrun.full({64, 50}, 201), 0)
end)

test("linear reads strided inputs (transposed, narrowed) correctly", function()
  actrun.manual_seed(4)
  local xt = actrun.randn(6, 5):t() -- {5,6}, not contiguous
  local w = actrun.randn(12, 6):narrow(1, 3, 4) -- {4,6} rows of a bigger matrix
  local b = actrun.randn(8):narrow(1, 2, 4)
  T.near(max_diff(actrun.linear(xt, w, b), xt:matmul(w:t()) + b), 0, 1e-5)
end)

test("linear's gradients match the unfused ops and finite differences", function()
  actrun.manual_seed(5)
  for _, s in ipairs{{4, 2, 8}, {16, 40, 30}} do
    local function leaves()
      actrun.manual_seed(6)
      return rg(actrun.randn(s[1], s[2])),
        rg(actrun.randn(s[3], s[2])),
        rg(actrun.randn(s[3]))
    end
    local x1, w1, b1 = leaves()
    local g = actrun.randn(s[1], s[3])
    actrun.linear(x1, w1, b1):backward(g)
    local x2, w2, b2 = leaves();
    (x2:matmul(w2:t()) + b2):backward(g)
    T.near(max_diff(x1.grad, x2.grad), 0, 1e-4, "dx")
    T.near(max_diff(w1.grad, w2.grad), 0, 1e-4, "dw")
    T.near(max_diff(b1.grad, b2.grad), 0, 1e-4, "db")
  end
  local x = rg(actrun.randn(3, 4))
  local w = rg(actrun.randn(5, 4))
  local b = rg(actrun.randn(5))
  local ok, err = lab.gradcheck(function(x_, w_, b_) return actrun.linear(x_, w_, b_):tanh():sum() end,
    {x, w, b})
  T.truthy(ok, "gradcheck error " .. tostring(err))
end)

test("linear records only what its backward needs", function()
  local x = actrun.randn(3, 4) -- no grad: only w and b get gradients
  local w = rg(actrun.randn(5, 4))
  actrun.linear(x, w):sum():backward()
  T.eq(w.grad:shape(), {5, 4})
  T.near(max_diff(w.grad, x:sum(1, true):expand(5, 4)), 0, 1e-5)
  local y = actrun.no_grad(function() return actrun.linear(x, w) end)
  T.eq(y.requires_grad, false)
end)

test("linear's errors name the function, the argument and the shapes", function()
  local x, w = actrun.zeros(3, 4), actrun.zeros(5, 4)
  T.expect_error(function() actrun.linear(x, actrun.zeros(5, 3)) end, "actrun.linear",
    "{3,4}", "{5,3}")
  T.expect_error(function() actrun.linear(x, w, actrun.zeros(4)) end, "actrun.linear", "bias",
    "{4}")
  T.expect_error(function() actrun.linear(actrun.zeros(4), w) end, "actrun.linear", "2-D")
  T.expect_error(function() actrun.linear(x, "w") end, "actrun.linear", "argument #2",
    "weight", "a tensor")
  T.expect_error(function() actrun.linear(x, w, 3) end, "actrun.linear", "argument #3", "bias")
end)

test("tiny matmuls (direct loop) agree with the double-precision product", function()
  actrun.manual_seed(7)
  for _, s in ipairs{{1, 1, 1}, {2, 3, 4}, {16, 16, 16}, {1, 4096, 1}} do
    local a, b = actrun.randn(s[1], s[2]), actrun.randn(s[2], s[3])
    local ta, tb = a:totable(), b:totable()
    local c = a:matmul(b):totable()
    for i = 1, s[1] do
      for j = 1, s[3] do
        local acc = 0
        for q = 1, s[2] do acc = acc + ta[i][q] * tb[q][j] end
        T.near(c[i][j], acc, 1e-5 * math.max(1, math.abs(acc)))
      end
    end
  end
end)

T.done()
