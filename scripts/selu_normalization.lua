-- Claim 6.9: SELU is self-normalising. With LeCun-normal weights (variance 1/fan_in) the
-- map from one layer's (mean, variance) to the next has a stable, attracting fixed point
-- at (0, 1): activations that start away from it are pulled back to zero mean and unit
-- variance within a few layers, like batch norm built into the activation. Other
-- activations with the same init drift (ReLU's variance halves at every layer, tanh's and
-- ELU's shrink), and SELU itself drifts away from (0, 1) under a wrong init.
--
-- Starting at N(0, 1) would only show that (0, 1) is a fixed point; an attractor has to
-- be shown from elsewhere. So the input is drawn from four distributions, N(0, 1) and
-- three perturbed ones, N(1, 1) (shifted mean), N(0, 9) (variance 9) and N(0, 0.09)
-- (variance 0.09), and fed through a fresh MLP of --depth square Linear layers (zero
-- bias), each followed by the activation; the mean and variance of every layer's output
-- over the batch and the units. Every seed draws new weights and inputs; within a seed
-- the variants with the same init share the weights and every variant sees the same
-- inputs. The distance to the fixed point, sqrt(mean^2 + (var - 1)^2), at the last layer
-- is averaged over --seeds seeds with a 95% CI.
-- The verdict: SUPPORTED when SELU + LeCun-normal ends within --tol of (0, 1) from every
-- start (the upper bound of the CI over seeds) and every other variant ends beyond it
-- from every start on every seed (a CI is no use on distances that overflow to inf);
-- MIXED when SELU converges but some other variant also comes within tol on some seed;
-- NOT SUPPORTED when SELU misses (0, 1) from some start. The default tol 0.2 is the
-- finite-width noise: at width 128-256 SELU's variance wanders by about 0.05-0.1.
--
--   actrun scripts/selu_normalization.lua [--quick] [--depth N] [--width N] [--batch N]
--                                         [--seed N] [--seeds N] [--tol X] [--plot FILE]
local A = rawget(_G, "actrun") or require "actrun"
local act, init = A.act, A.nn.init
local stats = A.lab.stats
local here = (arg and arg[0] or ""):match("^(.*)/") or "."
local cli = dofile(here .. "/lib/cli.lua")

local spec = {
  usage = "actrun scripts/selu_normalization.lua [options]",
  about = "Mean and variance per layer of a deep MLP from perturbed inputs: SELU with LeCun-normal weights returns to (0, 1).",
  options = {
    {"quick", "flag", help = "a smaller run (narrower layers, smaller batch, fewer seeds)"},
    {"depth", "int", 60, help = "Linear layers, each followed by the activation", min = 2},
    {"width", "int", 256, help = "width of every layer", min = 1},
    {"batch", "int", 256, help = "rows of the random input", min = 2},
    {"seed", "int", 1, help = "first seed of the weights and the inputs"},
    {"seeds", "int", 5, help = "seeds (weight and input draws)", min = 1},
    {"tol", "number", 0.2, help = "distance to (0, 1) at the last layer that counts as reached", min = 0},
    {"plot", "string", nil, help = "draw the variance per layer into FILE (.svg, log y)", arg = "FILE"},
  }}
local opt, given = cli.parse(arg, spec)
if opt.quick then
  if not given.depth then opt.depth = 50 end
  if not given.width then opt.width = 128 end
  if not given.batch then opt.batch = 128 end
  if not given.seeds then opt.seeds = 3 end
end

local starts = {
  {key = "n01", label = "N(0,1)", mean = 0, sd = 1},
  {key = "shift", label = "N(1,1)", mean = 1, sd = 1},
  {key = "wide", label = "N(0,9)", mean = 0, sd = 3},
  {key = "narrow", label = "N(0,0.09)", mean = 0, sd = 0.3},
}
-- default: nn.Linear's init, kaiming_uniform(a=sqrt(5)) = U(-1/sqrt(n), 1/sqrt(n)), variance 1/(3n)
-- a list, not a map: the weights are drawn in this order, the same in every run
local inits = {
  {"lecun_normal", init.lecun_normal},
  {"default", function(w) return init.kaiming_uniform(w, {a = math.sqrt(5)}) end},
  {"kaiming_normal", init.kaiming_normal},
}
local variants = {
  {key = "selu", label = "selu lecun_normal", act = "selu", init = "lecun_normal"},
  {key = "relu", label = "relu lecun_normal", act = "relu", init = "lecun_normal"},
  {key = "tanh", label = "tanh lecun_normal", act = "tanh", init = "lecun_normal"},
  {key = "elu", label = "elu lecun_normal", act = "elu", init = "lecun_normal"},
  {key = "selu_default", label = "selu Linear default", act = "selu", init = "default"},
  {key = "selu_kaiming", label = "selu kaiming_normal", act = "selu", init = "kaiming_normal"},
}

local function distance(m, v)
  local d = math.sqrt(m * m + (v - 1) * (v - 1))
  if d ~= d then return math.huge end -- nan (an overflowed layer) is as far as it gets
  return d
end

-- results[variant][start] = {mean = {per layer, mean over seeds}, var = {...}, dist = {per seed}}
local results = {}
for _, v in ipairs(variants) do
  results[v.key] = {label = v.label}
  for _, s in ipairs(starts) do results[v.key][s.key] = {mean = {}, var = {}, dist = {}} end
end
local D, Wd = opt.depth, opt.width
A.no_grad(function()
  for seed = opt.seed, opt.seed + opt.seeds - 1 do
    A.manual_seed(seed)
    local inputs = {}
    for i, s in ipairs(starts) do inputs[i] = A.randn(opt.batch, Wd) * s.sd + s.mean end
    local weights = {}
    for _, it in ipairs(inits) do
      local w = {}
      for l = 1, D do w[l] = it[2](A.empty(Wd, Wd)):t():contiguous() end
      weights[it[1]] = w
    end
    for _, v in ipairs(variants) do
      local W = weights[v.init]
      for i, s in ipairs(starts) do
        local r = results[v.key][s.key]
        local h = inputs[i]
        for l = 1, D do
          h = act.apply(v.act, h:matmul(W[l]))
          local m = h:mean():item()
          local var = h:var():item()
          r.mean[l] = (r.mean[l] or 0) + m / opt.seeds
          r.var[l] = (r.var[l] or 0) + var / opt.seeds
          if l == D then r.dist[#r.dist + 1] = distance(m, var) end
        end
        r.d = stats.describe(r.dist)
        r.last_mean, r.last_var = r.mean[D], r.var[D]
      end
    end
  end
end)

print(("%d layers of width %d, batch %d, seeds %d..%d: mean and variance of each layer's output, mean over seeds")
  :format(D, Wd, opt.batch, opt.seed, opt.seed + opt.seeds - 1))
print("(zero biases; 'Linear default' = U(-1/sqrt(n), 1/sqrt(n)), variance 1/(3n); lecun_normal: 1/n;")
print(" kaiming_normal: 2/n)")
local shown, seen = {}, {}
local function show(l)
  if l >= 1 and l <= D and not seen[l] then seen[l] = true shown[#shown + 1] = l end
end
show(1) show(2) show(3) show(5)
for l = 10, D, 10 do show(l) end
show(D)
table.sort(shown)

-- SELU + LeCun from every start: the way back to (0, 1)
print("\nSELU + LeCun-normal from each start: mean / variance per layer")
local cols = {{"layer", "layer", "%d"}}
for _, s in ipairs(starts) do
  local r = results.selu[s.key]
  cols[#cols + 1] = {s.label, function(row)
    return ("%+.3f / %.3f"):format(r.mean[row.layer], r.var[row.layer])
  end}
end
local rows = {}
for i, l in ipairs(shown) do rows[i] = {layer = l} end
cli.print_table(cols, rows)

-- every variant, from every start: the distance at the last layer
print(("\nDistance sqrt(mean^2 + (var - 1)^2) to (0, 1) at layer %d: mean over %d seeds [95%% CI]")
  :format(D, opt.seeds))
local dcols = {{"activation, init", "label"}}
for _, s in ipairs(starts) do
  dcols[#dcols + 1] = {s.label, function(row)
    local d = results[row.key][s.key].d
    if d.mean == math.huge then return "inf/nan" end
    return ("%.3g [%.3g, %.3g]"):format(d.mean, d.ci95[1], d.ci95[2])
  end}
end
local drows = {}
for _, v in ipairs(variants) do drows[#drows + 1] = {key = v.key, label = v.label} end
cli.print_table(dcols, drows)
print(("(start distances: N(0,1) 0, N(1,1) 1, N(0,9) 8, N(0,0.09) 0.91; reached: within %g)"):format(opt.tol))

-- the plot before the verdict: the verdict is the last thing printed
if opt.plot then
  local series = {}
  local function add(v, s, label)
    local xs, ys = {}, {}
    for l, x in ipairs(results[v][s].var) do
      if x == x and x > 0 and x < math.huge then xs[#xs + 1] = l ys[#ys + 1] = x end
    end
    series[#series + 1] = {x = xs, y = ys, label = label}
  end
  for _, s in ipairs(starts) do add("selu", s.key, "selu lecun_normal, input " .. s.label) end
  for _, v in ipairs(variants) do
    if v.key ~= "selu" then add(v.key, "shift", v.label .. ", input N(1,1)") end
  end
  cli.plot_line{series = series, ylog = true, xlabel = "layer", ylabel = "variance of the layer's output",
    file = opt.plot, title = ("Variance per layer, %d layers, mean of %d seeds: SELU + LeCun-normal returns to 1")
      :format(D, opt.seeds)}
end

-- the verdict
local selu_worst, selu_worst_start = -1, nil
for _, s in ipairs(starts) do
  local hi = results.selu[s.key].d.ci95[2]
  if hi > selu_worst then selu_worst, selu_worst_start = hi, s.label end
end
local others_reaching = {}
local closest_other, closest_name = math.huge, nil
for _, v in ipairs(variants) do
  if v.key ~= "selu" then
    for _, s in ipairs(starts) do
      local lo = math.huge
      for _, d in ipairs(results[v.key][s.key].dist) do lo = math.min(lo, d) end
      if lo < closest_other then closest_other, closest_name = lo, v.label .. " from " .. s.label end
      if lo <= opt.tol then others_reaching[#others_reaching + 1] = v.label .. " from " .. s.label end
    end
  end
end
for _, v in ipairs(variants) do
  for _, s in ipairs(starts) do results[v.key][s.key].reached = results[v.key][s.key].d.ci95[2] <= opt.tol end
end
local selu_ok = selu_worst <= opt.tol
local status
if not selu_ok then status = "NOT SUPPORTED"
elseif #others_reaching > 0 then status = "MIXED"
else status = "SUPPORTED" end
print()
results.verdict = cli.verdict(status,
  "SELU + LeCun-normal at layer %d: largest upper 95%% CI bound of the distance to (0,1) over the 4 starts %.3g (%s)%s %g; %s",
  D, selu_worst, selu_worst_start, selu_ok and " <=" or " > tol", opt.tol,
  #others_reaching > 0 and ("also within tol: " .. table.concat(others_reaching, ", "))
    or ("every other variant stays away from every start on every seed, the closest %s at %.3g"):format(closest_name, closest_other))

return results
