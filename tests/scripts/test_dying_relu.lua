-- scripts/dying_relu.lua (claim 6.4): dead ReLU units; leaky units recover.
local dir = arg[0]:match("^(.*)/") or "."
package.path = dir .. "/?.lua;" .. dir .. "/../lua/?.lua;" .. package.path
local T = require "testlib"
local R = require "script_runner"

local test = T.test
test("--quick, negative biases: ReLU units stay dead, leaky ones never die and recover", function()
  local r = R.run("scripts/dying_relu.lua", {"--quick", "--seed", "1"})
  T.truthy(r.relu.dead1 > 0.3, "relu dead after training " .. r.relu.dead1)
  T.truthy(r.relu.dead1 >= r.relu.dead0, "a dead ReLU unit cannot come back")
  local per = r.relu.dead_per_layer
  T.eq(#per, 2, "two hidden layers")
  T.near((per[1] + per[2]) / 128, r.relu.dead1, 1e-12, "per-layer counts add up (width 64)")
  for _, name in ipairs{"leaky_relu", "prelu"} do
    T.eq(r[name].dead0, 0, name .. " dead before")
    T.eq(r[name].dead1, 0, name .. " dead after")
    T.truthy(r[name].neg0 > 0.3, name .. " starts mostly in its negative regime " .. r[name].neg0)
    T.truthy(r[name].neg1 < r[name].neg0 / 2, name .. " units leave the negative regime " .. r[name].neg1)
  end
  local s = r.prelu.slopes
  T.truthy(s.min <= s.mean and s.mean <= s.max and s.mean == s.mean, "PReLU slopes")
end)

test("command line: --help, a bad --harsh", function()
  R.check_command_line(T, "scripts/dying_relu.lua", {"--harsh", "gentle"}, "expected one of")
end)

T.done()
