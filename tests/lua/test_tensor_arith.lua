-- Arithmetic: + - * / ^ and unary -, the methods add sub mul div pow, broadcasting.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local T = require "testlib"
local actrun = T.actrun
local test, eq, tensor_near = T.test, T.eq, T.tensor_near

local function a23() return actrun.tensor{{1, 2, 3}, {4, 5, 6}} end
local function b23() return actrun.tensor{{2, 2, 2}, {-1, 0.5, 4}} end

test("tensor + tensor, - , *, / elementwise", function()
  tensor_near(a23() + b23(), {{3, 4, 5}, {3, 5.5, 10}}, 0)
  tensor_near(a23() - b23(), {{-1, 0, 1}, {5, 4.5, 2}}, 0)
  tensor_near(a23() * b23(), {{2, 4, 6}, {-4, 2.5, 24}}, 0)
  tensor_near(a23() / b23(), {{0.5, 1, 1.5}, {-4, 10, 1.5}}, 1e-7)
end)

test("tensor ^ tensor", function()
  tensor_near(a23() ^ b23(), {{1, 4, 9}, {0.25, math.sqrt(5), 1296}}, 1e-6)
end)

test("tensor op number", function()
  tensor_near(a23() + 1, {{2, 3, 4}, {5, 6, 7}}, 0)
  tensor_near(a23() - 1.5, {{-0.5, 0.5, 1.5}, {2.5, 3.5, 4.5}}, 0)
  tensor_near(a23() * -2, {{-2, -4, -6}, {-8, -10, -12}}, 0)
  tensor_near(a23() / 4, {{0.25, 0.5, 0.75}, {1, 1.25, 1.5}}, 0)
  tensor_near(a23() ^ 2, {{1, 4, 9}, {16, 25, 36}}, 1e-7)
end)

test("number op tensor keeps the operand order", function()
  tensor_near(10 + a23(), {{11, 12, 13}, {14, 15, 16}}, 0)
  tensor_near(10 - a23(), {{9, 8, 7}, {6, 5, 4}}, 0)
  tensor_near(3 * a23(), {{3, 6, 9}, {12, 15, 18}}, 0)
  tensor_near(12 / a23(), {{12, 6, 4}, {3, 2.4, 2}}, 1e-7)
  tensor_near(2 ^ a23(), {{2, 4, 8}, {16, 32, 64}}, 1e-7)
end)

test("integer and float Lua numbers both work as scalars", function()
  tensor_near(actrun.tensor{1.5} + 2, {3.5}, 0)
  tensor_near(actrun.tensor{1.5} + 2.0, {3.5}, 0)
  tensor_near(3 * actrun.tensor{0.5}, {1.5}, 0)
end)

test("unary minus", function()
  tensor_near(-a23(), {{-1, -2, -3}, {-4, -5, -6}}, 0)
  tensor_near(-(-a23()), {{1, 2, 3}, {4, 5, 6}}, 0)
end)

test("methods add sub mul div pow take a tensor or a number", function()
  local a, b = a23(), b23()
  tensor_near(a:add(b), {{3, 4, 5}, {3, 5.5, 10}}, 0)
  tensor_near(a:sub(b), {{-1, 0, 1}, {5, 4.5, 2}}, 0)
  tensor_near(a:mul(b), {{2, 4, 6}, {-4, 2.5, 24}}, 0)
  tensor_near(a:div(b), {{0.5, 1, 1.5}, {-4, 10, 1.5}}, 1e-7)
  tensor_near(a:pow(b), {{1, 4, 9}, {0.25, math.sqrt(5), 1296}}, 1e-6)
  tensor_near(a:add(1), {{2, 3, 4}, {5, 6, 7}}, 0)
  tensor_near(a:sub(1), {{0, 1, 2}, {3, 4, 5}}, 0)
  tensor_near(a:mul(0.5), {{0.5, 1, 1.5}, {2, 2.5, 3}}, 0)
  tensor_near(a:div(2), {{0.5, 1, 1.5}, {2, 2.5, 3}}, 0)
  tensor_near(a:pow(0.5), {{1, math.sqrt(2), math.sqrt(3)}, {2, math.sqrt(5), math.sqrt(6)}}, 1e-6)
end)

test("operands are left unchanged and the result is new storage", function()
  local a, b = a23(), b23()
  local c = a + b
  c:fill(0)
  tensor_near(a, {{1, 2, 3}, {4, 5, 6}}, 0)
  tensor_near(b, {{2, 2, 2}, {-1, 0.5, 4}}, 0)
  local d = a * 1
  d:set(1, 1, 99)
  eq(a:get(1, 1), 1.0)
end)

test("broadcast a row {3} over {2,3}, in both orders", function()
  local r = actrun.tensor{10, 20, 30}
  tensor_near(a23() + r, {{11, 22, 33}, {14, 25, 36}}, 0)
  tensor_near(r - a23(), {{9, 18, 27}, {6, 15, 24}}, 0)
end)

test("broadcast a column {2,1} against a row {1,3} gives {2,3}", function()
  local col = actrun.tensor{{1}, {2}}
  local row = actrun.tensor{{10, 20, 30}}
  tensor_near(col * row, {{10, 20, 30}, {20, 40, 60}}, 0)
  tensor_near(row - col, {{9, 19, 29}, {8, 18, 28}}, 0)
end)

test("broadcast across ranks: {3,1,2} * {2} and {2,1,1} + {1,3,1}", function()
  local x = actrun.range(1, 6):reshape(3, 1, 2)
  local y = actrun.tensor{1, -1}
  tensor_near(x * y, {{{1, -2}}, {{3, -4}}, {{5, -6}}}, 0)
  local p = actrun.tensor{{{100}}, {{200}}}
  local q = actrun.tensor{{{1}, {2}, {3}}}
  local s = p + q
  eq(s:shape(), {2, 3, 1})
  tensor_near(s, {{{101}, {102}, {103}}, {{201}, {202}, {203}}}, 0)
end)

test("a shape-{1} tensor broadcasts like a scalar", function()
  tensor_near(a23() * actrun.tensor(2), {{2, 4, 6}, {8, 10, 12}}, 0)
  tensor_near(actrun.tensor(2) - a23(), {{1, 0, -1}, {-2, -3, -4}}, 0)
end)

test("arithmetic on non-contiguous views", function()
  local a = a23()
  local at = a:t() -- {3,2}
  tensor_near(at + actrun.tensor{{1, 1}, {2, 2}, {3, 3}}, {{2, 5}, {4, 7}, {6, 9}}, 0)
  tensor_near(at * at, {{1, 16}, {4, 25}, {9, 36}}, 0)
  local ex = actrun.tensor{{1, 2}}:expand(3, 2)
  tensor_near(at - ex, {{0, 2}, {1, 3}, {2, 4}}, 0)
end)

test("division by zero gives inf and 0/0 gives NaN", function()
  local r = (actrun.tensor{1, -1, 0} / 0):totable()
  eq(r[1], math.huge)
  eq(r[2], -math.huge)
  T.truthy(r[3] ~= r[3], "0/0 is NaN")
end)

test("pow edge cases: x^0 = 1, negative base with fractional exponent is NaN", function()
  tensor_near(actrun.tensor{0, -3, 5} ^ 0, {1, 1, 1}, 0)
  local r = (actrun.tensor{-8} ^ (1 / 3)):item()
  T.truthy(r ~= r, "(-8)^(1/3) is NaN")
  tensor_near(actrun.tensor{-2} ^ 3, {-8}, 0)
end)

test("operators on empty tensors give empty tensors", function()
  eq((actrun.zeros(0) + 1):shape(), {0})
  eq((actrun.zeros(0, 3) * actrun.ones(3)):shape(), {0, 3})
end)

test("large elementwise ops (the multi-threaded path) are correct at every position", function()
  local n = 300001
  local x = actrun.range(1, n)
  local y = x * 2 + x
  eq(y:numel(), n)
  for _, i in ipairs{1, 2, 65536, 65537, 150000, 299999, n} do
    eq(y:get(i), 3.0 * i, "element " .. i)
  end
  T.near(y:sum():item(), 3 * n * (n + 1) / 2, 1e-6)
end)

test("large strided ops (transposed, narrowed, broadcast) match contiguous copies", function()
  local x = actrun.range(1, 600 * 700):reshape(600, 700) * 0.5
  local views = {
    transposed = x:t(),                            -- {700,600}
    narrowed = x:narrow(2, 51, 600):narrow(1, 2, 500), -- {500,600} with an offset
  }
  for name, v in pairs(views) do
    local c = v:contiguous()
    local n = c:numel() + 0.0
    local row = actrun.range(1, c:size(2))
    eq((v + 1):eq(c + 1):sum():item(), n, name .. " + 1")
    eq((v * v):eq(c * c):sum():item(), n, name .. " * itself")
    eq((v - row):eq(c - row:expand(c:size(1), c:size(2)):contiguous()):sum():item(), n,
      name .. " - row")
    -- transcendental kernels may differ by an ulp between the strided and flat paths
    T.truthy((v:sin() - c:sin()):abs():max():item() <= 2.5e-7, name .. " sin")
    eq(v:gt(1000):eq(c:gt(1000)):sum():item(), n, name .. " gt")
  end
end)

-- Above 2^22 elements the memory-bound ops write through a buffer with non-temporal
-- stores (src/core/elementwise.c): the same values as on small pieces, at the start,
-- across piece boundaries and in the tail, at 1 and 2 threads.
test("large results (streamed stores) equal the same ops on small pieces", function()
  local n = (1 << 22) + 1000 + 37
  actrun.manual_seed(11)
  local a, b = actrun.randn(n), actrun.randn(n)
  local starts = {1, 1020, 1024 * 97 + 5, n - 1036}
  local ops = {
    {"a + b", function(x, y) return x + y end},
    {"a - b", function(x, y) return x - y end},
    {"a * b", function(x, y) return x * y end},
    {"a / b", function(x, y) return x / y end},
    {"a * 2", function(x) return x * 2 end},
    {"3 - a", function(x) return 3 - x end},
    {"clamp", function(x) return x:clamp(-0.5, 0.5) end},
  }
  for _, threads in ipairs{1, 2} do
    actrun.set_num_threads(threads)
    for _, op in ipairs(ops) do
      local big = op[2](a, b)
      for _, s in ipairs(starts) do
        local want = op[2](a:narrow(1, s, 1036), b:narrow(1, s, 1036))
        eq(big:narrow(1, s, 1036):totable(), want:totable(), op[1] .. " at " .. s .. ", threads " .. threads)
      end
    end
  end
  actrun.set_num_threads(1)
end)

T.done()
