-- actrun.nn.init: fans, gains, bounds and spreads (PyTorch's formulas), orthogonality,
-- in-place filling of parameters, RNG reproducibility, and errors.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local T = require "testlib"
local actrun = T.actrun
local init = actrun.nn.init
local test, eq, near, tensor_near, expect_error = T.test, T.eq, T.near, T.tensor_near, T.expect_error

local function stats(t)
  local v = t:reshape(-1)
  return v:mean():item(), v:std():item(), v:min():item(), v:max():item()
end

test("gain: PyTorch's table", function()
  for _, n in ipairs({"linear", "identity", "conv1d", "conv2d", "conv3d", "sigmoid"}) do
    eq(init.gain(n), 1, n)
  end
  near(init.gain("tanh"), 5 / 3, 1e-15)
  near(init.gain("relu"), math.sqrt(2), 1e-15)
  near(init.gain("leaky_relu"), math.sqrt(2 / (1 + 0.01 ^ 2)), 1e-15)
  near(init.gain("leaky_relu", 0.2), math.sqrt(2 / 1.04), 1e-15)
  near(init.gain("selu"), 0.75, 0)
  expect_error(function() init.gain("swoosh") end, "actrun.nn.init.gain", "swoosh")
end)

test("returns the same tensor, filled in place, also a leaf that requires grad", function()
  local w = actrun.zeros(3, 4)
  w.requires_grad = true
  T.truthy(rawequal(init.xavier_uniform(w), w))
  T.truthy(w.is_leaf and w.requires_grad)
  tensor_near(init.constant(w, 2.5), actrun.full({3, 4}, 2.5), 0)
  tensor_near(init.zeros(w), actrun.zeros(3, 4), 0)
  tensor_near(init.ones(w), actrun.ones(3, 4), 0)
end)

test("uniform and normal: ranges and moments", function()
  local t = actrun.empty(200, 100)
  local m, s, lo, hi = stats(init.uniform(t, -2, 3))
  T.truthy(lo >= -2 and hi < 3, "range")
  near(m, 0.5, 0.05)
  near(s, 5 / math.sqrt(12), 0.02)
  m, s = stats(init.normal(t, 1, 0.5))
  near(m, 1, 0.01)
  near(s, 0.5, 0.01)
end)

test("xavier and kaiming bounds and stds with fan_in/fan_out of {out, in} and conv weights", function()
  local w = actrun.empty(300, 200) -- fan_in 200, fan_out 300
  local _, s, lo, hi = stats(init.xavier_uniform(w, 2))
  local a = 2 * math.sqrt(6 / 500)
  T.truthy(lo >= -a and hi <= a and hi > 0.95 * a, "xavier_uniform bound")
  near(s, a / math.sqrt(3), 0.02)
  _, s = stats(init.xavier_normal(w))
  near(s, math.sqrt(2 / 500), 0.02)
  _, s, lo, hi = stats(init.kaiming_uniform(w, {nonlinearity = "relu"}))
  local b = math.sqrt(2) * math.sqrt(3 / 200)
  T.truthy(lo >= -b and hi <= b and hi > 0.95 * b, "kaiming_uniform bound")
  -- default: leaky_relu with a = 0 (gain sqrt 2), fan_in
  _, s = stats(init.kaiming_normal(w))
  near(s, math.sqrt(2 / 200), 0.02)
  _, s = stats(init.kaiming_normal(w, {mode = "fan_out", nonlinearity = "leaky_relu", a = 1}))
  near(s, 1 / math.sqrt(300), 0.02)
  _, s = stats(init.lecun_normal(w))
  near(s, 1 / math.sqrt(200), 0.02)
  -- conv weight {out=64, in=16, 3, 3}: fan_in 144, fan_out 576
  local c = actrun.empty(64, 16, 3, 3)
  _, s = stats(init.xavier_normal(c))
  near(s, math.sqrt(2 / (144 + 576)), 0.02)
  _, s = stats(init.kaiming_normal(c, {mode = "fan_out"}))
  near(s, math.sqrt(2 / 576), 0.02)
end)

test("orthogonal: W W^T = I for wide, W^T W = I for tall, scaled by gain", function()
  local wide = init.orthogonal(actrun.empty(4, 9))
  tensor_near(wide:matmul(wide:t()), actrun.eye(4), 1e-5)
  local tall = init.orthogonal(actrun.empty(9, 4), 2)
  tensor_near(tall:t():matmul(tall), actrun.eye(4) * 4, 1e-5)
  local big = init.orthogonal(actrun.empty(100, 64))
  tensor_near(big:t():matmul(big), actrun.eye(64), 1e-5)
  local row = init.orthogonal(actrun.empty(1, 5))
  near(row:norm():item(), 1, 1e-6)
  local conv = init.orthogonal(actrun.empty(3, 2, 2))
  local f = conv:reshape(3, 4)
  tensor_near(f:matmul(f:t()), actrun.eye(3), 1e-5)
end)

test("manual_seed makes every random init reproducible", function()
  for _, name in ipairs({"xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal",
      "lecun_normal", "orthogonal"}) do
    actrun.manual_seed(7)
    local a = init[name](actrun.empty(5, 6)):clone()
    actrun.manual_seed(7)
    local b = init[name](actrun.empty(5, 6))
    tensor_near(a, b, 0, name)
  end
end)

test("errors", function()
  expect_error(function() init.xavier_uniform(actrun.empty(5)) end, "actrun.nn.init.xavier_uniform",
    "2 or more dims", "{5}")
  expect_error(function() init.kaiming_normal(actrun.empty(5)) end, "kaiming_normal", "{5}")
  expect_error(function() init.kaiming_uniform(actrun.empty(2, 2), {mode = "fan_mid"}) end, "mode")
  expect_error(function() init.kaiming_uniform(actrun.empty(2, 2), {nonlinearity = "x"}) end,
    "kaiming_uniform", "'x'")
  expect_error(function() init.kaiming_normal(actrun.empty(2, 2), {nonlinerity = "relu"}) end,
    "actrun.nn.init.kaiming_normal: argument #2 (options) has unknown option 'nonlinerity'",
    "(options: a, mode, nonlinearity)")
  local msg = expect_error(function() init.kaiming_uniform(actrun.empty(2, 2), 1) end,
    "actrun.nn.init.kaiming_uniform: argument #2 (options) expected a table, got number")
  T.truthy(msg:find("test_init.lua:%d+:"), msg)
  expect_error(function() init.normal({}, 0, 1) end, "actrun.nn.init.normal", "tensor")
  expect_error(function() init.constant(actrun.empty(2), "a") end, "constant", "number")
  expect_error(function() init.orthogonal(actrun.empty(3)) end, "orthogonal", "{3}")
end)

T.done()
