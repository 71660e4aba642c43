-- Claim 6.4: ReLU has slope 0 for x < 0, so a unit whose input is negative for every
-- example gets no gradient and never comes back ("dying ReLU"); Leaky ReLU and PReLU
-- keep a small slope there and fix it.
-- 1. A harsh setting: the hidden biases start strongly negative (--harsh bias), or SGD
--    runs with a large learning rate (--harsh lr); the same MLP with ReLU, Leaky ReLU
--    and PReLU (one learned slope per unit) is trained on three spirals.
-- 2. Forward hooks on the activation layers see every hidden unit's input z on the whole
--    training set. Two counts per net, before and after training:
--      negative regime: z <= 0 for every example (the unit sits on its left branch);
--      dead: the output is exactly 0 for every example, so no gradient reaches the
--            unit's weights: only ReLU units can be dead; a leaky unit in the negative
--            regime still learns through its slope.
-- 3. Accuracy, and PReLU's learned slopes (mean, min, max; they start at 0.25).
--
--   actrun scripts/dying_relu.lua [--quick] [--harsh bias|lr|none] [--bias X] [--lr X]
--                                 [--width N] [--n N] [--epochs N] [--seed N] [--plot FILE]
local A = rawget(_G, "actrun") or require "actrun"
local nn, data = A.nn, A.data
local here = (arg and arg[0] or ""):match("^(.*)/") or "."
local cli = dofile(here .. "/lib/cli.lua")
local train = dofile(here .. "/lib/train.lua")

local spec = {
  usage = "actrun scripts/dying_relu.lua [options]",
  about = "Dead ReLU units under a harsh setting, against Leaky ReLU and PReLU (and PReLU's slopes).",
  options = {
    {"quick", "flag", help = "a smaller run (fewer points and epochs)"},
    {"harsh", "string", "bias", choices = {"bias", "lr", "none"},
      help = "negative initial biases, a large SGD learning rate, or neither"},
    {"bias", "number", -0.5, help = "initial bias of the hidden layers with --harsh bias"},
    {"lr", "number", nil, help = "learning rate (default: SGD 1.0 with --harsh lr, else Adam 0.01)", min = 0},
    {"width", "int", 64, help = "width of the two hidden layers", min = 1},
    {"n", "int", 600, help = "spiral points", min = 3},
    {"epochs", "int", 60, help = "training epochs (batch 32)", min = 1},
    {"seed", "int", 1, help = "seed of the data, the init and the shuffles"},
    {"plot", "string", nil, help = "draw the training loss curves into FILE (.svg)", arg = "FILE"},
  }}
local opt, given = cli.parse(arg, spec)
if opt.quick then
  if not given.n then opt.n = 300 end
  if not given.epochs then opt.epochs = 20 end
end
local sgd = opt.harsh == "lr"
opt.lr = opt.lr or (sgd and 1.0 or 0.01)

local X, y = data.spirals{n = opt.n, classes = 3, noise = 0.05, seed = opt.seed}

local function activation(name, width)
  if name == "prelu" then return nn.PReLU(width) end
  return nn.Activation(name)
end

local function model_for(name)
  local w = opt.width
  local m = nn.Sequential(nn.Linear(2, w), activation(name, w), nn.Linear(w, w),
    activation(name, w), nn.Linear(w, 3))
  if opt.harsh == "bias" then
    A.no_grad(function()
      m[1].bias:fill(opt.bias)
      m[3].bias:fill(opt.bias)
    end)
  end
  return m
end

-- Units (over both hidden layers) in the negative regime / dead on the whole of X.
-- Also returns the number of dead units per layer.
local function census(m)
  local units, negative, dead, per_layer = 0, 0, 0, {}
  local handles = {}
  for _, e in ipairs(m:named_modules()) do
    if e.module.is_activation then
      handles[#handles + 1] = e.module:add_hook(function(_, z, out)
        units = units + z:size(2)
        negative = negative + z:le(0):min(1):sum():item()
        local d = out:eq(0):min(1):sum():item()
        dead = dead + d
        per_layer[#per_layer + 1] = math.tointeger(d)
      end)
    end
  end
  train.evaluating(m, function(mm) return mm(X) end)
  for _, h in ipairs(handles) do h.remove() end
  return negative / units, dead / units, per_layer
end

local rows, results, series = {}, {}, {}
for _, name in ipairs{"relu", "leaky_relu", "prelu"} do
  A.manual_seed(opt.seed)
  local m = model_for(name)
  local neg0, dead0 = census(m)
  local history = train.fit(m, X, y, {epochs = opt.epochs, batch = 32, lr = opt.lr,
    optimizer = sgd and "sgd" or "adam", seed = opt.seed})
  local neg1, dead1, layers1 = census(m)
  local r = {name = name, neg0 = neg0, dead0 = dead0, neg1 = neg1, dead1 = dead1,
    acc = train.accuracy(m, X, y), loss = history[#history], dead_per_layer = layers1}
  if name == "prelu" then
    local slopes = A.cat({m[2].weight, m[4].weight}, 1)
    r.slopes = {mean = slopes:mean():item(), min = slopes:min():item(), max = slopes:max():item()}
  end
  rows[#rows + 1] = r
  results[name] = r
  local xs = {}
  for i = 1, #history do xs[i] = i end
  series[#series + 1] = {x = xs, y = history, label = name}
end

local setting = opt.harsh == "bias" and ("hidden biases start at " .. opt.bias .. ", Adam lr " .. opt.lr)
  or opt.harsh == "lr" and ("SGD with a large learning rate, lr " .. opt.lr)
  or ("default init, Adam lr " .. opt.lr)
print(("Three spirals, %d points; MLP 2 -> %d -> %d -> 3; %s; batch 32, %d epochs.")
  :format(opt.n, opt.width, opt.width, setting, opt.epochs))
print(("Shares of the %d hidden units, on the whole training set:"):format(2 * opt.width))
cli.print_table({
  {"activation", "name"},
  {"negative regime, before", "neg0", "%.3f"}, {"dead, before", "dead0", "%.3f"},
  {"negative regime, after", "neg1", "%.3f"}, {"dead, after", "dead1", "%.3f"},
  {"final loss", "loss", "%.4f"}, {"accuracy", "acc", "%.4f"},
}, rows)
print("(negative regime: z <= 0 for every example; dead: output exactly 0 for every example, so no")
print(" gradient: only a ReLU unit can be dead, a leaky unit in its negative regime still learns)")
local per = results.relu.dead_per_layer
print(("ReLU after training: %d of %d units dead in hidden layer 1, %d of %d in hidden layer 2%s")
  :format(per[1], opt.width, per[2], opt.width,
    per[2] == opt.width and " (the whole layer: the output no longer depends on the input)" or ""))
local s = results.prelu.slopes
print(("\nPReLU's learned slopes (%d, one per unit, initial 0.25): mean %.4f, min %.4f, max %.4f")
  :format(2 * opt.width, s.mean, s.min, s.max))

if opt.plot then
  cli.plot_line{series = series, title = "Dying ReLU: training loss (" .. opt.harsh .. ")",
    xlabel = "epoch", ylabel = "cross-entropy", file = opt.plot}
end
return results
