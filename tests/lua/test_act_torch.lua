-- Every activation against PyTorch (tests/fixtures/act_torch.lua, made by
-- tests/fixtures/gen_act.py): forward and derivative, float32 and float64 references.
-- Tolerance: |ours - torch| <= 1e-6 * max(1, |torch|) (relative for large values,
-- absolute near zero, where float32 PyTorch itself only has absolute accuracy: e.g.
-- gelu_tanh's 1 + tanh(u) and tanhshrink's x - tanh(x) cancel in the tails).
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local T = require "testlib"
local actrun = T.actrun
local act = actrun.act

local dir = (arg[0]:match("^(.*)/") or ".") .. "/../fixtures/"
local F = dofile(dir .. "act_torch.lua")
local x = actrun.tensor(F.x)

-- Documented deviations: where PyTorch overflows to NaN, we give the limit.
-- gelu_tanh at |x| = 1e30: PyTorch's x^3 overflows (inf * 0); ours is f' = 1 (or 0).
local function deviation(what, xv, w)
  return w ~= w and what:find("^gelu_tanh") and math.abs(xv) >= 1e30
end

local function compare(what, got, want)
  local worst, at = 0, nil
  for i = 1, #want do
    local g, w = got[i], want[i]
    if deviation(what, F.x[i], w) then
      -- skipped: see deviation()
    elseif w ~= w then
      if g == g then T.fail(string.format("%s at x=%.9g: got %.9g, torch NaN", what, F.x[i], g)) end
    else
      local err = math.abs(g - w) / math.max(1, math.abs(w))
      if g ~= g then err = math.huge end
      if err > worst then worst, at = err, i end
    end
  end
  if worst > 1e-6 then
    T.fail(string.format("%s: max error %.3g at x=%.9g (ours %.9g, torch %.9g)", what, worst,
                         F.x[at], got[at], want[at]))
  end
  return worst
end

for _, c in ipairs(F.cases) do
  local label = c.name
  for k, v in pairs(c.params) do label = label .. " " .. k .. "=" .. v end
  T.test(label .. " matches PyTorch", function()
    local y = act.apply(c.name, x, c.params):totable()
    local d = act.derivative(c.name, x, c.params):totable()
    compare(label .. " forward (float32)", y, c.y32)
    compare(label .. " forward (float64)", y, c.y64)
    compare(label .. " derivative (float32)", d, c.dy32)
    compare(label .. " derivative (float64)", d, c.dy64)
  end)
end

T.test("every activation PyTorch has is covered by the fixtures", function()
  local seen = {}
  for _, c in ipairs(F.cases) do seen[c.name] = true end
  -- step is ours only (no PyTorch function)
  for _, name in ipairs(act.list()) do
    if name ~= "step" then T.truthy(seen[name], name .. " has fixtures") end
  end
end)

T.done()
