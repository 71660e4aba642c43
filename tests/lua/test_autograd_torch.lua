-- Gradients of small mixed graphs against PyTorch (tests/fixtures/autograd_torch.lua,
-- made by tests/fixtures/gen_autograd.py): the same graphs built with actrun.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local T = require "testlib"
local actrun = T.actrun
local act = actrun.act

local dir = (arg[0]:match("^(.*)/") or ".") .. "/../fixtures/"
local F = dofile(dir .. "autograd_torch.lua")

local function gelu(x) return act.gelu(x) end

local GRAPHS = {
  mlp = {{"x", "w1", "b1", "w2"}, function(x, w1, b1, w2)
    local h = gelu(x:matmul(w1) + b1)
    return -act.log_softmax(h:matmul(w2), 2):select(2, 1):mean() + 0.1 * w1:norm()
  end},
  reductions = {{"a", "b"}, function(a, b)
    return (a * b):exp():sum(3):var() + a:max() + a:std(1):sum()
      + (a:max(3)):sum() + (a / (b * b + 1)):mean(2, true):pow(2):sum()
      + (a:min(2, true)):sum()
  end},
  views = {{"a", "c"}, function(a, c)
    local u = actrun.cat({a:t(), a:narrow(1, 2, 1):t() * 2}, 2):reshape(-1):sigmoid()
    local s = actrun.stack({a, c:expand(3, 4)}, 1):transpose(1, 3):narrow(2, 2, 2)
    return (u * actrun.range(0, u:numel() - 1)):sum() + (s * s):sum() + a[3]:tanh():sum()
  end},
  activations = {{"x", "w"}, function(x, w)
    local y = act.elu(x) + act.selu(x) * 2 + act.celu(x, 0.5) + act.gelu(x) + act.silu(x)
      + act.mish(x) + act.softplus(x) + act.logsigmoid(x) + act.hardswish(x)
      + act.tanhshrink(x) + act.softsign(x) + act.leaky_relu(x, 0.1)
    local p = act.prelu(x:reshape(2, 3, 2), w)
    return (y * y):sum() + (p * p):sum() + act.softmax(x:reshape(3, 4), 1)[1]:sum() * 3
  end},
}

for _, name in ipairs{"mlp", "reductions", "views", "activations"} do
  local g = GRAPHS[name]
  T.test("gradients of the '" .. name .. "' graph match PyTorch", function()
    local ref = F[name]
    local inputs = {}
    for i, iname in ipairs(g[1]) do
      inputs[i] = actrun.tensor(ref[iname].value, {requires_grad = true})
    end
    local y = g[2](table.unpack(inputs))
    T.near(y:item(), ref.value, 1e-4 * math.max(1, math.abs(ref.value)), "value")
    y:backward()
    for i, iname in ipairs(g[1]) do
      T.tensor_near(inputs[i].grad, ref[iname].grad, 2e-4, name .. "." .. iname .. ".grad")
    end
  end)
end

T.done()
