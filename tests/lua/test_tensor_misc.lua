-- tostring, requires_grad/grad fields, <close>, #t and the metatable name.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local T = require "testlib"
local actrun = T.actrun
local test, eq = T.test, T.eq

local function contains(s, needle) return s:find(needle, 1, true) ~= nil end

test("tostring shows the values", function()
  local s = tostring(actrun.tensor{1.5, -2.25, 3})
  T.truthy(contains(s, "1.5"), "1.5 in " .. s)
  T.truthy(contains(s, "-2.25"), "-2.25 in " .. s)
  T.truthy(contains(s, "3"), "3 in " .. s)
end)

test("tostring shows the shape", function()
  local s = tostring(actrun.full({4, 7}, 0.5))
  T.truthy(s:find("4%s*[x,]%s*7") or contains(s, "4×7"), "shape 4x7 in " .. s)
end)

test("tostring of a 2-D tensor lists rows in order", function()
  local s = tostring(actrun.tensor{{11, 22}, {33, 44}})
  local i11, i22 = s:find("11", 1, true), s:find("22", 1, true)
  local i33, i44 = s:find("33", 1, true), s:find("44", 1, true)
  T.truthy(i11 and i22 and i33 and i44, "all values in " .. s)
  T.truthy(i11 < i22 and i22 < i33 and i33 < i44, "row-major order in " .. s)
end)

test("tostring of a transposed view shows its logical layout", function()
  local s = tostring(actrun.tensor{{11, 22}, {33, 44}}:t())
  local i11, i22 = s:find("11", 1, true), s:find("22", 1, true)
  local i33, i44 = s:find("33", 1, true), s:find("44", 1, true)
  T.truthy(i11 and i22 and i33 and i44, "all values in " .. s)
  T.truthy(i11 < i33 and i33 < i22 and i22 < i44, "order 11 33 22 44 in " .. s)
end)

test("tostring of a small tensor is not elided", function()
  local s = tostring(actrun.range(1, 6):reshape(2, 3))
  T.truthy(not contains(s, "..."), "no ... in " .. s)
  for v = 1, 6 do T.truthy(contains(s, tostring(v)), v .. " in " .. s) end
end)

test("tostring of a big 1-D tensor elides the middle with ...", function()
  local t = actrun.zeros(100000)
  t:set(1, 7); t:set(50000, 5); t:set(100000, 9)
  local s = tostring(t)
  T.truthy(contains(s, "..."), "... in a " .. #s .. "-char string")
  T.truthy(#s < 3000, "short: " .. #s .. " chars")
  T.truthy(contains(s, "7"), "first value shown in " .. s)
  T.truthy(contains(s, "9"), "last value shown in " .. s)
  T.truthy(not contains(s, "5"), "middle value not shown in " .. s)
end)

test("tostring of a big 2-D tensor elides rows and columns", function()
  local s = tostring(actrun.zeros(200, 300))
  T.truthy(contains(s, "..."), "... shown")
  T.truthy(#s < 5000, "short: " .. #s .. " chars")
  T.truthy(s:find("200%s*[x,]%s*300") or contains(s, "200×300"), "shape shown in " .. s:sub(1, 200))
end)

test("tostring shows inf and nan", function()
  local s = tostring(actrun.tensor{math.huge, -math.huge, 0 / 0}):lower()
  T.truthy(contains(s, "inf"), "inf in " .. s)
  T.truthy(contains(s, "-inf"), "-inf in " .. s)
  T.truthy(contains(s, "nan"), "nan in " .. s)
end)

test("tostring of an empty and of a 3-D tensor", function()
  local e = tostring(actrun.zeros(0))
  T.truthy(e:find("[]", 1, true) or e:find("{0}", 1, true) or e:find("(0,)", 1, true),
    "empty tensor or its shape shown in " .. e)
  local s = tostring(actrun.range(1, 8):reshape(2, 2, 2))
  for v = 1, 8 do T.truthy(contains(s, tostring(v)), v .. " in " .. s) end
end)

test("requires_grad defaults to false and is writable", function()
  if not T.has_requires_grad() then T.skip("no requires_grad in this build yet") end
  local t = actrun.zeros(3)
  eq(t.requires_grad, false)
  t.requires_grad = true
  eq(t.requires_grad, true)
  t.requires_grad = false
  eq(t.requires_grad, false)
end)

test("grad is nil on a fresh tensor", function()
  if not T.has_requires_grad() then T.skip("no requires_grad in this build yet") end
  eq(actrun.zeros(3).grad, nil)
  eq(actrun.tensor({1, 2}, {requires_grad = true}).grad, nil)
end)

test("a tensor can be a <close> variable", function()
  local seen
  do
    local t <close> = actrun.ones(4)
    seen = t:sum():item()
  end
  eq(seen, 4.0)
end)

test("<close> also runs when the scope is left by an error", function()
  local ok = pcall(function()
    local t <close> = actrun.ones(4)
    error("leave")
  end)
  eq(ok, false)
  eq(actrun.ones(2):sum():item(), 2.0)
end)

test("views of a closed tensor stay valid", function()
  local v
  do
    local t <close> = actrun.range(1, 4)
    v = t:narrow(1, 2, 2)
  end
  collectgarbage("collect")
  T.tensor_near(v, {2, 3}, 0)
end)

test("a view keeps its values after its base is collected", function()
  local v = actrun.range(1, 1000):narrow(1, 10, 3)
  collectgarbage("collect")
  collectgarbage("collect")
  local junk = actrun.full({1000}, -1) -- would reuse freed memory
  T.tensor_near(v, {10, 11, 12}, 0)
  eq(junk:get(1), -1.0)
end)

T.done()
