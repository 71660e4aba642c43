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

local here = (arg and arg[0] or ""):match("^(.*)/") or "."
local cli = dofile(here .. "/lib/cli.lua")

local opt, given = cli.parse(arg, {
  usage = "actrun scripts/compare_fashion_mnist.lua [options]",
  about = "One MLP, many activations, Fashion-MNIST (or spirals without the data set).",
  options = {
    {"quick", "flag", help = "a smaller run (6000 training images, width 128)"},
    {"epochs", "int", 1, help = "training epochs (spirals: 60, 20 with --quick)", min = 1},
    {"width", "int", 256, help = "hidden units per layer", min = 1},
    {"depth", "int", 2, help = "hidden layers", min = 1},
    {"batch", "int", 128, help = "mini-batch size", min = 1},
    {"lr", "number", 1e-3, help = "Adam learning rate (spirals: 1e-2)", min = 0},
    {"limit", "int", nil, help = "use only the first N training images", min = 1},
    {"activations", "string", "relu,leaky_relu,elu,selu,gelu,silu,mish,softplus,tanh,sigmoid,identity",
     help = "comma-separated activations", arg = "LIST"},
    {"seed", "int", 1, help = "seed of the initial weights"},
  }})
if opt.quick then opt.limit = opt.limit or 6000; if not given.width then opt.width = 128 end end

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
  if not given.epochs then opt.epochs = opt.quick and 20 or 60 end
  if not given.lr then opt.lr = 1e-2 end
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
for r, row in ipairs(rows) do row.rank = r end
print()
cli.print_table({
  {"rank", "rank", "%d"}, {"activation", "name"}, {"test accuracy", "acc",
   function(v) return ("%.2f%%"):format(100 * v) end},
  {"train loss", "loss", "%.4f"}, {"seconds", "secs", "%.1f"},
}, rows)
return rows
