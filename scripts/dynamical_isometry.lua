-- Pennington, Schoenholz & Ganguli 2017 ("Resurrecting the sigmoid in deep learning
-- through dynamical isometry"): at the edge of chaos, a deep tanh network with orthogonal
-- weights can have an input-output Jacobian whose singular values all sit near one
-- (dynamical isometry), while Gaussian weights spread them over orders of magnitude, and
-- ReLU networks cannot be isometric with either init; the isometric networks train faster.
--
-- Measured with lab.jacobian_spectrum (the exact Jacobian of a random net of --depth
-- square layers at one N(0,1) input, SVD by LAPACK) over --seeds networks per setting:
-- tanh at the critical sigma_w2 (act.edge_of_chaos when present; else the closed form at
-- sigma_b2 = 0, sigma_w2 = 1) with orthogonal and Gaussian weights, and relu at its
-- critical sigma_w2 = 2 with both. The spread is var(s^2) / mean(s^2)^2 over the
-- singular values s (the normalised variance of the spectrum of J J^T; 0 for an
-- isometry); also printed: log10(s_max / s_median) and the mean of s^2. When
-- act.propagation exists its chi1 is printed beside them (mean s^2 is chi1^depth when q
-- starts at q*). Then each setting trains an MLP of the same depth and init (SGD) on
-- Fashion-MNIST (spirals without it): training loss per epoch.
--
-- Verdict: SUPPORTED when orthogonal tanh's spread is below a fifth of each other
-- setting's on every seed; NOT SUPPORTED when some other setting's is as narrow on most
-- seeds; MIXED otherwise. The training result is printed beside it (faster = lower
-- training loss after the first epoch).
--
--   actrun scripts/dynamical_isometry.lua [--quick] [--depth N] [--width N] [--seeds N]
--                                         [--sigma-b2 X] [--n N] [--epochs N] [--lr X]
--                                         [--seed N] [--plot FILE]
local A = rawget(_G, "actrun") or require "actrun"
local here = (arg and arg[0] or ""):match("^(.*)/") or "."
local cli = dofile(here .. "/lib/cli.lua")
local train = dofile(here .. "/lib/train.lua")
local S = dofile(here .. "/lib/sigprop.lua")

local spec = {
  usage = "actrun scripts/dynamical_isometry.lua [options]",
  about = "Jacobian singular values of deep tanh/relu nets: orthogonal critical tanh is isometric, relu is not.",
  options = {
    {"quick", "flag", help = "a smaller run (width 96, 2 seeds, 600 images, 2 epochs)"},
    {"depth", "int", 48, help = "layers (32-64 in the paper's range)", min = 2},
    {"width", "int", 256, help = "width of every layer", min = 2},
    {"seeds", "int", 3, help = "random networks per setting", min = 1},
    {"sigma_b2", "number", 0, help = "bias variance (> 0 needs act.edge_of_chaos)", min = 0},
    {"n", "int", 2000, help = "training images", min = 10},
    {"epochs", "int", 4, help = "training epochs", min = 1},
    {"batch", "int", 64, help = "SGD batch size", min = 2},
    {"lr", "number", 0.01, help = "SGD learning rate (momentum 0.9)", min = 0},
    {"seed", "int", 1, help = "first seed"},
    {"plot", "string", nil, help = "draw the spectra and the training losses into FILE (.svg)", arg = "FILE"},
  }}
local opt, given = cli.parse(arg, spec)
if opt.quick then
  if not given.width then opt.width = 96 end
  if not given.seeds then opt.seeds = 2 end
  if not given.n then opt.n = 600 end
  if not given.epochs then opt.epochs = 2 end
  if not given.depth then opt.depth = 32 end
end
local b2 = opt.sigma_b2
local tanh_w2, tanh_src = S.critical("tanh", b2)
if not tanh_w2 then
  cli.fail(spec, ("--sigma-b2 %g: tanh's critical sigma_w2 is %s"):format(b2, tanh_src))
end
local relu_w2 = 2
local settings = {
  {key = "tanh_orth", act = "tanh", init = "orthogonal", w2 = tanh_w2, label = "tanh orthogonal"},
  {key = "tanh_gauss", act = "tanh", init = "normal", w2 = tanh_w2, label = "tanh Gaussian"},
  {key = "relu_gauss", act = "relu", init = "normal", w2 = relu_w2, label = "relu Gaussian"},
  {key = "relu_orth", act = "relu", init = "orthogonal", w2 = relu_w2, label = "relu orthogonal"},
}

local t0 = os.clock()
local function log10(x) return math.log(math.max(x, 1e-300), 10) end
local results = {}
for _, st in ipairs(settings) do
  local r = {spread = {}, top = {}, mean_s2 = {}, setting = st}
  for s = 1, opt.seeds do
    local sv = A.lab.jacobian_spectrum{activation = st.act, init = st.init, sigma_w2 = st.w2,
      sigma_b2 = b2, depth = opt.depth, width = opt.width, seed = opt.seed + s - 1}
    local s2 = sv:square()
    local m = s2:mean():item()
    r.spread[s] = s2:var():item() / (m * m)
    local n = sv:numel()
    r.top[s] = log10(sv[1] / sv[(n + 1) // 2])
    r.mean_s2[s] = m
    if s == 1 then r.values = sv end
  end
  r.theory = S.propagation(st.act, st.w2, b2)
  results[st.key] = r
end

-- training speed
local Xtr, ytr, Xte, yte, task = S.load(opt.n, math.max(100, opt.n // 4))
local classes = math.floor(ytr:max():item())
for _, st in ipairs(settings) do
  A.manual_seed(opt.seed)
  local model = S.mlp(Xtr:size(2), opt.width, opt.depth, classes, st.act, st.init, st.w2, b2)
  local hist = train.fit(model, Xtr, ytr, {epochs = opt.epochs, batch = opt.batch,
    optimizer = "sgd", lr = opt.lr, momentum = 0.9, seed = opt.seed})
  local r = results[st.key]
  r.losses = hist
  r.test_accuracy = train.accuracy(model, Xte, yte)
end
local seconds = os.clock() - t0

print(("Jacobian of a random %d-layer net, width %d, sigma_b2 %g, %d seeds (tanh's critical sigma_w2 %g: %s)"):format(
  opt.depth, opt.width, b2, opt.seeds, tanh_w2, tanh_src))
print("spread = var(s^2) / mean(s^2)^2 over the singular values s (0 = isometry); medians over seeds")
local rows = {}
for _, st in ipairs(settings) do
  local r = results[st.key]
  rows[#rows + 1] = {label = st.label, w2 = st.w2, spread = cli.median(r.spread),
    lo = math.min(table.unpack(r.spread)), hi = math.max(table.unpack(r.spread)),
    top = cli.median(r.top), m = cli.median(r.mean_s2),
    chi = r.theory and r.theory.chi1, loss1 = r.losses[1], lossN = r.losses[#r.losses],
    acc = r.test_accuracy}
end
cli.print_table({{"setting", "label"}, {"sigma_w2", "w2", "%g"}, {"spread", "spread", "%.3g"},
  {"range over seeds", function(r) return ("[%.3g, %.3g]"):format(r.lo, r.hi) end},
  {"log10 smax/smed", "top", "%.2f"}, {"mean s^2", "m", "%.3g"},
  {"chi1 theory", function(r) return r.chi and ("%.4f"):format(r.chi) or "-" end},
  {"loss ep1", "loss1", "%.3f"}, {("loss ep%d"):format(opt.epochs), "lossN", "%.3f"},
  {"test acc", "acc", "%.3f"}}, rows)
print(("training: %s, SGD lr %g momentum 0.9, batch %d; (%.1f s of CPU)"):format(task, opt.lr,
  opt.batch, seconds))
if not S.has_theory() then print("(no act.propagation in this build: measurements only)") end

if opt.plot then
  local sp, ls = {}, {}
  for _, st in ipairs(settings) do
    local r = results[st.key]
    local ys, xs = {}, {}
    local n = r.values:numel()
    for i = 1, n do xs[i], ys[i] = i, math.max(r.values[i], 1e-30) end
    sp[#sp + 1] = {x = xs, y = ys, label = st.label}
    local ex = {}
    for e = 1, #r.losses do ex[e] = e end
    ls[#ls + 1] = {x = ex, y = r.losses, label = st.label}
  end
  cli.plot_grid{file = opt.plot, columns = 2,
    title = ("Dynamical isometry at depth %d: Jacobian spectrum and training"):format(opt.depth),
    plots = {{series = sp, ylog = true, title = "singular values (seed " .. opt.seed .. ")",
      xlabel = "rank", ylabel = "s"},
      {series = ls, title = "training loss", xlabel = "epoch", ylabel = "mean loss"}}}
end

print()
local orth = results.tanh_orth
local worst_ratio, worst_key, narrow_as = math.huge, nil, 0
for _, st in ipairs(settings) do
  if st.key ~= "tanh_orth" then
    local r, ok_seeds = results[st.key], 0
    for s = 1, opt.seeds do
      local ratio = r.spread[s] / orth.spread[s]
      if ratio < worst_ratio then worst_ratio, worst_key = ratio, st.label end
      if ratio <= 1 then ok_seeds = ok_seeds + 1 end
    end
    if ok_seeds > opt.seeds / 2 then narrow_as = narrow_as + 1 end
  end
end
local fastest, fastest_loss = nil, math.huge
for _, st in ipairs(settings) do
  local l = results[st.key].losses[1]
  if l == l and l < fastest_loss then fastest, fastest_loss = st.label, l end
end
local reason = ("spread of orthogonal tanh %.3g (median of %d seeds) vs the others %.3g / %.3g / %.3g; " ..
  "smallest ratio other/orthogonal tanh on one seed %.1f (%s); lowest first-epoch training loss: %s (%.3f)"):format(
  cli.median(orth.spread), opt.seeds, cli.median(results.tanh_gauss.spread),
  cli.median(results.relu_gauss.spread), cli.median(results.relu_orth.spread), worst_ratio,
  worst_key, fastest, fastest_loss)
local status
if worst_ratio > 5 then status = "SUPPORTED"
elseif narrow_as > 0 then status = "NOT SUPPORTED"
else status = "MIXED" end
results.verdict = cli.verdict(status, reason)
results.seconds, results.fastest = seconds, fastest
return results
