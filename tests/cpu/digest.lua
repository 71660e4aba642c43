-- Prints one line per result: "<name> <hash of its float bits>", for the activations
-- (forward, gradient, at default and other parameters), the elementwise math, the
-- reductions, and a few training steps of small layers through every optimiser. The
-- sizes keep every product below the BLAS threshold, so the lines depend only on
-- actrun's own kernels: two runs at the same SIMD level must print the same lines on any
-- CPU (tests/cpu/emulated_cpus.sh compares a run on an emulated CPU with a native one).
-- NaNs hash as one value (their payload is not part of any promise).
local A = actrun
local act, nn, optim = A.act, A.nn, A.optim

local function hash(t)
  local h = 0
  local v = t:contiguous():view(-1):totable()
  for i = 1, #v do
    local x = v[i]
    local bits = x ~= x and 0x7fc00000 or string.unpack("<I4", string.pack("<f", x))
    h = (h ~ bits) * -7046029254386353131 -- 0x9e3779b97f4a7c15: every bit reaches the top
    h = h ~ (h >> 31)                      -- and the top comes back down
  end
  return string.format("%016x %d", h, #v)
end
local function out(name, t) print(name, hash(t)) end

-- 4096 + 7 inputs (a vector tail at every width): a sweep over [-12, 12], the values
-- where kernels switch branch, and the special values
local vals = {}
for i = 0, 4095 do vals[#vals + 1] = -12 + 24 * i / 4095 end
for _, x in ipairs{0.0, -0.0, 1e-40, -1e-40, 88.7, -88.7, 1e30, -1e30} do vals[#vals + 1] = x end
vals[#vals + 1], vals[#vals + 2], vals[#vals + 3] = math.huge, -math.huge, 0 / 0
local x0 = A.tensor(vals)

for _, name in ipairs(act.list()) do
  A.manual_seed(7) -- rrelu draws its slopes
  local x = x0:clone()
  x.requires_grad = true
  local y = act[name](x)
  out("act." .. name, y)
  y:backward(A.ones(y:shape()) * 0.75)
  out("act." .. name .. ".grad", x.grad)
end
for _, c in ipairs{{"elu", 0.3}, {"celu", 2}, {"leaky_relu", 0.2}, {"softplus", 2, 5},
                   {"hardtanh", -2, 0.5}, {"swish", 1.7}, {"softshrink", 1.5}} do
  local x = x0:clone()
  x.requires_grad = true
  local y = act[c[1]](x, table.unpack(c, 2))
  out("act." .. table.concat(c, ","), y)
  y:backward(A.ones(y:shape()))
  out("act." .. table.concat(c, ",") .. ".grad", x.grad)
end

local finite = x0:narrow(1, 1, 4096)
local pos = finite:abs() + 0.01
for _, m in ipairs{"exp", "sin", "cos", "tanh", "sigmoid", "abs", "sign", "floor", "ceil",
                   "round"} do
  out("math." .. m, x0[m](x0))
end
out("math.log", pos:log())
out("math.sqrt", pos:sqrt())
out("math.pow", pos ^ 2.5)
out("math.clamp", x0:clamp(-3, 5))
local b = A.linspace(-1, 1, 4096)
out("arith", (finite + b) * (finite - 0.5) / (b:abs() + 1) - finite ^ 2)
out("arith.broadcast", finite:view(64, 64) * b:narrow(1, 1, 64) + b:narrow(1, 1, 64):view(64, 1))

local m = (finite * 1.37):sin():view(64, 64) * finite:view(64, 64) -- not monotone: the arg kernels must search
local small = m / 12 + 1 -- in [0, 2], so the products stay finite
for _, r in ipairs{"sum", "mean", "var", "std", "max", "min"} do
  out("reduce." .. r, m[r](m))
  out("reduce." .. r .. ".dim2", (m[r](m, 2)))
  out("reduce." .. r .. ".dim1", (m[r](m, 1)))
end
for _, p in ipairs{1, 2, 3, 0.5, math.huge} do out("reduce.norm." .. p, m:norm(p)) end
out("reduce.argmax", m:argmax(2))
out("reduce.argmax.dim1", m:argmax(1))
out("reduce.prod", small:prod(2))

-- training: every optimiser on a small MLP (products below the BLAS threshold)
A.manual_seed(3)
local X, Y = A.randn(16, 8), A.randn(16, 2)
for _, o in ipairs{{"SGD", {lr = 0.05, momentum = 0.9}}, {"Adam", {lr = 0.01}},
                   {"AdamW", {lr = 0.01}}, {"RMSprop", {lr = 0.01}}} do
  A.manual_seed(5)
  local net = nn.Sequential(nn.Linear(8, 6), nn.Activation("gelu"), nn.Linear(6, 2))
  local opt = optim[o[1]](net:parameters(), o[2])
  for _ = 1, 10 do
    opt:zero_grad()
    local loss = nn.mse(net(X), Y)
    loss:backward()
    opt:step()
  end
  for i, p in ipairs(net:parameters()) do out("train." .. o[1] .. "." .. i, p) end
end
A.manual_seed(5)
local pau = nn.PAU{}
out("pau", pau(finite:view(64, 64)))
local kan = nn.KANLinear(4, 3)
out("kan", kan(finite:narrow(1, 1, 64):view(16, 4) / 12))
