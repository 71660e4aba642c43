-- scripts/activation_cost.lua (claims 3a, 6.3): the table's structure, never its timings
-- (the machine decides those): every activation once, positive finite costs, the kinds.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" ..
    (arg[0]:match("^(.*)/") or ".") .. "/../lua/?.lua;" .. package.path
local T = require "testlib"
local H = require "helpers"
local act = T.actrun.act
local test, eq, truthy = T.test, T.eq, T.truthy

local threads = T.actrun.get_num_threads()
local R = H.dofile_script("scripts/activation_cost.lua", {"--quick", "--size", "4096", "--runs", "1",
  "--threads", "1"})

local function finite_positive(v) return type(v) == "number" and v > 0 and v < math.huge end

test("every act.list() name appears exactly once", function()
  local count = {}
  for _, r in ipairs(R.rows) do count[r.name] = (count[r.name] or 0) + 1 end
  local names = act.list()
  eq(#R.rows, #names)
  for _, n in ipairs(names) do eq(count[n], 1, n) end
end)

test("costs are positive finite numbers, ranked from the cheapest", function()
  for i, r in ipairs(R.rows) do
    for _, k in ipairs{"fwd", "der", "bwd", "total", "fwd_gbs"} do
      truthy(finite_positive(r[k]), r.name .. "." .. k .. " = " .. tostring(r[k]))
    end
    eq(r.rank, i)
    T.near(r.total, r.fwd + r.bwd, 1e-12)
    if i > 1 then truthy(R.rows[i - 1].total <= r.total, "sorted at " .. i) end
    eq(r.family, act.info(r.name).family)
  end
  eq(R.size, 4096)
  eq(R.threads, 1)
  eq(T.actrun.get_num_threads(), threads, "thread count restored")
end)

test("kinds: measured piecewise-linear, formula transcendental, else algebraic", function()
  local kind = {}
  for _, r in ipairs(R.rows) do kind[r.name] = r.kind end
  for _, n in ipairs{"relu", "relu6", "leaky_relu", "prelu", "hardtanh", "hard_sigmoid", "step",
    "identity", "hardshrink", "softshrink", "rrelu"} do
    eq(kind[n], "piecewise-linear", n)
  end
  for _, n in ipairs{"sigmoid", "tanh", "elu", "selu", "gelu", "gelu_tanh", "silu", "mish",
    "softplus", "sin", "gaussian", "tanhshrink"} do
    eq(kind[n], "transcendental", n)
  end
  eq(kind.softsign, "algebraic")
  eq(kind.hardswish, "algebraic")
end)

test("group means are the means of their members", function()
  local total = 0
  for _, g in pairs(R.groups) do
    total = total + g.count
    if g.count > 0 then
      local s = 0
      for _, r in ipairs(R.rows) do
        if r.kind == g.kind then s = s + r.fwd end
      end
      T.near(g.fwd, s / g.count, 1e-9, g.kind)
      truthy(finite_positive(g.median_total), g.kind .. " median")
    end
  end
  eq(total, #R.rows)
end)

test("one round: the verdict line is there, MIXED, and says why", function()
  eq(R.verdict, "MIXED")
  eq(R.ratio.n, 1)
end)

test("interleaved rounds: a verdict from the per-round ratio, with its interval", function()
  local out, err, code = H.run(H.root, "scripts/activation_cost.lua", {"--size", "16384",
    "--big-size", "4096", "--runs", "3", "--names", "relu,leaky_relu,hardtanh,tanh,sigmoid,gelu"})
  eq(code, 0, err)
  local status, reason = out:match("\nverdict: ([%u ]+)\n([^\n]+)\n?$")
  truthy(status == "SUPPORTED" or status == "NOT SUPPORTED" or status == "MIXED", out)
  truthy(reason:find("^3 rounds at 16384 elements %(in cache%): transcendental / piecewise%-linear " ..
    "fwd%+bwd [%d.]+x %[[%d.]+, [%d.]+%]"), reason)
  truthy(reason:find("at 4096 elements %(memory%-bound%)"), reason)
  truthy(out:find("Mean cost per kind", 1, true), out)
  -- the interval decides: SUPPORTED only with its lower end above 1
  local lo, hi = reason:match("fwd%+bwd [%d.]+x %[([%d.]+), ([%d.]+)%]")
  lo, hi = tonumber(lo), tonumber(hi)
  if status == "SUPPORTED" then truthy(lo > 1, reason) end
  if status == "NOT SUPPORTED" then truthy(hi < 1, reason) end
  if status == "MIXED" then truthy(lo <= 1 and hi >= 1, reason) end
end)

test("--names picks (and dedupes) a subset; an unknown name is a usage error", function()
  local out, err, code = H.run(H.root, "scripts/activation_cost.lua",
    {"--size", "1000", "--runs", "1", "--names", "relu,gelu,relu"})
  eq(code, 0, err)
  local _, n = out:gsub("\n +%d+  relu ", "")
  eq(n, 1, out)
  truthy(out:find("\n +%d+  gelu "), out)
  _, err, code = H.run(H.root, "scripts/activation_cost.lua", {"--names", "relu,nope"})
  eq(code, 2)
  truthy(err:find("unknown activation 'nope'"), err)
end)

test("--plot hands plot.line the curves when actrun.plot is there", function()
  local _, specs = H.with_fake_plot(function()
    return H.dofile_script("scripts/activation_cost.lua", {"--quick", "--size", "1000", "--runs", "1", "--names", "relu,tanh,gelu", "--plot", "out.svg"})
  end)
  eq(#specs, 1)
  H.check_line_spec(specs[1], "out.svg", 2)
  eq(#specs[1].series[1].x, 3)
end)

T.done()
