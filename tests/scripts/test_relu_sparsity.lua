-- scripts/relu_sparsity.lua (claim 3c): exact zeros per activation.
local dir = arg[0]:match("^(.*)/") or "."
package.path = dir .. "/?.lua;" .. dir .. "/../lua/?.lua;" .. package.path
local T = require "testlib"
local R = require "script_runner"

local test = T.test
test("--quick on spirals: relu is sparse, tanh has no exact zeros", function()
  local r = R.run("scripts/relu_sparsity.lua", {"--quick", "--task", "spirals", "--seed", "1",
    "--activations", "relu,leaky_relu,tanh"})
  T.truthy(r.relu.zeros > 0.2, "relu zero share " .. r.relu.zeros)
  T.eq(r.tanh.zeros, 0, "tanh zero share")
  T.eq(r.leaky_relu.zeros, 0, "leaky_relu zero share")
  for _, name in ipairs{"relu", "leaky_relu", "tanh"} do
    local x = r[name]
    T.truthy(x.train >= 0 and x.train <= 1 and x.test >= 0 and x.test <= 1, name .. " accuracies")
    T.near(x.gap, x.train - x.test, 1e-12, name .. " gap")
  end
end)

test("--quick on spirals: a verdict line; relu's sparsity decides it is not NOT SUPPORTED", function()
  local r, out = R.run("scripts/relu_sparsity.lua", {"--quick", "--task", "spirals", "--seed", "1",
    "--activations", "relu,tanh"})
  T.eq(#r.relu.matched_gaps, 2, "two seeds")
  T.truthy(r["tanh+l1"] and r["tanh+l1"].zeros == 0, "the dense L1 baseline ran")
  T.truthy(r.vs_tanh and r.vs_tanh.n == 2, "paired gap difference relu - tanh")
  local status, reason = out:match("\nverdict: ([%u ]+)\n([^\n]+)$")
  T.truthy(status == "SUPPORTED" or status == "MIXED", "verdict:\n" .. out)
  T.eq(r.verdict, status)
  T.truthy(reason:find("^2 seeds: relu exact zeros [%d.]+%% %(others at most 0%.0%%%): sparse yes; gap at training loss 0%.3, relu %- tanh "), reason)
  T.truthy(out:find("gap at matched loss", 1, true), out)
end)

test("command line: --help, an unknown activation", function()
  R.check_command_line(T, "scripts/relu_sparsity.lua", {"--activations", "relu,nope"}, "unknown activation 'nope'")
end)

T.done()
