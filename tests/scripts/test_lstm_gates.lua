-- scripts/lstm_gates.lua (claim 5): an LSTM learns the memory task; its gates.
local dir = arg[0]:match("^(.*)/") or "."
package.path = dir .. "/?.lua;" .. dir .. "/../lua/?.lua;" .. package.path
local T = require "testlib"
local R = require "script_runner"

local test = T.test
test("--quick: the default LSTM recalls the first bit; gates recomputed exactly", function()
  local r = R.run("scripts/lstm_gates.lua", {"--quick", "--seed", "1"})
  T.truthy(r.accuracy >= 0.9, "test accuracy " .. r.accuracy)
  local d = r.variants[1]
  T.truthy(d.recompute_error < 1e-4, "recomputed gates vs the module: " .. d.recompute_error)
  for _, k in ipairs{"i", "f", "o"} do
    local sum = 0
    for _, row in ipairs(r.histogram) do sum = sum + row[k] end
    T.near(sum, 1, 1e-4, "histogram of gate " .. k .. " sums to 1")
    T.truthy(d.saturated[k] > r.untrained[k], "training moves gate " .. k .. " towards 0 or 1")
  end
  T.eq(#r.variants, 3, "variants")
end)

test("command line: --help, a bad --T", function()
  R.check_command_line(T, "scripts/lstm_gates.lua", {"--T", "1"}, "%-%-T")
end)

T.done()
