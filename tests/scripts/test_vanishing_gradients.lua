-- scripts/vanishing_gradients.lua (claims 3b, 6.4): per-layer gradient norms at init.
local dir = arg[0]:match("^(.*)/") or "."
package.path = dir .. "/?.lua;" .. dir .. "/../lua/?.lua;" .. package.path
local T = require "testlib"
local R = require "script_runner"
local H = require "helpers"

local test = T.test
test("--quick, seeds 1..4: sigmoid's first layer gets < 1e-3 of its last layer's gradient", function()
  for seed = 1, 4 do
    local r = R.run("scripts/vanishing_gradients.lua", {"--quick", "--seed", tostring(seed)})
    for _, init in ipairs{"default", "xavier_uniform", "kaiming_normal"} do
      local s = r.sigmoid[init]
      T.eq(#s.norms, 20, "20 layers")
      T.truthy(s.ratio > 0 and s.ratio < 1e-3,
        ("seed %d, sigmoid %s: first/last %g"):format(seed, init, s.ratio))
      for l = 1, 20 do
        T.truthy(s.norms[l] == s.norms[l] and s.norms[l] < math.huge, "finite norm")
      end
      -- ReLU with He init passes the signal: within an order of magnitude
      local ratio = r.relu.kaiming_normal.ratio
      T.truthy(ratio > 0.1 and ratio < 10, ("seed %d, relu kaiming: first/last %g"):format(seed, ratio))
      T.truthy(r.sigmoid[init].ratio < r.tanh[init].ratio * 1e-3, "sigmoid far below tanh")
    end
  end
end)

test("--plot: one panel per init, one series per activation, log y axes", function()
  local grids = {}
  local saved = package.loaded["actrun.plot"]
  package.loaded["actrun.plot"] = {grid = function(spec) grids[#grids + 1] = spec end}
  local ok, err = pcall(R.run, "scripts/vanishing_gradients.lua", {"--quick", "--depth", "6",
    "--activations", "sigmoid,relu", "--inits", "default,kaiming_normal", "--plot", "vg.svg"})
  package.loaded["actrun.plot"] = saved
  assert(ok, err)
  T.eq(#grids, 1, "one figure")
  T.eq(grids[1].file, "vg.svg")
  T.eq(#grids[1].plots, 2, "two panels")
  for _, panel in ipairs(grids[1].plots) do
    panel.file = "vg.svg"
    H.check_line_spec(panel, "vg.svg", 2)
    T.eq(panel.ylog, true, "log y axis")
    T.eq(#panel.series[1].x, 6, "one point per layer")
  end
end)

test("command line: --help, a bad --inits", function()
  R.check_command_line(T, "scripts/vanishing_gradients.lua", {"--inits", "bogus"}, "not an nn.init function")
end)

T.done()
