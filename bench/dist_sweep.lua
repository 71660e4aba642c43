-- Sweep speed-up from MPI ranks: one small lab.compare sweep (8 activations x 2 seeds on
-- a synthetic 3-class task) timed as 1 rank x 1 thread, 1 rank x 2 threads and 2 ranks
-- x 1 thread (mpirun -np 2), each the median of --repeat runs. Not part of the test
-- suite; docs/DISTRIBUTED.md has the figures and the scaling assumptions.
--
--   actrun bench/dist_sweep.lua [--repeat 3] [--ranks 2] [--n 12000] [--epochs 3] [--width 64]
--   mpirun -np 2 actrun bench/dist_sweep.lua --child 1   (one timing; what the driver runs)
local actrun = require "actrun"
local dist = require "actrun.dist"
local lab, nn, data = actrun.lab, actrun.nn, actrun.data

local opts = {["repeat"] = 3, ranks = 2, n = 12000, epochs = 3, width = 64, child = nil}
local i = 1
while arg and arg[i] do
  local k = arg[i]:match("^%-%-(.+)$")
  if not k or opts[k] == nil and k ~= "child" then
    io.stderr:write("dist_sweep: unknown argument " .. arg[i] .. "\n")
    os.exit(2)
  end
  opts[k] = tonumber(arg[i + 1])
  i = i + 2
end

local ACTS = {"relu", "leaky_relu", "elu", "selu", "gelu", "silu", "tanh", "mish"}

-- one timed sweep; returns seconds (on every rank) and the rows
local function sweep(threads)
  actrun.set_num_threads(threads)
  local X, y = data.blobs{n = opts.n, classes = 3, seed = 7}
  local Xt, yt = data.blobs{n = 1000, classes = 3, seed = 8}
  dist.barrier()
  local t0 = actrun.clock()
  local rows = lab.compare{activations = ACTS, seeds = 2, epochs = opts.epochs, batch = 64,
    model = function(a) return nn.mlp{2, opts.width, opts.width, 3, activation = a} end,
    data = {train = {X = X, y = y}, test = {X = Xt, y = yt}}, quiet = true}
  dist.barrier()
  local t = dist.allreduce({actrun.clock() - t0}, "max")[1]
  return t, rows
end

if opts.child then
  local c0 = os.clock()
  local t, rows = sweep(opts.child)
  -- the training time summed over the runs (whichever rank ran them) and the CPU time
  -- the busiest rank got: when the runs' seconds grow with the ranks, the cores are shared
  local run_s = 0
  for _, r in ipairs(rows) do run_s = run_s + r.seconds end
  local cpu = dist.allreduce({os.clock() - c0}, "max")[1]
  if dist.rank() == 0 then
    print(string.format("SWEEP_SECONDS %.4f RUN_SECONDS %.4f CPU_MAX %.4f", t, run_s, cpu))
  end
  return
end

-- The driver: runs the child configurations as separate processes (a fresh process per
-- timing, as a user would run them).
local function interpreter()
  local k = 0
  while arg[k - 1] ~= nil do k = k - 1 end
  return arg[k]
end
local self = arg[0]
local exe = interpreter()
local function sh(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

local function run(cmd)
  local p = io.popen(cmd .. " 2>&1")
  local out = p:read("a")
  p:close()
  local t, rs, cpu = out:match("SWEEP_SECONDS ([%d.]+) RUN_SECONDS ([%d.]+) CPU_MAX ([%d.]+)")
  if not t then error("dist_sweep: no timing from: " .. cmd .. "\n" .. out, 0) end
  return tonumber(t), tonumber(rs), tonumber(cpu)
end

local function median(list)
  table.sort(list)
  local n = #list
  return n % 2 == 1 and list[(n + 1) // 2] or (list[n / 2] + list[n / 2 + 1]) / 2
end

local args = string.format("--n %d --epochs %d --width %d", opts.n, opts.epochs, opts.width)
local root = io.popen("id -u"):read("l") == "0"
local mpirun = string.format("mpirun --oversubscribe %s -np %d",
  root and "--allow-run-as-root" or "", opts.ranks)
local have_mpi = dist.info().mpi and os.execute("command -v mpirun >/dev/null 2>&1")

local configs = {
  {name = "1 rank x 1 thread", cmd = string.format("%s %s %s --child 1", sh(exe), sh(self), args)},
  {name = "1 rank x 2 threads", cmd = string.format("%s %s %s --child 2", sh(exe), sh(self), args)},
}
if have_mpi then
  configs[#configs + 1] = {name = string.format("%d ranks x 1 thread", opts.ranks),
    cmd = string.format("OMPI_MCA_btl=self,vader %s %s %s %s --child 1", mpirun, sh(exe),
      sh(self), args)}
end

print(string.format("lab.compare sweep: %d activations x 2 seeds = %d runs, %d rows, " ..
  "mlp{2,%d,%d,3}, %d epochs, batch 64; median of %d", #ACTS, 2 * #ACTS, opts.n, opts.width,
  opts.width, opts.epochs, opts["repeat"]))
local times = {}
for _, c in ipairs(configs) do
  local list, rsl, cpul = {}, {}, {}
  for r = 1, opts["repeat"] do list[r], rsl[r], cpul[r] = run(c.cmd) end
  local mn, mx = math.min(table.unpack(list)), math.max(table.unpack(list))
  times[#times + 1] = median(list)
  print(string.format("  %-22s %7.2f s   (min %.2f, max %.2f)   runs' own seconds %.2f, " ..
    "busiest rank's CPU %.2f s", c.name, times[#times], mn, mx, median(rsl), median(cpul)))
end
if have_mpi then
  print(string.format("speed-up of %d ranks: %.2fx over 1 rank x 1 thread, %.2fx over 1 rank " ..
    "x 2 threads", opts.ranks, times[1] / times[3], times[2] / times[3]))
else
  print("no mpirun (or a build without MPI): only the one-rank timings")
end
print("(a shared 2-core machine: timings are noisy; compare the ratios within one run)")
