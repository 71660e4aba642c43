-- help entries for actrun.nn: modules, the Module protocol, nn.mlp, losses and nn.init
-- (merged by actrun.help on first use).
return {
  ["actrun.nn"] = [=[
actrun.nn: layers, losses, weight init and model files
Layers: Linear Sequential Activation (and ReLU Tanh Sigmoid GELU SELU ELU LeakyReLU) PReLU PAU
Maxout BatchNorm LayerNorm Dropout AlphaDropout LSTM Residual Flatten Conv2d MaxPool2d
KANLinear; builders nn.mlp, nn.kan.
  local model = actrun.nn.mlp{784, 256, 10, activation="gelu"}; print(model)]=],

  ["actrun.nn.Module"] = [=[
actrun.nn.Module: the base class of every layer
Methods: m(x) / m:forward(x), parameters, named_parameters, named_buffers, children,
named_modules, train, eval, zero_grad, num_parameters, add_hook; fields kind, training.
  for _, e in ipairs(model:named_modules()) do print(e.name, e.module.kind) end]=],

  ["actrun.nn.Module.extend"] = [=[
nn.Module:extend(kind) -> class: a custom module written in Lua
Define cls:init(...) (register parameters, children and buffers there) and cls:forward(x);
cls(...) makes an instance. Autograd follows the tensor ops used in forward.
  local Scale = nn.Module:extend("Scale")
  function Scale:init(n) self:register_parameter("s", actrun.ones(n)) end
  function Scale:forward(x) return x * self.s end
  local m = nn.Sequential(nn.Linear(4, 3), Scale(3))  -- m:named_parameters()["2.s"]]=],

  ["actrun.nn.Module.register_parameter"] = [=[
m:register_parameter(name, t) -> t
Makes the leaf tensor t a parameter (requires_grad set) reachable as m.name and listed by
parameters() / named_parameters() under the module's dotted path.
  self:register_parameter("weight", actrun.randn(out, n_in) * 0.01)]=],

  ["actrun.nn.Module.register_module"] = [=[
m:register_module(name, child) -> child
Adds a child module (m.name); its parameters, buffers and mode follow m's.
  self:register_module("proj", nn.Linear(8, 8))]=],

  ["actrun.nn.Module.register_buffer"] = [=[
m:register_buffer(name, t) -> t
State that is saved with the model but not trained (BatchNorm's running statistics);
listed by named_buffers(). Update it in place (t:copy under actrun.no_grad).
  self:register_buffer("count", actrun.zeros(1))]=],

  ["actrun.nn.Module.parameters"] = [=[
m:parameters() -> list of tensors
Every parameter of m and its children, in registration order, each once. The same
tensor objects on every call, so optimisers may keep them.
  local opt = actrun.optim.Adam(model:parameters(), {lr=1e-3})]=],

  ["actrun.nn.Module.named_parameters"] = [=[
m:named_parameters() -> {name = tensor}, ordered list of names
Names are dotted paths: Sequential children by 1-based position ("1.weight",
"3.bias"), named children by field ("2.block.1.weight", "1.linear.bias").
  local map, names = model:named_parameters(); print(names[1], map[names[1]]:shape()[1])]=],

  ["actrun.nn.Module.named_buffers"] = [=[
m:named_buffers() -> {name = tensor}, ordered list of names
The buffers (BatchNorm's running_mean and running_var), named as named_parameters.
  local bufs = model:named_buffers()]=],

  ["actrun.nn.Module.children"] = [=[
m:children() -> list of {name=, module=}
The direct children in order (Sequential: names "1", "2", ...).
  for _, c in ipairs(model:children()) do print(c.name, c.module.kind) end]=],

  ["actrun.nn.Module.named_modules"] = [=[
m:named_modules() -> list of {name=, module=}
m and every module under it, depth first, pre-order; m itself comes first with name "".
  for _, e in ipairs(model:named_modules()) do print(e.name, e.module.kind) end]=],

  ["actrun.nn.Module.train"] = [=[
m:train([mode=true]) -> m
Sets training mode on m and every child (Dropout drops, BatchNorm uses batch
statistics and updates its running ones, rrelu samples its slopes).
  model:train()]=],

  ["actrun.nn.Module.eval"] = [=[
m:eval() -> m
Evaluation mode on m and every child: Dropout is the identity, BatchNorm uses its running
statistics, rrelu uses the mean slope.
  local logits = model:eval()(X)]=],

  ["actrun.nn.Module.zero_grad"] = [=[
m:zero_grad() -> m
Clears the gradient of every parameter.
  model:zero_grad()]=],

  ["actrun.nn.Module.num_parameters"] = [=[
m:num_parameters() -> integer
The number of trainable values (elements of every parameter, each tensor once).
  print(nn.Linear(784, 256):num_parameters())  -- 200960]=],

  ["actrun.nn.Module.add_hook"] = [=[
m:add_hook(fn) -> handle
After every call m(x), fn(module, input, output) runs; handle:remove() stops it.
m:forward(x) runs no hooks of m itself.
  local h = model[2]:add_hook(function(mod, x, y) print(y:mean():item()) end); h:remove()]=],

  ["actrun.nn.is_module"] = [=[
actrun.nn.is_module(v) -> bool
Whether v is a module (a table whose class chain reaches nn.Module).
  assert(nn.is_module(nn.ReLU()))]=],

  ["actrun.nn.Linear"] = [=[
actrun.nn.Linear(in, out [, {bias=true, init=NAME}]) -> module
y = x W^T + b with weight {out, in}; any input {..., in}. PyTorch's init: W and b
uniform in +-1/sqrt(in); init= names an nn.init function for W (then b is zero).
  local fc = nn.Linear(784, 256, {init="kaiming_normal"}); local y = fc(X)]=],

  ["actrun.nn.Sequential"] = [=[
actrun.nn.Sequential(m1, m2, ...) or Sequential{m1, m2, ...} -> module
Applies the modules in order. Children are m[1], m[2], ... (named "1", "2", ...);
seq:add(m) appends, seq:size() counts.
  local net = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2))]=],

  ["actrun.nn.Activation"] = [=[
actrun.nn.Activation(name [, params_table]) -> module
Any activation act.apply accepts (built in or act.define'd), with its parameters by name;
name may be {name=, params=} (a lab.compare entry), params_table then adds to its params.
rrelu samples slopes in training mode and uses the mean slope in eval mode.
  nn.Activation("softplus", {beta=2})]=],

  ["actrun.nn.ReLU"] = [=[
actrun.nn.ReLU(), Tanh(), Sigmoid(), GELU(), SELU() -> Activation module
Shortcuts for nn.Activation(name).
  nn.Sequential(nn.Linear(4, 8), nn.ReLU())]=],

  ["actrun.nn.ELU"] = [=[
actrun.nn.ELU([alpha=1]) -> Activation module
nn.Activation("elu", {alpha=alpha}).
  nn.ELU(0.5)]=],

  ["actrun.nn.LeakyReLU"] = [=[
actrun.nn.LeakyReLU([negative_slope=0.01]) -> Activation module
nn.Activation("leaky_relu", {negative_slope=s}).
  nn.LeakyReLU(0.2)]=],

  ["actrun.nn.PReLU"] = [=[
actrun.nn.PReLU([n=1 [, init=0.25]]) -> module
Leaky ReLU with a learnable slope (m.weight): one shared, or one per channel (dim 2).
  nn.PReLU(64)]=],

  ["actrun.nn.PAU"] = [=[
actrun.nn.PAU{m=5, n=4, init="leaky_relu" [, per_channel=C, params=table]} -> module
Padé activation unit (Molina et al. 2020): P(x) / (1 + |b1 x + ... + bn x^n|), P of degree
m; learnable m.numerator {m+1} and m.denominator {n} ({C, m+1}, {C, n} with per_channel:
one set per channel of dim 2), fitted at construction to the activation init (with its
params) on [-3, 3] (m.fit_error: the max error; leaky_relu 0.013). m, n in 1..12.
Methods: m:curve([lo, hi, n]) -> xs, ys; m:as_activation(name) registers the current function.
  local m = nn.mlp{784, 128, 10, activation="pau"}; local xs, ys = m["2"]:curve()]=],

  ["actrun.nn.PAU.curve"] = [=[
m:curve([lo=-3, hi=3, n=201 [, channel=1]]) -> xs, ys
The PAU's current function on n points of [lo, hi] (Lua lists: actrun.plot takes them).
  local xs, ys = pau:curve(-4, 4, 101); actrun.plot.line{series={{x=xs, y=ys, label="PAU"}}}]=],

  ["actrun.nn.PAU.as_activation"] = [=[
m:as_activation(name [, channel=1]) -> function
Registers the PAU's current function (its coefficients copied now) with act.define under
name, so act.properties, act.plot, nn.Activation and lab.compare take it by name.
  pau:as_activation("learned"); print(actrun.act.properties("learned").monotonic)]=],

  ["actrun.nn.Maxout"] = [=[
actrun.nn.Maxout(in, out [, k=2 [, linear_opts]]) -> module
One Linear in -> out*k (m.linear); unit j is the max of its k pieces (rows (j-1)k+1..jk).
An activation and an affine map in one layer.
  nn.Sequential(nn.Maxout(784, 256), nn.Linear(256, 10))]=],

  ["actrun.nn.BatchNorm"] = [=[
actrun.nn.BatchNorm(n [, {eps=1e-5, momentum=0.1}]) -> module
Input {N,n}, {N,n,L} or {N,n,H,W}. Training: batch statistics, running_mean/running_var
updated (unbiased variance, as PyTorch); eval: running statistics. Affine weight, bias.
  nn.Sequential(nn.Linear(10, 32), nn.BatchNorm(32), nn.ReLU())]=],

  ["actrun.nn.LayerNorm"] = [=[
actrun.nn.LayerNorm(n [, {eps=1e-5}]) -> module
Normalises the last dim (size n) of each sample, then weight * x + bias.
  nn.LayerNorm(256)]=],

  ["actrun.nn.Dropout"] = [=[
actrun.nn.Dropout([p=0.5]) -> module
Training: zeroes each element with probability p and scales the rest by 1/(1-p);
eval: the identity.
  nn.Dropout(0.2)]=],

  ["actrun.nn.AlphaDropout"] = [=[
actrun.nn.AlphaDropout([p=0.5]) -> module
SELU's dropout: dropped units take SELU's saturation value and an affine map keeps
mean 0 and variance 1 (PyTorch's formula); eval: the identity.
  nn.Sequential(nn.Linear(64, 64), nn.SELU(), nn.AlphaDropout(0.05))]=],

  ["actrun.nn.LSTM"] = [=[
actrun.nn.LSTM(in, hidden [, {gate="sigmoid", cell="tanh"}]) -> module
lstm(x [, h0, c0]): x {seq, batch, in} -> output {seq, batch, hidden}, h, c (each
{1, batch, hidden}). PyTorch's gate order i,f,g,o and parameter names (weight_ih_l0...).
  local out, h, c = nn.LSTM(3, 16, {gate="hard_sigmoid"})(actrun.randn(20, 8, 3))]=],

  ["actrun.nn.Residual"] = [=[
actrun.nn.Residual(block [, {norm="pre"|"post", width=n}]) -> module
x + block(x); norm="pre": x + block(BN(x)); "post": BN(x + block(x)). Without width the
BatchNorm is made at the first call (create optimisers after it, or give width).
  nn.Residual(nn.Sequential(nn.Linear(64, 64), nn.ReLU()), {norm="pre", width=64})]=],

  ["actrun.nn.Flatten"] = [=[
actrun.nn.Flatten() -> module
{N, d2, d3, ...} -> {N, d2*d3*...}.
  nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 10))]=],

  ["actrun.nn.Conv2d"] = [=[
actrun.nn.Conv2d(in_ch, out_ch, k [, {stride=1, padding=0, bias=true, init=NAME}]) -> module
2-D convolution of {N, in_ch, H, W} inputs (actrun.conv2d: im2col + sgemm). k, stride and
padding are numbers or pairs {h, w}; weight {out_ch, in_ch, kh, kw}, PyTorch's default init.
  nn.Sequential(nn.Conv2d(1, 16, 5, {padding=2}), nn.ReLU(), nn.MaxPool2d(2))]=],

  ["actrun.nn.MaxPool2d"] = [=[
actrun.nn.MaxPool2d(k [, stride=k]) or MaxPool2d(k, {stride=, padding=}) -> module
Max over k x k windows of {N, C, H, W} inputs (actrun.max_pool2d); the gradient goes to
each window's first maximum.
  nn.MaxPool2d(2)   -- halves H and W]=],

  ["actrun.nn.mlp"] = [=[
actrun.nn.mlp{sizes..., activation="relu" [, norm="batch"|"layer", dropout=p, init=NAME,
  residual=bool, params=table]} -> Sequential
Per hidden layer: Linear, norm, activation (params are its parameters), dropout; a last
Linear. activation may be {name=, params=} (a lab.compare entry). "maxout" uses Maxout
layers; "prelu" learnable PReLU slopes (one per unit, starting at params.init or 0.25);
"pau" a PAU per layer (params: its options); "selu" defaults to lecun_normal and
AlphaDropout;
residual wraps the square hidden layers in Residual.
  local m = nn.mlp{784, 256, 256, 10, activation="selu", dropout=0.05}]=],

  ["actrun.nn.KANLinear"] = [=[
actrun.nn.KANLinear(in, out [, {grid=5, order=3, range={-1, 1}, base="silu"}]) -> module
Kolmogorov-Arnold layer (Liu et al. 2024): y_j = sum_i phi_ji(x_i), each edge's
phi_ji(x) = base_weight[j][i] base(x) + spline_scale[j][i] sum_k spline_weight[j][k][i]
B_k(x), with the grid + order B-splines of degree `order` on `grid` equal intervals of
range, extended by `order` knots each side (actrun.bspline_basis). base: an activation
name, or "none". Outside the extended grid only the base part remains. Methods:
m:extend_grid(g [, X]) refits to g intervals by least squares on X {N, in} (nil: a dense
grid over the range) keeping the function; m:update_grid(X [, margin=0.01]) moves the
range to X's span; both change parameter shapes (make a new optimiser). m:edge_curve(i, j
[, n=101]) -> xs, ys: the learned function of the edge input i -> output j.
  local m = nn.KANLinear(2, 1, {grid=10}); local xs, ys = m:edge_curve(1, 1)]=],

  ["actrun.nn.kan"] = [=[
actrun.nn.kan{sizes..., grid=5, order=3 [, range={-1, 1}, base="silu"]} -> Sequential
A Kolmogorov-Arnold network: one KANLinear per pair of consecutive sizes, all with the
given grid options.
  local m = nn.kan{2, 5, 1, grid=5}; m[1]:extend_grid(10)]=],

  ["actrun.nn.cross_entropy"] = [=[
actrun.nn.cross_entropy(logits, labels) -> 1-element tensor
Mean of -log softmax(logits)[label] over the rows; logits {N, C}, labels 1..C (a {N}
tensor or a list).
  local loss = nn.cross_entropy(model(X), y); loss:backward()]=],

  ["actrun.nn.nll"] = [=[
actrun.nn.nll(logp, labels) -> 1-element tensor
Mean of -logp[label] (logp: log-probabilities {N, C}, labels 1..C).
  nn.nll(actrun.act.log_softmax(z, 2), y)]=],

  ["actrun.nn.mse"] = [=[
actrun.nn.mse(y, t) -> 1-element tensor
Mean squared error; y and t must have the same shape.
  nn.mse(model(X), targets)]=],

  ["actrun.nn.bce"] = [=[
actrun.nn.bce(p, t) -> 1-element tensor
Binary cross entropy of probabilities p against targets t in [0, 1] (logs clamped at -100).
  nn.bce(model(X):sigmoid(), t)]=],

  ["actrun.nn.bce_with_logits"] = [=[
actrun.nn.bce_with_logits(z, t) -> 1-element tensor
Binary cross entropy on logits, computed without overflow.
  nn.bce_with_logits(model(X), t)]=],

  ["actrun.nn.init"] = [=[
actrun.nn.init: in-place weight initialisation (each returns the tensor)
xavier_uniform xavier_normal kaiming_uniform kaiming_normal lecun_normal orthogonal
normal uniform zeros ones constant gain. Random draws follow actrun.manual_seed.
  nn.init.kaiming_normal(layer.weight, {nonlinearity="relu"})]=],

  ["actrun.nn.init.xavier_uniform"] = [=[
actrun.nn.init.xavier_uniform(t [, gain=1]) -> t
U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out)).
  nn.init.xavier_uniform(w, nn.init.gain("tanh"))]=],

  ["actrun.nn.init.xavier_normal"] = [=[
actrun.nn.init.xavier_normal(t [, gain=1]) -> t
N(0, std^2), std = gain * sqrt(2 / (fan_in + fan_out)).
  nn.init.xavier_normal(w)]=],

  ["actrun.nn.init.kaiming_uniform"] = [=[
actrun.nn.init.kaiming_uniform(t [, {a=0, mode="fan_in", nonlinearity="leaky_relu"}]) -> t
U(-b, b), b = gain * sqrt(3 / fan), as PyTorch.
  nn.init.kaiming_uniform(w, {nonlinearity="relu"})]=],

  ["actrun.nn.init.kaiming_normal"] = [=[
actrun.nn.init.kaiming_normal(t [, {a=0, mode="fan_in", nonlinearity="leaky_relu"}]) -> t
N(0, std^2), std = gain / sqrt(fan).
  nn.init.kaiming_normal(w, {nonlinearity="relu"})]=],

  ["actrun.nn.init.lecun_normal"] = [=[
actrun.nn.init.lecun_normal(t) -> t
N(0, 1/fan_in): the init SELU's self-normalisation assumes.
  nn.init.lecun_normal(w)]=],

  ["actrun.nn.init.orthogonal"] = [=[
actrun.nn.init.orthogonal(t [, gain=1]) -> t
A (semi-)orthogonal matrix from the QR of a normal one (PyTorch's construction), times gain.
  nn.init.orthogonal(w)]=],

  ["actrun.nn.init.normal"] = [=[
actrun.nn.init.normal(t [, mean=0, std=1]) -> t
Fills t with N(mean, std^2) samples.
  nn.init.normal(w, 0, 0.01)]=],

  ["actrun.nn.init.uniform"] = [=[
actrun.nn.init.uniform(t [, a=0, b=1]) -> t
Fills t with U(a, b) samples.
  nn.init.uniform(w, -0.1, 0.1)]=],

  ["actrun.nn.init.zeros"] = [=[
actrun.nn.init.zeros(t) -> t       (and ones(t), constant(t, v))
Fills t with 0 (1, v).
  nn.init.zeros(layer.bias)]=],

  ["actrun.nn.init.gain"] = [=[
actrun.nn.init.gain(name [, param]) -> number
PyTorch's calculate_gain: relu sqrt(2), tanh 5/3, selu 3/4, leaky_relu sqrt(2/(1+a^2)), ...
  print(nn.init.gain("leaky_relu", 0.2))]=],
}
