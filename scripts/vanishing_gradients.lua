-- Claims 3b and 6.4: the derivatives of sigmoid and tanh go to zero at both ends (and
-- sigmoid's is at most 1/4 even at 0), and backpropagation multiplies one such factor per
-- layer, so in a deep sigmoid net the gradient reaching the first layers is orders of
-- magnitude smaller than the one at the last; ReLU passes slope 1 wherever it is active.
--
-- What is measured is the backward signal itself: ||dL/dz_l||, the gradient w.r.t. the
-- pre-activation z_l of every layer l, at init of a --depth MLP of square Linear layers
-- (zero bias) each followed by the activation, input N(0,1), and a random N(0,1) gradient
-- entering at the output (no task or loss in the way: this measures what the architecture
-- and the initialisation do to the signal). The weight gradient of a layer is
-- dz_l^T h_{l-1}, the backward signal times the layer's input, so when the activations
-- shrink with depth by the same factor as the signal grows back the weight gradients of
-- all layers look alike while the signal has vanished; that is why the weight-gradient
-- ratio is printed only beside the signal, never instead of it. The net is written here
-- over tensors (the engine has no hooks): a zero tensor that requires grad is added to
-- every z_l, and its .grad is dL/dz_l. The activation std of every layer is printed too.
--
-- Every (activation, init) pair runs on the same --seeds seeds (same input and output
-- gradient per seed), so comparisons are paired by seed; log10 ratios get a 95% CI over
-- the seeds. Inits: "default" is nn.Linear's (kaiming_uniform with a=sqrt(5), i.e.
-- U(-1/sqrt(width), 1/sqrt(width))), xavier_uniform (Glorot, the usual one for sigmoid
-- and tanh) and kaiming_normal (He, the usual one for ReLU).
--
-- Verdict: SUPPORTED when, with every init tried, sigmoid's first-layer signal is more
-- than two orders of magnitude below its last (upper CI bound of the log10 ratio < -2)
-- and more than two orders below ReLU's with He init (paired by seed); NOT SUPPORTED when
-- sigmoid's first-layer signal is not below its last at all; MIXED otherwise.
--
--   actrun scripts/vanishing_gradients.lua [--quick] [--depth N] [--width N] [--batch N]
--                                          [--activations a,b] [--inits a,b] [--seed N]
--                                          [--seeds N] [--plot FILE]
local A = rawget(_G, "actrun") or require "actrun"
local stats = A.lab.stats
local here = (arg and arg[0] or ""):match("^(.*)/") or "."
local cli = dofile(here .. "/lib/cli.lua")

local spec = {
  usage = "actrun scripts/vanishing_gradients.lua [options]",
  about = "Backward signal per layer at init of a deep MLP: sigmoid's first layers get almost nothing.",
  options = {
    {"quick", "flag", help = "a smaller run (narrower layers, smaller batch, 3 seeds)"},
    {"depth", "int", 20, help = "Linear layers, each followed by the activation", min = 2},
    {"width", "int", 256, help = "width of every layer", min = 1},
    {"batch", "int", 256, help = "rows of the random input", min = 2},
    {"activations", "string", "sigmoid,tanh,relu", help = "comma-separated activations"},
    {"inits", "string", "default,xavier_uniform,kaiming_normal",
      help = "comma-separated inits: default (nn.Linear's) or nn.init names"},
    {"seed", "int", 1, help = "first seed (weights, input and output gradient)"},
    {"seeds", "int", 5, help = "seeds seed, seed+1, ... (paired across activations)", min = 2},
    {"plot", "string", nil, help = "draw the backward signal per layer into FILE (.svg, log y)", arg = "FILE"},
  }}
local opt, given = cli.parse(arg, spec)
if opt.quick then
  if not given.width then opt.width = 64 end
  if not given.batch then opt.batch = 64 end
  if not given.seeds then opt.seeds = 3 end
end

local function split(s)
  local list = {}
  for w in s:gmatch("[^,%s]+") do list[#list + 1] = w end
  return list
end
local acts, inits = split(opt.activations), split(opt.inits)
if #acts == 0 then cli.fail(spec, "--activations: no activation given") end
if #inits == 0 then cli.fail(spec, "--inits: no init given") end
for _, name in ipairs(acts) do
  if not pcall(A.act.info, name) then cli.fail(spec, "--activations: unknown activation '" .. name .. "'") end
end
for _, name in ipairs(inits) do
  if name ~= "default" and (name == "gain" or type(A.nn.init[name]) ~= "function") then
    cli.fail(spec, "--inits: '" .. name .. "' is not an nn.init function (or default)")
  end
end

local function init_fn(init)
  if init == "default" then
    return function(w) return A.nn.init.kaiming_uniform(w, {a = math.sqrt(5)}) end
  end
  return A.nn.init[init]
end

-- One probe: per layer the backward signal ||dL/dz_l||, the weight-gradient norm and the
-- activation std.
local function probe(act, init, seed)
  A.manual_seed(seed)
  local fn = init_fn(init)
  local W, taps, outs = {}, {}, {}
  for l = 1, opt.depth do
    W[l] = fn(A.empty(opt.width, opt.width))
    W[l].requires_grad = true
  end
  local h = A.randn(opt.batch, opt.width)
  for l = 1, opt.depth do
    taps[l] = A.zeros(opt.batch, opt.width)
    taps[l].requires_grad = true
    h = A.act.apply(act, h:matmul(W[l]:t()) + taps[l])
    outs[l] = h
  end
  h:backward(A.randn(opt.batch, opt.width))
  local signal, wgrad, std = {}, {}, {}
  for l = 1, opt.depth do
    signal[l] = taps[l].grad:norm():item()
    wgrad[l] = W[l].grad:norm():item()
    std[l] = outs[l]:detach():std():item()
  end
  return {signal = signal, wgrad = wgrad, std = std}
end

local function log10(x) return math.log(math.max(x, 1e-300), 10) end
local function geomean_layer(runs, key, l)
  local acc = 0
  for _, r in ipairs(runs) do acc = acc + log10(r[key][l]) end
  return 10 ^ (acc / #runs)
end

-- results[act][init] = {runs = {per seed}, signal/std/wgrad = per-layer geometric means
-- over seeds, log_ratio = per-seed log10(first/last signal), d = describe(log_ratio), ...}
local results, D = {}, opt.depth
for _, a in ipairs(acts) do
  results[a] = {}
  for _, init in ipairs(inits) do
    local runs, lr, lw = {}, {}, {}
    for s = 1, opt.seeds do
      local r = probe(a, init, opt.seed + s - 1)
      runs[s] = r
      lr[s] = log10(r.signal[1]) - log10(r.signal[D])
      lw[s] = log10(r.wgrad[1]) - log10(r.wgrad[D])
    end
    local res = {runs = runs, signal = {}, std = {}, wgrad = {}, log_ratio = lr,
      d = stats.describe(lr), dw = stats.describe(lw)}
    for l = 1, D do
      res.signal[l] = geomean_layer(runs, "signal", l)
      res.std[l] = geomean_layer(runs, "std", l)
      res.wgrad[l] = geomean_layer(runs, "wgrad", l)
    end
    res.ratio = 10 ^ res.d.mean
    results[a][init] = res
  end
end

print(("A %d-layer MLP at init, width %d, batch %d, seeds %d..%d: per layer the backward signal"):format(
  D, opt.width, opt.batch, opt.seed, opt.seed + opt.seeds - 1))
print("||dL/dz_l|| (gradient w.r.t. the pre-activation) and the activation std, geometric means over seeds")
print("(input N(0,1), zero biases, a random N(0,1) gradient entering at the output)")
print()
for _, init in ipairs(inits) do
  print("init: " .. init)
  local cols = {{"layer", "layer", "%d"}}
  for _, a in ipairs(acts) do
    cols[#cols + 1] = {a .. " signal", function(r) return results[a][init].signal[r.layer] end, "%.3e"}
    cols[#cols + 1] = {"std", function(r) return results[a][init].std[r.layer] end, "%.2e"}
  end
  local rows = {}
  for l = 1, D do rows[l] = {layer = l} end
  cli.print_table(cols, rows)
  print()
end

print("first / last layer, log10, mean [95% CI] over seeds (0 = the signal arrives intact):")
local rrows = {}
for _, a in ipairs(acts) do
  for _, init in ipairs(inits) do
    local r = results[a][init]
    rrows[#rrows + 1] = {act = a, init = init, sig = r.d.mean, lo = r.d.ci95[1], hi = r.d.ci95[2],
      w = r.dw.mean, std = log10(r.std[1]) - log10(r.std[D])}
  end
end
cli.print_table({{"activation", "act"}, {"init", "init"},
  {"backward signal", "sig", "%+.2f"}, {"95% CI", function(r) return ("[%+.2f, %+.2f]"):format(r.lo, r.hi) end},
  {"activation std", "std", "%+.2f"},
  {"weight gradient", "w", "%+.2f"}}, rrows)
print("(a weight gradient is the signal times the layer's input: where the activations shrink as the")
print(" signal grows back, weight-gradient ratios near 0 hide a vanished signal)")

-- mean-field theory beside the measurement, when this build has act.propagation: going
-- back one layer multiplies the squared backward signal by chi1 (at q*), so first/last
-- over depth-1 steps is chi1^((depth-1)/2) in norm.
local S = dofile(here .. "/lib/sigprop.lua")
if S.has_theory() then
  -- weight variance x fan_in of each init on square layers
  local w2_of = {default = 1 / 3, xavier_uniform = 1, xavier_normal = 1, kaiming_normal = 2,
    kaiming_uniform = 2, lecun_normal = 1}
  local trows = {}
  for _, a in ipairs(acts) do
    for _, init in ipairs(inits) do
      local p = w2_of[init] and S.propagation(a, w2_of[init], 0)
      if p then
        trows[#trows + 1] = {act = a, init = init, w2 = w2_of[init], chi1 = p.chi1,
          predicted = (D - 1) / 2 * math.log(p.chi1, 10), measured = results[a][init].d.mean}
      end
    end
  end
  print()
  print("theory (act.propagation at q*, sigma_b2 = 0): predicted log10 first/last = (depth-1)/2 * log10(chi1)")
  cli.print_table({{"activation", "act"}, {"init", "init"}, {"sigma_w2", "w2", "%.3g"},
    {"chi1", "chi1", "%.4g"}, {"predicted", "predicted", "%+.2f"},
    {"measured (mean)", "measured", "%+.2f"}}, trows)
end

if opt.plot then -- one panel per init, one line per activation

  local panels = {}
  for _, init in ipairs(inits) do
    local series = {}
    for _, a in ipairs(acts) do
      local xs = {}
      for l = 1, D do xs[l] = l end
      series[#series + 1] = {x = xs, y = results[a][init].signal, label = a}
    end
    panels[#panels + 1] = {series = series, ylog = true, title = "init: " .. init,
      xlabel = "layer (1 = nearest the input)", ylabel = "||dL/dz|| (geo. mean over seeds)"}
  end
  cli.plot_grid{plots = panels, columns = math.min(#panels, 3), file = opt.plot,
    title = ("Backward signal per layer at init, %d-layer MLP (log scale)"):format(D)}
end

-- the verdict needs sigmoid, and ReLU with He init for the comparison
print()
local sig = results.sigmoid
local he = results.relu and results.relu.kaiming_normal
if not sig or not he then
  results.verdict = cli.verdict("MIXED",
    "not decided: the verdict needs sigmoid and relu with kaiming_normal in --activations/--inits")
  return results
end
local worst_hi, worst_init, vs_hi, vs_init = -math.huge, nil, -math.huge, nil
local best_mean = math.huge
for _, init in ipairs(inits) do
  local r = sig[init]
  if r.d.ci95[2] > worst_hi then worst_hi, worst_init = r.d.ci95[2], init end
  best_mean = math.min(best_mean, r.d.mean)
  -- sigmoid's first-layer signal against ReLU-He's, paired by seed, in log10
  local a, b = {}, {}
  for s = 1, opt.seeds do
    a[s] = log10(r.runs[s].signal[1])
    b[s] = log10(he.runs[s].signal[1])
  end
  r.vs_relu = stats.paired(a, b)
  if r.vs_relu.ci95[2] > vs_hi then vs_hi, vs_init = r.vs_relu.ci95[2], init end
end
results.worst_hi, results.vs_relu_hi = worst_hi, vs_hi
local reason = ("%d seeds: sigmoid first/last backward signal log10 <= %+.2f (upper 95%% CI, worst init %s); " ..
  "sigmoid first layer vs relu+He first layer log10 <= %+.2f (paired, worst init %s); " ..
  "relu+He first/last %+.2f [%+.2f, %+.2f]"):format(opt.seeds, worst_hi, worst_init, vs_hi, vs_init,
  he.d.mean, he.d.ci95[1], he.d.ci95[2])
local status
if worst_hi < -2 and vs_hi < -2 then
  status = "SUPPORTED"
elseif best_mean >= 0 then
  status = "NOT SUPPORTED"
else
  status = "MIXED"
end
results.verdict = cli.verdict(status, reason)
return results
