-- actrun.dist: many processes (MPI ranks) as one experiment. The collectives on tensors
-- and numbers are C (src/lua/l_dist.c, "actrun.dist_c"); this file adds the row
-- collectives (gather_rows, allgather_rows, broadcast_value) over a byte serialisation
-- of plain Lua values. Without mpirun, or in a build without MPI, every function works
-- as one rank: rank() is 0, size() is 1.
local C = require "actrun.dist_c"

local dist = {}
for k, v in pairs(C) do dist[k] = v end

local fmt = string.format
local spack, sunpack = string.pack, string.unpack

-- The encoding: one tag byte per value. n: float (a double), i: integer, s: string,
-- t / f: booleans, T: table (count of pairs, then key, value ...), z: nil (top level only).
local function encode(fname, v, out, path, seen)
  local ty = type(v)
  if ty == "number" then
    if math.type(v) == "integer" then
      out[#out + 1] = spack("<c1j", "i", v)
    else
      out[#out + 1] = spack("<c1n", "n", v)
    end
  elseif ty == "string" then
    out[#out + 1] = spack("<c1s4", "s", v)
  elseif ty == "boolean" then
    out[#out + 1] = v and "t" or "f"
  elseif ty == "table" and getmetatable(v) == nil then
    if seen[v] then
      error(fmt("%s: %s is a table that contains itself (a cycle cannot be sent)", fname,
        path), 0)
    end
    seen[v] = true
    local n = 0
    for _ in pairs(v) do n = n + 1 end
    out[#out + 1] = spack("<c1j", "T", n)
    -- the array part in order, then the other keys (any order: decoded into a table)
    local len = #v
    for i = 1, len do
      encode(fname, i, out, path, seen)
      encode(fname, v[i], out, fmt("%s[%d]", path, i), seen)
    end
    for k, x in pairs(v) do
      if not (math.type(k) == "integer" and k >= 1 and k <= len) then
        local kt = type(k)
        if kt ~= "number" and kt ~= "string" and kt ~= "boolean" then
          error(fmt("%s: %s has a %s key; only numbers, strings and booleans can be sent",
            fname, path, kt), 0)
        end
        encode(fname, k, out, path, seen)
        encode(fname, x, out, kt == "string" and (path .. "." .. k) or
          fmt("%s[%s]", path, tostring(k)), seen)
      end
    end
    seen[v] = nil
  elseif v == nil then
    out[#out + 1] = "z"
  else
    local what = ty == "table" and "a table with a metatable" or
      (ty == "userdata" and require("actrun").is_tensor(v) and "a tensor (send t:totable())") or
      ("a " .. ty)
    error(fmt("%s: %s is %s; only numbers, strings, booleans and tables of those can be sent",
      fname, path, what), 0)
  end
end

local function decode(s, pos)
  local tag = s:sub(pos, pos)
  if tag == "i" then return sunpack("<j", s, pos + 1) end
  if tag == "n" then return sunpack("<n", s, pos + 1) end
  if tag == "s" then return sunpack("<s4", s, pos + 1) end
  if tag == "t" then return true, pos + 1 end
  if tag == "f" then return false, pos + 1 end
  if tag == "z" then return nil, pos + 1 end
  if tag == "T" then
    local n
    n, pos = sunpack("<j", s, pos + 1)
    local t = {}
    for _ = 1, n do
      local k, v
      k, pos = decode(s, pos)
      v, pos = decode(s, pos)
      t[k] = v
    end
    return t, pos
  end
  error("actrun.dist: corrupt message (tag " .. string.format("%q", tag) .. ")", 0)
end

-- serialize(v) -> bytes; deserialize(bytes) -> v (plain values only, as gather_rows sends)
function dist.serialize(v, fname)
  local out = {}
  encode(fname or "actrun.dist.serialize", v, out, "argument #1", {})
  return table.concat(out)
end

function dist.deserialize(s)
  if type(s) ~= "string" then
    error("actrun.dist.deserialize: argument #1 expected a string, got " .. type(s), 2)
  end
  return (decode(s, 1))
end

local function check_rows(fname, rows)
  if type(rows) ~= "table" or getmetatable(rows) ~= nil then
    error(fmt("%s: argument #1 (rows) expected a list (a table), got %s", fname,
      type(rows) == "table" and "a table with a metatable" or type(rows)), 3)
  end
  local out = {}
  local ok, err = pcall(encode, fname, rows, out, "argument #1 (rows)", {})
  if not ok then error(err, 3) end
  return table.concat(out)
end

local function concat_lists(parts)
  local all = {}
  for _, bytes in ipairs(parts) do
    for _, row in ipairs(decode(bytes, 1)) do all[#all + 1] = row end
  end
  return all
end

-- gather_rows(rows [, root=0]) -> on root: every rank's rows concatenated in rank order;
-- on the other ranks: nil
function dist.gather_rows(rows, root)
  local bytes = check_rows("actrun.dist.gather_rows", rows)
  local parts = C.gather_bytes(bytes, root)
  if parts == nil then return nil end
  return concat_lists(parts)
end

-- allgather_rows(rows) -> every rank's rows concatenated in rank order, on every rank
function dist.allgather_rows(rows)
  local bytes = check_rows("actrun.dist.allgather_rows", rows)
  return concat_lists(C.allgather_bytes(bytes))
end

-- broadcast_value(v [, root=0]) -> root's v (a plain value) on every rank
function dist.broadcast_value(v, root)
  local bytes
  if C.rank() == (root or 0) then
    local out = {}
    local ok, err = pcall(encode, "actrun.dist.broadcast_value", v, out, "argument #1", {})
    if not ok then error(err, 2) end
    bytes = table.concat(out)
  else
    bytes = ""
  end
  return (decode(C.broadcast_bytes(bytes, root or 0), 1))
end

-- is_root() -> rank() == 0: the rank that prints and writes files
function dist.is_root()
  return C.rank() == 0
end

return dist
