-- A tensor is recognised by what Lua code cannot forge: every metamethod and method checks
-- its self the same way.
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
