-- Claim 6.4: ReLU has slope 0 for x < 0, so a unit whose input is negative for every
-- example gets no gradient and never comes back ("dying ReLU"); Leaky ReLU and PReLU
-- keep a small slope there and fix it.
-- 1. The nets start healthy: He-initialised weights and zero biases, so every first-layer
--    unit's hyperplane passes through the (centred) data and almost no unit is dead at
--    init (the share is printed). Then a harsh setting kills ReLU units DURING training:
--    plain SGD with a large learning rate (--harsh lr, the default), where one big step
--    can push a unit's bias so far down that it is negative on every example. The same
--    MLP with ReLU, Leaky ReLU and PReLU (one learned slope per unit) is trained on three
--    spirals, on --seeds seeds (same data, init and batches per seed for the three).
--    --harsh bias starts the hidden biases at --bias instead (units dead from the start,
--    not dying), --harsh none is Adam at lr 0.01.
-- 2. Forward hooks on the activation layers see every hidden unit's input z on the whole
--    training set. Two counts per net, before and after training:
--      negative regime: z <= 0 for every example (the unit sits on its left branch);
--      dead: the output is exactly 0 for every example, so no gradient reaches the
--            unit's weights: only ReLU units can be dead; a leaky unit in the negative
--            regime still learns through its slope.
-- 3. Accuracy, and PReLU's learned slopes (mean, min, max; they start at 0.25). A run
--    whose loss became NaN (diverged) is counted and shown, not hidden.
--
-- Verdict, from paired differences over the seeds: SUPPORTED when ReLU units die during
-- training (dead after - dead before, CI above 0), more than Leaky ReLU's (dead share
-- ReLU - Leaky ReLU, CI above 0) and Leaky ReLU's units also leave the negative regime
-- (ReLU dead share - Leaky negative-regime share, CI above 0); MIXED when ReLU units die
-- but leaky units, alive, stay in the negative regime as often; NOT SUPPORTED when ReLU
-- units do not die during training.
--
--   actrun scripts/dying_relu.lua [--quick] [--harsh lr|bias|none] [--bias X] [--lr X]
--                                 [--width N] [--n N] [--epochs N] [--seed N] [--seeds N]
--                                 [--plot FILE]
local A = rawget(_G, "actrun") or require "actrun"
local nn, data = A.nn, A.data
local here = (arg and arg[0] or ""):match("^(.*)/") or "."
local cli = dofile(here .. "/lib/cli.lua")
local train = dofile(here .. "/lib/train.lua")

local spec = {
  usage = "actrun scripts/dying_relu.lua [options]",
  about = "Dead ReLU units under a harsh setting, against Leaky ReLU and PReLU (and PReLU's slopes).",
  options = {
    {"quick", "flag", help = "a smaller run (fewer points and epochs)"},
    {"harsh", "string", "lr", choices = {"lr", "bias", "none"},
      help = "a large SGD learning rate, negative initial biases, or neither"},
    {"bias", "number", -1, help = "initial bias of the hidden layers with --harsh bias"},
    {"lr", "number", nil, help = "learning rate (default: SGD 2.0 with --harsh lr, else Adam 0.01)", min = 0},
    {"width", "int", 64, help = "width of the two hidden layers", min = 1},
    {"n", "int", 600, help = "spiral points", min = 3},
    {"epochs", "int", 60, help = "training epochs (batch 32)", min = 1},
    {"seed", "int", 1, help = "first seed of the data, the init and the shuffles"},
    {"seeds", "int", 5, help = "seeds seed, seed+1, ... (paired across the activations)", min = 2},
    {"plot", "string", nil, help = "draw the training loss curves into FILE (.svg)", arg = "FILE"},
  }}
local opt, given = cli.parse(arg, spec)
if opt.quick then
  if not given.n then opt.n = 300 end
  if not given.epochs then opt.epochs = 20 end
  if not given.seeds then opt.seeds = 3 end
end
local sgd = opt.harsh == "lr"
opt.lr = opt.lr or (sgd and 2.0 or 0.01)
local stats = A.lab.stats

local X, y

local function activation(name, width)
  if name == "prelu" then return nn.PReLU(width) end
  return nn.Activation(name)
end

local function model_for(name)
  local w = opt.width
  local m = nn.Sequential(nn.Linear(2, w, {init = "kaiming_normal"}), activation(name, w),
    nn.Linear(w, w, {init = "kaiming_normal"}), activation(name, w), nn.Linear(w, 3))
  A.no_grad(function()
    m[1].bias:fill(opt.harsh == "bias" and opt.bias or 0)
    m[3].bias:fill(opt.harsh == "bias" and opt.bias or 0)
  end)
  return m
end

-- Units (over both hidden layers) in the negative regime / dead on the whole of X.
-- Also returns the number of dead units per layer.
local function census(m)
  local units, negative, dead, per_layer = 0, 0, 0, {}
  local handles = {}
  for _, e in ipairs(m:named_modules()) do
    if e.module.is_activation then
      handles[#handles + 1] = e.module:add_hook(function(_, z, out)
        units = units + z:size(2)
        negative = negative + z:le(0):min(1):sum():item()
        local d = out:eq(0):min(1):sum():item()
        dead = dead + d
        per_layer[#per_layer + 1] = math.tointeger(d)
      end)
    end
  end
  train.evaluating(m, function(mm) return mm(X) end)
  for _, h in ipairs(handles) do h.remove() end
  return negative / units, dead / units, per_layer
end

local NAMES = {"relu", "leaky_relu", "prelu"}
local runs, series = {}, {}
for _, name in ipairs(NAMES) do runs[name] = {} end
for k = 1, opt.seeds do
  local seed = opt.seed + k - 1
  X, y = data.spirals{n = opt.n, classes = 3, noise = 0.05, seed = seed}
  for _, name in ipairs(NAMES) do
    A.manual_seed(seed)
    local m = model_for(name)
    local neg0, dead0 = census(m)
    local history = train.fit(m, X, y, {epochs = opt.epochs, batch = 32, lr = opt.lr,
      optimizer = sgd and "sgd" or "adam", seed = seed})
    local neg1, dead1, layers1 = census(m)
    local loss = history[#history]
    local r = {neg0 = neg0, dead0 = dead0, neg1 = neg1, dead1 = dead1,
      acc = train.accuracy(m, X, y), loss = loss, diverged = loss ~= loss, dead_per_layer = layers1}
    if name == "prelu" then
      local slopes = A.cat({m[2].weight, m[4].weight}, 1)
      r.slopes = {mean = slopes:mean():item(), min = slopes:min():item(), max = slopes:max():item()}
    end
    runs[name][k] = r
    if k == 1 then
      local xs = {}
      for i = 1, #history do xs[i] = i end
      series[#series + 1] = {x = xs, y = history, label = name}
    end
  end
end

local function column(name, key)
  local list = {}
  for k, r in ipairs(runs[name]) do list[k] = r[key] end
  return list
end
local function mean(list)
  local s = 0
  for _, v in ipairs(list) do s = s + v end
  return s / #list
end
local rows, results = {}, {runs = runs}
for _, name in ipairs(NAMES) do
  local r = {name = name, runs = runs[name], diverged = 0}
  for _, key in ipairs{"neg0", "dead0", "neg1", "dead1", "acc"} do r[key] = mean(column(name, key)) end
  for _, x in ipairs(runs[name]) do if x.diverged then r.diverged = r.diverged + 1 end end
  local d = stats.describe(column(name, "dead1"))
  r.dead1_ci = d.ci95
  r.dead_per_layer = runs[name][1].dead_per_layer
  r.slopes = runs[name][1].slopes
  rows[#rows + 1] = r
  results[name] = r
end

local setting = opt.harsh == "bias" and ("hidden biases start at " .. opt.bias .. ", Adam lr " .. opt.lr)
  or opt.harsh == "lr" and ("SGD with a large learning rate, lr " .. opt.lr)
  or ("default init, Adam lr " .. opt.lr)
print(("Three spirals, %d points; MLP 2 -> %d -> %d -> 3, He init, %s; batch 32, %d epochs; seeds %d..%d.")
  :format(opt.n, opt.width, opt.width, setting, opt.epochs, opt.seed, opt.seed + opt.seeds - 1))
print(("Shares of the %d hidden units on the whole training set, mean over the seeds:"):format(2 * opt.width))
cli.print_table({
  {"activation", "name"},
  {"negative regime, before", "neg0", "%.3f"}, {"dead, before", "dead0", "%.3f"},
  {"negative regime, after", "neg1", "%.3f"}, {"dead, after", "dead1", "%.3f"},
  {"dead after, 95% CI", function(r) return ("[%.3f, %.3f]"):format(r.dead1_ci[1], r.dead1_ci[2]) end},
  {"accuracy", "acc", "%.4f"}, {"diverged (NaN loss)", "diverged", "%d"},
}, rows)
print("per seed, ReLU dead share before -> after: " .. (function()
  local parts = {}
  for k, r in ipairs(runs.relu) do parts[k] = ("%.3f -> %.3f"):format(r.dead0, r.dead1) end
  return table.concat(parts, ", ")
end)())
print("(negative regime: z <= 0 for every example; dead: output exactly 0 for every example, so no")
print(" gradient: only a ReLU unit can be dead, a leaky unit in its negative regime still learns)")
local per = results.relu.dead_per_layer
print(("ReLU after training, seed %d: %d of %d units dead in hidden layer 1, %d of %d in hidden layer 2%s")
  :format(opt.seed, per[1], opt.width, per[2], opt.width,
    per[2] == opt.width and " (the whole layer: the output no longer depends on the input)" or ""))
local s = results.prelu.slopes
print(("\nPReLU's learned slopes (%d, one per unit, initial 0.25), per seed:"):format(2 * opt.width))
cli.print_table({{"seed", "seed", "%d"}, {"mean", "mean", "%.4f"}, {"min", "min", "%.4f"},
  {"max", "max", "%.4f"}, {"diverged", "div"}}, (function()
  local list = {}
  for k, r in ipairs(runs.prelu) do
    list[k] = {seed = opt.seed + k - 1, mean = r.slopes.mean, min = r.slopes.min, max = r.slopes.max,
      div = r.diverged and "yes (NaN)" or "no"}
  end
  return list
end)())

-- paired over the seeds
local died = stats.paired(column("relu", "dead1"), column("relu", "dead0"))
local vs_dead = stats.paired(column("relu", "dead1"), column("leaky_relu", "dead1"))
local vs_neg = stats.paired(column("relu", "dead1"), column("leaky_relu", "neg1"))
results.died, results.vs_dead, results.vs_neg = died, vs_dead, vs_neg
local function ci(p) return ("%+.3f [%+.3f, %+.3f]"):format(p.diff, p.ci95[1], p.ci95[2]) end
print()
local status
if died.ci95[1] <= 0 then
  status = "NOT SUPPORTED"
elseif vs_dead.ci95[1] > 0 and vs_neg.ci95[1] > 0 then
  status = "SUPPORTED"
else
  status = "MIXED"
end
local reason = ("%d seeds, %s: ReLU dead share %.3f at init -> %.3f after, died in training %s; " ..
  "ReLU - Leaky ReLU dead %s; ReLU dead - Leaky ReLU negative regime %s"):format(opt.seeds, setting,
  results.relu.dead0, results.relu.dead1, ci(died), ci(vs_dead), ci(vs_neg))
if status == "MIXED" then
  reason = reason .. " (leaky units stay alive but stay in the negative regime as often)"
end
if results.prelu.diverged > 0 then
  reason = reason .. ("; PReLU diverged on %d of %d seeds"):format(results.prelu.diverged, opt.seeds)
end
results.verdict = cli.verdict(status, reason)

if opt.plot then
  cli.plot_line{series = series, title = "Dying ReLU: training loss (" .. opt.harsh .. ")",
    xlabel = "epoch", ylabel = "cross-entropy", file = opt.plot}
end
return results
