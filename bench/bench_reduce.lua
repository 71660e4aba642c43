-- Reductions in actrun and (bench/torch_reduce.py) in PyTorch: sum (the reference), max,
-- argmax, prod and the p-norms of orders 3 and 2.5, measured as users write them.
--
-- Measure (prints "KEY VALUE UNIT" lines, keys actrun.reduce.OP.CASE.Tt.LEVEL,
-- microseconds per call), for each case and each thread count 1..MAX, at the SIMD level in
-- use (ACTRUN_SIMD lowers it; run once per level):
--   full reductions of N elements (--sizes):  x:sum()  x:max()  x:argmax()  x:prod()
--     x:norm(3) (norm3: an integer order)  x:norm(2.5) (norm25: pow per element)
--   rows of an R x R matrix (--rows R), case rowsR: the same along the last dim (dim 2;
--     max(2) returns values and indices, as torch.max(x, 1))
--   columns of it, case colsR: the same along dim 1
-- Data: 1 + N(0, 1) / 1000 (products neither overflow nor vanish). One warm-up call, then
-- as many calls per sample as fill about --sample seconds; the median over --reps samples.
--
--   actrun bench/bench_reduce.lua [--sizes 1000,100000,16000000] [--rows 4096] [--threads MAX]
--                                 [--reps R] [--sample S] [--ops a,b] [--quick]
--
-- Report (Markdown tables from saved outputs):
--   actrun bench/bench_reduce.lua --report AFTER.txt [--before BEFORE.txt]
--                                 [--torch-file TORCH.txt] [--stream STREAM.txt]
-- Several runs of one side may be concatenated into one file (interleaved rounds): the
-- median of each key's values is reported. One table per thread count: GB/s (4 bytes per
-- element read), the before -> after speed-up, the ratio to PyTorch (PyTorch time /
-- actrun time, > 1: actrun faster) and the share of the STREAM read bandwidth
-- (bench/stream's stream.read.Tt line).
local actrun = actrun or require "actrun"
local here = (arg and arg[0] or ""):match("^(.*)/") or "."
local cli = dofile(here .. "/../scripts/lib/cli.lua")

local spec = {
  usage = "actrun bench/bench_reduce.lua [options]",
  about = "Reductions (sum, max, argmax, prod, norms 3 and 2.5), actrun vs PyTorch (bench/torch_reduce.py).",
  options = {
    {"sizes", "string", "1000,100000,16000000", help = "comma-separated element counts (full reductions)", arg = "LIST"},
    {"rows", "int", 4096, help = "side of the square matrix reduced along rows and columns (0: none)", min = 0},
    {"threads", "int", 2, help = "largest thread count (1..MAX are measured)", min = 1},
    {"reps", "int", 5, help = "samples per measurement (the median is reported)", min = 1},
    {"sample", "number", 0.02, help = "seconds per sample", min = 1e-6, arg = "S"},
    {"ops", "string", nil, help = "comma-separated ops (default: sum,max,argmax,prod,norm3,norm25)", arg = "LIST"},
    {"quick", "flag", help = "sizes 1000,100000, rows 256, 1 rep, 2 ms samples (a smoke run)"},
    {"report", "string", nil, help = "print the tables from this saved actrun output instead of measuring",
     arg = "FILE"},
    {"before", "string", nil, help = "saved actrun output of the build compared against (with --report)",
     arg = "FILE"},
    {"torch-file", "string", nil, help = "saved output of bench/torch_reduce.py (with --report)",
     arg = "FILE"},
    {"stream", "string", nil, help = "saved output of bench/stream (bandwidth reference)", arg = "FILE"},
  }}
local opt, given = cli.parse(arg, spec)
if opt.quick then
  if not given.sizes then opt.sizes = "1000,100000" end
  if not given.rows then opt.rows = 256 end
  if not given.reps then opt.reps = 1 end
  if not given.sample then opt.sample = 0.002 end
end

local OPS = {"sum", "max", "argmax", "prod", "norm3", "norm25"}
-- the statement per op; d is nil (full) or the dim
local BODY = {
  sum = "local y = x:sum(d)",
  max = "local y, i = x:max(d)",
  argmax = "local y = x:argmax(d)",
  prod = "local y = x:prod(d)",
  norm3 = "local y = x:norm(3, d)",
  norm25 = "local y = x:norm(2.5, d)",
}
local ops = OPS
if opt.ops then
  ops = {}
  for o in opt.ops:gmatch("[^,%s]+") do
    if not BODY[o] then cli.fail(spec, "--ops: unknown op '" .. o .. "'") end
    ops[#ops + 1] = o
  end
end

-- ---------- measuring ----------

local function measure(out)
  local saved = actrun.get_num_threads()
  local level = actrun.build_info().simd
  out(("# bench_reduce.lua: actrun %s, %s, SIMD %s; median of %d samples of ~%g s"):format(
    actrun.version, _VERSION, level, opt.reps, opt.sample))
  actrun.manual_seed(1)
  local cases = {}
  for s in opt.sizes:gmatch("[^,%s]+") do
    local v = math.tointeger(tonumber(s))
    if not v or v < 1 then cli.fail(spec, "--sizes: expected positive integers, got '" .. s .. "'") end
    cases[#cases + 1] = {name = tostring(v), n = v}
  end
  if opt.rows > 0 then
    local r = opt.rows
    cases[#cases + 1] = {name = "rows" .. r, n = r * r, shape = {r, r}, dim = 2}
    cases[#cases + 1] = {name = "cols" .. r, n = r * r, shape = {r, r}, dim = 1}
  end
  for _, c in ipairs(cases) do
    local x = actrun.randn(c.n) / 1000 + 1
    if c.shape then x = x:view(c.shape[1], c.shape[2]) end
    for nt = 1, opt.threads do
      actrun.set_num_threads(nt)
      for _, op in ipairs(ops) do
        local t = cli.per_call(cli.timed_loop("x, d", BODY[op]), table.pack(x, c.dim), opt.sample, opt.reps)
        out(("%-48s %12.4f us"):format(("actrun.reduce.%s.%s.%dt.%s"):format(op, c.name, nt, level),
                                        t * 1e6))
        collectgarbage()
      end
    end
    x = nil
    collectgarbage()
  end
  actrun.set_num_threads(saved)
end

-- ---------- report ----------

local function case_elems(name)
  local r = name:match("^rows(%d+)$") or name:match("^cols(%d+)$")
  if r then return tonumber(r) ^ 2 end
  return tonumber(name)
end

local function report(A, B, T, S)
  local seen, cases, levels, threads = {}, {}, {}, {}
  for k in pairs(A) do
    local op, c, t, lv = k:match("^actrun%.reduce%.([%w]+)%.([%w]+)%.(%d+)t%.(%w+)$")
    if op then
      if not seen["c" .. c] then seen["c" .. c] = true; cases[#cases + 1] = c end
      if not seen["l" .. lv] then seen["l" .. lv] = true; levels[#levels + 1] = lv end
      if not seen["t" .. t] then seen["t" .. t] = true; threads[#threads + 1] = tonumber(t) end
    end
  end
  local corder = function(a, b)
    local na, nb = case_elems(a), case_elems(b)
    if na ~= nb then return na < nb end
    return a > b -- rows before cols
  end
  table.sort(cases, corder)
  table.sort(threads)
  local lorder = {avx512 = 1, avx2 = 2, baseline = 3}
  table.sort(levels, function(a, b) return (lorder[a] or 9) < (lorder[b] or 9) end)
  local out = {}
  local function f(v, fmt) return v and (fmt or "%.1f"):format(v) or "" end
  for _, t in ipairs(threads) do
    local read = S[("stream.read.%dt"):format(t)]
    out[#out + 1] = ("\n%d thread%s%s\n"):format(t, t > 1 and "s" or "",
      read and (" (STREAM read %.1f GB/s)"):format(read) or "")
    out[#out + 1] = "| op | case | level | GB/s before | GB/s after | after/before | PyTorch GB/s | vs PyTorch | % STREAM read |"
    out[#out + 1] = "|---|---|---|---:|---:|---:|---:|---:|---:|"
    for _, op in ipairs(OPS) do
      for _, c in ipairs(cases) do
        local n = case_elems(c)
        local tt = T[("torch.reduce.%s.%s.%dt"):format(op, c, t)]
        for _, lv in ipairs(levels) do
          local key = ("actrun.reduce.%s.%s.%dt.%s"):format(op, c, t, lv)
          local a, b = A[key], B[key]
          if a then
            local gbs = 4 * n / (a * 1e-6) * 1e-9
            local bgbs = b and 4 * n / (b * 1e-6) * 1e-9
            local tgbs = tt and 4 * n / (tt * 1e-6) * 1e-9
            out[#out + 1] = ("| %s | %s | %s | %s | %s | %s | %s | %s | %s |"):format(
              op, c, lv, f(bgbs), f(gbs), b and f(b / a, "%.2f") or "", f(tgbs),
              tt and f(tt / a, "%.2f") or "", read and f(100 * gbs / read, "%.0f") or "")
          end
        end
      end
    end
  end
  return table.concat(out, "\n")
end

if opt.report then
  local A = cli.parse_keys(cli.read_file(spec, opt.report, "--report"))
  local B = opt.before and cli.parse_keys(cli.read_file(spec, opt.before, "--before")) or {}
  local T = opt["torch-file"] and cli.parse_keys(cli.read_file(spec, opt["torch-file"], "--torch-file")) or {}
  local S = opt.stream and cli.parse_keys(cli.read_file(spec, opt.stream, "--stream")) or {}
  print(report(A, B, T, S))
else
  measure(function(line)
    print(line)
    io.stdout:flush()
  end)
end
