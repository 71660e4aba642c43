-- actrun.nn_io: model files in the safetensors format, behind nn.save and nn.load.
--
--   nn.save(path, module_or_table [, {metadata = {key = "value"}}])
--   nn.load(path)                     -> tensors (name -> tensor), metadata
--   nn.load(path, module [, {strict = true}]) -> module, {missing = {...}, unexpected = {...}}
--
-- A module is anything with named_parameters() (and optionally named_buffers()) giving
-- name -> tensor; a plain table name -> tensor works the same way. The file I/O, the
-- header's parsing and every check on untrusted bytes are in C (actrun._safetensors,
-- src/io/safetensors.c); this file collects names, compares shapes and copies.
local actrun = require "actrun"
local util = require "actrun.util"

local io_c = actrun._safetensors
local M = {}

local shape_str = util.shape_str

local function same_shape(a, b)
  local sa, sb = a:shape(), b:shape()
  if #sa ~= #sb then return false end
  for i = 1, #sa do
    if sa[i] ~= sb[i] then return false end
  end
  return true
end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  return keys
end

local function quoted(list)
  local q = {}
  for i, s in ipairs(list) do q[i] = "'" .. s .. "'" end
  return table.concat(q, ", ")
end

-- name -> tensor of a module or a plain table, or nil, message.
local function collect(obj, argn)
  if type(obj) ~= "table" then
    return nil, string.format("argument #%d (module) expected a module or a table of tensors, got %s",
      argn, type(obj))
  end
  local named = {}
  -- what: nil for a plain table, else the method the names came from
  local function add(source, what)
    if type(source) ~= "table" then
      return string.format("%s() returned %s, expected a table name -> tensor", what, type(source))
    end
    local from = what and (" (from " .. what .. "())") or ""
    for k, v in pairs(source) do
      if type(k) ~= "string" then
        return string.format("a key of type %s%s: tensor names must be strings", type(k), from)
      end
      if k:find("\0", 1, true) then
        return string.format("tensor name %q contains a NUL byte%s", k, from)
      end
      if not actrun.is_tensor(v) then
        return string.format("'%s' is not a tensor (got %s)%s", k, type(v), from)
      end
      if named[k] then return string.format("the name '%s' appears twice", k) end
      named[k] = v
    end
  end
  local np = obj.named_parameters
  local e
  if type(np) == "function" then
    e = add(np(obj), "named_parameters")
    local nb = obj.named_buffers
    if not e and type(nb) == "function" then e = add(nb(obj), "named_buffers") end
  else
    e = add(obj, nil)
  end
  if e then return nil, e end
  return named
end

local check_opts = util.check_opts

function M.save(path, obj, opts)
  local fname = "actrun.nn.save"
  if type(path) ~= "string" then
    error(string.format("%s: argument #1 (path) expected a string, got %s", fname, type(path)), 2)
  end
  opts = check_opts(fname, opts, 3, {metadata = true, _fail_after = true}, 3) -- _fail_after: test hook
  local named, e = collect(obj, 2)
  if not named then error(fname .. ": " .. e, 2) end
  local meta = opts.metadata
  if meta ~= nil then
    if type(meta) ~= "table" then
      error(string.format("%s: option metadata expected a table of strings, got %s", fname,
        type(meta)), 2)
    end
    for k, v in pairs(meta) do
      if type(k) ~= "string" or type(v) ~= "string" then
        error(string.format("%s: metadata must map strings to strings, got %s -> %s", fname,
          type(k), type(v)), 2)
      end
    end
  end
  if named["__metadata__"] then
    error(fname .. ": '__metadata__' is reserved by the format and cannot name a tensor", 2)
  end
  local names = sorted_keys(named)
  local tensors = {}
  for i, n in ipairs(names) do tensors[i] = named[n] end
  local ok, msg = io_c.write(path, names, tensors, meta, opts._fail_after)
  if not ok then error(fname .. ": " .. msg, 2) end
end

function M.load(path, module, opts)
  local fname = "actrun.nn.load"
  if type(path) ~= "string" then
    error(string.format("%s: argument #1 (path) expected a string, got %s", fname, type(path)), 2)
  end
  opts = check_opts(fname, opts, 3, {strict = true}, 3)
  local strict = opts.strict
  if strict == nil then strict = true end
  local dest
  if module ~= nil then
    local e
    dest, e = collect(module, 2)
    if not dest then error(fname .. ": " .. e, 2) end
  end
  local tensors, meta = io_c.read(path)
  if not tensors then error(fname .. ": " .. meta, 2) end
  if module == nil then return tensors, meta end

  -- everything is checked before anything is copied
  local missing, unexpected = {}, {}
  for _, name in ipairs(sorted_keys(dest)) do
    local src = tensors[name]
    if src == nil then
      missing[#missing + 1] = name
    elseif not same_shape(src, dest[name]) then
      error(string.format("%s: %s: '%s' has shape %s in the file but %s in the module", fname,
        path, name, shape_str(src), shape_str(dest[name])), 2)
    end
  end
  for _, name in ipairs(sorted_keys(tensors)) do
    if dest[name] == nil then unexpected[#unexpected + 1] = name end
  end
  if strict and #missing > 0 then
    error(string.format("%s: %s: missing tensor%s %s", fname, path, #missing > 1 and "s" or "",
      quoted(missing)), 2)
  end
  if strict and #unexpected > 0 then
    error(string.format("%s: %s: unexpected tensor%s in the file: %s (load with {strict=false} "
      .. "to ignore them)", fname, path, #unexpected > 1 and "s" or "", quoted(unexpected)), 2)
  end
  actrun.no_grad(function()
    for name, t in pairs(dest) do
      local src = tensors[name]
      if src then t:copy(src) end
    end
  end)
  return module, {missing = missing, unexpected = unexpected}
end

return M
