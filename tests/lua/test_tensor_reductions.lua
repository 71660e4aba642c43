-- Reductions: sum mean var std norm max min argmax, with dims and keepdim.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local T = require "testlib"
local actrun = T.actrun
local test, eq, near, tensor_near = T.test, T.eq, T.near, T.tensor_near

local function a23() return actrun.tensor{{1, 2, 3}, {4, 5, 6}} end

test("full sum is a 1-element tensor of shape {1}", function()
  local s = a23():sum()
  eq(s:shape(), {1})
  eq(s:item(), 21.0)
end)

test("sum(dim) removes the dim; negative dims count from the end", function()
  tensor_near(a23():sum(1), {5, 7, 9}, 0)
  tensor_near(a23():sum(2), {6, 15}, 0)
  tensor_near(a23():sum(-1), {6, 15}, 0)
  tensor_near(a23():sum(-2), {5, 7, 9}, 0)
end)

test("sum(dim, true) keeps the dim with size 1", function()
  tensor_near(a23():sum(1, true), {{5, 7, 9}}, 0)
  tensor_near(a23():sum(2, true), {{6}, {15}}, 0)
  eq(a23():sum(2, false):shape(), {2})
end)

test("sum over the middle dim of a 3-D tensor", function()
  local x = actrun.range(1, 24):reshape(2, 3, 4)
  local s = x:sum(2)
  eq(s:shape(), {2, 4})
  eq(s:get(1, 1), 15.0)
  eq(s:get(2, 4), 60.0)
  eq(x:sum(2, true):shape(), {2, 1, 4})
end)

test("sum of an empty tensor is 0", function()
  eq(actrun.zeros(0):sum():item(), 0.0)
end)

test("mean, full and along dims", function()
  eq(a23():mean():shape(), {1})
  eq(a23():mean():item(), 3.5)
  tensor_near(a23():mean(1), {2.5, 3.5, 4.5}, 0)
  tensor_near(a23():mean(2), {2, 5}, 0)
  tensor_near(a23():mean(2, true), {{2}, {5}}, 0)
end)

test("var and std are unbiased (divide by n - 1), as PyTorch", function()
  near(a23():var():item(), 3.5, 1e-6)
  near(a23():std():item(), math.sqrt(3.5), 1e-6)
  tensor_near(a23():var(1), {4.5, 4.5, 4.5}, 1e-6)
  tensor_near(a23():var(2), {1, 1}, 1e-6)
  tensor_near(a23():std(2), {1, 1}, 1e-6)
  tensor_near(a23():std(1, true), {{math.sqrt(4.5), math.sqrt(4.5), math.sqrt(4.5)}}, 1e-6)
  tensor_near(actrun.tensor{2, 4, 4, 4, 5, 5, 7, 9}:var(), {32 / 7}, 1e-6)
end)

test("norm: 2 by default, p = 1 and p = inf", function()
  local x = actrun.tensor{{-3, 4}, {0, 12}}
  eq(x:norm():shape(), {1})
  near(x:norm():item(), 13, 1e-6)
  near(x:norm(2):item(), 13, 1e-6)
  near(x:norm(1):item(), 19, 1e-6)
  near(x:norm(math.huge):item(), 12, 1e-6)
  near(actrun.tensor{-7, 2}:norm(math.huge):item(), 7, 1e-6)
end)

test("max() and min() with no dim are 1-element tensors", function()
  local x = actrun.tensor{{3, -1}, {7, 2}}
  eq(x:max():shape(), {1})
  eq(x:max():item(), 7.0)
  eq(x:min():item(), -1.0)
end)

test("max(dim) and min(dim) return values and 1-based float indices", function()
  local x = actrun.tensor{{1, 9, 3}, {8, 5, 6}}
  local v, i = x:max(2)
  tensor_near(v, {9, 8}, 0)
  tensor_near(i, {2, 1}, 0)
  eq(math.type(i:get(1)), "float")
  v, i = x:max(1)
  tensor_near(v, {8, 9, 6}, 0)
  tensor_near(i, {2, 1, 2}, 0)
  v, i = x:min(2)
  tensor_near(v, {1, 5}, 0)
  tensor_near(i, {1, 2}, 0)
  v, i = x:min(-2)
  tensor_near(v, {1, 5, 3}, 0)
  tensor_near(i, {1, 2, 1}, 0)
end)

test("max and argmax pick the first of tied values", function()
  local x = actrun.tensor{{1, 3, 3}, {2, 2, 1}}
  local v, i = x:max(2)
  tensor_near(v, {3, 2}, 0)
  tensor_near(i, {2, 1}, 0)
  tensor_near(x:argmax(2), {2, 1}, 0)
  local _, j = x:min(2)
  tensor_near(j, {1, 3}, 0)
end)

test("argmax(dim) gives 1-based float indices", function()
  local x = actrun.tensor{{1, 9, 3}, {8, 5, 6}}
  tensor_near(x:argmax(2), {2, 1}, 0)
  tensor_near(x:argmax(1), {2, 1, 2}, 0)
  tensor_near(x:argmax(-1), {2, 1}, 0)
  eq(math.type(x:argmax(1):get(1)), "float")
end)

test("NaN wins in max and min (as PyTorch)", function()
  local x = actrun.tensor{1, 0 / 0, 3}
  local m = x:max():item()
  T.truthy(m ~= m, "max is NaN")
  local v, i = x:max(1)
  T.truthy(v:item() ~= v:item(), "max(1) value is NaN")
  eq(i:item(), 2.0)
  local _, j = x:min(1)
  eq(j:item(), 2.0)
end)

test("reductions of a transposed view follow the logical layout", function()
  local x = a23():t() -- {{1,4},{2,5},{3,6}}
  tensor_near(x:sum(1), {6, 15}, 0)
  tensor_near(x:sum(2), {5, 7, 9}, 0)
  local v, i = x:max(1)
  tensor_near(v, {3, 6}, 0)
  tensor_near(i, {3, 3}, 0)
  tensor_near(x:mean(2), {2.5, 3.5, 4.5}, 0)
end)

test("reductions of an expanded view count the repeated elements", function()
  local x = actrun.tensor{{1, 2}}:expand(3, 2)
  eq(x:sum():item(), 9.0)
  tensor_near(x:sum(1), {3, 6}, 0)
end)

test("sum of a million float32 0.1 values is accurate (not naive float accumulation)", function()
  local x = actrun.full({1000000}, 0.1)
  near(x:sum():item(), 1e5, 1e-6)
  near(x:mean():item(), 0.1, 1e-6)
  near(x:var():item(), 0, 1e-6)
end)

test("reductions give bitwise identical results with 1 and 2 threads", function()
  local before = actrun.get_num_threads()
  actrun.manual_seed(7)
  local x = actrun.randn(1000, 1000)
  local function all()
    local v, i = x:max(1)
    return {x:sum():item(), x:mean():item(), x:var():item(), x:std():item(),
            x:norm():item(), x:norm(1):item(), x:sum(1):totable(), x:sum(2):totable(),
            v:totable(), i:totable()}
  end
  actrun.set_num_threads(1)
  local one = all()
  actrun.set_num_threads(2)
  local two = all()
  actrun.set_num_threads(before)
  for k = 1, #one do
    T.truthy(T.deep_eq(one[k], two[k]), "result " .. k .. " differs between 1 and 2 threads")
  end
end)

T.done()
