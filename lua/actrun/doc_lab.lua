-- help entries for actrun.lab (merged by actrun.help on first use).
return {
  ["actrun.lab"] = [=[
actrun.lab: experiments over modules
train, evaluate, compare (activations x seeds: table, CSV, plot), the probes
gradient_flow, activation_stats, dead_units, depth_probe, plot_depth, and gradcheck.
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
  test={X=,y=}} [, optimizer=function(params) ... end, loss=, epochs=1, batch=64,
  seeds=1, csv=PATH, plot=PATH, progress=, quiet=false, cost=]} -> rows, summary
Trains model(act) for every activation and seed (seeds: a list, or n for 1..n), with
manual_seed(seed) before each model is made: runs of one seed start from the same
weights and batches. Row: activation seed params epochs train_loss train_accuracy
test_loss test_accuracy seconds dead_fraction grad_norm_first grad_norm_last history.
train_loss is the last epoch's mean; seconds the training time; dead_fraction is
lab.dead_units(...).total on the test set; grad_norm_first/last are the weight-gradient
norms of the first and last Linear (lab.gradient_flow on the first 1024 test rows,
after training). summary: one row per
activation ranked by mean test accuracy (*_sd: sd over seeds; grad_ratio: geometric
mean of first/last). Prints runs and the ranked table; csv: one line per run. Under
mpirun the runs are spread over the ranks, balanced by expected cost (cost(act, seed)
-> number; default the model's parameter count), every rank returns every row in
order, and only rank 0 prints, shows progress and writes csv/plot.
  lab.compare{activations={"relu","tanh"}, model=function(a)
    return nn.mlp{784, 256, 10, activation=a} end, data=D, seeds=3, csv="runs.csv"}]=],

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
}
