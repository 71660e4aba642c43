-- scripts/sharpness.lua: top Hessian eigenvalue after training, per activation, paired
-- against relu by seed. At a tiny size: the structure, the statistics and the verdict.
local dir = arg[0]:match("^(.*)/") or "."
package.path = dir .. "/?.lua;" .. dir .. "/../lua/?.lua;" .. package.path
local T = require "testlib"
local R = require "script_runner"

local test = T.test
local SMALL = {"--quick", "--n", "300", "--eval", "100", "--iters", "8", "--sizes", "784,16,10",
  "--epochs", "4", "--activations", "relu,elu,tanh"}

test("tiny run: finite sharpness per seed, classes, paired comparisons, verdict", function()
  local csv = os.tmpname()
  local args = {table.unpack(SMALL)}
  args[#args + 1] = "--csv"
  args[#args + 1] = csv
  local r, out = R.run("scripts/sharpness.lua", args)
  T.eq(r.lr, 0.1, "default lr")
  T.eq(r.edge, 20, "2/lr")
  for _, a in ipairs{"relu", "elu", "tanh"} do
    T.eq(#r.runs[a], 2, a .. ": 2 seeds with --quick")
    for _, x in ipairs(r.runs[a]) do
      T.truthy(x.sharpness == x.sharpness and math.abs(x.sharpness) < math.huge, a .. " finite sharpness")
      T.truthy(x.sharpness > 0, a .. " positive top eigenvalue " .. x.sharpness)
      T.truthy(x.rel_change >= 0 and x.rel_change < 1, a .. " converging " .. x.rel_change)
      T.truthy(x.train_accuracy > 0.15, a .. " above chance " .. x.train_accuracy)
    end
    local s = r[a]
    T.truthy(s.lo <= s.mean and s.mean <= s.hi, a .. " CI around the mean")
  end
  T.eq(r.relu.smoothness, "C0")
  T.eq(r.elu.smoothness, "C1")
  T.eq(r.tanh.smoothness, "C2")
  T.eq(r.relu.vs_relu, nil, "relu is the reference")
  for _, a in ipairs{"elu", "tanh"} do
    local v = r[a].vs_relu
    T.truthy(v.p_adjusted >= v.p and v.p_adjusted <= 1, a .. " Holm-adjusted p")
    T.truthy(v.ci95[1] <= v.diff and v.diff <= v.ci95[2], a .. " CI of the log ratio")
  end
  T.truthy(r.spearman >= -1 and r.spearman <= 1, "Spearman rho in [-1, 1]")
  local status, reason = out:match("\nverdict: ([%u ]+)\n([^\n]+)$")
  T.truthy(status ~= nil, "verdict line:\n" .. out)
  T.eq(r.verdict, status)
  T.truthy(reason:find("^2 seeds, SGD lr 0%.1 %(2/lr = 20%): relu sharpness [%d.]+"), reason)
  T.truthy(out:find("ratio to relu", 1, true), out)
  local f = assert(io.open(csv, "r"))
  local text = f:read("a")
  f:close()
  os.remove(csv)
  local lines = 0
  for _ in text:gmatch("[^\n]+") do lines = lines + 1 end
  T.eq(lines, 1 + 6, "csv: header and one row per (activation, seed)")
  T.truthy(text:find("^activation,smoothness,seed,sharpness,"), text)
end)

test("the same seed gives the same sharpness (init, batches and start vector fixed)", function()
  local a = R.run("scripts/sharpness.lua", {"--quick", "--n", "200", "--eval", "50", "--iters", "4",
    "--sizes", "784,8,10", "--epochs", "1", "--activations", "relu,tanh", "--seeds", "2"})
  local b = R.run("scripts/sharpness.lua", {"--quick", "--n", "200", "--eval", "50", "--iters", "4",
    "--sizes", "784,8,10", "--epochs", "1", "--activations", "relu,tanh", "--seeds", "2"})
  for _, n in ipairs{"relu", "tanh"} do
    for s = 1, 2 do T.eq(a.runs[n][s].sharpness, b.runs[n][s].sharpness, n .. " seed " .. s) end
  end
end)

test("command line: --help, a bad --activations", function()
  R.check_command_line(T, "scripts/sharpness.lua", {"--activations", "relu,nope"}, "unknown activation")
end)

T.done()
