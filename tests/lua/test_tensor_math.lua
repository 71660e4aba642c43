-- Elementwise math: exp log sqrt abs sin cos tanh sigmoid clamp sign floor ceil round.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local T = require "testlib"
local actrun = T.actrun
local test, eq, tensor_near = T.test, T.eq, T.tensor_near

local inf, pi, e = math.huge, math.pi, math.exp(1)

local function is_nan(x) return x ~= x end

test("exp", function()
  tensor_near(actrun.tensor{0, 1, -1, 2}:exp(), {1, e, 1 / e, e * e}, 1e-6)
  local r = actrun.tensor{-inf, inf, 100}:exp():totable()
  eq(r, {0.0, inf, inf})
end)

test("log, with log(0) = -inf and log(-1) = NaN", function()
  tensor_near(actrun.tensor{1, e, 0.5, 1e6}:log(), {0, 1, math.log(0.5), math.log(1e6)}, 1e-6)
  local r = actrun.tensor{0, -1}:log():totable()
  eq(r[1], -inf)
  T.truthy(is_nan(r[2]), "log(-1) is NaN")
end)

test("sqrt, with sqrt(-1) = NaN", function()
  tensor_near(actrun.tensor{0, 4, 2, 1e-6}:sqrt(), {0, 2, math.sqrt(2), 1e-3}, 1e-6)
  T.truthy(is_nan(actrun.tensor{-1}:sqrt():item()), "sqrt(-1) is NaN")
end)

test("abs", function()
  tensor_near(actrun.tensor{-2, 0, 3.5, -inf}:abs(), {2, 0, 3.5, inf}, 0)
end)

test("sin and cos", function()
  local x = actrun.tensor{0, pi / 2, pi, -pi / 6, 10}
  tensor_near(x:sin(), {0, 1, 0, -0.5, math.sin(10)}, 1e-6)
  tensor_near(x:cos(), {1, 0, -1, math.sqrt(3) / 2, math.cos(10)}, 1e-6)
end)

test("tanh saturates to +-1 without NaN", function()
  tensor_near(actrun.tensor{0, 1, -20, 20, -inf, inf}:tanh(),
    {0, 0.7615941559557649, -1, 1, -1, 1}, 1e-6)
end)

test("sigmoid, stable at large |x|", function()
  local r = actrun.tensor{0, 2, -100, 100, -inf, inf}:sigmoid()
  tensor_near(r, {0.5, 1 / (1 + math.exp(-2)), 0, 1, 0, 1}, 1e-6)
end)

test("clamp(lo, hi)", function()
  tensor_near(actrun.tensor{-2, 0.5, 3, -inf, inf}:clamp(-1, 1), {-1, 0.5, 1, -1, 1}, 0)
  tensor_near(actrun.tensor{{-5, 5}}:clamp(0, 2), {{0, 2}}, 0)
end)

test("sign gives -1, 0 or 1", function()
  tensor_near(actrun.tensor{-3, 0, 2, -1e-30, inf}:sign(), {-1, 0, 1, -1, 1}, 0)
end)

test("floor and ceil", function()
  tensor_near(actrun.tensor{-1.5, 1.5, 2, -0.2}:floor(), {-2, 1, 2, -1}, 0)
  tensor_near(actrun.tensor{-1.5, 1.5, 2, -0.2}:ceil(), {-1, 2, 2, 0}, 0)
end)

test("round rounds half to even (as PyTorch)", function()
  tensor_near(actrun.tensor{0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.4, 1.6, 3.5}:round(),
    {0, 2, 2, 0, -2, -2, 0, 2, 4}, 0)
end)

test("math results have the input's shape and leave the input unchanged", function()
  local x = actrun.tensor{{1, -2}, {3, -4}}
  for _, name in ipairs{"exp", "log", "sqrt", "abs", "sin", "cos", "tanh", "sigmoid",
                        "sign", "floor", "ceil", "round"} do
    local y = x[name](x)
    eq(y:shape(), {2, 2}, name .. " shape")
  end
  eq(x:clamp(0, 1):shape(), {2, 2})
  tensor_near(x, {{1, -2}, {3, -4}}, 0)
end)

test("math on a transposed view follows the logical layout", function()
  local x = actrun.tensor{{1, 4}, {9, 16}}:t()
  tensor_near(x:sqrt(), {{1, 3}, {2, 4}}, 0)
  tensor_near(x:clamp(2, 10), {{2, 9}, {4, 10}}, 0)
end)

-- Each function over a grid against double-precision Lua, on a large tensor so the
-- multi-threaded paths run too (sampled positions, including chunk borders).
local function sigmoid(v) return 1 / (1 + math.exp(-v)) end
local function tanh(v)
  if v > 20 then return 1 elseif v < -20 then return -1 end
  local a, b = math.exp(v), math.exp(-v)
  return (a - b) / (a + b)
end
local grid_cases = {
  {"exp", math.exp, -20, 20},
  {"log", math.log, 1e-3, 1e3},
  {"sqrt", math.sqrt, 0, 1e4},
  {"sin", math.sin, -20, 20},
  {"cos", math.cos, -20, 20},
  {"tanh", tanh, -10, 10},
  {"sigmoid", sigmoid, -30, 30},
  {"abs", math.abs, -5, 5},
}
for _, c in ipairs(grid_cases) do
  local name, ref, lo, hi = c[1], c[2], c[3], c[4]
  test(name .. " matches double precision over [" .. lo .. ", " .. hi .. "] (300001 points)", function()
    local n = 300001
    local x = actrun.linspace(lo, hi, n)
    local y = x[name](x)
    eq(y:shape(), {n})
    local step = 997
    for i = 1, n, step do
      local xi = x:get(i)
      T.near(y:get(i), ref(xi), 2e-6, name .. "(" .. xi .. ")")
    end
    for _, i in ipairs{65536, 65537, 131072, 150001, n} do
      local xi = x:get(i)
      T.near(y:get(i), ref(xi), 2e-6, name .. "(" .. xi .. ")")
    end
  end)
end

T.done()
