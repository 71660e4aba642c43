-- actrun.conv2d and actrun.max_pool2d: against PyTorch (tests/fixtures/conv_torch.lua,
-- made by tests/fixtures/gen_conv.py), finite differences, thread-count independence,
-- no_grad, non-contiguous inputs and error messages.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local T = require "testlib"
local actrun = T.actrun

local dir = (arg[0]:match("^(.*)/") or ".") .. "/../fixtures/"
local F = dofile(dir .. "conv_torch.lua")

local function from(flat, shape, rg)
  local t = actrun.tensor(flat):view(shape)
  if rg then t = t:detach() t.requires_grad = true end
  return t
end

-- max |got - want| / (1 + |want|) over all elements, as the flat lists
local function check(what, got, want, tol)
  local _, vals = T.tensor_values(got)
  T.eq(#vals, #want, what .. ": element count")
  local worst, at = 0, 1
  for i = 1, #want do
    local e = math.abs(vals[i] - want[i]) / (1 + math.abs(want[i]))
    if e > worst or e ~= e then worst, at = e, i end
  end
  if not (worst <= tol) then
    T.fail(string.format("%s: max error %.3g at element %d (ours %.9g, torch %.9g)", what, worst,
      at, vals[at], want[at]), 2)
  end
end

for _, c in ipairs(F.conv) do
  T.test("conv2d matches PyTorch: " .. c.name, function()
    local x = from(c.x, c.xshape, true)
    local w = from(c.w, c.wshape, true)
    local b = c.b and from(c.b, {#c.b}, true)
    local y = actrun.conv2d(x, w, b, {stride = c.stride, padding = c.padding})
    T.eq(y:shape(), c.yshape, "output shape")
    check("y", y, c.y, 1e-5)
    local g = from(c.g, c.yshape)
    ;(y * g):sum():backward()
    check("dx", x.grad, c.dx, 1e-5)
    check("dw", w.grad, c.dw, 1e-5)
    if b then check("db", b.grad, c.db, 1e-5) end
  end)
end

for _, c in ipairs(F.pool) do
  T.test("max_pool2d matches PyTorch: " .. c.name, function()
    local x = from(c.x, c.xshape, true)
    local y = actrun.max_pool2d(x, c.k, {stride = c.stride, padding = c.padding})
    T.eq(y:shape(), c.yshape, "output shape")
    check("y", y, c.y, 1e-7)
    local g = from(c.g, c.yshape)
    ;(y * g):sum():backward()
    -- ties: the gradient goes to the first maximum, exactly where PyTorch puts it
    check("dx", x.grad, c.dx, 1e-6)
  end)
end

T.test("stride and padding given as numbers equal the pair form", function()
  actrun.manual_seed(3)
  local x, w = actrun.randn(2, 3, 9, 8), actrun.randn(5, 3, 3, 3)
  local a = actrun.conv2d(x, w, nil, {stride = 2, padding = 1})
  local b = actrun.conv2d(x, w, {stride = {2, 2}, padding = {1, 1}})
  T.eq(a:totable(), b:totable())
  local p = actrun.max_pool2d(x, 3, 2)
  local q = actrun.max_pool2d(x, {3, 3}, {stride = {2, 2}})
  T.eq(p:totable(), q:totable())
  T.eq(actrun.max_pool2d(x, 2):shape(), {2, 3, 4, 4}, "stride defaults to the kernel size")
end)

T.test("conv2d of a tiny case by hand (cross-correlation, zero padding, bias)", function()
  local x = actrun.tensor{{{{1, 2}, {3, 4}}}}           -- {1,1,2,2}
  local w = actrun.tensor{{{{1, 0}, {0, -1}}}}           -- {1,1,2,2}
  local y = actrun.conv2d(x, w, actrun.tensor{10}, {padding = 1})
  -- padded x: rows 0 0 0 0 / 0 1 2 0 / 0 3 4 0 / 0 0 0 0; y = x[i][j] - x[i+1][j+1] + 10
  T.tensor_near(y, {{{{10 - 1, 10 - 2, 10}, {10 - 3, 10 + 1 - 4, 10 + 2}, {10, 10 + 3, 10 + 4}}}})
end)

T.test("gradcheck: conv2d with stride, padding and bias", function()
  actrun.manual_seed(7)
  local x = actrun.randn(2, 2, 5, 4):detach()
  x.requires_grad = true
  local w = actrun.randn(3, 2, 3, 2):detach()
  w.requires_grad = true
  local b = actrun.randn(3):detach()
  b.requires_grad = true
  local g = actrun.randn(2, 3, 3, 5)
  local ok, err = actrun.lab.gradcheck(function(x, w, b)
    return (actrun.conv2d(x, w, b, {stride = {2, 1}, padding = 1}) * g):sum()
  end, {x, w, b})
  T.truthy(ok, "gradcheck failed, max error " .. tostring(err))
end)

T.test("gradcheck: max_pool2d with overlapping windows and padding", function()
  -- distinct values, well separated, so central differences never cross a tie
  local x = (actrun.range(1, 2 * 2 * 5 * 6) * 0.37):sin():mul(3):view(2, 2, 5, 6):detach()
  x.requires_grad = true
  local g = actrun.randn(2, 2, 3, 6)
  local ok, err = actrun.lab.gradcheck(function(x)
    return (actrun.max_pool2d(x, 3, {stride = {2, 1}, padding = 1}) * g):sum()
  end, {x})
  T.truthy(ok, "gradcheck failed, max error " .. tostring(err))
end)

T.test("conv -> relu -> pool chain trains: gradients reach every parameter", function()
  actrun.manual_seed(11)
  local x = actrun.randn(4, 1, 12, 12)
  local w1 = (actrun.randn(6, 1, 5, 5) * 0.2):detach()
  w1.requires_grad = true
  local w2 = (actrun.randn(8, 6, 3, 3) * 0.2):detach()
  w2.requires_grad = true
  local h = actrun.max_pool2d(actrun.act.relu(actrun.conv2d(x, w1, nil, {padding = 2})), 2)
  local y = actrun.max_pool2d(actrun.act.relu(actrun.conv2d(h, w2, nil, {padding = 1})), 2)
  T.eq(y:shape(), {4, 8, 3, 3})
  y:sum():backward()
  T.eq(w1.grad:shape(), {6, 1, 5, 5})
  T.truthy(w1.grad:abs():sum():item() > 0, "w1 gets a gradient")
  T.truthy(w2.grad:abs():sum():item() > 0, "w2 gets a gradient")
end)

T.test("results do not depend on the thread count (bitwise)", function()
  local threads = actrun.get_num_threads()
  local function run(n)
    actrun.set_num_threads(n)
    actrun.manual_seed(5)
    local x = actrun.randn(37, 3, 11, 9):detach()
    x.requires_grad = true
    local w = actrun.randn(6, 3, 3, 3):detach()
    w.requires_grad = true
    local b = actrun.randn(6):detach()
    b.requires_grad = true
    local y = actrun.conv2d(x, w, b, {padding = 1, stride = {1, 2}})
    local p = actrun.max_pool2d(y, 2)
    local g = actrun.randn(p:shape())
    ;(p * g):sum():backward()
    return {y:totable(), x.grad:totable(), w.grad:totable(), b.grad:totable()}
  end
  local one = run(1)
  local four = run(4)
  actrun.set_num_threads(threads)
  for i, what in ipairs{"y", "dx", "dw", "db"} do T.eq(four[i], one[i], what) end
  -- one big image: no batch to spread, OpenBLAS's own threads take the product
  local function single(n)
    actrun.set_num_threads(n)
    actrun.manual_seed(6)
    local x = actrun.randn(1, 8, 40, 40):detach()
    x.requires_grad = true
    local w = actrun.randn(16, 8, 3, 3):detach()
    w.requires_grad = true
    local y = actrun.conv2d(x, w, nil, {padding = 1})
    ;(y * actrun.randn(y:shape())):sum():backward()
    return {y:totable(), x.grad:totable(), w.grad:totable()}
  end
  local s1, s2 = single(1), single(2)
  actrun.set_num_threads(threads)
  for i, what in ipairs{"y", "dx", "dw"} do T.eq(s2[i], s1[i], "single image " .. what) end
end)

-- Awkward shapes (outputs not a multiple of the kernels' tiles, odd channel counts, one
-- image or a few): every product must be cut the same way at 1 and 2 threads.
T.test("awkward shapes: 1 and 2 threads give the same bits (y, dx, dw, db)", function()
  local threads = actrun.get_num_threads()
  local cases = { -- N, Cin, H, W, O, k, padding, stride
    {1, 8, 40, 40, 16, 3, 1, 1}, {1, 3, 37, 41, 7, 3, 1, 1}, {1, 5, 33, 29, 13, 5, 2, 1},
    {1, 16, 28, 28, 33, 5, 2, 1}, {1, 64, 17, 19, 33, 1, 0, 1}, {1, 3, 64, 61, 17, 3, 1, 2},
    {2, 9, 31, 23, 15, 3, 1, 1}, {3, 7, 23, 31, 9, 3, 1, 2},
  }
  local function run(n, c)
    actrun.set_num_threads(n)
    actrun.manual_seed(11)
    local N, Cin, H, W, O, k, pad, stride = table.unpack(c)
    local x = actrun.randn(N, Cin, H, W):detach()
    x.requires_grad = true
    local w = actrun.randn(O, Cin, k, k):detach()
    w.requires_grad = true
    local b = actrun.randn(O):detach()
    b.requires_grad = true
    local y = actrun.conv2d(x, w, b, {padding = pad, stride = stride})
    ;(y * actrun.randn(y:shape())):sum():backward()
    return {y:totable(), x.grad:totable(), w.grad:totable(), b.grad:totable()}
  end
  for _, c in ipairs(cases) do
    local one, two = run(1, c), run(2, c)
    for i, what in ipairs{"y", "dx", "dw", "db"} do
      T.eq(two[i], one[i], table.concat(c, ",") .. " " .. what)
    end
  end
  actrun.set_num_threads(threads)
end)

T.test("non-contiguous inputs give the same results as contiguous ones", function()
  actrun.manual_seed(9)
  local xc = actrun.randn(2, 3, 6, 7)
  local xt = xc:transpose(3, 4):contiguous():transpose(3, 4) -- same values, strided
  T.truthy(not xt:is_contiguous(), "the view is strided")
  local wc = actrun.randn(4, 3, 2, 3)
  local wt = wc:transpose(1, 2):contiguous():transpose(1, 2)
  local bc = actrun.randn(8):narrow(1, 1, 4)
  local a = actrun.conv2d(xc, wc, bc:contiguous(), {padding = 1})
  local b = actrun.conv2d(xt, wt, bc, {padding = 1})
  T.eq(b:totable(), a:totable())
  T.eq(actrun.max_pool2d(xt, 2):totable(), actrun.max_pool2d(xc, 2):totable())
  -- an expanded (stride 0) gradient reaches the backward kernels too
  local x = actrun.randn(2, 3, 6, 7):detach()
  x.requires_grad = true
  actrun.conv2d(x, wc):sum():backward()
  T.eq(x.grad:shape(), {2, 3, 6, 7})
end)

T.test("no_grad: no graph is recorded", function()
  local x = actrun.randn(1, 1, 5, 5):detach()
  x.requires_grad = true
  local w = actrun.randn(1, 1, 3, 3):detach()
  w.requires_grad = true
  local y, p = actrun.no_grad(function()
    return actrun.conv2d(x, w), actrun.max_pool2d(x, 2)
  end)
  T.eq(y.requires_grad, false)
  T.eq(p.requires_grad, false)
  T.expect_error(function() y:sum():backward() end, "does not require grad")
  local z = actrun.conv2d(x, w)
  T.eq(z.requires_grad, true)
end)

T.test("only the inputs that require grad get gradients", function()
  local x = actrun.randn(2, 2, 5, 5)
  local w = actrun.randn(3, 2, 3, 3):detach()
  w.requires_grad = true
  local b = actrun.zeros(3)
  actrun.conv2d(x, w, b):sum():backward()
  T.eq(x.grad, nil)
  T.eq(b.grad, nil)
  T.eq(w.grad:shape(), {3, 2, 3, 3})
  -- the bias alone
  local b2 = actrun.zeros(3):detach()
  b2.requires_grad = true
  local g = actrun.randn(2, 3, 3, 3)
  ;(actrun.conv2d(x, w:detach(), b2) * g):sum():backward()
  T.tensor_near(b2.grad, g:sum(4):sum(3):sum(1), 1e-5)
end)

T.test("empty batch", function()
  local y = actrun.conv2d(actrun.zeros(0, 2, 5, 5), actrun.zeros(3, 2, 3, 3), actrun.zeros(3))
  T.eq(y:shape(), {0, 3, 3, 3})
  T.eq(actrun.max_pool2d(actrun.zeros(0, 2, 4, 4), 2):shape(), {0, 2, 2, 2})
end)

T.test("conv2d errors name the function and the problem", function()
  local x, w = actrun.zeros(1, 3, 5, 5), actrun.zeros(2, 3, 3, 3)
  T.expect_error(function() actrun.conv2d(actrun.zeros(3, 4), w) end,
    "actrun.conv2d: input must be 4-D {N,C,H,W}, got shape {3,4}")
  T.expect_error(function() actrun.conv2d(x, actrun.zeros(2, 3, 3)) end,
    "actrun.conv2d: weight must be 4-D", "got shape {2,3,3}")
  T.expect_error(function() actrun.conv2d(x, actrun.zeros(2, 1, 3, 3)) end,
    "actrun.conv2d: input has 3 channels but weight expects 1")
  T.expect_error(function() actrun.conv2d(actrun.zeros(1, 3, 2, 2), w) end,
    "actrun.conv2d: kernel 3x3 is larger than the padded input 2x2")
  T.expect_error(function() actrun.conv2d(x, w, nil, {stride = 0}) end,
    "actrun.conv2d: stride must be positive, got {0,0}")
  T.expect_error(function() actrun.conv2d(x, w, nil, {stride = {1, -2}}) end,
    "stride must be positive")
  T.expect_error(function() actrun.conv2d(x, w, nil, {padding = -1}) end,
    "actrun.conv2d: padding must be >= 0")
  T.expect_error(function() actrun.conv2d(x, w, actrun.zeros(3)) end,
    "actrun.conv2d: bias must have shape {2}", "got {3}")
  T.expect_error(function() actrun.conv2d(x, w, actrun.zeros(2, 1)) end,
    "bias must have shape {2}")
  T.expect_error(function() actrun.conv2d(x, w, 5) end,
    "actrun.conv2d: argument #3 (bias) expected a tensor, nil or an options table, got 5")
  T.expect_error(function() actrun.conv2d(x, w, nil, {strid = 2}) end,
    "actrun.conv2d: unknown option 'strid' (options: stride, padding)")
  T.expect_error(function() actrun.conv2d(x, w, nil, {stride = 1.5}) end,
    "actrun.conv2d: stride must be an integer")
  T.expect_error(function() actrun.conv2d(x, w, nil, {stride = 1e30}) end,
    "actrun.conv2d: stride must be an integer")
  T.expect_error(function() actrun.conv2d(x, w, nil, {stride = {1, 0.5}}) end,
    "actrun.conv2d: stride must be an integer or a pair", "non-integer")
  T.expect_error(function() actrun.conv2d(x, w, nil, {padding = 1 << 40}) end,
    "actrun.conv2d: stride and padding must be below 2^31")
  T.expect_error(function() actrun.max_pool2d(x, 1 << 40) end,
    "actrun.max_pool2d: kernel size must be below 2^31")
  T.expect_error(function() actrun.conv2d(x, w, nil, {padding = {1, 2, 3}}) end,
    "actrun.conv2d: padding must be an integer or a pair")
  T.expect_error(function() actrun.conv2d(x, w, nil, "big") end,
    "actrun.conv2d: argument #4 (options) expected a table")
  T.expect_error(function() actrun.conv2d("x", w) end,
    "actrun.conv2d: argument #1 (input) expected a tensor")
  T.expect_error(function() actrun.conv2d(x) end,
    "actrun.conv2d: argument #2 (weight) expected a tensor")
end)

T.test("max_pool2d errors name the function and the problem", function()
  local x = actrun.zeros(1, 2, 4, 4)
  T.expect_error(function() actrun.max_pool2d(actrun.zeros(2, 4, 4), 2) end,
    "actrun.max_pool2d: input must be 4-D {N,C,H,W}, got shape {2,4,4}")
  T.expect_error(function() actrun.max_pool2d(x, 0) end,
    "actrun.max_pool2d: kernel size must be positive")
  T.expect_error(function() actrun.max_pool2d(x) end,
    "actrun.max_pool2d: argument #2 (kernel_size) expected an integer or a pair")
  T.expect_error(function() actrun.max_pool2d(x, 5) end,
    "actrun.max_pool2d: kernel 5x5 is larger than the padded input 4x4")
  T.expect_error(function() actrun.max_pool2d(x, 2, {stride = 0}) end,
    "actrun.max_pool2d: stride must be positive")
  T.expect_error(function() actrun.max_pool2d(x, 2, {padding = 2}) end,
    "actrun.max_pool2d: padding {2,2} must be at most half the kernel size {2,2}")
  T.expect_error(function() actrun.max_pool2d(x, 2, {size = 2}) end,
    "actrun.max_pool2d: unknown option 'size'")
  T.expect_error(function() actrun.max_pool2d(x, "2") end,
    "actrun.max_pool2d: kernel_size must be an integer or a pair", "got string")
end)

T.test("help entries for conv2d, max_pool2d, nn.save and nn.load", function()
  local help = require "actrun.help"
  T.truthy((help.text(actrun.conv2d) or ""):find("actrun.conv2d(x, w [, b]", 1, true), "conv2d")
  T.truthy((help.text(actrun.max_pool2d) or ""):find("actrun.max_pool2d(x, k", 1, true), "max_pool2d")
  T.truthy((help.text(actrun.nn.save) or ""):find("actrun.nn.save(path", 1, true), "nn.save")
  T.truthy((help.text(actrun.nn.load) or ""):find("actrun.nn.load(path", 1, true), "nn.load")
end)

T.done()
