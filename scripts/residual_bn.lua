-- Claim 3d: ReLU does not control amplitude; batch norm keeps each layer's input in one
-- distribution, and with residual connections moving batch norm before the activation
-- ("pre-activation", He et al. 2016, Identity Mappings in Deep Residual Networks) works
-- better than after the addition.
-- A deep residual MLP, Linear(2, W) -> D blocks -> Linear(W, 3), every block
-- F = Linear(relu(Linear(relu(.)))), in three variants (nn.Residual's norm option):
--   none:  x + F(x)
--   post:  BN(x + F(x))         batch norm after the addition (on the identity path)
--   pre:   x + F(BN(x))         batch norm before the activations (the identity path is clean)
-- 1. The amplitude of the last block's output at init (std over the batch and units).
-- 2. Training loss per epoch on three spirals (Adam), at selected epochs; final train and
--    test accuracy. Everything averaged over --seeds seeds.
--
--   actrun scripts/residual_bn.lua [--quick] [--depth N] [--width N] [--n N] [--epochs N]
--                                  [--lr X] [--seed N] [--seeds N] [--plot FILE]
local A = rawget(_G, "actrun") or require "actrun"
local nn, data = A.nn, A.data
local here = (arg and arg[0] or ""):match("^(.*)/") or "."
local cli = dofile(here .. "/lib/cli.lua")
local train = dofile(here .. "/lib/train.lua")

local spec = {
  usage = "actrun scripts/residual_bn.lua [options]",
  about = "A deep residual MLP without batch norm, with post-activation and with pre-activation batch norm.",
  options = {
    {"quick", "flag", help = "a smaller run (fewer blocks, points and epochs)"},
    {"depth", "int", 24, help = "residual blocks", min = 1},
    {"width", "int", 64, help = "width of every block", min = 2},
    {"n", "int", 600, help = "spiral points for training (as many for the test)", min = 6},
    {"epochs", "int", 30, help = "training epochs (Adam)", min = 1},
    {"batch", "int", 64, help = "batch size", min = 2},
    {"lr", "number", 0.003, help = "Adam learning rate", min = 0},
    {"init", "string", "kaiming_normal", help = "nn.init of the blocks' weights (biases 0)"},
    {"seed", "int", 1, help = "first seed (data, init, shuffles)"},
    {"seeds", "int", 2, help = "seeds to average over", min = 1},
    {"plot", "string", nil, help = "draw the loss curves into FILE (.svg)", arg = "FILE"},
  }}
local opt, given = cli.parse(arg, spec)
if opt.quick then
  if not given.depth then opt.depth = 8 end
  if not given.n then opt.n = 300 end
  if not given.epochs then opt.epochs = 8 end
  if not given.seeds then opt.seeds = 1 end
end

if not pcall(nn.Linear, 2, 2, {init = opt.init}) then
  cli.fail(spec, "--init: '" .. opt.init .. "' is not an nn.init function (try kaiming_normal, xavier_normal)")
end

local function model_for(norm)
  local layers = {nn.Linear(2, opt.width)}
  for _ = 1, opt.depth do
    local F = nn.Sequential(nn.ReLU(), nn.Linear(opt.width, opt.width, {init = opt.init}), nn.ReLU(),
      nn.Linear(opt.width, opt.width, {init = opt.init}))
    layers[#layers + 1] = nn.Residual(F, {norm = norm, width = opt.width})
  end
  layers[#layers + 1] = nn.Linear(opt.width, 3)
  return nn.Sequential(layers)
end

local variants = {
  {key = "none", label = "no norm: x + F(x)"},
  {key = "post", label = "post: BN(x + F(x))"},
  {key = "pre", label = "pre: x + F(BN(x))"},
}
local curves, finals = {}, {}
for _, v in ipairs(variants) do
  curves[v.key], finals[v.key] = {}, {train = 0, test = 0, std = 0, finite = true}
end
for s = opt.seed, opt.seed + opt.seeds - 1 do
  local Xtr, ytr = data.spirals{n = opt.n, classes = 3, noise = 0.05, seed = s}
  local Xte, yte = data.spirals{n = opt.n, classes = 3, noise = 0.05, seed = s + 1000}
  for _, v in ipairs(variants) do
    A.manual_seed(s)
    local m = model_for(v.key ~= "none" and v.key or nil)
    local f = finals[v.key]
    -- amplitude at init: the input of the output layer, batch statistics (train mode)
    local hidden = A.no_grad(function()
      local h = Xtr
      for i = 1, m:size() - 1 do h = m[i](h) end
      return h
    end)
    f.std = f.std + hidden:std():item() / opt.seeds
    -- the curve: loss on the whole training set after each epoch, in eval mode (batch norm
    -- with its running statistics), so the three variants are measured alike
    local c = curves[v.key]
    train.fit(m, Xtr, ytr, {epochs = opt.epochs, batch = opt.batch, lr = opt.lr, seed = s,
      on_epoch = function(e)
        local l = train.evaluate(m, Xtr, ytr).loss
        c[e] = (c[e] or 0) + l / opt.seeds
        if l ~= l or math.abs(l) == math.huge then f.finite = false end
      end})
    f.train = f.train + train.accuracy(m, Xtr, ytr) / opt.seeds
    f.test = f.test + train.accuracy(m, Xte, yte) / opt.seeds
  end
end

print(("Three spirals, %d training and %d test points; %d residual blocks of width %d (%d Linear layers); Adam lr %g, batch %d; mean over %d seed%s.")
  :format(opt.n, opt.n, opt.depth, opt.width, 2 * opt.depth + 2, opt.lr, opt.batch, opt.seeds,
    opt.seeds == 1 and "" or "s"))
print("Loss on the training set after each epoch (eval mode: batch norm uses its running statistics):")
local shown, rows = {}, {}
for _, e in ipairs{1, 2, 3, 5, 10, 15, 20, 30, 50, 75, 100, 150, 200} do
  if e <= opt.epochs then shown[#shown + 1] = e end
end
if shown[#shown] ~= opt.epochs then shown[#shown + 1] = opt.epochs end
for _, e in ipairs(shown) do
  rows[#rows + 1] = {epoch = e, none = curves.none[e], post = curves.post[e], pre = curves.pre[e]}
end
local cols = {{"epoch", "epoch", "%d"}}
for _, v in ipairs(variants) do cols[#cols + 1] = {v.label, v.key, "%.4f"} end
cli.print_table(cols, rows)

print()
local frows = {}
for _, v in ipairs(variants) do
  local f = finals[v.key]
  f.first, f.last = curves[v.key][1], curves[v.key][opt.epochs]
  frows[#frows + 1] = {name = v.label, std = f.std, first = f.first, last = f.last,
    train = f.train, test = f.test}
end
cli.print_table({
  {"variant", "name"}, {"std of the last block's output at init", "std", "%.3g"},
  {"loss after epoch 1", "first", "%.4f"}, {"after the last", "last", "%.4f"},
  {"train accuracy", "train", "%.4f"}, {"test accuracy", "test", "%.4f"},
}, frows)

local pre, post = finals.pre, finals.post
local verdict
if math.abs(pre.last - post.last) < 0.1 * math.max(pre.last, post.last) then
  verdict = "pre- and post-activation batch norm end within 10% of each other here: no clear winner at this size"
elseif pre.last < post.last then
  verdict = ("pre-activation ends with the lower loss (%.4f vs %.4f), as He et al. report"):format(pre.last, post.last)
else
  verdict = ("post-activation ends with the lower loss here (%.4f vs %.4f): the opposite of He et al.'s finding at this size")
    :format(post.last, pre.last)
end
print("\n" .. verdict)

if opt.plot then
  local series = {}
  for _, v in ipairs(variants) do
    local xs = {}
    for e = 1, opt.epochs do xs[e] = e end
    series[#series + 1] = {x = xs, y = curves[v.key], label = v.label}
  end
  cli.plot_line{series = series, title = ("Residual MLP, %d blocks: training loss"):format(opt.depth),
    xlabel = "epoch", ylabel = "cross-entropy", file = opt.plot, ylog = true}
end
return {curves = curves, finals = finals}
