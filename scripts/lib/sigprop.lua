-- Shared by the signal-propagation scripts (edge_of_chaos.lua, dynamical_isometry.lua,
-- and the theory lines of vanishing_gradients.lua and init_amplitude.lua): the mean-field
-- theory when this build has it, the data with its fallback, and MLPs initialised with
-- weight variance sigma_w2 / fan_in (Gaussian or scaled orthogonal) and N(0, sigma_b2)
-- biases. Loaded with dofile, relative to the script, like cli.lua.
local A = rawget(_G, "actrun") or require "actrun"
local nn, data = A.nn, A.data

local S = {}

-- act.propagation / act.edge_of_chaos when present (they come with the theory of signal
-- propagation; older builds measure only), else nil.
local function theory_fn(key)
  local f = rawget(A.act, key)
  if f == nil then
    local ok, v = pcall(function() return A.act[key] end)
    if ok then f = v end
  end
  return type(f) == "function" and f or nil
end
function S.has_theory() return theory_fn("propagation") ~= nil end

-- {q_star=, chi1=, xi_q=, xi_c=, phase=} or nil (no theory, or it failed for this input)
function S.propagation(name, sigma_w2, sigma_b2)
  local f = theory_fn("propagation")
  if not f then return nil end
  local ok, r = pcall(f, name, {sigma_w2 = sigma_w2, sigma_b2 = sigma_b2 or 0})
  if ok and type(r) == "table" then return r end
  return nil
end

-- The critical sigma_w2 (chi1 = 1) of an activation at sigma_b2, and where it came from:
-- act.edge_of_chaos when present; else the cases known in closed form at sigma_b2 = 0
-- (tanh: q* = 0 and tanh'(0)^2 = 1, so 1; relu: chi1 = sigma_w2 / 2 at every q, so 2).
function S.critical(name, sigma_b2)
  local f = theory_fn("edge_of_chaos")
  if f then
    local ok, w2 = pcall(f, name, {sigma_b2 = sigma_b2 or 0})
    if ok and type(w2) == "number" then return w2, "act.edge_of_chaos" end
  end
  if (sigma_b2 or 0) == 0 then
    if name == "tanh" then return 1, "closed form (tanh at sigma_b2 = 0)" end
  end
  if name == "relu" then return 2, "closed form (relu: chi1 = sigma_w2 / 2)" end
  return nil, "unknown without act.edge_of_chaos"
end

-- Training and test sets: Fashion-MNIST (the first n_train / n_test images), else the
-- built-in 3-class spirals. Returns Xtr, ytr, Xte, yte, a description.
function S.load(n_train, n_test)
  local ok, Xtr, ytr = pcall(data.fashion_mnist, {split = "train", limit = n_train})
  if ok then
    local Xte, yte = data.fashion_mnist{split = "test", limit = n_test}
    return Xtr, ytr, Xte, yte, ("Fashion-MNIST, %d training and %d test images"):format(
      Xtr:size(1), Xte:size(1))
  end
  io.stderr:write("Fashion-MNIST not found (", (tostring(Xtr):gsub("^.-actrun", "actrun")), ")\n",
    "Install it with: apt-get install dataset-fashion-mnist (or set ACTRUN_DATA).\n",
    "Falling back to a synthetic task: 3-class spirals.\n")
  local X, y = data.spirals{n = n_train, classes = 3, noise = 0.05, seed = 1}
  local Xte, yte = data.spirals{n = n_test, classes = 3, noise = 0.05, seed = 2}
  return X, y, Xte, yte, ("spirals, %d training and %d test points"):format(n_train, n_test)
end

-- An MLP in -> width (depth hidden layers, each followed by act) -> classes, every Linear
-- drawn with weight variance sigma_w2 / fan_in: N(0, sigma_w2 / fan_in), or a
-- (semi-)orthogonal matrix scaled to the same variance (rows orthonormal times
-- sqrt(sigma_w2) when fan_out <= fan_in, so W W^T = sigma_w2 I); biases N(0, sigma_b2)
-- (zero when sigma_b2 = 0).
function S.mlp(n_in, width, depth, classes, act, init, sigma_w2, sigma_b2)
  local sizes = {n_in}
  for _ = 1, depth do sizes[#sizes + 1] = width end
  sizes[#sizes + 1] = classes
  sizes.activation = act
  local model = nn.mlp(sizes)
  for _, e in ipairs(model:named_modules()) do
    local m = e.module
    if m.weight and m.bias and m.weight:dim() == 2 then
      local fan_out, fan_in = m.weight:size(1), m.weight:size(2)
      A.no_grad(function()
        if init == "orthogonal" then
          nn.init.orthogonal(m.weight, math.sqrt(sigma_w2 * math.max(1, fan_out / fan_in)))
        else
          nn.init.normal(m.weight, 0, math.sqrt(sigma_w2 / fan_in))
        end
        if sigma_b2 > 0 then nn.init.normal(m.bias, 0, math.sqrt(sigma_b2)) else nn.init.zeros(m.bias) end
      end)
    end
  end
  return model
end

return S
