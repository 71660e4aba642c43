-- scripts/dynamical_isometry.lua: Jacobian spectra of orthogonal / Gaussian tanh and relu.
local dir = arg[0]:match("^(.*)/") or "."
package.path = dir .. "/?.lua;" .. dir .. "/../lua/?.lua;" .. package.path
local T = require "testlib"
local R = require "script_runner"
local H = require "helpers"

local test = T.test
local SMALL = {"--quick", "--depth", "24", "--width", "48", "--n", "200", "--epochs", "1", "--seeds", "2"}

local function with_plot(file)
  local a = {table.unpack(SMALL)}
  a[#a + 1], a[#a + 2] = "--plot", file
  return a
end

test("orthogonal critical tanh has the narrowest spectrum; verdict with numbers", function()
  local r, out = R.run("scripts/dynamical_isometry.lua", SMALL)
  for _, k in ipairs{"tanh_orth", "tanh_gauss", "relu_gauss", "relu_orth"} do
    T.eq(#r[k].spread, 2, k .. ": one spread per seed")
    T.eq(r[k].values:numel(), 48, k .. ": width singular values")
    T.eq(#r[k].losses, 1, k .. ": one loss per epoch")
  end
  for s = 1, 2 do
    T.truthy(r.tanh_orth.spread[s] * 5 < r.tanh_gauss.spread[s], "orthogonal vs gaussian tanh")
    T.truthy(r.tanh_orth.spread[s] * 5 < r.relu_gauss.spread[s], "orthogonal tanh vs relu")
  end
  T.eq(r.verdict, "SUPPORTED")
  T.truthy(out:find("\nverdict: SUPPORTED\nspread of orthogonal tanh [%d.]+", 1), out)
end)

test("--plot: spectra and training losses", function()
  local grids = {}
  local saved = package.loaded["actrun.plot"]
  package.loaded["actrun.plot"] = {grid = function(spec) grids[#grids + 1] = spec end}
  local ok, err = pcall(R.run, "scripts/dynamical_isometry.lua", with_plot("d.svg"))
  package.loaded["actrun.plot"] = saved
  assert(ok, err)
  T.eq(#grids, 1)
  for _, panel in ipairs(grids[1].plots) do
    panel.file = "d.svg"
    H.check_line_spec(panel, "d.svg", 4)
  end
  T.eq(grids[1].plots[1].ylog, true)
end)

test("command line: --help, a sigma_b2 without a known critical point", function()
  local ok = pcall(function() return rawget(T.actrun.act, "edge_of_chaos") end)
  if ok and rawget(T.actrun.act, "edge_of_chaos") then return end
  R.check_command_line(T, "scripts/dynamical_isometry.lua", {"--sigma-b2", "0.1"}, "critical sigma_w2")
end)

T.done()
