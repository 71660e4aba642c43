-- scripts/dying_relu.lua (claim 6.4): ReLU units die during training under a large SGD
-- learning rate; leaky units cannot die; the verdict is paired over seeds.
local dir = arg[0]:match("^(.*)/") or "."
package.path = dir .. "/?.lua;" .. dir .. "/../lua/?.lua;" .. package.path
local T = require "testlib"
local R = require "script_runner"

local test = T.test
test("--quick, large lr: healthy at init, ReLU units die in training, leaky ones cannot", function()
  local r, out = R.run("scripts/dying_relu.lua", {"--quick", "--seed", "1"})
  T.eq(#r.runs.relu, 3, "3 seeds")
  T.truthy(r.relu.dead0 < 0.1, "relu dead at init " .. r.relu.dead0)
  for k, x in ipairs(r.runs.relu) do
    T.truthy(x.dead1 > x.dead0, ("seed %d: relu units died in training %g -> %g"):format(k, x.dead0, x.dead1))
    local per = x.dead_per_layer
    T.eq(#per, 2, "two hidden layers")
    T.near((per[1] + per[2]) / 128, x.dead1, 1e-12, "per-layer counts add up (width 64)")
  end
  for _, name in ipairs{"leaky_relu", "prelu"} do
    for _, x in ipairs(r.runs[name]) do
      T.eq(x.dead0, 0, name .. " dead before")
      T.eq(x.dead1, 0, name .. " dead after")
    end
  end
  T.truthy(r.died.ci95[1] > 0, "died in training, CI above 0")
  T.truthy(r.vs_dead.ci95[1] > 0, "relu - leaky dead, CI above 0")
  local status, reason = out:match("\nverdict: ([%u ]+)\n([^\n]+)$")
  T.truthy(status == "SUPPORTED" or status == "MIXED", "verdict line:\n" .. out)
  T.eq(r.verdict, status)
  T.truthy(reason:find("^3 seeds, SGD with a large learning rate, lr 2%.0: ReLU dead share [%d.]+ at init"), reason)
  T.truthy(out:find("PReLU's learned slopes", 1, true), out)
end)

test("--harsh bias: ReLU units dead from the start, leaky ones recover", function()
  local r = R.run("scripts/dying_relu.lua", {"--quick", "--harsh", "bias", "--bias", "-1", "--seeds", "2"})
  T.truthy(r.relu.dead0 > 0.3, "relu dead at init " .. r.relu.dead0)
  T.truthy(r.relu.dead1 >= r.relu.dead0, "a dead ReLU unit cannot come back")
  for _, name in ipairs{"leaky_relu", "prelu"} do
    T.eq(r[name].dead1, 0, name .. " dead after")
    T.truthy(r[name].neg0 > 0.3, name .. " starts mostly in its negative regime " .. r[name].neg0)
    T.truthy(r[name].neg1 < r[name].neg0 / 2, name .. " units leave the negative regime " .. r[name].neg1)
  end
  local s = r.prelu.slopes
  T.truthy(s.min <= s.mean and s.mean <= s.max and s.mean == s.mean, "PReLU slopes")
  -- units dead at init did not die in training: never SUPPORTED
  T.truthy(r.verdict == "NOT SUPPORTED" or r.verdict == "MIXED", r.verdict)
end)

test("command line: --help, a bad --harsh", function()
  R.check_command_line(T, "scripts/dying_relu.lua", {"--harsh", "gentle"}, "expected one of")
end)

T.done()
