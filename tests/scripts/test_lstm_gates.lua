-- scripts/lstm_gates.lua (claim 5): an LSTM on the adding problem; how saturated its
-- gates are; relu cell and tanh gates against it.
local dir = arg[0]:match("^(.*)/") or "."
package.path = dir .. "/?.lua;" .. dir .. "/../lua/?.lua;" .. package.path
local T = require "testlib"
local R = require "script_runner"

local test = T.test
local function stats_mean(l) local s = 0 for _, x in ipairs(l) do s = s + x end return s / #l end
test("--quick: the adding problem, gates recomputed exactly, saturation and the verdict", function()
  local r, out = R.run("scripts/lstm_gates.lua", {"--quick", "--seed", "1"})
  T.near(r.baseline.mean, 1 / 6, 0.03, "predict-the-mean MSE of the adding problem")
  for _, k in ipairs{"lstm", "relu_cell", "tanh_gates"} do
    local run = r.runs[k]
    T.eq(#run.mse, 2, k .. ": one test MSE per seed")
    T.truthy(run.check < 1e-4, k .. ": recomputed gates vs the module: " .. run.check)
    T.truthy(run.solved >= 0 and run.solved <= 2, k .. ": learnt count")
    for _, m in ipairs(run.mse) do T.truthy(m < math.huge, k .. ": finite MSE") end
  end
  -- something learns within the quick budget (the variants train alike)
  local best = math.min(r.runs.lstm.ratio_d.mean, r.runs.relu_cell.ratio_d.mean, r.runs.tanh_gates.ratio_d.mean)
  T.truthy(best < 0.5, "some variant beats the baseline: " .. best)
  for _, k in ipairs{"i", "f", "o"} do
    local sum = 0
    for _, row in ipairs(r.histogram) do sum = sum + row[k] end
    T.near(sum, 1, 1e-4, "histogram of gate " .. k .. " sums to 1")
  end
  T.truthy(r.runs.lstm.sat_d.mean > stats_mean(r.runs.untrained.sat), "training moves the gates towards 0 or 1")
  local status, reason = out:match("\nverdict: ([%u ]+)\n([^\n]+)$")
  T.truthy(status, "the output ends with the verdict:\n" .. out)
  T.eq(r.verdict, status)
  -- the gates stay far from "mostly near 0 or 1" at this size (share < 0.05)
  T.eq(status, "NOT SUPPORTED")
  T.truthy(reason:find("near 0 or 1", 1, true) and reason:find("learnt", 1, true), reason)
end)

test("command line: --help, a bad --T", function()
  R.check_command_line(T, "scripts/lstm_gates.lua", {"--T", "1"}, "%-%-T")
end)

T.done()
