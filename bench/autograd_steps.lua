-- Fixed workloads for counting instructions (valgrind --tool=callgrind): the autograd
-- bookkeeping of a tiny network (xor), a GEMM-bound MLP step (mlp) and activation
-- forward+backward on 10^5 elements (act). One thread; no timing inside.
--
--   valgrind --tool=callgrind actrun bench/autograd_steps.lua xor|mlp|act
local A = actrun
local nn, optim, act = A.nn, A.optim, A.act
local which = arg[1]
A.manual_seed(1)
A.set_num_threads(1)
if which == "mlp" then
  local m = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))
  local opt = optim.Adam(m:parameters(), {lr = 1e-3})
  local X = A.randn(128, 784)
  local y = {}
  for i = 1, 128 do y[i] = (i % 10) + 1 end
  for s = 1, 20 do
    opt:zero_grad()
    local loss = nn.cross_entropy(m(X), y)
    loss:backward()
    opt:step()
  end
elseif which == "xor" then
  local m = nn.Sequential(nn.Linear(2, 8), nn.Sigmoid(), nn.Linear(8, 1))
  local opt = optim.SGD(m:parameters(), {lr = 0.5})
  local X = A.tensor{{0, 0}, {0, 1}, {1, 0}, {1, 1}}
  local t = A.tensor{{0}, {1}, {1}, {0}}
  for s = 1, 3000 do
    opt:zero_grad()
    local loss = nn.mse(m(X), t)
    loss:backward()
    opt:step()
  end
else
  local x = A.randn(100000)
  x.requires_grad = true
  local g = A.randn(100000)
  for _, name in ipairs{"gelu", "relu", "tanh", "silu", "mish"} do
    for s = 1, 10 do
      x.grad = nil
      act[name](x):backward(g)
    end
  end
end
