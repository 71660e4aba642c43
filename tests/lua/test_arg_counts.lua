-- Argument counts: every Tensor method and every actrun.* tensor function given one
-- argument more than it takes raises an error naming it, instead of ignoring the extra
-- argument (t:flatten(2) once flattened everything). Table-driven: each row is a valid
-- call; the same call with one more argument must fail. The method table must list every
-- method there is, so a new method cannot be added without its count.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local T = require "testlib"
local actrun = T.actrun
local test, eq, expect_error = T.test, T.eq, T.expect_error

local function m23() return actrun.tensor{{1, 2, 3}, {4, 5, 6}} end
local idx = actrun.tensor{2, 1}

-- method -> the arguments of a valid call with the most arguments it takes (after self);
-- self is m23() unless a third field gives it
local METHODS = {
  shape = {}, size = {1}, stride = {1}, dim = {}, numel = {}, is_contiguous = {},
  item = {{}, actrun.tensor{3}}, totable = {}, clone = {}, contiguous = {},
  transpose = {1, 2}, t = {}, narrow = {2, 1, 2}, select = {1, 2}, flatten = {1, 2},
  unsqueeze = {1}, squeeze = {1}, fill = {1}, zero = {}, copy = {m23()},
  add = {1}, sub = {1}, mul = {1}, div = {1}, pow = {2},
  matmul = {{actrun.zeros(3, 2)}}, neg = {}, exp = {}, log = {}, sqrt = {}, abs = {},
  sin = {}, cos = {}, tanh = {}, sigmoid = {}, sign = {}, floor = {}, ceil = {}, round = {},
  reciprocal = {}, square = {}, clamp = {0, 1}, sum = {1, true}, mean = {1, true},
  var = {1, true, false}, std = {1, true, false}, prod = {1, true}, norm = {2, 1, true},
  max = {1, true}, min = {1, true}, argmax = {1, true}, argmin = {1, true},
  maximum = {{m23()}}, minimum = {{m23()}}, gt = {1}, lt = {1}, ge = {1}, le = {1},
  eq = {1}, ne = {1}, detach = {}, zero_grad = {}, index_select = {2, idx},
  gather = {{2, actrun.tensor{{1}, {2}}}}, sort = {2, true}, argsort = {2, true},
  topk = {1, 2, false}, cumsum = {2},
}
-- methods whose sizes or indices are variadic: they count the arguments themselves
local VARIADIC = {
  get = {{1, 2}, "indices"}, set = {{1, 2, 0}, "indices"}, reshape = {{3, 2}, "shape"},
  view = {{3, 2}, "shape"}, expand = {{2, 3}, "shape"},
}

-- a row's argument list: a table of plain values, or {{args...}, self}
local function unpack_row(row)
  if type(row[1]) == "table" and not actrun.is_tensor(row[1]) then return row[1], row[2] end
  return row, nil
end

test("the tables list every Tensor method", function()
  local mt = getmetatable(actrun.zeros(1))
  local missing = {}
  for name in pairs(mt.__methods) do
    if not METHODS[name] and not VARIADIC[name] and name ~= "backward" then
      missing[#missing + 1] = name
    end
  end
  table.sort(missing)
  eq(missing, {}, "methods without an argument count in this test")
end)

for name, row in pairs(METHODS) do
  local args, self = unpack_row(row)
  test("Tensor:" .. name .. " with one argument too many is an error naming it", function()
    local t = self or m23()
    local f = t[name]
    local n = select("#", table.unpack(args))
    local ok, err = pcall(f, t, table.unpack(args, 1, n))
    if not ok then error("the valid call failed: " .. tostring(err)) end
    local extra = {table.unpack(args, 1, n)}
    extra[n + 1] = 1
    expect_error(function() return f(t, table.unpack(extra, 1, n + 1)) end,
                 "Tensor:" .. name .. ":",
                 n == 0 and "expected no arguments, got 1"
                   or string.format("expected at most %d argument", n),
                 string.format("got %d", n + 1))
  end)
end

test("Tensor:backward with one argument too many is an error naming it", function()
  local x = actrun.tensor({1, 2}, {requires_grad = true})
  local y = x * 2
  expect_error(function() return y:backward(actrun.ones(2), {}, 1) end, "Tensor:backward:",
               "expected at most 2 arguments, got 3")
  expect_error(function() return y:backward({}, 1) end, "Tensor:backward:")
  y:backward(actrun.ones(2), {retain_graph = false})
  T.tensor_near(x.grad, {2, 2}, 0)
end)

for name, row in pairs(VARIADIC) do
  test("Tensor:" .. name .. " with one " .. row[2] .. " entry too many is an error", function()
    local t = m23()
    local args = row[1]
    t[name](t, table.unpack(args))
    local extra = {table.unpack(args)}
    extra[#extra + 1] = 2 -- an index or a size that does not fit
    expect_error(function() return t[name](t, table.unpack(extra)) end, "Tensor:" .. name .. ":")
  end)
end

-- actrun.* tensor functions: the arguments of a valid call with the most arguments
local FUNCTIONS = {
  tensor = {{1, 2}, {requires_grad = false}}, full = {{2}, 1}, range = {1, 5, 2},
  linspace = {0, 1, 3}, eye = {2, 3}, cat = {{m23(), m23()}, 1}, stack = {{m23(), m23()}, 1},
  manual_seed = {1}, is_tensor = {1}, matmul = {m23(), actrun.zeros(3, 2)},
  linear = {m23(), actrun.zeros(4, 3), actrun.zeros(4)}, set_num_threads = {1},
  get_num_threads = {}, clock = {}, memory = {}, build_info = {}, randperm = {3},
  where = {actrun.tensor{1, 0}, 1, 2},
}
for name, args in pairs(FUNCTIONS) do
  test("actrun." .. name .. " with one argument too many is an error naming it", function()
    local f = actrun[name]
    local n = #args
    local ok, err = pcall(f, table.unpack(args, 1, n))
    if not ok then error("the valid call failed: " .. tostring(err)) end
    local extra = {table.unpack(args, 1, n)}
    extra[n + 1] = 1
    expect_error(function() return f(table.unpack(extra, 1, n + 1)) end, "actrun." .. name .. ":",
                 string.format("got %d", n + 1))
  end)
end

test("actrun.grad with one argument too many is an error naming it", function()
  local x = actrun.tensor({1, 2}, {requires_grad = true})
  local y = (x * x):sum()
  expect_error(function() return actrun.grad(y, x, {}, 1) end, "actrun.grad:",
               "expected at most 3 arguments, got 4")
  T.tensor_near(actrun.grad(y, x, {})[1], {2, 4}, 0)
end)

test("variadic creation functions still take any number of sizes", function()
  eq(actrun.zeros(1, 1, 1, 1, 1, 2):shape(), {1, 1, 1, 1, 1, 2})
  eq(actrun.randn(2, 1, 3):shape(), {2, 1, 3})
  eq(actrun.no_grad(function(a, b, c) return a + b + c end, 1, 2, 3), 6)
end)

test("metamethods are unaffected (Lua passes them exactly two operands)", function()
  T.tensor_near(m23() + 1, {{2, 3, 4}, {5, 6, 7}}, 0)
  T.tensor_near(-m23(), {{-1, -2, -3}, {-4, -5, -6}}, 0)
end)

-- nn and optim: a module's forward and constructor take what their parameter lists
-- name; optimiser constructors take (params, options); step and zero_grad nothing.
local nn, optim = actrun.nn, actrun.optim

test("a module called with more arguments than its forward takes is an error", function()
  local x = actrun.zeros(1, 3)
  local lin = nn.Linear(3, 2)
  expect_error(function() local y = lin(x, x) return y end, "actrun.nn.Linear(3 -> 2):",
               "expected at most 1 argument, got 2")
  local seq = nn.Sequential(nn.Linear(3, 2), nn.ReLU())
  expect_error(function() local y = seq(x, 1) return y end, "actrun.nn.Sequential",
               "expected at most 1 argument, got 2")
  expect_error(function() local y = nn.ReLU()(x, 1) return y end, "actrun.nn.Activation(relu):",
               "got 2")
  eq(lin(x):shape(), {1, 2})
  eq(seq(x):shape(), {1, 2})
  -- LSTM's forward takes (x, h0, c0)
  local lstm = nn.LSTM(3, 4)
  local xs = actrun.zeros(2, 1, 3)
  local h0, c0 = actrun.zeros(1, 4), actrun.zeros(1, 4)
  lstm(xs, h0, c0)
  expect_error(function() local y = lstm(xs, h0, c0, 1) return y end, "actrun.nn.LSTM",
               "expected at most 3 arguments, got 4")
end)

test("a user-defined module: forward's own parameter list is the limit; ... is any", function()
  local Scale = nn.Module:extend("Scale")
  function Scale:init(s) self.s = s end
  function Scale:forward(x) return x * self.s end
  local m = Scale(2)
  T.tensor_near(m(actrun.ones(2)), {2, 2}, 0)
  expect_error(function() local y = m(actrun.ones(2), 3) return y end, "actrun.nn.Scale:",
               "expected at most 1 argument, got 2")
  expect_error(function() local y = Scale(2, 3) return y end, "actrun.nn.Scale:",
               "expected at most 1 argument, got 2")
  local Sum = nn.Module:extend("Sum")
  function Sum:forward(...)
    local s = 0
    for _, v in ipairs{...} do s = s + v end
    return s
  end
  eq(Sum()(1, 2, 3, 4), 10)
end)

test("nn constructors given one argument too many are errors", function()
  expect_error(function() local m = nn.Linear(3, 2, {bias = false}, 1) return m end,
               "actrun.nn.Linear:", "expected at most 3 arguments, got 4")
  eq(nn.Linear(3, 2, {bias = false}).bias, nil)
end)

test("optimiser constructors, step and zero_grad given arguments too many are errors", function()
  local m = nn.Linear(3, 2)
  local opts = {SGD = {lr = 0.1}, Adam = {}, AdamW = {}, RMSprop = {}, Adagrad = {}}
  for name, o in pairs(opts) do
    expect_error(function() local r = optim[name](m, o, 1) return r end,
                 "actrun.optim." .. name .. ":", "expected at most 2 arguments, got 3")
    local opt = optim[name](m, o)
    expect_error(function() opt:step(function() return 0 end) end,
                 "actrun.optim." .. name .. ":step:", "expected no arguments, got 1")
    expect_error(function() opt:zero_grad(true) end,
                 "actrun.optim." .. name .. ":zero_grad:", "expected no arguments, got 1")
    opt:zero_grad()
    opt:step()
  end
  local sgd = optim.SGD(m, {lr = 0.1})
  expect_error(function() local r = optim.clip_grad_norm(m, 1, 2) return r end,
               "actrun.optim.clip_grad_norm:", "got 3")
  expect_error(function() local r = optim.StepLR(sgd, {step = 1}, 1) return r end,
               "actrun.optim.StepLR:", "got 3")
  expect_error(function() local r = optim.CosineLR(sgd, {T = 1}, 1) return r end,
               "actrun.optim.CosineLR:", "got 3")
end)

T.done()
