-- Claims 3b and 6.4: the derivatives of sigmoid and tanh go to zero at both ends (and
-- sigmoid's is at most 1/4 even at 0), and backpropagation multiplies one such factor per
-- layer, so in a deep sigmoid net the gradient reaching the first layers is orders of
-- magnitude smaller than the one at the last; ReLU passes slope 1 wherever it is active.
--
-- Measured with lab.depth_probe: a fresh MLP of --depth square Linear layers (zero bias),
-- each followed by the activation, input N(0,1), and a random N(0,1) gradient entering at
-- the output; the weight-gradient norm of every layer. The probe is used instead of
-- lab.gradient_flow on a real batch on purpose: it measures what the architecture and the
-- initialisation do to the backward signal, with no task, loss or output layer in the
-- way (a trained or task-specific net would mix in how wrong the model is). Every
-- (activation, init) pair uses the same seed, so the same input and output gradient.
-- Inits: "default" is nn.Linear's (kaiming_uniform with a=sqrt(5), i.e.
-- U(-1/sqrt(width), 1/sqrt(width))), xavier_uniform (Glorot) and kaiming_normal (He).
--
--   actrun scripts/vanishing_gradients.lua [--quick] [--depth N] [--width N] [--batch N]
--                                          [--activations a,b] [--inits a,b] [--seed N]
--                                          [--plot FILE]
local A = rawget(_G, "actrun") or require "actrun"
local lab = A.lab
local here = (arg and arg[0] or ""):match("^(.*)/") or "."
local cli = dofile(here .. "/lib/cli.lua")

local spec = {
  usage = "actrun scripts/vanishing_gradients.lua [options]",
  about = "Per-layer gradient norms at init of a deep MLP: sigmoid's first layers get almost nothing.",
  options = {
    {"quick", "flag", help = "a smaller run (narrower layers, smaller batch)"},
    {"depth", "int", 20, help = "Linear layers, each followed by the activation", min = 2},
    {"width", "int", 256, help = "width of every layer", min = 1},
    {"batch", "int", 256, help = "rows of the random input", min = 2},
    {"activations", "string", "sigmoid,tanh,relu", help = "comma-separated activations"},
    {"inits", "string", "default,xavier_uniform,kaiming_normal",
      help = "comma-separated inits: default (nn.Linear's) or nn.init names"},
    {"seed", "int", 1, help = "seed of the weights, the input and the output gradient"},
    {"plot", "string", nil, help = "draw the gradient norms per layer into FILE (.svg, log y)", arg = "FILE"},
  }}
local opt, given = cli.parse(arg, spec)
if opt.quick then
  if not given.width then opt.width = 64 end
  if not given.batch then opt.batch = 64 end
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

-- probes[k] = {act=, init=, label=, rows=}; results[act][init] = {norms=, ratio=}
local probes, results = {}, {}
for _, a in ipairs(acts) do
  results[a] = {}
  for _, init in ipairs(inits) do
    local rows = lab.depth_probe{activation = a, init = init ~= "default" and init or nil,
      depth = opt.depth, width = opt.width, batch = opt.batch, seed = opt.seed}
    local norms = {}
    for l, r in ipairs(rows) do norms[l] = r.grad_norm end
    local ratio = norms[1] / norms[opt.depth]
    probes[#probes + 1] = {act = a, init = init, label = a .. " " .. init, norms = norms}
    results[a][init] = {norms = norms, ratio = ratio, first = norms[1], last = norms[opt.depth]}
  end
end

print(("A %d-layer MLP at init, width %d, batch %d, seed %d: weight-gradient norm of every layer"):format(
  opt.depth, opt.width, opt.batch, opt.seed))
print("(lab.depth_probe: input N(0,1), zero biases, a random N(0,1) gradient entering at the output)")
print()
-- layer x (activation, init); one table per init keeps the columns readable
for _, init in ipairs(inits) do
  print("init: " .. init)
  local cols = {{"layer", "layer", "%d"}}
  for _, a in ipairs(acts) do
    cols[#cols + 1] = {a, function(r) return results[a][init].norms[r.layer] end, "%.3e"}
  end
  local rows = {}
  for l = 1, opt.depth do rows[l] = {layer = l} end
  cli.print_table(cols, rows)
  print()
end

print("first / last layer gradient norm (1 = the signal arrives intact):")
local cols = {{"activation", "act"}}
for _, init in ipairs(inits) do
  cols[#cols + 1] = {init, function(r) return results[r.act][init].ratio end, "%.3e"}
end
local rrows = {}
for _, a in ipairs(acts) do rrows[#rrows + 1] = {act = a} end
cli.print_table(cols, rrows)

-- the verdict, for sigmoid when it was run
if results.sigmoid then
  local worst, best = math.huge, 0
  for _, init in ipairs(inits) do
    local r = results.sigmoid[init].ratio
    worst, best = math.min(worst, r), math.max(best, r)
  end
  print(("\nsigmoid: the first layer's gradient is %.1f to %.1f orders of magnitude below the last's"):format(
    -math.log(best, 10), -math.log(worst, 10)))
  print(("(its derivative is at most 1/4: over %d layers that alone is a factor 4^%d = %.1e)"):format(
    opt.depth - 1, opt.depth - 1, 4.0 ^ (opt.depth - 1)))
end

if opt.plot then -- one panel per init, one line per activation
  local panels = {}
  for _, init in ipairs(inits) do
    local series = {}
    for _, p in ipairs(probes) do
      if p.init == init then
        local xs = {}
        for l = 1, opt.depth do xs[l] = l end
        series[#series + 1] = {x = xs, y = p.norms, label = p.act}
      end
    end
    panels[#panels + 1] = {series = series, ylog = true, title = "init: " .. init,
      xlabel = "layer (1 = nearest the input)", ylabel = "weight-gradient norm"}
  end
  cli.plot_grid{plots = panels, columns = math.min(#panels, 3), file = opt.plot,
    title = ("Gradient norm per layer at init, %d-layer MLP (log scale)"):format(opt.depth)}
end
return results
