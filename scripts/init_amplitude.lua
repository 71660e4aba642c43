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
-- batch and the units. All variants use the same seed, so the same input.
-- Float32 holds values up to 3.4e38: with N(0,1) weights and width 256 that is reached
-- after ~35 layers (the probe then reports inf or nan), so the default depth is 30.
--
--   actrun scripts/init_amplitude.lua [--quick] [--depth N] [--width N] [--batch N]
--                                     [--activation NAME] [--seed N] [--plot FILE]
local A = rawget(_G, "actrun") or require "actrun"
local lab = A.lab
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
    {"seed", "int", 1, help = "seed of the weights and the input"},
    {"plot", "string", nil, help = "draw the std per layer into FILE (.svg, log y)", arg = "FILE"},
  }}
local opt, given = cli.parse(arg, spec)
if opt.quick then
  if not given.width then opt.width = 128 end
  if not given.batch then opt.batch = 128 end
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

local results = {}
for _, v in ipairs(variants) do
  local rows = lab.depth_probe{activation = opt.activation, init = v.init, norm = v.norm,
    depth = opt.depth, width = opt.width, batch = opt.batch, seed = opt.seed}
  local std = {}
  for l, r in ipairs(rows) do std[l] = r.std end
  local first, last = std[1], std[opt.depth]
  local growth = last / first
  local verdict
  if not (growth == growth) or growth == math.huge or growth > 10 then verdict = "explodes"
  elseif growth < 0.1 then verdict = "shrinks"
  else verdict = "stays" end
  results[v.key] = {label = v.label, std = std, first = first, last = last, growth = growth,
    verdict = verdict}
end

print(("%s through %d layers of width %d (batch %d, seed %d): std of each layer's output"):format(
  opt.activation, opt.depth, opt.width, opt.batch, opt.seed))
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
for _, v in ipairs(variants) do
  local r = results[v.key]
  vrows[#vrows + 1] = {label = r.label, first = r.first, last = r.last, growth = r.growth,
    per_layer = r.growth > 0 and r.growth < math.huge and r.growth ^ (1 / (opt.depth - 1)) or nil,
    verdict = r.verdict}
end
cli.print_table({
  {"init", "label"}, {"std layer 1", "first", "%.3e"},
  {("std layer %d"):format(opt.depth), "last", "%.3e"},
  {"last / first", "growth", "%.3e"}, {"factor per layer", "per_layer", "%.3f"},
  {"amplitude", "verdict"},
}, vrows)
print(("(explodes: last/first > 10; shrinks: < 0.1; theory for ReLU: a factor sqrt(width/2) = %.2f per"):format(
  math.sqrt(opt.width / 2)))
print(" layer with N(0,1), sqrt(1/2) = 0.707 with Xavier, 1 with He)")

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
return results
