-- testlib's own failure messages: a failing comparison of big values says where and how
-- they differ in a few hundred characters, never the whole values.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local T = require "testlib"
local actrun = T.actrun
local test, eq, truthy = T.test, T.eq, T.truthy

-- The message a failing check raises (checks fail through error(); pcall keeps the run
-- going), without its "file:line: " prefix.
local function failure(fn, ...)
  local ok, msg = pcall(fn, ...)
  truthy(not ok, "the check should have failed")
  truthy(type(msg) == "string", "a string message")
  return (msg:gsub("^[^:]*:%d+: ", ""))
end

-- A {4, 50, 30} table of float32 values and a copy with three elements changed.
local function pair()
  actrun.manual_seed(1)
  local t = actrun.randn(4, 50, 30)
  local a, b = t:totable(), t:totable()
  b[3][17][5] = a[3][17][5] + 0.5
  b[4][1][2] = 0.25
  b[4][50][30] = -a[4][50][30]
  return a, b, t
end

test("eq on nested tables: shape, count, first differing path and both values", function()
  local a, b = pair()
  local msg = failure(eq, b, a, "y")
  eq(msg, string.format("y: shape {4,50,30}; 3 elements differ; first at [3][17][5]: " ..
    "expected %.9g, got %.9g", a[3][17][5], b[3][17][5]))
end)

test("eq: one difference, missing elements and named keys", function()
  eq(failure(eq, {1, 2, 3}, {1, 2, 4}), "shape {3}; 1 element differs; first at [3]: expected 4, got 3")
  eq(failure(eq, {1, 2, 3}, {1, 2}, "len"),
    "len: shape {2} expected, got {3}; 1 element differs; first at [3]: expected nothing, got 3")
  eq(failure(eq, {a = 1, b = {c = 2.5}}, {a = 1, b = {c = 3.5}}),
    "1 element differs; first at .b.c: expected 3.5, got 2.5")
end)

test("eq on long strings and tensors: values cut to a few hundred characters", function()
  local msg = failure(eq, "x", string.rep("y", 100000))
  truthy(#msg < 400, "message of " .. #msg .. " characters")
  truthy(msg:find("...(cut)", 1, true), "the cut is marked: " .. msg)
  msg = failure(eq, actrun.zeros(300, 300), 1)
  truthy(#msg < 400, "message of " .. #msg .. " characters")
end)

test("near on numbers and tables", function()
  eq(failure(T.near, 1.5, 1.25, 1e-3, "v"), "v: expected 1.25 (tol 0.001), got 1.5")
  local a, b = pair()
  eq(failure(T.near, b, a, 1e-3), string.format("shape {4,50,30}; 3 elements differ; " ..
    "first at [3][17][5]: expected %.9g (tol 0.001), got %.9g", a[3][17][5], b[3][17][5]))
end)

test("tensor_near: shape, count, first differing index and both values", function()
  local a, b = pair()
  local msg = failure(T.tensor_near, actrun.tensor(b), a, 1e-6, "t")
  eq(msg, string.format("t: shape {4,50,30}; 3 elements differ; first at [3][17][5]: " ..
    "expected %.9g (tol 1e-06), got %.9g", a[3][17][5], b[3][17][5]))
  eq(failure(T.tensor_near, actrun.zeros(2, 3), a), "expected shape {4,50,30}, got {2,3}")
end)

test("index_path turns a flat row-major index into a 1-based path", function()
  eq(T.index_path(1, {4, 50, 30}), "[1][1][1]")
  eq(T.index_path((3 - 1) * 1500 + (17 - 1) * 30 + 5, {4, 50, 30}), "[3][17][5]")
  eq(T.index_path(6000, {4, 50, 30}), "[4][50][30]")
end)

test("expect_error and truthy cut long values too", function()
  local msg = failure(T.expect_error, function() error(string.rep("z", 5000)) end, "needle")
  truthy(#msg < 400, "message of " .. #msg .. " characters")
  msg = failure(truthy, nil, "value")
  eq(msg, "value, got nil")
end)

T.done()
