-- Reproducibility: the same script with the same seed gives bitwise-identical losses and
-- parameters run to run (separate processes) and at 1 and 2 threads, for an MLP (Linear,
-- BatchNorm, GELU, Dropout, Adam with weight decay), a small CNN (Conv2d, MaxPool2d,
-- SGD with momentum) and an LSTM (RMSprop). Values are compared as exact hex floats.
-- docs/RELIABILITY.md states where this holds (same binary and machine).
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local T = require "testlib"

local here = arg[0]:match("^(.*)/") or "."
local helper = here .. "/repro/train_losses.lua"

local function interpreter() return T.interpreter() or "actrun" end
local function q(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

-- the helper's output in a fresh process
local function run(kind, threads)
  local p = assert(io.popen(q(interpreter()) .. " " .. q(helper) .. " " .. kind .. " " ..
    threads .. " 2>&1"))
  local out = p:read("a")
  local ok = p:close()
  assert(ok, kind .. " at " .. threads .. " threads failed:\n" .. out)
  local losses = select(2, out:gsub("loss ", ""))
  assert(losses >= 6, "expected 6 losses, got:\n" .. out)
  return out
end

-- the first line where two outputs differ, for the failure message
local function first_difference(a, b)
  local la, lb = {}, {}
  for l in a:gmatch("[^\n]+") do la[#la + 1] = l end
  for l in b:gmatch("[^\n]+") do lb[#lb + 1] = l end
  for i = 1, math.max(#la, #lb) do
    if la[i] ~= lb[i] then
      return string.format("line %d: %s vs %s", i, tostring(la[i]), tostring(lb[i]))
    end
  end
end

for _, kind in ipairs{"mlp", "conv", "lstm"} do
  local base
  T.test(kind .. ": two runs at 1 thread give identical bits", function()
    base = run(kind, 1)
    local again = run(kind, 1)
    T.eq(first_difference(base, again), nil, "difference")
    -- and the losses are real numbers that move (a constant output would prove nothing)
    local first, last = base:match("loss (%S+)"), nil
    for l in base:gmatch("loss (%S+)") do last = l end
    T.truthy(tonumber(first) == tonumber(first) and tonumber(first) ~= tonumber(last),
      "losses change over the steps")
  end)
  T.test(kind .. ": 2 threads give the same bits as 1", function()
    base = base or run(kind, 1)
    T.eq(first_difference(base, run(kind, 2)), nil, "difference")
  end)
end

T.test("in one process, re-seeding repeats the random streams exactly", function()
  local actrun = T.actrun
  local function draw()
    actrun.manual_seed(99)
    local m = actrun.nn.mlp{8, 16, 4, dropout = 0.5}
    local x = actrun.randn(5, 8)
    return {m(x):totable(), actrun.rand(3):totable(), m:parameters()[1]:sum():item()}
  end
  T.eq(draw(), draw())
end)

T.done()
