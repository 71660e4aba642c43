-- Claims on Kolmogorov-Arnold networks at this scale:
--   (a) Liu et al. 2024 (KAN): on symbolic functions a KAN is more accurate than an MLP
--       with as many or more parameters;
--   (b) Yu et al. 2024 (KAN or MLP: a fairer comparison): with parameters matched, MLPs
--       win on other tasks (here Fashion-MNIST);
--   (c) the common remark that KANs train "typically 10x slower" than MLPs.
--
-- (a) Symbolic regression of f(x, y) = exp(sin(pi x) + y^2) on [-1, 1]^2 (the KAN paper's
--     example), full-batch Adam on --n points, test MSE on as many fresh points. Models:
--     KAN [2, 5, 1] on grid 5; the same with grid extension (5 -> 10 -> 20 at a third and
--     two thirds of the steps: extend_grid on the first layer, update_grid + extend_grid
--     on the second, a new Adam after each); a tanh MLP 2-h-h-1 with h chosen so that it
--     has at least the extended KAN's parameters; and a wider MLP (h = 4x that).
-- (b) Fashion-MNIST (--train images, --test images; the 3-class spirals when the data
--     set is not installed): KAN [784, 16, 10] on grid 5 against a ReLU MLP 784-h-10 with
--     h matched to its parameter count; Adam 1e-3, batch 128, --epochs epochs, inputs
--     scaled to [-1, 1] for both. Test accuracy and seconds per epoch.
-- Every model runs on the same --seeds seeds (same data, same batches per seed), so
-- comparisons are paired by seed: mean difference, 95% CI and paired t test.
--
-- Verdict: SUPPORTED when both (a) and (b) hold at this scale (the extended KAN's test
-- log10 MSE below the matched MLP's with the CI's upper end < 0; the matched MLP's test
-- accuracy above the KAN's with the CI's lower end > 0), NOT SUPPORTED when neither holds,
-- MIXED otherwise; the time ratio (c) is reported beside it.
--
--   actrun scripts/kan_vs_mlp.lua [--quick] [--steps N] [--n N] [--epochs N]
--                                 [--train N] [--test N] [--seed N] [--seeds N]
local A = rawget(_G, "actrun") or require "actrun"
local nn, optim, data, lab = A.nn, A.optim, A.data, A.lab
local stats = lab.stats
local here = (arg and arg[0] or ""):match("^(.*)/") or "."
local cli = dofile(here .. "/lib/cli.lua")

local spec = {
  usage = "actrun scripts/kan_vs_mlp.lua [options]",
  about = "KAN against parameter-matched MLPs: a symbolic function and Fashion-MNIST.",
  options = {
    {"quick", "flag", help = "a small run (under a minute): fewer steps, images and seeds"},
    {"steps", "int", 3000, help = "full-batch Adam steps on the symbolic task", min = 3},
    {"n", "int", 1000, help = "training (and test) points of the symbolic task", min = 10},
    {"epochs", "int", 5, help = "Fashion-MNIST epochs", min = 1},
    {"train", "int", 20000, help = "Fashion-MNIST training images", min = 100},
    {"test", "int", 5000, help = "Fashion-MNIST test images", min = 100},
    {"seed", "int", 1, help = "first seed"},
    {"seeds", "int", 5, help = "seeds seed, seed+1, ... (paired across models)", min = 2},
  }}
local opt, given = cli.parse(arg, spec)
if opt.quick then
  if not given.steps then opt.steps = 600 end
  if not given.n then opt.n = 400 end
  if not given.epochs then opt.epochs = 2 end
  if not given.train then opt.train = 2000 end
  if not given.test then opt.test = 1000 end
  if not given.seeds then opt.seeds = 3 end
end
A.set_num_threads(1) -- times comparable across models (and machines' core counts)

local results = {opt = opt}
local function log10(v) return math.log(v, 10) end
local seeds = {}
for s = 1, opt.seeds do seeds[s] = opt.seed + s - 1 end

-- ---------- (a) symbolic regression ----------
local function target(X)
  local x, y = X:select(2, 1), X:select(2, 2)
  return ((x * math.pi):sin() + y:square()):exp():unsqueeze(2)
end

local function mlp2(h)
  return nn.Sequential(nn.Linear(2, h), nn.Tanh(), nn.Linear(h, h), nn.Tanh(), nn.Linear(h, 1))
end
local function mlp2_params(h) return h * h + 5 * h + 1 end
-- the KAN [2, 5, 1] after extension to grid 20 (order 3): 15 edges of 20 + 3 + 2 numbers
local kan_final_params = nn.kan{2, 5, 1, grid = 20}:num_parameters()
local h_match = 1
while mlp2_params(h_match) < kan_final_params do h_match = h_match + 1 end

local sym_models = {
  {name = "kan", label = "KAN [2,5,1] grid 5", make = function() return nn.kan{2, 5, 1, grid = 5} end},
  {name = "kan_grid", label = "KAN [2,5,1] grid 5->10->20", extend = true,
    make = function() return nn.kan{2, 5, 1, grid = 5} end},
  {name = "mlp", label = ("MLP 2-%d-%d-1 tanh"):format(h_match, h_match),
    make = function() return mlp2(h_match) end},
  {name = "mlp_wide", label = ("MLP 2-%d-%d-1 tanh"):format(4 * h_match, 4 * h_match),
    make = function() return mlp2(4 * h_match) end},
}

-- one run: the model trained on the seed's data; test MSE, parameters, seconds
local function run_symbolic(m, seed)
  A.manual_seed(seed)
  local X = A.rand(opt.n, 2) * 2 - 1
  local Y = target(X)
  local Xt = A.rand(opt.n, 2) * 2 - 1
  local Yt = target(Xt)
  A.manual_seed(1000 + seed) -- the same initialisation stream for every model kind
  local model = m.make()
  local adam = optim.Adam(model:parameters(), {lr = 0.01})
  local stages = m.extend and {opt.steps // 3, 2 * opt.steps // 3} or {}
  local grids = {10, 20}
  local t0 = A.clock()
  for step = 1, opt.steps do
    for k, at in ipairs(stages) do
      if step == at + 1 then
        A.no_grad(function()
          model[1]:extend_grid(grids[k])
          local h = model[1](X)
          model[2]:update_grid(h)
          model[2]:extend_grid(grids[k], h)
        end)
        adam = optim.Adam(model:parameters(), {lr = 0.01})
      end
    end
    adam:zero_grad()
    local loss = nn.mse(model(X), Y)
    loss:backward()
    adam:step()
  end
  local secs = A.clock() - t0
  local mse = A.no_grad(function() return nn.mse(model(Xt), Yt):item() end)
  return {mse = mse, params = model:num_parameters(), seconds = secs}
end

print(("(a) symbolic regression f(x,y) = exp(sin(pi x) + y^2) on [-1,1]^2: %d points, %d full-batch Adam steps (lr 0.01), %d seeds")
  :format(opt.n, opt.steps, opt.seeds))
local sym = {}
for _, m in ipairs(sym_models) do
  local r = {runs = {}, lmse = {}}
  for s, seed in ipairs(seeds) do
    r.runs[s] = run_symbolic(m, seed)
    r.lmse[s] = log10(r.runs[s].mse)
  end
  r.params = r.runs[1].params
  r.d = stats.describe(r.lmse)
  local secs = {}
  for s = 1, #seeds do secs[s] = r.runs[s].seconds end
  r.seconds = cli.median(secs)
  sym[m.name] = r
end
results.symbolic = sym
local rows = {}
for _, m in ipairs(sym_models) do
  local r = sym[m.name]
  rows[#rows + 1] = {model = m.label, params = r.params, mse = 10 ^ r.d.mean, lo = 10 ^ r.d.ci95[1],
    hi = 10 ^ r.d.ci95[2], ms = 1e3 * r.seconds / opt.steps}
end
cli.print_table({{"model", "model"}, {"params", "params", "%d"},
  {"test MSE (geo. mean)", "mse", "%.3e"},
  {"95% CI", function(r) return ("[%.2e, %.2e]"):format(r.lo, r.hi) end},
  {"ms/step", "ms", "%.2f"}}, rows)
local pa = stats.paired(sym.kan_grid.lmse, sym.mlp.lmse)
local pa0 = stats.paired(sym.kan.lmse, sym.mlp.lmse)
results.sym_paired, results.sym_paired_nogrid = pa, pa0
print(("paired by seed, log10 test MSE: KAN+grid - MLP %+.2f [%+.2f, %+.2f] (p = %.3g); KAN grid 5 - MLP %+.2f [%+.2f, %+.2f] (p = %.3g)")
  :format(pa.diff, pa.ci95[1], pa.ci95[2], pa.p, pa0.diff, pa0.ci95[1], pa0.ci95[2], pa0.p))
print()

-- ---------- (b) Fashion-MNIST ----------
local ok, Xtr, ytr = pcall(data.fashion_mnist, {split = "train", limit = opt.train})
local Xte, yte, task
if ok then
  Xte, yte = data.fashion_mnist{split = "test", limit = opt.test}
  task = ("Fashion-MNIST, %d training and %d test images"):format(Xtr:size(1), Xte:size(1))
else
  io.stderr:write("Fashion-MNIST not found (", tostring(Xtr):gsub("^.-actrun", "actrun"), ")\n",
    "Install it with: apt-get install dataset-fashion-mnist (or set ACTRUN_DATA).\n",
    "Falling back to a synthetic task: 3-class spirals.\n")
  Xtr, ytr = data.spirals{n = opt.train, classes = 3, noise = 0.05, seed = 1}
  Xte, yte = data.spirals{n = opt.test, classes = 3, noise = 0.05, seed = 2}
  -- into [0, 1] like pixels
  local lo, hi = Xtr:min():item(), Xtr:max():item()
  Xtr, Xte = (Xtr - lo) / (hi - lo), ((Xte - lo) / (hi - lo)):clamp(0, 1)
  task = ("3-class spirals (Fashion-MNIST not installed), %d training and %d test points")
    :format(Xtr:size(1), Xte:size(1))
end
results.task = task
Xtr, Xte = Xtr * 2 - 1, Xte * 2 - 1
local n_in, n_cls = Xtr:size(2), math.tointeger(ytr:max():item())
local kan_hidden = 16
local kan_params = nn.kan{n_in, kan_hidden, n_cls}:num_parameters()
-- MLP n_in-h-n_cls: (n_in + 1) h + (h + 1) n_cls parameters
local h_cls = math.max(1, math.floor((kan_params - n_cls) / (n_in + 1 + n_cls) + 0.5))
local cls_models = {
  {name = "kan", label = ("KAN [%d,%d,%d] grid 5"):format(n_in, kan_hidden, n_cls),
    make = function() return nn.kan{n_in, kan_hidden, n_cls, grid = 5} end},
  {name = "mlp", label = ("MLP %d-%d-%d relu"):format(n_in, h_cls, n_cls),
    make = function() return nn.mlp{n_in, h_cls, n_cls, activation = "relu"} end},
}
print(("(b) %s: Adam 1e-3, batch 128, %d epochs, %d seeds, 1 thread"):format(task, opt.epochs, opt.seeds))
local cls = {}
for _, m in ipairs(cls_models) do
  local r = {acc = {}, secs = {}}
  for s, seed in ipairs(seeds) do
    A.manual_seed(1000 + seed)
    local model = m.make()
    local hist = lab.train(model, {X = Xtr, y = ytr}, {epochs = opt.epochs, batch = 128,
      optimizer = optim.Adam(model:parameters(), {lr = 1e-3}), seed = seed, progress = false})
    local total = 0
    for _, row in ipairs(hist) do total = total + row.seconds end
    r.secs[s] = total / #hist
    r.acc[s] = lab.evaluate(model, Xte, yte).accuracy
    r.params = model:num_parameters()
  end
  r.d = stats.describe(r.acc)
  r.seconds = cli.median(r.secs)
  cls[m.name] = r
end
results.classification = cls
rows = {}
for _, m in ipairs(cls_models) do
  local r = cls[m.name]
  rows[#rows + 1] = {model = m.label, params = r.params, acc = 100 * r.d.mean,
    lo = 100 * r.d.ci95[1], hi = 100 * r.d.ci95[2], s = r.seconds}
end
cli.print_table({{"model", "model"}, {"params", "params", "%d"},
  {"test accuracy %", "acc", "%.2f"},
  {"95% CI", function(r) return ("[%.2f, %.2f]"):format(r.lo, r.hi) end},
  {"s/epoch", "s", "%.3f"}}, rows)
local pb = stats.paired(cls.mlp.acc, cls.kan.acc)
results.cls_paired = pb
local ratio = cls.kan.seconds / cls.mlp.seconds
local sym_ratio = sym.kan.seconds / sym.mlp.seconds
results.time_ratio, results.sym_time_ratio = ratio, sym_ratio
print(("paired by seed, test accuracy MLP - KAN: %+.2f points [%+.2f, %+.2f] (p = %.3g)")
  :format(100 * pb.diff, 100 * pb.ci95[1], 100 * pb.ci95[2], pb.p))
print(("time per epoch KAN / MLP: %.2fx (classification), %.2fx per step (symbolic)")
  :format(ratio, sym_ratio))
print()

local a_holds = pa.ci95[2] < 0
local b_holds = pb.ci95[1] > 0
results.a_holds, results.b_holds = a_holds, b_holds
local status = a_holds and b_holds and "SUPPORTED" or (not a_holds and not b_holds) and
  "NOT SUPPORTED" or "MIXED"
local reason = ("%d seeds: (a) KAN+grid (%d params) vs MLP (%d params) log10 test MSE %+.2f [%+.2f, %+.2f]: %s; " ..
  "(b) MLP vs KAN (%d vs %d params) accuracy %+.2f points [%+.2f, %+.2f]: %s; " ..
  "(c) KAN %.1fx the MLP's time per epoch (%.1fx per symbolic step), not 10x at this scale")
  :format(opt.seeds, sym.kan_grid.params, sym.mlp.params, pa.diff, pa.ci95[1], pa.ci95[2],
    a_holds and "KAN more accurate" or "not shown", cls.mlp.params, cls.kan.params, 100 * pb.diff,
    100 * pb.ci95[1], 100 * pb.ci95[2], b_holds and "MLP better" or "not shown", ratio, sym_ratio)
if ratio >= 10 then reason = reason:gsub("not 10x at this scale", "10x or more") end
results.verdict = cli.verdict(status, reason)
return results
