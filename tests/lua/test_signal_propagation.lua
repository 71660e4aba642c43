-- actrun.lab.signal_propagation and lab.jacobian_spectrum: measured mean-field quantities
-- on random networks against the theory's numbers, the Jacobian against autograd, the
-- spectra's order as Pennington et al. 2017 report it, and the errors.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local T = require "testlib"
local A = T.actrun
local lab = A.lab
local test, eq, near, truthy, expect_error = T.test, T.eq, T.near, T.truthy, T.expect_error

-- q* of tanh at sigma_w2 = 1.5, sigma_b2 = 0.05: the fixed point of the variance map
-- q -> sigma_w2 E[tanh(sqrt(q) u)^2] + sigma_b2, u ~ N(0,1), iterated from q = 1
-- (Poole et al. 2016, eq. 3), by Gauss-Hermite quadrature with 200 nodes in double
-- precision; it is the value act.propagation("tanh", {sigma_w2 = 1.5, sigma_b2 = 0.05})
-- gives for q_star.
local Q_STAR = 0.418037

test("q at depth 21-30 of a wide random tanh net lands on the theory's q*", function()
  -- Gaussian weights: W^T W / width fluctuates around I (Marchenko-Pastur), so a single
  -- layer's q wanders by several percent; the mean over layers 21..30 and 4 networks does not
  local sum, n = 0, 0
  for seed = 1, 4 do
    local r = lab.signal_propagation{activation = "tanh", depth = 30, width = 512, batch = 256,
      sigma_w2 = 1.5, sigma_b2 = 0.05, seed = seed}
    eq(#r, 30, "one row per layer")
    for l = 21, 30 do
      sum, n = sum + r[l].q, n + 1
    end
  end
  near(sum / n, Q_STAR, 0.05 * Q_STAR, "gaussian: mean q over layers 21-30, 4 seeds")
  -- orthogonal weights keep every input's norm: q at layer 30 itself, one network
  for seed = 1, 2 do
    local r = lab.signal_propagation{activation = "tanh", depth = 30, width = 512, batch = 256,
      sigma_w2 = 1.5, sigma_b2 = 0.05, init = "orthogonal", seed = seed}
    near(r[30].q, Q_STAR, 0.05 * Q_STAR, "orthogonal: q at layer 30, seed " .. seed)
  end
end)

test("the first layer's q and c follow from the inputs; c converges; gradients per chi1", function()
  local r = lab.signal_propagation{activation = "tanh", depth = 20, width = 256, batch = 128,
    sigma_w2 = 1.5, sigma_b2 = 0.05, seed = 3}
  -- q_1 = sigma_w2 * mean(x^2) + sigma_b2 ~ 1.55; c_1 ~ sigma_b2 / q_1 for independent inputs
  near(r[1].q, 1.55, 0.1, "q_1")
  near(r[1].c, 0.05 / 1.55, 0.03, "c_1")
  -- ordered phase (chi1 < 1 at q*; the edge of chaos is near sigma_w2 = 1.76 at this
  -- sigma_b2): c climbs towards c* = 1 at about chi1 per layer
  truthy(r[1].c < r[10].c and r[10].c < r[20].c and r[20].c < 1, "c rises to 1")
  truthy(r[19].chi1 < 1 and r[19].chi1 > 0.85, "chi1 " .. r[19].chi1)
  -- chaotic phase: c settles at a c* < 1, where the c-map's slope chi_c is below 1
  local ch = lab.signal_propagation{activation = "tanh", depth = 20, width = 256, batch = 128,
    sigma_w2 = 4, sigma_b2 = 0.05, seed = 3}
  truthy(ch[19].chi1 > 1, "chaotic chi1 " .. ch[19].chi1)
  truthy(ch[20].c < 0.7, "chaotic c* " .. ch[20].c)
  near(ch[20].c, ch[15].c, 0.05, "c settled")
  truthy(ch[19].chi_c < 1, "chaotic chi_c " .. ch[19].chi_c)
  -- grad_norm^2 grows by about chi1 per layer going back
  local ratio = (r[5].grad_norm / r[15].grad_norm) ^ 2
  local predicted = 1
  for l = 5, 14 do predicted = predicted * r[l].chi1 end
  near(math.log(ratio), math.log(predicted), 0.25, "log grad_norm^2 ratio over 10 layers")
  -- ReLU with sigma_w2 = 2 keeps q (He init), and the backward signal with it
  local rr = lab.signal_propagation{activation = "relu", depth = 20, width = 256, batch = 64,
    sigma_w2 = 2, seed = 3}
  truthy(math.abs(math.log(rr[20].q / rr[1].q, 10)) < 0.5, "relu q_20/q_1 " .. rr[20].q / rr[1].q)
  for _, row in ipairs(rr) do near(row.chi1, 1, 0.1, "relu chi1 at layer " .. row.layer) end
end)

test("deterministic with a seed (and with manual_seed before the call)", function()
  local o = {activation = "tanh", depth = 5, width = 32, batch = 8, sigma_w2 = 1.2, sigma_b2 = 0.1}
  A.manual_seed(7)
  local a = lab.signal_propagation(o)
  o.seed = 7
  local b = lab.signal_propagation(o)
  for l = 1, 5 do
    for _, k in ipairs{"q", "c", "grad_norm", "chi1", "chi_c"} do
      eq(a[l][k], b[l][k], k .. " at layer " .. l)
    end
  end
  local s1 = lab.jacobian_spectrum(o)
  local s2 = lab.jacobian_spectrum(o)
  T.tensor_near(s1, s2, 0, "spectrum")
end)

test("jacobian_spectrum: the SVD of the Jacobian autograd computes row by row", function()
  local n, depth, w2, b2 = 8, 3, 1.7, 0.2
  local s = lab.jacobian_spectrum{activation = "tanh", depth = depth, width = n, sigma_w2 = w2,
    sigma_b2 = b2, seed = 11}
  eq(s:dim(), 1)
  eq(s:numel(), n)
  -- the same network, drawn in the documented order: W then b per layer, then x
  A.manual_seed(11)
  local W, b = {}, {}
  for l = 1, depth do
    W[l] = A.randn(n, n) * math.sqrt(w2 / n)
    b[l] = A.randn(n) * math.sqrt(b2)
  end
  local x0 = A.randn(1, n)
  local J = A.zeros(n, n)
  for i = 1, n do
    local x = x0:clone()
    x.requires_grad = true
    local h = x
    for l = 1, depth do h = (h:matmul(W[l]:t()) + b[l]):tanh() end
    local onehot = A.zeros(1, n)
    onehot[1][i] = 1
    h:backward(onehot)
    J[i] = x.grad:reshape(n)
  end
  T.tensor_near(s, A.linalg_svdvals(J), 1e-4, "singular values")
  for i = 2, n do truthy(s[i - 1] >= s[i], "descending") end
end)

-- the spread of the spectrum: var(s^2) / mean(s^2)^2 (the eigenvalues of J J^T)
local function spread(s)
  local s2 = s:square()
  return s2:var():item() / s2:mean():item() ^ 2
end

test("spectra order as Pennington et al. report: orthogonal critical tanh is nearly isometric", function()
  for seed = 1, 2 do
    local function sp(act, init, w2)
      return spread(lab.jacobian_spectrum{activation = act, init = init, sigma_w2 = w2,
        depth = 32, width = 128, seed = seed})
    end
    local orth = sp("tanh", "orthogonal", 1)
    local gauss = sp("tanh", "normal", 1)
    local relu_g, relu_o = sp("relu", "normal", 2), sp("relu", "orthogonal", 2)
    local why = ("seed %d: orthogonal tanh %.3g, gaussian tanh %.3g, relu %.3g / orthogonal relu %.3g"):format(
      seed, orth, gauss, relu_g, relu_o)
    truthy(orth < 3, why)
    truthy(gauss > 5 * orth, why)
    truthy(relu_g > 5 * orth and relu_o > 5 * orth, why)
  end
end)

test("linalg_svdvals: values, shapes and errors", function()
  T.tensor_near(A.linalg_svdvals(A.tensor({{3, 0}, {4, 5}})), {math.sqrt(45), math.sqrt(5)}, 1e-5)
  eq(A.linalg_svdvals(A.ones(2, 5)):numel(), 2, "wide: min(m, n) values")
  near(A.linalg_svdvals(A.ones(2, 5))[1], math.sqrt(10), 1e-5)
  T.tensor_near(A.linalg_svdvals(A.eye(4)), {1, 1, 1, 1}, 1e-6, "identity")
  expect_error(function() return A.linalg_svdvals(A.ones(3)) end, "actrun.linalg_svdvals",
    "argument #1 (t)", "2-D", "{3}")
  expect_error(function() return A.linalg_svdvals("x") end, "actrun.linalg_svdvals", "argument #1 (t)")
  expect_error(function() return A.linalg_svdvals(A.tensor({{1, 0 / 0}, {0, 1}})) end,
    "actrun.linalg_svdvals", "nan")
end)

test("bad inputs name the function and the argument", function()
  local sp, js = "actrun.lab.signal_propagation", "actrun.lab.jacobian_spectrum"
  for _, c in ipairs{{lab.signal_propagation, sp}, {lab.jacobian_spectrum, js}} do
    local f, name = c[1], c[2]
    expect_error(function() return f() end, name, "argument #1 (options)")
    expect_error(function() return f{sigma_w2 = 1} end, name, "option activation")
    expect_error(function() return f{activation = "nope", sigma_w2 = 1} end, name, "option activation", "nope")
    expect_error(function() return f{activation = "tanh"} end, name, "option sigma_w2", "nil")
    expect_error(function() return f{activation = "tanh", sigma_w2 = -1} end, name, "option sigma_w2")
    expect_error(function() return f{activation = "tanh", sigma_w2 = 1, sigma_b2 = -0.1} end, name, "option sigma_b2")
    expect_error(function() return f{activation = "tanh", sigma_w2 = 1, depth = 0} end, name, "option depth")
    expect_error(function() return f{activation = "tanh", sigma_w2 = 1, width = 2.5} end, name, "option width")
    expect_error(function() return f{activation = "tanh", sigma_w2 = 1, init = "xavier"} end, name,
      "option init", "'xavier'")
    expect_error(function() return f{activation = "tanh", sigma_w2 = 1, seed = 1.5} end, name, "option seed")
    expect_error(function() return f{activation = "tanh", sigma_w2 = 1, bogus = 1} end, name, "unknown option 'bogus'")
  end
  expect_error(function() return lab.signal_propagation{activation = "tanh", sigma_w2 = 1, batch = 1} end,
    sp, "option batch", ">= 2")
  -- errors carry the caller's position
  local msg = expect_error(function() local _ = lab.signal_propagation{activation = "tanh"} end, sp)
  truthy(msg:find("test_signal_propagation.lua:%d+:"), msg)
end)

test("an act.define'd activation works as a built-in one", function()
  A.act.define("sigprop_test_tanh", function(x) return x:tanh() end)
  local a = lab.signal_propagation{activation = "sigprop_test_tanh", depth = 4, width = 32, batch = 8,
    sigma_w2 = 1.5, seed = 2}
  local b = lab.signal_propagation{activation = "tanh", depth = 4, width = 32, batch = 8,
    sigma_w2 = 1.5, seed = 2}
  for l = 1, 4 do
    near(a[l].q, b[l].q, 1e-5)
    near(a[l].grad_norm, b[l].grad_norm, 1e-4 * b[l].grad_norm)
  end
  local s = lab.jacobian_spectrum{activation = "sigprop_test_tanh", depth = 4, width = 16, sigma_w2 = 1, seed = 2}
  T.tensor_near(s, lab.jacobian_spectrum{activation = "tanh", depth = 4, width = 16,
    sigma_w2 = 1, seed = 2}, 1e-5)
end)

T.done()
