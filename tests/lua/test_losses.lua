-- actrun.nn losses: values and gradients against PyTorch (tests/fixtures/optim_torch.lua),
-- hand computations, stability on large logits, gradcheck, and errors.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local T = require "testlib"
local actrun = T.actrun
local nn, act, lab = actrun.nn, actrun.act, actrun.lab
local test, eq, near, tensor_near, expect_error = T.test, T.eq, T.near, T.tensor_near, T.expect_error

local dir = (arg[0]:match("^(.*)/") or ".") .. "/../fixtures/"
local F = dofile(dir .. "optim_torch.lua").losses

local CE_LABELS = {3, 1, 2, 3} -- the generator's 0-based {2, 0, 1, 2}
local CALLS = {
  mse = function(a, b) return nn.mse(a, b) end,
  bce = function(a, b) return nn.bce(a, b) end,
  bce_with_logits = function(a, b) return nn.bce_with_logits(a, b) end,
  cross_entropy = function(a) return nn.cross_entropy(a, CE_LABELS) end,
  nll = function(a) return nn.nll(act.log_softmax(a, 2), CE_LABELS) end,
  cross_entropy_big = function(a) return nn.cross_entropy(a, actrun.tensor({1, 2})) end,
}

for name, f in pairs(CALLS) do
  test(name .. ": value and gradients match PyTorch", function()
    local case = F[name]
    local ins = {}
    for i, v in ipairs(case.inputs) do ins[i] = actrun.tensor(v, {requires_grad = true}) end
    local y = f(table.unpack(ins))
    T.shape_is(y, {1})
    near(y:item(), case.value, 1e-5, "value")
    y:backward()
    for i, g in ipairs(case.grads) do tensor_near(ins[i].grad, g, 1e-5, "grad " .. i) end
  end)
end

test("cross_entropy by hand, and stable for huge logits", function()
  local x = actrun.tensor({{1, 2, 3}, {1000, 0, -1000}})
  local lse = math.log(math.exp(1) + math.exp(2) + math.exp(3))
  near(nn.cross_entropy(x, {3, 1}):item(), (lse - 3 + 0) / 2, 1e-6)
  near(nn.cross_entropy(actrun.tensor({{1e4, -1e4}}), {2}):item(), 2e4, 1e-6)
  -- equals nll of log_softmax
  near(nn.nll(act.log_softmax(x, 2), {3, 1}):item(), (lse - 3) / 2, 1e-6)
  near(nn.nll(actrun.tensor({{-1, -2}, {-3, -4}}), {2, 1}):item(), 2.5, 0)
end)

test("labels as a tensor, a list, or a strided view give the same loss", function()
  local x = actrun.tensor({{0.5, -1, 2}, {3, 0, 1}, {0, 0, 0}})
  local a = nn.cross_entropy(x, {1, 3, 2}):item()
  near(nn.cross_entropy(x, actrun.tensor({1, 3, 2})):item(), a, 0)
  local l2 = actrun.tensor({{1, 9}, {3, 9}, {2, 9}}):select(2, 1)
  near(nn.cross_entropy(x, l2):item(), a, 0)
  near(nn.cross_entropy(x:t():t(), {1, 3, 2}):item(), a, 0)
end)

test("mse is one fused op: same value and gradients as (y - t):square():mean()", function()
  local yv = {{0.3, -1.2, 2.0}, {0.7, 0.1, -0.4}}
  local tv = {{0, 0.5, 1}, {1, 0.25, 0}}
  local function run(fused, y_grad, t_grad, strided)
    local y = actrun.tensor(yv, {requires_grad = y_grad})
    local t = actrun.tensor(tv, {requires_grad = t_grad})
    local yy, tt = y, t
    if strided then yy, tt = y:t():t(), t:t():t() end -- same values through a view
    local l = fused and nn.mse(yy, tt) or (yy - tt):square():mean()
    if y_grad or t_grad then l:backward() end
    return l:item(), y.grad, t.grad
  end
  for _, flags in ipairs{{true, true}, {true, false}, {false, true}} do
    local v1, gy1, gt1 = run(true, flags[1], flags[2], false)
    local v2, gy2, gt2 = run(false, flags[1], flags[2], false)
    local v3 = run(true, flags[1], flags[2], true)
    near(v1, v2, 1e-7, "value")
    near(v3, v1, 0, "strided value")
    eq(gy1 == nil, gy2 == nil, "y grad presence")
    eq(gt1 == nil, gt2 == nil, "t grad presence")
    if gy1 then tensor_near(gy1, gy2:totable(), 1e-7, "y grad") end
    if gt1 then tensor_near(gt1, gt2:totable(), 1e-7, "t grad") end
  end
  local l = run(true, false, false, false)
  near(l, select(1, run(false, false, false, false)), 1e-7, "without grad")
  T.truthy(not nn.mse(actrun.zeros(2), actrun.ones(2)).requires_grad, "no grad: no node")
end)

test("gradcheck of every loss", function()
  local z = actrun.tensor({{0.3, -1.2, 2.0}, {0.7, 0.1, -0.4}}, {requires_grad = true})
  local t = actrun.tensor({{0, 0.5, 1}, {1, 0.25, 0}}, {requires_grad = true})
  local p = actrun.tensor({{0.2, 0.6, 0.9}, {0.4, 0.5, 0.1}}, {requires_grad = true})
  local checks = {
    {"cross_entropy", function(a) return nn.cross_entropy(a, {2, 3}) end, {z}},
    {"nll", function(a) return nn.nll(a, {2, 3}) end, {z}},
    {"nll of log_softmax", function(a) return nn.nll(act.log_softmax(a, 2), {1, 1}) end, {z}},
    {"mse", nn.mse, {z, t}},
    {"bce", nn.bce, {p, t}},
    {"bce_with_logits", nn.bce_with_logits, {z, t}},
  }
  for _, c in ipairs(checks) do
    local ok, err = lab.gradcheck(c[2], c[3])
    T.truthy(ok, c[1] .. " gradcheck (max error " .. tostring(err) .. ")")
  end
end)

test("mse, bce, bce_with_logits by hand and at the edges", function()
  near(nn.mse(actrun.tensor({1, 2}), actrun.tensor({0, 4})):item(), 2.5, 0)
  near(nn.bce(actrun.tensor({0.5}), actrun.tensor({1})):item(), math.log(2), 1e-6)
  -- p = 0 with t = 1: log clamped at -100 (PyTorch), so the loss is finite
  near(nn.bce(actrun.tensor({0, 1}), actrun.tensor({1, 0})):item(), 100, 1e-6)
  near(nn.bce_with_logits(actrun.tensor({0}), actrun.tensor({1})):item(), math.log(2), 1e-6)
  -- huge logits: no overflow
  near(nn.bce_with_logits(actrun.tensor({200, -200}), actrun.tensor({0, 1})):item(), 200, 1e-6)
  near(nn.bce_with_logits(actrun.tensor({200, -200}), actrun.tensor({1, 0})):item(), 0, 1e-6)
end)

test("losses under no_grad record nothing", function()
  local z = actrun.tensor({{1, 2}}, {requires_grad = true})
  local y = actrun.no_grad(function() return nn.cross_entropy(z, {1}) end)
  T.truthy(not y.requires_grad)
end)

test("errors name the function, the label and C, and both shapes", function()
  local x = actrun.tensor({{1, 2, 3}, {4, 5, 6}})
  expect_error(function() nn.cross_entropy(x, {4, 1}) end, "actrun.nn.cross_entropy", "label 4",
    "1..3")
  expect_error(function() nn.cross_entropy(x, {0, 1}) end, "label 0", "1..3")
  expect_error(function() nn.cross_entropy(x, {1.5, 1}) end, "label 1.5", "not an integer")
  expect_error(function() nn.cross_entropy(x, {1, "a"}) end, "position 2")
  expect_error(function() nn.cross_entropy(x, {1}) end, "{2,3}", "1 entries")
  expect_error(function() nn.cross_entropy(x, actrun.tensor({{1, 1}})) end, "labels", "{1,2}")
  expect_error(function() nn.cross_entropy(actrun.tensor({1, 2}), {1}) end, "2-D", "{2}")
  expect_error(function() nn.nll(x, {1, 7}) end, "actrun.nn.nll", "label 7", "position 2")
  expect_error(function() nn.cross_entropy(x, "1") end, "labels")
  expect_error(function() nn.mse(actrun.zeros(3), actrun.zeros(3, 1)) end, "actrun.nn.mse", "{3}",
    "{3,1}")
  expect_error(function() nn.bce(actrun.zeros(2), actrun.zeros(3)) end, "actrun.nn.bce", "{2}", "{3}")
  expect_error(function() nn.bce_with_logits(actrun.zeros(2), 1) end, "actrun.nn.bce_with_logits",
    "tensor")
  eq(select("#", nn.mse(actrun.zeros(1), actrun.zeros(1))), 1)
end)

T.done()
