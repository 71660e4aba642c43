-- Claim (Ramachandran, Zoph and Le 2017, "Searching for Activation Functions"): a search
-- over simple expressions b(u1(x), u2(x)) of unary and binary primitives finds
-- activations of the swish kind, x * sigmoid(beta x), at the top.
--
-- What is run: lab.search's exhaustive search over one core unit, each candidate trained
-- in a small MLP (one hidden layer) with the same seeds (same initial weights and batches
-- per seed), ranked by mean test accuracy with 95% CIs; the top candidates are compared
-- with relu and swish (paired over seeds, Holm-adjusted). On Fashion-MNIST when it is
-- installed, else on a synthetic task (3-class spirals); --quick: a small space on the
-- synthetic task in well under a minute.
--
-- A candidate is swish-like when, on the probe [-5, 5], it is within 10% (relative RMS,
-- after the best scale factor c > 0) of c * x * sigmoid(beta x) for some beta in 0.5..2
-- and dips below zero (f/c < -0.05 somewhere) as swish does: the smooth, non-monotonic
-- units between linear and ReLU (relu, which has no dip, is not swish-like).
--
-- Verdict: SUPPORTED when the best swish-like candidate ranks in the top max(3, 5%) of the
-- candidates and higher than the best of as many random candidates would with probability
-- 0.95 (with k swish-like candidates among n the best of them lands near rank n/(k+1) by
-- chance alone); NOT SUPPORTED when it ranks below the top quarter; MIXED otherwise (and
-- when the space holds no swish-like candidate). One small network, few epochs, few seeds: the
-- verdict is about this scale only, not about the paper's ResNets on CIFAR.
--
--   actrun scripts/search_activations.lua [--quick] [--unary a,b] [--binary a,b]
--        [--seed N] [--seeds N] [--epochs N] [--limit N] [--width N] [--lr X] [--store FILE]
--        [--top K] [--plot FILE] [--data fashion-mnist|spirals]
local A = rawget(_G, "actrun") or require "actrun"
local lab, data, nn = A.lab, A.data, A.nn
local here = (arg and arg[0] or ""):match("^(.*)/") or "."
local cli = dofile(here .. "/lib/cli.lua")

local spec = {
  name = "search_activations",
  usage = "actrun scripts/search_activations.lua [options]",
  about = "Exhaustive search over b(u1(x), u2(x)): do swish-like candidates rank at the top?",
  options = {
    {"quick", "flag", help = "a small space on the synthetic task (under a minute)"},
    {"unary", "string", nil, help = "comma-separated unary primitives (default: all)"},
    {"binary", "string", nil, help = "comma-separated binary primitives (default: all)"},
    {"seed", "int", 1, help = "first seed (weights and batches of a run)"},
    {"seeds", "int", 3, help = "seeds seed..seed+N-1 per candidate (paired across candidates)", min = 1},
    {"epochs", "int", 1, help = "training epochs per run", min = 1},
    {"limit", "int", nil, help = "first N training images (N/6 test images)", min = 1},
    {"width", "int", 64, help = "hidden units of the MLP", min = 1},
    {"lr", "number", 1e-3, help = "Adam's learning rate (1e-2 on the synthetic task)", min = 0},
    {"store", "string", nil, help = "the search's store: a rerun skips finished candidates",
      arg = "FILE"},
    {"top", "int", 10, help = "rows printed and candidates compared with relu and swish", min = 1},
    {"plot", "string", nil, help = "draw the top 5 candidates, relu and swish into FILE (.svg)",
      arg = "FILE"},
    {"data", "string", "fashion-mnist", help = "the task", choices = {"fashion-mnist", "spirals"}},
  }}
local opt, given = cli.parse(arg, spec)
local function split(s)
  local list = {}
  for w in s:gmatch("[^,%s]+") do list[#list + 1] = w end
  return list
end
if opt.quick then
  if not given.data then opt.data = "spirals" end
  opt.unary = opt.unary or "x,neg,abs,square,tanh,sigmoid,relu"
  opt.binary = opt.binary or "add,mul,max"
  if not given.seeds then opt.seeds = 2 end
  if not given.epochs then opt.epochs = 20 end
  if not given.width then opt.width = 32 end
end
local prims = require("actrun.search").primitives()
local known = {}
for _, p in ipairs(prims.unary) do known[p.name] = "unary" end
for _, p in ipairs(prims.binary) do known[p.name] = "binary" end
local unary, binary = opt.unary and split(opt.unary), opt.binary and split(opt.binary)
for kind, list in pairs{unary = unary or {}, binary = binary or {}} do
  for _, n in ipairs(list) do
    if known[n] ~= kind then cli.fail(spec, ("--%s: unknown primitive '%s'"):format(kind, n)) end
  end
end

-- data: Fashion-MNIST when installed, else spirals
local Xtr, ytr, Xte, yte, task
if opt.data == "fashion-mnist" then
  local ok
  ok, Xtr, ytr = pcall(data.fashion_mnist, {split = "train", limit = opt.limit})
  if ok then
    Xte, yte = data.fashion_mnist{split = "test", limit = opt.limit and math.max(1, opt.limit // 6)}
    task = ("Fashion-MNIST (%d train, %d test images)"):format(Xtr:size(1), Xte:size(1))
  else
    io.stderr:write("Fashion-MNIST not found (install dataset-fashion-mnist or set ACTRUN_DATA): ",
      "searching on a synthetic task, 3-class spirals\n")
    opt.data = "spirals"
  end
end
if opt.data == "spirals" then
  local n = opt.limit and math.min(opt.limit, 1500) or 1500
  Xtr, ytr = data.spirals{n = n, classes = 3, noise = 0.1, seed = 1}
  Xte, yte = data.spirals{n = 600, classes = 3, noise = 0.1, seed = 2}
  task = ("spirals (%d train, 600 test points)"):format(n)
  if not given.lr then opt.lr = 1e-2 end
end
local nin, nclass = Xtr:size(2), math.floor(ytr:max():item())
local root = A.dist.rank() == 0
local function say(...) if root then print(...) end end

local seeds = {}
for i = 1, opt.seeds do seeds[i] = opt.seed + i - 1 end
say(("Activation search on %s: MLP %d-%d-%d, Adam lr %g, %d epoch(s), seeds %d..%d"):format(
  task, nin, opt.width, nclass, opt.lr, opt.epochs, seeds[1], seeds[#seeds]))
local results, info = lab.search{unary = unary, binary = binary,
  data = {train = {X = Xtr, y = ytr}, test = {X = Xte, y = yte}},
  model = function(a) return nn.mlp{nin, opt.width, nclass, activation = a} end,
  epochs = opt.epochs, seeds = seeds, lr = opt.lr, store = opt.store, top = opt.top,
  baselines = {"relu", "swish"}, provenance = {task = task, width = opt.width}}
local order = {"relu", "swish"}
say(("%d candidates (%d dropped as degenerate, %d merged as equal), %d trainings, %.1f s"):format(
  info.candidates, info.dropped, info.merged, info.trained, info.seconds))
say(lab.search_table(results, {top = opt.top, order = order, baselines = info.baselines}))

-- swish-like: c * x * sigmoid(beta x) on the probe within 10% relative RMS
local probe = {}
for i = 1, 64 do probe[i] = -5 + 10 * (i - 1) / 63 end
local xt = A.tensor(probe)
local function swish_like(name)
  local f = A.no_grad(function() return A.act.apply(name, xt) end):totable()
  for _, beta in ipairs{0.5, 0.75, 1, 1.25, 1.5, 2} do
    local g, fg, gg, ff = {}, 0, 0, 0
    for i, x in ipairs(probe) do
      g[i] = x / (1 + math.exp(-beta * x))
      fg, gg, ff = fg + f[i] * g[i], gg + g[i] * g[i], ff + f[i] * f[i]
    end
    local c = fg / gg
    local err, dip = 0, 0
    for i = 1, #probe do
      err = err + (f[i] - c * g[i]) ^ 2
      if c > 0 then dip = math.min(dip, f[i] / c) end
    end
    -- close to the shape, and with swish's dip below zero (relu and 2 relu have none)
    if c > 0 and ff > 0 and math.sqrt(err / ff) < 0.1 and dip < -0.05 then return true, beta end
  end
  return false
end

local out = {results = results, info = info, task = task}
local chance
local best_swish, n, k = nil, #results, 0
for _, r in ipairs(results) do
  r.swish_like = swish_like(r.name)
  if r.swish_like then
    k = k + 1
    if not best_swish then best_swish = r end
  end
end
-- The best of k swish-like candidates ranks high by chance alone when k is large: if the
-- ranks had nothing to do with being swish-like, the best of k would rank at r or better
-- with probability 1 - C(n - r, k) / C(n, k). A high rank counts only when that chance is
-- below 5%.
local function chance_best(r)
  if not r or k == 0 then return 1 end
  return lab.stats.best_rank_chance(n, k, r)
end
chance = chance_best(best_swish and best_swish.rank)
do
  local list = {}
  for _, r in ipairs(results) do
    if r.swish_like then list[#list + 1] = ("%s (%d)"):format(r.expr, r.rank) end
  end
  say(("swish-like candidates (rank): %s"):format(#list > 0 and table.concat(list, ", ") or "none"))
end
local function find(expr)
  for _, r in ipairs(results) do
    if r.expr == expr then return r end
    for _, m in ipairs(r.merged) do if m == expr then return r end end
  end
end
local sw = find("mul(x, sigmoid(x))")
out.swish_rank = sw and sw.rank
out.best_swish = best_swish
out.swish_like = k
out.best_swish_chance = chance
local top_cut, low_cut = math.max(3, math.ceil(0.05 * n)), math.ceil(0.25 * n)
local bl = info.baselines or {}
local function ref(name)
  local r = bl[name]
  return r and ("%s %.2f%% [%.2f, %.2f]"):format(name, 100 * r.mean, 100 * r.ci95[1],
    100 * r.ci95[2]) or (name .. " -")
end
local status, reason
if not best_swish then
  status = "MIXED"
  reason = ("not decided: none of the %d candidates is swish-like (the space needs x and " ..
    "sigmoid under mul)"):format(n)
else
  reason = ("best of %d swish-like candidates %s ranks %d of %d (%.2f%% [%.2f, %.2f]; " ..
    "the best of %d random candidates ranks as high with probability %.2g); " ..
    "top %s %.2f%% [%.2f, %.2f]; mul(x, sigmoid(x)) ranks %s; baselines %s, %s; " ..
    "%d seeds, %d epoch(s) on %s"):format(k, best_swish.expr, best_swish.rank, n,
    100 * best_swish.mean, 100 * best_swish.ci95[1], 100 * best_swish.ci95[2], k, chance,
    results[1].expr, 100 * results[1].mean, 100 * results[1].ci95[1], 100 * results[1].ci95[2],
    sw and tostring(sw.rank) or "-", ref("relu"), ref("swish"), opt.seeds, opt.epochs, task)
  if best_swish.rank <= top_cut and chance < 0.05 then status = "SUPPORTED"
  elseif best_swish.rank > low_cut then status = "NOT SUPPORTED"
  else status = "MIXED" end
end
if opt.plot and root then
  local names = {}
  for i = 1, math.min(5, n) do names[#names + 1] = results[i].name end
  names[#names + 1], names[#names + 2] = "relu", "swish"
  A.act.plot{names = names, file = opt.plot, derivative = false}
  say("wrote " .. opt.plot)
end
if root then out.verdict = cli.verdict(status, reason) else out.verdict = status end
return out
