-- nn.PAU and actrun.pau: the fits to named activations, gradients (first and second
-- order) against central differences and against PyTorch (tests/fixtures/pau_torch.lua,
-- made by tests/fixtures/gen_pau.py), save/load, thread-count independence, errors.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local T = require "testlib"
local actrun = T.actrun
local nn, act, lab = actrun.nn, actrun.act, actrun.lab
local test, truthy, eq = T.test, T.truthy, T.eq

actrun.manual_seed(3)

local function leaf(t)
  t = t:clone()
  t.requires_grad = true
  return t
end

-- max |PAU(x) - f(x)| on a fine grid of [-3, 3], in float
local function fit_error(m, name)
  local x = actrun.linspace(-3, 3, 6001)
  return actrun.no_grad(function() return (m(x) - act.apply(name, x)):abs():max():item() end)
end

test("PAU initialised as leaky_relu is within 0.05 of it on [-3, 3] (published: 0.034)", function()
  local m = nn.PAU{m = 5, n = 4, init = "leaky_relu"}
  local e = fit_error(m, "leaky_relu")
  print(string.format("    leaky_relu fit: max error %.4f on [-3, 3]", e))
  truthy(e < 0.05, "max error " .. e)
  truthy(e <= 0.034, "no worse than the published fit: " .. e)
  T.near(m.fit_error, e, 1e-4, "fit_error field")
end)

for _, c in ipairs{{"gelu", 0.01}, {"tanh", 0.01}, {"relu", 0.05}, {"silu", 0.01}} do
  test("PAU fits " .. c[1] .. " within " .. c[2], function()
    local e = fit_error(nn.PAU{init = c[1]}, c[1])
    print(string.format("    %s fit: max error %.2g", c[1], e))
    truthy(e < c[2], "max error " .. e)
  end)
end

test("the fit of a defined activation and of other degrees", function()
  act.define("pau_test_sq", function(x) return x * x * 0.25 end)
  local e = fit_error(nn.PAU{m = 3, n = 2, init = "pau_test_sq"}, "pau_test_sq")
  truthy(e < 1e-3, "max error " .. e)
end)

-- coefficient leaves near a leaky_relu-like fit, x away from 0 (|Q|'s kink is at Q = 0)
local function inputs(xshape, C)
  local m = nn.PAU{per_channel = C}
  local x = actrun.rand(xshape) * 4 - 2
  x = x + x:sign() * 0.2
  local a = m.numerator:detach() + actrun.randn(m.numerator:shape()) * 0.01
  local b = m.denominator:detach() + actrun.randn(m.denominator:shape()) * 0.01
  return {leaf(x), leaf(a), leaf(b)}
end

for _, c in ipairs{{"shared", {3, 4}, nil}, {"per channel {N, C}", {4, 3}, 3},
                   {"per channel {N, C, L}", {2, 3, 5}, 3}} do
  test("gradcheck on input and coefficients: " .. c[1], function()
    local ins = inputs(c[2], c[3])
    local w = actrun.rand(c[2]) + 0.5
    local ok, err = lab.gradcheck(function(x, a, b) return (actrun.pau(x, a, b) * w):sum() end, ins)
    truthy(ok, "max error " .. err)
  end)
  test("gradgradcheck on input and coefficients: " .. c[1], function()
    local ok, err = lab.gradgradcheck(function(x, a, b) return actrun.pau(x, a, b) end,
      inputs(c[2], c[3]))
    truthy(ok, "max error " .. err)
  end)
end

local fx = dofile((arg[0]:match("^(.*)/") or ".") .. "/../fixtures/pau_torch.lua")
for _, name in ipairs{"shared", "shared_m3n2", "per_channel", "per_channel_spatial"} do
  test("against PyTorch: " .. name, function()
    local c = fx[name]
    local x, a, b = leaf(actrun.tensor(c.x)), leaf(actrun.tensor(c.a)), leaf(actrun.tensor(c.b))
    local r = actrun.tensor(c.r)
    local y = actrun.pau(x, a, b)
    T.tensor_near(y, c.y, 1e-5, "forward")
    -- the fused backward
    local g = actrun.grad({(y * r):sum()}, {x, a, b})
    T.tensor_near(g[1], c.grad_x, 1e-4, "grad x")
    T.tensor_near(g[2], c.grad_a, 2e-4, "grad a")
    T.tensor_near(g[3], c.grad_b, 2e-4, "grad b")
    -- the composed backward, then a second-order gradient
    local y2 = actrun.pau(x, a, b)
    local gx, ga, gb = table.unpack(actrun.grad({(y2 * r):sum()}, {x, a, b}, {create_graph = true}))
    T.tensor_near(gx, c.grad_x, 1e-4, "grad x (create_graph)")
    T.tensor_near(ga, c.grad_a, 2e-4, "grad a (create_graph)")
    local s = (gx * gx):sum() + ga:sum() + (gb * gb):sum()
    local h = actrun.grad({s}, {x, a, b})
    T.tensor_near(h[1], c.gg_x, 2e-3, "second order x")
    T.tensor_near(h[2], c.gg_a, 2e-3, "second order a")
    T.tensor_near(h[3], c.gg_b, 2e-3, "second order b")
  end)
end

local function same(u, v) return (u - v):abs():max():item() == 0 end

test("coefficient gradients and dx do not depend on the thread count", function()
  local threads = actrun.get_num_threads()
  local function run(nt, shape, C)
    actrun.set_num_threads(nt)
    actrun.manual_seed(11)
    local m = nn.PAU{per_channel = C}
    local x = actrun.randn(shape)
    local y = m(x)
    local loss = (y * y):sum()
    loss:backward()
    return y, m.numerator.grad:clone(), m.denominator.grad:clone()
  end
  for _, c in ipairs{{{300000}}, {{2000, 64}, 64}, {{40, 4, 50, 40}, 4}} do
    local y1, a1, b1 = run(1, c[1], c[2])
    local y2, a2, b2 = run(2, c[1], c[2])
    local y3, a3, b3 = run(3, c[1], c[2])
    truthy(same(y1, y2) and same(y1, y3), "forward")
    truthy(same(a1, a2) and same(a1, a3), "numerator grad")
    truthy(same(b1, b2) and same(b1, b3), "denominator grad")
  end
  actrun.set_num_threads(threads)
end)

test("the fused backward sums match double sums", function()
  local x = actrun.randn{100000}
  local m = nn.PAU{}
  m(x):sum():backward()
  local b = m.denominator:detach()
  -- dL/da_0 = sum 1 / D, computed in double in Lua on a sample
  local s = 0
  for i = 1, x:numel() do
    local v, q, xp = x:get(i), 0, 1
    for j = 1, 4 do xp = xp * v; q = q + b:get(j) * xp end
    s = s + 1 / (1 + math.abs(q))
  end
  T.near(m.numerator.grad:get(1), s, 1e-6 * s, "dL/da0")
end)

test("save/load round trip, tostring, train/eval", function()
  local m = nn.Sequential(nn.Linear(4, 3), nn.PAU{per_channel = 3, init = "gelu"})
  local s = tostring(m)
  truthy(s:find("PAU(m=5, n=4, init=gelu, per_channel=3)", 1, true), s)
  local path = os.tmpname()
  actrun.no_grad(function() m["2"].denominator:copy(m["2"].denominator * 1.5) end)
  nn.save(path, m)
  local m2 = nn.Sequential(nn.Linear(4, 3), nn.PAU{per_channel = 3, init = "gelu"})
  nn.load(path, m2)
  os.remove(path)
  local x = actrun.randn{5, 4}
  truthy(same(m(x), m2(x)), "same outputs after load")
  truthy(not same(m(x), nn.Sequential(m2["1"], nn.PAU{per_channel = 3, init = "gelu"})(x)),
    "the loaded coefficients are not a fresh fit's")
  m:eval(); eq(m["2"].training, false); m:train(); eq(m["2"].training, true)
  eq(m["2"]:num_parameters(), 30)
end)

test("curve, as_activation, act.properties, nn.mlp and lab.compare take the unit", function()
  local m = nn.PAU{init = "tanh"}
  local xs, ys = m:curve(-2, 2, 5)
  eq(#xs, 5)
  T.near(ys[5], math.tanh(2), 1e-3)
  local f = m:as_activation("pau_learned_tanh")
  T.near(f(actrun.tensor{0.5}):item(), math.tanh(0.5), 1e-3)
  local p = act.properties("pau_learned_tanh")
  T.near(p.f0, 0, 1e-3, "f(0)")
  T.near(p.df0, 1, 2e-2, "f'(0)")
  local model = nn.mlp{4, 8, 2, activation = "pau"}
  truthy(tostring(model):find("PAU", 1, true))
  local X, yl = actrun.randn{32, 4}, {}
  for i = 1, 32 do yl[i] = X:get(i, 1) > 0 and 1 or 2 end
  local y = actrun.tensor(yl)
  local rows = lab.compare{activations = {"pau", "relu"}, epochs = 1, seeds = 1,
    model = function(a) return nn.mlp{4, 8, 2, activation = a} end,
    data = {train = {X = X, y = y}, test = {X = X, y = y}}}
  eq(#rows, 2)
end)

test("bad options name the function and the option", function()
  T.expect_error(function() nn.PAU{m = 0} end, "actrun.nn.PAU", "option m")
  T.expect_error(function() nn.PAU{n = 2.5} end, "actrun.nn.PAU", "option n")
  T.expect_error(function() nn.PAU{init = "nope"} end, "actrun.nn.PAU", "init", "nope")
  T.expect_error(function() nn.PAU{init = 3} end, "actrun.nn.PAU", "option init")
  T.expect_error(function() nn.PAU{per_channel = -1} end, "actrun.nn.PAU", "option per_channel")
  T.expect_error(function() nn.PAU{bogus = 1} end, "actrun.nn.PAU", "bogus")
  T.expect_error(function() nn.PAU{per_channel = 3}(actrun.randn{2, 4}) end, "PAU", "channels")
  T.expect_error(function() actrun.pau(actrun.randn{3}, actrun.randn{3, 2}, actrun.randn{3, 2}) end,
    "actrun.pau", "channels")
  T.expect_error(function() actrun.pau(actrun.randn{3}, actrun.randn{20}, actrun.randn{2}) end,
    "actrun.pau", "degree")
  T.expect_error(function() nn.PAU{}:curve(1, 0) end, "curve")
end)

T.done()
