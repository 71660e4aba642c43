-- Claim 6.9: SELU is self-normalising. With LeCun-normal weights (variance 1/fan_in) the
-- map from one layer's (mean, variance) to the next has a stable fixed point at (0, 1),
-- so activations keep zero mean and unit variance through any depth, like batch norm
-- built into the activation. Other activations with the same init drift (ReLU's variance
-- halves at every layer, tanh's and ELU's shrink), and SELU itself drifts away from (0,1)
-- under a wrong init.
--
-- Measured with lab.depth_probe: a fresh MLP of --depth square Linear layers (zero bias),
-- each followed by the activation, input N(0,1); the mean and variance of every layer's
-- output over the batch and the units. Every variant uses the same seed, so the same input.
--
--   actrun scripts/selu_normalization.lua [--quick] [--depth N] [--width N] [--batch N]
--                                         [--seed N] [--plot FILE]
local A = rawget(_G, "actrun") or require "actrun"
local lab = A.lab
local here = (arg and arg[0] or ""):match("^(.*)/") or "."
local cli = dofile(here .. "/lib/cli.lua")

local spec = {
  usage = "actrun scripts/selu_normalization.lua [options]",
  about = "Mean and variance per layer of a deep MLP: SELU with LeCun-normal weights stays at (0, 1).",
  options = {
    {"quick", "flag", help = "a smaller run (narrower layers, smaller batch)"},
    {"depth", "int", 60, help = "Linear layers, each followed by the activation", min = 2},
    {"width", "int", 256, help = "width of every layer", min = 1},
    {"batch", "int", 256, help = "rows of the random input", min = 2},
    {"seed", "int", 1, help = "seed of the weights and the input"},
    {"plot", "string", nil, help = "draw the variance per layer into FILE (.svg, log y)", arg = "FILE"},
  }}
local opt, given = cli.parse(arg, spec)
if opt.quick then
  if not given.depth then opt.depth = 50 end
  if not given.width then opt.width = 128 end
  if not given.batch then opt.batch = 128 end
end

-- default: nn.Linear's init, kaiming_uniform(a=sqrt(5)) = U(-1/sqrt(n), 1/sqrt(n)), variance 1/(3n)
local variants = {
  {key = "selu", label = "selu lecun_normal", act = "selu", init = "lecun_normal"},
  {key = "relu", label = "relu lecun_normal", act = "relu", init = "lecun_normal"},
  {key = "tanh", label = "tanh lecun_normal", act = "tanh", init = "lecun_normal"},
  {key = "elu", label = "elu lecun_normal", act = "elu", init = "lecun_normal"},
  {key = "selu_default", label = "selu Linear default", act = "selu"},
  {key = "selu_kaiming", label = "selu kaiming_normal", act = "selu", init = "kaiming_normal"},
}

local results = {}
for _, v in ipairs(variants) do
  local rows = lab.depth_probe{activation = v.act, init = v.init, depth = opt.depth,
    width = opt.width, batch = opt.batch, seed = opt.seed}
  local mean, var = {}, {}
  for l, r in ipairs(rows) do mean[l], var[l] = r.mean, r.std * r.std end
  local last = opt.depth
  results[v.key] = {label = v.label, mean = mean, var = var, std = rows[last].std,
    last_mean = mean[last], last_var = var[last],
    stays = math.abs(mean[last]) < 0.1 and math.abs(var[last] - 1) < 0.2}
end

print(("%d layers of width %d (batch %d, seed %d): mean and variance of each layer's output"):format(
  opt.depth, opt.width, opt.batch, opt.seed))
print("(lab.depth_probe: input N(0,1), zero biases; 'Linear default' = U(-1/sqrt(n), 1/sqrt(n)), variance 1/(3n);")
print(" lecun_normal: variance 1/n; kaiming_normal: variance 2/n)")
local shown, seen = {}, {}
local function show(l)
  if l >= 1 and l <= opt.depth and not seen[l] then seen[l] = true shown[#shown + 1] = l end
end
show(1) show(2) show(5)
for l = 10, opt.depth, 10 do show(l) end
show(opt.depth)
table.sort(shown)
for _, what in ipairs{"var", "mean"} do
  print()
  print(what == "var" and "variance:" or "mean:")
  local cols = {{"layer", "layer", "%d"}}
  for _, v in ipairs(variants) do
    cols[#cols + 1] = {v.label, function(r) return results[v.key][what][r.layer] end,
      what == "var" and "%.3e" or "%+.3e"}
  end
  local rows = {}
  for i, l in ipairs(shown) do rows[i] = {layer = l} end
  cli.print_table(cols, rows)
end

print()
local srows = {}
for _, v in ipairs(variants) do
  local r = results[v.key]
  srows[#srows + 1] = {label = r.label, mean = r.last_mean, var = r.last_var,
    verdict = r.stays and "stays near (0, 1)" or "drifts"}
end
cli.print_table({
  {"activation, init", "label"}, {("mean at layer %d"):format(opt.depth), "mean", "%+.4f"},
  {("variance at layer %d"):format(opt.depth), "var", "%.4e"}, {"verdict", "verdict"},
}, srows)
print("(stays: |mean| < 0.1 and |variance - 1| < 0.2 at the last layer)")

if opt.plot then
  local series = {}
  for _, v in ipairs(variants) do
    local xs, ys = {}, {}
    for l, s in ipairs(results[v.key].var) do
      if s == s and s > 0 and s < math.huge then xs[#xs + 1] = l ys[#ys + 1] = s end
    end
    series[#series + 1] = {x = xs, y = ys, label = v.label}
  end
  cli.plot_line{series = series, ylog = true, xlabel = "layer", ylabel = "variance of the layer's output",
    file = opt.plot, title = ("Variance per layer, %d layers: SELU + LeCun-normal stays at 1"):format(opt.depth)}
end
return results
