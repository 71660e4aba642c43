-- act.propagation and act.edge_of_chaos: mean-field signal propagation checked against
-- published values (40-digit quadrature), an mpmath fixture, exact ReLU results, a
-- defined twin of tanh, and bad input.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local T = require "testlib"
local actrun = T.actrun
local act = actrun.act
local test, eq, expect_error = T.test, T.eq, T.expect_error

local function rel(actual, expected, tol, what)
  local e = math.abs(actual - expected) / math.abs(expected)
  if not (e <= tol) then
    error(string.format("%s: expected %.10g (rel %g), got %.10g (rel error %.3g)", what or "",
      expected, tol, actual, e), 2)
  end
end

local FIX_DIR = (arg[0]:match("^(.*)/") or ".") .. "/../fixtures/"

test("tanh's critical line: sigma_w2 at sigma_b2 = 0.05 and 0.3", function()
  local sw, q = act.edge_of_chaos("tanh", {sigma_b2 = 0.05})
  rel(sw, 1.760955, 1e-6, "sigma_w2 at 0.05")
  rel(q, 0.570048, 1e-6, "q* at 0.05")
  rel((act.edge_of_chaos("tanh", {sigma_b2 = 0.3})), 2.505127, 1e-6, "sigma_w2 at 0.3")
end)

test("ReLU's critical point is sigma_w2 = 2 exactly (kinks integrated exactly)", function()
  local sw, q = act.edge_of_chaos("relu")
  rel(sw, 2, 1e-12, "relu sigma_w2")
  eq(q, 1.0, "q stays at 1")
  local r = act.propagation("relu", {sigma_w2 = 1.5, sigma_b2 = 0.1})
  rel(r.q_star, 0.1 / (1 - 0.75), 1e-10, "relu q* = sb / (1 - sw/2)")
  rel(r.chi1, 0.75, 1e-12, "relu chi1 = sw/2")
  eq(r.phase, "ordered")
end)

test("tanh at (1.5, 0.05) and SELU at (1, 0)", function()
  local r = act.propagation("tanh", {sigma_w2 = 1.5, sigma_b2 = 0.05})
  rel(r.q_star, 0.418037, 1e-6, "q*")
  rel(r.chi1, 0.938636, 1e-6, "chi1")
  rel(r.xi_c, 15.791, 1e-4, "xi_c")
  eq(r.phase, "ordered")
  local s = act.propagation("selu", {sigma_w2 = 1})
  rel(s.q_star, 1, 1e-6, "selu q*")
  rel(s.chi1, 1.071575, 1e-6, "selu chi1")
  eq(s.phase, "chaotic")
  T.truthy(s.xi_c > 0 and s.c_star < 1, "chaotic xi_c from the correlation map")
end)

test("xi_q agrees with the paper's f'^2 + f f'' form for smooth activations", function()
  -- E[f'(u)^2 + f(u) f''(u)] by Gauss-Hermite over the double scalars
  local r = act.propagation("tanh", {sigma_w2 = 2, sigma_b2 = 0.2})
  local n, sum = 4000, 0
  local s = math.sqrt(r.q_star)
  for i = 1, n do -- midpoint rule on [-10, 10]
    local z = -10 + (i - 0.5) * 20 / n
    local f, d, d2 = act.scalar("tanh", s * z)
    sum = sum + (d * d + f * d2) * math.exp(-z * z / 2) / math.sqrt(2 * math.pi) * 20 / n
  end
  rel(r.xi_q, -1 / math.log(2 * sum), 1e-6, "xi_q")
end)

test("mpmath fixture: q*, chi1, xi_q, xi_c and critical points", function()
  local ok, fx = pcall(dofile, FIX_DIR .. "propagation_mpmath.lua")
  if not ok then return T.skip("no fixture (run tests/fixtures/gen_propagation.py): " .. tostring(fx)) end
  T.truthy(#fx.cases >= 20, "cases")
  for _, c in ipairs(fx.cases) do
    local what = string.format("%s (%g, %g)", c.name, c.sigma_w2, c.sigma_b2)
    local r = act.propagation(c.name, {sigma_w2 = c.sigma_w2, sigma_b2 = c.sigma_b2})
    rel(r.q_star, c.q_star, 1e-6, what .. " q*")
    rel(r.chi1, c.chi1, 1e-6, what .. " chi1")
    rel(r.xi_q, c.xi_q, 1e-6, what .. " xi_q")
    if c.xi_c then rel(r.xi_c, c.xi_c, 1e-6, what .. " xi_c") end
  end
  for _, e in ipairs(fx.edges) do
    local sw, q = act.edge_of_chaos(e.name, {sigma_b2 = e.sigma_b2})
    rel(sw, e.sigma_w2, 1e-6, e.name .. " critical sigma_w2")
    rel(q, e.q_star, 1e-6, e.name .. " critical q*")
  end
end)

test("a defined twin of tanh gives tanh's numbers", function()
  act.define("mytanh_prop", function(x) return x:tanh() end)
  local sw, q = act.edge_of_chaos("mytanh_prop", {sigma_b2 = 0.05})
  rel(sw, 1.760955, 1e-5, "sigma_w2")
  rel(q, 0.570048, 1e-5, "q*")
  local r = act.propagation("mytanh_prop", {sigma_w2 = 1.5, sigma_b2 = 0.05})
  rel(r.q_star, 0.418037, 1e-5, "q*")
  rel(r.chi1, 0.938636, 1e-5, "chi1")
end)

test("parameters are used: leaky_relu's slope, a defined activation's parameter", function()
  -- leaky_relu: chi1 = sw (1 + a^2) / 2 at any q
  local r = act.propagation("leaky_relu", {sigma_w2 = 1, sigma_b2 = 0.1, params = {negative_slope = 0.5}})
  rel(r.chi1, 0.625, 1e-10, "leaky chi1")
  rel((act.edge_of_chaos("leaky_relu", {params = {negative_slope = 0.5}})), 1.6, 1e-9, "leaky edge")
  act.define("scaled_prop", function(x, p) return x:tanh() * p.a end,
    {params = {{name = "a", default = 1}}})
  local a = act.propagation("scaled_prop", {sigma_w2 = 1.5, sigma_b2 = 0.05, params = {a = 1}})
  rel(a.chi1, 0.938636, 1e-5, "defined with its default")
  local b = act.propagation("scaled_prop", {sigma_w2 = 1.5, sigma_b2 = 0.05, params = {a = 2}})
  T.truthy(math.abs(b.chi1 - a.chi1) > 0.1, "the parameter changes chi1")
end)

test("phases, the critical point and no critical point", function()
  eq(act.propagation("tanh", {sigma_w2 = 3, sigma_b2 = 0.05}).phase, "chaotic")
  local c = act.propagation("relu", {sigma_w2 = 2})
  eq(c.phase, "critical")
  eq(c.xi_c, math.huge)
  eq(act.edge_of_chaos("step"), nil, "step: chi1 = 0 everywhere")
end)

test("bad input: the function and the argument are named", function()
  expect_error(function() act.propagation("nope", {sigma_w2 = 1}) end,
    "actrun.act.propagation", "unknown activation 'nope'")
  expect_error(function() act.propagation(42, {sigma_w2 = 1}) end, "actrun.act.propagation", "argument #1")
  expect_error(function() act.propagation("tanh") end, "actrun.act.propagation", "argument #2")
  expect_error(function() act.propagation("tanh", {sigma_b2 = 1}) end, "actrun.act.propagation", "sigma_w2")
  expect_error(function() act.propagation("tanh", {sigma_w2 = -1}) end, "actrun.act.propagation", "sigma_w2")
  expect_error(function() act.propagation("tanh", {sigma_w2 = "1"}) end, "sigma_w2")
  expect_error(function() act.propagation("tanh", {sigma_w2 = 1, sigma_b2 = -0.1}) end, "sigma_b2")
  expect_error(function() act.propagation("tanh", {sigma_w2 = 1, sigma_w = 1}) end, "unknown option 'sigma_w'")
  expect_error(function() act.propagation("elu", {sigma_w2 = 1, params = {beta = 2}}) end,
    "actrun.act.propagation", "beta")
  expect_error(function() act.propagation("elu", {sigma_w2 = 1, params = 3}) end,
    "actrun.act.propagation", "params")
  expect_error(function() act.edge_of_chaos("nope") end, "actrun.act.edge_of_chaos", "unknown activation")
  expect_error(function() act.edge_of_chaos("tanh", {sigma_b2 = -1}) end, "actrun.act.edge_of_chaos", "sigma_b2")
  expect_error(function() act.edge_of_chaos("tanh", {sigma_w2 = 1}) end, "actrun.act.edge_of_chaos", "sigma_w2")
end)

test("act.properties carries edge_of_chaos at sigma_b2 = 0 (nil where none), quick or not", function()
  local e = act.properties("relu", nil, {cost = false}).edge_of_chaos
  rel(e.sigma_w2, 2, 1e-9, "relu sigma_w2")
  local sw, q = act.edge_of_chaos("tanh")
  local t = act.properties("tanh", nil, {cost = false}).edge_of_chaos
  eq(t.sigma_w2, sw)
  eq(t.q_star, q)
  local tq = act.properties("tanh", nil, {cost = false, quick = true}).edge_of_chaos
  rel(tq.sigma_w2, sw, 1e-5, "quick tanh sigma_w2")
  local s = act.properties("softplus", nil, {cost = false, quick = true}).edge_of_chaos
  rel(s.sigma_w2, 2, 1e-5, "quick softplus sigma_w2")
  -- chi1 jumps across 1 (q* dies away, then blows up): none, and found quickly
  local t0 = os.clock()
  eq(act.properties("gelu", nil, {cost = false}).edge_of_chaos, nil)
  eq(act.properties("hardshrink", nil, {cost = false}).edge_of_chaos, nil)
  T.truthy(os.clock() - t0 < 5, "no-critical-point detection is quick")
end)

test("lab.phase_diagram: tanh's critical line through the published point, relu's at 2", function()
  local lab = actrun.lab
  local saved = io.stdout
  local said = {}
  io.stdout = {write = function(self, ...) for _, x in ipairs{...} do said[#said + 1] = x end
    return self end}
  local ok, r = pcall(lab.phase_diagram, {activation = "tanh", sigma_w2 = {1, 3},
    sigma_b2 = {0, 0.1}, n = {5, 3}})
  io.stdout = saved
  T.truthy(ok, r)
  eq(r.sigma_b2[2], 0.05)
  T.near(r.critical.sigma_w2[2], 1.760955, 1e-6, "tanh's edge at sigma_b2 = 0.05")
  T.truthy(r.chi1[2][1] < 1 and r.chi1[2][5] > 1, "ordered at sigma_w2 = 1, chaotic at 3")
  T.truthy(r.xi_c[2][1] > 0 and r.xi_c[2][5] == math.huge, "xi_c finite on the ordered side")
  local text = table.concat(said)
  T.truthy(text:find("*", 1, true) and text:find("#", 1, true) and text:find(".", 1, true), text)
  local relu = lab.phase_diagram{activation = "relu", sigma_w2 = {1, 3}, sigma_b2 = {0, 0.1},
    n = {3, 2}, file = os.tmpname() .. ".svg"}
  T.near(relu.critical.sigma_w2[1], 2, 1e-9, "relu's edge at sigma_b2 = 0")
end)

test("lab.phase_diagram: bad options name the option", function()
  local lab = actrun.lab
  T.expect_error(function() lab.phase_diagram{activation = "tanh", sigma_w = {1, 2}} end,
    "actrun.lab.phase_diagram", "unknown option 'sigma_w'")
  T.expect_error(function() lab.phase_diagram{activation = "tanh", sigma_w2 = {2, 1}} end,
    "option sigma_w2")
  T.expect_error(function() lab.phase_diagram{activation = "tanh", n = {1, 3}} end, "option n")
  T.expect_error(function() lab.phase_diagram{activation = 3} end, "option activation")
  T.expect_error(function() lab.phase_diagram{activation = "nope"} end, "unknown activation 'nope'")
end)

T.done()
