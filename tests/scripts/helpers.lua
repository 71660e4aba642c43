-- Helpers of the tests of scripts/ and bench/: where things are, running a script in this
-- process (its results table) or in a child process (its output and exit status).
local H = {}

local function cwd()
  local p = assert(io.popen("pwd", "r"))
  local d = p:read("l")
  p:close()
  return d
end
local function absolute(path)
  if path:sub(1, 1) == "/" then return path end
  return cwd() .. "/" .. path
end

local here = arg[0]:match("^(.*)/") or "."
H.root = absolute(os.getenv("ACTRUN_SOURCE_DIR") or (here .. "/../.."))

-- The interpreter running this file (the lowest index of `arg`), as an absolute path
-- when it was given as a relative one.
function H.interpreter()
  local i = 0
  while arg[i - 1] ~= nil do i = i - 1 end
  local exe = arg[i]
  if exe:find("/") then return absolute(exe) end
  return exe
end

function H.quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

-- Runs root/rel as a script in this process with the given arguments (arg[0] set as the
-- command line would set it) and returns what it returns.
function H.dofile_script(rel, args)
  local saved = arg
  local a = {[0] = H.root .. "/" .. rel}
  for i, v in ipairs(args or {}) do a[i] = v end
  arg = a
  local ok, res = pcall(dofile, a[0])
  arg = saved
  if not ok then error(res, 0) end
  return res
end

-- Runs fn with a stand-in actrun.plot that records the specs given to plot.line; returns
-- fn's result and the list of specs.
function H.with_fake_plot(fn)
  local specs = {}
  local saved = package.loaded["actrun.plot"]
  package.loaded["actrun.plot"] = {line = function(spec) specs[#specs + 1] = spec end}
  local ok, res = pcall(fn)
  package.loaded["actrun.plot"] = saved
  if not ok then error(res, 0) end
  return res, specs
end

-- Checks a plot.line spec: every series has x and y of the same non-zero length, finite
-- numbers, and a label; title, axis labels and the file are set.
function H.check_line_spec(spec, file, nseries)
  assert(spec.file == file, "file " .. tostring(spec.file))
  assert(type(spec.title) == "string" and type(spec.xlabel) == "string" and
    type(spec.ylabel) == "string", "title and axis labels")
  assert(#spec.series == nseries, "series count " .. #spec.series)
  for _, s in ipairs(spec.series) do
    assert(type(s.label) == "string", "series label")
    assert(#s.x > 0 and #s.x == #s.y, "x and y lengths " .. #s.x .. " " .. #s.y)
    for i = 1, #s.x do
      assert(s.x[i] == s.x[i] and math.abs(s.x[i]) < math.huge, "finite x")
      assert(s.y[i] == s.y[i] and math.abs(s.y[i]) < math.huge, "finite y at " .. i)
    end
  end
end

-- Runs a shell command; returns stdout, stderr, exit code.
function H.sh(cmd)
  local err = os.tmpname()
  local p = assert(io.popen(cmd .. " 2>" .. H.quote(err), "r"))
  local out = p:read("a")
  local ok, how, code = p:close()
  local f = io.open(err, "r")
  local errtext = f and f:read("a") or ""
  if f then f:close() end
  os.remove(err)
  if how == "signal" then code = 128 + code end
  return out, errtext, code
end

-- Runs an actrun script in a child: `cd DIR && actrun PATH ARGS...`.
function H.run(dir, path, args)
  local cmd = "cd " .. H.quote(dir) .. " && " .. H.quote(H.interpreter()) .. " " .. H.quote(path)
  for _, v in ipairs(args or {}) do cmd = cmd .. " " .. H.quote(v) end
  return H.sh(cmd)
end

-- A fresh empty directory (removed by the caller with H.rmdir).
function H.tmpdir()
  local name = os.tmpname()
  os.remove(name)
  assert(os.execute("mkdir " .. H.quote(name)))
  return name
end

function H.rmdir(d)
  os.execute("rm -rf " .. H.quote(d))
end

function H.write(path, text)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
end

-- "KEY VALUE UNIT" lines -> key -> number
function H.keys(text)
  local t = {}
  for line in text:gmatch("[^\n]+") do
    local k, v = line:match("^([%w%._%-]+)%s+(%S+)%s+%S+%s*$")
    if k and tonumber(v) then t[k] = tonumber(v) end
  end
  return t
end

return H
