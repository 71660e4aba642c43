-- Crash safety of model files: a writer saving a 16 MB file over and over is killed with
-- SIGKILL at random moments; after each kill the final path must hold either nothing (no
-- save finished yet) or one complete generation (every value the same generation, every
-- shape right), never a partial or mixed file. Left-over temporary files (a SIGKILL between
-- creating and renaming one) are allowed: they never carry the final name, and the next
-- save removes them. SIGTERM and SIGHUP (what kill, timeout, systemd and Slurm send) let
-- the writer remove its temporary and still die of the signal.
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

-- The temporaries in dir (".model.safetensors.actrun-tmp-XXXXXX").
local function temporaries()
  local p = io.popen("ls -A " .. q(dir))
  local names = {}
  for n in p:read("a"):gmatch("[^\n]+") do
    if n:find("tmp", 1, true) then names[#names + 1] = n end
  end
  p:close()
  return names
end

-- Starts the writer at generation g, waits for its first save (the script is then
-- running, with the interpreter's handlers in place; a background job starts with SIGINT
-- ignored), sends it `signals` (shell commands on $pid) after 0 to 0.4 s, and returns its
-- exit status and output. A writer still alive 30 s later is killed and reported.
local function signalled(g, signals)
  local log = dir .. "/writer.log"
  local p = io.popen(string.format([[
    %s %s %s %d > %s 2>&1 & pid=$!
    i=0; while [ $i -lt 600 ] && ! grep -q saved %s; do sleep 0.05; i=$((i+1)); done
    sleep %.3f; %s
    i=0; while [ $i -lt 600 ] && kill -0 $pid 2>/dev/null; do sleep 0.05; i=$((i+1)); done
    kill -0 $pid 2>/dev/null && { echo "still running"; kill -9 $pid; }
    wait $pid; echo $?]], q(interpreter()), q(writer), q(path), g, q(log), q(log),
    math.random() * 0.4, signals))
  local status = p:read("a")
  p:close()
  local f = io.open(log)
  local text = f and f:read("a") or ""
  if f then f:close() end
  T.truthy(not status:find("still running", 1, true), "the writer ignored " .. signals)
  return tonumber(status:match("(%d+)%s*$")), text
end

T.test("the next save removes the temporaries SIGKILL left", function()
  generation()
  -- a writer killed during a save leaves its temporary; make sure there is one
  for _ = 1, 20 do
    if #temporaries() > 0 then break end
    signalled(1, "kill -9 $pid")
  end
  T.truthy(#temporaries() > 0, "no kill landed in a save")
  actrun.nn.save(path, {weight = actrun.full({1024, 4096}, 7), bias = actrun.full({7}, 7)})
  T.eq(temporaries(), {})
  T.eq(generation(), 7)
end)

T.test("SIGTERM or SIGHUP during a save: no temporary left, the process dies of the signal", function()
  local g0, sigs = 50000, {"TERM", "HUP"}
  for _, n in ipairs(temporaries()) do os.remove(dir .. "/" .. n) end
  for round = 1, 12 do
    local sig = sigs[round % 2 + 1]
    local status = signalled(g0, "kill -" .. sig .. " $pid")
    T.eq(status, 128 + (sig == "TERM" and 15 or 1), "round " .. round .. ": exit status after SIG" .. sig)
    T.eq(temporaries(), {}, "round " .. round .. ": temporaries after SIG" .. sig)
    generation() -- the file is complete
    g0 = g0 + 1000
  end
end)

T.test("Ctrl-C (SIGINT) still interrupts the script; a second one kills it; no temporary", function()
  -- the interpreter's own SIGINT handler keeps working during a save: the save completes,
  -- then the script stops with "interrupted!" (status 1); a second SIGINT gets the
  -- default action (status 130), and the save in progress removes its temporary
  for _, n in ipairs(temporaries()) do os.remove(dir .. "/" .. n) end
  for round = 1, 8 do
    local twice = round % 2 == 0
    local status, text = signalled(90000 + 1000 * round,
      twice and "kill -INT $pid; sleep 0.05; kill -INT $pid" or "kill -INT $pid")
    if twice then
      T.truthy(status == 1 or status == 130, "round " .. round .. ": status " .. tostring(status))
    else
      T.eq(status, 1, "round " .. round .. ": exit status")
    end
    if status == 1 then T.truthy(text:find("interrupted!", 1, true), text) end
    T.eq(temporaries(), {}, "round " .. round .. ": temporaries")
    generation()
  end
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
