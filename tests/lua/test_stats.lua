-- actrun.lab.stats against scipy (tests/fixtures/stats_scipy.lua, written by
-- tests/fixtures/gen_stats.py), plus the edge cases and argument errors.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local T = require "testlib"
local S = T.actrun.lab.stats
local test, eq, truthy, expect_error = T.test, T.eq, T.truthy, T.expect_error

local here = arg[0]:match("^(.*)/") or "."
local F = dofile(here .. "/../fixtures/stats_scipy.lua")

-- |a - b| <= tol * |b| (+ floor): relative, so that tiny tail probabilities keep their
-- digits (without a floor an expected 0 must be met exactly).
local function rel(actual, expected, tol, what, floor)
  if type(actual) ~= "number" or
      math.abs(actual - expected) > tol * math.abs(expected) + (floor or 0) then
    error(string.format("%s: expected %.17g (relative tol %g), got %s", what, expected, tol,
      T.fmt(actual)), 2)
  end
end

local TOL = 1e-6      -- the statistics (numpy sums in another order, scipy's own t.ppf)
local DIST_TOL = 1e-9 -- the distribution functions themselves

test("actrun.lab.stats is the stats module", function()
  eq(S, require "actrun.stats")
  for _, k in ipairs{"describe", "paired", "holm", "mcnemar", "rank_probabilities", "best_rank_chance", "t_cdf",
      "t_quantile", "normal_cdf", "normal_quantile"} do
    eq(type(S[k]), "function", k)
  end
end)

test("every public function of actrun.lab.stats has a help entry, found by value too", function()
  local help = require "actrun.help"
  local missing = {}
  for k, v in pairs(S) do
    if type(k) == "string" and not k:match("^_") and type(v) == "function" then
      local text = help.text("actrun.lab.stats." .. k)
      if not (text and text == help.text(v)) then missing[#missing + 1] = k end
    end
  end
  table.sort(missing)
  eq(missing, {}, "undocumented")
  truthy(help.text("actrun.lab.stats"), "the module's entry")
end)

test("t_cdf matches scipy.stats.t.cdf", function()
  for _, c in ipairs(F.t_cdf) do
    rel(S.t_cdf(c[1], c[2]), c[3], DIST_TOL, string.format("t_cdf(%g, %g)", c[1], c[2]))
  end
end)

test("t_quantile matches scipy.stats.t.ppf", function()
  for _, c in ipairs(F.t_quantile) do
    local q, what = S.t_quantile(c.p, c.df), string.format("t_quantile(%g, %g)", c.p, c.df)
    -- scipy's ppf itself is good to ~3e-9; its median of t is a rounding error away
    -- from 0, hence the floors
    rel(q, c.scipy_ppf, TOL, what .. " vs t.ppf", 1e-14)
    rel(q, c.ppf, DIST_TOL, what .. " vs t.ppf polished on t.cdf", 1e-14)
  end
end)

test("t_quantile with 1 degree of freedom is the Cauchy quantile -cot(pi p)", function()
  for _, p in ipairs{1e-9, 0.01, 0.2, 0.45, 0.55, 0.9, 0.999} do
    -- (1 - p is exact for p >= 1/2; tan(pi (p - 1/2)) would lose p's digits)
    local q = p < 0.5 and -1 / math.tan(math.pi * p) or 1 / math.tan(math.pi * (1 - p))
    rel(S.t_quantile(p, 1), q, 1e-12, "p " .. p)
  end
end)

test("normal_cdf and normal_quantile match scipy.stats.norm", function()
  for _, c in ipairs(F.normal_cdf) do
    rel(S.normal_cdf(c[1]), c[2], DIST_TOL, string.format("normal_cdf(%g)", c[1]))
  end
  for _, c in ipairs(F.normal_quantile) do
    rel(S.normal_quantile(c[1]), c[2], DIST_TOL, string.format("normal_quantile(%g)", c[1]))
  end
end)

test("t_quantile inverts t_cdf", function()
  for _, df in ipairs{1, 2.5, 10, 1e4} do
    for _, p in ipairs{1e-12, 0.01, 0.3, 0.7, 0.99} do
      rel(S.t_cdf(S.t_quantile(p, df), df), p, 1e-12, string.format("p %g df %g", p, df))
    end
  end
end)

test("describe matches numpy and scipy.stats.t.interval", function()
  for _, c in ipairs(F.describe) do
    local r = S.describe(c.list)
    local what = "describe " .. T.fmt(c.list)
    eq(r.n, c.n, what .. " n")
    rel(r.mean, c.mean, TOL, what .. " mean")
    rel(r.sd, c.sd, TOL, what .. " sd")
    rel(r.se, c.se, TOL, what .. " se")
    rel(r.ci95[1], c.ci95[1], TOL, what .. " ci95[1]")
    rel(r.ci95[2], c.ci95[2], TOL, what .. " ci95[2]")
  end
end)

test("describe of one number: sd 0 and the interval is the number", function()
  eq(S.describe{0.25}, {n = 1, mean = 0.25, sd = 0, se = 0, ci95 = {0.25, 0.25}})
end)

-- the fields every paired result shares, whatever the test
local function check_common(r, c, what)
  eq(r.n, c.n, what .. " n")
  rel(r.diff, c.diff, TOL, what .. " diff")
  rel(r.sd, c.sd, TOL, what .. " sd")
  rel(r.ci95[1], c.ci95[1], TOL, what .. " ci95[1]")
  rel(r.ci95[2], c.ci95[2], TOL, what .. " ci95[2]")
  rel(r.mdd, c.mdd, TOL, what .. " mdd")
end

test("paired t matches scipy.stats.ttest_rel", function()
  for _, c in ipairs(F.paired) do
    local r = S.paired(c.a, c.b)
    eq(r.test, "t", c.name)
    check_common(r, c, c.name)
    rel(r.p, c.t_p, TOL, c.name .. " p")
    rel(S.paired(c.a, c.b, {alpha = 0.01}).mdd, c.mdd_alpha01, TOL, c.name .. " mdd alpha 0.01")
  end
end)

test("paired wilcoxon matches scipy (exact where scipy is) or the enumeration", function()
  local sources = {}
  for _, c in ipairs(F.paired) do
    local r = S.paired(c.a, c.b, {test = "wilcoxon"})
    eq(r.test, "wilcoxon", c.name)
    check_common(r, c, c.name)
    rel(r.p, c.wilcoxon_p, TOL, c.name .. " p (" .. c.wilcoxon_source .. ")")
    sources[c.wilcoxon_source] = true
  end
  eq(sources, {["scipy exact"] = true, ["scipy approx"] = true, enumeration = true},
    "the fixtures cover every source")
end)

test("paired permutation matches the exact sign-flip enumeration", function()
  local n = 0
  for _, c in ipairs(F.paired) do
    if c.permutation_p then
      local r = S.paired(c.a, c.b, {test = "permutation"})
      eq(r.test, "permutation", c.name)
      check_common(r, c, c.name)
      rel(r.p, c.permutation_p, TOL, c.name .. " p")
      n = n + 1
    end
  end
  truthy(n >= 8, "exact cases " .. n)
end)

test("permutation above n = 20: a seeded Monte Carlo, the same on every call", function()
  for _, c in ipairs(F.paired) do
    if c.n > 20 then
      local p1 = S.paired(c.a, c.b, {test = "permutation"}).p
      local p2 = S.paired(c.a, c.b, {test = "permutation"}).p
      eq(p1, p2, c.name .. " deterministic")
      truthy(p1 >= 1 / 100001 and p1 <= 1, c.name .. " p in range")
      -- 100000 draws: the estimate is within a few 1e-3 of the exact p, which for
      -- these smooth data is close to the t test's
      truthy(math.abs(p1 - c.t_p) < 0.03, c.name .. " p " .. p1 .. " near t's " .. c.t_p)
    end
  end
  local state = math.random(1 << 30)
  math.randomseed(7)
  local before = math.random()
  math.randomseed(7)
  S.paired(F.paired[#F.paired - 1].a, F.paired[#F.paired - 1].b, {test = "permutation"})
  eq(math.random(), before, "math.random's sequence is left alone")
  math.randomseed(state)
end)

test("identical lists: diff 0, p 1, ci {0, 0} for every test", function()
  local a = {0.91, 0.93, 0.90, 0.92, 0.94}
  for _, t in ipairs{"t", "wilcoxon", "permutation"} do
    local r = S.paired(a, a, {test = t})
    eq(r.diff, 0, t .. " diff")
    eq(r.p, 1, t .. " p")
    eq(r.ci95, {0, 0}, t .. " ci95")
    eq(r.sd, 0, t .. " sd")
    eq(r.mdd, 0, t .. " mdd")
  end
end)

test("wilcoxon at n = 5 cannot go below 0.0625 (2 / 2^5)", function()
  local a, b = {1, 2, 3, 4, 5}, {0, 0, 0, 0, 0}
  eq(S.paired(a, b, {test = "wilcoxon"}).p, 0.0625, "all differences positive")
  eq(S.paired(b, a, {test = "wilcoxon"}).p, 0.0625, "all differences negative")
  -- every sign pattern of five distinct differences
  local lowest = 1
  for mask = 0, 31 do
    local d = {}
    for i = 1, 5 do d[i] = (mask >> (i - 1)) & 1 == 1 and i or -i end
    lowest = math.min(lowest, S.paired(d, b, {test = "wilcoxon"}).p)
  end
  eq(lowest, 0.0625)
end)

test("wilcoxon drops zero differences; all zeros give p 1", function()
  local r1 = S.paired({1, 2, 3, 4, 5, 7}, {0, 0, 0, 0, 0, 7}, {test = "wilcoxon"})
  eq(r1.p, 0.0625, "the zero pair is dropped, n = 5 remain")
  eq(S.paired({3, 3}, {3, 3}, {test = "wilcoxon"}).p, 1)
end)

test("wilcoxon and permutation accept one pair; mdd is nil then", function()
  local r = S.paired({2}, {1}, {test = "wilcoxon"})
  eq(r, {n = 1, diff = 1, sd = 0, ci95 = {1, 1}, p = 1, test = "wilcoxon"})
  eq(S.paired({2}, {1}, {test = "permutation"}).p, 1)
end)

test("holm matches the step-down adjustment", function()
  for _, c in ipairs(F.holm) do
    local adj = S.holm(c[1])
    eq(#adj, #c[2], "length")
    for i = 1, #adj do rel(adj[i], c[2][i], 1e-12, "holm " .. T.fmt(c[1]) .. " [" .. i .. "]") end
  end
  eq(S.holm{}, {})
end)

-- lists with b pairs (a right, b wrong), c pairs (a wrong, b right) and some agreement
local function outcomes(b, c)
  local A, B = {}, {}
  for _ = 1, b do A[#A + 1], B[#B + 1] = true, false end
  for _ = 1, c do A[#A + 1], B[#B + 1] = 0, 1 end
  for _ = 1, 3 do A[#A + 1], B[#B + 1] = 1, true end
  A[#A + 1], B[#B + 1] = false, 0
  return A, B
end

test("mcnemar matches scipy.stats.binomtest", function()
  for _, c in ipairs(F.mcnemar) do
    local r = S.mcnemar(outcomes(c.b, c.c))
    eq(r.b, c.b, "b")
    eq(r.c, c.c, "c")
    rel(r.p, c.p, TOL, string.format("mcnemar b %d c %d", c.b, c.c))
  end
  -- far beyond where 2^n overflows a double: the sum is done in log space
  local p = S.mcnemar(outcomes(50000, 50000)).p
  eq(p, 1)
  local q = S.mcnemar(outcomes(49000, 51000)).p
  truthy(q > 0 and q < 1e-9, "a 2% imbalance over 100000 pairs: p " .. q)
end)

test("rank_probabilities: a seeded bootstrap over the seeds", function()
  local runs = {{0.91, 0.92, 0.90, 0.93}, {0.89, 0.93, 0.88, 0.90}, {0.50, 0.52, 0.51, 0.49}}
  local p = S.rank_probabilities(runs, {B = 500, seed = 3})
  eq(#p, 3)
  rel(p[1] + p[2] + p[3], 1, 1e-12, "sum")
  truthy(p[1] > p[2] and p[3] == 0, "order " .. T.fmt(p))
  eq(S.rank_probabilities(runs, {B = 500, seed = 3}), p, "deterministic")
  local low = S.rank_probabilities(runs, {B = 500, seed = 3, larger = false})
  eq(low[3], 1, "smaller is better")
  eq(S.rank_probabilities({{1, 2}, {1, 2}}), {0.5, 0.5}, "ties split")
end)

test("argument errors name the function and the argument", function()
  expect_error(function() S.paired("x", {1}) end,
    "actrun.lab.stats.paired: argument #1 (a) must be a list of numbers, got string")
  expect_error(function() S.paired({1, 2, 3, 4, 5}, {1, 2, 3, 4}) end,
    "actrun.lab.stats.paired: argument #2 (b) must be a list of numbers of the same length as a (5), got 4")
  expect_error(function() S.paired({1, 0 / 0, 3}, {1, 2, 3}) end,
    "actrun.lab.stats.paired: argument #1 (a)", "element 2 is nan")
  expect_error(function() S.paired({1, 2}, {1, math.huge}) end, "argument #2 (b)", "element 2 is inf")
  expect_error(function() S.paired({1, "2"}, {1, 2}) end, "argument #1 (a)", "element 2 is string")
  expect_error(function() S.paired({1}, {2}) end,
    "actrun.lab.stats.paired: the paired t test needs at least 2 pairs, got 1")
  expect_error(function() S.paired({}, {}, {test = "wilcoxon"}) end, "needs at least 1 pair, got 0")
  expect_error(function() S.paired({1, 2}, {2, 1}, {test = "sign"}) end,
    "actrun.lab.stats.paired: option test must be", "got \"sign\"")
  expect_error(function() S.paired({1, 2}, {2, 1}, {tset = "t"}) end,
    "argument #3 (options) has unknown option 'tset'")
  expect_error(function() S.paired({1, 2}, {2, 1}, {alpha = 1.5}) end,
    "option alpha must be a number in (0, 1), got 1.5")
  expect_error(function() S.describe({}) end, "actrun.lab.stats.describe", "empty list")
  expect_error(function() S.describe(nil) end, "actrun.lab.stats.describe: argument #1 (list)")
  expect_error(function() S.describe(T.actrun.zeros(3)) end, "got a tensor (pass t:totable())")
  expect_error(function() S.holm({0.1, 1.2}) end, "actrun.lab.stats.holm", "element 2 is 1.2")
  expect_error(function() S.holm({0.1, 0 / 0}) end, "actrun.lab.stats.holm", "element 2 is nan")
  expect_error(function() S.mcnemar({true, false}, {true}) end,
    "actrun.lab.stats.mcnemar: argument #2 (b_correct)", "same length as a_correct (2), got 1")
  expect_error(function() S.mcnemar({true, 2}, {true, false}) end, "argument #1 (a_correct)",
    "element 2 is 2")
  expect_error(function() S.t_quantile(1, 3) end, "actrun.lab.stats.t_quantile: argument #1 (p)")
  expect_error(function() S.t_cdf(1, 0) end, "actrun.lab.stats.t_cdf: argument #2 (df)")
  expect_error(function() S.normal_cdf(0 / 0) end, "actrun.lab.stats.normal_cdf: argument #1 (z)")
  expect_error(function() S.rank_probabilities({{1, 2}, {1}}) end,
    "actrun.lab.stats.rank_probabilities: argument #1 (runs[2])", "same length as runs[1] (2), got 1")
  expect_error(function() S.rank_probabilities({{1, 2}}, {B = 0}) end, "option B")
end)

test("errors point at the caller's line", function()
  local msg = expect_error(function() S.paired({1}, {1, 2}) end, "argument #2 (b)")
  truthy(msg:find("test_stats.lua:%d+:"), msg)
  msg = expect_error(function() S.paired({1, 2}, {1, 2}, {test = 1}) end, "option test")
  truthy(msg:find("test_stats.lua:%d+:"), msg)
end)

test("best_rank_chance: the best of k random ranks, against counting every subset", function()
  -- every k-subset of 1..n, counted: the share whose smallest rank is <= r
  local function brute(n, k, r)
    local hits, total = 0, 0
    local function walk(start, left, best)
      if left == 0 then
        total = total + 1
        if best <= r then hits = hits + 1 end
        return
      end
      for i = start, n - left + 1 do walk(i + 1, left - 1, math.min(best, i)) end
    end
    walk(1, k, math.huge)
    return hits / total
  end
  for n = 1, 9 do
    for k = 1, n do
      for r = 1, n do
        local got, want = S.best_rank_chance(n, k, r), brute(n, k, r)
        truthy(math.abs(got - want) < 1e-12, ("n=%d k=%d r=%d: %.15g, counted %.15g"):format(n, k, r, got, want))
      end
    end
  end
  -- the search's case: 9 swish-like units among 2011, the best at rank 49
  truthy(math.abs(S.best_rank_chance(2011, 9, 49) - 0.19945145800314) < 1e-9, "2011, 9, 49")
  expect_error(function() S.best_rank_chance(10, 0, 1) end, "actrun.lab.stats.best_rank_chance", "argument #2 (k)")
  expect_error(function() S.best_rank_chance(10, 2, 11) end, "actrun.lab.stats.best_rank_chance", "argument #3 (r)")
  expect_error(function() S.best_rank_chance(10, 2.5, 1) end, "actrun.lab.stats.best_rank_chance", "whole number")
  expect_error(function() S.best_rank_chance("10", 2, 1) end, "actrun.lab.stats.best_rank_chance", "argument #1 (n)")
end)

T.done()
