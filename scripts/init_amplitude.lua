-- Claim 3d: ReLU does not control the amplitude of its outputs. Through a deep ReLU net
-- the activations' spread is multiplied at every layer by a factor set by the weights:
-- with N(0,1) weights it explodes, with Xavier/Glorot (variance 1/fan, made for tanh) it
-- halves in variance at every layer, with He/Kaiming (variance 2/fan, which makes up for
-- ReLU zeroing half of its inputs) it stays; batch normalisation rescales every layer's
-- input to one distribution whatever the weights are.
--
-- Measured with lab.depth_probe: a fresh MLP of --depth square Linear layers (zero bias),
-- each followed by ReLU (batch norm before it in the last variant: training-mode batch
-- statistics, weight 1, bias 0), input N(0,1); the std of every layer's output over the
-- batch and the units. Over --seeds seeds (new weights and input each; within a seed all
-- variants see the same input): the std per layer is the geometric mean over seeds, and
-- the last layer's growth log10(std_last / std_1) gets a mean and a 95% CI.
-- The verdict: SUPPORTED when the CIs agree with the claim: N(0,1) explodes (growth CI
-- above +1, i.e. more than 10x), Xavier shrinks (below -1), He and batch norm stay (CI
-- inside (-1, +1)); NOT SUPPORTED when N(0,1) or Xavier goes the other way or He / batch
-- norm leave the band; MIXED otherwise (a CI straddling a boundary).
-- Float32 holds values up to 3.4e38: with N(0,1) weights and width 256 that is reached
-- after ~35 layers (the probe then reports inf or nan), so the default depth is 30.
--
--   actrun scripts/init_amplitude.lua [--quick] [--depth N] [--width N] [--batch N]
--                                     [--activation NAME] [--seed N] [--seeds N] [--plot FILE]
local A = rawget(_G, "actrun") or require "actrun"
local lab = A.lab
local stats = lab.stats
local here = (arg and arg[0] or ""):match("^(.*)/") or "."
local cli = dofile(here .. "/lib/cli.lua")

local spec = {
  usage = "actrun scripts/init_amplitude.lua [options]",
  about = "Activation std per layer of a deep ReLU net: N(0,1) explodes, Xavier shrinks, He and batch norm stay.",
  options = {
    {"quick", "flag", help = "a smaller run (narrower layers, smaller batch)"},
    {"depth", "int", 30, help = "Linear layers, each followed by the activation", min = 2},
    {"width", "int", 256, help = "width of every layer", min = 1},
    {"batch", "int", 256, help = "rows of the random input", min = 2},
    {"activation", "string", "relu", help = "the activation of every layer"},
    {"seed", "int", 1, help = "first seed of the weights and the input"},
    {"seeds", "int", 5, help = "seeds (weight and input draws)", min = 1},
    {"plot", "string", nil, help = "draw the std per layer into FILE (.svg, log y)", arg = "FILE"},
  }}
local opt, given = cli.parse(arg, spec)
if opt.quick then
  if not given.width then opt.width = 128 end
  if not given.batch then opt.batch = 128 end
  if not given.seeds then opt.seeds = 3 end
end
if not pcall(A.act.info, opt.activation) then
  cli.fail(spec, "--activation: unknown activation '" .. opt.activation .. "'")
end

local variants = {
  {key = "normal", label = "N(0,1)", init = "normal"},
  {key = "xavier", label = "Xavier (xavier_normal)", init = "xavier_normal"},
  {key = "he", label = "He (kaiming_normal)", init = "kaiming_normal"},
  {key = "batchnorm", label = "N(0,1) + batch norm", init = "normal", norm = "batch"},
}

-- a std that overflowed float32 (inf, or nan from inf - inf) counts as +inf
local function finite_log10(x)
  if x ~= x or x == math.huge then return math.huge end
  if x <= 0 then return -math.huge end
  return math.log(x, 10)
end

local results = {}
local last_seed = opt.seed + opt.seeds - 1
for _, v in ipairs(variants) do
  local logstd, growth = {}, {}
  for seed = opt.seed, last_seed do
    local rows = lab.depth_probe{activation = opt.activation, init = v.init, norm = v.norm,
      depth = opt.depth, width = opt.width, batch = opt.batch, seed = seed}
    for l, r in ipairs(rows) do logstd[l] = (logstd[l] or 0) + finite_log10(r.std) / opt.seeds end
    growth[#growth + 1] = finite_log10(rows[opt.depth].std) - finite_log10(rows[1].std)
  end
  -- the std per layer: geometric mean over seeds (the stds span 60 orders of magnitude)
  local std = {}
  for l, x in ipairs(logstd) do std[l] = 10 ^ x end
  local g
  local overflow = false
  for _, x in ipairs(growth) do
    if x ~= x or math.abs(x) == math.huge then overflow = true end
  end
  if overflow then
    g = {n = #growth, mean = math.huge, sd = 0, ci95 = {math.huge, math.huge}}
  else
    g = stats.describe(growth)
  end
  local verdict
  if g.ci95[1] > 1 then verdict = "explodes"
  elseif g.ci95[2] < -1 then verdict = "shrinks"
  elseif g.ci95[1] > -1 and g.ci95[2] < 1 then verdict = "stays"
  else verdict = "unclear" end
  local first, last = std[1], std[opt.depth]
  results[v.key] = {label = v.label, std = std, first = first, last = last, growth = last / first,
    log_growth = g, verdict = verdict}
end

print(("%s through %d layers of width %d (batch %d, seeds %d..%d): std of each layer's output, geometric mean over seeds")
  :format(opt.activation, opt.depth, opt.width, opt.batch, opt.seed, last_seed))
print("(lab.depth_probe: input N(0,1), zero biases; batch norm = training-mode batch statistics)")
-- selected layers: 1, 2, then every ~depth/10, and the last
local shown, seen = {}, {}
local function show(l)
  if l >= 1 and l <= opt.depth and not seen[l] then seen[l] = true shown[#shown + 1] = l end
end
show(1) show(2)
local step = math.max(1, opt.depth // 10)
for l = step, opt.depth, step do show(l) end
show(opt.depth)
table.sort(shown)
local cols = {{"layer", "layer", "%d"}}
for _, v in ipairs(variants) do
  cols[#cols + 1] = {v.label, function(r) return results[v.key].std[r.layer] end, "%.3e"}
end
local rows = {}
for i, l in ipairs(shown) do rows[i] = {layer = l} end
cli.print_table(cols, rows)

print()
local vrows = {}
local function ci(g)
  if g.mean == math.huge then return "overflow" end
  return ("%+.2f [%+.2f, %+.2f]"):format(g.mean, g.ci95[1], g.ci95[2])
end
for _, v in ipairs(variants) do
  local r = results[v.key]
  vrows[#vrows + 1] = {label = r.label, first = r.first, last = r.last, growth = ci(r.log_growth),
    per_layer = r.growth > 0 and r.growth < math.huge and r.growth ^ (1 / (opt.depth - 1)) or nil,
    verdict = r.verdict}
end
cli.print_table({
  {"init", "label"}, {"std layer 1", "first", "%.3e"},
  {("std layer %d"):format(opt.depth), "last", "%.3e"},
  {"log10(last/first), mean [95% CI]", "growth"}, {"factor per layer", "per_layer", "%.3f"},
  {"amplitude", "verdict"},
}, vrows)
print(("(%d seeds; explodes: CI above +1 (x10); shrinks: below -1; stays: inside (-1, +1); theory for"):format(opt.seeds))
print((" ReLU: a factor sqrt(width/2) = %.2f per layer with N(0,1), sqrt(1/2) = 0.707 with Xavier, 1 with He)")
  :format(math.sqrt(opt.width / 2)))

-- mean-field theory beside the measurement, when this build has act.propagation: the
-- variance map's slope per layer is chi1 for ReLU (q_(l+1) = chi1 q_l exactly), so the
-- std grows by chi1^((depth-1)/2); for other activations chi1 is the gradients' factor.
local S = dofile(here .. "/lib/sigprop.lua")
if S.has_theory() then
  local w2_of = {normal = opt.width, xavier_normal = 1, kaiming_normal = 2}
  local trows = {}
  for _, v in ipairs(variants) do
    local p = not v.norm and w2_of[v.init] and S.propagation(opt.activation, w2_of[v.init], 0)
    if p then
      trows[#trows + 1] = {label = v.label, w2 = w2_of[v.init], chi1 = p.chi1,
        predicted = (opt.depth - 1) / 2 * math.log(p.chi1, 10), measured = results[v.key].log_growth.mean}
    end
  end
  print()
  print("theory (act.propagation, sigma_b2 = 0): predicted log10(last/first) = (depth-1)/2 * log10(chi1)")
  cli.print_table({{"init", "label"}, {"sigma_w2", "w2", "%g"}, {"chi1", "chi1", "%.4g"},
    {"predicted", "predicted", "%+.2f"}, {"measured (mean)", "measured", "%+.2f"}}, trows)
end

-- the plot before the verdict: the verdict is the last thing printed
if opt.plot then
  local series = {}
  for _, v in ipairs(variants) do
    local xs, ys = {}, {}
    for l, s in ipairs(results[v.key].std) do
      if s == s and s > 0 and s < math.huge then xs[#xs + 1] = l ys[#ys + 1] = s end
    end
    series[#series + 1] = {x = xs, y = ys, label = v.label}
  end
  cli.plot_line{series = series, ylog = true, xlabel = "layer", ylabel = "std of the layer's output",
    file = opt.plot, title = ("%s, %d layers: activation std per layer"):format(opt.activation, opt.depth)}
end

-- the verdict: every variant against what the claim says it does
local expected = {normal = "explodes", xavier = "shrinks", he = "stays", batchnorm = "stays"}
local agree, against, parts = 0, 0, {}
for _, v in ipairs(variants) do
  local r = results[v.key]
  local ok = r.verdict == expected[v.key]
  if ok then agree = agree + 1
  elseif r.verdict ~= "unclear" then against = against + 1 end
  parts[#parts + 1] = ("%s %s (log10 growth %s%s)"):format(v.label, r.verdict, ci(r.log_growth),
    ok and "" or ", claim: " .. expected[v.key])
end
local status = agree == #variants and "SUPPORTED" or against > 0 and "NOT SUPPORTED" or "MIXED"
print()
results.verdict = cli.verdict(status, "%s, %d layers, %d seeds: %s", opt.activation, opt.depth,
  opt.seeds, table.concat(parts, "; "))

return results
