-- actrun.lab: train, evaluate, compare, the probes, the progress display and every
-- error message. Small synthetic sets only (the sanitizer build runs this file too).
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local T = require "testlib"
local actrun = T.actrun
local lab, nn, data, optim = actrun.lab, actrun.nn, actrun.data, actrun.optim
local test, eq, near, truthy, expect_error = T.test, T.eq, T.near, T.truthy, T.expect_error

local THIS = arg[0]:match("([^/]+)$")

local function adam(m, lr) return optim.Adam(m:parameters(), {lr = lr}) end

local function tmpname()
  local p = os.tmpname()
  os.remove(p)
  return p
end

local function read_all(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

-- The interpreter running this file, for child processes.
local function exe()
  local i = 0
  while arg[i - 1] do i = i - 1 end
  return arg[i]
end

local shell_quote = T.shell_quote

-- Runs Lua code in a child actrun with the given environment prefix; returns its
-- combined stdout and stderr.
local function child(env, code)
  local path = tmpname() .. ".lua"
  local f = assert(io.open(path, "w"))
  f:write(code)
  f:close()
  local p = io.popen(env .. " " .. shell_quote(exe()) .. " " .. shell_quote(path) .. " 2>&1")
  local out = p:read("a")
  p:close()
  os.remove(path)
  return out
end

local function blobs()
  local X, y = data.blobs{n = 300, classes = 3, seed = 1}
  return X, y
end

---------------------------------------------------------------------------------------
-- train

test("train: the loss falls and an easy set is learned (blobs, xor)", function()
  local X, y = blobs()
  actrun.manual_seed(3)
  local m = nn.mlp{2, 16, 3}
  local h = lab.train(m, {X = X, y = y}, {epochs = 15, batch = 32, optimizer = adam(m, 0.01),
    seed = 1, progress = false})
  eq(#h, 15)
  truthy(h[15].loss < h[1].loss / 5, "loss fell fivefold: " .. h[1].loss .. " -> " .. h[15].loss)
  truthy(h[15].accuracy >= 0.95, "train accuracy " .. h[15].accuracy)
  truthy(lab.evaluate(m, X, y).accuracy >= 0.95, "evaluated accuracy")
  -- the finer curve: points in epochs, increasing, ending at the last epoch, and its
  -- last epoch's points average (weighted equally here: equal batches) near that epoch's loss
  local c = h.curve
  truthy(#c >= 15 and #c <= 15 * 21, "curve points " .. #c)
  for i = 2, #c do truthy(c[i].epoch > c[i - 1].epoch, "curve x increases") end
  T.near(c[#c].epoch, 15, 1e-12)
  truthy(c[1].loss > c[#c].loss, "curve falls")

  local Xx, yx = data.xor()
  actrun.manual_seed(1)
  local mx = nn.mlp{2, 8, 2, activation = "tanh"}
  local hx = lab.train(mx, {X = Xx, y = yx}, {epochs = 300, batch = 4,
    optimizer = adam(mx, 0.05), progress = false})
  eq(lab.evaluate(mx, Xx, yx).accuracy, 1.0)
  truthy(hx[300].loss < 0.05, "xor loss " .. hx[300].loss)
end)

test("train: history rows, val, on_epoch and early stop", function()
  local X, y = blobs()
  actrun.manual_seed(1)
  local m = nn.mlp{2, 8, 3}
  local seen = {}
  local h = lab.train(m, {X = X, y = y}, {epochs = 5, batch = 50, progress = false,
    val = {X = X, y = y},
    on_epoch = function(row, model)
      seen[#seen + 1] = row
      eq(model, m)
      truthy(model.training, "train mode during training")
      if row.epoch == 3 then return false end
    end})
  eq(#h, 3)
  eq(#seen, 3)
  for e, row in ipairs(h) do
    eq(seen[e], row)
    eq(row.epoch, e)
    for _, k in ipairs{"loss", "accuracy", "seconds", "val_loss", "val_accuracy"} do
      truthy(type(row[k]) == "number", "field " .. k)
    end
    truthy(row.accuracy >= 0 and row.accuracy <= 1, "accuracy a fraction")
  end
  -- the val numbers are those of evaluate (after the last epoch's training)
  local ev = lab.evaluate(m, X, y)
  near(h[3].val_loss, ev.loss, 1e-6)
  near(h[3].val_accuracy, ev.accuracy, 1e-12)
end)

test("train: the same seeds give the same run; the mode is restored", function()
  local X, y = blobs()
  local function run(seed)
    actrun.manual_seed(7)
    local m = nn.mlp{2, 8, 3}
    m:eval()
    local h = lab.train(m, {X = X, y = y}, {epochs = 3, batch = 16, seed = seed, progress = false})
    eq(m.training, false, "eval mode restored")
    local losses = {}
    for i, r in ipairs(h) do losses[i] = r.loss end
    return losses
  end
  local a, b, c = run(1), run(1), run(2)
  eq(a, b)
  truthy(a[1] ~= c[1], "another shuffle seed, other batches")
end)

test("train: default optimiser is Adam 1e-3 over the model's parameters", function()
  local X, y = blobs()
  actrun.manual_seed(5)
  local m1 = nn.mlp{2, 8, 3}
  actrun.manual_seed(5)
  local m2 = nn.mlp{2, 8, 3}
  local h1 = lab.train(m1, {X = X, y = y}, {epochs = 2, batch = 32, seed = 1, progress = false})
  local h2 = lab.train(m2, {X = X, y = y}, {epochs = 2, batch = 32, seed = 1, progress = false,
    optimizer = optim.Adam(m2:parameters(), {lr = 1e-3}), loss = nn.cross_entropy})
  eq(h1[2].loss, h2[2].loss)
  T.tensor_near(m1[1].weight, m2[1].weight:totable(), 0)
end)

test("train: binary accuracy with {N,1} outputs; none for regression", function()
  local X, y = data.moons{n = 200, noise = 0.05, seed = 1}
  local t = (y - 1):reshape(200, 1) -- 0/1 targets
  actrun.manual_seed(2)
  local m = nn.mlp{2, 16, 1, activation = "tanh"}
  local h = lab.train(m, {X = X, y = t}, {epochs = 40, batch = 20, loss = nn.bce_with_logits,
    optimizer = adam(m, 0.02), progress = false})
  truthy(h[40].accuracy > 0.85, "binary accuracy " .. h[40].accuracy)
  -- the rule: logit > 0 is class 1
  local z = actrun.no_grad(function() return m(X) end)
  local manual = z:gt(0):eq(t):mean():item()
  near(lab.evaluate(m, X, t, nn.bce_with_logits).accuracy, manual, 1e-6)
  -- sigmoid outputs with bce: threshold 0.5
  local ms = nn.Sequential(nn.Linear(2, 1), nn.Sigmoid())
  local ev = lab.evaluate(ms, X, t, nn.bce)
  local p = actrun.no_grad(function() return ms(X) end)
  near(ev.accuracy, p:gt(0.5):eq(t):mean():item(), 1e-6)
  -- real-valued targets: a regression, no accuracy
  local r = lab.train(nn.Linear(2, 1), {X = X, y = X:narrow(2, 1, 1) * 3},
    {epochs = 1, loss = nn.mse, progress = false})
  eq(r[1].accuracy, nil)
end)

---------------------------------------------------------------------------------------
-- evaluate

test("evaluate: batched result equals one big forward; mode restored; no grads", function()
  local X, y = blobs()
  actrun.manual_seed(4)
  local m = nn.mlp{2, 8, 3, dropout = 0.5}
  local ev = lab.evaluate(m, X, y, nil, {batch = 7})
  eq(m.training, true, "train mode restored")
  m:eval()
  local out = actrun.no_grad(function() return m(X) end)
  near(ev.loss, nn.cross_entropy(out, y):item(), 1e-5)
  near(ev.accuracy, out:argmax(2):eq(y):mean():item(), 1e-6)
  local ev2 = lab.evaluate(m, X, y)
  eq(m.training, false, "eval mode kept")
  near(ev2.loss, ev.loss, 1e-5)
  for _, p in ipairs(m:parameters()) do eq(p.grad, nil) end
end)

---------------------------------------------------------------------------------------
-- probes

test("dead_units: a ReLU net with a large negative bias is all dead", function()
  local X = data.blobs{n = 200, classes = 2, seed = 3}
  actrun.manual_seed(1)
  local m = nn.mlp{2, 16, 16, 2}
  local d0 = lab.dead_units(m, X)
  eq(#d0, 2)
  eq(d0[1].name, "2")
  eq(d0[1].units, 16)
  truthy(d0.total < 0.5, "a fresh net is mostly alive: " .. d0.total)
  actrun.no_grad(function()
    m[1].bias:fill(-1000)
    m[3].bias:fill(-1000)
  end)
  local d = lab.dead_units(m, X, {batch = 33})
  eq(d.total, 1.0)
  eq(d.dead, 32)
  eq(d[2].fraction, 1.0)
end)

test("dead_units counts a unit dead only when it is 0 on every row", function()
  -- unit 1 is relu(x1 - 0.5) (alive for one row), unit 2 relu(-1) (always dead)
  local lin = nn.Linear(1, 2)
  actrun.no_grad(function()
    lin.weight:copy(actrun.tensor{{1}, {0}})
    lin.bias:copy(actrun.tensor{-0.5, -1})
  end)
  local m = nn.Sequential(lin, nn.ReLU())
  local X = actrun.tensor{{0}, {0.2}, {0.4}, {1}}
  local d = lab.dead_units(m, X, {batch = 1})
  eq(d.dead, 1)
  eq(d.total, 0.5)
end)

test("activation_stats: zeros, saturation, mean and std match direct computations", function()
  local X = actrun.randn(300, 4)
  actrun.manual_seed(2)
  local lin = nn.Linear(4, 32)
  actrun.no_grad(function() lin.weight:copy(lin.weight * 20) end) -- drive sigmoid to its tails
  local m = nn.Sequential(lin, nn.Sigmoid(), nn.Linear(32, 32), nn.ReLU())
  local rows = lab.activation_stats(m, X, {batch = 64})
  eq(#rows, 2)
  eq(rows[1].name, "2")
  eq(rows[1].act, "sigmoid")
  local z = actrun.no_grad(function() return lin(X) end)
  local s = z:sigmoid()
  local ds = s * (1 - s)
  near(rows[1].saturated_fraction, ds:lt(1e-3):mean():item(), 1e-6)
  truthy(rows[1].saturated_fraction > 0.3, "sigmoid saturates: " .. rows[1].saturated_fraction)
  near(rows[1].mean, s:mean():item(), 1e-5)
  near(rows[1].std, s:std():item(), 1e-4)
  eq(rows[1].zero_fraction, 0)
  local r = actrun.no_grad(function() return m(X) end)
  near(rows[2].zero_fraction, r:eq(0):mean():item(), 1e-6)
  -- relu: f' is 0 exactly where x < 0 (x = 0 has probability 0 here)
  near(rows[2].saturated_fraction, rows[2].zero_fraction, 1e-9)
  -- the hooks are gone afterwards (Module keeps them in _hooks)
  for _, e in ipairs(m:named_modules()) do
    eq(#(rawget(e.module, "_hooks") or {}), 0)
  end
  eq(m.training, true)
end)

test("activation_stats: PReLU and Maxout layers; hooks removed on error", function()
  actrun.manual_seed(3)
  local m = nn.Sequential(nn.Linear(3, 8), nn.PReLU(8, 0.0), nn.Maxout(8, 4))
  local X = actrun.randn(50, 3)
  local rows = lab.activation_stats(m, X)
  eq(#rows, 2)
  eq(rows[1].act, "prelu")
  -- slope 0: f' = 0 for x <= 0, so saturated = zero outputs
  near(rows[1].saturated_fraction, rows[1].zero_fraction, 1e-9)
  eq(rows[2].act, "maxout")
  eq(rows[2].saturated_fraction, 0)
  local bad = actrun.randn(5, 7)
  expect_error(function() return lab.activation_stats(m, bad) end, "Linear")
  for _, e in ipairs(m:named_modules()) do
    eq(#(rawget(e.module, "_hooks") or {}), 0)
  end
end)

test("gradient_flow: per Linear weight-gradient norms in forward order, grads kept", function()
  local X, y = blobs()
  actrun.manual_seed(6)
  local m = nn.mlp{2, 8, 8, 3}
  local w1 = m[1].weight
  local marker = actrun.full(w1:shape(), 3)
  w1.grad = marker
  local rows = lab.gradient_flow(m, X, y)
  eq(#rows, 3)
  eq({rows[1].name, rows[2].name, rows[3].name}, {"1", "3", "5"})
  eq(rows[1].kind, "Linear")
  eq(rows[1].layer, 1)
  T.tensor_near(w1.grad, marker:totable(), 0)
  eq(m[3].weight.grad, nil)
  -- against a manual backward
  local loss = nn.cross_entropy(m(X), y)
  w1.grad = nil
  loss:backward()
  near(rows[1].grad_norm, w1.grad:norm():item(), 1e-5)
  near(rows[3].grad_norm, m[5].weight.grad:norm():item(), 1e-5)
end)

test("gradient_flow: the order the layers ran in (residual pre-norm)", function()
  actrun.manual_seed(1)
  local m = nn.Sequential(nn.Linear(2, 4),
    nn.Residual(nn.Sequential(nn.Linear(4, 4), nn.ReLU()), {norm = "pre", width = 4}),
    nn.Linear(4, 2))
  local X, y = data.xor()
  local rows = lab.gradient_flow(m, X, y)
  local names = {}
  for i, r in ipairs(rows) do names[i] = r.name end
  -- the norm runs before the block although it is registered after it
  eq(names, {"1", "2.norm", "2.block.1", "3"})
end)

test("depth_probe: sigmoid's gradient vanishes with depth; SELU keeps std near 1", function()
  local rows = lab.depth_probe{activation = "sigmoid", depth = 20, width = 64, batch = 64,
    seed = 1}
  eq(#rows, 20)
  for _, k in ipairs{"layer", "mean", "std", "grad_norm"} do
    truthy(type(rows[20][k]) == "number", "field " .. k)
  end
  -- SEED.md 3b: the first layer's gradient orders of magnitude below the last
  truthy(rows[1].grad_norm < rows[20].grad_norm * 1e-4,
    ("sigmoid first %g vs last %g"):format(rows[1].grad_norm, rows[20].grad_norm))
  local s = lab.depth_probe{activation = "selu", init = "lecun_normal", depth = 50, width = 128,
    batch = 128, seed = 1}
  near(s[50].std, 1, 0.2)
  near(s[50].mean, 0, 0.2)
  -- N(0,1) weights blow a relu net up; batch norm holds it
  local raw = lab.depth_probe{activation = "relu", init = "normal", depth = 10, width = 64,
    batch = 64, seed = 1}
  truthy(raw[10].std > 1e6, "relu + N(0,1) explodes: " .. raw[10].std)
  local bn = lab.depth_probe{activation = "relu", init = "normal", depth = 10, width = 64,
    batch = 64, seed = 1, norm = "batch"}
  truthy(bn[10].std > 0.3 and bn[10].std < 3, "batch norm keeps it: " .. bn[10].std)
end)

test("depth_probe: reproducible from its seed", function()
  local a = lab.depth_probe{activation = "tanh", depth = 5, width = 16, batch = 8, seed = 4}
  local b = lab.depth_probe{activation = "tanh", depth = 5, width = 16, batch = 8, seed = 4}
  eq(a, b)
end)

---------------------------------------------------------------------------------------
-- compare

test("compare: 2 activations x 2 seeds, same initial weights, CSV, summary", function()
  local Xtr, ytr = data.blobs{n = 200, classes = 3, seed = 1}
  local Xte, yte = data.blobs{n = 90, classes = 3, seed = 2}
  local first = {}
  local csv = tmpname() .. ".csv"
  local rows, summary = lab.compare{
    activations = {"relu", "tanh"},
    model = function(a)
      local m = nn.mlp{2, 8, 8, 3, activation = a}
      first[#first + 1] = {a = a, w = m[1].weight:clone(), m = m}
      return m
    end,
    data = {train = {X = Xtr, y = ytr}, test = {X = Xte, y = yte}},
    optimizer = function(p) return optim.Adam(p, {lr = 0.01}) end,
    epochs = 2, batch = 32, seeds = 2, csv = csv, quiet = true,
  }
  eq(#rows, 4)
  eq(#first, 4)
  -- run order: activation-major; seed 1 and 2 of relu, then of tanh
  eq({rows[1].activation, rows[1].seed, rows[2].seed, rows[3].activation, rows[4].seed},
    {"relu", 1, 2, "tanh", 2})
  T.tensor_near(first[3].w, first[1].w:totable(), 0) -- relu seed 1 == tanh seed 1
  T.tensor_near(first[4].w, first[2].w:totable(), 0)
  truthy((first[1].w - first[2].w):abs():max():item() > 0, "seeds differ")
  for _, r in ipairs(rows) do
    for _, k in ipairs{"train_loss", "test_loss", "test_accuracy", "seconds", "dead_fraction",
        "grad_norm_first", "grad_norm_last", "params"} do
      truthy(type(r[k]) == "number", "row field " .. k)
    end
    eq(#r.history, 2)
  end
  for i, r in ipairs(rows) do
    -- the training loss after the last step (on the training set), not the epoch's mean
    near(r.train_loss, lab.evaluate(first[i].m, Xtr, ytr).loss, 1e-6)
    truthy(r.train_loss ~= r.history[2].loss, "not the running mean")
    eq(r.params, 2 * 8 + 8 + 8 * 8 + 8 + 8 * 3 + 3)
  end
  eq(#summary, 2)
  truthy(summary[1].test_accuracy >= summary[2].test_accuracy, "ranked")
  eq(summary[1].rank, 1)
  for _, s in ipairs(summary) do
    local accs = {}
    for _, r in ipairs(rows) do
      if r.activation == s.activation then accs[#accs + 1] = r.test_accuracy end
    end
    near(s.test_accuracy, (accs[1] + accs[2]) / 2, 1e-12)
    near(s.test_accuracy_sd, math.abs(accs[1] - accs[2]) / math.sqrt(2), 1e-9)
  end
  -- the CSV, parsed back
  local text = read_all(csv)
  os.remove(csv)
  truthy(text, "CSV written")
  local lines = {}
  for line in text:gmatch("[^\n]+") do lines[#lines + 1] = line end
  eq(#lines, 5)
  local header = {}
  for f in lines[1]:gmatch("[^,]+") do header[#header + 1] = f end
  -- the row's fields, then the provenance repeated on every line
  eq({table.unpack(header, 1, #lab.CSV_FIELDS)}, lab.CSV_FIELDS)
  eq({table.unpack(header, #lab.CSV_FIELDS + 1)},
    {"batch", "seeds", "actrun_version", "simd", "threads"})
  for i = 2, 5 do
    local vals, rec = {}, {}
    for f in (lines[i] .. ","):gmatch("([^,]*),") do vals[#vals + 1] = f end
    eq(#vals, #header)
    for j, k in ipairs(header) do rec[k] = vals[j] end
    local r = rows[i - 1]
    eq(rec.activation, r.activation)
    eq(tonumber(rec.seed), r.seed)
    near(tonumber(rec.test_accuracy), r.test_accuracy, 1e-8)
    near(tonumber(rec.train_loss), r.train_loss, 1e-7)
    near(tonumber(rec.grad_norm_first), r.grad_norm_first, 1e-6 * r.grad_norm_first)
  end
end)

test("compare: a parameter sweep, {name=, params=, label=} entries", function()
  local Xtr, ytr = data.blobs{n = 120, classes = 2, seed = 1}
  local Xte, yte = data.blobs{n = 60, classes = 2, seed = 2}
  local got, store = {}, tmpname() .. ".jsonl"
  local function spec(extra)
    local s = {
      activations = {"relu",
        {name = "leaky_relu", params = {negative_slope = 0.01}},
        {name = "leaky_relu", params = {negative_slope = 0.2}},
        {name = "leaky_relu", params = {negative_slope = 0.5}, label = "leaky 0.5"}},
      model = function(a)
        got[#got + 1] = a
        return nn.mlp{2, 6, 2, activation = a}
      end,
      data = {train = {X = Xtr, y = ytr}, test = {X = Xte, y = yte}},
      epochs = 1, batch = 32, seeds = 1, quiet = true, store = store,
    }
    for k, v in pairs(extra or {}) do s[k] = v end
    return s
  end
  local rows, summary = lab.compare(spec{reference = "leaky_relu(negative_slope=0.2)"})
  local names = {}
  for i, r in ipairs(rows) do names[i] = r.activation end
  eq(names, {"relu", "leaky_relu(negative_slope=0.01)", "leaky_relu(negative_slope=0.2)",
    "leaky 0.5"})
  eq(got[1], "relu", "a plain name reaches the model as it is")
  eq(got[3].name, "leaky_relu")
  eq(got[3].params, {negative_slope = 0.2})
  eq(got[4].label, "leaky 0.5")
  eq(summary[1].reference, "leaky_relu(negative_slope=0.2)")
  -- the model really used the slope: nn.mlp{activation={name=, params=}}
  local m = nn.mlp{2, 3, 2, activation = {name = "leaky_relu", params = {negative_slope = 0.5}}}
  local y = m[2]:forward(actrun.tensor{{-2, 4}})
  T.tensor_near(y, {{-1, 4}}, 1e-6)
  local a = nn.Activation({name = "leaky_relu", params = {negative_slope = 0.3}})
  T.tensor_near(a:forward(actrun.tensor{-1}), {-0.3}, 1e-6)
  -- the store tells the slopes apart even behind a label
  got = {}
  local again = lab.compare(spec())
  eq(#got, 0, "every run from the store")
  T.near(again[3].test_accuracy, rows[3].test_accuracy, 0)
  local changed = spec()
  changed.activations[4] = {name = "leaky_relu", params = {negative_slope = 0.6}, label = "leaky 0.5"}
  got = {}
  lab.compare(changed)
  eq(#got, 1, "another slope under the same label is a new run")
  os.remove(store)
  -- bad entries
  local C = "actrun.lab.compare"
  local function bad(entry, want)
    local s = spec()
    s.store = nil
    s.activations = {"relu", entry}
    local ok, err = pcall(lab.compare, s)
    eq(ok, false)
    truthy(tostring(err):find(want, 1, true), tostring(err))
  end
  bad({params = {}}, C .. ": option activations entry 2 field name expected an activation name, got nil")
  bad({name = "elu", parms = {}}, "entry 2 has unknown field 'parms' (fields: label, name, params)")
  bad({name = "elu", params = 1}, "entry 2 field params expected a table, got number")
  bad({name = "relu"}, "option activations lists 'relu' twice (entries 1 and 2)")
  bad(5, "entry 2 expected a name or {name=, params=, label=}, got number")
end)

test("compare: a dead ReLU net reports dead_fraction 1", function()
  local X, y = data.blobs{n = 100, classes = 2, seed = 1}
  local rows = lab.compare{
    activations = {"relu"},
    model = function(a)
      local m = nn.mlp{2, 8, 2, activation = a}
      actrun.no_grad(function() m[1].bias:fill(-1000) end)
      return m
    end,
    data = {train = {X = X, y = y}, test = {X = X, y = y}},
    seeds = {3}, quiet = true,
  }
  eq(rows[1].dead_fraction, 1.0)
  eq(rows[1].grad_norm_first, 0) -- nothing flows through dead units
end)

test("compare: prints runs and a ranked table; plot written or a note", function()
  local out = child("ACTRUN_PROGRESS=0", [[
    local lab, nn, data = actrun.lab, actrun.nn, actrun.data
    local X, y = data.blobs{n = 60, classes = 2, seed = 1}
    local svg = os.tmpname() .. ".svg"
    lab.compare{activations = {"relu", "identity"},
      model = function(a) return nn.mlp{2, 4, 2, activation = a} end,
      data = {train = {X = X, y = y}, test = {X = X, y = y}}, plot = svg}
    local f = io.open(svg)
    print("svg " .. tostring(f ~= nil))
    if f then f:close() os.remove(svg) end
  ]])
  truthy(out:find("run 1/2: relu seed 1: test accuracy %d+%.%d+%%, %d+%.%d s"), out)
  truthy(out:find("run 2/2: identity seed 1: test accuracy", 1, true), out)
  truthy(not out:find("epoch 1/1", 1, true), "no per-epoch lines by default: " .. out)
  truthy(out:find("rank%s+activation%s+test accuracy%s+diff vs %a+%s+p %(Holm%)%s+train loss" ..
    "%s+dead%s+grad first/last%s+seconds"), out)
  truthy(out:find("1 seed: no uncertainty estimate; use seeds >= 3", 1, true), out)
  truthy(out:find("\n%s+1%s+%a+%s+%d+%.%d+%%"), out)
  if pcall(require, "actrun.plot") then
    truthy(out:find("svg true", 1, true), out)
  else
    truthy(out:find("no plot written (actrun.plot is not available in this build)", 1, true), out)
    truthy(out:find("svg false", 1, true), out)
  end
end)

-- A stand-in for actrun.plot that records its calls (the real one draws them).
local function with_fake_plot(fn, no_grid)
  local calls = {}
  local fake = {
    line = function(spec) calls[#calls + 1] = {"line", spec} end,
    bar = function(spec) calls[#calls + 1] = {"bar", spec} end,
  }
  if not no_grid then
    fake.grid = function(spec) calls[#calls + 1] = {"grid", spec} end
  end
  local saved = package.loaded["actrun.plot"]
  package.loaded["actrun.plot"] = fake
  local ok, err = pcall(fn)
  package.loaded["actrun.plot"] = saved
  if not ok then error(err, 0) end
  return calls
end

test("plots: compare's panels and plot_depth's log10 lines reach actrun.plot", function()
  local X, y = data.blobs{n = 60, classes = 2, seed = 1}
  local rows, summary
  local calls = with_fake_plot(function()
    rows, summary = lab.compare{activations = {"relu", "sigmoid"}, seeds = 2, epochs = 3,
      model = function(a) return nn.mlp{2, 4, 2, activation = a} end,
      data = {train = {X = X, y = y}, test = {X = X, y = y}}, plot = "cmp.svg", quiet = true}
  end)
  eq(#calls, 1)
  eq(calls[1][1], "grid")
  eq(calls[1][2].file, "cmp.svg")
  local acc, train, testl = table.unpack(calls[1][2].plots)
  -- accuracy in % with the summary's 95% CI, best first
  eq(acc.type, "interval")
  eq(acc.labels, {summary[1].activation, summary[2].activation})
  near(acc.values[1], 100 * summary[1].mean, 1e-9)
  near(acc.lo[1], 100 * summary[1].ci95[1], 1e-9)
  near(acc.hi[2], 100 * summary[2].ci95[2], 1e-9)
  eq(acc.tags[1], "best")
  eq(acc.tags[2], summary[2].tied_with_best and "= best" or "")
  -- per-epoch means over seeds, a min-max band with 2 seeds
  eq(train.type, "line")
  eq(#train.series, 2)
  eq(train.series[1].label, summary[1].activation)
  eq(train.series[1].x, {1, 2, 3})
  local a = summary[1].activation
  local r1, r2
  for _, r in ipairs(rows) do
    if r.activation == a then if r1 then r2 = r else r1 = r end end
  end
  near(train.series[1].y[2], (r1.history[2].loss + r2.history[2].loss) / 2, 1e-12)
  near(train.series[1].band.lo[2], math.min(r1.history[2].loss, r2.history[2].loss), 1e-12)
  near(train.series[1].band.hi[2], math.max(r1.history[2].loss, r2.history[2].loss), 1e-12)
  -- the test loss after each epoch: the last one is the run's final test loss
  eq(testl.title, "test loss")
  near(testl.series[1].y[3], (r1.test_loss + r2.test_loss) / 2, 1e-9)
  -- without plot.grid: the curves in the file, the accuracies beside it
  local calls2 = with_fake_plot(function()
    lab.compare{activations = {"relu"}, model = function(a) return nn.mlp{2, 4, 2, activation = a} end,
      data = {train = {X = X, y = y}, test = {X = X, y = y}}, plot = "c.svg", quiet = true}
  end, true)
  eq({calls2[1][1], calls2[1][2].file, calls2[2][1], calls2[2][2].file},
    {"line", "c.svg", "bar", "c_accuracy.svg"})

  local probes = {sig = lab.depth_probe{activation = "sigmoid", depth = 6, width = 8, batch = 8,
    seed = 1}}
  local calls3 = with_fake_plot(function()
    lab.plot_depth(probes, {file = "d.svg", title = "t"})
  end)
  local spec = calls3[1][2]
  eq(calls3[1][1], "line")
  eq({spec.file, spec.title, spec.ylabel}, {"d.svg", "t", "log10 grad_norm"})
  eq(spec.series[1].label, "sig")
  near(spec.series[1].y[1], math.log(probes.sig[1].grad_norm, 10), 1e-12)
  local calls4 = with_fake_plot(function()
    lab.plot_depth({{label = "a", rows = probes.sig}}, {field = "std"})
  end)
  near(calls4[1][2].series[1].y[6], probes.sig[6].std, 0)
end)

---------------------------------------------------------------------------------------
-- several ranks: a stand-in for actrun.dist (the API's rank/size/allreduce/broadcast),
-- each rank a coroutine; a collective is a yield, and when every rank has yielded the
-- same one, the scheduler combines their tensors in place and resumes them all.

local function world(size, program)
  local current = 0
  local fake = {
    rank = function() return current end,
    size = function() return size end,
    allreduce = function(t, op) return coroutine.yield("allreduce", t, op or "sum") end,
    broadcast = function(t, root) return coroutine.yield("broadcast", t, root) end,
    allgather_rows = function(rows) return coroutine.yield("allgather_rows", rows) end,
  }
  local real = require "actrun.dist" -- its serialisation carries the fake's rows
  local saved = package.loaded["actrun.dist"]
  package.loaded["actrun.dist"] = fake
  local cos, results, waiting = {}, {}, {}
  for r = 0, size - 1 do
    cos[r] = coroutine.create(function() return program(r) end)
  end
  local ok, err = pcall(function()
    while true do
      local alive = 0
      for r = 0, size - 1 do
        if coroutine.status(cos[r]) ~= "dead" then
          current = r
          local res = table.pack(coroutine.resume(cos[r], waiting[r] and waiting[r][2]))
          if not res[1] then error(res[2], 0) end
          if coroutine.status(cos[r]) == "dead" then
            results[r] = res[2]
            waiting[r] = nil
          else
            waiting[r] = {res[2], res[3], res[4]}
            alive = alive + 1
          end
        end
      end
      if alive == 0 then break end
      if alive ~= size then error("a rank finished while others wait in a collective") end
      local kind = waiting[0][1]
      for r = 1, size - 1 do
        if waiting[r][1] ~= kind then error("ranks in different collectives") end
      end
      if kind == "allreduce" and type(waiting[0][2]) == "table" then
        -- a Lua array of numbers, combined in place
        local total = {}
        for i, v in ipairs(waiting[0][2]) do
          local x = v
          for r = 1, size - 1 do x = x + waiting[r][2][i] end
          total[i] = waiting[0][3] == "mean" and x / size or x
        end
        for r = 0, size - 1 do
          for i, v in ipairs(total) do waiting[r][2][i] = v end
        end
      elseif kind == "allreduce" then
        local total = waiting[0][2]:clone()
        for r = 1, size - 1 do total = total + waiting[r][2] end
        if waiting[0][3] == "mean" then total = total / size end
        for r = 0, size - 1 do waiting[r][2]:copy(total) end
      elseif kind == "allgather_rows" then
        -- every rank's rows in rank order (copied through the real serialisation)
        local dist = real
        local all = {}
        for r = 0, size - 1 do
          for _, row in ipairs(dist.deserialize(dist.serialize(waiting[r][2]))) do
            all[#all + 1] = row
          end
        end
        for r = 0, size - 1 do waiting[r][2] = all end
      else
        local src = waiting[waiting[0][3]][2]:clone()
        for r = 0, size - 1 do waiting[r][2]:copy(src) end
      end
    end
  end)
  package.loaded["actrun.dist"] = saved
  if not ok then error(err, 0) end
  return results
end

test("train {distributed=true}: 2 ranks of batch b equal one process of batch 2b", function()
  local X, y = data.blobs{n = 93, classes = 3, seed = 4} -- 4 x 20 + 13: split 6 and 7
  local function model()
    actrun.manual_seed(11)
    return nn.mlp{2, 8, 3}
  end
  local one = model()
  local h1 = lab.train(one, {X = X, y = y}, {epochs = 3, batch = 20, seed = 5, progress = false,
    optimizer = optim.SGD(one:parameters(), {lr = 0.1})})
  local res = world(2, function(r)
    local m = model()
    if r == 1 then -- another start: the broadcast from rank 0 must fix it
      actrun.no_grad(function() m[1].weight:fill(0.5) end)
    end
    local h = lab.train(m, {X = X, y = y}, {epochs = 3, batch = 10, seed = 5, progress = false,
      distributed = true, optimizer = optim.SGD(m:parameters(), {lr = 0.1})})
    return {m = m, h = h}
  end)
  for r = 0, 1 do
    local m = res[r].m
    for i, p in ipairs(one:parameters()) do
      T.tensor_near(m:parameters()[i], p:totable(), 1e-5)
    end
    for e = 1, 3 do
      near(res[r].h[e].loss, h1[e].loss, 1e-5)
      near(res[r].h[e].accuracy, h1[e].accuracy, 1e-6)
    end
  end
  -- one rank (no actrun.dist, or size 1): distributed=true changes nothing
  if require("actrun.dist").size() == 1 then
    local m1 = model()
    local hd = lab.train(m1, {X = X, y = y}, {epochs = 3, batch = 20, seed = 5, progress = false,
      distributed = true, optimizer = optim.SGD(m1:parameters(), {lr = 0.1})})
    eq(hd[3].loss, h1[3].loss)
  end
  -- without distributed=true a rank trains alone
  local solo = world(2, function()
    local m = model()
    return lab.train(m, {X = X, y = y}, {epochs = 1, batch = 10, seed = 5, progress = false})
  end)
  eq(#solo[0], 1)
end)

test("compare over 2 ranks: runs spread, every rank gets every row", function()
  local X, y = data.blobs{n = 120, classes = 3, seed = 1}
  local spec = function()
    return {activations = {"relu", "tanh", "elu"}, seeds = {1, 2}, epochs = 2, batch = 30,
      model = function(a) return nn.mlp{2, 6, 3, activation = a} end,
      data = {train = {X = X, y = y}, test = {X = X, y = y}}, quiet = true}
  end
  local ref = lab.compare(spec())
  local ran = {[0] = {}, [1] = {}}
  local res = world(2, function(r)
    local s = spec()
    local inner = s.model
    s.model = function(a)
      ran[r][#ran[r] + 1] = a
      return inner(a)
    end
    local rows, summary = lab.compare(s)
    return {rows = rows, summary = summary}
  end)
  -- each rank builds each model once to weigh the runs (equal parameter counts: equal
  -- costs, so round-robin), then its own runs: rank 0 runs 1, 3, 5 (seed 1 of each)
  eq(ran[0], {"relu", "tanh", "elu", "relu", "tanh", "elu"})
  eq(ran[1], {"relu", "tanh", "elu", "relu", "tanh", "elu"})
  for r = 0, 1 do
    local rows = res[r].rows
    eq(#rows, 6)
    for i, row in ipairs(rows) do
      eq(row.activation, ref[i].activation)
      eq(row.seed, ref[i].seed)
      eq(row.params, ref[i].params)
      eq(#row.history, 2)
      for _, k in ipairs{"train_loss", "test_loss", "test_accuracy", "dead_fraction",
          "grad_norm_first", "grad_norm_last"} do
        near(row[k], ref[i][k], 1e-6 * math.max(1, math.abs(ref[i][k])))
      end
      near(row.history[1].loss, ref[i].history[1].loss, 1e-6)
    end
    eq(#res[r].summary, 3)
  end
end)

test("compare over ranks: runs balanced by expected cost (longest first)", function()
  -- 4 runs of cost 3 and 4 of cost 1 over 2 ranks: 8 each, and equal costs round-robin
  local owner, load = lab._plan_runs({3, 1, 3, 1, 3, 1, 3, 1}, 2)
  eq(load[0], 8)
  eq(load[1], 8)
  eq({owner[1], owner[3], owner[5], owner[7]}, {0, 1, 0, 1})
  local o2 = lab._plan_runs({1, 1, 1, 1, 1}, 2)
  eq({o2[1], o2[2], o2[3], o2[4], o2[5]}, {0, 1, 0, 1, 0})
  -- one expensive run alone on a rank
  local o3, l3 = lab._plan_runs({10, 1, 1, 1}, 2)
  eq(o3[1], 0)
  eq({o3[2], o3[3], o3[4]}, {1, 1, 1})
  eq(l3[1], 3)
  -- spec.cost decides; a bad one is an error naming the option
  local X, y = data.blobs{n = 40, classes = 2, seed = 1}
  local base = {activations = {"relu", "tanh"}, epochs = 1, batch = 20, quiet = true,
    model = function(a) return nn.mlp{2, 3, 2, activation = a} end,
    data = {train = {X = X, y = y}, test = {X = X, y = y}}}
  local res = world(2, function(r)
    local s = {}
    for k, v in pairs(base) do s[k] = v end
    s.cost = function(a) return a == "tanh" and 5 or 1 end
    s.seeds = 2
    local ran = {}
    local inner = s.model
    s.model = function(a) ran[#ran + 1] = a; return inner(a) end
    local rows = lab.compare(s)
    return {ran = ran, rows = rows}
  end)
  -- tanh runs (cost 5) go first: rank 0 and rank 1 one each, then relu on each
  eq(res[0].ran, {"relu", "tanh"})
  eq(res[1].ran, {"relu", "tanh"})
  eq(#res[0].rows, 4)
  eq(res[1].rows[4].activation, "tanh")
  eq(res[1].rows[4].seed, 2)
  local bad = {}
  for k, v in pairs(base) do bad[k] = v end
  bad.cost = function() return "x" end
  world(2, function()
    local ok, err = pcall(lab.compare, bad)
    eq(ok, false)
    truthy(err:find("option cost returned x"), err)
  end)
end)

---------------------------------------------------------------------------------------
-- progress

local TRAIN3 = [[
  local X, y = actrun.data.blobs{n = 64, classes = 2, seed = 1}
  local m = actrun.nn.mlp{2, 4, 2}
  actrun.lab.train(m, {X = X, y = y}, {epochs = 3, batch = 16 %s})
  print("done")
]]

test("progress: one plain line per epoch when not a terminal", function()
  local out = child("", TRAIN3:format(""))
  local lines = {}
  for l in out:gmatch("[^\n]+") do lines[#lines + 1] = l end
  eq(#lines, 4, out)
  for e = 1, 3 do
    truthy(lines[e]:find("^epoch " .. e .. "/3  loss %d+%.%d+  accuracy [%d.]+%%  [%d.]+ s$"),
      lines[e])
  end
  eq(lines[4], "done")
  truthy(not out:find("\r", 1, true), "no carriage return")
end)

test("progress: silent with ACTRUN_PROGRESS=0 or progress=false", function()
  eq(child("ACTRUN_PROGRESS=0", TRAIN3:format("")), "done\n")
  eq(child("", TRAIN3:format(", progress = false")), "done\n")
end)

test("progress: the terminal bar (forced with ACTRUN_PROGRESS=tty)", function()
  local out = child("ACTRUN_PROGRESS=tty", TRAIN3:format(""))
  truthy(out:find("\repoch 1/3 [", 1, true), out)
  truthy(out:find("%] %d+/4  [%d.]+ batch/s  loss %d+%.%d+  ETA %d+:%d%d"), out)
  -- each epoch ends on its own line with its summary
  local finals = 0
  for _ in out:gmatch("\repoch %d/3  loss [^\r\n]*\n") do finals = finals + 1 end
  eq(finals, 3, out)
  local P = require "actrun.progress"
  eq(P.clock_text(75), "1:15")
  eq(P.clock_text(3725), "1:02:05")
end)

test("progress: on a real terminal (a pseudo-terminal from util-linux script)", function()
  if not os.execute("command -v script >/dev/null 2>&1") then
    T.skip("the script command is not installed")
  end
  local path = tmpname() .. ".lua"
  local f = assert(io.open(path, "w"))
  f:write(TRAIN3:format(""))
  f:close()
  local cmd = "script -qec " .. shell_quote(shell_quote(exe()) .. " " .. shell_quote(path)) ..
    " /dev/null </dev/null 2>&1"
  local p = io.popen(cmd)
  local out = p:read("a")
  p:close()
  os.remove(path)
  if not out:find("done", 1, true) then T.skip("script could not run a pty here: " .. out) end
  truthy(out:find("epoch 1/3 [", 1, true), out)
  truthy(out:find("batch/s", 1, true) and out:find("ETA", 1, true), out)
end)

---------------------------------------------------------------------------------------
-- errors

test("train: every bad argument gives an error naming it", function()
  local X, y = blobs()
  local m = nn.mlp{2, 4, 3}
  local D = {X = X, y = y}
  local F = "actrun.lab.train"
  expect_error(function() return lab.train(nil, D) end, F, "argument #1 (model)", "nn module")
  expect_error(function() return lab.train({}, D) end, F, "argument #1 (model)")
  expect_error(function() return lab.train(m, X) end, F, "argument #2 (data)", "{X=,y=}")
  expect_error(function() return lab.train(m, {y = y}) end, F, "argument #2 (data) field X",
    "expected a tensor, got nil")
  expect_error(function() return lab.train(m, {X = X}) end, F, "argument #2 (data) field y")
  expect_error(function() return lab.train(m, {X = X, y = y:narrow(1, 1, 10)}) end, F,
    "300 rows", "10 rows")
  expect_error(function() return lab.train(m, D, 5) end, F, "argument #3 (options)")
  expect_error(function() return lab.train(m, D, {epoch = 2}) end, F, "unknown option 'epoch'")
  expect_error(function() return lab.train(m, D, {epochs = 0}) end, F, "option epochs", ">= 1")
  expect_error(function() return lab.train(m, D, {batch = 1.5}) end, F, "option batch")
  expect_error(function() return lab.train(m, D, {optimizer = 1}) end, F, "option optimizer")
  expect_error(function() return lab.train(m, D, {loss = "mse"}) end, F, "option loss")
  expect_error(function() return lab.train(m, D, {on_epoch = true}) end, F, "option on_epoch")
  expect_error(function() return lab.train(m, D, {seed = 0.5}) end, F, "option seed")
  expect_error(function() return lab.train(m, D, {shuffle = 1}) end, F, "option shuffle")
  expect_error(function() return lab.train(m, D, {val = X}) end, F, "option val")
  expect_error(function() return lab.train(m, D, {val = {X = X, y = y:narrow(1, 1, 3)}}) end,
    F, "option val field X", "option val field y")
  expect_error(function() return lab.train(m, D, {progress = "yes"}) end, F, "option progress")
  expect_error(function() return lab.train(m, D, {label = 3}) end, F, "option label")
  -- labels: out of 1..C, not integers (found at the first batch, reported at the caller)
  local msg = expect_error(function()
    local h = lab.train(m, {X = X, y = y + 1}, {progress = false}) -- not a tail call
    return h
  end, F, "argument #2 (data) field y", "label 4", "out of range 1..3", "3 classes")
  truthy(msg:find(THIS, 1, true), "points at the caller: " .. msg)
  expect_error(function() return lab.train(m, {X = X, y = y - 1}, {progress = false}) end, F,
    "label 0", "out of range 1..3")
  expect_error(function() return lab.train(m, {X = X, y = y + 0.5}, {progress = false}) end, F,
    "non-integer labels")
  expect_error(function()
    return lab.train(m, D, {progress = false, loss = function(o) return o end})
  end, F, "option loss must return a one-element tensor", "shape {64,3}")
  expect_error(function()
    return lab.train(m, D, {progress = false, val = {X = X, y = y * 2}})
  end, F, "option val field y", "out of range 1..3")
end)

test("evaluate, probes, compare: every bad argument gives an error naming it", function()
  local X, y = blobs()
  local m = nn.mlp{2, 4, 3}
  local E = "actrun.lab.evaluate"
  expect_error(function() return lab.evaluate(m, X) end, E, "argument #3 (y)")
  expect_error(function() return lab.evaluate(5, X, y) end, E, "argument #1 (model)")
  expect_error(function() return lab.evaluate(m, X, y:narrow(1, 1, 2)) end, E, "300 rows",
    "2 rows")
  expect_error(function() return lab.evaluate(m, X, y, 1) end, E, "argument #4 (loss)")
  expect_error(function() return lab.evaluate(m, X, y, nil, {batch = 0}) end, E, "option batch")
  expect_error(function() return lab.evaluate(m, X, y * 4) end, E, "argument #3 (y)", "label 12")
  m:eval()
  pcall(lab.evaluate, m, X, y * 4)
  eq(m.training, false, "mode restored after an error")
  m:train()
  pcall(lab.evaluate, m, X, y * 4)
  eq(m.training, true, "mode restored after an error")

  local G = "actrun.lab.gradient_flow"
  expect_error(function() return lab.gradient_flow(m, X, "y") end, G, "argument #3 (y)")
  expect_error(function() return lab.gradient_flow(m, X, y, {}) end, G, "argument #4 (loss)")
  expect_error(function() return lab.gradient_flow(m, X, y + 5) end, G, "out of range")
  for _, name in ipairs{"activation_stats", "dead_units"} do
    local N = "actrun.lab." .. name
    expect_error(function() return lab[name](m) end, N, "argument #2 (X)", "tensor")
    expect_error(function() return lab[name](nil, X) end, N, "argument #1 (model)")
    expect_error(function() return lab[name](m, X, {batsh = 2}) end, N, "unknown option 'batsh'")
  end

  local P = "actrun.lab.depth_probe"
  expect_error(function() return lab.depth_probe() end, P, "argument #1 (options)")
  expect_error(function() return lab.depth_probe{activation = "nope"} end, P,
    "option activation", "nope")
  expect_error(function() return lab.depth_probe{init = "he"} end, P, "option init", "'he'",
    "kaiming_normal")
  expect_error(function() return lab.depth_probe{norm = "layer"} end, P, "option norm")
  expect_error(function() return lab.depth_probe{depth = 0} end, P, "option depth")
  expect_error(function() return lab.depth_probe{seed = "x"} end, P, "option seed")
  expect_error(function() return lab.depth_probe{widht = 3} end, P, "unknown option 'widht'")

  local D = "actrun.lab.plot_depth"
  expect_error(function() return lab.plot_depth(3) end, D, "argument #1 (probes)")
  expect_error(function() return lab.plot_depth{} end, D, "empty")
  expect_error(function() return lab.plot_depth{{rows = {{layer = 1}}}} end, D,
    "no number field 'grad_norm'")

  local C = "actrun.lab.compare"
  local good = {activations = {"relu"}, model = function(a) return nn.mlp{2, 4, 3, activation = a} end,
    data = {train = {X = X, y = y}, test = {X = X, y = y}}, quiet = true}
  local function with(k, v)
    local s = {}
    for kk, vv in pairs(good) do s[kk] = vv end
    s[k] = v
    return s
  end
  expect_error(function() return lab.compare() end, C, "argument #1 (spec)")
  expect_error(function() return lab.compare(with("activations", {})) end, C,
    "option activations", "empty")
  expect_error(function() return lab.compare(with("activations", {"relu", 3})) end, C,
    "option activations entry 2")
  expect_error(function() return lab.compare(with("activations", {"relu", "elu", "relu"})) end,
    C, "option activations lists 'relu' twice (entries 1 and 3)")
  expect_error(function() return lab.compare(with("model", 1)) end, C, "option model")
  expect_error(function() return lab.compare(with("data", {train = {X = X, y = y}})) end, C,
    "option data field test")
  expect_error(function()
    return lab.compare(with("data", {train = {X = X, y = y}, test = {X = X}}))
  end, C, "option data.test field y")
  expect_error(function() return lab.compare(with("seeds", 0)) end, C, "option seeds")
  expect_error(function() return lab.compare(with("seeds", {1.5})) end, C, "option seeds entry 1")
  expect_error(function() return lab.compare(with("optimizer", {})) end, C, "option optimizer")
  expect_error(function() return lab.compare(with("epochs", -1)) end, C, "option epochs")
  expect_error(function() return lab.compare(with("csv", "/nonexistent-dir/x.csv")) end, C,
    "option csv", "nonexistent-dir")
  expect_error(function() return lab.compare(with("colour", 1)) end, C, "argument #1 (spec)",
    "unknown option 'colour'")
  expect_error(function() return lab.compare(with("model", function() return 42 end)) end, C,
    "option model returned number for activation 'relu'")
end)

test("help: every public lab function has an entry", function()
  local help = require "actrun.help"
  local n = 0
  for name, v in pairs(lab) do
    if type(v) == "function" and not name:match("^_") then
      truthy(help.text("actrun.lab." .. name), "help for actrun.lab." .. name)
      n = n + 1
    end
  end
  truthy(n >= 9, "lab functions: " .. n)
  truthy(help.text("actrun.lab"), "help for the module")
end)

T.done()
