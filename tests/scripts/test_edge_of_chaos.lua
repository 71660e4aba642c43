-- scripts/edge_of_chaos.lua: trainability over depth x sigma_w2 against 6 xi_c.
local dir = arg[0]:match("^(.*)/") or "."
package.path = dir .. "/?.lua;" .. dir .. "/../lua/?.lua;" .. package.path
local T = require "testlib"
local R = require "script_runner"
local H = require "helpers"
local A = T.actrun

local test = T.test
local SMALL = {"--quick", "--depths", "3,24", "--sigmas", "0.5,1.75", "--n", "200", "--width", "24",
  "--epochs", "3", "--probe-depth", "12"}

local function with_plot(file)
  local a = {table.unpack(SMALL)}
  a[#a + 1], a[#a + 2] = "--plot", file
  return a
end

test("a small grid: every cell, xi_c per sigma, agreement counted, a verdict with numbers", function()
  local r, out = R.run("scripts/edge_of_chaos.lua", SMALL)
  T.eq(#r.cells, 4, "2 depths x 2 sigmas")
  T.eq(#r.xi, 2)
  local agree = 0
  for _, c in ipairs(r.cells) do
    T.truthy(c.accuracy >= 0 and c.accuracy <= 1, "accuracy")
    T.eq(c.agrees, c.trained == c.predicted)
    if c.agrees then agree = agree + 1 end
  end
  T.eq(r.agree, agree)
  -- the ordered phase forgets correlations within a few layers, the edge of chaos does not
  T.truthy(r.xi[1].measured < r.xi[2].measured, "xi_c grows towards the edge of chaos")
  T.truthy(out:find("xi_c: measured", 1, true) or out:find("xi_c: theory", 1, true), out)
  T.truthy(out:find("\nverdict: [A-Z ]+\n%d+ of 4 cells"), out)
  T.truthy(({SUPPORTED = 1, MIXED = 1, ["NOT SUPPORTED"] = 1})[r.verdict], r.verdict)
end)

test("with act.propagation present its xi_c is used and printed beside the measured one", function()
  local had = rawget(A.act, "propagation")
  rawset(A.act, "propagation", function(name, o)
    return {q_star = 0.1, chi1 = 0.9, xi_q = 3, xi_c = o.sigma_w2 * 2, phase = "ordered"}
  end)
  local ok, r, out = pcall(R.run, "scripts/edge_of_chaos.lua", SMALL)
  rawset(A.act, "propagation", had)
  assert(ok, r)
  T.eq(r.theory, true)
  T.eq(r.xi[1].used, 1, "xi_c from the theory: 2 sigma_w2")
  T.truthy(out:find("xi_c: theory (act.propagation)", 1, true), out)
end)

test("--plot: trainable depth beside 6 xi_c, and accuracies", function()
  local grids = {}
  local saved = package.loaded["actrun.plot"]
  package.loaded["actrun.plot"] = {grid = function(spec) grids[#grids + 1] = spec end}
  local ok, err = pcall(R.run, "scripts/edge_of_chaos.lua", with_plot("e.svg"))
  package.loaded["actrun.plot"] = saved
  assert(ok, err)
  T.eq(#grids, 1)
  T.eq(grids[1].file, "e.svg")
  for _, panel in ipairs(grids[1].plots) do
    panel.file = "e.svg"
    H.check_line_spec(panel, "e.svg", #panel.series)
  end
  T.eq(#grids[1].plots[1].series, 2, "deepest trained and 6 xi_c")
end)

test("command line: --help, bad --depths", function()
  R.check_command_line(T, "scripts/edge_of_chaos.lua", {"--depths", "3,x"}, "not a positive integer")
end)

T.done()
