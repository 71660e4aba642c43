-- lab.compare's statistics (paired over seeds, Holm, ties), its run store, and dead units
-- of hand-written activation modules. Tiny nets, a few seconds.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local T = require "testlib"
local actrun = T.actrun
local test, eq, near, truthy = T.test, T.eq, T.near, T.truthy
local lab, nn, data, optim = actrun.lab, actrun.nn, actrun.data, actrun.optim

local function spirals(n, seed)
  local X, y = data.spirals{n = n, classes = 3, noise = 0.1, seed = seed}
  return {X = X, y = y}
end
local TRAIN, TEST = spirals(300, 1), spirals(150, 2)

local function spec(acts, seeds, extra)
  local s = {activations = acts, seeds = seeds, epochs = 15, batch = 32, quiet = true,
    model = function(a) return nn.mlp{2, 24, 24, 3, activation = a} end,
    optimizer = function(p) return optim.Adam(p, {lr = 0.02}) end,
    data = {train = TRAIN, test = TEST}}
  for k, v in pairs(extra or {}) do s[k] = v end
  return s
end

local function entry(summary, name)
  for _, s in ipairs(summary) do if s.activation == name then return s end end
end

test("compare: relu and an act.define twin of relu tie exactly", function()
  pcall(actrun.act.define, "relu_twin", function(x) return actrun.act.relu(x) end)
  local _, summary = lab.compare(spec({"relu", "relu_twin"}, 3, {epochs = 3}))
  local r, t = entry(summary, "relu"), entry(summary, "relu_twin")
  eq(r.mean, t.mean)
  eq({t.n, t.diff, t.p, t.p_adjusted, t.tied_with_best}, {3, 0, 1, 1, true})
  eq(t.diff_ci95, {0, 0})
  truthy(r.tied_with_best and summary[1].diff == 0 and summary[1].p == 1, "reference entry")
  for _, s in ipairs(summary) do
    truthy(s.ci95[1] <= s.mean and s.mean <= s.ci95[2], "ci95 around the mean")
  end
end)

test("compare: identity is significantly worse than relu on spirals over 5 seeds", function()
  local _, summary = lab.compare(spec({"relu", "identity"}, 5, {epochs = 60}))
  local r, i = entry(summary, "relu"), entry(summary, "identity")
  eq(summary[1].activation, "relu")
  truthy(i.diff < 0 and i.diff_ci95[2] < 0, "identity below relu: " .. i.diff)
  truthy(i.p_adjusted < 0.05, "p_adjusted " .. i.p_adjusted)
  eq(i.tied_with_best, false)
  eq({r.diff, r.p, r.tied_with_best}, {0, 1, true})
  -- reference= and test= are honoured; rank tests cannot separate 5 seeds
  local _, s2 = lab.compare(spec({"relu", "identity"}, 5, {epochs = 60,
    reference = "identity", test = "wilcoxon"}))
  local r2 = entry(s2, "relu")
  truthy(r2.diff > 0, "relu above the identity reference")
  near(r2.p, 0.0625, 1e-12)
  eq(entry(s2, "identity").diff, 0)
end)

test("compare: one seed gives n=1, no p, and says so", function()
  local out = {}
  local saved = io.stdout
  io.stdout = {write = function(self, ...) for _, s in ipairs{...} do out[#out + 1] = s end
    return self end, flush = function() end}
  local ok, rows, summary = pcall(lab.compare, spec({"relu", "identity"}, 1,
    {quiet = false, epochs = 2}))
  io.stdout = saved
  truthy(ok, rows)
  local text = table.concat(out)
  truthy(text:find("1 seed: no uncertainty estimate; use seeds >= 3", 1, true), text)
  for _, s in ipairs(summary) do
    eq({s.n, s.sd}, {1, 0})
    eq(s.ci95, {s.mean, s.mean})
    eq(s.p_adjusted, s.rank == 1 and 1 or nil) -- the reference against itself: 1
    eq(s.tied_with_best, s.rank == 1)
  end
  eq(summary[2].p, nil)
end)

test("compare: bad reference, test and alpha name the option", function()
  local function err(extra)
    local ok, e = pcall(lab.compare, spec({"relu"}, 1, extra))
    truthy(not ok, "expected an error")
    return tostring(e)
  end
  truthy(err{reference = "tanh"}:find("actrun.lab.compare: option reference", 1, true))
  truthy(err{test = "z"}:find("actrun.lab.compare: option test", 1, true))
  truthy(err{alpha = 1.5}:find("actrun.lab.compare: option alpha", 1, true))
  truthy(err{store = 3}:find("actrun.lab.compare: option store", 1, true))
end)

test("compare: a store makes the second run train nothing and return the same rows", function()
  local store = os.tmpname()
  os.remove(store)
  local built = 0
  local function s()
    return spec({"relu", "tanh"}, 2, {epochs = 2, store = store, provenance = {init = "x"},
      model = function(a)
        built = built + 1
        return nn.mlp{2, 8, 3, activation = a}
      end})
  end
  local rows1 = lab.compare(s())
  eq(built, 4)
  local rows2 = lab.compare(s())
  eq(built, 4)
  eq(#rows2, #rows1)
  for i, r in ipairs(rows1) do
    for _, k in ipairs(lab.CSV_FIELDS) do eq(rows2[i][k], r[k], k) end
    eq(#rows2[i].history, #r.history)
    eq(rows2[i].history[2].loss, r.history[2].loss)
    eq(#rows2[i].history.curve, #r.history.curve)
  end
  -- other options: trained again
  local other = s()
  other.epochs = 1
  lab.compare(other)
  eq(built, 8)
  local n = 0
  for line in io.lines(store) do
    n = n + 1
    truthy(line:find('"actrun_version":', 1, true) and line:find('"options":', 1, true), line)
  end
  eq(n, 8)
  os.remove(store)
end)

test("compare tune: picks a rate of the grid per activation, never a hopeless one", function()
  -- separable blobs: any workable rate gets near 100%, 1e-6 leaves the initial weights
  local X, y = data.blobs{n = 450, classes = 3, seed = 3}
  local sets = {train = {X = X:narrow(1, 1, 300), y = y:narrow(1, 1, 300)},
    test = {X = X:narrow(1, 301, 150), y = y:narrow(1, 301, 150)}}
  local seen = {}
  local s = spec({"relu", "tanh"}, 2, {epochs = 8, tune = {lrs = {1e-6, 0.02}, fraction = 0.25},
    data = sets,
    optimizer = function(p, lr)
      seen[#seen + 1] = lr
      return optim.Adam(p, {lr = lr})
    end})
  s.quiet = nil
  local printed, saved = {}, io.stdout
  io.stdout = {write = function(self, ...) for _, v in ipairs{...} do printed[#printed + 1] = v end
    return self end, flush = function() end}
  local ok, rows, summary = pcall(lab.compare, s)
  io.stdout = saved
  assert(ok, rows)
  for _, r in ipairs(rows) do
    eq(r.lr, 0.02, r.activation .. " seed " .. r.seed .. " lr")
  end
  for _, e in ipairs(summary) do eq(e.lr, 0.02, e.activation .. " summary lr") end
  -- the factory got every rate of the grid while tuning, then the chosen one per run
  for _, lr in ipairs(seen) do truthy(lr == 1e-6 or lr == 0.02, "factory lr " .. tostring(lr)) end
  eq(#seen, 2 * 2 + 2 * 2)
  local text = table.concat(printed)
  truthy(text:find("learning rate tuned per activation on a 25% validation split: " ..
    "relu 0.02, tanh 0.02", 1, true), "the footer names the rates")
end)

test("compare tune: bad values name the option", function()
  local function err(tune)
    local ok, e = pcall(lab.compare, spec({"relu"}, 1, {tune = tune}))
    truthy(not ok, "an error")
    return tostring(e)
  end
  truthy(err(0.1):find("actrun.lab.compare: option tune expected a table", 1, true))
  truthy(err{lrs = {}}:find("option tune field lrs", 1, true))
  truthy(err{lrs = {0.1, -1}}:find("option tune field lrs entry 2", 1, true))
  truthy(err{lrs = {0.1}, fraction = 1}:find("option tune field fraction", 1, true))
  truthy(err{lrs = {0.1}, frac = 0.2}:find("option tune has unknown field 'frac'", 1, true))
end)

test("store JSON: numbers round-trip, NaN is null, strings are escaped", function()
  local line = lab._json_object{a = 0.1, b = 0 / 0, c = 'q"\n', d = {1, 2.5}, e = true, f = 3}
  eq(line, '{"a":0.10000000000000001,"b":null,"c":"q\\"\\n","d":[1,2.5],"e":true,"f":3}')
  local o = lab._json_parse(line)
  eq({o.a, o.b, o.c, o.d, o.e, o.f}, {0.1, nil, 'q"\n', {1, 2.5}, true, 3})
  eq(lab._json_parse('{"a":1,'), nil) -- a torn line
end)

test("dead_units: a hand-written activation module is counted, not a false 0", function()
  local MyRelu = nn.Module:extend("MyRelu")
  function MyRelu:forward(x) return actrun.act.relu(x) end
  local X = TRAIN.X
  local m = nn.Sequential(nn.Linear(2, 6), MyRelu(), nn.Linear(6, 3))
  actrun.no_grad(function() m[1].bias:fill(-1000) end)
  local d = lab.dead_units(m, X)
  eq({d.units, d.dead, d.total}, {6, 6, 1.0})
  eq(d[1].act, "MyRelu")
  -- a model with nothing to look at: unknown, not 0
  eq(lab.dead_units(nn.Sequential(nn.Linear(2, 3)), X).total, nil)
  local rows, summary = lab.compare(spec({"x"}, 1, {epochs = 1,
    model = function() return nn.Sequential(nn.Linear(2, 3)) end}))
  eq(rows[1].dead_fraction, nil)
  eq(summary[1].dead_fraction, nil)
end)

test("errors from every step of lab.compare point at the caller's line", function()
  local this = arg[0]:match("([^/]+)$")
  local cases = {
    {"plan", {activations = {}}},
    {"tune", {tune = {lrs = {}}}},
    {"context", {csv = "/nonexistent-dir/x.csv"}},
    {"run", {model = function() return 5 end}},
  }
  for _, c in ipairs(cases) do
    local s = spec({"relu"}, 1, {epochs = 1})
    for k, v in pairs(c[2]) do s[k] = v end
    local ok, err = pcall(function() lab.compare(s) end)
    truthy(not ok and err:find(this .. ":%d+: actrun%.lab%.compare"), c[1] .. ": " .. tostring(err))
  end
end)

T.done()
