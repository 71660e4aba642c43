-- Writes docs/GUIDE.md, the walk-through for a new user, and its pictures
-- docs/img/guide_*.svg. Every snippet of the guide is run here, each in a fresh actrun
-- process (as a user would run it), and its printed output is pasted under it: no number
-- in the guide is typed in. The snippets write their plots as guide_NAME.svg; here those
-- paths are redirected into the image directory.
--
--   actrun scripts/gen_guide.lua [--out FILE] [--img-dir DIR]
--
-- Paths default to docs/GUIDE.md and docs/img of the repository holding this script.
local A = rawget(_G, "actrun") or require "actrun"

local here = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
local root = here:match("^(.*)/[^/]*$") or (here == "." and ".." or ".")
local opt = {out = root .. "/docs/GUIDE.md", img_dir = root .. "/docs/img"}
local i = 1
while arg and arg[i] do
  local a = arg[i]
  if (a == "--out" or a == "--img-dir") and arg[i + 1] then
    opt[a == "--out" and "out" or "img_dir"] = arg[i + 1]
    i = i + 1
  else
    io.stderr:write("gen_guide.lua: unknown argument '", tostring(a), "'\n",
      "usage: actrun scripts/gen_guide.lua [--out FILE] [--img-dir DIR]\n")
    os.exit(2)
  end
  i = i + 1
end

local function quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end
local function interpreter()
  local k = 0
  while arg[k - 1] ~= nil do k = k - 1 end
  return arg[k]
end
-- the image directory as the Markdown file sees it
local function relative_img_dir()
  local base = opt.out:match("^(.*)/[^/]*$") or "."
  if opt.img_dir:sub(1, #base + 1) == base .. "/" then return opt.img_dir:sub(#base + 2) end
  return opt.img_dir
end

-- Runs a snippet in a fresh actrun process; returns its standard output (progress
-- displays go to stderr and are switched off). Plot files guide_*.svg go to img_dir.
local function run(code)
  local runnable = code:gsub('"(guide_[%w_]+%.svg)"', function(f)
    return ("%q"):format(opt.img_dir .. "/" .. f)
  end)
  local path = os.tmpname()
  local f = assert(io.open(path, "w"))
  f:write(runnable)
  f:close()
  local t0 = A.clock()
  local p = assert(io.popen("ACTRUN_PROGRESS=0 " .. quote(interpreter()) .. " " .. quote(path) .. " 2>&1", "r"))
  local out = p:read("a")
  local ok = p:close()
  os.remove(path)
  if not ok then error("gen_guide.lua: a snippet failed:\n" .. code .. "\n--- output ---\n" .. out, 0) end
  -- the user's run writes its files where they are: show the paths they typed
  out = out:gsub(opt.img_dir:gsub("%p", "%%%0") .. "/", "")
  return (out:gsub("%s+$", "")), A.clock() - t0
end

local doc = {}
local function w(s) doc[#doc + 1] = s or "" end
local total_seconds = 0
local function example(code)
  local out, seconds = run(code)
  total_seconds = total_seconds + seconds
  w("```lua")
  w((code:gsub("%s+$", "")))
  w("```")
  w()
  w("prints:")
  w()
  w("```")
  w(out)
  w("```")
  w()
end
local function image(file, alt)
  w(("![%s](%s/%s)"):format(alt, relative_img_dir(), file))
  w()
end

-- The snippets ------------------------------------------------------------------------

local curves = [[
local act = actrun.act
-- the measured properties of a few activations (cost columns: ns per element here)
act.table{"sigmoid", "tanh", "relu", "leaky_relu", "gelu", "selu"}
-- f and f' in double precision: sigmoid is flat far from 0
for _, x in ipairs{0, 2, 6} do
  local f, df = act.scalar("sigmoid", x)
  print(("sigmoid(%g) = %.6f   sigmoid'(%g) = %.6f"):format(x, f, x, df))
end
act.plot{names = {"sigmoid", "tanh", "relu", "gelu"}, from = -4, to = 4,
  file = "guide_curves.svg"}
]]

local depth = [[
local lab = actrun.lab
-- a fresh 20-layer MLP per activation, Xavier init, same seed; a random gradient
-- enters at the output and flows back: weight-gradient norm of every layer
local probes = {}
for _, a in ipairs{"sigmoid", "tanh", "relu"} do
  local rows = lab.depth_probe{activation = a, depth = 20, width = 128, batch = 128,
    init = "xavier_uniform", seed = 1}
  probes[#probes + 1] = {label = a, rows = rows}
  print(("%-8s layer 1: %.2e   layer 10: %.2e   layer 20: %.2e   first/last: %.1e"):format(a,
    rows[1].grad_norm, rows[10].grad_norm, rows[20].grad_norm, rows[1].grad_norm / rows[20].grad_norm))
end
lab.plot_depth(probes, {file = "guide_depth.svg",
  title = "Gradient norm per layer at init (log10), 20 layers, Xavier"})
]]

local depth50 = [[
local act, lab = actrun.act, actrun.lab
-- 1. theory (mean field, wide random networks): where is tanh's edge of chaos?
local sw = act.edge_of_chaos("tanh", {sigma_b2 = 0.05})
print(("edge of chaos of tanh at sigma_b2 = 0.05: sigma_w2 = %.4f"):format(sw))
for _, s in ipairs{1.0, 1.5, sw, 2.5} do
  local p = act.propagation("tanh", {sigma_w2 = s, sigma_b2 = 0.05})
  print(("sigma_w2 %.3f  %-8s  chi1 %.3f  signals survive ~%s layers"):format(s, p.phase,
    p.chi1, p.xi_c == math.huge and "inf" or ("%.0f"):format(p.xi_c)))
end
-- 2. measured on random depth-50 networks: the gradient reaching layer 1 vs layer 50
for _, s in ipairs{1.0, sw} do
  local rows = lab.signal_propagation{activation = "tanh", depth = 50, width = 256,
    sigma_w2 = s, sigma_b2 = 0.05, seed = 1}
  print(("sigma_w2 %.3f  depth 50: correlation of two inputs %.3f, gradient layer 1 / 50: %.1e")
    :format(s, rows[50].c, rows[1].grad_norm / rows[50].grad_norm))
end
-- 3. the whole plane: ordered, chaotic, and depth-scale contours
lab.phase_diagram{activation = "tanh", file = "guide_phase.svg"}
]]

local compare = [[
local nn, data, lab, optim = actrun.nn, actrun.data, actrun.lab, actrun.optim
-- three interleaved spirals: a small nonlinear task (train and test from two seeds)
local X, y = data.spirals{n = 600, classes = 3, noise = 0.05, seed = 1}
local Xt, yt = data.spirals{n = 600, classes = 3, noise = 0.05, seed = 2}
local rows, summary = lab.compare{
  activations = {"relu", "tanh", "sigmoid", "gelu", "identity"},
  model = function(a) return nn.mlp{2, 64, 64, 3, activation = a} end,
  data = {train = {X = X, y = y}, test = {X = Xt, y = yt}},
  optimizer = function(params) return optim.Adam(params, {lr = 0.01}) end,
  epochs = 150, batch = 32, seeds = 5, plot = "guide_compare.svg"}
-- the summary, best first: mean and 95% CI over the seeds, and whether the paired
-- difference to the best is within the seed noise
for _, s in ipairs(summary) do
  print(("%-8s %5.1f%% [%5.1f, %5.1f]  %s"):format(s.activation, 100 * s.mean,
    100 * s.ci95[1], 100 * s.ci95[2], s.tied_with_best and "tied with the best" or "worse"))
end
]]

-- The guide ---------------------------------------------------------------------------

local started = os.date("!%Y-%m-%d %H:%M UTC")
local function cpu_name()
  local f = io.open("/proc/cpuinfo")
  local name = f and f:read("a"):match("model name%s*:%s*([^\n]+)")
  if f then f:close() end
  return name or "an unnamed CPU"
end
local info = A.build_info()
w("# actrun guide: from install to three experiments")
w()
w(("Generated by `actrun scripts/gen_guide.lua` on %s (actrun %s) on %s, kernels at the"):format(
  started, A.version, cpu_name()))
w(("%s level, %d threads: every snippet below was run by the generator, each in a fresh"):format(
  info.simd, info.threads))
w("`actrun` process, and the text under it is what it printed; the pictures are the files it")
w("wrote. Timings and the `ns` cost columns are that machine's. The other numbers depend on")
w("the seeds and on float rounding: the AVX-512 and AVX2 levels give the same bits, the")
w("baseline level (no FMA) differs in the last bits, which after training moves losses by")
w("about 1e-7 relative (README, the main job). Run the generator again to refresh it.")
w()
w("## 1. Install and check")
w()
w("On a fresh Debian 12, as root or with sudo, from the repository's root:")
w()
w("    scripts/run.sh      # installs what is missing, builds into build/, runs the main job")
w("    scripts/test.sh     # builds and runs the whole test suite (also under ASan+UBSan)")
w()
w("`scripts/run.sh` runs the main job, the activation comparison on Fashion-MNIST")
w("(`scripts/compare_fashion_mnist.lua`; `scripts/run.sh --quick` is a one-minute version).")
w("After that the binary is `build/actrun`:")
w()
w("    build/actrun script.lua [args]   run a script")
w("    build/actrun                     the REPL: tab completion, help(x) or ?x for any function")
w("    build/actrun -h                  options and built-in commands")
w()
w("Each snippet below is a complete script: save it as a file and run it with")
w("`build/actrun FILE.lua`, or type it into the REPL. `actrun` is a global there; from a plain")
w("Lua 5.4 use `local actrun = require \"actrun\"`. The full reference is [API.md](API.md).")
w()
w("## 2. What an activation looks like, measured")
w()
w("`act.table` measures the properties the study note lists (nonlinear, differentiable,")
w("monotonic, bounded, zero-centred, near identity, saturation, cost, self-normalising)")
w("from f and f' instead of quoting them; `act.scalar` gives f and f' in double precision;")
w("`act.plot` draws the curves (in the terminal without `file`).")
w()
example(curves)
image("guide_curves.svg", "sigmoid, tanh, relu and gelu with their derivatives")
w("Sigmoid's derivative is at most 0.25 (at 0) and 0.0025 at x = 6: a saturated unit")
w("passes almost no gradient back. Every activation with its curves: [ACTIVATIONS.md](ACTIVATIONS.md).")
w()
w("## 3. Why that matters with depth: vanishing gradients")
w()
w("Backpropagation multiplies one derivative per layer. `lab.depth_probe` builds a fresh")
w("deep MLP (square Linear layers, zero bias, the activation after each), sends N(0,1)")
w("inputs forward and a random gradient back, and reports every layer's output mean and")
w("std and its weight-gradient norm; `lab.plot_depth` draws them.")
w()
example(depth)
image("guide_depth.svg", "log10 of the gradient norm per layer for sigmoid, tanh and relu")
w("Sigmoid's first layer gets many orders of magnitude less gradient than its last, so it")
w("barely learns. A caution about what this measures: a weight gradient is the backward")
w("signal times the layer's input, so when activations shrink with depth as fast as the")
w("signal grows (tanh, ReLU under Xavier) the weight gradients look even while the backward")
w("signal itself falls by orders of magnitude. `scripts/vanishing_gradients.lua` measures")
w("that signal, ||dL/dz|| per layer, for three inits over seeds, and")
w("`scripts/init_amplitude.lua` and `scripts/selu_normalization.lua` follow the forward")
w("amplitude instead (ReLU under N(0,1) / Xavier / He init and batch norm; SELU's fixed point).")
w()
w("## 4. Does it show in training? A small comparison")
w()
w("`lab.compare` trains one model per activation and seed (every run of a seed starts from")
w("the same weights and sees the same batches), evaluates it, prints one line per run and a")
w("table ranked by test accuracy: mean ± 95% CI over the seeds, the paired difference to")
w("the best with its CI and Holm-adjusted p, `=` where that difference is within the seed")
w("noise, the share of dead units and the first/last gradient-norm ratio. It returns the")
w("runs and that summary; `plot` draws the per-epoch losses with bands and the accuracies")
w("with their intervals, `csv` keeps the runs.")
w()
example(compare)
image("guide_compare.svg", "training loss curves and test accuracies of the comparison")
w("A tie (`=`) means a difference to the best is not shown at this number of seeds, not")
w("that the two are equal: an activation with a lower mean can be tied with the best while")
w("one with a higher mean is not, when its per-seed differences to the best vary more.")
w("`identity` is the control: a stack of linear layers is one linear map (claim 1) and")
w("spirals are not linearly separable, so it stays far below the others whatever the")
w("training. Read the dead-unit share and the gradient ratio next to the accuracy: they")
w("are the quantities sections 2 and 3 measured at init, now after training. Change one")
w("thing (the depth in `nn.mlp`, `init = \"kaiming_normal\"`, more seeds) and run again. The")
w("same comparison on Fashion-MNIST with thirteen activations is the main job,")
w("`scripts/run.sh`.")
w()
w("## 5. Will my activation train at depth 50?")
w()
w("Signal propagation theory (Poole et al. 2016, Schoenholz et al. 2017) answers it before")
w("any training: for an activation and the variances of weights and biases it gives the")
w("slope chi1 of the backward signal per layer (below 1 it dies out, above 1 it explodes)")
w("and the depth xi_c over which signals survive; networks train up to about 6 xi_c.")
w("`act.propagation` and `act.edge_of_chaos` compute it for any activation, built-in or")
w("defined; `lab.signal_propagation` measures the same quantities on a real random network;")
w("`lab.phase_diagram` (or `actrun phase NAME`) draws the plane.")
w()
example(depth50)
image("guide_phase.svg", "tanh's phase diagram: critical line and depth-scale contours")
w("At sigma_w2 = 1 the gradient reaching the first layer of a depth-50 tanh net has")
w("vanished; at the edge of chaos it arrives. `scripts/edge_of_chaos.lua` trains such nets")
w("across depths and sigma_w2 and checks the 6 xi_c rule; `scripts/dynamical_isometry.lua`")
w("looks at the input-output Jacobian's singular values.")
w()
w("## 6. Next")
w()
w("Every claim of the study note has a script in `scripts/` that prints a table and draws a")
w("plot with `--plot FILE.svg`; `--help` lists its options and `--quick` is a short run:")
w()
w("    build/actrun scripts/vanishing_gradients.lua --plot vg.svg")
w("    build/actrun scripts/dying_relu.lua --quick")
w()
w("The list is in the [README](../README.md). Reference: [API.md](API.md); embedding actrun")
w("in a C program: [EMBEDDING.md](EMBEDDING.md); speed against PyTorch:")
w("[BENCHMARKS.md](BENCHMARKS.md); how it is built: [DESIGN.md](DESIGN.md).")

local text = table.concat(doc, "\n") .. "\n"
local tmp = opt.out .. ".tmp"
local f = assert(io.open(tmp, "w"))
f:write(text)
f:close()
assert(os.rename(tmp, opt.out))
print(("wrote %s and %s/guide_*.svg (snippets ran in %.1f s)"):format(opt.out, opt.img_dir, total_seconds))
