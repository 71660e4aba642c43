-- scripts/pau_vs_fixed.lua: PAU against the best fixed activations, paired over seeds.
local dir = arg[0]:match("^(.*)/") or "."
package.path = dir .. "/?.lua;" .. dir .. "/../lua/?.lua;" .. package.path
local T = require "testlib"
local R = require "script_runner"

T.test("--quick at a small size: five activations, paired rows, a verdict", function()
  local r, out = R.run("scripts/pau_vs_fixed.lua",
    {"--quick", "--limit", "300", "--epochs", "1", "--seeds", "2", "--width", "16"})
  T.eq(#r.summary, 5, "activations ranked")
  T.eq(#r.rows, 10, "one row per activation and seed")
  T.truthy(r.pau and r.pau.mean > 0.2, "PAU trained")
  T.truthy(r.best_fixed.activation ~= "pau", "the best fixed activation")
  T.eq(r.paired.n or 2, 2)
  local status = out:match("\nverdict: ([%u ]+)\n")
  T.truthy(status == r.verdict, "verdict line:\n" .. out)
end)

T.done()
