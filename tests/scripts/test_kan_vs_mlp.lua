-- scripts/kan_vs_mlp.lua: KAN against parameter-matched MLPs (symbolic regression and
-- Fashion-MNIST, or spirals without it).
local dir = arg[0]:match("^(.*)/") or "."
package.path = dir .. "/?.lua;" .. dir .. "/../lua/?.lua;" .. package.path
local T = require "testlib"
local R = require "script_runner"

local test = T.test

test("a small run: tables, paired comparisons, time ratio and a verdict with numbers", function()
  local r, out = R.run("scripts/kan_vs_mlp.lua", {"--quick", "--steps", "150", "--n", "200",
    "--epochs", "1", "--train", "300", "--test", "200", "--seeds", "2"})
  for _, k in ipairs{"kan", "kan_grid", "mlp", "mlp_wide"} do
    local s = r.symbolic[k]
    T.eq(#s.runs, 2, k .. ": 2 seeds")
    for _, run in ipairs(s.runs) do
      T.truthy(run.mse > 0 and run.mse < math.huge, k .. ": finite test MSE")
    end
  end
  -- the MLP has at least the extended KAN's parameters
  T.truthy(r.symbolic.mlp.params >= r.symbolic.kan_grid.params, "parameter-matched MLP")
  T.eq(r.symbolic.kan_grid.params, 375, "KAN [2,5,1] at grid 20")
  -- grid extension did not throw the fit away (its MSE within 10x of the fixed grid's)
  T.truthy(r.symbolic.kan_grid.d.mean < r.symbolic.kan.d.mean + 1, "extension keeps the fit")
  local c = r.classification
  T.truthy(math.abs(c.kan.params - c.mlp.params) / c.kan.params < 0.01, "matched within 1%")
  for _, k in ipairs{"kan", "mlp"} do
    for _, a in ipairs(c[k].acc) do T.truthy(a > 0.2 and a <= 1, k .. " accuracy " .. a) end
  end
  T.truthy(r.time_ratio > 0 and r.time_ratio < math.huge)
  T.truthy(out:find("\nverdict: [A-Z ]+\n2 seeds: %(a%) KAN%+grid"), "verdict and reason:\n" .. out)
  T.truthy(out:find("test MSE (geo. mean)", 1, true) and out:find("test accuracy %", 1, true))
end)

test("bad options exit with status 2 and the usage", function()
  local _, err, code = R.child("scripts/kan_vs_mlp.lua", {"--seeds", "1"})
  T.eq(code, 2)
  T.truthy(err:find("--seeds", 1, true), err)
end)

T.done()
