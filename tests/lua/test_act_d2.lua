-- Second derivatives against mpmath (tests/fixtures/act_d2_mpmath.lua, made by
-- tests/fixtures/gen_act_d2.py at 60 digits): every activation, default parameters and
-- one other setting of each parametrised entry, at x = 0, ±1e-3, ±0.5, ±1, ±2.5, ±7, ±20,
-- ±40.4108, ±80 (float32-exact, so the float kernels see the same x).
--
-- act.scalar (the double reference): f, f' and f'' within 1e-9 relative, or 1e-300
-- absolute where the true value is below double's range (gelu_tanh''(-80) ~ 1e-15914 is
-- 0 in double). Measured: 4e-14 for f' and f'', 3e-11 for f (tanhshrink's x - tanh(x) at
-- 1e-3, which loses the digits the cancellation takes).
--
-- The float f'' kernels (the SIMD level in use: this file also runs with ACTRUN_SIMD=avx2
-- and baseline): |got - want| <= 1e-5 |want| + atol. Measured: at most 7.3e-7 relative
-- (silu/swish without FMA) except gelu_tanh at ±7, 2.4e-6: its float argument
-- 2u = 2k (x + c x^3) carries ~4 roundings, which exp(-|2u|) turns into |2u| * 2.4e-7
-- relative (|2u| = 36 there); 1e-5 covers |2u| up to ~40, where f'' is ~1e-16. atol:
-- 1.2e-38 (float's normal range ends there) and, for gelu_tanh, 1e-30: beyond |2u| = 40
-- the relative error keeps growing with |2u| while f'' drops below 1e-16 (at ±20 it is
-- 2.6e-257 in double, 0 in float).
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local T = require "testlib"
local actrun = T.actrun
local act = actrun.act
local C = package.loaded["actrun.act_c"]

local dir = (arg[0]:match("^(.*)/") or ".") .. "/../fixtures/"
local F = dofile(dir .. "act_d2_mpmath.lua")
local report = os.getenv("ACTRUN_ACT_REPORT") ~= nil

local function label(c)
  local l = c.name
  local keys = {}
  for k in pairs(c.params) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do l = l .. " " .. k .. "=" .. c.params[k] end
  return l
end

local function rel_err(got, want, floor)
  if got == nil or got ~= got then return math.huge end
  local e = math.abs(got - want)
  if e <= floor then return 0 end
  return e / math.abs(want)
end

local worst_double, worst_float = {f = 0, df = 0, d2 = 0}, 0

for _, c in ipairs(F.cases) do
  local name = label(c)
  T.test(name .. ": act.scalar gives f, f', f'' to 1e-9 of mpmath", function()
    for i, x in ipairs(F.x) do
      local got = table.pack(act.scalar(c.name, x, c.params))
      T.eq(got.n, 3, "act.scalar returns three numbers")
      for j, key in ipairs{"f", "df", "d2"} do
        local e = rel_err(got[j], c[key][i], 1e-300)
        worst_double[key] = math.max(worst_double[key], e)
        if e > 1e-9 then
          T.fail(("%s %s at x=%.17g: %.17g, mpmath %.17g (relative error %.3g)"):format(name,
            key, x, got[j], c[key][i], e))
        end
      end
    end
  end)

  T.test(name .. ": the float f'' kernel within float tolerance of mpmath", function()
    local d2 = C.second(c.name, actrun.tensor(F.x), c.params):totable()
    local atol = c.name == "gelu_tanh" and 1e-30 or 1.2e-38
    for i, x in ipairs(F.x) do
      local want = c.d2[i]
      local e = rel_err(d2[i], want, atol)
      worst_float = math.max(worst_float, e)
      if e > 1e-5 then
        T.fail(("%s f'' at x=%.9g: float %.9g, mpmath %.17g (relative error %.3g)"):format(name,
          x, d2[i], want, e))
      end
    end
  end)
end

T.test("every activation has fixtures, parametrised ones with a second setting", function()
  local count = {}
  for _, c in ipairs(F.cases) do count[c.name] = (count[c.name] or 0) + 1 end
  for _, name in ipairs(C.builtins()) do
    local want = #act.info(name).params > 0 and 2 or 1
    T.eq(count[name], want, name .. " fixtures")
  end
end)

T.test("the far tail of silu'' has its full relative precision", function()
  local _, _, d2 = act.scalar("silu", 40.41080093383789)
  T.near(d2 / -1.0820952937772137233e-16, 1, 1e-13)
end)

T.test("f'' of a defined activation comes from double backward", function()
  act.define("d2_probe_sq", function(x) return x * x end)
  local f, df, d2 = act.scalar("d2_probe_sq", 3)
  T.eq({f, df, d2}, {9, 6, 2})
end)

T.test("f'' over a tensor keeps NaN, gives the limits at ±inf, and checks parameters", function()
  local x = actrun.tensor{0 / 0, math.huge, -math.huge}
  for _, name in ipairs(C.builtins()) do
    local d = C.second(name, x):totable()
    T.truthy(d[1] ~= d[1], name .. "''(NaN) is NaN")
    if name ~= "sin" and name ~= "cos" then
      T.truthy(d[2] == d[2] and d[3] == d[3], name .. "''(±inf) is a limit")
    end
  end
  T.expect_error(function() C.second("hardtanh", x, {min_val = 1, max_val = -1}) end,
    "actrun.act.second", "min_val")
  T.expect_error(function() C.second("nope", x) end, "actrun.act.second", "unknown activation")
end)

if report then
  T.test("report", function()
    io.stderr:write(("max relative error vs mpmath: double f %.3g, f' %.3g, f'' %.3g; float f'' %.3g\n")
      :format(worst_double.f, worst_double.df, worst_double.d2, worst_float))
  end)
end

T.done()
