-- In-place writes under autograd, case by case against what PyTorch 1.13 does
-- (tests/fixtures/inplace_torch.lua, from gen_inplace.py): a write into a non-leaf is
-- recorded (the written elements get gradient 0 through the old history, the source its
-- part), a tensor saved for backward and written afterwards makes backward raise, and
-- leaves that require grad refuse in-place writes outside no_grad.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local T = require "testlib"
local actrun = T.actrun
local test = T.test
local here = arg[0]:match("^(.*)/") or "."
local torch = dofile(here .. "/../fixtures/inplace_torch.lua")

local function x3() return actrun.tensor({1, 2, 3}, {requires_grad = true}) end

local CASES = {
  setitem = function()
    local x = x3(); local y = x * 2; y[2] = 5; y:sum():backward(); return x.grad
  end,
  set_element = function()
    local x = x3(); local y = x * 3; y:set(3, 7); y:sum():backward(); return x.grad
  end,
  fill_all = function()
    local x = x3(); local y = x * 1; y:fill(0); y:sum():backward(); return x.grad
  end,
  copy_from_graph = function()
    local w = actrun.tensor({1, 1, 1}, {requires_grad = true})
    local z = actrun.zeros(3); z:copy(w * 4); (z * actrun.tensor{1, 2, 3}):sum():backward()
    return w.grad
  end,
  setitem_row_from_graph = function()
    local w = actrun.tensor({1, 2}, {requires_grad = true})
    local x = actrun.tensor({{1, 1}, {1, 1}}, {requires_grad = true})
    local y = x * 1; y[2] = w * w; (y * actrun.tensor{{1, 2}, {3, 4}}):sum():backward()
    return actrun.cat({x.grad:flatten(), w.grad})
  end,
  saved_then_modified = function()
    local x = x3(); local a = x * 1; local b = a * a; a:fill(1); b:sum():backward(); return x.grad
  end,
  leaf_inplace = function() local x = x3(); x:fill(0); return x end,
  leaf_modified_under_no_grad = function()
    local p = actrun.tensor({1, 2}, {requires_grad = true}); local q = (p * p):sum()
    actrun.no_grad(function() p:copy(actrun.tensor{0, 0}) end)
    q:backward(); return p.grad
  end,
  output_saved_then_modified = function()
    local x = x3(); local y = x:exp(); y[1] = 0; y:sum():backward(); return x.grad
  end,
}

local NEEDLE = {modified = "modified by an in-place operation",
                leaf = "leaf tensor that requires grad"}

for _, c in ipairs(torch) do
  test("as PyTorch: " .. c.name, function()
    local fn = CASES[c.name]
    T.truthy(fn, "no actrun counterpart for " .. c.name)
    if c.result == "ok" then
      T.tensor_near(fn(), c.grad, 0)
    else
      T.expect_error(fn, NEEDLE[c.result:match("error:(.*)")])
    end
  end)
end

test("writing into a view of a tensor that requires grad is refused, saying why", function()
  local x = x3()
  local v = (x * 1):select(1, 1)
  T.expect_error(function() v:fill(0) end, "in-place write into a view")
end)

test("a view taken before its base was written is refused when used", function()
  local x = x3()
  local c = x * 1
  local v = c:narrow(1, 1, 2)
  c[3] = 1
  T.expect_error(function() return v * 2 end, "take the view again after the write")
  local v2 = c:narrow(1, 1, 2); -- taken again: fine, and its gradient is right
  (v2 * 2):sum():backward()
  T.tensor_near(x.grad, {2, 2, 0}, 0)
end)

test("the error names the op that saved the tensor and the versions", function()
  local x = x3()
  local a = x * 1
  local b = a:exp() -- saves its output
  b:fill(0)
  local msg = T.expect_error(function() b:sum():backward() end, "modified by an in-place")
  T.truthy(msg:find("exp", 1, true) and msg:find("version", 1, true), msg)
end)

test("an optimiser step bumps the parameters' version: a retained graph then refuses", function()
  local w = actrun.tensor({1, 2}, {requires_grad = true})
  local loss = (w * w):sum()
  loss:backward({retain_graph = true})
  actrun.optim.SGD({w}, {lr = 0.1}):step()
  T.expect_error(function() loss:backward() end, "modified by an in-place operation")
end)

T.done()
