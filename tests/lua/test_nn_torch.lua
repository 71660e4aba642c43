-- actrun.nn modules against PyTorch 1.13 (tests/fixtures/nn_torch.lua, made by
-- tests/fixtures/gen_nn.py): Linear, BatchNorm (train, running statistics after two
-- steps, eval; 2-D and 4-D), LayerNorm, LSTM and PReLU, forward values and the gradients
-- of inputs and parameters, with the fixture's weights copied into the modules.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local T = require "testlib"
local actrun = T.actrun
local nn = actrun.nn
local test, tensor_near = T.test, T.tensor_near

local dir = (arg[0]:match("^(.*)/") or ".") .. "/../fixtures/"
local F = dofile(dir .. "nn_torch.lua")

local TOL = 2e-5

local function set(p, values)
  actrun.no_grad(function() p:copy(actrun.tensor(values)) end)
end

local function input(values)
  return actrun.tensor(values, {requires_grad = true})
end

-- sum(y * R): the generator's loss
local function weighted(y, r)
  return (y * actrun.tensor(r)):sum()
end

test("Linear: output and gradients of x, weight and bias match PyTorch", function()
  local c = F.linear
  local m = nn.Linear(4, 3)
  set(m.weight, c.weight)
  set(m.bias, c.bias)
  local x = input(c.x)
  local y = m(x)
  tensor_near(y, c.y, TOL, "y")
  weighted(y, c.r):backward()
  tensor_near(x.grad, c.grad_x, TOL, "grad x")
  tensor_near(m.weight.grad, c.grad_weight, TOL, "grad weight")
  tensor_near(m.bias.grad, c.grad_bias, TOL, "grad bias")
end)

test("Linear on a 3-D input keeps the leading dims (as PyTorch)", function()
  local m = nn.Linear(4, 3)
  set(m.weight, F.linear.weight)
  set(m.bias, F.linear.bias)
  local c = F.linear3d
  local x = input(c.x)
  local y = m(x)
  tensor_near(y, c.y, TOL, "y")
  weighted(y, c.r):backward()
  tensor_near(x.grad, c.grad_x, TOL, "grad x")
  tensor_near(m.weight.grad, c.grad_weight, TOL, "grad weight")
end)

local function batchnorm_case(c, n, opts)
  local m = nn.BatchNorm(n, opts)
  set(m.weight, c.weight)
  set(m.bias, c.bias)
  T.truthy(m.training, "a new module trains")
  local x1 = input(c.x1)
  local y1 = m(x1)
  tensor_near(y1, c.y1, TOL, "train output")
  weighted(y1, c.r):backward()
  tensor_near(x1.grad, c.grad_x1, 1e-4, "grad x (train)")
  tensor_near(m.running_mean, c.running_mean1, TOL, "running mean, step 1")
  tensor_near(m.running_var, c.running_var1, TOL, "running var (unbiased), step 1")
  m(actrun.tensor(c.x2))
  tensor_near(m.running_mean, c.running_mean2, TOL, "running mean, step 2")
  tensor_near(m.running_var, c.running_var2, TOL, "running var, step 2")
  m:eval()
  local rm2 = m.running_mean:clone()
  local x3 = input(c.x3)
  local y3 = m(x3)
  tensor_near(y3, c.y3, TOL, "eval output")
  weighted(y3, c.r):backward()
  tensor_near(x3.grad, c.grad_x3, TOL, "grad x (eval)")
  tensor_near(m.weight.grad, c.grad_weight, 1e-4, "grad weight (train + eval)")
  tensor_near(m.bias.grad, c.grad_bias, TOL, "grad bias (train + eval)")
  -- eval leaves the running statistics alone
  tensor_near(m.running_mean, rm2, 0, "running mean unchanged in eval")
end

test("BatchNorm {N,C}: train, running stats after two steps, eval, gradients", function()
  batchnorm_case(F.batchnorm, 3)
end)

test("BatchNorm with eps and momentum options", function()
  batchnorm_case(F.batchnorm_mom, 3, {eps = 1e-3, momentum = 0.3})
end)

test("BatchNorm {N,C,H,W} (BatchNorm2d): per-channel statistics", function()
  batchnorm_case(F.batchnorm2d, 3)
end)

test("LayerNorm: output and gradients match PyTorch", function()
  local c = F.layernorm
  local m = nn.LayerNorm(4)
  set(m.weight, c.weight)
  set(m.bias, c.bias)
  local x = input(c.x)
  local y = m(x)
  tensor_near(y, c.y, TOL, "y")
  weighted(y, c.r):backward()
  tensor_near(x.grad, c.grad_x, 1e-4, "grad x")
  tensor_near(m.weight.grad, c.grad_weight, TOL, "grad weight")
  tensor_near(m.bias.grad, c.grad_bias, TOL, "grad bias")
end)

local LSTM_NAMES = {"weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"}

local function lstm_case(c, with_state)
  local m = nn.LSTM(3, 4)
  for _, n in ipairs(LSTM_NAMES) do set(m[n], c[n]) end
  local x = input(c.x)
  local h0, c0
  if with_state then h0, c0 = input(c.h0), input(c.c0) end
  local o, h, cc = m(x, h0, c0)
  tensor_near(o, c.out, TOL, "output")
  tensor_near(h, c.h, TOL, "h")
  tensor_near(cc, c.c, TOL, "c")
  local loss = weighted(o, c.r_out) + weighted(h, c.r_h) + weighted(cc, c.r_c)
  loss:backward()
  tensor_near(x.grad, c.grad_x, 1e-4, "grad x")
  for _, n in ipairs(LSTM_NAMES) do
    tensor_near(m[n].grad, c["grad_" .. n], 1e-4, "grad " .. n)
  end
  if with_state then
    tensor_near(h0.grad, c.grad_h0, 1e-4, "grad h0")
    tensor_near(c0.grad, c.grad_c0, 1e-4, "grad c0")
  end
end

test("LSTM: output, h, c and every gradient match PyTorch (zero initial state)", function()
  lstm_case(F.lstm, false)
end)

test("LSTM: given h0 and c0 get their gradients too", function()
  lstm_case(F.lstm_state, true)
end)

test("PReLU with one slope per channel matches PyTorch", function()
  local c = F.prelu
  local m = nn.PReLU(3)
  set(m.weight, c.weight)
  local x = input(c.x)
  local y = m(x)
  tensor_near(y, c.y, TOL, "y")
  weighted(y, c.r):backward()
  tensor_near(x.grad, c.grad_x, TOL, "grad x")
  tensor_near(m.weight.grad, c.grad_weight, TOL, "grad weight")
end)

T.done()
