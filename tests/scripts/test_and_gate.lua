-- scripts/and_gate.lua (claim 2): the hand-set unit is AND, the trained unit learns AND,
-- log-loss passes the convexity checks that squared error fails.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" ..
    (arg[0]:match("^(.*)/") or ".") .. "/../lua/?.lua;" .. package.path
local T = require "testlib"
local H = require "helpers"
local actrun = T.actrun
local test, eq, truthy, near = T.test, T.eq, T.truthy, T.near

local R = H.dofile_script("scripts/and_gate.lua", {"--quick"})

test("the hand-set unit: z = -30, -10, -10, +10 and its outputs round to AND", function()
  T.eq(#R.hand.z, 4)
  for i, z in ipairs{-30, -10, -10, 10} do
    near(R.hand.z[i], z, 1e-6, "z" .. i)
    near(R.hand.g[i], 1 / (1 + math.exp(-z)), 1e-6, "g" .. i)
    eq(math.floor(R.hand.g[i] + 0.5), i == 4 and 1 or 0, "rounded g" .. i)
  end
  eq(R.hand.pred, {0, 0, 0, 1})
  eq(R.hand.correct, 4)
end)

test("the trained unit classifies all four inputs", function()
  eq(R.trained.pred, {0, 0, 0, 1})
  eq(R.trained.correct, 4)
  truthy(R.trained.g[4] > 0.5 and R.trained.g[1] < 0.5, "outputs on both sides of 0.5")
end)

test("its reported loss is the log-loss of its weights, and training lowered it", function()
  local X, y = actrun.data.and_gate()
  local w = actrun.tensor(R.trained.w)
  local z = X:matmul(w:view(2, 1)):view(4) + R.trained.b
  near(R.trained.loss, actrun.nn.bce_with_logits(z, y - 1):item(), 1e-5)
  truthy(R.trained.curve[#R.trained.curve] < 0.5 * R.trained.curve[1],
    ("loss %g -> %g"):format(R.trained.curve[1], R.trained.curve[#R.trained.curve]))
end)

test("convexity: log-loss below its chords, squared error not", function()
  truthy(R.convex.segment_below_chord, "log-loss below the chord along the segment")
  eq(R.convex.violations_log, 0)
  eq(R.convex.pairs, 200)
  truthy(R.convex.violations_sq > 0, "squared error violates the midpoint inequality somewhere")
  eq(R.convex.segment_sq_below_chord, false)
end)

test("the verdict: SUPPORTED, every seed's unit learns AND, with the numbers", function()
  eq(R.seeds.n, 5)
  eq(R.seeds.learned, 5)
  for _, c in ipairs(R.seeds.correct) do eq(c, 4) end
  eq(R.verdict, "SUPPORTED")
  local out, err, code = H.run(H.root, "scripts/and_gate.lua", {"--quick", "--pairs", "10"})
  eq(code, 0, err)
  truthy(out:find("\nverdict: SUPPORTED\nhand%-set unit 4 of 4 correct; trained unit 4 of 4 on 5 of 5 seeds"), out)
  -- too few steps to learn AND: the hand-set unit still is AND, so the verdict is MIXED
  -- or NOT SUPPORTED, never SUPPORTED
  out = H.run(H.root, "scripts/and_gate.lua", {"--epochs", "1", "--lr", "0.001", "--pairs", "10"})
  local status = out:match("\nverdict: ([%u ]+)\n")
  truthy(status == "MIXED" or status == "NOT SUPPORTED", out)
end)

test("runs from another working directory and from the source root", function()
  local dir = H.tmpdir()
  local out, err, code = H.run(dir, H.root .. "/scripts/and_gate.lua", {"--quick", "--pairs", "10"})
  H.rmdir(dir)
  eq(code, 0, err)
  truthy(out:find("Hand%-set unit") and out:find("4 of 4 correct"), out)
  local svg = os.tmpname()
  out, err, code = H.run(H.root, "scripts/and_gate.lua", {"--quick", "--epochs", "50", "--plot",
    svg .. ".svg"})
  os.remove(svg)
  os.remove(svg .. ".svg")
  eq(code, 0, err)
  truthy(out:find("plot: "), "a plot line: " .. out)
end)

test("--plot hands plot.line the curves when actrun.plot is there", function()
  local _, specs = H.with_fake_plot(function()
    return H.dofile_script("scripts/and_gate.lua", {"--quick", "--epochs", "20", "--pairs", "5", "--plot", "out.svg"})
  end)
  eq(#specs, 1)
  H.check_line_spec(specs[1], "out.svg", 1)
  eq(#specs[1].series[1].y, 20)
end)

T.done()
