-- actrun.repl: what a line typed in the REPL means (top-level locals outlive it) and how
-- results look (tables pretty-printed, values already displayed left out). The REPL
-- itself, on a terminal, is tests/cli/repl_pty.c.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local T = require "testlib"
local repl = require "actrun.repl"
local util = require "actrun.util"
local test, eq, truthy = T.test, T.eq, T.truthy

test("top-level locals become assignments", function()
  eq(repl.rewrite("local act = actrun.act"), "act = actrun.act")
  eq(repl.rewrite("local a, b = 1, 2"), "a, b = 1, 2")
  eq(repl.rewrite("local x"), "x = nil")
  eq(repl.rewrite("local x, y"), "x, y = nil")
  eq(repl.rewrite("local function f(n) return n end"), "function f(n) return n end")
  eq(repl.rewrite("local n <const> = 3"), "n = 3")
  eq(repl.rewrite("local a = 1 local b = 2"), "a = 1 b = 2")
  eq(repl.rewrite("local a = 1; local b = a + 1"), "a = 1; b = a + 1")
  eq(repl.rewrite("local t = {1, 2}\nlocal u"), "t = {1, 2}\nu = nil")
end)

test("what stays local", function()
  local same = {
    "local h <close> = setmetatable({}, {__close = print})", -- closed at the line's end
    "for i = 1, 3 do local q = i end",
    "if x then local y = 1 elseif z then local w = 2 else local v = 3 end",
    "local_var = 1",
    "s = 'local x = 1'",
    's = "local x = 1"',
    "s = [[local x = 1]] -- local y = 2",
    "--[==[ local x = 1 ]==] y = 2",
    "while false do local a = 1 end",
    "repeat local a = 1 until a",
    "do local k = 1 end",
  }
  for _, src in ipairs(same) do eq(repl.rewrite(src), src, src) end
  eq(repl.rewrite("local f = function() local z = 1 return z end"),
    "f = function() local z = 1 return z end")
  -- an unfinished chunk (more lines follow) is rewritten as far as it goes
  eq(repl.rewrite("local g = function()"), "g = function()")
  -- the result runs and leaves the names behind
  assert(load(repl.rewrite("local rp_a, rp_b <const> = 20, 22")))()
  eq(rawget(_G, "rp_a") + rawget(_G, "rp_b"), 42)
  rp_a, rp_b = nil, nil
end)

test("tables are pretty-printed", function()
  eq(repl.format({1, 2, 3}), "{1, 2, 3}")
  eq(repl.format(actrun.zeros(3, 4):shape()), "{3, 4}")
  eq(repl.format({}), "{}")
  eq(repl.format({a = 1, b = {c = "s\n"}, 1, [10] = true}), '{1, [10] = true, a = 1, b = {c = "s\\n"}}')
  eq(repl.format({["not ident"] = 1, ["end"] = 2}), '{["end"] = 2, ["not ident"] = 1}')
  eq(repl.format({{{{{{1}}}}}}), "{{{{{...}}}}}", "depth limit")
  local long = {}
  for i = 1, 120 do long[i] = i end
  truthy(repl.format(long):find("... (70 more)", 1, true), "length limit")
  local nest = {}
  for i = 1, 20 do
    nest[i] = {}
    for j = 1, 20 do nest[i][j] = j end
  end
  local shown = repl.format(nest, {total = 100})
  truthy(shown:find("{...}", 1, true) and select(2, shown:gsub("%d+", "")) <= 130, "a total limit")
  local cyc = {}
  cyc.self = cyc
  eq(repl.format(cyc), "{self = <cycle>}")
  local wide = {}
  for i = 1, 30 do wide["key" .. i] = i end
  local text = repl.format(wide)
  truthy(text:find("^{\n  key1 = 1,\n"), "a long table goes on several lines")
  eq(repl.format("a string"), "a string", "strings unquoted at the top")
  eq(repl.format(setmetatable({}, {__tostring = function() return "self-shown" end})), "self-shown")
  truthy(repl.format({actrun.zeros(2, 3)}):find("{<tensor {2, 3}>}", 1, true), "a tensor inside")
  eq(repl.format(nil), "nil")
end)

test("results leave out what was displayed", function()
  util.displayed_clear()
  local t = {}
  util.displayed("drawn", t)
  eq(repl.results("drawn", t, {1}, nil), {"{1}", "nil"})
  repl.begin()
  eq(repl.results("drawn", t), {"drawn", "{}"})
  -- only the last 16 values are kept
  for i = 1, 40 do util.displayed({}) end
  eq(#util.displayed_list(), 16)
  repl.begin()
end)

T.done()
