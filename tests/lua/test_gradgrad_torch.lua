-- Gradients of gradients against PyTorch (tests/fixtures/gradgrad_torch.lua, made by
-- tests/fixtures/gen_gradgrad.py): for every case the first gradient g = d(u . f)/dx taken
-- with create_graph, then the Hessian-vector product hv = d(sum g . v)/dx; and the
-- behaviour the contract promises for create_graph, retain_graph and allow_unused.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local T = require "testlib"
local actrun = T.actrun
local act = actrun.act
local nn = actrun.nn

local dir = (arg[0]:match("^(.*)/") or ".") .. "/../fixtures/"
local F = dofile(dir .. "gradgrad_torch.lua")
local labels = actrun.tensor(F.labels)

local function sq(t) return t * t end

-- The fixture's graphs, built with actrun (dims 1-based).
local GRAPHS = {
  add_bcast = function(a, b) return sq(a + b) end,
  sub_bcast = function(a, b) return sq(a - b) end,
  mul_bcast = function(a, b) return a * b end,
  div_bcast = function(a, b) return a / b end,
  pow_tensor = function(a, b) return a ^ b end,
  pow_scalar = function(a) return a ^ 3 + a ^ 2.5 + 2 ^ a end,
  scalar_arith = function(a, b) return (a + 1.5) * (2.5 - a) + 3 / b + sq(b * 0.5) - a / 4 end,
  exp = function(x) return x:exp() end,
  log = function(x) return x:log() end,
  sqrt = function(x) return x:sqrt() end,
  abs = function(x) return sq(x:abs()) * x end,
  sin = function(x) return x:sin() end,
  cos = function(x) return x:cos() end,
  tanh = function(x) return x:tanh() end,
  sigmoid = function(x) return x:sigmoid() end,
  reciprocal = function(x) return x:reciprocal() end,
  square = function(x) return x:square() end,
  clamp = function(x) return sq(x:clamp(-1, 1)) end,
  sum = function(x) return x:sum(2, true) * x:sum() end,
  mean = function(x) return sq(x:mean(1)) + sq(x:mean()) end,
  var = function(x) return x:var(2) + x:var() end,
  std = function(x) return x:std(1) + x:std() end,
  norm2 = function(x) return x:norm() end,
  norm3 = function(x) return x:norm(3) end,
  norm_inf = function(x) return sq(x:norm(math.huge)) end,
  prod = function(x) return x:prod() + x:prod(2) end,
  max_full = function(x) return sq(x:max()) end,
  min_full = function(x) return sq(x:min()) end,
  max_dim = function(x) return sq((x:max(2))) end,
  min_dim = function(x) return sq((x:min(1))) end,
  matmul_1d = function(a, b) return sq(a:matmul(b)) end,
  matmul_2d = function(a, b) return a:matmul(b) end,
  matmul_batched = function(a, b) return a:matmul(b) end,
  linear = function(x, w, b) return actrun.linear(x, w, b) end,
  reshape = function(x) return sq(x:reshape(3, 4)) * x:reshape(3, 4)[1] end,
  transpose = function(x) return sq(x:transpose(1, 3)) end,
  narrow = function(x) return sq(x:narrow(2, 2, 2)) end,
  select = function(x) return sq(x:select(1, 2)) end,
  expand = function(x, c) return sq(x:expand(3, 4)) * c end,
  cat = function(a, b) return sq(actrun.cat({a, b}, 2)) end,
  stack = function(a, b) return sq(actrun.stack({a, b}, 2)) end,
  softmax = function(x) return act.softmax(x, 2) end,
  log_softmax = function(x) return act.log_softmax(x, 1) end,
  cross_entropy = function(x) return nn.cross_entropy(x, labels) end,
  nll = function(x) return sq(nn.nll(x, labels)) end,
  mse = function(y, t) return nn.mse(y, t) end,
  conv2d_stride_pad = function(x, w, b) return actrun.conv2d(x, w, b, {stride = 2, padding = 1}) end,
  conv2d = function(x, w) return actrun.conv2d(x, w) end,
  max_pool2d = function(x) return sq(actrun.max_pool2d(x, 2)) end,
  prelu_tensor = function(x, w) return act.prelu(x, w) end,
}

-- Tolerance for float32 against float64 references: 1e-4 relative per element plus 1e-5
-- of the largest reference magnitude in the tensor (an element that is a small difference
-- of large terms carries the rounding of the terms, not of itself).
local REL, ABS = 1e-4, 1e-5

local function flat(v)
  if type(v) == "number" then return {v} end
  local _, values = T.table_shape_and_values(v)
  return values
end

-- expected: a nested table (its shape is checked too) or, with flat_only, the values in
-- row-major order (the fixture's outputs: PyTorch's 0-d results are actrun's {1})
local function check(actual, expected, what, flat_only)
  local ev = flat(expected)
  local shape, av
  if actual == nil then -- an unused input: zeros
    av = {}
    for i = 1, #ev do av[i] = 0 end
  else
    shape, av = T.tensor_values(actual)
    if not flat_only then T.eq(shape, (T.table_shape_and_values(expected)), what .. " shape") end
  end
  T.eq(#av, #ev, what .. " element count")
  local scale = 0
  for i = 1, #ev do scale = math.max(scale, math.abs(ev[i])) end
  if scale == 0 then scale = 1 end
  local worst, wi = 0, nil
  for i = 1, #ev do
    local err = math.abs(av[i] - ev[i])
    local tol = REL * math.abs(ev[i]) + ABS * scale
    if not (err <= tol) and (wi == nil or err / tol > worst) then worst, wi = err / tol, i end
  end
  if wi then
    T.fail(string.format("%s: element %d expected %.9g, got %.9g (error %.3g, %.1fx the tolerance)",
      what, wi, ev[wi], av[wi], math.abs(av[wi] - ev[wi]), worst), 2)
  end
end

local function all_zero(t)
  for _, e in ipairs(flat(t)) do if e ~= 0 then return false end end
  return true
end

-- Runs one fixture case with graph fn: the value, g and hv.
local function run_case(c, fn)
  local inputs, vs = {}, {}
  for i, inp in ipairs(c.inputs) do
    inputs[i] = actrun.tensor(inp.value, {requires_grad = true})
    vs[i] = actrun.tensor(inp.v)
  end
  local y = fn(table.unpack(inputs))
  check(y, c.value, c.name .. " value", true)
  local u = actrun.tensor(c.u):reshape(table.unpack(y:shape()))
  local gs = actrun.grad(y, inputs, {grad_outputs = u, create_graph = true})
  local s
  for i, inp in ipairs(c.inputs) do
    check(gs[i], inp.g, c.name .. "." .. inp.name .. " g")
    local term = (gs[i] * vs[i]):sum()
    s = s and s + term or term
  end
  local hv = {}
  if s.requires_grad then
    hv = actrun.grad(s, inputs, {allow_unused = true})
  else
    -- actrun's g does not depend on the inputs: that is right only where hv is zero
    for _, inp in ipairs(c.inputs) do
      T.truthy(all_zero(inp.hv), c.name .. ": g is detached but PyTorch's hv is not zero")
    end
  end
  for i, inp in ipairs(c.inputs) do
    check(hv[i], inp.hv, c.name .. "." .. inp.name .. " hv")
  end
end

for _, c in ipairs(F.cases) do
  if c.group == "ops" then
    local fn = T.truthy(GRAPHS[c.name], "graph for case " .. c.name)
    T.test("g and Hessian-vector product of '" .. c.name .. "' match PyTorch", function()
      run_case(c, fn)
    end)
  end
end

-- Activations: every registered name except those without a PyTorch counterpart.
T.test("the fixture covers every registered activation", function()
  local have = {}
  for _, c in ipairs(F.cases) do if c.group == "act" then have[c.name] = true end end
  for _, n in ipairs(F.skipped) do have[n] = true end
  for _, n in ipairs(act.list()) do T.truthy(have[n], "activation '" .. n .. "' in the fixture") end
end)

for _, c in ipairs(F.cases) do
  if c.group == "act" then
    T.test("activation '" .. c.name .. "': g and Hessian-vector product match PyTorch",
      function() run_case(c, function(x) return act[c.name](x) end) end)
  end
end

-- ---------- behaviour ----------

local function x0() return actrun.tensor({-1.5, -0.25, 0.75, 2.5}, {requires_grad = true}) end

for _, name in ipairs{"relu", "hardtanh"} do
  T.test(name .. ": the second derivative under create_graph is zeros, not an error",
    function()
      local x = x0()
      local g = actrun.grad(act[name](x):sum(), x, {create_graph = true})[1]
      T.truthy(g.requires_grad, "g requires grad")
      local h = actrun.grad(g:sum(), x)[1]
      T.tensor_near(h, {0, 0, 0, 0}, 0, name .. "''")
    end)
end

T.test("a non-leaf input to actrun.grad", function()
  local x = x0()
  local h = x * x
  local g = actrun.grad(h:sin():sum(), h, {create_graph = true})[1]
  local xs = {-1.5, -0.25, 0.75, 2.5}
  local cos_h, d2 = {}, {}
  for i, e in ipairs(xs) do cos_h[i] = math.cos(e * e); d2[i] = -math.sin(e * e) * 2 * e end
  T.tensor_near(g, cos_h, 1e-5, "d/dh sum(sin h)")
  T.tensor_near(actrun.grad(g:sum(), x)[1], d2, 1e-5, "d/dx sum(cos(x^2))")
end)

T.test("allow_unused gives nil; without it the error names the input", function()
  local x, z = x0(), x0()
  local gs = actrun.grad((x * x):sum(), {x, z}, {allow_unused = true})
  T.tensor_near(gs[1], {-3, -0.5, 1.5, 5}, 1e-6, "used input")
  T.eq(gs[2], nil, "unused input")
  T.expect_error(function() actrun.grad((x * x):sum(), {x, z}) end, "input 2", "allow_unused")
end)

T.test("an unknown option key is an error naming it", function()
  local x = x0()
  T.expect_error(function() actrun.grad((x * x):sum(), x, {create_grpah = true}) end,
    "actrun.grad", "create_grpah")
  T.expect_error(function() (x * x):sum():backward({retain = true}) end,
    "backward", "'retain'")
end)

T.test("backward{create_graph=true} makes x.grad differentiable", function()
  local x = x0()
  ;(x * x * x):sum():backward({create_graph = true})
  local g = x.grad
  T.truthy(g.requires_grad, "x.grad requires grad")
  T.tensor_near(g, {6.75, 0.1875, 1.6875, 18.75}, 1e-6, "3x^2")
  T.tensor_near(actrun.grad(g:sum(), x)[1], {-9, -1.5, 4.5, 15}, 1e-6, "6x")
  x.grad = nil -- x.grad's graph refers to x
end)

T.test("a third derivative through an activation's f'' is a clear error", function()
  local x = x0()
  local g = actrun.grad(act.gelu(x):sum(), x, {create_graph = true})[1]
  local h = actrun.grad(g:sum(), x, {create_graph = true})[1]
  T.expect_error(function() actrun.grad(h:sum(), x) end, "third derivative", "gelu")
end)

T.test("retain_graph=true allows a second backward; without it the second one errors", function()
  local x = x0()
  local y = (x * x):exp():sum()
  y:backward({retain_graph = true})
  local first = x.grad:totable()
  y:backward()
  local twice = {}
  for i, e in ipairs(first) do twice[i] = 2 * e end
  T.tensor_near(x.grad, twice, 1e-6, "accumulated twice")
  x.grad = nil
  local y2 = (x * x):exp():sum()
  y2:backward()
  T.expect_error(function() y2:backward() end, "second time", "retain_graph")
end)

T.done()
