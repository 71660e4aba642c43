-- The short training loop the claim scripts share, kept in one place so that they can move
-- to actrun.lab's train/evaluate in one edit. Loaded like cli.lua, relative to the script:
--
--   local here = (arg and arg[0] or ""):match("^(.*)/") or "."
--   local train = dofile(here .. "/lib/train.lua")
--   local history = train.fit(model, X, y, {epochs = 50, batch = 64, lr = 1e-2, seed = 1})
--   local acc = train.accuracy(model, X, y)
--
-- fit: mini-batch training (cross-entropy on class labels 1..C by default), Adam or SGD;
-- returns the list of per-epoch mean training losses (the mean over the epoch's batches).
-- A batch of one row is dropped (BatchNorm cannot train on it).
local A = rawget(_G, "actrun") or require "actrun"
local nn, optim, data = A.nn, A.optim, A.data

local train = {}

-- opts: epochs (10), batch (64), lr (1e-3), optimizer ("adam" | "sgd" | an optimiser
-- object), momentum (SGD, 0), loss (function(out, y) -> 1-element tensor; default
-- nn.cross_entropy), forward (function(model, xb) -> output; default model(xb)),
-- seed (shuffle seed of epoch e is seed * 1000 + e), on_epoch (function(epoch, loss)).
function train.fit(model, X, y, opts)
  opts = opts or {}
  local epochs, batch = opts.epochs or 10, opts.batch or 64
  local loss_fn = opts.loss or nn.cross_entropy
  local forward = opts.forward or function(m, xb) return m(xb) end
  local opt = opts.optimizer
  if opt == nil or opt == "adam" then
    opt = optim.Adam(model:parameters(), {lr = opts.lr or 1e-3})
  elseif opt == "sgd" then
    opt = optim.SGD(model:parameters(), {lr = opts.lr or 1e-2, momentum = opts.momentum or 0})
  elseif type(opt) == "string" then
    error("train.fit: unknown optimizer '" .. opt .. "' (adam, sgd, or an optimiser object)", 2)
  end
  local seed = opts.seed or 1
  local n = X:size(1)
  local history = {}
  model:train()
  for epoch = 1, epochs do
    local sum, count = 0, 0
    local drop = n % batch == 1 -- a lone last row: leave it out of this pass
    for xb, yb in data.loader(X, y, {batch = batch, shuffle = true, seed = seed * 1000 + epoch,
                                     drop_last = drop}) do
      local loss = loss_fn(forward(model, xb), yb)
      opt:zero_grad()
      loss:backward()
      opt:step()
      sum, count = sum + loss:item(), count + 1
    end
    history[epoch] = sum / count
    if opts.on_epoch then opts.on_epoch(epoch, history[epoch]) end
  end
  return history
end

-- Runs fn(model) in eval mode without recording, then restores the model's mode.
function train.evaluating(model, fn)
  local was = model.training
  model:eval()
  local res = table.pack(A.no_grad(function() return fn(model) end))
  model:train(was)
  return table.unpack(res, 1, res.n)
end

-- The predicted class of every row (argmax of the output).
function train.predict(model, X, forward)
  forward = forward or function(m, xb) return m(xb) end
  return train.evaluating(model, function(m) return forward(m, X):argmax(2) end)
end

-- Fraction of rows whose predicted class equals y.
function train.accuracy(model, X, y, forward)
  return train.predict(model, X, forward):eq(y):mean():item()
end

-- {loss=, accuracy=} on the whole of X, y in eval mode.
function train.evaluate(model, X, y, opts)
  opts = opts or {}
  local loss_fn = opts.loss or nn.cross_entropy
  local forward = opts.forward or function(m, xb) return m(xb) end
  return train.evaluating(model, function(m)
    local out = forward(m, X)
    return {loss = loss_fn(out, y):item(), accuracy = out:argmax(2):eq(y):mean():item()}
  end)
end

return train
