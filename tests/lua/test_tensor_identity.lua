-- A tensor is recognised by what Lua code cannot forge: every metamethod and method checks
-- its self the same way, and the allocator releases only tensors it saw created, whatever
-- bytes a string of a tensor's block size holds.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local T = require "testlib"
local actrun = T.actrun
local test, eq = T.test, T.eq

local function closed_tensor()
  local c = actrun.ones(2)
  getmetatable(c).__close(c)
  return c
end

-- What each function may be called by in its messages: methods say Tensor:NAME, the
-- arithmetic shared with the module says actrun.NAME.
local function names_of(key)
  local bare = key:gsub("^__", "")
  if bare == "unm" then bare = "neg" end
  return {"Tensor:" .. key .. ":", "Tensor:" .. bare .. ":", "actrun." .. bare .. ":"}
end

-- every function of the tensor metatable and of the methods table, found at run time so
-- that a new method is covered without touching this file
local function all_functions()
  local mt = getmetatable(actrun.ones(1))
  local list = {}
  for k, v in pairs(mt) do
    if type(v) == "function" then list[#list + 1] = {key = k, fn = v, meta = true} end
  end
  for k, v in pairs(mt.__methods) do
    if type(v) == "function" then list[#list + 1] = {key = k, fn = v} end
  end
  table.sort(list, function(a, b) return a.key < b.key end)
  return list
end

-- A closed tensor is still a tensor to these: printing it says so, closing it again does
-- nothing, and its methods are found (they then report it closed).
local CLOSED_OK = {__tostring = true, __close = true, __gc = true}

test("every metamethod and method rejects a self that is not a tensor", function()
  local bads = {
    {"a file", function() return io.stdout end},
    {"a string", function() return "abc" end},
    {"a table", function() return {} end},
    {"nil", function() return nil end},
    {"a number", function() return 1.5 end},
    {"an integer", function() return 3 end},
    {"a coroutine", function() return coroutine.create(print) end},
    {"a closed tensor", closed_tensor},
  }
  local fns = all_functions()
  T.truthy(#fns > 80, "found " .. #fns .. " functions")
  local checked = 0
  for _, f in ipairs(fns) do
    for _, bad in ipairs(bads) do
      for _, second in ipairs({false, "sum", 1}) do
        local self = bad[2]()
        local closed = bad[1] == "a closed tensor"
        local ok, msg
        if second then
          ok, msg = pcall(f.fn, self, second)
        else
          ok, msg = pcall(f.fn, self)
        end
        local what = string.format("%s(%s%s)", f.key, bad[1], second and (", " .. tostring(second)) or "")
        local allowed = closed and (CLOSED_OK[f.key] or (f.key == "__index" and second == "sum"))
        if not allowed then
          T.truthy(not ok, what .. " raised no error")
          T.truthy(type(msg) == "string", what .. " raised a non-string error")
          local named = false
          for _, n in ipairs(names_of(f.key)) do
            if msg:find(n, 1, true) then named = true end
          end
          T.truthy(named, what .. ": message does not name the function: " .. msg)
          checked = checked + 1
        end
      end
    end
  end
  T.truthy(checked > 1500, "checked " .. checked .. " calls")
end)

test("a closed tensor prints, closes again, and its methods report it closed", function()
  local c = closed_tensor()
  local mt = getmetatable(c)
  eq(tostring(c), "tensor(closed)")
  mt.__close(c)
  mt.__close(c)
  T.expect_error(function() return c:sum() end, "Tensor:sum:", "closed tensor")
  eq(c.requires_grad, nil, "autograd field of a closed tensor")
end)

test("the context's finalizer accepts only the context", function()
  if not (debug and debug.getupvalue and debug.getmetatable) then T.skip("no debug library") end
  local _, holder = debug.getupvalue(actrun.zeros, 1)
  eq(type(holder), "userdata", "the context holder")
  local gc = debug.getmetatable(holder).__gc
  for _, bad in ipairs({io.stdout, "abc", {}, 1, actrun.ones(2), closed_tensor()}) do
    T.expect_error(function() gc(bad) end, "actrun.context:__gc:", "argument #1 (self)")
  end
  eq(actrun.ones(3):sum():item(), 3, "the context still works")
end)

-- Lua 5.4 lays a long string out as a 24-byte header, the bytes and a terminating 0. The
-- allocator wrapper used to release the block Lua frees when the last 16 bytes of a
-- tensor-sized block held a constant tag and the address of the user memory, so a string
-- whose address is known (string.format("%p")) could be built to match: freed, the
-- "tensor" it held (storage pointer 0x4141...) was released. Every length near the
-- block size and every plausible userdata size is tried, each string built to land at
-- the address it names: in the block of a string of its size just freed (allocators
-- that reuse at once), or next to the last two (allocators that hand out blocks in
-- order, ASan's among them).
local OLD_TAG = string.pack("<I8", 0x3154617274636131)

local function addr(s) return math.tointeger(tonumber(string.format("%p", s))) end

local function forge_round(fill_of, tag)
  local landed = 0
  local function forged(len, a, udsize)
    -- user memory = block end - udsize; its address in the last 8 bytes (7 from the
    -- string, the 8th is the terminating 0, the top byte of a user-space address)
    local self7 = string.pack("<I8", a + 24 + len + 1 - udsize):sub(1, 7)
    return fill_of(len - 15) .. tag .. self7
  end
  -- up to 3 tries of one way to predict where the next string of len bytes goes; the
  -- values after the address stay alive while the forged string is built
  local function land(len, udsize, predict)
    for _ = 1, 3 do
      local a, _keep1, _keep2 = predict()
      local s = forged(len, a, udsize)
      if addr(s) == a then return 1 end
    end
    return 0
  end
  for len = 150, 230 do
    for _, udsize in ipairs({168, 176, 184, 192}) do
      -- in the block a string of the same length just left
      landed = landed + land(len, udsize, function()
        collectgarbage()
        local a = addr(string.rep("B", len))
        collectgarbage()
        return a
      end)
      -- next to the last two blocks of that size
      landed = landed + land(len, udsize, function()
        local s1, s2 = string.rep("B", len), string.rep("C", len)
        return 2 * addr(s2) - addr(s1), s1, s2
      end)
      collectgarbage()
      collectgarbage()
    end
  end
  return landed
end

test("strings holding a tensor tag and their own address are never released as tensors", function()
  local keep = actrun.range(1, 4)
  local ones = {} -- kept alive, so building a forged string allocates nothing of its size
  for n = 100, 260 do ones[n] = string.rep("A", n) end
  local rnd = {}
  math.randomseed(7)
  for n = 100, 260 do
    local b = {}
    for i = 1, n do b[i] = string.char(math.random(0, 255)) end
    rnd[n] = table.concat(b)
  end
  collectgarbage()
  local live = actrun.memory().live
  local landed = forge_round(function(n) return ones[n] end, OLD_TAG)
  landed = landed + forge_round(function(n) return rnd[n] end, OLD_TAG)
  landed = landed + forge_round(function(n) return rnd[n] end, rnd[100]:sub(1, 8))
  print(string.format("    %d forged strings landed at the address they name", landed))
  T.truthy(landed > 100, "the forged strings landed where they claim (else this shows nothing)")
  collectgarbage()
  eq(actrun.memory().live, live, "live tensor bytes after freeing the strings")
  eq(keep:sum():item(), 10, "an existing tensor is intact")
  local fresh = actrun.ones(5)
  eq(fresh:sum():item(), 5, "new tensors work")
end)

test("tensors are still released by the collector, one by one", function()
  collectgarbage()
  local live = actrun.memory().live
  for _ = 1, 2000 do
    local t = actrun.ones(256)
    t = t + 1
  end
  collectgarbage()
  collectgarbage()
  eq(actrun.memory().live, live, "live tensor bytes after 4000 dead tensors")
end)

T.done()
