-- actrun.search: lab.search, the activation search of Ramachandran, Zoph and Le (2017),
-- "Searching for Activation Functions". A candidate is built from core units
-- b(u1(x), u2(x)) (a binary primitive of two unary primitives of the input) and written
-- as an expression string, e.g. "mul(x, sigmoid(x))"; it is registered with act.define
-- under an identifier derived from the string, so everything that takes an activation
-- name (nn.mlp, act.properties, act.plot, lab.compare) takes it too.
--
-- Before any training the candidates are screened on a fixed probe (64 points evenly
-- spaced in [-5, 5]): a candidate that is constant there, not finite (value or
-- derivative), or beyond `bound` in absolute value is dropped; candidates whose values
-- agree on the probe (to 6 significant digits) are one function and are trained once
-- (the first in enumeration order stands for the others, which it lists in `merged`).
--
-- Every candidate is trained with the same seeds; a seed fixes the initial weights and the
-- batches, so the candidates of one seed start from the same weights and see the same
-- batches. Its score is the mean test accuracy over the seeds (validation accuracy when
-- data.val is given) with sd and a t-based 95% CI.
--
-- The store (option store=FILE) is append-only, one JSON object per line and finished
-- candidate, each line written with a single write on a file opened for appending (a
-- line is all there or, after a crash in the middle of it, unreadable and ignored); a
-- search run again with the same store trains only what the store does not hold.
local actrun = require "actrun"
local util = require "actrun.util"

local fmt = string.format
local typename = util.typename

local M = {}

local function lab() return require "actrun.lab" end

---------------------------------------------------------------------------------------
-- Primitives: functions of tensors built from differentiable tensor ops.

local EPS = 1e-6

-- erf by Abramowitz and Stegun 7.1.26 (absolute error below 1.5e-7): the tensor library has
-- no erf of its own, and this form is made of differentiable ops.
local function erf(x)
  local a = x:abs()
  local t = 1 / (a * 0.3275911 + 1)
  local poly = t * (t * (t * (t * (t * 1.061405429 - 1.453152027) + 1.421413741) - 0.284496736)
    + 0.254829592)
  return x:sign() * (1 - poly * (a * a):neg():exp())
end

local function act_apply(name)
  return function(x) return actrun.act.apply(name, x) end
end

-- unary primitives: name -> {fn=, formula=}
local UNARY = {
  x = {function(x) return x end, "x"},
  zero = {function(x) return x * 0 end, "0"},
  one = {function(x) return x * 0 + 1 end, "1"},
  neg = {function(x) return x:neg() end, "-x"},
  abs = {function(x) return x:abs() end, "|x|"},
  square = {function(x) return x * x end, "x^2"},
  cube = {function(x) return x * x * x end, "x^3"},
  -- odd and defined everywhere: sign(x) sqrt(|x|), with a finite slope at 0
  sqrt = {function(x) return x / (x:abs() + EPS):sqrt() end, "x / sqrt(|x| + 1e-6)"},
  exp = {function(x) return x:exp() end, "exp(x)"},
  log = {function(x) return (x:abs() + EPS):log() end, "log(|x| + 1e-6)"},
  sin = {function(x) return x:sin() end, "sin(x)"},
  cos = {function(x) return x:cos() end, "cos(x)"},
  sinh = {function(x) return (x:exp() - x:neg():exp()) * 0.5 end, "sinh(x)"},
  cosh = {function(x) return (x:exp() + x:neg():exp()) * 0.5 end, "cosh(x)"},
  tanh = {function(x) return x:tanh() end, "tanh(x)"},
  sigmoid = {function(x) return x:sigmoid() end, "sigmoid(x)"},
  relu = {act_apply("relu"), "max(x, 0)"},
  min0 = {function(x) return x - actrun.act.apply("relu", x) end, "min(x, 0)"},
  softplus = {act_apply("softplus"), "log(1 + exp(x))"},
  erf = {erf, "erf(x)"},
  gaussian = {function(x) return (x * x):neg():exp() end, "exp(-x^2)"},
}
local UNARY_ORDER = {"x", "zero", "one", "neg", "abs", "square", "cube", "sqrt", "exp",
  "log", "sin", "cos", "sinh", "cosh", "tanh", "sigmoid", "relu", "min0", "softplus", "erf",
  "gaussian"}

-- binary primitives: name -> {fn, formula, commutative}
local BINARY = {
  add = {function(a, b) return a + b end, "a + b", true},
  sub = {function(a, b) return a - b end, "a - b", false},
  mul = {function(a, b) return a * b end, "a * b", true},
  div = {function(a, b) return a / (b + 1e-3) end, "a / (b + 1e-3)", false},
  max = {function(a, b) return a:maximum(b) end, "max(a, b)", true},
  min = {function(a, b) return a:minimum(b) end, "min(a, b)", true},
  mulsig = {function(a, b) return a * b:sigmoid() end, "a * sigmoid(b)", false},
  gaussdiff = {function(a, b) local d = a - b return (d * d):neg():exp() end,
    "exp(-(a - b)^2)", true},
}
local BINARY_ORDER = {"add", "sub", "mul", "div", "max", "min", "mulsig", "gaussdiff"}

M.UNARY, M.BINARY = UNARY_ORDER, BINARY_ORDER

function M.primitives()
  local u, b = {}, {}
  for _, n in ipairs(UNARY_ORDER) do u[#u + 1] = {name = n, formula = UNARY[n][2]} end
  for _, n in ipairs(BINARY_ORDER) do
    b[#b + 1] = {name = n, formula = BINARY[n][2], commutative = BINARY[n][3]}
  end
  return {unary = u, binary = b}
end

---------------------------------------------------------------------------------------
-- Expression trees: "x", or {op=, args={...}}. The unary "x" (identity) is written as its
-- argument, so "mul(x, sigmoid(x))" is mul(x(x), sigmoid(x)).

local X = "x"
local function U(op, arg) if op == "x" then return arg end return {op = op, args = {arg}} end
local function B(op, a, b) return {op = op, args = {a, b}} end

local function render(t)
  if t == X then return "x" end
  local parts = {}
  for i, a in ipairs(t.args) do parts[i] = render(a) end
  return t.op .. "(" .. table.concat(parts, ", ") .. ")"
end
M.render = render

-- Prefix notation without parentheses is unambiguous (every primitive has a fixed arity),
-- so the tokens joined by "_" name a candidate uniquely.
local function ident(t)
  local toks = {}
  local function walk(n)
    if n == X then toks[#toks + 1] = "x" return end
    toks[#toks + 1] = n.op
    for _, a in ipairs(n.args) do walk(a) end
  end
  walk(t)
  return "s_" .. table.concat(toks, "_")
end

local function compile(t)
  if t == X then return function(x) return x end end
  if #t.args == 1 then
    local f, g = UNARY[t.op][1], compile(t.args[1])
    return function(x) return f(g(x)) end
  end
  local f, g, h = BINARY[t.op][1], compile(t.args[1]), compile(t.args[2])
  return function(x) return f(g(x), h(x)) end
end

-- Parses an expression string of the primitives back into a tree (nil, message if bad).
function M.parse(s)
  local pos = 1
  local function skip() pos = s:find("[^ ]", pos) or #s + 1 end
  local node
  function node()
    skip()
    local name = s:match("^[%a_][%w_]*", pos)
    if not name then return nil, fmt("expected a name at %d", pos) end
    pos = pos + #name
    skip()
    if s:sub(pos, pos) ~= "(" then
      if name == "x" then return X end
      return nil, fmt("'%s' is not x and has no arguments", name)
    end
    pos = pos + 1
    local args = {}
    while true do
      local a, err = node()
      if not a then return nil, err end
      args[#args + 1] = a
      skip()
      local c = s:sub(pos, pos)
      pos = pos + 1
      if c == ")" then break end
      if c ~= "," then return nil, fmt("expected ',' or ')' at %d", pos - 1) end
    end
    if #args == 1 and UNARY[name] then return U(name, args[1]) end
    if #args == 2 and BINARY[name] then return B(name, args[1], args[2]) end
    return nil, fmt("'%s' with %d argument(s) is no primitive", name, #args)
  end
  local t, err = node()
  skip()
  if t and pos <= #s then return nil, fmt("unexpected text at %d", pos) end
  return t, err
end

---------------------------------------------------------------------------------------
-- The probe: screening and fingerprints.

local PROBE_N, PROBE_LO, PROBE_HI = 64, -5, 5

local function probe_points()
  local v = {}
  for i = 1, PROBE_N do v[i] = PROBE_LO + (PROBE_HI - PROBE_LO) * (i - 1) / (PROBE_N - 1) end
  return v
end

-- values and derivative of fn on the probe; nil, why when not finite
local function screen(fn, bound)
  local x = actrun.tensor(probe_points())
  x.requires_grad = true
  local ok, y = pcall(fn, x)
  if not ok then return nil, "error: " .. tostring(y) end
  if y:numel() ~= PROBE_N then return nil, "wrong shape" end
  local okb = pcall(function() y:sum():backward() end)
  local vals = y:detach():totable()
  local grad = okb and x.grad and x.grad:totable()
  local lo, hi = math.huge, -math.huge
  for i = 1, PROBE_N do
    local v = vals[i]
    if v ~= v or v == math.huge or v == -math.huge then return nil, "not finite" end
    if math.abs(v) > bound then return nil, "beyond the bound" end
    local g = grad and grad[i] or 0
    if g ~= g or g == math.huge or g == -math.huge then return nil, "derivative not finite" end
    lo, hi = math.min(lo, v), math.max(hi, v)
  end
  if hi - lo < 1e-6 then return nil, "constant" end
  local parts = {}
  for i = 1, PROBE_N do
    local v = vals[i]
    parts[i] = math.abs(v) < 1e-6 and "0" or fmt("%.6g", v)
  end
  return table.concat(parts, ",")
end

---------------------------------------------------------------------------------------
-- Candidate spaces.

-- A realised candidate: tree, expr, name, fn, fingerprint; nil, why when degenerate.
local function realise(tree, bound)
  local fn = compile(tree)
  local fp, why = screen(fn, bound)
  if not fp then return nil, why end
  return {tree = tree, expr = render(tree), name = ident(tree), fn = fn, fp = fp}
end

-- one core unit: b(u1(x), u2(x)); for a commutative b only u1 <= u2 in list order
local function one_unit_space(unary, binary)
  local list = {}
  for _, b in ipairs(binary) do
    for i, u1 in ipairs(unary) do
      for j, u2 in ipairs(unary) do
        if not (BINARY[b][3] and j < i) then
          list[#list + 1] = B(b, U(u1, X), U(u2, X))
        end
      end
    end
  end
  return list
end

-- Screens a list of trees: returns the distinct candidates (first in order stands for
-- the others) and the counts.
local function screen_all(trees, bound, info)
  local out, by_fp, by_expr = {}, {}, {}
  for _, t in ipairs(trees) do
    local expr = render(t)
    if not by_expr[expr] then
      by_expr[expr] = true
      local c = realise(t, bound)
      if not c then
        info.dropped = info.dropped + 1
      elseif by_fp[c.fp] then
        local rep = by_fp[c.fp]
        rep.merged[#rep.merged + 1] = c.expr
        info.merged = info.merged + 1
      else
        c.merged = {}
        by_fp[c.fp] = c
        out[#out + 1] = c
      end
    else
      info.merged = info.merged + 1
    end
  end
  return out, by_fp
end

---------------------------------------------------------------------------------------
-- The store.

local function read_store(path)
  local found, meta = {}, {}
  local f = io.open(path, "r")
  if not f then return found, meta end
  local parse = lab()._json_parse
  for line in f:lines() do
    local rec = parse(line)
    if rec and rec.finished and type(rec.expr) == "string" and type(rec.options) == "string"
        and type(rec.scores) == "table" then
      found[rec.expr .. "\0" .. rec.options] = rec
    elseif rec and rec.meta then
      meta[#meta + 1] = rec
    end
  end
  f:close()
  return found, meta
end

local function append_line(path, obj)
  local line = lab()._json_object(obj) .. "\n"
  local f = io.open(path, "a")
  if not f then return end
  f:write(line) -- one write of the whole line
  f:close()
end

---------------------------------------------------------------------------------------
-- Options.

local OPTS = {unary = true, binary = true, data = true, model = true, epochs = true,
  batch = true, seeds = true, strategy = true, budget = true, population = true,
  sample = true, children = true, seed = true, store = true, shard = true, optimizer = true,
  lr = true, loss = true, bound = true, top = true, top_seeds = true, baselines = true,
  progress = true, verbose = true, provenance = true, _stop_after = true}

-- (level 0: M.search adds the caller's position)
local function fail(msg, ...) error(fmt("actrun.lab.search: " .. msg, ...), 0) end

local function posint(spec, key, default)
  local v = spec[key]
  if v == nil then return default end
  if math.type(v) ~= "integer" and not (type(v) == "number" and v == math.floor(v)) or v < 1 then
    fail("option %s expected an integer >= 1, got %s", key, util.got(v))
  end
  return math.tointeger(v)
end

local function name_list(spec, key, known, order)
  local v = spec[key]
  if v == nil then return table.move(order, 1, #order, 1, {}) end
  if type(v) ~= "table" or #v == 0 then
    fail("option %s expected a non-empty list of primitive names, got %s", key,
      type(v) == "table" and "an empty table" or typename(v))
  end
  local seen, out = {}, {}
  for i, n in ipairs(v) do
    if type(n) ~= "string" or not known[n] then
      fail("option %s entry %d: unknown primitive %s (known: %s)", key, i,
        type(n) == "string" and ("'" .. n .. "'") or typename(n), table.concat(order, ", "))
    end
    if not seen[n] then seen[n] = true out[#out + 1] = n end
  end
  return out
end

local function seed_list(spec, key, default)
  local s = spec[key]
  if s == nil then s = default end
  if type(s) == "number" then
    if s ~= math.floor(s) or s < 1 then
      fail("option %s expected a list of seeds or a count >= 1, got %s", key, util.got(s))
    end
    local list = {}
    for i = 1, math.tointeger(s) do list[i] = i end
    return list
  end
  if type(s) ~= "table" or #s == 0 then
    fail("option %s expected a list of seeds or a count >= 1, got %s", key, typename(s))
  end
  for i, v in ipairs(s) do
    if math.type(v) ~= "integer" then
      fail("option %s entry %d expected an integer, got %s", key, i, util.got(v))
    end
  end
  return table.move(s, 1, #s, 1, {})
end

local function check_set(D, part)
  local set = D[part]
  if type(set) ~= "table" or actrun.is_tensor(set) or not actrun.is_tensor(set.X) or
      not actrun.is_tensor(set.y) then
    fail("option data field %s expected a table {X=, y=} of tensors, got %s", part,
      typename(set))
  end
  if set.X:size(1) ~= set.y:size(1) then
    fail("option data field %s: X has %d rows and y %d", part, set.X:size(1), set.y:size(1))
  end
  return set
end

local function plan(spec)
  if type(spec) ~= "table" then
    error(fmt("actrun.lab.search: argument #1 (spec) expected a table, got %s",
      typename(spec)), 0)
  end
  util.check_opts("actrun.lab.search", spec, 1, OPTS, 0, "spec")
  local P = {spec = spec}
  P.unary = name_list(spec, "unary", UNARY, UNARY_ORDER)
  P.binary = name_list(spec, "binary", BINARY, BINARY_ORDER)
  if type(spec.data) ~= "table" then
    fail("option data expected a table {train={X=, y=}, test={X=, y=}}, got %s",
      typename(spec.data))
  end
  P.train = check_set(spec.data, "train")
  P.test = check_set(spec.data, "test")
  if spec.data.val ~= nil then P.score_set, P.scored_on = check_set(spec.data, "val"), "val"
  else P.score_set, P.scored_on = P.test, "test" end
  local callable = function(f)
    return type(f) == "function" or (getmetatable(f) or {}).__call ~= nil
  end
  if not callable(spec.model) then
    fail("option model expected a function(act_name) -> module, got %s", typename(spec.model))
  end
  if spec.optimizer ~= nil and not callable(spec.optimizer) then
    fail("option optimizer expected a function(params) -> optimiser, got %s",
      typename(spec.optimizer))
  end
  if spec.loss ~= nil and not callable(spec.loss) then
    fail("option loss expected a function, got %s", typename(spec.loss))
  end
  P.epochs = posint(spec, "epochs", 1)
  P.batch = posint(spec, "batch", 64)
  P.seeds = seed_list(spec, "seeds", 1)
  P.strategy = spec.strategy or "exhaustive"
  if P.strategy ~= "exhaustive" and P.strategy ~= "evolution" then
    fail("option strategy expected \"exhaustive\" or \"evolution\", got %s",
      type(P.strategy) == "string" and ("'" .. P.strategy .. "'") or typename(P.strategy))
  end
  if P.strategy == "evolution" then
    if spec.budget == nil then fail("option budget is needed by strategy \"evolution\"") end
    P.budget = posint(spec, "budget")
    P.population = posint(spec, "population", math.min(16, P.budget))
    P.sample = posint(spec, "sample", math.min(4, P.population))
    if P.sample > P.population then
      fail("option sample (%d) must not exceed population (%d)", P.sample, P.population)
    end
    P.children = posint(spec, "children", 4)
  else
    for _, k in ipairs{"budget", "population", "sample", "children"} do
      if spec[k] ~= nil then fail("option %s is for strategy \"evolution\" only", k) end
    end
  end
  P.seed = spec.seed == nil and 1 or spec.seed
  if math.type(P.seed) ~= "integer" then
    fail("option seed expected an integer, got %s", util.got(P.seed))
  end
  if spec.lr ~= nil and (type(spec.lr) ~= "number" or not (spec.lr > 0 and spec.lr < math.huge)) then
    fail("option lr expected a finite number > 0, got %s", util.got(spec.lr))
  end
  P.lr = spec.lr or 1e-3
  P.bound = spec.bound or 1e5
  if type(P.bound) ~= "number" or not (P.bound > 0) then
    fail("option bound expected a number > 0, got %s", util.got(P.bound))
  end
  if spec.store ~= nil and (type(spec.store) ~= "string" or spec.store == "") then
    fail("option store expected a file name, got %s", typename(spec.store))
  end
  P.store = spec.store
  if spec.shard ~= nil then
    local s = spec.shard
    if type(s) ~= "table" or math.type(s[1]) ~= "integer" or math.type(s[2]) ~= "integer" or
        s[2] < 1 or s[1] < 1 or s[1] > s[2] then
      fail("option shard expected {i, n} with 1 <= i <= n, got %s",
        type(s) == "table" and fmt("{%s, %s}", tostring(s[1]), tostring(s[2])) or typename(s))
    end
    if P.strategy ~= "exhaustive" then
      fail("option shard works with strategy \"exhaustive\" only (evolution is sequential)")
    end
    if not P.store then fail("option shard needs option store (each shard writes its own file)") end
    P.shard = {s[1], s[2]}
    P.store = M.shard_file(P.store, s[1], s[2])
  end
  P.top = spec.top == nil and 5 or spec.top
  if math.type(P.top) ~= "integer" or P.top < 0 then
    fail("option top expected an integer >= 0, got %s", util.got(P.top))
  end
  if spec.top_seeds ~= nil then P.top_seeds = seed_list(spec, "top_seeds") end
  local bl = spec.baselines
  if bl == nil then bl = {"relu", "swish"} end
  if type(bl) ~= "table" then
    fail("option baselines expected a list of activation names, got %s", typename(bl))
  end
  for i, n in ipairs(bl) do
    if type(n) ~= "string" or not pcall(actrun.act.info, n) then
      fail("option baselines entry %d: unknown activation %s", i,
        type(n) == "string" and ("'" .. n .. "'") or typename(n))
    end
  end
  P.baselines = bl
  for _, k in ipairs{"progress", "verbose"} do
    if spec[k] ~= nil and type(spec[k]) ~= "boolean" then
      fail("option %s expected a boolean, got %s", k, typename(spec[k]))
    end
  end
  P.extra = spec.provenance or {}
  if type(P.extra) ~= "table" then
    fail("option provenance expected a table of names to strings or numbers, got %s",
      typename(P.extra))
  end
  return P
end

function M.shard_file(store, i, n) return fmt("%s.shard-%d-of-%d", store, i, n) end

-- what decides a score besides the candidate: one canonical string (sorted keys)
local function options_string(P, seeds)
  local o = {epochs = P.epochs, batch = P.batch, lr = fmt("%.17g", P.lr),
    train = table.concat(P.train.X:shape(), "x"),
    scored = P.scored_on .. ":" .. table.concat(P.score_set.X:shape(), "x"),
    seeds = table.concat(seeds, ",")}
  for k, v in pairs(P.extra) do o["opt." .. tostring(k)] = tostring(v) end
  local keys = {}
  for k in pairs(o) do keys[#keys + 1] = k end
  table.sort(keys)
  local parts = {}
  for i, k in ipairs(keys) do parts[i] = k .. "=" .. tostring(o[k]) end
  return table.concat(parts, ";")
end

---------------------------------------------------------------------------------------
-- Training and scoring.

local function describe(scores)
  local d = lab().stats.describe(scores)
  return d.mean, d.sd, d.ci95
end

-- trains act (a name) with every seed; returns the list of scores and the seconds
local function train_scores(P, name, seeds)
  local L = lab()
  local scores, t0 = {}, actrun.clock()
  for i, seed in ipairs(seeds) do
    actrun.manual_seed(seed)
    -- a run that fails (a candidate the model or the loss cannot take) scores 0 and says
    -- so, rather than ending a search of hours (or, under mpirun, the whole job)
    local ok, s = pcall(function()
      local model = P.spec.model(name)
      local params = model:parameters()
      local opt = P.spec.optimizer and P.spec.optimizer(params) or
        actrun.optim.Adam(params, {lr = P.lr})
      L.train(model, P.train, {epochs = P.epochs, batch = P.batch, optimizer = opt,
        loss = P.spec.loss, seed = seed, progress = false})
      local ev = L.evaluate(model, P.score_set.X, P.score_set.y, P.spec.loss)
      local v = ev.accuracy
      if v == nil then v = -ev.loss end -- no classes: the negative loss is the score
      return v
    end)
    if not ok then
      io.stderr:write(fmt("actrun.lab.search: %s seed %d failed, scored 0: %s\n", name, seed,
        tostring(s)))
      s = 0
    end
    if s ~= s then s = 0 end
    scores[i] = s
  end
  return scores, actrun.clock() - t0
end

local function dist_module()
  local ok, D = pcall(require, "actrun.dist")
  if ok and type(D) == "table" and D.size and D.size() > 1 then return D end
  return nil
end

-- The context: ranks, store, progress.
local function context(P)
  local C = {rank = 0, size = 1}
  local D = dist_module()
  if D then C.W, C.rank, C.size = D, D.rank(), D.size() end
  if P.store and C.rank == 0 then
    local h, err = io.open(P.store, "a")
    if not h then fail("option store: cannot write %s", tostring(err)) end
    h:close()
  end
  C.stored = P.store and read_store(P.store) or {}
  C.options = options_string(P, P.seeds)
  C.show = C.rank == 0 and require("actrun.progress").mode(P.spec.progress, io.stderr) == "tty"
  C.verbose = C.rank == 0 and P.spec.verbose
  C.done, C.total, C.t0, C.trained_seconds, C.trained = 0, 0, actrun.clock(), 0, 0
  C.results = {}   -- expr -> result
  return C
end

local function show_progress(C, final)
  if not C.show then return end
  local best = C.best and fmt("  best %s %.2f%%", C.best.expr, 100 * C.best.mean) or ""
  local eta = "?"
  if C.trained > 0 then
    eta = require("actrun.progress").clock_text(C.trained_seconds / C.trained *
      math.max(C.total - C.done, 0))
  end
  local text = fmt("search: %d/%d candidates%s  ETA %s", C.done, C.total, best, eta)
  if #text > 110 then text = text:sub(1, 107) .. "..." end
  io.stderr:write("\r", text, string.rep(" ", math.max(0, (C.width or 0) - #text)),
    final and "\n" or "")
  io.stderr:flush()
  C.width = final and 0 or #text
end

local function make_result(c, scores, seconds)
  local m, sd, ci = describe(scores)
  return {expr = c.expr, name = c.name, mean = m, sd = sd, ci95 = ci, scores = scores,
    seconds = seconds, merged = c.merged or {}}
end

local function better(a, b)
  if a.mean ~= b.mean then return a.mean > b.mean end
  return a.expr < b.expr
end

-- Scores a list of candidates (each {expr=, name=, fn= or builtin=}) with seeds: from the
-- store or trained, spread over the ranks (the k-th of the ones to train on rank
-- (k-1) % size, rounds of `size` so that the store grows as they finish).
local function score_list(P, C, cands, seeds, options, count)
  local out, todo = {}, {}
  for i, c in ipairs(cands) do
    -- every candidate is an activation afterwards, trained now or read from the store
    if c.fn and not c.defined then
      actrun.act.define(c.name, c.fn, {family = "search", formula = c.expr})
      c.defined = true
    end
    local rec = C.stored[c.expr .. "\0" .. options]
    if rec then
      out[i] = make_result(c, rec.scores, rec.seconds or 0)
      if C.verbose then
        io.stdout:write(fmt("%s: %.2f%% (from the store)\n", c.expr, 100 * out[i].mean))
      end
      if count then C.done = C.done + 1 end
    else
      todo[#todo + 1] = i
    end
  end
  local stop = P.spec._stop_after -- test hook: train at most this many, then stop
  local k = 1
  while k <= #todo do
    if stop and C.trained >= stop then error("actrun.lab.search: stopped (test hook)", 0) end
    local round = {}
    for r = 0, C.size - 1 do
      if todo[k + r] then round[#round + 1] = todo[k + r] end
    end
    local mine = {}
    for r, i in ipairs(round) do
      if (r - 1) % C.size == C.rank then
        local c = cands[i]
        local scores, secs = train_scores(P, c.name, seeds)
        mine[#mine + 1] = {i = i, scores = scores, seconds = secs}
      end
    end
    local all = mine
    if C.W then all = C.W.allgather_rows(mine) end
    table.sort(all, function(a, b) return a.i < b.i end)
    for _, e in ipairs(all) do
      local c = cands[e.i]
      out[e.i] = make_result(c, e.scores, e.seconds)
      if P.store and C.rank == 0 then
        local rec = {expr = c.expr, name = c.name, options = options, scores = e.scores,
          seconds = e.seconds, finished = true}
        append_line(P.store, rec)
      end
      C.stored[c.expr .. "\0" .. options] = {scores = e.scores, seconds = e.seconds}
      C.trained, C.trained_seconds = C.trained + 1, C.trained_seconds + e.seconds / C.size
      if count then
        C.done = C.done + 1
        if not C.best or better(out[e.i], C.best) then C.best = out[e.i] end
      end
      if C.verbose then
        if C.show then show_progress(C, true) end
        io.stdout:write(fmt("%s: %.2f%% (%.1f s)\n", c.expr, 100 * out[e.i].mean, e.seconds))
      end
    end
    show_progress(C)
    k = k + #round
  end
  if count then
    for _, r in ipairs(out) do
      if not C.best or better(r, C.best) then C.best = r end
    end
  end
  return out
end

---------------------------------------------------------------------------------------
-- Strategies.

local function exhaustive(P, C, info)
  local cands = screen_all(one_unit_space(P.unary, P.binary), P.bound, info)
  info.candidates = #cands
  if P.shard then
    local mine = {}
    for i, c in ipairs(cands) do
      if (i - 1) % P.shard[2] == P.shard[1] - 1 then mine[#mine + 1] = c end
    end
    cands = mine
  end
  C.total = #cands
  return score_list(P, C, cands, P.seeds, C.options, true)
end

-- a small deterministic generator (xorshift64*), independent of actrun's own
local function rng(seed)
  local s = (seed * 0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019) | 1
  return function(n) -- an integer in 1..n
    s = s ~ (s >> 12); s = s ~ (s << 25); s = s ~ (s >> 27)
    local v = (s * 0x2545F4914F6CDD1D) >> 11
    return v % n + 1
  end
end

-- two core units: b2(u3(c1), u4(y)), c1 = b1(u1(x), u2(x)), y = x or c1
local GENES = 7
local function genome_tree(P, g)
  local c1 = B(P.binary[g[3]], U(P.unary[g[1]], X), U(P.unary[g[2]], X))
  local y = g[7] == 1 and X or c1
  return B(P.binary[g[6]], U(P.unary[g[4]], c1), U(P.unary[g[5]], y))
end
local function gene_range(P, k)
  if k == 3 or k == 6 then return #P.binary end
  if k == 7 then return 2 end
  return #P.unary
end

local function evolution(P, C, info)
  local R = rng(P.seed)
  local by_fp, by_expr, evaluated = {}, {}, {}
  local population = {}
  C.total = P.budget
  local attempts, max_attempts = 0, 100 * P.budget + 1000
  -- realise a genome: the candidate standing for its function, or nil when degenerate
  local function candidate(g)
    local tree = genome_tree(P, g)
    local expr = render(tree)
    if by_expr[expr] ~= nil then return by_expr[expr] or nil end
    local c = realise(tree, P.bound)
    if not c then
      info.dropped = info.dropped + 1
      by_expr[expr] = false
      return nil
    end
    if by_fp[c.fp] then
      info.merged = info.merged + 1
      local rep = by_fp[c.fp]
      rep.merged[#rep.merged + 1] = expr
      by_expr[expr] = rep
      return rep
    end
    c.merged = {}
    by_fp[c.fp] = c
    by_expr[expr] = c
    return c
  end
  local function random_genome()
    local g = {}
    for k = 1, GENES do g[k] = R(gene_range(P, k)) end
    return g
  end
  local function mutate(g)
    local child = table.move(g, 1, GENES, 1, {})
    local k = R(GENES)
    local n = gene_range(P, k)
    if n > 1 then
      local v = R(n - 1)
      if v >= child[k] then v = v + 1 end
      child[k] = v
    end
    return child
  end
  -- evaluates a round of children: the new candidates are trained (spread over ranks)
  local function evaluate(list)
    local new, seen = {}, {}
    for _, e in ipairs(list) do
      if not e.c.result and not seen[e.c] and #evaluated + #new < P.budget then
        seen[e.c] = true
        new[#new + 1] = e.c
      end
    end
    local res = score_list(P, C, new, P.seeds, C.options, true)
    for i, c in ipairs(new) do
      c.result = res[i]
      evaluated[#evaluated + 1] = c
    end
    local out = {}
    for _, e in ipairs(list) do if e.c.result then out[#out + 1] = e end end
    return out
  end
  local function tournament()
    local picked, best = {}, nil
    local n = 0
    while n < P.sample do
      local i = R(#population)
      if not picked[i] then
        picked[i] = true
        n = n + 1
        local e = population[i]
        if not best or better(e.c.result, best.c.result) then best = e end
      end
    end
    return best
  end
  while #evaluated < P.budget and attempts < max_attempts do
    local round = {}
    while #round < P.children and attempts < max_attempts do
      attempts = attempts + 1
      local g
      if #population < P.population then g = random_genome()
      else g = mutate(tournament().g) end
      local c = candidate(g)
      if c then round[#round + 1] = {g = g, c = c} end
    end
    for _, e in ipairs(evaluate(round)) do
      population[#population + 1] = e
      if #population > P.population then table.remove(population, 1) end -- the oldest dies
    end
  end
  info.candidates = #evaluated
  local out = {}
  for i, c in ipairs(evaluated) do out[i] = c.result end
  return out
end

---------------------------------------------------------------------------------------
-- The comparisons against the baselines.

local function sort_results(list)
  table.sort(list, better)
  for i, r in ipairs(list) do r.rank = i end
  return list
end

local function compare_baselines(P, C, results, info)
  if #P.baselines == 0 then return end
  local seeds = P.top_seeds or P.seeds
  local options = options_string(P, seeds)
  local bl = {}
  for i, n in ipairs(P.baselines) do bl[i] = {expr = n, name = n, merged = {}} end
  local bres = score_list(P, C, bl, P.seeds, C.options, false)
  info.baselines = {}
  for i, n in ipairs(P.baselines) do info.baselines[n] = bres[i] end
  local k = math.min(P.top, #results)
  if k == 0 or #seeds < 2 then return end
  local top = {}
  for i = 1, k do top[i] = results[i] end
  local tres, bref = top, bres
  if P.top_seeds then
    tres = score_list(P, C, top, seeds, options, false)
    bref = score_list(P, C, bl, seeds, options, false)
  end
  local pvals, where = {}, {}
  local stats = lab().stats
  for i, r in ipairs(top) do
    r.top = P.top_seeds and {mean = tres[i].mean, sd = tres[i].sd, ci95 = tres[i].ci95,
      scores = tres[i].scores, seeds = seeds} or nil
    r.vs = {}
    for j, n in ipairs(P.baselines) do
      local p = stats.paired(tres[i].scores, bref[j].scores)
      r.vs[n] = {diff = p.diff, ci95 = p.ci95, p = p.p}
      pvals[#pvals + 1] = p.p ~= p.p and 1 or p.p
      where[#where + 1] = r.vs[n]
    end
  end
  local adj = stats.holm(pvals)
  for i, w in ipairs(where) do w.p_adjusted = adj[i] end
  if P.top_seeds then
    info.top_baselines = {}
    for j, n in ipairs(P.baselines) do info.top_baselines[n] = bref[j] end
  end
end

---------------------------------------------------------------------------------------
-- lab.search

function M.search(spec)
  -- lab.search calls this in a tail call: level 2 is the user's line
  local ok, P = pcall(plan, spec)
  if not ok then error(P, 2) end
  local C = context(P)
  local info = {dropped = 0, merged = 0, strategy = P.strategy, seeds = P.seeds,
    epochs = P.epochs, scored_on = P.scored_on}
  local t0 = actrun.clock()
  local results
  if P.strategy == "exhaustive" then results = exhaustive(P, C, info)
  else results = evolution(P, C, info) end
  sort_results(results)
  if P.store and C.rank == 0 then
    append_line(P.store, {meta = true, options = C.options, candidates = info.candidates,
      dropped = info.dropped, merged = info.merged, planned = #results,
      shard = P.shard and fmt("%d/%d", P.shard[1], P.shard[2]) or nil})
  end
  if not P.shard then compare_baselines(P, C, results, info) end
  show_progress(C, true) -- the last state stays on its line
  info.seconds = actrun.clock() - t0
  info.trained = C.trained
  return results, info
end

-- lab.search_merge(store): the table of a sharded search (store.shard-i-of-n files,
-- and the store itself when it exists) -> results, info
function M.merge(store)
  local fname = "actrun.lab.search_merge"
  if type(store) ~= "string" then
    error(fmt("%s: argument #1 (store) expected a file name, got %s", fname, typename(store)), 2)
  end
  local n
  for k = 1, 4096 do
    local f = io.open(M.shard_file(store, 1, k), "r")
    if f then f:close() n = k break end
  end
  local files = {}
  if n then for i = 1, n do files[#files + 1] = M.shard_file(store, i, n) end end
  local plain = io.open(store, "r")
  if plain then plain:close() files[#files + 1] = store end
  if #files == 0 then
    error(fmt("%s: no store %s and no shard files %s", fname, store,
      store .. ".shard-I-of-N"), 2)
  end
  local by_expr, missing, metas, recs = {}, {}, {}, {}
  for _, path in ipairs(files) do
    local f = io.open(path, "r")
    if not f then missing[#missing + 1] = path
    else
      f:close()
      local found, meta = read_store(path)
      for _, m in ipairs(meta) do metas[#metas + 1] = m end
      for _, rec in pairs(found) do
        -- the baselines (plain activation names) are no candidates
        if rec.expr:find("(", 1, true) then recs[#recs + 1] = rec end
      end
    end
  end
  -- the search's own options: the most frequent (a store may also hold the top
  -- candidates retrained with top_seeds), ties to the smaller string
  local count, options = {}, nil
  for _, rec in ipairs(recs) do count[rec.options] = (count[rec.options] or 0) + 1 end
  for o, c in pairs(count) do
    if not options or c > count[options] or (c == count[options] and o < options) then
      options = o
    end
  end
  for _, rec in ipairs(recs) do
    if rec.options == options then by_expr[rec.expr] = rec end
  end
  local results = {}
  for _, rec in pairs(by_expr) do
    results[#results + 1] = make_result({expr = rec.expr, name = rec.name}, rec.scores,
      rec.seconds or 0)
  end
  sort_results(results)
  local info = {files = files, missing = missing, candidates = 0, dropped = 0, merged = 0}
  for _, m in ipairs(metas) do
    if m.options == options then
      info.candidates, info.dropped, info.merged = m.candidates, m.dropped, m.merged
    end
  end
  info.complete = #missing == 0 and #results == info.candidates
  return results, info
end

-- lab.search_table(results [, {top=, baselines=}]) -> the printed table as a string
function M.table(results, opts)
  opts = opts or {}
  local n = math.min(opts.top or #results, #results)
  local rows = {}
  local function pct(v) return v and fmt("%.2f", 100 * v) or "-" end
  for i = 1, n do
    local r = results[i]
    local vs = {}
    for _, b in ipairs(opts.order or {}) do
      local w = r.vs and r.vs[b]
      if w then vs[#vs + 1] = fmt("%s %+.2f (p %.2g)", b, 100 * w.diff, w.p_adjusted or w.p) end
    end
    rows[#rows + 1] = {tostring(r.rank or i), r.expr, pct(r.mean), pct(r.sd),
      "[" .. pct(r.ci95[1]) .. ", " .. pct(r.ci95[2]) .. "]", table.concat(vs, "; ")}
  end
  for _, b in ipairs(opts.order or {}) do
    local r = opts.baselines and opts.baselines[b]
    if r then
      rows[#rows + 1] = {"ref", b, pct(r.mean), pct(r.sd),
        "[" .. pct(r.ci95[1]) .. ", " .. pct(r.ci95[2]) .. "]", ""}
    end
  end
  return lab()._format_table({"rank", "candidate", "mean %", "sd", "95% CI",
    "vs baseline (diff, Holm p)"}, rows, {"r", "l", "r", "r", "l", "l"})
end

-- A candidate expression as an activation: parses, registers with act.define, returns
-- the name (for lab.compare on a search's winners).
function M.define(expr)
  local t, err = M.parse(expr)
  if not t then error(fmt("actrun.lab.search_define: cannot parse '%s': %s", expr, err), 3) end
  local name = ident(t)
  actrun.act.define(name, compile(t), {family = "search", formula = render(t)})
  return name
end

return M
