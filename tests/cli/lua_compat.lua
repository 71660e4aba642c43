-- The actrun command where it overlaps the standalone lua: each case runs a command line
-- under actrun and checks its output, status and first line of errors; when lua5.4 is
-- installed the same command line runs under it too and the two must agree (program
-- names aside). Stand-alone interpreter tests: programs are written to a file, run
-- through the shell, and their output read back.
-- Usage: actrun lua_compat.lua PATH_TO_ACTRUN [PATH_TO_LUA54]

local actrun_bin = assert(arg[1], "usage: lua_compat.lua PATH_TO_ACTRUN [PATH_TO_LUA54]")
local lua_bin = arg[2]
if lua_bin == nil then
  local p = io.popen("command -v lua5.4 2>/dev/null")
  lua_bin = p:read("l")
  p:close()
end
if lua_bin == "" then lua_bin = nil end

local tmp = os.tmpname()
local prog, out, err = tmp .. ".lua", tmp .. ".out", tmp .. ".err"
local other = tmp .. "-other.lua"
local home = tmp .. "-home"
os.execute("mkdir -p '" .. home .. "'")

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function prepfile(path, s)
  local f = assert(io.open(path, "w"))
  f:write(s)
  f:close()
end

local function slurp(path)
  local f = io.open(path, "r")
  if not f then return "" end
  local s = f:read("a")
  f:close()
  return s
end

-- Runs the shell command line with PROG replaced by the interpreter, stdin from the
-- named file (or /dev/null); returns stdout, stderr, exit status.
local function run(interp, cmd, stdin)
  local line = "HOME=" .. q(home) .. " " .. cmd:gsub("PROG", q(interp)) .. " <" ..
    q(stdin or "/dev/null") .. " >" .. q(out) .. " 2>" .. q(err)
  local ok, how, code = os.execute(line)
  if how == "signal" then code = 128 + code end
  return slurp(out), slurp(err), ok and 0 or code
end

-- Program names out of a message: "lua5.4: x" and "actrun: x" both read "PROG: x".
local function neutral(s)
  return (s:gsub("[^\n:]*lua5%.4: ", "PROG: "):gsub("[^\n:]*actrun: ", "PROG: "))
end

local failures, count = 0, 0

-- check(name, cmd, want): want.out (exact stdout), want.err (a plain substring of
-- stderr), want.status; with lua5.4 the same stdout, status and first stderr line.
-- want.banner: stdout starts with each interpreter's version line (-i), left out, and
-- stdout is not compared with lua5.4's (its line editor may echo piped input lines).
local function check(name, cmd, want, stdin)
  count = count + 1
  local o, e, st = run(actrun_bin, cmd, stdin)
  if want.banner then o = o:gsub("^[^\n]*\n", "", 1) end
  local problems = {}
  if want.out and o ~= want.out then
    problems[#problems + 1] = ("stdout %q, wanted %q"):format(o, want.out)
  end
  if want.err and not e:find(want.err, 1, true) then
    problems[#problems + 1] = ("stderr %q lacks %q"):format(e, want.err)
  end
  if want.status and st ~= want.status then
    problems[#problems + 1] = ("status %s, wanted %s"):format(st, want.status)
  end
  if lua_bin then
    local lo, le, lst = run(lua_bin, cmd, stdin)
    if want.banner then lo = lo:gsub("^[^\n]*\n", "", 1) end
    if lo ~= o and not want.banner then problems[#problems + 1] = ("stdout %q, lua5.4's %q"):format(o, lo) end
    if (st == 0) ~= (lst == 0) then
      problems[#problems + 1] = ("status %s, lua5.4's %s"):format(st, lst)
    end
    local a, b = neutral(e):match("^[^\n]*"), neutral(le):match("^[^\n]*")
    if a ~= b then problems[#problems + 1] = ("stderr %q, lua5.4's %q"):format(a, b) end
  end
  if #problems > 0 then
    failures = failures + 1
    print("FAIL: " .. name .. "\n  " .. cmd .. "\n  " .. table.concat(problems, "\n  "))
  end
end

-- LUA_INIT_5_4 / LUA_INIT: code or @file, before everything else; -E ignores them
prepfile(prog, 'print("script", ...)\n')
prepfile(other, 'print("init file")\n')
check("LUA_INIT code", "LUA_INIT='print(\"init\")' PROG -e 'print(1)'", {out = "init\n1\n", status = 0})
check("LUA_INIT_5_4 first", "LUA_INIT_5_4='print(54)' LUA_INIT='print(0)' PROG -e 'print(1)'",
  {out = "54\n1\n", status = 0})
check("LUA_INIT @file", "LUA_INIT=@" .. q(other) .. " PROG " .. q(prog) .. " a",
  {out = "init file\nscript\ta\n", status = 0})
check("LUA_INIT before -e", "LUA_INIT='X = 10' PROG -e 'print(X + 1)'", {out = "11\n"})
check("LUA_INIT error", "LUA_INIT='error(\"bad init\")' PROG -e 'print(1)'",
  {out = "", err = "LUA_INIT:1: bad init", status = 1})
check("LUA_INIT_5_4 error names it", "LUA_INIT_5_4='error(\"bad\")' PROG -e 'print(1)'",
  {out = "", err = "LUA_INIT_5_4:1: bad", status = 1})
check("LUA_INIT missing file", "LUA_INIT=@/no/such/file.lua PROG -e 'print(1)'",
  {out = "", err = "cannot open /no/such/file.lua", status = 1})
check("-E ignores LUA_INIT", "LUA_INIT='print(\"init\")' PROG -E -e 'print(1)'", {out = "1\n"})
check("-E ignores LUA_PATH",
  "LUA_PATH='/nowhere/?.lua' PROG -E -e 'print(package.path:find(\"nowhere\") == nil)'",
  {out = "true\n"})
check("-E and LUA_NOENV", "PROG -E -e 'print(debug.getregistry().LUA_NOENV)'", {out = "true\n"})

-- the script's ... is arg[1..#arg] as arg is when the script starts
check("... from arg", "PROG -e 'arg = {\"x\", \"y\"}' " .. q(prog) .. " a b c",
  {out = "script\tx\ty\n", status = 0})
check("... after arg[1] changed", "PROG -e 'arg[1] = \"changed\"' " .. q(prog) .. " a b",
  {out = "script\tchanged\tb\n"})
check("arg not a table", "PROG -e 'arg = 1' " .. q(prog) .. " a",
  {out = "", err = "'arg' is not a table", status = 1})
check("arg removed by LUA_INIT", "LUA_INIT='arg = nil' PROG " .. q(prog),
  {out = "", err = "'arg' is not a table", status = 1})

-- error objects as lua reports them
check("error object with __tostring",
  "PROG -e 'error(setmetatable({}, {__tostring = function() return \"my object\" end}))'",
  {out = "", err = "my object", status = 1})
check("error object without __tostring", "PROG -e 'error({})'",
  {err = "(error object is a table value)", status = 1})
check("nil error object", "PROG -e 'error(nil)'", {err = "(error object is a nil value)", status = 1})
check("number error object", "PROG -e 'error(42)'", {err = "42", status = 1})
check("__tostring not returning a string",
  "PROG -e 'error(setmetatable({}, {__tostring = function() return 1 end}))'",
  {err = "(error object is a table value)", status = 1})

-- options that need an argument, and unknown ones
check("-e without argument", "PROG -e", {out = "", err = "'-e' needs argument", status = 1})
check("-l without argument", "PROG -l", {out = "", err = "'-l' needs argument", status = 1})
check("unknown option", "PROG -z", {out = "", err = "unrecognized option '-z'", status = 1})
check("-- ends the options", "PROG -- " .. q(prog) .. " -e", {out = "script\t-e\n"})

-- the interactive mode on piped input
prepfile(other, "_PROMPT = setmetatable({}, {__tostring = function() return 'P> ' end})\n1 + 1\n")
check("_PROMPT through tostring", "PROG -i", {out = "> P> 2\nP> \n", banner = true}, other)
prepfile(other, "print = nil\n1 + 1\n")
check("a broken print", "PROG -i",
  {out = "> > > \n", err = "error calling 'print' (attempt to call a nil value)", banner = true},
  other)
prepfile(other, "x = 5\nx * 2\n'str', nil, 3\n")
check("results printed", "PROG -i", {out = "> > 10\n> str\tnil\t3\n> \n", banner = true}, other)

os.remove(prog)
os.remove(other)
os.remove(out)
os.remove(err)
os.remove(tmp)
os.execute("rm -rf '" .. home .. "'")
print(("lua_compat: %d cases, %d failures%s"):format(count, failures,
  lua_bin and "" or " (lua5.4 not found: not compared with it)"))
os.exit(failures == 0 and 0 or 1)
