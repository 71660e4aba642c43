-- actrun.act: the activation functions.
--
-- The registry and its kernels are in C (the hidden table actrun.act_c). This module is
-- the public table: the C functions of the built-ins sit in it as they are (act.relu is
-- the C function, no wrapper), and it adds
--   act.define(name, fn [, info])   an activation written in Lua over tensor ops
--   act.properties(name [, params]) the properties of an activation, computed
--   act.table([names])              the property table of several activations
--   act.plot{...}                   curves (actrun.plot)
-- apply, list, info, scalar, derivative and backward are wrapped so that defined
-- activations work everywhere a built-in name does. Any other field (an activation a
-- host registers in C at run time) is looked up in the C table on each use.
--
-- How act.properties computes each field is described at the properties section below
-- and in docs/ACTIVATIONS.md.

local actrun = require "actrun"
local util = require "actrun.util"
local C = package.loaded["actrun.act_c"]
if type(C) ~= "table" then
  error("actrun.act: the C activation table is missing (load the actrun module first)", 2)
end

local abs, max, min, sqrt, huge = math.abs, math.max, math.min, math.sqrt, math.huge
local is_tensor = actrun.is_tensor

local act = {}

-- The built-ins and softmax go in as they are; the wrapped ones are kept here.
for _, name in ipairs(C.builtins()) do act[name] = C[name] end
act.softmax, act.log_softmax = C.softmax, C.log_softmax
local c_apply, c_list, c_info, c_scalar = C.apply, C.list, C.info, C.scalar
local c_derivative, c_backward = C.derivative, C.backward

-- Helpers of the C table that are not part of the public act table.
local HIDDEN = {scalars = true, enable_grad = true, builtins = true, second = true}

-- Activations defined in Lua in this interpreter: name -> record (see act.define).
local defined = {}
local define_serial = 0 -- numbers the records: caches keyed by a definition use it

setmetatable(act, {
  __index = function(_, key)
    local d = defined[key]
    if d then return d.call end
    if HIDDEN[key] then return nil end
    return C[key]
  end,
})

---------------------------------------------------------------------------------------
-- Errors in the style of the C binding: "actrun.act.NAME: argument #2 (x) expected a
-- tensor, got number". level counts from the function calling fail (1 = that function).

local got, shape_str = util.got, util.shape_str

local function fail(level, fname, fmt, ...)
  error(fname .. ": " .. string.format(fmt, ...), level + 1)
end

local function argerror(level, fname, n, name, expected, v)
  fail(level + 1, fname, "argument #%d (%s) expected %s, got %s", n, name, expected, got(v))
end

local function finite(v)
  return v == v and v ~= huge and v ~= -huge
end

-- A C error raised from inside this module, re-raised under fname with the caller's
-- position: the message without its "file:line: actrun.act.X: " prefix.
local function reraise(level, fname, msg)
  msg = tostring(msg):gsub("^.-actrun%.act%.[%w_]+: ", "", 1)
  fail(level + 1, fname, "%s", msg)
end

-- Every Lua function of this table runs its body under pcall and raises errors again
-- at its caller's line: whether the message was made here (at any depth), by a C
-- function called from here, or raised without a position, the user sees the line
-- that called act.X. Errors raised by the user's own activation code pass unchanged.
local SELF_SRC = debug.getinfo(1, "S").short_src

local function rethrow(level, msg)
  if type(msg) == "string" then
    local n = #SELF_SRC
    if msg:sub(1, n + 1) == SELF_SRC .. ":" then
      local rest = msg:match("^%d+: (.*)$", n + 2)
      if rest then error(rest, level + 1) end
    elseif msg:match("^actrun%.") then
      error(msg, level + 1)
    end
  end
  error(msg, 0)
end

local function guard(f, nret)
  if nret == 3 then
    return function(...)
      local ok, a, b, c = pcall(f, ...)
      if ok then return a, b, c end
      rethrow(2, a)
    end
  end
  if nret == 2 then
    return function(...)
      local ok, a, b = pcall(f, ...)
      if ok then return a, b end
      rethrow(2, a)
    end
  end
  return function(...)
    local ok, a = pcall(f, ...)
    if ok then return a end
    rethrow(2, a)
  end
end

---------------------------------------------------------------------------------------
-- Defined activations

local KEYWORDS = {}
for w in ([[and break do else elseif end false for function goto if in local nil not or
  repeat return then true until while]]):gmatch("%a+") do KEYWORDS[w] = true end

local function param_names(d)
  local names = {}
  for i, q in ipairs(d.params) do names[i] = q.name end
  return #names > 0 and table.concat(names, ", ") or nil
end

-- The parameter values of a defined activation from a table keyed by name (defaults
-- for the missing ones).
local function table_params(level, fname, d, ptab, argn)
  local p = {}
  for _, q in ipairs(d.params) do p[q.name] = q.default end
  if ptab == nil then return p end
  if type(ptab) ~= "table" then
    argerror(level + 1, fname, argn, "params", "a table of parameters", ptab)
  end
  for k, v in pairs(ptab) do
    if type(k) ~= "string" then
      fail(level + 1, fname, "parameter names must be strings (%s takes: %s)", d.name,
        param_names(d) or "no parameters")
    end
    if d.pindex[k] == nil then
      fail(level + 1, fname, "unknown parameter '%s' for %s (parameters: %s)", k, d.name,
        param_names(d) or "none")
    end
    if type(v) ~= "number" then
      fail(level + 1, fname, "parameter '%s' expected a number, got %s", k, got(v))
    end
    if not finite(v) then
      fail(level + 1, fname, "%s: parameter '%s' must be finite, got %s", d.name, k, got(v))
    end
    p[k] = v
  end
  return p
end

-- y = fn(x [, p]), checked: a tensor of x's shape.
local function run_defined(level, fname, d, x, p, argn)
  if not is_tensor(x) then argerror(level + 1, fname, argn, "x", "a tensor", x) end
  local y
  if #d.params > 0 then
    local copy = {}
    for k, v in pairs(p) do copy[k] = v end
    y = d.fn(x, copy)
  else
    y = d.fn(x)
  end
  if not is_tensor(y) then
    fail(level + 1, fname, "activation '%s' returned %s, expected a tensor of shape %s",
      d.name, y == nil and "nothing" or got(y), shape_str(x))
  end
  local xs, ys = x:shape(), y:shape()
  local same = #xs == #ys
  for i = 1, #xs do same = same and xs[i] == ys[i] end
  if not same then
    fail(level + 1, fname, "activation '%s' returned shape %s for input %s", d.name,
      shape_str(y), shape_str(x))
  end
  return y
end

-- act.NAME(x [, p1, p2 ...]) for a defined activation.
local function make_call(d)
  local fname = "actrun.act." .. d.name
  local np = #d.params
  return guard(function(x, ...)
    local n = select("#", ...)
    if n > np then
      fail(2, fname, "too many arguments: %d given, %s takes x%s%s", n + 1, d.name,
        np > 0 and ", " or "", param_names(d) or "")
    end
    local p = {}
    for i, q in ipairs(d.params) do
      local v = select(i, ...)
      if v == nil then
        v = q.default
      elseif type(v) ~= "number" then
        argerror(2, fname, i + 1, q.name, "a number", v)
      elseif not finite(v) then
        fail(2, fname, "%s: parameter '%s' must be finite, got %s", d.name, q.name, got(v))
      end
      p[q.name] = v
    end
    return run_defined(2, fname, d, x, p, 1)
  end, 1)
end

local function is_known(name)
  return defined[name] ~= nil or (pcall(c_info, name))
end

function act.define(name, fn, info)
  local fname = "actrun.act.define"
  if type(name) ~= "string" then argerror(2, fname, 1, "name", "a string", name) end
  if not name:match("^[%a_][%w_]*$") or KEYWORDS[name] then
    fail(2, fname, "argument #1 (name) must be an identifier (letters, digits, _), got '%s'",
      name)
  end
  if not defined[name] then
    if pcall(c_info, name) then
      fail(2, fname, "'%s' is a built-in activation and cannot be redefined", name)
    end
    if rawget(act, name) ~= nil or C[name] ~= nil then
      fail(2, fname, "'%s' is a function of actrun.act and cannot name an activation", name)
    end
  end
  if type(fn) ~= "function" and not (getmetatable(fn) or {}).__call then
    argerror(2, fname, 2, "fn", "a function", fn)
  end
  if info ~= nil and type(info) ~= "table" then
    argerror(2, fname, 3, "info", "a table {family=, formula=, params=}", info)
  end
  info = info or {}
  for k in pairs(info) do
    if k ~= "family" and k ~= "formula" and k ~= "params" then
      fail(2, fname, "unknown field '%s' in info (fields: family, formula, params)", tostring(k))
    end
  end
  for _, k in ipairs{"family", "formula"} do
    if info[k] ~= nil and type(info[k]) ~= "string" then
      fail(2, fname, "info.%s expected a string, got %s", k, got(info[k]))
    end
  end
  local params, pindex = {}, {}
  if info.params ~= nil then
    if type(info.params) ~= "table" then
      fail(2, fname, "info.params expected a list of {name=, default=}, got %s", got(info.params))
    end
    -- parameters keyed by name ({beta = 1}): the list is what fixes their order as
    -- positional arguments, so say how to write it for the first such key
    local n = #info.params
    for k in pairs(info.params) do
      if math.type(k) ~= "integer" or k < 1 or k > n then
        local kn = type(k) == "string" and ("parameter '" .. k .. "'") or ("key " .. tostring(k))
        fail(2, fname, "%s: info.params must be a list {{name=, default=}, ...} (it fixes the " ..
          "order of the positional arguments); write {name = %q, default = ...} in it",
          kn, tostring(k))
      end
    end
    for i, q in ipairs(info.params) do
      if type(q) == "string" then
        fail(2, fname, "parameter '%s': info.params[%d] expected a table, write " ..
          "{name = %q, default = ...}", q, i, q)
      end
      if type(q) ~= "table" then
        fail(2, fname, "info.params[%d] expected a table {name=, default=}, got %s", i, got(q))
      end
      local pn, pd = q.name, q.default
      if pn == nil and type(q[1]) == "string" then -- {"beta", 1}: fields by position
        fail(2, fname, "parameter '%s': info.params[%d] expected named fields, write " ..
          "{name = %q, default = ...}", q[1], i, q[1])
      end
      if type(pn) ~= "string" or not pn:match("^[%a_][%w_]*$") then
        fail(2, fname, "info.params[%d].name expected an identifier, got %s", i,
          type(pn) == "string" and ("'" .. pn .. "'") or got(pn))
      end
      for k in pairs(q) do
        if k ~= "name" and k ~= "default" then
          fail(2, fname, "parameter '%s': unknown field '%s' in info.params[%d] (fields: name, " ..
            "default)", pn, tostring(k), i)
        end
      end
      if pindex[pn] then fail(2, fname, "info.params: parameter '%s' given twice", pn) end
      if pd == nil then
        fail(2, fname, "parameter '%s' has no default (info.params[%d].default expected a " ..
          "finite number)", pn, i)
      elseif type(pd) ~= "number" then
        fail(2, fname, "parameter '%s' must be a number, got %s (info.params[%d].default)", pn,
          got(pd), i)
      elseif pd ~= pd then
        fail(2, fname, "parameter '%s' is NaN (info.params[%d].default expected a finite number)",
          pn, i)
      elseif not finite(pd) then
        fail(2, fname, "parameter '%s' is %s (info.params[%d].default expected a finite number)",
          pn, pd > 0 and "inf" or "-inf", i)
      end
      params[i] = {name = pn, default = pd}
      pindex[pn] = i
    end
  end
  local d = {
    name = name,
    fn = fn,
    family = info.family or "defined",
    formula = info.formula or "defined in Lua",
    params = params,
    pindex = pindex,
  }
  d.call = make_call(d)
  define_serial = define_serial + 1
  d.serial = define_serial
  defined[name] = d
  return d.call
end

---------------------------------------------------------------------------------------
-- The wrapped functions

function act.apply(name, x, params)
  local d = type(name) == "string" and defined[name]
  if d then
    local fname = "actrun.act.apply"
    return run_defined(2, fname, d, x, table_params(2, fname, d, params, 3), 2)
  end
  return c_apply(name, x, params)
end

function act.list()
  local names = c_list()
  local seen = {}
  for _, n in ipairs(names) do seen[n] = true end
  local added = false
  for n in pairs(defined) do
    if not seen[n] then
      names[#names + 1] = n
      added = true
    end
  end
  if added then table.sort(names) end
  return names
end

function act.info(name)
  local d = type(name) == "string" and defined[name]
  if not d then return c_info(name) end
  local ps = {}
  for i, q in ipairs(d.params) do ps[i] = {name = q.name, default = q.default} end
  return {name = d.name, family = d.family, formula = d.formula, params = ps,
          learnable = false, output_grad = false, defined = true,
          derivatives = "autograd (float32): f' by backward, f'' by double backward"}
end

-- Runs fn with autograd recording on (defined activations need it for f').
local with_grad = C.enable_grad

-- f and f' of a defined activation at the points of the 1-D tensor x (a fresh leaf),
-- as Lua arrays, by one forward and one backward pass.
local function defined_points(level, fname, d, p, x)
  return with_grad(function()
    x.requires_grad = true
    local y = run_defined(level + 2, fname, d, x, p, 2)
    local fs = y:totable()
    local ds
    if y.requires_grad then
      y:backward(actrun.ones(x:shape()))
      ds = x.grad and x.grad:totable()
    end
    if not ds then ds = actrun.zeros(x:shape()):totable() end -- y does not depend on x
    return fs, ds
  end)
end

function act.scalar(name, x, params)
  local d = type(name) == "string" and defined[name]
  if not d then return c_scalar(name, x, params) end
  local fname = "actrun.act.scalar"
  if type(x) ~= "number" then argerror(2, fname, 2, "x", "a number", x) end
  local p = table_params(2, fname, d, params, 3)
  -- f' and f'' by autograd (float32): the gradient, then the gradient of the gradient
  return with_grad(function()
    local xt = actrun.tensor{x}
    xt.requires_grad = true
    local y = run_defined(4, fname, d, xt, p, 2)
    local f = y:item()
    if not y.requires_grad then return f, 0, 0 end -- y does not depend on x
    local g = actrun.grad(y, xt, {create_graph = true, allow_unused = true})[1]
    if not g then return f, 0, 0 end
    local h = g.requires_grad and actrun.grad(g, xt, {allow_unused = true})[1]
    return f, g:item(), h and h:item() or 0
  end)
end

-- dx = dy * f'(x) for a defined activation, by autograd on a detached copy of x.
local function defined_backward(fname, d, x, dy, params, pargn)
  if not is_tensor(x) then argerror(3, fname, 2, "x", "a tensor", x) end
  if dy ~= nil then
    if not is_tensor(dy) then argerror(3, fname, 3, "dy", "a tensor", dy) end
    if shape_str(dy) ~= shape_str(x) then
      fail(3, fname, "dy has shape %s, x has shape %s: they must be equal", shape_str(dy),
        shape_str(x))
    end
  end
  local p = table_params(3, fname, d, params, pargn)
  return with_grad(function()
    local xg = x:detach():clone()
    xg.requires_grad = true
    local y = run_defined(4, fname, d, xg, p, 2)
    if not y.requires_grad then return actrun.zeros(x:shape()) end
    y:backward(dy and dy:detach() or actrun.ones(x:shape()))
    return xg.grad or actrun.zeros(x:shape())
  end)
end

function act.derivative(name, x, params)
  local d = type(name) == "string" and defined[name]
  if not d then return c_derivative(name, x, params) end
  return defined_backward("actrun.act.derivative", d, x, nil, params, 3)
end

function act.backward(name, x, dy, params)
  local d = type(name) == "string" and defined[name]
  if not d then return c_backward(name, x, dy, params) end
  if dy == nil then argerror(2, "actrun.act.backward", 3, "dy", "a tensor", dy) end
  return defined_backward("actrun.act.backward", d, x, dy, params, 4)
end

function act.plot(opts)
  return require("actrun.plot").activations(opts)
end

---------------------------------------------------------------------------------------
-- Properties
--
-- Everything is measured from f and f' at many points: for built-ins (and host
-- activations with a scalar form) the double-precision scalar f/f' of the registry, for
-- defined activations one forward and backward pass over a tensor of points (float32).
-- - grid: 60000 points over [-30, 30], spacing 1e-3, shifted by an irrational fraction
--   of a step so that no point falls on a "round" kink like 0, 0.5 or 6;
-- - tails: x = +-30 * 2^k, k = 0..10 (up to 30720), for limits and saturation.
-- Kinks: cells where f' changes much more than in the cells on both sides; each is
-- bisected (14 halvings in double, 7 in float), keeping the half where f' changes more;
-- a kink is kept when the change of f' across the final cell is still at least half the
-- change across the grid cell (a smooth f' shrinks with the cell). Jumps of f itself
-- are found the same way with |f(b) - f(a) - (b - a)(f'(a) + f'(b))/2|.

local GRID_N, GRID_H = 60000, 1e-3
local SHIFT = 0.3819660112501051 -- (3 - sqrt 5) / 2 of a step
local TAIL_K = 10

-- f and f' of any activation at many points, as Lua arrays:
--   ev.grid(lo, hi, n) -> xs, fs, ds   (n points evenly spaced from lo to hi)
--   ev.at(xs)          -> fs, ds, xs'  (xs' the points really used: float32 in a tensor)
--   ev.second(xs)      -> d2s          (f'' at points ev.at has used)
-- ev.float is true when the values come from float32 tensors. ev.d2 says where f'' comes
-- from: "exact" (the double reference, a host activation's f'' kernel d2f, or autograd
-- differentiating a Lua-defined activation twice) or "fd" (central differences of f' with
-- step 2^-8, for host activations without d2f).
-- Through tensors and autograd, for a record {name, fn, params} like act.define's;
-- second(x) gives f'' over the tensor x, or nil when there is no f'' kernel.
local FD_STEP = 2 ^ -8 -- x +- 2^-8 is exact for float |x| < 2^15 (the tails end at 30720)

-- The analyses assume f is a function of x: a noisy f (random draws, state kept between
-- calls) makes every grid cell look like a kink, and act.properties then bisected
-- tens of thousands of them for half a minute before returning nonsense. Two
-- evaluations of f and f' on the same probe points tell it apart for the cost of two
-- small passes (a deterministic f draws nothing, so the generator does not move). It
-- runs here, when an analysis starts, not in act.define: a noisy activation is
-- legitimate in a network (as a regulariser), it is only its analysis that makes no
-- sense, and defining stays free of calls to user code.
local PROBE = {}
for i = 0, 120 do PROBE[#PROBE + 1] = -30 + 0.5 * i + 0.1 end -- off the round kinks
for _, x in ipairs{300, 3000, 30720} do PROBE[#PROBE + 1], PROBE[#PROBE + 2] = -x, x end

local function same(a, b) return a == b or (a ~= a and b ~= b) end

local function check_deterministic(level, fname, d, p)
  local f1, d1 = defined_points(level + 1, fname, d, p, actrun.tensor(PROBE))
  local f2, d2 = defined_points(level + 1, fname, d, p, actrun.tensor(PROBE))
  for i = 1, #PROBE do
    if not (same(f1[i], f2[i]) and same(d1[i], d2[i])) then
      local what = same(f1[i], f2[i]) and "f' = %.9g, then %.9g" or "f = %.9g, then %.9g"
      local a, b = table.unpack(same(f1[i], f2[i]) and {d1[i], d2[i]} or {f1[i], f2[i]})
      fail(level + 1, fname, "activation '%s' is not deterministic (two evaluations on the " ..
        "same input differ at x = %.9g: " .. what .. "); its properties assume f is a " ..
        "function of x", d.name, actrun.tensor{PROBE[i]}:item(), a, b)
    end
  end
end

local function tensor_evaluator(level, fname, d, p, second)
  check_deterministic(level + 1, fname, d, p)
  return {
    float = true,
    d2 = second and "exact" or "fd",
    grid = function(lo, hi, n)
      local x = actrun.linspace(lo, hi, n)
      local xs = x:totable()
      local fs, ds = defined_points(level + 1, fname, d, p, x)
      return xs, fs, ds
    end,
    at = function(xs)
      local x = actrun.tensor(xs)
      local used = x:totable()
      local fs, ds = defined_points(level + 1, fname, d, p, x)
      return fs, ds, used
    end,
    second = function(xs)
      local x = actrun.tensor(xs)
      if second then return second(x) end
      local _, dp = defined_points(level + 1, fname, d, p, x + FD_STEP)
      local _, dm = defined_points(level + 1, fname, d, p, x - FD_STEP)
      local d2 = {}
      for i = 1, #dp do d2[i] = (dp[i] - dm[i]) / (2 * FD_STEP) end
      return d2
    end,
  }
end

-- f'' of a defined activation at the points of the 1-D tensor x, by differentiating
-- twice with autograd (the gradient with create_graph, then its gradient), as a Lua array;
-- 0 where f or f' does not depend on x.
local function defined_second(level, fname, d, p, x)
  return with_grad(function()
    local xt = x:detach():clone()
    xt.requires_grad = true
    local y = run_defined(level + 2, fname, d, xt, p, 2)
    local h
    if y.requires_grad then
      local g = actrun.grad(y:sum(), xt, {create_graph = true, allow_unused = true})[1]
      if g and g.requires_grad then h = actrun.grad(g:sum(), xt, {allow_unused = true})[1] end
    end
    return (h or actrun.zeros(x:shape())):totable()
  end)
end

local function evaluator(level, fname, name, params)
  local d = defined[name]
  if d then
    local p = table_params(level + 1, fname, d, params, 2)
    return tensor_evaluator(level, fname, d, p, function(x)
      return defined_second(level + 1, fname, d, p, x)
    end)
  end
  local ok, msg = pcall(C.scalars, name, {0}, params)
  if not ok then
    if not tostring(msg):find("has no scalar form", 1, true) then reraise(level + 1, fname, msg) end
    -- a host activation without a double scalar form: through its tensor kernels, and
    -- its f'' kernel when it has one
    local host = {name = name, params = {}, fn = function(x) return c_apply(name, x, params) end}
    local second
    if pcall(C.second, name, actrun.zeros(1), params) then
      second = function(x) return C.second(name, x, params):totable() end
    end
    return tensor_evaluator(level, fname, host, {}, second)
  end
  return {
    float = false,
    d2 = "exact",
    grid = function(lo, hi, n)
      local fs, ds = C.scalars(name, lo, hi, n, params)
      local xs = {}
      for i = 1, n do xs[i] = lo + (hi - lo) * ((i - 1) / (n - 1)) end
      return xs, fs, ds
    end,
    at = function(xs)
      local fs, ds = C.scalars(name, xs, params)
      return fs, ds, xs
    end,
    second = function(xs)
      local _, _, d2s = C.scalars(name, xs, params)
      return d2s
    end,
  }
end

local function check_finite(level, fname, name, xs, fs, ds, i0, i1, what)
  for i = i0 or 1, i1 or #xs do
    local f, d = fs[i], ds[i]
    if not (finite(f) and finite(d)) then
      fail(level + 1, fname, "activation '%s' is not finite at x = %.6g (f = %s, f' = %s): " ..
        "%s need a function defined on the whole line", name, xs[i], got(f), got(d),
        what or "properties")
    end
  end
end

-- Bisects each cell {a, b, fa, fb, da, db} `steps` times, keeping the half where
-- measure(a, b, fa, fb, da, db) is larger; all cells advance together (one evaluation
-- per step).
local function bisect(ev, cells, measure, steps)
  for _ = 1, steps do
    if #cells == 0 then return end
    local mids = {}
    for j, c in ipairs(cells) do mids[j] = (c.a + c.b) / 2 end
    local fm, dm, xm = ev.at(mids)
    for j, c in ipairs(cells) do
      local m, f, d = xm[j], fm[j], dm[j]
      if m > c.a and m < c.b and finite(f) and finite(d) then
        if measure(c.a, m, c.fa, f, c.da, d) >= measure(m, c.b, f, c.fb, d, c.db) then
          c.b, c.fb, c.db = m, f, d
        else
          c.a, c.fa, c.da = m, f, d
        end
      end
    end
  end
end

local function kink_measure(_, _, _, _, da, db) return abs(db - da) end
local function jump_measure(a, b, fa, fb, da, db) return abs(fb - fa - (b - a) * (da + db) / 2) end

-- Points x where measure jumps: candidates are grid cells standing out from both
-- neighbours, confirmed by bisection. Returns the sorted list of located points and the
-- confirmed cells (their end values).
local function locate(ev, xs, fs, ds, measure, floor_of, steps, digits)
  local n = #xs
  local m = {}
  for i = 1, n - 1 do m[i] = measure(xs[i], xs[i + 1], fs[i], fs[i + 1], ds[i], ds[i + 1]) end
  local cells = {}
  for i = 1, n - 1 do
    local v, l, r = m[i], m[i - 1] or 0, m[i + 1] or 0
    if v > floor_of(i) and v >= l and v >= r and v > 1.5 * min(l, r) then
      cells[#cells + 1] = {a = xs[i], b = xs[i + 1], fa = fs[i], fb = fs[i + 1], da = ds[i],
                           db = ds[i + 1], m0 = v, i = i}
    end
  end
  bisect(ev, cells, measure, steps)
  local found, kept = {}, {}
  for _, c in ipairs(cells) do
    local v = measure(c.a, c.b, c.fa, c.fb, c.da, c.db)
    if v >= 0.5 * c.m0 and v > floor_of(c.i) then
      local x = tonumber(string.format("%." .. digits .. "f", (c.a + c.b) / 2))
      if x == 0 then x = 0.0 end
      if #found == 0 or abs(x - found[#found]) > 2 * GRID_H then
        found[#found + 1] = x
        kept[#kept + 1] = c
      end
    end
  end
  return found, kept
end

-- The analysis grid of act.properties: GRID_N points from about -30, GRID_H apart.
local function analysis_grid(ev)
  local lo = -30 + SHIFT * GRID_H
  return ev.grid(lo, lo + (GRID_N - 1) * GRID_H, GRID_N)
end

-- Kinks (f' jumps: the sorted points and their confirmed cells) and jumps (f jumps) of
-- the activation behind ev, from its values on the analysis grid.
local function find_breaks(ev, xs, fs, ds)
  local float = ev.float
  local steps = float and 7 or 14
  local digits = float and 5 or 6
  local dfloor = float and 1e-4 or 1e-6
  local jfloor = float and 1e-4 or 1e-8
  local kinks, kcells = locate(ev, xs, fs, ds, kink_measure, function(i)
    return dfloor * (1 + abs(ds[i]))
  end, steps, digits)
  local jumps = locate(ev, xs, fs, ds, jump_measure, function(i)
    return jfloor * (1 + abs(fs[i]))
  end, steps, digits)
  return kinks, kcells, jumps
end

-- The limit of f along x_k = 30 * 2^k: the last value when it settled, an extrapolation
-- when the steps shrink geometrically, +-huge when they do not shrink (growth), nil
-- when they change sign (oscillation).
local function tail_limit(vals, tol)
  local k = #vals
  if k < 3 then return nil end
  local last = vals[k]
  if last == huge or last == -huge then return last end
  local d1, d0 = vals[k] - vals[k - 1], vals[k - 1] - vals[k - 2]
  local scale = 1 + abs(last)
  if abs(d1) <= tol * scale and abs(d0) <= 4 * tol * scale then return last end
  if d0 == 0 or d1 / d0 <= 0 then return nil end
  local r = d1 / d0
  if r >= 0.9 then return d1 > 0 and huge or -huge end
  return last + d1 * r / (1 - r)
end

-- Gauss-Hermite nodes and weights (n = 100 unless asked) for E g(Z), Z ~ N(0, 1): the
-- nodes are the eigenvalues of the Jacobi matrix of the Hermite polynomials (found by
-- Sturm-sequence bisection), the weights 1 / sum_k p_k(x)^2 over the orthonormal
-- polynomials.
local GH_N = 100
local gh_rules = {}

local function gauss_hermite(n)
  n = n or GH_N
  local rule = gh_rules[n]
  if rule then return rule[1], rule[2] end
  local beta = {} -- squared off-diagonal of the Jacobi matrix: k / 2
  for k = 1, n - 1 do beta[k] = k / 2 end
  local function count_below(lambda) -- eigenvalues < lambda
    local c, q = 0, -lambda
    if q < 0 then c = 1 end
    for i = 2, n do
      if q == 0 then q = 1e-300 end
      q = -lambda - beta[i - 1] / q
      if q < 0 then c = c + 1 end
    end
    return c
  end
  local bound = sqrt(2 * n + 1) + 1
  local xs, ws = {}, {}
  local s = 0
  for k = 1, n do
    local a, b = -bound, bound
    for _ = 1, 200 do
      local mid = (a + b) / 2
      if mid == a or mid == b then break end
      if count_below(mid) >= k then b = mid else a = mid end
    end
    local x = (a + b) / 2
    local p0, p1 = math.pi ^ -0.25, 0
    local sum = p0 * p0
    p1 = sqrt(2) * x * p0
    sum = sum + p1 * p1
    for j = 1, n - 2 do -- p_{j+1} = x sqrt(2/(j+1)) p_j - sqrt(j/(j+1)) p_{j-1}
      local p2 = x * sqrt(2 / (j + 1)) * p1 - sqrt(j / (j + 1)) * p0
      sum = sum + p2 * p2
      p0, p1 = p1, p2
    end
    xs[k], ws[k] = x, 1 / sum
    s = s + ws[k]
  end
  -- the weights sum to sqrt(pi) for exp(-x^2); as an expectation over N(0, 1):
  -- z = sqrt(2) x and w / sqrt(pi) (normalised by their computed sum)
  for k = 1, n do
    xs[k] = sqrt(2) * xs[k]
    ws[k] = ws[k] / s
  end
  gh_rules[n] = {xs, ws}
  return xs, ws
end

-- Gauss-Legendre nodes and weights on [-1, 1] (n = 8): Newton on P_n from the usual
-- cosine guesses, P_n and P_n' by the three-term recurrence.
local GL_N = 8
local gl_nodes, gl_weights

local function gauss_legendre()
  if gl_nodes then return gl_nodes, gl_weights end
  local n = GL_N
  local xs, ws = {}, {}
  for i = 1, n do
    local x = math.cos(math.pi * (i - 0.25) / (n + 0.5))
    local dp
    for _ = 1, 100 do
      local p0, p1 = 1, x
      for k = 2, n do p0, p1 = p1, ((2 * k - 1) * x * p1 - (k - 1) * p0) / k end
      dp = n * (x * p1 - p0) / (x * x - 1)
      local dx = p1 / dp
      x = x - dx
      if abs(dx) < 1e-16 then break end
    end
    xs[i], ws[i] = x, 2 / ((1 - x * x) * dp * dp)
  end
  gl_nodes, gl_weights = xs, ws
  return xs, ws
end

-- Quadrature nodes and weights for E g(Z), Z ~ N(0, 1), when f has kinks or jumps at
-- the points `breaks` (in z): Gauss-Legendre on panels of [-10, 10] (40 panels of 0.5,
-- also cut at every break, so each panel sees a smooth piece), weighted by the normal
-- density. Gauss-Hermite, exact for smooth f, converges slowly across a kink (its E
-- relu(Z) is off by 2e-3 with 100 nodes); this is good to 1e-12.
local function normal_panels(breaks)
  local cuts = {}
  for k = 0, 40 do cuts[#cuts + 1] = -10 + k * 0.5 end
  for _, b in ipairs(breaks) do
    if b > -10 and b < 10 then cuts[#cuts + 1] = b end
  end
  table.sort(cuts)
  local gx, gw = gauss_legendre()
  local zs, ws = {}, {}
  local c = 1 / sqrt(2 * math.pi)
  for k = 2, #cuts do
    local a, b = cuts[k - 1], cuts[k]
    if b - a > 1e-12 then
      local mid, half = (a + b) / 2, (b - a) / 2
      for i = 1, #gx do
        local z = mid + half * gx[i]
        zs[#zs + 1] = z
        ws[#ws + 1] = half * gw[i] * c * math.exp(-z * z / 2)
      end
    end
  end
  return zs, ws
end

-- E f(z), E f(z)^2 and d/dq E f(z)^2 = E[f(z) f'(z) Z] / sqrt(q) for z = sqrt(q) Z;
-- breaks: where f has kinks or jumps (in x).
local function normal_moments(ev, q, breaks)
  local r = sqrt(q)
  local zs, ws
  if #breaks == 0 or r == 0 then
    zs, ws = gauss_hermite()
  else
    local zb = {}
    for i, b in ipairs(breaks) do zb[i] = b / r end
    zs, ws = normal_panels(zb)
  end
  local pts = {}
  for i = 1, #zs do pts[i] = r * zs[i] end
  local fs, ds = ev.at(pts)
  local m, s, g = 0, 0, 0
  for i = 1, #zs do
    local f = fs[i]
    m = m + ws[i] * f
    s = s + ws[i] * f * f
    g = g + ws[i] * f * ds[i] * zs[i]
  end
  return m, s, r > 0 and g / r or nil
end

-- The layer map under LeCun-normal weights (zero mean, variance 1/n, a wide layer): the
-- pre-activation is z ~ N(0, q) with q the input's second moment, the output has mean
-- E f(z) and second moment E f(z)^2 (Klambauer et al. 2017). The map of the second
-- moment q -> E f(sqrt(q) Z)^2 is iterated from q = 1 (mean 0, variance 1). Its Jacobian
-- in (mean, q) is [[0, dm/dq], [0, dq'/dq]]: spectral radius |dq'/dq| at the fixed point.
local function fixed_point(ev, f0, breaks)
  local tol = ev.float and 1e-7 or 1e-12
  local q, prev = 1, nil
  local converged, decreasing = false, true
  for _ = 1, 500 do
    local _, s = normal_moments(ev, q, breaks)
    if not finite(s) or s > 1e12 then return nil end
    local dq = s - q
    if prev and dq > 0 then decreasing = false end
    prev, q = q, s
    if abs(dq) <= tol * q then
      converged = true
      break
    end
    if q < 1e-12 then
      q, converged = 0, true
      break
    end
  end
  if not converged then
    -- a neutral fixed point at 0 (tanh, elu...) is approached as 1/k: the signal dies
    if decreasing and q < 1e-2 then q = 0 else return nil end
  end
  if q == 0 then return {mean = f0, var = 0} end
  local m, _, slope = normal_moments(ev, q, breaks)
  local var = q - m * m
  if abs(var) < 1e-12 then var = 0 end
  if abs(m) < 1e-12 then m = 0 end
  return {mean = m, var = var, rho = slope and abs(slope)}
end

-- Median per-element time, in ns, of the forward and the backward pass on a tensor of
-- `size` elements, as a user calls them (act.apply; y:backward), with the range of the
-- samples (min, max). The input is pseudo-random in [-5, 5) from a hash of the index:
-- signs a branch predictor cannot learn (a sorted or periodic input would hide a kernel
-- that branches per element), and the user's RNG stream is left alone.
local function measure_cost(name, params, size, runs)
  local clock = actrun.clock
  local v = (actrun.linspace(1, size, size) * 12.9898):sin() * 43758.5453
  local x = (v - v:floor() - 0.5) * 10
  local function median(t)
    local s = {table.unpack(t)}
    table.sort(s)
    local k = #s
    return k % 2 == 1 and s[(k + 1) // 2] or (s[k // 2] + s[k // 2 + 1]) / 2
  end
  local function per_element(t)
    local lo, hi = math.huge, -math.huge
    for _, s in ipairs(t) do lo, hi = math.min(lo, s), math.max(hi, s) end
    return median(t) / size * 1e9, {lo / size * 1e9, hi / size * 1e9}
  end
  local fw, bw = {}, {}
  act.apply(name, x, params) -- warm-up: caches, the allocator's free lists
  for r = 1, runs do
    local t0 = clock()
    act.apply(name, x, params)
    fw[r] = clock() - t0
  end
  local backward_ok = true
  with_grad(function()
    local xg = x:clone()
    xg.requires_grad = true
    local g = actrun.ones(size)
    for r = 0, runs do
      local y = act.apply(name, xg, params)
      if not y.requires_grad then
        backward_ok = false
        return
      end
      local t0 = clock()
      y:backward(g)
      local t = clock() - t0
      xg.grad = nil
      if r > 0 then bw[r] = t end
    end
  end)
  local f, frange = per_element(fw)
  local res = {forward = f, forward_range = frange}
  if backward_ok then res.backward, res.backward_range = per_element(bw) end
  return res
end

local function names_arg(level, fname, names, argn)
  if names == nil then return act.list() end
  local list = {}
  if type(names) == "string" then
    for n in names:gmatch("[^,%s]+") do list[#list + 1] = n end
  elseif type(names) == "table" then
    for i, n in ipairs(names) do
      if type(n) ~= "string" then
        fail(level + 1, fname, "argument #%d (names) entry %d expected a name, got %s", argn, i,
          got(n))
      end
      list[i] = n
    end
  else
    argerror(level + 1, fname, argn, "names", "a list of names or a string 'a,b'", names)
  end
  for _, n in ipairs(list) do
    if not is_known(n) then fail(level + 1, fname, "unknown activation '%s' (see act.list())", n) end
  end
  return list
end

-- The options each takes: a misspelt one is an error, not a silent default.
local PROPERTIES_OPTS = {cost = true, quick = true}
local TABLE_OPTS = {cost = true, quick = true, print = true, out = true}

-- the signal-propagation helpers, defined further down
local mean_field, edge

-- act.properties(name [, params [, {cost=true, quick=false}]])
function act.properties(name, params, opts)
  local fname = "actrun.act.properties"
  if type(name) ~= "string" then argerror(2, fname, 1, "name", "an activation name", name) end
  if not is_known(name) then fail(2, fname, "unknown activation '%s' (see act.list())", name) end
  if params ~= nil and type(params) ~= "table" then
    argerror(2, fname, 2, "params", "a table of parameters", params)
  end
  opts = util.check_opts(fname, opts, 3, PROPERTIES_OPTS, 3)
  local info = act.info(name)
  local ev = evaluator(2, fname, name, params)
  local float = ev.float

  -- the grid, 0 and the tails
  local n, h = GRID_N, GRID_H
  local xs, fs, ds = analysis_grid(ev)
  check_finite(2, fname, name, xs, fs, ds)
  local extra = {0, -30, 30}
  for k = 1, TAIL_K do
    extra[#extra + 1] = -30 * 2 ^ k
    extra[#extra + 1] = 30 * 2 ^ k
  end
  local ef, ed, extra_used = ev.at(extra)
  local f0, df0 = ef[1] + 0.0, ed[1] + 0.0 -- no -0
  check_finite(2, fname, name, extra, ef, ed, 1, 3)
  -- tail sequences (|x| = 30 * 2^k, k = 0..10), cut at the first non-finite value
  local function tail(sign)
    local fv, dv = {}, {}
    for k = 0, TAIL_K do
      local j = k == 0 and (sign < 0 and 2 or 3) or (sign < 0 and 2 + 2 * k or 3 + 2 * k)
      local f, d = ef[j], ed[j]
      if f ~= f or d ~= d then break end
      fv[#fv + 1], dv[#dv + 1] = f, d
      if not finite(f) or not finite(d) then break end
    end
    return fv, dv
  end
  local lf, ld = tail(-1)
  local rf, rd = tail(1)

  -- kinks (f' jumps) and jumps (f jumps)
  local kinks, kcells, jumps = find_breaks(ev, xs, fs, ds)

  -- monotonic: f never goes down (or never up) along tails and grid
  local seq = {}
  for k = #lf, 1, -1 do seq[#seq + 1] = lf[k] end
  for i = 1, n do seq[#seq + 1] = fs[i] end
  for k = 1, #rf do seq[#seq + 1] = rf[k] end
  local up, down = true, true
  local mtol = float and 1e-6 or 1e-12
  for i = 2, #seq do
    local df = seq[i] - seq[i - 1]
    if df == df then
      local tol = mtol * (1 + abs(seq[i]))
      if df < -tol then up = false end
      if df > tol then down = false end
    end
  end

  -- nonlinear: f' not constant (or f jumps)
  local dmin, dmax, amax, imax = huge, -huge, -1, 1
  for i = 1, n do
    local d = ds[i]
    if d < dmin then dmin = d end
    if d > dmax then dmax = d end
    if abs(d) > amax then amax, imax = abs(d), i end
  end
  for _, t in ipairs{ld, rd, {df0}} do
    for _, d in ipairs(t) do
      if finite(d) then
        dmin, dmax = min(dmin, d), max(dmax, d)
      end
    end
  end
  local nonlinear = #jumps > 0 or
    (dmax - dmin) > (float and 1e-5 or 1e-9) * (1 + max(abs(dmin), abs(dmax)))

  -- max |f'|: the grid's maximum refined by a parabola, both sides of each kink, 0 and
  -- the tails; huge when |f'| keeps growing in a tail
  local maxd = amax
  if imax > 1 and imax < n then
    local a, b, c = abs(ds[imax - 1]), amax, abs(ds[imax + 1])
    local smooth = b > a and b > c
    for _, t in ipairs{kinks, jumps} do
      for _, x in ipairs(t) do
        if abs(x - xs[imax]) <= 3 * h then smooth = false end
      end
    end
    if smooth then maxd = max(maxd, b - (a - c) ^ 2 / (8 * (a - 2 * b + c))) end
  end
  for _, c in ipairs(kcells) do maxd = max(maxd, abs(c.da), abs(c.db)) end
  maxd = max(maxd, abs(df0))
  local growing = false
  for _, t in ipairs{ld, rd} do
    for _, d in ipairs(t) do
      if finite(d) then maxd = max(maxd, abs(d)) else growing = true end
    end
    local k = #t
    if k >= 3 and abs(t[k]) > 2 * abs(t[k - 1]) * 0.9 and abs(t[k]) > 2 * amax then growing = true end
  end
  if growing then maxd = huge end

  -- smoothness and max |f''| (from f'' on the grid, at 0 and along the tails):
  -- "C0" with kinks or jumps; else "C1" when f'' jumps somewhere, found like the kinks
  -- with (f', f'') in place of (f, f') and a floor of 1e-6 (1 + |f''|) [1e-4] (softplus's
  -- switch to x at its threshold moves f'' by 2e-9: smooth); "C2" otherwise. With f'' by
  -- differences of f' (ev.d2 == "fd") a jump is smeared over the step, and is found
  -- instead where the slopes of f' over one step to the left and one to the right differ
  -- by more than 1e-3 (1 + |f''|) and than the rounding of f' allows, and by more than 4
  -- times the same difference two steps away on both sides (a smooth f'' changes about as
  -- much there).
  local d2s = ev.second(xs)
  local ed2 = ev.second(extra_used)
  local breaks_near = {}
  for _, t in ipairs{kinks, jumps} do
    for _, x in ipairs(t) do breaks_near[#breaks_near + 1] = x end
  end
  local cjumps, ccells = {}, {}
  local steps, digits = float and 7 or 14, float and 5 or 6 -- as the kink search's
  if #breaks_near == 0 then
    if ev.d2 == "exact" then
      local ev2 = {at = function(pts)
        local _, d, used = ev.at(pts)
        return d, ev.second(used), used
      end}
      cjumps, ccells = locate(ev2, xs, ds, d2s, kink_measure, function(i)
        return (float and 1e-4 or 1e-6) * (1 + abs(d2s[i]))
      end, steps, digits)
    else
      local k = max(1, math.floor(FD_STEP / h + 0.5))
      local function onesided(i) -- |right slope of f' - left slope| at grid point i
        return abs((ds[i + k] - ds[i]) - (ds[i] - ds[i - k])) / (k * h)
      end
      local js = {}
      for i = 3 * k + 1, n - 3 * k do js[i] = onesided(i) end
      for i = 3 * k + 1, n - 3 * k do
        local j = js[i]
        local side = max(js[i - 2 * k] or huge, js[i + 2 * k] or huge)
        -- the rounding of the three float f' values, 2^-23 (1 + |f'|) each, over k h
        local noise = 8 * 0x1p-23 * (1 + abs(ds[i - k]) + abs(ds[i]) + abs(ds[i + k])) / (k * h)
        if j > max(1e-3 * (1 + abs(d2s[i])), noise) and j > 4 * side and j >= (js[i - 1] or 0) and
          j >= (js[i + 1] or 0) then
          local x = tonumber(string.format("%." .. digits .. "f", xs[i]))
          if #cjumps == 0 or abs(x - cjumps[#cjumps]) > 2 * FD_STEP then cjumps[#cjumps + 1] = x end
        end
      end
    end
  end
  local smoothness = #breaks_near > 0 and "C0" or (#cjumps > 0 and "C1" or "C2")
  -- max |f''|: the grid (with f'' by differences, not within a step of a kink or jump,
  -- where they see f' jump), refined by a parabola around a smooth maximum, both sides of
  -- each jump of f'', 0 and the tails; inf when |f''| keeps growing along a tail
  local away = ev.d2 == "fd" and FD_STEP + 2 * h or 0
  local amax2, imax2 = 0, nil
  for i = 1, n do
    local v = d2s[i]
    if finite(v) and abs(v) > amax2 then
      local ok = true
      for _, b in ipairs(breaks_near) do
        if abs(xs[i] - b) <= away then ok = false end
      end
      if ok then amax2, imax2 = abs(v), i end
    end
  end
  local maxc = amax2
  if imax2 and imax2 > 1 and imax2 < n then
    local a, b, c = abs(d2s[imax2 - 1]), amax2, abs(d2s[imax2 + 1])
    local smooth = b > a and b > c
    for _, t in ipairs{breaks_near, cjumps} do
      for _, x in ipairs(t) do
        if abs(x - xs[imax2]) <= 3 * h + away then smooth = false end
      end
    end
    if smooth then maxc = max(maxc, b - (a - c) ^ 2 / (8 * (a - 2 * b + c))) end
  end
  for _, c in ipairs(ccells) do maxc = max(maxc, abs(c.da), abs(c.db)) end
  local growing2 = false
  for _, sign in ipairs{-1, 1} do
    local t = {}
    for kk = 0, TAIL_K do
      local j = kk == 0 and (sign < 0 and 2 or 3) or (sign < 0 and 2 + 2 * kk or 3 + 2 * kk)
      local v = ed2[j]
      if v ~= v then break end
      t[#t + 1] = v
      if finite(v) then maxc = max(maxc, abs(v)) else growing2 = true break end
    end
    local kk = #t
    if kk >= 3 and abs(t[kk]) > 2 * abs(t[kk - 1]) * 0.9 and abs(t[kk]) > 2 * amax2 then
      growing2 = true
    end
  end
  if finite(ed2[1]) and ev.d2 == "exact" then maxc = max(maxc, abs(ed2[1])) end
  if growing2 then maxc = huge end

  -- range: limits at |x| >= 30 and the extremes over the grid and the tails
  local ltol = float and 1e-6 or 1e-10
  local llim, rlim = tail_limit(lf, ltol), tail_limit(rf, ltol)
  local rlo, rhi, gmax = huge, -huge, 0
  for i = 1, n do
    local f = fs[i]
    if f < rlo then rlo = f end
    if f > rhi then rhi = f end
    if abs(f) > gmax then gmax = abs(f) end
  end
  for _, t in ipairs{lf, rf, {f0}} do
    for _, f in ipairs(t) do
      if finite(f) then rlo, rhi = min(rlo, f), max(rhi, f) end
    end
  end
  for side, lim in pairs{l = llim or false, r = rlim or false} do
    if lim then
      rlo, rhi = min(rlo, lim), max(rhi, lim)
    else
      -- no limit: an oscillating tail; unbounded when it swings far beyond the grid
      local t = side == "l" and lf or rf
      for _, f in ipairs(t) do
        if abs(f) > 10 * (1 + gmax) then rlo, rhi = -huge, huge end
      end
    end
  end
  local snap = float and 1e-7 or 1e-12
  if abs(rlo) < snap then rlo = 0.0 end
  if abs(rhi) < snap then rhi = 0.0 end

  -- saturation: "zero" when f' is exactly 0 on the whole tail and on the grid from its
  -- end inwards up to a kink or jump (or across the whole grid, or up to where f' grows
  -- to a normal size), "vanishing" when |f'| falls steadily towards 0 along the tail
  -- (below 1e-6 of max(1, max |f'|) at |x| = 30720), "no" otherwise
  local breaks = {}
  for _, x in ipairs(kinks) do breaks[#breaks + 1] = x end
  for _, x in ipairs(jumps) do breaks[#breaks + 1] = x end
  local function saturation(td, from, to, step)
    for _, d in ipairs(td) do
      if d ~= 0 then goto not_zero end
    end
    do
      local i = from
      while i ~= to + step and ds[i] == 0 do i = i + step end
      if i == to + step then return "zero" end
      local x = xs[i - step]
      for _, b in ipairs(breaks) do
        if abs(b - x) <= 2 * h then return "zero" end
      end
      -- no kink where the zeros start (f' continuous, as for relu(x)^2): a real zero
      -- region when f' is of a normal size 0.1 further in; an underflow or rounding
      -- floor (tanh's 1 - tanh^2, exp(-x^2)) is still tiny there
      local j = i + 100 * step
      if (j - to) * step > 0 then j = to end
      if abs(ds[j]) > 1e-6 * max(1, maxd == huge and 1 or maxd) then return "zero" end
    end
    ::not_zero::
    local k = #td
    if k < 2 or not finite(td[k]) then return "no" end
    if abs(td[k]) > 1e-6 * max(1, maxd == huge and 1 or maxd) then return "no" end
    for j = 2, k do
      if abs(td[j]) > abs(td[j - 1]) * (1 + 1e-9) + 1e-300 then return "no" end
    end
    return "vanishing"
  end
  local saturates = {left = saturation(ld, 1, n, 1), right = saturation(rd, n, 1, -1)}

  -- the normal-input statistics and self-normalisation
  local m1, s1 = normal_moments(ev, 1, breaks)
  local sd1 = sqrt(max(0, s1 - m1 * m1))
  local zero_centered = abs(m1) <= 0.1 * sd1 + (float and 1e-7 or 1e-12)
  local fp = fixed_point(ev, f0, breaks)
  local self_normalizing = fp ~= nil and fp.rho ~= nil and abs(fp.mean) <= 0.05 and
    abs(fp.var - 1) <= 0.05 and fp.rho < 1

  -- the edge of chaos at sigma_b2 = 0 (quick: quadrature to 1e-8, the root to 1e-6 relative)
  -- (nil too when the theory's integrals overflow: f finite on [-30, 30] may not be at
  -- the huge q an unbounded variance reaches, e.g. x^3)
  local eoc
  local ok, sw, q = pcall(function()
    local mf = mean_field(2, fname, name, params)
    if opts.quick then mf.tol, mf.qtol = max(mf.tol, 1e-8), max(mf.qtol, 1e-9) end
    return edge(mf, 0.0, opts.quick and 1e-6 or nil)
  end)
  if ok and sw then eoc = {sigma_w2 = sw, q_star = q} end

  local cost
  if opts.cost ~= false then
    local quick = opts.quick
    cost = measure_cost(name, params, quick and 2 ^ 14 or 2 ^ 20, quick and 3 or 7)
  end

  return {
    name = name,
    nonlinear = nonlinear,
    differentiable = #jumps > 0 and "no" or (#kinks > 0 and "almost everywhere" or "everywhere"),
    kinks = kinks,
    jumps = jumps,
    monotonic = up or down,
    range = {rlo, rhi},
    bounded = rlo > -huge and rhi < huge,
    zero_centered = zero_centered,
    normal_output = {mean = m1, sd = sd1},
    f0 = f0,
    df0 = df0,
    near_identity = abs(f0) <= 1e-6 and abs(df0 - 1) <= 1e-6,
    max_derivative = maxd,
    smoothness = smoothness,
    curvature_jumps = cjumps,
    max_curvature = maxc,
    saturates = saturates,
    params = info.learnable and 1 or 0,
    cost_ns = cost,
    self_normalizing = self_normalizing,
    fixed_point = fp,
    edge_of_chaos = eoc,
    precision = float and "float" or "double",
  }
end

---------------------------------------------------------------------------------------
-- Signal propagation: the mean-field theory of wide random networks (Poole et al. 2016,
-- Schoenholz et al. 2017). Weights ~ N(0, sigma_w2 / n), biases ~ N(0, sigma_b2).
-- A pre-activation is N(0, q); the next layer's q is
--   V(q) = sigma_w2 E[f(sqrt(q) Z)^2] + sigma_b2,            Z ~ N(0, 1),
-- and q* is the fixed point the iteration from q = 1 reaches. At q* (u = sqrt(q*) Z):
--   chi1  = sigma_w2 E[f'(u)^2]      (the gradient's growth per layer; c = 1 stable if < 1)
--   chi_q = V'(q*) = sigma_w2 E[f'(u)^2 + f(u) f''(u)], here as sigma_w2 E[f(u)^2 (Z^2 - 1)] / (2 q*)
--           (the same for smooth f, by Gaussian integration by parts; this form needs no
--           f'' and is exact across kinks and jumps, where f'' holds point masses)
--   xi_q  = -1 / log |chi_q|         (layers over which q approaches q*)
--   xi_c  = -1 / log chi_c           (layers over which the correlation of two inputs
--           approaches its fixed point c*: in the ordered phase c* = 1 and chi_c = chi1;
--           in the chaotic phase c* < 1 comes from the correlation map
--           c -> (sigma_w2 E[f(u1) f(u2)] + sigma_b2) / q*, u1, u2 ~ N(0, q*) with
--           correlation c, and chi_c = sigma_w2 E[f'(u1) f'(u2)] there: 2-D integrals).
-- The 1-D expectations: adaptive Gauss-Legendre over z in [-10, 10] (the tails hold
-- < 1e-22 of the mass), on panels cut every 0.5 in z, at the integers x in [-20, 20]
-- (z = x / sqrt(q): the scale of f's own features) and at every kink and jump of f (as
-- act.properties locates them), so each panel sees a smooth piece; a panel is halved
-- until its 8-point rule and the sum over its halves agree to 1e-12 of the integral
-- (1e-8 for defined activations, evaluated in float32). Every round evaluates f and f'
-- at all its nodes in one call (one tensor pass for a defined activation).

local Z_MAX, X_CUT = 10, 20
local CRITICAL_TOL = 1e-4

-- kinks and jumps per (activation, definition, parameters): the grid analysis costs
-- ~60000 evaluations, a propagation call a few thousand
local break_cache, break_cache_n = {}, 0

local function params_key(params)
  if type(params) ~= "table" then return "" end
  local ks = {}
  for k in pairs(params) do ks[#ks + 1] = tostring(k) end
  table.sort(ks)
  for i, k in ipairs(ks) do
    local v = params[k]
    ks[i] = k .. "=" .. (math.type(v) == "float" and string.format("%.17g", v) or tostring(v))
  end
  return table.concat(ks, ",")
end

-- The state of a propagation computation: the evaluator, the breaks of f, tolerances.
function mean_field(level, fname, name, params)
  if type(name) ~= "string" then argerror(level + 1, fname, 1, "name", "an activation name", name) end
  if not is_known(name) then fail(level + 1, fname, "unknown activation '%s' (see act.list())", name) end
  if params ~= nil and type(params) ~= "table" then
    fail(level + 1, fname, "argument #2 (options) field params expected a table of parameters, got %s",
      got(params))
  end
  local ev = evaluator(level + 1, fname, name, params)
  local d = defined[name]
  local key = name .. "\0" .. (d and d.serial or "") .. "\0" .. params_key(params)
  local breaks = break_cache[key]
  if not breaks then
    local xs, fs, ds = analysis_grid(ev)
    check_finite(level + 1, fname, name, xs, fs, ds, nil, nil, "signal propagation")
    local kinks, _, jumps = find_breaks(ev, xs, fs, ds)
    breaks = {}
    for _, x in ipairs(kinks) do breaks[#breaks + 1] = x end
    for _, x in ipairs(jumps) do breaks[#breaks + 1] = x end
    table.sort(breaks)
    if break_cache_n >= 256 then break_cache, break_cache_n = {}, 0 end
    break_cache[key], break_cache_n = breaks, break_cache_n + 1
  end
  return {
    ev = ev, breaks = breaks, name = name, level = level, fname = fname,
    float = ev.float,
    tol = ev.float and 1e-8 or 1e-12,   -- quadrature, relative to the integral
    qtol = ev.float and 1e-9 or 1e-14,  -- fixed points, relative
  }
end

-- The panel cuts in z for z = x / r: the z grid, the integers x in [-X_CUT, X_CUT] and
-- the breaks b (in x) at b / r + shift, all inside [-Z_MAX, Z_MAX]; a grid cut within 1e-9
-- of a break gives way to it.
local function panel_cuts(r, breaks, zmax, zstep, xcut, shift, scale)
  shift, scale = shift or 0, scale or 1
  local bz = {}
  if r > 0 then
    for _, b in ipairs(breaks) do
      local z = (b / r + shift) / scale
      if z > -zmax and z < zmax then bz[#bz + 1] = z end
    end
  end
  local cuts = {}
  for _, z in ipairs(bz) do cuts[#cuts + 1] = z end
  local function add(z)
    if z < -zmax or z > zmax then return end
    for _, b in ipairs(bz) do
      if abs(z - b) <= 1e-9 then return end
    end
    cuts[#cuts + 1] = z
  end
  local k = math.floor(2 * zmax / zstep + 0.5)
  for i = 0, k do add(-zmax + i * zstep) end
  if r > 0 and xcut > 0 then
    for x = -xcut, xcut do add((x / r + shift) / scale) end
  end
  table.sort(cuts)
  local out = {cuts[1]}
  for i = 2, #cuts do
    if cuts[i] - out[#out] > 1e-12 then out[#out + 1] = cuts[i] end
  end
  return out
end

local INV_SQRT_2PI = 1 / sqrt(2 * math.pi)

-- Adds the 8-point Gauss-Legendre nodes of [a, b] and their weights times the normal
-- density to zs, ws.
local function panel_rule(a, b, zs, ws)
  local gx, gw = gauss_legendre()
  local mid, half = (a + b) / 2, (b - a) / 2
  for i = 1, #gx do
    local z = mid + half * gx[i]
    zs[#zs + 1] = z
    ws[#ws + 1] = half * gw[i] * INV_SQRT_2PI * math.exp(-z * z / 2)
  end
end

-- E g_m(Z), m = 1..nfun, Z ~ N(0, 1), where the integrand adds w * g_m(z) for a node
-- (z, f(r z), f'(r z)) into v: integrand(v, w, z, f, df). Adaptive (see above).
local function expect(mf, r, nfun, integrand, floor)
  local ev, tol = mf.ev, mf.tol
  local ng = GL_N
  local function batch(list)
    local zs, ws = {}, {}
    for _, p in ipairs(list) do panel_rule(p[1], p[2], zs, ws) end
    local xs = {}
    for i, z in ipairs(zs) do xs[i] = r * z end
    local fs, ds = ev.at(xs)
    local k = 0
    for _, p in ipairs(list) do
      local v = {}
      for m = 1, nfun do v[m] = 0 end
      for _ = 1, ng do
        k = k + 1
        local f, df = fs[k], ds[k]
        if not (finite(f) and finite(df)) then
          fail(mf.level + 3, mf.fname, "activation '%s' is not finite at x = %.6g (f = %s, f' = %s)",
            mf.name, xs[k], got(f), got(df))
        end
        integrand(v, ws[k], zs[k], f, df)
      end
      p.v = v
    end
  end
  local cuts = panel_cuts(r, mf.breaks, Z_MAX, 0.5, X_CUT)
  local active = {}
  for i = 2, #cuts do active[#active + 1] = {cuts[i - 1], cuts[i]} end
  batch(active)
  local total, scale = {}, {}
  for m = 1, nfun do total[m], scale[m] = 0, 0 end
  for _, p in ipairs(active) do
    for m = 1, nfun do scale[m] = scale[m] + abs(p.v[m]) end
  end
  -- the accepted error: tol relative to the integral, or to the floor the caller says
  -- is negligible (a rounding-noise integrand far below it is not refined forever)
  for m = 1, nfun do scale[m] = tol * max(scale[m], floor[m]) end
  for round = 1, 40 do
    if #active == 0 then break end
    local halves = {}
    for _, p in ipairs(active) do
      local mid = (p[1] + p[2]) / 2
      halves[#halves + 1] = {p[1], mid}
      halves[#halves + 1] = {mid, p[2]}
    end
    batch(halves)
    local last = round == 40 or #halves > 4000
    local nxt = {}
    for j, p in ipairs(active) do
      local L, R = halves[2 * j - 1], halves[2 * j]
      local ok = last or (p[2] - p[1]) < 1e-9
      if not ok then
        ok = true
        for m = 1, nfun do
          if abs(L.v[m] + R.v[m] - p.v[m]) > scale[m] then
            ok = false
            break
          end
        end
      end
      if ok then
        for m = 1, nfun do total[m] = total[m] + L.v[m] + R.v[m] end
      else
        nxt[#nxt + 1] = L
        nxt[#nxt + 1] = R
      end
    end
    active = nxt
  end
  return total
end

-- E f(u)^2 and its derivative in q, E f(u)^2 (Z^2 - 1) / (2 q), for u = sqrt(q) Z;
-- with want_d also E f'(u)^2. Each is needed to a fraction of q (of 1 for E f'^2): the
-- layer map compares sigma_w2 E f^2 with q.
local function variance_moments(mf, q, want_d)
  local r = sqrt(q)
  local floor = {1e-3 * q, 1e-3 * q, 1e-3}
  local v = expect(mf, r, want_d and 3 or 2, function(v, w, z, f, df)
    local f2 = w * f * f
    v[1] = v[1] + f2
    v[2] = v[2] + f2 * (z * z - 1)
    if want_d then v[3] = v[3] + w * df * df end
  end, floor)
  return v[1], v[2] / (2 * q), v[3]
end

-- A root of g between a and b (g(a), g(b) of opposite signs) by regula falsi with the
-- Illinois modification, to |step| <= xtol * |x|.
local function illinois(g, a, ga, b, gb, xtol)
  local side, x = 0, nil
  for _ = 1, 200 do
    local prev = x
    x = (a * gb - b * ga) / (gb - ga)
    if not (x > min(a, b) and x < max(a, b)) then x = (a + b) / 2 end
    local gx = g(x)
    if gx == 0 then return x, x, 0, x, 0 end
    if (gx > 0) == (gb > 0) then
      b, gb = x, gx
      if side == -1 then ga = ga / 2 end
      side = -1
    else
      a, ga = x, gx
      if side == 1 then gb = gb / 2 end
      side = 1
    end
    if abs(b - a) <= xtol * abs(x) or (prev and abs(x - prev) <= 0.1 * xtol * abs(x)) then
      return x, a, ga, b, gb
    end
  end
  return x, a, ga, b, gb
end

local Q_ZERO, Q_HUGE = 1e-30, 1e30

-- The fixed point of V reached from q = 1, by steps that go the way the iteration
-- q -> V(q) goes: the furthest of the iteration's step, Newton's step on V(q) - q and
-- the last move doubled (so a slow geometric approach to 0 or growth to infinity takes
-- few steps); a step that crosses a root brackets it (then regula falsi). 0 when q dies
-- away (sigma_b2 = 0, f(0) = 0), huge when it grows without bound.
local function variance_fixed_point(mf, sw, sb)
  if sw == 0 then return sb end
  local function g(q)
    local e, de = variance_moments(mf, q)
    local v = sw * e + sb
    return v - q, sw * de - 1, v
  end
  local function settled(q, gq, dg)
    return abs(gq) <= max(mf.qtol * q * abs(dg), 4e-16 * q)
  end
  local q = 1.0
  local gq, dg, vq = g(q)
  if gq == 0 or settled(q, gq, dg) then return q end
  local s = gq > 0 and 1 or -1
  local move = 0
  for _ = 1, 300 do
    local cand = vq
    local qn = q - gq / dg
    if qn == qn and (qn - cand) * s > 0 then cand = qn end
    local qx = q + 2 * move
    if move ~= 0 and (qx - cand) * s > 0 then cand = qx end
    if s < 0 then
      if cand < sb then cand = sb end
      if cand < Q_ZERO then cand = Q_ZERO / 2 end
    elseif cand > Q_HUGE then
      cand = 2 * Q_HUGE
    end
    local gc, dgc, vc = g(cand)
    if s < 0 and cand < Q_ZERO and gc <= 10 * mf.tol * cand then return 0.0 end
    if s > 0 and cand > Q_HUGE and gc >= -10 * mf.tol * cand then return huge end
    if gc == 0 then return cand end
    if (gc > 0) ~= (s > 0) then
      return (illinois(function(x) return (g(x)) end, q, gq, cand, gc, mf.qtol))
    end
    move = cand - q
    q, gq, dg, vq = cand, gc, dgc, vc
    if q < Q_ZERO then return 0.0 end
    if q > Q_HUGE then return huge end
    if abs(move) <= mf.qtol * q or settled(q, gq, dg) then return q end
  end
  return q
end

-- The correlation map's fixed point c* and chi_c there (chaotic phase), by 2-D
-- quadrature: z1 outer, z2 inner with u1 = r z1, u2 = r (c z1 + s z2), s = sqrt(1 - c^2).
-- Gauss-Hermite (64 x 64 nodes) for a smooth f; with kinks or jumps, Gauss-Legendre on
-- panels of 1 in z over [-7, 7] cut at the breaks, in z1 and (for each z1) in z2.
-- Returns E f(u1) f(u2) and E f'(u1) f'(u2).
local function correlation_sums(mf, r, c)
  local sc = sqrt(max(0, 1 - c * c))
  local z1s, w1s, xs1 = {}, {}, {}
  local pts, wts, owner = {}, {}, {}
  local smooth = #mf.breaks == 0
  local hx, hw
  if smooth then
    hx, hw = gauss_hermite(64)
    for i = 1, #hx do z1s[i], w1s[i] = hx[i], hw[i] end
  else
    local cuts = panel_cuts(r, mf.breaks, 7, 1, 0)
    for i = 2, #cuts do panel_rule(cuts[i - 1], cuts[i], z1s, w1s) end
  end
  for i, z1 in ipairs(z1s) do
    xs1[i] = r * z1
    local zs, ws
    if smooth then
      zs, ws = hx, hw
    else
      zs, ws = {}, {}
      -- u2 = r (c z1 + sc z2) crosses a break b at z2 = (b / r - c z1) / sc
      local cuts = panel_cuts(r, mf.breaks, 7, 1, 0, -c * z1, sc)
      for k = 2, #cuts do panel_rule(cuts[k - 1], cuts[k], zs, ws) end
    end
    for k = 1, #zs do
      local n = #pts + 1
      pts[n] = r * (c * z1 + sc * zs[k])
      wts[n] = w1s[i] * ws[k]
      owner[n] = i
    end
  end
  local f1, d1 = mf.ev.at(xs1)
  local f2, d2 = mf.ev.at(pts)
  local ef, ed = 0, 0
  for n = 1, #pts do
    local i, w = owner[n], wts[n]
    ef = ef + w * f1[i] * f2[n]
    ed = ed + w * d1[i] * d2[n]
  end
  return ef, ed
end

-- The stable fixed point c* < 1 of c -> (sw E f(u1) f(u2) + sb) / V(q) (V(q) = q at the
-- fixed point; the layer's own q' where q is a limit, 0 or huge) and chi_c there; the
-- map's slope is chi_c(c) q / V(q). c = 1 is a fixed point, unstable in the chaotic
-- phase, so the map is below the diagonal just under 1; from c = 0 (where it is >= 0)
-- a safeguarded Newton iteration inside the bracket.
local function correlation_fixed_point(mf, sw, sb, q, vq)
  local r = sqrt(q)
  local function h(c)
    local ef, ed = correlation_sums(mf, r, c)
    return (sw * ef + sb) / vq - c, sw * ed * q / vq - 1, sw * ed
  end
  local lo, hlo, dlo, chi = 0.0, h(0.0)
  if hlo <= 0 then return 0.0, chi end
  local hi, hhi
  for _, dlt in ipairs{1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6} do
    local b = 1 - dlt
    local hb, _, chib = h(b)
    if hb == 0 then return b, chib end
    if hb < 0 then
      hi, hhi = b, hb
      break
    end
    lo, hlo = b, hb
    dlo = nil
  end
  if not hi then return 1.0, nil end
  local c, hc, dc = lo, hlo, dlo
  if not dc then
    local _
    _, dc = h(c)
  end
  for _ = 1, 60 do
    local nc = dc and dc ~= 0 and c - hc / dc
    if not nc or nc ~= nc or nc <= lo or nc >= hi then nc = (lo + hi) / 2 end
    local step = abs(nc - c)
    c = nc
    hc, dc, chi = h(c)
    if hc == 0 or step <= 1e-10 then break end
    if hc > 0 then lo = c else hi = c end
    if hi - lo <= 1e-10 then break end
  end
  return c, chi
end

local function depth(chi)
  chi = abs(chi)
  if chi >= 1 then return huge end
  return -1 / math.log(chi)
end

-- Everything at (sw, sb); with_c: also the chaotic phase's c* and xi_c (2-D integrals).
local function propagate(mf, sw, sb, with_c)
  local q = variance_fixed_point(mf, sw, sb)
  -- the limits q -> 0+ and q -> huge are evaluated at a tiny / huge q
  local qe = q == 0 and 1e-24 or (q == huge and Q_HUGE or q)
  local e2, dv, d2 = variance_moments(mf, qe, true)
  local chi1, chi_q = sw * d2, sw * dv
  local phase = abs(chi1 - 1) <= CRITICAL_TOL and "critical" or (chi1 < 1 and "ordered" or "chaotic")
  local res = {q_star = q, chi1 = chi1, chi_q = chi_q, xi_q = depth(chi_q), phase = phase}
  if phase == "ordered" then
    res.c_star, res.xi_c = 1.0, depth(chi1)
  elseif phase == "critical" then
    res.c_star, res.xi_c = 1.0, huge
  elseif with_c then
    local c, chi_c = correlation_fixed_point(mf, sw, sb, qe, sw * e2 + sb)
    res.c_star, res.chi_c = c, chi_c
    res.xi_c = (c < 1 and chi_c) and depth(chi_c) or huge
  end
  return res
end

local PROPAGATION_OPTS = {sigma_w2 = true, sigma_b2 = true, params = true}
local EDGE_OPTS = {sigma_b2 = true, params = true}

local function sigma_opt(level, fname, opts, key, argn, required)
  local v = opts[key]
  if v == nil then
    if required then
      fail(level + 1, fname, "argument #%d (options) needs %s, a number >= 0", argn, key)
    end
    return 0.0
  end
  if type(v) ~= "number" then
    fail(level + 1, fname, "argument #%d (options) field %s expected a number >= 0, got %s", argn,
      key, got(v))
  end
  if not finite(v) or v < 0 then
    fail(level + 1, fname, "argument #%d (options) field %s must be finite and >= 0, got %s", argn,
      key, tostring(v))
  end
  return v + 0.0
end

-- act.propagation(name, {sigma_w2=, sigma_b2=0, params=})
function act.propagation(name, opts)
  local fname = "actrun.act.propagation"
  if type(name) ~= "string" then argerror(2, fname, 1, "name", "an activation name", name) end
  if not is_known(name) then fail(2, fname, "unknown activation '%s' (see act.list())", name) end
  if opts == nil then fail(2, fname, "argument #2 (options) expected a table {sigma_w2=, sigma_b2=, params=}, got nil") end
  opts = util.check_opts(fname, opts, 2, PROPAGATION_OPTS, 3)
  local sw = sigma_opt(2, fname, opts, "sigma_w2", 2, true)
  local sb = sigma_opt(2, fname, opts, "sigma_b2", 2, false)
  local mf = mean_field(2, fname, name, opts.params)
  local r = propagate(mf, sw, sb, true)
  r.sigma_w2, r.sigma_b2 = sw, sb
  return r
end

-- The sigma_w2 where chi1 = 1 at sigma_b2 (q* depending on sigma_w2): from sigma_w2 = 1,
-- doubled or halved until chi1 - 1 changes sign (between 2^-20 and 2^20), then regula
-- falsi to 1e-11 (1e-8 for a defined activation). Returns sigma_w2, q* or nil.
function edge(mf, sb, xtol)
  local last = {}
  local function h(sw)
    local r = propagate(mf, sw, sb, false)
    last[sw] = r.q_star
    return r.chi1 - 1
  end
  local a, ha = 1.0, h(1.0)
  if ha == 0 then return a, last[a] end
  local dir = ha < 0 and 2 or 0.5
  local b, hb
  for _ = 1, 20 do
    b = a * dir
    hb = h(b)
    if hb == 0 then return b, last[b] end
    if (hb > 0) ~= (ha > 0) then break end
    a, ha, b, hb = b, hb, nil, nil
  end
  if not b then return nil end
  -- q* dying away (0) at one end and growing without bound (huge) at the other: chi1 is
  -- sigma_w2 times a constant in each of the two regimes (E f'^2 taken at the limit q), so
  -- it reaches 1 inside [a, b] only where one regime's line crosses 1 while that regime
  -- still holds there. Two evaluations tell, where narrowing a jump to 1e-4 took ~20 (an
  -- unbounded q* is the costly case: its iteration runs up to 1e30).
  local qa, qb = last[a], last[b]
  if (qa == 0 and qb == huge) or (qa == huge and qb == 0) then
    local lo, hi = min(a, b), max(a, b)
    local crossing = false
    for _, s in ipairs{a, b} do
      local c1 = (s == a and ha or hb) + 1
      local x1 = c1 > 0 and s / c1 or nil
      if x1 and x1 > lo and x1 < hi then
        local hx = h(x1)
        if hx == 0 then return x1, last[x1] end
        if last[x1] == last[s] then
          crossing = true
          break
        end
      end
    end
    if not crossing then return nil end
  end
  -- chi1 jumps across 1 where q* jumps (the iteration from q = 1 going to 0 on one side,
  -- to infinity on the other, as for gelu at sigma_b2 = 0): no critical point. A narrow
  -- bracket with chi1 - 1 still large at both ends tells.
  local x
  x, a, ha, b, hb = illinois(h, a, ha, b, hb, 1e-4)
  if min(abs(ha), abs(hb)) > 0.02 then return nil end
  if ha ~= 0 and hb ~= 0 then x = illinois(h, a, ha, b, hb, xtol or (mf.float and 1e-8 or 1e-11)) end
  if last[x] == nil then h(x) end
  return x, last[x]
end

-- For lab.phase_diagram (not public): chi1 and q* at every (sws[i], sbs[j]) without the
-- correlation map (chi1 alone decides the phase), and the critical sigma_w2 at each sbs[j]
-- (nil where there is none). level: the error level of the public caller.
function act._phase_grid(level, fname, name, params, sws, sbs)
  if not is_known(name) then fail(level + 1, fname, "unknown activation '%s' (see act.list())", name) end
  local mf = mean_field(level + 1, fname, name, params)
  local chi, q, crit = {}, {}, {}
  for j, sb in ipairs(sbs) do
    chi[j], q[j] = {}, {}
    for i, sw in ipairs(sws) do
      local r = propagate(mf, sw, sb, false)
      chi[j][i], q[j][i] = r.chi1, r.q_star
    end
    crit[j] = (edge(mf, sb, 1e-9))
  end
  return chi, q, crit
end

-- act.edge_of_chaos(name [, {sigma_b2=0, params=}]) -> sigma_w2, q_star
function act.edge_of_chaos(name, opts)
  local fname = "actrun.act.edge_of_chaos"
  if type(name) ~= "string" then argerror(2, fname, 1, "name", "an activation name", name) end
  if not is_known(name) then fail(2, fname, "unknown activation '%s' (see act.list())", name) end
  opts = util.check_opts(fname, opts, 2, EDGE_OPTS, 3)
  local sb = sigma_opt(2, fname, opts, "sigma_b2", 2, false)
  local mf = mean_field(2, fname, name, opts.params)
  local sw, q = edge(mf, sb)
  if sw == nil then return nil end
  return sw, q
end

---------------------------------------------------------------------------------------
-- The property table

-- A number in at most ~7 characters: 0.25, -1.758, 1e-05, inf.
local function num(v)
  if v == nil then return "-" end
  if v == huge then return "inf" end
  if v == -huge then return "-inf" end
  if v ~= v then return "nan" end
  if v == 0 or (v > -1e-12 and v < 1e-12) then return "0" end
  local s = string.format("%.4g", v)
  s = s:gsub("e([-+])0*(%d)", "e%1%2"):gsub("e%+", "e")
  return s
end

local function yn(b) return b and "yes" or "no" end

local SAT = {zero = "zero", vanishing = "vanish", no = "no"}
local DIFF = {everywhere = "yes", ["almost everywhere"] = "a.e.", no = "no"}

local function list_str(xs)
  if #xs == 0 then return "-" end
  if #xs > 3 then return #xs .. " points" end
  local parts = {}
  for i, x in ipairs(xs) do parts[i] = num(x) end
  return table.concat(parts, ",")
end

local COLUMNS = {
  {"name", "l", function(r) return r.name end},
  {"nonlin", "l", function(r) return yn(r.nonlinear) end},
  {"diff", "l", function(r) return DIFF[r.differentiable] end},
  {"kinks", "l", function(r)
    local s = list_str(r.kinks)
    if #r.jumps > 0 then s = (s == "-" and "" or s .. " ") .. "jump " .. list_str(r.jumps) end
    return s
  end},
  {"mono", "l", function(r) return yn(r.monotonic) end},
  {"range", "l", function(r) return "[" .. num(r.range[1]) .. ", " .. num(r.range[2]) .. "]" end},
  {"0-ctr", "l", function(r) return yn(r.zero_centered) end},
  {"f(0)", "r", function(r) return num(r.f0) end},
  {"f'(0)", "r", function(r) return num(r.df0) end},
  {"~id", "l", function(r) return yn(r.near_identity) end},
  {"max f'", "r", function(r) return num(r.max_derivative) end},
  {"smooth", "l", function(r) return r.smoothness end},
  {"max f''", "r", function(r) return num(r.max_curvature) end},
  {"saturates L/R", "l", function(r) return SAT[r.saturates.left] .. "/" .. SAT[r.saturates.right] end},
  {"par", "r", function(r) return tostring(r.params) end},
  {"fwd ns", "r", function(r) return r.cost_ns and num(r.cost_ns.forward) or "-" end},
  {"bwd ns", "r", function(r) return r.cost_ns and num(r.cost_ns.backward) or "-" end},
  {"eoc sw2", "r", function(r) return r.edge_of_chaos and num(r.edge_of_chaos.sigma_w2) or "-" end},
  {"self-norm", "l", function(r)
    local fp = r.fixed_point
    local s = yn(r.self_normalizing)
    if fp then s = s .. " (" .. num(fp.mean) .. ", " .. num(fp.var) .. ")" end
    return s
  end},
}

-- The rows as aligned text: a header, a rule, one line per row.
local function format_table(rows)
  local cells, width = {}, {}
  for j, col in ipairs(COLUMNS) do width[j] = #col[1] end
  for i, r in ipairs(rows) do
    cells[i] = {}
    for j, col in ipairs(COLUMNS) do
      local s = col[3](r)
      cells[i][j] = s
      width[j] = max(width[j], #s)
    end
  end
  local function line(vals)
    local parts = {}
    for j, col in ipairs(COLUMNS) do
      local pad = string.rep(" ", width[j] - #vals[j])
      parts[j] = col[2] == "r" and pad .. vals[j] or vals[j] .. pad
    end
    return (table.concat(parts, "  "):gsub("%s+$", ""))
  end
  local header, rule = {}, {}
  for j, col in ipairs(COLUMNS) do
    header[j] = col[1]
    rule[j] = string.rep("-", width[j])
  end
  local out = {line(header), line(rule)}
  for i = 1, #rows do out[#out + 1] = line(cells[i]) end
  return table.concat(out, "\n") .. "\n"
end

-- act.table([names [, {cost=true, quick=false, print=true, out=io.stdout}]]) -> rows
function act.table(names, opts)
  local fname = "actrun.act.table"
  local list = names_arg(2, fname, names, 1)
  opts = util.check_opts(fname, opts, 2, TABLE_OPTS, 3)
  local rows = {}
  for i, name in ipairs(list) do
    rows[i] = act.properties(name, nil, {cost = opts.cost, quick = opts.quick})
  end
  if opts.print ~= false then
    local out = opts.out or io.stdout
    out:write(format_table(rows))
    util.displayed(rows) -- the printed table shows them: the REPL does not echo them
  end
  return rows
end

for name, nret in pairs{define = 1, apply = 1, list = 1, info = 1, scalar = 3, derivative = 1,
                        backward = 1, properties = 1, table = 1, propagation = 1,
                        edge_of_chaos = 2} do
  act[name] = guard(act[name], nret)
end

-- act.apply("relu", x) without parameters: the built-in's C function directly (a third
-- of the cost of a call on 1000 elements went to the guard, the Lua body and the name
-- lookup in C). Any error, e.g. x not a tensor, takes the full path again, which raises
-- it with act.apply's own message; the C functions change nothing before they fail.
do
  local builtin = {}
  for _, name in ipairs(C.builtins()) do builtin[name] = C[name] end
  local full_apply = act.apply
  act.apply = function(name, x, params)
    local f = params == nil and builtin[name]
    if f and not defined[name] then
      local ok, y = pcall(f, x)
      if ok then return y end
    end
    return full_apply(name, x, params)
  end
end

return act
