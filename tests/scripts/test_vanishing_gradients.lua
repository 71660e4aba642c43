-- scripts/vanishing_gradients.lua (claims 3b, 6.4): the backward signal per layer at init.
local dir = arg[0]:match("^(.*)/") or "."
package.path = dir .. "/?.lua;" .. dir .. "/../lua/?.lua;" .. package.path
local T = require "testlib"
local R = require "script_runner"
local H = require "helpers"

local test = T.test
local function log10(x) return math.log(x, 10) end

test("--quick: sigmoid's first-layer backward signal is orders of magnitude below its last", function()
  local r, out = R.run("scripts/vanishing_gradients.lua", {"--quick"})
  for _, init in ipairs{"default", "xavier_uniform", "kaiming_normal"} do
    local s = r.sigmoid[init]
    T.eq(#s.signal, 20, "20 layers")
    T.eq(#s.runs, 3, "3 seeds")
    for l = 1, 20 do
      T.truthy(s.signal[l] > 0 and s.signal[l] < math.huge, "finite positive signal")
      T.truthy(s.std[l] > 0 and s.std[l] < math.huge, "finite positive std")
    end
    T.truthy(s.d.ci95[2] < -3, ("sigmoid %s: log10 first/last upper CI %g"):format(init, s.d.ci95[2]))
    T.truthy(s.d.mean < r.tanh[init].d.mean - 3, "sigmoid far below tanh")
  end
  -- ReLU with He init passes the signal: within an order of magnitude, every seed
  for _, run in ipairs(r.relu.kaiming_normal.runs) do
    local lr = log10(run.signal[1] / run.signal[20])
    T.truthy(math.abs(lr) < 1, "relu kaiming: log10 first/last " .. lr)
  end
  -- the design point: tanh/relu with nn.Linear's default init lose the signal (several
  -- orders) while their weight-gradient ratio stays near 1
  for _, a in ipairs{"tanh", "relu"} do
    local d = r[a].default
    T.truthy(d.d.mean < -3, a .. " default: signal falls " .. d.d.mean)
    T.truthy(math.abs(d.dw.mean) < 1, a .. " default: weight-gradient ratio near 1 " .. d.dw.mean)
  end
  T.truthy(out:find("\nverdict: SUPPORTED\n", 1, true), "verdict line:\n" .. out)
  T.eq(r.verdict, "SUPPORTED")
  T.truthy(out:find("sigmoid first/last backward signal log10 <= %-[%d%.]+"), "reason with numbers")
end)

test("a verdict without relu+He is MIXED and says why", function()
  local r, out = R.run("scripts/vanishing_gradients.lua", {"--quick", "--depth", "4",
    "--activations", "sigmoid", "--inits", "default", "--seeds", "2"})
  T.eq(r.verdict, "MIXED")
  T.truthy(out:find("verdict: MIXED\nnot decided", 1, true), out)
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
