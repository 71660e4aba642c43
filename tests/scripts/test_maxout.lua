-- scripts/maxout.lua (claim 4): Maxout(k=2) with a zero piece is ReLU; k times the
-- parameters; accuracy against a parameter-matched ReLU MLP over seeds.
local dir = arg[0]:match("^(.*)/") or "."
package.path = dir .. "/?.lua;" .. dir .. "/../lua/?.lua;" .. package.path
local T = require "testlib"
local R = require "script_runner"
local H = require "helpers"

local test = T.test
test("--quick: exact ReLU, parameter ratio k, matched widths, dead units, the verdict", function()
  local r, out = R.run("scripts/maxout.lua", {"--quick", "--seed", "1"})
  T.eq(r.relu_diff, 0, "max |maxout - relu| over the seeds")
  for _, k in ipairs{2, 3, 4} do T.eq(r.ratio[k], k, "parameter ratio at k=" .. k) end
  local sp = r.spirals
  T.eq(#sp.rows, 3, "rows")
  -- widths 32: ReLU 3w + w^2 + w + 3w + 3; Maxout doubles the hidden layers
  local w = 32
  T.eq(sp.runs.relu.params, 3 * w + w * w + w + 3 * w + 3, "ReLU parameters")
  T.eq(sp.runs.maxout.params, 2 * (3 * w + w * w + w) + 3 * w + 3, "Maxout parameters")
  local m = sp.matched_width
  T.eq(sp.runs.relu_matched.params, 3 * m + m * m + m + 3 * m + 3, "matched ReLU parameters")
  T.truthy(math.abs(sp.runs.relu_matched.params - sp.runs.maxout.params) < 2 * m + 10,
    ("matched: %d vs %d"):format(sp.runs.relu_matched.params, sp.runs.maxout.params))
  for _, k in ipairs{"relu", "relu_matched", "maxout"} do
    T.eq(#sp.runs[k].test, 3, k .. ": one accuracy per seed")
    T.truthy(sp.runs[k].test_d.mean > 0.6, k .. " test accuracy " .. sp.runs[k].test_d.mean)
  end
  -- a Maxout unit cannot die; at lr 0.01 some ReLU units do
  for _, d in ipairs(sp.runs.maxout.dead) do T.eq(d, 0, "dead Maxout units") end
  T.truthy(sp.runs.relu.dead_d.mean > 0, "dead ReLU units")
  T.eq(sp.vs_matched.n, 3, "paired over 3 seeds")
  local status, reason = out:match("\nverdict: ([%u ]+)\n([^\n]+)$")
  T.truthy(status == "SUPPORTED" or status == "MIXED", "verdict line:\n" .. out)
  T.eq(r.verdict, status)
  -- the accuracy difference is within the seed noise at this size: SUPPORTED
  T.eq(status, "SUPPORTED")
  T.truthy(reason:find("ReLU exactly", 1, true) and reason:find("95% CI", 1, true), reason)
end)

test("one seed: the identity still decided, accuracy not compared (MIXED)", function()
  local r = R.run("scripts/maxout.lua", {"--quick", "--seeds", "1", "--epochs", "2"})
  T.eq(r.relu_diff, 0)
  T.eq(r.verdict, "MIXED")
end)

test("--plot: a mean loss curve per model", function()
  local _, specs = H.with_fake_plot(function()
    return R.run("scripts/maxout.lua", {"--quick", "--seeds", "2", "--epochs", "3", "--plot", "mo.svg"})
  end)
  T.eq(#specs, 1, "one plot")
  H.check_line_spec(specs[1], "mo.svg", 3)
end)

test("command line: --help, a bad --width", function()
  R.check_command_line(T, "scripts/maxout.lua", {"--width", "0"}, "%-%-width")
end)

T.done()
