-- What a save does to what is already at its destination (src/io/writer.c, behind
-- nn.save, plot files, reports and lab.compare's CSV): a regular file is replaced
-- atomically keeping its mode; a symbolic link is written through to its target; a
-- device, named pipe, directory, dangling link or write-protected file is refused with
-- nothing written; temporaries of dead writers are removed by the next save.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local T = require "testlib"
local actrun = T.actrun
local nn = actrun.nn

local function q(s) return "'" .. s:gsub("'", "'\\''") .. "'" end
local function sh(cmd) return os.execute(cmd) == true end
local function out(cmd)
  local p = io.popen(cmd)
  local s = p:read("a")
  p:close()
  return (s:gsub("%s+$", ""))
end

local dir = os.tmpname()
os.remove(dir)
assert(sh("mkdir -p " .. q(dir)))
local function path(name) return dir .. "/" .. name end
local root = out("id -u") == "0"

local read, write = T.read_file, T.write_file
local function mode(p) return out("stat -c %a " .. q(p)) end
-- the names in a directory, hidden ones too, sorted
local function listing(d)
  local names = {}
  for n in out("ls -A " .. q(d or dir)):gmatch("[^\n]+") do names[#names + 1] = n end
  table.sort(names)
  return names
end
local function clean()
  sh("rm -rf " .. q(dir) .. "/* " .. q(dir) .. "/.[!.]*")
end
local model = {w = actrun.ones(3)}
local function saved_w(p) return nn.load(p).w:sum():item() end

T.test("a named pipe is refused at once: never opened, still a pipe", function()
  clean()
  local fifo = path("fifo")
  assert(sh("mkfifo " .. q(fifo)))
  -- in a child with a time limit: opening a pipe nobody reads would block forever
  local script = path("save_to_fifo.lua")
  write(script, string.format([[
    local ok, e = pcall(actrun.nn.save, %q, {w = actrun.ones(3)})
    print(ok, e)
    local ok2, e2 = pcall(actrun.plot.line, {series = {{y = {1, 2}}}, file = %q})
    print(ok2, e2)]], fifo, fifo .. ".svg"))
  assert(sh("mkfifo " .. q(fifo .. ".svg")))
  local t0 = os.time()
  local got = out(string.format("timeout 20 %s %s 2>&1", q(T.interpreter() or "actrun"), q(script)))
  T.truthy(os.time() - t0 < 15, "the save blocked on the pipe")
  T.truthy(got:find("false\tactrun.nn.save: '" .. fifo ..
    "' is a named pipe, not a regular file (nothing written)", 1, true), got)
  T.truthy(got:find("false\tactrun.plot.line: '" .. fifo ..
    ".svg' is a named pipe, not a regular file (nothing written)", 1, true), got)
  T.truthy(sh("test -p " .. q(fifo)), "fifo is no longer a named pipe")
  T.truthy(sh("test -p " .. q(fifo .. ".svg")), "fifo.svg is no longer a named pipe")
  T.eq(listing(), {"fifo", "fifo.svg", "save_to_fifo.lua"})
end)

T.test("a device is refused and stays a device", function()
  clean()
  -- our own null device where we may make one (root): a regression must not turn the
  -- system's /dev/null into a regular file; without root, /dev/null itself is safe to try
  local dev = path("null")
  if not sh("mknod " .. q(dev) .. " c 1 3 2>/dev/null") then
    if root then print("# skipped: root without mknod, and /dev/null is not ours to risk") return end
    dev = "/dev/null"
  end
  T.expect_error(function() nn.save(dev, model) end,
    "actrun.nn.save: '" .. dev .. "' is a character device, not a regular file (nothing written)")
  T.expect_error(function() actrun.lab.report({{activation = "relu", seed = 1, test_acc = 0.5}},
      {file = dev}) end,
    "actrun.lab.report: '" .. dev .. "' is a character device")
  T.truthy(sh("test -c " .. q(dev)), dev .. " is no longer a character device")
  T.eq(listing(), dev == "/dev/null" and {} or {"null"}, "nothing else written")
end)

T.test("a directory is refused", function()
  clean()
  assert(sh("mkdir " .. q(path("d")) .. " " .. q(path("d.svg"))))
  T.expect_error(function() nn.save(path("d"), model) end,
    "actrun.nn.save: '" .. path("d") .. "' is a directory, not a regular file (nothing written)")
  T.expect_error(function() actrun.plot.line{series = {{y = {1, 2}}}, file = path("d.svg")} end,
    "actrun.plot.line: '" .. path("d.svg") .. "' is a directory")
  T.eq(listing(), {"d", "d.svg"})
end)

T.test("a symbolic link is written through: the target changes, the link stays", function()
  clean()
  assert(sh("mkdir " .. q(path("real")) .. " " .. q(path("links"))))
  nn.save(path("real/m.safetensors"), {w = actrun.zeros(3)})
  assert(sh("ln -s ../real/m.safetensors " .. q(path("links/m.safetensors"))))
  nn.save(path("links/m.safetensors"), model)
  T.truthy(sh("test -L " .. q(path("links/m.safetensors"))), "the link was replaced")
  T.eq(out("readlink " .. q(path("links/m.safetensors"))), "../real/m.safetensors")
  T.eq(saved_w(path("real/m.safetensors")), 3, "the target holds the new data")
  -- the temporary went next to the target and is gone
  T.eq(listing(path("links")), {"m.safetensors"})
  T.eq(listing(path("real")), {"m.safetensors"})
end)

T.test("a chain of links reaches the final target; a dangling link is an error", function()
  clean()
  write(path("data.csv"), "old\n")
  assert(sh("ln -s data.csv " .. q(path("l1")) .. " && ln -s l1 " .. q(path("l2"))))
  actrun._write_file(path("l2"), {"new", "\n"})
  T.eq(read(path("data.csv")), "new\n")
  T.truthy(sh("test -L " .. q(path("l1")) .. " && test -L " .. q(path("l2"))), "links replaced")
  assert(sh("ln -s nowhere/x " .. q(path("dangling"))))
  T.expect_error(function() nn.save(path("dangling"), model) end,
    "actrun.nn.save: '" .. path("dangling") ..
    "' is a symbolic link to 'nowhere/x', which does not exist (nothing written)")
  T.truthy(sh("test -L " .. q(path("dangling"))), "the dangling link was replaced")
  -- a loop is an error too, not a hang
  assert(sh("ln -s loop2 " .. q(path("loop1")) .. " && ln -s loop1 " .. q(path("loop2"))))
  T.expect_error(function() nn.save(path("loop1"), model) end,
    "actrun.nn.save: '" .. path("loop1") .. "': cannot follow the symbolic link")
  T.eq(listing(), {"dangling", "data.csv", "l1", "l2", "loop1", "loop2"})
end)

T.test("the destination's mode is kept; a write-protected file is refused (unless root)", function()
  clean()
  local p = path("m.safetensors")
  nn.save(p, {w = actrun.zeros(3)})
  assert(sh("chmod 600 " .. q(p)))
  nn.save(p, model)
  T.eq(mode(p), "600")
  assert(sh("chmod 640 " .. q(p)))
  nn.save(p, model)
  T.eq(mode(p), "640")
  actrun.plot.line{series = {{y = {1, 2}}}, file = path("p.svg")}
  assert(sh("chmod 604 " .. q(path("p.svg"))))
  actrun.plot.line{series = {{y = {2, 1}}}, file = path("p.svg")}
  T.eq(mode(path("p.svg")), "604")
  -- a new file: 0666 less the umask, as open() gives
  local expected = string.format("%o", 438 & ~tonumber(out("sh -c umask"), 8))
  nn.save(path("new.safetensors"), model)
  T.eq(mode(path("new.safetensors")), expected)

  assert(sh("chmod 444 " .. q(p)))
  if root then
    -- root may write any file (as cp would): the save proceeds and the mode stays
    nn.save(p, {w = actrun.full({3}, 2)})
    T.eq(saved_w(p), 6)
  else
    T.expect_error(function() nn.save(p, {w = actrun.full({3}, 2)}) end,
      "actrun.nn.save: '" .. p .. "' is write-protected (nothing written)")
    T.eq(saved_w(p), 3)
  end
  T.eq(mode(p), "444")
  T.eq(listing(), {"m.safetensors", "new.safetensors", "p.svg"})
end)

T.test("hard links: the saved name gets a new file, the other names keep the old one", function()
  -- the documented choice (docs/RELIABILITY.md section 4): atomic replacement over
  -- writing in place, which a crash would leave half-written under every name
  clean()
  nn.save(path("a.safetensors"), {w = actrun.zeros(3)})
  assert(sh("ln " .. q(path("a.safetensors")) .. " " .. q(path("b.safetensors"))))
  nn.save(path("a.safetensors"), model)
  T.eq(saved_w(path("a.safetensors")), 3)
  T.eq(saved_w(path("b.safetensors")), 0)
end)

T.test("temporaries of dead writers are removed by the next save; live ones stay", function()
  clean()
  local p = path("m.safetensors")
  -- left by a writer killed with SIGKILL (nobody holds its lock), and one that a live
  -- writer holds (flock(1) keeps the lock while it sleeps)
  write(path(".m.safetensors.actrun-tmp-dead01"), "partial")
  write(path(".m.safetensors.actrun-tmp-live01"), "in progress")
  write(path(".other.actrun-tmp-dead02"), "another file's")
  write(path(".m.safetensors.actrun-tmp-toolong"), "not our pattern")
  -- flock(1) without forking: the process we start is the one holding the lock
  local live = path(".m.safetensors.actrun-tmp-live01")
  local pid = out(string.format("flock -F -x %s sleep 60 >/dev/null 2>&1 & echo $!", q(live)))
  for _ = 1, 200 do -- until it holds the lock
    if not sh("flock -n -x " .. q(live) .. " true") then break end
    sh("sleep 0.05")
  end
  nn.save(p, model)
  sh("kill " .. pid)
  T.eq(listing(), {".m.safetensors.actrun-tmp-live01", ".m.safetensors.actrun-tmp-toolong",
    ".other.actrun-tmp-dead02", "m.safetensors"})
end)

clean()
os.execute("rm -rf " .. q(dir))
T.done()
