-- scripts/linear_collapse.lua (claim 1): the identity net is one linear map and cannot fit
-- XOR; tanh and relu nets fit it.
local dir = arg[0]:match("^(.*)/") or "."
package.path = dir .. "/?.lua;" .. dir .. "/../lua/?.lua;" .. package.path
local T = require "testlib"
local R = require "script_runner"

local test = T.test
test("--quick: collapse to one map, identity <= 75%, tanh and relu 100%", function()
  local r = R.run("scripts/linear_collapse.lua", {"--quick", "--seed", "1"})
  T.truthy(r.collapse_error < 1e-4, "collapse error " .. r.collapse_error)
  T.truthy(r.accuracy.identity <= 0.75, "identity accuracy " .. r.accuracy.identity)
  T.truthy(r.accuracy.logistic <= 0.75, "logistic regression accuracy " .. r.accuracy.logistic)
  T.eq(r.accuracy.tanh, 1, "tanh accuracy")
  T.eq(r.accuracy.relu, 1, "relu accuracy")
  T.truthy(r.loss.relu < 0.1 and r.loss.identity > 0.6, "losses")
end)

test("--quick: the verdict over 3 seeds is SUPPORTED, with its numbers", function()
  local r, out = R.run("scripts/linear_collapse.lua", {"--quick", "--seed", "1"})
  T.eq(r.seeds.n, 3)
  T.eq(r.seeds.ok, 3)
  T.truthy(r.seeds.collapse_rel < 1e-4, "collapse " .. r.seeds.collapse_rel)
  T.truthy(r.seeds.identity_max <= 0.75, "identity " .. r.seeds.identity_max)
  T.eq(r.verdict, "SUPPORTED")
  T.truthy(out:find("\nverdict: SUPPORTED\n3 seeds: max |net %- folded map| [%d.e+-]+ of the output scale; " ..
    "XOR accuracy identity <= [%d.]+%%, tanh >= 100.0%%, relu >= 100.0%%"), out)
end)

test("command line: --help, a bad --n", function()
  R.check_command_line(T, "scripts/linear_collapse.lua", {"--n", "6"}, "multiple of 4")
end)

T.done()
