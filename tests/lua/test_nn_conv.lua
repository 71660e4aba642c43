-- nn.Conv2d and nn.MaxPool2d: the modules over actrun.conv2d / actrun.max_pool2d.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local T = require "testlib"
local actrun = T.actrun
local nn = actrun.nn

T.test("Conv2d equals actrun.conv2d with its own weight and options", function()
  actrun.manual_seed(1)
  local m = nn.Conv2d(3, 4, {3, 2}, {stride = 2, padding = 1})
  T.eq(m.weight:shape(), {4, 3, 3, 2})
  T.eq(m.bias:shape(), {4})
  local x = actrun.randn(2, 3, 9, 8)
  local ref = actrun.conv2d(x, m.weight, m.bias, {stride = 2, padding = 1})
  T.eq((m(x) - ref):abs():max():item(), 0)
  T.eq(m:num_parameters(), 4 * 3 * 3 * 2 + 4)
  T.eq(tostring(m), "Conv2d(3 -> 4, k3x2, stride 2, padding 1) (76 parameters)")
end)

T.test("Conv2d default init is PyTorch's: weight and bias within 1/sqrt(fan_in)", function()
  actrun.manual_seed(2)
  local m = nn.Conv2d(16, 32, 5)
  local bound = 1 / math.sqrt(16 * 25)
  T.truthy(m.weight:abs():max():item() <= bound + 1e-7, "weight bound")
  T.truthy(m.bias:abs():max():item() <= bound + 1e-7, "bias bound")
  T.truthy(m.weight:std():item() > 0.5 * bound / math.sqrt(3), "weight spread")
  local z = nn.Conv2d(1, 2, 3, {bias = false, init = "zeros"})
  T.eq(z.bias, nil)
  T.eq(z.weight:abs():sum():item(), 0)
end)

T.test("MaxPool2d, and a small CNN trains one step end to end", function()
  local p = nn.MaxPool2d(2)
  local x = actrun.tensor{{{{1, 2, 3, 4}, {5, 6, 7, 8}, {9, 10, 11, 12}, {13, 14, 15, 16}}}}
  T.tensor_near(p(x), {{{{6, 8}, {14, 16}}}}, 0)
  T.eq(nn.MaxPool2d(3, 1):describe(), "MaxPool2d(3, stride 1)")
  actrun.manual_seed(3)
  local m = nn.Sequential(nn.Conv2d(1, 4, 3, {padding = 1}), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Linear(4 * 4 * 4, 3))
  local opt = actrun.optim.Adam(m:parameters(), {lr = 1e-2})
  local xb, yb = actrun.randn(6, 1, 8, 8), {1, 2, 3, 1, 2, 3}
  local first
  for i = 1, 30 do
    opt:zero_grad()
    local loss = nn.cross_entropy(m(xb), yb)
    loss:backward()
    opt:step()
    first = first or loss:item()
    if i == 30 then T.truthy(loss:item() < first * 0.5, "loss falls") end
  end
  local ok = actrun.lab.gradcheck(function(w) return actrun.conv2d(xb:narrow(1, 1, 2), w):sum() end,
    {m[1].weight})
  T.truthy(ok, "gradcheck through the module's weight")
end)

T.test("Conv2d and MaxPool2d errors name the module and the shapes", function()
  local m = nn.Conv2d(1, 16, 5, {padding = 2})
  T.expect_error(function() m(actrun.zeros(2, 3, 28, 28)) end, "nn.Conv2d(1 -> 16, k5, padding 2)",
    "3 channels", "expected 1")
  T.expect_error(function() m(actrun.zeros(28, 28)) end, "nn.Conv2d", "2 dims")
  T.expect_error(function() nn.Conv2d(1, 2, 0) end, "actrun.nn.Conv2d", "(k)")
  T.expect_error(function() nn.Conv2d(1, 2, 3, {stride = 0}) end, "stride")
  T.expect_error(function() nn.Conv2d(1, 2, 3, {dilation = 2}) end, "unknown option 'dilation'")
  T.expect_error(function() nn.MaxPool2d(2)(actrun.zeros(4, 4)) end, "nn.MaxPool2d", "2 dims")
end)

T.done()
