-- actrun.data: datasets and batches. File parsing, synthetic sets and the loader are in C
-- (actrun.data_c); this file adds the dataset directories and the truth tables.
local actrun = require "actrun"
local util = require "actrun.util"
local core = require "actrun.data_c"

local data = {}
for k, v in pairs(core) do data[k] = v end

local FASHION_CLASSES = {
  "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
  "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
}
local DIGITS = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}
local FASHION_DEFAULT_DIR = "/usr/share/datasets/fashion-mnist"
local FASHION_PACKAGE = "dataset-fashion-mnist"

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() return true end
  return false
end

-- The file for base name `base` in dir: gzipped or not (both names as published).
local function find_file(dir, base)
  for _, name in ipairs{base .. ".gz", base} do
    local p = dir .. "/" .. name
    if exists(p) then return p end
  end
  return nil
end

local check_opts = util.check_opts

-- Labels of an IDX label file: class numbers 0..nclasses-1 (shifted to 1..nclasses by
-- the caller). A corrupt file would otherwise give labels such as 13 or 256, which fail
-- far from the cause (in a loss) or silently train on nonsense. The common case costs
-- three reductions; the rows are scanned only to name the first bad label.
local function check_labels(fname, path, y, nclasses)
  local lo, hi = y:min():item(), y:max():item()
  if lo >= 0 and hi <= nclasses - 1 and (y - y:floor()):abs():sum():item() == 0 then return end
  for i, v in ipairs(y:totable()) do
    if not (v >= 0 and v <= nclasses - 1 and v == math.floor(v)) then
      error(string.format("%s: %s: label %d is %s, expected a class number 0..%d", fname, path,
        i, v ~= v and "NaN" or string.format("%.9g", v), nclasses - 1), 3)
    end
  end
end

-- Shared by mnist and fashion_mnist: the IDX image and label files of one split.
local function load_mnist_like(fname, opts, dir, sub, missing_hint, classes)
  local split = opts.split or "train"
  if split ~= "train" and split ~= "test" then
    error(string.format("%s: argument #1 (options): 'split' expected \"train\" or \"test\", got %s",
      fname, tostring(split)), 3)
  end
  local limit = opts.limit
  if limit ~= nil and (math.type(limit) ~= "integer" or limit < 1) then
    error(string.format("%s: argument #1 (options): 'limit' expected an integer >= 1, got %s",
      fname, tostring(limit)), 3)
  end
  local prefix = split == "train" and "train" or "t10k"
  local img_base, lbl_base = prefix .. "-images-idx3-ubyte", prefix .. "-labels-idx1-ubyte"
  -- dir may hold the files, or be a data root with them in a subdirectory (sub)
  local img, lbl
  for _, d in ipairs{dir, dir .. "/" .. sub} do
    img, lbl = find_file(d, img_base), find_file(d, lbl_base)
    if img and lbl then break end
  end
  if not img or not lbl then
    error(string.format("%s: %s[.gz] and %s[.gz] not found in %s%s", fname, img_base, lbl_base,
      dir, missing_hint), 3)
  end
  local ok, X = pcall(core.idx, img, limit and {limit = limit} or nil)
  if not ok then error(fname .. ": " .. tostring(X):gsub("^.-actrun%.data%.idx: ", ""), 3) end
  local ok2, y = pcall(core.idx, lbl, limit and {limit = limit} or nil)
  if not ok2 then error(fname .. ": " .. tostring(y):gsub("^.-actrun%.data%.idx: ", ""), 3) end
  local n = X:size(1)
  if X:dim() ~= 3 or y:dim() ~= 1 or y:size(1) ~= n then
    error(string.format("%s: %s and %s do not match (images %s, labels %s)", fname, img, lbl,
      table.concat(X:shape(), "x"), table.concat(y:shape(), "x")), 3)
  end
  check_labels(fname, lbl, y, #classes)
  X = X:view(n, X:size(2) * X:size(3)) / 255
  y = y + 1
  return X, y, classes
end

-- data.fashion_mnist{split="train"|"test" [, dir=, limit=]} -> X (N x 784 in [0,1]),
-- y (N, labels 1..10), classes (the ten names).
function data.fashion_mnist(opts)
  local fname = "actrun.data.fashion_mnist"
  opts = check_opts(fname, opts, 1, {split = true, dir = true, limit = true}, 3)
  local dir = opts.dir
  if dir ~= nil and type(dir) ~= "string" then
    error(fname .. ": argument #1 (options): 'dir' expected a string, got " .. type(dir), 2)
  end
  local env = os.getenv("ACTRUN_DATA")
  dir = dir or (env and env ~= "" and env) or FASHION_DEFAULT_DIR
  local hint = string.format(" (install the Debian package %s for %s, or give dir= or set ACTRUN_DATA)",
    FASHION_PACKAGE, FASHION_DEFAULT_DIR)
  local classes = {}
  for i, c in ipairs(FASHION_CLASSES) do classes[i] = c end
  return load_mnist_like(fname, opts, dir, "fashion-mnist", hint, classes)
end

-- data.mnist{dir= [, split=, limit=]}: the same for the original MNIST digits.
function data.mnist(opts)
  local fname = "actrun.data.mnist"
  opts = check_opts(fname, opts, 1, {split = true, dir = true, limit = true}, 3)
  if type(opts.dir) ~= "string" then
    error(fname .. ": argument #1 (options): 'dir' (the directory of the MNIST files) expected a string, got "
      .. type(opts.dir), 2)
  end
  local classes = {}
  for i, c in ipairs(DIGITS) do classes[i] = c end
  return load_mnist_like(fname, opts, opts.dir, "mnist", "", classes)
end

-- data.split(X, y, {fraction=, seed=}) -> Xa, ya, Xb, yb: b holds round(fraction * N)
-- rows, a the rest. The row order is the loader's seeded permutation: it has its own
-- generator, so a split neither depends on nor moves the state set by manual_seed (a
-- validation split must not change the runs it is carved from). The one full-size
-- batch is a gathered copy; a and b are views of it.
function data.split(X, y, opts)
  local fname = "actrun.data.split"
  if not actrun.is_tensor(X) then
    error(string.format("%s: argument #1 (X) expected a tensor, got %s", fname,
      util.typename(X)), 2)
  end
  if not actrun.is_tensor(y) then
    error(string.format("%s: argument #2 (y) expected a tensor, got %s", fname,
      util.typename(y)), 2)
  end
  if X:dim() < 1 or y:dim() < 1 then
    error(string.format("%s: X and y expected at least 1 dimension (rows), got %d and %d",
      fname, X:dim(), y:dim()), 2)
  end
  local n = X:size(1)
  if y:size(1) ~= n then
    error(string.format("%s: X and y have different numbers of rows (%d ~= %d)", fname, n,
      y:size(1)), 2)
  end
  opts = check_opts(fname, opts, 3, {fraction = true, seed = true}, 3)
  local fraction, seed = opts.fraction, opts.seed
  if type(fraction) ~= "number" or not (fraction > 0 and fraction < 1) then
    error(string.format("%s: argument #3 (options): 'fraction' expected a number strictly " ..
      "between 0 and 1, got %s", fname,
      type(fraction) == "number" and tostring(fraction) or util.typename(fraction)), 2)
  end
  if math.type(seed) ~= "integer" then
    error(string.format("%s: argument #3 (options): 'seed' expected an integer, got %s", fname,
      type(seed) == "number" and tostring(seed) or util.typename(seed)), 2)
  end
  local nb = math.floor(fraction * n + 0.5)
  if nb < 1 or nb > n - 1 then
    error(string.format("%s: a fraction of %g of %d rows leaves one side empty", fname,
      fraction, n), 2)
  end
  local Xp, yp
  for xb, yb in core.loader(X, y, {batch = n, shuffle = true, seed = seed}) do
    Xp, yp = xb, yb
  end
  return Xp:narrow(1, nb + 1, n - nb), yp:narrow(1, nb + 1, n - nb),
    Xp:narrow(1, 1, nb), yp:narrow(1, 1, nb)
end

-- Truth tables: the four corners of the unit square, labels 1 (false) and 2 (true).
-- Options are accepted (and checked) for symmetry with the other sets; nothing is random.
local CORNERS = {{0, 0}, {0, 1}, {1, 0}, {1, 1}}
local function truth_table(fname, opts, labels)
  check_opts(fname, opts, 1, {seed = true}, 3) -- 3: data.xor's call to here is a tail call
  return actrun.tensor(CORNERS), actrun.tensor(labels)
end
function data.xor(opts) return truth_table("actrun.data.xor", opts, {1, 2, 2, 1}) end
function data.and_gate(opts) return truth_table("actrun.data.and_gate", opts, {1, 1, 1, 2}) end

return data
