-- Time per training step, as users write it with nn modules (the PyTorch counterpart is
-- bench/train_step_torch.py, the same networks and data shapes).
--
--   actrun bench/train_step.lua [--steps N] [--reps R] [--threads MAX]
--
-- xor: a 2-8-1 sigmoid network, MSE, SGD(lr 0.5) on the 4 XOR points (the tiny-network
--      case: the time is the bookkeeping of ~15 ops and their backward).
-- mlp: 784-256-256-10 ReLU, cross-entropy, Adam(1e-3), batch 128 of fixed random data
--      (the Fashion-MNIST case: GEMMs plus everything around them), at 1..MAX threads.
-- Each case runs R samples of N steps after a warm-up; the median per step is printed
-- as "KEY VALUE UNIT" lines (read by bench/run_all.sh).
local actrun = actrun or require("actrun")
local nn, optim = actrun.nn, actrun.optim

local opts = {steps = 0, reps = 5, threads = 2}
for i = 1, #arg, 2 do
  local k = arg[i]:match("^%-%-(%w+)$")
  if not k or opts[k] == nil or not tonumber(arg[i + 1]) then
    io.stderr:write("train_step.lua: bad option " .. tostring(arg[i]) ..
      " (options: --steps N --reps R --threads MAX)\n")
    os.exit(2)
  end
  opts[k] = math.tointeger(tonumber(arg[i + 1]))
end

local function median(t)
  table.sort(t)
  local n = #t
  return n % 2 == 1 and t[(n + 1) // 2] or 0.5 * (t[n // 2] + t[n // 2 + 1])
end

local function timed(step, n, reps)
  for _ = 1, math.max(1, n // 10) do step() end -- warm-up: caches, allocator, JIT-free Lua
  local samples = {}
  for r = 1, reps do
    collectgarbage()
    local t0 = actrun.clock()
    for _ = 1, n do step() end
    samples[r] = (actrun.clock() - t0) / n
  end
  return median(samples)
end

local function result(key, value, unit)
  print(string.format("%-34s %12.4f %s", key, value, unit))
  io.stdout:flush()
end

print(string.format("# train_step.lua: actrun %s; %d samples (median)", actrun.version, opts.reps))

-- xor
do
  actrun.manual_seed(1)
  local X = actrun.tensor{{0, 0}, {0, 1}, {1, 0}, {1, 1}}
  local Y = actrun.tensor{{0}, {1}, {1}, {0}}
  local model = nn.Sequential(nn.Linear(2, 8), nn.Sigmoid(), nn.Linear(8, 1), nn.Sigmoid())
  local opt = optim.SGD(model:parameters(), {lr = 0.5})
  local function step()
    opt:zero_grad()
    local loss = nn.mse(model(X), Y)
    loss:backward()
    opt:step()
  end
  actrun.set_num_threads(1)
  result("train.xor.step", timed(step, opts.steps > 0 and opts.steps or 20000, opts.reps) * 1e6, "us")
end

-- mlp
do
  actrun.manual_seed(1)
  local X = actrun.rand(128, 784)
  local y = (actrun.rand(128) * 10):floor() + 1
  local model = nn.mlp{784, 256, 256, 10, activation = "relu"}
  local opt = optim.Adam(model:parameters(), {lr = 1e-3})
  local function step()
    opt:zero_grad()
    local loss = nn.cross_entropy(model(X), y)
    loss:backward()
    opt:step()
  end
  for th = 1, opts.threads do
    actrun.set_num_threads(th)
    result(string.format("train.mlp.step.%dt", th),
      timed(step, opts.steps > 0 and opts.steps or 200, opts.reps) * 1e3, "ms")
  end
end
