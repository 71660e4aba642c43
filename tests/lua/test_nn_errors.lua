-- actrun.nn modules: every constructor and forward error names the function (or the
-- module with its shape) and the argument, and nothing crashes.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local T = require "testlib"
local actrun = T.actrun
local nn = actrun.nn
local test, expect_error, eq = T.test, T.expect_error, T.eq

test("Linear: constructor arguments", function()
  expect_error(function() nn.Linear(-3, 2) end,
    "actrun.nn.Linear: argument #1 (in) expected a positive integer, got -3")
  expect_error(function() nn.Linear(3, 0) end, "actrun.nn.Linear: argument #2 (out)",
    "positive integer, got 0")
  expect_error(function() nn.Linear(2.5, 2) end, "argument #1 (in)", "got 2.5")
  expect_error(function() nn.Linear("3", 2) end, "argument #1 (in)", "got string")
  expect_error(function() nn.Linear() end, "argument #1 (in)", "got nil")
  expect_error(function() nn.Linear(3, 2, 5) end, "actrun.nn.Linear: argument #3 (options)",
    "expected a table, got number")
  expect_error(function() nn.Linear(3, 2, {biass = false}) end, "unknown option 'biass'",
    "bias, init")
  expect_error(function() nn.Linear(3, 2, {bias = 0}) end, "option bias expected a boolean")
  expect_error(function() nn.Linear(3, 2, {init = "glorot"}) end, "option init",
    "'glorot'", "xavier_uniform")
  expect_error(function() nn.Linear(3, 2, {init = "gain"}) end, "option init")
  expect_error(function() nn.Linear(3, 2, {init = "constant"}) end, "option init")
end)

test("constructor errors point at the caller's line", function()
  local msg = expect_error(function() nn.Linear(-1, 2) end, "actrun.nn.Linear")
  T.truthy(msg:find("test_nn_errors.lua:%d+:"), "position of the call, got " .. msg)
  msg = expect_error(function() nn.BatchNorm(3, {eps = -1}) end, "actrun.nn.BatchNorm")
  T.truthy(msg:find("test_nn_errors.lua:%d+:"), "position of the call, got " .. msg)
  msg = expect_error(function() nn.Linear(3, 2)(actrun.zeros(1, 4)) end, "actrun.nn.Linear")
  T.truthy(msg:find("test_nn_errors.lua:%d+:"), "position of the call, got " .. msg)
end)

test("Linear: input shape, rank and type", function()
  local m = nn.Linear(784, 256)
  expect_error(function() m(actrun.zeros(128, 100)) end,
    "actrun.nn.Linear(784 -> 256): input has 100 features, expected 784",
    "input shape {128,100}", "weight shape {256,784}")
  expect_error(function() m(actrun.tensor(1):reshape()) end, "Linear(784 -> 256)", "0 dims")
  expect_error(function() m(nil) end, "actrun.nn.Linear(784 -> 256): input expected a tensor, got nil")
  expect_error(function() m({1, 2}) end, "input expected a tensor, got table")
  expect_error(function() m:forward("x") end, "input expected a tensor, got string")
  expect_error(function() nn.Sequential(nn.Linear(3, 4), nn.Linear(5, 2))(actrun.zeros(2, 3)) end,
    "actrun.nn.Linear(5 -> 2): input has 4 features, expected 5")
end)

test("Sequential: arguments must be modules", function()
  expect_error(function() nn.Sequential(nn.ReLU(), 3) end,
    "actrun.nn.Sequential: argument #2 expected a module, got number")
  expect_error(function() nn.Sequential{nn.ReLU(), "relu"} end,
    "actrun.nn.Sequential: argument #1 entry 2 expected a module, got string")
  expect_error(function() nn.Sequential(nn.ReLU()):add(actrun.zeros(1)) end,
    "actrun.nn.Sequential:add: argument #1 (m) expected a module")
  eq(nn.Sequential{nn.ReLU(), nn.Tanh()}:size(), 2)
end)

test("Activation and shortcuts: names and parameters", function()
  expect_error(function() nn.Activation("relux") end,
    "actrun.nn.Activation: unknown activation 'relux'")
  expect_error(function() nn.Activation(3) end,
    "actrun.nn.Activation: argument #1 (name) expected an activation name, got number")
  expect_error(function() nn.Activation("elu", {beta = 1}) end,
    "actrun.nn.Activation: unknown parameter 'beta' for elu")
  expect_error(function() nn.Activation("elu", {alpha = "x"}) end, "actrun.nn.Activation",
    "alpha")
  expect_error(function() nn.Activation("elu", 1) end, "argument #2 (params) expected a table")
  expect_error(function() nn.ELU("a") end, "actrun.nn.ELU: argument #1 (alpha) expected a number")
  expect_error(function() nn.LeakyReLU({}) end, "actrun.nn.LeakyReLU: argument #1")
  expect_error(function() nn.ReLU()(5) end, "actrun.nn.Activation(relu): input expected a tensor")
end)

test("PReLU: count, init and channels", function()
  expect_error(function() nn.PReLU(0) end, "actrun.nn.PReLU: argument #1 (n) expected a positive integer")
  expect_error(function() nn.PReLU(2, "x") end, "actrun.nn.PReLU: argument #2 (init) expected a number")
  expect_error(function() nn.PReLU(3)(actrun.zeros(2, 4)) end,
    "actrun.nn.PReLU(3): input has 4 channels, expected 3", "{2,4}")
  expect_error(function() nn.PReLU(3)(actrun.zeros(3)) end, "actrun.nn.PReLU(3): input has 1 dims")
end)

test("Maxout: arguments and input", function()
  expect_error(function() nn.Maxout(3, 2, 0) end, "actrun.nn.Maxout: argument #3 (k)")
  expect_error(function() nn.Maxout(3, -2) end, "actrun.nn.Maxout: argument #2 (out)")
  expect_error(function() nn.Maxout(3, 2, 2, {init = "x"}) end, "actrun.nn.Maxout", "option init")
  expect_error(function() nn.Maxout(3, 2)(actrun.zeros(4, 5)) end,
    "actrun.nn.Maxout(3 -> 2, k=2): input has 5 features, expected 3")
end)

test("BatchNorm: arguments, channels, rank, one value per channel", function()
  expect_error(function() nn.BatchNorm(0) end, "actrun.nn.BatchNorm: argument #1 (n)")
  expect_error(function() nn.BatchNorm(3, {eps = 0}) end, "option eps expected a number > 0")
  expect_error(function() nn.BatchNorm(3, {momentum = 2}) end, "option momentum", "[0, 1]")
  expect_error(function() nn.BatchNorm(3, {mom = 0.1}) end, "unknown option 'mom'")
  local m = nn.BatchNorm(3)
  expect_error(function() m(actrun.zeros(4, 5)) end,
    "actrun.nn.BatchNorm(3): input has 5 channels, expected 3", "{4,5}")
  expect_error(function() m(actrun.zeros(3)) end, "actrun.nn.BatchNorm(3): input has 1 dims",
    "2 or 3 or 4")
  expect_error(function() m(actrun.zeros(1, 3)) end, "more than 1 value per channel", "{1,3}")
  m:eval()
  eq(m(actrun.zeros(1, 3)):shape(), {1, 3}, "eval takes a single row")
end)

test("LayerNorm, Dropout, AlphaDropout", function()
  expect_error(function() nn.LayerNorm(-1) end, "actrun.nn.LayerNorm: argument #1 (n)")
  expect_error(function() nn.LayerNorm(4)(actrun.zeros(2, 3)) end,
    "actrun.nn.LayerNorm(4): input has 3 features in its last dim, expected 4")
  expect_error(function() nn.Dropout(1.5) end,
    "actrun.nn.Dropout: argument #1 (p) expected a probability in [0, 1], got 1.5")
  expect_error(function() nn.Dropout("half") end, "actrun.nn.Dropout: argument #1 (p)", "string")
  expect_error(function() nn.AlphaDropout(-0.1) end, "actrun.nn.AlphaDropout: argument #1 (p)")
  expect_error(function() nn.Dropout(0.1)(nil) end, "actrun.nn.Dropout(p=0.1): input expected a tensor")
end)

test("LSTM: arguments, options, input and states", function()
  expect_error(function() nn.LSTM(0, 3) end, "actrun.nn.LSTM: argument #1 (in)")
  expect_error(function() nn.LSTM(2, 3, {gate = "sigmoidd"}) end,
    "actrun.nn.LSTM: option gate: unknown activation 'sigmoidd'")
  expect_error(function() nn.LSTM(2, 3, {cell = 4}) end, "actrun.nn.LSTM: option cell",
    "expected an activation name")
  expect_error(function() nn.LSTM(2, 3, {layers = 2}) end, "unknown option 'layers'")
  local m = nn.LSTM(2, 3)
  expect_error(function() m(actrun.zeros(4, 2)) end, "actrun.nn.LSTM(2 -> 3): input has 2 dims",
    "expected 3")
  expect_error(function() m(actrun.zeros(4, 1, 5)) end,
    "actrun.nn.LSTM(2 -> 3): input has 5 features, expected 2")
  expect_error(function() m(actrun.zeros(4, 2, 2), actrun.zeros(1, 3, 3)) end,
    "h0 has shape {1,3,3}, expected {1,2,3}")
  expect_error(function() m(actrun.zeros(4, 2, 2), nil, 7) end, "c0 expected a tensor")
end)

test("Residual: block, options and a block that changes the shape", function()
  expect_error(function() nn.Residual("block") end,
    "actrun.nn.Residual: argument #1 (block) expected a module, got string")
  expect_error(function() nn.Residual(nn.ReLU(), {norm = "mid"}) end,
    "option norm expected 'pre', 'post' or nil, got 'mid'")
  expect_error(function() nn.Residual(nn.ReLU(), {width = 0}) end, "option width")
  expect_error(function() nn.Residual(nn.Linear(3, 4))(actrun.zeros(2, 3)) end,
    "actrun.nn.Residual(identity): block output has shape {2,4} but the input has shape {2,3}")
end)

test("Module registration and hooks", function()
  local M = nn.Module:extend("M")
  local m = M()
  expect_error(function() m:register_parameter("w", 3) end,
    "actrun.nn.Module:register_parameter: argument #2 (t) expected a tensor, got number")
  expect_error(function() m:register_parameter("a.b", actrun.zeros(1)) end,
    "argument #1 (name) expected a non-empty string without '.'")
  expect_error(function() m:register_parameter("forward", actrun.zeros(1)) end,
    "name 'forward' is already used")
  local x = actrun.zeros(2)
  x.requires_grad = true
  expect_error(function() m:register_parameter("y", x * 2) end, "must be a leaf tensor")
  expect_error(function() m:register_module("c", {}) end,
    "actrun.nn.Module:register_module: argument #2 (m) expected a module")
  expect_error(function() m:register_buffer("b", "x") end,
    "actrun.nn.Module:register_buffer: argument #2 (t) expected a tensor")
  m:register_parameter("w", actrun.zeros(1))
  expect_error(function() m:register_buffer("w", actrun.zeros(1)) end, "name 'w' is already used")
  expect_error(function() m:add_hook(1) end, "actrun.nn.Module:add_hook: argument #1 (fn)")
end)

test("nn.mlp: sizes and options", function()
  expect_error(function() nn.mlp(3) end, "actrun.nn.mlp: argument #1 (spec) expected a table")
  expect_error(function() nn.mlp{3} end, "actrun.nn.mlp: expected at least 2 sizes")
  expect_error(function() nn.mlp{3, 0, 2} end, "actrun.nn.mlp: size 2 expected a positive integer, got 0")
  expect_error(function() nn.mlp{3, 2, activation = "relux"} end,
    "actrun.nn.mlp: unknown activation 'relux'")
  expect_error(function() nn.mlp{3, 2, activation = 1} end, "option activation expected a name")
  expect_error(function() nn.mlp{3, 2, norm = "group"} end, "option norm", "'group'")
  expect_error(function() nn.mlp{3, 2, dropout = 2} end, "option dropout", "[0, 1]")
  expect_error(function() nn.mlp{3, 2, init = "he"} end, "actrun.nn.mlp: option init", "'he'")
  expect_error(function() nn.mlp{3, 2, residual = "yes"} end, "option residual expected a boolean")
  expect_error(function() nn.mlp{3, 2, activaton = "relu"} end,
    "actrun.nn.mlp: argument #1 (spec) has unknown option 'activaton'",
    "(options: activation, dropout, init, norm, params, residual)")
  expect_error(function() nn.mlp{3, 2, activation = "elu", params = {beta = 1}} end,
    "actrun.nn.mlp: unknown parameter 'beta' for elu")
end)

T.test("register_* errors point at the caller's line", function()
  local m = actrun.nn.Linear(2, 3)
  local this = debug.getinfo(1, "S").short_src
  for _, f in ipairs{
    function() m:register_buffer("weight", actrun.zeros(1)) end,
    function() m:register_module("c", 5) end,
    function() m:register_parameter("x.y", actrun.zeros(1)) end,
    function() m:register_parameter("w2", "no") end,
  } do
    local msg = T.expect_error(f, "actrun.nn.Module:register_")
    T.truthy(msg:find(this, 1, true) == 1, "position of: " .. msg)
  end
end)

T.done()
