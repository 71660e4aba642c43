-- Claim 3c: ReLU outputs exact zeros for many hidden units: the network is sparse, which
-- acts like L1 regularisation and can reduce overfitting.
-- 1. The same MLP is trained with each activation on a small training set (a small
--    Fashion-MNIST subset when the data set is installed, else few noisy spiral points),
--    long enough to overfit.
-- 2. Forward hooks on its activation layers (m:add_hook) record every hidden output on
--    the training set: the share of exact zeros (and of |h| < 0.01, for the activations
--    that come close to zero without reaching it).
-- 3. Train and test accuracy, and the gap between them (train - test), averaged over seeds.
--
--   actrun scripts/relu_sparsity.lua [--quick] [--activations LIST] [--width N] [--n N]
--                                    [--epochs N] [--lr X] [--seed N] [--seeds N]
--                                    [--task auto|fashion|spirals] [--plot FILE]
local A = rawget(_G, "actrun") or require "actrun"
local nn, data = A.nn, A.data
local here = (arg and arg[0] or ""):match("^(.*)/") or "."
local cli = dofile(here .. "/lib/cli.lua")
local train = dofile(here .. "/lib/train.lua")

local spec = {
  usage = "actrun scripts/relu_sparsity.lua [options]",
  about = "Share of exact zeros in the hidden outputs per activation, and the train/test gap.",
  options = {
    {"quick", "flag", help = "a smaller run (fewer epochs, one seed)"},
    {"activations", "string", "relu,leaky_relu,elu,gelu,softplus,tanh,sigmoid",
      help = "comma-separated activation names", arg = "LIST"},
    {"width", "int", 64, help = "width of the two hidden layers", min = 1},
    {"task", "string", "auto", choices = {"auto", "fashion", "spirals"},
      help = "data: auto is Fashion-MNIST when installed, else spirals"},
    {"n", "int", nil, help = "training examples (default 500 images or 150 spiral points)", min = 3},
    {"epochs", "int", nil, help = "training epochs, Adam, batch 32 (default 40 on Fashion-MNIST, 300 on spirals)", min = 1},
    {"lr", "number", 0.01, help = "Adam learning rate", min = 0},
    {"seed", "int", 1, help = "first seed (data, init, shuffles)"},
    {"seeds", "int", 3, help = "seeds to average over (seed, seed+1, ...)", min = 1},
    {"plot", "string", nil, help = "bar charts of the zero share and the gap into FILE_zeros.svg, FILE_gap.svg", arg = "FILE"},
  }}
local opt, given = cli.parse(arg, spec)
if opt.quick then
  if not given.seeds then opt.seeds = 1 end
end
local have_fashion = pcall(data.fashion_mnist, {split = "test", limit = 1})
if opt.task == "auto" then opt.task = have_fashion and "fashion" or "spirals" end
if opt.task == "fashion" and not have_fashion then
  cli.fail(spec, "--task fashion: Fashion-MNIST is not installed (see actrun.data.fashion_mnist)")
end
opt.fashion = opt.task == "fashion"
opt.n = opt.n or (opt.fashion and 500 or 150)
opt.epochs = opt.epochs or (opt.fashion and 40 or 300) // (opt.quick and 4 or 1)
local names = {}
for name in opt.activations:gmatch("[^,%s]+") do
  if not pcall(nn.Activation, name) then cli.fail(spec, "--activations: unknown activation '" .. name .. "'") end
  names[#names + 1] = name
end
if #names == 0 then cli.fail(spec, "--activations: no activation given") end

-- The task: few training points, many test points.
local function task(seed)
  if opt.fashion then
    local Xall, yall = data.fashion_mnist{split = "train", limit = opt.n}
    local Xte, yte = data.fashion_mnist{split = "test", limit = 2000}
    return Xall, yall, Xte, yte, 10
  end
  local Xtr, ytr = data.spirals{n = opt.n, classes = 3, noise = 0.05, seed = seed}
  local Xte, yte = data.spirals{n = 1500, classes = 3, noise = 0.05, seed = seed + 1000}
  return Xtr, ytr, Xte, yte, 3
end

-- Share of exact zeros and of |h| < 0.01 over every activation layer's output, on X.
local function sparsity(model, X)
  local zeros, small, count = 0, 0, 0
  local handles = {}
  for _, e in ipairs(model:named_modules()) do
    if e.module.is_activation then
      handles[#handles + 1] = e.module:add_hook(function(_, _, out)
        local n = out:numel()
        zeros = zeros + out:eq(0):sum():item()
        small = small + out:abs():lt(0.01):sum():item()
        count = count + n
      end)
    end
  end
  train.evaluating(model, function(m) return m(X) end)
  for _, h in ipairs(handles) do h.remove() end
  return zeros / count, small / count
end

local rows, results = {}, {}
for _, name in ipairs(names) do
  local r = {name = name, zeros = 0, small = 0, train = 0, test = 0}
  local gaps = {}
  for s = opt.seed, opt.seed + opt.seeds - 1 do
    local Xtr, ytr, Xte, yte, C = task(s)
    A.manual_seed(s)
    local model = nn.mlp{Xtr:size(2), opt.width, opt.width, C, activation = name}
    train.fit(model, Xtr, ytr, {epochs = opt.epochs, batch = 32, lr = opt.lr, seed = s})
    local z, sm = sparsity(model, Xtr)
    r.zeros, r.small = r.zeros + z / opt.seeds, r.small + sm / opt.seeds
    local tr, te = train.accuracy(model, Xtr, ytr), train.accuracy(model, Xte, yte)
    r.train, r.test = r.train + tr / opt.seeds, r.test + te / opt.seeds
    gaps[#gaps + 1] = tr - te
  end
  r.gap = r.train - r.test
  if #gaps > 1 then -- standard deviation of the gap over the seeds
    local v = 0
    for _, g in ipairs(gaps) do v = v + (g - r.gap) ^ 2 end
    r.spread = math.sqrt(v / (#gaps - 1))
  end
  rows[#rows + 1] = r
  results[name] = r
end

print(("%s: %d training examples; MLP with two hidden layers of %d; Adam lr %g, batch 32, %d epochs; mean over %d seed%s")
  :format(opt.fashion and "Fashion-MNIST (2000 test images)" or "three noisy spirals (1500 test points)",
    opt.n, opt.width, opt.lr, opt.epochs, opt.seeds, opt.seeds == 1 and "" or "s"))
cli.print_table({
  {"activation", "name"}, {"exact zeros", "zeros", "%.3f"}, {"|h| < 0.01", "small", "%.3f"},
  {"train accuracy", "train", "%.4f"}, {"test accuracy", "test", "%.4f"},
  {"gap (train - test)", "gap", "%+.4f"}, {"gap std over seeds", "spread", "%.4f"},
}, rows)
print("(exact zeros / |h| < 0.01: share of hidden outputs on the training set, both hidden layers)")

-- The sparse activations against the rest: mean gap of each group.
local sparse, dense = {}, {}
for _, r in ipairs(rows) do
  local group = r.zeros > 0.1 and sparse or dense
  group[#group + 1] = r
end
local function mean_gap(list)
  local s = 0
  for _, r in ipairs(list) do s = s + r.gap end
  return s / #list
end
if #sparse > 0 and #dense > 0 then
  results.sparse_gap, results.dense_gap = mean_gap(sparse), mean_gap(dense)
  print(("mean gap of the sparse activations (exact zeros > 10%%): %+.4f; of the others: %+.4f")
    :format(results.sparse_gap, results.dense_gap))
  print("(a difference is only worth reading when it is larger than the gap's std over seeds)")
end

if opt.plot then -- two bar charts: FILE with "_zeros" and "_gap" before its extension
  for _, what in ipairs{"zeros", "gap"} do
    local labels, values = {}, {}
    for i, r in ipairs(rows) do labels[i], values[i] = r.name, r[what] end
    cli.plot_bar{labels = labels, values = values, file = cli.suffixed(opt.plot, what),
      title = what == "zeros" and "Share of exact zeros in the hidden outputs"
        or "Train accuracy - test accuracy"}
  end
end
return results
