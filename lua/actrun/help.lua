-- actrun.help: documentation of the public names, for help(x) and `?x` in the REPL and
-- for `actrun help NAME`.
--
--   local help = require "actrun.help"
--   help(actrun.zeros)      -- by value: found by identity
--   help "Tensor:sum"       -- by name ("sum", "t:sum" and "Tensor.sum" work too)
--   help()                  -- overview
--   help.text(x)            -- the text instead of printing it (nil, message if none)
--
-- Entries are plain strings: a signature line, then 1-3 lines of description and a
-- small example. Other areas add theirs with help.add{["actrun.nn.Linear"] = "..."},
-- or by shipping a module lua/actrun/doc_AREA.lua that returns such a table: every
-- preloaded "actrun.doc_*" module is merged on first use.

local help = {}

help.docs = {}  -- name -> text
help.order = {} -- names in the order they were added (the overview lists them so)

-- Titles and order of the overview's groups, by name prefix; other prefixes follow.
help.sections = {
  {prefix = "actrun.", title = "Tensor functions (actrun.NAME)"},
  {prefix = "Tensor:", title = "Tensor methods (t:NAME)"},
  {prefix = "Tensor.", title = "Tensor fields (t.NAME)"},
  {prefix = "", title = "The actrun command and the REPL (?NAME)"},
}

local docs, order = help.docs, help.order
local map -- value -> list of names, built lazily (see value_names)

local function def(name, text)
  if docs[name] == nil then order[#order + 1] = name end
  docs[name] = text
  map = nil
end

-- Adds entries from a table name -> text (new names are listed in sorted order).
function help.add(entries)
  local names = {}
  for name in pairs(entries) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do def(name, entries[name]) end
end

---------------------------------------------------------------------------------------
-- Tensors: creation and other functions

def("actrun", [=[
actrun: the module (a global in the actrun binary; require "actrun" elsewhere)
Float32 tensors with autograd; submodules act, nn, optim, data, lab, plot, dist.
  local x = actrun.linspace(-3, 3, 7); print(x:tanh())]=])

def("actrun.tensor", [=[
actrun.tensor(number | nested_table [, {requires_grad=bool}]) -> Tensor
A tensor holding a copy of the values; nesting gives the shape.
  actrun.tensor{{1, 2}, {3, 4}}   -- 2x2;  actrun.tensor(3.5) -- one element]=])

def("actrun.zeros", [=[
actrun.zeros(d1, d2, ...) -> Tensor        (or zeros{d1, d2, ...})
A new tensor of that shape filled with 0.
  actrun.zeros(2, 3)]=])

def("actrun.ones", [=[
actrun.ones(d1, d2, ...) -> Tensor         (or ones{d1, d2, ...})
A new tensor of that shape filled with 1.
  actrun.ones(4)]=])

def("actrun.full", [=[
actrun.full(shape_table, value) -> Tensor
A new tensor of that shape filled with value.
  actrun.full({2, 2}, 0.5)]=])

def("actrun.empty", [=[
actrun.empty(d1, d2, ...) -> Tensor        (or empty{d1, d2, ...})
A new tensor with unspecified contents (fill it before reading).
  local t = actrun.empty(3):fill(7)]=])

def("actrun.rand", [=[
actrun.rand(d1, d2, ...) -> Tensor
Uniform random values in [0, 1); reproducible after actrun.manual_seed(n).
  actrun.manual_seed(1); local u = actrun.rand(2, 3)]=])

def("actrun.randn", [=[
actrun.randn(d1, d2, ...) -> Tensor
Standard normal random values (mean 0, std 1); reproducible after manual_seed.
  local w = actrun.randn(256, 784) * 0.01]=])

def("actrun.range", [=[
actrun.range(a, b [, step=1]) -> Tensor
a, a+step, ... up to b inclusive, like a Lua numeric for.
  actrun.range(1, 5)   -- 1 2 3 4 5]=])

def("actrun.linspace", [=[
actrun.linspace(a, b, n) -> Tensor
n evenly spaced values from a to b, both included.
  actrun.linspace(-1, 1, 5)   -- -1 -0.5 0 0.5 1]=])

def("actrun.eye", [=[
actrun.eye(n) -> Tensor
The n x n identity matrix.
  actrun.eye(3)]=])

def("actrun.cat", [=[
actrun.cat(list, dim) -> Tensor
Joins tensors along an existing dimension (the others must match).
  actrun.cat({actrun.zeros(2, 3), actrun.ones(1, 3)}, 1)   -- 3x3]=])

def("actrun.stack", [=[
actrun.stack(list, dim) -> Tensor
Joins same-shaped tensors along a new dimension dim.
  actrun.stack({actrun.zeros(3), actrun.ones(3)}, 1)   -- 2x3]=])

def("actrun.manual_seed", [=[
actrun.manual_seed(n)
Seeds all randomness (rand, randn, init, dropout, shuffles) for reproducible runs.
  actrun.manual_seed(42)]=])
def("actrun.randperm", [=[
actrun.randperm(n) -> Tensor
A random permutation of 1..n (floats, shape {n}); reproducible after manual_seed.
  local perm = actrun.randperm(X:size(1)); local Xs = X:index_select(1, perm)]=])
def("actrun.where", [=[
actrun.where(cond, a, b) -> Tensor
a where cond is 1 (nonzero), else b; broadcasting; a or b may be numbers.
Differentiable in a and b (each gets the gradient where it was chosen).
  actrun.where(x:gt(0), x, 0)   -- relu]=])

def("actrun.is_tensor", [=[
actrun.is_tensor(x) -> boolean
True when x is a tensor.
  actrun.is_tensor(actrun.zeros(1))   -- true]=])

def("actrun.matmul", [=[
actrun.matmul(a, b) -> Tensor
Matrix product of 2-D tensors, or batched over the first dimension of 3-D ones.
  actrun.matmul(actrun.ones(2, 3), actrun.ones(3, 4))   -- 2x4 of 3s]=])

def("actrun.linalg_svdvals", [=[
actrun.linalg_svdvals(t) -> Tensor
The singular values of the 2-D matrix t {m, n}: a 1-D tensor of min(m, n) values in
descending order, computed in double precision by LAPACK's divide-and-conquer SVD
(values only) and rounded to float. Not recorded by autograd. Errors on a t that is not
2-D or holds nan or inf.
  actrun.linalg_svdvals(actrun.tensor({{3, 0}, {4, 5}}))   -- {sqrt(45), sqrt(5)}]=])

def("actrun.linear", [=[
actrun.linear(x, w [, b]) -> Tensor
x w^T + b for x {m, k}, w {n, k}, b {n}: nn.Linear's forward as one op (the GEMM starts
from the bias) with one autograd node.
  actrun.linear(actrun.ones(4, 3), actrun.ones(2, 3), actrun.zeros(2))   -- 4x2 of 3s]=])

def("actrun.grad", [=[
actrun.grad(outputs, inputs [, {grad_outputs=, create_graph=false, retain_graph=,
            allow_unused=false}]) -> list of gradients
The gradients of the outputs (a tensor or a list; grad_outputs weights them, default 1
for one-element outputs) with respect to each input, as torch.autograd.grad: .grad is
left alone. With create_graph the gradients are differentiable again (Hessian-vector
products, gradient penalties); an input the outputs do not use is an error, or nil with
allow_unused.
  local x = actrun.tensor({1, 2}, {requires_grad=true})
  local g = actrun.grad((x * x * x):sum(), x, {create_graph=true})[1]   -- 3x^2
  print(actrun.grad(g:sum(), x)[1])                                     -- 6x]=])

def("actrun.no_grad", [=[
actrun.no_grad(fn, ...) -> fn's results
Runs fn(...) without recording operations for autograd.
  local y = actrun.no_grad(function() return model(x) end)]=])

def("actrun.set_num_threads", [=[
actrun.set_num_threads(n)
Sets the number of worker threads of this interpreter (and OpenBLAS's).
  actrun.set_num_threads(4)]=])

def("actrun.get_num_threads", [=[
actrun.get_num_threads() -> integer
The number of worker threads in use.
  print(actrun.get_num_threads())]=])

def("actrun.clock", [=[
actrun.clock() -> seconds
Monotonic wall-clock time in seconds, sub-microsecond resolution (for benchmarks).
  local t0 = actrun.clock(); f(); print(actrun.clock() - t0)]=])

def("actrun.build_info", [=[
actrun.build_info() -> {version=, simd=, simd_available=, blas=, mpi=, threads=, native=}
What runs here: simd is the kernel level in use ("avx512", "avx2" or "baseline": SSE2
on x86-64, NEON on ARM64), simd_available the levels this CPU runs; the environment
variable ACTRUN_SIMD lowers the level (never above what the CPU has). blas is OpenBLAS's
configuration, native whether the build was made for its machine only (-march=native).
  print(actrun.build_info().simd)]=])

def("actrun.version", [=[
actrun.version: string
The library's version, e.g. "0.1.0".
  print(actrun.version)]=])

---------------------------------------------------------------------------------------
-- Tensors: the type, methods and fields

def("Tensor", [=[
Tensor: float32, row-major, up to 8 dimensions; views share storage; 1-based.
t[i] is slice i along dim 1 (a number for 1-D), t[i] = v assigns; #t is t:size(1).
+ - * / ^ and unary - broadcast like NumPy, with numbers on either side; tostring(t).
  local t = actrun.ones(2, 3); print(t[1], #t, 2 * t + 1)]=])

local function method(name, text) def("Tensor:" .. name, text) end

method("shape", [=[
t:shape() -> table
The sizes of every dimension.
  actrun.zeros(2, 3):shape()   -- {2, 3}]=])
method("size", [=[
t:size([dim]) -> integer | table
The size of dimension dim, or all sizes (as t:shape()) without it.
  actrun.zeros(2, 3):size(2)   -- 3]=])
method("dim", [=[
t:dim() -> integer
The number of dimensions.
  actrun.zeros(2, 3):dim()   -- 2]=])
method("numel", [=[
t:numel() -> integer
The number of elements.
  actrun.zeros(2, 3):numel()   -- 6]=])
method("get", [=[
t:get(i, j, ...) -> number
The element at those 1-based indices (exactly t:dim() of them).
  actrun.eye(2):get(1, 1)   -- 1]=])
method("set", [=[
t:set(i, j, ..., value)
Writes one element (exactly t:dim() indices).
  local t = actrun.zeros(2, 2); t:set(1, 2, 5)]=])
method("item", [=[
t:item() -> number
The value of a 1-element tensor, e.g. a full reduction.
  actrun.ones(3):sum():item()   -- 3]=])
method("totable", [=[
t:totable() -> nested table
The values as (nested) Lua tables.
  actrun.range(1, 3):totable()   -- {1, 2, 3}]=])
method("clone", [=[
t:clone() -> Tensor
A copy with its own storage.
  local u = t:clone()]=])
method("contiguous", [=[
t:contiguous() -> Tensor
t itself when its elements are stored in row-major order, else a row-major copy.
  local c = t:t():contiguous()]=])
method("reshape", [=[
t:reshape(d1, d2, ...) -> Tensor
The same elements in a new shape (a view when possible); one size may be -1.
  actrun.range(1, 6):reshape(2, -1)   -- 2x3]=])
method("view", [=[
t:view(d1, d2, ...) -> Tensor
A view with a new shape (t must be contiguous); one size may be -1.
  actrun.zeros(6):view(3, 2)]=])
method("transpose", [=[
t:transpose(d1, d2) -> Tensor
A view with dimensions d1 and d2 swapped.
  actrun.zeros(2, 3):transpose(1, 2)   -- 3x2]=])
method("t", [=[
t:t() -> Tensor
The transpose of a 2-D tensor (a view).
  actrun.zeros(2, 3):t()   -- 3x2]=])
method("narrow", [=[
t:narrow(dim, start, len) -> Tensor
A view of len entries of dimension dim starting at start.
  actrun.range(1, 10):narrow(1, 3, 4)   -- 3 4 5 6]=])
method("select", [=[
t:select(dim, i) -> Tensor
A view of index i along dim, with that dimension removed.
  actrun.eye(3):select(2, 1)   -- first column]=])
method("flatten", [=[
t:flatten([start_dim [, end_dim]]) -> Tensor
Dims start_dim..end_dim merged into one (defaults 1 and -1: a 1-D tensor); negative dims
count from the end. A view when the strides allow, else a copy.
  actrun.zeros(2, 3, 4):flatten()    -- 24 elements
  actrun.zeros(2, 3, 4):flatten(2)   -- 2x12]=])
method("unsqueeze", [=[
t:unsqueeze(dim) -> Tensor
A view with a new dimension of size 1 at dim.
  actrun.zeros(3):unsqueeze(1)   -- 1x3]=])
method("squeeze", [=[
t:squeeze([dim]) -> Tensor
A view without size-1 dimensions (only dim when given).
  actrun.zeros(1, 3):squeeze()   -- 3]=])
method("expand", [=[
t:expand(d1, d2, ...) -> Tensor
A view repeating size-1 dimensions to the given sizes, without copying.
  actrun.ones(1, 3):expand(4, 3)]=])
method("fill", [=[
t:fill(v) -> t
Sets every element to v, in place.
  actrun.empty(3):fill(2)]=])
method("zero", [=[
t:zero() -> t
Sets every element to 0, in place.
  t:zero()]=])
method("copy", [=[
t:copy(src) -> t
Copies src's values into t, in place (src broadcasts to t's shape).
  t:copy(actrun.ones(t:shape()))]=])

local function arith(name, op, what)
  method(name, ("t:%s(u) -> Tensor\n"
    .. "Elementwise %s (the operator %s), with broadcasting; u is a tensor or a number.\n"
    .. "  actrun.ones(2, 3):%s(2)   -- same as t %s 2"):format(name, what, op, name, op))
end
arith("add", "+", "sum")
arith("sub", "-", "difference")
arith("mul", "*", "product")
arith("div", "/", "quotient")
arith("pow", "^", "power")

method("matmul", [=[
t:matmul(u) -> Tensor
Matrix product (2-D, or batched 3-D), as actrun.matmul(t, u).
  x:matmul(w:t())]=])

local function math1(name, what)
  method(name, ("t:%s() -> Tensor\nElementwise %s, into a new tensor.\n"
    .. "  actrun.linspace(-1, 1, 5):%s()"):format(name, what, name))
end
math1("exp", "exponential")
math1("log", "natural logarithm")
math1("sqrt", "square root")
math1("abs", "absolute value")
math1("sin", "sine")
math1("cos", "cosine")
math1("tanh", "hyperbolic tangent")
math1("sigmoid", "logistic sigmoid 1 / (1 + exp(-x))")
math1("sign", "sign (-1, 0 or 1)")
math1("floor", "rounding down")
math1("ceil", "rounding up")
math1("round", "rounding to the nearest integer")
method("clamp", [=[
t:clamp(lo, hi) -> Tensor
Each element limited to [lo, hi].
  actrun.linspace(-2, 2, 5):clamp(-1, 1)]=])

method("sum", [=[
t:sum([dim [, keepdim=false]]) -> Tensor
Sum over dim, or of all elements into a 1-element tensor (use :item()).
  actrun.ones(2, 3):sum(2)   -- {3, 3};  t:sum():item()]=])
method("mean", [=[
t:mean([dim [, keepdim=false]]) -> Tensor
Mean over dim, or of all elements (1-element tensor).
  actrun.range(1, 4):mean():item()   -- 2.5]=])
method("var", [=[
t:var([dim [, keepdim=false]]) -> Tensor
Unbiased variance (divides by n-1, as PyTorch) over dim or all elements.
  actrun.randn(1000):var():item()   -- about 1]=])
method("std", [=[
t:std([dim [, keepdim=false]]) -> Tensor
Unbiased standard deviation over dim or all elements.
  actrun.randn(1000):std():item()   -- about 1]=])
method("norm", [=[
t:norm([p=2]) -> Tensor
The p-norm of all elements (1-element tensor).
  actrun.tensor{3, 4}:norm():item()   -- 5]=])
method("max", [=[
t:max([dim]) -> Tensor | values, indices
The largest element (1-element tensor), or per dim the values and 1-based indices.
  local v, i = actrun.tensor{{1, 5}, {7, 2}}:max(2)   -- {5, 7}, {2, 1}]=])
method("min", [=[
t:min([dim]) -> Tensor | values, indices
The smallest element (1-element tensor), or per dim the values and 1-based indices.
  local v, i = t:min(1)]=])
method("argmax", [=[
t:argmax(dim) -> Tensor
1-based indices of the largest elements along dim (as floats).
  logits:argmax(2)   -- predicted classes 1..C]=])
method("index_select", [=[
t:index_select(dim, index) -> Tensor
The slices of t along dim at the 1-based positions of the 1-D tensor index, in its order
(repeats allowed). Differentiable (the gradient adds back into the selected slices).
  X:index_select(1, actrun.tensor{3, 1})   -- rows 3 and 1]=])
method("gather", [=[
t:gather(dim, index) -> Tensor
out[..i..] = t[..index[..i..]..] along dim, as torch.gather: index has t's number of
dims (no larger than t on the others) and 1-based entries; out has index's shape.
  logp:gather(2, labels:view(-1, 1))   -- each row's entry at its label]=])
method("sort", [=[
t:sort([dim [, descending]]) -> values, indices
Sorted along dim (default the last), stable: equal elements keep their order; NaN is
the greatest. Indices are 1-based floats; values are differentiable.
  local v, i = actrun.tensor{3, 1, 2}:sort()   -- {1, 2, 3}, {2, 3, 1}]=])
method("argsort", [=[
t:argsort([dim [, descending]]) -> Tensor
The indices of t:sort(dim, descending) (1-based floats).
  actrun.tensor{3, 1, 2}:argsort(1, true)   -- {1, 3, 2}]=])
method("topk", [=[
t:topk(k [, dim [, largest]]) -> values, indices
The k largest (largest=false: smallest) along dim (default the last), in sorted order,
ties in input order; 1-based float indices; values are differentiable.
  local v, i = scores:topk(5)]=])
method("cumsum", [=[
t:cumsum(dim) -> Tensor
Running sums along dim (accumulated in double). Differentiable.
  actrun.tensor{1, 2, 3}:cumsum(1)   -- {1, 3, 6}]=])

local function compare(name, op)
  method(name, ("t:%s(u) -> Tensor\n1 where t %s u, else 0 (elementwise, broadcasting).\n"
    .. "  actrun.range(1, 4):%s(2)"):format(name, op, name))
end
compare("gt", ">")
compare("lt", "<")
compare("ge", ">=")
compare("le", "<=")
compare("eq", "==")

method("backward", [=[
t:backward([grad] [, {create_graph=false, retain_graph=false}])
Backpropagates from t (grad defaults to 1 for a 1-element t) into .grad of the leaves,
then frees the graph's saved tensors unless retain_graph. With create_graph the .grad
are differentiable (second derivatives); that .grad refers back to the graph, so clear
it (w.grad = nil) when done, or use actrun.grad instead.
  local loss = (w * x):sum(); loss:backward(); print(w.grad)]=])
method("detach", [=[
t:detach() -> Tensor
The same values, cut from the autograd graph.
  local y = out:detach()]=])
method("zero_grad", [=[
t:zero_grad()
Clears t.grad.
  w:zero_grad()]=])
def("Tensor.requires_grad", [=[
t.requires_grad: boolean (read/write)
Whether autograd records operations on t and accumulates t.grad.
  local w = actrun.randn(3, 3); w.requires_grad = true]=])
def("Tensor.grad", [=[
t.grad: Tensor or nil
The accumulated gradient after backward(); assign nil or a tensor of t's shape.
  loss:backward(); print(w.grad); w.grad = nil]=])

---------------------------------------------------------------------------------------
-- The actrun command and the REPL

def("command", [=[
actrun [options] [script.lua [args]]  |  actrun COMMAND [args]
Runs a script (it sees `arg` as with lua), -e CODE, -l MOD, -i (REPL after), - (stdin),
-v (--version), -E (no LUA_* variables), -W, -h; LUA_INIT_5_4 or LUA_INIT runs first;
no script: the REPL on a terminal. Errors: file:line, traceback, status 1.
Source text only: precompiled (binary) chunks are refused everywhere (load, dofile,
require too) unless --allow-binary, which is for trusted code (Lua does not verify them).
  actrun train.lua --epochs 5;  actrun -e "print(actrun.ones(3))";  actrun -h]=])

def("commands", [=[
actrun COMMAND [args]: built-in commands
A word that is not a file runs a command: `actrun help` lists them,
`actrun help COMMAND` explains one, `actrun help NAME` shows this documentation.
`actrun report out/compare.csv [-o FILE]` writes a comparison's HTML page (lab.report).
  actrun version;  actrun help actrun.zeros;  actrun report out/compare.csv -o r.html]=])

def("repl", [=[
The REPL: plain `actrun` on a terminal, or `actrun -i`
Results of expressions are printed, tables pretty-printed ({3, 4}; a trailing ; hides
them); a top-level `local x = ...` outlives its line (it becomes a global, as in trepl;
a <close> local is closed when its line ends); a figure a call drew is not echoed again
(util.displayed); unfinished statements continue on ">> " lines; Tab completes names,
fields (a.b) and methods (t:m); ?name or help("name") documents a name, apropos("word")
searches; Ctrl-C clears the line or stops a running statement; history in
~/.actrun_history ($ACTRUN_HISTORY); Ctrl-D exits. _PROMPT and _PROMPT2 work as in lua.
  > local act = actrun.act
  > actrun.ones(2, 3):shape()]=])

def("help", [=[
help([x]) or ?x
Shows the documentation of a value or a name; without argument, an overview. A short
name finds the full one (help "gelu" is actrun.act.gelu); a miss lists the names that
contain it or the nearest ones. help.search(s) -> the names containing s.
  help(actrun.zeros);  ?t:sum;  ?gelu;  ?repl]=])

def("apropos", [=[
apropos(s)
Lists the documented names that contain s or whose documentation mentions it, each
with its signature (case-insensitive); `actrun help -k WORD` at the command line.
  apropos("norm")]=])

def("arg", [=[
arg: table (scripts run by the actrun command)
arg[0] is the script, arg[1..] its arguments, negative indices the options before it;
the arguments are also the script's `...`.
  local epochs = tonumber(arg[1]) or 10]=])

---------------------------------------------------------------------------------------
-- Lookup

local extras_loaded = false

-- Merges every preloaded "actrun.doc_*" module (one per area, added by later work).
local function load_extras()
  if extras_loaded then return end
  extras_loaded = true
  local names = {}
  for name in pairs(package.preload) do
    if type(name) == "string" and name:match("^actrun%.doc_") then names[#names + 1] = name end
  end
  table.sort(names)
  for _, name in ipairs(names) do
    local ok, entries = pcall(require, name)
    if ok and type(entries) == "table" then help.add(entries) end
  end
end

local function the_module()
  local A = package.loaded.actrun
  if type(A) ~= "table" then A = rawget(_G, "actrun") end
  return type(A) == "table" and A or nil
end

-- Method names of the tensor type: the metatable's __methods (a list of names or a
-- name -> function table) and the keys of an __index table.
local function tensor_methods(A)
  local ok, t = pcall(A.zeros, 1)
  if not ok then return nil end
  local mt = getmetatable(t)
  if type(mt) ~= "table" then return nil end
  local names, seen = {}, {}
  local function add(n)
    if type(n) == "string" and not seen[n] and not n:match("^__") then
      seen[n] = true
      names[#names + 1] = n
    end
  end
  if type(mt.__methods) == "table" then
    for k, v in pairs(mt.__methods) do add(type(k) == "string" and k or v) end
  end
  if type(mt.__index) == "table" then
    for k in pairs(mt.__index) do add(k) end
  end
  table.sort(names)
  return t, names
end

-- value -> {names...}: the actrun table and its loaded submodules (walked raw, so
-- nothing loads), the tensor methods, and help itself.
local function value_names()
  if map then return map end
  map = setmetatable({}, {__mode = "k"})
  local function note(v, name)
    local tv = type(v)
    if tv ~= "function" and tv ~= "table" and tv ~= "userdata" then return end
    local l = map[v]
    if not l then
      l = {}
      map[v] = l
    end
    l[#l + 1] = name
  end
  local seen = {}
  local function walk(t, prefix, depth)
    if seen[t] then return end
    seen[t] = true
    local keys = {}
    for k in next, t do
      if type(k) == "string" then keys[#keys + 1] = k end
    end
    table.sort(keys)
    for _, k in ipairs(keys) do
      local v = rawget(t, k)
      note(v, prefix .. "." .. k)
      if type(v) == "table" and depth > 0 then walk(v, prefix .. "." .. k, depth - 1) end
    end
  end
  local A = the_module()
  if A then
    note(A, "actrun")
    walk(A, "actrun", 3)
    local mods = {}
    for name, mod in pairs(package.loaded) do
      if type(name) == "string" and name:match("^actrun%.") and type(mod) == "table" then
        mods[#mods + 1] = name
      end
    end
    table.sort(mods)
    for _, name in ipairs(mods) do
      note(package.loaded[name], name)
      walk(package.loaded[name], name, 2)
    end
    local t, names = tensor_methods(A)
    for _, n in ipairs(names or {}) do
      local ok, f = pcall(function() return t[n] end)
      if ok then note(f, "Tensor:" .. n) end
    end
  end
  note(help, "help")
  return map
end

local function is_tensor(x)
  local A = the_module()
  if not (A and type(A.is_tensor) == "function") then return false end
  local ok, r = pcall(A.is_tensor, x)
  return ok and r == true
end

-- The doc keys whose last part is `short` ("gelu" -> actrun.act.gelu), or that end in
-- the dotted tail `short` ("act.gelu", "nn.Linear"), shortest first.
local function suffix_matches(short, fold)
  local hits = {}
  local want = fold and short:lower() or short
  for _, k in ipairs(order) do
    local kk = fold and k:lower() or k
    if #kk > #want and kk:sub(-#want) == want then
      local c = kk:sub(-#want - 1, -#want - 1)
      if c == "." or c == ":" then hits[#hits + 1] = k end
    end
  end
  table.sort(hits, function(a, b)
    if #a ~= #b then return #a < #b end
    return a < b
  end)
  return hits
end

-- The doc key for a name: exact, then with "actrun." or "Tensor:" in front, and
-- "Tensor.m" / "t:m" for a method m; then a short name or dotted tail ("gelu",
-- "act.gelu"), case-insensitively last, then a part of exactly one name ("kaiming_u").
-- The third result lists the other names a short name matches.
local function key_for_name(s)
  s = s:match("^%s*(.-)%s*$")
  local tries = {s, "actrun." .. s, "Tensor:" .. s}
  local obj, m = s:match("^([%a_][%w_]*)[:.]([%a_][%w_]*)$")
  if obj then tries[#tries + 1] = "Tensor:" .. m end
  if s:match("^actrun%.Tensor[:.]") then tries[#tries + 1] = "Tensor:" .. s:sub(15) end
  for _, k in ipairs(tries) do
    if docs[k] then return k end
  end
  if s ~= "" then
    for _, fold in ipairs{false, true} do
      local hits = suffix_matches(s, fold)
      if #hits > 0 then return hits[1], nil, {table.unpack(hits, 2)} end
    end
    local hits = help.search(s) -- a part of one name only: that name
    if #hits == 1 then return hits[1] end
  end
  return nil, s
end

-- Edit distance of a and b (insertions, deletions, substitutions and transpositions of
-- neighbours: "nrom" is 1 from "norm"), giving up (returning limit + 1) once every entry
-- of a row exceeds limit.
local function distance(a, b, limit)
  if math.abs(#a - #b) > limit then return limit + 1 end
  local prev2, prev = nil, {}
  for j = 0, #b do prev[j] = j end
  for i = 1, #a do
    local cur, best = {[0] = i}, i
    local ca = a:byte(i)
    for j = 1, #b do
      local cb = b:byte(j)
      local v = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca == cb and 0 or 1))
      if prev2 and i > 1 and j > 1 and ca == b:byte(j - 1) and a:byte(i - 1) == cb then
        v = math.min(v, prev2[j - 2] + 1)
      end
      cur[j] = v
      if v < best then best = v end
    end
    if best > limit then return limit + 1 end
    prev2, prev = prev, cur
  end
  return prev[#b]
end

-- Documented names that contain s (case-insensitively), in the overview's order.
function help.search(s)
  load_extras()
  if type(s) ~= "string" then
    error("actrun.help.search: argument #1 expected a string, got " .. type(s), 2)
  end
  local want, hits = s:lower(), {}
  for _, k in ipairs(order) do
    if k:lower():find(want, 1, true) then hits[#hits + 1] = k end
  end
  return hits
end

-- The documented names nearest to s by edit distance (of the whole name or its last
-- part), at most `max` of them.
function help.suggest(s, max)
  load_extras()
  max = max or 5
  local want = s:lower()
  local limit = math.max(1, #want // 3)
  local scored = {}
  for _, k in ipairs(order) do
    local short = k:match("([^.:]+)$") or k
    local d = math.min(distance(want, k:lower(), limit), distance(want, short:lower(), limit))
    if d <= limit then scored[#scored + 1] = {k, d} end
  end
  table.sort(scored, function(a, b)
    if a[2] ~= b[2] then return a[2] < b[2] end
    if #a[1] ~= #b[1] then return #a[1] < #b[1] end
    return a[1] < b[1]
  end)
  local out = {}
  for i = 1, math.min(max, #scored) do out[i] = scored[i][1] end
  return out
end

-- The signature line of a name's documentation.
local function first_line(k)
  return (docs[k]:match("^[^\n]*"))
end

-- apropos(s): the documented names containing s, or whose documentation mentions it,
-- each with its signature line; the text, or nil and a message when nothing matches.
function help.apropos_text(s)
  load_extras()
  if type(s) ~= "string" or s == "" then
    error("actrun.help.apropos: argument #1 expected a non-empty string, got " ..
      (type(s) == "string" and "an empty string" or type(s)), 2)
  end
  local want, lines, seen = s:lower(), {}, {}
  for pass = 1, 2 do
    for _, k in ipairs(order) do
      if not seen[k] then
        local hay = pass == 1 and k:lower() or docs[k]:lower()
        if hay:find(want, 1, true) then
          seen[k] = true
          local sig = first_line(k)
          if sig:find(k, 1, true) == 1 then sig = sig:sub(#k + 1):match("^%s*(.*)") end
          lines[#lines + 1] = ("%-28s %s"):format(k, sig)
        end
      end
    end
  end
  if #lines == 0 then return nil, ("nothing documented mentions '%s'"):format(s) end
  return table.concat(lines, "\n")
end

function help.apropos(s)
  local text, err = help.apropos_text(s)
  print(text or err)
end

-- A name for an undocumented value, to say what has no documentation: a global or a
-- field of a global table (print, string.format, a user's function).
local function global_name(x)
  for k, v in next, _G do
    if v == x and type(k) == "string" then return k end
  end
  for k, t in next, _G do
    if type(k) == "string" and type(t) == "table" and t ~= _G then
      for f, v in next, t do
        if v == x and type(f) == "string" then return k .. "." .. f end
      end
    end
  end
  return nil
end

-- Returns the doc key of x, or nil and the best name to report.
local function resolve(x)
  load_extras()
  if type(x) == "string" then return key_for_name(x) end
  if is_tensor(x) then return "Tensor" end
  for pass = 1, 2 do
    local names = value_names()[x]
    if names then
      for _, n in ipairs(names) do
        if docs[n] then return n end
      end
      if pass == 2 then return nil, names[1] end
    end
    map = nil -- modules loaded since the map was built: look again once
  end
  return nil, global_name(x) or tostring(x)
end

local function wrap(words, indent, width)
  local lines, line = {}, indent
  for _, w in ipairs(words) do
    if #line > #indent and #line + 1 + #w > width then
      lines[#lines + 1] = line
      line = indent
    end
    line = line .. (#line > #indent and " " or "") .. w
  end
  if #line > #indent then lines[#lines + 1] = line end
  return table.concat(lines, "\n")
end

-- The overview: every documented name, grouped by prefix.
function help.overview()
  load_extras()
  local groups, titles, gorder = {}, {}, {}
  for _, s in ipairs(help.sections) do
    titles[s.prefix] = s.title
    gorder[#gorder + 1] = s.prefix
    groups[s.prefix] = {}
  end
  local extra = {}
  for _, name in ipairs(order) do
    if name ~= "actrun" and name ~= "Tensor" then
      local prefix, short = name:match("^(.*[.:])([^.:]+)$")
      if not prefix then prefix, short = "", name end
      if not groups[prefix] then
        groups[prefix] = {}
        extra[#extra + 1] = prefix
      end
      table.insert(groups[prefix], short)
    end
  end
  table.sort(extra)
  for _, p in ipairs(extra) do gorder[#gorder + 1] = p end
  local A = the_module()
  local out = {
    ("actrun %s: a Lua DSL for neural-network activation experiments."):format(
      A and A.version or "?"),
    "help(x) or ?x documents a value or a name: help(actrun.zeros), ?t:sum, ?Tensor,",
    "?actrun (the module), ?repl; short names work (?gelu); apropos(\"word\") searches.",
  }
  for _, p in ipairs(gorder) do
    if #groups[p] > 0 then
      out[#out + 1] = ""
      out[#out + 1] = (titles[p] or (p:sub(1, -2) .. " (" .. p .. "NAME)")) .. ":"
      out[#out + 1] = wrap(groups[p], "  ", 78)
    end
  end
  return table.concat(out, "\n")
end

-- The documentation text of x (a value or a name), or nil and "no documentation for X".
function help.text(x)
  if x == nil then return help.overview() end
  local key, name, others = resolve(x)
  if key then
    if others and #others > 0 then
      return docs[key] .. "\n(also: " .. table.concat(others, ", ") .. ")"
    end
    return docs[key]
  end
  local msg = "no documentation for " .. tostring(name)
  if type(x) == "string" and name ~= "" then
    local hits = help.search(name)
    if #hits > 0 and #hits <= 12 then
      msg = msg .. "\nnames containing '" .. name .. "': " .. table.concat(hits, ", ")
    elseif #hits > 12 then
      msg = msg .. ("\n%d names contain '%s' (apropos(\"%s\") lists them)"):format(#hits,
        name, name)
    else
      local near = help.suggest(name)
      if #near > 0 then msg = msg .. "\ndid you mean: " .. table.concat(near, ", ") .. "?" end
    end
  end
  return nil, msg
end

setmetatable(help, {
  __call = function(_, ...)
    if select("#", ...) == 0 then
      print(help.overview())
      return
    end
    local text, err = help.text((...))
    print(text or err)
  end,
})

return help
