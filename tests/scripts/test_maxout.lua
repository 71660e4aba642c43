-- scripts/maxout.lua (claim 4): Maxout(k=2) with a zero piece is ReLU; k times the parameters.
local dir = arg[0]:match("^(.*)/") or "."
package.path = dir .. "/?.lua;" .. dir .. "/../lua/?.lua;" .. package.path
local T = require "testlib"
local R = require "script_runner"

local test = T.test
test("--quick: exact ReLU, parameter ratio k, both MLPs learn the spirals", function()
  local r = R.run("scripts/maxout.lua", {"--quick", "--seed", "1"})
  T.eq(r.relu_diff, 0, "max |maxout - relu|")
  for _, k in ipairs{2, 3, 4} do T.eq(r.ratio[k], k, "parameter ratio at k=" .. k) end
  T.eq(#r.spirals, 3, "rows")
  for _, row in ipairs(r.spirals) do
    T.truthy(row.test > 0.6, row.name .. " test accuracy " .. row.test)
  end
  -- widths 32: hidden layers k (3w + w^2 + w) parameters, output layer 3w + 3
  local w = 32
  for i, k in ipairs{1, 2, 3} do
    T.eq(r.spirals[i].params, k * (3 * w + w * w + w) + 3 * w + 3, r.spirals[i].name .. " parameters")
  end
end)

test("command line: --help, a bad --width", function()
  R.check_command_line(T, "scripts/maxout.lua", {"--width", "0"}, "%-%-width")
end)

T.done()
