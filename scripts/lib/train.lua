-- The short training loop the claim scripts share, kept in one place: a thin layer over
-- actrun.lab's train and evaluate with the options the scripts use. Loaded like cli.lua,
-- relative to the script:
--
--   local here = (arg and arg[0] or ""):match("^(.*)/") or "."
--   local train = dofile(here .. "/lib/train.lua")
--   local history = train.fit(model, X, y, {epochs = 50, batch = 64, lr = 1e-2, seed = 1})
--   local acc = train.accuracy(model, X, y)
--
-- fit: lab.train (cross-entropy on class labels 1..C by default), Adam or SGD; returns the
-- list of per-epoch mean training losses (lab.train's mean over the epoch's rows).
-- When the data would end in a batch of one row (BatchNorm cannot train on it) the
-- batches are cut one row shorter instead.
local A = rawget(_G, "actrun") or require "actrun"
local optim, lab = A.optim, A.lab

local train = {}

-- opts: epochs (10), batch (64), lr (1e-3), optimizer ("adam" | "sgd" | an optimiser
-- object), momentum (SGD, 0), loss (function(out, y) -> 1-element tensor; default
-- nn.cross_entropy), seed (the batches of epoch e follow from it, as in lab.train),
-- on_epoch (function(epoch, loss)).
function train.fit(model, X, y, opts)
  opts = opts or {}
  local epochs, batch = opts.epochs or 10, opts.batch or 64
  local opt = opts.optimizer
  if opt == nil or opt == "adam" then
    opt = optim.Adam(model:parameters(), {lr = opts.lr or 1e-3})
  elseif opt == "sgd" then
    opt = optim.SGD(model:parameters(), {lr = opts.lr or 1e-2, momentum = opts.momentum or 0})
  elseif type(opt) == "string" then
    error("train.fit: unknown optimizer '" .. opt .. "' (adam, sgd, or an optimiser object)", 2)
  end
  local n = X:size(1)
  -- a lone last row would be a batch of one: one row smaller batches avoid it
  while batch > 2 and n % batch == 1 do batch = batch - 1 end
  local history = {}
  lab.train(model, {X = X, y = y}, {epochs = epochs, batch = batch, optimizer = opt,
    loss = opts.loss, seed = opts.seed or 1, progress = false,
    on_epoch = function(row)
      history[row.epoch] = row.loss
      if opts.on_epoch then opts.on_epoch(row.epoch, row.loss) end
    end})
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

-- Fraction of rows whose predicted class equals y (lab.evaluate's accuracy).
function train.accuracy(model, X, y)
  return lab.evaluate(model, X, y).accuracy
end

-- {loss=, accuracy=} on the whole of X, y in eval mode (lab.evaluate).
function train.evaluate(model, X, y, opts)
  return lab.evaluate(model, X, y, opts and opts.loss)
end

return train
