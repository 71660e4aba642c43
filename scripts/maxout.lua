-- Claim 4: Maxout keeps k affine pieces per unit and outputs the largest. With k = 2 and
-- one piece all zero it *is* ReLU; it costs k times the parameters of a ReLU layer.
-- 1. nn.Maxout(in, out, 2) with the second piece's weights and bias set to zero, against
--    relu(x W1^T + b1) built from its first piece: the largest difference (exactly 0).
-- 2. Parameters of Maxout(in, out, k) against Linear(in, out) + ReLU, k = 2, 3, 4.
--    Checked on every seed's weights.
-- 3. Accuracy over --seeds seeds on three spirals (and on Fashion-MNIST with --fashion,
--    when the data set is installed): a Maxout(k=2) MLP, a ReLU MLP of the same widths,
--    and a ReLU MLP widened until it has as many parameters as the Maxout one (the fair
--    comparison: Maxout's extra accuracy, if any, may only be its extra parameters).
--    Within a seed the three get the same data and batch order. Test accuracy mean and
--    95% CI, paired differences Maxout - ReLU (paired t, Holm over the two pairs), and
--    dead units (hidden units that output 0 on every training point: a ReLU unit can die,
--    a Maxout unit cannot, its max always passes a gradient to one piece).
-- The verdict: SUPPORTED when the identity is exact and the parameter ratio is k on
-- every seed, and Maxout's test accuracy is not below the parameter-matched ReLU's beyond
-- the seed noise; MIXED when the identity holds but the matched ReLU is better (Maxout's
-- k-fold parameters buy nothing here); NOT SUPPORTED when the identity or ratio fails.
--
--   actrun scripts/maxout.lua [--quick] [--width N] [--n N] [--epochs N] [--lr X]
--                             [--seed N] [--seeds N] [--fashion] [--limit N] [--plot FILE]
local A = rawget(_G, "actrun") or require "actrun"
local nn, act, data, lab = A.nn, A.act, A.data, A.lab
local stats = lab.stats
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
    {"epochs", "int", 60, help = "training epochs on the spirals (Adam, batch 32; Fashion-MNIST: a tenth)", min = 1},
    {"lr", "number", 0.01, help = "Adam learning rate", min = 0},
    {"seed", "int", 1, help = "first seed of the data, the init and the shuffles"},
    {"seeds", "int", 10, help = "seeds (paired runs)", min = 1},
    {"fashion", "flag", help = "also compare on Fashion-MNIST (when installed)"},
    {"limit", "int", 3000, help = "Fashion-MNIST training images (test: half as many)", min = 10},
    {"plot", "string", nil, help = "draw the training loss curves into FILE (.svg)", arg = "FILE"},
  }}
local opt, given = cli.parse(arg, spec)
if opt.quick then
  if not given.n then opt.n = 300 end
  if not given.epochs then opt.epochs = 40 end
  if not given.seeds then opt.seeds = 3 end
  if not given.limit then opt.limit = 1000 end
end
local results = {}

-- 1. Maxout(k=2) with a zero second piece against ReLU of the first piece, on every seed
local d_in, d_out = 5, 7
local diff, negative = 0, 0
for seed = opt.seed, opt.seed + opt.seeds - 1 do
  A.manual_seed(seed)
  local mo = nn.Maxout(d_in, d_out, 2)
  local pieces_w = mo.linear.weight:view(d_out, 2, d_in) -- unit j: rows (j-1)*2+1, (j-1)*2+2
  local pieces_b = mo.linear.bias:view(d_out, 2)
  A.no_grad(function()
    pieces_w:select(2, 2):zero()
    pieces_b:select(2, 2):zero()
  end)
  local W1, b1 = pieces_w:select(2, 1), pieces_b:select(2, 1)
  local x = A.randn(10000, d_in) * 3
  A.no_grad(function()
    diff = math.max(diff, (mo(x) - act.relu(x:matmul(W1:t()) + b1)):abs():max():item())
    negative = negative + (x:matmul(W1:t()) + b1):lt(0):mean():item() / opt.seeds
  end)
end
print(("Maxout(%d -> %d, k=2) with piece 2 set to w = 0, b = 0, against relu(x W1^T + b1) on 10000 inputs, %d seeds:")
  :format(d_in, d_out, opt.seeds))
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

-- 3. accuracy: ReLU MLPs (same widths, and widened to Maxout's parameter count) and a
-- Maxout(k=2) MLP
local K = 2
local function mlp(n_in_, width, n_cls, kind)
  if kind == "relu" then return nn.mlp{n_in_, width, width, n_cls, activation = "relu"} end
  return nn.Sequential(nn.Maxout(n_in_, width, K), nn.Maxout(width, width, K),
    nn.Linear(width, n_cls))
end
-- parameters of the ReLU MLP n_in -> w -> w -> n_cls, and the w that comes closest to p
local function relu_params(n_in_, w, n_cls) return (n_in_ + 1) * w + (w + 1) * w + (w + 1) * n_cls end
local function matched_width(n_in_, n_cls, p)
  local w = 1
  while relu_params(n_in_, w + 1, n_cls) <= p do w = w + 1 end
  if math.abs(relu_params(n_in_, w + 1, n_cls) - p) < math.abs(relu_params(n_in_, w, n_cls) - p) then
    w = w + 1
  end
  return w
end

local series = {}
local function compare(task, load, n_cls, epochs, lr)
  local n_in_ = load(opt.seed)[1]:size(2)
  local maxout_p = mlp(n_in_, opt.width, n_cls, "maxout"):num_parameters()
  local wide = matched_width(n_in_, n_cls, maxout_p)
  local kinds = {
    {key = "relu", name = ("ReLU, width %d"):format(opt.width), kind = "relu", width = opt.width},
    {key = "relu_matched", name = ("ReLU, width %d (matched)"):format(wide), kind = "relu", width = wide},
    {key = "maxout", name = ("Maxout k=%d, width %d"):format(K, opt.width), kind = "maxout", width = opt.width},
  }
  local runs = {}
  for _, v in ipairs(kinds) do runs[v.key] = {test = {}, train = {}, loss = {}, dead = {}, curve = {}} end
  for seed = opt.seed, opt.seed + opt.seeds - 1 do
    local Xtr, ytr, Xte, yte = table.unpack(load(seed))
    for _, v in ipairs(kinds) do
      A.manual_seed(seed)
      local model = mlp(n_in_, v.width, n_cls, v.kind)
      local history = train.fit(model, Xtr, ytr, {epochs = epochs, batch = 32, lr = lr, seed = seed})
      local r = runs[v.key]
      r.params = model:num_parameters()
      r.loss[#r.loss + 1] = history[#history]
      r.train[#r.train + 1] = train.accuracy(model, Xtr, ytr)
      r.test[#r.test + 1] = train.accuracy(model, Xte, yte)
      r.dead[#r.dead + 1] = lab.dead_units(model, Xtr).dead
      for e, l in ipairs(history) do r.curve[e] = (r.curve[e] or 0) + l / opt.seeds end
    end
  end
  local rows = {}
  for _, v in ipairs(kinds) do
    local r = runs[v.key]
    r.name, r.test_d = v.name, stats.describe(r.test)
    r.train_d, r.dead_d = stats.describe(r.train), stats.describe(r.dead)
    local xs = {}
    for i = 1, #r.curve do xs[i] = i end
    series[#series + 1] = {x = xs, y = r.curve, label = task .. ", " .. v.name}
    rows[#rows + 1] = {name = v.name, params = r.params, loss = stats.describe(r.loss).mean,
      train = r.train_d.mean, test = r.test_d.mean,
      ci = ("[%.4f, %.4f]"):format(r.test_d.ci95[1], r.test_d.ci95[2]),
      dead = r.dead_d.mean, dead_max = math.max(table.unpack(r.dead))}
  end
  print(("%s: %d training, %d test examples; MLP %d -> w -> w -> %d, Adam lr %g, batch 32, %d epochs; seeds %d..%d:")
    :format(task, load(opt.seed)[1]:size(1), load(opt.seed)[3]:size(1), n_in_, n_cls, lr, epochs,
      opt.seed, opt.seed + opt.seeds - 1))
  cli.print_table({
    {"hidden layers", "name"}, {"parameters", "params", "%d"}, {"final train loss", "loss", "%.4f"},
    {"train acc.", "train", "%.4f"}, {"test acc.", "test", "%.4f"}, {"95% CI", "ci"},
    {"dead units (mean)", "dead", "%.1f"}, {"(max)", "dead_max", "%d"},
  }, rows)
  local res = {runs = runs, rows = rows, matched_width = wide}
  if opt.seeds >= 2 then
    local a = stats.paired(runs.maxout.test, runs.relu_matched.test)
    local b = stats.paired(runs.maxout.test, runs.relu.test)
    local adj = stats.holm({a.p, b.p})
    a.p_holm, b.p_holm = adj[1], adj[2]
    res.vs_matched, res.vs_same = a, b
    local prow = {}
    for _, x in ipairs{{"Maxout - ReLU matched", a}, {"Maxout - ReLU same width", b}} do
      prow[#prow + 1] = {name = x[1], d = x[2].diff, ci = ("[%+.4f, %+.4f]"):format(x[2].ci95[1], x[2].ci95[2]),
        p = x[2].p, ph = x[2].p_holm}
    end
    print("Paired test-accuracy differences (paired t; Holm over the two):")
    cli.print_table({{"pair", "name"}, {"diff", "d", "%+.4f"}, {"95% CI", "ci"}, {"p", "p", "%.3g"},
      {"p (Holm)", "ph", "%.3g"}}, prow)
  end
  print()
  return res
end

local function spirals(seed)
  local Xtr, ytr = data.spirals{n = opt.n, classes = 3, noise = opt.noise, seed = seed}
  local Xte, yte = data.spirals{n = opt.n, classes = 3, noise = opt.noise, seed = seed + 100}
  return {Xtr, ytr, Xte, yte}
end
local cache = {}
local function cached(seed)
  cache[seed] = cache[seed] or spirals(seed)
  return cache[seed]
end
results.spirals = compare("three spirals", cached, 3, opt.epochs, opt.lr)

if opt.fashion then
  local ok, Ftr, ftr = pcall(data.fashion_mnist, {split = "train", limit = opt.limit})
  if ok then
    local Fte, fte = data.fashion_mnist{split = "test", limit = math.max(1, opt.limit // 2)}
    -- one data set for every seed: the seeds vary the init and the batches
    results.fashion = compare("Fashion-MNIST", function() return {Ftr, ftr, Fte, fte} end, 10,
      math.max(3, opt.epochs // 10), opt.lr / 5)
  else
    print("Fashion-MNIST skipped: " .. tostring(Ftr):gsub("^.-actrun%.data", "actrun.data"))
  end
end

-- the plot before the verdict: the verdict is the last thing printed
if opt.plot then
  cli.plot_line{series = series, title = ("ReLU and Maxout MLPs: training loss, mean of %d seeds"):format(opt.seeds),
    xlabel = "epoch", ylabel = "cross-entropy", file = opt.plot}
end

-- the verdict
local exact = results.relu_diff == 0
local ratio_ok = true
for k, r in pairs(results.ratio) do ratio_ok = ratio_ok and r == k end
local sp = results.spirals
local status, why
if not (exact and ratio_ok) then
  status = "NOT SUPPORTED"
  why = ("max |maxout - relu| = %g, ratios k=2,3,4: %.2f %.2f %.2f"):format(results.relu_diff,
    results.ratio[2], results.ratio[3], results.ratio[4])
else
  why = ("Maxout(k=2) with a zero piece = ReLU exactly (max diff 0 over %d seeds), parameters x%g/%g/%g for k=2/3/4")
    :format(opt.seeds, results.ratio[2], results.ratio[3], results.ratio[4])
  local c = sp.vs_matched
  if not c then
    status = "MIXED"
    why = why .. "; accuracy not compared: needs at least 2 seeds"
  else
    local worse = c.ci95[2] < 0
    status = worse and "MIXED" or "SUPPORTED"
    why = why .. ("; spirals test accuracy Maxout - ReLU matched to %d parameters (width %d): %+.4f (95%% CI [%+.4f, %+.4f], p=%.3g)%s; same width: %+.4f (CI [%+.4f, %+.4f]); dead units ReLU %.1f, matched ReLU %.1f, Maxout %.1f")
      :format(sp.runs.relu_matched.params, sp.matched_width, c.diff, c.ci95[1], c.ci95[2], c.p,
        worse and ", the matched ReLU is better" or "", sp.vs_same.diff, sp.vs_same.ci95[1],
        sp.vs_same.ci95[2], sp.runs.relu.dead_d.mean, sp.runs.relu_matched.dead_d.mean,
        sp.runs.maxout.dead_d.mean)
  end
end
results.verdict = cli.verdict(status, why)

return results
