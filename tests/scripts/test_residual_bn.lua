-- scripts/residual_bn.lua (claim 3d): the residual blocks of He et al. 2016 over seeds.
local dir = arg[0]:match("^(.*)/") or "."
package.path = dir .. "/?.lua;" .. dir .. "/../lua/?.lua;" .. package.path
local T = require "testlib"
local R = require "script_runner"
local H = require "helpers"

local function verdict_of(out)
  local status, reason = out:match("\nverdict: ([%u ]+)\n([^\n]+)$")
  return status, reason
end

local test = T.test
test("--quick, three blocks: every run trains; BN after the addition is worst; the verdict", function()
  local r, out = R.run("scripts/residual_bn.lua", {"--quick", "--seed", "1",
    "--variants", "original,bn_after,preact"})
  for _, k in ipairs{"original", "bn_after", "preact"} do
    local run = r.runs[k]
    T.truthy(run.finite, k .. ": finite losses")
    T.eq(#run.loss, 3, k .. ": one final loss per seed")
    for i = 1, 3 do
      T.truthy(run.loss[i] < run.first[i], ("%s seed %d: loss decreases (%g -> %g)"):format(k, i,
        run.first[i], run.loss[i]))
    end
    T.truthy(run.train_d.mean > 0.5, k .. ": train accuracy " .. run.train_d.mean)
    T.truthy(run.test_d.ci95[1] <= run.test_d.mean and run.test_d.mean <= run.test_d.ci95[2], k .. ": CI")
  end
  -- He et al.'s ablation: BN on the addition hampers training, here too
  T.truthy(r.runs.bn_after.loss_d.mean > r.runs.original.loss_d.mean, "bn_after trains worse than the original")
  local c = r.preact_vs_original
  T.eq(c.loss.n, 3, "paired over 3 seeds")
  T.truthy(c.loss.p >= 0 and c.loss.p <= 1, "p value")
  local status, reason = verdict_of(out)
  T.truthy(status, "the output ends with the verdict and its reason:\n" .. out)
  T.eq(status, r.verdict, "printed verdict = returned verdict")
  -- 8 blocks, 8 epochs: the original block trains faster (p < 0.001 at seed 1), so the
  -- pre-activation advantage does not show at this size
  T.eq(status, "NOT SUPPORTED", "verdict at the quick size")
  T.truthy(reason:find("preact - original over 3 seeds", 1, true) and reason:find("CI", 1, true),
    "reason with the numbers: " .. reason)
end)

test("one seed: no paired test, a MIXED verdict that says why", function()
  local r, out = R.run("scripts/residual_bn.lua", {"--quick", "--seeds", "1", "--depth", "3"})
  T.eq(r.verdict, "MIXED")
  local status, reason = verdict_of(out)
  T.eq(status, "MIXED")
  T.truthy(reason:find("at least 2 seeds", 1, true), reason)
end)

test("--plot: one mean curve per block", function()
  local _, specs = H.with_fake_plot(function()
    return R.run("scripts/residual_bn.lua", {"--quick", "--depth", "3", "--epochs", "3",
      "--seeds", "2", "--plot", "res.svg"})
  end)
  T.eq(#specs, 1, "one plot")
  H.check_line_spec(specs[1], "res.svg", 2)
end)

test("command line: --help, a bad --init, a bad --variants", function()
  R.check_command_line(T, "scripts/residual_bn.lua", {"--init", "bogus"}, "not an nn.init function")
  local _, err, code = R.child("scripts/residual_bn.lua", {"--variants", "post"})
  T.eq(code, 2, "exit status")
  T.truthy(err:find("unknown block 'post'", 1, true), err)
end)

T.done()
