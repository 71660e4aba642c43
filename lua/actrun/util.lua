-- actrun.util: argument checks and message pieces shared by the library's modules (not
-- part of the public API), so that every function words a bad options table, a wrong
-- value and a shape the same way:
--   "actrun.nn.Linear: argument #3 (options) has unknown option 'biass' (options: bias, init)"
local actrun = require "actrun"

local M = {}

local is_tensor = actrun.is_tensor
local fmt = string.format

-- A tensor's shape as "{2,3}".
function M.shape_str(t)
  return "{" .. table.concat(t:shape(), ",") .. "}"
end

-- The kind of v for "expected X, got <kind>": type() alone would call a tensor userdata.
function M.typename(v)
  if is_tensor(v) then return "a tensor" end
  return type(v)
end

-- v for "got <v>": a number itself (the value is what was wrong: "got -1", "got nan"),
-- anything else its kind.
function M.got(v)
  if math.type(v) == "integer" then return tostring(v) end
  if type(v) == "number" then
    if v ~= v then return "nan" end
    return fmt("%.14g", v)
  end
  return M.typename(v)
end

-- The Lua side of the binding's argument-count check: a call that passed n arguments to
-- a function taking at most max raises "fname: expected at most max arguments, got n"
-- instead of ignoring the rest. level as for check_opts.
function M.check_nargs(fname, n, max, level)
  if n <= max then return end
  if max == 0 then error(fmt("%s: expected no arguments, got %d", fname, n), level) end
  error(fmt("%s: expected at most %d argument%s, got %d", fname, max, max == 1 and "" or "s", n),
    level)
end

-- The most arguments a Lua function takes after self, from its parameter list (nil when
-- it takes `...`, or when a host state has no debug library to read it with). Cached by
-- function: module calls ask on every call.
local arity = setmetatable({}, {__mode = "k"})
local getinfo = debug and debug.getinfo
function M.max_args_after_self(f)
  local n = arity[f]
  if n == nil then
    local info = getinfo and type(f) == "function" and getinfo(f, "u")
    n = info and not info.isvararg and math.max(info.nparams - 1, 0)
    arity[f] = n
  end
  return n or nil
end

-- opts: nil (read as {}) or a table of known keys only, so that a misspelt option is an
-- error instead of being silently ignored. known is a set {key = true}; keys starting
-- with "_" are test hooks and stay out of the list the message gives. level is the error
-- level of the public function's caller seen from here (3 when the public function calls
-- check_opts directly), so that the message carries the user's file:line. argname is
-- the argument's name when it is not "options" (lab.compare's spec). Returns opts or {}.
function M.check_opts(fname, opts, argn, known, level, argname)
  if opts == nil then return {} end
  argname = argname or "options"
  if type(opts) ~= "table" then
    error(fmt("%s: argument #%d (%s) expected a table, got %s", fname, argn, argname,
      M.typename(opts)), level)
  end
  for k in pairs(opts) do
    if not known[k] then
      local names = {}
      for n in pairs(known) do
        if type(n) ~= "string" or n:sub(1, 1) ~= "_" then names[#names + 1] = tostring(n) end
      end
      table.sort(names)
      error(fmt("%s: argument #%d (%s) has unknown option '%s' (options: %s)", fname, argn,
        argname, tostring(k), table.concat(names, ", ")), level)
    end
  end
  return opts
end

-- Writes text (a string, or a list of strings written one after the other) to path with
-- actrun's one writer (src/io/writer.c): atomically, so a crash never leaves half a file
-- under the final name, and only over a regular file (or through a symbolic link to one)
-- that may be written; errors start with fname.
function M.write_atomic(fname, path, text)
  local ok, err = actrun._write_file(path, text)
  if not ok then error(fname .. ": " .. err, 0) end
  return path
end

-- Values already displayed: a function that draws text on the terminal and also returns
-- it (or returns tables it drew, as plot.hist's counts) notes them here after drawing,
-- so that an interactive shell need not show them again (the REPL clears the note before
-- each line and skips the results it names; see actrun.repl). At most the last 16
-- values are kept, by reference: nothing grows outside a REPL.
local displayed = {}

function M.displayed(...)
  for i = 1, select("#", ...) do
    local v = select(i, ...)
    if v ~= nil then
      if #displayed >= 16 then table.remove(displayed, 1) end
      displayed[#displayed + 1] = v
    end
  end
  return ...
end

function M.displayed_list() return displayed end

function M.displayed_clear()
  for i = #displayed, 1, -1 do displayed[i] = nil end
end

return M
