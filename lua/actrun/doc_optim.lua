-- help entries for actrun.optim (merged by actrun.help on first use).
return {
  ["actrun.optim"] = [=[
actrun.optim: optimisers and learning-rate schedules, with PyTorch 1.13's update rules
SGD, Adam, AdamW, RMSprop, Adagrad take a list of parameters (or a module) and options;
each has opt:step() (updates every parameter that has a .grad, in place, in C),
opt:zero_grad() and a writable field opt.lr. clip_grad_norm, StepLR and CosineLR help.
  local opt = actrun.optim.Adam(model:parameters(), {lr=1e-3})
  loss:backward(); opt:step(); opt:zero_grad()]=],
  ["actrun.optim.SGD"] = [=[
actrun.optim.SGD(params, {lr= [, momentum=0, dampening=0, nesterov=false,
  weight_decay=0]}) -> optimiser
Stochastic gradient descent as torch.optim.SGD (lr is required; nesterov needs
momentum > 0 and dampening 0).
  local opt = actrun.optim.SGD(model:parameters(), {lr=0.1, momentum=0.9})]=],
  ["actrun.optim.Adam"] = [=[
actrun.optim.Adam(params [, {lr=1e-3, betas={0.9, 0.999}, eps=1e-8, weight_decay=0}])
  -> optimiser
Adam as torch.optim.Adam: eps is added outside the square root, bias-corrected moments;
weight_decay is added to the gradient (L2).
  local opt = actrun.optim.Adam(model:parameters(), {lr=3e-4})]=],
  ["actrun.optim.AdamW"] = [=[
actrun.optim.AdamW(params [, {lr=1e-3, betas={0.9, 0.999}, eps=1e-8, weight_decay=0.01}])
  -> optimiser
Adam with decoupled weight decay (torch.optim.AdamW): p = p - lr * weight_decay * p
before the Adam step.
  local opt = actrun.optim.AdamW(model:parameters(), {lr=1e-3, weight_decay=0.05})]=],
  ["actrun.optim.RMSprop"] = [=[
actrun.optim.RMSprop(params [, {lr=0.01, alpha=0.99, eps=1e-8, momentum=0,
  centered=false, weight_decay=0}]) -> optimiser
RMSprop as torch.optim.RMSprop (eps outside the square root; centered subtracts the
squared running mean of the gradient).
  local opt = actrun.optim.RMSprop(model:parameters(), {lr=1e-3})]=],
  ["actrun.optim.Adagrad"] = [=[
actrun.optim.Adagrad(params [, {lr=0.01, lr_decay=0, eps=1e-10, weight_decay=0}])
  -> optimiser
Adagrad as torch.optim.Adagrad: the step of each element shrinks with the sum of its
squared gradients.
  local opt = actrun.optim.Adagrad(model:parameters(), {lr=0.1})]=],
  ["actrun.optim.clip_grad_norm"] = [=[
actrun.optim.clip_grad_norm(params, max_norm) -> total_norm
The 2-norm of all gradients together; when it exceeds max_norm every gradient is scaled
in place by max_norm / (norm + 1e-6), as torch.nn.utils.clip_grad_norm_.
  loss:backward(); actrun.optim.clip_grad_norm(model:parameters(), 1.0); opt:step()]=],
  ["actrun.optim.StepLR"] = [=[
actrun.optim.StepLR(opt, {step= [, gamma=0.1]}) -> schedule
Multiplies opt.lr by gamma every `step` calls of schedule:step() (one call per epoch);
schedule:get_last_lr() reads the current rate.
  local sched = actrun.optim.StepLR(opt, {step=10, gamma=0.5})  -- sched:step() per epoch]=],
  ["actrun.optim.CosineLR"] = [=[
actrun.optim.CosineLR(opt, {T= [, eta_min=0]}) -> schedule
Cosine annealing: after epoch e, lr = eta_min + (lr0 - eta_min) * (1 + cos(pi e / T)) / 2,
as torch.optim.lr_scheduler.CosineAnnealingLR.
  local sched = actrun.optim.CosineLR(opt, {T=50})             -- sched:step() per epoch]=],
}
