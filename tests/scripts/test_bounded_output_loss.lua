-- scripts/bounded_output_loss.lua (claim 6.6): at z = -10 with target 1 the squared-error
-- gradient vanishes, the log-loss gradient does not.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" ..
    (arg[0]:match("^(.*)/") or ".") .. "/../lua/?.lua;" .. package.path
local T = require "testlib"
local H = require "helpers"
local test, eq, truthy, near = T.test, T.eq, T.truthy, T.near

local R = H.dofile_script("scripts/bounded_output_loss.lua", {"--quick"})

test("z = -10: squared error's gradient < 1e-3, log-loss's > 0.99", function()
  eq(R.head.z0, -10)
  truthy(math.abs(R.head.mse) < 1e-3, "squared error dL/dz " .. R.head.mse)
  truthy(math.abs(R.head.log) > 0.99, "log-loss dL/dz " .. R.head.log)
  truthy(math.abs(R.head.prob) > 0.99, "log-loss through p: dL/dz " .. R.head.prob)
  truthy(R.head.mse < 0 and R.head.log < 0, "both push z up")
end)

test("autograd matches the analytic formulas over the table", function()
  eq(#R.rows, 17)
  for _, r in ipairs(R.rows) do
    local p = 1 / (1 + math.exp(-r.z))
    near(r.a_log, p - 1, 1e-12, "p - t at " .. r.z)
    near(r.a_mse, (p - 1) * p * (1 - p), 1e-12, "(p-t)p(1-p) at " .. r.z)
    near(r.log, r.a_log, 1e-5, "log-loss at " .. r.z)
    near(r.prob, r.a_log, 1e-4, "log-loss through p at " .. r.z)
    truthy(math.abs(r.mse - r.a_mse) <= 1e-5 * math.abs(r.a_mse) + 1e-9, "squared error at " .. r.z)
  end
  truthy(R.max_error < 1e-4, "largest relative error " .. R.max_error)
end)

test("the ratio grows as the unit gets more confidently wrong", function()
  for i = 2, #R.rows do
    if R.rows[i].z <= 0 then
      truthy(R.rows[i].ratio < R.rows[i - 1].ratio, "ratio decreasing towards z = 0")
    end
  end
end)

test("gradient descent: log-loss recovers in a few steps, squared error far slower", function()
  truthy(R.head.steps_log and R.head.steps_log <= 20, "log-loss steps " .. tostring(R.head.steps_log))
  truthy(R.head.steps_mse == nil or R.head.steps_mse > 100 * R.head.steps_log,
    "squared error steps " .. tostring(R.head.steps_mse))
end)

test("the verdict: SUPPORTED at z = -10; at z = +4 (already right) not", function()
  eq(R.verdict, "SUPPORTED")
  truthy(R.head.ratio > 1e4, "ratio " .. R.head.ratio)
  local out, err, code = H.run(H.root, "scripts/bounded_output_loss.lua", {"--quick"})
  eq(code, 0, err)
  truthy(out:find("\nverdict: SUPPORTED\nat z = %-10, target 1: |dL/dz| log%-loss 1%.0000 vs " ..
    "squared error 4%.539e%-05, [%d.e+]+ times larger"), out)
  -- at z = +4 the unit is right: squared error's gradient is no longer tiny next to log-loss's
  out = H.run(H.root, "scripts/bounded_output_loss.lua", {"--z0", "4", "--points", "3", "--steps", "10"})
  local status = out:match("\nverdict: ([%u ]+)\n")
  truthy(status == "MIXED" or status == "NOT SUPPORTED", out)
end)

test("--z0 moves the headline case", function()
  local out, err, code = H.run(H.root, "scripts/bounded_output_loss.lua",
    {"--z0=-5", "--points", "3", "--steps", "10"})
  eq(code, 0, err)
  truthy(out:find("At z = %-5 %(target 1, p = 6%.693e%-03%)"), out)
end)

test("--plot hands plot.line the curves when actrun.plot is there", function()
  local _, specs = H.with_fake_plot(function()
    return H.dofile_script("scripts/bounded_output_loss.lua", {"--quick", "--steps", "5", "--plot", "out.svg"})
  end)
  eq(#specs, 1)
  H.check_line_spec(specs[1], "out.svg", 2)
  eq(#specs[1].series[1].x, 200)
end)

T.done()
