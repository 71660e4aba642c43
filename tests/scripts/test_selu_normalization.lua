-- scripts/selu_normalization.lua (claim 6.9): SELU + LeCun-normal keeps (mean 0, var 1).
local dir = arg[0]:match("^(.*)/") or "."
package.path = dir .. "/?.lua;" .. dir .. "/../lua/?.lua;" .. package.path
local T = require "testlib"
local R = require "script_runner"
local H = require "helpers"

local test = T.test
test("--quick, seeds 1..4: SELU stays near (0, 1) at layer 50, the others drift", function()
  for seed = 1, 4 do
    local r = R.run("scripts/selu_normalization.lua", {"--quick", "--seed", tostring(seed)})
    local s = r.selu
    T.eq(#s.var, 50, "50 layers")
    T.near(s.std, 1, 0.2, ("seed %d: SELU std at layer 50"):format(seed))
    T.near(s.last_mean, 0, 0.1, ("seed %d: SELU mean at layer 50"):format(seed))
    T.truthy(s.stays, "SELU verdict")
    for _, k in ipairs{"relu", "tanh", "elu", "selu_default", "selu_kaiming"} do
      T.truthy(not r[k].stays, ("seed %d: %s drifts (mean %g, var %g)"):format(seed, k,
        r[k].last_mean, r[k].last_var))
    end
    T.truthy(r.relu.last_var < 1e-6 and r.selu_default.last_var < 1e-3, "shrinking variances")
    T.truthy(r.selu_kaiming.last_var > 10, "SELU with He weights grows")
  end
end)

test("--plot: six series on a log y axis", function()
  local _, specs = H.with_fake_plot(function()
    return R.run("scripts/selu_normalization.lua", {"--quick", "--depth", "6", "--plot", "selu.svg"})
  end)
  T.eq(#specs, 1, "one plot")
  H.check_line_spec(specs[1], "selu.svg", 6)
  T.eq(specs[1].ylog, true, "log y axis")
end)

test("command line: --help, a bad --depth", function()
  R.check_command_line(T, "scripts/selu_normalization.lua", {"--depth", "x"}, "expected an integer")
end)

T.done()
