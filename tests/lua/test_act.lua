-- actrun.act: the functions generated from the registry, apply/list/info/scalar,
-- derivative/backward, softmax, prelu with a tensor slope, and bad inputs.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local T = require "testlib"
local actrun = T.actrun
local act = actrun.act
local test, eq, near, tensor_near, expect_error = T.test, T.eq, T.near, T.tensor_near, T.expect_error

local REQUIRED = [[identity step sigmoid hard_sigmoid tanh hardtanh softsign relu relu6
  leaky_relu prelu rrelu elu selu celu gelu gelu_tanh silu swish mish softplus logsigmoid
  hardswish tanhshrink softshrink hardshrink sin cos gaussian]]

test("list is sorted and holds every required name, each a function", function()
  local l = act.list()
  local set = {}
  for i, n in ipairs(l) do
    set[n] = true
    if i > 1 then T.truthy(l[i - 1] < n, "sorted") end
    eq(type(act[n]), "function", n)
  end
  for n in REQUIRED:gmatch("%S+") do T.truthy(set[n], n .. " listed") end
  T.truthy(not set.softmax, "softmax is vector-valued: not in the elementwise list")
end)

test("info gives name, family, formula, params in positional order, learnable", function()
  local i = act.info("hardtanh")
  eq(i.name, "hardtanh")
  eq(i.params, {{name = "min_val", default = -1}, {name = "max_val", default = 1}})
  eq(i.learnable, false)
  T.truthy(#i.formula > 0 and #i.family > 0)
  eq(act.info("prelu").learnable, true)
  eq(act.info("prelu").params[1].name, "init")
  near(act.info("rrelu").params[1].default, 1 / 8, 0)
  eq(act.info("softplus").params, {{name = "beta", default = 1}, {name = "threshold", default = 20}})
  eq(#act.info("relu").params, 0)
end)

test("act.NAME with positional params equals act.apply with a params table", function()
  local x = actrun.linspace(-5, 5, 101)
  tensor_near(act.elu(x, 0.5), act.apply("elu", x, {alpha = 0.5}):totable(), 0)
  tensor_near(act.hardtanh(x, -2, 3), act.apply("hardtanh", x, {min_val = -2, max_val = 3}):totable(), 0)
  tensor_near(act.softplus(x, 2), act.apply("softplus", x, {beta = 2}):totable(), 0)
  tensor_near(act.relu(x), act.apply("relu", x):totable(), 0)
end)

test("values and derivatives agree with act.scalar for every entry", function()
  local x = actrun.linspace(-8, 8, 161)
  local xs = x:totable()
  for _, n in ipairs(act.list()) do
    local y, d = act.apply(n, x):totable(), act.derivative(n, x):totable()
    for i = 1, #xs do
      local f, df = act.scalar(n, xs[i])
      near(y[i], f, 1e-6 * math.max(1, math.abs(f)), n .. " f")
      near(d[i], df, 1e-6 * math.max(1, math.abs(df)), n .. " f'")
    end
  end
end)

test("scalar: known values in double precision", function()
  local f, df = act.scalar("sigmoid", 0)
  eq({f, df}, {0.5, 0.25})
  f, df = act.scalar("relu", 0)
  eq({f, df}, {0.0, 0.0})
  f, df = act.scalar("leaky_relu", -2, {negative_slope = 0.1})
  eq({f, df}, {-0.2, 0.1})
  f = act.scalar("gelu", 1)
  near(f, 0.8413447460685429, 1e-15)
  f, df = act.scalar("selu", 1)
  near(f, 1.0507009873554805, 1e-15)
end)

test("backward multiplies dy", function()
  local x, dy = actrun.tensor{-1, 0.5, 2}, actrun.tensor{2, 3, -1}
  tensor_near(act.backward("relu", x, dy), {0, 3, -1}, 0)
  tensor_near(act.backward("leaky_relu", x, dy, {negative_slope = 0.5}), {1, 3, -1}, 0)
end)

-- With x requiring grad, entries with a fused kernel keep f'(x) from the forward pass and
-- the backward is dy * f'(x): the same bits as act.backward (and y as act.apply).
test("autograd through every activation: y and x.grad as apply and backward, bit for bit", function()
  local inf = math.huge
  local vals = {-1e30, -inf, inf, 1e30, 0, -0.0, 88, -88, -15, 15}
  for i = 1, 300 do vals[#vals + 1] = (i - 150) * 0.137 end
  local dyv = {}
  for i = 1, #vals do dyv[i] = ((i * 7) % 11 - 5) * 0.31 end
  local dy = actrun.tensor(dyv)
  local function check(name, params)
    local x = actrun.tensor(vals, {requires_grad = true})
    local y = act.apply(name, x, params)
    y:backward(dy)
    local xp = actrun.tensor(vals)
    eq(y:totable(), act.apply(name, xp, params):totable(), name .. " y")
    eq(x.grad:totable(), act.backward(name, xp, dy, params):totable(), name .. " x.grad")
  end
  for _, name in ipairs(act.list()) do
    if act.info(name).learnable == false and name ~= "rrelu" then check(name) end
  end
  check("softplus", {beta = 1.5, threshold = 20})
  check("softplus", {beta = 2, threshold = 10})
  check("elu", {alpha = 0.5})
end)

test("NaN propagates, infinities give limits", function()
  local inf = math.huge
  local y = act.sigmoid(actrun.tensor{0 / 0, inf, -inf}):totable()
  T.truthy(y[1] ~= y[1])
  eq({y[2], y[3]}, {1.0, 0.0})
  local r = act.relu(actrun.tensor{0 / 0}):item()
  T.truthy(r ~= r, "relu(NaN) is NaN")
  eq(act.silu(actrun.tensor{inf, -inf}):totable()[1], inf)
end)

test("prelu takes a number or a per-channel tensor", function()
  local x = actrun.tensor{{-1, -2, 3}, {4, -5, -6}}
  tensor_near(act.prelu(x, 0.5), {{-0.5, -1, 3}, {4, -2.5, -3}}, 0)
  tensor_near(act.prelu(x, actrun.tensor{0.1, 1, 2}), {{-0.1, -2, 3}, {4, -5, -12}}, 1e-7)
  tensor_near(act.prelu(x), {{-0.25, -0.5, 3}, {4, -1.25, -1.5}}, 0)
  expect_error(function() act.prelu(x, actrun.tensor{1, 2}) end, "actrun.act.prelu", "slope")
end)

test("rrelu in eval mode uses the mean slope", function()
  tensor_near(act.rrelu(actrun.tensor{-1, 1}), {-(1 / 8 + 1 / 3) / 2, 1}, 1e-7)
end)

test("strided input", function()
  local x = actrun.randn(4, 5)
  tensor_near(act.tanh(x:t()), act.tanh(x:t():contiguous()):totable(), 0)
end)

test("softmax and log_softmax along a dim", function()
  local x = actrun.tensor{{1, 2, 3}, {1e4, 0, -1e4}}
  local s = act.softmax(x, 2):totable()
  local z = math.exp(1) + math.exp(2) + math.exp(3)
  near(s[1][3], math.exp(3) / z, 1e-7)
  eq(s[2], {1.0, 0.0, 0.0})
  local ls = act.log_softmax(x):totable()
  near(ls[1][1], 1 - 3 - math.log(1 + math.exp(-1) + math.exp(-2)), 1e-6)
  eq(ls[2][3], -2e4)
  tensor_near(act.softmax(x, 1):sum(1), {1, 1, 1}, 1e-6)
  expect_error(function() act.softmax(x, 3) end, "actrun.act.softmax", "dim")
end)

test("bad inputs name the function and the argument", function()
  local x = actrun.tensor{1, 2}
  expect_error(function() act.apply("foo", x) end,
               "actrun.act.apply: unknown activation 'foo' (see act.list())")
  expect_error(function() act.apply(42, x) end, "actrun.act.apply", "name")
  expect_error(function() act.info("foo") end, "actrun.act.info", "unknown activation 'foo'")
  expect_error(function() act.scalar("nope", 1) end, "actrun.act.scalar", "unknown activation")
  expect_error(function() act.relu({1, 2}) end, "actrun.act.relu", "argument #1 (x)", "tensor")
  expect_error(function() act.relu(3) end, "actrun.act.relu", "tensor")
  expect_error(function() act.relu(x, 1) end, "actrun.act.relu", "too many arguments")
  expect_error(function() act.elu(x, "big") end, "actrun.act.elu", "alpha", "number")
  expect_error(function() act.elu(x, 1, 2) end, "actrun.act.elu", "too many arguments", "alpha")
  expect_error(function() act.apply("elu", x, {beta = 1}) end, "actrun.act.apply",
               "unknown parameter 'beta'", "alpha")
  expect_error(function() act.apply("elu", x, {alpha = "x"}) end, "actrun.act.apply", "alpha")
  expect_error(function() act.apply("elu", x, 3) end, "actrun.act.apply", "params")
  expect_error(function() act.hardtanh(x, 1, -1) end, "actrun.act.hardtanh", "min_val")
  expect_error(function() act.softplus(x, 0) end, "actrun.act.softplus", "beta")
  expect_error(function() act.rrelu(x, 0.5, 0.1) end, "actrun.act.rrelu", "lower")
  expect_error(function() act.elu(x, 0 / 0) end, "actrun.act.elu", "alpha", "finite")
  expect_error(function() act.scalar("softplus", 1, {beta = 0}) end, "actrun.act.scalar", "beta")
  expect_error(function() act.scalar("relu", "1") end, "actrun.act.scalar", "x")
  expect_error(function() act.backward("relu", x, actrun.tensor{1}) end, "actrun.act.backward", "shape")
  expect_error(function() act.backward("relu", x) end, "actrun.act.backward", "dy")
  expect_error(function() act.derivative("relu", "x") end, "actrun.act.derivative", "x")
  expect_error(function() act.softmax("x") end, "actrun.act.softmax", "tensor")
  expect_error(function() act.log_softmax(x, 1, 2) end, "actrun.act.log_softmax", "too many")
end)

test('require "actrun.act" returns actrun.act', function()
  T.truthy(rawequal(require "actrun.act", actrun.act), "same table")
end)

-- Above 2^22 elements the memory-bound kernels write through a buffer with non-temporal
-- stores (src/act/act.c): the same bits as the kernels on small pieces, at the start,
-- across piece boundaries and in the tail, forward and backward, at 1 and 2 threads.
test("large outputs (streamed stores) equal the same kernels on small pieces", function()
  local n = (1 << 22) + 1000 + 37
  actrun.manual_seed(7)
  local x = actrun.randn(n) * 3
  local dy = actrun.randn(n)
  local starts = {1, 1020, 1024 * 97 + 5, n - 1036}
  for _, threads in ipairs{1, 2} do
    actrun.set_num_threads(threads)
    for _, name in ipairs(act.list()) do
      if name ~= "rrelu" then -- (its training mode samples)
        local y = act.apply(name, x)
        local dx = act.backward(name, x, dy)
        for _, s in ipairs(starts) do
          local xs, ds = x:narrow(1, s, 1036), dy:narrow(1, s, 1036)
          eq(y:narrow(1, s, 1036):totable(), act.apply(name, xs):totable(),
             name .. " forward at " .. s .. ", threads " .. threads)
          eq(dx:narrow(1, s, 1036):totable(), act.backward(name, xs, ds):totable(),
             name .. " backward at " .. s .. ", threads " .. threads)
        end
      end
    end
  end
  actrun.set_num_threads(1)
end)

T.done()
