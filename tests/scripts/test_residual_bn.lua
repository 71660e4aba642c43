-- scripts/residual_bn.lua (claim 3d): deep residual MLP with and without batch norm.
local dir = arg[0]:match("^(.*)/") or "."
package.path = dir .. "/?.lua;" .. dir .. "/../lua/?.lua;" .. package.path
local T = require "testlib"
local R = require "script_runner"

local test = T.test
test("--quick: every variant trains, finite numbers", function()
  local r = R.run("scripts/residual_bn.lua", {"--quick", "--seed", "1"})
  for _, k in ipairs{"none", "post", "pre"} do
    local f = r.finals[k]
    T.truthy(f.finite, k .. ": finite losses")
    T.truthy(f.last < f.first, ("%s: loss decreases (%g -> %g)"):format(k, f.first, f.last))
    T.truthy(f.std > 0 and f.std < math.huge, k .. ": amplitude at init")
    T.truthy(f.train > 0.4, k .. ": train accuracy " .. f.train)
  end
  T.near(r.finals.post.std, 1, 0.05, "post-activation BN: unit std at init")
end)

test("command line: --help, a bad --init", function()
  R.check_command_line(T, "scripts/residual_bn.lua", {"--init", "bogus"}, "not an nn.init function")
end)

T.done()
