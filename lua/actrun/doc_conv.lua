-- help entries for convolution, pooling, the Padé unit, B-spline bases and model files
-- (merged by actrun.help on first use).
return {
  ["actrun.conv2d"] = [=[
actrun.conv2d(x, w [, b] [, {stride=1, padding=0}]) -> Tensor {N,O,Ho,Wo}
2-D convolution as PyTorch's conv2d (cross-correlation, zero padding): x {N,C,H,W},
w {O,C,kh,kw}, b {O} or nil; stride and padding a number or a pair {h, w}.
Differentiable in x, w and b; Ho = (H + 2*padding - kh) // stride + 1.
  local y = actrun.conv2d(x, w, b, {padding=2})   -- 'same' size for a 5x5 kernel]=],
  ["actrun.pau"] = [=[
actrun.pau(x, a, b) -> Tensor
Padé activation unit: (a0 + a1 x + ... + am x^m) / (1 + |b1 x + ... + bn x^n|); a {m+1},
b {n} shared, or {C, m+1} and {C, n} per channel (dim 2 of x); m, n <= 12. Differentiable
in x, a and b (to second order); fused vector kernels, thread-count independent sums.
  local y = actrun.pau(x, nn.PAU{}.numerator, nn.PAU{}.denominator)]=],
  ["actrun.max_pool2d"] = [=[
actrun.max_pool2d(x, k [, {stride=k, padding=0}]) -> Tensor {N,C,Ho,Wo}
Maximum over k x k windows (k a number or a pair {h, w}); padding (at most k/2) never
wins. The gradient goes to each window's first maximum, as PyTorch.
  local y = actrun.max_pool2d(x, 2)               -- halves H and W]=],
  ["actrun.bspline_basis"] = [=[
actrun.bspline_basis(x [, {grid=5, order=3, range={-1, 1}, deriv=0, transposed=false}])
  -> Tensor {x..., grid + order}
The B-spline basis of degree `order` on `grid` equal intervals of range, extended by
`order` knots each side, at every element of x (a C kernel): inside the range the values
sum to 1, outside the extended grid all are 0; deriv > 0 gives derivatives (0 past the
degree). transposed=true: the kernel's own layout {..., grid + order, F} for x {..., F}
(what KANLinear multiplies). Differentiable in x to any order.
  local B = actrun.bspline_basis(actrun.linspace(-1, 1, 5), {grid=4})]=],
  ["actrun.nn.save"] = [=[
actrun.nn.save(path, module_or_table [, {metadata={key="value"}}])
Writes the module's named_parameters() and named_buffers() (or a table name -> tensor)
as float32 in the safetensors format, names sorted (same tensors, same bytes). The
write is atomic: a failure leaves an existing file as it was. An existing file keeps its
mode; a symbolic link is written through to its target; a device, named pipe, directory
or write-protected file is an error, with nothing written.
  actrun.nn.save("model.safetensors", model)]=],
  ["actrun.nn.load"] = [=[
actrun.nn.load(path) -> tensors (name -> Tensor), metadata
actrun.nn.load(path, module [, {strict=true}]) -> module, {missing=, unexpected=}
Reads a safetensors file (F32, F16, BF16 or F64 data, converted to float32). With a
module (or a table name -> tensor), copies every tensor in after checking all names and
shapes first; strict=false allows missing and extra names (listed in the report).
  actrun.nn.load("model.safetensors", model)]=],
}
