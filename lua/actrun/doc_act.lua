-- help entries for actrun.act (merged by actrun.help on first use): the module's
-- functions, and one entry per built-in activation made from the registry's own
-- metadata (name, formula, parameters), so the two cannot disagree.
local entries = {
  ["actrun.act"] = [=[
actrun.act: the activation functions (also require "actrun.act")
act.NAME(x [, params...]) for every name in act.list(), plus apply, info, scalar,
derivative, backward, softmax, log_softmax, define, properties, table and plot.
  local y = actrun.act.gelu(x); actrun.act.table{"relu", "selu"}]=],
  ["actrun.act.apply"] = [=[
actrun.act.apply(name, x [, params_table]) -> Tensor
f(x) for the activation called name (built-in or defined), parameters by name.
  actrun.act.apply("elu", x, {alpha = 0.5})]=],
  ["actrun.act.list"] = [=[
actrun.act.list() -> {names...}
The elementwise activations, sorted: built-ins, host-registered and defined ones.
  for _, n in ipairs(actrun.act.list()) do print(n) end]=],
  ["actrun.act.info"] = [=[
actrun.act.info(name) -> {name, family, formula, params = {{name=, default=}...}, learnable}
Metadata of an activation; defined ones also have defined = true.
  actrun.act.info("hardtanh").params[1].name  --> "min_val"]=],
  ["actrun.act.scalar"] = [=[
actrun.act.scalar(name, x [, params_table]) -> f(x), f'(x), f''(x)
Numbers: double precision for built-ins (at a kink, PyTorch's one-sided values); for a
host activation its float kernels, f'' nil unless registered with
actrun_register_activation2; for defined activations a 1-element float evaluation, f'
and f'' by autograd (differentiating twice).
  local f, df, d2f = actrun.act.scalar("sigmoid", 0)  --> 0.5, 0.25, 0]=],
  ["actrun.act.derivative"] = [=[
actrun.act.derivative(name, x [, params_table]) -> Tensor
f'(x) elementwise (not recorded by autograd).
  actrun.act.derivative("tanh", actrun.linspace(-2, 2, 5))]=],
  ["actrun.act.backward"] = [=[
actrun.act.backward(name, x, dy [, params_table]) -> Tensor
dy * f'(x), the backward pass of the activation; dy has x's shape.
  actrun.act.backward("relu", x, actrun.ones(x:shape()))]=],
  ["actrun.act.softmax"] = [=[
actrun.act.softmax(x [, dim]) -> Tensor
exp(x) / sum(exp(x)) along dim (default: the last), max-subtracted; differentiable.
  actrun.act.softmax(actrun.tensor{{1, 2, 3}}, 2)]=],
  ["actrun.act.log_softmax"] = [=[
actrun.act.log_softmax(x [, dim]) -> Tensor
log(softmax(x)) along dim (default: the last), computed stably; differentiable.
  actrun.act.log_softmax(logits)]=],
  ["actrun.act.define"] = [=[
actrun.act.define(name, fn [, {family=, formula=, params={{name=, default=}...}}]) -> act.NAME
Makes fn(x [, p]) (tensor ops; p holds the declared parameters by name) an activation
usable wherever a built-in name is; f' comes from autograd. Redefining replaces it;
built-in names are refused; definitions belong to this interpreter.
  actrun.act.define("square_relu", function(x) return actrun.act.relu(x)^2 end)]=],
  ["actrun.act.properties"] = [=[
actrun.act.properties(name [, params_table [, {cost=true, quick=false}]]) -> table
Computed: nonlinear, differentiable, kinks, jumps, monotonic, range, bounded,
zero_centered, f0, df0, near_identity, max_derivative, smoothness ("C0" f' jumps, "C1"
f'' jumps, "C2"), curvature_jumps, max_curvature (max |f''| away from kinks), saturates,
params, cost_ns, self_normalizing, fixed_point (criteria in docs/ACTIVATIONS.md). cost_ns is
{forward=, backward=, forward_range={min, max}, backward_range=}: the median ns per
element over 7 samples (3 with quick) on pseudo-random signs, and the samples' range.
  actrun.act.properties("selu").self_normalizing  --> true]=],
  ["actrun.act.table"] = [=[
actrun.act.table([names [, {cost=true, quick=false, print=true, out=io.stdout}]]) -> rows
Prints the property table of the named activations (a list or "a,b"; default: all)
and returns the act.properties tables. Also: the command `actrun props [NAMES]`.
  actrun.act.table{"relu", "gelu", "selu"}]=],
  ["actrun.act.plot"] = [=[
actrun.act.plot{names=, from=, to=, derivative=, file=}
Draws the curves of activations (and their derivatives) with actrun.plot.
  actrun.act.plot{names={"relu", "gelu"}, derivative=true, file="acts.svg"}]=],
}

-- One entry per built-in activation, from the registry.
local ok, C = pcall(function()
  require "actrun"
  return package.loaded["actrun.act_c"]
end)
if ok and type(C) == "table" and type(C.builtins) == "function" then
  for _, name in ipairs(C.builtins()) do
    local info = C.info(name)
    local sig, ps = {"x"}, {}
    for _, p in ipairs(info.params) do
      sig[#sig + 1] = p.name
      ps[#ps + 1] = ("%s=%.10g"):format(p.name, p.default)
    end
    entries["actrun.act." .. name] = ("actrun.act.%s(%s) -> Tensor\n%s (%s)%s%s\n  actrun.act.%s(actrun.linspace(-3, 3, 7))")
      :format(name, table.concat(sig, " [, ") .. string.rep("]", #sig - 1), info.formula,
        info.family, #ps > 0 and "; defaults " .. table.concat(ps, ", ") or "",
        info.learnable and "; a learnable slope tensor in nn.PReLU" or "", name)
  end
end

return entries
