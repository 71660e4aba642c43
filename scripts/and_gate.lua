-- Claim 2: a single logistic unit g(z) = sigmoid(z), z = b + w1 x1 + w2 x2, is an AND gate.
-- 1. The hand-set unit of the note (b = -30, w = 20, 20): z = -30, -10, -10, +10 for the
--    inputs 00, 01, 10, 11; g(z) reads as P(output = 1) and 0.5 (z = 0) is the threshold.
-- 2. The same unit trained from a random (seeded) init with log-loss (bce_with_logits)
--    and SGD learns AND; the training is repeated from --seeds random inits (seed,
--    seed+1, ...) to count how many reach 4 of 4.
-- 3. Log-loss is convex in the parameters: along a segment between two parameter vectors
--    it stays below the chord, and the midpoint inequality L((a+b)/2) <= (L(a)+L(b))/2
--    holds for every random pair tried; the squared error of the sigmoid output does not.
--
-- Verdict: SUPPORTED when the hand-set unit's truth table is AND and every seed's trained
-- unit reaches 4 of 4; MIXED when the hand-set unit is AND but some seeds fail; NOT
-- SUPPORTED otherwise. The convexity checks are reported on the reason line.
--
--   actrun scripts/and_gate.lua [--quick] [--epochs N] [--lr X] [--seed N] [--seeds N]
--                               [--pairs N] [--plot FILE]
local A = actrun or require "actrun"
local act, nn, optim, data = A.act, A.nn, A.optim, A.data
local here = (arg and arg[0] or ""):match("^(.*)/") or "."
local cli = dofile(here .. "/lib/cli.lua")

local opt, given = cli.parse(arg, {
  usage = "actrun scripts/and_gate.lua [options]",
  about = "A logistic unit as an AND gate: hand-set, trained with log-loss, and the convexity of log-loss.",
  options = {
    {"quick", "flag", help = "a smaller run (fewer epochs and pairs)"},
    {"epochs", "int", 1000, help = "full-batch SGD steps of the trained unit", min = 1},
    {"lr", "number", 1.0, help = "SGD learning rate", min = 0},
    {"seed", "int", 1, help = "seed of the random init and of the random pairs"},
    {"seeds", "int", 10, help = "random inits trained to count the ones that learn AND", min = 1},
    {"pairs", "int", 2000, help = "random parameter pairs for the midpoint test", min = 1},
    {"plot", "string", nil, help = "draw the training loss curve into FILE (.svg)", arg = "FILE"},
  }})
if opt.quick then
  if not given.epochs then opt.epochs = 300 end
  if not given.pairs then opt.pairs = 200 end
  if not given.seeds then opt.seeds = 5 end
end

local X, labels = data.and_gate() -- 4 x 2 inputs, labels 1..2
local t = labels - 1              -- targets 0/1
local results = {}

-- z for every input, given w (2) and b (1) tensors
local function logits(w, b)
  return X:matmul(w:view(2, 1)):view(4) + b
end

local function truth_table(title, w, b)
  local z = A.no_grad(logits, w, b)
  local g = act.sigmoid(z)
  local pred = g:gt(0.5)
  local rows = {}
  for i = 1, 4 do
    rows[i] = {x1 = X:get(i, 1), x2 = X:get(i, 2), AND = t[i], z = z[i], g = g[i], pred = pred[i]}
  end
  print(title)
  cli.print_table({
    {"x1", "x1", "%d"}, {"x2", "x2", "%d"}, {"AND", "AND", "%d"}, {"z", "z", "%+.3f"},
    {"g(z) = sigmoid(z)", "g", "%.6f"}, {"g(z) > 0.5", "pred", "%d"},
  }, rows)
  local correct = pred:eq(t):sum():item()
  print(("%d of 4 correct\n"):format(correct))
  return {z = z:totable(), g = g:totable(), pred = pred:totable(), correct = correct}
end

-- 1. the hand-set unit
local w0, b0 = A.tensor({20, 20}), A.tensor({-30})
results.hand = truth_table("Hand-set unit: b = -30, w = (20, 20)", w0, b0)

-- 2. trained from a random init with log-loss
A.manual_seed(opt.seed)
local w = A.randn(2)
local b = A.randn(1)
w.requires_grad, b.requires_grad = true, true
print(("Trained unit: random init w = (%+.4f, %+.4f), b = %+.4f; log-loss (bce_with_logits), full-batch SGD lr %g, %d epochs")
  :format(w[1], w[2], b[1], opt.lr, opt.epochs))
local sgd = optim.SGD({w, b}, {lr = opt.lr})
local curve, log_rows = {x = {}, y = {}, label = "log-loss"}, {}
local every = math.max(1, opt.epochs // 10)
for epoch = 1, opt.epochs do
  local loss = nn.bce_with_logits(logits(w, b), t)
  sgd:zero_grad()
  loss:backward()
  sgd:step()
  local l = loss:item()
  curve.x[#curve.x + 1], curve.y[#curve.y + 1] = epoch, l
  if epoch == 1 or epoch % every == 0 or epoch == opt.epochs then
    log_rows[#log_rows + 1] = {epoch = epoch, loss = l, w1 = w[1], w2 = w[2], b = b[1]}
  end
end
cli.print_table({
  {"epoch", "epoch", "%d"}, {"loss (before the step)", "loss", "%.6f"}, {"w1", "w1", "%+.4f"},
  {"w2", "w2", "%+.4f"}, {"b", "b", "%+.4f"},
}, log_rows)
local final = A.no_grad(function() return nn.bce_with_logits(logits(w, b), t):item() end)
print(("final: w = (%+.4f, %+.4f), b = %+.4f, loss %.6f\n"):format(w[1], w[2], b[1], final))
results.trained = truth_table("Trained unit", w:detach(), b:detach())
results.trained.w = {w[1], w[2]}
results.trained.b = b[1]
results.trained.loss = final
results.trained.curve = curve.y

-- 3. convexity in the parameters theta = (w1, w2, b), for many thetas at once:
-- thetas is K x 3, the losses a K-vector (per-example log-loss softplus(z) - t z).
local Xb = A.cat({X, A.ones(4, 1)}, 2) -- 4 x 3, so z = Xb theta
local function losses(thetas)
  local z = thetas:matmul(Xb:t())      -- K x 4
  local logloss = (act.softplus(z) - z * t):mean(2)
  local sq = ((act.sigmoid(z) - t) ^ 2):mean(2)
  return logloss, sq
end

local theta_a = A.tensor({{w0[1], w0[2], b0[1]}})
local theta_b = A.tensor({{-w0[1], 0.5 * w0[2], 10}}) -- a far-off, wrong unit
local steps = 10
local s = A.linspace(0, 1, steps + 1):view(steps + 1, 1)
local seg = theta_a * (1 - s) + theta_b * s
local l_log, l_sq = losses(seg)
local seg_rows, below, sq_below = {}, true, true
for i = 1, steps + 1 do
  local si = s:get(i, 1)
  local chord = (1 - si) * l_log[1] + si * l_log[steps + 1]
  local ok = l_log[i] <= chord + 1e-5 * (1 + math.abs(chord))
  below = below and ok
  local sqchord = (1 - si) * l_sq[1] + si * l_sq[steps + 1]
  local sq_ok = l_sq[i] <= sqchord + 1e-5 * (1 + math.abs(sqchord))
  sq_below = sq_below and sq_ok
  seg_rows[i] = {s = si, L = l_log[i], chord = chord, ok = ok and "yes" or "NO", sq = l_sq[i],
    sqchord = sqchord, sq_ok = sq_ok and "yes" or "NO"}
end
print(("Along the segment theta(s) = (1-s) a + s b, a = (%g, %g, %g) [hand-set], b = (%g, %g, %g):")
  :format(theta_a:get(1, 1), theta_a:get(1, 2), theta_a:get(1, 3), theta_b:get(1, 1),
    theta_b:get(1, 2), theta_b:get(1, 3)))
cli.print_table({
  {"s", "s", "%.1f"}, {"log-loss L", "L", "%.6f"}, {"chord", "chord", "%.6f"},
  {"L <= chord", "ok"}, {"squared error", "sq", "%.6f"}, {"its chord", "sqchord", "%.6f"},
  {"SE <= chord", "sq_ok"},
}, seg_rows)

-- the midpoint inequality on random pairs (entries N(0, 10^2): saturated units included)
A.manual_seed(opt.seed + 1)
local pa, pb = A.randn(opt.pairs, 3) * 10, A.randn(opt.pairs, 3) * 10
local la, sa = losses(pa)
local lb, sb = losses(pb)
local lm, sm = losses((pa + pb) * 0.5)
local function violations(mid, ends)
  -- float32 rounding allowance, relative to the size of the losses
  local gap = mid - ends
  local bad = gap:gt((ends:abs() + 1) * 1e-5)
  return math.floor(bad:sum():item()), gap:max():item()
end
local viol_log, worst_log = violations(lm, (la + lb) * 0.5)
local viol_sq, worst_sq = violations(sm, (sa + sb) * 0.5)
print(("\nMidpoint inequality L((a+b)/2) <= (L(a)+L(b))/2 on %d random pairs (entries N(0, 10^2)):")
  :format(opt.pairs))
cli.print_table({
  {"loss of sigmoid(z)", "name"}, {"pairs violating", "v", "%d"},
  {"largest L(mid) - mean of ends", "worst", "%+.3e"}, {"convex on this evidence", "verdict"},
}, {
  {name = "log-loss (bce_with_logits)", v = viol_log, worst = worst_log,
   verdict = viol_log == 0 and "yes" or "no"},
  {name = "squared error", v = viol_sq, worst = worst_sq, verdict = viol_sq == 0 and "yes" or "no"},
})
results.convex = {segment_below_chord = below, segment_sq_below_chord = sq_below, pairs = opt.pairs, violations_log = viol_log,
  violations_sq = viol_sq}

-- 4. the training again from --seeds random inits: how many learn AND
local per_seed = {}
for k = 1, opt.seeds do
  A.manual_seed(opt.seed + k - 1)
  local ws, bs = A.randn(2), A.randn(1)
  ws.requires_grad, bs.requires_grad = true, true
  local o = optim.SGD({ws, bs}, {lr = opt.lr})
  for _ = 1, opt.epochs do
    local loss = nn.bce_with_logits(logits(ws, bs), t)
    o:zero_grad()
    loss:backward()
    o:step()
  end
  local z = A.no_grad(logits, ws, bs)
  per_seed[k] = math.floor(act.sigmoid(z):gt(0.5):eq(t):sum():item())
end
local learned = 0
for _, c in ipairs(per_seed) do if c == 4 then learned = learned + 1 end end
print(("\nTrained from %d random inits (seeds %d..%d), correct of 4: %s"):format(opt.seeds,
  opt.seed, opt.seed + opt.seeds - 1, table.concat(per_seed, " ")))
results.seeds = {correct = per_seed, learned = learned, n = opt.seeds}

print()
local status
if results.hand.correct == 4 and learned == opt.seeds then
  status = "SUPPORTED"
elseif results.hand.correct == 4 and learned > 0 then
  status = "MIXED"
else
  status = "NOT SUPPORTED"
end
results.verdict = cli.verdict(status,
  "hand-set unit %d of 4 correct; trained unit 4 of 4 on %d of %d seeds (%d SGD steps, lr %g); " ..
  "log-loss midpoint violations %d of %d pairs, squared error %d",
  results.hand.correct, learned, opt.seeds, opt.epochs, opt.lr, viol_log, opt.pairs, viol_sq)

if opt.plot then
  cli.plot_line{series = {curve}, title = "AND gate: log-loss of a logistic unit",
    xlabel = "epoch", ylabel = "log-loss", file = opt.plot}
end
return results
