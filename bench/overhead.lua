-- Per-call overhead of small tensor operations, and two big elementwise operations, in
-- actrun (the PyTorch counterpart is bench/overhead_torch.py).
--
--   actrun bench/overhead.lua [--n CALLS] [--reps R] [--threads MAX] [--big ELEMENTS]
--
-- Small: each operation runs in a loop of --n iterations (default 1e6) on tensors of 4
-- elements, --reps times (default 5); the median time per call is printed in
-- microseconds. The loop body is exactly the statement shown (compiled with `load`, the
-- tensors in locals), so the time includes creating and collecting the results, as in a
-- user's loop. The empty loop is printed too (lua.small.empty).
-- Big: `c = a + b` and `c = a:clamp(0)` on --big elements (default 16M), at 1..MAX threads:
-- samples of 10 calls, --reps samples, the median per call in ms and GB/s (12 and 8 bytes
-- per element, as STREAM counts).
--
-- Output: "KEY VALUE UNIT" lines (and "# " comments), read by bench/run_all.sh.

local actrun = actrun or require("actrun")
local clock = actrun.clock

local opts = { n = 1e6, reps = 5, threads = 2, big = 1 << 24 }
do
  local i = 1
  while arg and arg[i] do
    local k, v = arg[i]:match("^%-%-(%w+)=?(.*)$")
    if not k or opts[k] == nil then
      io.stderr:write("overhead.lua: unknown option " .. tostring(arg[i]) .. "\n")
      os.exit(2)
    end
    if v == "" then
      i = i + 1
      v = arg[i]
    end
    opts[k] = math.tointeger(tonumber(v)) or tonumber(v)
    i = i + 1
  end
end

local function result(key, value, unit)
  print(string.format("%-34s %10.4f %s", key, value, unit))
  io.stdout:flush()
end

local function median(t)
  local s = {}
  for i, v in ipairs(t) do s[i] = v end
  table.sort(s)
  local n = #s
  if n % 2 == 1 then return s[(n + 1) // 2] end
  return 0.5 * (s[n // 2] + s[n // 2 + 1])
end

-- A function timing `n` runs of the statement `body`, with a, b, t and actrun as locals.
local function loop(body)
  local src = "local a, b, t, actrun, clock, n = ...\n" ..
      "local t0 = clock()\n" ..
      "for _ = 1, n do " .. body .. " end\n" ..
      "return clock() - t0\n"
  return assert(load(src, "=(" .. body .. ")", "t"))
end

local function time_small(body, a, b, t)
  local f = loop(body)
  f(a, b, t, actrun, clock, math.min(opts.n, 10000)) -- warm up
  local s = {}
  for r = 1, opts.reps do
    collectgarbage("collect")
    s[r] = f(a, b, t, actrun, clock, opts.n) / opts.n
  end
  return median(s)
end

print(string.format("# overhead.lua: %s, %s; %d calls x %d repetitions (median); threads %d",
  actrun.version and ("actrun " .. actrun.version) or "actrun", _VERSION, opts.n, opts.reps,
  actrun.get_num_threads()))

-- ---------- small tensors ----------
do
  local a, b = actrun.rand(4), actrun.rand(4)
  local cases = {
    { "lua.small.empty", "" },
    { "lua.small.add_op", "local c = a + b" },
    { "lua.small.add_method", "local c = a:add(b)" },
    { "lua.small.sum", "local s = a:sum()" },
    { "lua.small.dim", "local d = t:dim()" },
    { "lua.small.zeros", "local z = actrun.zeros(4)" },
  }
  for _, c in ipairs(cases) do
    result(c[1], time_small(c[2], a, b, a) * 1e6, "us")
  end
end

-- ---------- big elementwise ----------
do
  local n = opts.big
  local saved = actrun.get_num_threads()
  actrun.set_num_threads(1)
  local a = actrun.rand(n) - 0.5
  local b = actrun.rand(n)
  local calls = 10
  local cases = {
    { "add_new", "c = a + b", 12 },
    { "clamp_new", "c = a:clamp(0)", 8 },
  }
  print(string.format("# big: %d elements (%.0f MiB per tensor), samples of %d calls", n,
    n * 4 / 2 ^ 20, calls))
  for nt = 1, opts.threads do
    actrun.set_num_threads(nt)
    for _, c in ipairs(cases) do
      local f = loop("local " .. c[2])
      f(a, b, a, actrun, clock, 3) -- warm up: buffers into the cache
      local s = {}
      for r = 1, opts.reps do
        s[r] = f(a, b, a, actrun, clock, calls) / calls
      end
      local t = median(s)
      result(string.format("lua.big.%s.%dt.ms", c[1], nt), t * 1e3, "ms")
      result(string.format("lua.big.%s.%dt", c[1], nt), c[3] * n / t * 1e-9, "GB/s")
    end
  end
  actrun.set_num_threads(saved)
end
