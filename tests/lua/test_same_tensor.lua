-- One tensor where two are expected: an optimiser given the same parameter twice (it
-- would step it twice per step), and a tensor assigned as its own gradient (PyTorch:
-- "can't assign Variable as its own grad"). Both were accepted silently; both are errors
-- now, and the checks must not refuse what is legitimate.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local T = require "testlib"
local actrun = T.actrun
local test, eq, tensor_near, expect_error = T.test, T.eq, T.tensor_near, T.expect_error
local nn, optim = actrun.nn, actrun.optim

local function param(v) return actrun.tensor(v, {requires_grad = true}) end

local CONSTRUCTORS = {
  SGD = {lr = 0.1}, Adam = {}, AdamW = {}, RMSprop = {}, Adagrad = {},
}

for name, opts in pairs(CONSTRUCTORS) do
  test("optim." .. name .. " refuses the same tensor twice, naming both positions", function()
    local p, q = param{1, 2}, param{3}
    expect_error(function() return optim[name]({p, p}, opts) end,
                 "actrun.optim." .. name .. ":", "parameter 2 is the same tensor as parameter 1")
    expect_error(function() return optim[name]({p, q, p}, opts) end,
                 "actrun.optim." .. name .. ":", "parameter 3 is the same tensor as parameter 1")
    expect_error(function() return optim[name]({q, p, p}, opts) end,
                 "parameter 3 is the same tensor as parameter 2")
    -- equal values, different tensors: fine
    local o = optim[name]({p, param{1, 2}}, opts)
    eq(#o.params, 2)
  end)
end

test("a module whose parameters are distinct still builds every optimiser", function()
  local m = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
  for name, opts in pairs(CONSTRUCTORS) do eq(#optim[name](m, opts).params, 4, name) end
end)

test("SGD with a parameter listed twice would have stepped it twice", function()
  -- what the check prevents: the same update applied twice per step
  local p = param{1}
  local o = optim.SGD({p}, {lr = 0.5})
  p.grad = actrun.tensor{1}
  o:step()
  tensor_near(p, {0.5}, 0)
  expect_error(function() return optim.SGD({p, p}, {lr = 0.5}) end, "same tensor")
end)

test("clip_grad_norm refuses the same tensor twice (its norm would count it twice)", function()
  local p = param{3, 4}
  p.grad = actrun.tensor{3, 4}
  expect_error(function() return optim.clip_grad_norm({p, p}, 1) end,
               "actrun.optim.clip_grad_norm:", "parameter 2 is the same tensor as parameter 1")
  tensor_near(p.grad, {3, 4}, 0) -- unchanged
  T.near(optim.clip_grad_norm({p}, 100), 5, 1e-6)
end)

test("p.grad = p is an error, and so is a gradient sharing p's memory", function()
  local p = param{{1, 2}, {3, 4}}
  expect_error(function() p.grad = p end, "Tensor.grad:", "its own gradient")
  expect_error(function() p.grad = p:detach() end, "Tensor.grad:", "its own gradient")
  expect_error(function() p.grad = p:view(4):view(2, 2) end, "Tensor.grad:", "its own gradient")
  eq(p.grad, nil)
  p.grad = p:detach():clone()
  tensor_near(p.grad, {{1, 2}, {3, 4}}, 0)
  -- the failed assignments left the gradient that was there
  expect_error(function() p.grad = p end, "its own gradient")
  tensor_near(p.grad, {{1, 2}, {3, 4}}, 0)
  p.grad = p.grad -- its own gradient again, not p's memory
  p.grad = nil
  eq(p.grad, nil)
end)

test("a gradient of the wrong shape or type is an error", function()
  local p = param{1, 2, 3}
  expect_error(function() p.grad = actrun.zeros(3, 1) end, "Tensor.grad:", "shape", "{3}",
               "{3,1}")
  expect_error(function() p.grad = actrun.zeros(2) end, "Tensor.grad:", "shape")
  expect_error(function() p.grad = 1 end, "Tensor.grad:", "nil or a tensor")
  expect_error(function() p.grad = {1, 2, 3} end, "Tensor.grad:", "nil or a tensor")
  eq(p.grad, nil)
end)

test("backward still fills .grad after the checks", function()
  local p = param{1, 2}
  local y = (p * p):sum()
  y:backward()
  tensor_near(p.grad, {2, 4}, 0)
end)

T.done()
