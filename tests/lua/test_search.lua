-- actrun.lab.search: the candidate space (every distinct candidate once, merged and
-- dropped ones counted), a tiny synthetic search, the store (stop and resume), shards and
-- their merge, evolution's reproducibility and the option errors.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local T = require "testlib"
local actrun = T.actrun
local lab, nn, data = actrun.lab, actrun.nn, actrun.data
local test, eq, truthy, expect_error = T.test, T.eq, T.truthy, T.expect_error

local function tmpname()
  local p = os.tmpname()
  os.remove(p)
  return p
end

-- a tiny nonlinear task: two circles, an MLP of one hidden layer
local Xtr, ytr = data.circles{n = 240, noise = 0.05, seed = 1}
local Xte, yte = data.circles{n = 120, noise = 0.05, seed = 2}
local DATA = {train = {X = Xtr, y = ytr}, test = {X = Xte, y = yte}}
local function model(act) return nn.mlp{2, 8, 2, activation = act} end

local function spec(extra)
  local s = {unary = {"x", "sigmoid", "tanh", "zero"}, binary = {"mul", "add", "sub"},
    data = DATA, model = model, epochs = 3, batch = 32, seeds = 2, lr = 0.02,
    baselines = {}, top = 0}
  for k, v in pairs(extra or {}) do s[k] = v end
  return s
end

local function by_expr(results)
  local m = {}
  for _, r in ipairs(results) do m[r.expr] = r end
  return m
end

test("every distinct candidate once; degenerate ones dropped, equal ones merged", function()
  local res, info = lab.search(spec())
  -- 4 unary: mul and add 10 pairs each (commutative), sub 16 = 36 expressions
  eq(info.candidates + info.dropped + info.merged, 36, "all expressions accounted for")
  eq(#res, info.candidates)
  local seen = {}
  for i, r in ipairs(res) do
    truthy(not seen[r.expr], "once: " .. r.expr)
    seen[r.expr] = true
    eq(r.rank, i)
    eq(#r.scores, 2, "one score per seed")
    truthy(r.name:match("^s_[%w_]+$"), "an identifier: " .. r.name)
    if i > 1 then
      local p = res[i - 1]
      truthy(p.mean > r.mean or (p.mean == r.mean and p.expr < r.expr), "sorted")
    end
  end
  -- constants: mul(x, zero(x)), sub(x, x), mul(zero(x), zero(x)) ... are dropped
  truthy(not seen["sub(x, x)"] and not seen["mul(x, zero(x))"], "constants dropped")
  truthy(info.dropped >= 4, "dropped " .. info.dropped)
  -- add(x, zero(x)) is x, as is sub(x, zero(x)): merged, one of them stands for both
  truthy(info.merged >= 2, "merged " .. info.merged)
  -- the swish form is found, registered as an activation and scored
  local s = by_expr(res)["mul(x, sigmoid(x))"]
  truthy(s, "mul(x, sigmoid(x)) is a candidate")
  eq(s.name, "s_mul_x_sigmoid_x")
  eq(actrun.act.info(s.name).name, s.name)
  local y = actrun.act.apply(s.name, actrun.tensor{-1, 0, 2})
  T.tensor_near(y, {-1 / (1 + math.exp(1)), 0, 2 / (1 + math.exp(-2))}, 1e-5)
  T.near(s.mean, (s.scores[1] + s.scores[2]) / 2, 1e-12)
  -- a nonlinear candidate beats the linear ones on circles
  local lin = by_expr(res)["add(x, x)"] or by_expr(res)["add(x, sigmoid(x))"]
  truthy(s.mean >= by_expr(res)["add(x, x)"].mean, "swish form above 2x")
  truthy(lin)
end)

test("a stopped search resumes from its store with the same table", function()
  local whole = lab.search(spec{unary = {"x", "sigmoid", "tanh"}, binary = {"mul", "max"}})
  local store = tmpname()
  local ok, err = pcall(lab.search, spec{unary = {"x", "sigmoid", "tanh"},
    binary = {"mul", "max"}, store = store, _stop_after = 3})
  truthy(not ok and tostring(err):find("stopped"), "the hook stops it")
  local lines = 0
  for _ in io.lines(store) do lines = lines + 1 end
  eq(lines, 3, "three finished candidates stored")
  local res, info = lab.search(spec{unary = {"x", "sigmoid", "tanh"}, binary = {"mul", "max"},
    store = store})
  eq(info.trained, #whole - 3, "only the rest trained")
  eq(#res, #whole)
  for i, r in ipairs(res) do
    eq(r.expr, whole[i].expr)
    T.near(r.mean, whole[i].mean, 1e-12)
  end
  -- again: nothing left to train
  local again, info2 = lab.search(spec{unary = {"x", "sigmoid", "tanh"},
    binary = {"mul", "max"}, store = store})
  eq(info2.trained, 0)
  eq(again[1].expr, res[1].expr)
  os.remove(store)
end)

test("shards and their merge give the table of one search", function()
  local s = {unary = {"x", "sigmoid", "tanh"}, binary = {"mul", "max"}}
  local whole = lab.search(spec(s))
  local store = tmpname()
  local n = 0
  for i = 1, 3 do
    local part = lab.search(spec{unary = s.unary, binary = s.binary, store = store,
      shard = {i, 3}})
    n = n + #part
  end
  eq(n, #whole, "the shards split the candidates")
  local merged, info = lab.search_merge(store)
  eq(#merged, #whole)
  truthy(info.complete, "complete")
  for i, r in ipairs(merged) do
    eq(r.expr, whole[i].expr)
    T.near(r.mean, whole[i].mean, 1e-12)
  end
  truthy(lab.search_table(merged):find("mul(x, sigmoid(x))", 1, true), "the table")
  for i = 1, 3 do os.remove(store .. ".shard-" .. i .. "-of-3") end
end)

test("evolution: two core units, the budget, reproducible from its seed", function()
  local s = spec{strategy = "evolution", budget = 6, population = 4, sample = 2,
    children = 2, seed = 7, seeds = 1, epochs = 1}
  local a, info = lab.search(s)
  local b = lab.search(s)
  eq(#a, 6, "budget")
  eq(info.candidates, 6)
  for i = 1, #a do
    eq(a[i].expr, b[i].expr)
    eq(a[i].mean, b[i].mean)
    -- b2(u3(b1(..)), u4(y)) with y = x or b1(..): two or three binaries written
    local bins = 0
    for w in a[i].expr:gmatch("%a+%(") do
      if w == "mul(" or w == "add(" or w == "sub(" then bins = bins + 1 end
    end
    truthy(bins == 2 or bins == 3, a[i].expr)
  end
end)

test("baselines and the top candidates against them (paired, Holm)", function()
  local res, info = lab.search(spec{unary = {"x", "sigmoid"}, binary = {"mul"},
    baselines = {"relu", "swish"}, top = 2, seeds = 3, epochs = 2})
  truthy(info.baselines.relu and info.baselines.swish)
  eq(#info.baselines.relu.scores, 3)
  local r = res[1]
  truthy(r.vs and r.vs.relu and r.vs.swish, "comparisons")
  truthy(r.vs.relu.p_adjusted >= r.vs.relu.p, "Holm adjusts up")
  local sw = by_expr(res)["mul(x, sigmoid(x))"]
  -- swish is x*sigmoid(x): the same seeds train the same network
  T.near(sw.mean, info.baselines.swish.mean, 0.02)
  truthy(lab.search_table(res, {order = {"relu", "swish"}, baselines = info.baselines})
    :find("ref +relu"), "baselines in the table")
end)

test("a run that fails scores 0 instead of ending the search", function()
  local calls = 0
  local res = lab.search(spec{unary = {"x", "sigmoid"}, binary = {"mul"}, seeds = 1,
    model = function(a)
      calls = calls + 1
      if a == "s_mul_x_x" then error("no model for this one") end
      return model(a)
    end})
  local m = by_expr(res)
  eq(m["mul(x, x)"].mean, 0)
  eq(m["mul(x, x)"].rank, #res, "last")
  truthy(m["mul(x, sigmoid(x))"].mean > 0)
end)

test("parse and define: expressions back to activations", function()
  local name = lab.search_define("max(x, neg(x))")
  eq(name, "s_max_x_neg_x")
  T.tensor_near(actrun.act.apply(name, actrun.tensor{-2, 3}), {2, 3}, 1e-6)
  expect_error(function() lab.search_define("max(x)") end, "actrun.lab.search_define",
    "max")
end)

test("bad options name the function and the option", function()
  expect_error(function() lab.search(nil) end, "actrun.lab.search", "argument #1")
  expect_error(function() lab.search(spec{unary = {"x", "nope"}}) end,
    "actrun.lab.search", "option unary", "nope")
  expect_error(function() lab.search(spec{binary = {}}) end, "option binary")
  expect_error(function() lab.search(spec{strategy = "random"}) end, "option strategy")
  expect_error(function() lab.search(spec{strategy = "evolution"}) end, "option budget")
  expect_error(function() lab.search(spec{budget = 3}) end, "option budget",
    "evolution")
  expect_error(function() lab.search(spec{epochs = 0}) end, "option epochs")
  expect_error(function() lab.search(spec{seeds = {1.5}}) end, "option seeds")
  expect_error(function() lab.search(spec{model = 3}) end, "option model")
  expect_error(function() lab.search(spec{data = {train = DATA.train}}) end,
    "option data field test")
  expect_error(function() lab.search(spec{shard = {3, 2}, store = "x"}) end, "option shard")
  expect_error(function() lab.search(spec{shard = {1, 2}}) end, "option shard", "store")
  expect_error(function() lab.search(spec{baselines = {"nope"}}) end, "option baselines")
  expect_error(function() lab.search(spec{epoch = 2}) end, "unknown option 'epoch'")
  local msg = expect_error(function() lab.search(spec{lr = -1}) end, "option lr")
  truthy(msg:find("test_search.lua:%d+:"), "the caller's line: " .. msg)
  expect_error(function() lab.search_merge(tmpname()) end, "actrun.lab.search_merge",
    "no store")
end)

test("actrun search: bad command lines exit 2 and say why", function()
  local exe = T.interpreter()
  if not exe then return T.skip("no interpreter path") end
  local function run(args)
    local err = tmpname()
    local p = io.popen(T.shell_quote(exe) .. " search " .. args .. " 2>" .. err, "r")
    local out = p:read("a")
    local _, _, code = p:close()
    local f = io.open(err, "r")
    local etext = f:read("a")
    f:close()
    os.remove(err)
    return out, etext, code
  end
  local _, err, code = run("--shard 3/2 --store x")
  eq(code, 2)
  truthy(err:find("search: %-%-shard expects I/N"), err)
  _, err, code = run("--shard 1/2")
  eq(code, 2)
  truthy(err:find("needs %-%-store"), err)
  _, err, code = run("--epochs 0")
  eq(code, 2)
  truthy(err:find("%-%-epochs expects a whole number"), err)
  _, err, code = run("--bogus")
  eq(code, 2)
  truthy(err:find("unknown option '%-%-bogus'") and err:find("usage: actrun search"), err)
  _, err, code = run("--quick --unary x,nope")
  eq(code, 1)
  truthy(err:find("option unary entry 2: unknown primitive 'nope'"), err)
  _, err, code = run("--merge " .. tmpname())
  eq(code, 1)
  truthy(err:find("no store"), err)
end)

T.done()
