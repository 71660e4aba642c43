-- The main job: one MLP, many activations, Fashion-MNIST. Every run of a seed starts
-- from the same seed-derived initial weights (per init scheme) and sees the same
-- batches, so the differences between activations are paired over seeds: the table
-- ranks them by mean test accuracy, gives each one's paired difference to the best with
-- its 95% CI and Holm-adjusted p, and marks with "=" those not distinguishable from the
-- best. It ends with a verdict on claim 3 ("ReLU usually beats sigmoid and tanh").
-- Writes DIR/compare.csv (one line per run, with provenance), DIR/compare.svg and
-- DIR/report.html (all of it in one self-contained page, to share or to print).
--
-- Usage: actrun scripts/compare_fashion_mnist.lua [options] (--help lists them)
-- Without the Debian package dataset-fashion-mnist it says how to get it and runs the
-- same comparison on a built-in synthetic task (3-class spirals).
--
-- Model notes: --init recommended (the default) starts each activation from its usual
-- scheme: He (kaiming_normal) for the ReLU family, LeCun normal for selu, Xavier normal
-- with nn.init.gain for tanh, sigmoid and the rest; --init same gives every activation
-- He. No dropout anywhere (no alpha-dropout question); prelu is nn.PReLU, one learnable
-- slope per hidden unit; maxout is nn.Maxout with k=2 (twice the hidden weights).
local A = rawget(_G, "actrun") or require "actrun"
local data, optim, nn, lab = A.data, A.optim, A.nn, A.lab
local here = (arg and arg[0] or ""):match("^(.*)/") or "."
local cli = dofile(here .. "/lib/cli.lua")

local DEFAULT_ACTS = "relu,leaky_relu,prelu,elu,selu,gelu,silu,mish,softplus,tanh,sigmoid," ..
  "identity,maxout"

local spec = {
  name = "compare_fashion_mnist",
  usage = "actrun scripts/compare_fashion_mnist.lua [options]",
  about = "Activations compared on Fashion-MNIST, paired over seeds, with a verdict on " ..
    "claim 3 (ReLU beats sigmoid and tanh).",
  options = {
    {"quick", "flag", help = "a small subset (6000 train / 1000 test images, width 128), " ..
      "3 seeds: about a minute"},
    {"epochs", "int", 3, help = "passes over the training set per run", min = 1},
    {"width", "int", 256, help = "hidden units per layer", min = 1},
    {"depth", "int", 2, help = "hidden layers (2: 784-256-256-10)", min = 1},
    {"batch", "int", 128, help = "mini-batch size", min = 1},
    {"lr", "number", 1e-3, help = "learning rate (1e-2 on the synthetic fallback)", min = 0},
    {"optimizer", "string", "adam", choices = {"adam", "adamw", "sgd", "rmsprop", "adagrad"},
      help = "optimiser (sgd: momentum 0.9)"},
    {"tune", "string", nil, arg = "LR1,LR2,...", help = "pick each activation's learning " ..
      "rate from this grid on a 20% validation split of the training set (replaces --lr)"},
    {"seeds", "string", "5", arg = "N|a,b,c", help = "seeds 1..N, or a list (3 with --quick)"},
    {"activations", "string", DEFAULT_ACTS, arg = "a,b", help = "comma list"},
    {"init", "string", "recommended", choices = {"recommended", "same"},
      help = "each activation's usual init scheme, or He for all"},
    {"limit", "int", nil, help = "use the first N training images (and N/6 test images)", min = 1},
    {"out", "string", "out", arg = "DIR", help = "where compare.csv, compare.svg and report.html go"},
    {"store", "string", nil, arg = "FILE", help = "JSON lines of finished runs: reused " ..
      "when activation, seed and options match"},
    {"verbose", "flag", help = "one line per epoch as well as per run"},
  }}
local opt, given = cli.parse(arg, spec)
local function fail(msg) cli.fail(spec, msg) end

if opt.quick then
  opt.limit = opt.limit or 6000
  if not given.width then opt.width = 128 end
  if not given.seeds then opt.seeds = "3" end
end

local acts, listed = {}, {}
for name in opt.activations:gmatch("[^,%s]+") do
  if listed[name] then fail("option --activations lists " .. name .. " twice") end
  listed[name] = true
  if name ~= "maxout" then
    local ok, err = pcall(A.act.info, name)
    if not ok then fail((tostring(err):gsub("^.-actrun", "actrun"))) end
  end
  acts[#acts + 1] = name
end
if #acts == 0 then fail("option --activations is empty") end

local seeds = {}
if opt.seeds:match("^%d+$") then
  for s = 1, math.tointeger(tonumber(opt.seeds)) do seeds[s] = s end
else
  for s in opt.seeds:gmatch("[^,%s]+") do
    local n = math.tointeger(tonumber(s))
    if not n then fail("option --seeds expected N or a list of integers, got " .. opt.seeds) end
    seeds[#seeds + 1] = n
  end
end
if #seeds == 0 then fail("option --seeds expected at least one seed") end

-- with --tune lab.compare passes each activation's chosen rate as lr; else --lr
local tune_lrs
if opt.tune then
  tune_lrs = {}
  for item in opt.tune:gmatch("[^,]+") do
    local v = tonumber(item)
    if not v or not (v > 0 and v < math.huge) then
      fail("option --tune expected a comma list of learning rates > 0, got '" .. item .. "'")
    end
    tune_lrs[#tune_lrs + 1] = v
  end
  if #tune_lrs == 0 then fail("option --tune expected at least one learning rate") end
end

local OPTIMIZERS = {
  adam = function(p, lr) return optim.Adam(p, {lr = lr or opt.lr}) end,
  adamw = function(p, lr) return optim.AdamW(p, {lr = lr or opt.lr}) end,
  sgd = function(p, lr) return optim.SGD(p, {lr = lr or opt.lr, momentum = 0.9}) end,
  rmsprop = function(p, lr) return optim.RMSprop(p, {lr = lr or opt.lr}) end,
  adagrad = function(p, lr) return optim.Adagrad(p, {lr = lr or opt.lr}) end,
}

-- data: Fashion-MNIST when installed, else spirals
local ok, Xtr, ytr = pcall(data.fashion_mnist, {split = "train", limit = opt.limit})
local Xte, yte, task
if ok then
  Xte, yte = data.fashion_mnist{split = "test", limit = opt.limit and math.max(1, opt.limit // 6)}
  task = ("Fashion-MNIST (%d train, %d test images)"):format(Xtr:size(1), Xte:size(1))
else
  io.stderr:write("Fashion-MNIST not found (", tostring(Xtr):gsub("^.-actrun", "actrun"), ")\n",
    "Install it with: apt-get install dataset-fashion-mnist (or set ACTRUN_DATA).\n",
    "Falling back to a synthetic task: 3-class spirals.\n")
  local n = opt.limit and math.min(opt.limit, 3000) or 3000
  Xtr, ytr = data.spirals{n = n, classes = 3, noise = 0.1, seed = 1}
  Xte, yte = data.spirals{n = 900, classes = 3, noise = 0.1, seed = 2}
  task = ("spirals (%d train, 900 test points)"):format(n)
  -- a small task: more passes, so the activations have time to differ
  if not given.epochs then opt.epochs = opt.quick and 20 or 60 end
  if not given.lr then opt.lr = 1e-2 end
end
local nin, nclass = Xtr:size(2), math.floor(ytr:max():item())

local sizes = {nin}
for _ = 1, opt.depth do sizes[#sizes + 1] = opt.width end
sizes[#sizes + 1] = nclass

-- The init scheme of an activation. The ReLU family (units that pass about half their
-- input) keeps the variance with He's gain sqrt(2); selu's self-normalisation assumes
-- LeCun normal; the rest get Xavier normal with nn.init.gain where it knows the
-- activation (tanh 5/3), else 1.
local RELU_FAMILY = {relu = true, leaky_relu = true, prelu = true, elu = true, celu = true,
  gelu = true, silu = true, swish = true, mish = true, softplus = true, relu6 = true,
  maxout = true}
local function scheme(act)
  if opt.init == "same" or RELU_FAMILY[act] then return "he" end
  if act == "selu" then return "lecun" end
  return "xavier"
end

local function init_weights(model, act)
  local I, how = nn.init, scheme(act)
  local ok, gain = pcall(I.gain, act)
  if not ok then gain = 1 end
  A.no_grad(function()
    for _, e in ipairs(model:named_modules()) do
      local m = e.module
      if m.kind == "Linear" then
        if how == "he" then I.kaiming_normal(m.weight, {nonlinearity = "relu"})
        elseif how == "lecun" then I.lecun_normal(m.weight)
        else I.xavier_normal(m.weight, gain) end
        if m.bias then I.zeros(m.bias) end
      end
    end
  end)
  return model
end

-- The model of one activation: nn.mlp (prelu: learnable nn.PReLU slopes, one per unit),
-- then the weights of its init scheme. Activations of one scheme start from the same
-- weights for a given seed (maxout: other shapes).
local function model(act)
  local s = {activation = act}
  for l, n in ipairs(sizes) do s[l] = n end
  return init_weights(nn.mlp(s), act)
end

-- Under mpirun every rank runs this script; lab.compare spreads the runs and prints from
-- rank 0 only, and so does the rest of the script (say prints on rank 0).
local root = A.dist.rank() == 0
local function say(...) if root then print(...) end end

-- the output folder
local function mkdir(dir)
  local probe = io.open(dir .. "/.actrun-write-test", "w")
  if probe then
    probe:close()
    os.remove(dir .. "/.actrun-write-test")
    return true
  end
  os.execute("mkdir -p '" .. dir:gsub("'", "'\\''") .. "'")
  probe = io.open(dir .. "/.actrun-write-test", "w")
  if not probe then return false end
  probe:close()
  os.remove(dir .. "/.actrun-write-test")
  return true
end
if root and not mkdir(opt.out) then fail("cannot create or write the folder " .. opt.out) end

say(("actrun %s: %s MLP, %s lr %s, batch %d, %d epoch(s), seed(s) %s, init %s, " ..
  "%d thread(s), on %s"):format(A.version, table.concat(sizes, "-"), opt.optimizer,
    tune_lrs and ("tuned from " .. opt.tune) or ("%g"):format(opt.lr),
    opt.batch, opt.epochs, table.concat(seeds, ","), opt.init, A.get_num_threads(), task))

local t0 = A.clock()
local rows, summary = lab.compare{
  activations = acts, model = model,
  data = {train = {X = Xtr, y = ytr}, test = {X = Xte, y = yte}},
  optimizer = OPTIMIZERS[opt.optimizer],
  epochs = opt.epochs, batch = opt.batch, seeds = seeds,
  csv = opt.out .. "/compare.csv", plot = opt.out .. "/compare.svg",
  report = opt.out .. "/report.html",
  store = opt.store, verbose = opt.verbose,
  tune = tune_lrs and {lrs = tune_lrs, fraction = 0.2},
  -- what decides a run besides the loop settings: written to the CSV and the store
  provenance = {init = opt.init, optimizer = opt.optimizer,
    lr = tune_lrs and ("tuned from " .. opt.tune) or opt.lr,
    model = table.concat(sizes, "-"), task = task},
}
say(("init: %s (%s)"):format(opt.init, opt.init == "same" and "He for every activation" or
  "He for the ReLU family, LeCun for selu, Xavier with nn.init.gain for the rest"))
say(("\n%d runs in %.1f s. train loss: on up to 10000 training images after the last " ..
  "step; dead: share of"):format(#rows, A.clock() - t0))
say("hidden units that output exactly 0 on every test example; grad first/last: " ..
  "weight-gradient norm of the first Linear over that of the last, on one test batch.")

-- Claim 3: ReLU beats sigmoid and tanh. relu's paired difference to each, Holm-adjusted
-- over the two comparisons.
if root then
  local by = {}
  for _, s in ipairs(summary) do by[s.activation] = s end
  if not (by.relu and by.sigmoid and by.tanh) then
    print("claim 3 (ReLU beats sigmoid and tanh): no verdict, relu, sigmoid and tanh were " ..
      "not all in this comparison")
  elseif #seeds < 2 then
    print("claim 3 (ReLU beats sigmoid and tanh): no verdict with 1 seed (no paired test); " ..
      "use --seeds 3 or more")
  else
    local alpha = 0.05
    local function acc(name) return by[name].accuracies end
    local vs = {}
    for _, other in ipairs{"sigmoid", "tanh"} do
      vs[#vs + 1] = lab.stats.paired(acc("relu"), acc(other))
      vs[#vs].name = other
    end
    local adj = lab.stats.holm{vs[1].p, vs[2].p}
    local pos, neg, parts = 0, 0, {}
    for i, v in ipairs(vs) do
      v.p_adjusted = adj[i]
      if adj[i] < alpha then
        if v.diff > 0 then pos = pos + 1 elseif v.diff < 0 then neg = neg + 1 end
      end
      parts[i] = ("relu - %s %+.2f points [%+.2f, %+.2f], p (Holm) %.3g"):format(v.name,
        100 * v.diff, 100 * v.ci95[1], 100 * v.ci95[2], adj[i])
    end
    local status = pos == 2 and "SUPPORTED" or neg > 0 and "NOT SUPPORTED" or "MIXED"
    cli.verdict(status, "%s; %d seeds, paired t, alpha %g", table.concat(parts, "; "),
      #seeds, alpha)
  end
end
return rows, summary
