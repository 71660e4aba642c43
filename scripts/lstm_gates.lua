-- Claim 5: an LSTM mixes sigmoid and tanh on purpose. Its gates (input i, forget f,
-- output o) use sigmoid, a value in (0, 1) read as "how much to let through"; the note
-- says they sit mostly near 0 or 1. The cell candidate and the output use tanh, which is
-- ordinary data processing and could be relu; a gate, on the other hand, must not be
-- negative, so tanh gates should not do.
-- 1. A task that needs memory: the adding problem (Hochreiter & Schmidhuber 1997). Each
--    of T steps carries a value U(0, 1) and a marker; two steps are marked, one in each
--    half, and the answer is the sum of their two values, read from the last hidden
--    state. Predicting the mean (1) scores MSE 1/6; a net that has not learnt to hold the
--    marked values cannot do much better. "Learnt" here: test MSE below --solved times
--    that baseline (0.1: R^2 > 0.9). nn.LSTM(2, H) -> Linear(H, 1), Adam on MSE.
-- 2. Variants, over --seeds seeds (same data, init draw and batches per seed): sigmoid
--    gates + tanh cell (the LSTM), sigmoid gates + relu cell, tanh gates + tanh cell;
--    test MSE with CIs, and paired differences of MSE / baseline against the LSTM.
--    At the defaults (T = 30) the LSTM learnt on 4 of 4 seeds, the relu cell on 1-2 of 4,
--    tanh gates on 3-4 of 4 (seeds 1-4 and 101-104); the gates stay far from 0/1 (about
--    6-7% of the values).
-- 3. The gate values of the trained LSTM on held-out sequences. nn.LSTM does not return
--    its gates, so they are recomputed here from its weights with the same tensor ops as
--    its forward (PyTorch's layout: rows i, f, g, o of weight_ih_l0 / weight_hh_l0); the
--    recomputed output is checked against the module's own (max difference printed). A
--    histogram of each gate and the share of values in [0, 0.1] or [0.9, 1] (values
--    spread evenly over (0, 1) would give 0.2), mean and 95% CI over seeds.
-- The verdict on "gates saturate near 0/1": SUPPORTED when the LSTM learns the task on
-- every seed and the saturated share of its gates is above one half (lower CI bound);
-- NOT SUPPORTED when the share is below one half (upper CI bound) or the LSTM does not
-- learn; MIXED otherwise. The reason also says which variants learnt the task.
--
--   actrun scripts/lstm_gates.lua [--quick] [--T N] [--hidden N] [--n N] [--epochs N]
--                                 [--lr X] [--seed N] [--seeds N] [--solved X] [--plot FILE]
local A = rawget(_G, "actrun") or require "actrun"
local nn, act = A.nn, A.act
local stats = A.lab.stats
local here = (arg and arg[0] or ""):match("^(.*)/") or "."
local cli = dofile(here .. "/lib/cli.lua")
local train = dofile(here .. "/lib/train.lua")

local spec = {
  usage = "actrun scripts/lstm_gates.lua [options]",
  about = "An LSTM on the adding problem: how saturated its gates are; relu cell and tanh gates against it.",
  options = {
    {"quick", "flag", help = "a smaller run (shorter sequences, fewer sequences and seeds)"},
    {"T", "int", 30, help = "sequence length", min = 4},
    {"hidden", "int", 16, help = "LSTM hidden size", min = 1},
    {"n", "int", 2000, help = "training sequences (test: half as many)", min = 10},
    {"epochs", "int", 15, help = "training epochs (Adam, batch 32)", min = 1},
    {"lr", "number", 0.01, help = "Adam learning rate", min = 0},
    {"seed", "int", 1, help = "first seed of the data, the init and the shuffles"},
    {"seeds", "int", 4, help = "seeds (paired runs)", min = 1},
    {"solved", "number", 0.1, help = "learnt: test MSE below this fraction of the predict-the-mean MSE", min = 0},
    {"plot", "string", nil, help = "gate histograms into FILE_i.svg, FILE_f.svg, FILE_o.svg", arg = "FILE"},
  }}
local opt, given = cli.parse(arg, spec)
if opt.quick then
  if not given.T then opt.T = 10 end
  if not given.n then opt.n = 1000 end
  if not given.epochs then opt.epochs = 10 end
  if not given.seeds then opt.seeds = 2 end
end

-- The model: the LSTM reads {batch, T, 2} rows (as the loader gives them), answers from h_T.
local Adder = nn.Module:extend("Adder")
function Adder:init(hidden, lstm_opts)
  self:register_module("lstm", nn.LSTM(2, hidden, lstm_opts))
  self:register_module("head", nn.Linear(hidden, 1))
end
function Adder:forward(x)
  local _, h = self.lstm(x:transpose(1, 2)) -- {T, batch, 2}
  return self.head(h:reshape(x:size(1), -1)):reshape(x:size(1))
end
local function mse(out, y) return nn.mse(out, y) end

-- Data: {n, T, 2} = (value, marker); one marker in each half, at the position of the
-- largest of a row of uniforms (a uniform position, drawn without a Lua loop).
local function one_hot_argmax(r)
  return r:ge(r:max(2):reshape(r:size(1), 1)) * 1.0
end
local function task(n)
  local T, half = opt.T, opt.T // 2
  local values = A.rand(n, T)
  local markers = A.cat({one_hot_argmax(A.rand(n, half)), one_hot_argmax(A.rand(n, T - half))}, 2)
  local y = (values * markers):sum(2):reshape(n)
  return A.stack({values, markers}, 3), y
end

-- The gates of an nn.LSTM on x {T, batch, in}, recomputed from its weights (no grad):
-- returns {i=, f=, o=} (each {T*batch, H}) and the recomputed output {T, batch, H}.
local function gates(lstm, x)
  return A.no_grad(function()
    local T, B, H = x:size(1), x:size(2), lstm.hidden_size
    local xp = x:reshape(T * B, -1):matmul(lstm.weight_ih_l0:t()) + lstm.bias_ih_l0 + lstm.bias_hh_l0
    xp = xp:reshape(T, B, 4 * H)
    local h, c = A.zeros(B, H), A.zeros(B, H)
    local is, fs, os_, outs = {}, {}, {}, {}
    for t = 1, T do
      local z = xp[t] + h:matmul(lstm.weight_hh_l0:t())
      local i = act.apply(lstm.gate, z:narrow(2, 1, H))
      local f = act.apply(lstm.gate, z:narrow(2, H + 1, H))
      local g = act.apply(lstm.cell, z:narrow(2, 2 * H + 1, H))
      local o = act.apply(lstm.gate, z:narrow(2, 3 * H + 1, H))
      c = f * c + i * g
      h = o * act.apply(lstm.cell, c)
      is[t], fs[t], os_[t], outs[t] = i, f, o, h
    end
    return {i = A.cat(is, 1), f = A.cat(fs, 1), o = A.cat(os_, 1)}, A.stack(outs, 1)
  end)
end

local function share(t, lo, hi) -- fraction of values in [lo, hi)
  return (t:ge(lo) * t:lt(hi)):mean():item()
end
local function saturation(g)
  local s = {}
  for _, k in ipairs{"i", "f", "o"} do s[k] = share(g[k], 0, 0.1) + share(g[k], 0.9, 1.0000001) end
  s.all = (s.i + s.f + s.o) / 3
  return s
end

local variants = {
  {key = "lstm", name = "sigmoid gates, tanh cell", opts = nil},
  {key = "relu_cell", name = "sigmoid gates, relu cell", opts = {cell = "relu"}},
  {key = "tanh_gates", name = "tanh gates, tanh cell", opts = {gate = "tanh"}},
}
local runs = {untrained = {sat = {}}}
for _, v in ipairs(variants) do runs[v.key] = {mse = {}, ratio = {}, solved = 0, sat = {}, check = 0} end
local hist = {}   -- the LSTM's gate values, share per bin, summed over seeds
local baseline = {}
local t0 = A.clock()
for seed = opt.seed, opt.seed + opt.seeds - 1 do
  A.manual_seed(seed)
  local Xtr, ytr = task(opt.n)
  local Xte, yte = task(opt.n // 2)
  local xte_seq = Xte:transpose(1, 2)
  -- the predict-the-mean baseline on this test set
  local base = (yte - ytr:mean():item()):square():mean():item()
  baseline[#baseline + 1] = base
  A.manual_seed(seed)
  local untrained = Adder(opt.hidden)
  runs.untrained.sat[#runs.untrained.sat + 1] = saturation((gates(untrained.lstm, xte_seq))).all
  for _, v in ipairs(variants) do
    A.manual_seed(seed)
    local model = Adder(opt.hidden, v.opts)
    train.fit(model, Xtr, ytr, {epochs = opt.epochs, batch = 32, lr = opt.lr, seed = seed, loss = mse})
    local r = runs[v.key]
    local test_mse = train.evaluating(model, function(m) return mse(m(Xte), yte):item() end)
    if test_mse ~= test_mse then test_mse = math.huge end
    r.mse[#r.mse + 1] = test_mse
    r.ratio[#r.ratio + 1] = test_mse / base
    if test_mse < opt.solved * base then r.solved = r.solved + 1 end
    local g, out = gates(model.lstm, xte_seq)
    local own = A.no_grad(function() return (model.lstm(xte_seq)) end)
    r.check = math.max(r.check, (own - out):abs():max():item())
    local s = saturation(g)
    r.sat[#r.sat + 1] = s.all
    for _, k in ipairs{"i", "f", "o"} do
      r["sat_" .. k] = r["sat_" .. k] or {}
      table.insert(r["sat_" .. k], s[k])
    end
    if v.key == "lstm" then
      for b = 1, 10 do
        local lo, hi = (b - 1) / 10, b / 10
        local top = b == 10 and 1.0000001 or hi
        hist[b] = hist[b] or {bin = ("[%.1f, %.1f%s"):format(lo, hi, b == 10 and "]" or ")"), i = 0, f = 0, o = 0}
        for _, k in ipairs{"i", "f", "o"} do hist[b][k] = hist[b][k] + share(g[k], lo, top) / opt.seeds end
      end
      r.gates = g -- the last seed's, for the plot
    end
  end
end
local elapsed = A.clock() - t0

local base_d = stats.describe(baseline)
print(("Adding problem, T = %d: nn.LSTM(2, %d) -> Linear(%d, 1); %d training, %d test sequences; Adam lr %g, batch 32, %d epochs; seeds %d..%d (%.1f s)")
  :format(opt.T, opt.hidden, opt.hidden, opt.n, opt.n // 2, opt.lr, opt.epochs, opt.seed,
    opt.seed + opt.seeds - 1, elapsed))
print(("predict-the-mean test MSE %.4f (theory 1/6 = 0.1667); learnt: test MSE < %g x that"):format(
  base_d.mean, opt.solved))
local function ci(d, f)
  f = f or "%.3f"
  return (f .. " [" .. f .. ", " .. f .. "]"):format(d.mean, d.ci95[1], d.ci95[2])
end
local rows = {{name = "sigmoid gates, tanh cell, untrained", sat = ci(stats.describe(runs.untrained.sat))}}
for _, v in ipairs(variants) do
  local r = runs[v.key]
  r.ratio_d = stats.describe(r.ratio)
  r.sat_d = stats.describe(r.sat)
  rows[#rows + 1] = {name = v.name, mse = ci(stats.describe(r.mse), "%.4f"), ratio = r.ratio_d.mean,
    solved = ("%d/%d"):format(r.solved, opt.seeds), sat = ci(r.sat_d),
    sat_i = stats.describe(r.sat_i).mean, sat_f = stats.describe(r.sat_f).mean,
    sat_o = stats.describe(r.sat_o).mean, check = r.check}
end
cli.print_table({
  {"variant", "name"}, {"test MSE [95% CI]", "mse"}, {"/ baseline", "ratio", "%.3f"},
  {"learnt", "solved"}, {"gates near 0/1 [95% CI]", "sat"}, {"i", "sat_i", "%.3f"},
  {"f", "sat_f", "%.3f"}, {"o", "sat_o", "%.3f"}, {"recomputed vs LSTM", "check", "%.1e"},
}, rows)
print("(gates near 0/1: share of gate values in [0, 0.1] or [0.9, 1] on the test sequences, mean of")
print(" i, f, o; evenly spread values would give 0.200. For tanh gates the share is of values in")
print(" [0, 0.1] or [0.9, 1] too: their negative values count as neither)\n")

if opt.seeds >= 2 then
  print("Paired differences of test MSE / baseline against the LSTM, per seed (paired t):")
  local prow = {}
  for _, v in ipairs(variants) do
    if v.key ~= "lstm" then
      local d = stats.paired(runs[v.key].ratio, runs.lstm.ratio)
      runs[v.key].vs_lstm = d
      prow[#prow + 1] = {name = v.name .. " - LSTM", d = d.diff,
        ci = ("[%+.3f, %+.3f]"):format(d.ci95[1], d.ci95[2]), p = d.p}
    end
  end
  cli.print_table({{"pair", "name"}, {"diff", "d", "%+.3f"}, {"95% CI", "ci"}, {"p", "p", "%.3g"}}, prow)
  print()
end

print(("Gate values of the LSTM (%s) on the test sequences, share per bin, mean over seeds:"):format(variants[1].name))
cli.print_table({
  {"bin", "bin"}, {"input gate", "i", "%.3f"}, {"forget gate", "f", "%.3f"}, {"output gate", "o", "%.3f"},
}, hist)

-- the plot before the verdict: the verdict is the last thing printed
if opt.plot then
  local gate_names = {i = "input", f = "forget", o = "output"}
  for _, k in ipairs{"i", "f", "o"} do
    cli.plot_hist(runs.lstm.gates[k]:reshape(-1), {bins = 20, range = {0, 1}, file = cli.suffixed(opt.plot, k),
      xlabel = "gate value", title = ("LSTM %s gate on the test sequences (adding problem, T = %d)"):format(gate_names[k], opt.T)})
  end
end

local results = {runs = runs, histogram = hist, baseline = base_d}
local L = runs.lstm
local learns = L.solved == opt.seeds
local status
if L.sat_d.ci95[1] > 0.5 and learns then status = "SUPPORTED"
elseif L.sat_d.ci95[2] < 0.5 or L.solved == 0 then status = "NOT SUPPORTED"
else status = "MIXED" end
local vparts = {}
for _, v in ipairs(variants) do
  local r = runs[v.key]
  vparts[#vparts + 1] = ("%s learnt %d/%d (MSE/baseline %.3f%s)"):format(v.name, r.solved, opt.seeds,
    r.ratio_d.mean, r.vs_lstm and (", - LSTM %+.3f CI [%+.3f, %+.3f]"):format(r.vs_lstm.diff,
      r.vs_lstm.ci95[1], r.vs_lstm.ci95[2]) or "")
end
print()
results.verdict = cli.verdict(status,
  "adding problem T=%d, %d seeds: LSTM gate values near 0 or 1 %.3f (95%% CI [%.3f, %.3f]; untrained %.3f; 'mostly' needs > 0.5); %s",
  opt.T, opt.seeds, L.sat_d.mean, L.sat_d.ci95[1], L.sat_d.ci95[2],
  stats.describe(runs.untrained.sat).mean, table.concat(vparts, "; "))

return results
