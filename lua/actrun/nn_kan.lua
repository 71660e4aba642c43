-- actrun.nn_kan: Kolmogorov-Arnold layers (merged into actrun.nn by nn.lua).
--
--   nn.KANLinear(in, out [, {grid=5, order=3, range={-1, 1}, base="silu"}])
--   nn.kan{2, 5, 1, grid=5, order=3 [, range=, base=]}  -> Sequential of KANLinear
--
-- Liu et al. 2024: every edge (input i -> output j) carries its own function
--   phi_ji(x) = base_weight[j,i] base(x) + spline_scale[j,i] sum_k spline_weight[j,k,i] B_k(x)
-- and y_j = sum_i phi_ji(x_i). B_k are the grid + order B-splines of degree `order` on a
-- uniform grid of `grid` intervals over `range`, extended by `order` knots each side
-- (actrun.bspline_basis, a C kernel). The forward is two GEMMs: the basis table
-- {batch, (grid + order) * in} times the scaled coefficients, and base(x) times the base
-- weights; autograd differentiates through it to any order. The coefficients are stored
-- {out, grid + order, in}, in the basis kernel's layout, so neither operand is permuted.
local actrun = require "actrun"
local util = require "actrun.util"

local M = {}
local fmt = string.format
local linear, bspline_basis = actrun.linear, actrun.bspline_basis

local OPTS = {grid = true, order = true, range = true, base = true}

local function module_base()
  return require("actrun.nn_modules")
end

local function is_posint(v)
  return math.type(v) == "integer" and v > 0 or
    (math.type(v) == "float" and v > 0 and v == math.floor(v) and v < 2 ^ 53)
end

-- The checked options (defaults filled in); errors name fname and the option, at level.
local function read_opts(fname, opts, argn, level)
  opts = util.check_opts(fname, opts, argn, OPTS, level + 1)
  local grid, order = opts.grid or 5, opts.order or 3
  if not is_posint(grid) or grid > 1024 then
    error(fmt("%s: option grid expected an integer in 1..1024, got %s", fname, util.got(grid)),
      level)
  end
  if not (is_posint(order) or order == 0) or order > 8 then
    error(fmt("%s: option order expected an integer in 0..8, got %s", fname, util.got(order)),
      level)
  end
  local range = opts.range or {-1, 1}
  if type(range) ~= "table" or #range ~= 2 or type(range[1]) ~= "number" or
      type(range[2]) ~= "number" or not (range[1] < range[2]) or range[1] == -math.huge or
      range[2] == math.huge then
    error(fmt("%s: option range expected a pair {lo, hi} of finite numbers with lo < hi, got %s",
      fname, type(range) == "table" and "{" .. tostring(range[1]) .. ", " ..
      tostring(range[2]) .. "}" or util.typename(range)), level)
  end
  local base = opts.base
  if base == nil then base = "silu" end
  if base ~= false and base ~= "none" then
    local ok, info = pcall(actrun.act.info, base)
    if type(base) ~= "string" or not ok or not info then
      error(fmt("%s: option base expected an activation name, 'none' or false, got %s", fname,
        type(base) == "string" and ("'" .. base .. "'") or util.typename(base)), level)
    end
  else
    base = "none"
  end
  return math.tointeger(grid), math.tointeger(order), {range[1], range[2]}, base
end

---------------------------------------------------------------------------------------
-- KANLinear

local Module = module_base().Module
local KANLinear = Module:extend("KANLinear")
M.KANLinear = KANLinear

function KANLinear:init(n_in, n_out, opts)
  local fname = "actrun.nn.KANLinear"
  for argn, v in ipairs{n_in, n_out} do
    if not is_posint(v) then
      error(fmt("%s: argument #%d (%s) expected a positive integer, got %s", fname, argn,
        argn == 1 and "in" or "out", util.got(v)), 4)
    end
  end
  n_in, n_out = math.tointeger(n_in), math.tointeger(n_out)
  local grid, order, range, base = read_opts(fname, opts, 3, 5)
  self.in_features, self.out_features = n_in, n_out
  self.grid, self.order, self.range, self.base = grid, order, range, base
  local init = require("actrun.nn").init
  local bound = 1 / math.sqrt(n_in)
  self:register_parameter("base_weight", init.uniform(actrun.empty(n_out, n_in), -bound, bound))
  self:register_parameter("spline_scale", actrun.ones(n_out, n_in))
  -- small noise: the spline part starts near zero, the base part carries the signal
  -- {out, grid + order, in}: coefficient k of the edge i -> j at [j][k][i]
  self:register_parameter("spline_weight",
    actrun.randn(n_out, grid + order, n_in) * (0.1 / math.sqrt(n_in)))
  -- the grid, saved with the weights so that a file says which grid it was trained on
  self:register_buffer("grid_info", actrun.tensor{range[1], range[2], grid, order})
end

function KANLinear:describe()
  return fmt("KANLinear(%d -> %d, grid %d, order %d, range [%g, %g]%s)", self.in_features,
    self.out_features, self.grid, self.order, self.range[1], self.range[2],
    self.base == "silu" and "" or ", base " .. self.base)
end

function KANLinear:basis_opts(transposed)
  return {grid = self.grid, order = self.order, range = self.range, transposed = transposed}
end

-- The spline coefficients with the per-edge scale folded in, as a GEMM's weight
-- {out, (grid + order) * in}: spline_weight is stored {out, grid + order, in} (the basis
-- kernel's layout), so the scale {out, 1, in} broadcasts along whole rows.
function KANLinear:spline_matrix()
  local w = self.spline_weight * self.spline_scale:unsqueeze(2)
  return w:reshape(self.out_features, -1)
end

function KANLinear:forward(x)
  if not actrun.is_tensor(x) then
    error(fmt("%s: input expected a tensor, got %s", self:where(), util.typename(x)), 2)
  end
  local nd = x:dim()
  local n_in = self.in_features
  if nd == 0 or x:size(nd) ~= n_in then
    error(fmt("%s: input has %s features, expected %d (input shape %s)", self:where(),
      nd == 0 and "no" or tostring(x:size(nd)), n_in, util.shape_str(x)), 2)
  end
  local s
  if nd ~= 2 then
    s = x:shape()
    s[nd] = self.out_features
    x = x:reshape(-1, n_in)
  end
  local b = bspline_basis(x, self:basis_opts(true)) -- {batch, grid + order, in}
  local y = linear(b:reshape(x:size(1), -1), self:spline_matrix())
  if self.base ~= "none" then
    y = y + linear(actrun.act.apply(self.base, x), self.base_weight)
  end
  if s then y = y:reshape(s) end
  return y
end

-- Solves the symmetric positive definite systems A c = r for each input: A {in, m, m},
-- r {in, m, out} (tensors), by Cholesky in double precision; returns {in, m, out}.
local function spd_solve(A, R)
  local a, r = A:totable(), R:totable()
  local n_in, m, n_out = #a, #a[1], #r[1][1]
  local out = {}
  for i = 1, n_in do
    local Ai, Ri = a[i], r[i]
    -- a small ridge keeps functions without samples at zero instead of singular
    local tr = 0
    for k = 1, m do tr = tr + Ai[k][k] end
    local ridge = 1e-7 * tr / m + 1e-12
    local L = {}
    for j = 1, m do
      L[j] = {}
      for k = 1, j do
        local s = Ai[j][k] + (j == k and ridge or 0)
        for p = 1, k - 1 do s = s - L[j][p] * L[k][p] end
        if j == k then
          L[j][j] = math.sqrt(math.max(s, 1e-30))
        else
          L[j][k] = s / L[k][k]
        end
      end
    end
    local X = {}
    for c = 1, n_out do
      local z = {}
      for j = 1, m do
        local s = Ri[j][c]
        for p = 1, j - 1 do s = s - L[j][p] * z[p] end
        z[j] = s / L[j][j]
      end
      for j = m, 1, -1 do
        local s = z[j]
        for p = j + 1, m do s = s - L[p][j] * X[p][c] end
        X[j] = X[j] or {}
        X[j][c] = s / L[j][j]
      end
    end
    out[i] = X
  end
  return actrun.tensor(out)
end

-- spline_weight {out, m, in} as {in, m, out}
function KANLinear:spline_weight_t()
  return self.spline_weight:transpose(1, 3)
end

-- Refits the spline part to a new grid (g intervals over range) by least squares on the
-- samples X {N, in}: each edge's new coefficients reproduce its old spline sum_k c B_k
-- at the samples (the scales and the base part stay as they are).
local function refit(self, fname, g, range, X)
  local n_in, n_out = self.in_features, self.out_features
  local new_opts = {grid = g, order = self.order, range = range}
  local old_opts = self:basis_opts()
  local fitted = actrun.no_grad(function()
    local Bo = bspline_basis(X, old_opts):transpose(1, 2)             -- {in, N, m_old}
    local C = self:spline_weight_t()                                   -- {in, m_old, out}
    local Y = Bo:matmul(C)                                             -- {in, N, out}
    local Bn = bspline_basis(X, new_opts):transpose(1, 2):contiguous() -- {in, N, m_new}
    local Bt = Bn:transpose(2, 3)
    return spd_solve(Bt:matmul(Bn), Bt:matmul(Y))                      -- {in, m_new, out}
  end)
  local w = fitted:transpose(1, 3):contiguous()                        -- {out, m_new, in}
  self.grid, self.range = g, {range[1], range[2]}
  self:register_parameter("spline_weight", w)
  self:register_buffer("grid_info", actrun.tensor{range[1], range[2], g, self.order})
  assert(w:size(1) == n_out and w:size(3) == n_in, fname)
  return self
end


local function check_samples(self, fname, X, argn)
  if not actrun.is_tensor(X) or X:dim() ~= 2 or X:size(2) ~= self.in_features then
    error(fmt("%s: argument #%d (X) expected a tensor {N, %d}, got %s", fname, argn,
      self.in_features, actrun.is_tensor(X) and util.shape_str(X) or util.typename(X)), 3)
  end
  return X:detach()
end

-- Dense samples of the range for every input: about 8 per basis function of either grid.
local function dense_samples(self, g)
  local n = 8 * (math.max(g, self.grid) + self.order) + 1
  local xs = actrun.linspace(self.range[1], self.range[2], n)
  return xs:unsqueeze(2):expand(n, self.in_features):contiguous()
end

-- m:extend_grid(g [, X]): a finer (or coarser) grid of g intervals over the same range,
-- its coefficients fitted by least squares to the current functions on the samples X
-- {N, in} (nil: a dense grid over the range). Parameters change shape: make a new
-- optimiser afterwards.
function KANLinear:extend_grid(g, X)
  local fname = "actrun.nn.KANLinear:extend_grid"
  if not is_posint(g) or g > 1024 then
    error(fmt("%s: argument #1 (grid) expected an integer in 1..1024, got %s", fname,
      util.got(g)), 2)
  end
  X = X == nil and dense_samples(self, g) or check_samples(self, fname, X, 2)
  return refit(self, fname, math.tointeger(g), self.range, X)
end

-- m:update_grid(X [, margin=0.01]): moves the range to the span of the samples X (all
-- inputs share one grid) widened by margin of its width, keeping the grid size, and
-- refits the coefficients on X.
function KANLinear:update_grid(X, margin)
  local fname = "actrun.nn.KANLinear:update_grid"
  X = check_samples(self, fname, X, 1)
  margin = margin or 0.01
  if type(margin) ~= "number" or margin < 0 then
    error(fmt("%s: argument #2 (margin) expected a number >= 0, got %s", fname,
      util.got(margin)), 2)
  end
  local lo, hi = X:min():item(), X:max():item()
  if not (hi > lo) then hi, lo = lo + 0.5, lo - 0.5 end
  local w = hi - lo
  return refit(self, fname, self.grid, {lo - margin * w, hi + margin * w}, X)
end

-- m:edge_curve(i, j [, n=101]) -> xs, ys: the learned function phi_ji of the edge from
-- input i to output j (1-based) at n points across the range.
function KANLinear:edge_curve(i, j, n)
  local fname = "actrun.nn.KANLinear:edge_curve"
  local function idx(v, argn, name, max)
    if not is_posint(v) or v > max then
      error(fmt("%s: argument #%d (%s) expected an integer in 1..%d, got %s", fname, argn,
        name, max, util.got(v)), 3)
    end
    return math.tointeger(v)
  end
  i = idx(i, 1, "input", self.in_features)
  j = idx(j, 2, "output", self.out_features)
  n = n == nil and 101 or idx(n, 3, "n", 1e7)
  return actrun.no_grad(function()
    local xs = actrun.linspace(self.range[1], self.range[2], n)
    local c = self.spline_weight[j]:select(2, i) * self.spline_scale[j][i]
    local ys = bspline_basis(xs, self:basis_opts()):matmul(c)
    if self.base ~= "none" then
      ys = ys + actrun.act.apply(self.base, xs) * self.base_weight[j][i]
    end
    return xs, ys
  end)
end

---------------------------------------------------------------------------------------
-- nn.kan{sizes..., grid=, order=, range=, base=}

function M.kan(spec)
  local fname = "actrun.nn.kan"
  if type(spec) ~= "table" then
    error(fmt("%s: argument #1 (spec) expected a table of sizes and options, got %s", fname,
      util.typename(spec)), 2)
  end
  local named = {}
  for k, v in pairs(spec) do
    if math.type(k) ~= "integer" then named[k] = v end
  end
  local grid, order, range, base = read_opts(fname, named, 1, 3)
  local sizes = {}
  for i = 1, #spec do
    if not is_posint(spec[i]) then
      error(fmt("%s: size %d expected a positive integer, got %s", fname, i, util.got(spec[i])), 2)
    end
    sizes[i] = math.tointeger(spec[i])
  end
  if #sizes < 2 then
    error(fmt("%s: expected at least 2 sizes (inputs and outputs), got %d", fname, #sizes), 2)
  end
  local layers = {}
  for i = 1, #sizes - 1 do
    layers[i] = KANLinear(sizes[i], sizes[i + 1],
      {grid = grid, order = order, range = range, base = base})
  end
  return module_base().Sequential(layers)
end

return M
