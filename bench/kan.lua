-- Time of a Kolmogorov-Arnold layer (nn.KANLinear) against the Linear layer with the
-- same GEMM work, forward + backward, as users write it.
--
--   actrun bench/kan.lua [--reps R] [--steps N] [--threads T]
--
-- KANLinear(in, out, {grid=5, order=3}) multiplies the basis table {batch, in * 8} by
-- {in * 8, out} and base(x) {batch, in} by {in, out}: the GEMM flops of a
-- Linear(in * 9, out). The reference is Linear(in, 9 * out) (the task's yardstick for
-- 256 x 256: Linear(256, 2304)) and Linear(9 * in, out) (the same GEMM shape). Each case
-- runs R samples of N steps of y = m(x); y:backward(g) at batch 128 (x requires grad, as
-- a hidden layer's input) after a warm-up, the cases of one size interleaved; the medians
-- of the times and of the per-sample ratios are printed as "KEY VALUE UNIT" lines.
local actrun = actrun or require("actrun")
local nn = actrun.nn

local opts = {steps = 20, reps = 7, threads = 1}
for i = 1, #arg, 2 do
  local k = arg[i]:match("^%-%-(%w+)$")
  if not k or opts[k] == nil or not tonumber(arg[i + 1]) then
    io.stderr:write("kan.lua: bad option " .. tostring(arg[i]) ..
      " (options: --steps N --reps R --threads T)\n")
    os.exit(2)
  end
  opts[k] = math.tointeger(tonumber(arg[i + 1]))
end
actrun.set_num_threads(opts.threads)

local function median(t)
  table.sort(t)
  local n = #t
  return n % 2 == 1 and t[(n + 1) // 2] or 0.5 * (t[n // 2] + t[n // 2 + 1])
end

-- a step of forward + backward of m at batch 128 (x requires grad, as a hidden layer's
-- input: the input gradient is computed too)
local function stepper(m, n_in, n_out)
  actrun.manual_seed(1)
  local x = actrun.rand(128, n_in) * 2 - 1
  x.requires_grad = true
  local g = actrun.randn(128, n_out)
  local function step()
    m:zero_grad()
    x.grad = nil
    m(x):backward(g)
  end
  for _ = 1, 3 do step() end
  return step
end

local function sample(step)
  collectgarbage()
  local t0 = actrun.clock()
  for _ = 1, opts.steps do step() end
  return (actrun.clock() - t0) / opts.steps
end

local function line(key, value, unit)
  print(string.format("%-40s %10.3f %s", key, value, unit))
  io.stdout:flush()
end

print(string.format("# kan.lua: actrun %s; batch 128, %d thread(s), %d interleaved samples of %d steps (medians)",
  actrun.version, opts.threads, opts.reps, opts.steps))
for _, s in ipairs{{256, 256}, {64, 64}, {784, 64}} do
  local n_in, n_out = s[1], s[2]
  local tag = string.format("%dx%d", n_in, n_out)
  local cases = {
    {"kan_" .. tag, stepper(nn.KANLinear(n_in, n_out, {grid = 5, order = 3}), n_in, n_out)},
    {"linear_" .. n_in .. "x" .. 9 * n_out, stepper(nn.Linear(n_in, 9 * n_out), n_in, 9 * n_out)},
    {"linear_" .. 9 * n_in .. "x" .. n_out, stepper(nn.Linear(9 * n_in, n_out), 9 * n_in, n_out)},
    {"linear_" .. tag, stepper(nn.Linear(n_in, n_out), n_in, n_out)},
  }
  -- interleaved: each sample times every case back to back, and the ratios are taken
  -- within a sample (the machine's load drifts between samples)
  local t, ratio = {}, {}
  for c = 1, #cases do t[c], ratio[c] = {}, {} end
  for r = 1, opts.reps do
    for c = 1, #cases do t[c][r] = sample(cases[c][2]) end
    for c = 2, #cases do ratio[c][r] = t[1][r] / t[c][r] end
  end
  for c = 1, #cases do line(cases[c][1] .. "_ms", median(t[c]) * 1e3, "ms") end
  for c = 2, #cases do line("ratio_" .. cases[1][1] .. "_vs_" .. cases[c][1], median(ratio[c]), "x") end
end
