-- Runs every DIR/test_*.lua in its own process and sums up the results.
--
--   actrun run.lua DIR [pattern]
--
-- Each file runs in a fresh interpreter (the same executable that runs this script), so
-- a crash in one file shows up as a failure of that file instead of ending the run.
-- A file reports through testlib.lua: "ok - ..." / "not ok - ..." / "skip - ..." lines
-- and a final "RESULT <passed> <failed> <skipped>" line. The last line printed here is "N passed, M failed";
-- the exit status is non-zero when anything failed or crashed.

local dir, pattern = arg[1], arg[2]
if not dir then
  io.stderr:write("usage: actrun run.lua DIR [pattern]\n")
  os.exit(2)
end

-- The interpreter running this script: the lowest index of `arg` (options such as
-- `-e CODE` sit between it and the script).
local function interpreter()
  local i = 0
  while arg[i - 1] ~= nil do i = i - 1 end
  return arg[i] or "actrun"
end

local function shell_quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

local function list_tests()
  local p = io.popen("ls -1 " .. shell_quote(dir) .. " 2>/dev/null")
  local files = {}
  for name in p:lines() do
    if name:match("^test_.*%.lua$") and (not pattern or name:find(pattern)) then
      files[#files + 1] = name
    end
  end
  p:close()
  table.sort(files)
  return files
end

-- A per-file time limit, when coreutils' timeout is available.
local function timeout_prefix()
  local ok = os.execute("command -v timeout >/dev/null 2>&1")
  return ok and "timeout -k 10 900 " or ""
end

local exe = interpreter()
local prefix = timeout_prefix()
local files = list_tests()
if #files == 0 then
  io.stderr:write("run.lua: no test_*.lua files in " .. dir .. "\n")
  os.exit(2)
end

local total_pass, total_fail, total_skip = 0, 0, 0
local bad_files = {}

for _, name in ipairs(files) do
  local path = dir .. "/" .. name
  local cmd = prefix .. shell_quote(exe) .. " " .. shell_quote(path) .. " 2>&1"
  local started = os.time()
  local p = io.popen(cmd)
  local output = p:read("a"):gsub("%s+$", "")
  local _, how, code = p:close()
  local secs = os.time() - started

  -- Counts from the RESULT line; without one, from the per-case lines seen so far.
  local pass, fail, skip = output:match("RESULT (%d+) (%d+) ?(%d*)%s*$")
  pass, fail, skip = tonumber(pass), tonumber(fail), tonumber(skip) or 0
  local problem
  if how == "signal" then
    problem = "killed by signal " .. code
  elseif code == 124 and prefix ~= "" then
    problem = "timed out"
  elseif code ~= 0 and code > 128 then
    problem = "killed by signal " .. (code - 128)
  end
  if not pass then
    pass, fail = 0, 0
    for line in output:gmatch("[^\n]+") do
      if line:match("^ok %- ") then pass = pass + 1 end
      if line:match("^not ok %- ") then fail = fail + 1 end
    end
    problem = problem or ("ended without a RESULT line (exit status " .. tostring(code) .. ")")
  elseif not problem and (code ~= 0) ~= (fail > 0) then
    problem = "exit status " .. tostring(code) .. " does not match its results"
  end
  if problem then fail = fail + 1 end

  total_pass, total_fail, total_skip = total_pass + pass, total_fail + fail, total_skip + skip
  if fail > 0 then
    bad_files[#bad_files + 1] = name
    print(string.format("FAIL %s: %d passed, %d failed%s (%ds)", name, pass, fail,
      problem and (", " .. problem) or "", secs))
    for line in output:gmatch("[^\n]*") do
      if not line:match("^ok %- ") then print("  | " .. line) end
    end
  else
    print(string.format("ok   %s: %d passed%s (%ds)", name, pass,
      skip > 0 and (", " .. skip .. " skipped") or "", secs))
    for line in output:gmatch("[^\n]+") do
      if line:match("^skip %- ") then print("  | " .. line) end
    end
  end
end

if #bad_files > 0 then print("failing files: " .. table.concat(bad_files, " ")) end
if total_skip > 0 then print(total_skip .. " skipped") end
print(string.format("%d passed, %d failed", total_pass, total_fail))
os.exit(total_fail == 0 and 0 or 1)
