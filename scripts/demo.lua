-- A short tour of actrun's tensors (the main job until the activation lab lands):
-- creation, broadcasting, views, reductions, matmul, and a least-squares fit by gradient
-- descent written with whole-tensor ops (every loop over elements runs in C).
-- Usage: actrun scripts/demo.lua [n_samples]
local A = actrun or require "actrun"
local n = tonumber(arg and arg[1]) or 100000

A.manual_seed(1)
print(("actrun %s, %d threads"):format(A.version, A.get_num_threads()))

local x = A.linspace(-3, 3, 7)
print("x = " .. tostring(x))
print("tanh(x) = " .. tostring(x:tanh()))
print("sigmoid(x) = " .. tostring(x:sigmoid()))

-- broadcasting: a {3,1} column against a {4} row gives a {3,4} table
local col, row = A.tensor{{1}, {2}, {3}}, A.range(1, 4)
print("outer sum via broadcasting:\n" .. tostring(col + row))

-- linear regression y = X w + noise, solved by gradient descent on the mean squared error
local d = 8
local w_true = A.randn(d, 1)
local X = A.randn(n, d)
local y = X:matmul(w_true) + A.randn(n, 1) * 0.01
local w = A.zeros(d, 1)
local lr = 0.1
local t0 = A.clock()
for step = 1, 100 do
  local r = X:matmul(w) - y                    -- residuals {n,1}
  local grad = X:t():matmul(r) * (2 / n)       -- d/dw mean(r^2), X^T without a copy
  w = w - grad * lr
  if step % 25 == 0 then
    print(("step %3d  mse %.3e"):format(step, (r ^ 2):mean():item()))
  end
end
local secs = A.clock() - t0
local err = (w - w_true):abs():max():item()
print(("recovered %d weights of a %dx%d problem: max error %.2e in %.3f s"):format(d, n, d, err, secs))
assert(err < 1e-2, "gradient descent did not converge")
