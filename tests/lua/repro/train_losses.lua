-- Helper of test_repro.lua (not a test itself): trains a model from a fixed seed and
-- prints every step's loss and a digest of the final parameters, as exact hex floats.
--
--   actrun train_losses.lua mlp|conv THREADS [STEPS]
local kind, threads, steps = arg[1], tonumber(arg[2]), tonumber(arg[3] or "6")
local nn, optim = actrun.nn, actrun.optim
actrun.set_num_threads(threads)
actrun.manual_seed(1234)

local model, X, y, opt
if kind == "mlp" then
  -- big enough that elementwise ops, reductions and matmuls take their parallel paths
  X = actrun.randn(256, 400)
  y = (actrun.rand(256) * 10):floor() + 1
  model = nn.mlp{400, 256, 128, 10, activation = "gelu", norm = "batch", dropout = 0.2}
  opt = optim.Adam(model:parameters(), {lr = 1e-3, weight_decay = 1e-4})
elseif kind == "conv" then
  X = actrun.randn(32, 3, 16, 16)
  y = (actrun.rand(32) * 10):floor() + 1
  model = nn.Sequential(nn.Conv2d(3, 16, 3, {padding = 1}), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(16, 8, 3, {stride = 2}), nn.Tanh(), nn.Flatten(), nn.Linear(8 * 3 * 3, 10))
  opt = optim.SGD(model:parameters(), {lr = 0.05, momentum = 0.9})
elseif kind == "lstm" then
  X = actrun.randn(12, 64, 32)
  y = (actrun.rand(64) * 4):floor() + 1
  local rnn, head = nn.LSTM(32, 64), nn.Linear(64, 4)
  model = setmetatable({}, {__call = function(_, x)
    local out = rnn(x)
    return head(out:select(1, out:size(1)))
  end})
  local params = rnn:parameters()
  for _, p in ipairs(head:parameters()) do params[#params + 1] = p end
  model.parameters = function() return params end
  opt = optim.RMSprop(params, {lr = 1e-3})
else
  error("unknown kind " .. tostring(kind))
end

for _ = 1, steps do
  opt:zero_grad()
  local loss = nn.cross_entropy(model(X), y)
  loss:backward()
  opt:step()
  print(string.format("loss %a", loss:item()))
end
-- every parameter, summed in double in a fixed order, and its first element
for i, p in ipairs(model:parameters()) do
  print(string.format("param %d %a %a", i, p:sum():item(), p:flatten()[1]))
end
