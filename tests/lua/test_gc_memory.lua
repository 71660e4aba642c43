-- Tensor memory is visible to Lua's garbage collector, and <close> frees it at once.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local T = require "testlib"
local actrun = T.actrun
local test, eq = T.test, T.eq

local MB = 1024 * 1024
-- Under AddressSanitizer freed memory sits in a quarantine, so RSS says nothing about
-- the GC: run fewer iterations there and check the limits in the normal build only.
local sanitized = os.getenv("ACTRUN_SANITIZED") ~= nil
local ITER = sanitized and 300 or 3000
local RSS_LIMIT = sanitized and math.huge or 300

-- Bytes held by live tensors, from the binding's counter when it has one.
local function live_bytes()
  for _, name in ipairs{"live_bytes", "memory", "memory_stats", "mem"} do
    local f = rawget(actrun, name) or actrun[name]
    if type(f) == "function" then
      local ok, v = pcall(f)
      if ok and type(v) == "number" then return v end
      if ok and type(v) == "table" then
        local n = v.live_bytes or v.live or v.allocated or v.bytes
        if type(n) == "number" then return n end
      end
    end
  end
  return nil
end

local hwm0 = T.memory_mb()

-- Ends a loop early (failing the test) instead of letting a leak take the machine's
-- memory.
local function stop_if_runaway(i)
  local _, rss = T.memory_mb()
  if rss and rss > 1000 then
    T.fail(string.format("RSS reached %.0f MB after %d iterations", rss, i), 2)
  end
end

test("peak memory is readable from /proc/self/status", function()
  T.truthy(hwm0 and hwm0 > 0, "VmHWM readable")
end)

-- actrun's interpreters collect in generational mode; scripts may switch to incremental.
for _, mode in ipairs{"incremental", "generational"} do
test("3000 temporary 4 MB tensors keep the peak RSS under 300 MB (" .. mode .. " GC)", function()
  collectgarbage(mode)
  actrun.manual_seed(1)
  local acc = 0
  for i = 1, ITER do
    local t = actrun.rand(1024, 1024) -- 4 MB, and two more 4 MB temporaries below
    local u = t * 2 + 1
    if i % (ITER // 6) == 0 then acc = acc + u:get(1, 1) end
    if i % 50 == 0 then stop_if_runaway(i) end
  end
  local hwm = T.memory_mb()
  T.truthy(hwm < RSS_LIMIT, string.format("peak RSS %.0f MB (at start %.0f MB)", hwm, hwm0))
  T.truthy(acc > 6 and acc < 18, "values were computed")
end)
end

test("3000 zeros(1024*1024) with an op each keep the peak RSS under 300 MB", function()
  for i = 1, ITER do
    local t = actrun.zeros(1024 * 1024)
    t:fill(1)
    local s = t:exp()
    assert(s:numel() == 1024 * 1024)
    if i % 50 == 0 then stop_if_runaway(i) end
  end
  local hwm = T.memory_mb()
  T.truthy(hwm < RSS_LIMIT, string.format("peak RSS %.0f MB", hwm))
end)

test("views keep their storage alive while the base is garbage", function()
  local views = {}
  for i = 1, 50 do
    views[i] = actrun.full({1024, 1024}, i):narrow(1, 1, 1)
  end
  collectgarbage("collect")
  for i = 1, 50 do eq(views[i]:get(1, 1), i + 0.0) end
end)

test("a <close> tensor releases its memory at scope end (binding counter)", function()
  collectgarbage("collect")
  local before = live_bytes()
  if not before then T.skip("no live-bytes counter in the binding (RSS checked below)") end
  local inside
  do
    local t <close> = actrun.zeros(4 * MB) -- 16 MB
    inside = live_bytes()
  end
  local after = live_bytes()
  T.truthy(inside - before >= 16 * MB, string.format("counter grew by %d bytes", inside - before))
  T.truthy(after - before < MB, string.format("counter still %d bytes above", after - before))
end)

test("<close> frees memory even while the tensor object is still referenced", function()
  -- The userdata stays reachable (kept in a table) so only __close can free the storage:
  -- 8 x 256 MB would show in the peak RSS if it did not.
  local keep = {}
  local hwm_before = T.memory_mb()
  for i = 1, 8 do
    local t <close> = actrun.zeros(64 * MB)
    t:fill(i)
    keep[i] = t
  end
  local hwm = T.memory_mb()
  T.truthy(hwm - hwm_before < 600, string.format("peak RSS grew by %.0f MB", hwm - hwm_before))
  -- Using a closed tensor is an error (not a crash, not stale memory); printing it works.
  local ok = pcall(function() return keep[1]:sum() end)
  eq(ok, false, "sum of a closed tensor")
  ok = pcall(function() return keep[2]:get(1) end)
  eq(ok, false, "get on a closed tensor")
  eq(type(tostring(keep[3])), "string")
  keep = nil
  collectgarbage("collect")
end)

test("garbage tensors are collected when Lua's GC runs (no leak without <close>)", function()
  collectgarbage("collect")
  local before = live_bytes()
  local hwm_before = T.memory_mb()
  for i = 1, 20 do
    local t = actrun.ones(16 * MB) -- 64 MB each, 1.3 GB in all
    t:fill(2)
    stop_if_runaway(i)
  end
  local hwm = T.memory_mb()
  T.truthy(hwm - hwm_before < 600, string.format("peak RSS grew by %.0f MB", hwm - hwm_before))
  collectgarbage("collect")
  collectgarbage("collect")
  if before then
    local after = live_bytes()
    T.truthy(after - before < MB, string.format("counter %d bytes above", after - before))
  end
end)

-- Tensors are released by the state's allocator when Lua frees their userdata (no
-- finalizer): one collection cycle frees a dead tensor's storage, views keep their base's,
-- and tensors held only by tables, closures or other tensors' graphs stay alive.
test("one collection frees dead tensors; live references keep theirs", function()
  eq(debug.getmetatable(actrun.zeros(1)).__gc, nil, "tensor metatable __gc")
  collectgarbage("collect")
  local base = actrun.memory().live
  do local t = actrun.zeros(1000000) end
  collectgarbage("step", 0) -- at most one incremental step: no finalizer pass needed
  collectgarbage("collect")
  eq(actrun.memory().live, base, "bytes after one full collection")
  local keep = {}
  do
    local a = actrun.range(1, 1000000)
    keep.view = a:view(1000, 1000):t() -- the only reference to a's storage
    keep.fn = (function() local c = actrun.full({10}, 7) return function() return c:sum():item() end end)()
    local x = actrun.ones(3)
    x.requires_grad = true
    keep.y = (x * 2):sum() -- the graph holds x * 2's inputs
    keep.x = x
  end
  collectgarbage("collect")
  collectgarbage("collect")
  eq(keep.view[1000][1], 1000.0, "view of a collected tensor's storage")
  eq(keep.fn(), 70.0, "tensor captured by a closure")
  keep.y:backward()
  eq(keep.x.grad:totable(), {2.0, 2.0, 2.0}, "gradient through a collected intermediate")
  keep = nil
  collectgarbage("collect")
  eq(actrun.memory().live, base, "bytes after dropping them")
end)

T.done()
