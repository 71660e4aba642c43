-- actrun.nn_modules: the layers of actrun.nn (merged into it by nn.lua).
--
-- Every layer is a Lua table whose metatable is its class; classes chain to nn.Module by
-- __index. A layer's forward composes C tensor ops, so autograd records it without any
-- help from here, and no Lua loop ever runs over elements (LSTM loops over time steps).
--
-- The protocol other code (lab, model files) relies on:
--   m.kind ("Linear", "Sequential", ...), m.training (bool)
--   m:children()       ordered list of {name=, module=}
--   m:named_modules()  depth-first pre-order list of {name=dotted_path, module=},
--                      m itself first with name ""
--   m:parameters(), m:named_parameters(), m:named_buffers()
--   m.is_activation and m.act_name on Activation, PReLU and Maxout
--   m:add_hook(fn) -> handle with :remove(); fn(module, input, output) after each m(x)
-- A parameter, child or buffer registered under NAME is also the field m.NAME, so
-- Linear's m.weight and m.bias, BatchNorm's m.running_mean, Sequential's m["1"].
local actrun = require "actrun"
local util = require "actrun.util"

local M = {}
local linear = actrun.linear

local fmt = string.format

local shape_str = util.shape_str

-- 203530 -> "203,530"
local function thousands(n)
  local s = tostring(math.tointeger(n) or n)
  local out = s:reverse():gsub("(%d%d%d)", "%1,"):reverse()
  return (out:gsub("^,", ""))
end

local function is_posint(v)
  return math.type(v) == "integer" and v > 0 or
    (math.type(v) == "float" and v > 0 and v == math.floor(v) and v < 2 ^ 53)
end

-- Re-raises a caught message (without its position) at `level` of the caller.
local function rethrow(err, level)
  error((tostring(err):gsub("^[^\n]-:%d+: ", "", 1)), level + 1)
end

-- A new parameter's storage; a size too large for memory is an error of the module's
-- constructor (fname), not of actrun.empty.
local function new_param(fname, ...)
  local ok, t = pcall(actrun.empty, ...)
  if not ok then error(fname .. ": " .. tostring(t):gsub("^.-actrun%.empty: ", ""), 4) end
  return t
end

local function check_posint(fname, v, arg, name)
  if not is_posint(v) then
    error(fmt("%s: argument #%d (%s) expected a positive integer, got %s", fname, arg, name,
      type(v) == "number" and tostring(v) or type(v)), 4)
  end
  return math.tointeger(v)
end

local function check_prob(fname, v, arg, name)
  if type(v) ~= "number" or v ~= v or v < 0 or v > 1 then
    error(fmt("%s: argument #%d (%s) expected a probability in [0, 1], got %s", fname, arg,
      name, type(v) == "number" and tostring(v) or type(v)), 4)
  end
  return v
end

-- The options of a constructor. Pass level 4: the user's call is the caller of cls.new,
-- which calls cls:init, which calls check_opts.
local check_opts = util.check_opts

---------------------------------------------------------------------------------------
-- nn.Module: the base class

local Module = {kind = "Module"}
Module.__index = Module
M.Module = Module

-- Calling a module runs forward, then its hooks (only when there are some). More
-- arguments than forward's parameter list names are an error, not silently dropped.
local max_args = util.max_args_after_self
local function call(self, ...)
  local max = max_args(self.forward)
  if max and select("#", ...) > max then
    util.check_nargs(self:where(), select("#", ...), max, 3)
  end
  local hooks = rawget(self, "_hooks")
  if not hooks or #hooks == 0 then return self:forward(...) end
  local out = table.pack(self:forward(...))
  local input = ...
  local list = table.move(hooks, 1, #hooks, 1, {}) -- a hook may remove itself
  for _, h in ipairs(list) do h.fn(self, input, out[1]) end
  return table.unpack(out, 1, out.n)
end

local function module_tostring(self)
  return self:tree()
end

-- Module:extend(kind) -> a new class. Define cls:init(...) (the constructor body) and
-- cls:forward(x); make instances with cls(...) (or cls.new(...)).
function Module:extend(kind)
  if type(kind) ~= "string" or kind == "" then
    error("actrun.nn.Module:extend: argument #1 (kind) expected a non-empty string, got " ..
      type(kind), 2)
  end
  local cls = {kind = kind}
  cls.__index = cls
  cls.__call = call
  cls.__tostring = module_tostring
  cls.__name = "actrun.nn." .. kind
  setmetatable(cls, {__index = self, __call = function(c, ...) return c.new(...) end})
  cls.new = function(...)
    local max = max_args(cls.init)
    if max and select("#", ...) > max then
      util.check_nargs("actrun.nn." .. kind, select("#", ...), max, 3)
    end
    local m = setmetatable({
      kind = kind, training = true,
      _pnames = {}, _cnames = {}, _bnames = {},
      _params = {}, _children = {}, _buffers = {},
    }, cls)
    m:init(...)
    return m
  end
  return cls
end

function Module:init() end

function Module:forward()
  error(fmt("actrun.nn.%s: forward is not defined (define %s:forward(x))", self.kind,
    self.kind), 2)
end

local function check_name(fname, name)
  if type(name) ~= "string" or name == "" or name:find(".", 1, true) then
    error(fmt("%s: argument #1 (name) expected a non-empty string without '.', got %s", fname,
      type(name) == "string" and fmt("%q", name) or type(name)), 4)
  end
end

local function check_free(self, fname, name, kind_table)
  if self[name] ~= nil and not kind_table[name] then
    error(fmt("%s: name '%s' is already used by the module", fname, name), 4)
  end
end

-- The three registries of a module: parameters, children and buffers. Each keeps a
-- name -> value map, the names in registration order, and self.name.
local REGISTRIES = {
  parameter = {map = "_params", names = "_pnames", what = "a tensor"},
  module = {map = "_children", names = "_cnames", what = "a module"},
  buffer = {map = "_buffers", names = "_bnames", what = "a tensor"},
}

local function register(self, kind, name, v, arg)
  local R = REGISTRIES[kind]
  local fname = "actrun.nn.Module:register_" .. kind
  check_name(fname, name)
  local ok = kind == "module" and M.is_module(v) or kind ~= "module" and actrun.is_tensor(v)
  if not ok then
    error(fmt("%s: argument #2 (%s) expected %s, got %s", fname, arg, R.what, type(v)), 3)
  end
  if kind == "parameter" and not v.is_leaf then
    error(fmt("%s: argument #2 (t) must be a leaf tensor (detach it first)", fname), 3)
  end
  local map, names = self[R.map], self[R.names]
  check_free(self, fname, name, map)
  if not map[name] then names[#names + 1] = name end
  map[name] = v
  self[name] = v
  return v
end

-- register_parameter(name, t): t becomes a parameter (requires_grad set) and self.name.
function Module:register_parameter(name, t)
  register(self, "parameter", name, t, "t")
  t.requires_grad = true
  return t
end

-- register_module(name, m): a child module, also self.name.
function Module:register_module(name, m)
  register(self, "module", name, m, "m") -- not a tail call: errors point at our caller
  return m
end

-- register_buffer(name, t): state saved with the model but not trained (running stats).
function Module:register_buffer(name, t)
  register(self, "buffer", name, t, "t")
  return t
end

function M.is_module(m)
  if type(m) ~= "table" then return false end
  local mt = getmetatable(m)
  while type(mt) == "table" do
    if mt == Module then return true end
    local up = getmetatable(mt)
    mt = up and up.__index
  end
  return false
end

function Module:children()
  local list = {}
  for i, name in ipairs(self._cnames) do
    list[i] = {name = name, module = self._children[name]}
  end
  return list
end

function Module:named_modules()
  local list = {}
  local function walk(m, prefix)
    list[#list + 1] = {name = prefix, module = m}
    for _, name in ipairs(m._cnames) do
      walk(m._children[name], prefix == "" and name or (prefix .. "." .. name))
    end
  end
  walk(self, "")
  return list
end

-- Ordered {name, tensor} pairs of parameters (kind "_params") or buffers, each tensor
-- once (a module or tensor shared by two parents counts at its first place).
local function collect(self, field, names_field)
  local out, seen = {}, {}
  for _, e in ipairs(self:named_modules()) do
    local m = e.module
    for _, n in ipairs(m[names_field]) do
      local t = m[field][n]
      if not seen[t] then
        seen[t] = true
        out[#out + 1] = {e.name == "" and n or (e.name .. "." .. n), t}
      end
    end
  end
  return out
end

-- The parameters in a stable order (the same tensor objects on every call).
function Module:parameters()
  local list = {}
  for i, p in ipairs(collect(self, "_params", "_pnames")) do list[i] = p[2] end
  return list
end

-- name -> tensor, plus the names in order, of the registered kind (see collect).
local function named(self, field, names_field)
  local map, names = {}, {}
  for i, p in ipairs(collect(self, field, names_field)) do
    map[p[1]] = p[2]
    names[i] = p[1]
  end
  return map, names
end

-- name -> tensor, plus the names in order as a second result.
function Module:named_parameters() return named(self, "_params", "_pnames") end

function Module:named_buffers() return named(self, "_buffers", "_bnames") end

function Module:num_parameters()
  local n = 0
  for _, p in ipairs(self:parameters()) do n = n + p:numel() end
  return n
end

function Module:train(mode)
  if mode == nil then mode = true end
  for _, e in ipairs(self:named_modules()) do e.module.training = not not mode end
  return self
end

function Module:eval()
  return self:train(false)
end

function Module:zero_grad()
  for _, p in ipairs(self:parameters()) do p:zero_grad() end
  return self
end

function Module:add_hook(fn)
  if type(fn) ~= "function" then
    error("actrun.nn.Module:add_hook: argument #1 (fn) expected a function, got " .. type(fn), 2)
  end
  local hooks = rawget(self, "_hooks")
  if not hooks then
    hooks = {}
    self._hooks = hooks
  end
  local handle = {fn = fn}
  function handle.remove()
    for i, h in ipairs(hooks) do
      if h == handle then table.remove(hooks, i) return true end
    end
    return false
  end
  hooks[#hooks + 1] = handle
  return handle
end

-- One line of the tree: how the module describes itself (overridden by the layers).
function Module:describe()
  return self.kind
end

-- The error prefix of a layer: "actrun.nn.Linear(784 -> 256)".
function Module:where()
  return "actrun.nn." .. self:describe()
end

function Module:tree()
  local total = self:num_parameters()
  local lines = {fmt("%s (%s parameter%s)", self:describe(), thousands(total),
    total == 1 and "" or "s")}
  local rows, width = {}, 0
  local function walk(m, depth)
    for _, c in ipairs(m:children()) do
      local label = string.rep("  ", depth) .. c.name .. ": " .. c.module:describe()
      rows[#rows + 1] = {label, c.module:num_parameters()}
      if #label > width then width = #label end
      walk(c.module, depth + 1)
    end
  end
  walk(self, 1)
  for _, r in ipairs(rows) do
    if r[2] > 0 then
      lines[#lines + 1] = r[1] .. string.rep(" ", width - #r[1] + 4) .. thousands(r[2])
    else
      lines[#lines + 1] = r[1]
    end
  end
  return table.concat(lines, "\n")
end
Module.__tostring = module_tostring

-- Input checks shared by the layers: a tensor with one of the allowed ranks.
local is_tensor = actrun.is_tensor
-- The tensor methods themselves: calling them directly skips the __index lookup.
local tensor_methods = getmetatable(actrun.zeros(1)).__methods
local t_dim, t_size = tensor_methods.dim, tensor_methods.size

local function check_input(self, x, ranks)
  if not is_tensor(x) then
    error(fmt("%s: input expected a tensor, got %s", self:where(), type(x)), 3)
  end
  if ranks then
    local nd = x:dim()
    for _, r in ipairs(ranks) do
      if r == nd then return x end
    end
    local want = {}
    for i, r in ipairs(ranks) do want[i] = tostring(r) end
    error(fmt("%s: input has %d dims (shape %s), expected %s", self:where(), nd, shape_str(x),
      table.concat(want, " or ")), 3)
  end
  return x
end

local function check_features(self, x, dim, n, what)
  local got = x:size(dim)
  if got ~= n then
    error(fmt("%s: input has %d %s, expected %d (input shape %s)", self:where(), got, what, n,
      shape_str(x)), 3)
  end
end

---------------------------------------------------------------------------------------
-- Linear

-- Names usable as init= (every nn.init filler that needs no argument but the tensor).
local function init_names()
  local names = {}
  for k, v in pairs(require("actrun.nn").init) do
    if type(v) == "function" and k ~= "gain" and k ~= "constant" then names[#names + 1] = k end
  end
  table.sort(names)
  return names
end

local function check_init_name(fname, name, what)
  if name == nil then return nil end
  local init = require("actrun.nn").init
  if type(name) ~= "string" or name == "gain" or name == "constant" or
      type(init[name]) ~= "function" then
    error(fmt("%s: %s expected an nn.init function name (one of %s), got %s", fname, what,
      table.concat(init_names(), ", "), type(name) == "string" and ("'" .. name .. "'") or
      type(name)), 4)
  end
  return name
end

local Linear = Module:extend("Linear")
M.Linear = Linear

function Linear:init(n_in, n_out, opts)
  local fname = "actrun.nn.Linear"
  n_in = check_posint(fname, n_in, 1, "in")
  n_out = check_posint(fname, n_out, 2, "out")
  opts = check_opts(fname, opts, 3, {bias = true, init = true}, 4)
  local bias = opts.bias
  if bias == nil then bias = true end
  if type(bias) ~= "boolean" then
    error(fmt("%s: option bias expected a boolean, got %s", fname, type(bias)), 3)
  end
  local init_name = check_init_name(fname, opts.init, "option init")
  self.in_features, self.out_features = n_in, n_out
  local init = require("actrun.nn").init
  local w = self:register_parameter("weight", new_param(fname, n_out, n_in))
  if init_name then
    init[init_name](w)
  else
    -- PyTorch's reset_parameters: kaiming_uniform(a=sqrt(5)), i.e. U(-1/sqrt(in), 1/sqrt(in))
    init.kaiming_uniform(w, {a = math.sqrt(5)})
  end
  if bias then
    local b = self:register_parameter("bias", new_param(fname, n_out))
    if init_name then
      init.zeros(b)
    else
      local bound = 1 / math.sqrt(n_in)
      init.uniform(b, -bound, bound)
    end
  end
end

function Linear:describe()
  return fmt("Linear(%d -> %d%s)", self.in_features, self.out_features,
    self.bias and "" or ", no bias")
end

function Linear:forward(x)
  if not is_tensor(x) then check_input(self, x) end
  local nd = t_dim(x)
  if nd == 0 then
    error(fmt("%s: input has 0 dims, expected 1 or more", self:where()), 2)
  end
  local n_in = self.in_features
  if t_size(x, nd) ~= n_in then
    error(fmt("%s: input has %d features, expected %d (input shape %s, weight shape %s)",
      self:where(), x:size(nd), n_in, shape_str(x), shape_str(self.weight)), 2)
  end
  -- one fused op (GEMM with the bias as its starting value, one autograd node)
  if nd == 2 then return linear(x, self.weight, self.bias) end
  local s = x:shape()
  s[nd] = self.out_features
  return linear(x:reshape(-1, n_in), self.weight, self.bias):reshape(s)
end

---------------------------------------------------------------------------------------
-- Sequential

local Sequential = Module:extend("Sequential")
M.Sequential = Sequential

function Sequential:init(...)
  local fname = "actrun.nn.Sequential"
  local list = {...}
  local from_table = false
  if select("#", ...) == 1 and type(list[1]) == "table" and not M.is_module(list[1]) then
    list, from_table = list[1], true
  end
  local n = select("#", ...)
  if from_table then n = #list end
  for i = 1, n do
    local m = list[i]
    if not M.is_module(m) then
      if from_table then
        error(fmt("%s: argument #1 entry %d expected a module, got %s", fname, i, type(m)), 3)
      end
      error(fmt("%s: argument #%d expected a module, got %s", fname, i, type(m)), 3)
    end
    self:add(m)
  end
end

-- Appends a module (named by its 1-based position); returns self.
function Sequential:add(m)
  if not M.is_module(m) then
    error("actrun.nn.Sequential:add: argument #1 (m) expected a module, got " .. type(m), 2)
  end
  local i = #self._cnames + 1
  self:register_module(tostring(i), m)
  self[i] = m
  return self
end

function Sequential:size()
  return #self._cnames
end

function Sequential:describe()
  return "Sequential"
end

-- Each child runs as m(x) would (its forward, then its hooks when it has some), without
-- the __call dispatch when it has none.
function Sequential:forward(x)
  local ch, names = self._children, self._cnames
  for i = 1, #names do
    local m = ch[names[i]]
    local hooks = rawget(m, "_hooks")
    if hooks and #hooks > 0 then
      x = m(x)
    else
      x = m:forward(x)
    end
  end
  return x
end

---------------------------------------------------------------------------------------
-- Activation, the shortcuts, PReLU

local act -- actrun.act, looked up on first use (activations may be defined later)
local function act_mod()
  act = act or actrun.act
  return act
end

local function params_str(params)
  if not params then return "" end
  local keys = {}
  for k in pairs(params) do keys[#keys + 1] = tostring(k) end
  table.sort(keys)
  local parts = {}
  for i, k in ipairs(keys) do parts[i] = k .. "=" .. tostring(params[k]) end
  return #parts > 0 and (", " .. table.concat(parts, ", ")) or ""
end

local Activation = Module:extend("Activation")
M.Activation = Activation
Activation.is_activation = true

-- An activation given as {name=, params= [, label=]} (lab.compare's entries): its name
-- and parameters; params given beside it are merged over the entry's.
local function activation_spec(v, params)
  if type(v) == "table" and not is_tensor(v) and type(v.name) == "string" then
    if params == nil then return v.name, v.params end
    if type(params) ~= "table" or v.params == nil then return v.name, params end
    local merged = {}
    for k, x in pairs(v.params) do merged[k] = x end
    for k, x in pairs(params) do merged[k] = x end
    return v.name, merged
  end
  return v, params
end
M._activation_spec = activation_spec

function Activation:init(name, params)
  local fname = "actrun.nn.Activation"
  name, params = activation_spec(name, params)
  if type(name) ~= "string" then
    error(fmt("%s: argument #1 (name) expected an activation name, got %s", fname, type(name)), 3)
  end
  if params ~= nil and type(params) ~= "table" then
    error(fmt("%s: argument #2 (params) expected a table, got %s", fname, type(params)), 3)
  end
  -- A trial on one element checks the name and the parameters now, for built-in and
  -- defined activations alike, instead of at the first forward.
  local ok, err = pcall(act_mod().apply, name, actrun.zeros(1), params)
  if not ok then
    err = tostring(err):gsub("^.-actrun%.act%.apply: ", "")
    error(fmt("%s: %s", fname, err), 3)
  end
  self.act_name = name
  self.params = params
  -- A built-in (its C function sits in actrun.act as it is) runs through the C apply
  -- directly, without the Lua wrapper act.apply adds for defined activations.
  local C = package.loaded["actrun.act_c"]
  local f = rawget(act, name)
  if name ~= "rrelu" and type(C) == "table" and f ~= nil and f == rawget(C, name) then
    self._c_apply = C.apply
  end
  if name == "rrelu" then
    self.lower = params and params.lower or 1 / 8
    self.upper = params and params.upper or 1 / 3
  end
end

function Activation:describe()
  return fmt("Activation(%s%s)", self.act_name, params_str(self.params))
end

function Activation:forward(x)
  if not is_tensor(x) then check_input(self, x) end
  local c_apply = self._c_apply
  if c_apply then return c_apply(self.act_name, x, self.params) end
  if self.act_name == "rrelu" and self.training then
    -- training mode: a slope drawn U(lower, upper) per element where x <= 0 (PyTorch's
    -- rrelu_with_noise); y = x * noise, so autograd's gradient is the noise itself
    local u = actrun.rand(x:shape()) * (self.upper - self.lower) + self.lower
    return x * x:gt(0):maximum(u)
  end
  return act.apply(self.act_name, x, self.params)
end

function M.ReLU() return Activation("relu") end
function M.Tanh() return Activation("tanh") end
function M.Sigmoid() return Activation("sigmoid") end
function M.GELU() return Activation("gelu") end
function M.SELU() return Activation("selu") end

function M.ELU(alpha)
  if alpha ~= nil and type(alpha) ~= "number" then
    error("actrun.nn.ELU: argument #1 (alpha) expected a number, got " .. type(alpha), 2)
  end
  return Activation("elu", alpha and {alpha = alpha} or nil)
end

function M.LeakyReLU(slope)
  if slope ~= nil and type(slope) ~= "number" then
    error("actrun.nn.LeakyReLU: argument #1 (negative_slope) expected a number, got " ..
      type(slope), 2)
  end
  return Activation("leaky_relu", slope and {negative_slope = slope} or nil)
end

local PReLU = Module:extend("PReLU")
M.PReLU = PReLU
PReLU.is_activation = true
PReLU.act_name = "prelu"

function PReLU:init(n, init)
  local fname = "actrun.nn.PReLU"
  n = n == nil and 1 or check_posint(fname, n, 1, "n")
  if init ~= nil and (type(init) ~= "number" or init ~= init) then
    error(fmt("%s: argument #2 (init) expected a number, got %s", fname, type(init)), 3)
  end
  self.n_slopes = n
  self.init_value = init or 0.25
  self:register_parameter("weight", actrun.full({n}, self.init_value))
end

function PReLU:describe()
  return fmt("PReLU(%d)", self.n_slopes)
end

function PReLU:forward(x)
  check_input(self, x)
  local n = self.n_slopes
  if n > 1 then
    if x:dim() < 2 then
      error(fmt("%s: input has %d dims (shape %s), expected 2 or more (one slope per " ..
        "channel of dim 2)", self:where(), x:dim(), shape_str(x)), 2)
    end
    check_features(self, x, 2, n, "channels")
  end
  return act_mod().prelu(x, self.weight)
end

---------------------------------------------------------------------------------------
-- PAU: the Padé activation unit (Molina et al. 2020), safe form
-- f(x) = (a0 + a1 x + ... + am x^m) / (1 + |b1 x + ... + bn x^n|), the coefficients
-- learnable (parameters "numerator" {m+1} and "denominator" {n}, or {C, m+1} and {C, n}
-- with per_channel=C) and fitted at construction to a named activation on [-3, 3].

-- Least squares by Householder QR: A is a list of rows (nr x nc, nr >= nc), y a list;
-- returns the solution (a list) or nil when A is rank deficient. A and y are overwritten.
local function lstsq(A, y, nr, nc)
  for k = 1, nc do
    local s = 0
    for i = k, nr do s = s + A[i][k] ^ 2 end
    s = math.sqrt(s)
    if s == 0 then return nil end
    local alpha = A[k][k] > 0 and -s or s
    local v1 = A[k][k] - alpha
    A[k][k] = v1 -- v = (v1, A[k+1..nr][k]); H = I - 2 v v^T / (v^T v)
    local vv = v1 * v1
    for i = k + 1, nr do vv = vv + A[i][k] ^ 2 end
    for j = k + 1, nc do
      local d = 0
      for i = k, nr do d = d + A[i][k] * A[i][j] end
      d = 2 * d / vv
      for i = k, nr do A[i][j] = A[i][j] - d * A[i][k] end
    end
    local d = 0
    for i = k, nr do d = d + A[i][k] * y[i] end
    d = 2 * d / vv
    for i = k, nr do y[i] = y[i] - d * A[i][k] end
    A[k][k] = alpha
  end
  local c = {}
  for k = nc, 1, -1 do
    local t = y[k]
    for j = k + 1, nc do t = t - A[k][j] * c[j] end
    c[k] = t / A[k][k]
  end
  return c
end

-- The safe rational function and its residuals against fs at xs; c = {a0..am, b1..bn}.
local function rational(c, m, n, x)
  local p, q, xp = 0, 0, 1
  for k = 0, m do p = p + c[k + 1] * xp; xp = xp * x end
  xp = x
  for j = 1, n do q = q + c[m + 1 + j] * xp; xp = xp * x end
  return p / (1 + math.abs(q)), p, q
end

local function max_error(c, m, n, xs, fs)
  local e = 0
  for i = 1, #xs do e = math.max(e, math.abs(rational(c, m, n, xs[i]) - fs[i])) end
  return e
end

-- Levenberg-Marquardt on sum w_i r_i^2, r_i = f(x_i) - target_i, from c.
local function refine(c, m, n, xs, fs, w, iters)
  local nr, nc = #xs, m + 1 + n
  local function cost(cc)
    local s = 0
    for i = 1, nr do s = s + w[i] * (rational(cc, m, n, xs[i]) - fs[i]) ^ 2 end
    return s
  end
  local cur, lambda = cost(c), 1e-3
  for _ = 1, iters do
    local J, r = {}, {}
    for i = 1, nr do
      local x, sw = xs[i], math.sqrt(w[i])
      local f, p, q = rational(c, m, n, x)
      local d = 1 + math.abs(q)
      local s = q > 0 and 1 or (q < 0 and -1 or 0)
      local row, xp = {}, 1
      for k = 0, m do row[k + 1] = sw * xp / d; xp = xp * x end
      xp = x
      for j = 1, n do row[m + 1 + j] = -sw * p * s * xp / (d * d); xp = xp * x end
      J[i], r[i] = row, -sw * (f - fs[i])
    end
    local scale = {}
    for k = 1, nc do
      local s = 0
      for i = 1, nr do s = s + J[i][k] ^ 2 end
      scale[k] = math.sqrt(s) + 1e-300
    end
    local improved = false
    for _ = 1, 12 do
      local A, y = {}, {}
      for i = 1, nr do
        local row = {}
        for k = 1, nc do row[k] = J[i][k] end
        A[i], y[i] = row, r[i]
      end
      local damp = math.sqrt(lambda)
      for k = 1, nc do
        local row = {}
        for j = 1, nc do row[j] = j == k and damp * scale[k] or 0 end
        A[nr + k], y[nr + k] = row, 0
      end
      local d = lstsq(A, y, nr + nc, nc)
      if d then
        local trial = {}
        for k = 1, nc do trial[k] = c[k] + d[k] end
        local tc = cost(trial)
        if tc < cur then
          c, cur, improved = trial, tc, true
          lambda = math.max(lambda / 3, 1e-12)
          break
        end
      end
      lambda = lambda * 4
    end
    if not improved then break end
  end
  return c
end

-- The fit of a named activation: the linearised least-squares fit (P - f Q = f), then
-- Levenberg-Marquardt on the true rational error, then a few reweighted rounds
-- (Lawson's iteration) that trade mean error for a smaller maximum; the best maximum
-- error wins. Cached per (name, m, n, params) in the process.
local pau_fits = {}
local PAU_RANGE, PAU_POINTS = 3, 401

local function pau_fit(fname, name, m, n, params)
  local key = {name, m, n}
  if params then
    local ks = {}
    for k in pairs(params) do ks[#ks + 1] = tostring(k) end
    table.sort(ks)
    for _, k in ipairs(ks) do key[#key + 1] = k .. "=" .. tostring(params[k]) end
  end
  key = table.concat(key, "|")
  if pau_fits[key] then return pau_fits[key] end
  local A = act_mod()
  local xs, fs = {}, {}
  for i = 1, PAU_POINTS do
    local x = -PAU_RANGE + 2 * PAU_RANGE * (i - 1) / (PAU_POINTS - 1)
    local ok, f = pcall(A.scalar, name, x, params)
    if not ok then
      error(fmt("%s: option init: %s", fname, tostring(f):gsub("^.-actrun%.act%.scalar: ", "")), 4)
    end
    if f ~= f or math.abs(f) == math.huge then
      error(fmt("%s: option init: '%s' is not finite at x = %g", fname, name, x), 4)
    end
    xs[i], fs[i] = x, f
  end
  local nc, rows, y = m + 1 + n, {}, {}
  for i, x in ipairs(xs) do
    local row, xp = {}, 1
    for k = 0, m do row[k + 1] = xp; xp = xp * x end
    xp = x
    for j = 1, n do row[m + 1 + j] = -fs[i] * xp; xp = xp * x end
    rows[i], y[i] = row, fs[i]
  end
  local c = lstsq(rows, y, #xs, nc)
  if not c then c = {} for k = 1, nc do c[k] = 0 end c[2] = 1 end
  local w = {}
  for i = 1, #xs do w[i] = 1 end
  c = refine(c, m, n, xs, fs, w, 40)
  local best, best_err = c, max_error(c, m, n, xs, fs)
  for _ = 1, 4 do -- Lawson: weights grow where the error is large
    local s = 0
    for i = 1, #xs do
      w[i] = w[i] * (math.abs(rational(c, m, n, xs[i]) - fs[i]) + 1e-9)
      s = s + w[i]
    end
    for i = 1, #xs do w[i] = w[i] * #xs / s end
    c = refine(c, m, n, xs, fs, w, 20)
    local e = max_error(c, m, n, xs, fs)
    if e < best_err then best, best_err = c, e end
  end
  local fit = {a = {}, b = {}, max_error = best_err}
  for k = 1, m + 1 do fit.a[k] = best[k] end
  for j = 1, n do fit.b[j] = best[m + 1 + j] end
  pau_fits[key] = fit
  return fit
end

local PAU = Module:extend("PAU")
M.PAU = PAU
PAU.is_activation = true
PAU.act_name = "pau"

local PAU_OPTS = {m = true, n = true, init = true, per_channel = true, params = true}

function PAU:init(opts)
  local fname = "actrun.nn.PAU"
  opts = check_opts(fname, opts, 1, PAU_OPTS, 4)
  local function degree(k, def)
    local v = opts[k]
    if v == nil then return def end
    if math.type(v) ~= "integer" and not (type(v) == "number" and v == math.floor(v)) or
        v < 1 or v > 12 then
      error(fmt("%s: option %s expected an integer in 1..12, got %s", fname, k,
        type(v) == "number" and tostring(v) or type(v)), 4)
    end
    return math.tointeger(v)
  end
  local m, n = degree("m", 5), degree("n", 4)
  local init = opts.init == nil and "leaky_relu" or opts.init
  if type(init) ~= "string" then
    error(fmt("%s: option init expected an activation name, got %s", fname, type(init)), 3)
  end
  local params = opts.params
  if params ~= nil and type(params) ~= "table" then
    error(fmt("%s: option params expected a table, got %s", fname, type(params)), 3)
  end
  local C = opts.per_channel
  if C ~= nil and not is_posint(C) then
    error(fmt("%s: option per_channel expected a positive integer, got %s", fname,
      type(C) == "number" and tostring(C) or type(C)), 3)
  end
  local fit = pau_fit(fname, init, m, n, params)
  self.m, self.n, self.init_name, self.fit_error = m, n, init, fit.max_error
  self.init_params = params
  self.per_channel = C and math.tointeger(C) or nil
  local a, b = actrun.tensor(fit.a), actrun.tensor(fit.b)
  if C then
    a = a:reshape{1, m + 1}:expand{C, m + 1}:contiguous()
    b = b:reshape{1, n}:expand{C, n}:contiguous()
  end
  self:register_parameter("numerator", a)
  self:register_parameter("denominator", b)
end

function PAU:describe()
  return fmt("PAU(m=%d, n=%d, init=%s%s)", self.m, self.n, self.init_name,
    self.per_channel and fmt(", per_channel=%d", self.per_channel) or "")
end

function PAU:forward(x)
  check_input(self, x)
  local C = self.per_channel
  if C and C > 1 then
    if x:dim() < 2 then
      error(fmt("%s: input has %d dims (shape %s), expected 2 or more (one coefficient set " ..
        "per channel of dim 2)", self:where(), x:dim(), shape_str(x)), 2)
    end
    check_features(self, x, 2, C, "channels")
  end
  return actrun.pau(x, self.numerator, self.denominator)
end

-- The coefficients of one channel (1 when shared), detached.
local function pau_coefs(self, fname, channel)
  if channel ~= nil and (not is_posint(channel) or channel > (self.per_channel or 1)) then
    error(fmt("%s: argument (channel) expected an integer in 1..%d, got %s", fname,
      self.per_channel or 1, tostring(channel)), 3)
  end
  local a, b = self.numerator:detach(), self.denominator:detach()
  if self.per_channel then
    a, b = a:select(1, channel or 1):clone(), b:select(1, channel or 1):clone()
  else
    a, b = a:clone(), b:clone()
  end
  return a, b
end

-- m:curve([lo=-3, hi=3, n=201 [, channel]]) -> xs, ys: the current function on a grid
-- (Lua lists, ready for actrun.plot).
function PAU:curve(lo, hi, npts, channel)
  local fname = "actrun.nn.PAU:curve"
  lo, hi, npts = lo or -3, hi or 3, npts or 201
  if type(lo) ~= "number" or type(hi) ~= "number" or not (hi > lo) then
    error(fmt("%s: expected lo < hi, got %s and %s", fname, tostring(lo), tostring(hi)), 2)
  end
  if not is_posint(npts) or npts < 2 then
    error(fmt("%s: argument #3 (n) expected an integer >= 2, got %s", fname, tostring(npts)), 2)
  end
  local a, b = pau_coefs(self, fname, channel)
  local x = actrun.linspace(lo, hi, npts)
  local y = actrun.no_grad(function() return actrun.pau(x, a, b) end)
  local xs, ys = {}, {}
  for i = 1, npts do xs[i], ys[i] = x:get(i), y:get(i) end
  return xs, ys
end

-- m:as_activation(name [, channel]) -> the activation function: registers the unit's
-- current function (a snapshot of its coefficients) with act.define, so that
-- act.properties, act.plot, nn.Activation and lab.compare take it by name.
function PAU:as_activation(name, channel)
  local fname = "actrun.nn.PAU:as_activation"
  if type(name) ~= "string" then
    error(fmt("%s: argument #1 (name) expected a string, got %s", fname, type(name)), 2)
  end
  local a, b = pau_coefs(self, fname, channel)
  local formula = {}
  for k = 1, a:numel() do formula[k] = fmt("%.4g", a:get(k)) end
  local den = {}
  for k = 1, b:numel() do den[k] = fmt("%.4g", b:get(k)) end
  local ok, f = pcall(act_mod().define, name, function(x) return actrun.pau(x, a, b) end, {
    family = "learned",
    formula = fmt("Padé P/(1+|Q|), a = {%s}, b = {%s}", table.concat(formula, ", "),
      table.concat(den, ", ")),
  })
  if not ok then rethrow(tostring(f):gsub("actrun%.act%.define", fname), 2) end
  return f
end

---------------------------------------------------------------------------------------
-- Maxout: one Linear in -> out*k; unit j is the max of rows (j-1)*k+1 .. j*k.

local Maxout = Module:extend("Maxout")
M.Maxout = Maxout
Maxout.is_activation = true
Maxout.act_name = "maxout"

function Maxout:init(n_in, n_out, k, opts)
  local fname = "actrun.nn.Maxout"
  n_in = check_posint(fname, n_in, 1, "in")
  n_out = check_posint(fname, n_out, 2, "out")
  k = k == nil and 2 or check_posint(fname, k, 3, "k")
  self.in_features, self.out_features, self.k = n_in, n_out, k
  local ok, lin = pcall(Linear.new, n_in, n_out * k, opts)
  if not ok then rethrow(tostring(lin):gsub("actrun%.nn%.Linear", fname), 3) end
  self:register_module("linear", lin)
end

function Maxout:describe()
  return fmt("Maxout(%d -> %d, k=%d)", self.in_features, self.out_features, self.k)
end

function Maxout:forward(x)
  check_input(self, x)
  local nd = x:dim()
  if nd == 0 or x:size(nd) ~= self.in_features then
    error(fmt("%s: input has %d features, expected %d (input shape %s)", self:where(),
      nd == 0 and 0 or x:size(nd), self.in_features, shape_str(x)), 2)
  end
  local z = self.linear(x)
  local s = z:shape()
  s[nd] = self.out_features
  s[nd + 1] = self.k
  return (z:reshape(s):max(nd + 1))
end

---------------------------------------------------------------------------------------
-- BatchNorm and LayerNorm

-- opts.eps of a normalisation layer (default 1e-5), checked; errors at the caller of init.
local function norm_eps(fname, opts)
  local eps = opts.eps or 1e-5
  if type(eps) ~= "number" or not (eps > 0) then
    error(fmt("%s: option eps expected a number > 0, got %s", fname, tostring(eps)), 4)
  end
  return eps
end

local BatchNorm = Module:extend("BatchNorm")
M.BatchNorm = BatchNorm

function BatchNorm:init(n, opts)
  local fname = "actrun.nn.BatchNorm"
  n = check_posint(fname, n, 1, "n")
  opts = check_opts(fname, opts, 2, {eps = true, momentum = true}, 4)
  local eps, mom = norm_eps(fname, opts), opts.momentum or 0.1
  if type(mom) ~= "number" or not (mom >= 0 and mom <= 1) then
    error(fmt("%s: option momentum expected a number in [0, 1], got %s", fname,
      tostring(mom)), 3)
  end
  self.num_features, self.eps, self.momentum = n, eps, mom
  self:register_parameter("weight", actrun.ones(n))
  self:register_parameter("bias", actrun.zeros(n))
  self:register_buffer("running_mean", actrun.zeros(n))
  self:register_buffer("running_var", actrun.ones(n))
end

function BatchNorm:describe()
  return fmt("BatchNorm(%d)", self.num_features)
end

-- Input {N,C}, {N,C,L} or {N,C,H,W}; statistics per channel over every other dim.
function BatchNorm:forward(x)
  check_input(self, x, {2, 3, 4})
  local C = self.num_features
  check_features(self, x, 2, C, "channels")
  local nd = x:dim()
  local bshape = {1, C}
  for d = 3, nd do bshape[d] = 1 end
  local w, b = self.weight:reshape(bshape), self.bias:reshape(bshape)
  if not self.training then
    local rm = self.running_mean:reshape(bshape)
    local scale = w / (self.running_var:reshape(bshape) + self.eps):sqrt()
    return (x - rm) * scale + b
  end
  local count = x:numel() // C
  if count < 2 then
    error(fmt("%s: training needs more than 1 value per channel, got input shape %s",
      self:where(), shape_str(x)), 2)
  end
  local mean = x:mean(1, true)
  for d = 3, nd do mean = mean:mean(d, true) end
  local xc = x - mean
  local var = xc:square():mean(1, true)
  for d = 3, nd do var = var:mean(d, true) end
  local y = xc * (w / (var + self.eps):sqrt()) + b
  local m = self.momentum
  actrun.no_grad(function()
    local rm, rv = self.running_mean, self.running_var
    rm:copy(rm * (1 - m) + mean:detach():reshape(C) * m)
    rv:copy(rv * (1 - m) + var:detach():reshape(C) * (m * count / (count - 1)))
  end)
  return y
end

local LayerNorm = Module:extend("LayerNorm")
M.LayerNorm = LayerNorm

function LayerNorm:init(n, opts)
  local fname = "actrun.nn.LayerNorm"
  n = check_posint(fname, n, 1, "n")
  opts = check_opts(fname, opts, 2, {eps = true}, 4)
  local eps = norm_eps(fname, opts)
  self.normalized_shape, self.eps = n, eps
  self:register_parameter("weight", actrun.ones(n))
  self:register_parameter("bias", actrun.zeros(n))
end

function LayerNorm:describe()
  return fmt("LayerNorm(%d)", self.normalized_shape)
end

function LayerNorm:forward(x)
  check_input(self, x)
  local nd = x:dim()
  if nd == 0 or x:size(nd) ~= self.normalized_shape then
    error(fmt("%s: input has %d features in its last dim, expected %d (input shape %s)",
      self:where(), nd == 0 and 0 or x:size(nd), self.normalized_shape, shape_str(x)), 2)
  end
  local xc = x - x:mean(nd, true)
  local var = xc:square():mean(nd, true)
  return xc / (var + self.eps):sqrt() * self.weight + self.bias
end

---------------------------------------------------------------------------------------
-- Dropout and AlphaDropout (identity in eval mode)

-- Dropout(p) and AlphaDropout(p): the same constructor and description.
local function dropout_class(kind)
  local cls = Module:extend(kind)
  M[kind] = cls
  function cls:init(p)
    self.p = check_prob("actrun.nn." .. kind, p == nil and 0.5 or p, 1, "p")
  end
  function cls:describe()
    return fmt("%s(p=%g)", kind, self.p)
  end
  return cls
end

local Dropout = dropout_class("Dropout")

-- Inverted dropout: kept elements are scaled by 1/(1-p).
function Dropout:forward(x)
  check_input(self, x)
  local p = self.p
  if not self.training or p == 0 then return x end
  if p == 1 then return x * 0 end
  return x * (actrun.rand(x:shape()):ge(p) * (1 / (1 - p)))
end

local AlphaDropout = dropout_class("AlphaDropout")

-- PyTorch's alpha_dropout: dropped units are set to SELU's negative saturation
-- -lambda*alpha, then a*x + b restores mean 0 and variance 1.
local SELU_SAT = 1.7580993408473766
function AlphaDropout:forward(x)
  check_input(self, x)
  local p = self.p
  if not self.training or p == 0 then return x end
  if p == 1 then return x * 0 end
  local a = 1 / math.sqrt((SELU_SAT * SELU_SAT * p + 1) * (1 - p))
  local keep = actrun.rand(x:shape()):ge(p)
  -- kept: a*x + a*alpha*p; dropped: a*alpha*(p - 1)
  return x * (keep * a) + (keep * (SELU_SAT * a) + SELU_SAT * a * (p - 1))
end

---------------------------------------------------------------------------------------
-- LSTM: one layer, PyTorch's parameter names, shapes and gate order (i, f, g, o).

local LSTM = Module:extend("LSTM")
M.LSTM = LSTM

function LSTM:init(n_in, hidden, opts)
  local fname = "actrun.nn.LSTM"
  n_in = check_posint(fname, n_in, 1, "in")
  hidden = check_posint(fname, hidden, 2, "hidden")
  opts = check_opts(fname, opts, 3, {gate = true, cell = true}, 4)
  local gate, cell = opts.gate or "sigmoid", opts.cell or "tanh"
  for _, g in ipairs{{gate, "gate"}, {cell, "cell"}} do
    local ok, err = pcall(act_mod().apply, g[1], actrun.zeros(1))
    if not ok or type(g[1]) ~= "string" then
      err = type(g[1]) ~= "string" and ("expected an activation name, got " .. type(g[1])) or
        tostring(err):gsub("^.-actrun%.act%.apply: ", "")
      error(fmt("%s: option %s: %s", fname, g[2], err), 3)
    end
  end
  self.input_size, self.hidden_size, self.gate, self.cell = n_in, hidden, gate, cell
  local bound = 1 / math.sqrt(hidden)
  local init = require("actrun.nn").init
  for _, p in ipairs{{"weight_ih_l0", {4 * hidden, n_in}}, {"weight_hh_l0", {4 * hidden, hidden}},
                     {"bias_ih_l0", {4 * hidden}}, {"bias_hh_l0", {4 * hidden}}} do
    init.uniform(self:register_parameter(p[1], new_param(fname, p[2])), -bound, bound)
  end
end

function LSTM:describe()
  local extra = ""
  if self.gate ~= "sigmoid" or self.cell ~= "tanh" then
    extra = fmt(", gate=%s, cell=%s", self.gate, self.cell)
  end
  return fmt("LSTM(%d -> %d%s)", self.input_size, self.hidden_size, extra)
end

-- forward(x [, h0 [, c0]]) -> output {seq,batch,hidden}, h {1,batch,hidden}, c (the
-- same); h0 and c0 as {1,batch,hidden} or {batch,hidden}, zeros when absent.
function LSTM:forward(x, h0, c0)
  check_input(self, x, {3})
  check_features(self, x, 3, self.input_size, "features")
  local seq, batch = x:size(1), x:size(2)
  local H = self.hidden_size
  local function state(v, what)
    if v == nil then return actrun.zeros(batch, H) end
    if not actrun.is_tensor(v) then
      error(fmt("%s: %s expected a tensor, got %s", self:where(), what, type(v)), 3)
    end
    local s = v:shape()
    if (#s == 3 and s[1] == 1 and s[2] == batch and s[3] == H) then return v:reshape(batch, H) end
    if #s == 2 and s[1] == batch and s[2] == H then return v end
    error(fmt("%s: %s has shape %s, expected {1,%d,%d} for input shape %s", self:where(), what,
      shape_str(v), batch, H, shape_str(x)), 3)
  end
  local h, c = state(h0, "h0"), state(c0, "c0")
  local apply = act_mod().apply
  local gate, cell = self.gate, self.cell
  -- the input projection of every step in one product
  local xp = x:reshape(seq * batch, self.input_size):matmul(self.weight_ih_l0:t()) +
    (self.bias_ih_l0 + self.bias_hh_l0)
  xp = xp:reshape(seq, batch, 4 * H)
  local whh = self.weight_hh_l0:t()
  local outs = {}
  for t = 1, seq do
    local g = xp[t] + h:matmul(whh)
    local i = apply(gate, g:narrow(2, 1, H))
    local f = apply(gate, g:narrow(2, H + 1, H))
    local gg = apply(cell, g:narrow(2, 2 * H + 1, H))
    local o = apply(gate, g:narrow(2, 3 * H + 1, H))
    c = f * c + i * gg
    h = o * apply(cell, c)
    outs[t] = h
  end
  local out = seq > 0 and actrun.stack(outs, 1) or actrun.zeros(0, batch, H)
  return out, h:reshape(1, batch, H), c:reshape(1, batch, H)
end

---------------------------------------------------------------------------------------
-- Residual and Flatten

local function same_shape(a, b)
  local sa, sb = a:shape(), b:shape()
  if #sa ~= #sb then return false end
  for i = 1, #sa do if sa[i] ~= sb[i] then return false end end
  return true
end

local Residual = Module:extend("Residual")
M.Residual = Residual

function Residual:init(block, opts)
  local fname = "actrun.nn.Residual"
  if not M.is_module(block) then
    error(fmt("%s: argument #1 (block) expected a module, got %s", fname, type(block)), 3)
  end
  opts = check_opts(fname, opts, 2, {norm = true, width = true}, 4)
  local norm = opts.norm
  if norm ~= nil and norm ~= "pre" and norm ~= "post" then
    error(fmt("%s: option norm expected 'pre', 'post' or nil, got %s", fname,
      type(norm) == "string" and ("'" .. norm .. "'") or type(norm)), 3)
  end
  self.norm_mode = norm
  self:register_module("block", block)
  if opts.width ~= nil then
    local w = opts.width
    if not is_posint(w) then
      error(fmt("%s: option width expected a positive integer, got %s", fname, tostring(w)), 3)
    end
    self.width = math.tointeger(w)
    if norm then self:register_module("norm", BatchNorm(self.width)) end
  end
end

function Residual:describe()
  return fmt("Residual(%s)", self.norm_mode and ("norm=" .. self.norm_mode) or "identity")
end

function Residual:forward(x)
  check_input(self, x)
  if x:dim() < 2 and self.norm_mode then
    error(fmt("%s: input has %d dims (shape %s), expected 2 or more", self:where(), x:dim(),
      shape_str(x)), 2)
  end
  if self.norm_mode and not self.norm then
    -- width inferred from the first input: the norm's parameters exist from now on
    self.width = x:size(2)
    self:register_module("norm", BatchNorm(self.width))
    self.norm.training = self.training
  end
  local y
  if self.norm_mode == "pre" then
    y = self.block(self.norm(x))
  else
    y = self.block(x)
  end
  if not actrun.is_tensor(y) or not same_shape(x, y) then
    error(fmt("%s: block output has shape %s but the input has shape %s (they must match)",
      self:where(), actrun.is_tensor(y) and shape_str(y) or type(y), shape_str(x)), 2)
  end
  y = x + y
  if self.norm_mode == "post" then y = self.norm(y) end
  return y
end

local Flatten = Module:extend("Flatten")
M.Flatten = Flatten

function Flatten:describe()
  return "Flatten"
end

-- {N, ...} -> {N, prod(...)}, as PyTorch's nn.Flatten (start_dim 2 in 1-based terms).
function Flatten:forward(x)
  check_input(self, x)
  if x:dim() < 1 then
    error(fmt("%s: input has 0 dims, expected 1 or more", self:where()), 2)
  end
  if x:dim() <= 2 then return x end
  return x:reshape(x:size(1), -1)
end

---------------------------------------------------------------------------------------
-- Conv2d and MaxPool2d over the C kernels actrun.conv2d / actrun.max_pool2d

-- A kernel size, stride or padding: a number or a pair {h, w}; returns h, w.
local function pair(fname, v, what, min)
  local h, w = v, v
  if type(v) == "table" then h, w = v[1], v[2] end
  for _, n in ipairs{h, w} do
    if math.type(n) ~= "integer" and not (math.type(n) == "float" and n == math.floor(n)) or
        n < min then
      error(fmt("%s: %s expected an integer >= %d or a pair of them, got %s", fname, what, min,
        type(v) == "table" and "{" .. tostring(v[1]) .. ", " .. tostring(v[2]) .. "}" or
        tostring(v)), 4)
    end
  end
  return math.tointeger(h), math.tointeger(w)
end

local function pair_str(h, w)
  return h == w and tostring(h) or fmt("%dx%d", h, w)
end

local Conv2d = Module:extend("Conv2d")
M.Conv2d = Conv2d

-- Conv2d(in_ch, out_ch, k [, {stride=1, padding=0, bias=true, init=NAME}]): weight
-- {out_ch, in_ch, kh, kw}; PyTorch's default initialisation (kaiming_uniform(a=sqrt(5)),
-- bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = in_ch*kh*kw).
function Conv2d:init(in_ch, out_ch, k, opts)
  local fname = "actrun.nn.Conv2d"
  in_ch = check_posint(fname, in_ch, 1, "in_ch")
  out_ch = check_posint(fname, out_ch, 2, "out_ch")
  opts = check_opts(fname, opts, 4, {stride = true, padding = true, bias = true, init = true}, 4)
  local kh, kw = pair(fname, k, "argument #3 (k)", 1)
  self.stride = {pair(fname, opts.stride or 1, "option stride", 1)}
  self.padding = {pair(fname, opts.padding or 0, "option padding", 0)}
  local bias = opts.bias
  if bias == nil then bias = true end
  if type(bias) ~= "boolean" then
    error(fmt("%s: option bias expected a boolean, got %s", fname, type(bias)), 3)
  end
  local init_name = check_init_name(fname, opts.init, "option init")
  self.in_channels, self.out_channels, self.kernel_size = in_ch, out_ch, {kh, kw}
  local init = require("actrun.nn").init
  local w = self:register_parameter("weight", new_param(fname, out_ch, in_ch, kh, kw))
  if init_name then init[init_name](w) else init.kaiming_uniform(w, {a = math.sqrt(5)}) end
  if bias then
    local b = self:register_parameter("bias", new_param(fname, out_ch))
    if init_name then
      init.zeros(b)
    else
      local bound = 1 / math.sqrt(in_ch * kh * kw)
      init.uniform(b, -bound, bound)
    end
  end
end

function Conv2d:describe()
  local extra = ""
  if self.stride[1] ~= 1 or self.stride[2] ~= 1 then
    extra = extra .. ", stride " .. pair_str(self.stride[1], self.stride[2])
  end
  if self.padding[1] ~= 0 or self.padding[2] ~= 0 then
    extra = extra .. ", padding " .. pair_str(self.padding[1], self.padding[2])
  end
  return fmt("Conv2d(%d -> %d, k%s%s%s)", self.in_channels, self.out_channels,
    pair_str(self.kernel_size[1], self.kernel_size[2]), extra, self.bias and "" or ", no bias")
end

function Conv2d:forward(x)
  check_input(self, x, {4})
  check_features(self, x, 2, self.in_channels, "channels")
  return actrun.conv2d(x, self.weight, self.bias, {stride = self.stride, padding = self.padding})
end

local MaxPool2d = Module:extend("MaxPool2d")
M.MaxPool2d = MaxPool2d

-- MaxPool2d(k [, stride=k]) or MaxPool2d(k, {stride=, padding=}).
function MaxPool2d:init(k, opts)
  local fname = "actrun.nn.MaxPool2d"
  if type(opts) == "number" then opts = {stride = opts} end
  opts = check_opts(fname, opts, 2, {stride = true, padding = true}, 4)
  self.kernel_size = {pair(fname, k, "argument #1 (k)", 1)}
  self.stride = {pair(fname, opts.stride or k, "option stride", 1)}
  self.padding = {pair(fname, opts.padding or 0, "option padding", 0)}
end

function MaxPool2d:describe()
  local k, st = self.kernel_size, self.stride
  local same = st[1] == k[1] and st[2] == k[2]
  return fmt("MaxPool2d(%s%s)", pair_str(k[1], k[2]),
    same and "" or ", stride " .. pair_str(st[1], st[2]))
end

function MaxPool2d:forward(x)
  check_input(self, x, {4})
  return actrun.max_pool2d(x, self.kernel_size, {stride = self.stride, padding = self.padding})
end

---------------------------------------------------------------------------------------
-- nn.mlp{784, 256, 256, 10, activation="relu" [, norm=, dropout=, init=, residual=]}

local MLP_OPTS = {activation = true, norm = true, dropout = true, init = true, residual = true,
  params = true}

function M.mlp(spec)
  local fname = "actrun.nn.mlp"
  if type(spec) ~= "table" then
    error(fmt("%s: argument #1 (spec) expected a table of sizes and options, got %s", fname,
      type(spec)), 2)
  end
  -- the integer keys are the sizes, the others the options
  local named = {}
  for k, v in pairs(spec) do
    if math.type(k) ~= "integer" then named[k] = v end
  end
  check_opts(fname, named, 1, MLP_OPTS, 3, "spec")
  local sizes = {}
  for i = 1, #spec do
    if not is_posint(spec[i]) then
      error(fmt("%s: size %d expected a positive integer, got %s", fname, i,
        type(spec[i]) == "number" and tostring(spec[i]) or type(spec[i])), 2)
    end
    sizes[i] = math.tointeger(spec[i])
  end
  if #sizes < 2 then
    error(fmt("%s: expected at least 2 sizes (inputs and outputs), got %d", fname, #sizes), 2)
  end
  local actname, actparams = activation_spec(spec.activation or "relu", spec.params)
  if type(actname) ~= "string" then
    error(fmt("%s: option activation expected a name or {name=, params=}, got %s", fname,
      type(actname)), 2)
  end
  local norm = spec.norm
  if norm ~= nil and norm ~= "batch" and norm ~= "layer" then
    error(fmt("%s: option norm expected 'batch', 'layer' or nil, got %s", fname,
      type(norm) == "string" and ("'" .. norm .. "'") or type(norm)), 2)
  end
  local p = spec.dropout
  if p ~= nil then
    if type(p) ~= "number" or p ~= p or p < 0 or p > 1 then
      error(fmt("%s: option dropout expected a probability in [0, 1], got %s", fname,
        tostring(p)), 2)
    end
  end
  local init = spec.init
  if init == nil and actname == "selu" then init = "lecun_normal" end
  local ok, err = pcall(check_init_name, fname, init, "option init")
  if not ok then rethrow(err, 2) end
  local residual = spec.residual
  if residual ~= nil and type(residual) ~= "boolean" then
    error(fmt("%s: option residual expected a boolean, got %s", fname, type(residual)), 2)
  end
  if spec.params ~= nil and type(spec.params) ~= "table" then
    error(fmt("%s: option params expected a table, got %s", fname, type(spec.params)), 2)
  end
  if actname == "pau" then
    local ok2, err2 = pcall(PAU.new, actparams)
    if not ok2 then rethrow(tostring(err2):gsub("actrun%.nn%.PAU", fname), 2) end
  elseif actname ~= "maxout" then
    local ok2, err2 = pcall(Activation.new, actname, actparams)
    if not ok2 then rethrow(tostring(err2):gsub("actrun%.nn%.Activation", fname), 2) end
  end
  local lin_opts = init and {init = init} or nil

  local model = Sequential()
  for i = 1, #sizes - 2 do
    local a, b = sizes[i], sizes[i + 1]
    local layer = {}
    if actname == "maxout" then
      layer[#layer + 1] = Maxout(a, b, 2, lin_opts)
    else
      layer[#layer + 1] = Linear(a, b, lin_opts)
    end
    if norm == "batch" then layer[#layer + 1] = BatchNorm(b) end
    if norm == "layer" then layer[#layer + 1] = LayerNorm(b) end
    if actname == "prelu" then
      -- learnable, one slope per unit (params.init: the starting slope, 0.25 by default)
      layer[#layer + 1] = PReLU(b, actparams and actparams.init)
    elseif actname == "pau" then
      -- learnable, one coefficient set per layer (params: PAU's options m, n, init ...)
      layer[#layer + 1] = PAU(actparams)
    elseif actname ~= "maxout" then
      layer[#layer + 1] = Activation(actname, actparams)
    end
    if p and p > 0 then
      layer[#layer + 1] = actname == "selu" and AlphaDropout(p) or Dropout(p)
    end
    if residual and a == b then
      model:add(Residual(Sequential(layer), {width = b}))
    else
      for _, m in ipairs(layer) do model:add(m) end
    end
  end
  model:add(Linear(sizes[#sizes - 1], sizes[#sizes], lin_opts))
  return model
end

return M
