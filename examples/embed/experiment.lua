-- The Lua half of the embedding example (host.c): a small classifier trained on data the
-- host program owns, with the host's C activation "isru".
--
-- The host has set, before running this file:
--   X       {N, 2} tensor wrapping the host's own float array (zero-copy)
--   labels  {N} tensor of class labels 1..2 (a copy)
--   HIDDEN  width of the hidden layer, SEED the random seed
-- and calls, through actrun_call:
--   setup()        -> number of parameters
--   train_epoch()  -> mean loss, accuracy on X afterwards
--   predict(P)     -> predicted labels (1..2) for the points P
--   weights()      -> the first layer's weight tensor {HIDDEN, 2}
local act, nn, optim = actrun.act, actrun.nn, actrun.optim

actrun.manual_seed(SEED)

local W1, b1, W2, b2, opt

-- the model: logits = isru(x W1^T + b1) W2^T + b2, written with plain tensor ops
local function forward(x)
  local h = act.isru(x:matmul(W1:t()) + b1)
  return h:matmul(W2:t()) + b2
end

function setup()
  W1 = nn.init.kaiming_uniform(actrun.empty(HIDDEN, 2))
  b1 = actrun.zeros(HIDDEN)
  W2 = nn.init.xavier_uniform(actrun.empty(2, HIDDEN))
  b2 = actrun.zeros(2)
  local params = {W1, b1, W2, b2}
  for _, p in ipairs(params) do p.requires_grad = true end
  opt = optim.Adam(params, {lr = 0.05})
  return W1:numel() + b1:numel() + W2:numel() + b2:numel()
end

-- One epoch of mini-batch training over X; returns the mean loss and the accuracy on the
-- whole set afterwards.
function train_epoch()
  local total, batches = 0, 0
  for xb, yb in actrun.data.loader(X, labels, {batch = 64, shuffle = true}) do
    opt:zero_grad()
    local loss = nn.cross_entropy(forward(xb), yb)
    loss:backward()
    opt:step()
    total, batches = total + loss:item(), batches + 1
  end
  return total / batches, accuracy(X, labels)
end

function accuracy(x, y)
  return actrun.no_grad(function()
    return forward(x):argmax(2):eq(y):mean():item()
  end)
end

function predict(P)
  return actrun.no_grad(function() return forward(P):argmax(2) end)
end

-- the first layer's weights, for the host to read back
function weights() return W1:detach() end
