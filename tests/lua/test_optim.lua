-- actrun.optim: every optimiser against PyTorch 1.13 on a small fixed network
-- (tests/fixtures/optim_torch.lua, made by tests/fixtures/gen_optim.py), hand-computed
-- updates, clip_grad_norm, schedules, skipping, no autograd recording, and errors.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local T = require "testlib"
local actrun = T.actrun
local nn, optim = actrun.nn, actrun.optim
local test, eq, near, tensor_near, expect_error = T.test, T.eq, T.near, T.tensor_near, T.expect_error

local dir = (arg[0]:match("^(.*)/") or ".") .. "/../fixtures/"
local F = dofile(dir .. "optim_torch.lua")
local NAMES = {"w1", "b1", "w2", "b2"}

local function fresh()
  local p = {}
  for _, k in ipairs(NAMES) do p[k] = actrun.tensor(F.init[k], {requires_grad = true}) end
  return p, {p.w1, p.b1, p.w2, p.b2}
end

-- The generator's network: tanh(x W1^T + b1) W2^T + b2, cross entropy.
local X = actrun.tensor(F.x)
local function loss_of(p)
  local h = (X:matmul(p.w1:t()) + p.b1):tanh()
  return nn.cross_entropy(h:matmul(p.w2:t()) + p.b2, F.labels)
end

test("the fixture network: loss and every gradient match PyTorch", function()
  local p = fresh()
  local l = loss_of(p)
  near(l:item(), F.loss, 1e-5, "loss")
  l:backward()
  for _, k in ipairs(NAMES) do tensor_near(p[k].grad, F.grads[k], 1e-5, k) end
end)

for _, v in ipairs(F.steps) do
  test("3 steps of " .. v.name .. " match PyTorch", function()
    local p, list = fresh()
    local opt = optim[v.ctor](list, v.opts)
    for _ = 1, 3 do
      opt:zero_grad()
      loss_of(p):backward()
      opt:step()
    end
    for _, k in ipairs(NAMES) do
      tensor_near(p[k], v.after[k], 1e-5, k)
      T.truthy(p[k].is_leaf and p[k].requires_grad, k .. " stays a leaf that requires grad")
    end
  end)
end

test("SGD by hand: plain, momentum, nesterov", function()
  local w = actrun.tensor({1, -2}, {requires_grad = true})
  local opt = optim.SGD({w}, {lr = 0.5})
  w.grad = actrun.tensor({0.2, 0.4})
  opt:step()
  tensor_near(w, {0.9, -2.2}, 1e-7)
  local m = actrun.tensor({1}, {requires_grad = true})
  local o2 = optim.SGD({m}, {lr = 0.1, momentum = 0.9, nesterov = true})
  -- w = m^2: g = 2, buf = 2, d = 2 + 0.9*2 -> 1 - 0.38 = 0.62; then g = 1.24,
  -- buf = 3.04, d = 1.24 + 2.736 -> 0.62 - 0.3976 = 0.2224
  for _ = 1, 2 do
    o2:zero_grad()
    local l = (m * m):sum()
    l:backward()
    o2:step()
  end
  tensor_near(m, {0.2224}, 1e-6)
end)

test("Adam's first step moves each weight by about lr (bias correction)", function()
  local w = actrun.tensor({1, -1, 3}, {requires_grad = true})
  local opt = optim.Adam({w}, {lr = 0.01})
  w.grad = actrun.tensor({0.5, -2, 1e-3})
  opt:step()
  tensor_near(w, {0.99, -0.99, 2.99}, 1e-5)
end)

test("AdamW decays decoupled: with a zero gradient only p *= 1 - lr*wd", function()
  local w = actrun.tensor({2, -4}, {requires_grad = true})
  local opt = optim.AdamW({w}, {lr = 0.1, weight_decay = 0.5})
  eq(opt.weight_decay, 0.5)
  eq(optim.AdamW({w}).weight_decay, 0.01, "default weight_decay")
  w.grad = actrun.zeros(2)
  opt:step()
  tensor_near(w, {1.9, -3.8}, 1e-6)
end)

test("Adagrad and RMSprop by hand", function()
  local w = actrun.tensor({1}, {requires_grad = true})
  local opt = optim.Adagrad({w}, {lr = 0.1})
  w.grad = actrun.tensor({3})
  opt:step() -- sum = 9: w -= 0.1 * 3 / 3
  tensor_near(w, {0.9}, 1e-6)
  local r = actrun.tensor({1}, {requires_grad = true})
  local o2 = optim.RMSprop({r}, {lr = 0.01, alpha = 0.5})
  r.grad = actrun.tensor({2})
  o2:step() -- sq = 0.5 * 4 = 2: r -= 0.01 * 2 / sqrt(2)
  tensor_near(r, {1 - 0.01 * math.sqrt(2)}, 1e-6)
end)

test("opt.lr is read and written; step uses the new value", function()
  local w = actrun.tensor({1}, {requires_grad = true})
  local opt = optim.SGD({w}, {lr = 0.1})
  eq(opt.lr, 0.1)
  opt.lr = 1
  w.grad = actrun.tensor({0.5})
  opt:step()
  tensor_near(w, {0.5}, 1e-7)
end)

test("parameters without a gradient are skipped; zero_grad clears gradients", function()
  local a = actrun.tensor({1, 2}, {requires_grad = true})
  local b = actrun.tensor({3}, {requires_grad = true})
  for _, ctor in ipairs({"SGD", "Adam", "AdamW", "RMSprop", "Adagrad"}) do
    local opt = optim[ctor]({a, b}, {lr = 0.1, momentum = ctor == "SGD" and 0.9 or nil})
    a.grad = actrun.tensor({1, 1})
    opt:step()
    tensor_near(b, {3}, 0, ctor .. " left b alone")
    opt:zero_grad()
    T.truthy(a.grad == nil, ctor .. " zero_grad")
    opt:step() -- nothing has a gradient: nothing moves
  end
end)

test("steps are not recorded by autograd and allocate no per-step state", function()
  local w = actrun.tensor({1, 2, 3}, {requires_grad = true})
  local opt = optim.Adam({w}, {lr = 0.1})
  w.grad = actrun.ones(3)
  opt:step()
  local buf = opt.state[1].exp_avg
  opt:step()
  T.truthy(opt.state[1].exp_avg == buf, "state buffer made once")
  T.truthy(w.is_leaf, "still a leaf")
  T.truthy(w.grad ~= nil)
  -- a graph through w still differentiates normally afterwards
  w:zero_grad()
  local l = (w * 2):sum()
  l:backward()
  tensor_near(w.grad, {2, 2, 2}, 0)
end)

test("clip_grad_norm returns the total norm and scales only when above", function()
  local a = actrun.tensor({1, 1}, {requires_grad = true})
  local b = actrun.tensor({1}, {requires_grad = true})
  a.grad = actrun.tensor({3, 0})
  b.grad = actrun.tensor({4})
  near(optim.clip_grad_norm({a, b}, 10), 5, 1e-12)
  tensor_near(a.grad, {3, 0}, 0, "below max_norm: unchanged")
  near(optim.clip_grad_norm({a, b}, 1), 5, 1e-12)
  local c = 1 / (5 + 1e-6)
  tensor_near(a.grad, {3 * c, 0}, 1e-6)
  tensor_near(b.grad, {4 * c}, 1e-6)
  near(optim.clip_grad_norm({a, b}, 1), 1, 1e-5)
end)

test("StepLR and CosineLR follow PyTorch's schedules", function()
  local w = actrun.tensor({1}, {requires_grad = true})
  local opt = optim.SGD({w}, {lr = F.steplr.lr})
  local s = optim.StepLR(opt, {step = F.steplr.step, gamma = F.steplr.gamma})
  for i, lr in ipairs(F.steplr.lrs) do
    s:step()
    near(opt.lr, lr, 1e-12, "StepLR epoch " .. i)
  end
  opt = optim.SGD({w}, {lr = F.cosinelr.lr})
  s = optim.CosineLR(opt, {T = F.cosinelr.T, eta_min = F.cosinelr.eta_min})
  for i, lr in ipairs(F.cosinelr.lrs) do
    s:step()
    near(opt.lr, lr, 1e-8, "CosineLR epoch " .. i)
  end
  local o3 = optim.Adam({w}, {lr = 1})
  local s3 = optim.StepLR(o3, {step = 2})
  s3:step(); s3:step()
  near(o3.lr, 0.1, 1e-12, "default gamma 0.1")
end)

test("errors: params, leaves, options", function()
  local w = actrun.tensor({1}, {requires_grad = true})
  expect_error(function() optim.SGD({w, 3}, {lr = 1}) end, "actrun.optim.SGD", "params", "entry 2")
  expect_error(function() optim.Adam("w") end, "actrun.optim.Adam", "params")
  expect_error(function() optim.SGD({w * 2}, {lr = 1}) end, "entry 1", "leaf")
  expect_error(function() optim.SGD({w}) end, "lr", "required")
  expect_error(function() optim.Adam({w}, {lrr = 1}) end, "unknown option 'lrr'")
  expect_error(function() optim.SGD({w}, {lr = 1, nesterov = true}) end, "nesterov")
  expect_error(function() optim.RMSprop({w}, {alpha = -1}) end, "alpha")
  expect_error(function() optim.Adam({w}, {betas = {0.9}}) end, "betas")
  expect_error(function() optim.clip_grad_norm({w}, "x") end, "max_norm")
  expect_error(function() optim.StepLR({}, {step = 1}) end, "actrun.optim.StepLR", "opt")
  expect_error(function() optim.CosineLR(optim.SGD({w}, {lr = 1}), {}) end, "T")
end)

test("one-call SGD/Adam steps: skipped parameters, lazy state, strided gradients", function()
  local a = actrun.tensor({1, 2}, {requires_grad = true})
  local b = actrun.tensor({{1, 2}, {3, 4}}, {requires_grad = true})
  local adam = optim.Adam({a, b}, {lr = 0.1})
  a.grad = actrun.tensor({1, -1})
  adam:step()
  eq(adam.state[1].step, 1, "a stepped")
  eq(adam.state[2].step, 0, "b had no gradient: no step")
  T.truthy(adam.state[2].exp_avg == nil, "no state for b")
  tensor_near(a, {0.9, 2.1}, 1e-6, "first Adam step moves by lr")
  -- a strided gradient (a transposed view) gives the same update as its dense copy
  local g = actrun.tensor({{1, 3}, {2, 4}})
  b.grad = g:t()
  local b2 = actrun.tensor({{1, 2}, {3, 4}}, {requires_grad = true})
  local adam2 = optim.Adam({b2}, {lr = 0.1})
  b2.grad = g:t():contiguous()
  adam:step()
  adam2:step()
  tensor_near(b, b2:totable(), 0, "strided gradient")
  eq(adam.state[1].step, 2)
  eq(adam.state[2].step, 1)
  -- SGD with momentum: the buffer starts as the first gradient (PyTorch)
  local w = actrun.tensor({0, 0}, {requires_grad = true})
  local sgd = optim.SGD({w}, {lr = 1, momentum = 0.5})
  w.grad = actrun.tensor({2, 4})
  sgd:step()
  tensor_near(sgd.state[1].momentum_buffer, {2, 4}, 0, "buffer = first gradient")
  tensor_near(w, {-2, -4}, 0)
  sgd:step()
  tensor_near(sgd.state[1].momentum_buffer, {3, 6}, 0, "buffer = 0.5 buffer + gradient")
  tensor_near(w, {-5, -10}, 0)
  sgd:zero_grad()
  T.truthy(w.grad == nil, "zero_grad clears")
  sgd:step()
  tensor_near(w, {-5, -10}, 0, "no gradient: no move")
end)

T.done()
