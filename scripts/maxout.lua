-- Claim 4: Maxout keeps k affine pieces per unit and outputs the largest. With k = 2 and
-- one piece all zero it *is* ReLU; it costs k times the parameters of a ReLU layer.
-- 1. nn.Maxout(in, out, 2) with the second piece's weights and bias set to zero, against
--    relu(x W1^T + b1) built from its first piece: the largest difference (exactly 0).
-- 2. Parameters of Maxout(in, out, k) against Linear(in, out) + ReLU, k = 2, 3, 4.
-- 3. Accuracy of a Maxout MLP and a ReLU MLP of the same widths on three spirals (and on
--    Fashion-MNIST with --fashion, when the data set is installed).
--
--   actrun scripts/maxout.lua [--quick] [--width N] [--n N] [--epochs N] [--lr X]
--                             [--seed N] [--fashion] [--limit N] [--plot FILE]
local A = rawget(_G, "actrun") or require "actrun"
local nn, act, data = A.nn, A.act, A.data
local here = (arg and arg[0] or ""):match("^(.*)/") or "."
local cli = dofile(here .. "/lib/cli.lua")
local train = dofile(here .. "/lib/train.lua")

local spec = {
  usage = "actrun scripts/maxout.lua [options]",
  about = "Maxout(k=2) with one zero piece is ReLU; k times the parameters; accuracy against ReLU.",
  options = {
    {"quick", "flag", help = "a smaller run (fewer points and epochs)"},
    {"width", "int", 32, help = "width of the two hidden layers", min = 1},
    {"n", "int", 600, help = "spiral points in the training set (as many in the test set)", min = 6},
    {"noise", "number", 0.03, help = "std of the noise on the spiral points (arms reach radius 1)", min = 0},
    {"epochs", "int", 100, help = "training epochs on the spirals (Adam, batch 32; Fashion-MNIST: a tenth)", min = 1},
    {"lr", "number", 0.01, help = "Adam learning rate", min = 0},
    {"seed", "int", 1, help = "seed of the data, the init and the shuffles"},
    {"fashion", "flag", help = "also compare on Fashion-MNIST (when installed)"},
    {"limit", "int", 3000, help = "Fashion-MNIST training images (test: half as many)", min = 10},
    {"plot", "string", nil, help = "draw the training loss curves into FILE (.svg)", arg = "FILE"},
  }}
local opt, given = cli.parse(arg, spec)
if opt.quick then
  if not given.n then opt.n = 300 end
  if not given.epochs then opt.epochs = 40 end
  if not given.limit then opt.limit = 1000 end
end
local results = {}

-- 1. Maxout(k=2) with a zero second piece against ReLU of the first piece
A.manual_seed(opt.seed)
local d_in, d_out = 5, 7
local mo = nn.Maxout(d_in, d_out, 2)
local pieces_w = mo.linear.weight:view(d_out, 2, d_in) -- unit j: rows (j-1)*2+1, (j-1)*2+2
local pieces_b = mo.linear.bias:view(d_out, 2)
A.no_grad(function()
  pieces_w:select(2, 2):zero()
  pieces_b:select(2, 2):zero()
end)
local W1, b1 = pieces_w:select(2, 1), pieces_b:select(2, 1)
local x = A.randn(10000, d_in) * 3
local diff = A.no_grad(function()
  return (mo(x) - act.relu(x:matmul(W1:t()) + b1)):abs():max():item()
end)
local negative = A.no_grad(function() return (x:matmul(W1:t()) + b1):lt(0):mean():item() end)
print(("Maxout(%d -> %d, k=2) with piece 2 set to w = 0, b = 0, against relu(x W1^T + b1) on %d inputs:")
  :format(d_in, d_out, x:size(1)))
print(("  max |maxout(x) - relu(x W1^T + b1)| = %g   (%.0f%% of the pre-activations were negative)\n")
  :format(diff, 100 * negative))
results.relu_diff = diff

-- 2. parameter counts: one layer in -> out
local count_rows = {}
results.ratio = {}
local n_in, n_out = 784, opt.width
local relu_params = nn.Linear(n_in, n_out):num_parameters() -- the activation has none
for _, k in ipairs{2, 3, 4} do
  local p = nn.Maxout(n_in, n_out, k):num_parameters()
  count_rows[#count_rows + 1] = {k = k, maxout = p, relu = relu_params, ratio = p / relu_params}
  results.ratio[k] = p / relu_params
end
print(("Parameters of one layer %d -> %d:"):format(n_in, n_out))
cli.print_table({
  {"k", "k", "%d"}, {"Maxout(k)", "maxout", "%d"}, {"Linear + ReLU", "relu", "%d"},
  {"ratio", "ratio", "%.2f"},
}, count_rows)
print()

-- 3. accuracy: the same MLP shape, with ReLU or with Maxout(k) hidden layers
local function mlp(n_in_, width, n_cls, kind, k)
  if kind == "relu" then return nn.mlp{n_in_, width, width, n_cls, activation = "relu"} end
  return nn.Sequential(nn.Maxout(n_in_, width, k), nn.Maxout(width, width, k),
    nn.Linear(width, n_cls))
end

local series = {}
local function compare(task, Xtr, ytr, Xte, yte, n_cls, epochs, lr)
  local rows = {}
  for _, v in ipairs{{"relu", 1}, {"maxout", 2}, {"maxout", 3}} do
    A.manual_seed(opt.seed)
    local model = mlp(Xtr:size(2), opt.width, n_cls, v[1], v[2])
    local history = train.fit(model, Xtr, ytr, {epochs = epochs, batch = 32, lr = lr,
      seed = opt.seed})
    local name = v[1] == "relu" and "ReLU" or ("Maxout k=" .. v[2])
    local xs = {}
    for i = 1, #history do xs[i] = i end
    series[#series + 1] = {x = xs, y = history, label = task .. ", " .. name}
    rows[#rows + 1] = {name = name, params = model:num_parameters(), loss = history[#history],
      train = train.accuracy(model, Xtr, ytr), test = train.accuracy(model, Xte, yte)}
  end
  print(("%s: %d training, %d test examples; MLP %d -> %d -> %d -> %d, Adam lr %g, batch 32, %d epochs:")
    :format(task, Xtr:size(1), Xte:size(1), Xtr:size(2), opt.width, opt.width, n_cls, lr, epochs))
  cli.print_table({
    {"hidden layers", "name"}, {"parameters", "params", "%d"}, {"final train loss", "loss", "%.4f"},
    {"train accuracy", "train", "%.4f"}, {"test accuracy", "test", "%.4f"},
  }, rows)
  print()
  return rows
end

local Xtr, ytr = data.spirals{n = opt.n, classes = 3, noise = opt.noise, seed = opt.seed}
local Xte, yte = data.spirals{n = opt.n, classes = 3, noise = opt.noise, seed = opt.seed + 100}
results.spirals = compare("three spirals", Xtr, ytr, Xte, yte, 3, opt.epochs, opt.lr)

if opt.fashion then
  local ok, Ftr, ftr = pcall(data.fashion_mnist, {split = "train", limit = opt.limit})
  if ok then
    local Fte, fte = data.fashion_mnist{split = "test", limit = math.max(1, opt.limit // 2)}
    results.fashion = compare("Fashion-MNIST", Ftr, ftr, Fte, fte, 10, math.max(3, opt.epochs // 10),
      opt.lr / 5)
  else
    print("Fashion-MNIST skipped: " .. tostring(Ftr):gsub("^.-actrun%.data", "actrun.data"))
  end
end

print("(One seed: differences of a point or two between the rows are within what another --seed gives.)")

if opt.plot then
  cli.plot_line{series = series, title = "ReLU and Maxout MLPs: training loss", xlabel = "epoch",
    ylabel = "cross-entropy", file = opt.plot}
end
return results
