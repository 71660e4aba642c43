-- actrun.repl: the Lua half of the actrun REPL (src/cli/repl.c reads the lines, edits
-- them and runs the chunks; this module decides what a chunk means and how its results
-- look).
--
--   repl.rewrite(src)      -> src with its top-level `local` declarations turned into
--                             assignments, so the names outlive the line (as in trepl)
--   repl.format(v [, o])   -> v as the REPL shows it: tables pretty-printed (nested,
--                             depth and length limits), strings as they are
--   repl.results(...)      -> the strings the REPL prints for a chunk's results,
--                             leaving out the values the call already displayed
--
-- Values already displayed: a function that draws text and also returns it (the
-- terminal plots) calls util.displayed(value, ...) after drawing. The REPL clears that
-- note before each line and does not echo the results it names (a string by equality,
-- a table by identity), so a plot is not drawn twice; assigned to a variable and shown
-- later, the value prints as usual.

local util = require "actrun.util"

local M = {}

---------------------------------------------------------------------------------------
-- Top-level locals

local KEYWORD_OPENS = {["function"] = true, ["if"] = true, ["do"] = true, ["repeat"] = true}
local KEYWORD_CLOSES = {["end"] = true, ["until"] = true}

-- The tokens of src that matter here: names (with their positions), skipping strings,
-- comments and numbers. An unfinished string or comment ends the scan (the chunk is
-- incomplete and will be read again with more lines).
local function names_of(src)
  local toks, i, n = {}, 1, #src
  while i <= n do
    local c = src:sub(i, i)
    if c:match("[%a_]") then
      local s, e = src:find("^[%w_]+", i)
      toks[#toks + 1] = {word = src:sub(s, e), s = s, e = e}
      i = e + 1
    elseif c:match("%d") then
      local _, e = src:find("^[%w_.]+", i) -- 0x1p4, 1e-3 (the sign is its own token)
      i = e + 1
    elseif c == "-" and src:sub(i + 1, i + 1) == "-" then
      local eq = src:match("^%[(=*)%[", i + 2)
      if eq then
        local _, e = src:find("]" .. eq .. "]", i + 4 + #eq, true)
        if not e then break end
        i = e + 1
      else
        local e = src:find("\n", i + 2, true)
        if not e then break end
        i = e + 1
      end
    elseif c == "[" and src:match("^%[=*%[", i) then
      local eq = src:match("^%[(=*)%[", i)
      local _, e = src:find("]" .. eq .. "]", i + 2 + #eq, true)
      if not e then break end
      i = e + 1
    elseif c == "'" or c == '"' then
      local j = i + 1
      while j <= n do
        local d = src:sub(j, j)
        if d == "\\" then
          j = j + 2
        elseif d == c or d == "\n" then
          break
        else
          j = j + 1
        end
      end
      if j > n then break end
      i = j + 1
    elseif c == "<" then
      toks[#toks + 1] = {word = "<", s = i, e = i}
      i = i + 1
    elseif c == "=" and src:sub(i + 1, i + 1) ~= "=" then
      toks[#toks + 1] = {word = "=", s = i, e = i}
      i = i + 1
    elseif c == "=" then
      i = i + 2
    else
      i = i + 1
    end
  end
  return toks
end

-- Rewrites the top-level `local` statements of src: `local a, b = f()` becomes
-- `a, b = f()`, `local x` becomes `x = nil`, `local function f` becomes `function f`,
-- and `local n <const> = 3` becomes `n = 3` (the constancy holds within a line only).
-- `local h <close> = ...` stays a local: it is closed when its line ends, as in lua.
-- Locals inside functions and blocks are left alone.
function M.rewrite(src)
  if not src:find("local", 1, true) then return src end
  local toks = names_of(src)
  local depth, edits = 0, {}
  local k = 1
  while k <= #toks do
    local t = toks[k]
    local w = t.word
    if KEYWORD_OPENS[w] then
      depth = depth + 1
    elseif KEYWORD_CLOSES[w] then
      depth = math.max(0, depth - 1)
    elseif w == "local" and depth == 0 then
      local nxt = toks[k + 1]
      if nxt and nxt.word == "function" then
        edits[#edits + 1] = {t.s, nxt.s - 1, ""}
      elseif nxt then
        -- the name list up to '=' or the statement's end, with its attributes
        local j, attribs, close, last = k + 1, {}, false, nil
        while toks[j] do
          local u = toks[j]
          if u.word == "<" then
            local a = toks[j + 1]
            if a then
              local gt = src:find(">", a.e + 1, true)
              attribs[#attribs + 1] = {last and last + 1 or u.s, gt or a.e}
              if a.word == "close" then close = true end
              last = gt or a.e
              j = j + 2
            else
              break
            end
          elseif u.word:match("^[%a_][%w_]*$") and not KEYWORD_OPENS[u.word] and
              not KEYWORD_CLOSES[u.word] and u.word ~= "local" and
              (j == k + 1 or src:sub(last + 1, u.s - 1):match("^%s*,%s*$")) then
            last = u.e
            j = j + 1
          else
            break
          end
        end
        if not close and last then
          local eq = toks[j] and toks[j].word == "=" and src:sub(last + 1, toks[j].s - 1):match("^%s*$")
          edits[#edits + 1] = {t.s, nxt.s - 1, ""}
          for _, a in ipairs(attribs) do edits[#edits + 1] = {a[1], a[2], ""} end
          if not eq then edits[#edits + 1] = {last + 1, last, " = nil"} end
        end
        k = j - 1
      end
    end
    k = k + 1
  end
  if #edits == 0 then return src end
  table.sort(edits, function(a, b) return a[1] > b[1] end)
  for _, e in ipairs(edits) do src = src:sub(1, e[1] - 1) .. e[3] .. src:sub(e[2] + 1) end
  return src
end

---------------------------------------------------------------------------------------
-- Printing values

local DEFAULTS = {depth = 4, items = 50, total = 400, width = 80}

local function is_ident(s)
  return type(s) == "string" and s:match("^[%a_][%w_]*$") ~= nil and
    not ({["and"] = 1, ["break"] = 1, ["do"] = 1, ["else"] = 1, ["elseif"] = 1, ["end"] = 1,
      ["false"] = 1, ["for"] = 1, ["function"] = 1, ["goto"] = 1, ["if"] = 1, ["in"] = 1,
      ["local"] = 1, ["nil"] = 1, ["not"] = 1, ["or"] = 1, ["repeat"] = 1, ["return"] = 1,
      ["then"] = 1, ["true"] = 1, ["until"] = 1, ["while"] = 1})[s]
end

local function quote(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    local named = {["\n"] = "\\n", ["\t"] = "\\t", ["\r"] = "\\r", ['"'] = '\\"', ["\\"] = "\\\\"}
    return named[c] or ("\\%03d"):format(c:byte())
  end) .. '"'
end

-- tostring for a leaf inside a table: a value that prints itself on several lines (a
-- tensor) is named by its first line instead.
local function leaf(v)
  local ok, s = pcall(tostring, v)
  if not ok or type(s) ~= "string" then return "<" .. type(v) .. ">" end
  if s:find("\n", 1, true) then
    local is_tensor = util.typename(v) == "a tensor"
    if is_tensor then return ("<tensor {%s}>"):format(table.concat(v:shape(), ", ")) end
    return "<" .. (s:match("^[^\n]*")) .. " ...>"
  end
  return s
end

local function key_order(a, b)
  local ta, tb = type(a), type(b)
  if ta ~= tb then
    if ta == "number" then return true end
    if tb == "number" then return false end
    return ta < tb
  end
  if ta == "number" or ta == "string" then return a < b end
  return tostring(a) < tostring(b)
end

local function has_tostring(v)
  local mt = getmetatable(v)
  return type(mt) == "table" and mt.__tostring ~= nil
end

-- The entries of t as {key text or nil, value}: the sequence 1..n first, then the other
-- keys sorted; at most `items` of them, and how many were left out.
local function entries(t, items)
  local list, n = {}, 0
  while rawget(t, n + 1) ~= nil do n = n + 1 end
  for i = 1, math.min(n, items) do list[#list + 1] = {nil, rawget(t, i)} end
  local keys = {}
  for key in next, t do
    if not (math.type(key) == "integer" and key >= 1 and key <= n) then keys[#keys + 1] = key end
  end
  table.sort(keys, key_order)
  local room = items - #list
  for i = 1, math.min(#keys, math.max(room, 0)) do list[#list + 1] = {keys[i], rawget(t, keys[i])} end
  return list, n + #keys - #list
end

local function fmt_value(v, o, level, seen, indent)
  if type(v) == "string" then return quote(v) end
  if type(v) ~= "table" or has_tostring(v) then return leaf(v) end
  if seen[v] then return "<cycle>" end
  if level >= o.depth or o.left <= 0 then return next(v) == nil and "{}" or "{...}" end
  seen[v] = true
  local list, more = entries(v, math.min(o.items, o.left))
  o.left = o.left - #list
  local parts = {}
  for i, e in ipairs(list) do
    local key = e[1]
    local vs = fmt_value(e[2], o, level + 1, seen, indent .. "  ")
    if key == nil then
      parts[i] = vs
    elseif is_ident(key) then
      parts[i] = key .. " = " .. vs
    else
      parts[i] = "[" .. (type(key) == "string" and quote(key) or leaf(key)) .. "] = " .. vs
    end
  end
  if more > 0 then parts[#parts + 1] = ("... (%d more)"):format(more) end
  seen[v] = nil
  if #parts == 0 then return "{}" end
  local one = "{" .. table.concat(parts, ", ") .. "}"
  if #indent + #one <= o.width and not one:find("\n", 1, true) then return one end
  local inner = indent .. "  "
  return "{\n" .. inner .. table.concat(parts, ",\n" .. inner) .. "\n" .. indent .. "}"
end

-- v as the REPL shows it. o: {depth=4, items=50, total=400, width=80} (levels of nesting
-- shown, entries per table, entries in all, the line length a table is kept on one line
-- within).
function M.format(v, o)
  o = o or {}
  local opts = {}
  for k, d in pairs(DEFAULTS) do opts[k] = o[k] or d end
  opts.left = opts.total
  if type(v) == "string" then return v end
  return fmt_value(v, opts, 0, {}, "")
end

---------------------------------------------------------------------------------------
-- A chunk's results

-- Called by the REPL before each line: forgets what was displayed before it.
function M.begin() util.displayed_clear() end

-- The texts to print for the results ..., without those displayed already; nothing at
-- all when every result was.
function M.results(...)
  local n = select("#", ...)
  local out = {}
  local shown = util.displayed_list()
  for i = 1, n do
    local v = select(i, ...)
    local skip = false
    if v ~= nil then
      for _, s in ipairs(shown) do
        if rawequal(s, v) then
          skip = true
          break
        end
      end
    end
    if not skip then out[#out + 1] = M.format(v) end
  end
  return out
end

return M
