-- actrun.nn: losses, nn.init, the modules (nn_modules.lua) and model files (nn_io.lua).
--
-- cross_entropy, nll and mse are fused C ops (actrun._loss) with their own backward; bce
-- and bce_with_logits are compositions of differentiable tensor ops, each written in its
-- numerically stable form. Every loss is a mean and returns a 1-element tensor.
local actrun = require "actrun"
local util = require "actrun.util"

local nn = {}

-- The tensor methods themselves: calling them directly skips the __index lookup.
local tensor_methods = getmetatable(actrun.zeros(1)).__methods
local t_dim, t_size = tensor_methods.dim, tensor_methods.size

local shape_str = util.shape_str

local function check_tensor(fname, v, arg, name)
  if not actrun.is_tensor(v) then
    error(string.format("%s: argument #%d (%s) expected a tensor, got %s", fname, arg, name,
      type(v)), 3)
  end
end

-- Elementwise losses need equal shapes: broadcasting a {N} target against {N,1}
-- predictions silently makes an {N,N} loss, the classic mistake.
local function check_pair(fname, a, b, na, nb)
  check_tensor(fname, a, 1, na)
  check_tensor(fname, b, 2, nb)
  -- dims and sizes compared one by one: no shape tables on the hot path
  local nd = t_dim(a)
  local same = nd == t_dim(b)
  for i = 1, same and nd or 0 do
    if t_size(a, i) ~= t_size(b, i) then
      same = false
      break
    end
  end
  if not same then
    error(string.format("%s: %s has shape %s but %s has shape %s (they must match)", fname,
      na, shape_str(a), nb, shape_str(b)), 3)
  end
end

-- cross_entropy(logits {N,C}, labels) and nll(logp {N,C}, labels); labels: a {N} tensor
-- or a list of integers 1..C.
nn.cross_entropy = actrun._loss.cross_entropy
nn.nll = actrun._loss.nll

-- One fused C op with its own backward (the same value as (y - t):square():mean()).
-- Two tensors of one shape take one C call; anything else gets check_pair's message.
local c_mse = actrun._loss.mse
function nn.mse(y, t)
  local out = c_mse(y, t)
  if out then return out end
  check_pair("actrun.nn.mse", y, t, "y", "t")
  return c_mse(y, t, true)
end

-- As PyTorch, each log is clamped at -100 so p = 0 or 1 gives a finite loss.
function nn.bce(p, t)
  check_pair("actrun.nn.bce", p, t, "p", "t")
  if p:numel() > 0 then -- as PyTorch: probabilities outside [0, 1] (or NaN) are an error
    local d = p:detach()
    local lo, hi = d:min():item(), d:max():item()
    if not (lo >= 0 and hi <= 1) then
      error(string.format("actrun.nn.bce: argument #1 (p) must hold probabilities in [0, 1], "
        .. "got values in [%g, %g]", lo, hi), 2)
    end
  end
  local lp = p:log():maximum(-100)
  local lq = (1 - p):log():maximum(-100)
  return (t * lp + (1 - t) * lq):neg():mean()
end

-- max(z,0) - z*t + log(1 + exp(-|z|)): no exp of a positive number, so no overflow.
function nn.bce_with_logits(z, t)
  check_pair("actrun.nn.bce_with_logits", z, t, "z", "t")
  return (z:maximum(0) - z * t + (z:abs():neg():exp() + 1):log()):mean()
end

---------------------------------------------------------------------------------------
-- nn.init: in place (under no_grad, so parameters that require grad can be filled),
-- returning the tensor. Random draws use the context RNG (actrun.manual_seed).

local init = {}
nn.init = init

local function fill_from(t, src)
  actrun.no_grad(function() t:copy(src) end)
  return t
end

local function check_init(fname, t)
  if not actrun.is_tensor(t) then
    error(string.format("%s: argument #1 (t) expected a tensor, got %s", fname, type(t)), 3)
  end
end

-- PyTorch's _calculate_fan_in_and_fan_out: {out, in, k1, k2 ...}.
local function fans(fname, t)
  local s = t:shape()
  if #s < 2 then
    error(string.format("%s: fan in and fan out need a tensor of 2 or more dims, got shape %s",
      fname, shape_str(t)), 3)
  end
  local rf = 1
  for i = 3, #s do rf = rf * s[i] end
  return s[2] * rf, s[1] * rf
end

local function opt_num(fname, v, def, what)
  if v == nil then return def end
  if type(v) ~= "number" then
    error(string.format("%s: %s expected a number, got %s", fname, what, type(v)), 3)
  end
  return v
end

local GAINS = {
  linear = 1, identity = 1, conv1d = 1, conv2d = 1, conv3d = 1, conv_transpose1d = 1,
  conv_transpose2d = 1, conv_transpose3d = 1, sigmoid = 1, tanh = 5 / 3, relu = math.sqrt(2),
  selu = 3 / 4,
}

function init.gain(name, param)
  local fname = "actrun.nn.init.gain"
  if type(name) ~= "string" then
    error(fname .. ": argument #1 (name) expected a string, got " .. type(name), 2)
  end
  if name == "leaky_relu" then
    local a = opt_num(fname, param, 0.01, "argument #2 (param)")
    return math.sqrt(2 / (1 + a * a))
  end
  local g = GAINS[name]
  if not g then
    local names = {"leaky_relu"}
    for k in pairs(GAINS) do names[#names + 1] = k end
    table.sort(names)
    error(fname .. ": unsupported nonlinearity '" .. name .. "' (one of " ..
      table.concat(names, ", ") .. ")", 2)
  end
  return g
end

function init.uniform(t, a, b)
  check_init("actrun.nn.init.uniform", t)
  a, b = opt_num("actrun.nn.init.uniform", a, 0, "a"), opt_num("actrun.nn.init.uniform", b, 1, "b")
  if not (a <= b) or b - a == math.huge then
    error(string.format("actrun.nn.init.uniform: expected finite bounds a <= b, got a=%g, b=%g", a, b), 2)
  end
  return fill_from(t, actrun.rand(t:shape()) * (b - a) + a)
end

function init.normal(t, mean, std)
  check_init("actrun.nn.init.normal", t)
  mean = opt_num("actrun.nn.init.normal", mean, 0, "mean")
  std = opt_num("actrun.nn.init.normal", std, 1, "std")
  if not (std >= 0 and std < math.huge) or mean ~= mean then
    error(string.format("actrun.nn.init.normal: expected std >= 0 (finite), got mean=%g, std=%g",
      mean, std), 2)
  end
  return fill_from(t, actrun.randn(t:shape()) * std + mean)
end

function init.constant(t, v)
  check_init("actrun.nn.init.constant", t)
  if type(v) ~= "number" then
    error("actrun.nn.init.constant: argument #2 (v) expected a number, got " .. type(v), 2)
  end
  actrun.no_grad(function() t:fill(v) end)
  return t
end

function init.zeros(t)
  check_init("actrun.nn.init.zeros", t)
  actrun.no_grad(function() t:fill(0) end)
  return t
end

function init.ones(t)
  check_init("actrun.nn.init.ones", t)
  actrun.no_grad(function() t:fill(1) end)
  return t
end

function init.xavier_uniform(t, gain)
  local fname = "actrun.nn.init.xavier_uniform"
  check_init(fname, t)
  local fi, fo = fans(fname, t)
  local a = opt_num(fname, gain, 1, "gain") * math.sqrt(6 / (fi + fo))
  return init.uniform(t, -a, a)
end

function init.xavier_normal(t, gain)
  local fname = "actrun.nn.init.xavier_normal"
  check_init(fname, t)
  local fi, fo = fans(fname, t)
  return init.normal(t, 0, opt_num(fname, gain, 1, "gain") * math.sqrt(2 / (fi + fo)))
end

local KAIMING_OPTS = {a = true, mode = true, nonlinearity = true}

local function kaiming_std(fname, t, opts)
  check_init(fname, t)
  -- level 4: the user's call of kaiming_uniform/kaiming_normal, which call kaiming_std
  opts = util.check_opts(fname, opts, 2, KAIMING_OPTS, 4)
  local fi, fo = fans(fname, t)
  local mode = opts.mode or "fan_in"
  if mode ~= "fan_in" and mode ~= "fan_out" then
    error(fname .. ": mode must be 'fan_in' or 'fan_out', got " .. tostring(mode), 3)
  end
  local nl = opts.nonlinearity or "leaky_relu"
  local a = opt_num(fname, opts.a, 0, "a")
  local ok, g = pcall(init.gain, nl, nl == "leaky_relu" and a or nil)
  if not ok then error(fname .. ": " .. tostring(g):gsub("^.-: ", "", 1), 3) end
  return g / math.sqrt(mode == "fan_in" and fi or fo)
end

function init.kaiming_uniform(t, opts)
  local std = kaiming_std("actrun.nn.init.kaiming_uniform", t, opts)
  local b = math.sqrt(3) * std
  return init.uniform(t, -b, b)
end

function init.kaiming_normal(t, opts)
  return init.normal(t, 0, kaiming_std("actrun.nn.init.kaiming_normal", t, opts))
end

function init.lecun_normal(t)
  local fname = "actrun.nn.init.lecun_normal"
  check_init(fname, t)
  local fi = fans(fname, t)
  return init.normal(t, 0, 1 / math.sqrt(fi))
end

-- PyTorch's orthogonal_: QR of a {rows, cols} normal matrix (transposed when wide) with
-- the signs fixed so R has a positive diagonal. Modified Gram-Schmidt in C gives exactly
-- that Q (its R diagonal is positive by construction), computed in double.
function init.orthogonal(t, gain)
  local fname = "actrun.nn.init.orthogonal"
  check_init(fname, t)
  gain = opt_num(fname, gain, 1, "gain")
  local s = t:shape()
  if #s < 2 then
    error(fname .. ": needs a tensor of 2 or more dims, got shape " .. shape_str(t), 2)
  end
  local rows = s[1]
  local n = t:numel()
  if n == 0 then return t end
  local flat = actrun.randn(rows, n // rows)
  actrun._loss.orthogonal_(flat, gain)
  return fill_from(t, flat:reshape(s))
end

---------------------------------------------------------------------------------------
-- The modules (Linear, Sequential, ..., nn.mlp) live in actrun.nn_modules.
for k, v in pairs(require "actrun.nn_modules") do nn[k] = v end
-- Kolmogorov-Arnold layers (KANLinear, nn.kan) live in actrun.nn_kan.
for k, v in pairs(require "actrun.nn_kan") do nn[k] = v end

---------------------------------------------------------------------------------------
-- Model files live in actrun.nn_io (safetensors), loaded on first use.
function nn.save(...) return require("actrun.nn_io").save(...) end
function nn.load(...) return require("actrun.nn_io").load(...) end

return nn
