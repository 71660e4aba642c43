-- scripts/selu_normalization.lua (claim 6.9): SELU + LeCun-normal returns to (0, 1) from
-- perturbed inputs; the other variants drift.
local dir = arg[0]:match("^(.*)/") or "."
package.path = dir .. "/?.lua;" .. dir .. "/../lua/?.lua;" .. package.path
local T = require "testlib"
local R = require "script_runner"
local H = require "helpers"

local STARTS = {"n01", "shift", "wide", "narrow"}

local test = T.test
test("--quick: SELU comes back to (0, 1) from every start, the others drift; the verdict", function()
  local r, out = R.run("scripts/selu_normalization.lua", {"--quick", "--seed", "1"})
  for _, k in ipairs(STARTS) do
    local s = r.selu[k]
    T.eq(#s.var, 50, "50 layers")
    T.eq(#s.dist, 3, "one distance per seed")
    T.near(s.last_var, 1, 0.2, k .. ": SELU variance at layer 50")
    T.near(s.last_mean, 0, 0.1, k .. ": SELU mean at layer 50")
    T.truthy(s.reached, k .. ": reached")
    for _, v in ipairs{"relu", "tanh", "elu", "selu_default", "selu_kaiming"} do
      T.truthy(not r[v][k].reached, ("%s from %s drifts (mean %g, var %g)"):format(v, k,
        r[v][k].last_mean, r[v][k].last_var))
    end
    T.truthy(r.relu[k].last_var < 1e-6 and r.selu_default[k].last_var < 1e-3, "shrinking variances")
    T.truthy(r.selu_kaiming[k].last_var > 10, "SELU with He weights grows")
  end
  -- an attractor, not only a fixed point: the perturbed starts are far off at layer 1
  T.truthy(r.selu.wide.var[1] > 3 and r.selu.narrow.var[1] < 0.3 and r.selu.shift.var[1] > 1.3,
    "layer 1 still away from (0, 1)")
  local status, reason = out:match("\nverdict: ([%u ]+)\n([^\n]+)$")
  T.eq(status, "SUPPORTED", "verdict line:\n" .. out)
  T.eq(r.verdict, status)
  T.truthy(reason:find("upper 95% CI bound", 1, true), reason)
end)

test("a wrong --tol flips the verdict: SELU never gets within 1e-9", function()
  local r, out = R.run("scripts/selu_normalization.lua", {"--quick", "--depth", "5", "--seeds", "2", "--tol", "1e-9"})
  T.eq(r.verdict, "NOT SUPPORTED")
  T.truthy(out:find("\nverdict: NOT SUPPORTED\n", 1, true), out)
end)

test("--plot: SELU from four starts and five other variants on a log y axis", function()
  local _, specs = H.with_fake_plot(function()
    return R.run("scripts/selu_normalization.lua", {"--quick", "--depth", "6", "--seeds", "2", "--plot", "selu.svg"})
  end)
  T.eq(#specs, 1, "one plot")
  H.check_line_spec(specs[1], "selu.svg", 9)
  T.eq(specs[1].ylog, true, "log y axis")
end)

test("command line: --help, a bad --depth", function()
  R.check_command_line(T, "scripts/selu_normalization.lua", {"--depth", "x"}, "expected an integer")
end)

T.done()
