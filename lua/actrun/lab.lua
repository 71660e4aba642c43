-- actrun.lab: experiments over modules. train / evaluate (a mini-batch loop in Lua over
-- C ops), compare (activations x seeds, a ranked table, CSV and a plot), the probes
-- (gradient_flow, activation_stats, dead_units, depth_probe), gradcheck, and stats (the
-- tests that say whether a difference between activations is real; actrun/stats.lua).
--
-- Nothing here loops over elements in Lua: every statistic is a tensor op (a reduction
-- to one number per batch, or to one number per unit), and Lua only adds those up.
local actrun = require "actrun"
local util = require "actrun.util"

local lab = {}
local fmt = string.format

-- Pure Lua and small: loaded with lab so that help(actrun.lab.stats.paired) finds it.
lab.stats = require "actrun.stats"

-- Loaded on first use (gradcheck, used by the autograd tests, needs none of them).
local function nn() return require "actrun.nn" end
local function optim() return require "actrun.optim" end
local function data() return require "actrun.data" end
local function progress() return require "actrun.progress" end

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
-- Checks shared by gradcheck and gradgradcheck: fn a function, inputs a list with at
-- least one tensor that requires grad. Returns opts, eps, tol and those tensors with their
-- positions in inputs.
local function check_inputs(fname, fn, inputs, opts)
  if type(fn) ~= "function" then
    error(fname .. ": argument #1 (fn) expected a function, got " .. type(fn), 3)
  end
  if type(inputs) ~= "table" then
    error(fname .. ": argument #2 (inputs) expected a list of inputs, got " .. type(inputs), 3)
  end
  opts = opts or {}
  local list, pos = {}, {}
  for i, x in ipairs(inputs) do
    if actrun.is_tensor(x) and x.requires_grad then
      list[#list + 1] = x
      pos[#list] = i
    end
  end
  if #list == 0 then
    error(fname .. ": no input requires grad (create one with {requires_grad=true})", 3)
  end
  return opts, opts.eps or 1e-3, opts.tol or 1e-2, list, pos
end

-- The largest |analytic - numeric| / max(1, |numeric|) over every element of the tensors
-- xs, numeric by central differences of value() (a number): each element moved by +-eps
-- in place (under no_grad), the step measured on the stored float values, the difference
-- taken in double; NaN counts as infinitely wrong.
local function max_fd_error(xs, analytic, eps, value)
  local function set(x, idx, v)
    idx[#idx + 1] = v
    actrun.no_grad(function() x:set(table.unpack(idx)) end)
    idx[#idx] = nil
    return x:get(table.unpack(idx))
  end
  local max_err = 0
  for j, x in ipairs(xs) do
    local shape = x:shape()
    for k = 1, x:numel() do
      local idx = unravel(k, shape)
      local x0 = x:get(table.unpack(idx))
      local xp = set(x, idx, x0 + eps)
      local fp = value()
      local xm = set(x, idx, x0 - eps)
      local fm = value()
      set(x, idx, x0)
      local num = (fp - fm) / (xp - xm)
      local err = math.abs(analytic[j]:get(table.unpack(idx)) - num) / math.max(1, math.abs(num))
      if err ~= err then err = math.huge end
      if err > max_err then max_err = err end
    end
  end
  return max_err
end

function lab.gradcheck(fn, inputs, opts)
  local fname = "actrun.lab.gradcheck"
  local _, eps, tol, list = check_inputs(fname, fn, inputs, opts)
  local function value()
    local y = fn(table.unpack(inputs))
    if not actrun.is_tensor(y) or y:numel() ~= 1 then
      error(fname .. ": fn must return a tensor with one element", 3)
    end
    return y
  end

  -- analytic: one backward, with the inputs' gradients cleared first
  local saved = {}
  for j, x in ipairs(list) do
    saved[j] = x.grad
    x.grad = nil
  end
  value():backward()
  local analytic = {}
  for j, x in ipairs(list) do
    local g = x.grad
    analytic[j] = g and g:clone() or actrun.zeros(x:shape())
    x.grad = saved[j]
  end

  -- numeric, without recording (the inputs are leaves that require grad)
  local max_err = max_fd_error(list, analytic, eps, function()
    return actrun.no_grad(function() return value():item() end)
  end)
  return max_err <= tol, max_err
end

-- lab.gradgradcheck(fn, inputs [, {eps=1e-3, tol=1e-2, seed=1}]) -> ok, max_error
-- Checks second derivatives as PyTorch's gradgradcheck: with fixed pseudo-random weights
-- u (on fn's output) and v (on each input), G = sum_i <d(u . fn)/d x_i, v_i> is a
-- function of the inputs whose gradient is a Hessian-vector product. Autograd's gradient
-- of G (through create_graph) is compared with central differences of G, each G taken
-- with a first-order backward. Errors as in gradcheck.
function lab.gradgradcheck(fn, inputs, opts)
  local fname = "actrun.lab.gradgradcheck"
  local eps, tol, list
  opts, eps, tol, list = check_inputs(fname, fn, inputs, opts)
  local state = math.tointeger(opts.seed or 1) or 1
  local function weights_like(t) -- in [-1, -0.25] and [0.25, 1]: no near-zero weight
    local out = actrun.empty(t:shape())
    local flat = out:view(out:numel())
    for k = 1, out:numel() do
      state = (state * 1103515245 + 12345) % 2147483648
      local r = state / 2147483648
      flat:set(k, (r < 0.5 and -1 or 1) * (0.25 + 1.5 * math.abs(r - 0.5)))
    end
    return out
  end
  local y0 = fn(table.unpack(inputs))
  if not actrun.is_tensor(y0) then error(fname .. ": fn must return a tensor", 2) end
  local u = weights_like(y0)
  local v = {}
  for j, x in ipairs(list) do v[j] = weights_like(x) end
  local function G(create)
    local y = fn(table.unpack(inputs))
    if not y.requires_grad then return nil end
    local gs = actrun.grad(y, list, {grad_outputs = u, create_graph = create,
                                     allow_unused = true})
    local total
    for j = 1, #list do
      if gs[j] then
        local s = (gs[j] * v[j]):sum()
        total = total and total + s or s
      end
    end
    return total
  end

  local analytic = {}
  local g = G(true)
  local hs = (g and g.requires_grad) and actrun.grad(g, list, {allow_unused = true}) or {}
  for j, x in ipairs(list) do analytic[j] = hs[j] or actrun.zeros(x:shape()) end
  g, hs = nil, nil

  local max_err = max_fd_error(list, analytic, eps, function()
    local t = G(false)
    return t and t:item() or 0
  end)
  return max_err <= tol, max_err
end

-- lab.phase_diagram{activation=, params=, sigma_w2={0.25, 4}, sigma_b2={0, 0.5},
--                   n={24, 12}, contours={2, 5, 10, 20, 50}, file=}
-- The (sigma_w2, sigma_b2) plane of a deep random network with this activation, from
-- mean-field theory (act.propagation): ordered where chi1 < 1 (signals and gradients die
-- out over xi_c = -1/log(chi1) layers), chaotic where chi1 > 1, and the critical line
-- between (act.edge_of_chaos at each sigma_b2). With file, an SVG: the critical line and
-- the xi_c contours of the ordered side; without, a character map on the terminal.
-- Returns the grid: {sigma_w2=, sigma_b2=, chi1=, q_star=, xi_c= (rows by sigma_b2),
-- critical={sigma_b2=, sigma_w2=}}.
local PHASE_OPTS = {activation = true, params = true, sigma_w2 = true, sigma_b2 = true,
                    n = true, contours = true, file = true}

local function range_opt(fname, spec, key, default, min_lo)
  local r = spec[key]
  if r == nil then return default[1], default[2] end
  if type(r) ~= "table" or type(r[1]) ~= "number" or type(r[2]) ~= "number" or
     not (r[1] < r[2]) or r[1] < min_lo or r[2] == math.huge then
    error(string.format("%s: option %s expected {lo, hi} with %g <= lo < hi, finite, got %s",
      fname, key, min_lo, type(r) == "table" and "{" .. tostring(r[1]) .. ", " ..
      tostring(r[2]) .. "}" or type(r)), 3)
  end
  return r[1], r[2]
end

function lab.phase_diagram(spec)
  local fname = "actrun.lab.phase_diagram"
  if type(spec) ~= "table" then
    error(fname .. ": argument #1 (spec) expected a table {activation=, ...}, got " .. type(spec), 2)
  end
  for k in pairs(spec) do
    if not PHASE_OPTS[k] then
      local known = {}
      for o in pairs(PHASE_OPTS) do known[#known + 1] = o end
      table.sort(known)
      error(string.format("%s: unknown option '%s' (options: %s)", fname, tostring(k),
        table.concat(known, ", ")), 2)
    end
  end
  local name = spec.activation
  if type(name) ~= "string" then
    error(fname .. ": option activation expected an activation name, got " .. type(name), 2)
  end
  local wlo, whi = range_opt(fname, spec, "sigma_w2", {0.25, 4}, 1e-12)
  local blo, bhi = range_opt(fname, spec, "sigma_b2", {0, 0.5}, 0)
  local n = spec.n or {24, 12}
  if type(n) ~= "table" or math.type(n[1]) ~= "integer" or math.type(n[2]) ~= "integer" or
     n[1] < 2 or n[2] < 2 or n[1] * n[2] > 20000 then
    error(fname .. ": option n expected {points along sigma_w2, along sigma_b2}, integers " ..
      ">= 2, at most 20000 in all", 2)
  end
  local contours = spec.contours or {2, 5, 10, 20, 50}
  if type(contours) ~= "table" then error(fname .. ": option contours expected a list of depths", 2) end
  for _, c in ipairs(contours) do
    if type(c) ~= "number" or not (c > 0) or c == math.huge then
      error(fname .. ": option contours expected positive depths (layers), got " .. tostring(c), 2)
    end
  end
  if spec.file ~= nil and type(spec.file) ~= "string" then
    error(fname .. ": option file expected a file name, got " .. type(spec.file), 2)
  end
  local sws, sbs = {}, {}
  for i = 1, n[1] do sws[i] = wlo + (whi - wlo) * (i - 1) / (n[1] - 1) end
  for j = 1, n[2] do sbs[j] = blo + (bhi - blo) * (j - 1) / (n[2] - 1) end
  local chi, q, crit = actrun.act._phase_grid(2, fname, name, spec.params, sws, sbs)
  local xi = {}
  for j = 1, #sbs do
    xi[j] = {}
    for i = 1, #sws do
      local c = chi[j][i]
      xi[j][i] = (c < 1 and c > 0) and -1 / math.log(c) or math.huge
    end
  end
  local result = {activation = name, sigma_w2 = sws, sigma_b2 = sbs, chi1 = chi, q_star = q,
                  xi_c = xi, critical = {sigma_b2 = sbs, sigma_w2 = crit}}

  if spec.file then
    local series = {}
    local cx, cy = {}, {}
    for j, sb in ipairs(sbs) do
      if crit[j] and crit[j] >= wlo and crit[j] <= whi then cx[#cx + 1], cy[#cy + 1] = crit[j], sb end
    end
    if #cx > 0 then series[#series + 1] = {x = cx, y = cy, label = "critical (chi1 = 1)"} end
    for _, depth in ipairs(contours) do -- chi1 = exp(-1/depth), found between grid points
      local target = math.exp(-1 / depth)
      local xs, ys = {}, {}
      for j, sb in ipairs(sbs) do
        for i = 1, #sws - 1 do
          local a, b = chi[j][i], chi[j][i + 1]
          if (a - target) * (b - target) <= 0 and a ~= b then
            xs[#xs + 1] = sws[i] + (target - a) / (b - a) * (sws[i + 1] - sws[i])
            ys[#ys + 1] = sb
            break
          end
        end
      end
      if #xs > 0 then
        series[#series + 1] = {x = xs, y = ys, label = string.format("xi_c = %g layers", depth)}
      end
    end
    if #series == 0 then
      error(fname .. ": nothing to draw: no critical line or contour inside the ranges", 2)
    end
    require("actrun.plot").line{series = series, file = spec.file,
      title = "phase diagram of " .. name .. ": ordered left of the critical line, chaotic right",
      xlabel = "sigma_w2", ylabel = "sigma_b2"}
  else
    local lines = {string.format("phase diagram of %s (mean field): '.' ordered (chi1 < 1), " ..
      "'#' chaotic, '*' the critical line", name)}
    for j = #sbs, 1, -1 do
      local row = {}
      for i = 1, #sws do row[i] = chi[j][i] < 1 and "." or "#" end
      if crit[j] and crit[j] >= wlo and crit[j] <= whi then
        local k = math.floor((crit[j] - wlo) / (whi - wlo) * (#sws - 1) + 0.5) + 1
        row[k] = "*"
      end
      lines[#lines + 1] = string.format("%8.3g |%s", sbs[j], table.concat(row))
    end
    lines[#lines + 1] = string.rep(" ", 9) .. "+" .. string.rep("-", #sws)
    lines[#lines + 1] = string.format("%9s %-" .. math.max(1, #sws - 6) .. "s%6s", "",
      string.format("%.3g", wlo), string.format("%.3g", whi))
    lines[#lines + 1] = string.format("%9s sigma_w2 across, sigma_b2 up", "")
    local text = table.concat(lines, "\n") .. "\n"
    io.stdout:write(text)
    result.text = text
  end
  return result
end

---------------------------------------------------------------------------------------
-- Argument checks shared by the lab functions. `level` is the error level of the
-- caller of the public function, seen from the helper (3 when the public function calls
-- the helper directly).

local typename, shape_str, check_opts = util.typename, util.shape_str, util.check_opts

local function is_module(m)
  return type(m) == "table" and type(m.forward) == "function" and
    type(m.parameters) == "function" and type(m.named_modules) == "function"
end

local function check_model(fname, m, argn, level)
  if not is_module(m) then
    error(fmt("%s: argument #%d (model) expected an nn module, got %s", fname, argn,
      typename(m)), level)
  end
end

local function check_tensor(fname, v, what, level)
  if not actrun.is_tensor(v) then
    error(fmt("%s: %s expected a tensor, got %s", fname, what, typename(v)), level)
  end
end

-- X {N, ...} and y {N, ...} with N >= 1 rows each.
local function check_xy(fname, X, y, xwhat, ywhat, level)
  check_tensor(fname, X, xwhat, level + 1)
  check_tensor(fname, y, ywhat, level + 1)
  if X:dim() < 1 or X:size(1) < 1 then
    error(fmt("%s: %s has shape %s, expected at least one row", fname, xwhat, shape_str(X)),
      level)
  end
  if y:dim() < 1 or y:size(1) ~= X:size(1) then
    error(fmt("%s: %s has %d rows but %s has %s (they must match)", fname, xwhat, X:size(1),
      ywhat, y:dim() < 1 and "0 dims" or (y:size(1) .. " rows")), level)
  end
end

-- A {X=, y=} table argument.
local function check_set(fname, set, argn, name, level)
  if type(set) ~= "table" or actrun.is_tensor(set) then
    error(fmt("%s: argument #%d (%s) expected a table {X=, y=}, got %s", fname, argn, name,
      typename(set)), level)
  end
  local where = fmt("argument #%d (%s)", argn, name)
  check_xy(fname, set.X, set.y, where .. " field X", where .. " field y", level + 1)
  return set.X, set.y
end

local function opt_posint(fname, opts, key, default, level)
  local v = opts[key]
  if v == nil then return default end
  if math.type(v) == "float" and v == math.floor(v) then v = math.tointeger(v) end
  if math.type(v) ~= "integer" or v < 1 then
    error(fmt("%s: option %s expected an integer >= 1, got %s", fname, key,
      type(v) == "number" and tostring(v) or typename(v)), level)
  end
  return v
end

local function opt_type(fname, opts, key, want, level)
  local v = opts[key]
  if v ~= nil and type(v) ~= want then
    error(fmt("%s: option %s expected a %s, got %s", fname, key, want, typename(v)), level)
  end
  return v
end

-- "file:line: " of the code that called the public function (level 2 = the public
-- function's caller), for errors found deep inside a training loop.
local function caller_pos(level)
  local info = debug.getinfo(level + 1, "Sl")
  if info and info.currentline and info.currentline > 0 then
    return info.short_src .. ":" .. info.currentline .. ": "
  end
  return ""
end

local function is_callable(f)
  if type(f) == "function" then return true end
  local mt = getmetatable(f)
  return type(mt) == "table" and type(mt.__call) == "function"
end

-- The training mode of every module, to put back exactly as it was.
local function save_modes(model)
  local saved = {}
  for i, e in ipairs(model:named_modules()) do saved[i] = {e.module, e.module.training} end
  return saved
end

local function restore_modes(saved)
  for _, s in ipairs(saved) do s[1].training = s[2] end
end

-- Runs fn() with the model in train (true) or eval (false) mode, then puts every
-- module's mode back, also when fn fails.
local function with_mode(model, training, fn)
  local saved = save_modes(model)
  if training then model:train() else model:eval() end
  local res = table.pack(pcall(fn))
  restore_modes(saved)
  if not res[1] then error(res[2], 0) end
  return table.unpack(res, 2, res.n)
end

---------------------------------------------------------------------------------------
-- Accuracy: what "correct" means depends on the outputs and the targets.
--   outputs {N,C} with C >= 2 and targets {N}: class labels 1..C, correct when the
--     argmax of the row is the label;
--   outputs {N,1} or {N} with targets of the same shape holding only 0 and 1: binary,
--     correct when (output > threshold) equals the target; the threshold is 0 for
--     nn.bce_with_logits (logits) and 0.5 otherwise (probabilities, or mse on 0/1);
--   anything else (regression): no accuracy (nil).

-- Same rank and same sizes after the first (row) dim.
local function same_row_shape(a, b)
  local sa, sb = a:shape(), b:shape()
  if #sa ~= #sb then return false end
  for i = 2, #sa do if sa[i] ~= sb[i] then return false end end
  return true
end

-- Decides the accuracy rule from the first batch's outputs and the whole target tensor
-- y; checks class labels (integers in 1..C). Returns a rule table or nil.
local function accuracy_rule(fname, out, y, lossf, what, pos)
  if not actrun.is_tensor(out) then return nil end
  if out:dim() == 2 and out:size(2) >= 2 and y:dim() == 1 then
    local C = out:size(2)
    local lo, hi = y:min():item(), y:max():item()
    local frac = (y - y:floor()):abs():max():item()
    if frac ~= 0 or lo ~= lo or hi ~= hi then
      error(pos .. fmt("%s: %s holds non-integer labels (class labels are integers 1..%d)",
        fname, what, C), 0)
    end
    if lo < 1 or hi > C then
      error(pos .. fmt("%s: %s holds label %s, out of range 1..%d (the model outputs %d " ..
        "classes)", fname, what, fmt("%g", lo < 1 and lo or hi), C, C), 0)
    end
    return {kind = "class", classes = C}
  end
  local single = out:dim() == 1 or (out:dim() == 2 and out:size(2) == 1)
  if single and same_row_shape(out, y) then
    local binary = (y:eq(0) + y:eq(1)):sum():item() == y:numel()
    if binary then
      local nnm = nn()
      return {kind = "binary", threshold = lossf == nnm.bce_with_logits and 0 or 0.5}
    end
  end
  return nil
end

-- Number of correct predictions in one batch (a tensor reduction, then one number).
local function count_correct(rule, out, yb)
  out = out:detach()
  if rule.kind == "class" then
    return out:argmax(2):eq(yb):sum():item()
  end
  return out:gt(rule.threshold):eq(yb):sum():item()
end

local EVAL_BATCH = 1024

-- Mean loss and accuracy of model on (X, y), in batches of `batch` rows, without
-- recording (the caller sets the mode).
local function eval_batches(fname, model, X, y, lossf, batch, what, pos)
  local N = X:size(1)
  return actrun.no_grad(function()
    local loss_sum, correct, rule = 0, 0, nil
    for i = 1, N, batch do
      local n = math.min(batch, N - i + 1)
      local xb, yb = X:narrow(1, i, n), y:narrow(1, i, n)
      local out = model(xb)
      if i == 1 then rule = accuracy_rule(fname, out, y, lossf, what, pos) end
      local l = lossf(out, yb)
      loss_sum = loss_sum + l:item() * n
      if rule then correct = correct + count_correct(rule, out, yb) end
    end
    return loss_sum / N, rule and correct / N or nil
  end)
end

---------------------------------------------------------------------------------------
-- lab.train

local TRAIN_OPTS = {epochs = true, batch = true, optimizer = true, loss = true,
  on_epoch = true, seed = true, shuffle = true, val = true, progress = true, label = true,
  distributed = true}

-- actrun.dist when this build has it (nil otherwise: one rank).
local function dist_module()
  local d = package.loaded["actrun.dist"]
  if d == nil then
    local ok, m = pcall(require, "actrun.dist")
    d = ok and type(m) == "table" and m or nil
  end
  return d
end

local function pct(v)
  return v and fmt("%.2f%%", 100 * v) or nil
end

-- Data parallel helpers (lab.train{distributed=true}). A model's tensors travel as one
-- flat buffer: one collective per step however many parameters there are.
local function numel_sum(list)
  local n = 0
  for _, p in ipairs(list) do n = n + p:numel() end
  return n
end

-- rank 0's values of every tensor in list (parameters, buffers) on every rank
local function broadcast_tensors(D, list)
  local total = numel_sum(list)
  if total == 0 then return end
  local flat = actrun.zeros(total)
  local off = 1
  for _, p in ipairs(list) do
    local k = p:numel()
    if k > 0 then flat:narrow(1, off, k):copy(p:detach():reshape(k)) end
    off = off + k
  end
  D.broadcast(flat, 0)
  off = 1
  for _, p in ipairs(list) do
    local k = p:numel()
    if k > 0 then p:detach():copy(flat:narrow(1, off, k):view(p:shape())) end
    off = off + k
  end
end

-- The model's buffers (BatchNorm's running statistics) in a fixed order.
local function model_buffers(model)
  if type(model.named_buffers) ~= "function" then return {} end
  local map, names = model:named_buffers()
  local list = {}
  for _, name in ipairs(names or {}) do
    if actrun.is_tensor(map[name]) then list[#list + 1] = map[name] end
  end
  return list
end

-- One allreduce per step: each rank's gradients, weighted by its share of the step's
-- rows (n of nall), go into one flat buffer; the ranks' sum is the gradient of the mean
-- loss over all nall rows, copied back into every p.grad (identical on every rank).
-- With equal shares (n * size == nall) the weights are 1 / size: an allreduce "mean".
local function allreduce_grads(D, params, flat, n, nall, size)
  local off = 1
  for _, p in ipairs(params) do
    local k = p:numel()
    if k > 0 then
      local g = p.grad
      if g == nil or n == 0 then flat:narrow(1, off, k):zero()
      else flat:narrow(1, off, k):copy(g:reshape(k)) end
    end
    off = off + k
  end
  local buf = flat
  if n * size == nall then
    D.allreduce(buf, "mean")
  else
    if n ~= nall then buf = flat * (n / nall) end
    D.allreduce(buf, "sum")
  end
  off = 1
  for _, p in ipairs(params) do
    local k = p:numel()
    if k > 0 then
      local src = buf:narrow(1, off, k):view(p:shape())
      if p.grad == nil then p.grad = src:clone() else p.grad:copy(src) end
    end
    off = off + k
  end
end

-- The text of one finished epoch (progress display).
local function epoch_text(row)
  local parts = {fmt("loss %.4f", row.loss)}
  if row.accuracy then parts[#parts + 1] = "accuracy " .. pct(row.accuracy) end
  if row.val_loss then parts[#parts + 1] = fmt("val_loss %.4f", row.val_loss) end
  if row.val_accuracy then parts[#parts + 1] = "val_accuracy " .. pct(row.val_accuracy) end
  parts[#parts + 1] = fmt("%.2f s", row.seconds)
  return table.concat(parts, "  ")
end

function lab.train(model, set, opts)
  local fname = "actrun.lab.train"
  check_model(fname, model, 1, 3)
  local X, y = check_set(fname, set, 2, "data", 3)
  opts = check_opts(fname, opts, 3, TRAIN_OPTS, 3)
  local epochs = opt_posint(fname, opts, "epochs", 1, 3)
  local batch = opt_posint(fname, opts, "batch", 64, 3)
  local opt = opts.optimizer
  if opt ~= nil and (type(opt) ~= "table" or not is_callable(opt.step) or
      not is_callable(opt.zero_grad)) then
    error(fmt("%s: option optimizer expected an optimiser (with step and zero_grad), got %s",
      fname, typename(opt)), 2)
  end
  local lossf = opts.loss
  if lossf ~= nil and not is_callable(lossf) then
    error(fmt("%s: option loss expected a function, got %s", fname, typename(lossf)), 2)
  end
  local on_epoch = opts.on_epoch
  if on_epoch ~= nil and not is_callable(on_epoch) then
    error(fmt("%s: option on_epoch expected a function, got %s", fname, typename(on_epoch)), 2)
  end
  local seed = opts.seed
  if seed ~= nil and math.type(seed) ~= "integer" and
      not (type(seed) == "number" and seed == math.floor(seed)) then
    error(fmt("%s: option seed expected an integer, got %s", fname,
      type(seed) == "number" and tostring(seed) or typename(seed)), 2)
  end
  seed = seed and math.tointeger(seed)
  local shuffle = opt_type(fname, opts, "shuffle", "boolean", 3)
  if shuffle == nil then shuffle = true end
  local Xv, yv
  if opts.val ~= nil then
    if type(opts.val) ~= "table" or actrun.is_tensor(opts.val) then
      error(fmt("%s: option val expected a table {X=, y=}, got %s", fname,
        typename(opts.val)), 2)
    end
    check_xy(fname, opts.val.X, opts.val.y, "option val field X", "option val field y", 3)
    Xv, yv = opts.val.X, opts.val.y
  end
  local show = opts.progress
  if show ~= nil and type(show) ~= "boolean" then
    error(fmt("%s: option progress expected a boolean, got %s", fname, typename(show)), 2)
  end
  local label = opt_type(fname, opts, "label", "string", 3)
  local pos = caller_pos(2)
  -- data parallel: every rank draws the same N x batch rows and trains on its share;
  -- gradients are averaged weighted by the shares, so N ranks equal one process with
  -- N x batch (same seed: same batches)
  local D, rank, size = nil, 0, 1
  if opt_type(fname, opts, "distributed", "boolean", 3) then
    D = dist_module()
    if D then rank, size = D.rank(), D.size() end
    if size <= 1 then D = nil end
  end
  if D and rank ~= 0 then show = false end

  lossf = lossf or nn().cross_entropy
  local params = model:parameters()
  opt = opt or optim().Adam(params, {lr = 1e-3})
  local flat, buffers
  if D then
    -- start from rank 0's weights (and buffers)
    buffers = model_buffers(model)
    broadcast_tensors(D, params)
    broadcast_tensors(D, buffers)
    flat = actrun.zeros(math.max(1, numel_sum(params)))
  end
  local N = X:size(1)
  local nbatches = (N + batch * size - 1) // (batch * size)
  local history = {}
  -- the training loss every few batches (about 20 points an epoch), x in epochs: a curve
  -- even for a one-epoch run (history.curve = {{epoch=, loss=}, ...})
  local curve, every = {}, math.max(1, nbatches // 20)
  history.curve = curve
  local P = progress()

  with_mode(model, true, function()
    local rule, first = nil, true
    for epoch = 1, epochs do
      local bar = P.new{
        label = fmt("%sepoch %d/%d", label and (label .. "  ") or "", epoch, epochs),
        total = nbatches, after = (epochs - epoch) * nbatches, progress = show,
      }
      local lopts = {batch = batch * size, shuffle = shuffle}
      -- one order per epoch, derived from the seed (same seed: same batches)
      if shuffle and seed then lopts.seed = seed * 1000003 + epoch end
      local t0 = actrun.clock()
      local loss_sum, correct, seen, done = 0, 0, 0, 0
      local win_sum, win_n = 0, 0
      for xb, yb in data().loader(X, y, lopts) do
        local nall = xb:size(1)
        local lo = rank * nall // size
        local n = (rank + 1) * nall // size - lo
        if D and n > 0 then xb, yb = xb:narrow(1, lo + 1, n), yb:narrow(1, lo + 1, n) end
        opt:zero_grad()
        if n > 0 then
          local out = model(xb)
          if first then
            rule = accuracy_rule(fname, out, y, lossf, "argument #2 (data) field y", pos)
            first = false
          end
          local loss = lossf(out, yb)
          if not actrun.is_tensor(loss) or loss:numel() ~= 1 then
            error(pos .. fmt("%s: option loss must return a one-element tensor, got %s", fname,
              actrun.is_tensor(loss) and ("shape " .. shape_str(loss)) or typename(loss)), 0)
          end
          loss:backward()
          local l = loss:item()
          loss_sum = loss_sum + l * n
          win_sum, win_n = win_sum + l * n, win_n + n
          seen = seen + n
          if rule then correct = correct + count_correct(rule, out, yb) end
        end
        if D then allreduce_grads(D, params, flat, n, nall, size) end
        opt:step()
        done = done + 1
        if (done % every == 0 or done == nbatches) and win_n > 0 then
          curve[#curve + 1] = {epoch = epoch - 1 + done / nbatches, loss = win_sum / win_n}
          win_sum, win_n = 0, 0
        end
        bar:update(done, seen > 0 and loss_sum / seen or nil)
      end
      if D then
        -- the epoch's numbers over every rank's rows (as doubles); rank 0's buffers
        -- (running statistics, computed on its shards) keep the replicas identical
        local t = D.allreduce({loss_sum, seen, correct}, "sum")
        loss_sum, seen, correct = t[1], t[2], t[3]
        broadcast_tensors(D, buffers)
      end
      local row = {epoch = epoch, loss = loss_sum / seen,
        accuracy = rule and correct / seen or nil, seconds = actrun.clock() - t0}
      if Xv then
        local vl, va = with_mode(model, false, function()
          return eval_batches(fname, model, Xv, yv, lossf, EVAL_BATCH, "option val field y", pos)
        end)
        row.val_loss, row.val_accuracy = vl, va
      end
      history[#history + 1] = row
      bar:finish(epoch_text(row))
      if on_epoch and on_epoch(row, model) == false then break end
    end
  end)
  return history
end

---------------------------------------------------------------------------------------
-- lab.evaluate

function lab.evaluate(model, X, y, lossf, opts)
  local fname = "actrun.lab.evaluate"
  check_model(fname, model, 1, 3)
  check_xy(fname, X, y, "argument #2 (X)", "argument #3 (y)", 3)
  if lossf ~= nil and not is_callable(lossf) then
    error(fmt("%s: argument #4 (loss) expected a function, got %s", fname, typename(lossf)), 2)
  end
  opts = check_opts(fname, opts, 5, {batch = true}, 3)
  local batch = opt_posint(fname, opts, "batch", EVAL_BATCH, 3)
  lossf = lossf or nn().cross_entropy
  local pos = caller_pos(2)
  local loss, acc = with_mode(model, false, function()
    return eval_batches(fname, model, X, y, lossf, batch, "argument #3 (y)", pos)
  end)
  return {loss = loss, accuracy = acc}
end

---------------------------------------------------------------------------------------
-- Probes: hooks on the activation layers, gradient norms per layer.

-- The classes actrun.nn defines (Linear, Dropout, ...), to tell them from user classes.
local builtin_classes
local function is_builtin(m)
  if not builtin_classes then
    builtin_classes = {}
    for _, v in pairs(nn()) do
      if type(v) == "table" and type(rawget(v, "kind")) == "string" then
        builtin_classes[v] = true
      end
    end
  end
  return builtin_classes[getmetatable(m)] == true
end

-- A module of a user class (nn.Module:extend) without parameters and children: most
-- likely a hand-written activation, invisible to is_activation.
local function is_custom_leaf(m)
  return not m.is_activation and not is_builtin(m) and
    #(rawget(m, "_pnames") or {}) == 0 and #(rawget(m, "_cnames") or {}) == 0
end

-- The activation layers of a model (modules with is_activation), in pre-order; with
-- custom, also the custom leaves (whose outputs can be read, but not their derivative).
local function activation_layers(model, custom)
  local list = {}
  for _, e in ipairs(model:named_modules()) do
    if e.module.is_activation or (custom and is_custom_leaf(e.module)) then
      list[#list + 1] = {name = e.name, module = e.module}
    end
  end
  return list
end

-- Runs the model over X in batches (eval mode, no recording); after each batch calls
-- visit(i, module, input, output) for each call of activation layer i. The hooks are
-- removed afterwards, also on error.
local function over_activations(fname, model, X, batch, visit, custom)
  local layers = activation_layers(model, custom)
  local handles = {}
  local pending = {}
  local ok, err = pcall(function()
    for i, l in ipairs(layers) do
      handles[i] = l.module:add_hook(function(_, input, output)
        pending[#pending + 1] = {i, l.module, input, output}
      end)
    end
    with_mode(model, false, function()
      local N = X:size(1)
      for s = 1, N, batch do
        local n = math.min(batch, N - s + 1)
        actrun.no_grad(function() return model(X:narrow(1, s, n)) end)
        -- the statistics are taken after the recording-free forward: some need autograd
        for _, p in ipairs(pending) do visit(p[1], p[2], p[3], p[4]) end
        pending = {}
      end
    end)
  end)
  for _, h in ipairs(handles) do h:remove() end
  if not ok then error(err, 0) end
  return layers
end

-- f'(x) of an activation layer at its input x, as a tensor of x's shape (nil for
-- Maxout, whose derivative with respect to the winning piece is 1 everywhere).
local function layer_derivative(m, x)
  x = x:detach()
  if m.act_name == "maxout" then return nil end
  if m.act_name == "pau" then -- the unit's own derivative, by autograd on a detached copy
    local xc = x:clone()
    xc.requires_grad = true
    actrun.pau(xc, m.numerator:detach(), m.denominator:detach()):sum():backward()
    return xc.grad
  end
  if m.act_name == "prelu" and actrun.is_tensor(m.weight) then
    local w = m.weight:detach()
    if w:numel() > 1 and x:dim() > 2 then
      local s = {1, w:numel()}
      for d = 3, x:dim() do s[d] = 1 end
      w = w:reshape(s)
    end
    return actrun.no_grad(function() return x:gt(0) + x:le(0) * w end)
  end
  local act = actrun.act
  local ok, d = pcall(act.derivative, m.act_name, x, m.params)
  if ok then return d end
  -- an activation without a C derivative: autograd on a detached copy
  local xc = x:clone()
  xc.requires_grad = true
  act.apply(m.act_name, xc, m.params):sum():backward()
  return xc.grad
end

local STATS_OPTS = {batch = true}

-- The arguments of activation_stats and dead_units: a model, an X with at least one
-- row, options {batch=}; returns the batch size. Errors point at the caller's caller.
local function check_stats_args(fname, model, X, opts)
  check_model(fname, model, 1, 4)
  check_tensor(fname, X, "argument #2 (X)", 4)
  if X:dim() < 1 or X:size(1) < 1 then
    error(fmt("%s: argument #2 (X) has shape %s, expected at least one row", fname,
      shape_str(X)), 3)
  end
  opts = check_opts(fname, opts, 3, STATS_OPTS, 4)
  local batch = opt_posint(fname, opts, "batch", EVAL_BATCH, 4)
  return batch -- not a tail call: the levels above count this frame
end

function lab.activation_stats(model, X, opts)
  local fname = "actrun.lab.activation_stats"
  local batch = check_stats_args(fname, model, X, opts)
  local acc = {}
  local layers = over_activations(fname, model, X, batch, function(i, m, input, out)
    local a = acc[i] or {n = 0, sum = 0, sumsq = 0, zeros = 0, sat = 0}
    acc[i] = a
    out = out:detach()
    a.n = a.n + out:numel()
    a.sum = a.sum + out:sum():item()
    a.sumsq = a.sumsq + out:square():sum():item()
    a.zeros = a.zeros + out:eq(0):sum():item()
    local d = actrun.is_tensor(input) and layer_derivative(m, input)
    if d then a.sat = a.sat + d:abs():lt(1e-3):sum():item() end
  end)
  local rows = {}
  for i, l in ipairs(layers) do
    local a = acc[i]
    if a and a.n > 0 then
      local mean = a.sum / a.n
      local var = a.n > 1 and math.max(0, (a.sumsq - a.n * mean * mean) / (a.n - 1)) or 0
      rows[#rows + 1] = {layer = i, name = l.name, kind = l.module.kind, act = l.module.act_name,
        mean = mean, std = math.sqrt(var), zero_fraction = a.zeros / a.n,
        saturated_fraction = a.sat / a.n}
    end
  end
  return rows
end

-- Dead units: a unit is one output position of an activation layer (a column of its
-- {N, units} output; higher-rank outputs are flattened per row). It is dead on X when
-- it outputs exactly 0 for every row of X. Modules of user classes without parameters
-- (hand-written activations) count too; a model with no layer to look at has total nil
-- (unknown), not 0, which would read as "nothing died".
function lab.dead_units(model, X, opts)
  local fname = "actrun.lab.dead_units"
  local batch = check_stats_args(fname, model, X, opts)
  local alive = {} -- per layer: {units} count of rows where the unit was not 0
  local layers = over_activations(fname, model, X, batch, function(i, _, _, out)
    out = out:detach()
    local rows = out:dim() >= 1 and out:size(1) or 1
    local nz = out:reshape(rows, -1):ne(0):sum(1)
    alive[i] = alive[i] and (alive[i] + nz) or nz
  end, true)
  local result = {units = 0, dead = 0}
  for i, l in ipairs(layers) do
    if alive[i] then
      local units = alive[i]:numel()
      local dead = math.tointeger(alive[i]:eq(0):sum():item())
      result[#result + 1] = {layer = i, name = l.name, kind = l.module.kind,
        act = l.module.act_name or l.module.kind, units = units, dead = dead,
        fraction = dead / units}
      result.units = result.units + units
      result.dead = result.dead + dead
    end
  end
  result.total = result.units > 0 and result.dead / result.units or nil
  return result
end

-- The modules that own parameters themselves (not through children), with the
-- parameter whose gradient norm is reported: "weight" when there is one, else the
-- module's first parameter.
local function param_layers(model)
  local list = {}
  for _, e in ipairs(model:named_modules()) do
    local m = e.module
    local own = m:named_parameters()
    local mine = {}
    for n in pairs(own) do
      if not n:find(".", 1, true) then mine[#mine + 1] = n end
    end
    if #mine > 0 then
      table.sort(mine)
      local key = (own.weight and "weight") or mine[1]
      list[#list + 1] = {name = e.name, module = m, param = own[key], param_name = key}
    end
  end
  return list
end

-- lab.gradient_flow(model, X, y [, loss]): one forward/backward in eval mode; the
-- layers in the order they ran (a forward hook records it; layers that did not run are
-- left out). Existing .grad of every parameter is saved before and put back after.
function lab.gradient_flow(model, X, y, lossf)
  local fname = "actrun.lab.gradient_flow"
  check_model(fname, model, 1, 3)
  check_xy(fname, X, y, "argument #2 (X)", "argument #3 (y)", 3)
  if lossf ~= nil and not is_callable(lossf) then
    error(fmt("%s: argument #4 (loss) expected a function, got %s", fname, typename(lossf)), 2)
  end
  lossf = lossf or nn().cross_entropy
  local pos = caller_pos(2)
  local layers = param_layers(model)
  local params = model:parameters()
  local saved = {}
  for i, p in ipairs(params) do saved[i] = p.grad end
  local order, handles = {}, {}
  local ok, err = pcall(function()
    for _, l in ipairs(layers) do
      handles[#handles + 1] = l.module:add_hook(function()
        if not l.ran then l.ran = true order[#order + 1] = l end
      end)
    end
    for _, p in ipairs(params) do p.grad = nil end
    with_mode(model, false, function()
      local out = model(X)
      accuracy_rule(fname, out, y, lossf, "argument #3 (y)", pos)
      local loss = lossf(out, y)
      loss:backward()
    end)
  end)
  for _, h in ipairs(handles) do h:remove() end
  local rows = {}
  if ok then
    for i, l in ipairs(order) do
      local g = l.param.grad
      rows[i] = {layer = i, name = l.name, kind = l.module.kind, param = l.param_name,
        grad_norm = g and g:norm():item() or 0}
    end
  end
  for i, p in ipairs(params) do p.grad = saved[i] end
  for _, l in ipairs(layers) do l.ran = nil end
  if not ok then error(err, 0) end
  return rows
end

---------------------------------------------------------------------------------------
-- lab.depth_probe: a fresh deep MLP written directly over tensors (no modules, so a
-- 50-layer probe is 50 matrix products each way).

local PROBE_OPTS = {activation = true, depth = true, width = true, init = true, batch = true,
  norm = true, seed = true, params = true}

function lab.depth_probe(opts)
  local fname = "actrun.lab.depth_probe"
  if type(opts) ~= "table" then
    error(fmt("%s: argument #1 (options) expected a table, got %s", fname, typename(opts)), 2)
  end
  check_opts(fname, opts, 1, PROBE_OPTS, 3)
  local name = opts.activation or "relu"
  local params = opt_type(fname, opts, "params", "table", 3)
  if type(name) ~= "string" then
    error(fmt("%s: option activation expected an activation name, got %s", fname,
      typename(name)), 2)
  end
  local act = actrun.act
  local okact, aerr = pcall(act.apply, name, actrun.zeros(1), params)
  if not okact then
    error(fmt("%s: option activation: %s", fname,
      (tostring(aerr):gsub("^.-actrun%.act%.apply: ", ""))), 2)
  end
  local depth = opt_posint(fname, opts, "depth", 20, 3)
  local width = opt_posint(fname, opts, "width", 256, 3)
  local batch = opt_posint(fname, opts, "batch", 256, 3)
  local norm = opts.norm
  if norm ~= nil and norm ~= "batch" then
    error(fmt("%s: option norm expected 'batch' or nil, got %s", fname,
      type(norm) == "string" and ("'" .. norm .. "'") or typename(norm)), 2)
  end
  local init = opts.init
  local init_fn
  if init ~= nil then
    local I = nn().init
    if init == "normal" then
      init_fn = function(w) return I.normal(w, 0, 1) end
    elseif type(init) == "string" and init ~= "gain" and init ~= "constant" and
        type(I[init]) == "function" then
      init_fn = I[init]
    else
      local names = {}
      for k, v in pairs(I) do
        if type(v) == "function" and k ~= "gain" and k ~= "constant" then names[#names + 1] = k end
      end
      table.sort(names)
      error(fmt("%s: option init expected an nn.init function name (one of %s), got %s",
        fname, table.concat(names, ", "), type(init) == "string" and ("'" .. init .. "'") or
        typename(init)), 2)
    end
  else
    -- nn.Linear's default: kaiming_uniform(a=sqrt(5)), i.e. U(-1/sqrt(width), 1/sqrt(width))
    init_fn = function(w) return nn().init.kaiming_uniform(w, {a = math.sqrt(5)}) end
  end
  local seed = opts.seed
  if seed ~= nil then
    if math.type(seed) ~= "integer" then
      error(fmt("%s: option seed expected an integer, got %s", fname,
        type(seed) == "number" and tostring(seed) or typename(seed)), 2)
    end
    actrun.manual_seed(seed)
  end

  local W = {}
  for l = 1, depth do
    W[l] = init_fn(actrun.empty(width, width))
    W[l].requires_grad = true
  end
  local h = actrun.randn(batch, width)
  local outs = {}
  for l = 1, depth do
    local z = h:matmul(W[l]:t())
    if norm == "batch" then
      -- training-mode batch norm with weight 1, bias 0: per-feature batch statistics
      local zc = z - z:mean(1, true)
      z = zc / (zc:square():mean(1, true) + 1e-5):sqrt()
    end
    h = act.apply(name, z, params)
    outs[l] = h
  end
  h:backward(actrun.randn(batch, width))
  local rows = {}
  for l = 1, depth do
    local o = outs[l]:detach()
    local g = W[l].grad
    rows[l] = {layer = l, mean = o:mean():item(), std = batch * width > 1 and o:std():item() or 0,
      grad_norm = g and g:norm():item() or 0}
  end
  return rows
end

---------------------------------------------------------------------------------------
-- lab.signal_propagation / lab.jacobian_spectrum: the measurement side of mean-field
-- signal propagation (Poole et al. 2016, Schoenholz et al. 2017, Pennington et al. 2017).
-- A random network of depth square layers z_l = W_l h_{l-1} + b_l, h_l = phi(z_l),
-- h_0 = x ~ N(0,1), with W_l entries of variance sigma_w2/width (Gaussian, or a scaled
-- orthogonal matrix) and b_l ~ N(0, sigma_b2). Nothing is recorded by autograd: the
-- backward pass is written out with phi' (act.derivative), which is exact and needs no
-- graph of depth x batch x width values.

local SIGPROP_OPTS = {activation = true, depth = true, width = true, sigma_w2 = true,
  sigma_b2 = true, init = true, batch = true, seed = true, params = true}

-- Checked options -> a table of settings; level is the public function's caller.
local function sigprop_options(fname, opts, level)
  if type(opts) ~= "table" then
    error(fmt("%s: argument #1 (options) expected a table, got %s", fname, typename(opts)), level)
  end
  check_opts(fname, opts, 1, SIGPROP_OPTS, level + 1)
  local name = opts.activation
  if type(name) ~= "string" then
    error(fmt("%s: option activation expected an activation name, got %s", fname,
      typename(name)), level)
  end
  local params = opt_type(fname, opts, "params", "table", level + 1)
  local okact, aerr = pcall(actrun.act.apply, name, actrun.zeros(1), params)
  if not okact then
    error(fmt("%s: option activation: %s", fname,
      (tostring(aerr):gsub("^.-actrun%.act%.apply: ", ""))), level)
  end
  local s = {name = name, params = params}
  s.depth = opt_posint(fname, opts, "depth", 20, level + 1)
  s.width = opt_posint(fname, opts, "width", 256, level + 1)
  s.batch = opt_posint(fname, opts, "batch", 256, level + 1)
  local w2, b2 = opts.sigma_w2, opts.sigma_b2
  if type(w2) ~= "number" or not (w2 > 0 and w2 < math.huge) then
    error(fmt("%s: option sigma_w2 expected a finite number > 0, got %s", fname,
      type(w2) == "number" and tostring(w2) or typename(w2)), level)
  end
  if b2 == nil then b2 = 0 end
  if type(b2) ~= "number" or not (b2 >= 0 and b2 < math.huge) then
    error(fmt("%s: option sigma_b2 expected a finite number >= 0, got %s", fname,
      type(b2) == "number" and tostring(b2) or typename(b2)), level)
  end
  s.sigma_w2, s.sigma_b2 = w2, b2
  local init = opts.init
  if init == nil then init = "normal" end
  if init ~= "normal" and init ~= "orthogonal" then
    error(fmt("%s: option init expected 'normal' or 'orthogonal', got %s", fname,
      type(init) == "string" and ("'" .. init .. "'") or typename(init)), level)
  end
  s.init = init
  local seed = opts.seed
  if seed ~= nil and math.type(seed) ~= "integer" then
    error(fmt("%s: option seed expected an integer, got %s", fname,
      type(seed) == "number" and tostring(seed) or typename(seed)), level)
  end
  s.seed = seed
  return s
end

-- The weights and biases of a random network, drawn layer by layer (W then b), after
-- seeding when asked: the same seed gives the same network to both functions.
local function sigprop_network(s)
  if s.seed ~= nil then actrun.manual_seed(s.seed) end
  local W, b = {}, {}
  local n = s.width
  for l = 1, s.depth do
    if s.init == "orthogonal" then
      W[l] = nn().init.orthogonal(actrun.empty(n, n), math.sqrt(s.sigma_w2))
    else
      W[l] = actrun.randn(n, n) * math.sqrt(s.sigma_w2 / n)
    end
    b[l] = s.sigma_b2 > 0 and actrun.randn(n) * math.sqrt(s.sigma_b2) or nil
  end
  return W, b
end

-- Mean over the distinct pairs of rows (a ~= b) of <u_a, u_b>, from the row sums:
-- sum_{a,b} <u_a, u_b> = ||sum_a u_a||^2, and the diagonal is sum_a ||u_a||^2.
local function offdiag_mean(U)
  local B = U:size(1)
  local all = U:sum(1):square():sum():item()
  local diag = U:square():sum():item()
  return (all - diag) / (B * (B - 1))
end

function lab.signal_propagation(opts)
  local fname = "actrun.lab.signal_propagation"
  local s = sigprop_options(fname, opts, 3)
  if s.batch < 2 then
    error(fmt("%s: option batch expected an integer >= 2 (c needs two inputs), got %d", fname,
      s.batch), 2)
  end
  local act, n, B = actrun.act, s.width, s.batch
  local W, b = sigprop_network(s)
  local h = actrun.randn(B, n)
  local rows, dphi = {}, {}
  for l = 1, s.depth do
    local z = h:matmul(W[l]:t())
    if b[l] then z = z + b[l] end
    local d = act.derivative(s.name, z, s.params)
    dphi[l] = d
    local norms = z:square():sum(2, true):sqrt()
    local c = offdiag_mean(z / norms)
    if c ~= c then c = 0 / 0 end -- a zero row (every unit 0): c is undefined
    rows[l] = {layer = l, q = z:square():mean():item(), c = c,
      chi1 = s.sigma_w2 * d:square():mean():item(),
      chi_c = s.sigma_w2 * offdiag_mean(d) / n}
    h = act.apply(s.name, z, s.params)
  end
  -- backward: g_l = dL/dz_l for L = sum(G * h_depth), G ~ N(0,1)
  local g = actrun.randn(B, n) * dphi[s.depth]
  rows[s.depth].grad_norm = g:norm():item()
  for l = s.depth - 1, 1, -1 do
    g = g:matmul(W[l + 1]) * dphi[l]
    rows[l].grad_norm = g:norm():item()
  end
  return rows
end

function lab.jacobian_spectrum(opts)
  local fname = "actrun.lab.jacobian_spectrum"
  local s = sigprop_options(fname, opts, 3)
  local act, n = actrun.act, s.width
  local W, b = sigprop_network(s)
  -- J = D_depth W_depth ... D_1 W_1 with D_l = diag(phi'(z_l)) at one input x, built
  -- forward as products of width x width matrices (exact, no per-row backward passes)
  local h = actrun.randn(1, n)
  local J
  for l = 1, s.depth do
    local z = h:matmul(W[l]:t())
    if b[l] then z = z + b[l] end
    local d = act.derivative(s.name, z, s.params):reshape(n, 1)
    J = (J and W[l]:matmul(J) or W[l]) * d
    h = act.apply(s.name, z, s.params)
  end
  local ok, sv = pcall(actrun.linalg_svdvals, J)
  if not ok then
    error(fmt("%s: the Jacobian's SVD failed (%s)", fname,
      (tostring(sv):gsub("^.-actrun%.linalg_svdvals: ", ""))), 2)
  end
  return sv
end

---------------------------------------------------------------------------------------
-- Tables, CSV, plots

-- Aligned text table: headers, rows of strings, align ("l"/"r" per column).
local function format_table(headers, rows, align)
  -- widths in characters, not bytes: cells hold "±"
  local function len(v) return utf8.len(v) or #v end
  local w = {}
  for c, h in ipairs(headers) do w[c] = len(h) end
  for _, r in ipairs(rows) do
    for c, v in ipairs(r) do if len(v) > w[c] then w[c] = len(v) end end
  end
  local function line(r)
    local parts = {}
    for c = 1, #headers do
      local v = r[c] or ""
      local pad = string.rep(" ", w[c] - len(v))
      parts[c] = align[c] == "l" and (v .. pad) or (pad .. v)
    end
    return (table.concat(parts, "  "):gsub("%s+$", ""))
  end
  local out = {line(headers)}
  for _, r in ipairs(rows) do out[#out + 1] = line(r) end
  return table.concat(out, "\n")
end
lab._format_table = format_table

local function mean_sd(values)
  local n, s = #values, 0
  if n == 0 then return nil, nil end
  for _, v in ipairs(values) do s = s + v end
  local m = s / n
  if n < 2 then return m, nil end
  local ss = 0
  for _, v in ipairs(values) do ss = ss + (v - m) ^ 2 end
  return m, math.sqrt(ss / (n - 1))
end

local CSV_FIELDS = {"activation", "seed", "params", "epochs", "train_loss", "train_accuracy",
  "test_loss", "test_accuracy", "seconds", "dead_fraction", "grad_norm_first", "grad_norm_last"}
lab.CSV_FIELDS = CSV_FIELDS

local function csv_value(v)
  if v == nil then return "" end
  if type(v) == "number" then
    if math.type(v) == "integer" then return tostring(v) end
    if v ~= v then return "nan" end
    return fmt("%.9g", v)
  end
  v = tostring(v)
  if v:find('[,"\n\r]') then v = '"' .. v:gsub('"', '""') .. '"' end
  return v
end

-- Atomic: written next to path under a temporary name, then renamed over it, so a crash
-- or a full disk never leaves a half CSV under the final name. consts: {name, value}
-- pairs repeated on every line after the row's fields (provenance: a row read alone
-- still says how it was made).
local function write_csv(fname, path, rows, consts, fields)
  consts = consts or {}
  fields = fields or CSV_FIELDS
  local head = table.move(fields, 1, #fields, 1, {})
  for _, c in ipairs(consts) do head[#head + 1] = c[1] end
  local lines = {table.concat(head, ",")}
  for _, r in ipairs(rows) do
    local vals = {}
    for i, k in ipairs(fields) do vals[i] = csv_value(r[k]) end
    for _, c in ipairs(consts) do vals[#vals + 1] = csv_value(c[2]) end
    lines[#lines + 1] = table.concat(vals, ",")
  end
  util.write_atomic(fname, path, table.concat(lines, "\n") .. "\n")
end

-- actrun.plot when this build has it (nil and the reason otherwise).
local function plot_module()
  local ok, plot = pcall(require, "actrun.plot")
  if ok and type(plot) == "table" then return plot end
  if not ok and tostring(plot):find("not found", 1, true) then
    return nil, "actrun.plot is not available in this build"
  end
  return nil, "actrun.plot failed to load: " .. tostring(plot):match("[^\n]*")
end

---------------------------------------------------------------------------------------
-- lab.compare

local COMPARE_OPTS = {activations = true, model = true, data = true, optimizer = true,
  epochs = true, batch = true, seeds = true, csv = true, plot = true, loss = true,
  progress = true, quiet = true, cost = true, reference = true, test = true, alpha = true,
  verbose = true, store = true, provenance = true, tune = true, report = true}

-- lab.compare{tune=}: the validation split is drawn with this fixed seed, the same rows
-- for every activation and learning rate, so they differ only in what they are tuned on
-- by their own merit. Tuning trains on the first seed only: a grid of k rates costs k
-- runs per activation, not k times the comparison.
local TUNE_SEED = 1
local TUNE_FIELDS = {lrs = true, fraction = true}

-- The training loss is measured after the last step on at most this many training rows
-- (the first ones: the same rows for every run), not averaged over the epoch while the
-- weights still moved.
local TRAIN_EVAL_MAX = 10000

-- One summary row per activation (order of first appearance), ranked by mean test
-- accuracy; *_sd fields are the sample standard deviations over seeds (nil for one).
local function summarize(rows)
  local by, order = {}, {}
  for _, r in ipairs(rows) do
    if not by[r.activation] then
      by[r.activation] = {}
      order[#order + 1] = r.activation
    end
    table.insert(by[r.activation], r)
  end
  local summary = {}
  for _, a in ipairs(order) do
    local s = {activation = a, runs = #by[a], params = by[a][1].params, lr = by[a][1].lr}
    for _, k in ipairs{"test_accuracy", "test_loss", "train_loss", "train_accuracy", "seconds",
        "dead_fraction", "grad_norm_first", "grad_norm_last"} do
      local vals = {}
      for _, r in ipairs(by[a]) do
        if r[k] ~= nil then vals[#vals + 1] = r[k] end
      end
      s[k], s[k .. "_sd"] = mean_sd(vals)
    end
    -- the ratio per run, then its geometric mean (ratios span orders of magnitude)
    local logs = {}
    for _, r in ipairs(by[a]) do
      if r.grad_norm_first and r.grad_norm_last and r.grad_norm_last > 0 and
          r.grad_norm_first > 0 then
        logs[#logs + 1] = math.log(r.grad_norm_first / r.grad_norm_last)
      end
    end
    local ml = mean_sd(logs)
    s.grad_ratio = ml and math.exp(ml) or nil
    -- test accuracy per seed, in seed order (every activation ran the same seeds)
    local accs = {}
    for _, r in ipairs(by[a]) do accs[#accs + 1] = r.test_accuracy end
    s.accuracies = #accs == #by[a] and accs or nil
    summary[#summary + 1] = s
  end
  table.sort(summary, function(x, y)
    local ax, ay = x.test_accuracy or -1, y.test_accuracy or -1
    if ax ~= ay then return ax > ay end
    return (x.test_loss or math.huge) < (y.test_loss or math.huge)
  end)
  for i, s in ipairs(summary) do s.rank = i end
  return summary
end
lab._summarize = summarize

-- Paired differences of every activation's per-seed test accuracy against ref's, Holm-
-- corrected over the comparisons (ref itself excluded). Returns name -> {diff=,
-- diff_ci95=, p=, p_adjusted=, mdd=}; p and p_adjusted are nil with one seed.
local function paired_family(summary, ref, test, alpha)
  local res, names, ps = {}, {}, {}
  for _, s in ipairs(summary) do
    if s == ref then
      res[s.activation] = {diff = 0, diff_ci95 = {0, 0}, p = 1, p_adjusted = 1}
    else
      local n = #s.accuracies
      local d = lab.stats.describe((function()
        local t = {}
        for i = 1, n do t[i] = s.accuracies[i] - ref.accuracies[i] end
        return t
      end)())
      local e = {diff = d.mean, diff_ci95 = d.ci95}
      if n >= 2 then
        local pr = lab.stats.paired(s.accuracies, ref.accuracies, {test = test, alpha = alpha})
        e.p, e.mdd = pr.p, pr.mdd
        names[#names + 1], ps[#ps + 1] = s.activation, pr.p
      end
      res[s.activation] = e
    end
  end
  if #ps > 0 then
    local adj = lab.stats.holm(ps)
    for i, a in ipairs(names) do res[a].p_adjusted = adj[i] end
  end
  return res
end

-- The statistics fields of the summary (see lab.compare): mean, sd, ci95 of the test
-- accuracy over seeds, and the paired comparison with the reference and with the best.
local function add_statistics(summary, reference, test, alpha)
  if #summary == 0 or not summary[1].accuracies then return end
  for _, s in ipairs(summary) do
    if not s.accuracies then return end -- a run without accuracy (regression): no test
  end
  for _, s in ipairs(summary) do
    local d = lab.stats.describe(s.accuracies)
    s.n, s.mean, s.sd, s.ci95 = d.n, d.mean, d.sd, d.ci95
  end
  local best, ref = summary[1], summary[1]
  if reference then
    for _, s in ipairs(summary) do if s.activation == reference then ref = s end end
  end
  local fam = paired_family(summary, ref, test, alpha)
  local vs_best = ref == best and fam or paired_family(summary, best, test, alpha)
  for _, s in ipairs(summary) do
    local e = fam[s.activation]
    s.reference = ref.activation
    s.diff, s.diff_ci95, s.p, s.p_adjusted, s.mdd = e.diff, e.diff_ci95, e.p, e.p_adjusted,
      e.mdd
    local b = vs_best[s.activation]
    s.p_best = b.p_adjusted
    s.tied_with_best = s == best or (b.p_adjusted ~= nil and b.p_adjusted >= alpha)
    -- how the ties were decided travels with them (lab.report reads a summary alone)
    s.test, s.alpha = test, alpha
  end
end
lab._add_statistics = add_statistics

local function median(list)
  if #list == 0 then return nil end
  local t = table.move(list, 1, #list, 1, {})
  table.sort(t)
  local n = #t
  return n % 2 == 1 and t[(n + 1) // 2] or 0.5 * (t[n // 2] + t[n // 2 + 1])
end

local TEST_NAMES = {t = "paired t test", wilcoxon = "Wilcoxon signed-rank test",
  permutation = "sign-flip permutation test"}
lab._median, lab._TEST_NAMES = median, TEST_NAMES

-- Percentage points with a sign; rounding noise of an exact tie shows as +0.00.
local function points(v)
  return (fmt("%+.2f", 100 * v):gsub("^%-(0%.00)$", "+%1"))
end

local function compare_table(summary, ctx)
  local headers = {"rank", "activation", "test accuracy", "", "diff vs " ..
    (summary[1] and summary[1].reference or "best"), "p (Holm)", "train loss", "dead",
    "grad first/last", "seconds"}
  local align = {"r", "l", "r", "l", "r", "r", "r", "r", "r", "r"}
  local several = ctx.seeds > 1
  local out = {}
  for i, s in ipairs(summary) do
    local acc = "-"
    if s.mean then
      acc = fmt("%.2f", 100 * s.mean)
      if several then acc = acc .. fmt(" ± %.2f", 100 * (s.ci95[2] - s.ci95[1]) / 2) end
      acc = acc .. "%"
    end
    local diff, p = "-", "-"
    if s.diff then
      if s.activation == s.reference then
        diff = "ref"
      else
        diff = points(s.diff)
        if several then
          diff = diff .. fmt(" [%s, %s]", points(s.diff_ci95[1]), points(s.diff_ci95[2]))
        end
      end
      if s.p_adjusted and s.activation ~= s.reference then
        p = s.p_adjusted < 0.001 and "<0.001" or fmt("%.3f", s.p_adjusted)
      end
    end
    out[i] = {tostring(s.rank), s.activation, acc, s.tied_with_best and "=" or "", diff, p,
      s.train_loss and fmt("%.4f", s.train_loss) or "-",
      s.dead_fraction and fmt("%.1f%%", 100 * s.dead_fraction) or "n/a",
      s.grad_ratio and fmt("%.3g", s.grad_ratio) or "-",
      fmt("%.1f", s.seconds)}
  end
  local lines = {format_table(headers, out, align)}
  if not (summary[1] and summary[1].mean) then
    lines[#lines + 1] = "no test accuracy (not a classification): no paired test"
  elseif not several then
    lines[#lines + 1] = "1 seed: no uncertainty estimate; use seeds >= 3"
  else
    local mdds = {}
    for _, s in ipairs(summary) do if s.mdd then mdds[#mdds + 1] = s.mdd end end
    local mdd = median(mdds)
    lines[#lines + 1] = fmt("%d seeds; accuracy: mean ± 95%% CI half-width; diff: mean " ..
      "per-seed difference [95%% CI] in points", ctx.seeds)
    lines[#lines + 1] = fmt("%s over seeds (same initial weights and batches per seed), " ..
      "p Holm-adjusted, alpha %g", TEST_NAMES[ctx.test], ctx.alpha)
    if mdd then
      lines[#lines + 1] = fmt("minimum detectable difference at this n (80%% power, median " ..
        "over activations): %.2f points", 100 * mdd)
    end
    if ctx.test ~= "t" then
      local pmin = 2 / 2 ^ ctx.seeds
      if pmin >= ctx.alpha then
        lines[#lines + 1] = fmt("with %d seeds the smallest two-sided exact %s p is %.4g: " ..
          "it cannot separate anything at this n", ctx.seeds, ctx.test, pmin)
      end
    end
    lines[#lines + 1] = "activations marked = are not distinguishable from the best at this n"
  end
  if ctx.tune then
    -- the rates decide the result as much as the activations do: they go with the table
    local chosen = {}
    for i, a in ipairs(ctx.tune.order) do chosen[i] = fmt("%s %g", a, ctx.tune.lr_of[a]) end
    lines[#lines + 1] = fmt("learning rate tuned per activation on a %g%% validation split: %s",
      100 * ctx.tune.fraction, table.concat(chosen, ", "))
  end
  return table.concat(lines, "\n")
end

-- The comparison figure (lab.compare{plot=}): test accuracy per activation with its 95%
-- CI on an axis zoomed to the data, and the mean loss per epoch over seeds with a band,
-- for training and test. Every panel styles activation i with actrun.plot's palette
-- entry i (summary order), so an activation looks the same in all of them.

-- The runs of each activation: name -> list of rows.
local function runs_by_activation(rows)
  local by = {}
  for _, r in ipairs(rows) do
    by[r.activation] = by[r.activation] or {}
    table.insert(by[r.activation], r)
  end
  return by
end

-- Mean and band of a list of per-seed values: the 95% CI of the mean, or the min-max
-- range with fewer than 3 seeds (a t interval from two values spans far beyond them).
local function mean_band(vals)
  if #vals >= 3 then
    local d = lab.stats.describe(vals)
    return d.mean, d.ci95[1], d.ci95[2]
  end
  local m = mean_sd(vals)
  return m, math.min(table.unpack(vals)), math.max(table.unpack(vals))
end

-- One activation's curve of history field `field` over seeds: {x=, y=, band=} with a
-- point per epoch (per entry of history.curve when `fine`, x in epochs); runs stopped
-- early count where they ran. nil when no run recorded the field.
local function mean_curve(runs, field, fine)
  local per, xs = {}, {}
  for _, r in ipairs(runs) do
    local pts = r.history and (fine and r.history.curve or r.history) or {}
    for i, h in ipairs(pts) do
      if type(h[field]) == "number" then
        per[i] = per[i] or {}
        table.insert(per[i], h[field])
        xs[i] = xs[i] or h.epoch or i
      end
    end
  end
  if #per == 0 then return nil end
  local c = {x = {}, y = {}, band = {lo = {}, hi = {}}}
  for i = 1, #per do
    c.x[i] = xs[i]
    c.y[i], c.band.lo[i], c.band.hi[i] = mean_band(per[i])
  end
  return c
end

-- A loss panel: one curve a summary row (nil unless every activation has one, so
-- palette entry i stays activation i's).
local function loss_panel(summary, by, field, fine, title, legend, seeds)
  local series = {}
  for i, s in ipairs(summary) do
    local c = mean_curve(by[s.activation] or {}, field, fine)
    if not c then return nil end
    series[i] = {x = c.x, y = c.y, band = c.band, label = s.activation}
  end
  return {type = "line", series = series, title = title, xlabel = "epoch",
    ylabel = seeds >= 3 and "loss (mean, 95% CI band)" or seeds == 2 and "loss (mean, min-max band)"
      or "loss (1 seed)",
    pad = true, legend = legend}
end

-- The accuracy panel: mean test accuracy in %, its 95% CI over seeds as error bars,
-- "best" on the top row and "= best" on those not distinguishable from it.
local function accuracy_panel(summary, ctx)
  local labels, values, lo, hi, tags = {}, {}, {}, {}, {}
  for i, s in ipairs(summary) do
    local m = s.mean or s.test_accuracy
    if type(m) ~= "number" then return nil end -- no accuracy (regression): no panel
    labels[i], values[i] = s.activation, 100 * m
    local ci = s.n and s.n >= 2 and s.ci95 or {m, m}
    lo[i], hi[i] = 100 * ci[1], 100 * ci[2]
    tags[i] = i == 1 and "best" or s.tied_with_best and "= best" or ""
  end
  local notes
  if ctx.seeds >= 2 then
    notes = {fmt("mean over %d seeds, error bars: 95%% CI of the mean", ctx.seeds),
      fmt("= best: not distinguishable from the best (%s, Holm, alpha %g)", ctx.test_name, ctx.alpha)}
  else
    notes = {"1 seed: no confidence interval, no test (use seeds >= 3)"}
  end
  return {type = "interval", labels = labels, values = values, lo = lo, hi = hi, tags = tags,
    note = notes, title = "test accuracy", xlabel = "test accuracy (%)"}
end

-- The panels of the figure: accuracy, training loss and (when the runs recorded it)
-- test loss per epoch; a one-epoch run has lab.train's finer training curve instead.
local function compare_panels(summary, rows, ctx)
  local by = runs_by_activation(rows)
  local epochs = 0
  for _, r in ipairs(rows) do epochs = math.max(epochs, r.history and #r.history or 0) end
  local panels = {}
  panels[#panels + 1] = accuracy_panel(summary, ctx)
  local test = epochs >= 2 and loss_panel(summary, by, "val_loss", false, "test loss", true, ctx.seeds)
  local train = loss_panel(summary, by, "loss", epochs < 2, "training loss", not test, ctx.seeds)
  panels[#panels + 1] = train
  panels[#panels + 1] = test or nil
  return panels
end

-- Writes the figure; without plot.grid (a reduced build) the loss curves go to `path`
-- and the accuracies to NAME_accuracy.svg beside it. Returns true or false and why.
local function compare_plot(path, summary, rows, ctx)
  local plot, why = plot_module()
  if not plot then return false, why end
  local panels = compare_panels(summary, rows, ctx)
  if type(plot.grid) == "function" then
    -- wide enough for three panels and the legend, tall enough for a row an activation
    local ok, err = pcall(plot.grid, {plots = panels, columns = #panels, file = path,
      width = 520 * #panels, height = math.max(440, 24 * #summary + 170)})
    if ok then return true end
    why = tostring(err)
  end
  local line, acc
  for _, P in ipairs(panels) do
    if P.type == "line" and not line then line = P elseif P.type == "interval" then acc = P end
  end
  if type(plot.line) ~= "function" or not line then return false, why or "plot.line is missing" end
  line.type, line.file, line.legend = nil, path, true
  local ok, err = pcall(plot.line, line)
  if not ok then return false, tostring(err) end
  if acc and type(plot.bar) == "function" then
    local file = path:gsub("(%.%w+)$", "_accuracy%1")
    if file == path then file = path .. "_accuracy.svg" end
    pcall(plot.bar, {labels = acc.labels, values = acc.values, title = acc.title, file = file})
  end
  return true
end

-- The comparison figure as SVG text (for lab.report), or nil and why: drawn by
-- compare_plot into a temporary file, so the report and compare.svg are one figure.
function lab._compare_svg(summary, rows, ctx)
  local tmp = os.tmpname()
  os.remove(tmp) -- only its name is wanted; plot writes NAME.svg atomically
  local path = tmp .. ".svg"
  local ok, why = compare_plot(path, summary, rows, ctx)
  if not ok then
    os.remove(path)
    return nil, why
  end
  local f = io.open(path, "rb")
  local text = f and f:read("a")
  if f then f:close() end
  os.remove(path)
  os.remove((path:gsub("(%.%w+)$", "_accuracy%1")))
  if not text then return nil, "the figure could not be read back" end
  return text
end

---------------------------------------------------------------------------------------
-- The run store (lab.compare{store=}): one JSON object per line and finished run.

local function json_value(v)
  local t = type(v)
  if v == nil then return "null" end
  if t == "boolean" then return tostring(v) end
  if t == "number" then
    if math.type(v) == "integer" then return tostring(v) end
    if v ~= v or v == math.huge or v == -math.huge then return "null" end
    return fmt("%.17g", v)
  end
  if t == "string" then
    return '"' .. v:gsub('[%c"\\]', function(c)
      local named = {['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n", ["\t"] = "\\t",
        ["\r"] = "\\r"}
      return named[c] or fmt("\\u%04x", c:byte())
    end) .. '"'
  end
  if t == "table" then
    local parts = {}
    for i = 1, #v do parts[i] = json_value(v[i]) end
    return "[" .. table.concat(parts, ",") .. "]"
  end
  error("json: cannot encode a " .. t)
end

-- A flat object (keys sorted, so equal records give equal lines).
local function json_object(obj)
  local keys = {}
  for k in pairs(obj) do keys[#keys + 1] = k end
  table.sort(keys)
  local parts = {}
  for i, k in ipairs(keys) do parts[i] = json_value(k) .. ":" .. json_value(obj[k]) end
  return "{" .. table.concat(parts, ",") .. "}"
end
lab._json_object = json_object

-- The reverse, for the lines json_object writes (flat objects of numbers, strings,
-- booleans, null and flat arrays); nil for anything else (a torn last line).
local function json_parse(line)
  local pos = 1
  local function ws() pos = line:find("[^ \t\r\n]", pos) or #line + 1 end
  local value
  local function str()
    local out = {}
    pos = pos + 1
    while true do
      local c = line:sub(pos, pos)
      if c == "" then error("eof") end
      if c == '"' then pos = pos + 1 return table.concat(out) end
      if c == "\\" then
        local e = line:sub(pos + 1, pos + 1)
        if e == "u" then
          out[#out + 1] = utf8.char(tonumber(line:sub(pos + 2, pos + 5), 16))
          pos = pos + 6
        else
          out[#out + 1] = ({n = "\n", t = "\t", r = "\r", b = "\b", f = "\f"})[e] or e
          pos = pos + 2
        end
      else
        out[#out + 1] = c
        pos = pos + 1
      end
    end
  end
  function value()
    ws()
    local c = line:sub(pos, pos)
    if c == '"' then return str() end
    if c == "[" then
      local arr = {}
      pos = pos + 1
      ws()
      if line:sub(pos, pos) == "]" then pos = pos + 1 return arr end
      while true do
        arr[#arr + 1] = value()
        ws()
        local d = line:sub(pos, pos)
        pos = pos + 1
        if d == "]" then return arr end
        if d ~= "," then error("array") end
      end
    end
    for word, v in pairs{["true"] = true, ["false"] = false, ["null"] = "\0null"} do
      if line:sub(pos, pos + #word - 1) == word then
        pos = pos + #word
        if v == "\0null" then return nil end
        return v
      end
    end
    local num = line:match("^-?%d+%.?%d*[eE]?[-+]?%d*", pos)
    if not num or num == "" then error("value") end
    pos = pos + #num
    return math.tointeger(tonumber(num)) or tonumber(num)
  end
  local ok, obj = pcall(function()
    ws()
    if line:sub(pos, pos) ~= "{" then error("object") end
    pos = pos + 1
    local o = {}
    ws()
    if line:sub(pos, pos) == "}" then return o end
    while true do
      ws()
      local k = str()
      ws()
      if line:sub(pos, pos) ~= ":" then error("colon") end
      pos = pos + 1
      o[k] = value()
      ws()
      local d = line:sub(pos, pos)
      pos = pos + 1
      if d == "}" then return o end
      if d ~= "," then error("object") end
    end
  end)
  return ok and obj or nil
end
lab._json_parse = json_parse

-- The numbers of a row the store keeps (history as flat arrays).
local STORED = {"params", "epochs", "train_loss", "train_accuracy", "test_loss",
  "test_accuracy", "seconds", "dead_fraction", "grad_norm_first", "grad_norm_last"}

local function row_record(row, options, prov)
  local rec = {activation = row.activation, seed = row.seed, options = options,
    finished = true}
  for k, v in pairs(prov) do rec[k] = v end
  for _, k in ipairs(STORED) do rec[k] = row[k] end
  local el, ea, et, ce, cl = {}, {}, {}, {}, {}
  for i, h in ipairs(row.history) do
    el[i], ea[i], et[i] = h.loss, h.accuracy or -1, h.val_loss or -1
  end
  for i, pt in ipairs(row.history.curve or {}) do ce[i], cl[i] = pt.epoch, pt.loss end
  rec.epoch_loss, rec.epoch_accuracy, rec.curve_epoch, rec.curve_loss = el, ea, ce, cl
  rec.epoch_test_loss = et
  return rec
end

local function record_row(rec)
  local row = {activation = rec.activation, seed = rec.seed}
  for _, k in ipairs(STORED) do row[k] = rec[k] end
  local history = {curve = {}}
  for i, l in ipairs(rec.epoch_loss or {}) do
    local a = rec.epoch_accuracy and rec.epoch_accuracy[i]
    local t = rec.epoch_test_loss and rec.epoch_test_loss[i] -- absent in older stores
    history[i] = {epoch = i, loss = l, accuracy = a ~= -1 and a or nil,
      val_loss = t ~= -1 and t or nil}
  end
  for i, e in ipairs(rec.curve_epoch or {}) do
    history.curve[i] = {epoch = e, loss = rec.curve_loss[i]}
  end
  row.history = history
  return row
end

-- The finished runs of a store file: "activation\0seed\0options" -> record.
local function read_store(path)
  local found = {}
  local f = io.open(path, "r")
  if not f then return found end
  for line in f:lines() do
    local rec = json_parse(line)
    if rec and rec.finished and type(rec.activation) == "string" and rec.seed and
        type(rec.options) == "string" then
      found[rec.activation .. "\0" .. tostring(rec.seed) .. "\0" .. rec.options] = rec
    end
  end
  f:close()
  return found
end

-- What decides a run's result besides activation and seed, as one canonical string
-- (sorted keys): the loop's settings, the data's shapes and the caller's provenance.
local function canonical_options(epochs, batch, train, test, extra)
  local o = {epochs = epochs, batch = batch,
    train = table.concat(train.X:shape(), "x"), test = table.concat(test.X:shape(), "x")}
  for k, v in pairs(extra) do o["opt." .. k] = v end
  local keys = {}
  for k in pairs(o) do keys[#keys + 1] = k end
  table.sort(keys)
  local parts = {}
  for i, k in ipairs(keys) do parts[i] = k .. "=" .. tostring(o[k]) end
  return table.concat(parts, ";")
end

-- Where the numbers came from: version, SIMD level, threads.
local function provenance()
  local simd = "unknown"
  if type(actrun.build_info) == "function" then
    local ok, info = pcall(actrun.build_info)
    if ok and type(info) == "table" and info.simd then simd = tostring(info.simd) end
  end
  return {actrun_version = actrun.version, simd = simd, threads = actrun.get_num_threads()}
end

-- The first and last Linear's weight-gradient norms (first and last parameter layer
-- when the model has no Linear).
local function first_last_grad(flow)
  local lin = {}
  for _, r in ipairs(flow) do if r.kind == "Linear" then lin[#lin + 1] = r end end
  if #lin == 0 then lin = flow end
  if #lin == 0 then return nil, nil end
  return lin[1].grad_norm, lin[#lin].grad_norm
end

-- lab.compare over several ranks: runs go to ranks balanced by expected cost (longest
-- first, each to the least loaded rank: the LPT rule; ties to the lower rank, so equal
-- costs go round-robin in run order). The same inputs give the same plan on every rank.
local function plan_runs(costs, size)
  local order = {}
  for i = 1, #costs do order[i] = i end
  table.sort(order, function(x, y)
    if costs[x] ~= costs[y] then return costs[x] > costs[y] end
    return x < y
  end)
  local load, owner = {}, {}
  for r = 0, size - 1 do load[r] = 0 end
  for _, i in ipairs(order) do
    local best = 0
    for r = 1, size - 1 do
      if load[r] < load[best] then best = r end
    end
    owner[i] = best
    load[best] = load[best] + costs[i]
  end
  return owner, load
end
lab._plan_runs = plan_runs -- for the tests

-- Every rank's finished rows to every rank (one allgather of the serialised rows), put
-- back in run order: all ranks return identical, complete rows.
local function share_rows(W, rows, owner, rank)
  local mine = {}
  for run, r in ipairs(rows) do
    if owner[run] == rank then mine[#mine + 1] = {run = run, row = r} end
  end
  for _, e in ipairs(W.allgather_rows(mine)) do rows[e.run] = e.row end
end

local canonical_params, activation_entry -- (below)

-- lab.compare's tune option, checked: {lrs=, fraction=} or nil
local function check_tune(fname, tune)
  if tune == nil then return nil end
  if type(tune) ~= "table" or actrun.is_tensor(tune) then
    error(fmt("%s: option tune expected a table {lrs={...} [, fraction=0.2]}, got %s", fname,
      typename(tune)), 4)
  end
  for k in pairs(tune) do
    if not TUNE_FIELDS[k] then
      error(fmt("%s: option tune has unknown field '%s' (fields: fraction, lrs)", fname,
        tostring(k)), 4)
    end
  end
  if type(tune.lrs) ~= "table" or #tune.lrs == 0 then
    error(fmt("%s: option tune field lrs expected a non-empty list of learning rates, got %s",
      fname, type(tune.lrs) == "table" and "an empty table" or typename(tune.lrs)), 4)
  end
  local lrs = {}
  for i, lr in ipairs(tune.lrs) do
    if type(lr) ~= "number" or not (lr > 0 and lr < math.huge) then
      error(fmt("%s: option tune field lrs entry %d expected a finite number > 0, got %s",
        fname, i, type(lr) == "number" and tostring(lr) or typename(lr)), 4)
    end
    lrs[i] = lr
  end
  local fraction = tune.fraction
  if fraction == nil then fraction = 0.2 end
  if type(fraction) ~= "number" or not (fraction > 0 and fraction < 1) then
    error(fmt("%s: option tune field fraction expected a number strictly between 0 and 1, " ..
      "got %s", fname, type(fraction) == "number" and tostring(fraction) or
      typename(fraction)), 4)
  end
  return {lrs = lrs, fraction = fraction}
end

-- An activation's parameters as text: "k=v, k2=v2", keys sorted, numbers as %g (the
-- default label) or %.17g (exact, for the store's key).
local function params_text(params, exact)
  local keys = {}
  for k in pairs(params) do keys[#keys + 1] = k end
  table.sort(keys, function(x, y) return tostring(x) < tostring(y) end)
  local parts = {}
  for i, k in ipairs(keys) do
    local v = params[k]
    if type(v) == "number" then v = fmt(exact and "%.17g" or "%g", v) end
    parts[i] = tostring(k) .. "=" .. tostring(v)
  end
  return table.concat(parts, ", ")
end
canonical_params = function(params) return params_text(params, true) end

local ENTRY_FIELDS = {name = true, params = true, label = true}

-- lab.compare's activations entry i: a name, or {name=, params=, label=}. Returns the
-- label (the name, the given label, or "name(k=v)") and what the model function gets:
-- the name itself, or the entry (nn.mlp{activation=} and nn.Activation take it as is).
activation_entry = function(fname, i, a)
  if type(a) == "string" then return a, a end
  if type(a) ~= "table" or actrun.is_tensor(a) then
    error(fmt("%s: option activations entry %d expected a name or {name=, params=, label=}, " ..
      "got %s", fname, i, typename(a)), 4)
  end
  for k in pairs(a) do
    if not ENTRY_FIELDS[k] then
      error(fmt("%s: option activations entry %d has unknown field '%s' (fields: label, name, " ..
        "params)", fname, i, tostring(k)), 4)
    end
  end
  if type(a.name) ~= "string" then
    error(fmt("%s: option activations entry %d field name expected an activation name, got %s",
      fname, i, typename(a.name)), 4)
  end
  if a.params ~= nil and (type(a.params) ~= "table" or actrun.is_tensor(a.params)) then
    error(fmt("%s: option activations entry %d field params expected a table, got %s", fname, i,
      typename(a.params)), 4)
  end
  if a.label ~= nil and (type(a.label) ~= "string" or a.label == "") then
    error(fmt("%s: option activations entry %d field label expected a non-empty string, got %s",
      fname, i, type(a.label) == "string" and "an empty string" or typename(a.label)), 4)
  end
  local params = a.params and next(a.params) ~= nil and a.params or nil
  local label = a.label or (params and (a.name .. "(" .. params_text(params) .. ")")) or a.name
  if not params then return label, a.name end
  return label, {name = a.name, params = params, label = label}
end

-- The plan of a comparison: every option of the spec, checked (errors point at the
-- caller of lab.compare).
local function compare_plan(spec)
  local fname = "actrun.lab.compare"
  if type(spec) ~= "table" then
    error(fmt("%s: argument #1 (spec) expected a table, got %s", fname, typename(spec)), 3)
  end
  check_opts(fname, spec, 1, COMPARE_OPTS, 4, "spec")
  local acts = spec.activations
  if type(acts) ~= "table" or #acts == 0 then
    error(fmt("%s: option activations expected a non-empty list of names, got %s", fname,
      type(acts) == "table" and "an empty table" or typename(acts)), 3)
  end
  -- each entry: a name, or {name=, params=, label=} (one activation at chosen parameters,
  -- e.g. a sweep of leaky_relu's slope); runs and rows are known by the label
  local listed, labels, arg_of, params_key = {}, {}, {}, {}
  for i, a in ipairs(acts) do
    local label, arg = activation_entry(fname, i, a)
    if listed[label] then
      error(fmt("%s: option activations lists '%s' twice (entries %d and %d)", fname, label,
        listed[label], i), 3)
    end
    listed[label] = i
    labels[i], arg_of[label] = label, arg
    if type(arg) == "table" and arg.params then params_key[label] = canonical_params(arg.params) end
  end
  acts = labels
  if not is_callable(spec.model) then
    error(fmt("%s: option model expected a function(activation) -> module, got %s", fname,
      typename(spec.model)), 3)
  end
  local D = spec.data
  if type(D) ~= "table" then
    error(fmt("%s: option data expected a table {train={X=, y=}, test={X=, y=}}, got %s",
      fname, typename(D)), 3)
  end
  for _, part in ipairs{"train", "test"} do
    local set = D[part]
    if type(set) ~= "table" or actrun.is_tensor(set) then
      error(fmt("%s: option data field %s expected a table {X=, y=}, got %s", fname, part,
        typename(set)), 3)
    end
    check_xy(fname, set.X, set.y, "option data." .. part .. " field X",
      "option data." .. part .. " field y", 4)
  end
  if spec.optimizer ~= nil and not is_callable(spec.optimizer) then
    error(fmt("%s: option optimizer expected a function(params) -> optimiser, got %s", fname,
      typename(spec.optimizer)), 3)
  end
  if spec.loss ~= nil and not is_callable(spec.loss) then
    error(fmt("%s: option loss expected a function, got %s", fname, typename(spec.loss)), 3)
  end
  local tune = check_tune(fname, spec.tune)
  local epochs = opt_posint(fname, spec, "epochs", 1, 4)
  local batch = opt_posint(fname, spec, "batch", 64, 4)
  local seeds = spec.seeds
  if seeds == nil then seeds = {1} end
  if type(seeds) == "number" then
    if math.type(seeds) ~= "integer" and seeds ~= math.floor(seeds) or seeds < 1 then
      error(fmt("%s: option seeds expected a list of seeds or a count >= 1, got %s", fname,
        tostring(seeds)), 3)
    end
    local list = {}
    for i = 1, math.tointeger(seeds) do list[i] = i end
    seeds = list
  elseif type(seeds) ~= "table" or #seeds == 0 then
    error(fmt("%s: option seeds expected a list of seeds or a count >= 1, got %s", fname,
      typename(seeds)), 3)
  end
  for i, sd in ipairs(seeds) do
    if math.type(sd) ~= "integer" then
      error(fmt("%s: option seeds entry %d expected an integer, got %s", fname, i,
        type(sd) == "number" and tostring(sd) or typename(sd)), 3)
    end
  end
  local csv = opt_type(fname, spec, "csv", "string", 4)
  local plotfile = opt_type(fname, spec, "plot", "string", 4)
  local reportfile = opt_type(fname, spec, "report", "string", 4)
  local quiet = opt_type(fname, spec, "quiet", "boolean", 4)
  local show = opt_type(fname, spec, "progress", "boolean", 4)
  local verbose = opt_type(fname, spec, "verbose", "boolean", 4)
  local storefile = opt_type(fname, spec, "store", "string", 4)
  local reference = spec.reference
  if type(reference) == "table" and not actrun.is_tensor(reference) then
    -- the same {name=, params=, label=} as in activations: known by its label
    local ok, label = pcall(activation_entry, fname, 0, reference)
    reference = ok and label or reference
  end
  if reference ~= nil and (type(reference) ~= "string" or not listed[reference]) then
    error(fmt("%s: option reference expected one of the activations (%s), got %s", fname,
      table.concat(acts, ", "), type(reference) == "string" and ("'" .. reference .. "'") or
      typename(reference)), 3)
  end
  local ptest = spec.test or "t"
  if not TEST_NAMES[ptest] then
    error(fmt("%s: option test expected \"t\", \"wilcoxon\" or \"permutation\", got %s",
      fname, type(ptest) == "string" and ("'" .. ptest .. "'") or typename(ptest)), 3)
  end
  local alpha = spec.alpha or 0.05
  if type(alpha) ~= "number" or not (alpha > 0 and alpha < 1) then
    error(fmt("%s: option alpha expected a number strictly between 0 and 1, got %s", fname,
      type(alpha) == "number" and tostring(alpha) or typename(alpha)), 3)
  end
  local extra = spec.provenance or {}
  if type(extra) ~= "table" then
    error(fmt("%s: option provenance expected a table of names to strings or numbers, " ..
      "got %s", fname, typename(extra)), 3)
  end
  for k, v in pairs(extra) do
    if type(k) ~= "string" or (type(v) ~= "string" and type(v) ~= "number" and
        type(v) ~= "boolean") then
      error(fmt("%s: option provenance entry %s expected a string, number or boolean, got %s",
        fname, tostring(k), typename(v)), 3)
    end
  end
  if spec.cost ~= nil and not is_callable(spec.cost) then
    error(fmt("%s: option cost expected a function(activation, seed) -> number, got %s",
      fname, typename(spec.cost)), 3)
  end
  return {fname = fname, spec = spec, acts = acts, listed = listed, arg_of = arg_of,
    params_key = params_key, D = D, tune = tune,
    epochs = epochs, batch = batch, seeds = seeds, csv = csv, plotfile = plotfile,
    reportfile = reportfile,
    quiet = quiet, show = show, verbose = verbose, storefile = storefile,
    reference = reference, ptest = ptest, alpha = alpha, extra = extra}
end

-- The state a comparison runs in: MPI ranks (with several, each run belongs to one rank,
-- the rows are shared at the end, and only rank 0 prints, shows progress and writes
-- files), output, the evaluation subsets, the run list, provenance and the run store.
local function compare_context(P)
  local fname, spec, D = P.fname, P.spec, P.D
  local W, rank, size = dist_module(), 0, 1
  if W then rank, size = W.rank(), W.size() end
  if size <= 1 then W = nil end
  for _, f in ipairs{{P.csv, "csv"}, {P.storefile, "store"}} do
    if f[1] and rank == 0 then
      -- fail now rather than after hours of training
      local h, err = io.open(f[1], "a")
      if not h then error(fmt("%s: option %s: cannot write %s", fname, f[2], tostring(err)), 3) end
      h:close()
    end
  end
  if P.reportfile and rank == 0 then
    -- as for csv: a bad path fails before the training, not after it; a new file is
    -- removed again, so a failed comparison leaves no empty report behind
    local existed = io.open(P.reportfile, "r")
    if existed then existed:close() end
    local f, err = io.open(P.reportfile, "a")
    if not f then error(fmt("%s: option report: cannot write %s", fname, tostring(err)), 3) end
    f:close()
    if not existed then os.remove(P.reportfile) end
  end
  local say = (P.quiet or rank ~= 0) and function() end or function(...)
    io.stdout:write(...)
    io.stdout:write("\n")
    io.stdout:flush()
  end
  local train, test = D.train, D.test
  local C = {W = W, rank = rank, size = size, say = say, train = train, test = test,
    lossf = spec.loss or nn().cross_entropy, runs = {}, owner = {}}
  -- gradient norms from one batch of the test set (at most EVAL_BATCH rows)
  local ng = math.min(EVAL_BATCH, test.X:size(1))
  C.gX, C.gy = test.X:narrow(1, 1, ng), test.y:narrow(1, 1, ng)
  for _, a in ipairs(P.acts) do
    for _, seed in ipairs(P.seeds) do C.runs[#C.runs + 1] = {a = a, seed = seed} end
  end
  -- progress of each run's training: as asked on rank 0, off elsewhere; by default a bar
  -- on a terminal only (a log gets one line per run, not one per epoch), and per-epoch
  -- lines too with verbose
  local run_progress = P.show
  if run_progress == nil and not P.verbose and progress().mode(nil) ~= "tty" then
    run_progress = false
  end
  if P.quiet or rank ~= 0 then run_progress = false end
  C.run_progress = run_progress
  -- the training loss after the last step, on the same first rows for every run
  local ntr = math.min(TRAIN_EVAL_MAX, train.X:size(1))
  C.tX, C.ty = train.X:narrow(1, 1, ntr), train.y:narrow(1, 1, ntr)
  C.prov = provenance()
  C.options = canonical_options(P.epochs, P.batch, train, test, P.extra)
  C.stored = P.storefile and read_store(P.storefile) or {}
  C.params_key = P.params_key
  C.reused = {}
  return C
end

local function make_model(P, a)
  local model = P.spec.model(P.arg_of[a])
  if not is_module(model) then
    error(fmt("%s: option model returned %s for activation '%s', expected an nn module",
      P.fname, typename(model), a), 4)
  end
  return model
end
-- the optimiser of a run: the factory gets the tuned rate as a second argument (and only
-- params without tuning, as always); the default Adam uses it too
local function make_optimizer(P, params, lr)
  if P.spec.optimizer then
    if lr == nil then return P.spec.optimizer(params) end
    return P.spec.optimizer(params, lr)
  end
  return optim().Adam(params, {lr = lr or 1e-3})
end

-- tune: each activation gets the rate of the grid with the best validation accuracy
-- (validation loss breaks ties and decides for a non-classification), trained on the
-- rest of the training set with the first seed; the test set plays no part. Every rank
-- tunes for itself: the choice is deterministic, so all ranks agree without messages.
local function tune_rates(P, C)
  local tune = P.tune
  local lr_of = {}
  local fitX, fity, valX, valy = data().split(C.train.X, C.train.y,
    {fraction = tune.fraction, seed = TUNE_SEED})
  local fit, seed = {X = fitX, y = fity}, P.seeds[1]
  for _, a in ipairs(P.acts) do
    local best, best_acc, best_loss
    for _, lr in ipairs(tune.lrs) do
      actrun.manual_seed(seed)
      local model = make_model(P, a)
      lab.train(model, fit, {epochs = P.epochs, batch = P.batch,
        optimizer = make_optimizer(P, model:parameters(), lr), loss = C.lossf, seed = seed,
        progress = false})
      local ev = lab.evaluate(model, valX, valy, C.lossf)
      local acc, loss = ev.accuracy or -math.huge, ev.loss
      if loss ~= loss then loss = math.huge end -- a diverged run never wins on loss
      if best == nil or acc > best_acc or (acc == best_acc and loss < best_loss) then
        best, best_acc, best_loss = lr, acc, loss
      end
      C.say(fmt("tune %s: lr %g: validation accuracy %s, loss %.4g", a, lr,
        pct(ev.accuracy) or "-", ev.loss))
    end
    lr_of[a] = best
  end
  return lr_of
end

-- the store key of a run: a tuned run's rate is part of what decides its result
local function options_of(C, a)
  local o = C.options
  -- an entry's parameters decide its result too (its label may not show them)
  if C.params_key[a] then o = o .. ";act_params=" .. C.params_key[a] end
  if C.lr_of then o = o .. ";lr=" .. fmt("%.17g", C.lr_of[a]) end
  return o
end

-- With several ranks: which rank does each run, balanced by expected cost:
-- spec.cost(activation, seed), else the model's parameter count (the GEMMs, which
-- dominate a step, scale with it; seeds cost the same).
local function assign_runs(P, C)
  local spec, costs, params_of = P.spec, {}, {}
  for i, r in ipairs(C.runs) do
    local c
    if spec.cost then
      c = spec.cost(P.arg_of[r.a], r.seed)
      if type(c) ~= "number" or c ~= c or c < 0 then
        error(fmt("%s: option cost returned %s for activation '%s', seed %d, expected a " ..
          "number >= 0", P.fname, tostring(c), r.a, r.seed), 3)
      end
    else
      if not params_of[r.a] then
        actrun.manual_seed(r.seed)
        local m = spec.model(P.arg_of[r.a])
        params_of[r.a] = is_module(m) and m:num_parameters() or 1
      end
      c = params_of[r.a]
    end
    costs[i] = c
  end
  local owner = plan_runs(costs, C.size)
  local mine = 0
  for i = 1, #C.runs do if owner[i] == 0 then mine = mine + 1 end end
  C.say(fmt("%d runs over %d ranks (balanced by expected cost; rank 0 runs %d, reports its own)",
    #C.runs, C.size, mine))
  return owner
end

-- One run (activation x seed): from the store when it holds it, else trained and
-- evaluated, and appended to the store as soon as it ends (an interrupted comparison
-- resumes from there).
local function run_one(P, C, run, a, seed)
  local total, lr_of = #C.runs, C.lr_of
  local key = a .. "\0" .. seed .. "\0" .. options_of(C, a)
  if C.stored[key] then
    local row = record_row(C.stored[key])
    if lr_of then row.lr = lr_of[a] end
    C.reused[run] = true
    C.say(fmt("run %d/%d: %s seed %d: test accuracy %s, %.1f s (from the store)", run, total,
      a, seed, pct(row.test_accuracy) or "-", row.seconds or 0))
    return row
  end
  actrun.manual_seed(seed)
  local model = make_model(P, a)
  local opt = make_optimizer(P, model:parameters(), lr_of and lr_of[a])
  -- the test loss after every epoch (history val_loss) is for the figure's curves only:
  -- nothing is chosen by it, so the test set stays unseen by the training
  local test = C.test
  local history = lab.train(model, C.train, {epochs = P.epochs, batch = P.batch,
    optimizer = opt, loss = C.lossf, seed = seed, progress = C.run_progress, val = test,
    label = fmt("%s seed %d", a, seed)})
  -- training time: the epochs' own clocks leave out the per-epoch test loss
  local seconds = 0
  for _, h in ipairs(history) do seconds = seconds + h.seconds end
  local ev = lab.evaluate(model, test.X, test.y, C.lossf)
  local tr = lab.evaluate(model, C.tX, C.ty, C.lossf)
  local dead = lab.dead_units(model, test.X)
  local gfirst, glast = first_last_grad(lab.gradient_flow(model, C.gX, C.gy, C.lossf))
  local row = {activation = a, seed = seed, params = model:num_parameters(),
    epochs = #history, train_loss = tr.loss, train_accuracy = tr.accuracy,
    test_loss = ev.loss, test_accuracy = ev.accuracy, seconds = seconds,
    dead_fraction = dead.total, grad_norm_first = gfirst, grad_norm_last = glast,
    history = history, lr = lr_of and lr_of[a]}
  C.say(fmt("run %d/%d: %s seed %d: test accuracy %s, %.1f s", run, total, a, seed,
    pct(row.test_accuracy) or "-", seconds))
  if P.storefile and C.rank == 0 then
    local f = io.open(P.storefile, "a")
    if f then
      f:write(json_object(row_record(row, options_of(C, a), C.prov)), "\n")
      f:close()
    end
  end
  return row
end

-- After an MPI comparison rank 0 has every row: it stores the other ranks' runs.
local function store_others(P, C, rows)
  if not (C.W and P.storefile and C.rank == 0) then return end
  local f = io.open(P.storefile, "a")
  if not f then return end
  for run, r in ipairs(rows) do
    if C.owner[run] ~= 0 and not C.reused[run] then
      f:write(json_object(row_record(r, options_of(C, r.activation), C.prov)), "\n")
    end
  end
  f:close()
end

-- The report: summary statistics, the printed table, the CSV and the figure.
local function compare_report(P, C, rows)
  local say, lr_of = C.say, C.lr_of
  local summary = summarize(rows)
  add_statistics(summary, P.reference, P.ptest, P.alpha)
  say("")
  say(compare_table(summary, {seeds = #P.seeds, test = P.ptest, alpha = P.alpha,
    tune = lr_of and {order = P.acts, lr_of = lr_of, fraction = P.tune.fraction}}))
  -- provenance: the CSV's constant columns and the report's setup list
  local prov, extra = C.prov, P.extra
  local consts = {{"batch", P.batch}, {"seeds", table.concat(P.seeds, ";")},
    {"actrun_version", prov.actrun_version}, {"simd", prov.simd}, {"threads", prov.threads}}
  local keys = {}
  for k in pairs(extra) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do consts[#consts + 1] = {k, extra[k]} end
  if P.csv and C.rank == 0 then
    local fields
    if lr_of then
      -- a tuned comparison's rows say their rate; an untuned CSV keeps its columns
      fields = table.move(CSV_FIELDS, 1, #CSV_FIELDS, 1, {})
      fields[#fields + 1] = "lr"
    end
    write_csv(P.fname, P.csv, rows, consts, fields)
    say("wrote " .. P.csv)
  end
  if P.plotfile and C.rank == 0 then
    local ok, why = compare_plot(P.plotfile, summary, rows,
      {seeds = #P.seeds, test_name = TEST_NAMES[P.ptest], alpha = P.alpha})
    if ok then say("wrote " .. P.plotfile)
    else say("no plot written (" .. why .. ")") end
  end
  if P.reportfile and C.rank == 0 then
    local setup = {{"epochs", P.epochs}}
    for _, c in ipairs(consts) do setup[#setup + 1] = c end
    if lr_of then
      setup[#setup + 1] = {"lr", fmt("tuned per activation on a %g%% validation split",
        100 * P.tune.fraction)}
    end
    require("actrun.report").write(P.fname, P.reportfile, rows, summary, {setup = setup,
      seeds = #P.seeds, test = P.ptest, alpha = P.alpha})
    say("wrote " .. P.reportfile)
  end
  return summary
end

-- lab.compare: plan (check the spec), run (tune, assign ranks, train each activation x
-- seed), report (statistics, table, files).
function lab.compare(spec)
  local P = compare_plan(spec)
  local C = compare_context(P)
  if P.tune then C.lr_of = tune_rates(P, C) end
  if C.W then C.owner = assign_runs(P, C) end
  local rows = {}
  for run, r in ipairs(C.runs) do
    if C.W and C.owner[run] ~= C.rank then
      rows[run] = {activation = r.a, seed = r.seed} -- filled in by share_rows
    else
      rows[run] = run_one(P, C, run, r.a, r.seed)
    end
  end
  if C.W then share_rows(C.W, rows, C.owner, C.rank) end
  store_others(P, C, rows)
  local summary = compare_report(P, C, rows)
  -- the printed table shows them: the REPL does not echo every run's numbers again
  if not P.quiet then util.displayed(rows, summary) end
  return rows, summary
end

-- lab.plot_depth(probes [, {file=, title=, field="grad_norm"}]): one line per probe
-- over the layers; grad_norm (the default) and other positive fields are drawn as
-- log10. probes: {label -> depth_probe rows} or a list of {label=, rows=}.
function lab.plot_depth(probes, opts)
  local fname = "actrun.lab.plot_depth"
  if type(probes) ~= "table" then
    error(fmt("%s: argument #1 (probes) expected a table of depth_probe results, got %s",
      fname, typename(probes)), 2)
  end
  opts = check_opts(fname, opts, 2, {file = true, title = true, field = true, log = true}, 3)
  local field = opts.field or "grad_norm"
  local log = opts.log
  if log == nil then log = field == "grad_norm" end
  local list = {}
  if #probes > 0 then
    for i, p in ipairs(probes) do
      if type(p) ~= "table" or type(p.rows) ~= "table" then
        error(fmt("%s: argument #1 (probes) entry %d expected {label=, rows=}, got %s", fname,
          i, typename(p)), 2)
      end
      list[#list + 1] = {label = tostring(p.label or i), rows = p.rows}
    end
  else
    local keys = {}
    for k in pairs(probes) do keys[#keys + 1] = tostring(k) end
    table.sort(keys)
    for _, k in ipairs(keys) do list[#list + 1] = {label = k, rows = probes[k]} end
  end
  if #list == 0 then error(fname .. ": argument #1 (probes) is empty", 2) end
  local series = {}
  for _, p in ipairs(list) do
    local x, y = {}, {}
    for i, r in ipairs(p.rows) do
      local v = type(r) == "table" and r[field]
      if type(v) ~= "number" then
        error(fmt("%s: probe '%s' row %d has no number field '%s'", fname, p.label, i, field), 2)
      end
      -- a zero norm has no logarithm: that point is left out
      if not log or v > 0 then
        x[#x + 1] = r.layer or i
        y[#y + 1] = log and math.log(v, 10) or v
      end
    end
    series[#series + 1] = {x = x, y = y, label = p.label}
  end
  local spec = {series = series, title = opts.title or (field .. " per layer"),
    xlabel = "layer", ylabel = log and ("log10 " .. field) or field, file = opts.file}
  local plot, why = plot_module()
  if not plot or type(plot.line) ~= "function" then
    error(fmt("%s: %s", fname, why or "actrun.plot has no plot.line"), 2)
  end
  plot.line(spec)
  if not opts.file then util.displayed(series) end -- drawn: the REPL does not echo it
  return series
end
-- lab.report(rows [, {file=, title=, summary=}]): the comparison as one self-contained
-- HTML page (actrun.report; loaded on first use, it needs lab's statistics itself).
function lab.report(...) return require("actrun.report").report(...) end

-- The activation search (actrun.search, loaded on first use): lab.search{...} ->
-- candidates ranked, info; lab.search_merge(store) for a sharded search's files;
-- lab.search_table(results [, opts]) the printed table; lab.search_define(expr) registers
-- a candidate expression as an activation and returns its name.
function lab.search(spec) return require("actrun.search").search(spec) end
function lab.search_merge(store) return require("actrun.search").merge(store) end
function lab.search_table(results, opts) return require("actrun.search").table(results, opts) end
function lab.search_define(expr) return require("actrun.search").define(expr) end

return lab
