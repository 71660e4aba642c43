-- A training loop as users write it (nn modules, a loss, Adam) keeps its memory flat:
-- nothing per step outlives the step (graph nodes, gradients, optimiser state, Lua
-- garbage the collector must keep pace with).
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local T = require "testlib"
local actrun = T.actrun
local test, truthy = T.test, T.truthy
local nn, optim = actrun.nn, actrun.optim

local STEPS, WARMUP, EVERY = 20000, 2000, 1000

local function rss_mb()
  local _, rss = T.memory_mb()
  return rss
end

test("20,000 steps of a small MLP with Adam keep RSS within 10%", function()
  -- Under AddressSanitizer freed memory sits in a quarantine: RSS says nothing there.
  if os.getenv("ACTRUN_SANITIZED") then T.skip("RSS is meaningless under the sanitizer") end
  if not rss_mb() then T.skip("no /proc/self/status") end
  actrun.manual_seed(3)
  local X = actrun.randn(32, 16)
  local y = (actrun.rand(32) * 4):floor() + 1
  local Xr, Yr = actrun.randn(32, 8), actrun.randn(32, 1)
  local model = nn.mlp{16, 32, 32, 4, activation = "tanh"}
  local reg = nn.Sequential(nn.Linear(8, 16), nn.Sigmoid(), nn.Linear(16, 1))
  local opt = optim.Adam(model:parameters(), {lr = 1e-3})
  local opt2 = optim.SGD(reg:parameters(), {lr = 0.1, momentum = 0.9})
  local function step()
    opt:zero_grad()
    local loss = nn.cross_entropy(model(X), y)
    loss:backward()
    opt:step()
    opt2:zero_grad()
    local l2 = nn.mse(reg(Xr), Yr)
    l2:backward()
    opt2:step()
    return loss
  end
  local first_loss
  for i = 1, WARMUP do
    local l = step()
    if i == 1 then first_loss = l:item() end
  end
  local base = rss_mb()
  local live0 = actrun.memory().live
  local worst, worst_at = base, WARMUP
  local last
  for i = WARMUP + 1, STEPS do
    last = step()
    if i % EVERY == 0 then
      local r = rss_mb()
      if r > worst then worst, worst_at = r, i end
      if r > 4 * base + 100 then break end -- a runaway leak: stop before it hurts
    end
  end
  truthy(last:item() < first_loss, "the loss went down")
  truthy(worst <= 1.10 * base, string.format(
    "RSS grew from %.1f MB (after %d warm-up steps) to %.1f MB (at step %d)", base, WARMUP,
    worst, worst_at))
  collectgarbage()
  collectgarbage()
  local live1 = actrun.memory().live
  truthy(live1 <= live0 * 1.10 + 4096,
    string.format("live tensor bytes grew: %d -> %d", live0, live1))
end)

T.done()
