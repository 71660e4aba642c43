-- Indexing and ordering: randperm, index_select, gather, where, sort, argsort, topk,
-- cumsum. PyTorch's results (tests/fixtures/index_torch.lua, see gen_index.py there),
-- gradients and gradients of gradients (central differences), randperm's reproducibility,
-- argument errors, and the same bits at 1 and 2 threads.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local T = require "testlib"
local actrun = T.actrun
local lab = actrun.lab
local test, truthy, eq = T.test, T.truthy, T.eq

local here = arg[0]:match("^(.*)/") or "."
local cases = dofile(here .. "/../fixtures/index_torch.lua")

-- ---------- PyTorch fixtures ----------

local function f32(x) return (string.unpack("f", string.pack("f", x))) end

local function build(spec, requires_grad)
  if type(spec) == "number" then return spec end
  local t = actrun.tensor(spec.data):reshape(spec.shape)
  if spec.transpose then t = t:transpose(spec.transpose[1], spec.transpose[2]) end
  if requires_grad then
    t = t:detach() -- a leaf (the transpose is part of the function)
    t.requires_grad = true
  end
  return t
end

-- tol 0: the same float32 (NaN matching NaN, and the sign of zero); else relative+absolute
local function compare(what, got, want, tol)
  truthy(actrun.is_tensor(got), what .. " is a tensor")
  eq(got:shape(), want.shape, what .. " shape")
  local g = got:contiguous():view(-1):totable()
  eq(#g, #want.data, what .. " count")
  for i, w in ipairs(want.data) do
    local v = g[i]
    local ok
    if tol == 0 then
      ok = (v ~= v and w ~= w) or (v == f32(w) and (v ~= 0 or 1 / v == 1 / w))
    else
      ok = T.close(v, w, tol)
    end
    if not ok then error(string.format("%s [%d]: got %s, expected %s", what, i, T.fmt(v), T.fmt(w)), 2) end
  end
end

local function run(c, inputs)
  local args = {}
  for i, a in ipairs(c.args) do
    args[i] = type(a) == "table" and actrun.tensor(a.data):reshape(a.shape) or a
  end
  if c.op == "where" then return actrun.where(inputs[1], inputs[2], inputs[3]) end
  local self = inputs[1]
  return self[c.op](self, table.unpack(args, 1, #c.args))
end

local seen_ops = {}
for _, c in ipairs(cases) do
  seen_ops[c.op] = true
  test("torch: " .. c.name, function()
    local inputs, leaves = {}, {}
    for i, spec in ipairs(c.inputs) do
      local want_grad = c.grads and c.grads[i] and true or false
      if type(spec) == "table" and spec.shape then
        local base = actrun.tensor(spec.data):reshape(spec.shape)
        if want_grad then base.requires_grad = true end
        leaves[i] = base
        inputs[i] = spec.transpose and base:transpose(spec.transpose[1], spec.transpose[2]) or base
      else
        inputs[i] = spec[1] -- a number operand (written as a pair in the fixture)
      end
    end
    local v, idx = run(c, inputs)
    compare("values", v, c.values, c.op == "cumsum" and 1e-6 or 0)
    if c.indices then compare("indices", idx, c.indices, 0) end
    if c.grads then
      local w = actrun.tensor(c.weight.data):reshape(c.weight.shape)
      local wrt, want = {}, {}
      for i, g in ipairs(c.grads) do
        if g then wrt[#wrt + 1] = leaves[i]; want[#want + 1] = g end
      end
      local gs = actrun.grad({(v * w):sum()}, wrt)
      for k, g in ipairs(gs) do
        -- the fixture's gradient is with respect to the (possibly transposed) input
        local gv = g
        for i, l in ipairs(leaves) do
          if l == wrt[k] and c.inputs[i].transpose then
            gv = g:transpose(c.inputs[i].transpose[1], c.inputs[i].transpose[2])
          end
        end
        compare("grad " .. k, gv, want[k], 1e-6)
      end
    end
  end)
end

test("the fixture file covers every op", function()
  for _, op in ipairs{"sort", "argsort", "topk", "gather", "index_select", "cumsum", "where"} do
    truthy(seen_ops[op], "cases for " .. op)
  end
end)

-- ---------- gradients and gradients of gradients ----------

actrun.manual_seed(11)

-- A leaf whose values are a shuffled grid spaced 0.25 apart (no ties, and far more than
-- the finite-difference step apart, so sort orders do not change under the probes).
local function distinct(shape)
  local t = actrun.zeros(shape)
  local n = t:numel()
  local perm = actrun.randperm(n)
  local flat = t:view(-1)
  for i = 1, n do flat:set(i, (perm:get(i) - n / 2) * 0.25) end
  t.requires_grad = true
  return t
end

local check = T.check_gradients

local I = actrun.tensor
-- products with the input make the second derivative nonzero
check("index_select dim 1 (repeats)", function(a) return a:index_select(1, I{3, 1, 3}) * a:sum() end,
  {distinct{3, 4}})
check("index_select dim 2", function(a) return a:index_select(2, I{4, 2}) ^ 2 end, {distinct{3, 4}})
check("gather dim 2", function(a) return a:gather(2, I{{1, 1}, {4, 2}, {3, 3}}) ^ 2 end,
  {distinct{3, 4}})
check("gather dim 1 3-D", function(a) return a:gather(1, I{{{2, 1}}, {{1, 1}}}) * a:mean() end,
  {distinct{2, 2, 3}})
check("sort values", function(a) return (a:sort()) ^ 2 end, {distinct{3, 4}})
check("sort dim 1 descending", function(a) return (a:sort(1, true)) * a:sum() end, {distinct{3, 4}})
check("topk values", function(a) return (a:topk(2)) ^ 2 end, {distinct{3, 4}})
check("topk smallest dim 1", function(a) return (a:topk(2, 1, false)) ^ 3 end, {distinct{3, 4}})
check("cumsum dim 1", function(a) return a:cumsum(1) ^ 2 end, {distinct{3, 4}})
check("cumsum dim 2 of a transpose", function(a) return a:t():cumsum(2) * a:sum() end, {distinct{3, 4}})
check("where (broadcast)", function(a, b) return actrun.where(I{{1}, {0}, {1}}, a, b) ^ 2 end,
  {distinct{3, 4}, distinct{4}})
check("where with a number", function(a) return actrun.where(I{1, 0, 1, 0}, a * a, 2) end,
  {distinct{4}})

test("the gradient of gather adds up repeated indices (scatter-add)", function()
  local x = actrun.tensor({{1, 2, 3}}, {requires_grad = true})
  x:gather(2, I{{3, 3, 1, 3}}):sum():backward()
  T.tensor_near(x.grad, {{1, 0, 3}}, 0)
  local y = actrun.tensor({{1, 2}, {3, 4}}, {requires_grad = true})
  y:index_select(1, I{2, 2, 2}):sum():backward()
  T.tensor_near(y.grad, {{0, 0}, {3, 3}}, 0)
end)

test("double backward through index_select, gather and cumsum (create_graph)", function()
  -- f = sum(w * cumsum(x)^2): df/dx = revcumsum(2 w cumsum(x)); d(sum df/dx)/dx by hand
  local x = actrun.tensor({1, 2, 3}, {requires_grad = true})
  local y = x:cumsum(1)
  local f = (y * y):sum()
  local g = actrun.grad({f}, {x}, {create_graph = true})[1]
  T.tensor_near(g, {2 * (1 + 3 + 6), 2 * (3 + 6), 2 * 6}, 1e-6)
  local h = actrun.grad({g:sum()}, {x})[1]
  -- sum_i g_i = 2 sum_j (j) y_j: d/dx_k = 2 sum_{j >= k} j
  T.tensor_near(h, {2 * (1 + 2 + 3), 2 * (2 + 3), 2 * 3}, 1e-6)
end)

-- ---------- randperm ----------

test("randperm is a permutation of 1..n, reproducible from manual_seed", function()
  actrun.manual_seed(5)
  local a = actrun.randperm(1000)
  actrun.manual_seed(5)
  local b = actrun.randperm(1000)
  local c = actrun.randperm(1000)
  eq(a:shape(), {1000})
  eq(a:totable(), b:totable(), "same seed, same permutation")
  truthy(not T.deep_eq(b:totable(), c:totable()), "the stream moves on")
  local seen = {}
  for _, v in ipairs(a:totable()) do
    truthy(math.type(v) == "float" and v == math.floor(v) and v >= 1 and v <= 1000 and not seen[v])
    seen[v] = true
  end
  local sorted = a:sort()
  T.tensor_near(sorted, actrun.range(1, 1000), 0)
  eq(actrun.randperm(0):shape(), {0})
  T.tensor_near(actrun.randperm(1), {1}, 0)
  actrun.manual_seed(5)
  local t1 = actrun.randperm(50):totable()
  actrun.set_num_threads(1)
  actrun.manual_seed(5)
  local t2 = actrun.randperm(50):totable()
  actrun.set_num_threads(2)
  eq(t1, t2, "independent of the thread count")
end)

test("randperm mixes: each position takes many values across seeds", function()
  local counts = {}
  for s = 1, 200 do
    actrun.manual_seed(s)
    local v = actrun.randperm(5):get(1)
    counts[v] = (counts[v] or 0) + 1
  end
  for v = 1, 5 do truthy((counts[v] or 0) > 15, "value " .. v .. " first " .. tostring(counts[v])) end
end)

-- ---------- behaviour details ----------

test("sort is stable, NaN is greatest, argsort and defaults", function()
  local x = I{2, 0 / 0, 1, 2, 1}
  local v, i = x:sort()
  T.tensor_near(i, {3, 5, 1, 4, 2}, 0)
  v, i = x:sort(1, true)
  T.tensor_near(i, {2, 1, 4, 3, 5}, 0)
  T.tensor_near(x:argsort(), {3, 5, 1, 4, 2}, 0)
  local _ = v
  local y = I{{3, 1}, {2, 4}}
  T.tensor_near((y:sort()), {{1, 3}, {2, 4}}, 0) -- last dim by default
  T.tensor_near((y:sort(-2)), {{2, 1}, {3, 4}}, 0)
  local tv, ti = y:topk(1)
  T.tensor_near(tv, {{3}, {4}}, 0)
  T.tensor_near(ti, {{1}, {2}}, 0)
  tv, ti = I{1, 1, 1}:topk(2, 1, false)
  T.tensor_near(ti, {1, 2}, 0)
  eq(({I{1, 2}:topk(0)})[1]:shape(), {0})
end)

test("where: numbers on either side, broadcasting, nonzero cond", function()
  T.tensor_near(actrun.where(I{1, 0}, 5, -5), {5, -5}, 0)
  T.tensor_near(actrun.where(I{{1}, {0}}, I{1, 2}, I{7}), {{1, 2}, {7, 7}}, 0)
  local x = actrun.tensor({-1, 2}, {requires_grad = true})
  actrun.where(x:gt(0), x, 0):sum():backward()
  T.tensor_near(x.grad, {0, 1}, 0)
end)

test("empty inputs", function()
  eq(actrun.zeros(0, 3):sort():shape(), {0, 3})
  eq(actrun.zeros(2, 3):index_select(1, actrun.zeros(0)):shape(), {0, 3})
  eq(actrun.zeros(0):cumsum(1):shape(), {0})
  eq(actrun.zeros(2, 3):gather(2, actrun.zeros(2, 0)):shape(), {2, 0})
end)

-- ---------- argument errors name the function and the argument ----------

test("bad inputs give clear errors", function()
  local x = I{{1, 2, 3}, {4, 5, 6}}
  T.expect_error(function() actrun.randperm(-1) end, "actrun.randperm", "argument #1 (n)")
  T.expect_error(function() actrun.randperm("a") end, "actrun.randperm", "argument #1 (n)")
  T.expect_error(function() actrun.randperm(2.5) end, "actrun.randperm", "argument #1 (n)")
  T.expect_error(function() x:index_select(3, I{1}) end, "Tensor:index_select", "argument #2 (dim)")
  T.expect_error(function() x:index_select(1, {1}) end, "Tensor:index_select", "argument #3 (index)")
  T.expect_error(function() x:index_select(1, I{{1}}) end, "Tensor:index_select", "argument #3 (index)", "1-D")
  T.expect_error(function() x:index_select(1, I{3}) end, "Tensor:index_select", "argument #3 (index)", "out of range")
  T.expect_error(function() x:index_select(2, I{0}) end, "argument #3 (index)", "out of range")
  T.expect_error(function() x:index_select(2, I{1.5}) end, "argument #3 (index)", "integer")
  T.expect_error(function() x:index_select(2, I{0 / 0}) end, "argument #3 (index)", "integer")
  T.expect_error(function() x:gather(2, I{1, 2}) end, "Tensor:gather", "argument #3 (index)", "dims")
  T.expect_error(function() x:gather(2, I{{1}, {1}, {1}}) end, "Tensor:gather", "argument #3 (index)")
  T.expect_error(function() x:gather(2, I{{4}}) end, "Tensor:gather", "argument #3 (index)", "out of range")
  T.expect_error(function() x:gather(0, I{{1}}) end, "Tensor:gather", "argument #2 (dim)")
  T.expect_error(function() x:gather(1) end, "Tensor:gather", "argument #3 (index)")
  T.expect_error(function() actrun.where(1, x, x) end, "actrun.where", "argument #1 (cond)")
  T.expect_error(function() actrun.where(x, "a", x) end, "actrun.where", "argument #2 (a)")
  T.expect_error(function() actrun.where(x, x, {}) end, "actrun.where", "argument #3 (b)")
  T.expect_error(function() actrun.where(I{1, 0}, x, I{1, 2, 3, 4}) end, "actrun.where")
  T.expect_error(function() x:sort(3) end, "Tensor:sort", "argument #2 (dim)")
  T.expect_error(function() x:sort(1, "yes") end, "Tensor:sort", "argument #3 (descending)")
  T.expect_error(function() x:argsort("x") end, "Tensor:argsort", "argument #2 (dim)")
  T.expect_error(function() x:topk(4) end, "Tensor:topk", "argument #2 (k)", "out of range")
  T.expect_error(function() x:topk(-1) end, "Tensor:topk", "argument #2 (k)")
  T.expect_error(function() x:topk() end, "Tensor:topk", "argument #2 (k)")
  T.expect_error(function() x:topk(1, 2, 1) end, "Tensor:topk", "argument #4 (largest)")
  T.expect_error(function() x:cumsum() end, "Tensor:cumsum", "argument #2 (dim)")
  T.expect_error(function() x:cumsum(5) end, "Tensor:cumsum", "argument #2 (dim)")
  T.expect_error(function() actrun.tensor(3):reshape{}:sort() end, "Tensor:sort", "argument #1 (self)")
end)

-- ---------- the same bits at 1 and 2 threads ----------

test("large inputs: the same bits at 1 and 2 threads", function()
  local function run_all()
    actrun.manual_seed(99)
    local x = actrun.randn(300, 700)
    x.requires_grad = true
    local perm = actrun.randperm(300)
    local idx = (actrun.rand(300, 700) * 700):floor() + 1
    local s1 = x:sort(1)
    local s2, i2 = x:sort(2, true)
    local tk = x:topk(50, 1)
    local c1, c2 = x:cumsum(1), x:cumsum(2)
    local sel = x:index_select(1, perm)
    local ga = x:gather(2, idx)
    local w = actrun.where(x:gt(0), x, x * 0.5)
    local loss = (s1 * 0.5):sum() + (s2 * s2):sum() + tk:sum() + (c1 * c2):mean()
                 + (sel * sel):sum() + (ga * 3):sum() + w:sum()
    local g = actrun.grad({loss}, {x}, {create_graph = true})[1]
    local gg = actrun.grad({(g * g):sum()}, {x})[1]
    return {s1, s2, i2, tk, c1, c2, sel, ga, w, g:detach(), gg}
  end
  actrun.set_num_threads(1)
  local a = run_all()
  actrun.set_num_threads(2)
  local b = run_all()
  for k = 1, #a do
    local d = a[k]:ne(b[k]):sum():item()
    eq(d, 0, "result " .. k .. " differs in " .. d .. " elements")
  end
end)

T.done()
