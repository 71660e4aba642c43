-- scripts/properties.lua (claim 6): the nine properties measured; the note's statements
-- checked against them.
local dir = arg[0]:match("^(.*)/") or "."
package.path = dir .. "/?.lua;" .. dir .. "/../lua/?.lua;" .. package.path
local T = require "testlib"
local R = require "script_runner"
local A = T.actrun

local function verdict_of(out)
  return out:match("\nverdict: ([%u ]+)\n([^\n]+)$")
end

local test = T.test
test("--quick --no-cost: every statement agrees; the verdict ends the output", function()
  local r, out = R.run("scripts/properties.lua", {"--quick", "--no-cost"})
  T.truthy(#r.rows >= 20, "rows " .. #r.rows)
  T.truthy(out:find("9 self%-normalising +selu\n"), "the summary line of property 9")
  local status, reason = verdict_of(out)
  T.eq(status, "SUPPORTED", "verdict:\n" .. out)
  T.eq(r.verdict, status)
  T.eq(#r.disagree, 0, "no disagreement")
  T.eq(r.checked, r.agree)
  T.truthy(reason:find(("%d of %d statements"):format(r.agree, r.checked), 1, true), reason)
  T.truthy(reason:find("cost not checked", 1, true), "the cost is left out: " .. reason)
end)

test("--names: statements about absent activations are not checked", function()
  local r, out = R.run("scripts/properties.lua", {"--quick", "--no-cost", "--names", "relu,tanh"})
  T.eq(#r.rows, 2)
  T.eq(verdict_of(out), "SUPPORTED")
  T.truthy(r.checked >= 3 and r.checked < 10, "checked " .. r.checked)
end)

test("a second self-normalising activation is a disagreement (MIXED)", function()
  -- SELU under another name: the measurements say it self-normalises too
  A.act.define("selu_copy", function(x) return A.act.selu(x) end)
  local r, out = R.run("scripts/properties.lua", {"--quick", "--no-cost", "--names", "selu,selu_copy,relu,tanh"})
  local status, reason = verdict_of(out)
  T.eq(status, "MIXED", "verdict:\n" .. out)
  T.eq(#r.disagree, 1)
  T.truthy(reason:find("selu alone is self-normalising", 1, true), reason)
end)

T.done()
