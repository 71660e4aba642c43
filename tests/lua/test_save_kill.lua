-- Crash safety of model files: a writer saving a 16 MB file over and over is killed with
-- SIGKILL at random moments; after each kill the final path must hold either nothing (no
-- save finished yet) or one complete generation (every value the same generation, every
-- shape right), never a partial or mixed file. Left-over temporary files (a kill between
-- creating and renaming one) are allowed: they never carry the final name.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local T = require "testlib"
local actrun = T.actrun

local here = arg[0]:match("^(.*)/") or "."
local writer = here .. "/repro/save_writer.lua"
local function interpreter() return T.interpreter() or "actrun" end
local function q(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir -p " .. q(dir)))
local path = dir .. "/model.safetensors"

-- The file at path: nil (absent) or its generation, after checking it is complete.
local function generation()
  local f = io.open(path, "rb")
  if not f then return nil end
  f:close()
  local t = actrun.nn.load(path) -- validates the header, the sizes and the offsets
  T.eq(t.weight:shape(), {1024, 4096}, "weight shape")
  T.eq(t.bias:shape(), {7}, "bias shape")
  local g = t.bias[1]
  T.eq(t.weight:min():item(), g, "weight min")
  T.eq(t.weight:max():item(), g, "weight max")
  T.eq(t.bias:min():item() == g and t.bias:max():item() == g, true, "bias all one generation")
  return g
end

T.test("a writer killed at random moments never leaves a partial file", function()
  math.randomseed(tonumber(os.getenv("ACTRUN_KILL_SEED") or "") or os.time())
  local seen, g0, kills = {}, 1, 0
  local last
  local rounds = 0
  while rounds < 12 or (#seen == 0 and rounds < 24) do
    rounds = rounds + 1
    local round = rounds
    -- 0 to 400 ms: before the first save, in the middle of a write, around a rename; on
    -- a loaded machine the writer may not start within that, so after 12 rounds with no
    -- save the window grows to 2 s
    local delay = string.format("%.3f", math.random() * (round > 12 and 2.0 or 0.4))
    local log = dir .. "/writer.log"
    local cmd = string.format("%s %s %s %d > %s 2>&1 & pid=$!; sleep %s; kill -9 $pid; wait $pid 2>/dev/null",
      q(interpreter()), q(writer), q(path), g0, q(log), delay)
    os.execute(cmd) -- "wait" reports the kill: its status is not checked
    kills = kills + 1
    local f = io.open(log)
    local out = f and f:read("a") or ""
    if f then f:close() end
    local saved = {}
    for s in out:gmatch("saved (%d+)") do saved[#saved + 1] = tonumber(s) end
    local g = generation()
    if g then
      seen[#seen + 1] = g
      -- the file is the last generation reported saved, or the one after it (renamed
      -- before the print), or (nothing saved this round) what was there before
      local newest = saved[#saved]
      T.truthy(g == last or (newest and (g == newest or g == newest + 1)) or
               (not newest and g == g0),
        string.format("round %d: file holds generation %s; this round saved %s, before %s",
          round, tostring(g), tostring(newest), tostring(last)))
      last = g
    else
      T.eq(last, nil, "the file vanished after generation " .. tostring(last))
    end
    g0 = g0 + 1000
  end
  T.truthy(#seen > 0, "no save ever completed in " .. rounds .. " rounds")
  T.eq(kills, rounds)
end)

T.test("an interrupted save leaves the previous file in place", function()
  -- the deterministic version: the disk "fills" after 1000 bytes (a test hook)
  local before = generation()
  local ok = pcall(actrun.nn.save, path, {weight = actrun.zeros(1024, 4096), bias = actrun.zeros(7)},
    {_fail_after = 1000})
  T.eq(ok, false)
  T.eq(generation(), before)
end)

os.execute("rm -rf " .. q(dir))
T.done()
