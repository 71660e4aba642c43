-- The main job: one MLP, many activations, Fashion-MNIST. Every run of a seed starts
-- from the same seed-derived initial weights and sees the same batches, so the
-- activation is the only difference. Prints a ranked table (test accuracy, losses,
-- dead units, first/last-layer gradient ratio, time) and writes DIR/compare.csv and
-- DIR/compare.svg.
--
-- Usage: actrun scripts/compare_fashion_mnist.lua [options]
--   --quick            a small subset (6000 train / 1000 test images, width 128): a demo
--   --epochs N         passes over the training set per run (default 1)
--   --width N          hidden units per layer (default 256)
--   --depth N          hidden layers (default 2: 784-256-256-10)
--   --batch N          mini-batch size (default 128)
--   --lr X             learning rate (default 1e-3; 1e-2 on the synthetic fallback)
--   --optimizer NAME   adam, adamw, sgd (momentum 0.9), rmsprop or adagrad (default adam)
--   --seeds N|a,b,c    seeds 1..N, or a list; several seeds give mean ± sd (default 1)
--   --activations a,b  comma list (default: the 13 below)
--   --limit N          use the first N training images (and N/6 test images)
--   --out DIR          where compare.csv and compare.svg go (default "out")
--   --help             this text
-- Without the Debian package dataset-fashion-mnist it says how to get it and runs the
-- same comparison on a built-in synthetic task (3-class spirals).
--
-- Model notes: selu uses LeCun-normal initial weights (its self-normalising setting; no
-- dropout anywhere, so no alpha-dropout question); prelu is nn.PReLU, one learnable
-- slope per hidden unit; maxout is nn.Maxout with k=2 (twice the hidden weights).
local A = actrun or require "actrun"
local data, optim, nn, lab = A.data, A.optim, A.nn, A.lab

local DEFAULT_ACTS = "relu,leaky_relu,prelu,elu,selu,gelu,silu,mish,softplus,tanh,sigmoid," ..
  "identity,maxout"

local function usage()
  local f = io.open(arg and arg[0] or "", "r")
  if f then
    for line in f:lines() do
      if not line:match("^%-%-") then break end
      print((line:gsub("^%-%- ?", "")))
    end
    f:close()
  end
end

local opt = {epochs = 1, width = 256, depth = 2, batch = 128, lr = 1e-3, optimizer = "adam",
  seeds = "1", activations = DEFAULT_ACTS, out = "out"}
local numeric = {epochs = true, width = true, depth = true, batch = true, lr = true,
  limit = true}
local known = {limit = true}
for k in pairs(opt) do known[k] = true end

local function fail(msg)
  io.stderr:write("compare_fashion_mnist: ", msg, "\n")
  os.exit(2)
end

local i = 1
while arg and arg[i] do
  local a = arg[i]
  if a == "--quick" then
    opt.quick = true
  elseif a == "--help" or a == "-h" then
    usage()
    os.exit(0)
  elseif a:match("^%-%-") then
    local k, v = a:sub(3), arg[i + 1]
    if a:find("=", 1, true) then k, v = a:match("^%-%-([^=]+)=(.*)$") else i = i + 1 end
    if not known[k] then fail("unknown option --" .. k .. " (see --help)") end
    if v == nil then fail("option --" .. k .. " needs a value") end
    if numeric[k] then
      local n = tonumber(v)
      if not n or n <= 0 or (k ~= "lr" and n ~= math.floor(n)) then
        fail(("option --%s expected a positive %s, got %s"):format(k,
          k == "lr" and "number" or "integer", v))
      end
      v = k == "lr" and n or math.tointeger(n)
    end
    opt[k] = v
    opt["set_" .. k] = true
  else
    fail("unknown argument " .. a .. " (see --help)")
  end
  i = i + 1
end
if opt.quick then
  opt.limit = opt.limit or 6000
  if not opt.set_width then opt.width = 128 end
end

local acts, listed = {}, {}
for name in opt.activations:gmatch("[^,%s]+") do
  if listed[name] then fail("option --activations lists " .. name .. " twice") end
  listed[name] = true
  if name ~= "maxout" then
    local ok, err = pcall(A.act.info, name)
    if not ok then fail(tostring(err):gsub("^.-actrun", "actrun")) end
  end
  acts[#acts + 1] = name
end
if #acts == 0 then fail("option --activations is empty") end

local seeds = {}
if opt.seeds:match("^%d+$") then
  for s = 1, math.tointeger(tonumber(opt.seeds)) do seeds[s] = s end
else
  for s in opt.seeds:gmatch("[^,%s]+") do
    local n = math.tointeger(tonumber(s))
    if not n then fail("option --seeds expected N or a list of integers, got " .. opt.seeds) end
    seeds[#seeds + 1] = n
  end
end
if #seeds == 0 then fail("option --seeds expected at least one seed") end

local OPTIMIZERS = {
  adam = function(p) return optim.Adam(p, {lr = opt.lr}) end,
  adamw = function(p) return optim.AdamW(p, {lr = opt.lr}) end,
  sgd = function(p) return optim.SGD(p, {lr = opt.lr, momentum = 0.9}) end,
  rmsprop = function(p) return optim.RMSprop(p, {lr = opt.lr}) end,
  adagrad = function(p) return optim.Adagrad(p, {lr = opt.lr}) end,
}
if not OPTIMIZERS[opt.optimizer] then
  fail("option --optimizer expected adam, adamw, sgd, rmsprop or adagrad, got " .. opt.optimizer)
end

-- data: Fashion-MNIST when installed, else spirals
local ok, Xtr, ytr = pcall(data.fashion_mnist, {split = "train", limit = opt.limit})
local Xte, yte, task
if ok then
  Xte, yte = data.fashion_mnist{split = "test", limit = opt.limit and math.max(1, opt.limit // 6)}
  task = ("Fashion-MNIST (%d train, %d test images)"):format(Xtr:size(1), Xte:size(1))
else
  io.stderr:write("Fashion-MNIST not found (", tostring(Xtr):gsub("^.-actrun", "actrun"), ")\n",
    "Install it with: apt-get install dataset-fashion-mnist (or set ACTRUN_DATA).\n",
    "Falling back to a synthetic task: 3-class spirals.\n")
  local n = opt.limit and math.min(opt.limit, 3000) or 3000
  Xtr, ytr = data.spirals{n = n, classes = 3, noise = 0.1, seed = 1}
  Xte, yte = data.spirals{n = 900, classes = 3, noise = 0.1, seed = 2}
  task = ("spirals (%d train, 900 test points)"):format(n)
  -- a small task: more passes, so the activations have time to differ
  if not opt.set_epochs then opt.epochs = opt.quick and 20 or 60 end
  if not opt.set_lr then opt.lr = 1e-2 end
end
local nin, nclass = Xtr:size(2), math.floor(ytr:max():item())

local sizes = {nin}
for _ = 1, opt.depth do sizes[#sizes + 1] = opt.width end
sizes[#sizes + 1] = nclass

-- The model of one activation: nn.mlp (prelu: learnable nn.PReLU slopes, one per unit).
-- Every activation but selu (LeCun-normal) and maxout (other shapes) starts from the same
-- weights for a given seed.
local function model(act)
  local spec = {activation = act}
  for l, s in ipairs(sizes) do spec[l] = s end
  if act == "selu" then spec.init = "lecun_normal" end
  return nn.mlp(spec)
end

-- Under mpirun every rank runs this script; lab.compare spreads the runs and prints from
-- rank 0 only, and so does the rest of the script (say prints on rank 0).
local root = A.dist.rank() == 0
local function say(...) if root then print(...) end end

-- the output folder
local function mkdir(dir)
  local probe = io.open(dir .. "/.actrun-write-test", "w")
  if probe then
    probe:close()
    os.remove(dir .. "/.actrun-write-test")
    return true
  end
  os.execute("mkdir -p '" .. dir:gsub("'", "'\\''") .. "'")
  probe = io.open(dir .. "/.actrun-write-test", "w")
  if not probe then return false end
  probe:close()
  os.remove(dir .. "/.actrun-write-test")
  return true
end
if root and not mkdir(opt.out) then fail("cannot create or write the folder " .. opt.out) end

say(("actrun %s: %s MLP, %s lr %g, batch %d, %d epoch(s), seed(s) %s, %d thread(s), on %s")
  :format(A.version, table.concat(sizes, "-"), opt.optimizer, opt.lr, opt.batch, opt.epochs,
    table.concat(seeds, ","), A.get_num_threads(), task))

local t0 = A.clock()
local rows, summary = lab.compare{
  activations = acts, model = model,
  data = {train = {X = Xtr, y = ytr}, test = {X = Xte, y = yte}},
  optimizer = OPTIMIZERS[opt.optimizer],
  epochs = opt.epochs, batch = opt.batch, seeds = seeds,
  csv = opt.out .. "/compare.csv", plot = opt.out .. "/compare.svg",
}
say(("\n%d runs in %.1f s. dead: share of hidden units that output exactly 0 on every " ..
  "test example;"):format(#rows, A.clock() - t0))
say("grad first/last: weight-gradient norm of the first Linear over that of the last, on " ..
  "one test batch after training.")
return rows, summary
