-- actrun.data: synthetic sets, the loader, IDX and CSV files through Lua, Fashion-MNIST
-- (when installed) and a fake MNIST-style directory written here.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local T = require "testlib"
local actrun = T.actrun
local data = actrun.data
local test, eq, expect_error = T.test, T.eq, T.expect_error

-- a fresh temporary directory, removed at the end
local tmp = os.tmpname()
os.remove(tmp)
assert(os.execute("mkdir -p '" .. tmp .. "'"))
local function path(name) return tmp .. "/" .. name end
local function write(name, bytes)
  local f = assert(io.open(path(name), "wb"))
  f:write(bytes)
  f:close()
  return path(name)
end

-- an IDX file of unsigned bytes
local function idx_bytes(dims, values)
  local parts = {string.char(0, 0, 8, #dims)}
  for _, d in ipairs(dims) do parts[#parts + 1] = string.pack(">I4", d) end
  for _, v in ipairs(values) do parts[#parts + 1] = string.char(v) end
  return table.concat(parts)
end

local function labels_of(y)
  local t = {}
  for i, v in ipairs(y:totable()) do t[i] = v end
  return t
end

test("require gives the same module as the field", function()
  eq(require "actrun.data", data)
end)

-------------------------------------------------------------------------------------
-- synthetic sets
-------------------------------------------------------------------------------------
test("xor and and_gate: the four corners with labels 1..2", function()
  local X, y = data.xor()
  T.tensor_near(X, {{0, 0}, {0, 1}, {1, 0}, {1, 1}})
  T.tensor_near(y, {1, 2, 2, 1})
  local _, ya = data.and_gate()
  T.tensor_near(ya, {1, 1, 1, 2})
end)

local sets = {
  {"moons", {n = 101, noise = 0.1}, 2},
  {"circles", {n = 100, noise = 0.05, factor = 0.3}, 2},
  {"spirals", {n = 99, classes = 3, noise = 0.1}, 3},
  {"spirals", {n = 50, noise = 0.0}, 2},
  {"blobs", {n = 90, std = 0.5}, 3},
  {"blobs", {n = 10, classes = 5}, 5},
}
for _, s in ipairs(sets) do
  local name, opts, C = s[1], s[2], s[3]
  test(name .. " " .. T.fmt(opts) .. ": shapes, labels 1.." .. C .. ", even split", function()
    local X, y = data[name](opts)
    T.shape_is(X, {opts.n, 2})
    T.shape_is(y, {opts.n})
    local counts = {}
    for _, v in ipairs(labels_of(y)) do
      T.truthy(math.type(v) == "float" and v >= 1 and v <= C and v == math.floor(v), "label " .. v)
      counts[v] = (counts[v] or 0) + 1
    end
    for c = 1, C do
      local k = counts[c] or 0
      T.truthy(k == opts.n // C or k == opts.n // C + 1, "class " .. c .. " has " .. k)
    end
  end)
end

test("same seed, same points; another seed, other points", function()
  for _, name in ipairs{"moons", "circles", "spirals", "blobs"} do
    local a = data[name]{n = 40, noise = 0.2, seed = 7}
    actrun.randn(100) -- unrelated draws in between must not matter
    local b = data[name]{n = 40, noise = 0.2, seed = 7}
    local c = data[name]{n = 40, noise = 0.2, seed = 8}
    eq(a:totable(), b:totable(), name)
    T.truthy((a - c):abs():sum():item() > 0, name .. " seeds 7 and 8 differ")
  end
end)

test("without a seed the sets follow manual_seed", function()
  actrun.manual_seed(3)
  local a = data.moons{n = 20, noise = 0.3}
  local a2 = data.moons{n = 20, noise = 0.3}
  actrun.manual_seed(3)
  local b = data.moons{n = 20, noise = 0.3}
  eq(a:totable(), b:totable())
  T.truthy((a - a2):abs():sum():item() > 0, "consecutive calls differ")
end)

test("moons without noise lie on the two half circles", function()
  local X = data.moons{n = 10}
  local v = X:totable()
  for i = 1, 5 do T.near(v[i][1] ^ 2 + v[i][2] ^ 2, 1, 1e-5) end
  for i = 6, 10 do T.near((v[i][1] - 1) ^ 2 + (v[i][2] - 0.5) ^ 2, 1, 1e-5) end
end)

test("circles: inner radius is factor", function()
  local X = data.circles{n = 8, factor = 0.25}
  local v = X:totable()
  for i = 1, 4 do T.near(v[i][1] ^ 2 + v[i][2] ^ 2, 1, 1e-5) end
  for i = 5, 8 do T.near(v[i][1] ^ 2 + v[i][2] ^ 2, 0.0625, 1e-5) end
end)

for _, case in ipairs{
  {"moons", {n = 0}, "'n'"}, {"moons", {n = 2.5}, "'n'"}, {"moons", {n = "x"}, "'n'"},
  {"moons", {noise = -1}, "'noise'"}, {"moons", {seed = "a"}, "'seed'"},
  {"moons", {bogus = 1}, "unknown option 'bogus'"}, {"moons", 5, "argument #1"},
  {"circles", {factor = 1.5}, "'factor'"}, {"spirals", {classes = 0}, "'classes'"},
  {"blobs", {std = -1}, "'std'"}, {"blobs", {classes = 1000}, "'classes'"},
  {"xor", {nope = 1}, "unknown option"},
} do
  test(case[1] .. " " .. T.fmt(case[2]) .. " is an error", function()
    expect_error(function() return data[case[1]](case[2]) end, "actrun.data." .. case[1], case[3])
  end)
end

-------------------------------------------------------------------------------------
-- loader
-------------------------------------------------------------------------------------
local function run_loader(X, y, opts)
  local seen, sizes = {}, {}
  for xb, yb in data.loader(X, y, opts) do
    sizes[#sizes + 1] = xb:size(1)
    eq(yb:size(1), xb:size(1), "batch sizes of X and y")
    local xs, ys = xb:totable(), yb:totable()
    for i = 1, #xs do
      eq(xs[i][1], ys[i], "x row and its label travel together")
      seen[#seen + 1] = ys[i]
    end
  end
  return seen, sizes
end

local N = 103
local Xl = actrun.range(1, N):view(N, 1):expand(N, 3):contiguous()
local yl = actrun.range(1, N)

test("loader without shuffle: rows in order, last partial batch kept", function()
  local seen, sizes = run_loader(Xl, yl, {batch = 10})
  eq(sizes, {10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 3})
  for i = 1, N do eq(seen[i], i) end
end)

test("loader with shuffle covers every row exactly once, reproducibly by seed", function()
  local seen = run_loader(Xl, yl, {batch = 16, shuffle = true, seed = 5})
  local again = run_loader(Xl, yl, {batch = 16, shuffle = true, seed = 5})
  local other = run_loader(Xl, yl, {batch = 16, shuffle = true, seed = 6})
  eq(seen, again)
  T.truthy(not T.deep_eq(seen, other), "seeds 5 and 6 give different orders")
  local sorted = {table.unpack(seen)}
  table.sort(sorted)
  for i = 1, N do eq(sorted[i], i) end
  local moved = 0
  for i = 1, N do if seen[i] ~= i then moved = moved + 1 end end
  T.truthy(moved > N / 2, "shuffled")
end)

test("loader: default batch 1 (as PyTorch), drop_last, non-contiguous X, 2-D y", function()
  local _, sizes = run_loader(Xl, yl)
  eq(#sizes, N)
  eq(sizes[1], 1)
  local seen, sizes2 = run_loader(Xl, yl, {batch = 10, drop_last = true, shuffle = true, seed = 1})
  eq(#sizes2, 10)
  eq(sizes2[10], 10)
  local distinct = {}
  for _, v in ipairs(seen) do distinct[v] = true end
  local k = 0
  for _ in pairs(distinct) do k = k + 1 end
  eq(k, 100)
  local Xt = actrun.range(1, 2 * N):view(2, N):t() -- a transposed view
  local n = 0
  for xb, yb in data.loader(Xt, yl:view(N, 1), {batch = 50}) do
    n = n + xb:size(1)
    T.shape_is(yb, {xb:size(1), 1})
    eq(xb:get(1, 1), yb:get(1, 1))
  end
  eq(n, N)
end)

test("loader: batch larger than the data is one batch", function()
  local _, sizes = run_loader(Xl, yl, {batch = 1000, shuffle = true})
  eq(sizes, {N})
end)

for _, case in ipairs{
  {"X not a tensor", function() return data.loader({1, 2}, yl) end, "argument #1", "X"},
  {"y not a tensor", function() return data.loader(Xl, "y") end, "argument #2", "y"},
  {"rows differ", function() return data.loader(Xl, yl:narrow(1, 1, 5)) end, "103", "5"},
  {"batch 0", function() return data.loader(Xl, yl, {batch = 0}) end, "'batch'"},
  {"batch 1.5", function() return data.loader(Xl, yl, {batch = 1.5}) end, "'batch'"},
  {"shuffle not boolean", function() return data.loader(Xl, yl, {shuffle = 1}) end, "'shuffle'"},
  {"unknown option", function() return data.loader(Xl, yl, {batch_size = 3}) end, "batch_size"},
  {"options not a table", function() return data.loader(Xl, yl, 3) end, "argument #3"},
} do
  test("loader: " .. case[1] .. " is an error when the loader is made", function()
    expect_error(case[2], "actrun.data.loader", table.unpack(case, 3))
  end)
end

-------------------------------------------------------------------------------------
-- files
-------------------------------------------------------------------------------------
test("idx reads unsigned bytes with their dims, limit takes the first rows", function()
  local p = write("a.idx", idx_bytes({3, 2}, {1, 2, 3, 4, 5, 255}))
  T.tensor_near(data.idx(p), {{1, 2}, {3, 4}, {5, 255}})
  T.tensor_near(data.idx(p, {limit = 2}), {{1, 2}, {3, 4}})
end)

test("idx errors name the function and the file", function()
  expect_error(function() return data.idx(path("missing")) end, "actrun.data.idx", "missing")
  local p = write("short.idx", idx_bytes({4}, {1, 2}))
  expect_error(function() return data.idx(p) end, "actrun.data.idx", "short.idx",
    "truncated: expected 4 bytes of data, got 2")
  local q = write("long.idx", idx_bytes({1}, {1, 2}))
  expect_error(function() return data.idx(q) end, "long.idx", "trailing")
  expect_error(function() return data.idx(write("bad.idx", "hello world")) end, "bad.idx", "magic")
  expect_error(function() return data.idx(42) end, "actrun.data.idx", "argument #1")
  expect_error(function() return data.idx(p, {limit = 0}) end, "'limit'")
end)

test("csv with and without a header", function()
  local p = write("a.csv", "x,\"y\"\r\n1,2\r\n3.5,-4\r\n")
  local t, names = data.csv(p, {header = true})
  T.tensor_near(t, {{1, 2}, {3.5, -4}})
  eq(names, {"x", "y"})
  local u, none = data.csv(write("b.csv", "1,2,3\n4,5,6"))
  T.shape_is(u, {2, 3})
  eq(none, {})
end)

test("csv errors name the row, the column and the counts", function()
  expect_error(function() return data.csv(write("r.csv", "1,2\n3\n")) end,
    "actrun.data.csv", "row 2", "1 columns", "expected 2")
  expect_error(function() return data.csv(write("n.csv", "1,2\n3,abc\n")) end,
    "actrun.data.csv", "row 2", "column 2", "abc")
  expect_error(function() return data.csv(write("e.csv", "")) end, "actrun.data.csv", "empty")
  expect_error(function() return data.csv(path("nothere.csv")) end, "actrun.data.csv", "nothere.csv")
  expect_error(function() return data.csv(path("r.csv"), {header = "yes"}) end, "'header'")
end)

-------------------------------------------------------------------------------------
-- MNIST-style directories
-------------------------------------------------------------------------------------
local fake = path("fake")
assert(os.execute("mkdir -p '" .. fake .. "'"))
do -- 5 train images of 2x2 and 3 test images, labels 0..9 as in the files
  local function save(name, bytes)
    local f = assert(io.open(fake .. "/" .. name, "wb"))
    f:write(bytes)
    f:close()
  end
  save("train-images-idx3-ubyte", idx_bytes({5, 2, 2},
    {0, 255, 51, 102, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}))
  save("train-labels-idx1-ubyte", idx_bytes({5}, {0, 9, 3, 4, 5}))
  save("t10k-images-idx3-ubyte", idx_bytes({3, 2, 2}, {255, 255, 255, 255, 0, 0, 0, 0, 1, 1, 1, 1}))
  save("t10k-labels-idx1-ubyte", idx_bytes({3}, {1, 2, 7}))
end

test("fashion_mnist from dir=: X scaled to [0,1], labels 1..10, class names", function()
  local X, y, classes = data.fashion_mnist{dir = fake}
  T.shape_is(X, {5, 4})
  T.tensor_near(X[1], {0, 1, 0.2, 0.4}, 1e-6)
  T.tensor_near(y, {1, 10, 4, 5, 6})
  eq(#classes, 10)
  eq(classes[1], "T-shirt/top")
  eq(classes[10], "Ankle boot")
  local Xt, yt = data.fashion_mnist{dir = fake, split = "test", limit = 2}
  T.shape_is(Xt, {2, 4})
  T.tensor_near(yt, {2, 3})
end)

test("a data root with a fashion-mnist subdirectory works as dir", function()
  local root = path("root")
  assert(os.execute(string.format("mkdir -p '%s' && cp -r '%s' '%s/fashion-mnist'", root, fake, root)))
  local X = data.fashion_mnist{dir = root, split = "test"}
  T.shape_is(X, {3, 4})
end)

test("mnist needs dir and reads the same files; classes are the digits", function()
  local X, y, classes = data.mnist{dir = fake, split = "test"}
  T.shape_is(X, {3, 4})
  T.tensor_near(y, {2, 3, 8})
  eq(classes[1], "0")
  expect_error(function() return data.mnist{} end, "actrun.data.mnist", "dir")
end)

test("mnist and fashion_mnist: a label outside 0..9 in the file names the file, row, value", function()
  -- a corrupt label file must not become labels 11, 256 or 0 (nn.cross_entropy and the
  -- loader would fail far from the cause, or silently train on nonsense)
  local bad = path("badlabels")
  assert(os.execute("mkdir -p '" .. bad .. "'"))
  local function save(name, bytes)
    local f = assert(io.open(bad .. "/" .. name, "wb"))
    f:write(bytes)
    f:close()
  end
  local images = idx_bytes({4, 2, 2}, {0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3})
  save("t10k-images-idx3-ubyte", images)
  save("t10k-labels-idx1-ubyte", idx_bytes({4}, {3, 9, 12, 200}))
  for _, f in ipairs{"mnist", "fashion_mnist"} do
    expect_error(function() return data[f]{dir = bad, split = "test"} end,
      "actrun.data." .. f, bad .. "/t10k-labels-idx1-ubyte", "label 3 is 12", "0..9")
  end
  -- the first bad one is reported, also when it is past the rows asked for: only the
  -- rows read count
  local Xl, yl = data.mnist{dir = bad, split = "test", limit = 2}
  T.shape_is(Xl, {2, 4})
  T.tensor_near(yl, {4, 10})
  -- labels stored as floats: a fraction or a NaN is not a class either
  local function float_labels(vals)
    local parts = {string.char(0, 0, 0x0D, 1), string.pack(">I4", #vals)}
    for _, v in ipairs(vals) do parts[#parts + 1] = string.pack(">f", v) end
    return table.concat(parts)
  end
  save("t10k-labels-idx1-ubyte", float_labels{1, 2.5, 3, 4})
  expect_error(function() return data.mnist{dir = bad, split = "test"} end,
    "actrun.data.mnist", "label 2 is 2.5")
  save("t10k-labels-idx1-ubyte", float_labels{1, 2, 0 / 0, -1})
  expect_error(function() return data.mnist{dir = bad, split = "test"} end,
    "actrun.data.mnist", "label 3 is NaN")
  save("t10k-labels-idx1-ubyte", float_labels{1, 2, 3, -1})
  expect_error(function() return data.mnist{dir = bad, split = "test"} end,
    "actrun.data.mnist", "label 4 is -1")
  -- and more labels than images (or fewer) stays an error naming both files
  save("t10k-labels-idx1-ubyte", idx_bytes({3}, {1, 2, 3}))
  expect_error(function() return data.mnist{dir = bad, split = "test"} end,
    "actrun.data.mnist", "do not match", "labels 3")
end)

test("fashion_mnist: a missing directory names it and the Debian package", function()
  expect_error(function() return data.fashion_mnist{dir = path("nowhere")} end,
    "actrun.data.fashion_mnist", path("nowhere"), "dataset-fashion-mnist")
  expect_error(function() return data.fashion_mnist{split = "valid", dir = fake} end, "'split'")
  expect_error(function() return data.fashion_mnist{limit = 0, dir = fake} end, "'limit'")
  expect_error(function() return data.fashion_mnist{directory = fake} end, "unknown option")
end)

test("fashion_mnist uses $ACTRUN_DATA when set", function()
  local env = os.getenv("ACTRUN_DATA")
  -- run a child with the variable pointing at the fake dir
  local i = 0
  while arg[i - 1] do i = i - 1 end
  local exe = arg[i]
  local cmd = string.format("ACTRUN_DATA='%s' '%s' -e 'local X = actrun.data.fashion_mnist{} print(X:size(1))'",
    fake, exe)
  local p = io.popen(cmd)
  local out = p:read("a")
  p:close()
  eq(out, "5\n")
  eq(os.getenv("ACTRUN_DATA"), env)
end)

test("fashion_mnist from the installed package (limit)", function()
  local dir = "/usr/share/datasets/fashion-mnist"
  local f = io.open(dir .. "/t10k-images-idx3-ubyte.gz", "rb") or io.open(dir .. "/t10k-images-idx3-ubyte", "rb")
  if not f then T.skip("package dataset-fashion-mnist not installed") end
  f:close()
  local X, y = data.fashion_mnist{split = "test", dir = dir, limit = 50}
  T.shape_is(X, {50, 784})
  T.shape_is(y, {50})
  T.truthy(X:min():item() >= 0 and X:max():item() <= 1, "X in [0,1]")
  T.truthy(y:min():item() >= 1 and y:max():item() <= 10, "labels in 1..10")
  local first = y:get(1)
  eq(first, 10.0) -- the first test image is an ankle boot
end)

-------------------------------------------------------------------------------------
-- split

-- X's rows carry their own number (column 1) so that a split's rows can be traced back
local function numbered(n)
  local X = actrun.range(1, n):view(n, 1) * actrun.ones(1, 3)
  return X, actrun.range(1, n) * 10
end

local function column(t)
  local out = {}
  for i, r in ipairs(t:totable()) do out[i] = type(r) == "table" and r[1] or r end
  return out
end

test("split: sizes, disjoint and complete, y follows X", function()
  local X, y = numbered(50)
  local Xa, ya, Xb, yb = data.split(X, y, {fraction = 0.2, seed = 7})
  eq(Xa:shape(), {40, 3})
  eq(ya:shape(), {40})
  eq(Xb:shape(), {10, 3})
  eq(yb:shape(), {10})
  local seen = {}
  for _, part in ipairs{{Xa, ya}, {Xb, yb}} do
    local ids, labels = column(part[1]), column(part[2])
    for i, id in ipairs(ids) do
      T.truthy(not seen[id], "row " .. id .. " appears once")
      seen[id] = true
      eq(labels[i], id * 10, "label of row " .. id)
    end
  end
  for i = 1, 50 do T.truthy(seen[i], "row " .. i .. " is in a or b") end
end)

test("split: same seed same split, another seed another split", function()
  local X, y = numbered(100)
  local _, _, Xb1 = data.split(X, y, {fraction = 0.3, seed = 1})
  local _, _, Xb2 = data.split(X, y, {fraction = 0.3, seed = 1})
  local _, _, Xb3 = data.split(X, y, {fraction = 0.3, seed = 2})
  eq(column(Xb1), column(Xb2))
  T.truthy(table.concat(column(Xb1), ",") ~= table.concat(column(Xb3), ","),
    "seeds 1 and 2 choose different rows")
end)

test("split: leaves manual_seed's state alone", function()
  local X, y = numbered(20)
  actrun.manual_seed(3)
  local before = actrun.randn(4):totable()
  local after_plain = actrun.randn(4):totable()
  actrun.manual_seed(3)
  eq(actrun.randn(4):totable(), before)
  data.split(X, y, {fraction = 0.5, seed = 9})
  eq(actrun.randn(4):totable(), after_plain)
  -- and the split does not follow the global state either
  actrun.manual_seed(1)
  local _, _, b1 = data.split(X, y, {fraction = 0.5, seed = 9})
  actrun.manual_seed(2)
  local _, _, b2 = data.split(X, y, {fraction = 0.5, seed = 9})
  eq(column(b1), column(b2))
end)

test("split: bad input names the function and the argument", function()
  local X, y = numbered(10)
  local o = {fraction = 0.2, seed = 1}
  local cases = {
    {function() return data.split({}, y, o) end, "argument #1 (X)", "tensor"},
    {function() return data.split(X, "y", o) end, "argument #2 (y)", "tensor"},
    {function() return data.split(X, actrun.range(1, 9), o) end, "different numbers of rows"},
    {function() return data.split(X, y, {fraction = 0, seed = 1}) end, "'fraction'"},
    {function() return data.split(X, y, {fraction = 1, seed = 1}) end, "'fraction'"},
    {function() return data.split(X, y, {fraction = "0.2", seed = 1}) end, "'fraction'"},
    {function() return data.split(X, y, {fraction = 0.2}) end, "'seed'", "integer"},
    {function() return data.split(X, y, {fraction = 0.2, seed = 1.5}) end, "'seed'", "1.5"},
    {function() return data.split(X, y, {fraction = 0.2, seed = 1, sed = 2}) end,
      "unknown option 'sed'"},
    {function() return data.split(X, y, {fraction = 0.01, seed = 1}) end, "empty"},
  }
  for _, case in ipairs(cases) do
    expect_error(case[1], "actrun.data.split", table.unpack(case, 2))
  end
end)

test("every function of actrun.data has a help entry", function()
  local help = require "actrun.help"
  for name, f in pairs(data) do
    if type(f) == "function" then T.truthy(help.text(f), "help for actrun.data." .. name) end
  end
  T.truthy(help.text(data), "help for actrun.data")
end)

os.execute("rm -rf '" .. tmp .. "'")
T.done()
