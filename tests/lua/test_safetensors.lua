-- nn.save / nn.load (safetensors): round trips, reproducible bytes, loading into a module
-- (a stand-in with named_parameters/named_buffers), strict and non-strict loading,
-- every corruption of the file we can think of, atomic writes, and interoperability with
-- an independent reader/writer in Python's standard library (tests/fixtures/safetensors_py.py).
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local T = require "testlib"
local actrun = T.actrun
local nn = actrun.nn

local here = arg[0]:match("^(.*)/") or "."
local fixtures = here .. "/../fixtures/"

-- a fresh directory for this run's files
local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir '" .. dir .. "'"), "cannot make a temporary directory")
local function path(name) return dir .. "/" .. name end

local read_bytes, write_bytes = T.read_file, T.write_file
local function listing()
  local names = {}
  local h = io.popen("ls -A '" .. dir .. "'")
  for line in h:lines() do names[#names + 1] = line end
  h:close()
  table.sort(names)
  return names
end

-- a file from a header string and raw data (the length prefix computed unless given)
local function make(name, header, data, len)
  local p = path(name)
  write_bytes(p, string.pack("<I8", len or #header) .. header .. (data or ""))
  return p
end
local function f32(...) return string.pack("<" .. string.rep("f", select("#", ...)), ...) end

-- the stand-in for an nn module: parameters and buffers by name
local function standin(params, buffers)
  local m = {params = params, buffers = buffers or {}}
  function m:named_parameters() return self.params end
  function m:named_buffers() return self.buffers end
  return m
end

T.test("round trip of a table of tensors keeps names, shapes and values", function()
  actrun.manual_seed(1)
  local src = {
    ["w"] = actrun.randn(3, 4),
    ["b"] = actrun.randn(4),
    ["t"] = actrun.randn(4, 3):t(), -- a transposed view
    ["deep.x"] = actrun.randn(2, 1, 3, 2),
    ["empty"] = actrun.zeros(0, 3),
  }
  local p = path("round.safetensors")
  T.eq(nn.save(p, src), nil)
  local got, meta = nn.load(p)
  T.eq(meta, {})
  local n = 0
  for name, t in pairs(got) do
    n = n + 1
    T.truthy(src[name], "unexpected name " .. name)
    T.eq(t:shape(), src[name]:shape(), name)
    T.eq(t:totable(), src[name]:totable(), name)
  end
  T.eq(n, 5)
end)

T.test("the bytes are exactly the format's, names sorted, header padded to 8", function()
  local p = path("exact.safetensors")
  nn.save(p, {b = actrun.tensor{5}, a = actrun.tensor{{1, 2}}})
  local header = '{"a":{"dtype":"F32","shape":[1,2],"data_offsets":[0,8]},' ..
                 '"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}'
  header = header .. string.rep(" ", (8 - #header % 8) % 8)
  T.eq(read_bytes(p), string.pack("<I8", #header) .. header .. f32(1, 2, 5))
end)

T.test("saving the same tensors twice gives identical bytes", function()
  actrun.manual_seed(2)
  local a, b, c = actrun.randn(5, 5), actrun.randn(7), actrun.randn(2, 3, 4)
  local t1, t2 = {}, {}
  t1.zeta, t1.alpha, t1.mid = a, b, c
  t2.mid, t2.alpha, t2.zeta = c, b, a
  nn.save(path("r1"), t1, {metadata = {y = "2", x = "1"}})
  nn.save(path("r2"), t2, {metadata = {x = "1", y = "2"}})
  T.eq(read_bytes(path("r1")) == read_bytes(path("r2")), true)
  os.remove(path("r1"))
  os.remove(path("r2"))
end)

T.test("metadata round trip", function()
  local p = path("meta.safetensors")
  nn.save(p, {x = actrun.ones(2)}, {metadata = {format = "pt", ["note é"] = "a \"quoted\"\nline"}})
  local t, meta = nn.load(p)
  T.eq(meta, {format = "pt", ["note é"] = "a \"quoted\"\nline"})
  T.eq(t.x:totable(), {1, 1})
end)

T.test("a module is saved through named_parameters and named_buffers, and loaded back", function()
  actrun.manual_seed(3)
  local m = standin({["0.weight"] = actrun.randn(4, 3), ["0.bias"] = actrun.randn(4)},
                    {["1.running_mean"] = actrun.randn(4)})
  m.params["0.weight"].requires_grad = true
  local p = path("module.safetensors")
  nn.save(p, m)
  local plain = nn.load(p)
  T.eq(plain["1.running_mean"]:totable(), m.buffers["1.running_mean"]:totable())
  local fresh = standin({["0.weight"] = actrun.zeros(4, 3), ["0.bias"] = actrun.zeros(4)},
                        {["1.running_mean"] = actrun.zeros(4)})
  fresh.params["0.weight"].requires_grad = true -- loading works on leaves that need grad
  local ret, report = nn.load(p, fresh)
  T.eq(ret, fresh)
  T.eq(report, {missing = {}, unexpected = {}})
  for name, t in pairs(m.params) do T.eq(fresh.params[name]:totable(), t:totable(), name) end
  T.eq(fresh.buffers["1.running_mean"]:totable(), m.buffers["1.running_mean"]:totable())
  T.eq(fresh.params["0.weight"].requires_grad, true)
  T.eq(fresh.params["0.weight"].grad, nil)
  -- a plain table of tensors is a destination too
  local dst = {["0.weight"] = actrun.zeros(4, 3), ["0.bias"] = actrun.zeros(4),
               ["1.running_mean"] = actrun.zeros(4)}
  nn.load(p, dst)
  T.eq(dst["0.bias"]:totable(), m.params["0.bias"]:totable())
end)

T.test("missing tensors and shape mismatches leave the module untouched", function()
  local p = path("partial.safetensors")
  nn.save(p, {["1.weight"] = actrun.ones(256, 784), ["1.bias"] = actrun.ones(256)})
  local function module()
    return standin({["1.weight"] = actrun.zeros(128, 784), ["1.bias"] = actrun.zeros(256),
                    ["2.weight"] = actrun.zeros(10, 128)})
  end
  local m = module()
  T.expect_error(function() nn.load(p, m) end,
    "actrun.nn.load: " .. p .. ": '1.weight' has shape {256,784} in the file but {128,784} in the module")
  T.eq(m.params["1.bias"]:sum():item(), 0, "nothing copied")
  m.params["1.weight"] = actrun.zeros(256, 784)
  T.expect_error(function() nn.load(p, m) end,
    "actrun.nn.load: " .. p .. ": missing tensor '2.weight'")
  T.eq(m.params["1.bias"]:sum():item(), 0, "nothing copied")
  m.params["3.weight"] = actrun.zeros(1)
  T.expect_error(function() nn.load(p, m) end, "missing tensors '2.weight', '3.weight'")
  -- non-strict: what is there is loaded, the rest reported
  local _, report = nn.load(p, m, {strict = false})
  T.eq(report, {missing = {"2.weight", "3.weight"}, unexpected = {}})
  T.eq(m.params["1.bias"]:sum():item(), 256)
  -- a shape mismatch is an error even when not strict
  local m2 = module()
  T.expect_error(function() nn.load(p, m2, {strict = false}) end, "has shape {256,784} in the file")
end)

T.test("extra tensors in the file: an error listing them, unless strict=false", function()
  local p = path("extra.safetensors")
  nn.save(p, {a = actrun.ones(2), b = actrun.ones(3), c = actrun.ones(1)})
  local m = standin({a = actrun.zeros(2)})
  T.expect_error(function() nn.load(p, m) end,
    "actrun.nn.load: " .. p .. ": unexpected tensors in the file: 'b', 'c'", "strict=false")
  T.eq(m.params.a:totable(), {0, 0}, "nothing copied")
  local _, report = nn.load(p, m, {strict = false})
  T.eq(report, {missing = {}, unexpected = {"b", "c"}})
  T.eq(m.params.a:totable(), {1, 1})
end)

T.test("corrupt files: each a clear error naming the file, never a crash", function()
  local good = '{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}'
  local data = f32(1, 2)
  local cases = {
    {"empty", function() local p = path("c0") write_bytes(p, "") return p end,
     "too short for the 8-byte header length"},
    {"short", function() local p = path("c1") write_bytes(p, "\1\0\0") return p end,
     "truncated"},
    {"header beyond the file", function() return make("c2", good, data, #good + #data + 1) end,
     "truncated: the header length is"},
    {"huge header length", function() return make("c3", good, data, 1 << 40) end,
     "not a safetensors file: its first 8 bytes give a header length of 1099511627776, which exceeds the limit"},
    {"a text file", function() local p = path("c3t") write_bytes(p, "hello, this is text\n") return p end,
     "not a safetensors file"},
    {"data cut short", function() return make("c4", good, f32(1)) end,
     "beyond the data section (4 bytes)"},
    {"trailing bytes", function() return make("c5", good, data .. "xyz") end,
     "3 bytes after the last tensor"},
    {"not JSON", function() return make("c6", "hello world!", "") end,
     "not a safetensors file: the header is not a JSON object"},
    {"malformed JSON", function()
       return make("c7", '{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8],}}', data) end,
     "malformed header JSON at byte"},
    {"unterminated", function() return make("c8", '{"x":{"dtype":"F32', "") end,
     "unterminated string"},
    {"unsupported dtype", function()
       return make("c9", '{"x":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}', data) end,
     "tensor 'x' has dtype I64, which actrun cannot read (supported: F32, F16, BF16, F64)"},
    {"overlap", function()
       return make("c10", '{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},' ..
                          '"y":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', data) end,
     "overlaps tensor"},
    {"gap", function()
       return make("c11", '{"x":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', data) end,
     "gap of 4 bytes before tensor 'x'"},
    {"begin after end", function()
       return make("c12", '{"x":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}', data) end,
     "(begin > end)"},
    {"shape and offsets disagree", function()
       return make("c13", '{"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}', data) end,
     "tensor 'x' has shape {3} of F32 (12 bytes) but data_offsets [0,8] hold 8 bytes"},
    {"huge shape", function()
       return make("c14", '{"x":{"dtype":"F32","shape":[4294967296,4294967296],' ..
                          '"data_offsets":[0,8]}}', data) end,
     "has shape {4294967296,4294967296}, too large for its data_offsets [0,8] (8 bytes)"},
    {"huge empty shape", function()
       return make("c14b", '{"x":{"dtype":"F32","shape":[0,4611686018427387904,4611686018427387904],' ..
                           '"data_offsets":[0,0]}}', "") end,
     "too large for its data_offsets [0,0]"},
    {"duplicate name", function()
       return make("c15", '{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},' ..
                          '"x":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', data) end,
     "tensor 'x' appears twice"},
    {"missing field", function()
       return make("c16", '{"x":{"dtype":"F32","data_offsets":[0,8]}}', data) end,
     "tensor 'x' has no 'shape'"},
    {"three offsets", function()
       return make("c17", '{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8,8]}}', data) end,
     "data_offsets must be [begin, end]"},
    {"negative size", function()
       return make("c18", '{"x":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}', data) end,
     "shape entries must be non-negative integers"},
    {"fractional offset", function()
       return make("c19", '{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8.0]}}', data) end,
     "data_offsets must be non-negative integers"},
    {"too many dims", function()
       return make("c20", '{"x":{"dtype":"F32","shape":[1,1,1,1,1,1,1,1,2],' ..
                          '"data_offsets":[0,8]}}', data) end,
     "has more than 8 dims"},
    {"deep nesting", function()
       return make("c21", '{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"z":' ..
                          string.rep("[", 200) .. string.rep("]", 200) .. '}}', data) end,
     "nested too deeply"},
    {"invalid UTF-8", function()
       return make("c22", '{"\255":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', data) end,
     "not valid UTF-8"},
    {"lone surrogate", function()
       return make("c23", '{"\\ud800":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', data) end,
     "unpaired surrogate"},
    {"metadata not strings", function()
       return make("c24", '{"__metadata__":{"a":1},' ..
                          '"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', data) end,
     "__metadata__ value of 'a' is not a string"},
    {"top level array", function() return make("c25", '[1,2]   ', "") end,
     "not a JSON object"},
    {"text after the object", function() return make("c26", good .. ' {}', data) end,
     "unexpected data after the header object"},
    {"control character", function()
       return make("c27", '{"a\1":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', data) end,
     "control character in a string"},
    {"no such file", function() return path("does-not-exist") end, "cannot open"},
    {"a directory", function() return dir end, "not a regular file"},
  }
  for _, c in ipairs(cases) do
    local p = c[2]()
    local msg = T.expect_error(function() nn.load(p) end, "actrun.nn.load: " .. p .. ": ", c[3])
    T.truthy(msg:find("test_safetensors.lua", 1, true), c[1] .. ": the error points at the caller")
  end
  -- the good file is fine, and unknown fields in an entry are ignored, as the reference does
  T.eq(nn.load(make("ok1", good, data)).x:totable(), {1, 2})
  local extra = '{"x":{"dtype":"F32","extra":{"a":[1,true,null,-2.5e3,"s"]},' ..
                '"shape":[2],"data_offsets":[0,8]}}'
  T.eq(nn.load(make("ok2", extra, data)).x:totable(), {1, 2})
end)

T.test("every truncation of a valid file is an error; random corruption never crashes", function()
  local p = path("whole.safetensors")
  nn.save(p, {a = actrun.ones(2, 3), ["b.c"] = actrun.range(1, 5)}, {metadata = {k = "v"}})
  local bytes = read_bytes(p)
  local q = path("cut.safetensors")
  for n = 0, #bytes - 1 do
    write_bytes(q, bytes:sub(1, n))
    local ok, msg = pcall(nn.load, q)
    T.truthy(not ok and msg:find(q, 1, true), "a file cut at " .. n .. " bytes loads: " .. tostring(msg))
  end
  -- flip bytes of the header and the data: an error or a load, never a crash
  math.randomseed(42)
  local loaded, refused = 0, 0
  for _ = 1, 400 do
    local b = {bytes:byte(1, -1)}
    for _ = 1, math.random(1, 3) do
      local i = math.random(1, #b)
      b[i] = math.random(0, 255)
    end
    write_bytes(q, string.char(table.unpack(b)))
    local ok, msg = pcall(nn.load, q)
    if ok then loaded = loaded + 1 else
      refused = refused + 1
      T.truthy(msg:find("actrun.nn.load: " .. q .. ": ", 1, true), msg)
    end
  end
  T.truthy(refused > 0 and loaded + refused == 400)
end)

T.test("an empty table makes a valid empty file", function()
  local p = path("nothing.safetensors")
  nn.save(p, {})
  T.eq(read_bytes(p), string.pack("<I8", 8) .. "{}      ")
  local t, meta = nn.load(p)
  T.eq(next(t), nil)
  T.eq(meta, {})
end)

T.test("a failed save leaves the old file intact and no temporary file behind", function()
  local p = path("model.safetensors")
  nn.save(p, {w = actrun.ones(100)})
  local before = read_bytes(p)
  local files = listing()
  -- the disk "fills up" half-way through the data
  T.expect_error(function() nn.save(p, {w = actrun.zeros(100)}, {_fail_after = 200}) end,
    "actrun.nn.save: " .. p .. ": write failed (No space left on device)")
  T.eq(read_bytes(p) == before, true, "old file intact")
  T.eq(listing(), files, "no temporary file left")
  -- the target is a directory: refused before anything is written
  local d = path("a-directory")
  os.execute("mkdir '" .. d .. "'")
  T.expect_error(function() nn.save(d, {w = actrun.ones(3)}) end,
    "actrun.nn.save: '" .. d .. "' is a directory, not a regular file (nothing written)")
  T.eq(listing(), (function() local l = {table.unpack(files)} l[#l + 1] = "a-directory"
    table.sort(l) return l end)())
  os.execute("rmdir '" .. d .. "'")
  T.expect_error(function() nn.save(path("no/such/dir/m.safetensors"), {w = actrun.ones(3)}) end,
    "cannot create a temporary file next to it")
  -- a successful save replaces the file
  nn.save(p, {w = actrun.zeros(100)})
  T.eq(nn.load(p).w:sum():item(), 0)
end)

T.test("bad arguments raise errors naming the function and the argument", function()
  local p = path("args.safetensors")
  T.expect_error(function() nn.save(5, {}) end,
    "actrun.nn.save: argument #1 (path) expected a string, got number")
  T.expect_error(function() nn.save(p, 5) end,
    "actrun.nn.save: argument #2 (module) expected a module or a table of tensors, got number")
  T.expect_error(function() nn.save(p, {w = actrun.ones(2), x = 3}) end,
    "actrun.nn.save: 'x' is not a tensor (got number)")
  T.expect_error(function() nn.save(p, {actrun.ones(2)}) end,
    "tensor names must be strings")
  T.expect_error(function() nn.save(p, {__metadata__ = actrun.ones(2)}) end,
    "'__metadata__' is reserved")
  local msg = T.expect_error(function() nn.save(p, {["a\0b"] = actrun.ones(2)}) end,
    "actrun.nn.save: tensor name", "contains a NUL byte")
  T.truthy(msg:find("test_safetensors.lua", 1, true), "the error points at the caller")
  T.expect_error(function() nn.save(p, {["\255"] = actrun.ones(2)}) end, "is not valid UTF-8")
  T.expect_error(function() nn.save(p, {w = actrun.ones(2)}, {meta = {}}) end,
    "actrun.nn.save: argument #3 (options) has unknown option 'meta' (options: metadata)")
  T.expect_error(function() nn.save(p, {w = actrun.ones(2)}, {metadata = {a = 1}}) end,
    "metadata must map strings to strings")
  local m = standin({w = actrun.ones(2)})
  m.named_buffers = function() return {w = actrun.ones(2)} end
  T.expect_error(function() nn.save(p, m) end, "the name 'w' appears twice")
  m.named_buffers = function() return {[1] = actrun.ones(2)} end
  T.expect_error(function() nn.save(p, m) end,
    "a key of type number (from named_buffers()): tensor names must be strings")
  nn.save(p, {w = actrun.ones(2)})
  T.expect_error(function() nn.load(p, standin({w = actrun.ones(2)}), {strct = false}) end,
    "actrun.nn.load: argument #3 (options) has unknown option 'strct' (options: strict)")
  T.expect_error(function() nn.load(p, "model") end,
    "actrun.nn.load: argument #2 (module) expected a module or a table of tensors, got string")
  T.expect_error(function() nn.load(nil) end,
    "actrun.nn.load: argument #1 (path) expected a string, got nil")
end)

T.test("the committed file written by Python's standard library loads with every dtype", function()
  local t, meta = nn.load(fixtures .. "safetensors_py.safetensors")
  T.eq(meta, {format = "pt", note = "written by safetensors_py.py"})
  T.eq(t["layer.0.weight"]:totable(), {{-1, -0.75, -0.5}, {-0.25, 0, 0.25}})
  T.tensor_near(t["layer.0.bias"], {0.5, -0.5, 1e-3}, 1e-7)
  T.eq(t.scalar:dim(), 0)
  T.eq(t.scalar:item(), 3.25)
  T.eq(t.empty:shape(), {0, 4})
  T.eq(t.cube:shape(), {2, 2, 2})
  T.eq(t.cube:get(2, 2, 2), 3.5)
  T.tensor_near(t.double, {{1 / 3, -2.5}, {1e10, 0.1}}, 1e-7)
  T.eq(t.half:totable(), {0.5, -2, 65504, 2 ^ -24})
  T.eq(t.brain:totable(), {1.5, -3.140625, 256})
  T.eq(t['quote"and\\slash\n\u{e9}\u{4e2d}']:totable(), {7})
end)

local function have_python()
  return os.execute("python3 -c 'import json, struct' >/dev/null 2>&1") == true
end

T.test("interop: Python writes, we read; we write, Python reads", function()
  if not have_python() then T.skip("python3 is not available") end
  local script = fixtures .. "safetensors_py.py"
  local p = path("from_python.safetensors")
  T.truthy(os.execute("python3 '" .. script .. "' write '" .. p .. "'"), "python writes")
  T.eq(read_bytes(p) == read_bytes(fixtures .. "safetensors_py.safetensors"), true,
    "the committed file is what the script writes")
  local t = nn.load(p)
  -- we write everything back (as F32) and Python checks and prints it
  local q = path("from_us.safetensors")
  nn.save(q, t, {metadata = {origin = "actrun"}})
  local h = io.popen("python3 '" .. script .. "' read '" .. q .. "' sorted 2>&1")
  local out = h:read("a")
  local ok = h:close()
  T.truthy(ok, "python reads our file: " .. out)
  local seen = 0
  for line in out:gmatch("[^\n]+") do
    local kind, a, b, c, d = line:match("^(%u) (%x*) ?(%S*) ?(%S*) ?(%S*)$")
    local function unhex(s) return (s:gsub("%x%x", function(x) return string.char(tonumber(x, 16)) end)) end
    if kind == "M" then
      T.eq(unhex(a), "origin")
      T.eq(unhex(b), "actrun")
    else
      T.eq(kind, "T", line)
      local name = unhex(a)
      T.eq(b, "F32", name)
      local src = t[name]
      T.truthy(src, "python saw a name we did not write: " .. name)
      T.eq(c, #src:shape() == 0 and "-" or table.concat(src:shape(), ","), name .. " shape")
      local vals = {}
      if d ~= "-" then for v in d:gmatch("[^,]+") do vals[#vals + 1] = tonumber(v) end end
      local _, mine = T.tensor_values(src)
      T.eq(#vals, #mine, name)
      for i = 1, #mine do T.near(vals[i], mine[i], 1e-7, name) end
      seen = seen + 1
    end
  end
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  T.eq(seen, n, "every tensor read back")
end)

os.execute("rm -rf '" .. dir .. "'")
T.done()
