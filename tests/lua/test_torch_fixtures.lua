-- Every case of tests/fixtures/core_ops.lua (PyTorch's results, see gen_core_ops.py there)
-- evaluated with actrun: shapes and indices exactly, values to 1e-6 (relative and
-- absolute), NaN where PyTorch has NaN, infinities of the same sign.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local T = require "testlib"
local actrun = T.actrun

local here = arg[0]:match("^(.*)/") or "."
local cases = dofile(here .. "/../fixtures/core_ops.lua")

local TOL = 1e-6
-- Ops whose results are input elements or exact small integers: compared exactly.
local EXACT = {}
for op in ([[argmax gt lt ge le eq transpose t narrow select expand unsqueeze squeeze
             flatten reshape view contiguous clone cat stack max min abs neg sign floor
             ceil round clamp]]):gmatch("%S+") do EXACT[op] = true end

local function build(spec)
  if type(spec) == "number" then return spec end
  local t
  if spec.data then
    t = actrun.tensor(spec.data):reshape(spec.shape)
  else
    t = actrun.range(spec.range[1], spec.range[2]) * spec.scale
    if spec.offset then t = t + spec.offset end
    t = t:reshape(spec.shape)
  end
  if spec.narrow then t = t:narrow(spec.narrow[1], spec.narrow[2], spec.narrow[3]) end
  if spec.transpose then t = t:transpose(spec.transpose[1], spec.transpose[2]) end
  return t
end

local operators = {
  add = function(a, b) return a + b end,
  sub = function(a, b) return a - b end,
  mul = function(a, b) return a * b end,
  div = function(a, b) return a / b end,
  pow = function(a, b) return a ^ b end,
  neg = function(a) return -a end,
}

local function run(c)
  local inputs = {}
  for i, spec in ipairs(c.inputs) do inputs[i] = build(spec) end
  local args = c.args or {}
  if c.form == "operator" then
    return operators[c.op](inputs[1], inputs[2])
  elseif c.form == "function" then
    local all = {table.unpack(inputs)}
    for _, a in ipairs(args) do all[#all + 1] = a end
    return actrun[c.op](table.unpack(all))
  elseif c.form == "list" then
    return actrun[c.op](inputs, table.unpack(args))
  else -- method
    local self = inputs[1]
    local rest = {table.unpack(inputs, 2)}
    for _, a in ipairs(args) do rest[#rest + 1] = a end
    local method = self[c.op]
    if type(method) ~= "function" then error("no method " .. c.op) end
    return method(self, table.unpack(rest))
  end
end

-- The float32 value a fixture number stands for (the file holds 9 significant digits).
local function f32(x) return (string.unpack("f", string.pack("f", x))) end

-- Compares with the expected {shape=, data=}; exact (in float32) when tol is 0.
local function check(what, got, expected, tol)
  if not actrun.is_tensor(got) then
    error(what .. ": expected a tensor, got " .. T.fmt(got), 2)
  end
  T.eq(got:shape(), expected.shape, what .. " shape")
  local values = got:flatten():totable()
  local want = expected.data
  if #values ~= #want then
    error(string.format("%s: %d values, expected %d", what, #values, #want), 2)
  end
  local bad = {}
  for i = 1, #want do
    local g, w = values[i], want[i]
    local ok
    if tol == 0 then ok = (g == f32(w)) or (g ~= g and w ~= w) else ok = T.close(g, w, tol) end
    if not ok and #bad < 5 then
      bad[#bad + 1] = string.format("[%d] got %s, expected %s", i, T.fmt(g), T.fmt(w))
    end
  end
  if #bad > 0 then error(what .. ": " .. table.concat(bad, "; "), 2) end
end

local seen = {}
for _, c in ipairs(cases) do
  local name = c.name
  if seen[name] then name = name .. " #" .. seen[name] end
  seen[c.name] = (seen[c.name] or 1) + 1
  T.test("torch: " .. name, function()
    local r1, r2 = run(c)
    check("values", r1, c.expected, c.tol or (EXACT[c.op] and 0) or TOL)
    if c.indices then check("indices", r2, c.indices, 0) end
  end)
end

T.test("the fixture file holds cases for every op it covers", function()
  local ops = {}
  for _, c in ipairs(cases) do ops[c.op] = true end
  for _, op in ipairs{"add", "sub", "mul", "div", "pow", "neg", "exp", "log", "sqrt", "abs",
                      "sin", "cos", "tanh", "sigmoid", "clamp", "sign", "floor", "ceil",
                      "round", "sum", "mean", "var", "std", "norm", "max", "min", "argmax",
                      "gt", "lt", "ge", "le", "eq", "matmul", "cat", "stack", "transpose",
                      "narrow", "select", "expand", "t", "unsqueeze", "squeeze", "flatten",
                      "reshape", "view", "contiguous", "clone"} do
    T.truthy(ops[op], "cases for " .. op)
  end
  T.truthy(#cases > 400, #cases .. " cases")
end)

T.done()
