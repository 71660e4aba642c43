-- Claim 3c: ReLU outputs exact zeros for many hidden units: the network is sparse, which
-- acts like L1 regularisation and can reduce overfitting.
-- 1. The same MLP is trained with each activation on a small training set (a small
--    Fashion-MNIST subset when the data set is installed, else few noisy spiral points),
--    long enough to overfit.
-- 2. Forward hooks on its activation layers (m:add_hook) record every hidden output on
--    the training set: the share of exact zeros (and of |h| < 0.01, for the activations
--    that come close to zero without reaching it).
-- 3. Train and test accuracy, and the gap between them (train - test), averaged over seeds.
-- 4. The overfitting half of the claim needs a fair comparison: a gap measured after the
--    same number of epochs mostly says which activation fits faster. So the gap is also
--    read at matched training loss: at the first epoch whose mean training loss is at or
--    below --match-loss (the test accuracy is taken then). A dense, explicitly
--    L1-regularised baseline runs beside them: tanh with --l1 times the mean |h| of the
--    hidden outputs added to the loss ("tanh+l1"). The gap differences relu - tanh and
--    relu - tanh+l1 are paired over the seeds (same data, init and batches per seed).
--
-- Verdict: the sparsity half holds when relu's share of exact zeros is above 10% while
-- the smooth activations have none; the regularisation half when relu's matched-loss gap
-- is below tanh's with the whole paired CI at least 0.005 below 0. SUPPORTED needs both; MIXED when only the
-- sparsity shows (at this scale the regularisation effect may not); NOT SUPPORTED when
-- relu is not sparse.
--
--   actrun scripts/relu_sparsity.lua [--quick] [--activations LIST] [--width N] [--n N]
--                                    [--epochs N] [--lr X] [--seed N] [--seeds N]
--                                    [--match-loss X] [--l1 X]
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
    {"quick", "flag", help = "a smaller run (fewer epochs, two seeds)"},
    {"activations", "string", "relu,leaky_relu,elu,gelu,softplus,tanh,sigmoid",
      help = "comma-separated activation names", arg = "LIST"},
    {"width", "int", 64, help = "width of the two hidden layers", min = 1},
    {"task", "string", "auto", choices = {"auto", "fashion", "spirals"},
      help = "data: auto is Fashion-MNIST when installed, else spirals"},
    {"n", "int", nil, help = "training examples (default 500 images or 150 spiral points)", min = 3},
    {"epochs", "int", nil, help = "training epochs, Adam, batch 32 (default 40 on Fashion-MNIST, 300 on spirals)", min = 1},
    {"lr", "number", 0.01, help = "Adam learning rate", min = 0},
    {"seed", "int", 1, help = "first seed (data, init, shuffles)"},
    {"seeds", "int", 5, help = "seeds to average over (seed, seed+1, ...)", min = 1},
    {"match_loss", "number", 0.3, help = "training loss at which the gaps are compared", min = 0},
    {"l1", "number", 1e-3, help = "weight of the mean |h| penalty of the tanh+l1 baseline (0: no baseline)", min = 0},
    {"plot", "string", nil, help = "bar charts of the zero share and the gap into FILE_zeros.svg, FILE_gap.svg", arg = "FILE"},
  }}
local opt, given = cli.parse(arg, spec)
if opt.quick then
  if not given.seeds then opt.seeds = 2 end
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

-- The hidden outputs of a model's activation layers, recorded while it trains (for the
-- L1 penalty); returns the list they are put in and the hook handles.
local function record_hidden(model)
  local outs, handles = {}, {}
  for _, e in ipairs(model:named_modules()) do
    if e.module.is_activation then
      handles[#handles + 1] = e.module:add_hook(function(_, _, out) outs[#outs + 1] = out end)
    end
  end
  return outs, handles
end

local variants = {}
for _, name in ipairs(names) do variants[#variants + 1] = {label = name, act = name} end
if opt.l1 > 0 then variants[#variants + 1] = {label = "tanh+l1", act = "tanh", l1 = opt.l1} end

local function stats_mean(list)
  local t = 0
  for _, x in ipairs(list) do t = t + x end
  return t / #list
end

local rows, results = {}, {}
for _, v in ipairs(variants) do
  local name = v.label
  local r = {name = name, zeros = 0, small = 0, train = 0, test = 0, gaps = {}, matched = {},
    reached = 0}
  local gaps = r.gaps
  for s = opt.seed, opt.seed + opt.seeds - 1 do
    local Xtr, ytr, Xte, yte, C = task(s)
    A.manual_seed(s)
    local model = nn.mlp{Xtr:size(2), opt.width, opt.width, C, activation = v.act}
    local loss, outs, handles
    if v.l1 then
      outs, handles = record_hidden(model)
      loss = function(out, y)
        local l = nn.cross_entropy(out, y)
        for _, h in ipairs(outs) do l = l + h:abs():mean() * v.l1 end
        for i = #outs, 1, -1 do outs[i] = nil end
        return l
      end
    end
    -- the gap at matched training loss: read once, at the first epoch at or below it
    local matched
    train.fit(model, Xtr, ytr, {epochs = opt.epochs, batch = 32, lr = opt.lr, seed = s, loss = loss,
      on_epoch = function(epoch, l)
        if not matched and l <= opt.match_loss then
          if outs then for i = #outs, 1, -1 do outs[i] = nil end end
          matched = {epoch = epoch, gap = train.accuracy(model, Xtr, ytr) - train.accuracy(model, Xte, yte)}
        end
      end})
    if handles then for _, h in ipairs(handles) do h.remove() end end
    local z, sm = sparsity(model, Xtr)
    r.zeros, r.small = r.zeros + z / opt.seeds, r.small + sm / opt.seeds
    local tr, te = train.accuracy(model, Xtr, ytr), train.accuracy(model, Xte, yte)
    r.train, r.test = r.train + tr / opt.seeds, r.test + te / opt.seeds
    gaps[#gaps + 1] = tr - te
    if matched then r.reached = r.reached + 1 else matched = {epoch = opt.epochs, gap = tr - te} end
    r.matched[#r.matched + 1] = matched
  end
  local mg, me = {}, {}
  for i, m in ipairs(r.matched) do mg[i], me[i] = m.gap, m.epoch end
  r.matched_gaps = mg
  r.matched_gap = stats_mean(mg)
  r.matched_epoch = stats_mean(me)
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
  {"gap at matched loss", "matched_gap", "%+.4f"}, {"its epoch", "matched_epoch", "%.1f"},
  {"seeds reaching it", function(r) return ("%d/%d"):format(r.reached, opt.seeds) end},
}, rows)
print(("(gap at matched loss: at the first epoch with training loss <= %g; at the last epoch for a seed that never got there)")
  :format(opt.match_loss))
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

-- the verdict: sparsity, and the paired gap differences at matched loss
local stats = A.lab.stats
local MIN_EFFECT = 0.005
print()
local relu, tanh = results.relu, results.tanh
if not relu or not tanh then
  results.verdict = cli.verdict("MIXED", "not decided: the verdict needs relu and tanh in --activations")
else
  local dense_zero = 0
  for _, r in ipairs(rows) do
    if r.name ~= "relu" and r.name ~= "tanh+l1" and r.zeros > dense_zero then dense_zero = r.zeros end
  end
  local sparse = relu.zeros > 0.1
  local function pair(other)
    if not other or opt.seeds < 2 then return nil end
    return stats.paired(relu.matched_gaps, other.matched_gaps)
  end
  local vs_tanh, vs_l1 = pair(tanh), pair(results["tanh+l1"])
  results.vs_tanh, results.vs_l1 = vs_tanh, vs_l1
  local function ci(p)
    if not p then return "n/a (one seed)" end
    return ("%+.4f [%+.4f, %+.4f]"):format(p.diff, p.ci95[1], p.ci95[2])
  end
  -- a gap at "matched" loss is only matched when every seed of both got there
  local all_reached = relu.reached == opt.seeds and tanh.reached == opt.seeds
  -- a CI that only grazes 0 is not an effect worth a claim: the whole interval must lie
  -- half a point (MIN_EFFECT) below it
  local regularises = vs_tanh and vs_tanh.ci95[2] < -MIN_EFFECT and all_reached
  local status = not sparse and "NOT SUPPORTED" or regularises and "SUPPORTED" or "MIXED"
  local reason = ("%d seeds: relu exact zeros %.1f%% (others at most %.1f%%): sparse %s; gap at training " ..
    "loss %g, relu - tanh %s, relu - tanh+l1 %s: %s"):format(opt.seeds, 100 * relu.zeros, 100 * dense_zero,
    sparse and "yes" or "no", opt.match_loss, ci(vs_tanh), vs_l1 and ci(vs_l1) or "n/a",
    regularises and "relu overfits less" or
      (vs_tanh and vs_tanh.ci95[2] < 0 and all_reached) and
        ("relu's gap is smaller, but its CI ends within %g of 0: too small to call"):format(MIN_EFFECT) or
      "no smaller overfitting shown at this scale")
  reason = reason .. ("; seeds reaching loss %g: relu %d, tanh %d of %d"):format(opt.match_loss,
    relu.reached, tanh.reached, opt.seeds)
  results.verdict = cli.verdict(status, reason)
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
