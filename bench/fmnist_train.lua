-- Training on Fashion-MNIST end to end, as a user writes it (nn modules, an optimiser,
-- lab.train): test accuracy per epoch and seconds per epoch. The PyTorch counterpart is
-- bench/fmnist_train_torch.py (the same models, recipes and loop bookkeeping).
--
--   actrun bench/fmnist_train.lua [--model mlp|mlp_small|cnn] [--recipe NAME]
--       [--epochs N] [--seeds 1,2,3] [--threads T] [--batch B] [--lr LR]
--       [--limit N] [--quiet] [--profile]
--
-- Models:
--   mlp        784-256-256-10 ReLU (the network of the speed and accuracy targets)
--   mlp_small  784-256-128-100-10 ReLU (the "MLP 256-128-100" of the Fashion-MNIST
--              benchmark table, 88.33%)
--   cnn        Conv(1->16, k5, pad 2)-ReLU-MaxPool2-Conv(16->32, k5, pad 2)-ReLU-MaxPool2
--              -Flatten-Linear(1568->10)
-- Recipes (--recipe; every model has a default, --epochs/--batch/--lr override it):
--   adam         Adam(lr 1e-3), batch 128, constant rate, 10 epochs (mlp's default)
--   cosine       Adam(lr 1e-3), batch 128, learning rate annealed to 0 over the run with
--                a cosine (CosineLR, T = epochs, stepped after every epoch), 20 epochs
--                (mlp_small's default)
--   cosine_wd    cosine with AdamW(weight_decay 0.05), 20 epochs
--   cnn          Adam(lr 1e-3), batch 128, constant rate, 8 epochs (cnn's default)
--
-- Every seed s: actrun.manual_seed(s) before the model is built (PyTorch's default
-- initialisation), and lab.train's shuffle seeded with s (a new order every epoch).
-- Seconds per epoch are lab.train's: the training loop only (batches, forward, loss,
-- backward, optimiser step, the loss/accuracy bookkeeping), not the test evaluation
-- that follows each epoch. Test accuracy is on the whole 10,000-image test split
-- (--limit N limits the training set to its first N rows and the test set to
-- min(N, 10000)).
--
-- Output: "# ..." comment lines (per seed and epoch), then KEY VALUE UNIT lines read by
-- bench/run_all.sh:
--   fmnist.MODEL.acc.eK        median over the seeds of the test accuracy after epoch K (%)
--   fmnist.MODEL.acc           the same after the last epoch
--   fmnist.MODEL.acc.min/.max  lowest and highest over the seeds after the last epoch
--   fmnist.MODEL.epoch_s.Tt    median over all epochs of all seeds of the seconds per
--                              epoch, at T threads
--   fmnist.MODEL.epoch_cpu_s.Tt the same in CPU seconds of the process (os.clock, all
--                              threads; on a busy machine the 1-thread figure is the
--                              steadier measure of the work)
--   fmnist.MODEL.epochs, .seeds the run's numbers of epochs and seeds
-- Without the data set (actrun.data.fashion_mnist finds no files) it prints why and
-- exits with status 77.
-- --profile: instead of lab.train, one epoch of a hand-written loop with actrun.clock
-- around each phase (batch gathering, forward, loss, backward, zero_grad, step), per
-- seed; prints the share of each.
local actrun = actrun or require("actrun")
local nn, optim, data, lab = actrun.nn, actrun.optim, actrun.data, actrun.lab

local RECIPES = {
  adam = {opt = "adam", lr = 1e-3, batch = 128, epochs = 10,
    text = "Adam(lr 1e-3), batch 128, constant learning rate"},
  cosine = {opt = "adam", lr = 1e-3, batch = 128, epochs = 20, schedule = "cosine",
    text = "Adam(lr 1e-3), batch 128, cosine annealing to 0 over the epochs (CosineLR, T = epochs)"},
  cosine_wd = {opt = "adamw", lr = 1e-3, batch = 128, epochs = 20, schedule = "cosine",
    weight_decay = 0.05,
    text = "AdamW(lr 1e-3, weight_decay 0.05), batch 128, cosine annealing to 0 over the epochs"},
  cnn = {opt = "adam", lr = 1e-3, batch = 128, epochs = 8,
    text = "Adam(lr 1e-3), batch 128, constant learning rate"},
}
local DEFAULT_RECIPE = {mlp = "adam", mlp_small = "cosine", cnn = "cnn"}

local function usage(msg)
  io.stderr:write("fmnist_train.lua: " .. msg .. "\n" ..
    "options: --model mlp|mlp_small|cnn --recipe NAME --epochs N --seeds 1,2,3 --threads T" ..
    " --batch B --lr LR --limit N --quiet --profile\n")
  os.exit(2)
end

local opts = {model = "mlp", seeds = "1", threads = 1}
do
  local i = 1
  while i <= #arg do
    local k = arg[i]:match("^%-%-([%w_]+)$")
    if not k then usage("bad argument " .. arg[i]) end
    if k == "quiet" or k == "profile" then
      opts[k] = true
      i = i + 1
    else
      local v = arg[i + 1]
      if v == nil then usage("--" .. k .. " needs a value") end
      if k == "model" or k == "recipe" or k == "seeds" then
        opts[k] = v
      elseif k == "epochs" or k == "threads" or k == "batch" or k == "limit" then
        opts[k] = math.tointeger(tonumber(v))
        if not opts[k] or opts[k] < 1 then usage("--" .. k .. " expects an integer >= 1") end
      elseif k == "lr" then
        opts.lr = tonumber(v)
        if not opts.lr or opts.lr <= 0 then usage("--lr expects a number > 0") end
      else
        usage("unknown option --" .. k)
      end
      i = i + 2
    end
  end
end
if not DEFAULT_RECIPE[opts.model] then usage("unknown model " .. opts.model) end
local rname = opts.recipe or DEFAULT_RECIPE[opts.model]
local recipe = RECIPES[rname]
if not recipe then usage("unknown recipe " .. rname) end
local epochs = opts.epochs or recipe.epochs
local batch = opts.batch or recipe.batch
local lr = opts.lr or recipe.lr
local seeds = {}
for s in opts.seeds:gmatch("[^,]+") do
  seeds[#seeds + 1] = math.tointeger(tonumber(s)) or usage("bad seed " .. s)
end
if #seeds == 0 then usage("--seeds needs at least one seed") end

local function build(model)
  if model == "mlp" then
    return nn.mlp{784, 256, 256, 10, activation = "relu"}
  elseif model == "mlp_small" then
    return nn.mlp{784, 256, 128, 100, 10, activation = "relu"}
  end
  return nn.Sequential(
    nn.Conv2d(1, 16, 5, {padding = 2}), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(16, 32, 5, {padding = 2}), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Linear(32 * 7 * 7, 10))
end

local function make_optimizer(params)
  if recipe.opt == "adamw" then
    return optim.AdamW(params, {lr = lr, weight_decay = recipe.weight_decay})
  end
  return optim.Adam(params, {lr = lr, weight_decay = recipe.weight_decay or 0})
end

local function median(t)
  local s = {}
  for i, v in ipairs(t) do s[i] = v end
  table.sort(s)
  local n = #s
  return n % 2 == 1 and s[(n + 1) // 2] or 0.5 * (s[n // 2] + s[n // 2 + 1])
end

local function comment(...)
  if not opts.quiet then
    print("# " .. string.format(...))
    io.stdout:flush()
  end
end

local function result(key, value, unit)
  print(string.format("%-34s %12.4f %s", key, value, unit))
  io.stdout:flush()
end

actrun.set_num_threads(opts.threads)
local t_load = actrun.clock()
local ok, X, y = pcall(data.fashion_mnist, {split = "train", limit = opts.limit})
if not ok and tostring(X):find("not found", 1, true) then
  -- no data set: nothing to measure (exit status 77, "skipped" to ctest)
  print("# fmnist_train.lua: skipped: " .. tostring(X))
  os.exit(77)
elseif not ok then
  error(X, 0)
end
local Xt, yt = data.fashion_mnist{split = "test", limit = opts.limit and math.min(opts.limit, 10000)}
if opts.model == "cnn" then
  X = X:view(X:size(1), 1, 28, 28)
  Xt = Xt:view(Xt:size(1), 1, 28, 28)
end
print(string.format("# fmnist_train.lua: actrun %s; model %s, recipe %s: %s; %d epochs, batch %d, lr %g; " ..
  "seeds %s; %d thread(s); %d training and %d test images (loaded in %.2f s)",
  actrun.version, opts.model, rname, recipe.text, epochs, batch, lr, opts.seeds, opts.threads,
  X:size(1), Xt:size(1), actrun.clock() - t_load))

-- One epoch of a hand-written loop with a clock around each phase.
local function profile_epoch(model, opt, seed)
  local phases = {"batch", "forward", "loss", "backward", "zero_grad", "step", "bookkeeping"}
  local t = {}
  for _, p in ipairs(phases) do t[p] = 0 end
  local clock = actrun.clock
  local it = data.loader(X, y, {batch = batch, shuffle = true, seed = seed})
  local start = clock()
  while true do
    local c0 = clock()
    local xb, yb = it()
    local c1 = clock()
    t.batch = t.batch + (c1 - c0)
    if not xb then break end
    opt:zero_grad()
    local c2 = clock()
    local out = model(xb)
    local c3 = clock()
    local loss = nn.cross_entropy(out, yb)
    local c4 = clock()
    loss:backward()
    local c5 = clock()
    opt:step()
    local c6 = clock()
    local _ = loss:item() + out:detach():argmax(2):eq(yb):sum():item()
    local c7 = clock()
    t.zero_grad = t.zero_grad + (c2 - c1)
    t.forward = t.forward + (c3 - c2)
    t.loss = t.loss + (c4 - c3)
    t.backward = t.backward + (c5 - c4)
    t.step = t.step + (c6 - c5)
    t.bookkeeping = t.bookkeeping + (c7 - c6)
  end
  local total = clock() - start
  local parts = {}
  for _, p in ipairs(phases) do
    parts[#parts + 1] = string.format("%s %.3f s (%.0f%%)", p, t[p], 100 * t[p] / total)
  end
  print(string.format("# profile seed %d: epoch %.3f s = %s", seed, total, table.concat(parts, ", ")))
  return total
end

local acc = {} -- acc[epoch][i] over seeds
local secs, cpus = {}, {}
for _, seed in ipairs(seeds) do
  actrun.manual_seed(seed)
  local model = build(opts.model)
  local opt = make_optimizer(model:parameters())
  if opts.profile then
    profile_epoch(model, opt, seed)
  else
    local sched = recipe.schedule == "cosine" and optim.CosineLR(opt, {T = epochs}) or nil
    local cpu_mark = os.clock()
    lab.train(model, {X = X, y = y}, {
      epochs = epochs, batch = batch, optimizer = opt, seed = seed, progress = false,
      on_epoch = function(row, m)
        cpus[#cpus + 1] = os.clock() - cpu_mark
        local ev = lab.evaluate(m, Xt, yt)
        acc[row.epoch] = acc[row.epoch] or {}
        table.insert(acc[row.epoch], 100 * ev.accuracy)
        secs[#secs + 1] = row.seconds
        comment("seed %d epoch %d: train loss %.4f, train accuracy %.2f%%, test accuracy %.2f%%, " ..
          "lr %.3g, %.3f s", seed, row.epoch, row.loss, 100 * row.accuracy, 100 * ev.accuracy,
          opt.lr, row.seconds)
        if sched then sched:step() end
        cpu_mark = os.clock()
      end,
    })
  end
end

local key = "fmnist." .. opts.model
if not opts.profile then
  for e = 1, epochs do result(string.format("%s.acc.e%d", key, e), median(acc[e]), "%") end
  local last = acc[epochs]
  result(key .. ".acc", median(last), "%")
  local lo, hi = math.huge, -math.huge
  for _, v in ipairs(last) do lo, hi = math.min(lo, v), math.max(hi, v) end
  result(key .. ".acc.min", lo, "%")
  result(key .. ".acc.max", hi, "%")
  result(string.format("%s.epoch_s.%dt", key, opts.threads), median(secs), "s")
  result(string.format("%s.epoch_cpu_s.%dt", key, opts.threads), median(cpus), "s")
  result(key .. ".epochs", epochs, "epochs")
  result(key .. ".seeds", #seeds, "seeds")
end
