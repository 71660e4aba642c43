-- Kolmogorov-Arnold layers: the B-spline basis kernel against SciPy
-- (tests/fixtures/kan_bspline_scipy.lua, made by tests/fixtures/gen_kan.py), partition of
-- unity, gradients of every order through nn.KANLinear, fitting, grid extension, files,
-- curves and bad options.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local T = require "testlib"
local actrun = T.actrun
local nn, lab, optim = actrun.nn, actrun.lab, actrun.optim
local test, truthy, near = T.test, T.truthy, T.near

actrun.manual_seed(11)

local dir = (arg[0]:match("^(.*)/") or ".") .. "/../fixtures/"
local FIX = dofile(dir .. "kan_bspline_scipy.lua")

-- ---------- the basis ----------
test("bspline_basis matches SciPy's BSpline (values, first and second derivatives)", function()
  for _, c in ipairs(FIX) do
    for nu = 0, 2 do
      -- the first two points are the range's ends, knots: where a derivative of the
      -- degree's order or more jumps, one-sided conventions differ (checked from 3 on)
      local first = nu >= c.order and 3 or 1
      local x = actrun.tensor(table.move(c.x, first, #c.x, 1, {}))
      local want = table.move(c["d" .. nu], first, #c.x, 1, {})
      local b = actrun.bspline_basis(x, {grid = c.grid, order = c.order, range = c.range,
        deriv = nu})
      T.shape_is(b, {#want, c.grid + c.order})
      local h = (c.range[2] - c.range[1]) / c.grid
      -- float32 arithmetic on values of size up to h^-nu
      T.tensor_near(b, want, 2e-5 * h ^ -nu,
        string.format("grid %d order %d d%d", c.grid, c.order, nu))
    end
  end
end)

test("bspline_basis: partition of unity inside the range, zero outside the extended grid", function()
  for _, c in ipairs{{5, 3}, {10, 3}, {3, 2}, {8, 1}, {4, 0}, {7, 5}} do
    local opts = {grid = c[1], order = c[2], range = {-2, 3}}
    local x = actrun.linspace(-2, 2.999, 1001)
    local s = actrun.bspline_basis(x, opts):sum(2)
    near(s:min():item(), 1, 1e-5, "min of the sum")
    near(s:max():item(), 1, 1e-5, "max of the sum")
    local h = 5 / c[1]
    local far = actrun.tensor{-2 - (c[2] + 0.5) * h, 3 + (c[2] + 0.5) * h, 0 / 0}
    T.eq(actrun.bspline_basis(far, opts):abs():sum():item(), 0)
  end
end)

test("bspline_basis: any shape, views, a tail of every length, empty input", function()
  local x = actrun.rand(3, 7, 5) * 2.4 - 1.2
  local b = actrun.bspline_basis(x)
  T.shape_is(b, {3, 7, 5, 8})
  local flat = actrun.bspline_basis(x:reshape(-1))
  T.tensor_near(b:reshape(-1, 8), flat, 0)
  local xt = x:transpose(1, 3)
  T.tensor_near(actrun.bspline_basis(xt), b:transpose(1, 3), 0)
  for n = 1, 40 do
    local v = actrun.rand(n) * 2 - 1
    local bn = actrun.bspline_basis(v)
    T.tensor_near(bn:sum(2), actrun.ones(n), 1e-5)
  end
  T.shape_is(actrun.bspline_basis(actrun.empty(0)), {0, 8})
  local raw = actrun.bspline_basis(x, {transposed = true})
  T.shape_is(raw, {3, 7, 8, 5})
  T.tensor_near(raw, b:transpose(3, 4), 0)
end)

test("bspline_basis: derivatives past the degree are zero", function()
  local x = actrun.rand(20) * 2 - 1
  T.eq(actrun.bspline_basis(x, {order = 2, deriv = 3}):abs():sum():item(), 0)
  T.eq(actrun.bspline_basis(x, {order = 0, deriv = 1}):abs():sum():item(), 0)
end)

-- ---------- gradients ----------
-- points kept away from the knots of grid 5 on [-1, 1] (kinks of the higher derivatives)
local function leaf(shape, lo, hi)
  local t = actrun.rand(shape) * (hi - lo) + lo
  local flat = t:view(-1)
  for i = 1, flat:numel() do
    local v = flat:get(i)
    local u = (v + 1) / 0.4
    if math.abs(u - math.floor(u + 0.5)) < 0.1 then v = v + 0.06 end
    flat:set(i, v)
  end
  t.requires_grad = true
  return t
end

local check = T.check_gradients

check("bspline_basis", function(x) return actrun.bspline_basis(x) end, {leaf({3, 2}, -1.3, 1.3)})
check("bspline_basis deriv 1, order 4", function(x)
  return actrun.bspline_basis(x, {order = 4, deriv = 1})
end, {leaf({4}, -1, 1)})

local K = nn.KANLinear(3, 2, {grid = 5, order = 3})
check("KANLinear in input and every parameter", function(x, wb, ws, c)
  local saved = {K.base_weight, K.spline_scale, K.spline_weight}
  K.base_weight, K.spline_scale, K.spline_weight = wb, ws, c
  local y = K:forward(x)
  K.base_weight, K.spline_scale, K.spline_weight = table.unpack(saved)
  return y
end, (function()
  local ps = {leaf({4, 3}, -0.95, 0.95), K.base_weight:detach():clone(),
    K.spline_scale:detach() + actrun.rand(2, 3) * 0.5, K.spline_weight:detach() * 5}
  for _, p in ipairs(ps) do p.requires_grad = true end
  return ps
end)())

test("KANLinear: gradient of the input gradient through two layers (create_graph)", function()
  local m = nn.kan{2, 3, 1, grid = 4}
  local x = leaf({5, 2}, -0.9, 0.9)
  local g = actrun.grad(m(x):sum(), {x}, {create_graph = true})[1]
  local p = g:square():sum()
  p:backward()
  truthy(m[1].spline_weight.grad ~= nil and m[2].base_weight.grad ~= nil)
  truthy(x.grad:abs():sum():item() > 0)
end)

-- ---------- learning, grids, files ----------
test("KANLinear(1, 1, grid 10) fits sin(3x) on [-1, 1] to MSE < 1e-3 in 300 Adam steps", function()
  actrun.manual_seed(3)
  local m = nn.KANLinear(1, 1, {grid = 10})
  local x = actrun.linspace(-1, 1, 256):unsqueeze(2)
  local y = (x * 3):sin()
  local opt = optim.Adam(m:parameters(), {lr = 0.02})
  local loss
  for _ = 1, 300 do
    opt:zero_grad()
    loss = nn.mse(m(x), y)
    loss:backward()
    opt:step()
  end
  truthy(loss:item() < 1e-3, string.format("final MSE %.3g", loss:item()))
end)

local function maxdiff(a, b) return (a - b):abs():max():item() end

test("extend_grid moves outputs by less than 1e-2 (dense samples and data samples)", function()
  actrun.manual_seed(5)
  local m = nn.kan{3, 4, 2, grid = 5}
  -- make the functions non-trivial first (the first layer's outputs stay inside the
  -- second's range: outside it a grid's extension is part of the function)
  for i, l in ipairs{m[1], m[2]} do
    actrun.no_grad(function()
      l.spline_weight:copy(actrun.randn(l.spline_weight:shape()) * (i == 1 and 0.2 or 1))
    end)
  end
  local x = actrun.rand(64, 3) * 1.9 - 0.95
  local before = actrun.no_grad(function() return m(x) end)
  local h = actrun.no_grad(function() return m[1](x) end)
  truthy(h:abs():max():item() < 1, "the hidden values are inside the range")
  m[1]:extend_grid(10)
  m[2]:extend_grid(12, h)
  T.eq(m[1].grid, 10)
  T.shape_is(m[1].spline_weight, {4, 13, 3})
  local after = actrun.no_grad(function() return m(x) end)
  local d = maxdiff(before, after)
  truthy(d < 1e-2, string.format("max change %.3g", d))
  -- still trains
  local opt = optim.Adam(m:parameters(), {lr = 1e-3})
  nn.mse(m(x), actrun.zeros(64, 2)):backward()
  opt:step()
end)

test("update_grid moves the range to the data and keeps the function there", function()
  actrun.manual_seed(6)
  local m = nn.KANLinear(2, 2, {grid = 6})
  actrun.no_grad(function() m.spline_weight:copy(actrun.randn(2, 9, 2)) end)
  local x = actrun.rand(200, 2) * 1.0 - 0.5
  local before = actrun.no_grad(function() return m(x) end)
  m:update_grid(x)
  truthy(m.range[1] > -0.52 and m.range[2] < 0.52, "range follows the data")
  local d = maxdiff(before, actrun.no_grad(function() return m(x) end))
  truthy(d < 1e-2, string.format("max change %.3g", d))
end)

test("save / load round trip, tree printing, edge_curve", function()
  local m = nn.kan{2, 3, 1, grid = 7, order = 2}
  local path = os.tmpname()
  nn.save(path, m)
  local m2 = nn.kan{2, 3, 1, grid = 7, order = 2}
  nn.load(path, m2)
  os.remove(path)
  local x = actrun.rand(9, 2) * 2 - 1
  T.eq(maxdiff(m(x), m2(x)), 0)
  local s = tostring(m)
  truthy(s:find("KANLinear(2 -> 3, grid 7, order 2", 1, true), s)
  local xs, ys = m[1]:edge_curve(2, 3, 50)
  T.shape_is(xs, {50})
  T.shape_is(ys, {50})
  -- the edge's function is the layer's output along one input, up to a constant (the
  -- other edges' values at 0)
  local inp = actrun.zeros(50, 2)
  inp:select(2, 2):copy(xs)
  local full = actrun.no_grad(function() return m[1](inp):select(2, 3) end)
  local d = full - ys
  truthy(d:max():item() - d:min():item() < 1e-5, "edge_curve is the layer's function")
end)

test("lab.compare takes a KAN through a model function", function()
  local X = actrun.rand(64, 2) * 2 - 1
  local y = actrun.tensor((function()
    local t = {}
    for i = 1, 64 do t[i] = X[i][1] * X[i][2] > 0 and 1 or 2 end
    return t
  end)())
  local rows = lab.compare{activations = {"silu"}, model = function(a)
    return nn.kan{2, 4, 2, base = a}
  end, data = {train = {X = X, y = y}, test = {X = X, y = y}}, epochs = 1, batch = 32,
    seeds = 1}
  truthy(#rows >= 1)
end)

-- ---------- errors ----------
test("bad options name the function and the option", function()
  T.expect_error(function() nn.KANLinear(2, 3, {grid = 0}) end, "actrun.nn.KANLinear", "grid")
  T.expect_error(function() nn.KANLinear(2, 3, {order = 1.5}) end, "actrun.nn.KANLinear", "order")
  T.expect_error(function() nn.KANLinear(2, 3, {range = {1, -1}}) end, "actrun.nn.KANLinear", "range")
  T.expect_error(function() nn.KANLinear(2, 3, {base = "nope"}) end, "actrun.nn.KANLinear", "base")
  T.expect_error(function() nn.KANLinear(2, 3, {grdi = 5}) end, "actrun.nn.KANLinear", "grdi")
  T.expect_error(function() nn.KANLinear(0, 3) end, "actrun.nn.KANLinear", "in")
  T.expect_error(function() nn.kan{2, grid = 5} end, "actrun.nn.kan", "at least 2")
  T.expect_error(function() nn.kan{2, 3, order = -1} end, "actrun.nn.kan", "order")
  T.expect_error(function() nn.KANLinear(2, 3)(actrun.zeros(4, 5)) end, "KANLinear", "features")
  T.expect_error(function() nn.KANLinear(2, 3):extend_grid(0) end, "extend_grid", "grid")
  T.expect_error(function() nn.KANLinear(2, 3):extend_grid(8, actrun.zeros(4, 3)) end,
    "extend_grid", "X")
  T.expect_error(function() nn.KANLinear(2, 3):edge_curve(3, 1) end, "edge_curve", "input")
  T.expect_error(function() actrun.bspline_basis(actrun.zeros(2), {grid = 2000}) end,
    "actrun.bspline_basis", "grid")
  T.expect_error(function() actrun.bspline_basis(actrun.zeros(2), {range = {0, 0}}) end,
    "actrun.bspline_basis", "range")
  T.expect_error(function() actrun.bspline_basis(actrun.zeros(2), {knots = 1}) end,
    "actrun.bspline_basis", "knots")
end)

T.done()
