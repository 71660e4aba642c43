-- act.properties and act.table: every field computed from f and f', checked against
-- what the literature says of the built-ins, and a defined activation against the
-- built-in it re-implements.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local T = require "testlib"
local actrun = T.actrun
local act = actrun.act
local test, eq, near, expect_error = T.test, T.eq, T.near, T.expect_error

local NOCOST = {cost = false}
local cache = {}
local function props(name, params)
  if params then return act.properties(name, params, NOCOST) end
  cache[name] = cache[name] or act.properties(name, nil, NOCOST)
  return cache[name]
end

local function kinks_near(got, want, tol, what)
  eq(#got, #want, (what or "") .. " kink count " .. T.fmt(got))
  for i = 1, #want do near(got[i], want[i], tol or 1e-4, (what or "") .. " kink " .. i) end
end

local SELU_ALPHA, SELU_SCALE = 1.6732632423543772, 1.0507009873554805

test("every required field is there, with the documented types", function()
  local p = props("relu")
  eq(type(p.nonlinear), "boolean")
  T.truthy(({everywhere = 1, ["almost everywhere"] = 1, no = 1})[p.differentiable])
  eq(type(p.kinks), "table")
  eq(type(p.monotonic), "boolean")
  eq(#p.range, 2)
  eq(type(p.bounded), "boolean")
  eq(type(p.zero_centered), "boolean")
  eq(math.type(p.f0), "float")
  eq(math.type(p.df0), "float")
  eq(type(p.near_identity), "boolean")
  eq(type(p.max_derivative), "number")
  T.truthy(({C0 = 1, C1 = 1, C2 = 1})[p.smoothness], "smoothness " .. tostring(p.smoothness))
  eq(type(p.max_curvature), "number")
  eq(type(p.curvature_jumps), "table")
  T.truthy(p.saturates.left and p.saturates.right)
  eq(math.type(p.params), "integer")
  eq(type(p.self_normalizing), "boolean")
  eq(p.cost_ns, nil, "no cost asked")
  eq(p.precision, "double")
end)

test("nonlinear: identity is not, everything else is (step through its jump)", function()
  eq(props("identity").nonlinear, false)
  for _, n in ipairs{"relu", "tanh", "step", "leaky_relu", "sin", "softsign"} do
    eq(props(n).nonlinear, true, n)
  end
  eq(props("leaky_relu", {negative_slope = 1}).nonlinear, false, "leaky_relu with slope 1 is x")
end)

test("kinks located within 1e-4, with their parameters", function()
  kinks_near(props("relu").kinks, {0})
  kinks_near(props("relu6").kinks, {0, 6})
  kinks_near(props("hardtanh").kinks, {-1, 1})
  kinks_near(props("hardtanh", {min_val = -2.25, max_val = 0.4}).kinks, {-2.25, 0.4})
  kinks_near(props("hardswish").kinks, {-3, 3})
  kinks_near(props("hard_sigmoid").kinks, {-3, 3})
  kinks_near(props("softshrink", {lambd = 1.3}).kinks, {-1.3, 1.3})
  kinks_near(props("selu").kinks, {0})
  kinks_near(props("elu", {alpha = 2}).kinks, {0}, 1e-4, "elu alpha=2: f' jumps 2 -> 1")
  kinks_near(props("elu").kinks, {}, 1e-4, "elu alpha=1 is C1")
  kinks_near(props("celu", {alpha = 3}).kinks, {}, 1e-4, "celu is C1 for any alpha")
  for _, n in ipairs{"sigmoid", "tanh", "gelu", "silu", "mish", "softplus", "sin", "gaussian"} do
    kinks_near(props(n).kinks, {}, 1e-4, n)
  end
end)

test("differentiable: everywhere, almost everywhere (kinks), no (f jumps)", function()
  eq(props("softplus").differentiable, "everywhere")
  eq(props("tanh").differentiable, "everywhere")
  eq(props("relu").differentiable, "almost everywhere")
  eq(props("hardtanh").differentiable, "almost everywhere")
  eq(props("step").differentiable, "no")
  kinks_near(props("step").jumps, {0})
  eq(props("hardshrink").differentiable, "no")
  kinks_near(props("hardshrink", {lambd = 0.8}).jumps, {-0.8, 0.8})
  kinks_near(props("softshrink").jumps, {}, 1e-4, "softshrink is continuous")
end)

test("monotonic: sin, cos, gelu, silu, mish, gaussian are not", function()
  for _, n in ipairs{"relu", "sigmoid", "tanh", "elu", "selu", "softplus", "step", "identity",
                     "leaky_relu", "logsigmoid", "softsign", "hardtanh", "tanhshrink"} do
    eq(props(n).monotonic, true, n)
  end
  for _, n in ipairs{"sin", "cos", "gelu", "silu", "mish", "gaussian", "hardswish"} do
    eq(props(n).monotonic, false, n)
  end
end)

test("range and bounded: limits at |x| >= 30, +-huge when unbounded, extremes else", function()
  local inf = math.huge
  local function range(n, lo, hi, tol, params)
    local p = props(n, params)
    near(p.range[1], lo, tol or 1e-9, n .. " lo")
    near(p.range[2], hi, tol or 1e-9, n .. " hi")
    eq(p.bounded, lo > -inf and hi < inf, n .. " bounded")
  end
  range("sigmoid", 0, 1)
  range("tanh", -1, 1)
  range("relu", 0, inf)
  range("relu6", 0, 6)
  range("identity", -inf, inf)
  range("softsign", -1, 1, 1e-6) -- 1 - 1/(1+x): reached only in the limit, extrapolated
  range("selu", -SELU_ALPHA * SELU_SCALE, inf, 1e-9)
  range("elu", -2, inf, 1e-9, {alpha = 2})
  range("logsigmoid", -inf, 0)
  range("softplus", 0, inf)
  range("tanhshrink", -inf, inf)
  range("gelu", -0.16997120, inf, 1e-6) -- the minimum of x Phi(x), near x = -0.7518
  range("silu", -0.27846454, inf, 1e-6)
  range("sin", -1, 1, 1e-8)
  range("gaussian", 0, 1)
  range("step", 0, 1)
  range("hardtanh", -3, 0.5, 1e-9, {min_val = -3, max_val = 0.5})
end)

test("f(0), f'(0), near identity", function()
  near(props("sigmoid").f0, 0.5, 1e-12)
  near(props("sigmoid").df0, 0.25, 1e-12)
  near(props("softplus").f0, math.log(2), 1e-12)
  near(props("leaky_relu", {negative_slope = 0.2}).df0, 0.2, 1e-12)
  for _, n in ipairs{"tanh", "identity", "sin", "softsign", "hardtanh", "elu"} do
    eq(props(n).near_identity, true, n)
  end
  for _, n in ipairs{"relu", "silu", "gelu", "sigmoid", "selu", "cos", "leaky_relu", "tanhshrink"} do
    eq(props(n).near_identity, false, n)
  end
end)

test("max derivative: sigmoid 0.25, tanh 1, selu scale*alpha, hardswish 1.5, unbounded", function()
  near(props("sigmoid").max_derivative, 0.25, 1e-9)
  near(props("tanh").max_derivative, 1, 1e-9)
  near(props("relu").max_derivative, 1, 1e-12)
  near(props("selu").max_derivative, SELU_SCALE * SELU_ALPHA, 1e-6)
  near(props("hardswish").max_derivative, 1.5, 1e-6)
  near(props("gaussian").max_derivative, math.sqrt(2 / math.exp(1)), 1e-9)
  near(props("silu").max_derivative, 1.0998393, 1e-6)
  near(props("hard_sigmoid").max_derivative, 1 / 6, 1e-12)
  eq(props("step").max_derivative, 0)
  act.define("cube", function(x) return x ^ 3 end)
  eq(props("cube").max_derivative, math.huge, "3x^2 grows without bound")
end)

test("smoothness: C0 where f' jumps, C1 where f'' jumps, C2 else; max |f''|", function()
  for _, n in ipairs{"relu", "relu6", "leaky_relu", "prelu", "rrelu", "hardtanh", "hard_sigmoid",
                     "hardswish", "softshrink", "hardshrink", "step", "selu"} do
    eq(props(n).smoothness, "C0", n)
  end
  eq(props("relu").max_curvature, 0)
  near(props("hardswish").max_curvature, 1 / 3, 1e-12) -- inside (-3, 3), not the kinks' deltas
  near(props("selu").max_curvature, SELU_SCALE * SELU_ALPHA, 1e-9)
  -- elu with alpha = 1, celu: f' continuous, f'' jumps at 0 (alpha to 0)
  for _, n in ipairs{"elu", "celu", "softsign"} do
    eq(props(n).smoothness, "C1", n)
    kinks_near(props(n).curvature_jumps, {0}, 1e-4, n)
    eq(props(n).kinks, {}, n)
  end
  eq(props("elu", {alpha = 0.5}).smoothness, "C0", "elu alpha 0.5: f' jumps from 0.5 to 1")
  eq(props("celu", {alpha = 2}).smoothness, "C1", "celu: f' continuous for any alpha")
  near(props("elu").max_curvature, 1, 1e-9)
  near(props("softsign").max_curvature, 2, 1e-5) -- the limit at 0 from either side
  -- softplus's switch to x at its threshold moves f'' by 2e-9: not a jump
  eq(props("softplus").smoothness, "C2")
  eq(props("softplus").curvature_jumps, {})
  eq(props("softplus", {beta = 1, threshold = 2}).smoothness, "C0", "f' jumps 0.88 -> 1 there")
  for _, n in ipairs{"identity", "sigmoid", "tanh", "gelu", "gelu_tanh", "silu", "swish", "mish",
                     "logsigmoid", "tanhshrink", "sin", "cos", "gaussian"} do
    eq(props(n).smoothness, "C2", n)
    eq(props(n).curvature_jumps, {}, n)
  end
  near(props("tanh").max_curvature, 4 / (3 * math.sqrt(3)), 1e-9)
  near(props("tanhshrink").max_curvature, 4 / (3 * math.sqrt(3)), 1e-9)
  near(props("gelu").max_curvature, 2 / math.sqrt(2 * math.pi), 1e-9)
  near(props("gelu_tanh").max_curvature, math.sqrt(2 / math.pi), 1e-9)
  near(props("silu").max_curvature, 0.5, 1e-9)
  near(props("sigmoid").max_curvature, 1 / (6 * math.sqrt(3)), 1e-9)
  near(props("softplus").max_curvature, 0.25, 1e-9)
  eq(props("gaussian").max_curvature, 2)
  near(props("sin").max_curvature, 1, 1e-9)
  eq(props("identity").max_curvature, 0)
end)

test("smoothness of defined activations, f'' by autograd", function()
  act.define("sq_relu", function(x) return act.relu(x) ^ 2 end) -- f'' jumps 0 -> 2
  local p = props("sq_relu")
  eq(p.smoothness, "C1")
  kinks_near(p.curvature_jumps, {0}, 1e-4)
  near(p.max_curvature, 2, 1e-6)
  act.define("my_tanh2", function(x) return x:tanh() end)
  eq(props("my_tanh2").smoothness, "C2")
  near(props("my_tanh2").max_curvature, 4 / (3 * math.sqrt(3)), 1e-6)
  act.define("my_softsign", function(x) return x / (x:abs() + 1) end)
  eq(props("my_softsign").smoothness, "C1")
  act.define("cube", function(x) return x * x * x end) -- f'' = 6x: no jump, grows
  eq(props("cube").smoothness, "C2")
  eq(props("cube").max_curvature, math.huge)
  act.define("my_relu", function(x) return act.relu(x) end)
  eq(props("my_relu").smoothness, "C0")
  eq(props("my_relu").max_curvature, 0)
end)

test("saturation on each side: zero, vanishing, no", function()
  local function sat(n, l, r, params)
    local s = props(n, params).saturates
    eq({s.left, s.right}, {l, r}, n)
  end
  sat("relu", "zero", "no")
  sat("step", "zero", "zero")
  sat("relu6", "zero", "zero")
  sat("hardtanh", "zero", "zero")
  sat("hard_sigmoid", "zero", "zero")
  sat("hardswish", "zero", "no")
  sat("sigmoid", "vanishing", "vanishing")
  sat("tanh", "vanishing", "vanishing")
  sat("softsign", "vanishing", "vanishing")
  sat("gaussian", "vanishing", "vanishing")
  sat("elu", "vanishing", "no")
  sat("selu", "vanishing", "no")
  sat("softplus", "vanishing", "no")
  sat("gelu", "vanishing", "no")
  sat("logsigmoid", "no", "vanishing")
  sat("leaky_relu", "no", "no")
  sat("prelu", "no", "no")
  sat("identity", "no", "no")
  sat("sin", "no", "no")
  sat("tanhshrink", "no", "no")
  act.define("relu_sq", function(x) return act.relu(x) ^ 2 end)
  sat("relu_sq", "zero", "no") -- f' = 2 relu(x) is exactly 0 on the left, without a kink
end)

test("zero-centred outputs for N(0, 1) inputs: |E f| <= 0.1 sd f", function()
  for _, n in ipairs{"tanh", "softsign", "sin", "identity", "selu", "tanhshrink", "hardtanh"} do
    eq(props(n).zero_centered, true, n)
  end
  for _, n in ipairs{"relu", "sigmoid", "elu", "gelu", "silu", "softplus", "cos", "gaussian", "step"} do
    eq(props(n).zero_centered, false, n)
  end
  local o = props("relu").normal_output -- E relu(Z) = 1/sqrt(2 pi), var = 1/2 - 1/(2 pi)
  near(o.mean, 1 / math.sqrt(2 * math.pi), 1e-9)
  near(o.sd, math.sqrt(0.5 - 1 / (2 * math.pi)), 1e-9)
  local t = props("tanh").normal_output -- odd: mean 0; E tanh(Z)^2 = 0.39429 (known value)
  near(t.mean, 0, 1e-12)
  near(t.sd, math.sqrt(0.3942944903978), 1e-6)
end)

test("learnable parameters per channel: prelu 1, the others 0", function()
  eq(props("prelu").params, 1)
  for _, n in ipairs{"relu", "leaky_relu", "rrelu", "elu", "swish"} do eq(props(n).params, 0, n) end
end)

test("self-normalising: SELU only; its fixed point is (0, 1) and stable", function()
  local p = props("selu")
  eq(p.self_normalizing, true)
  near(p.fixed_point.mean, 0, 0.01)
  near(p.fixed_point.var, 1, 0.01)
  T.truthy(p.fixed_point.rho > 0 and p.fixed_point.rho < 1, "stable: rho = " .. p.fixed_point.rho)
  for _, n in ipairs{"relu", "tanh", "sigmoid", "elu", "identity", "leaky_relu", "gelu", "softplus"} do
    eq(props(n).self_normalizing, false, n)
  end
  -- identity keeps (0, 1) but only neutrally (rho = 1): not self-normalising
  local id = props("identity").fixed_point
  near(id.var, 1, 1e-9)
  near(id.rho, 1, 1e-9)
  -- relu halves the second moment each layer: the signal dies, fixed point (0, 0)
  eq(props("relu").fixed_point.var, 0)
  -- sigmoid settles at mean ~0.5 with a small variance
  near(props("sigmoid").fixed_point.mean, 0.5, 0.01)
  -- a SELU with other constants is not self-normalising
  act.define("selu_off", function(x) return act.selu(x) * 1.3 end)
  eq(props("selu_off").self_normalizing, false)
end)

test("a defined x*sigmoid(x) has silu's properties (except cost)", function()
  act.define("my_silu", function(x) return x * x:sigmoid() end)
  local a, b = props("my_silu"), props("silu")
  eq(a.precision, "float")
  for _, k in ipairs{"nonlinear", "differentiable", "kinks", "jumps", "monotonic", "bounded",
                     "zero_centered", "near_identity", "saturates", "params", "self_normalizing"} do
    eq(a[k], b[k], k)
  end
  near(a.range[1], b.range[1], 1e-5, "range lo")
  eq(a.range[2], b.range[2], "range hi")
  near(a.f0, b.f0, 1e-6, "f0")
  near(a.df0, b.df0, 1e-6, "df0")
  near(a.max_derivative, b.max_derivative, 1e-5, "max_derivative")
  near(a.normal_output.mean, b.normal_output.mean, 1e-5)
  near(a.normal_output.sd, b.normal_output.sd, 1e-5)
  eq(a.fixed_point ~= nil, b.fixed_point ~= nil, "fixed point found in both or neither")
end)

test("defined activations with kinks, jumps and parameters are measured too", function()
  act.define("two_kinks", function(x) return act.relu(x - 0.7) - act.relu(-x - 1.3) * 0.5 end)
  local p = props("two_kinks")
  kinks_near(p.kinks, {-1.3, 0.7})
  eq(p.differentiable, "almost everywhere")
  eq(p.saturates, {left = "no", right = "no"})
  act.define("shifted_relu", function(x, q) return act.relu(x - q.s) end,
    {params = {{name = "s", default = 0.3}}})
  kinks_near(props("shifted_relu").kinks, {0.3})
  kinks_near(props("shifted_relu", {s = 2.2345}).kinks, {2.2345})
  act.define("late_step", function(x) return act.step(x - 1) end)
  local s = props("late_step")
  eq(s.differentiable, "no")
  kinks_near(s.jumps, {1})
  eq(s.saturates, {left = "zero", right = "zero"})
  -- a defined selu is self-normalising like the built-in
  act.define("my_selu", function(x) return act.selu(x) end)
  eq(props("my_selu").self_normalizing, true)
end)

test("an activation without a scalar form (a host's) is measured through its kernels", function()
  local C = package.loaded["actrun.act_c"]
  local real = C.scalars
  local want = props("tanh")
  C.scalars = function(name, ...) -- what the C side says of such an activation
    if name == "tanh" then error("actrun.act.scalars: activation 'tanh' has no scalar form") end
    return real(name, ...)
  end
  local ok, p = pcall(act.properties, "tanh", nil, NOCOST)
  C.scalars = real
  T.truthy(ok, tostring(p))
  eq(p.precision, "float")
  for _, k in ipairs{"nonlinear", "differentiable", "kinks", "monotonic", "bounded", "saturates",
                     "near_identity", "zero_centered", "self_normalizing"} do
    eq(p[k], want[k], k)
  end
  near(p.range[1], -1, 1e-6)
  near(p.max_derivative, 1, 1e-6)
end)

test("a host activation without f'' kernel: f'' by differences of f'", function()
  local C = package.loaded["actrun.act_c"]
  local real_scalars, real_second = C.scalars, C.second
  local as_host = {softsign = true, elu = true, tanh = true, relu = true, gelu = true}
  C.scalars = function(name, ...) -- what the C side says of such an activation
    if as_host[name] then error("actrun.act.scalars: activation '" .. name .. "' has no scalar form") end
    return real_scalars(name, ...)
  end
  C.second = function(name, ...)
    if as_host[name] then error("actrun.act.second: host activation '" .. name .. "' has no second derivative") end
    return real_second(name, ...)
  end
  local got = {}
  local ok, err = pcall(function()
    for n in pairs(as_host) do got[n] = act.properties(n, nil, NOCOST) end
  end)
  C.scalars, C.second = real_scalars, real_second
  T.truthy(ok, tostring(err))
  for _, n in ipairs{"softsign", "elu"} do
    eq(got[n].smoothness, "C1", n)
    kinks_near(got[n].curvature_jumps, {0}, 2e-3, n)
  end
  near(got.softsign.max_curvature, 2, 0.05) -- the difference smears the peak at 0
  near(got.elu.max_curvature, 1, 0.01)
  eq(got.tanh.smoothness, "C2")
  near(got.tanh.max_curvature, 4 / (3 * math.sqrt(3)), 1e-4)
  eq(got.gelu.smoothness, "C2")
  near(got.gelu.max_curvature, 2 / math.sqrt(2 * math.pi), 1e-4)
  eq(got.relu.smoothness, "C0")
  eq(got.relu.max_curvature, 0, "the difference's spike at the kink is left out")
end)

test("cost: forward and backward ns per element, measured", function()
  local p = act.properties("relu", nil, {quick = true})
  T.truthy(p.cost_ns.forward > 0 and p.cost_ns.forward < 1e6, "forward " .. p.cost_ns.forward)
  T.truthy(p.cost_ns.backward > 0 and p.cost_ns.backward < 1e6, "backward " .. p.cost_ns.backward)
  local d = act.properties("my_silu", nil, {quick = true})
  T.truthy(d.cost_ns.forward > 0 and d.cost_ns.backward > 0, "defined activations too")
end)

test("measuring leaves the RNG stream alone and works under no_grad", function()
  actrun.manual_seed(7)
  local want = actrun.randn(4):totable()
  actrun.manual_seed(7)
  act.properties("my_silu", nil, {quick = true})
  act.properties("elu", nil, {quick = true})
  eq(actrun.randn(4):totable(), want, "same draws after measuring cost and properties")
  local p = actrun.no_grad(function() return act.properties("my_silu", nil, NOCOST) end)
  near(p.max_derivative, props("silu").max_derivative, 1e-5)
  eq(p.kinks, {})
end)

test("act.table prints an aligned table and returns its rows", function()
  local buf = {}
  local out = {write = function(_, s) buf[#buf + 1] = s end}
  local rows = act.table({"relu", "tanh", "my_silu"}, {cost = false, out = out})
  eq(#rows, 3)
  eq({rows[1].name, rows[2].name, rows[3].name}, {"relu", "tanh", "my_silu"})
  eq(rows[1].kinks, props("relu").kinks)
  local lines = {}
  for l in table.concat(buf):gmatch("[^\n]+") do lines[#lines + 1] = l end
  eq(#lines, 5, "header, rule, three rows")
  T.truthy(lines[1]:match("^name%s+nonlin%s+diff%s+kinks"), lines[1])
  T.truthy(lines[2]:match("^%-+  %-+"), "a rule of dashes")
  T.truthy(lines[3]:match("^relu%s"), lines[3])
  -- every column starts at the same offset on every line
  local starts = {}
  for pos in lines[2]:gmatch("()%-+") do starts[#starts + 1] = pos end
  T.truthy(#starts >= 15, "columns: " .. #starts)
  for i = 3, 5 do
    for j = 2, #starts do
      T.truthy(lines[i]:sub(starts[j] - 2, starts[j] - 1) == "  ", "gap before column " .. j ..
        " on line " .. i .. ": " .. lines[i])
    end
  end
  T.truthy(lines[3]:find(" 0 ", 1, true), "relu's kink at 0 shows")
  T.truthy(lines[4]:find("vanish/vanish", 1, true), "tanh saturation shows")
  T.truthy(lines[1]:find("smooth  max f''", 1, true), lines[1])
  T.truthy(lines[3]:find(" C0 ", 1, true) and lines[4]:find(" C2 ", 1, true), "smoothness shows")
  T.truthy(lines[4]:find(" 0.7698 ", 1, true), "tanh's max |f''| shows")
  local all = act.table(nil, {cost = false, print = false})
  eq(#all, #act.list(), "every activation, defined ones included")
  local named = act.table("relu, sin", {cost = false, print = false})
  eq({named[1].name, named[2].name}, {"relu", "sin"})
end)

test("the C helpers behind it: scalars over a grid or a list, enable_grad", function()
  local C = package.loaded["actrun.act_c"]
  local f, d = C.scalars("relu", -1, 1, 5)
  eq(f, {0, 0, 0, 0.5, 1})
  eq(d, {0, 0, 0, 1, 1})
  f, d = C.scalars("elu", {-1, 2}, {alpha = 2})
  near(f[1], 2 * (math.exp(-1) - 1), 1e-15)
  near(d[1], 2 * math.exp(-1), 1e-15)
  eq({f[2], d[2]}, {2, 1})
  for _, x in ipairs{-3, -0.1, 0.7, 5} do -- the same numbers as act.scalar
    local sf, sd = act.scalar("gelu", x)
    local gf, gd = C.scalars("gelu", {x})
    eq({gf[1], gd[1]}, {sf, sd}, "gelu at " .. x)
  end
  f = C.scalars("tanh", 2, 2, 1)
  eq(f, {math.tanh(2)})
  eq(#C.scalars("relu", {}), 0)
  expect_error(function() C.scalars("relu", 0, 1, 0) end, "actrun.act.scalars", "argument #4 (n)")
  expect_error(function() C.scalars("relu", 0, 1, 2.5) end, "actrun.act.scalars", "argument #4 (n)")
  expect_error(function() C.scalars("relu", 0 / 0, 1, 3) end, "actrun.act.scalars", "finite")
  expect_error(function() C.scalars("relu", 0, "1", 3) end, "actrun.act.scalars", "argument #3 (hi)")
  expect_error(function() C.scalars("relu", {1, "a"}) end, "actrun.act.scalars", "entry 2")
  expect_error(function() C.scalars("nope", {1}) end, "actrun.act.scalars", "unknown activation 'nope'")
  expect_error(function() C.scalars("elu", {1}, {alpha = 1 / 0}) end, "actrun.act.scalars", "alpha")
  expect_error(function() C.scalars("elu", {1}, {a = 1}) end, "actrun.act.scalars", "unknown parameter 'a'")
  -- enable_grad: records even under no_grad, and restores the mode after an error
  local req = actrun.no_grad(function()
    return C.enable_grad(function()
      local x = actrun.tensor({1}, {requires_grad = true})
      return (x * 2).requires_grad
    end)
  end)
  eq(req, true)
  actrun.no_grad(function()
    T.truthy(not pcall(C.enable_grad, function() error("boom") end))
    local x = actrun.tensor({1}, {requires_grad = true})
    eq((x * 2).requires_grad, false, "no_grad is back after the error")
  end)
  expect_error(function() C.enable_grad(3) end, "actrun.act.enable_grad", "argument #1 (fn)")
end)

test("errors name the function and the argument", function()
  expect_error(function() act.properties("nope") end,
    "actrun.act.properties: unknown activation 'nope' (see act.list())")
  expect_error(function() act.properties(3) end, "actrun.act.properties", "argument #1 (name)")
  expect_error(function() act.properties("elu", {beta = 1}) end, "actrun.act.properties",
    "unknown parameter 'beta'")
  expect_error(function() act.properties("elu", {alpha = "x"}) end, "actrun.act.properties",
    "alpha")
  expect_error(function() act.properties("hardtanh", {min_val = 1, max_val = -1}) end,
    "actrun.act.properties", "min_val")
  expect_error(function() act.properties("softplus", {beta = 0}) end, "actrun.act.properties",
    "beta")
  expect_error(function() act.properties("elu", 3) end, "actrun.act.properties", "params")
  expect_error(function() act.properties("relu", nil, 3) end, "actrun.act.properties",
    "argument #3 (options) expected a table, got number")
  expect_error(function() act.properties("relu", nil, {cots = false}) end,
    "actrun.act.properties: argument #3 (options) has unknown option 'cots' (options: cost, quick)")
  expect_error(function() act.properties("shifted_relu", {t = 1}) end, "actrun.act.properties",
    "unknown parameter 't' for shifted_relu")
  act.define("log_act", function(x) return x:log() end)
  expect_error(function() act.properties("log_act") end, "actrun.act.properties",
    "'log_act' is not finite at x = -29.99", "f = nan")
  act.define("bad_shape2", function(x) return x:sum() end)
  expect_error(function() act.properties("bad_shape2") end, "actrun.act.properties",
    "returned shape {1} for input {127}") -- the determinism probe runs first
  expect_error(function() act.table({"relu", "nope"}) end,
    "actrun.act.table: unknown activation 'nope'")
  expect_error(function() act.table(42) end, "actrun.act.table", "argument #1 (names)")
  expect_error(function() act.table({"relu", 3}) end, "actrun.act.table", "entry 2")
  expect_error(function() act.table(nil, "x") end, "actrun.act.table",
    "argument #2 (options) expected a table, got string")
  expect_error(function() act.table({"relu"}, {prnt = false}) end,
    "actrun.act.table: argument #2 (options) has unknown option 'prnt'", "out, print")
  -- the interpreter still works
  near(props("sigmoid").max_derivative, 0.25, 1e-9)
end)

test("a non-deterministic defined activation is an error, at once, not minutes of analysis", function()
  -- noise makes every grid cell look like a kink: the analysis ran for ~25 s and
  -- returned nonsense; now two evaluations on a probe tell it apart
  act.define("noisy", function(x) return x + actrun.randn(x:shape()) * 0.01 end)
  local t0 = os.clock()
  for _, call in ipairs{
    {"actrun.act.properties", function() return act.properties("noisy", nil, NOCOST) end},
    {"actrun.act.propagation", function() return act.propagation("noisy", {sigma_w2 = 1}) end},
    {"actrun.act.edge_of_chaos", function() return act.edge_of_chaos("noisy") end},
  } do
    expect_error(call[2], call[1], "activation 'noisy' is not deterministic",
      "two evaluations on the same input differ at x = ")
  end
  T.truthy(os.clock() - t0 < 2, "the check is quick: " .. (os.clock() - t0) .. " s")
  -- noise in f' alone (f itself exact) is caught too
  act.define("noisy_grad", function(x)
    local g = x * actrun.randn(x:shape())
    return x:detach() + (g - g:detach()) -- f = x exactly, f' = the noise
  end)
  expect_error(function() return act.properties("noisy_grad", nil, NOCOST) end,
    "actrun.act.properties", "'noisy_grad' is not deterministic", "f' =")
  -- a deterministic one that uses the generator's state only through a fixed seed is fine,
  -- and the check draws nothing from the generator for a deterministic function
  act.define("my_relu6", function(x) return act.relu6(x) end)
  actrun.manual_seed(7)
  local before = actrun.rand(1):item()
  actrun.manual_seed(7)
  eq(act.properties("my_relu6", nil, NOCOST).monotonic, true)
  eq(actrun.rand(1):item(), before, "the generator did not move")
end)

T.done()
