-- Claims 3a and 6.3: an activation runs once per neuron per pass, so its cost matters, and
-- piecewise-linear functions (ReLU and kin) need no exp: they are cheaper than the
-- exp-based / transcendental ones.
--
-- For every activation in act.list(), on one tensor of --size elements (x ~ 3 N(0,1),
-- random signs, so sign branches are not predictable):
--   forward        y = act.apply(name, x)             (x without grad: the kernel, a new y)
--   derivative     dx = act.backward(name, x, dy)     (the backward kernel, no autograd)
--   autograd bwd   y:backward(dy) after y = act.apply(name, x) with x.requires_grad
--                  (only the backward call is timed)
-- in ns per element. There is no API writing into an existing tensor, so every call makes
-- its output, as users' code does.
--
-- Timings drift (frequency, other processes), and one pass over the activations in a
-- fixed order let that drift decide which kind looked cheaper. So the measurements are
-- interleaved in --runs rounds: every round times every activation once (the order
-- rotated each round), and the comparison is made within a round, where the drift is
-- shared: per round, the geometric mean cost (forward + autograd backward) of the
-- transcendental activations over that of the piecewise-linear ones. Its geometric mean
-- over rounds with a 95% CI (t over the rounds' log ratios) decides the verdict. Per
-- activation the min / median / max over the rounds is printed.
--
-- Two sizes: --size (default 16K elements, 64 KiB per tensor: in cache, where the
-- arithmetic shows) decides the verdict; --big-size (default 4M, 16 MiB: memory-bound,
-- where every kernel runs at memory speed and the claim may legitimately not show) is
-- reported beside it. Verdict: SUPPORTED when piecewise-linear is cheaper at --size with
-- the CI above 1, NOT SUPPORTED when it is dearer with the CI below 1, MIXED otherwise.
--
-- Kinds: "piecewise-linear" when f' is piecewise constant (measured: f' from act.scalar on
-- a fine grid changes value only at a few isolated points), "transcendental" when the
-- registry's formula (act.info) uses exp, log, tanh, erf, sigmoid, softplus, sin or cos,
-- else "algebraic" (rational or polynomial pieces, no exp). The activations are ranked
-- from the cheapest (median forward + autograd backward) and each kind's mean cost is
-- printed.
--
--   actrun scripts/activation_cost.lua [--quick] [--size N] [--big-size N] [--runs N]
--                                      [--threads N] [--names a,b,c] [--plot FILE]
local A = actrun or require "actrun"
local act = A.act
local here = (arg and arg[0] or ""):match("^(.*)/") or "."
local cli = dofile(here .. "/lib/cli.lua")

local spec = {
  usage = "actrun scripts/activation_cost.lua [options]",
  about = "ns per element of every activation, forward and backward; piecewise-linear vs transcendental.",
  options = {
    {"quick", "flag", help = "a small run (4 rounds, 2^20 elements for the memory-bound size)"},
    {"size", "int", 1 << 14, help = "elements of the tensor (the verdict's size)", min = 1},
    {"big_size", "int", 1 << 22, help = "elements of the memory-bound comparison (0: skip)", min = 0},
    {"runs", "int", 12, help = "rounds: every activation timed once per round, interleaved", min = 1},
    {"threads", "int", A.get_num_threads(), help = "threads (actrun.set_num_threads)", min = 1},
    {"names", "string", nil, help = "comma-separated activations (default: all of act.list())",
     arg = "LIST"},
    {"plot", "string", nil, help = "draw forward and backward ns/element per rank into FILE",
     arg = "FILE"},
  }}
local opt, given = cli.parse(arg, spec)
if opt.quick then
  if not given.big_size then opt.big_size = 1 << 20 end
  if not given.runs then opt.runs = 4 end
end

local names = act.list()
if opt.names then
  local known = {}
  for _, n in ipairs(names) do known[n] = true end
  names = {}
  for n in opt.names:gmatch("[^,%s]+") do
    if not known[n] then cli.fail(spec, "--names: unknown activation '" .. n .. "' (see act.list())") end
    if known[n] ~= "taken" then names[#names + 1] = n end
    known[n] = "taken"
  end
  if #names == 0 then cli.fail(spec, "--names: no activation given") end
end

-- ---------- kinds ----------
local TRANSCENDENTAL = {"exp", "log", "tanh", "erf", "Phi", "sigmoid", "softplus", "sin", "cos"}

local function uses_transcendental(formula)
  for _, f in ipairs(TRANSCENDENTAL) do
    if formula:find("%f[%w_]" .. f .. "%f[^%w_]") then return true end
  end
  return false
end

-- f' piecewise constant on [-8, 8]: the number of grid steps where f' changes value
local function derivative_changes(name)
  local changes, prev = 0, nil
  for i = 0, 1600 do
    local x = -8 + i / 100 + 1 / 977 -- off the integers and halves, where kinks sit
    local _, d = act.scalar(name, x)
    if prev and math.abs(d - prev) > 1e-9 * (1 + math.abs(prev)) then changes = changes + 1 end
    prev = d
  end
  return changes
end

-- (an activation defined in Lua with act.define may have no scalar form or formula: its
-- kind is then "other")
local function kind_of(name)
  local ok, changes = pcall(derivative_changes, name)
  if not ok then return "other" end
  if changes <= 8 then return "piecewise-linear" end
  if uses_transcendental(act.info(name).formula or "") then return "transcendental" end
  return "algebraic"
end

-- ---------- timing ----------
local stats = A.lab.stats
local clock = A.clock
local kinds = {}
for _, name in ipairs(names) do kinds[name] = kind_of(name) end

local function log(v) return math.log(math.max(v, 1e-300)) end

-- Times every activation on n elements, interleaved in opt.runs rounds. Returns per
-- activation the samples of forward, derivative kernel and autograd backward (ns/el), and
-- per round the cost (forward + autograd backward) of every activation.
local function measure(n)
  A.manual_seed(1)
  local x = A.randn(n) * 3
  local dy = A.randn(n)
  local xg = x:detach()
  xg.requires_grad = true
  -- calls per sample: at least ~4M elements of work (1M in --quick), so small sizes are
  -- not all overhead
  local calls = math.max(1, math.ceil((opt.quick and 1e6 or 4e6) / n))
  local has_der, samples = {}, {}
  for _, name in ipairs(names) do
    has_der[name] = pcall(act.backward, name, x:narrow(1, 1, 1), dy:narrow(1, 1, 1))
    samples[name] = {fwd = {}, der = {}, bwd = {}, total = {}}
  end
  local rounds = {}
  for r = 1, opt.runs do
    rounds[r] = {}
    for k = 1, #names do
      local name = names[(k + r - 2) % #names + 1] -- the order rotates every round
      local s = samples[name]
      local fwd = cli.time_per_call(function() local y = act.apply(name, x) end, calls, 1)
      local der = has_der[name] and
        cli.time_per_call(function() local d = act.backward(name, x, dy) end, calls, 1) or nil
      local bwd = cli.time_per_call(function()
        xg.grad = nil
        local y = act.apply(name, xg)
        local t0 = clock()
        y:backward(dy)
        return clock() - t0
      end, calls, 1)
      s.fwd[r], s.bwd[r] = fwd * 1e9 / n, bwd * 1e9 / n
      s.der[r] = der and der * 1e9 / n
      s.total[r] = s.fwd[r] + s.bwd[r]
      rounds[r][name] = {fwd = s.fwd[r], total = s.total[r]}
    end
    collectgarbage()
  end
  return {samples = samples, rounds = rounds, calls = calls, has_der = has_der}
end

-- Per round, geometric mean cost of kind a over that of kind b (key: "total" or "fwd");
-- returns the per-round log ratios and their geometric mean with a 95% CI.
local function kind_ratio(m, ka, kb, key)
  local logs = {}
  for r, round in ipairs(m.rounds) do
    local sa, na, sb, nb = 0, 0, 0, 0
    for _, name in ipairs(names) do
      if kinds[name] == ka then sa, na = sa + log(round[name][key]), na + 1 end
      if kinds[name] == kb then sb, nb = sb + log(round[name][key]), nb + 1 end
    end
    if na == 0 or nb == 0 then return nil end
    logs[r] = sa / na - sb / nb
  end
  local d = stats.describe(logs)
  return {logs = logs, n = d.n, ratio = math.exp(d.mean), lo = math.exp(d.ci95[1]),
    hi = math.exp(d.ci95[2])}
end

local saved_threads = A.get_num_threads()
A.set_num_threads(opt.threads)
local n = opt.size
local m = measure(n)
local big = opt.big_size > 0 and measure(opt.big_size) or nil
A.set_num_threads(saved_threads)

print(("actrun %s: %d elements (%.1f KiB per tensor), %d thread(s), %d interleaved rounds of %d call(s)")
  :format(A.version, n, n * 4 / 2 ^ 10, opt.threads, opt.runs, m.calls))
local rows = {}
for _, name in ipairs(names) do
  local s = m.samples[name]
  local info = act.info(name)
  local sorted = {}
  for i, v in ipairs(s.total) do sorted[i] = v end
  table.sort(sorted)
  local r = {name = name, family = info.family, kind = kinds[name],
    fwd = cli.median(s.fwd), der = m.has_der[name] and cli.median(s.der) or nil,
    bwd = cli.median(s.bwd), min = sorted[1], max = sorted[#sorted], samples = s.total}
  r.total = r.fwd + r.bwd
  -- forward moves 8 bytes per element (read x, write y), the backward kernels 12
  r.fwd_gbs = 8 / r.fwd
  rows[#rows + 1] = r
end

table.sort(rows, function(a, b) return a.total < b.total end)
local base
for _, r in ipairs(rows) do
  if r.name == "relu" then base = r.total end
end
for i, r in ipairs(rows) do
  r.rank = i
  r.vs_relu = base and r.total / base or nil
end
print()
cli.print_table({
  {"rank", "rank", "%d"}, {"activation", "name"}, {"family (registry)", "family"},
  {"kind", "kind"}, {"forward ns/el", "fwd", "%.3f"}, {"forward GB/s", "fwd_gbs", "%.1f"},
  {"derivative kernel ns/el", "der", "%.3f"}, {"autograd backward ns/el", "bwd", "%.3f"},
  {"fwd + bwd", "total", "%.3f"}, {"min", "min", "%.3f"}, {"max", "max", "%.3f"},
  {"x relu", "vs_relu", "%.2f"},
}, rows)
print("(medians over the rounds; min and max of fwd + bwd over the rounds)")

-- ---------- per kind ----------
local order, groups = {"piecewise-linear", "algebraic", "transcendental", "other"}, {}
for _, k in ipairs(order) do
  groups[k] = {kind = k, count = 0, fwd = 0, bwd = 0, der = 0, members = {}, totals = {}}
end
for _, r in ipairs(rows) do
  local g = groups[r.kind]
  g.count, g.fwd, g.bwd = g.count + 1, g.fwd + r.fwd, g.bwd + r.bwd
  if r.der and g.der then g.der = g.der + r.der else g.der = nil end
  g.members[#g.members + 1] = r.name
  g.totals[#g.totals + 1] = r.total
end
local group_rows = {}
for _, k in ipairs(order) do
  local g = groups[k]
  if g.count > 0 then
    g.fwd, g.bwd, g.der = g.fwd / g.count, g.bwd / g.count, g.der and g.der / g.count
    g.total = g.fwd + g.bwd
    g.median_total = cli.median(g.totals)
    group_rows[#group_rows + 1] = g
  end
end
local pl = groups["piecewise-linear"]
for _, g in ipairs(group_rows) do
  g.vs_pl = pl.count > 0 and g.total / pl.total or nil
end
print("\nMean cost per kind (ns per element; the median is less swayed by one slow kernel):")
cli.print_table({
  {"kind", "kind"}, {"count", "count", "%d"}, {"forward", "fwd", "%.3f"},
  {"derivative kernel", "der", "%.3f"}, {"autograd backward", "bwd", "%.3f"},
  {"fwd + bwd", "total", "%.3f"}, {"x piecewise-linear", "vs_pl", "%.2f"},
  {"median fwd + bwd", "median_total", "%.3f"},
}, group_rows)
for _, g in ipairs(group_rows) do
  print(("  %s: %s"):format(g.kind, table.concat(g.members, ", ")))
end

-- ---------- the paired comparison, per round ----------
local result = {rows = rows, groups = groups, names = names, size = n, threads = opt.threads}
local cmp = kind_ratio(m, "transcendental", "piecewise-linear", "total")
local cmp_fwd = kind_ratio(m, "transcendental", "piecewise-linear", "fwd")
local cmp_big = big and kind_ratio(big, "transcendental", "piecewise-linear", "total")
result.ratio, result.ratio_fwd, result.ratio_big = cmp, cmp_fwd, cmp_big
print()
if not cmp then
  result.verdict = cli.verdict("MIXED",
    "not decided: --names must include piecewise-linear and transcendental activations")
else
  print("Transcendental / piecewise-linear cost, per round (geometric means of each kind), then its")
  print("geometric mean over the rounds [95% CI]:")
  local crow = {{what = "fwd + bwd", size = n, c = cmp}, {what = "forward", size = n, c = cmp_fwd}}
  if cmp_big then crow[3] = {what = "fwd + bwd (memory-bound)", size = opt.big_size, c = cmp_big} end
  cli.print_table({{"measure", "what"}, {"elements", "size", "%d"},
    {"ratio", function(r) return r.c.ratio end, "%.2f"},
    {"95% CI", function(r) return ("[%.2f, %.2f]"):format(r.c.lo, r.c.hi) end},
    {"rounds", function(r) return r.c.n end, "%d"}}, crow)
  local status
  if cmp.n < 2 then
    status = "MIXED"
  elseif cmp.lo > 1 then
    status = "SUPPORTED"
  elseif cmp.hi < 1 then
    status = "NOT SUPPORTED"
  else
    status = "MIXED"
  end
  local reason = ("%d rounds at %d elements (in cache): transcendental / piecewise-linear fwd+bwd %.2fx " ..
    "[%.2f, %.2f], forward alone %.2fx [%.2f, %.2f]"):format(cmp.n, n, cmp.ratio, cmp.lo, cmp.hi,
    cmp_fwd.ratio, cmp_fwd.lo, cmp_fwd.hi)
  if cmp.n < 2 then reason = reason .. "; one round gives no interval" end
  if cmp_big then
    reason = reason .. ("; at %d elements (memory-bound) %.2fx [%.2f, %.2f]%s"):format(opt.big_size,
      cmp_big.ratio, cmp_big.lo, cmp_big.hi,
      cmp_big.lo > 1 and (cmp_big.ratio < cmp.ratio and ", a smaller gap: the kernels run nearer memory speed" or "")
        or ", no saving shown: every kernel runs at memory speed")
  end
  result.verdict = cli.verdict(status, reason)
end

if opt.plot then
  local xs, f, b = {}, {}, {}
  for i, r in ipairs(rows) do xs[i], f[i], b[i] = i, r.fwd, r.bwd end
  cli.plot_line{series = {{x = xs, y = f, label = "forward"}, {x = xs, y = b, label = "autograd backward"}},
    title = ("Activation cost, %d elements, %d thread(s) (x: the rank in the table)"):format(n, opt.threads),
    xlabel = "rank (cheapest first)", ylabel = "ns per element", file = opt.plot}
end
return result
