-- actrun.nn modules: the module protocol (kinds, children, named_modules, parameters and
-- their names, buffers, train/eval, hooks, subclassing), tostring, default inits, Maxout
-- against ReLU, dropout statistics, RReLU, Residual, Flatten, LSTM options, nn.mlp, and
-- finite-difference gradient checks of every module. PyTorch comparisons are in
-- test_nn_torch.lua, error messages in test_nn_errors.lua.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local T = require "testlib"
local actrun = T.actrun
local nn, act, lab = actrun.nn, actrun.act, actrun.lab
local test, eq, near, tensor_near, truthy = T.test, T.eq, T.near, T.tensor_near, T.truthy

local function set(p, values)
  actrun.no_grad(function() p:copy(actrun.is_tensor(values) and values or actrun.tensor(values)) end)
end

local function keys(map)
  local list = {}
  for k in pairs(map) do list[#list + 1] = k end
  table.sort(list)
  return list
end

local function kinds(seq)
  local list = {}
  for i, c in ipairs(seq:children()) do list[i] = c.module.kind end
  return list
end

---------------------------------------------------------------------------------------
-- the protocol

test("every module has kind, training and chains to nn.Module", function()
  local mods = {
    Linear = nn.Linear(2, 3), Sequential = nn.Sequential(), Activation = nn.ReLU(),
    PReLU = nn.PReLU(), Maxout = nn.Maxout(2, 3), BatchNorm = nn.BatchNorm(3),
    LayerNorm = nn.LayerNorm(3), Dropout = nn.Dropout(0.5), AlphaDropout = nn.AlphaDropout(0.1),
    LSTM = nn.LSTM(2, 3), Residual = nn.Residual(nn.Linear(3, 3)), Flatten = nn.Flatten(),
  }
  for kind, m in pairs(mods) do
    eq(m.kind, kind, "kind")
    eq(m.training, true, kind .. " training")
    truthy(nn.is_module(m), kind .. " is a module")
    -- the chain reaches nn.Module: its methods are found through it
    eq(m.parameters, nn.Module.parameters, kind .. " inherits parameters")
  end
  eq(nn.is_module({}), false)
  eq(nn.is_module(actrun.zeros(1)), false)
end)

test("activation-like modules carry is_activation and act_name", function()
  eq(nn.ReLU().is_activation, true)
  eq(nn.ReLU().act_name, "relu")
  eq(nn.ELU(0.5).act_name, "elu")
  eq(nn.LeakyReLU(0.2).act_name, "leaky_relu")
  eq(nn.Activation("swish", {beta = 2}).act_name, "swish")
  eq(nn.PReLU().is_activation, true)
  eq(nn.PReLU().act_name, "prelu")
  eq(nn.Maxout(3, 2).is_activation, true)
  eq(nn.Maxout(3, 2).act_name, "maxout")
  eq(nn.Linear(2, 2).is_activation, nil)
  eq(nn.BatchNorm(2).is_activation, nil)
end)

test("shortcuts apply the named activation with their parameters", function()
  local x = actrun.linspace(-3, 3, 13)
  tensor_near(nn.ReLU()(x), act.relu(x), 0)
  tensor_near(nn.Tanh()(x), act.tanh(x), 0)
  tensor_near(nn.Sigmoid()(x), act.sigmoid(x), 0)
  tensor_near(nn.GELU()(x), act.gelu(x), 0)
  tensor_near(nn.SELU()(x), act.selu(x), 0)
  tensor_near(nn.ELU()(x), act.elu(x, 1), 0)
  tensor_near(nn.ELU(0.5)(x), act.elu(x, 0.5), 0)
  tensor_near(nn.LeakyReLU()(x), act.leaky_relu(x, 0.01), 0)
  tensor_near(nn.LeakyReLU(0.2)(x), act.leaky_relu(x, 0.2), 0)
  tensor_near(nn.Activation("softplus", {beta = 2})(x), act.softplus(x, 2), 0)
end)

test("Activation calls act.apply at each forward (activations defined later work)", function()
  local real = act.apply
  local calls = {}
  -- stand-in for act.define: a wrapper that knows one extra name
  act.apply = function(name, x, params)
    calls[#calls + 1] = name
    if name == "my_square" then return x * x end
    return real(name, x, params)
  end
  local ok, err = pcall(function()
    local m = nn.Activation("my_square")
    eq(m.act_name, "my_square")
    tensor_near(m(actrun.tensor{-2, 3}), {4, 9}, 0)
    local r = nn.ReLU()
    r(actrun.tensor{1})
    eq(calls[#calls], "relu", "built-ins go through act.apply too")
    local mlp = nn.mlp{2, 3, 1, activation = "my_square"}
    eq(mlp[2].act_name, "my_square")
  end)
  act.apply = real
  if not ok then error(err, 0) end
end)

test("children and named_modules: ordered, dotted, pre-order, root first", function()
  local inner = nn.Sequential(nn.Linear(4, 4), nn.Tanh())
  local m = nn.Sequential(nn.Linear(3, 4), nn.Residual(inner), nn.Maxout(4, 2))
  local ch = m:children()
  eq(#ch, 3)
  eq({ch[1].name, ch[2].name, ch[3].name}, {"1", "2", "3"})
  truthy(ch[2].module == m[2] and m["2"] == m[2], "children are the modules, by index and name")
  local names, mods = {}, {}
  for i, e in ipairs(m:named_modules()) do names[i], mods[i] = e.name, e.module end
  eq(names, {"", "1", "2", "2.block", "2.block.1", "2.block.2", "3", "3.linear"})
  truthy(mods[1] == m and mods[4] == inner and mods[8] == m[3].linear, "the modules themselves")
  eq(#nn.Linear(2, 2):children(), 0)
end)

test("parameters() returns the same tensors on every call, all requiring grad", function()
  local m = nn.mlp{5, 4, 3, activation = "tanh", norm = "batch"}
  local a, b = m:parameters(), m:parameters()
  eq(#a, 6) -- Linear, BatchNorm, Linear
  for i = 1, #a do
    truthy(rawequal(a[i], b[i]), "same object " .. i)
    eq(a[i].requires_grad, true, "requires_grad " .. i)
    eq(a[i].is_leaf, true, "leaf " .. i)
  end
  truthy(rawequal(a[1], m[1].weight) and rawequal(a[2], m[1].bias), "Linear's fields")
  eq(m[1].weight:shape(), {4, 5})
  eq(m[1].bias:shape(), {4})
end)

test("named_parameters and named_buffers: dotted names, ordered second result", function()
  local m = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm(4), nn.PReLU(4),
    nn.Residual(nn.Sequential(nn.Linear(4, 4)), {norm = "pre", width = 4}), nn.Maxout(4, 2, 3),
    nn.LSTM(2, 2))
  local map, order = m:named_parameters()
  eq(order, {"1.weight", "1.bias", "2.weight", "2.bias", "3.weight", "4.block.1.weight",
    "4.block.1.bias", "4.norm.weight", "4.norm.bias", "5.linear.weight", "5.linear.bias",
    "6.weight_ih_l0", "6.weight_hh_l0", "6.bias_ih_l0", "6.bias_hh_l0"})
  eq(keys(map), (function() local o = {table.unpack(order)} table.sort(o) return o end)())
  truthy(rawequal(map["4.norm.bias"], m[4].norm.bias), "the tensor itself")
  local bufs, border = m:named_buffers()
  eq(border, {"2.running_mean", "2.running_var", "4.norm.running_mean", "4.norm.running_var"})
  truthy(rawequal(bufs["2.running_var"], m[2].running_var), "buffer handle")
  eq(next((m[1]:named_buffers())), nil, "a Linear has no buffers")
end)

test("a module shared by two parents contributes its parameters once", function()
  local lin = nn.Linear(3, 3)
  local m = nn.Sequential(lin, nn.ReLU(), lin)
  eq(#m:parameters(), 2)
  eq(m:num_parameters(), 12)
  local _, order = m:named_parameters()
  eq(order, {"1.weight", "1.bias"})
end)

test("num_parameters counts every element", function()
  eq(nn.Linear(784, 256):num_parameters(), 784 * 256 + 256)
  eq(math.type(nn.Linear(3, 2):num_parameters()), "integer")
  eq(nn.Linear(3, 2, {bias = false}):num_parameters(), 6)
  eq(nn.ReLU():num_parameters(), 0)
  eq(nn.LSTM(3, 5):num_parameters(), 4 * 5 * (3 + 5 + 2))
  eq(nn.mlp{784, 256, 256, 10}:num_parameters(), 269322)
end)

test("train() and eval() are recursive and return the module", function()
  local m = nn.mlp{4, 4, 4, 2, dropout = 0.5, norm = "batch", residual = true}
  truthy(rawequal(m:eval(), m), "eval returns m")
  for _, e in ipairs(m:named_modules()) do eq(e.module.training, false, e.name) end
  truthy(rawequal(m:train(), m), "train returns m")
  for _, e in ipairs(m:named_modules()) do eq(e.module.training, true, e.name) end
  m:train(false)
  eq(m[2].block[3].training, false)
end)

test("zero_grad clears every parameter's gradient", function()
  local m = nn.mlp{3, 4, 2}
  m(actrun.randn(5, 3)):sum():backward()
  for _, p in ipairs(m:parameters()) do truthy(p.grad, "has a grad") end
  truthy(rawequal(m:zero_grad(), m), "returns m")
  for _, p in ipairs(m:parameters()) do eq(p.grad, nil) end
end)

test("forward hooks run after each call with (module, input, output); remove() stops them", function()
  local m = nn.Sequential(nn.Linear(3, 2), nn.Tanh())
  local seen = {}
  local h1 = m[2]:add_hook(function(mod, input, output)
    seen[#seen + 1] = {mod, input, output}
  end)
  local count = 0
  local h2 = m:add_hook(function() count = count + 1 end)
  local x = actrun.randn(4, 3)
  local y = m(x)
  eq(#seen, 1)
  truthy(rawequal(seen[1][1], m[2]), "the module")
  eq(seen[1][2]:shape(), {4, 2})
  truthy(rawequal(seen[1][3], y), "the output itself")
  eq(count, 1)
  m:forward(x) -- forward alone runs no hooks of m (its children's run: they are called)
  eq(count, 1)
  eq(#seen, 2)
  eq(h1:remove(), true)
  eq(h1:remove(), false)
  m(x)
  eq(#seen, 2)
  eq(count, 2)
  h2:remove()
  m(x)
  eq(count, 2)
end)

test("with a hook, a multi-result forward still returns all (LSTM: 3); the hook gets the first", function()
  local m = nn.LSTM(2, 3)
  local got
  m:add_hook(function(_, _, out) got = out end)
  local o, h, c = m(actrun.randn(4, 1, 2))
  truthy(rawequal(got, o), "hook output is the first result")
  eq(h:shape(), {1, 1, 3})
  eq(c:shape(), {1, 1, 3})
end)

---------------------------------------------------------------------------------------
-- subclassing

test("Module:extend: a custom module with parameters, children and buffers", function()
  local Scaled = nn.Module:extend("Scaled")
  function Scaled:init(n)
    self:register_parameter("scale", actrun.ones(n))
    self:register_module("inner", nn.Linear(n, n))
    self:register_buffer("calls", actrun.zeros(1))
  end
  function Scaled:forward(x)
    actrun.no_grad(function() self.calls:copy(self.calls + 1) end)
    return self.inner(x) * self.scale
  end
  local m = Scaled(3)
  eq(m.kind, "Scaled")
  eq(m.training, true)
  truthy(nn.is_module(m), "is a module")
  eq(m.scale.requires_grad, true)
  local _, order = m:named_parameters()
  eq(order, {"scale", "inner.weight", "inner.bias"})
  local _, border = m:named_buffers()
  eq(border, {"calls"})
  local x = actrun.randn(2, 3)
  local y = m(x)
  tensor_near(y, m.inner(x) * m.scale, 0)
  eq(m.calls:item(), 1)
  local outer = nn.Sequential(m, nn.ReLU())
  eq(({outer:named_parameters()})[2], {"1.scale", "1.inner.weight", "1.inner.bias"})
  eq(outer:num_parameters(), 3 + 12)
  outer:eval()
  eq(m.training, false)
  y:sum():backward()
  truthy(m.scale.grad and m.inner.weight.grad, "gradients reach both")
  T.expect_error(function() nn.Module:extend("Bare")():forward(x) end, "forward is not defined")
  T.expect_error(function() nn.Module:extend(3) end, "actrun.nn.Module:extend", "kind")
end)

test("a subclass of a subclass inherits its forward", function()
  local Base = nn.Module:extend("Base")
  function Base:init() self:register_parameter("w", actrun.full({1}, 2)) end
  function Base:forward(x) return x * self.w end
  local Child = Base:extend("Child")
  local c = Child()
  eq(c.kind, "Child")
  tensor_near(c(actrun.tensor{1, 2}), {2, 4}, 0)
  truthy(nn.is_module(c), "is a module")
end)

---------------------------------------------------------------------------------------
-- tostring

test("tostring: the tree with shapes and parameter counts", function()
  local m = nn.mlp{784, 256, 256, 10}
  eq(tostring(m), table.concat({
    "Sequential (269,322 parameters)",
    "  1: Linear(784 -> 256)    200,960",
    "  2: Activation(relu)",
    "  3: Linear(256 -> 256)    65,792",
    "  4: Activation(relu)",
    "  5: Linear(256 -> 10)     2,570"}, "\n"))
  local r = nn.Sequential(nn.Residual(nn.Sequential(nn.Linear(2, 2), nn.ELU(0.5)),
    {norm = "post", width = 2}), nn.Dropout(0.25))
  eq(tostring(r), table.concat({
    "Sequential (10 parameters)",
    "  1: Residual(norm=post)               10",
    "    block: Sequential                  6",
    "      1: Linear(2 -> 2)                6",
    "      2: Activation(elu, alpha=0.5)",
    "    norm: BatchNorm(2)                 4",
    "  2: Dropout(p=0.25)"}, "\n"))
  eq(tostring(nn.Linear(1, 1, {bias = false})), "Linear(1 -> 1, no bias) (1 parameter)")
  eq(tostring(nn.LSTM(3, 4, {gate = "hard_sigmoid"})),
    "LSTM(3 -> 4, gate=hard_sigmoid, cell=tanh) (144 parameters)")
end)

---------------------------------------------------------------------------------------
-- Linear

test("Linear: PyTorch's default init bounds, init= override with zero bias", function()
  actrun.manual_seed(3)
  local m = nn.Linear(400, 300)
  local bound = 1 / math.sqrt(400)
  local w = m.weight
  T.truthy(w:abs():max():item() <= bound, "weight within 1/sqrt(in)")
  T.truthy(w:abs():max():item() > 0.95 * bound, "weight fills its range")
  near(w:mean():item(), 0, 2e-3, "weight mean")
  near(w:var():item(), bound * bound / 3, 0.05 * bound * bound, "uniform variance")
  T.truthy(m.bias:abs():max():item() <= bound, "bias within 1/sqrt(in)")
  T.truthy(m.bias:abs():max():item() > 0.9 * bound, "bias fills its range")
  local l = nn.Linear(400, 300, {init = "lecun_normal"})
  near(l.weight:std():item(), 1 / math.sqrt(400), 0.02, "lecun std")
  eq(l.bias:abs():max():item(), 0, "bias zero with init=")
  local z = nn.Linear(3, 2, {init = "zeros"})
  eq(z.weight:abs():sum():item(), 0)
  local nb = nn.Linear(3, 2, {bias = false})
  eq(nb.bias, nil)
  eq(#nb:parameters(), 1)
  tensor_near(nb(actrun.ones(1, 3)), nb.weight:sum(2):reshape(1, 2), 1e-6)
  actrun.manual_seed(9)
  local a = nn.Linear(5, 5).weight:clone()
  actrun.manual_seed(9)
  tensor_near(nn.Linear(5, 5).weight, a, 0, "reproducible from manual_seed")
end)

test("Linear accepts 1-D and N-D inputs", function()
  local m = nn.Linear(3, 2)
  local x = actrun.randn(3)
  local y = m(x)
  eq(y:shape(), {2})
  tensor_near(y, m(x:reshape(1, 3)):reshape(2), 1e-6)
  local x4 = actrun.randn(2, 2, 2, 3)
  local y4 = m(x4)
  eq(y4:shape(), {2, 2, 2, 2})
  tensor_near(y4:reshape(8, 2), m(x4:reshape(8, 3)), 1e-6)
  eq(m(actrun.zeros(0, 3)):shape(), {0, 2})
end)

---------------------------------------------------------------------------------------
-- Maxout

test("Maxout with k=2 and one piece zero is exactly ReLU (values and gradients)", function()
  actrun.manual_seed(11)
  local mo = nn.Maxout(6, 5, 2)
  local lin = nn.Linear(6, 5)
  -- pieces are consecutive rows: unit j uses rows 2j-1 (piece 1) and 2j (piece 2)
  local w = actrun.zeros(10, 6)
  local b = actrun.zeros(10)
  for j = 1, 5 do
    w[2 * j - 1] = lin.weight[j]
    b[2 * j - 1] = lin.bias[j]
  end
  set(mo.linear.weight, w)
  set(mo.linear.bias, b)
  local x1 = actrun.randn(64, 6)
  x1.requires_grad = true
  local x2 = x1:detach():clone()
  x2.requires_grad = true
  local y1, y2 = mo(x1), act.relu(lin(x2))
  tensor_near(y1, y2, 0, "Maxout == ReLU")
  T.truthy(y1:eq(0):sum():item() > 20, "a good share of units are off")
  local r = actrun.randn(64, 5)
  local l1, l2 = (y1 * r):sum(), (y2 * r):sum()
  l1:backward()
  l2:backward()
  tensor_near(x1.grad, x2.grad, 0, "input gradients equal")
  local gw = mo.linear.weight.grad
  for j = 1, 5 do
    tensor_near(gw[2 * j - 1], lin.weight.grad[j], 0, "piece-1 weight grad " .. j)
  end
  -- the zero piece gets the gradient where it wins, i.e. where the ReLU is off
  local off = y2:detach():eq(0)
  local gb = mo.linear.bias.grad:reshape(5, 2)
  tensor_near(gb:select(2, 2), (r * off):sum(1), 1e-5, "zero piece's bias gradient")
  tensor_near(gb:select(2, 1), lin.bias.grad, 0, "live piece's bias gradient")
end)

test("Maxout takes the max over its k pieces", function()
  local m = nn.Maxout(2, 2, 3)
  set(m.linear.weight, {{1, 0}, {0, 1}, {-1, 0}, {2, 0}, {0, 0}, {0, -3}})
  set(m.linear.bias, {0, 0, 0, 0, 1, 0})
  local y = m(actrun.tensor{{1, 2}, {-1, -1}})
  tensor_near(y, {{2, 2}, {1, 3}}, 0)
  eq(m(actrun.randn(3, 4, 2)):shape(), {3, 4, 2})
end)

---------------------------------------------------------------------------------------
-- Dropout, AlphaDropout, RReLU

test("Dropout: zero fraction p, kept values scaled by 1/(1-p), eval identity", function()
  actrun.manual_seed(5)
  local d = nn.Dropout(0.3)
  local x = actrun.randn(200, 500) + 3
  local y = d(x)
  local zeros = y:eq(0):mean():item()
  near(zeros, 0.3, 0.01, "dropped fraction")
  local kept = y:ne(0)
  tensor_near(y, x * kept / 0.7, 1e-5, "kept elements scaled")
  near(y:mean():item(), x:mean():item(), 0.01, "mean preserved")
  d:eval()
  truthy(rawequal(d(x), x), "eval: the input itself")
  d:train()
  local x2 = actrun.randn(10, 10)
  x2.requires_grad = true
  local y2 = d(x2)
  y2:sum():backward()
  tensor_near(x2.grad, y2:detach():ne(0) / 0.7, 1e-6, "gradient is the scaled mask")
  local y3 = d(x2:detach())
  local y4 = d(x2:detach())
  truthy(y3:ne(y4):sum():item() > 0, "a new mask each call")
  truthy(rawequal(nn.Dropout(0)(x), x), "p = 0: identity")
  eq(nn.Dropout(1)(x):abs():sum():item(), 0, "p = 1: zeros")
  eq(nn.Dropout().p, 0.5, "PyTorch's default p")
end)

test("AlphaDropout keeps mean 0 and variance 1 of SELU-normalised input", function()
  actrun.manual_seed(7)
  for _, p in ipairs{0.05, 0.1, 0.2} do
    local d = nn.AlphaDropout(p)
    local x = actrun.randn(400, 500) -- mean 0, var 1: SELU's fixed point
    local y = d(x)
    near(y:mean():item(), 0, 0.01, "mean, p=" .. p)
    near(y:var():item(), 1, 0.02, "variance, p=" .. p)
    -- dropped units all take one value, a*alpha'*(p-1)
    local alpha = 1.7580993408473766
    local a = 1 / math.sqrt((alpha * alpha * p + 1) * (1 - p))
    local low = a * alpha * (p - 1)
    near((y - low):abs():lt(1e-5):mean():item(), p, 0.01, "fraction at the saturation value")
  end
  local d = nn.AlphaDropout(0.2):eval()
  local x = actrun.randn(5)
  truthy(rawequal(d(x), x), "eval: identity")
end)

test("rrelu: random slopes in [lower, upper] in train mode, the mean slope in eval", function()
  actrun.manual_seed(13)
  local m = nn.Activation("rrelu")
  local x = actrun.randn(20000)
  x.requires_grad = true
  local y = m(x)
  local neg = x:detach():le(0)
  local slope = (y:detach() / x:detach()) * neg + (1 - neg) -- 1 on the positive side
  local s_neg = slope * neg + (1 - neg) * 0.2 -- placeholder inside the range for min/max
  T.truthy(s_neg:min():item() >= 1 / 8 - 1e-6 and s_neg:max():item() <= 1 / 3 + 1e-6,
    "negative-side slopes within [1/8, 1/3]")
  near((slope * neg):sum():item() / neg:sum():item(), (1 / 8 + 1 / 3) / 2, 0.01, "mean slope")
  -- the negative side's slopes are U(1/8, 1/3): variance (5/24)^2 / 12, not 0
  local nn_ = neg:sum():item()
  local m1 = (slope * neg):sum():item() / nn_
  local m2 = (slope:square() * neg):sum():item() / nn_
  near(m2 - m1 * m1, (5 / 24) ^ 2 / 12, 3e-4, "variance of the sampled slopes")
  y:sum():backward()
  tensor_near(x.grad, slope, 1e-6, "gradient is the sampled slope")
  m:eval()
  tensor_near(m(x:detach()), act.rrelu(x:detach()), 0, "eval: the registry's mean-slope form")
  local m2 = nn.Activation("rrelu", {lower = 0.2, upper = 0.2})
  tensor_near(m2(actrun.tensor{-1, 2}), {-0.2, 2}, 1e-7, "fixed slope")
end)

---------------------------------------------------------------------------------------
-- PReLU, norms, Residual, Flatten, LSTM options

test("PReLU: one shared slope by default (0.25) or one per channel", function()
  local p = nn.PReLU()
  eq(p.weight:shape(), {1})
  near(p.weight:item(), 0.25, 0)
  tensor_near(p(actrun.tensor{{-4, 2}}), {{-1, 2}}, 0)
  local pc = nn.PReLU(2, 0.5)
  tensor_near(pc.weight, {0.5, 0.5}, 0)
  set(pc.weight, {0.5, 2})
  tensor_near(pc(actrun.tensor{{-1, -1}, {3, -2}}), {{-0.5, -2}, {3, -4}}, 0)
  eq(pc(actrun.randn(2, 2, 5)):shape(), {2, 2, 5})
end)

test("BatchNorm in eval uses the running statistics; 3-D input works too", function()
  local m = nn.BatchNorm(2)
  set(m.running_mean, {1, -1})
  set(m.running_var, {4, 0.25})
  m:eval()
  tensor_near(m(actrun.tensor{{3, 0}}), {{2 / math.sqrt(4 + 1e-5), 1 / math.sqrt(0.25 + 1e-5)}},
    1e-6)
  m:train()
  local x = actrun.randn(4, 2, 5) * 3 + 2
  local y = m(x)
  tensor_near(y:mean(1):mean(2), {0, 0}, 1e-5, "normalised per channel")
  local handle = m.running_mean
  m(x)
  truthy(rawequal(m.running_mean, handle), "buffers are updated in place")
end)

test("LayerNorm normalises the last dim of any input", function()
  local m = nn.LayerNorm(6)
  local x = actrun.randn(2, 3, 6) * 4 + 1
  local y = m(x)
  tensor_near(y:mean(3), actrun.zeros(2, 3), 1e-5)
  tensor_near(y:var(3, false, false), actrun.ones(2, 3), 1e-3)
end)

test("Residual: none, pre and post forms; width inferred at the first call", function()
  local block = nn.Linear(3, 3)
  local x = actrun.randn(5, 3)
  tensor_near(nn.Residual(block)(x), x + block(x), 0, "x + block(x)")
  local pre = nn.Residual(block, {norm = "pre"})
  eq(pre.norm, nil, "no norm before the width is known")
  eq(#pre:parameters(), 2)
  local y = pre(x)
  eq(pre.width, 3)
  eq(pre.norm.kind, "BatchNorm")
  eq(#pre:parameters(), 4)
  local ref = nn.BatchNorm(3)
  tensor_near(y, x + block(ref(x)), 1e-6, "x + block(BN(x))")
  local post = nn.Residual(block, {norm = "post", width = 3})
  eq(#post:parameters(), 4, "width given: parameters from the start")
  tensor_near(post(x), nn.BatchNorm(3)(x + block(x)), 1e-6, "BN(x + block(x))")
  local pe = nn.Residual(nn.Linear(3, 3), {norm = "pre"}):eval()
  pe(x)
  eq(pe.norm.training, false, "a norm made lazily follows the mode")
end)

test("Flatten keeps dim 1 and flattens the rest", function()
  local f = nn.Flatten()
  eq(f(actrun.zeros(2, 3, 4, 5)):shape(), {2, 60})
  eq(f(actrun.zeros(2, 3)):shape(), {2, 3})
  local x = actrun.randn(2, 2, 2)
  tensor_near(f(x), x:reshape(2, 4), 0)
end)

test("LSTM: any activation as gate and cell; one step by hand", function()
  actrun.manual_seed(17)
  local m = nn.LSTM(2, 3, {gate = "hard_sigmoid", cell = "softsign"})
  local x = actrun.randn(1, 4, 2)
  local o, h, c = m(x)
  local g = x[1]:matmul(m.weight_ih_l0:t()) + m.bias_ih_l0 + m.bias_hh_l0
  local i, gg, og = act.hard_sigmoid(g:narrow(2, 1, 3)), act.softsign(g:narrow(2, 7, 3)),
    act.hard_sigmoid(g:narrow(2, 10, 3))
  local cc = i * gg
  tensor_near(c[1], cc, 1e-6, "c = i * g (zero state)")
  tensor_near(h[1], og * act.softsign(cc), 1e-6, "h = o * cell(c)")
  tensor_near(o[1], h[1], 0, "output's last step is h")
  local bound = 1 / math.sqrt(3)
  T.truthy(m.weight_hh_l0:abs():max():item() <= bound, "init within 1/sqrt(hidden)")
  eq(m(actrun.randn(0, 4, 2)):shape(), {0, 4, 3}, "empty sequence")
end)

---------------------------------------------------------------------------------------
-- gradient checks (central differences against autograd)

local function gradcheck_module(name, m, x, extra_inputs, opts)
  x.requires_grad = true
  local r
  local inputs = {x}
  for _, p in ipairs(m:parameters()) do inputs[#inputs + 1] = p end
  for _, p in ipairs(extra_inputs or {}) do inputs[#inputs + 1] = p end
  local function f(xx)
    if m.reseed then actrun.manual_seed(m.reseed) end
    local y = m(xx)
    r = r or actrun.randn(y:shape())
    return (y * r):sum()
  end
  local ok, err = lab.gradcheck(f, inputs, opts or {eps = 1e-2, tol = 1e-2})
  truthy(ok, name .. ": gradcheck max error " .. tostring(err))
end

test("gradcheck: Linear, Maxout, PReLU, activations", function()
  actrun.manual_seed(21)
  gradcheck_module("Linear", nn.Linear(3, 2), actrun.randn(4, 3))
  gradcheck_module("Linear 3-D", nn.Linear(3, 2), actrun.randn(2, 2, 3))
  gradcheck_module("Maxout", nn.Maxout(3, 2, 3), actrun.randn(4, 3))
  gradcheck_module("PReLU", nn.PReLU(3, 0.1), actrun.randn(2, 3, 2))
  gradcheck_module("tanh", nn.Tanh(), actrun.randn(3, 3))
  gradcheck_module("elu", nn.ELU(0.7), actrun.randn(3, 3))
  local rr = nn.Activation("rrelu")
  rr.reseed = 4
  gradcheck_module("rrelu (train)", rr, actrun.randn(3, 3))
end)

test("gradcheck: BatchNorm (train, 2-D and 4-D), LayerNorm", function()
  actrun.manual_seed(22)
  local bn = nn.BatchNorm(3)
  set(bn.weight, {0.5, 1.5, -1})
  gradcheck_module("BatchNorm 2-D", bn, actrun.randn(5, 3))
  gradcheck_module("BatchNorm 4-D", nn.BatchNorm(2), actrun.randn(2, 2, 2, 2))
  gradcheck_module("BatchNorm eval", nn.BatchNorm(3):eval(), actrun.randn(4, 3))
  local ln = nn.LayerNorm(4)
  set(ln.weight, {1, 2, 0.5, -1})
  gradcheck_module("LayerNorm", ln, actrun.randn(3, 4))
end)

test("gradcheck: Dropout and AlphaDropout (fixed mask), Residual, LSTM, Sequential", function()
  actrun.manual_seed(23)
  local d = nn.Dropout(0.4)
  d.reseed = 1
  gradcheck_module("Dropout", d, actrun.randn(4, 4))
  local ad = nn.AlphaDropout(0.3)
  ad.reseed = 2
  gradcheck_module("AlphaDropout", ad, actrun.randn(4, 4))
  gradcheck_module("Residual pre", nn.Residual(nn.Sequential(nn.Linear(3, 3), nn.Tanh()),
    {norm = "pre", width = 3}), actrun.randn(4, 3))
  gradcheck_module("Residual post", nn.Residual(nn.Linear(3, 3), {norm = "post", width = 3}),
    actrun.randn(4, 3))
  local h0 = actrun.randn(1, 2, 3)
  h0.requires_grad = true
  gradcheck_module("LSTM", nn.LSTM(2, 3), actrun.randn(3, 2, 2))
  gradcheck_module("mlp", nn.mlp{3, 4, 4, 2, activation = "gelu", norm = "layer"},
    actrun.randn(3, 3))
  gradcheck_module("Flatten", nn.Sequential(nn.Flatten(), nn.Linear(4, 2)),
    actrun.randn(2, 2, 2))
end)

---------------------------------------------------------------------------------------
-- nn.mlp

test("nn.mlp builds the layers in order", function()
  eq(kinds(nn.mlp{4, 8, 8, 3}), {"Linear", "Activation", "Linear", "Activation", "Linear"})
  local m = nn.mlp{4, 8, 3, activation = "tanh", norm = "batch", dropout = 0.1}
  eq(kinds(m), {"Linear", "BatchNorm", "Activation", "Dropout", "Linear"})
  eq(m[3].act_name, "tanh")
  eq(kinds(nn.mlp{4, 8, 3, norm = "layer"}), {"Linear", "LayerNorm", "Activation", "Linear"})
  eq(kinds(nn.mlp{4, 3}), {"Linear"})
  local mo = nn.mlp{4, 6, 6, 3, activation = "maxout"}
  eq(kinds(mo), {"Maxout", "Maxout", "Linear"})
  eq(mo[1].k, 2)
  local r = nn.mlp{4, 8, 8, 8, 3, residual = true, norm = "batch"}
  eq(kinds(r), {"Linear", "BatchNorm", "Activation", "Residual", "Residual", "Linear"})
  eq(kinds(r[4].block), {"Linear", "BatchNorm", "Activation"})
  local p = nn.mlp{4, 8, 3, activation = "leaky_relu", params = {negative_slope = 0.2}}
  eq(p[2].params.negative_slope, 0.2)
  eq(nn.mlp{2, 3, 1}[1].in_features, 2)
end)

test("nn.mlp with selu: lecun_normal init, zero bias and AlphaDropout", function()
  actrun.manual_seed(31)
  local m = nn.mlp{500, 400, 10, activation = "selu", dropout = 0.1}
  eq(kinds(m), {"Linear", "Activation", "AlphaDropout", "Linear"})
  near(m[1].weight:std():item(), 1 / math.sqrt(500), 0.03)
  eq(m[1].bias:abs():sum():item(), 0)
  local k = nn.mlp{500, 400, 10, activation = "selu", init = "kaiming_normal"}
  near(k[1].weight:std():item(), math.sqrt(2 / 500), 0.03, "init= wins over the selu default")
end)

test("nn.mlp variants train: loss falls over a few Adam steps", function()
  local X, y = actrun.data.blobs{n = 96, classes = 3, seed = 1}
  for _, spec in ipairs{
      {2, 16, 16, 3}, {2, 16, 16, 3, activation = "tanh", norm = "batch"},
      {2, 16, 16, 3, activation = "selu", dropout = 0.05},
      {2, 16, 16, 3, activation = "maxout", norm = "layer"},
      {2, 16, 16, 16, 3, activation = "gelu", residual = true, norm = "batch"},
      {2, 16, 3, activation = "prelu"}} do
    actrun.manual_seed(41)
    local m = nn.mlp(spec)
    local opt = actrun.optim.Adam(m:parameters(), {lr = 0.02})
    local first, last
    for step = 1, 30 do
      opt:zero_grad()
      local loss = nn.cross_entropy(m(X), y)
      loss:backward()
      opt:step()
      if step == 1 then first = loss:item() end
      last = loss:item()
    end
    truthy(last < 0.8 * first, (spec.activation or "relu") .. ": loss " .. first .. " -> " .. last)
  end
end)

---------------------------------------------------------------------------------------
-- speed sanity (not asserted): 784-256-256-10 relu MLP, batch 128, Adam

test("MLP training step: no Lua garbage per element; steps/second reported", function()
  actrun.manual_seed(51)
  local m = nn.mlp{784, 256, 256, 10}
  local opt = actrun.optim.Adam(m:parameters(), {lr = 1e-3})
  local X = actrun.rand(128, 784)
  local labels = {}
  for i = 1, 128 do labels[i] = (i % 10) + 1 end
  local yl = actrun.tensor(labels)
  local function step()
    opt:zero_grad()
    local loss = nn.cross_entropy(m(X), yl)
    loss:backward()
    opt:step()
  end
  for _ = 1, 3 do step() end
  collectgarbage()
  collectgarbage("stop")
  local before = collectgarbage("count")
  local n = 20
  local t0 = actrun.clock()
  for _ = 1, n do step() end
  local secs = actrun.clock() - t0
  local kb = (collectgarbage("count") - before) / n
  collectgarbage("restart")
  print(string.format("# 784-256-256-10 relu, batch 128, Adam: %.1f steps/s, %.1f KB of Lua " ..
    "heap per step", n / secs, kb))
  -- the Lua heap a step makes is the tensor userdata and a few tables, not per element
  -- (a per-element Lua loop over 128 x 784 inputs would make megabytes)
  truthy(kb < 64, "Lua heap per step " .. kb .. " KB")
end)

T.test("mlp with prelu: learnable PReLU layers, one slope per unit", function()
  local m = nn.mlp{4, 8, 6, 2, activation = "prelu", params = {init = 0.1}}
  T.eq(m[2].kind, "PReLU")
  T.eq(m[2].weight:shape(), {8})
  T.eq(m[4].weight:shape(), {6})
  T.near(m[2].weight:max():item(), 0.1, 1e-7)
  T.eq(m[2].is_activation, true)
  T.eq(m:num_parameters(), 4 * 8 + 8 + 8 + 8 * 6 + 6 + 6 + 6 * 2 + 2)
end)

T.done()
