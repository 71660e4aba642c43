-- Schoenholz et al. 2017 ("Deep information propagation"): a random tanh network
-- forgets how two inputs were correlated within about xi_c layers (the correlation depth
-- of mean-field theory, infinite at the edge of chaos chi1 = 1), and a network trains
-- only up to about 6 xi_c layers deep. Here a grid of tanh MLPs (--depths x --sigmas, at
-- one --sigma-b2) is trained for a fixed budget on Fashion-MNIST (spirals when the data
-- set is absent) and every cell's trainability is held against depth <= 6 xi_c.
--
-- xi_c comes from act.propagation when this build has it (theory, infinite width); else it
-- is measured: lab.signal_propagation on a random net of the same sigma_w2, sigma_b2 gives
-- chi_c, the slope of the c-map (sigma_w2 E[phi'(z_a) phi'(z_b)] over pairs of inputs),
-- averaged over the last 5 of --probe-depth layers, and xi_c = -1 / ln(chi_c). Which one
-- was used is printed.
--
-- A cell "trained" when its training accuracy after the budget is at least halfway from
-- chance to the best cell of the grid (a budget-relative bar: short budgets lower every
-- accuracy, not the boundary). A cell agrees with the prediction when trained == (depth
-- <= 6 xi_c). Verdict: SUPPORTED when at least 80% of the cells agree, NOT SUPPORTED
-- below 60%, MIXED otherwise.
--
--   actrun scripts/edge_of_chaos.lua [--quick] [--depths a,b] [--sigmas a,b] [--sigma-b2 X]
--                                     [--width N] [--n N] [--epochs N] [--lr X] [--seed N]
--                                     [--plot FILE]
local A = rawget(_G, "actrun") or require "actrun"
local here = (arg and arg[0] or ""):match("^(.*)/") or "."
local cli = dofile(here .. "/lib/cli.lua")
local train = dofile(here .. "/lib/train.lua")
local S = dofile(here .. "/lib/sigprop.lua")

local spec = {
  usage = "actrun scripts/edge_of_chaos.lua [options]",
  about = "Trainability of deep tanh MLPs over depth x sigma_w2 against 6 xi_c (Schoenholz et al. 2017).",
  options = {
    {"quick", "flag", help = "a smaller run (depths 4,16,40; 4 sigmas; 600 images; width 48; 8 epochs)"},
    {"depths", "string", "4,10,20,40,70", help = "comma-separated depths (hidden layers)"},
    {"sigmas", "string", "0.6,1,1.5,1.75,2.5,4", help = "comma-separated sigma_w2 values"},
    {"sigma_b2", "number", 0.05, help = "bias variance", min = 0},
    {"width", "int", 64, help = "width of every hidden layer", min = 2},
    {"n", "int", 2000, help = "training images", min = 10},
    {"epochs", "int", 10, help = "training epochs (the budget)", min = 1},
    {"batch", "int", 64, help = "SGD batch size", min = 2},
    {"lr", "number", 0.002, help = "SGD learning rate (momentum 0.9)", min = 0},
    {"probe_depth", "int", 60, help = "layers of the random net that measures xi_c (no theory)", min = 8},
    {"seed", "int", 1, help = "seed of the weights and the batches"},
    {"plot", "string", nil, help = "draw trainable depth and 6 xi_c against sigma_w2 into FILE (.svg)", arg = "FILE"},
  }}
local opt, given = cli.parse(arg, spec)
if opt.quick then
  if not given.depths then opt.depths = "4,16,40" end
  if not given.sigmas then opt.sigmas = "0.6,1.5,1.75,4" end
  if not given.n then opt.n = 600 end
  if not given.width then opt.width = 48 end
  if not given.epochs then opt.epochs = 8 end
  if not given.probe_depth then opt.probe_depth = 40 end
end
local function numbers(s, what, int)
  local list = {}
  for w in s:gmatch("[^,%s]+") do
    local v = tonumber(w)
    if not v or v <= 0 or (int and math.type(v) ~= "integer") then
      cli.fail(spec, ("--%s: '%s' is not a positive %s"):format(what, w, int and "integer" or "number"))
    end
    list[#list + 1] = v
  end
  if #list == 0 then cli.fail(spec, "--" .. what .. ": none given") end
  return list
end
local depths, sigmas = numbers(opt.depths, "depths", true), numbers(opt.sigmas, "sigmas")
table.sort(depths)
table.sort(sigmas)
local b2 = opt.sigma_b2

local t0 = os.clock()
-- xi_c per sigma_w2: theory when present, else measured
local theory = S.has_theory()
local xi = {}
for i, w2 in ipairs(sigmas) do
  local p = theory and S.propagation("tanh", w2, b2)
  local probe = A.lab.signal_propagation{activation = "tanh", depth = opt.probe_depth,
    width = opt.quick and 128 or 256, batch = opt.quick and 32 or 64, sigma_w2 = w2,
    sigma_b2 = b2, seed = opt.seed}
  local chi = 0
  for l = opt.probe_depth - 4, opt.probe_depth do chi = chi + probe[l].chi_c / 5 end
  local measured = chi < 1 and -1 / math.log(chi) or math.huge
  xi[i] = {sigma_w2 = w2, measured = measured, chi_c = chi, theory = p and p.xi_c,
    phase = p and p.phase, c_last = probe[opt.probe_depth].c}
  xi[i].used = p and p.xi_c or measured
end
local source = theory and "theory (act.propagation)" or
  ("measured: chi_c over layers %d-%d of a random net, xi_c = -1/ln chi_c"):format(
    opt.probe_depth - 4, opt.probe_depth)

local Xtr, ytr, Xte, yte, task = S.load(opt.n, math.max(100, opt.n // 4))
local classes = math.floor(ytr:max():item())
local chance = 1 / classes

-- the grid
local cells, best = {}, 0
for i, w2 in ipairs(sigmas) do
  for _, D in ipairs(depths) do
    A.manual_seed(opt.seed)
    local model = S.mlp(Xtr:size(2), opt.width, D, classes, "tanh", "normal", w2, b2)
    local hist = train.fit(model, Xtr, ytr, {epochs = opt.epochs, batch = opt.batch,
      optimizer = "sgd", lr = opt.lr, momentum = 0.9, seed = opt.seed})
    local acc = train.accuracy(model, Xtr, ytr)
    if acc ~= acc then acc = 0 end
    local cell = {sigma_w2 = w2, depth = D, accuracy = acc, loss = hist[#hist],
      predicted = D <= 6 * xi[i].used, xi = xi[i]}
    cells[#cells + 1] = cell
    best = math.max(best, acc)
  end
end
local bar = chance + 0.5 * (best - chance)
local agree = 0
for _, c in ipairs(cells) do
  c.trained = c.accuracy >= bar
  c.agrees = c.trained == c.predicted
  if c.agrees then agree = agree + 1 end
end
local seconds = os.clock() - t0

print(("tanh MLPs, width %d, sigma_b2 %g, trained %d epochs (SGD lr %g, momentum 0.9) on %s"):format(
  opt.width, b2, opt.epochs, opt.lr, task))
print("xi_c: " .. source)
print()
local xrows = {}
for _, x in ipairs(xi) do
  xrows[#xrows + 1] = {w2 = x.sigma_w2, meas = x.measured, chi = x.chi_c, th = x.theory,
    phase = x.phase or "-", six = 6 * x.used}
end
cli.print_table({{"sigma_w2", "w2", "%g"}, {"chi_c measured", "chi", "%.4f"},
  {"xi_c measured", "meas", "%.2f"},
  {"xi_c theory", function(r) return r.th and ("%.2f"):format(r.th) or "-" end},
  {"phase (theory)", "phase"}, {"6 xi_c used", "six", "%.1f"}}, xrows)
print()
print(("training accuracy after the budget; * = trained (>= %.3f, halfway from chance %.3f to the best %.3f);"):format(
  bar, chance, best))
print("the mark after it: + predicted trainable (depth <= 6 xi_c), - predicted not, ! where they disagree")
local cols = {{"depth", "depth", "%d"}}
for i, w2 in ipairs(sigmas) do
  cols[#cols + 1] = {("w2=%g"):format(w2), function(r)
    local c = r.cells[i]
    return ("%.3f%s%s%s"):format(c.accuracy, c.trained and "*" or " ", c.predicted and "+" or "-",
      c.agrees and " " or "!")
  end}
end
local grows = {}
for di, D in ipairs(depths) do
  local r = {depth = D, cells = {}}
  for i = 1, #sigmas do r.cells[i] = cells[(i - 1) * #depths + di] end
  grows[#grows + 1] = r
end
cli.print_table(cols, grows)
print(("(%.1f s of CPU)"):format(seconds))

if opt.plot then
  local xs, six, deepest, six_meas = {}, {}, {}, {}
  for i, x in ipairs(xi) do
    xs[i] = x.sigma_w2
    six[i] = math.min(6 * x.used, 10 * depths[#depths])
    six_meas[i] = math.min(6 * x.measured, 10 * depths[#depths])
    local d = 0
    for _, c in ipairs(cells) do
      if c.sigma_w2 == x.sigma_w2 and c.trained then d = math.max(d, c.depth) end
    end
    deepest[i] = math.max(d, 0.5)
  end
  local series = {{x = xs, y = deepest, label = "deepest trained (measured)"},
    {x = xs, y = six_meas, label = "6 xi_c (measured c-map slope)"}}
  if theory then
    local th = {}
    for i, x in ipairs(xi) do th[i] = math.min(6 * (x.theory or math.huge), 10 * depths[#depths]) end
    series[#series + 1] = {x = xs, y = th, label = "6 xi_c (theory)"}
  end
  local acc_series = {}
  for _, D in ipairs(depths) do
    local ys = {}
    for i = 1, #sigmas do ys[i] = cells[(i - 1) * #depths + (function()
      for k, d in ipairs(depths) do if d == D then return k end end end)()].accuracy end
    acc_series[#acc_series + 1] = {x = xs, y = ys, label = ("depth %d"):format(D)}
  end
  cli.plot_grid{file = opt.plot, columns = 2,
    title = ("tanh MLPs, sigma_b2 %g: trainable depth against 6 xi_c"):format(b2),
    plots = {{series = series, ylog = true, title = "depth", xlabel = "sigma_w2",
      ylabel = "layers"},
      {series = acc_series, title = "training accuracy after the budget", xlabel = "sigma_w2",
        ylabel = "accuracy"}}}
end

print()
local frac = agree / #cells
local reason = ("%d of %d cells (%.0f%%) agree with trainable iff depth <= 6 xi_c (xi_c %s); " ..
  "trained bar %.3f, best %.3f, chance %.3f"):format(agree, #cells, 100 * frac,
  theory and "from theory" or "measured", bar, best, chance)
local status = frac >= 0.8 and "SUPPORTED" or frac < 0.6 and "NOT SUPPORTED" or "MIXED"
return {verdict = cli.verdict(status, reason), cells = cells, xi = xi, agree = agree,
  bar = bar, best = best, theory = theory, seconds = seconds}
