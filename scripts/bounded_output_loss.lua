-- Claim 6.6: a bounded output (sigmoid) saturates, and the loss decides whether that kills
-- the gradient. A confidently wrong unit, z = -10 while the target is 1 (p = 4.5e-5):
--   squared error  L = (p - t)^2 / 2          dL/dz = (p - t) p (1 - p)  -> vanishes
--   log-loss       L = -[t log p + (1-t) log(1-p)]   dL/dz = p - t        -> stays near -1
-- The log in the loss cancels the flat sigmoid: dL/dp = -1/p is huge exactly where
-- dp/dz = p (1 - p) is tiny. The gradients are computed with autograd (nn.mse,
-- nn.bce_with_logits on z, nn.bce on p = sigmoid(z)) and printed next to the analytic
-- formulas (double precision, from act.scalar); then gradient descent on the single logit
-- shows what the difference means: steps until the unit is right (p > 0.5).
-- Everything here is deterministic (no seed): one logit, exact formulas.
--
-- Verdict: SUPPORTED when at --z0 log-loss's |dL/dz| is at least 100 times squared
-- error's (autograd agreeing with the formulas) and its descent is the faster one; NOT
-- SUPPORTED when it is not larger at all; MIXED otherwise.
--
--   actrun scripts/bounded_output_loss.lua [--quick] [--z0 X] [--from X] [--to X] [--points N]
--                                          [--lr X] [--steps N] [--plot FILE]
local A = actrun or require "actrun"
local act, nn, optim = A.act, A.nn, A.optim
local here = (arg and arg[0] or ""):match("^(.*)/") or "."
local cli = dofile(here .. "/lib/cli.lua")

local spec = {
  usage = "actrun scripts/bounded_output_loss.lua [options]",
  about = "dL/dz of a confidently wrong sigmoid unit under squared error and under log-loss.",
  options = {
    {"quick", "flag", help = "a smaller run (fewer descent steps)"},
    {"z0", "number", -10, help = "the confidently wrong logit (target 1)"},
    {"from", "number", -12, help = "first z of the table"},
    {"to", "number", 4, help = "last z of the table"},
    {"points", "int", 17, help = "z values in the table", min = 2},
    {"lr", "number", 1.0, help = "learning rate of gradient descent on the logit", min = 0},
    {"steps", "int", 50000, help = "most descent steps", min = 1},
    {"plot", "string", nil, help = "draw log10 |dL/dz| of both losses into FILE (.svg)", arg = "FILE"},
  }}
local opt, given = cli.parse(arg, spec)
if opt.quick and not given.steps then opt.steps = 2000 end
if opt.from >= opt.to then
  cli.fail(spec, "--from must be below --to")
end

-- dL/dz for a tensor of logits z, target 1, by autograd; losses summed over the elements
-- (nn.* return the mean, so multiply by n) so each element's gradient is its own.
local function grads(z, target)
  local n = z:numel()
  local t = A.full(z:shape(), target)
  local function grad_of(loss_fn)
    local zz = z:detach()
    zz.requires_grad = true
    loss_fn(zz):backward()
    return zz.grad
  end
  return {
    mse = grad_of(function(zz) return nn.mse(act.sigmoid(zz), t) * (n / 2) end),
    logits = grad_of(function(zz) return nn.bce_with_logits(zz, t) * n end),
    prob = grad_of(function(zz) return nn.bce(act.sigmoid(zz), t) * n end),
  }
end

-- analytic values in double: p = sigmoid(z), p' = p (1 - p)
local function analytic(z, target)
  local p, dp = act.scalar("sigmoid", z)
  return (p - target) * dp, p - target, p
end

local target = 1
local zs = A.linspace(opt.from, opt.to, opt.points)
local g = grads(zs, target)
local rows, max_err = {}, 0
for i = 1, opt.points do
  local z = zs[i]
  local a_mse, a_log, p = analytic(z, target)
  local r = {z = z, p = p, mse = g.mse[i], a_mse = a_mse, log = g.logits[i], a_log = a_log,
    prob = g.prob[i]}
  max_err = math.max(max_err, math.abs(r.mse - a_mse) / (1e-30 + math.abs(a_mse)),
    math.abs(r.log - a_log) / math.abs(a_log))
  r.ratio = r.log / r.mse
  rows[i] = r
end
print(("dL/dz of p = sigmoid(z) against target t = %d (autograd in float32; analytic in double):"):format(target))
cli.print_table({
  {"z", "z", "%+.2f"}, {"p = sigmoid(z)", "p", "%.3e"},
  {"squared error", "mse", "%+.4e"}, {"(p-t) p (1-p)", "a_mse", "%+.4e"},
  {"log-loss on z", "log", "%+.6f"}, {"p - t", "a_log", "%+.6f"},
  {"log-loss on p", "prob", "%+.6f"}, {"log / squared", "ratio", "%.3g"},
}, rows)
print(("largest relative difference autograd vs analytic: %.2e\n"):format(max_err))

-- the headline case
local h = grads(A.tensor({opt.z0}), target)
local head = {z0 = opt.z0, mse = h.mse[1], log = h.logits[1], prob = h.prob[1]}
head.a_mse, head.a_log = analytic(opt.z0, target)
print(("At z = %g (target 1, p = %.3e): squared error gives dL/dz = %.3e, log-loss %.6f: %.0f times larger.")
  :format(opt.z0, select(3, analytic(opt.z0, target)), head.mse, head.log, head.log / head.mse))

-- gradient descent on the logit alone, from z0, until p > 0.5
local function descend(loss_fn)
  local z = A.tensor({opt.z0}, {requires_grad = true})
  local sgd = optim.SGD({z}, {lr = opt.lr})
  local t = A.tensor({target})
  for step = 1, opt.steps do
    local loss = loss_fn(act.sigmoid(z), z, t)
    sgd:zero_grad()
    loss:backward()
    sgd:step()
    if z[1] > 0 then return step, z[1] end
  end
  return nil, z[1]
end
local s_mse, z_mse = descend(function(p, _, t) return nn.mse(p, t) * 0.5 end)
local s_log, z_log = descend(function(_, z, t) return nn.bce_with_logits(z, t) end)
local function steps_text(s) return s and tostring(s) or ("not within " .. opt.steps) end
print(("\nGradient descent on the logit alone (SGD lr %g, start z = %g): steps until p > 0.5")
  :format(opt.lr, opt.z0))
cli.print_table({
  {"loss", "name"}, {"steps", "steps"}, {"z at the end", "z", "%+.4f"},
}, {
  {name = "squared error", steps = steps_text(s_mse), z = z_mse},
  {name = "log-loss", steps = steps_text(s_log), z = z_log},
})
head.steps_mse, head.steps_log = s_mse, s_log

local ratio = math.abs(head.log) / math.max(math.abs(head.mse), 1e-300)
head.ratio = ratio
local faster = s_log ~= nil and (s_mse == nil or s_log < s_mse)
local status
if ratio >= 100 and max_err < 1e-3 and faster then
  status = "SUPPORTED"
elseif ratio <= 1 then
  status = "NOT SUPPORTED"
else
  status = "MIXED"
end
print()
local verdict = cli.verdict(status,
  "at z = %g, target 1: |dL/dz| log-loss %.4f vs squared error %.3e, %.3g times larger " ..
  "(autograd vs formula within %.1e); descent to p > 0.5 in %s steps with log-loss, %s with squared error",
  opt.z0, math.abs(head.log), math.abs(head.mse), ratio, max_err, steps_text(s_log), steps_text(s_mse))

if opt.plot then
  local n = math.max(opt.points, 200)
  local zp = A.linspace(opt.from, opt.to, n)
  local gp = grads(zp, target)
  local function log10abs(t) return (t:abs() + 1e-30):log() * (1 / math.log(10)) end
  cli.plot_line{
    series = {
      {x = zp:totable(), y = log10abs(gp.mse):totable(), label = "squared error: (p-t) p (1-p)"},
      {x = zp:totable(), y = log10abs(gp.logits):totable(), label = "log-loss: p - t"},
    },
    title = "Gradient of a sigmoid unit with target 1", xlabel = "z",
    ylabel = "log10 |dL/dz|", file = opt.plot}
end
return {rows = rows, head = head, max_error = max_err, verdict = verdict}
