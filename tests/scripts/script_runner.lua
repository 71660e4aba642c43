-- Shared by the smoke tests of the claim scripts (tests/scripts/test_*.lua): runs a script
-- of scripts/ in this process with given arguments and returns what it returns (its
-- printed output is kept, and shown when asked), or runs it in a child process from
-- another working directory and returns its output and exit status.
local R = {}

-- a path that still holds after a cd (relative ones are taken from the current directory)
local function absolute(path)
  if path:sub(1, 1) == "/" or not path:find("/", 1, true) then return path end
  return (os.getenv("PWD") or ".") .. "/" .. path
end

local here = arg[0]:match("^(.*)/") or "."
R.root = absolute(os.getenv("ACTRUN_SOURCE_DIR") or (here .. "/../.."))

local function quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

-- The interpreter running this file: the lowest index of `arg`.
local function interpreter()
  local i = 0
  while arg[i - 1] ~= nil do i = i - 1 end
  return absolute(arg[i])
end

-- run("scripts/x.lua", {"--quick"}) -> results, output text
function R.run(rel, args)
  local saved_arg, saved_print = arg, print
  local lines = {}
  local a = {[0] = R.root .. "/" .. rel}
  for i, v in ipairs(args or {}) do a[i] = v end
  arg = a
  print = function(...)
    local parts = table.pack(...)
    for i = 1, parts.n do parts[i] = tostring(parts[i]) end
    lines[#lines + 1] = table.concat(parts, "\t", 1, parts.n)
  end
  local ok, res = pcall(dofile, a[0])
  arg, print = saved_arg, saved_print
  local out = table.concat(lines, "\n")
  if not ok then error(tostring(res) .. "\n--- output ---\n" .. out, 0) end
  return res, out
end

-- A child `cd /tmp && actrun ROOT/rel args...` -> stdout, stderr, exit status.
function R.child(rel, args)
  local err = os.tmpname()
  local cmd = "cd /tmp && " .. quote(interpreter()) .. " " .. quote(R.root .. "/" .. rel)
  for _, v in ipairs(args or {}) do cmd = cmd .. " " .. quote(v) end
  local p = assert(io.popen(cmd .. " 2>" .. quote(err), "r"))
  local out = p:read("a")
  local _, _, code = p:close()
  local f = io.open(err, "r")
  local errtext = f and f:read("a") or ""
  if f then f:close() end
  os.remove(err)
  return out, errtext, code
end

-- The checks every claim script must pass on its command line: --help (exit 0, usage on
-- stdout) and a bad option (exit 2, the problem and the usage on stderr), run from
-- another working directory.
function R.check_command_line(T, rel, bad_args, bad_pattern)
  local out, _, code = R.child(rel, {"--help"})
  T.eq(code, 0, "--help exit status")
  T.truthy(out:find("usage: actrun " .. rel, 1, true), "usage text on stdout:\n" .. out)
  T.truthy(out:find("--seed", 1, true) and out:find("--quick", 1, true) and out:find("--plot", 1, true),
    "--seed, --quick and --plot in the usage")
  local _, err, code2 = R.child(rel, bad_args)
  T.eq(code2, 2, "exit status of a bad command line")
  T.truthy(err:find(bad_pattern) and err:find("usage:", 1, true),
    "message and usage on stderr:\n" .. err)
end

return R
