-- The main job: one MLP, many activations, Fashion-MNIST. Every run starts from the same
-- seed-derived weights, so the activation is the only difference; prints a ranked table.
--
-- Usage: actrun scripts/compare_fashion_mnist.lua [--quick] [--epochs N] [--width N]
--          [--depth N] [--batch N] [--lr X] [--limit N] [--activations a,b,c] [--seed N]
-- Without the Debian package dataset-fashion-mnist it says how to get it and runs the
-- same comparison on a built-in synthetic task (spirals).
--
-- This is the foundation's version, written with tensors, actrun.act, autograd, Adam and
-- the data loader directly; the lab's lab.compare (with CSV, plots, dead units and
-- gradient flow) replaces its loop when it lands.
local A = actrun or require "actrun"
local act, data, optim, nn = A.act, A.data, A.optim, A.nn

local opt = {epochs = 1, width = 256, depth = 2, batch = 128, lr = 1e-3, seed = 1,
  activations = "relu,leaky_relu,elu,selu,gelu,silu,mish,softplus,tanh,sigmoid,identity"}
local i = 1
while arg and arg[i] do
  local a = arg[i]
  if a == "--quick" then
    opt.quick = true
  elseif a:match("^%-%-") and arg[i + 1] then
    local k = a:sub(3)
    if opt[k] == nil and k ~= "limit" then error("unknown option " .. a, 0) end
    opt[k] = tonumber(arg[i + 1]) or arg[i + 1]
    opt["set_" .. k] = true
    i = i + 1
  else
    error("unknown argument " .. a .. " (see the header of this script)", 0)
  end
  i = i + 1
end
if opt.quick then opt.limit = opt.limit or 6000; opt.width = 128 end

-- data: Fashion-MNIST when installed, else spirals
local ok, Xtr, ytr = pcall(data.fashion_mnist, {split = "train", limit = opt.limit})
local Xte, yte, task
if ok then
  Xte, yte = data.fashion_mnist{split = "test", limit = opt.limit and opt.limit // 6}
  task = ("Fashion-MNIST (%d train, %d test)"):format(Xtr:size(1), Xte:size(1))
else
  io.stderr:write("Fashion-MNIST not found (", tostring(Xtr), ")\n",
    "Install it with: apt-get install dataset-fashion-mnist (or set ACTRUN_DATA).\n",
    "Falling back to a synthetic task: 3-class spirals.\n")
  Xtr, ytr = data.spirals{n = 3000, classes = 3, noise = 0.1, seed = 1}
  Xte, yte = data.spirals{n = 900, classes = 3, noise = 0.1, seed = 2}
  task = "spirals (3000 train, 900 test)"
  -- a small task: more passes, so the activations have time to differ
  if not opt.set_epochs then opt.epochs = opt.quick and 20 or 60 end
  if not opt.set_lr then opt.lr = 1e-2 end
end
local nin, nclass = Xtr:size(2), math.floor(ytr:max():item())

-- weights: Kaiming-uniform like PyTorch's nn.Linear, drawn once from the seed
local function init_weights()
  A.manual_seed(opt.seed)
  local W, sizes = {}, {nin}
  for _ = 1, opt.depth do sizes[#sizes + 1] = opt.width end
  sizes[#sizes + 1] = nclass
  for l = 1, #sizes - 1 do
    local w = nn.init.kaiming_uniform(A.empty(sizes[l + 1], sizes[l]), {a = math.sqrt(5)})
    local bound = 1 / math.sqrt(sizes[l])
    local b = nn.init.uniform(A.empty(sizes[l + 1]), -bound, bound)
    W[#W + 1] = {w = w, b = b}
  end
  return W
end

local function forward(W, x, name)
  local h = x
  for l, layer in ipairs(W) do
    h = h:matmul(layer.w:t()) + layer.b
    if l < #W then h = act.apply(name, h) end
  end
  return h
end

local function accuracy(W, X, y, name)
  return A.no_grad(function()
    local pred = forward(W, X, name):argmax(2)
    return pred:eq(y):mean():item()
  end)
end

print(("actrun %s: %d-%s-%d MLP, Adam lr %g, batch %d, %d epoch(s), %d thread(s), on %s")
  :format(A.version, nin, (tostring(opt.width) .. "-"):rep(opt.depth):sub(1, -2), nclass,
    opt.lr, opt.batch, opt.epochs, A.get_num_threads(), task))

local rows = {}
for name in opt.activations:gmatch("[^,%s]+") do
  local W = init_weights()
  local params = {}
  for _, layer in ipairs(W) do
    layer.w.requires_grad = true
    layer.b.requires_grad = true
    params[#params + 1] = layer.w
    params[#params + 1] = layer.b
  end
  local adam = optim.Adam(params, {lr = opt.lr})
  local t0, loss_sum, nb = A.clock(), 0, 0
  for epoch = 1, opt.epochs do
    loss_sum, nb = 0, 0
    for xb, yb in data.loader(Xtr, ytr, {batch = opt.batch, shuffle = true, seed = epoch}) do
      local loss = nn.cross_entropy(forward(W, xb, name), yb)
      adam:zero_grad()
      loss:backward()
      adam:step()
      loss_sum, nb = loss_sum + loss:item(), nb + 1
    end
  end
  local secs = A.clock() - t0
  rows[#rows + 1] = {name = name, loss = loss_sum / nb, acc = accuracy(W, Xte, yte, name),
    secs = secs}
  io.write(("  %-10s test accuracy %6.2f%%  train loss %.4f  %.1f s\n")
    :format(name, 100 * rows[#rows].acc, rows[#rows].loss, secs))
  io.stdout:flush()
end

table.sort(rows, function(a, b) return a.acc > b.acc end)
print()
print(("%4s  %-10s  %13s  %10s  %8s"):format("rank", "activation", "test accuracy",
  "train loss", "seconds"))
for r, row in ipairs(rows) do
  print(("%4d  %-10s  %12.2f%%  %10.4f  %8.1f"):format(r, row.name, 100 * row.acc, row.loss,
    row.secs))
end
return rows
