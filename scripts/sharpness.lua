-- Claim: smoother activations train into flatter minima. Sharpness here is the top
-- eigenvalue of the Hessian of the training loss w.r.t. all parameters.
-- 1. An MLP (784-64-64-10 by default) is trained with each activation on a Fashion-MNIST
--    subset (the first --n training images; spirals when the data set is not installed):
--    plain minibatch SGD at one learning rate for every activation, the same epochs, the
--    same init and the same batches per seed (a paired design: seed s gives every
--    activation the same starting weights and the same batch order).
-- 2. After training, the sharpness on a fixed evaluation batch (the first --eval training
--    examples) by power iteration on Hessian-vector products (actrun.grad twice: the
--    gradient with create_graph, then the gradient of sum_i g_i . v_i), --iters
--    iterations from a start vector fixed by --seed; the estimate is the Rayleigh quotient
--    v.Hv, and its relative change over the last iteration is reported (convergence).
--    Also the training loss and accuracy on the whole subset.
-- 3. Over the seeds: mean and 95% CI of the sharpness per activation; each other
--    activation against relu paired by seed (t test on log10 sharpness, so a ratio with a
--    CI), Holm-corrected over the comparisons; Spearman's rank correlation between the
--    smoothness class (act.properties: C0 < C1 < C2) and the sharpness over all runs.
--
-- Sharpness depends on the learning rate: full-batch GD drives it up to about 2/lr (the
-- edge of stability, Cohen et al. 2021) and SGD keeps it below that, so activations are
-- compared at one lr only and 2/lr is printed beside the results.
--
-- Verdict: SUPPORTED when every C2 activation's sharpness is below relu's with Holm p <
-- 0.05; NOT SUPPORTED when none is significantly below and each is significantly above
-- or equal within a tight CI (ratio CI inside [0.9, 1.1]); MIXED otherwise (does not
-- show at this scale).
--
--   actrun scripts/sharpness.lua [--quick] [--activations a,b] [--sizes 784,64,64,10]
--                                [--n N] [--eval N] [--epochs N] [--batch N] [--lr X]
--                                [--iters N] [--seed N] [--seeds N] [--plot FILE] [--csv FILE]
local A = rawget(_G, "actrun") or require "actrun"
local nn, data, stats = A.nn, A.data, A.lab.stats
local here = (arg and arg[0] or ""):match("^(.*)/") or "."
local cli = dofile(here .. "/lib/cli.lua")
local train = dofile(here .. "/lib/train.lua")

local spec = {
  usage = "actrun scripts/sharpness.lua [options]",
  about = "Top Hessian eigenvalue after training, per activation: do smoother activations end flatter?",
  options = {
    {"quick", "flag", help = "a smaller run (500 images, 10 epochs, 200 to evaluate, 10 iterations, 2 seeds)"},
    {"activations", "string", "relu,elu,gelu,silu,softplus,tanh",
      help = "comma-separated activations (relu is the reference)"},
    {"sizes", "string", "784,64,64,10", help = "MLP layer sizes (the first and last follow the data)"},
    {"n", "int", 2000, help = "training images (the first N of the training split)", min = 10},
    {"eval", "int", 1000, help = "examples of the fixed evaluation batch (the first N)", min = 1},
    {"epochs", "int", 30, help = "training epochs", min = 1},
    {"batch", "int", 64, help = "SGD batch size", min = 2},
    {"lr", "number", 0.1, help = "SGD learning rate (the same for every activation)", min = 0},
    {"iters", "int", 20, help = "power-iteration steps", min = 2},
    {"seed", "int", 1, help = "first seed (init, batches, start vector)"},
    {"seeds", "int", 5, help = "seeds seed, seed+1, ... (paired across activations)", min = 2},
    {"plot", "string", nil, help = "sharpness per activation with 95% CIs into FILE (.svg)", arg = "FILE"},
    {"csv", "string", nil, help = "one row per (activation, seed) into FILE", arg = "FILE"},
  }}
local opt, given = cli.parse(arg, spec)
if opt.quick then
  if not given.n then opt.n = 500 end
  if not given.eval then opt.eval = 200 end
  if not given.iters then opt.iters = 10 end
  if not given.epochs then opt.epochs = 10 end
  if not given.seeds then opt.seeds = 2 end
end

local names = {}
for w in opt.activations:gmatch("[^,%s]+") do
  if not pcall(A.act.info, w) then cli.fail(spec, "--activations: unknown activation '" .. w .. "'") end
  names[#names + 1] = w
end
if #names < 2 then cli.fail(spec, "--activations: give relu and at least one other") end
local sizes = {}
for w in opt.sizes:gmatch("[^,%s]+") do
  local v = math.tointeger(tonumber(w))
  if not v or v < 1 then cli.fail(spec, "--sizes: expected positive integers, got '" .. w .. "'") end
  sizes[#sizes + 1] = v
end
if #sizes < 2 then cli.fail(spec, "--sizes: need at least the input and output sizes") end

-- data: the first opt.n Fashion-MNIST training images, else spirals
local ok, X, y = pcall(data.fashion_mnist, {split = "train", limit = opt.n})
local task
if ok then
  task = ("Fashion-MNIST, the first %d training images"):format(X:size(1))
else
  io.stderr:write("Fashion-MNIST not found (", tostring(X):gsub("^.-actrun", "actrun"), ")\n",
    "Install it with: apt-get install dataset-fashion-mnist (or set ACTRUN_DATA).\n",
    "Falling back to a synthetic task: 3-class spirals.\n")
  X, y = data.spirals{n = opt.n, classes = 3, noise = 0.05, seed = 1}
  task = ("spirals, %d points"):format(opt.n)
end
local n = X:size(1)
sizes[1], sizes[#sizes] = X:size(2), math.floor(y:max():item())
opt.eval = math.min(opt.eval, n)
local Xe, ye = X:narrow(1, 1, opt.eval), y:narrow(1, 1, opt.eval)

-- smoothness class of an activation (C0: f' jumps, C1: f'' jumps, C2: neither)
local CLASS = {C0 = 0, C1 = 1, C2 = 2}
-- from act.properties; where it has no smoothness field, from its kinks (C0) and a jump
-- of f'' at 0 (C1), f'' taken as one-sided differences of act.scalar's f'
local function smoothness(name)
  local okp, p = pcall(A.act.properties, name)
  if not okp then return "?" end
  if p.smoothness then return p.smoothness end
  if #p.kinks > 0 then return "C0" end
  local h = 1e-4
  local function d1(x) return select(2, A.act.scalar(name, x)) end
  local left, right = (d1(-h) - d1(-2 * h)) / h, (d1(2 * h) - d1(h)) / h
  return math.abs(left - right) > 1e-2 * math.max(1, math.abs(left), math.abs(right)) and "C1" or "C2"
end
local smooth = {}
for _, a in ipairs(names) do smooth[a] = smoothness(a) end

-- ---------- Hessian-vector products and power iteration ----------

local function vdot(a, b)
  local s = 0
  for i = 1, #a do s = s + (a[i] * b[i]):sum():item() end
  return s
end

-- Top eigenvalue (largest in magnitude) of the Hessian of the loss on (Xb, yb) w.r.t. the
-- model's parameters: the Rayleigh quotient after `iters` steps; with the relative change
-- of the estimate over the last step and the estimates of every step.
local function top_eigenvalue(model, Xb, yb, iters, seed)
  local params = model:parameters()
  local loss = nn.cross_entropy(model(Xb), yb)
  local g = A.grad(loss, params, {create_graph = true})
  A.manual_seed(seed)
  local v = {}
  for i, p in ipairs(params) do v[i] = A.randn(p:shape()) end
  local nv = math.sqrt(vdot(v, v))
  for i = 1, #v do v[i] = v[i] / nv end
  local lam, prev, trace = 0, nil, {}
  for k = 1, iters do
    local gv = (g[1] * v[1]):sum()
    for i = 2, #g do gv = gv + (g[i] * v[i]):sum() end
    local hv = A.grad(gv, params, {retain_graph = true})
    for i = 1, #hv do hv[i] = hv[i]:detach() end
    prev, lam = lam, vdot(v, hv)
    trace[k] = lam
    local nh = math.sqrt(vdot(hv, hv))
    if nh == 0 then break end
    for i = 1, #v do v[i] = hv[i] / nh end
  end
  local rel = #trace >= 2 and math.abs(lam - prev) / math.max(math.abs(lam), 1e-30) or math.huge
  return lam, rel, trace
end

-- ---------- the runs ----------

local function run(act, seed)
  A.manual_seed(seed)
  local spec_m = {activation = act}
  for i, s in ipairs(sizes) do spec_m[i] = s end
  local model = nn.mlp(spec_m)
  local t0 = A.clock()
  local hist = train.fit(model, X, y, {epochs = opt.epochs, batch = opt.batch, lr = opt.lr,
    optimizer = "sgd", seed = seed})
  local ev = train.evaluate(model, X, y)
  local lam, rel = top_eigenvalue(model, Xe, ye, opt.iters, 1000 + seed)
  return {activation = act, smoothness = smooth[act], seed = seed, sharpness = lam, rel_change = rel,
    train_loss = ev.loss, train_accuracy = ev.accuracy, last_epoch_loss = hist[#hist],
    seconds = A.clock() - t0}
end

local t_start = A.clock()
local runs, all = {}, {}
for _, a in ipairs(names) do
  runs[a] = {}
  for s = 1, opt.seeds do
    local r = run(a, opt.seed + s - 1)
    runs[a][s] = r
    all[#all + 1] = r
  end
end

local function column(a, key)
  local out = {}
  for s, r in ipairs(runs[a]) do out[s] = r[key] end
  return out
end
local function log10(x) return math.log(math.max(x, 1e-30), 10) end
local function logs(list)
  local out = {}
  for i, v in ipairs(list) do out[i] = log10(v) end
  return out
end

print(("%s; MLP %s; SGD lr %g, batch %d, %d epochs; seeds %d..%d (same init and batches per seed)")
  :format(task, table.concat(sizes, "-"), opt.lr, opt.batch, opt.epochs, opt.seed, opt.seed + opt.seeds - 1))
print(("sharpness: top Hessian eigenvalue of the training loss on the first %d examples, %d power iterations")
  :format(opt.eval, opt.iters))
print(("(2/lr = %g: full-batch GD would drive the sharpness up to about this edge of stability)"):format(2 / opt.lr))
print()

-- per activation: mean and CI of the sharpness, worst convergence, loss and accuracy
local results = {runs = runs, lr = opt.lr, edge = 2 / opt.lr, activations = names}
local rows = {}
for _, a in ipairs(names) do
  local d = stats.describe(column(a, "sharpness"))
  local conv = 0
  for _, r in ipairs(runs[a]) do conv = math.max(conv, r.rel_change) end
  local row = {activation = a, smoothness = smooth[a], mean = d.mean, lo = d.ci95[1], hi = d.ci95[2],
    conv = conv, loss = stats.describe(column(a, "train_loss")).mean,
    acc = stats.describe(column(a, "train_accuracy")).mean}
  results[a] = row
  rows[#rows + 1] = row
end

-- paired against relu, on log10 sharpness, Holm over the comparisons
local others = {}
if runs.relu then
  local pv = {}
  for _, a in ipairs(names) do
    if a ~= "relu" then
      local p = stats.paired(logs(column(a, "sharpness")), logs(column("relu", "sharpness")))
      local below = 0
      for s = 1, opt.seeds do
        if runs[a][s].sharpness < runs.relu[s].sharpness then below = below + 1 end
      end
      p.below = below
      results[a].vs_relu = p
      others[#others + 1] = a
      pv[#pv + 1] = p.p
    end
  end
  local adj = stats.holm(pv)
  for i, a in ipairs(others) do results[a].vs_relu.p_adjusted = adj[i] end
end

local cols = {{"activation", "activation"}, {"class", "smoothness"},
  {"sharpness", "mean", "%.3f"},
  {"95% CI", function(r) return ("[%.3f, %.3f]"):format(r.lo, r.hi) end},
  {"ratio to relu", function(r) return r.vs_relu and 10 ^ r.vs_relu.diff end, "%.3f"},
  {"95% CI", function(r)
    local v = r.vs_relu
    return v and ("[%.3f, %.3f]"):format(10 ^ v.ci95[1], 10 ^ v.ci95[2])
  end},
  {"p Holm", function(r) return r.vs_relu and r.vs_relu.p_adjusted end, "%.4f"},
  {"lower", function(r) return r.vs_relu and ("%d/%d"):format(r.vs_relu.below, opt.seeds) end},
  {"train loss", "loss", "%.4f"}, {"train acc", "acc", "%.4f"},
  {"conv.", "conv", "%.1e"}}
cli.print_table(cols, rows)
print("(ratio: geometric mean over seeds of sharpness / relu's, paired t test on log10; lower: seeds")
print(" where it is below relu's; conv.: largest relative change of the estimate in the last iteration)")

-- Spearman's rank correlation between smoothness class and sharpness over all runs
local function ranks(list)
  local order = {}
  for i = 1, #list do order[i] = i end
  table.sort(order, function(i, j) return list[i] < list[j] end)
  local r, i = {}, 1
  while i <= #order do
    local j = i
    while j < #order and list[order[j + 1]] == list[order[i]] do j = j + 1 end
    for k = i, j do r[order[k]] = (i + j) / 2 end
    i = j + 1
  end
  return r
end
local function pearson(a, b)
  local n, ma, mb = #a, 0, 0
  for i = 1, n do ma, mb = ma + a[i] / n, mb + b[i] / n end
  local sab, saa, sbb = 0, 0, 0
  for i = 1, n do
    sab = sab + (a[i] - ma) * (b[i] - mb)
    saa, sbb = saa + (a[i] - ma) ^ 2, sbb + (b[i] - mb) ^ 2
  end
  if saa == 0 or sbb == 0 then return 0 / 0 end
  return sab / math.sqrt(saa * sbb)
end
local cls, sh = {}, {}
for _, r in ipairs(all) do
  if CLASS[r.smoothness] then
    cls[#cls + 1] = CLASS[r.smoothness]
    sh[#sh + 1] = r.sharpness
  end
end
local rho = #cls >= 3 and pearson(ranks(cls), ranks(sh)) or 0 / 0
results.spearman = rho
print()
print(("smoothness class (C0 < C1 < C2) against sharpness: Spearman rho %+.2f over %d runs (negative: smoother is flatter)")
  :format(rho, #cls))
local elapsed = A.clock() - t_start
results.seconds = elapsed
print(("%d runs in %.1f s"):format(#all, elapsed))

if opt.csv then
  local lines = {"activation,smoothness,seed,sharpness,rel_change,train_loss,train_accuracy,lr,seconds\n"}
  for _, r in ipairs(all) do
    lines[#lines + 1] = ("%s,%s,%d,%.9g,%.3g,%.9g,%.6f,%g,%.3f\n"):format(r.activation,
      r.smoothness, r.seed, r.sharpness, r.rel_change, r.train_loss, r.train_accuracy, opt.lr,
      r.seconds)
  end
  -- actrun's writer: atomic, and never over a device, pipe or write-protected file
  require("actrun.util").write_atomic("sharpness.lua", opt.csv, lines)
  print("csv: wrote " .. opt.csv)
end

if opt.plot then
  local labels, values, lo, hi = {}, {}, {}, {}
  for i, r in ipairs(rows) do
    labels[i] = r.activation .. " (" .. r.smoothness .. ")"
    values[i], lo[i], hi[i] = r.mean, r.lo, r.hi
  end
  cli.plot_grid{plots = {{type = "interval", labels = labels, values = values, lo = lo, hi = hi,
    xlabel = "top Hessian eigenvalue (mean, 95% CI over seeds)",
    note = ("SGD lr %g (2/lr = %g), %d seeds"):format(opt.lr, 2 / opt.lr, opt.seeds)}},
    columns = 1, file = opt.plot,
    title = ("Sharpness after training, MLP %s on %s"):format(table.concat(sizes, "-"), task)}
end

-- ---------- verdict ----------
print()
local c2 = {}
for _, a in ipairs(others) do
  if smooth[a] == "C2" then c2[#c2 + 1] = a end
end
if not runs.relu or #c2 == 0 then
  results.verdict = cli.verdict("MIXED",
    "not decided: the verdict needs relu and at least one C2 activation in --activations")
  return results
end
local lower, higher, equal, parts = 0, 0, 0, {}
for _, a in ipairs(c2) do
  local v = results[a].vs_relu
  local sig = v.p_adjusted < 0.05
  if sig and v.diff < 0 and v.below == opt.seeds then lower = lower + 1
  elseif sig and v.diff > 0 then higher = higher + 1
  elseif 10 ^ v.ci95[1] >= 0.9 and 10 ^ v.ci95[2] <= 1.1 then equal = equal + 1 end
  parts[#parts + 1] = ("%s x%.2f [%.2f, %.2f] p=%.3g"):format(a, 10 ^ v.diff, 10 ^ v.ci95[1],
    10 ^ v.ci95[2], v.p_adjusted)
end
local status
if lower == #c2 then
  status = "SUPPORTED"
elseif lower == 0 and higher + equal == #c2 then
  status = "NOT SUPPORTED"
else
  status = "MIXED"
end
local R = results.relu
local reason = ("%d seeds, SGD lr %g (2/lr = %g): relu sharpness %.3f [%.3f, %.3f]; C2 vs relu (ratio, Holm p): %s; " ..
  "%d of %d C2 significantly lower, %d higher; Spearman rho(class, sharpness) %+.2f")
  :format(opt.seeds, opt.lr, 2 / opt.lr, R.mean, R.lo, R.hi, table.concat(parts, "; "), lower, #c2,
    higher, rho)
if status == "MIXED" then reason = reason .. " (does not show at this scale)" end
results.verdict = cli.verdict(status, reason)
return results
