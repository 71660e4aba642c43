-- scripts/init_amplitude.lua (claim 3d): activation std per layer through a deep ReLU net.
local dir = arg[0]:match("^(.*)/") or "."
package.path = dir .. "/?.lua;" .. dir .. "/../lua/?.lua;" .. package.path
local T = require "testlib"
local R = require "script_runner"
local H = require "helpers"

local test = T.test
test("--quick, first seeds 1..4: N(0,1) explodes, Xavier shrinks, He and batch norm stay", function()
  for seed = 1, 4 do
    local r, out = R.run("scripts/init_amplitude.lua", {"--quick", "--seed", tostring(seed)})
    -- the verdict comes from the CIs of log10(last/first) over the 3 seeds
    local status, reason = out:match("\nverdict: ([%u ]+)\n([^\n]+)$")
    T.eq(status, "SUPPORTED", "verdict line:\n" .. out)
    T.eq(r.verdict, status)
    T.truthy(reason:find("3 seeds", 1, true) and reason:find("He (kaiming_normal) stays", 1, true), reason)
    T.eq(r.he.log_growth.n, 3, "one growth per seed")
    T.truthy(r.he.log_growth.ci95[1] > -1 and r.he.log_growth.ci95[2] < 1, "He: CI inside (-1, 1)")
    local function g(k) return r[k].last / r[k].first end
    T.eq(#r.he.std, 30, "30 layers")
    T.truthy(g("normal") > 1e3, ("seed %d: N(0,1) last/first %g"):format(seed, g("normal")))
    T.eq(r.normal.verdict, "explodes")
    T.truthy(g("xavier") < 1e-2, ("seed %d: Xavier last/first %g"):format(seed, g("xavier")))
    T.eq(r.xavier.verdict, "shrinks")
    T.truthy(g("he") > 1 / 3 and g("he") < 3, ("seed %d: He last/first %g"):format(seed, g("he")))
    T.truthy(g("batchnorm") > 0.8 and g("batchnorm") < 1.25,
      ("seed %d: batch norm last/first %g"):format(seed, g("batchnorm")))
    -- a ReLU output of unit-variance input: std sqrt(1/2 - 1/(2 pi)) = 0.584 after batch norm
    T.near(r.batchnorm.first, 0.584, 0.03, "batch norm layer 1 std")
  end
end)

test("--plot: four series on a log y axis", function()
  local _, specs = H.with_fake_plot(function()
    return R.run("scripts/init_amplitude.lua", {"--quick", "--depth", "8", "--plot", "amp.svg"})
  end)
  T.eq(#specs, 1, "one plot")
  H.check_line_spec(specs[1], "amp.svg", 4)
  T.eq(specs[1].ylog, true, "log y axis")
end)

test("one seed, a shallow net: He's growth has no CI width, Xavier does not shrink 10x", function()
  local r = R.run("scripts/init_amplitude.lua", {"--quick", "--seeds", "1", "--depth", "3"})
  T.eq(r.xavier.verdict, "stays", "3 layers: Xavier loses a factor 2 only")
  T.eq(r.verdict, "NOT SUPPORTED")
end)

test("command line: --help, a bad --activation", function()
  R.check_command_line(T, "scripts/init_amplitude.lua", {"--activation", "nosuch"}, "unknown activation")
end)

T.done()
