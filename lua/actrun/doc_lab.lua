-- help entries for actrun.lab (merged by actrun.help on first use).
return {
  ["actrun.lab"] = [=[
actrun.lab: experiments over modules
train, evaluate, compare (activations x seeds: table, CSV, plot, HTML report), search
(activation search: search_merge, search_table, search_define), the probes
gradient_flow, activation_stats, dead_units, depth_probe, plot_depth, phase_diagram,
signal_propagation, jacobian_spectrum, gradcheck, gradgradcheck, and stats (is a
difference between activations real?).
Progress goes to stderr: a bar on a terminal, one line per epoch elsewhere,
nothing with ACTRUN_PROGRESS=0 (=tty or =lines force a mode).
  local h = actrun.lab.train(model, {X=X, y=y}, {epochs=5, batch=64})]=],

  ["actrun.lab.train"] = [=[
actrun.lab.train(model, {X=, y=} [, {epochs=1, batch=64, optimizer=, loss=, on_epoch=,
  seed=, shuffle=true, val={X=,y=}, progress=, label=, distributed=false}]) -> history
Mini-batch training in train mode (the modules' modes are restored afterwards).
Defaults: Adam lr 1e-3 over model:parameters(), nn.cross_entropy. Each history row:
{epoch=, loss=, accuracy=, seconds=} (+ val_loss, val_accuracy with val); loss and
accuracy are averages over the epoch's batches. on_epoch(row, model) runs after each
epoch; returning false stops. seed fixes the shuffle order. accuracy: argmax vs labels
1..C for {N,C} outputs; for {N,1} outputs and 0/1 targets, output > 0 (bce_with_logits)
or > 0.5 (other losses); nil for other targets (regression). distributed=true under
mpirun: data parallel from rank 0's weights, batch rows per rank (N ranks = one process
with N x batch; one allreduce of all gradients per step; progress from rank 0 only;
on_epoch runs on every rank and must decide the same everywhere).
  local h = lab.train(m, {X=X, y=y}, {epochs=10, val={X=Xt, y=yt}, seed=1})]=],

  ["actrun.lab.evaluate"] = [=[
actrun.lab.evaluate(model, X, y [, loss [, {batch=1024}]]) -> {loss=, accuracy=}
Mean loss (default nn.cross_entropy) and accuracy (as in lab.train) in eval mode and
without recording, in batches; the model's modes are restored afterwards.
  print(lab.evaluate(model, Xtest, ytest).accuracy)]=],

  ["actrun.lab.compare"] = [=[
actrun.lab.compare{activations=, model=function(act) ... end, data={train={X=,y=},
  test={X=,y=}} [, optimizer=function(params [, lr]) ... end, loss=, epochs=1, batch=64,
  seeds=1, reference=NAME, test="t", alpha=0.05, csv=PATH, plot=PATH, report=PATH, store=PATH,
  provenance={k=v}, verbose=false, progress=, quiet=false, cost=,
  tune={lrs={...}, fraction=0.2}]} -> rows, summary
An activations entry is a name or {name=, params=, label=}: one activation at chosen
parameters (a sweep: leaky_relu at three slopes), known in rows, table, CSV and
reference= by its label (default "name(k=v)"); model gets the name, or that entry
(nn.mlp{activation=} and nn.Activation take it as it is).
Trains model(act) for every activation and seed (seeds: a list, or n for 1..n), with
manual_seed(seed) before each model is made: runs of one seed start from the same
weights and batches, so the comparison is paired over seeds. Row: activation seed
params epochs train_loss train_accuracy test_loss test_accuracy seconds dead_fraction
grad_norm_first grad_norm_last history. train_loss/accuracy: on the first 10000
training rows after the last step; dead_fraction: lab.dead_units(...).total on the
test set (nil, "n/a", when no activation layer is visible); grad_norm_first/last: the
first and last Linear (lab.gradient_flow on the first 1024 test rows).
summary, best first (by mean test accuracy): {activation=, n=, mean=, sd=, ci95={lo,hi},
diff=, diff_ci95=, p=, p_adjusted=, tied_with_best=, mdd=, ...} (plus the old
test_accuracy, *_sd, grad_ratio, rank fields). diff: mean per-seed difference in test
accuracy against the reference (default the best; its own entry diff 0, p 1); p: the
two-sided paired test over seeds (test "t", "wilcoxon" or "permutation"; nil with one
seed); p_adjusted: Holm over the comparisons; tied_with_best: p_adjusted against the
best >= alpha (with one seed: only the best). The table prints rank, accuracy ± CI
half-width, diff [CI], p (Holm), "=" for ties, train loss, dead, grad ratio, time, and
a footer (n, test, alpha, minimum detectable difference). Quiet: one line per finished
run; per-epoch lines with verbose; a progress bar only on a terminal (progress=true
forces it). csv: one line per run with provenance columns (batch, seeds, version, simd,
threads, and the provenance table). store: one JSON line per finished run; a run with
the same activation, seed and options (epochs, batch, data shapes, provenance) found
there is reused instead of trained. Under mpirun the runs are spread over the ranks
(cost(act, seed) -> number; default the parameter count) and only rank 0 prints.
plot: one SVG of three panels: test accuracy in % with 95% CI error bars on an axis
zoomed to the data ("best", and "= best" on ties), then training and test loss per
epoch, mean over seeds with a 95% CI band (min-max under 3 seeds); each activation
keeps one style (actrun.plot.palette) in every panel. The test loss after each epoch
is history[e].val_loss (drawn only: nothing is chosen by it).
report: the whole comparison as one self-contained HTML page (see lab.report), with
the setup (epochs, batch, seeds, provenance) and the machine; a path that cannot be
written fails before any training.
tune: a learning rate per activation, so that none loses for want of its own rate.
data.split (fixed seed) holds out fraction of the training set; each rate of lrs trains
on the rest with the first seed only (to save time), and the best validation accuracy
wins (validation loss breaks ties); then every seed runs on the full training set at
that rate. The optimizer factory is called as optimizer(params, lr) when tuning (the
default Adam takes lr too); rows and summary entries carry lr, the CSV an lr column,
and the footer says "learning rate tuned per activation on a 20% validation split:
relu 0.01, ...". Without tune nothing changes: optimizer(params), no lr field.
  local rows, summary = lab.compare{activations={"relu","tanh"}, model=function(a)
    return nn.mlp{784, 256, 10, activation=a} end, data=D, seeds=5, store="runs.jsonl"}
  for _, s in ipairs(summary) do print(s.activation, s.diff, s.p_adjusted) end
  lab.compare{activations={"relu", {name="leaky_relu", params={negative_slope=0.1}},
    {name="leaky_relu", params={negative_slope=0.3}, label="leaky 0.3"}}, model=m, data=D}]=],

  ["actrun.lab.report"] = [=[
actrun.lab.report(rows [, {file=, title=, summary=, source=}]) -> path or HTML text
One self-contained HTML page of a comparison (the path with file, else the text; rows: lab.compare's first result, or the
rows of its CSV): title, date, actrun version, setup (the rows' constant fields: the
CSV's provenance columns, epochs, lr...), machine (CPU, SIMD level, threads); the ranked
table (mean test accuracy ± 95% CI half-width, the CI, "=" on ties with the best, paired
difference to the reference [95% CI] in points, Holm-adjusted p, train loss, dead, grad
ratio, time), a "how to read this" note (ties: not shown different at this n; the
minimum detectable difference), the lab.compare figure as inline SVG (only the accuracy
panel when the rows have no history: a CSV keeps no curves, and the page says so), f and
f' of the activations (actrun.plot.activations; layers such as maxout left out), test
accuracy per seed and every number of every run. summary: lab.compare's second result;
without it the rows are summarised as lab.compare does (paired t test, alpha 0.05).
source=: where the rows were read from (shown; the CPU is then the report's machine).
Nothing is loaded from the network or another file: styles and figure are inline, the
page reads the same with JavaScript off (a small inline script sorts a table by a click
on a column header), prints cleanly (@media print) and fits a phone's width; colours are
actrun.plot.palette's, as in the figures. All text is HTML-escaped. From the shell:
`actrun report out/compare.csv [-o FILE]`.
  local rows, summary = lab.compare{activations={"relu","tanh"}, model=m, data=D, seeds=5}
  lab.report(rows, {file="report.html", summary=summary, title="relu vs tanh"})]=],

  ["actrun.lab.search"] = [=[
actrun.lab.search{data={train={X=,y=}, test={X=,y=} [, val={X=,y=}]}, model=function(name) ...
  end [, unary={...}, binary={...}, strategy="exhaustive"|"evolution", budget=, population=16,
  sample=4, children=4, seed=1, epochs=1, batch=64, seeds=1, lr=1e-3, optimizer=, loss=,
  store=FILE, shard={i, n}, bound=1e5, top=5, top_seeds=, baselines={"relu","swish"},
  provenance={k=v}, progress=, verbose=false}] -> results, info
Activation search after Ramachandran, Zoph and Le (2017). A candidate is a core unit
b(u1(x), u2(x)) written as an expression (expr, e.g. "mul(x, sigmoid(x))") and registered
with act.define under name, an identifier derived from it ("s_mul_x_sigmoid_x"), so
nn.mlp, act.plot, act.properties and lab.compare take it. Primitives (default: all):
unary x zero one neg abs square cube sqrt exp log sin cos sinh cosh tanh sigmoid relu min0
softplus erf gaussian; binary add sub mul div max min mulsig gaussdiff. Definitions that
differ from the textbook: sqrt(x) = x / sqrt(|x| + 1e-6) (odd: sign(x) sqrt(|x|), finite
slope at 0), log(x) = log(|x| + 1e-6), min0(x) = min(x, 0), gaussian(x) = exp(-x^2),
erf by Abramowitz-Stegun 7.1.26 (error < 1.5e-7), div(a, b) = a / (b + 1e-3),
mulsig(a, b) = a * sigmoid(b), gaussdiff(a, b) = exp(-(a - b)^2).
Screening, before any training, on 64 points evenly spaced in [-5, 5]: a candidate whose
values or derivative are not finite, exceed bound in absolute value, or are constant is
dropped; candidates with the same values (6 significant digits) are merged: the first in
enumeration order is trained and lists the others in merged (add, mul, max, min and
gaussdiff are commutative: only one order is enumerated). info: candidates, dropped,
merged, trained (trainings run now, not read from the store), seconds, baselines.
strategy "exhaustive": every one-unit candidate. "evolution": two core units,
b2(u3(c), u4(y)) with c = b1(u1(x), u2(x)) and y = x or c, by regularised evolution
(tournament of sample from the population, the winner's copy with one primitive changed;
the oldest dies); children per round; budget distinct candidates are trained; the seed
makes it reproducible (on any number of ranks).
Scoring: model(name) is trained with each seed (manual_seed(seed) first: candidates of
one seed share initial weights and batches), Adam(lr) unless optimizer; score = accuracy
on data.val if given, else data.test (no classes: the negative loss; a run that raises
an error scores 0, with a message on stderr, and the search goes on). results are sorted
by mean descending, ties by expr ascending; each {expr=, name=, rank=, mean=, sd=,
ci95={lo,hi}, scores={per seed}, seconds=, merged={...}}. The top candidates get vs =
{baseline={diff=, ci95=, p=, p_adjusted=}} (lab.stats.paired against each baseline over
the seeds, Holm over all of them; top_seeds=: retrained with these seeds first, results
in top). store: append-only JSON lines, one per finished candidate (single writes; a torn
last line is ignored); a rerun with the same store and options trains only the rest.
shard={i, n}: only the i-th of every n candidates, into FILE.shard-i-of-n (merge them
with lab.search_merge). Under mpirun the candidates are spread over the ranks (rank 0
writes the store); every rank returns the same results, equal to one process's.
Progress (done/total, best so far, ETA) on a terminal only. See docs/SEARCH.md.
  local res, info = lab.search{unary={"x","sigmoid","tanh"}, binary={"mul","add"}, data=D,
    model=function(a) return nn.mlp{2, 16, 3, activation=a} end, seeds=3, store="s.jsonl"}
  print(lab.search_table(res, {top=10}))]=],

  ["actrun.lab.search_merge"] = [=[
actrun.lab.search_merge(store) -> results, info
The table of a sharded search: reads store.shard-i-of-n (i = 1..n) and store itself when
present, and ranks the candidates as lab.search does (same results as one search).
info: files, missing, candidates, dropped, merged, complete (every shard file there and
every candidate scored). From the shell: `actrun search --merge FILE`.
  local res = lab.search_merge("search.jsonl"); print(lab.search_table(res))]=],

  ["actrun.lab.search_table"] = [=[
actrun.lab.search_table(results [, {top=, order={baseline names}, baselines=info.baselines}])
  -> text
The ranked table of lab.search's results: rank, expression, mean and sd (in %), 95% CI,
and for the top candidates the paired difference to each baseline in order with its
Holm-adjusted p; baselines adds their rows ("ref").
  print(lab.search_table(res, {top=10, order={"relu","swish"}, baselines=info.baselines}))]=],

  ["actrun.lab.search_define"] = [=[
actrun.lab.search_define(expr) -> name
Parses a candidate expression of lab.search's primitives ("max(x, neg(x))") and registers
it with act.define under its derived name, e.g. to compare a search's winners with
lab.compare in another process.
  local name = lab.search_define("mul(x, sigmoid(x))")  -- "s_mul_x_sigmoid_x"]=],

  ["actrun.lab.gradient_flow"] = [=[
actrun.lab.gradient_flow(model, X, y [, loss]) -> {{layer=, name=, kind=, param=,
  grad_norm=}...}
One forward/backward in eval mode. A row per module that owns parameters (Linear,
PReLU, BatchNorm ...), in the order they ran; grad_norm is the 2-norm of its weight's
gradient. Existing .grad of every parameter is put back afterwards.
  for _, r in ipairs(lab.gradient_flow(m, X, y)) do print(r.name, r.grad_norm) end]=],

  ["actrun.lab.activation_stats"] = [=[
actrun.lab.activation_stats(model, X [, {batch=1024}]) -> {{layer=, name=, kind=, act=,
  mean=, std=, zero_fraction=, saturated_fraction=}...}
Statistics of every activation layer's outputs over X (eval mode, forward hooks that are
removed afterwards). saturated_fraction: share of outputs with |f'(x)| < 1e-3 at the
layer's input x (Maxout: 0, its slope on the winning piece is 1).
  for _, r in ipairs(lab.activation_stats(m, X)) do print(r.name, r.zero_fraction) end]=],

  ["actrun.lab.dead_units"] = [=[
actrun.lab.dead_units(model, X [, {batch=1024}]) -> {{layer=, name=, units=, dead=,
  fraction=}..., total=, dead=, units=}
A unit (one output column of an activation layer) is dead when it outputs exactly 0
for every row of X. total is the dead share over all activation layers' units.
  print(lab.dead_units(m, Xtest).total)]=],

  ["actrun.lab.depth_probe"] = [=[
actrun.lab.depth_probe{activation="relu", depth=20, width=256, batch=256 [, init=,
  norm="batch", seed=, params=]} -> {{layer=, mean=, std=, grad_norm=}...}
A fresh deep MLP: depth Linear layers width x width, zero bias, each followed by the
activation (batch norm before it with norm="batch"), on N(0,1) inputs. mean/std: of each
layer's output; grad_norm: of its weight gradient when N(0,1) enters at the output.
init: an nn.init name ("normal" = N(0,1)); default as nn.Linear.
  local r = lab.depth_probe{activation="sigmoid", depth=20}; print(r[1].grad_norm)]=],

  ["actrun.lab.phase_diagram"] = [=[
actrun.lab.phase_diagram{activation= [, params=, sigma_w2={0.25, 4}, sigma_b2={0, 0.5},
                         n={24, 12}, contours={2, 5, 10, 20, 50}, file=]} -> grid
The (sigma_w2, sigma_b2) plane of a deep random network, from mean-field theory: ordered
(chi1 < 1: signals and gradients die out over xi_c = -1/log(chi1) layers), chaotic
(chi1 > 1), and the critical line (act.edge_of_chaos at each sigma_b2). With file an
SVG of the critical line and the xi_c contours; without, a character map. Returns
{sigma_w2=, sigma_b2=, chi1=, q_star=, xi_c= (rows by sigma_b2), critical={sigma_b2=,
sigma_w2=}}. From the shell: actrun phase NAME [-o FILE.svg].
  actrun.lab.phase_diagram{activation="tanh", file="tanh_phase.svg"}]=],

  ["actrun.lab.signal_propagation"] = [=[
actrun.lab.signal_propagation{activation=, sigma_w2= [, depth=20, width=256, sigma_b2=0,
  init="normal", batch=256, seed=, params=]} -> {{layer=, q=, c=, grad_norm=, chi1=,
  chi_c=}...}
Signal propagation measured on one random network (the measurement side of mean-field
theory, to hold against act.propagation): depth layers z_l = W_l h_(l-1) + b_l,
h_l = phi(z_l), h_0 = x with batch rows of N(0,1) inputs of width units. W_l: entries
N(0, sigma_w2/width) (init="normal") or sqrt(sigma_w2) times a random orthogonal matrix
(init="orthogonal"); b_l ~ N(0, sigma_b2). Per layer l, over z_l = the pre-activations:
q = mean of z^2 over units and batch; c = the correlation q_ab / sqrt(q_aa q_bb) of two
inputs a, b (the cosine of their z rows), averaged over all pairs a ~= b of the batch;
grad_norm = the Frobenius norm (over batch and units) of dL/dz_l where
L = sum(G * h_depth) for one G ~ N(0,1) {batch, width}; chi1 = sigma_w2 mean(phi'(z)^2)
(per step, grad_norm^2 changes by about chi1); chi_c = sigma_w2 mean(phi'(z_a) phi'(z_b))
over units and pairs a ~= b: the measured slope of the c-map at the layer's correlation.
seed: manual_seed first (weights layer by layer, then x, then G). Not recorded by autograd.
  local r = lab.signal_propagation{activation="tanh", depth=30, width=512,
                                   sigma_w2=1.5, sigma_b2=0.05, seed=1}
  print(r[30].q)   --> about 0.418 (q* of the theory)]=],

  ["actrun.lab.jacobian_spectrum"] = [=[
actrun.lab.jacobian_spectrum{activation=, sigma_w2= [, depth=20, width=256, sigma_b2=0,
  init="normal", seed=, params=]} -> Tensor
The singular values (1-D, descending, width of them) of the input-output Jacobian
d h_depth / d x = D_depth W_depth ... D_1 W_1, D_l = diag(phi'(z_l)), of the network of
lab.signal_propagation (the same seed draws the same weights) at one N(0,1) input x. The
product is formed exactly (depth width x width matrix products), the SVD by
actrun.linalg_svdvals. Dynamical isometry (Pennington et al. 2017): all values near 1.
batch is accepted and not used.
  local s = lab.jacobian_spectrum{activation="tanh", init="orthogonal", sigma_w2=1,
                                  depth=32, width=256, seed=1}
  print(s[1], s[s:numel()])]=],

  ["actrun.lab.plot_depth"] = [=[
actrun.lab.plot_depth(probes [, {file=, title=, field="grad_norm", log=}]) -> series
Draws depth_probe results, one line per probe, through actrun.plot; grad_norm is drawn
as log10 (log=true). probes: {label = rows} or a list of {label=, rows=}.
  lab.plot_depth({sigmoid = lab.depth_probe{activation="sigmoid"},
                  relu = lab.depth_probe{activation="relu"}}, {file="depth.svg"})]=],

  ["actrun.lab.gradcheck"] = [=[
actrun.lab.gradcheck(fn, inputs [, {eps=1e-3, tol=1e-2}]) -> ok, max_error
Compares autograd's gradient of the one-element fn(table.unpack(inputs)) with central
differences, for every input that requires grad.
  local x = actrun.tensor({0.5, -1, 2}, {requires_grad=true})
  print(lab.gradcheck(function(a) return a:tanh():sum() end, {x}))]=],

  ["actrun.lab.gradgradcheck"] = [=[
actrun.lab.gradgradcheck(fn, inputs [, {eps=1e-3, tol=1e-2, seed=1}]) -> ok, max_error
Checks second derivatives: the gradient of G = sum <d(u . fn)/dx, v> (fixed
pseudo-random u, v) through create_graph against central differences of G.
  local x = actrun.tensor({0.5, -1, 2}, {requires_grad=true})
  print(lab.gradgradcheck(function(a) return a:tanh() * a end, {x}))]=],

  ["actrun.lab.stats"] = [=[
actrun.lab.stats: is a difference between activations real?
describe, paired (t, Wilcoxon signed-rank, sign-flip permutation), holm, mcnemar,
rank_probabilities, and the t and normal distributions. Plain Lua lists of numbers
(one per seed); runs of one seed are paired (same initial weights and batches).
  local r = lab.stats.paired(acc_gelu, acc_relu); print(r.diff, r.ci95[1], r.p)]=],

  ["actrun.lab.stats.describe"] = [=[
actrun.lab.stats.describe(list) -> {n=, mean=, sd=, se=, ci95={lo, hi}}
sd with n - 1, se = sd / sqrt(n), ci95 the t-based 95% interval of the mean. With one
number: sd = se = 0 and ci95 = {mean, mean} (no interval can be given).
  print(lab.stats.describe{0.912, 0.905, 0.921}.ci95[1])]=],

  ["actrun.lab.stats.paired"] = [=[
actrun.lab.stats.paired(a, b [, {test="t", alpha=0.05}]) -> {n=, diff=, sd=, ci95={lo,
  hi}, p=, test=, mdd=}
Paired comparison of a[i] and b[i] (e.g. two activations' accuracies per seed).
diff: mean of a[i] - b[i]; sd: their sd (n - 1); ci95: t-based 95% interval of diff;
p: two-sided. test: "t" (paired t; needs n >= 2), "wilcoxon" (signed-rank on the
nonzero differences; exact for n <= 25 over all 2^n signs of the actual average
ranks, so also with ties and zeros, where scipy approximates; above 25 the
tie-corrected normal approximation without continuity correction, as scipy), or
"permutation" (sign flips of the differences, |sum| as extreme: exact for n <= 20,
above 100000 flips from a fixed seed, p = (hits + 1) / 100001). Identical lists:
diff 0, p 1, ci95 {0, 0}; a constant nonzero difference: t gives p 0. mdd: the true
difference the paired t test detects with 80% power at alpha, approximated as
(t(1 - alpha/2, n-1) + t(0.8, n-1)) * sd / sqrt(n) (central t quantiles in place of
the noncentral t); nil when n < 2. alpha only sets mdd.
  local r = lab.stats.paired(gelu, relu, {test="wilcoxon"}); print(r.p, r.mdd)]=],

  ["actrun.lab.stats.best_rank_chance"] = [=[
actrun.lab.stats.best_rank_chance(n, k, r) -> probability
The chance that the best of k items placed at random among n ranks is at rank r or
better: 1 - C(n - r, k) / C(n, k), exactly. Use it before reading
much into "the best of a family ranks high": the best of k random candidates lands near
rank n / (k + 1) by chance alone.
  print(lab.stats.best_rank_chance(2011, 9, 49))  --> 0.197...]=],

  ["actrun.lab.stats.holm"] = [=[
actrun.lab.stats.holm(pvalues) -> adjusted
Holm's step-down adjustment for comparing several activations at once: the k-th
smallest of m p-values times (m - k + 1), made monotone, capped at 1, in the input's
order. Reject where adjusted <= alpha.
  local adj = lab.stats.holm{0.01, 0.04, 0.03}  --> {0.03, 0.06, 0.06}]=],

  ["actrun.lab.stats.mcnemar"] = [=[
actrun.lab.stats.mcnemar(a_correct, b_correct) -> {b=, c=, p=}
Two models on the same test examples (lists of booleans or 0/1, one per example).
b: examples only a gets right; c: only b. p: exact two-sided binomial test of b
against Binomial(b + c, 1/2), summed in log space (any size); 1 when b + c = 0.
  local r = lab.stats.mcnemar(right_gelu, right_relu); print(r.b, r.c, r.p)]=],

  ["actrun.lab.stats.rank_probabilities"] = [=[
actrun.lab.stats.rank_probabilities(runs [, {B=2000, seed=1, larger=true}]) -> probs
runs: one list of per-seed scores per activation, all of the same length. B bootstrap
draws of the seeds (with replacement, the same draw for every activation: runs of a
seed are paired); probs[i]: share of draws where activation i has the best mean
(larger=false: the smallest), a tie splitting the draw. Deterministic for a seed.
  local p = lab.stats.rank_probabilities{acc_relu, acc_gelu, acc_tanh}]=],

  ["actrun.lab.stats.t_cdf"] = [=[
actrun.lab.stats.t_cdf(t, df) -> P(T <= t)
Student's t distribution function, df > 0 (not necessarily an integer), by the
regularised incomplete beta (continued fraction); the tails keep full relative
precision. Agrees with scipy.stats.t.cdf to ~1e-12.
  print(lab.stats.t_cdf(2.0, 5))  --> 0.949030...]=],

  ["actrun.lab.stats.t_quantile"] = [=[
actrun.lab.stats.t_quantile(p, df) -> t
Inverse of t_cdf for 0 < p < 1 (Newton on the tail, kept in a bisection bracket);
agrees with the exact quantile to ~1e-12 (scipy.stats.t.ppf itself is good to ~3e-9).
  print(lab.stats.t_quantile(0.975, 9))  --> 2.262157...]=],

  ["actrun.lab.stats.normal_cdf"] = [=[
actrun.lab.stats.normal_cdf(z) -> P(Z <= z)
Standard normal distribution function (erfc by the incomplete gamma), full relative
precision in the lower tail.
  print(lab.stats.normal_cdf(-1.96))  --> 0.0249979...]=],

  ["actrun.lab.stats.normal_quantile"] = [=[
actrun.lab.stats.normal_quantile(p) -> z
Inverse of normal_cdf for 0 < p < 1.
  print(lab.stats.normal_quantile(0.975))  --> 1.959963...]=],
}
