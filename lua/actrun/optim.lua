-- actrun.optim: SGD, Adam, AdamW, RMSprop, Adagrad, clip_grad_norm, StepLR, CosineLR.
--
-- The update rules are PyTorch 1.13's. Each step runs one fused C loop per parameter
-- (actrun._optim) that writes into the parameter's storage directly: nothing is recorded
-- by autograd and nothing is allocated per step; state buffers are made once, at the
-- first step that sees a gradient. Parameters without a gradient are skipped.
local actrun = require "actrun"
local util = require "actrun.util"
local K = actrun._optim

local optim = {}

local function fail(fname, msg, level)
  error(fname .. ": " .. msg, level + 1)
end

-- A list of leaf, contiguous tensors (a module with :parameters() is accepted too).
local function check_params(fname, params)
  if type(params) == "table" and type(params.parameters) == "function" then
    params = params:parameters()
  end
  if actrun.is_tensor(params) then params = {params} end
  if type(params) ~= "table" then
    fail(fname, "argument #1 (params) expected a list of tensors, got " .. type(params), 3)
  end
  local list, seen = {}, {}
  for i = 1, #params do
    local p = params[i]
    if not actrun.is_tensor(p) then
      fail(fname, string.format("argument #1 (params) entry %d expected a tensor, got %s", i,
        type(p)), 3)
    end
    if not p.is_leaf then
      fail(fname, string.format("argument #1 (params) entry %d is not a leaf tensor (it is " ..
        "the result of an op; optimise the tensors it was computed from)", i), 3)
    end
    if not p:is_contiguous() then
      fail(fname, string.format("argument #1 (params) entry %d is not contiguous", i), 3)
    end
    -- the same tensor twice would be stepped twice per step (and its gradient counted
    -- twice by clip_grad_norm)
    local first = seen[p]
    if first then
      fail(fname, string.format("parameter %d is the same tensor as parameter %d", i, first), 3)
    end
    seen[p] = i
    list[i] = p
  end
  for k in pairs(params) do
    if math.type(k) ~= "integer" or k < 1 or k > #params then
      fail(fname, "argument #1 (params) expected a list, got key " .. tostring(k), 3)
    end
  end
  return list
end

-- Options: known keys only, numbers >= 0 (typos would otherwise be silently ignored).
local function options(fname, opts, defaults, required)
  local known = {}
  for k in pairs(defaults) do known[k] = true end -- a default may be false
  if required then known[required] = true end
  opts = util.check_opts(fname, opts, 2, known, 4)
  local o = {}
  for k, d in pairs(defaults) do
    local v = opts[k]
    if v == nil then v = d end
    if type(d) == "boolean" then
      if type(v) ~= "boolean" then fail(fname, "option " .. k .. " expected a boolean", 3) end
    elseif type(d) == "table" then
      if type(v) ~= "table" or type(v[1]) ~= "number" or type(v[2]) ~= "number" or
          v[1] < 0 or v[1] >= 1 or v[2] < 0 or v[2] >= 1 then
        fail(fname, "option " .. k .. " expected two numbers in [0, 1)", 3)
      end
      v = {v[1], v[2]}
    elseif type(v) ~= "number" or v < 0 or v ~= v then
      fail(fname, "option " .. k .. " expected a number >= 0, got " .. tostring(v), 3)
    end
    o[k] = v
  end
  if required then
    local v = opts[required]
    if type(v) ~= "number" or not (v >= 0 and v < math.huge) then
      fail(fname, "option " .. required .. " (a finite number >= 0) is required, got " ..
        tostring(v), 3)
    end
    o[required] = v
  end
  return o
end

local Optimizer = {}
Optimizer.__index = Optimizer

-- Clears every parameter's .grad (nil, as PyTorch's set_to_none): the next backward then
-- adopts its gradient instead of adding into zeros. One C call for the whole list.
function Optimizer:zero_grad(...)
  if select("#", ...) > 0 then
    util.check_nargs("actrun.optim." .. self.name .. ":zero_grad", select("#", ...), 0, 3)
  end
  K.zero_grad_all(self.params)
end

function Optimizer:__tostring()
  return string.format("%s(%d params, lr=%g)", self.name, #self.params, self.lr)
end

-- One step: each parameter that has a gradient gets its optimiser's in-place update
-- (state buffers are made at the first update that sees a gradient).
-- SGD and Adam/AdamW update the whole list in one C call (step_all); the others call
-- their kernel once per parameter.
local has_grad = K.has_grad
function Optimizer:step(...)
  -- (PyTorch's step(closure) re-evaluates the loss; here a closure would be ignored)
  if select("#", ...) > 0 then
    util.check_nargs("actrun.optim." .. self.name .. ":step", select("#", ...), 0, 3)
  end
  if type(self.lr) ~= "number" then fail("actrun.optim." .. self.name, "lr must be a number", 2) end
  if self.step_all then return self:step_all() end
  local state = self.state
  for i, p in ipairs(self.params) do
    if has_grad(p) then self:update(p, state[i]) end
  end
end

local function new(name, params, o, update, step_all)
  local self = setmetatable(o, Optimizer)
  self.name, self.params, self.state, self.update = name, params, {}, update
  self.step_all = step_all
  for i = 1, #params do self.state[i] = {step = 0} end
  return self
end

local function zeros_like(p)
  return actrun.zeros(p:shape())
end

local function sgd_update(self, p, s)
  local first = false
  if self.momentum ~= 0 and not s.momentum_buffer then
    s.momentum_buffer, first = zeros_like(p), true
  end
  K.sgd(p, s.momentum_buffer, self.lr, self.momentum, self.dampening, self.nesterov,
    self.weight_decay, first)
end

function optim.SGD(params, opts, ...)
  local fname = "actrun.optim.SGD"
  util.check_nargs(fname, 2 + select("#", ...), 2, 3)
  local plist = check_params(fname, params)
  local o = options(fname, opts, {momentum = 0, dampening = 0, nesterov = false,
    weight_decay = 0}, "lr")
  if o.nesterov and (o.momentum <= 0 or o.dampening ~= 0) then
    fail(fname, "nesterov needs momentum > 0 and dampening = 0", 2)
  end
  return new("SGD", plist, o, sgd_update, function(s)
    K.sgd_all(s.params, s.state, s.lr, s.momentum, s.dampening, s.nesterov, s.weight_decay)
  end)
end

local function adam_update(self, p, s)
  if not s.exp_avg then s.exp_avg, s.exp_avg_sq = zeros_like(p), zeros_like(p) end
  s.step = s.step + 1
  K.adam(p, s.exp_avg, s.exp_avg_sq, self.lr, self.betas[1], self.betas[2], self.eps,
    self.weight_decay, self.decoupled, s.step)
end

local function adam(name, decoupled, wd, params, opts)
  local fname = "actrun.optim." .. name
  local plist = check_params(fname, params)
  local o = options(fname, opts, {lr = 1e-3, betas = {0.9, 0.999}, eps = 1e-8,
    weight_decay = wd})
  o.decoupled = decoupled
  return new(name, plist, o, adam_update, function(s)
    local b = s.betas
    K.adam_all(s.params, s.state, s.lr, b[1], b[2], s.eps, s.weight_decay, s.decoupled)
  end)
end

function optim.Adam(params, opts, ...)
  util.check_nargs("actrun.optim.Adam", 2 + select("#", ...), 2, 3)
  return adam("Adam", false, 0, params, opts)
end
function optim.AdamW(params, opts, ...)
  util.check_nargs("actrun.optim.AdamW", 2 + select("#", ...), 2, 3)
  return adam("AdamW", true, 0.01, params, opts)
end

local function rmsprop_update(self, p, s)
  if not s.square_avg then
    s.square_avg = zeros_like(p)
    if self.centered then s.grad_avg = zeros_like(p) end
    if self.momentum > 0 then s.momentum_buffer = zeros_like(p) end
  end
  s.step = s.step + 1
  K.rmsprop(p, s.square_avg, s.grad_avg, self.momentum > 0 and s.momentum_buffer or nil,
    self.lr, self.alpha, self.eps, self.weight_decay, self.momentum)
end

function optim.RMSprop(params, opts, ...)
  local fname = "actrun.optim.RMSprop"
  util.check_nargs(fname, 2 + select("#", ...), 2, 3)
  local plist = check_params(fname, params)
  local o = options(fname, opts, {lr = 0.01, alpha = 0.99, eps = 1e-8, momentum = 0,
    centered = false, weight_decay = 0})
  return new("RMSprop", plist, o, rmsprop_update)
end

local function adagrad_update(self, p, s)
  if not s.sum then s.sum = zeros_like(p) end
  s.step = s.step + 1
  local clr = self.lr / (1 + (s.step - 1) * self.lr_decay)
  K.adagrad(p, s.sum, clr, self.eps, self.weight_decay)
end

function optim.Adagrad(params, opts, ...)
  local fname = "actrun.optim.Adagrad"
  util.check_nargs(fname, 2 + select("#", ...), 2, 3)
  local plist = check_params(fname, params)
  local o = options(fname, opts, {lr = 0.01, lr_decay = 0, eps = 1e-10, weight_decay = 0})
  return new("Adagrad", plist, o, adagrad_update)
end

-- Total 2-norm of all gradients; when above max_norm every gradient is scaled in place by
-- max_norm / (norm + 1e-6), as torch.nn.utils.clip_grad_norm_.
function optim.clip_grad_norm(params, max_norm, ...)
  local fname = "actrun.optim.clip_grad_norm"
  util.check_nargs(fname, 2 + select("#", ...), 2, 3)
  local plist = check_params(fname, params)
  if type(max_norm) ~= "number" or max_norm < 0 then
    fail(fname, "argument #2 (max_norm) expected a number >= 0, got " .. tostring(max_norm), 2)
  end
  local ss = 0
  for _, p in ipairs(plist) do ss = ss + K.grad_sumsq(p) end
  local total = math.sqrt(ss)
  local coef = max_norm / (total + 1e-6)
  if coef < 1 then
    for _, p in ipairs(plist) do K.grad_scale(p, coef) end
  end
  return total
end

---------------------------------------------------------------------------------------
-- Schedules: each :step() advances one epoch and sets opt.lr.

local function check_opt(fname, opt)
  if type(opt) ~= "table" or getmetatable(opt) ~= Optimizer then
    fail(fname, "argument #1 (opt) expected an optimiser, got " .. type(opt), 3)
  end
end

local Sched = {}
Sched.__index = Sched
function Sched:get_last_lr() return self.opt.lr end

-- PyTorch's chainable StepLR: lr *= gamma every `step` epochs (so manual changes to
-- opt.lr between steps are kept, as there).
function optim.StepLR(opt, opts, ...)
  local fname = "actrun.optim.StepLR"
  util.check_nargs(fname, 2 + select("#", ...), 2, 3)
  check_opt(fname, opt)
  local o = options(fname, opts, {gamma = 0.1}, "step")
  if o.step < 1 or math.type(o.step) ~= "integer" and o.step ~= math.floor(o.step) then
    fail(fname, "option step expected an integer >= 1", 2)
  end
  local self = setmetatable({opt = opt, last_epoch = 0, base_lr = opt.lr,
    step_size = math.floor(o.step), gamma = o.gamma}, Sched)
  function self.step(s)
    s.last_epoch = s.last_epoch + 1
    if s.last_epoch % s.step_size == 0 then s.opt.lr = s.opt.lr * s.gamma end
    return s.opt.lr
  end
  return self
end

-- CosineAnnealingLR: eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T)) / 2.
function optim.CosineLR(opt, opts, ...)
  local fname = "actrun.optim.CosineLR"
  util.check_nargs(fname, 2 + select("#", ...), 2, 3)
  check_opt(fname, opt)
  local o = options(fname, opts, {eta_min = 0}, "T")
  if o.T <= 0 then fail(fname, "option T expected a number > 0", 2) end
  local self = setmetatable({opt = opt, last_epoch = 0, base_lr = opt.lr, T = o.T,
    eta_min = o.eta_min}, Sched)
  function self.step(s)
    s.last_epoch = s.last_epoch + 1
    s.opt.lr = s.eta_min + (s.base_lr - s.eta_min) * (1 + math.cos(math.pi * s.last_epoch /
      s.T)) / 2
    return s.opt.lr
  end
  return self
end

return optim
