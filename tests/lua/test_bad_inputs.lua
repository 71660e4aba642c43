-- Bad inputs to every function and method of the Tensors section. Each must raise a Lua
-- error that names the function and the problem; none may crash the process (run.lua
-- runs this file in its own process, so a crash shows up as a failure). After errors the
-- interpreter and the tensors involved must still be usable and unchanged.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local T = require "testlib"
local actrun = T.actrun
local test, eq, tensor_near, expect_error = T.test, T.eq, T.tensor_near, T.expect_error

-- Key words a message may use for a kind of problem (any one of them will do).
local RANGE = {"range", "bound"}
local DIM = {"dim", "range"}
local INTEGER = {"integer"}
local NEGATIVE = {"negative", ">= 0", "positive"}
local TOO_BIG = {"large", "overflow", "memory", "too many", "exceed", "alloc", "limit"}
local COUNT = {"ind", "argument", "expected"}
local ELEMENT = {"element", "numel"}

local function bad(desc, fn, ...)
  local needles = {...}
  test(desc, function() expect_error(fn, table.unpack(needles)) end)
end

local function m23() return actrun.tensor{{1, 2, 3}, {4, 5, 6}} end

-------------------------------------------------------------------------------------
-- creation
-------------------------------------------------------------------------------------
for _, name in ipairs{"zeros", "ones", "empty", "rand", "randn"} do
  local f = actrun[name]
  local fname = "actrun." .. name
  bad(name .. "('x') names argument #1", function() return f("x") end, fname, "argument #1")
  bad(name .. "(true) names argument #1", function() return f(true) end, fname, "argument #1")
  bad(name .. "(2, 'x') names argument #2", function() return f(2, "x") end, fname, "argument #2")
  bad(name .. "(tensor) is not a size", function() return f(actrun.zeros(2)) end, fname, "argument #1")
  bad(name .. "{2, 'x'} rejects a non-number in the shape table", function() return f{2, "x"} end, fname)
  bad(name .. "(-3) is a negative size", function() return f(-3) end, fname, NEGATIVE)
  bad(name .. "(2, -1) is a negative size", function() return f(2, -1) end, fname, NEGATIVE)
  bad(name .. "(2.5) is not an integer", function() return f(2.5) end, fname, INTEGER)
  bad(name .. "{2.5} is not an integer", function() return f{2.5} end, fname, INTEGER)
  bad(name .. "(NaN) is not an integer", function() return f(0 / 0) end, fname, INTEGER)
  bad(name .. "(math.huge) is not a size", function() return f(math.huge) end, fname, INTEGER)
  bad(name .. "(1e300) is not a size", function() return f(1e300) end, fname, INTEGER)
  bad(name .. "(2^40, 2^40) overflows", function() return f(2 ^ 40, 2 ^ 40) end, fname, TOO_BIG)
  bad(name .. "(2^62, 4) overflows", function() return f(2 ^ 62, 4) end, fname, TOO_BIG)
  bad(name .. " with 9 dims is over the limit of 8", function()
    return f(1, 1, 1, 1, 1, 1, 1, 1, 1)
  end, fname, {"8", "dim"})
end

bad("zeros(2^40) (4 TB) fails cleanly", function() return actrun.zeros(2 ^ 40) end,
  "actrun.zeros", TOO_BIG)

bad("tensor('x') is not a number or table", function() return actrun.tensor("x") end,
  "actrun.tensor", "argument #1")
bad("tensor(nil)", function() return actrun.tensor(nil) end, "actrun.tensor", "argument #1")
bad("tensor(true)", function() return actrun.tensor(true) end, "actrun.tensor", "argument #1")
bad("tensor{1, 'a'} has a non-number element", function() return actrun.tensor{1, "a"} end,
  "actrun.tensor")
bad("tensor{{1, 2}, {3}} is ragged", function() return actrun.tensor{{1, 2}, {3}} end,
  "actrun.tensor")
bad("tensor{{1, 2}, 3} mixes rows and numbers", function() return actrun.tensor{{1, 2}, 3} end,
  "actrun.tensor")
bad("tensor{1, {2}} mixes numbers and rows", function() return actrun.tensor{1, {2}} end,
  "actrun.tensor")
bad("tensor nested 9 deep is over the limit of 8 dims", function()
  return actrun.tensor{{{{{{{{{1}}}}}}}}}
end, "actrun.tensor", {"8", "dim"})
bad("tensor(x, 'opts') needs an options table", function() return actrun.tensor({1}, "opts") end,
  "actrun.tensor", "argument #2")

bad("full('x', 1)", function() return actrun.full("x", 1) end, "actrun.full", "argument #1")
bad("full({2, 3}) without a value", function() return actrun.full({2, 3}) end, "actrun.full", "argument #2")
bad("full({2, 3}, 'x')", function() return actrun.full({2, 3}, "x") end, "actrun.full", "argument #2")
bad("full({-1}, 0)", function() return actrun.full({-1}, 0) end, "actrun.full", NEGATIVE)
bad("full({2^40, 2^40}, 1) overflows", function() return actrun.full({2 ^ 40, 2 ^ 40}, 1) end,
  "actrun.full", TOO_BIG)

bad("range('a', 2)", function() return actrun.range("a", 2) end, "actrun.range", "argument #1")
bad("range(1, 'b')", function() return actrun.range(1, "b") end, "actrun.range", "argument #2")
bad("range(1) without an end", function() return actrun.range(1) end, "actrun.range", "argument #2")
bad("range(1, 5, 0): step 0", function() return actrun.range(1, 5, 0) end, "actrun.range", "step")
bad("range(1, 5, NaN): NaN step", function() return actrun.range(1, 5, 0 / 0) end, "actrun.range")
bad("range(NaN, 5)", function() return actrun.range(0 / 0, 5) end, "actrun.range")
bad("range(1, NaN)", function() return actrun.range(1, 0 / 0) end, "actrun.range")
bad("range(1, math.huge) is infinite", function() return actrun.range(1, math.huge) end, "actrun.range")
bad("range(1, 2^60) is too large", function() return actrun.range(1, 2 ^ 60) end, "actrun.range", TOO_BIG)

bad("linspace(0, 1, -1)", function() return actrun.linspace(0, 1, -1) end, "actrun.linspace", NEGATIVE)
bad("linspace(0, 1, 2.5)", function() return actrun.linspace(0, 1, 2.5) end, "actrun.linspace", INTEGER)
bad("linspace(0, 1, 'x')", function() return actrun.linspace(0, 1, "x") end, "actrun.linspace", "argument #3")
bad("linspace(0, 1) without n", function() return actrun.linspace(0, 1) end, "actrun.linspace", "argument #3")
bad("linspace('a', 1, 3)", function() return actrun.linspace("a", 1, 3) end, "actrun.linspace", "argument #1")
bad("linspace(0, 1, 2^40) is too large", function() return actrun.linspace(0, 1, 2 ^ 40) end,
  "actrun.linspace", TOO_BIG)
bad("linspace(0, 1, 0) has no points", function() return actrun.linspace(0, 1, 0) end,
  "actrun.linspace", "argument #3")

bad("eye(-1)", function() return actrun.eye(-1) end, "actrun.eye", NEGATIVE)
bad("eye('x')", function() return actrun.eye("x") end, "actrun.eye", "argument #1")
bad("eye(2.5)", function() return actrun.eye(2.5) end, "actrun.eye", INTEGER)
bad("eye(2^40) overflows", function() return actrun.eye(2 ^ 40) end, "actrun.eye", TOO_BIG)

-------------------------------------------------------------------------------------
-- cat, stack, matmul, other module functions
-------------------------------------------------------------------------------------
bad("cat('x')", function() return actrun.cat("x") end, "actrun.cat", "argument #1")
bad("cat({}) of nothing", function() return actrun.cat({}) end, "actrun.cat")
bad("cat with a non-tensor in the list", function() return actrun.cat({actrun.zeros(2), "x"}) end,
  "actrun.cat")
bad("cat of {2,3} and {2,4} along dim 1", function()
  return actrun.cat({actrun.zeros(2, 3), actrun.zeros(2, 4)}, 1)
end, "actrun.cat", "{2,3}", "{2,4}")
bad("cat of different ranks", function()
  return actrun.cat({actrun.zeros(2, 3), actrun.zeros(3)}, 1)
end, "actrun.cat")
bad("cat along dim 0", function() return actrun.cat({actrun.zeros(2)}, 0) end, "actrun.cat", DIM)
bad("cat along dim 2 of 1-D tensors", function() return actrun.cat({actrun.zeros(2)}, 2) end, "actrun.cat", DIM)
bad("cat along dim -3 of 2-D tensors", function()
  return actrun.cat({actrun.zeros(2, 2), actrun.zeros(2, 2)}, -3)
end, "actrun.cat", DIM)
bad("cat with dim 'x'", function() return actrun.cat({actrun.zeros(2)}, "x") end, "actrun.cat", "argument #2")
bad("cat with dim 1.5", function() return actrun.cat({actrun.zeros(2)}, 1.5) end, "actrun.cat", "argument #2")

bad("stack('x')", function() return actrun.stack("x") end, "actrun.stack", "argument #1")
bad("stack({}) of nothing", function() return actrun.stack({}) end, "actrun.stack")
bad("stack of different shapes", function()
  return actrun.stack({actrun.zeros(2), actrun.zeros(3)})
end, "actrun.stack", "{2}", "{3}")
bad("stack with a non-tensor in the list", function() return actrun.stack({actrun.zeros(2), 5}) end,
  "actrun.stack")
bad("stack along dim 0", function() return actrun.stack({actrun.zeros(2)}, 0) end, "actrun.stack", DIM)
bad("stack along dim 3 of 1-D tensors", function() return actrun.stack({actrun.zeros(2)}, 3) end,
  "actrun.stack", DIM)
bad("stack along dim -3 of 1-D tensors", function() return actrun.stack({actrun.zeros(2)}, -3) end,
  "actrun.stack", DIM)

bad("matmul of {2,3} and {4,5}", function()
  return actrun.matmul(actrun.zeros(2, 3), actrun.zeros(4, 5))
end, "actrun.matmul", "{2,3}", "{4,5}")
bad("matmul of {2,3} and {4}", function()
  return actrun.matmul(actrun.zeros(2, 3), actrun.zeros(4))
end, "actrun.matmul", "{2,3}", "{4}")
bad("matmul of {3} and {4}", function()
  return actrun.matmul(actrun.zeros(3), actrun.zeros(4))
end, "actrun.matmul", "{3}", "{4}")
bad("matmul with batches 2 and 3", function()
  return actrun.matmul(actrun.zeros(2, 3, 4), actrun.zeros(3, 4, 5))
end, "actrun.matmul", "{2,3,4}", "{3,4,5}")
bad("matmul(tensor, 5)", function() return actrun.matmul(actrun.zeros(2, 2), 5) end,
  "actrun.matmul", "argument #2")
bad("matmul('x', tensor)", function() return actrun.matmul("x", actrun.zeros(2, 2)) end,
  "actrun.matmul", "argument #1")
bad("matmul with one argument", function() return actrun.matmul(actrun.zeros(2, 2)) end,
  "actrun.matmul", "argument #2")
bad("matmul('x') as a method", function() return actrun.zeros(2, 2):matmul("x") end,
  "matmul", "argument #")
bad("t:matmul of mismatched shapes", function()
  return actrun.zeros(2, 3):matmul(actrun.zeros(2, 3))
end, "matmul", "{2,3}")

bad("manual_seed('x')", function() return actrun.manual_seed("x") end, "actrun.manual_seed", "argument #1")
bad("manual_seed(nil)", function() return actrun.manual_seed(nil) end, "actrun.manual_seed", "argument #1")
bad("manual_seed(1.5)", function() return actrun.manual_seed(1.5) end, "actrun.manual_seed", INTEGER)

bad("no_grad(5)", function() return actrun.no_grad(5) end, "actrun.no_grad", "argument #1")
bad("no_grad(nil)", function() return actrun.no_grad(nil) end, "actrun.no_grad", "argument #1")
test("no_grad passes on an error raised by fn", function()
  expect_error(function() return actrun.no_grad(function() error("inner failure") end) end,
    "inner failure")
  tensor_near(actrun.no_grad(function() return actrun.ones(2) * 2 end), {2, 2}, 0)
end)

bad("set_num_threads(0)", function() return actrun.set_num_threads(0) end,
  "actrun.set_num_threads", "argument #1")
bad("set_num_threads(-1)", function() return actrun.set_num_threads(-1) end,
  "actrun.set_num_threads", "argument #1")
bad("set_num_threads('x')", function() return actrun.set_num_threads("x") end,
  "actrun.set_num_threads", "argument #1")
bad("set_num_threads(1.5)", function() return actrun.set_num_threads(1.5) end,
  "actrun.set_num_threads", INTEGER)
test("a failed set_num_threads keeps the thread count", function()
  local before = actrun.get_num_threads()
  pcall(actrun.set_num_threads, 0)
  pcall(actrun.set_num_threads, "x")
  eq(actrun.get_num_threads(), before)
end)

-------------------------------------------------------------------------------------
-- methods called on something that is not a tensor
-------------------------------------------------------------------------------------
local methods = {
  "shape", "size", "dim", "numel", "get", "set", "item", "totable", "clone", "contiguous",
  "reshape", "view", "transpose", "t", "narrow", "select", "flatten", "unsqueeze",
  "squeeze", "expand", "fill", "zero", "copy", "add", "sub", "mul", "div", "pow",
  "matmul", "exp", "log", "sqrt", "abs", "sin", "cos", "tanh", "sigmoid", "clamp", "sign",
  "floor", "ceil", "round", "sum", "mean", "var", "std", "norm", "max", "min", "argmax",
  "gt", "lt", "ge", "le", "eq",
}
local sample = actrun.zeros(2)
for _, name in ipairs(methods) do
  test("Tensor:" .. name .. " on a non-tensor (number, string, table, nil) is an error", function()
    local f = sample[name]
    eq(type(f), "function", "method " .. name)
    for _, self in ipairs{5, "x", {}, false} do
      expect_error(function() return f(self, 1, 1, 1) end, name, {"Tensor", "tensor"})
    end
    expect_error(function() return f() end, name, {"Tensor", "tensor"})
  end)
end
test("a method taken from the metatable rejects a non-tensor self", function()
  local mt = getmetatable(sample)
  local sum = type(mt.__index) == "table" and mt.__index.sum or sample.sum
  expect_error(function() return sum(5) end, "sum", {"Tensor", "tensor"})
end)

-------------------------------------------------------------------------------------
-- shape queries and element access
-------------------------------------------------------------------------------------
bad("size(0)", function() return m23():size(0) end, "Tensor:size", DIM)
bad("size(3) of a 2-D tensor", function() return m23():size(3) end, "Tensor:size", DIM)
bad("size(-3) of a 2-D tensor", function() return m23():size(-3) end, "Tensor:size", DIM)
bad("size('x')", function() return m23():size("x") end, "Tensor:size", "argument #")

bad("get with too few indices", function() return m23():get(1) end, "Tensor:get", COUNT)
bad("get with too many indices", function() return m23():get(1, 1, 1) end, "Tensor:get", COUNT)
bad("get with no index", function() return m23():get() end, "Tensor:get", COUNT)
bad("get(0, 1)", function() return m23():get(0, 1) end, "Tensor:get", RANGE)
bad("get(3, 1) past dim 1", function() return m23():get(3, 1) end, "Tensor:get", RANGE)
bad("get(1, 4) past dim 2", function() return m23():get(1, 4) end, "Tensor:get", RANGE)
bad("get(-3, 1)", function() return m23():get(-3, 1) end, "Tensor:get", RANGE)
bad("get(1.5, 1)", function() return m23():get(1.5, 1) end, "Tensor:get", INTEGER)
bad("get('x', 1)", function() return m23():get("x", 1) end, "Tensor:get", "argument #")
bad("get(nil, 1)", function() return m23():get(nil, 1) end, "Tensor:get", "argument #")
bad("get(1) of an empty tensor", function() return actrun.zeros(0):get(1) end, "Tensor:get", RANGE)

bad("set with too few indices", function() return m23():set(1, 5) end, "Tensor:set", COUNT)
bad("set with too many indices", function() return m23():set(1, 1, 1, 5) end, "Tensor:set", COUNT)
bad("set without a value", function() return m23():set(1, 1) end, "Tensor:set", COUNT)
bad("set(0, 1, v)", function() return m23():set(0, 1, 5) end, "Tensor:set", RANGE)
bad("set(3, 1, v)", function() return m23():set(3, 1, 5) end, "Tensor:set", RANGE)
bad("set(1, 4, v)", function() return m23():set(1, 4, 5) end, "Tensor:set", RANGE)
bad("set(1, 1, 'x')", function() return m23():set(1, 1, "x") end, "Tensor:set", "argument #")
bad("set(1, 1, {})", function() return m23():set(1, 1, {}) end, "Tensor:set", "argument #")
bad("set(1.5, 1, v)", function() return m23():set(1.5, 1, 5) end, "Tensor:set", INTEGER)

bad("item() of a 6-element tensor", function() return m23():item() end, "Tensor:item", ELEMENT)
bad("item() of an empty tensor", function() return actrun.zeros(0):item() end, "Tensor:item", ELEMENT)

bad("t[0] of a 1-D tensor", function() return actrun.zeros(3)[0] end, RANGE)
bad("t[4] of a 3-element tensor", function() return actrun.zeros(3)[4] end, RANGE)
bad("t[-4] of a 3-element tensor", function() return actrun.zeros(3)[-4] end, RANGE)
bad("t[0] of a 2-D tensor", function() return m23()[0] end, RANGE)
bad("t[3] of a {2,3} tensor", function() return m23()[3] end, RANGE)
bad("t[1.5]", function() return actrun.zeros(3)[1.5] end, INTEGER)
bad("t[0] = 1", function() local t = actrun.zeros(3); t[0] = 1 end, RANGE)
bad("t[4] = 1 on 3 elements", function() local t = actrun.zeros(3); t[4] = 1 end, RANGE)
bad("t[1] = 'x'", function() local t = actrun.zeros(3); t[1] = "x" end, {"number", "tensor"})
bad("t[1] = nil", function() local t = actrun.zeros(3); t[1] = nil end, {"number", "tensor"})
bad("t[1] = tensor of a non-broadcastable shape", function()
  local t = m23(); t[1] = actrun.zeros(5)
end, "{3}", "{5}")

-------------------------------------------------------------------------------------
-- views
-------------------------------------------------------------------------------------
bad("reshape to a different element count", function() return m23():reshape(4) end,
  "Tensor:reshape", "{2,3}")
bad("reshape(0) of 6 elements", function() return m23():reshape(0) end, "Tensor:reshape")
bad("reshape with two -1", function() return m23():reshape(-1, -1) end, "Tensor:reshape", "-1")
bad("reshape(-1, 4) of 6 elements", function() return m23():reshape(-1, 4) end, "Tensor:reshape")
bad("reshape(-2, 3)", function() return m23():reshape(-2, 3) end, "Tensor:reshape")
bad("reshape(2.5, 2)", function() return m23():reshape(2.5, 2) end, "Tensor:reshape", INTEGER)
bad("reshape('x')", function() return m23():reshape("x") end, "Tensor:reshape", "argument #")
bad("reshape{2, 'x'}", function() return m23():reshape{2, "x"} end, "Tensor:reshape")
bad("reshape(2^40, 2^40) overflows", function() return m23():reshape(2 ^ 40, 2 ^ 40) end, "Tensor:reshape")
bad("reshape to 9 dims", function() return actrun.zeros(1):reshape(1, 1, 1, 1, 1, 1, 1, 1, 1) end,
  "Tensor:reshape", {"8", "dim"})

bad("view to a different element count", function() return m23():view(4) end, "Tensor:view", "{2,3}")
bad("view with two -1", function() return m23():view(-1, -1) end, "Tensor:view", "-1")
bad("view of a transposed tensor", function() return m23():t():view(6) end, "Tensor:view")
bad("view('x')", function() return m23():view("x") end, "Tensor:view", "argument #")

bad("transpose(0, 1)", function() return m23():transpose(0, 1) end, "Tensor:transpose", DIM)
bad("transpose(1, 3) of a 2-D tensor", function() return m23():transpose(1, 3) end, "Tensor:transpose", DIM)
bad("transpose(-3, 1) of a 2-D tensor", function() return m23():transpose(-3, 1) end, "Tensor:transpose", DIM)
bad("transpose with one dim", function() return m23():transpose(1) end, "Tensor:transpose", "argument #")
bad("transpose('x', 1)", function() return m23():transpose("x", 1) end, "Tensor:transpose", "argument #")
bad("t() of a 3-D tensor", function() return actrun.zeros(2, 2, 2):t() end, "Tensor:t", {"2-D", "dim"})

bad("narrow(0, 1, 1)", function() return m23():narrow(0, 1, 1) end, "Tensor:narrow", DIM)
bad("narrow(3, 1, 1) of a 2-D tensor", function() return m23():narrow(3, 1, 1) end, "Tensor:narrow", DIM)
bad("narrow(-3, 1, 1) of a 2-D tensor", function() return m23():narrow(-3, 1, 1) end, "Tensor:narrow", DIM)
bad("narrow with start 0", function() return m23():narrow(2, 0, 1) end, "Tensor:narrow", RANGE)
bad("narrow starting past the end", function() return m23():narrow(2, 5, 1) end, "Tensor:narrow", RANGE)
bad("narrow running past the end", function() return m23():narrow(2, 2, 3) end, "Tensor:narrow", RANGE)
bad("narrow with a negative length", function() return m23():narrow(2, 1, -1) end, "Tensor:narrow")
bad("narrow with start 1.5", function() return m23():narrow(2, 1.5, 1) end, "Tensor:narrow", INTEGER)
bad("narrow('x', 1, 1)", function() return m23():narrow("x", 1, 1) end, "Tensor:narrow", "argument #")

bad("select(0, 1)", function() return m23():select(0, 1) end, "Tensor:select", DIM)
bad("select(3, 1) of a 2-D tensor", function() return m23():select(3, 1) end, "Tensor:select", DIM)
bad("select(1, 0)", function() return m23():select(1, 0) end, "Tensor:select", RANGE)
bad("select(1, 3) of 2 rows", function() return m23():select(1, 3) end, "Tensor:select", RANGE)
bad("select(2, 1.5)", function() return m23():select(2, 1.5) end, "Tensor:select", INTEGER)
bad("select(-3, 1) of a 2-D tensor", function() return m23():select(-3, 1) end, "Tensor:select", DIM)
bad("select(1, -3) of 2 rows", function() return m23():select(1, -3) end, "Tensor:select", RANGE)

bad("unsqueeze(0)", function() return actrun.zeros(3):unsqueeze(0) end, "Tensor:unsqueeze", DIM)
bad("unsqueeze(3) of a 1-D tensor", function() return actrun.zeros(3):unsqueeze(3) end, "Tensor:unsqueeze", DIM)
bad("unsqueeze(-3) of a 1-D tensor", function() return actrun.zeros(3):unsqueeze(-3) end, "Tensor:unsqueeze", DIM)
bad("unsqueeze of an 8-D tensor", function()
  return actrun.zeros(1, 1, 1, 1, 1, 1, 1, 1):unsqueeze(1)
end, "Tensor:unsqueeze", {"8", "dim"})

bad("squeeze(0)", function() return m23():squeeze(0) end, "Tensor:squeeze", DIM)
bad("squeeze(3) of a 2-D tensor", function() return m23():squeeze(3) end, "Tensor:squeeze", DIM)
bad("squeeze(-3) of a 2-D tensor", function() return m23():squeeze(-3) end, "Tensor:squeeze", DIM)
bad("squeeze('x')", function() return m23():squeeze("x") end, "Tensor:squeeze", "argument #")

bad("expand of a non-1 dim", function() return m23():expand(4, 3) end, "Tensor:expand", "{2,3}")
bad("expand to fewer dims", function() return m23():expand(3) end, "Tensor:expand")
bad("expand with -1 on a new leading dim", function() return actrun.zeros(3):expand(-1, 3) end,
  "Tensor:expand")
bad("expand('x')", function() return m23():expand("x") end, "Tensor:expand", "argument #")

-------------------------------------------------------------------------------------
-- in place
-------------------------------------------------------------------------------------
bad("fill('x')", function() return m23():fill("x") end, "Tensor:fill", "argument #")
bad("fill(nil)", function() return m23():fill(nil) end, "Tensor:fill", "argument #")
bad("fill({})", function() return m23():fill({}) end, "Tensor:fill", "argument #")
bad("copy of a non-broadcastable shape", function() return m23():copy(actrun.zeros(4)) end,
  "Tensor:copy", "{4}", "{2,3}")
bad("copy of a source with more dims", function() return m23():copy(actrun.zeros(1, 2, 3)) end,
  "Tensor:copy")
bad("copy('x')", function() return m23():copy("x") end, "Tensor:copy", "argument #")
bad("copy(nil)", function() return m23():copy(nil) end, "Tensor:copy", "argument #")
-- Writing in place into an expanded view would write one element several times (PyTorch
-- refuses it too).
bad("fill of an expanded view", function() return actrun.zeros(1, 3):expand(2, 3):fill(1) end,
  "Tensor:fill", "expand")
bad("copy into an expanded view", function()
  return actrun.zeros(1, 3):expand(2, 3):copy(actrun.ones(2, 3))
end, "Tensor:copy", "expand")
bad("zero of an expanded view", function() return actrun.ones(1, 3):expand(2, 3):zero() end,
  "Tensor:zero", "expand")
test("a refused write into an expanded view leaves its base unchanged", function()
  local base = actrun.tensor{{1, 2, 3}}
  local e = base:expand(2, 3)
  pcall(e.fill, e, 9)
  pcall(e.copy, e, actrun.full({2, 3}, 9))
  tensor_near(base, {{1, 2, 3}}, 0)
end)

-------------------------------------------------------------------------------------
-- arithmetic, math, comparisons
-------------------------------------------------------------------------------------
for _, name in ipairs{"add", "sub", "mul", "div", "pow"} do
  bad(name .. "('x')", function() return m23()[name](m23(), "x") end, name, "argument #")
  bad(name .. "(nil)", function() return m23()[name](m23(), nil) end, name, "argument #")
  bad(name .. "({})", function() return m23()[name](m23(), {}) end, name, "argument #")
  bad(name .. "(true)", function() return m23()[name](m23(), true) end, name, "argument #")
  bad(name .. " of {2,3} and {4}", function() return m23()[name](m23(), actrun.zeros(4)) end,
    name, "{2,3}", "{4}")
  bad(name .. " of {2,3} and {3,2}", function() return m23()[name](m23(), actrun.zeros(3, 2)) end,
    name, "{2,3}", "{3,2}")
end

bad("t + 'x'", function() return m23() + "x" end, "add")
bad("'x' + t", function() return "x" + m23() end, "add")
bad("t - {}", function() return m23() - {} end, "sub")
bad("t * nil", function() return m23() * nil end, "mul")
bad("true / t", function() return true / m23() end, "div")
bad("t ^ 'x'", function() return m23() ^ "x" end, "pow")
bad("t + u of shapes {2,3} and {4}", function() return m23() + actrun.zeros(4) end,
  "actrun.add", "{2,3}", "{4}")
bad("t * u of shapes {2,3} and {2}", function() return m23() * actrun.zeros(2) end,
  "actrun.mul", "{2,3}", "{2}")

bad("clamp('a', 1)", function() return m23():clamp("a", 1) end, "Tensor:clamp", "argument #")
bad("clamp(0, 'b')", function() return m23():clamp(0, "b") end, "Tensor:clamp", "argument #")

for _, name in ipairs{"gt", "lt", "ge", "le", "eq"} do
  bad(name .. "('x')", function() return m23()[name](m23(), "x") end, name, "argument #")
  bad(name .. "(nil)", function() return m23()[name](m23(), nil) end, name, "argument #")
  bad(name .. " of {2,3} and {4}", function() return m23()[name](m23(), actrun.zeros(4)) end,
    name, "{2,3}", "{4}")
end

-------------------------------------------------------------------------------------
-- reductions
-------------------------------------------------------------------------------------
for _, name in ipairs{"sum", "mean", "var", "std", "max", "min", "argmax"} do
  local fname = "Tensor:" .. name
  bad(name .. "(0)", function() return m23()[name](m23(), 0) end, fname, DIM)
  bad(name .. "(3) of a 2-D tensor", function() return m23()[name](m23(), 3) end, fname, DIM)
  bad(name .. "(-3) of a 2-D tensor", function() return m23()[name](m23(), -3) end, fname, DIM)
  bad(name .. "(1.5)", function() return m23()[name](m23(), 1.5) end, fname, INTEGER)
  bad(name .. "('x')", function() return m23()[name](m23(), "x") end, fname, "argument #")
end
bad("norm('x')", function() return m23():norm("x") end, "Tensor:norm", "argument #")

-------------------------------------------------------------------------------------
-- where errors point, and how shapes print in them
-------------------------------------------------------------------------------------
local function line_here() return debug.getinfo(2, "l").currentline end

test("errors from module functions point at the calling line", function()
  local line
  local msg = expect_error(function() line = line_here(); return actrun.zeros(-3) end, "actrun.zeros")
  T.truthy(msg:find("test_bad_inputs.lua:" .. line .. ":", 1, true), "position in " .. msg)
end)

test("errors from methods point at the calling line", function()
  local t, line = m23(), nil
  local msg = expect_error(function() line = line_here(); return t:reshape(5) end, "Tensor:reshape")
  T.truthy(msg:find("test_bad_inputs.lua:" .. line .. ":", 1, true), "position in " .. msg)
end)

test("errors from operators point at the calling line", function()
  local t, line = m23(), nil
  local msg = expect_error(function() line = line_here(); return t + actrun.zeros(4) end, "add")
  T.truthy(msg:find("test_bad_inputs.lua:" .. line .. ":", 1, true), "position in " .. msg)
end)

test("errors from indexing point at the calling line", function()
  local t, line = actrun.zeros(3), nil
  local msg = expect_error(function() line = line_here(); return t[7] end, RANGE)
  T.truthy(msg:find("test_bad_inputs.lua:" .. line .. ":", 1, true), "position in " .. msg)
end)

test("shapes in messages print as {2,3} (no spaces)", function()
  local ok, msg = pcall(function() return m23() + actrun.zeros(4) end)
  eq(ok, false)
  T.truthy(tostring(msg):find("{2,3}", 1, true), "{2,3} in " .. tostring(msg))
end)

test("the example message of the API contract", function()
  expect_error(function() return actrun.matmul(actrun.zeros(2, 3), actrun.zeros(4, 5)) end,
    "actrun.matmul: ", "{2,3}", "{4,5}", "3", "4")
end)

-------------------------------------------------------------------------------------
-- state after errors
-------------------------------------------------------------------------------------
test("a failed copy leaves the destination unchanged", function()
  local t = m23()
  pcall(t.copy, t, actrun.range(1, 4) * 100)
  pcall(t.copy, t, "x")
  tensor_near(t, {{1, 2, 3}, {4, 5, 6}}, 0)
end)

test("failed set, fill and t[i] = v leave the tensor unchanged", function()
  local t = m23()
  pcall(t.set, t, 3, 1, 99)
  pcall(t.set, t, 1, 99)
  pcall(t.set, t, 1, 1, "x")
  pcall(t.fill, t, "x")
  pcall(function() t[1] = actrun.full({5}, 99) end)
  pcall(function() t[3] = 99 end)
  tensor_near(t, {{1, 2, 3}, {4, 5, 6}}, 0)
end)

test("failed view operations leave the tensor's shape and values unchanged", function()
  local t = m23()
  pcall(t.reshape, t, 4)
  pcall(t.view, t, -1, -1)
  pcall(t.expand, t, 4, 3)
  pcall(t.transpose, t, 1, 3)
  pcall(t.narrow, t, 2, 2, 5)
  pcall(t.squeeze, t, 3)
  eq(t:shape(), {2, 3})
  tensor_near(t, {{1, 2, 3}, {4, 5, 6}}, 0)
  tensor_near(t:t(), {{1, 4}, {2, 5}, {3, 6}}, 0)
end)

test("failed arithmetic and cat leave their operands unchanged", function()
  local a, b = m23(), actrun.tensor{7, 8, 9, 10}
  pcall(function() return a + b end)
  pcall(a.add, a, "x")
  pcall(actrun.cat, {a, b}, 1)
  pcall(actrun.matmul, a, b)
  tensor_near(a, {{1, 2, 3}, {4, 5, 6}}, 0)
  tensor_near(b, {7, 8, 9, 10}, 0)
end)

test("after a failed huge allocation, new tensors work", function()
  pcall(actrun.zeros, 2 ^ 40)
  pcall(actrun.ones, 2 ^ 40, 2 ^ 40)
  local t = actrun.full({1000}, 3)
  eq(t:sum():item(), 3000.0)
  eq(actrun.range(1, 10):sum():item(), 55.0)
end)

test("many failing calls neither leak memory nor break the interpreter", function()
  local a, b = actrun.zeros(256, 1024), actrun.zeros(1000) -- 1 MB and a mismatch
  collectgarbage("collect")
  local _, rss0 = T.memory_mb()
  for _ = 1, 3000 do
    pcall(function() return a + b end)
    pcall(actrun.cat, {a, b}, 1)
    pcall(actrun.matmul, a, b)
    pcall(a.reshape, a, 3)
    pcall(actrun.tensor, {{1, 2}, {3}})
    pcall(actrun.zeros, -1)
  end
  collectgarbage("collect")
  local _, rss1 = T.memory_mb()
  if rss0 and rss1 then
    T.truthy(rss1 - rss0 < 100, string.format("RSS grew from %.0f to %.0f MB", rss0, rss1))
  end
  eq((a + 1):sum():item(), 256.0 * 1024)
end)

T.done()
