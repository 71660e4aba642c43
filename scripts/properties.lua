-- The nine properties of an activation function, measured, as one table for every
-- activation (built-in and defined before this script runs, e.g. with -e or -l).
--
-- Usage: actrun scripts/properties.lua [--quick] [--no-cost] [--names a,b,c] [--csv FILE]
--   --quick     time the forward/backward cost on 2^14 elements (default 2^20)
--   --no-cost   leave the cost out
--   --names     only these activations (default: all of act.list())
--   --csv FILE  also write every row, one column per property, to FILE
--
-- Everything in the table is computed by act.properties from f and f' (see
-- docs/ACTIVATIONS.md for each criterion); nothing is typed in. The nine properties:
--   1 nonlinear (nonlin)            2 differentiable a.e. (diff, kinks)
--   3 cheap (fwd/bwd ns per elem.)  4 non-saturating (saturates L/R)
--   5 monotonic (mono)              6 bounded output (range)
--   7 close to identity (~id)       8 few parameters (par: learnable per channel)
--   9 self-normalising (self-norm, with the fixed point (mean, var) of the layer map)
--
-- The verdict: the measured table against the statements of the note, for every property but
-- the cost (sigmoid and tanh saturate on both sides and are bounded, relu has a kink at 0 and is
-- differentiable almost everywhere, sin/cos/gelu/silu are not monotonic, only PReLU has
-- learnable parameters, SELU alone is self-normalising, ...; the list is STATEMENTS
-- below). SUPPORTED when every checked statement agrees with the measurements, MIXED when
-- at most a quarter disagree, NOT SUPPORTED beyond that; the disagreements are listed.
-- Statements about an activation left out by --names are not checked, nor is the cost
-- (property 3): single timings here are too noisy to decide it (see STATEMENTS).
local A = actrun or require "actrun"
local act = A.act
local here = (arg and arg[0] or ""):match("^(.*)/") or "."
local cli = dofile(here .. "/lib/cli.lua")

local opt = {}
local i = 1
while arg and arg[i] do
  local a = arg[i]
  if a == "--quick" then
    opt.quick = true
  elseif a == "--no-cost" then
    opt.cost = false
  elseif (a == "--names" or a == "--csv") and arg[i + 1] then
    opt[a:sub(3)] = arg[i + 1]
    i = i + 1
  else
    io.stderr:write("properties.lua: unknown argument '", a, "'\n",
      "usage: actrun scripts/properties.lua [--quick] [--no-cost] [--names a,b] [--csv FILE]\n")
    os.exit(2)
  end
  i = i + 1
end

if opt.names then
  for n in opt.names:gmatch("[^,%s]+") do
    if not pcall(act.info, n) then
      io.stderr:write("properties.lua: unknown activation '", n, "' (known: ",
        table.concat(act.list(), ", "), ")\n")
      os.exit(1)
    end
  end
end

local t0 = A.clock()
print("The nine properties of each activation, measured (act.properties)\n")
local rows = act.table(opt.names, {quick = opt.quick, cost = opt.cost})
print(("\n%d activations in %.1f s; cost %s"):format(#rows, A.clock() - t0,
  opt.cost == false and "not measured" or
  ("per element on %s elements, median of %d runs"):format(opt.quick and "2^14" or "2^20",
    opt.quick and 3 or 5)))

-- Who has each property, from the rows above.
local function having(pred)
  local l = {}
  for _, r in ipairs(rows) do
    if pred(r) then l[#l + 1] = r.name end
  end
  return #l > 0 and table.concat(l, " ") or "(none)"
end
print("\nBy property:")
local summary = {
  {"1 linear (not an activation)", function(r) return not r.nonlinear end},
  {"2 kinks (a.e. differentiable)", function(r) return r.differentiable == "almost everywhere" end},
  {"2 jumps (not differentiable)", function(r) return r.differentiable == "no" end},
  {"4 f' exactly 0 on a side", function(r)
    return r.saturates.left == "zero" or r.saturates.right == "zero"
  end},
  {"4 saturating on both sides", function(r)
    return r.saturates.left ~= "no" and r.saturates.right ~= "no"
  end},
  {"4 non-saturating on both sides", function(r)
    return r.saturates.left == "no" and r.saturates.right == "no"
  end},
  {"5 not monotonic", function(r) return not r.monotonic end},
  {"6 bounded", function(r) return r.bounded end},
  {"7 near identity at 0", function(r) return r.near_identity end},
  {"8 learnable parameters", function(r) return r.params > 0 end},
  {"9 self-normalising", function(r) return r.self_normalizing end},
}
for _, s in ipairs(summary) do print(("  %-32s %s"):format(s[1], having(s[2]))) end
if opt.cost ~= false then
  local by = {}
  for _, r in ipairs(rows) do
    if r.cost_ns then by[#by + 1] = r end
  end
  table.sort(by, function(a, b) return a.cost_ns.forward < b.cost_ns.forward end)
  local parts = {}
  for k, r in ipairs(by) do parts[k] = ("%s %.2g"):format(r.name, r.cost_ns.forward) end
  print("  3 forward ns per element, cheapest first:")
  for k = 1, #parts, 6 do
    print("    " .. table.concat(parts, ", ", k, math.min(k + 5, #parts)))
  end
end

if opt.csv then
  local function q(v)
    if v == nil then return "" end
    if type(v) == "boolean" then return v and "true" or "false" end
    if type(v) == "number" then
      if v == math.huge then return "inf" end
      if v == -math.huge then return "-inf" end
      return ("%.10g"):format(v)
    end
    v = tostring(v)
    if v:find('[,"\n]') then v = '"' .. v:gsub('"', '""') .. '"' end
    return v
  end
  local cols = {
    {"name", function(r) return r.name end},
    {"nonlinear", function(r) return r.nonlinear end},
    {"differentiable", function(r) return r.differentiable end},
    {"kinks", function(r) return table.concat(r.kinks, " ") end},
    {"jumps", function(r) return table.concat(r.jumps, " ") end},
    {"monotonic", function(r) return r.monotonic end},
    {"range_lo", function(r) return r.range[1] end},
    {"range_hi", function(r) return r.range[2] end},
    {"bounded", function(r) return r.bounded end},
    {"zero_centered", function(r) return r.zero_centered end},
    {"f0", function(r) return r.f0 end},
    {"df0", function(r) return r.df0 end},
    {"near_identity", function(r) return r.near_identity end},
    {"max_derivative", function(r) return r.max_derivative end},
    {"smoothness", function(r) return r.smoothness end},
    {"max_curvature", function(r) return r.max_curvature end},
    {"saturates_left", function(r) return r.saturates.left end},
    {"saturates_right", function(r) return r.saturates.right end},
    {"params", function(r) return r.params end},
    {"cost_forward_ns", function(r) return r.cost_ns and r.cost_ns.forward end},
    {"cost_backward_ns", function(r) return r.cost_ns and r.cost_ns.backward end},
    {"self_normalizing", function(r) return r.self_normalizing end},
    {"fixed_mean", function(r) return r.fixed_point and r.fixed_point.mean end},
    {"fixed_var", function(r) return r.fixed_point and r.fixed_point.var end},
  }
  local head = {}
  for k, c in ipairs(cols) do head[k] = c[1] end
  local lines = {table.concat(head, ",") .. "\n"}
  for _, r in ipairs(rows) do
    local line = {}
    for k, c in ipairs(cols) do line[k] = q(c[2](r)) end
    lines[#lines + 1] = table.concat(line, ",") .. "\n"
  end
  -- actrun's writer: atomic, and never over a device, pipe or write-protected file
  local ok, err = pcall(require("actrun.util").write_atomic, "properties.lua", opt.csv, lines)
  if not ok then
    io.stderr:write(tostring(err), "\n")
    os.exit(1)
  end
  print(("\nwrote %s (%d rows)"):format(opt.csv, #rows))
end

-- ---------- the verdict: the note's statements against the measured rows ----------
local by = {}
for _, r in ipairs(rows) do by[r.name] = r end
local function sat(r, side) return r.saturates[side] end
-- {property, activations it needs, statement, check(row...) -> true when it agrees}
local STATEMENTS = {
  {1, {"identity"}, "identity is linear (not an activation)", function(r) return not r.nonlinear end},
  {1, {"relu", "sigmoid", "tanh"}, "relu, sigmoid and tanh are nonlinear", function(a, b, c)
    return a.nonlinear and b.nonlinear and c.nonlinear end},
  {2, {"relu"}, "relu is not differentiable at 0, but almost everywhere", function(r)
    return r.differentiable == "almost everywhere" and #r.kinks == 1 and math.abs(r.kinks[1]) < 1e-6 end},
  {2, {"sigmoid", "tanh", "gelu", "silu", "softplus"}, "sigmoid, tanh, gelu, silu, softplus are differentiable everywhere",
    function(...)
      for _, r in ipairs{...} do if r.differentiable ~= "everywhere" then return false end end
      return true
    end},
  {2, {"step"}, "the step function jumps (not differentiable)", function(r) return r.differentiable == "no" end},
  -- property 3 (cost) is not checked: at 2^20 elements every kernel is memory-bound
  -- (0.1-0.5 ns per element) and medians of a few runs on a shared machine differ by up
  -- to 3x between near-identical kernels (relu, leaky_relu), so "relu is cheaper than
  -- gelu" would flip from run to run; scripts/activation_cost.lua measures it properly.
  {4, {"sigmoid", "tanh"}, "sigmoid and tanh saturate on both sides", function(a, b)
    return sat(a, "left") ~= "no" and sat(a, "right") ~= "no" and sat(b, "left") ~= "no" and sat(b, "right") ~= "no"
  end},
  {4, {"relu"}, "relu does not saturate for x > 0; its gradient is exactly 0 for x < 0", function(r)
    return sat(r, "right") == "no" and sat(r, "left") == "zero" end},
  {4, {"leaky_relu"}, "leaky relu saturates on neither side", function(r)
    return sat(r, "left") == "no" and sat(r, "right") == "no" end},
  {5, {"sin", "cos"}, "sin and cos are not monotonic", function(a, b) return not a.monotonic and not b.monotonic end},
  {5, {"gelu", "silu"}, "gelu and silu are not monotonic (a dip below 0)", function(a, b)
    return not a.monotonic and not b.monotonic end},
  {5, {"relu", "sigmoid", "tanh", "elu"}, "relu, sigmoid, tanh, elu are monotonic", function(...)
    for _, r in ipairs{...} do if not r.monotonic then return false end end
    return true
  end},
  {6, {"sigmoid", "tanh"}, "sigmoid and tanh are bounded", function(a, b) return a.bounded and b.bounded end},
  {6, {"relu", "elu", "gelu"}, "relu, elu, gelu are unbounded above", function(...)
    for _, r in ipairs{...} do if r.bounded or r.range[2] ~= math.huge then return false end end
    return true
  end},
  {7, {"tanh"}, "tanh is close to the identity at 0", function(r) return r.near_identity end},
  {7, {"sigmoid", "relu"}, "sigmoid (f(0) = 0.5) and relu (kink at 0) are not", function(a, b)
    return not a.near_identity and not b.near_identity end},
  {8, {"prelu"}, "prelu has learnable parameters", function(r) return r.params > 0 end},
  {8, {"relu", "sigmoid", "tanh", "elu", "selu"}, "relu, sigmoid, tanh, elu, selu have none", function(...)
    for _, r in ipairs{...} do if r.params ~= 0 then return false end end
    return true
  end},
  {9, {"selu"}, "selu is self-normalising, fixed point (0, 1)", function(r)
    return r.self_normalizing and r.fixed_point and math.abs(r.fixed_point.mean) < 0.01 and
      math.abs(r.fixed_point.var - 1) < 0.01
  end},
  {9, {"selu"}, "selu alone is self-normalising (among the activations measured)", function()
    for _, r in ipairs(rows) do
      if r.self_normalizing and r.name ~= "selu" then return false end
    end
    return true
  end},
}
local checked, agree, disagree, skipped = 0, 0, {}, 0
for _, st in ipairs(STATEMENTS) do
  local args, present = {}, true
  for i, n in ipairs(st[2]) do
    args[i] = by[n]
    if not by[n] then present = false end
  end
  local ok
  if present then ok = st[4](table.unpack(args, 1, #st[2])) end
  if ok == nil then
    skipped = skipped + 1
  else
    checked = checked + 1
    if ok then agree = agree + 1 else disagree[#disagree + 1] = ("%d: %s"):format(st[1], st[3]) end
  end
end
local status
if checked == 0 then status = "MIXED"
elseif #disagree == 0 then status = "SUPPORTED"
elseif #disagree <= checked / 4 then status = "MIXED"
else status = "NOT SUPPORTED" end
print()
local verdict = cli.verdict(status, "%d of %d statements of the note agree with the measured table%s (cost not checked: timing noise)%s",
  agree, checked, skipped > 0 and (" (%d about activations left out by --names)"):format(skipped) or "",
  #disagree > 0 and ("; disagree: " .. table.concat(disagree, "; ")) or "; no disagreement")
return {rows = rows, verdict = verdict, agree = agree, checked = checked, disagree = disagree}
