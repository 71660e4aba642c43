-- actrun.lab: experiment helpers. For now only gradcheck, which the autograd tests use
-- on every differentiable op; training and comparison helpers join it later.
local actrun = require "actrun"

local lab = {}

-- 1-based multi-index of flat position k (row-major) in a tensor of shape `shape`.
local function unravel(k, shape)
  local idx = {}
  k = k - 1
  for d = #shape, 1, -1 do
    idx[d] = k % shape[d] + 1
    k = k // shape[d]
  end
  return idx
end

-- lab.gradcheck(fn, inputs [, {eps=1e-3, tol=1e-2}]) -> ok, max_error
-- Compares autograd's gradient of the one-element fn(table.unpack(inputs)) with central
-- differences (fn(x+eps) - fn(x-eps)) / (x+eps - (x-eps)), the step measured on the
-- stored float values and the difference taken in double. The error of each element is
-- |analytic - numeric| / max(1, |numeric|).
function lab.gradcheck(fn, inputs, opts)
  local fname = "actrun.lab.gradcheck"
  if type(fn) ~= "function" then
    error(fname .. ": argument #1 (fn) expected a function, got " .. type(fn), 2)
  end
  if type(inputs) ~= "table" then
    error(fname .. ": argument #2 (inputs) expected a list of inputs, got " .. type(inputs), 2)
  end
  opts = opts or {}
  local eps, tol = opts.eps or 1e-3, opts.tol or 1e-2
  local checked = {}
  for i, x in ipairs(inputs) do
    if actrun.is_tensor(x) and x.requires_grad then checked[#checked + 1] = i end
  end
  if #checked == 0 then
    error(fname .. ": no input requires grad (create one with {requires_grad=true})", 2)
  end
  local function value()
    local y = fn(table.unpack(inputs))
    if not actrun.is_tensor(y) or y:numel() ~= 1 then
      error(fname .. ": fn must return a tensor with one element", 3)
    end
    return y
  end

  -- analytic: one backward, with the inputs' gradients cleared first
  local saved = {}
  for _, i in ipairs(checked) do
    saved[i] = inputs[i].grad
    inputs[i].grad = nil
  end
  value():backward()
  local analytic = {}
  for _, i in ipairs(checked) do
    local g = inputs[i].grad
    analytic[i] = g and g:clone() or actrun.zeros(inputs[i]:shape())
    inputs[i].grad = saved[i]
  end

  -- numeric, without recording (the inputs are leaves that require grad)
  local max_err = 0
  actrun.no_grad(function()
    for _, i in ipairs(checked) do
      local x, a = inputs[i], analytic[i]
      local shape = x:shape()
      for k = 1, x:numel() do
        local idx = unravel(k, shape)
        local x0 = x:get(table.unpack(idx))
        idx[#shape + 1] = x0 + eps
        x:set(table.unpack(idx))
        local xp = x:get(table.unpack(idx, 1, #shape))
        local fp = value():item()
        idx[#shape + 1] = x0 - eps
        x:set(table.unpack(idx))
        local xm = x:get(table.unpack(idx, 1, #shape))
        local fm = value():item()
        idx[#shape + 1] = x0
        x:set(table.unpack(idx))
        local num = (fp - fm) / (xp - xm)
        local ana = a:get(table.unpack(idx, 1, #shape))
        local err = math.abs(ana - num) / math.max(1, math.abs(num))
        if err ~= err then err = math.huge end
        if err > max_err then max_err = err end
      end
    end
  end)
  return max_err <= tol, max_err
end

return lab
