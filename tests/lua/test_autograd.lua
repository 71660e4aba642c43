-- Autograd mechanics: fields, accumulation, no_grad, detach, errors, graph release and
-- memory over many steps, deep graphs, and lab.gradcheck itself.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local T = require "testlib"
local actrun = T.actrun
local lab = actrun.lab
local test, eq, truthy, tensor_near, expect_error =
  T.test, T.eq, T.truthy, T.tensor_near, T.expect_error

local function param(v) return actrun.tensor(v, {requires_grad = true}) end

test("fields: requires_grad, grad, is_leaf; results of ops require grad", function()
  local x = param{1, 2}
  eq(x.requires_grad, true)
  eq(x.is_leaf, true)
  eq(x.grad, nil)
  local y = x * 2
  eq(y.requires_grad, true)
  eq(y.is_leaf, false)
  local z = actrun.tensor{1, 2} * 2
  eq(z.requires_grad, false)
end)

test("backward of a scalar fills leaves' grad; non-leaves keep none", function()
  local x, w = param{1, 2, 3}, param{4, 5, 6}
  local h = x * w
  local y = h:sum()
  y:backward()
  tensor_near(x.grad, {4, 5, 6}, 0)
  tensor_near(w.grad, {1, 2, 3}, 0)
  eq(h.grad, nil)
end)

test("gradients accumulate across backward calls until cleared", function()
  local x = param{1, 2}
  for _ = 1, 2 do
    local y = (x * x):sum()
    y:backward()
  end
  tensor_near(x.grad, {4, 8}, 0)
  x:zero_grad()
  eq(x.grad, nil)
  local y = (x * 3):sum()
  y:backward()
  tensor_near(x.grad, {3, 3}, 0)
  x.grad = nil
  eq(x.grad, nil)
end)

test("a diamond graph sums both paths once", function()
  local x = param{2}
  local a = x * 3
  local b = a:exp()
  local c = a * a
  local y = (b + c):sum()
  y:backward()
  local xv = 2
  local expect = 3 * math.exp(3 * xv) + 2 * 9 * xv
  T.near(x.grad:item(), expect, expect * 1e-5)
end)

test("backward with an explicit gradient for a non-scalar", function()
  local x = param{{1, 2}, {3, 4}}
  local y = x * x
  y:backward(actrun.tensor{{1, 0}, {0, 1}})
  tensor_near(x.grad, {{2, 0}, {0, 8}}, 0)
  expect_error(function() (x * 2):backward(actrun.ones(3)) end, "Tensor:backward", "{2,2}")
end)

test("errors: non-scalar without gradient, no grad at all, second backward", function()
  local x = param{{1, 2, 3}, {4, 5, 6}}
  expect_error(function() (x * 2):backward() end, "Tensor:backward",
    "grad can be implicitly created only for a tensor with one element, got shape {2,3}")
  expect_error(function() actrun.tensor{1}:backward() end,
    "Tensor:backward: the tensor does not require grad and has no grad_fn")
  local y = (x * x):sum()
  y:backward()
  expect_error(function() y:backward() end, "Tensor:backward", "second time")
end)

test("requires_grad toggling on leaves; an error on non-leaves", function()
  local x = actrun.tensor{1, 2}
  eq(x.requires_grad, false)
  x.requires_grad = true
  eq(x.requires_grad, true)
  local y = x * 2
  expect_error(function() y.requires_grad = false end, "Tensor.requires_grad", "leaf")
  x.requires_grad = false
  eq((x * 2).requires_grad, false)
  expect_error(function() x.requires_grad = 1 end, "Tensor.requires_grad", "boolean")
end)

test("grad can be assigned a same-shape tensor (and nothing else)", function()
  local x = param{1, 2}
  x.grad = actrun.tensor{10, 20}
  local y = (x * 1):sum()
  y:backward()
  tensor_near(x.grad, {11, 21}, 0)
  expect_error(function() x.grad = actrun.ones(3) end, "Tensor.grad", "{2}", "{3}")
  expect_error(function() x.grad = 5 end, "Tensor.grad")
end)

test("no_grad records nothing, returns fn's results, restores the mode on error", function()
  local x = param{1, 2}
  local y, s = actrun.no_grad(function(a) return a * 2, "s" end, x)
  eq(y.requires_grad, false)
  eq(s, "s")
  local ok, msg = pcall(actrun.no_grad, function() error("boom") end)
  eq(ok, false)
  truthy(msg:find("boom", 1, true), msg)
  eq((x * 2).requires_grad, true) -- recording is back on
  actrun.no_grad(function()
    actrun.no_grad(function() end)
    eq((x * 2).requires_grad, false) -- nested: the outer mode is restored
  end)
end)

test("detach shares storage and stops gradients", function()
  local x = param{1, 2}
  local d = x:detach()
  eq(d.requires_grad, false)
  actrun.no_grad(function() x:set(1, 5) end)
  eq(d:get(1), 5)
  local y = (x * d):sum()
  y:backward()
  tensor_near(x.grad, {5, 2}, 0)
end)

test("in-place ops on a leaf that requires grad are errors (allowed under no_grad)", function()
  local x = param{1, 2}
  local msg = "a leaf tensor that requires grad is used in an in-place operation"
  expect_error(function() x:fill(0) end, "Tensor:fill", msg)
  expect_error(function() x:zero() end, "Tensor:zero", msg)
  expect_error(function() x:copy(actrun.ones(2)) end, "Tensor:copy", msg)
  expect_error(function() x:set(1, 3) end, "Tensor:set", msg)
  local m = param{{1, 2}, {3, 4}}
  expect_error(function() m[1] = 0 end, msg)
  actrun.no_grad(function() x:fill(7) end)
  tensor_near(x, {7, 7}, 0)
  -- a view of such a leaf, too; a copy or a result of arithmetic is fine
  expect_error(function() m:t():narrow(1, 1, 1):fill(0) end,
    "a view of a leaf tensor that requires grad is used in an in-place operation")
  expect_error(function() m:select(1, 2)[1] = 0 end, "view of a leaf tensor")
  local r = m:clone()
  r:fill(1)
  r = m:t():reshape(4) -- a transposed view cannot be viewed flat: reshape copies
  r:fill(1)
  r = m * 2
  r[1] = 5
  tensor_near(m, {{1, 2}, {3, 4}}, 0)
end)

test("tensor(x, {requires_grad}) checks the option", function()
  eq(actrun.tensor(3, {requires_grad = true}).requires_grad, true)
  expect_error(function() actrun.tensor({1}, {requires_grad = 1}) end, "actrun.tensor", "boolean")
end)

test("gradcheck: detects a wrong gradient, needs an input that requires grad", function()
  local x = param{0.5, -1.5, 2}
  local ok, err = lab.gradcheck(function(a) return (a * a):sum() end, {x})
  eq(ok, true)
  truthy(err < 1e-2, tostring(err))
  -- detach hides one factor from autograd: analytic a, numeric 2a
  ok, err = lab.gradcheck(function(a) return (a:detach() * a):sum() end, {x})
  eq(ok, false)
  truthy(err > 0.1, tostring(err))
  expect_error(function() lab.gradcheck(function(a) return a:sum() end, {actrun.ones(2)}) end,
    "gradcheck", "requires grad")
  -- the inputs' values and gradients are left as they were
  tensor_near(x, {0.5, -1.5, 2}, 0)
  eq(x.grad, nil)
end)

test("a chain of 100000 ops backpropagates without recursion", function()
  local x = param{1}
  local y = x
  for _ = 1, 100000 do y = y * 1 end
  y:sum():backward()
  tensor_near(x.grad, {1}, 0)
  -- and an unused deep graph is freed without recursion too
  local z = x
  for _ = 1, 100000 do z = z + 0 end
  z = nil
  collectgarbage()
  collectgarbage()
end)

test("10^5 training steps keep live tensor memory and RSS flat", function()
  local w = param(actrun.randn(16):totable())
  local x = actrun.randn(16)
  local function steps(n)
    for _ = 1, n do
      local y = (w * x):sum()
      y:backward()
      w.grad = nil
    end
    collectgarbage()
    collectgarbage()
  end
  steps(2000)
  local live0 = actrun.memory().live
  local _, rss0 = T.memory_mb()
  steps(100000)
  local live1 = actrun.memory().live
  local _, rss1 = T.memory_mb()
  truthy(live1 <= live0, string.format("live bytes grew: %d -> %d", live0, live1))
  if rss0 and not os.getenv("ACTRUN_SANITIZED") then
    truthy(rss1 - rss0 < 20, string.format("RSS grew: %.1f MB -> %.1f MB", rss0, rss1))
  end
end)

test("saved tensors are released right after backward", function()
  local x = param(actrun.randn(256, 256):totable())
  collectgarbage()
  local y = (x:tanh() * x:sigmoid()):sum()
  local before = actrun.memory().live
  y:backward()
  x.grad = nil
  local after = actrun.memory().live
  truthy(after < before, string.format("live bytes %d -> %d while y is alive", before, after))
end)

test("backward{create_graph=true}: .grad is differentiable, and the leaf still frees", function()
  -- .grad refers back to w through its graph; when w's handle goes, so does that .grad
  -- (the sanitizer build's leak check would see the cycle otherwise)
  local g
  do
    local w = actrun.tensor({0.5, -1}, {requires_grad = true})
    local loss = (w ^ 3):sum()
    loss:backward({create_graph = true})
    g = w.grad
    T.truthy(g.requires_grad, "the gradient is differentiable")
    T.tensor_near(g, {0.75, 3}, 1e-6)
    w.grad = nil
    g:sum():backward()
    T.tensor_near(w.grad, {3, -6}, 1e-6) -- d/dw sum(3 w^2) = 6 w
    loss = (w ^ 3):sum()
    loss:backward({create_graph = true}) -- this .grad is left in place
  end
  g = nil
  collectgarbage()
  collectgarbage()
end)

test("backward options are checked", function()
  local w = actrun.tensor({1}, {requires_grad = true})
  T.expect_error(function() (w * 2):sum():backward({create_grpah = true}) end,
    "unknown option 'create_grpah'")
  T.expect_error(function() (w * 2):sum():backward({create_graph = 1}) end,
    "option 'create_graph' expected a boolean")
  local y = (w * w):sum()
  y:backward({retain_graph = true})
  y:backward()
  T.tensor_near(w.grad, {4}, 0)
  T.expect_error(function() y:backward() end, "retain_graph")
end)

-- fuzz_lua_api found it: a scalar (0-d) that meets a {1} result (a full sum) broadcasts to
-- {1}; summing its gradient back to the scalar's shape looped for ever
test("a scalar broadcast against a full reduction gets its gradient back (no hang)", function()
  local a = param({{1, 2, 3}, {4, 5, 6}})
  local s = a:sum(-1):select(-1, 1) -- 0-d: 6
  eq(#s:shape(), 0, "s is 0-d")
  ;(s + a:sum()):backward()
  tensor_near(a.grad, {{2, 2, 2}, {1, 1, 1}}, 0)
  a.grad = nil
  local m = a:max(-1):select(-1, 1) -- 3, at a[1][3]
  ;(m * a:sum()):backward()
  tensor_near(a.grad, {{3, 3, 3 + 21}, {3, 3, 3}}, 1e-6)
  local x = param({2})
  local y = x:sum():select(1, 1) -- {1} -> 0-d
  ;(y * actrun.ones(1)):sum():backward()
  tensor_near(x.grad, {1}, 0)
end)

T.done()
