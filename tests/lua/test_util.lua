-- actrun.util: the argument checks every module shares, so that their messages read
-- alike and point at the user's line.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local T = require "testlib"
local actrun = T.actrun
local test, eq, truthy, expect_error = T.test, T.eq, T.truthy, T.expect_error
local util = require "actrun.util"

-- A public function as the modules write one: it calls check_opts directly (level 3),
-- not as a tail call (which would drop its frame).
local function public(opts)
  opts = util.check_opts("actrun.x.f", opts, 2, {beta = true, alpha = true, _hook = true}, 3)
  return opts
end

test("check_opts: nil is {}, a table of known keys is itself", function()
  eq(next(public(nil)), nil)
  local o = {alpha = 1, _hook = true}
  truthy(public(o) == o)
end)

test("check_opts: a non-table names the function, the argument and the type", function()
  expect_error(function() public(5) end,
    "actrun.x.f: argument #2 (options) expected a table, got number")
  expect_error(function() public(actrun.zeros(1)) end, "(options) expected a table, got a tensor")
  expect_error(function() util.check_opts("actrun.x.g", "s", 1, {}, 2, "spec") end,
    "actrun.x.g: argument #1 (spec) expected a table, got string")
end)

test("check_opts: an unknown key lists the known ones, sorted, without test hooks", function()
  expect_error(function() public({alhpa = 1}) end,
    "actrun.x.f: argument #2 (options) has unknown option 'alhpa' (options: alpha, beta)")
end)

test("check_opts: the message points at the public function's caller", function()
  local ok, msg = pcall(function() public({gamma = 1}) end)
  truthy(not ok)
  truthy(msg:find("^[^:]*test_util%.lua:%d+: actrun%.x%.f: ") ~= nil, msg)
end)

test("shape_str, typename, got", function()
  eq(util.shape_str(actrun.zeros(2, 3)), "{2,3}")
  eq(util.shape_str(actrun.zeros(4)), "{4}")
  eq(util.typename(actrun.zeros(1)), "a tensor")
  eq(util.typename({}), "table")
  eq(util.typename(nil), "nil")
  eq(util.got(-1), "-1")
  eq(util.got(0.5), "0.5")
  eq(util.got(0 / 0), "nan")
  eq(util.got("x"), "string")
  eq(util.got(actrun.zeros(1)), "a tensor")
end)

T.done()
