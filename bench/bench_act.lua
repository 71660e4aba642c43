-- Every activation, forward and forward+backward, in actrun and (bench/torch_act.py) in
-- PyTorch, measured as users write it: a new output every call.
--
-- Measure (prints "KEY VALUE UNIT" lines, keys actrun.act.NAME.MODE.N.Tt, microseconds
-- per call), for each size and each thread count 1..MAX, on x ~ 3 N(0,1):
--   fwd     local y = f(x)                                   f = actrun.act.NAME
--   fwdbwd  x.grad = nil; local y = f(x); y:backward(g)      (x requires grad)
-- The loop body is exactly that statement (compiled once, operands in locals); one
-- warm-up call, then as many calls per sample as fill about --sample seconds; the median
-- over --reps samples.
--
--   actrun bench/bench_act.lua [--sizes 1000,100000,16000000] [--threads MAX] [--reps R]
--                              [--sample S] [--names a,b,c] [--quick] [--torch PYTHON]
--
-- With --torch PYTHON, bench/torch_act.py then runs with the same options under that
-- Python and the comparison tables are printed (--stream FILE adds bandwidth columns).
--
-- Report (Markdown tables from saved outputs, as bench/run_all.sh does):
--   actrun bench/bench_act.lua --report ACTRUN.txt [--torch-file TORCH.txt]
--                              [--stream STREAM.txt] [--header TEXT]
-- One table per size and thread count: ns per element in actrun and PyTorch, the
-- speed-up (PyTorch time / actrun time, > 1: actrun faster) and their geometric mean;
-- microseconds per call at sizes up to 10^4; at 10^7 elements and more, GB/s (8 bytes
-- per element forward, 20 forward+backward) and its share of the STREAM triad measured
-- at the same thread count (bench/stream's stream.triad.Tt line).
local actrun = actrun or require "actrun"
local act = actrun.act
local here = (arg and arg[0] or ""):match("^(.*)/") or "."
local cli = dofile(here .. "/../scripts/lib/cli.lua")

local spec = {
  usage = "actrun bench/bench_act.lua [options]",
  about = "Activations forward and forward+backward, actrun vs PyTorch (bench/torch_act.py).",
  options = {
    {"sizes", "string", "1000,100000,16000000", help = "comma-separated element counts", arg = "LIST"},
    {"threads", "int", 2, help = "largest thread count (1..MAX are measured)", min = 1},
    {"reps", "int", 5, help = "samples per measurement (the median is reported)", min = 1},
    {"sample", "number", 0.02, help = "seconds per sample", min = 1e-6, arg = "S"},
    {"names", "string", nil, help = "comma-separated activations (default: act.list())", arg = "LIST"},
    {"quick", "flag", help = "sizes 1000,100000, 1 rep, 2 ms samples (a smoke run)"},
    {"torch", "string", nil, help = "also run bench/torch_act.py with this Python and compare",
     arg = "PYTHON"},
    {"report", "string", nil, help = "print the tables from this saved actrun output instead of measuring",
     arg = "FILE"},
    {"torch-file", "string", nil, help = "saved output of bench/torch_act.py (with --report)",
     arg = "FILE"},
    {"stream", "string", nil, help = "saved output of bench/stream (bandwidth reference)", arg = "FILE"},
    {"header", "string", nil, help = "a line printed above the tables", arg = "TEXT"},
  }}
local opt, given = cli.parse(arg, spec)
if opt.quick then
  if not given.sizes then opt.sizes = "1000,100000" end
  if not given.reps then opt.reps = 1 end
  if not given.sample then opt.sample = 0.002 end
end

local sizes = {}
for s in opt.sizes:gmatch("[^,%s]+") do
  local v = math.tointeger(tonumber(s))
  if not v or v < 1 then cli.fail(spec, "--sizes: expected positive integers, got '" .. s .. "'") end
  sizes[#sizes + 1] = v
end
if #sizes == 0 then cli.fail(spec, "--sizes: no size given") end

local names = act.list()
if opt.names then
  local known = {}
  for _, n in ipairs(names) do known[n] = true end
  names = {}
  for n in opt.names:gmatch("[^,%s]+") do
    if not known[n] then cli.fail(spec, "--names: unknown activation '" .. n .. "'") end
    names[#names + 1] = n
  end
end

-- ---------- measuring ----------

local BODIES = {
  fwd = "local y = f(x)",
  fwdbwd = "x.grad = nil; local y = f(x); y:backward(g)",
}

local function measure(out)
  local saved = actrun.get_num_threads()
  out(("# bench_act.lua: actrun %s, %s, SIMD %s; median of %d samples of ~%g s"):format(
    actrun.version, _VERSION, actrun.build_info().simd, opt.reps, opt.sample))
  actrun.manual_seed(1)
  for _, n in ipairs(sizes) do
    local x = actrun.randn(n) * 3
    local g = actrun.randn(n)
    local xg = x:detach()
    xg.requires_grad = true
    for nt = 1, opt.threads do
      actrun.set_num_threads(nt)
      for _, name in ipairs(names) do
        local f = act[name]
        local t = cli.per_call(cli.timed_loop("f, x, g", BODIES.fwd), table.pack(f, x, g), opt.sample, opt.reps)
        out(("%-44s %12.4f us"):format(("actrun.act.%s.fwd.%d.%dt"):format(name, n, nt), t * 1e6))
        t = cli.per_call(cli.timed_loop("f, x, g", BODIES.fwdbwd), table.pack(f, xg, g), opt.sample, opt.reps)
        out(("%-44s %12.4f us"):format(("actrun.act.%s.fwdbwd.%d.%dt"):format(name, n, nt), t * 1e6))
        collectgarbage()
      end
    end
    x, g, xg = nil, nil, nil
    collectgarbage()
  end
  actrun.set_num_threads(saved)
end

-- ---------- report ----------

local BYTES = {fwd = 8, fwdbwd = 20}

-- Markdown tables (returned as one string) from the key tables of both sides.
local function report(A, T, S, header)
  -- sizes, threads and names present in the actrun data, in a stable order
  local seen_n, seen_t, seen_name, ns, ts, nm = {}, {}, {}, {}, {}, {}
  for k in pairs(A) do
    local name, mode, n, t = k:match("^actrun%.act%.([%w_]+)%.(%w+)%.(%d+)%.(%d+)t$")
    if name and BYTES[mode] then
      n, t = tonumber(n), tonumber(t)
      if not seen_n[n] then seen_n[n] = true; ns[#ns + 1] = n end
      if not seen_t[t] then seen_t[t] = true; ts[#ts + 1] = t end
      if not seen_name[name] then seen_name[name] = true; nm[#nm + 1] = name end
    end
  end
  table.sort(ns); table.sort(ts); table.sort(nm)
  local out = {}
  if header then out[#out + 1] = header .. "\n" end
  if #ns == 0 then
    out[#out + 1] = "No actrun activation results (actrun.act.* lines) found."
    return table.concat(out, "\n"), {}
  end
  local summary = {}
  for _, n in ipairs(ns) do
    for _, t in ipairs(ts) do
      local rows, speed = {}, {fwd = {}, fwdbwd = {}}
      for _, name in ipairs(nm) do
        local r = {name = "`" .. name .. "`"}
        for mode in pairs(BYTES) do
          local a = A[("actrun.act.%s.%s.%d.%dt"):format(name, mode, n, t)]
          local b = T[("torch.act.%s.%s.%d.%dt"):format(name, mode, n, t)]
          if a then
            r[mode .. "_a"] = a * 1e3 / n -- us per call -> ns per element
            r[mode .. "_us"] = a
            r[mode .. "_gbs"] = BYTES[mode] * n / (a * 1e-6) * 1e-9
          end
          if b then
            r[mode .. "_t"] = b * 1e3 / n
            r[mode .. "_tus"] = b
            r[mode .. "_tgbs"] = BYTES[mode] * n / (b * 1e-6) * 1e-9
          end
          if a and b and a > 0 then
            r[mode .. "_x"] = b / a
            speed[mode][#speed[mode] + 1] = b / a
          end
          r.any = r.any or a or b
        end
        if r.any then rows[#rows + 1] = r end
      end
      local triad = S[("stream.triad.%dt"):format(t)]
      for _, r in ipairs(rows) do
        if triad and r.fwd_gbs then r.fwd_triad = 100 * r.fwd_gbs / triad end
        if triad and r.fwdbwd_gbs then r.fwdbwd_triad = 100 * r.fwdbwd_gbs / triad end
      end
      local gm = {name = "geometric mean", fwd_x = cli.geomean(speed.fwd),
        fwdbwd_x = cli.geomean(speed.fwdbwd)}
      rows[#rows + 1] = gm
      summary[#summary + 1] = {n = n, threads = t, fwd = gm.fwd_x, fwdbwd = gm.fwdbwd_x,
        count_fwd = #speed.fwd, count_fwdbwd = #speed.fwdbwd}
      local cols = {{"activation", "name", align = "left"}}
      local function add(list)
        for _, c in ipairs(list) do cols[#cols + 1] = c end
      end
      if n <= 10000 then -- small: the per-call time is what a user sees
        add{{"fwd actrun us/call", "fwd_us", "%.2f"}, {"fwd PyTorch us/call", "fwd_tus", "%.2f"},
          {"fwd speed-up", "fwd_x", "%.2f"},
          {"fwd+bwd actrun us/call", "fwdbwd_us", "%.2f"},
          {"fwd+bwd PyTorch us/call", "fwdbwd_tus", "%.2f"}, {"fwd+bwd speed-up", "fwdbwd_x", "%.2f"}}
      else
        add{{"fwd actrun ns/el", "fwd_a", "%.3f"}, {"fwd PyTorch ns/el", "fwd_t", "%.3f"},
          {"fwd speed-up", "fwd_x", "%.2f"},
          {"fwd+bwd actrun ns/el", "fwdbwd_a", "%.3f"}, {"fwd+bwd PyTorch ns/el", "fwdbwd_t", "%.3f"},
          {"fwd+bwd speed-up", "fwdbwd_x", "%.2f"}}
      end
      if n >= 10000000 then -- big: memory traffic against the machine's bandwidth
        add{{"fwd actrun GB/s", "fwd_gbs", "%.1f"}, {"fwd PyTorch GB/s", "fwd_tgbs", "%.1f"},
          {"fwd actrun % of triad", "fwd_triad", "%.0f%%"},
          {"fwd+bwd actrun GB/s", "fwdbwd_gbs", "%.1f"}, {"fwd+bwd PyTorch GB/s", "fwdbwd_tgbs", "%.1f"},
          {"fwd+bwd actrun % of triad", "fwdbwd_triad", "%.0f%%"}}
      end
      local what = ("%d elements, %d thread%s"):format(n, t, t > 1 and "s" or "")
      if n >= 10000000 then
        what = what .. (triad and (", STREAM triad %.1f GB/s"):format(triad)
          or ", STREAM triad not measured")
      end
      out[#out + 1] = "**" .. what .. "** (speed-up = PyTorch time / actrun time; > 1: actrun faster)\n"
      out[#out + 1] = cli.format_table(cols, rows, {markdown = true}) .. "\n"
    end
  end
  -- one summary table of the geometric means
  out[#out + 1] = "**Geometric mean speed-up over the activations both have**\n"
  out[#out + 1] = cli.format_table({
    {"elements", "n", "%d"}, {"threads", "threads", "%d"},
    {"forward", "fwd", "%.2f"}, {"forward+backward", "fwdbwd", "%.2f"},
    {"activations compared", "count_fwd", "%d"},
  }, summary, {markdown = true})
  return table.concat(out, "\n"), summary
end

-- ---------- main ----------

if opt.report then
  local A = cli.parse_keys(cli.read_file(spec, opt.report, "--report"))
  local T = opt["torch-file"] and cli.parse_keys(cli.read_file(spec, opt["torch-file"], "--torch-file")) or {}
  local S = opt.stream and cli.parse_keys(cli.read_file(spec, opt.stream, "--stream")) or {}
  local text, summary = report(A, T, S, opt.header)
  print(text)
  return summary
end

local lines = {}
measure(function(s)
  print(s)
  io.stdout:flush()
  lines[#lines + 1] = s
end)
if opt.torch then
  local script = here .. "/torch_act.py"
  local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end
  local cmd = ("%s %s --sizes %s --threads %d --reps %d --sample %s"):format(q(opt.torch), q(script),
    q(table.concat(sizes, ",")), opt.threads, opt.reps, tostring(opt.sample))
  cmd = cmd .. " --names " .. q(table.concat(names, ","))
  local p = assert(io.popen(cmd, "r"))
  local ttext = p:read("a")
  local ok, how, code = p:close()
  io.write(ttext)
  if not ok then
    io.stderr:write(("bench_act.lua: %s ended with %s %s; PyTorch columns are empty\n")
      :format(opt.torch, tostring(how), tostring(code)))
  end
  local S = opt.stream and cli.parse_keys(cli.read_file(spec, opt.stream, "--stream")) or {}
  print()
  print((report(cli.parse_keys(table.concat(lines, "\n")), cli.parse_keys(ttext), S, opt.header)))
end
