-- Autograd: lab.gradcheck and lab.gradgradcheck (central differences of values and of
-- gradients) on every differentiable op and every activation of act.list(), at points
-- away from kinks.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local T = require "testlib"
local actrun = T.actrun
local act, lab = actrun.act, actrun.lab
local test, truthy = T.test, T.truthy

actrun.manual_seed(7)

-- A leaf of the given shape with values drawn uniform in [lo, hi), kept `gap` away from
-- the points in `avoid` (kinks), rounded so ties are impossible by construction.
local function leaf(shape, lo, hi, avoid, gap)
  lo, hi, gap = lo or -2, hi or 2, gap or 0.05
  local t = actrun.rand(shape) * (hi - lo) + lo
  local flat = t:view(-1)
  for i = 1, flat:numel() do
    local v = flat:get(i)
    for _, k in ipairs(avoid or {}) do
      if math.abs(v - k) < gap then v = k + (v < k and -gap or gap) end
    end
    flat:set(i, v)
  end
  t.requires_grad = true
  return t
end

-- Each op: its gradient and its gradient's gradient (testlib's check_gradients).
local check = T.check_gradients

-- ---------- arithmetic, with broadcasting and scalars ----------
check("add", function(a, b) return a + b end, {leaf{2, 3}, leaf{2, 3}})
check("add broadcast {2,3}+{3}", function(a, b) return a + b end, {leaf{2, 3}, leaf{3}})
check("sub broadcast {2,1}-{1,3}", function(a, b) return a - b end, {leaf{2, 1}, leaf{1, 3}})
check("mul broadcast {4,2,3}*{2,1}", function(a, b) return a * b end, {leaf{4, 2, 3}, leaf{2, 1}})
check("div", function(a, b) return a / b end, {leaf{2, 3}, leaf({2, 3}, 0.5, 2)})
check("div broadcast", function(a, b) return a:div(b) end, {leaf{3, 2}, leaf({2}, 0.5, 2)})
check("pow tensor^tensor", function(a, b) return a ^ b end, {leaf({2, 3}, 0.5, 2), leaf{2, 3}})
check("pow broadcast", function(a, b) return a:pow(b) end, {leaf({2, 3}, 0.5, 2), leaf{3}})
check("maximum", function(a, b) return a:maximum(b) end, {leaf{2, 3}, leaf{2, 3}})
check("minimum", function(a, b) return a:minimum(b) end, {leaf{2, 3}, leaf{3}})
check("max(tensor) elementwise", function(a, b) return a:max(b) end, {leaf{3}, leaf{3}})
check("scalar forms", function(a)
  return (a + 2) * 3 - 1 + (2 - a) + (a / 4) + (1.5 / (a + 3)) + 2 * a
end, {leaf({2, 3}, -1, 1)})
check("pow tensor^number", function(a) return a ^ 3 + a:pow(2.5) end, {leaf({2, 3}, 0.5, 2)})
check("pow number^tensor", function(a) return 2 ^ a end, {leaf{2, 3}})
check("unary minus", function(a) return -a end, {leaf{4}})

-- ---------- math ----------
local pos = {0.3, 2}
for _, m in ipairs{"exp", "sin", "cos", "tanh", "sigmoid", "neg", "square"} do
  check(m, function(a) return a[m](a) end, {leaf{2, 3}})
end
check("log", function(a) return a:log() end, {leaf({2, 3}, table.unpack(pos))})
check("sqrt", function(a) return a:sqrt() end, {leaf({2, 3}, table.unpack(pos))})
check("reciprocal", function(a) return a:reciprocal() end, {leaf({2, 3}, table.unpack(pos))})
check("abs", function(a) return a:abs() end, {leaf({2, 3}, -2, 2, {0})})
check("clamp", function(a) return a:clamp(-0.5, 0.7) end, {leaf({3, 4}, -2, 2, {-0.5, 0.7})})
check("clamp min only", function(a) return a:clamp(0.1) end, {leaf({5}, -2, 2, {0.1})})
for _, m in ipairs{"sign", "floor", "ceil", "round"} do
  check(m .. " (zero gradient)", function(a) return a[m](a) * 1 + a end,
    {leaf({6}, -2, 2, {-2, -1.5, -1, -0.5, 0, 0.5, 1, 1.5, 2}, 0.1)})
end

test("clamp passes the gradient at the bounds (PyTorch's convention)", function()
  local x = actrun.tensor({-1, 0, 1, 2}, {requires_grad = true})
  x:clamp(0, 1):sum():backward()
  T.tensor_near(x.grad, {0, 1, 1, 0}, 0)
end)

-- ---------- reductions ----------
local R = leaf{3, 4}
for _, r in ipairs{"sum", "mean", "var", "std"} do
  check(r, function(a) return a[r](a) end, {R})
  check(r .. "(2)", function(a) return a[r](a, 2) end, {R})
  check(r .. "(1, keepdim)", function(a) return a[r](a, 1, true) end, {R})
end
check("var(2, false, unbiased=false)", function(a) return a:var(2, false, false) end, {R})
check("sum(-1) on 3-D", function(a) return a:sum(-1) end, {leaf{2, 3, 2}})
check("prod", function(a) return a:prod() end, {leaf({2, 3}, 0.5, 1.5)})
check("prod(1)", function(a) return a:prod(1) end, {leaf({3, 2}, 0.5, 1.5)})
check("norm", function(a) return a:norm() end, {R})
check("norm(1)", function(a) return a:norm(1) end, {leaf({3, 4}, -2, 2, {0})})
check("norm(3, 2)", function(a) return a:norm(3, 2) end, {leaf({3, 4}, -2, 2, {0})})
check("norm(inf)", function(a) return a:norm("inf") end, {leaf{3, 4}})
check("max()", function(a) return a:max() end, {leaf{3, 4}})
check("min()", function(a) return a:min() end, {leaf{3, 4}})
check("max(2)", function(a) return (a:max(2)) end, {leaf{3, 4}})
check("min(1, keepdim)", function(a) return (a:min(1, true)) end, {leaf{3, 4}})

test("ties as PyTorch 1.13: full max, inf-norm and maximum split evenly; max(dim) to the index", function()
  local x = actrun.tensor({1, 3, 3, 2}, {requires_grad = true})
  x:max():backward()
  T.tensor_near(x.grad, {0, 0.5, 0.5, 0}, 0)
  local y = actrun.tensor({{1, 3, 3}}, {requires_grad = true})
  local v = y:max(2)
  v:sum():backward()
  T.tensor_near(y.grad, {{0, 1, 0}}, 0) -- with a dim: to the returned index
  local z = actrun.tensor({1, -3, 3, 2}, {requires_grad = true})
  z:norm("inf"):backward()
  T.tensor_near(z.grad, {0, -0.5, 0.5, 0}, 0)
  local a = actrun.tensor({1, 3}, {requires_grad = true})
  local b = actrun.tensor({1, 2}, {requires_grad = true})
  a:maximum(b):sum():backward()
  T.tensor_near(a.grad, {0.5, 1}, 0)
  T.tensor_near(b.grad, {0.5, 0}, 0)
end)

-- ---------- matmul ----------
check("matmul 2-D", function(a, b) return a:matmul(b) end, {leaf{3, 4}, leaf{4, 2}})
check("matmul 1-D x 2-D", function(a, b) return actrun.matmul(a, b) end, {leaf{4}, leaf{4, 2}})
check("matmul 2-D x 1-D", function(a, b) return a:matmul(b) end, {leaf{3, 4}, leaf{4}})
check("matmul 1-D x 1-D", function(a, b) return a:matmul(b) end, {leaf{4}, leaf{4}})
check("matmul batched", function(a, b) return a:matmul(b) end, {leaf{2, 3, 4}, leaf{2, 4, 2}})
check("matmul batched x 2-D", function(a, b) return a:matmul(b) end, {leaf{2, 3, 4}, leaf{4, 2}})
check("matmul 2-D x batched", function(a, b) return a:matmul(b) end, {leaf{3, 4}, leaf{2, 4, 2}})
check("matmul of transposed views", function(a, b) return a:t():matmul(b:t()) end,
  {leaf{4, 3}, leaf{2, 4}})

-- ---------- views ----------
local V = leaf{2, 3, 4}
check("reshape", function(a) return a:reshape(4, 6) end, {V})
check("view -1", function(a) return a:view(-1, 4) end, {V})
check("flatten", function(a) return a:flatten() end, {V})
check("transpose", function(a) return a:transpose(1, 3) end, {V})
check("t", function(a) return a:t() end, {leaf{3, 2}})
check("t of 1-D", function(a) return a:t() end, {leaf{3}})
check("narrow", function(a) return a:narrow(3, 2, 2) end, {V})
check("select", function(a) return a:select(2, 3) end, {V})
check("t[i] indexing", function(a) return a[2] end, {V})
check("squeeze / unsqueeze", function(a) return a:unsqueeze(2):squeeze() end, {leaf{3, 1, 2}})
check("squeeze(dim)", function(a) return a:squeeze(2) end, {leaf{3, 1, 2}})
check("expand", function(a) return a:expand(2, 3, 4) end, {leaf{3, 1}})
check("expand with -1", function(a) return a:expand(4, -1) end, {leaf{1, 3}})
check("contiguous of a transposed view", function(a) return a:t():contiguous() end, {leaf{2, 3}})
check("clone", function(a) return a:clone() * a end, {leaf{2, 3}})
check("transposed view then reshape (copy)", function(a) return a:t():reshape(6) end, {leaf{2, 3}})
check("cat dim 1", function(a, b) return actrun.cat({a, b, a}, 1) end, {leaf{2, 3}, leaf{1, 3}})
check("cat dim 2", function(a, b) return actrun.cat({a, b}, 2) end, {leaf{2, 3}, leaf{2, 2}})
check("stack", function(a, b) return actrun.stack({a, b}, 2) end, {leaf{2, 3}, leaf{2, 3}})

-- ---------- activations: every entry of the registry ----------
-- kinks of the piecewise entries at their default parameters
local KINKS = {-3, -1, -0.5, 0, 0.5, 1, 3, 6}
for _, name in ipairs(act.list()) do
  check("act." .. name, function(a) return act[name](a) end, {leaf({3, 5}, -4, 4, KINKS, 0.05)})
end
check("act.apply elu alpha=0.5", function(a) return act.apply("elu", a, {alpha = 0.5}) end,
  {leaf({2, 5}, -3, 3, {0})})
check("act.leaky_relu with a slope", function(a) return act.leaky_relu(a, 0.2) end,
  {leaf({2, 5}, -3, 3, {0})})
check("act.softplus beta=2", function(a) return act.softplus(a, 2) end, {leaf{2, 5}})
check("prelu: x and a per-channel slope tensor", function(x, w) return act.prelu(x, w) end,
  {leaf({4, 3, 2}, -2, 2, {0}), leaf({3}, 0.1, 0.5)})
check("prelu: one shared slope", function(x, w) return act.prelu(x, w) end,
  {leaf({4, 3}, -2, 2, {0}), leaf({1}, 0.1, 0.5)})
check("softmax", function(a) return act.softmax(a, 2) end, {leaf{3, 4}})
check("softmax dim 1", function(a) return act.softmax(a, 1) end, {leaf{3, 4}})
check("log_softmax", function(a) return act.log_softmax(a) end, {leaf{3, 4}})

-- ---------- layers and losses ----------
check("linear", function(x, w, b) return actrun.linear(x, w, b) end,
  {leaf{4, 3}, leaf{2, 3}, leaf{2}})
check("linear without bias", function(x, w) return actrun.linear(x, w) end, {leaf{4, 3}, leaf{2, 3}})
check("cross_entropy", function(x) return actrun.nn.cross_entropy(x, {1, 3, 2, 3}) end, {leaf{4, 3}})
check("nll of log_softmax", function(x) return actrun.nn.nll(act.log_softmax(x, 2), {2, 1, 3}) end,
  {leaf{3, 3}})
check("mse", function(y, t) return actrun.nn.mse(y * y, t) end, {leaf{2, 3}, leaf{2, 3}})
check("conv2d", function(x, w, b) return actrun.conv2d(x, w, b) end,
  {leaf{2, 2, 4, 4}, leaf{3, 2, 3, 3}, leaf{3}})
check("conv2d stride 2 padding 1", function(x, w) return actrun.conv2d(x, w, {stride = 2, padding = 1}) end,
  {leaf{1, 2, 5, 5}, leaf{2, 2, 3, 3}})
check("bspline_basis (KAN splines), grid 5 on [-1, 1]", function(x)
  return actrun.bspline_basis(x, {grid = 5, order = 3})
end, {leaf({3, 2}, -1.3, 1.3, {-1.4, -1.2, -1, -0.8, -0.6, -0.4, -0.2, 0, 0.2, 0.4, 0.6, 0.8, 1,
  1.2, 1.4}, 0.05)})
check("max_pool2d, squared", function(x) return actrun.max_pool2d(x, 2):square() end, {leaf{1, 2, 4, 4}})

-- ---------- a small network ----------
check("two-layer MLP with cross-entropy-like loss", function(x, w1, b1, w2)
  local h = act.gelu(x:matmul(w1) + b1)
  return -act.log_softmax(h:matmul(w2), 2):select(2, 1):mean()
end, {leaf{5, 4}, leaf{4, 6}, leaf{6}, leaf{6, 3}})

T.done()
