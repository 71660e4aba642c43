-- Claims 3a and 6.3: an activation runs once per neuron per pass, so its cost matters, and
-- piecewise-linear functions (ReLU and kin) need no exp: they are cheaper than the
-- exp-based / transcendental ones.
--
-- For every activation in act.list(), on one tensor of --size elements (x ~ 3 N(0,1)):
--   forward        y = act.apply(name, x)             (x without grad: the kernel, a new y)
--   derivative     dx = act.backward(name, x, dy)     (the backward kernel, no autograd)
--   autograd bwd   y:backward(dy) after y = act.apply(name, x) with x.requires_grad
--                  (only the backward call is timed)
-- each the median of --runs samples after a warm-up call, in ns per element. There is no
-- API writing into an existing tensor, so every call makes its output, as users' code does.
--
-- Kinds: "piecewise-linear" when f' is piecewise constant (measured: f' from act.scalar on
-- a fine grid changes value only at a few isolated points), "transcendental" when the
-- registry's formula (act.info) uses exp, log, tanh, erf, sigmoid, softplus, sin or cos,
-- else "algebraic" (rational or polynomial pieces, no exp). The activations are ranked
-- from the cheapest (forward + autograd backward) and each kind's mean cost is printed.
--
--   actrun scripts/activation_cost.lua [--quick] [--size N] [--runs N] [--threads N]
--                                      [--names a,b,c] [--plot FILE]
local A = actrun or require "actrun"
local act = A.act
local here = (arg and arg[0] or ""):match("^(.*)/") or "."
local cli = dofile(here .. "/lib/cli.lua")

local spec = {
  usage = "actrun scripts/activation_cost.lua [options]",
  about = "ns per element of every activation, forward and backward; piecewise-linear vs transcendental.",
  options = {
    {"quick", "flag", help = "a small run (2^16 elements, 3 runs)"},
    {"size", "int", 1 << 22, help = "elements of the tensor", min = 1},
    {"runs", "int", 5, help = "timed samples per measurement (the median is reported)", min = 1},
    {"threads", "int", A.get_num_threads(), help = "threads (actrun.set_num_threads)", min = 1},
    {"names", "string", nil, help = "comma-separated activations (default: all of act.list())",
     arg = "LIST"},
    {"plot", "string", nil, help = "draw forward and backward ns/element per rank into FILE",
     arg = "FILE"},
  }}
local opt, given = cli.parse(arg, spec)
if opt.quick then
  if not given.size then opt.size = 1 << 16 end
  if not given.runs then opt.runs = 3 end
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

local function kind_of(name)
  if derivative_changes(name) <= 8 then return "piecewise-linear" end
  if uses_transcendental(act.info(name).formula) then return "transcendental" end
  return "algebraic"
end

-- ---------- timing ----------
local saved_threads = A.get_num_threads()
A.set_num_threads(opt.threads)
A.manual_seed(1)
local n = opt.size
local x = A.randn(n) * 3
local dy = A.randn(n)
local xg = x:detach()
xg.requires_grad = true
-- calls per sample: at least ~4M elements of work (256K in --quick), so small sizes are
-- not all overhead
local calls = math.max(1, math.ceil((opt.quick and 2.5e5 or 4e6) / n))
local clock = A.clock

print(("actrun %s: %d elements (%.1f MiB per tensor), %d thread(s), median of %d samples of %d call(s)")
  :format(A.version, n, n * 4 / 2 ^ 20, A.get_num_threads(), opt.runs, calls))
local rows = {}
for _, name in ipairs(names) do
  local fwd = cli.time_per_call(function() local y = act.apply(name, x) end, calls, opt.runs)
  local der = cli.time_per_call(function() local d = act.backward(name, x, dy) end, calls, opt.runs)
  local agb = cli.time_per_call(function()
    xg.grad = nil
    local y = act.apply(name, xg)
    local t0 = clock()
    y:backward(dy)
    return clock() - t0
  end, calls, opt.runs)
  local info = act.info(name)
  rows[#rows + 1] = {name = name, family = info.family, kind = kind_of(name),
    fwd = fwd * 1e9 / n, der = der * 1e9 / n, bwd = agb * 1e9 / n}
  rows[#rows].total = rows[#rows].fwd + rows[#rows].bwd
  -- forward moves 8 bytes per element (read x, write y), the backward kernels 12
  rows[#rows].fwd_gbs = 8 / rows[#rows].fwd
  collectgarbage()
end
A.set_num_threads(saved_threads)

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
  {"fwd + bwd", "total", "%.3f"}, {"x relu", "vs_relu", "%.2f"},
}, rows)

-- ---------- per kind ----------
local order, groups = {"piecewise-linear", "algebraic", "transcendental"}, {}
for _, k in ipairs(order) do
  groups[k] = {kind = k, count = 0, fwd = 0, bwd = 0, der = 0, members = {}, totals = {}}
end
for _, r in ipairs(rows) do
  local g = groups[r.kind]
  g.count, g.fwd, g.bwd, g.der = g.count + 1, g.fwd + r.fwd, g.bwd + r.bwd, g.der + r.der
  g.members[#g.members + 1] = r.name
  g.totals[#g.totals + 1] = r.total
end
local group_rows = {}
for _, k in ipairs(order) do
  local g = groups[k]
  if g.count > 0 then
    g.fwd, g.bwd, g.der = g.fwd / g.count, g.bwd / g.count, g.der / g.count
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
local tr = groups.transcendental
if pl.count > 0 and tr.count > 0 then
  print(("\nTranscendental vs piecewise-linear at %d elements, %d thread(s), fwd + bwd: %.2fx by the means (forward %.2fx, backward %.2fx), %.2fx by the medians.")
    :format(n, opt.threads, tr.total / pl.total, tr.fwd / pl.fwd, tr.bwd / pl.bwd,
      tr.median_total / pl.median_total))
  if tr.total <= pl.total or tr.median_total <= pl.median_total then
    print("No saving measured by one of them: look at the slowest piecewise-linear kernels in the ranking.")
  end
end

if opt.plot then
  local xs, f, b = {}, {}, {}
  for i, r in ipairs(rows) do xs[i], f[i], b[i] = i, r.fwd, r.bwd end
  cli.plot_line{series = {{x = xs, y = f, label = "forward"}, {x = xs, y = b, label = "autograd backward"}},
    title = ("Activation cost, %d elements, %d thread(s) (rank order: %s)")
      :format(n, opt.threads, table.concat((function()
        local t = {}
        for i, r in ipairs(rows) do t[i] = r.name end
        return t
      end)(), " ")),
    xlabel = "rank (cheapest first)", ylabel = "ns per element", file = opt.plot}
end
return {rows = rows, groups = groups, names = names, size = n, threads = opt.threads}
