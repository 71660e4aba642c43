-- Loading: the preloaded global in the actrun command, require "actrun", and the C module
-- from a stock Lua 5.4 interpreter.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local T = require "testlib"
local actrun = T.actrun
local test, eq = T.test, T.eq

local interpreter = T.interpreter

test("the script sees arg as in lua (arg[0] is the script)", function()
  T.truthy(arg[0]:match("test_loading%.lua$"), "arg[0] = " .. tostring(arg[0]))
  T.truthy(interpreter(), "the interpreter is at a negative index")
end)

test("require 'actrun' returns the module; in the actrun command it is the global", function()
  local m = require "actrun"
  eq(type(m), "table")
  eq(type(m.tensor), "function")
  if rawget(_G, "actrun") ~= nil then
    T.truthy(rawequal(m, rawget(_G, "actrun")), "require gives the preloaded global")
  end
end)

test("requiring twice gives the same table (one context per interpreter)", function()
  T.truthy(rawequal(require "actrun", require "actrun"), "same table")
end)

test("a stock Lua 5.4 loads the C module next to the command's build", function()
  local ok, out = T.stock_lua("local a = require 'actrun'; io.write(a.zeros(2, 3):numel(), ' ', " ..
    "tostring((a.ones(2) + 1):sum():item()), ' ', type(a.version))")
  T.truthy(ok, "lua5.4 failed: " .. out)
  eq(out, "6 4.0 string")
end)

T.done()
