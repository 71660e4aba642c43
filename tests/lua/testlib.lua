-- testlib: the few helpers every tests/lua/test_*.lua file uses.
--
--   package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
--   local T = require "testlib"
--   T.test("zeros has the requested shape", function()
--     T.eq(T.actrun.zeros(2, 3):shape(), {2, 3})
--   end)
--   T.done()
--
-- Protocol with run.lua: one line per case ("ok - NAME" or "not ok - NAME" followed by
-- indented details; "skip - NAME (why)" for a skipped case), then, as the very last
-- line, "RESULT <passed> <failed> <skipped>". A file
-- that ends without that line (crash, signal, error outside a test) is a failure.

local T = {}

T.actrun = rawget(_G, "actrun") or require "actrun"

io.stdout:setvbuf("line") -- keep the output of a child that crashes

local passed, failed, skipped = 0, 0, 0
local SKIP = {} -- raised by T.skip
local verbose = os.getenv("TESTLIB_VERBOSE") -- print the messages expect_error sees

local function fmt(v)
  if type(v) == "table" then
    local parts = {}
    for i = 1, #v do parts[i] = fmt(v[i]) end
    for k, x in pairs(v) do
      if math.type(k) ~= "integer" or k < 1 or k > #v then
        parts[#parts + 1] = tostring(k) .. "=" .. fmt(x)
      end
    end
    return "{" .. table.concat(parts, ",") .. "}"
  elseif type(v) == "string" then
    return string.format("%q", v)
  elseif math.type(v) == "float" then
    return string.format("%.9g", v)
  end
  return tostring(v)
end
T.fmt = fmt

-- Failure messages print values through short(): a whole tensor's table made a
-- 560,000-character message once.
local SHORT_MAX = 300

-- fmt(v), cut after about max characters (default SHORT_MAX) with the cut marked; a huge
-- table is not formatted whole first.
local function short(v, max)
  max = max or SHORT_MAX
  local buf, len, cut = {}, 0, false
  local function put(s)
    if cut then return end
    if len + #s > max then
      buf[#buf + 1] = s:sub(1, max - len)
      cut = true
    else
      buf[#buf + 1] = s
    end
    len = len + #s
  end
  local function walk(x, depth)
    if cut then return end
    if type(x) ~= "table" then
      put(fmt(x))
      return
    end
    if depth > 20 then put("{...}") return end
    put("{")
    local first = true
    local function sep()
      if not first then put(",") end
      first = false
    end
    for i = 1, #x do
      if cut then return end
      sep()
      walk(x[i], depth + 1)
    end
    for k, y in pairs(x) do
      if cut then return end
      if math.type(k) ~= "integer" or k < 1 or k > #x then
        sep()
        put(tostring(k) .. "=")
        walk(y, depth + 1)
      end
    end
    put("}")
  end
  walk(v, 0)
  local s = table.concat(buf)
  if cut then s = s .. "...(cut)" end
  return s
end
T.short = short

-- Shape of a nested array of arrays (the lengths along the first elements), or nil for
-- anything else.
local function nested_shape(v)
  if type(v) ~= "table" then return nil end
  for k in pairs(v) do
    if math.type(k) ~= "integer" or k < 1 or k > #v then return nil end
  end
  local shape, probe = {}, v
  while type(probe) == "table" do
    shape[#shape + 1] = #probe
    probe = probe[1]
  end
  return shape
end

-- Keys of a table in a fixed order: 1..#t, then the others sorted by their text.
local function ordered_keys(a, b)
  local keys, seen = {}, {}
  local n = math.max(#a, #b)
  for i = 1, n do keys[i] = i; seen[i] = true end
  local rest = {}
  for _, t in ipairs{a, b} do
    for k in pairs(t) do
      if not seen[k] then seen[k] = true; rest[#rest + 1] = k end
    end
  end
  table.sort(rest, function(x, y)
    local tx, ty = type(x), type(y)
    if tx ~= ty then return tx < ty end
    if tx == "number" or tx == "string" then return x < y end
    return tostring(x) < tostring(y)
  end)
  for _, k in ipairs(rest) do keys[#keys + 1] = k end
  return keys
end

local function key_path(k)
  if math.type(k) == "integer" then return "[" .. k .. "]" end
  if type(k) == "string" and k:match("^[%a_][%w_]*$") then return "." .. k end
  return "[" .. short(k, 40) .. "]"
end

local function value_text(v)
  if math.type(v) == "float" then return string.format("%.9g", v) end
  if v == nil then return "nothing" end
  return short(v, 120)
end

-- Compares actual with expected leaf by leaf (same_leaf(a, e) decides for non-tables);
-- returns nil when they match, else a short description: shapes, the count of leaves
-- that differ, and the first of them with its 1-based path ([3][17][5]).
local function diff_text(actual, expected, same_leaf, tol_text)
  local count, first = 0, nil
  local function walk(a, e, path)
    if type(a) == "table" and type(e) == "table" then
      for _, k in ipairs(ordered_keys(a, e)) do walk(a[k], e[k], path .. key_path(k)) end
    elseif not same_leaf(a, e) then
      count = count + 1
      if not first then first = {path, a, e} end
    end
  end
  walk(actual, expected, "")
  if count == 0 then return nil end
  local lines = {}
  local sa, se = nested_shape(actual), nested_shape(expected)
  if sa and se then
    if not T.deep_eq(sa, se) then
      lines[#lines + 1] = string.format("shape %s expected, got %s", short(se, 80), short(sa, 80))
    else
      lines[#lines + 1] = "shape " .. short(sa, 80)
    end
  end
  local where = first[1] == "" and "" or (" at " .. first[1])
  lines[#lines + 1] = string.format("%d element%s differ%s; first%s: expected %s%s, got %s",
    count, count == 1 and "" or "s", count == 1 and "s" or "", where, value_text(first[3]),
    tol_text or "", value_text(first[2]))
  return table.concat(lines, "; ")
end

-- Runs fn as one test case; a Lua error (or failed check) inside it fails the case.
function T.test(name, fn)
  local skip_reason
  local ok, err = xpcall(fn, function(e)
    if type(e) == "table" and e[1] == SKIP then skip_reason = e[2] return e end
    return debug.traceback(tostring(e), 2)
  end)
  if skip_reason then
    skipped = skipped + 1
    print("skip - " .. name .. " (" .. skip_reason .. ")")
  elseif ok then
    passed = passed + 1
    print("ok - " .. name)
  else
    failed = failed + 1
    print("not ok - " .. name)
    print("    " .. tostring(err):gsub("\n", "\n    "))
  end
end

-- Ends the current case as skipped (for a feature the build does not have yet).
function T.skip(reason)
  error({SKIP, reason}, 0)
end

-- Prints the summary line and exits (non-zero when a case failed).
function T.done()
  io.stdout:flush()
  print(string.format("RESULT %d %d %d", passed, failed, skipped))
  os.exit(failed == 0 and 0 or 1)
end

function T.fail(msg, level)
  error(msg, (level or 1) + 1)
end

-- Deep equality for numbers, strings, booleans and (nested) tables.
local function deep_eq(a, b)
  if type(a) ~= type(b) then return false end
  if type(a) ~= "table" then
    if a ~= a and b ~= b then return true end -- NaN equals NaN here
    return a == b
  end
  for k, v in pairs(a) do
    if not deep_eq(v, b[k]) then return false end
  end
  for k in pairs(b) do
    if a[k] == nil then return false end
  end
  return true
end
T.deep_eq = deep_eq

local function leaf_eq(a, e) return deep_eq(a, e) end

-- Fails with a short diff (diff_text) for tables, both values (cut short) otherwise.
function T.eq(actual, expected, what)
  if not deep_eq(actual, expected) then
    what = what and (what .. ": ") or ""
    if type(actual) == "table" and type(expected) == "table" then
      local d = diff_text(actual, expected, leaf_eq)
      error(what .. (d or ("expected " .. short(expected) .. ", got " .. short(actual))), 2)
    end
    error(string.format("%sexpected %s, got %s", what, short(expected), short(actual)), 2)
  end
end

function T.truthy(v, what)
  if not v then error((what or "expected a true value") .. ", got " .. short(v), 2) end
  return v
end

-- |a - b| <= tol * (1 + |b|): absolute near 0, relative for big numbers. NaN matches
-- NaN and infinities match themselves.
local function close(a, b, tol)
  if type(a) ~= "number" or type(b) ~= "number" then return false end
  if a ~= a or b ~= b then return a ~= a and b ~= b end
  if a == b then return true end
  if a == math.huge or a == -math.huge or b == math.huge or b == -math.huge then
    return false
  end
  return math.abs(a - b) <= tol * (1 + math.abs(b))
end
T.close = close

function T.near(actual, expected, tol, what)
  tol = tol or 1e-6
  if not close(actual, expected, tol) then
    what = what and (what .. ": ") or ""
    if type(actual) == "table" and type(expected) == "table" then
      local tt = string.format(" (tol %g)", tol)
      local d = diff_text(actual, expected, function(a, e) return close(a, e, tol) end, tt)
      error(what .. (d or ("expected a number, got " .. short(actual))), 2)
    end
    error(string.format("%sexpected %s (tol %g), got %s", what, value_text(expected), tol,
      value_text(actual)), 2)
  end
end

-- Shape and row-major values of a nested Lua table of numbers.
local function table_shape_and_values(tbl)
  local shape, values = {}, {}
  local probe = tbl
  while type(probe) == "table" do
    shape[#shape + 1] = #probe
    probe = probe[1]
  end
  local function walk(x)
    if type(x) == "table" then
      for i = 1, #x do walk(x[i]) end
    else
      values[#values + 1] = x
    end
  end
  walk(tbl)
  return shape, values
end
T.table_shape_and_values = table_shape_and_values

-- Shape and row-major values of a tensor (read through get(), independently of
-- totable()).
function T.tensor_values(t)
  local shape = t:shape()
  local n, values = 1, {}
  for _, s in ipairs(shape) do n = n * s end
  local idx = {}
  for i = 1, #shape do idx[i] = 1 end
  for k = 1, n do
    values[k] = t:get(table.unpack(idx))
    for d = #shape, 1, -1 do -- odometer increment, last dim fastest
      idx[d] = idx[d] + 1
      if idx[d] <= shape[d] then break end
      idx[d] = 1
    end
  end
  return shape, values
end

-- Checks a tensor against a nested table (shape taken from the nesting) or a tensor,
-- elementwise with T.close(tol). A number as expected means a 1-element tensor.
function T.tensor_near(t, expected, tol, what)
  tol = tol or 1e-6
  what = what and (what .. ": ") or ""
  if not T.actrun.is_tensor(t) then
    error(what .. "expected a tensor, got " .. short(t), 2)
  end
  local eshape, evalues
  if T.actrun.is_tensor(expected) then
    eshape, evalues = T.tensor_values(expected)
  elseif type(expected) == "number" then
    eshape, evalues = {1}, {expected}
  else
    eshape, evalues = table_shape_and_values(expected)
  end
  local shape, values = T.tensor_values(t)
  if not deep_eq(shape, eshape) then
    error(string.format("%sexpected shape %s, got %s", what, short(eshape, 80),
      short(shape, 80)), 2)
  end
  local count, first = 0, nil
  for i = 1, #evalues do
    if not close(values[i], evalues[i], tol) then
      count = count + 1
      first = first or i
    end
  end
  if count > 0 then
    error(string.format("%sshape %s; %d element%s differ%s; first at %s: expected %s (tol %g), got %s",
      what, short(shape, 80), count, count == 1 and "" or "s", count == 1 and "s" or "",
      T.index_path(first, shape), value_text(evalues[first]), tol, value_text(values[first])), 2)
  end
end

-- The 1-based row-major flat index i of shape as a path "[2][1][3]".
function T.index_path(i, shape)
  if #shape == 0 then return "[" .. i .. "]" end
  local parts, r = {}, i - 1
  for d = #shape, 1, -1 do
    local s = math.max(shape[d], 1)
    parts[d] = "[" .. (r % s + 1) .. "]"
    r = r // s
  end
  return table.concat(parts)
end

function T.shape_is(t, shape, what)
  T.eq(t:shape(), shape, what or "shape")
end

-- Calls fn, which must raise an error whose message contains every needle (plain
-- find). A needle that is a table is a list of alternatives (any of them will do).
-- Shapes in the message are compared with the spaces after commas inside braces
-- removed ("{2, 3}" counts as "{2,3}"); T.error_message_raw keeps it as raised.
-- Returns the message.
function T.expect_error(fn, ...)
  local ok, msg = pcall(fn)
  if ok then error("expected an error, but the call succeeded", 2) end
  if verbose then print("    message: " .. tostring(msg)) end
  if type(msg) ~= "string" then
    error("expected a string error message, got " .. short(msg), 2)
  end
  local norm = msg:gsub("%b{}", function(s) return (s:gsub(",%s+", ",")) end)
  for _, needle in ipairs({...}) do
    local alts = type(needle) == "table" and needle or {needle}
    local found = false
    for _, alt in ipairs(alts) do
      if norm:find(alt, 1, true) then found = true break end
    end
    if not found then
      error(string.format("error message %s does not mention %s", short(msg),
        type(needle) == "table" and ("any of " .. short(needle)) or short(needle)), 2)
    end
  end
  return msg
end

-- Whether this build has the requires_grad field yet (it comes with autograd).
-- The program running this test file (lua.c puts it at arg's lowest index), or nil.
function T.interpreter()
  local i = 0
  while arg and arg[i - 1] ~= nil do i = i - 1 end
  return arg and arg[i]
end

-- s as one word for /bin/sh.
-- A whole file's bytes, and writing bytes to a file (fixtures and damaged copies).
function T.read_file(p)
  local f = assert(io.open(p, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

function T.write_file(p, s)
  local f = assert(io.open(p, "wb"))
  f:write(s)
  f:close()
end

function T.shell_quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

-- Runs code in a stock lua5.4 whose package.cpath finds the C module built next to the
-- interpreter (lua/actrun.so); skips the case when there is no module, no lua5.4, or the
-- build is sanitized. Returns whether lua5.4 succeeded and its output (stdout + stderr).
function T.stock_lua(code)
  if os.getenv("ACTRUN_SANITIZED") then
    T.skip("a sanitizer-built module cannot be loaded into an uninstrumented lua5.4")
  end
  local exe = T.interpreter()
  local dir = exe and exe:match("^(.*)/[^/]*$")
  local f = dir and io.open(dir .. "/lua/actrun.so", "rb")
  if not f then T.skip("no lua/actrun.so next to " .. tostring(exe)) end
  f:close()
  local probe = io.popen("command -v lua5.4 2>/dev/null")
  local lua = probe:read("l")
  probe:close()
  if not lua or lua == "" then T.skip("no lua5.4 interpreter installed") end
  local full = "package.cpath = " .. string.format("%q", dir .. "/lua/?.so;") .. " .. package.cpath; " .. code
  local p = io.popen(T.shell_quote(lua) .. " -e " .. T.shell_quote(full) .. " 2>&1")
  local out = p:read("a")
  return p:close() == true, out
end

function T.has_requires_grad()
  local ok = pcall(T.actrun.tensor, {1}, {requires_grad = true})
  return ok and T.actrun.zeros(1).requires_grad ~= nil
end

-- Peak and current resident memory of this process, in MB (Linux /proc).
function T.memory_mb()
  local f = io.open("/proc/self/status", "r")
  if not f then return nil end
  local text = f:read("a")
  f:close()
  local hwm = tonumber(text:match("VmHWM:%s*(%d+)"))
  local rss = tonumber(text:match("VmRSS:%s*(%d+)"))
  return hwm and hwm / 1024, rss and rss / 1024
end

-- Two tests for a differentiable fn(inputs...): its gradient (lab.gradcheck of a fixed
-- random weighting of its output, so every output element's gradient counts) and its
-- gradient's gradient (lab.gradgradcheck). opts go to both checks.
function T.check_gradients(name, fn, inputs, opts)
  local lab = T.actrun.lab
  T.test("gradcheck " .. name, function()
    local w = T.actrun.rand(fn(table.unpack(inputs)):shape()) + 0.5
    local ok, err = lab.gradcheck(function(...) return (fn(...) * w):sum() end, inputs, opts)
    T.truthy(ok, string.format("%s: max error %.3g", name, err))
  end)
  T.test("gradgradcheck " .. name, function()
    local ok, err = lab.gradgradcheck(fn, inputs, opts)
    T.truthy(ok, string.format("%s: max error %.3g", name, err))
  end)
end

return T
