-- Claim (Molina et al. 2020, "Padé Activation Units"): a learnable rational activation,
-- initialised as leaky_relu and trained with the network, matches or beats the best of
-- the fixed activations. Here: an MLP on Fashion-MNIST (a small CNN with --cnn), PAU
-- (m=5, n=4, one coefficient set per layer, fitted to leaky_relu at construction)
-- against relu, gelu, silu and leaky_relu, each over --seeds seeds with the same data,
-- init seed and batch order per seed (lab.compare: paired t-tests over seeds, Holm over
-- the comparisons against the best).
-- Without the data set (apt-get install dataset-fashion-mnist, or ACTRUN_DATA) it runs on
-- 3-class spirals and says so.
--
-- Verdict: SUPPORTED when PAU is the best or tied with the best (Holm-adjusted p >= 0.05
-- against it); NOT SUPPORTED when the best fixed activation beats PAU significantly and
-- by more than one point of accuracy; MIXED when it beats it significantly by less.
--
--   actrun scripts/pau_vs_fixed.lua [--quick] [--seeds N] [--epochs N] [--limit N]
--                                    [--width N] [--lr X] [--cnn] [--seed N]
local A = rawget(_G, "actrun") or require "actrun"
local nn, data, lab, optim = A.nn, A.data, A.lab, A.optim
local here = (arg and arg[0] or ""):match("^(.*)/") or "."
local cli = dofile(here .. "/lib/cli.lua")

local spec = {
  usage = "actrun scripts/pau_vs_fixed.lua [options]",
  about = "PAU (learnable rational activation) against relu, gelu, silu, leaky_relu, paired over seeds.",
  options = {
    {"quick", "flag", help = "a smaller run (fewer images, epochs and seeds)"},
    {"seeds", "int", 5, help = "seeds (paired runs)", min = 2},
    {"seed", "int", 1, help = "first seed"},
    {"epochs", "int", 5, help = "training epochs (Adam, batch 64)", min = 1},
    {"limit", "int", 10000, help = "Fashion-MNIST training images (test: a sixth)", min = 60},
    {"width", "int", 128, help = "width of the two hidden layers", min = 1},
    {"lr", "number", 1e-3, help = "Adam learning rate", min = 0},
    {"cnn", "flag", help = "a small CNN (two conv layers) instead of the MLP"},
  }}
local opt, given = cli.parse(arg, spec)
if opt.quick then
  if not given.limit then opt.limit = 1500 end
  if not given.epochs then opt.epochs = 3 end
  if not given.seeds then opt.seeds = 3 end
  if not given.width then opt.width = 64 end
end
local ACTS = {"pau", "relu", "gelu", "silu", "leaky_relu"}

local ok, Xtr, ytr = pcall(data.fashion_mnist, {split = "train", limit = opt.limit})
local Xte, yte, task, image
if ok then
  Xte, yte = data.fashion_mnist{split = "test", limit = math.max(1, opt.limit // 6)}
  task = ("Fashion-MNIST (%d train, %d test images)"):format(Xtr:size(1), Xte:size(1))
  image = true
else
  io.stderr:write("Fashion-MNIST not found; install it with: apt-get install ",
    "dataset-fashion-mnist (or set ACTRUN_DATA).\nFalling back to a synthetic task: 3-class spirals.\n")
  local n = math.min(opt.limit, 3000)
  Xtr, ytr = data.spirals{n = n, classes = 3, noise = 0.1, seed = 1}
  Xte, yte = data.spirals{n = 900, classes = 3, noise = 0.1, seed = 2}
  task = ("spirals (%d train, 900 test points)"):format(n)
  if not given.epochs then opt.epochs = opt.quick and 15 or 40 end
  if not given.lr then opt.lr = 1e-2 end
  opt.cnn = false
end
local nin, nclass = Xtr:size(2), math.floor(ytr:max():item())

local function activation(name, channels)
  if name == "pau" then return nn.PAU{init = "leaky_relu", per_channel = channels} end
  return nn.Activation(name)
end

local function model(name)
  if opt.cnn and image then
    local Reshape = nn.Module:extend("Reshape")
    function Reshape:forward(x) return x:reshape{x:size(1), 1, 28, 28} end
    return nn.Sequential(Reshape(), nn.Conv2d(1, 8, 3, {padding = 1}), activation(name),
      nn.MaxPool2d(2), nn.Conv2d(8, 16, 3, {padding = 1}), activation(name), nn.MaxPool2d(2),
      nn.Flatten(), nn.Linear(16 * 7 * 7, opt.width), activation(name),
      nn.Linear(opt.width, nclass))
  end
  return nn.Sequential(nn.Linear(nin, opt.width), activation(name),
    nn.Linear(opt.width, opt.width), activation(name), nn.Linear(opt.width, nclass))
end

print(("task: %s; %s, %d epochs, %d seeds"):format(task, opt.cnn and "CNN" or
  ("MLP %d-%d-%d-%d"):format(nin, opt.width, opt.width, nclass), opt.epochs, opt.seeds))
local seeds = {}
for s = opt.seed, opt.seed + opt.seeds - 1 do seeds[#seeds + 1] = s end
local rows, summary = lab.compare{
  activations = ACTS, model = model, seeds = seeds, epochs = opt.epochs, batch = 64,
  optimizer = function(p) return optim.Adam(p, {lr = opt.lr}) end,
  data = {train = {X = Xtr, y = ytr}, test = {X = Xte, y = yte}},
}

local by = {}
for _, s in ipairs(summary) do by[s.activation] = s end
local best = summary[1]
local best_fixed
for _, s in ipairs(summary) do
  if s.activation ~= "pau" then best_fixed = s break end
end
print()
local cols = {{"rank"}, {"activation", align = "left"}, {"test accuracy"}, {"95% CI"}, {"diff vs best"},
  {"p (Holm)"}, {"tied", align = "left"}}
local trows = {}
for i, s in ipairs(summary) do
  trows[i] = {tostring(i), s.activation, ("%.4f"):format(s.mean),
    ("[%.4f, %.4f]"):format(s.ci95[1], s.ci95[2]),
    s.activation == best.activation and "-" or ("%+.4f"):format(s.diff),
    s.activation == best.activation and "-" or ("%.3g"):format(s.p_adjusted),
    s.tied_with_best and "yes" or "no"}
end
cli.print_table(cols, trows)

-- PAU against the best fixed activation, paired by seed
local function accs(name)
  local t = {}
  for _, r in ipairs(rows) do if r.activation == name then t[#t + 1] = r.test_accuracy end end
  return t
end
local pair = lab.stats.paired(accs("pau"), accs(best_fixed.activation))
print(("\nPAU - %s (best fixed): %+.4f, 95%% CI [%+.4f, %+.4f], p = %.3g (paired t, %d seeds)")
  :format(best_fixed.activation, pair.diff, pair.ci95[1], pair.ci95[2], pair.p, #seeds))

local results = {rows = rows, summary = summary, pau = by.pau, best_fixed = best_fixed,
  paired = pair, task = task}
local status, why
local p = by.pau
if best.activation == "pau" or p.tied_with_best then
  status = "SUPPORTED"
  why = ("PAU %.4f vs best fixed %s %.4f: %s (PAU - best fixed %+.4f, 95%% CI [%+.4f, %+.4f])")
    :format(p.mean, best_fixed.activation, best_fixed.mean,
      best.activation == "pau" and "PAU ranks first" or
        ("tied with the best, Holm p = %.3g"):format(p.p_adjusted),
      pair.diff, pair.ci95[1], pair.ci95[2])
else
  status = -pair.diff > 0.01 and "NOT SUPPORTED" or "MIXED"
  why = ("PAU %.4f is below %s %.4f (Holm p = %.3g, PAU - best fixed %+.4f, 95%% CI [%+.4f, %+.4f])")
    :format(p.mean, best.activation, best.mean, p.p_adjusted, pair.diff, pair.ci95[1], pair.ci95[2])
end
results.verdict = cli.verdict(status, why)
return results
