-- bench/bench_act.lua and bench/torch_act.py: the measuring output has every key, and the
-- report computes ns/element, speed-ups, geometric means, GB/s and shares of the triad
-- correctly from saved outputs (made up here, so the expected numbers are known).
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" ..
    (arg[0]:match("^(.*)/") or ".") .. "/../lua/?.lua;" .. package.path
local T = require "testlib"
local H = require "helpers"
local test, eq, truthy, near = T.test, T.eq, T.truthy, T.near

test("measuring prints a positive time for every name, mode, size and thread count", function()
  local out, err, code = H.run(H.root, "bench/bench_act.lua", {"--quick", "--sizes", "1000,3000",
    "--sample", "0.0005", "--names", "relu,sigmoid", "--threads", "2"})
  eq(code, 0, err)
  local k = H.keys(out)
  local count = 0
  for _ in pairs(k) do count = count + 1 end
  eq(count, 2 * 2 * 2 * 2, out)
  for _, name in ipairs{"relu", "sigmoid"} do
    for _, mode in ipairs{"fwd", "fwdbwd"} do
      for _, n in ipairs{1000, 3000} do
        for t = 1, 2 do
          local v = k[("actrun.act.%s.%s.%d.%dt"):format(name, mode, n, t)]
          truthy(v and v > 0 and v < math.huge, ("%s %s %d %dt: %s"):format(name, mode, n, t, tostring(v)))
        end
      end
    end
  end
end)

-- saved outputs with known numbers: actrun relu 2 us per call at 1000 elements, torch
-- twice as slow; sigmoid 8000 us at 16e6 (8 B/el -> 16 GB/s), torch 4x slower; a triad of
-- 32 GB/s, so the forward reaches 50% of it
local A_TXT = [[
# bench_act.lua: made up
actrun.act.relu.fwd.1000.1t       2.0000 us
actrun.act.relu.fwdbwd.1000.1t    6.0000 us
actrun.act.step.fwd.1000.1t       1.0000 us
actrun.act.step.fwdbwd.1000.1t    3.0000 us
actrun.act.sigmoid.fwd.16000000.1t  8000.0000 us
actrun.act.sigmoid.fwdbwd.16000000.1t  40000.0000 us
actrun.act.relu.fwd.16000000.1t  4000.0000 us
actrun.act.relu.fwdbwd.16000000.1t  20000.0000 us
]]
local T_TXT = [[
# torch_act.py: made up
# step: skipped
torch.act.relu.fwd.1000.1t        4.0000 us
torch.act.relu.fwdbwd.1000.1t     12.0000 us
torch.act.sigmoid.fwd.16000000.1t  32000.0000 us
torch.act.sigmoid.fwdbwd.16000000.1t  160000.0000 us
torch.act.relu.fwd.16000000.1t  4000.0000 us
torch.act.relu.fwdbwd.16000000.1t  20000.0000 us
]]
local S_TXT = "stream.triad.1t  32.0000 GB/s\nstream.copy.1t  30.0 GB/s\n"

test("the report: per-call times, speed-ups, geometric means, GB/s and % of the triad", function()
  local dir = H.tmpdir()
  H.write(dir .. "/a.txt", A_TXT)
  H.write(dir .. "/t.txt", T_TXT)
  H.write(dir .. "/s.txt", S_TXT)
  local out, err, code = H.run(dir, H.root .. "/bench/bench_act.lua", {"--report", "a.txt",
    "--torch-file", "t.txt", "--stream", "s.txt", "--header", "Made up."})
  H.rmdir(dir)
  eq(code, 0, err)
  truthy(out:find("^Made up%.\n"), out)
  truthy(out:find("%*%*1000 elements, 1 thread%*%*"), out)
  truthy(out:find("%*%*16000000 elements, 1 thread, STREAM triad 32%.0 GB/s%*%*"), out)
  local function row(name, after)
    local s = out:find(after, 1, true)
    local line = out:match("\n(| +`?" .. name:gsub("%p", "%%%0") .. "`? +|[^\n]*)", s)
    truthy(line, name .. " row after " .. after .. " in\n" .. out)
    local cells = {}
    for c in line:gmatch("|%s*([^|]-)%s*%f[|]") do cells[#cells + 1] = c end
    return cells
  end
  -- 1000 elements: us per call columns, relu 2 vs 4 -> 2.00, step has no torch cells
  eq(row("relu", "**1000 elements"), {"`relu`", "2.00", "4.00", "2.00", "6.00", "12.00", "2.00"})
  eq(row("step", "**1000 elements"), {"`step`", "1.00", "", "", "3.00", "", ""})
  -- a name measured at one size only has no row at the other
  truthy(not out:match("^[^*]*%*%*1000 elements.-`sigmoid`.-%*%*16000000"), "no sigmoid row at 1000")
  truthy(not out:match("%*%*16000000.-`step`.-%*%*Geometric"), "no step row at 16e6")
  eq(row("geometric mean", "**1000 elements"), {"geometric mean", "", "", "2.00", "", "", "2.00"})
  -- 16e6: ns/el, speed-ups, GB/s and the triad share
  eq(row("sigmoid", "**16000000"), {"`sigmoid`", "0.500", "2.000", "4.00", "2.500", "10.000", "4.00",
    "16.0", "4.0", "50%", "8.0", "2.0", "25%"})
  eq(row("relu", "**16000000"), {"`relu`", "0.250", "0.250", "1.00", "1.250", "1.250", "1.00",
    "32.0", "32.0", "100%", "16.0", "16.0", "50%"})
  eq(row("geometric mean", "**16000000"), {"geometric mean", "", "", "2.00", "", "", "2.00",
    "", "", "", "", "", ""})
  -- the summary
  eq(row("1000", "**Geometric mean"), {"1000", "1", "2.00", "2.00", "1"})
  eq(row("16000000", "**Geometric mean"), {"16000000", "1", "2.00", "2.00", "2"})
end)

test("the report without PyTorch or STREAM results leaves those cells empty", function()
  local dir = H.tmpdir()
  H.write(dir .. "/a.txt", A_TXT)
  local out, err, code = H.run(dir, H.root .. "/bench/bench_act.lua", {"--report", "a.txt"})
  H.rmdir(dir)
  eq(code, 0, err)
  truthy(out:find("STREAM triad not measured"), out)
  truthy(out:find("| geometric mean |"), out)
end)

test("bad options and unreadable files are usage errors", function()
  local _, err, code = H.run(H.root, "bench/bench_act.lua", {"--sizes", "10,x"})
  eq(code, 2)
  truthy(err:find("%-%-sizes: expected positive integers, got 'x'"), err)
  _, err, code = H.run(H.root, "bench/bench_act.lua", {"--report", "/nonexistent/file"})
  eq(code, 2)
  truthy(err:find("%-%-report: cannot read"), err)
end)

-- the PyTorch side, where a Python with torch is at hand
local function find_python()
  for _, p in ipairs{os.getenv("PYTHON") or "", "python3", "/usr/bin/python3"} do
    if p ~= "" then
      local _, _, code = H.sh(H.quote(p) .. " -c 'import torch' >/dev/null")
      if code == 0 then return p end
    end
  end
end

test("torch_act.py prints the same keys and skips what torch lacks", function()
  local py = find_python()
  if not py then T.skip("no Python with torch") end
  local out, err, code = H.sh(H.quote(py) .. " " .. H.quote(H.root .. "/bench/torch_act.py") ..
    " --quick --sizes 1000 --sample 0.0005 --threads 1 --names relu,identity,gelu_tanh,prelu")
  eq(code, 0, err)
  local k = H.keys(out)
  for _, name in ipairs{"relu", "gelu_tanh", "prelu"} do
    for _, mode in ipairs{"fwd", "fwdbwd"} do
      local v = k[("torch.act.%s.%s.1000.1t"):format(name, mode)]
      truthy(v and v > 0, name .. " " .. mode .. " in\n" .. out)
    end
  end
  eq(k["torch.act.identity.fwd.1000.1t"], nil)
  truthy(out:find("# identity: skipped"), out)
  _, err, code = H.sh(H.quote(py) .. " " .. H.quote(H.root .. "/bench/torch_act.py") .. " --names nope")
  eq(code, 2)
  truthy(err:find("unknown activation nope"), err)
end)

T.done()
