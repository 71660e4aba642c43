-- actrun.lab.stats: the statistics a comparison of activations needs. Runs of two
-- activations on the same seeds are paired (same initial weights, same batches), so
-- the tests here are paired tests on per-seed differences; holm corrects for comparing
-- many activations at once; mcnemar compares two models on the same test examples.
--
-- Pure Lua on plain lists of numbers: a comparison has a handful of seeds, not tensors.
-- The distributions (Student t, normal) are computed here rather than taken from a
-- library so that the binary has no further dependency; they agree with scipy to about
-- 1e-12 relative over the range a comparison uses (tests/lua/test_stats.lua checks 1e-9).

local actrun = require "actrun"
local util = require "actrun.util"

local stats = {}
local fmt = string.format
local exp, log, sqrt, abs, floor = math.exp, math.log, math.sqrt, math.abs, math.floor
local huge, pi = math.huge, math.pi

local PREFIX = "actrun.lab.stats."

---------------------------------------------------------------------------------------
-- Special functions

-- log(1 + x) without the cancellation of log(1 + x) for small x (Lua has no log1p):
-- the rounding of u = 1 + x is undone by the factor x / (u - 1).
local function log1p(x)
  local u = 1 + x
  if u == 1 then return x end
  return log(u) * x / (u - 1)
end

-- log Gamma(x) for x > 0: Lanczos (g = 7, 9 terms), ~1e-15 relative; the reflection is
-- not needed (every argument here is positive).
local LANCZOS = {0.99999999999980993, 676.5203681218851, -1259.1392167224028,
  771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012,
  9.9843695780195716e-6, 1.5056327351493116e-7}
local function lgamma(x)
  if x < 0.5 then
    -- Gamma(x) Gamma(1 - x) = pi / sin(pi x); keeps the series where it is accurate
    return log(pi / abs(math.sin(pi * x))) - lgamma(1 - x)
  end
  x = x - 1
  local a = LANCZOS[1]
  local t = x + 7.5
  for i = 1, 8 do a = a + LANCZOS[i + 1] / (x + i) end
  return 0.5 * log(2 * pi) + (x + 0.5) * log(t) - t + log(a)
end
stats._lgamma = lgamma

-- Continued fraction of the incomplete beta (modified Lentz), converging for
-- x < (a + 1) / (a + b + 2).
local TINY = 1e-300
local function betacf(a, b, x)
  local qab, qap, qam = a + b, a + 1, a - 1
  local c, d = 1, 1 - qab * x / qap
  if abs(d) < TINY then d = TINY end
  d = 1 / d
  local h = d
  for m = 1, 100000 do
    local m2 = 2 * m
    local aa = m * (b - m) * x / ((qam + m2) * (a + m2))
    d = 1 + aa * d
    if abs(d) < TINY then d = TINY end
    c = 1 + aa / c
    if abs(c) < TINY then c = TINY end
    d = 1 / d
    h = h * d * c
    aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
    d = 1 + aa * d
    if abs(d) < TINY then d = TINY end
    c = 1 + aa / c
    if abs(c) < TINY then c = TINY end
    d = 1 / d
    local del = d * c
    h = h * del
    if abs(del - 1) < 1e-16 then return h end
  end
  return h -- not reached for the arguments used here (a, b < 1e9)
end

-- The regularised incomplete beta I_x(a, b) and its complement 1 - I_x(a, b), with
-- y = 1 - x passed in by the caller (who can often form it without cancellation). The
-- one of the pair that the continued fraction gives directly is accurate to full
-- relative precision, also when it is tiny: tail probabilities keep their digits.
local function betai(a, b, x, y)
  if x <= 0 then return 0, 1 end
  if y <= 0 then return 1, 0 end
  local front = exp(lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log(y))
  if x < (a + 1) / (a + b + 2) then
    local i = front * betacf(a, b, x) / a
    return i, 1 - i
  end
  local j = front * betacf(b, a, y) / b
  return 1 - j, j
end
stats._betai = betai

-- Two-sided tail P(|T| >= |t|) of Student's t with df degrees of freedom:
-- I_{df/(df+t^2)}(df/2, 1/2), both arguments formed without cancellation.
local function t_two_sided(t, df)
  t = t + 0.0 -- an integer t would wrap in t * t
  if t ~= t then return 0 / 0 end
  if t == huge or t == -huge then return 0 end
  local t2 = t * t
  local x, y = df / (df + t2), t2 / (df + t2)
  return (betai(df / 2, 0.5, x, y))
end

local function t_cdf(t, df)
  if t ~= t then return 0 / 0 end
  local tail = 0.5 * t_two_sided(t, df)
  if t < 0 then return tail end
  return 1 - tail
end

local function t_logpdf(t, df)
  return lgamma((df + 1) / 2) - lgamma(df / 2) - 0.5 * log(df * pi) -
    (df + 1) / 2 * log1p(t * t / df)
end

-- Complementary error function: Q(1/2, x^2) by the series of the lower incomplete
-- gamma for small x and its continued fraction (Lentz) above, ~1e-15 relative.
local LGAMMA_HALF = 0.5 * log(pi)
local function erfc_pos(x) -- x >= 0
  local a, z = 0.5, x * x
  if z < 1.5 then
    local ap, sum, del = a, 1 / a, 1 / a
    for _ = 1, 1000 do
      ap = ap + 1
      del = del * z / ap
      sum = sum + del
      if abs(del) < abs(sum) * 1e-17 then break end
    end
    return 1 - sum * exp(-z + a * log(z) - LGAMMA_HALF)
  end
  local b = z + 1 - a
  local c, d = 1 / TINY, 1 / b
  local h = d
  for i = 1, 100000 do
    local an = -i * (i - a)
    b = b + 2
    d = an * d + b
    if abs(d) < TINY then d = TINY end
    c = b + an / c
    if abs(c) < TINY then c = TINY end
    d = 1 / d
    local del = d * c
    h = h * del
    if abs(del - 1) < 1e-16 then break end
  end
  return exp(-z + a * log(z) - LGAMMA_HALF) * h
end

-- Upper tail P(Z >= z) of the standard normal.
local function normal_sf(z)
  if z ~= z then return 0 / 0 end
  if z >= 0 then return 0.5 * erfc_pos(z / sqrt(2)) end
  return 1 - 0.5 * erfc_pos(-z / sqrt(2))
end

local function normal_cdf(z)
  if z ~= z then return 0 / 0 end
  if z <= 0 then return 0.5 * erfc_pos(-z / sqrt(2)) end
  return 1 - 0.5 * erfc_pos(z / sqrt(2))
end

local function normal_logpdf(z) return -0.5 * z * z - 0.5 * log(2 * pi) end

-- The x >= 0 with upper tail tail(x) = q (0 < q < 1/2), tail decreasing from 1/2 at 0.
-- Newton on log tail (near linear in the far tail) inside a bracket that bisection keeps
-- valid, until the step is below 1e-15 relative.
local function solve_tail(tail, logpdf, q)
  local lo, hi = 0.0, 1.0 -- floats: an integer hi would wrap when doubled and squared
  while tail(hi) > q do
    lo = hi
    hi = hi * 2
    if hi > 1e300 then return huge end
  end
  local x = (lo + hi) / 2
  local lq = log(q)
  for _ = 1, 400 do
    local tx = tail(x)
    if tx > q then lo = x else hi = x end
    if tx == q then return x end
    local step = (log(tx) - lq) * tx / exp(logpdf(x))
    local nx = x + step
    if not (nx > lo and nx < hi) then nx = (lo + hi) / 2 end
    if abs(nx - x) <= 1e-15 * abs(nx) or hi - lo <= 1e-15 * hi then return nx end
    x = nx
  end
  return x
end

local function t_quantile(p, df)
  if p ~= p then return 0 / 0 end
  if p <= 0 then return -huge end
  if p >= 1 then return huge end
  if p == 0.5 then return 0 end
  local q = p < 0.5 and p or 1 - p
  local x = solve_tail(function(v) return 0.5 * t_two_sided(v, df) end,
    function(v) return t_logpdf(v, df) end, q)
  return p < 0.5 and -x or x
end

local function normal_quantile(p)
  if p ~= p then return 0 / 0 end
  if p <= 0 then return -huge end
  if p >= 1 then return huge end
  if p == 0.5 then return 0 end
  local q = p < 0.5 and p or 1 - p
  local x = solve_tail(normal_sf, normal_logpdf, q)
  return p < 0.5 and -x or x
end

---------------------------------------------------------------------------------------
-- Argument checks. `level` is the error level of the public function's caller as seen
-- from the helper (3 when the public function calls the helper directly).

-- The lists here are Lua tables: a tensor gets a hint on how to pass one.
local function typename(v)
  if actrun.is_tensor(v) then return util.typename(v) .. " (pass t:totable())" end
  return util.typename(v)
end

local function numstr(v)
  if v ~= v then return "nan" end
  return tostring(v)
end

-- A list of finite numbers; len, when given, is the length it must have.
local function check_list(fname, v, argn, name, level, len, lenwhat)
  local want = "a list of numbers"
  if len then want = fmt("a list of numbers of the same length as %s (%d)", lenwhat, len) end
  if type(v) ~= "table" then
    error(fmt("%s: argument #%d (%s) must be %s, got %s", fname, argn, name, want,
      typename(v)), level)
  end
  local n = #v
  if len and n ~= len then
    error(fmt("%s: argument #%d (%s) must be %s, got %d", fname, argn, name, want, n), level)
  end
  for i = 1, n do
    local x = v[i]
    if type(x) ~= "number" then
      error(fmt("%s: argument #%d (%s) must be %s, element %d is %s", fname, argn, name,
        want, i, typename(x)), level)
    end
    if x ~= x or x == huge or x == -huge then
      error(fmt("%s: argument #%d (%s) must hold finite numbers, element %d is %s", fname,
        argn, name, i, numstr(x)), level)
    end
  end
  return n
end

local check_opts = util.check_opts

-- A number strictly between 0 and 1.
local function check_prob(fname, v, what, level)
  if type(v) ~= "number" or not (v > 0 and v < 1) then
    error(fmt("%s: %s must be a number in (0, 1), got %s", fname, what,
      type(v) == "number" and numstr(v) or typename(v)), level)
  end
  return v
end

local function check_number(fname, v, argn, name, level)
  if type(v) ~= "number" or v ~= v then
    error(fmt("%s: argument #%d (%s) must be a number, got %s", fname, argn, name,
      type(v) == "number" and numstr(v) or typename(v)), level)
  end
  return v
end

local function check_df(fname, df, argn, level)
  if type(df) ~= "number" or not (df > 0) or df == huge then
    error(fmt("%s: argument #%d (df) must be a finite number > 0, got %s", fname, argn,
      type(df) == "number" and numstr(df) or typename(df)), level)
  end
  return df
end

---------------------------------------------------------------------------------------
-- The distributions, public for scripts that report their own intervals.

function stats.t_cdf(t, df)
  local fname = PREFIX .. "t_cdf"
  check_number(fname, t, 1, "t", 3)
  check_df(fname, df, 2, 3)
  return t_cdf(t, df)
end

function stats.t_quantile(p, df)
  local fname = PREFIX .. "t_quantile"
  check_prob(fname, p, "argument #1 (p)", 3)
  check_df(fname, df, 2, 3)
  return t_quantile(p, df)
end

function stats.normal_cdf(z)
  check_number(PREFIX .. "normal_cdf", z, 1, "z", 3)
  return normal_cdf(z)
end

function stats.normal_quantile(p)
  check_prob(PREFIX .. "normal_quantile", p, "argument #1 (p)", 3)
  return normal_quantile(p)
end

---------------------------------------------------------------------------------------
-- describe

-- Mean and sample sd (n - 1) of list[1..n], two passes (no cancellation of sum(x^2)).
local function mean_sd(list, n)
  local s = 0
  for i = 1, n do s = s + list[i] end
  local m = s / n
  if n < 2 then return m, 0 end
  local ss, c = 0, 0
  for i = 1, n do
    local d = list[i] - m
    ss = ss + d * d
    c = c + d
  end
  -- the compensation term removes the rounding left in m (Chan, Golub, LeVeque)
  local var = (ss - c * c / n) / (n - 1)
  return m, sqrt(var > 0 and var or 0)
end

-- t-based 95% interval of a mean; {m, m} when it is degenerate (n = 1 or sd = 0).
local function ci95(m, sd, n)
  if n < 2 or sd == 0 then return {m, m} end
  local h = t_quantile(0.975, n - 1) * sd / sqrt(n)
  return {m - h, m + h}
end

function stats.describe(list)
  local fname = PREFIX .. "describe"
  local n = check_list(fname, list, 1, "list", 3)
  if n < 1 then
    error(fmt("%s: argument #1 (list) must hold at least 1 number, got an empty list",
      fname), 2)
  end
  local m, sd = mean_sd(list, n)
  return {n = n, mean = m, sd = sd, se = sd / sqrt(n), ci95 = ci95(m, sd, n)}
end

---------------------------------------------------------------------------------------
-- paired

-- Ranks of |d| (1 = smallest), ties given their average rank, as scipy's rankdata.
local function abs_ranks(d)
  local n = #d
  local idx = {}
  for i = 1, n do idx[i] = i end
  table.sort(idx, function(i, j)
    local ai, aj = abs(d[i]), abs(d[j])
    if ai ~= aj then return ai < aj end
    return i < j
  end)
  local r, ties = {}, {}
  local i = 1
  while i <= n do
    local j = i
    while j < n and abs(d[idx[j + 1]]) == abs(d[idx[i]]) do j = j + 1 end
    for k = i, j do r[idx[k]] = (i + j) / 2 end
    if j > i then ties[#ties + 1] = j - i + 1 end
    i = j + 1
  end
  return r, ties
end

local WILCOXON_EXACT_MAX = 25

-- Wilcoxon signed-rank on the non-zero differences (zeros dropped, scipy's
-- zero_method="wilcox"). Exact for n <= 25: the null distribution of the sum of the
-- positive ranks over all 2^n sign assignments, built by a recursion over the ranks (a
-- count per achievable sum; ranks doubled so that tied average ranks are integers), so
-- ties are handled exactly, on the actual tied ranks. Above: the normal approximation
-- with scipy's tie correction and no continuity correction.
local function wilcoxon(d)
  local nz = {}
  for i = 1, #d do if d[i] ~= 0 then nz[#nz + 1] = d[i] end end
  local n = #nz
  if n == 0 then return 1 end
  local r, ties = abs_ranks(nz)
  local rplus, rminus = 0, 0
  for i = 1, n do
    if nz[i] > 0 then rplus = rplus + r[i] else rminus = rminus + r[i] end
  end
  local T = math.min(rplus, rminus)
  if n <= WILCOXON_EXACT_MAX then
    -- counts[s + 1] = number of sign assignments whose positive doubled ranks sum to s
    local counts, top = {[1] = 1}, 0
    for i = 1, n do
      local w = floor(2 * r[i] + 0.5)
      for s = top + w, 0, -1 do
        local c = counts[s + 1] or 0
        if s >= w then c = c + (counts[s - w + 1] or 0) end
        counts[s + 1] = c
      end
      top = top + w
    end
    local t2 = floor(2 * T + 0.5)
    local le = 0
    for s = 0, t2 do le = le + (counts[s + 1] or 0) end
    return math.min(1, 2 * le / 2 ^ n)
  end
  local mn = n * (n + 1) * 0.25
  local se = n * (n + 1) * (2 * n + 1)
  for _, t in ipairs(ties) do se = se - 0.5 * t * (t * t - 1) end
  se = sqrt(se / 24)
  return math.min(1, 2 * normal_sf(abs(T - mn) / se))
end

local PERM_EXACT_MAX = 20
local PERM_SAMPLES = 100000

-- splitmix64: a small seeded generator of its own, so that the Monte Carlo p-value is
-- the same on every call and math.random's state is left alone.
local function splitmix64(seed)
  local s = seed
  return function()
    s = s + 0x9E3779B97F4A7C15
    local z = s
    z = (z ~ (z >> 30)) * 0xBF58476D1CE4E5B9
    z = (z ~ (z >> 27)) * 0x94D049BB133111EB
    return z ~ (z >> 31)
  end
end

-- All 2^#half signed sums of half, each one the sum of #half terms (no drift from an
-- incremental update).
local function signed_sums(half)
  local sums = {0}
  for _, x in ipairs(half) do
    local m = #sums
    for k = 1, m do
      sums[m + k] = sums[k] - x
      sums[k] = sums[k] + x
    end
  end
  return sums
end

-- Number of entries of sorted (ascending) list that are >= v.
local function count_ge(sorted, v)
  local lo, hi = 1, #sorted + 1
  while lo < hi do
    local mid = (lo + hi) // 2
    if sorted[mid] >= v then hi = mid else lo = mid + 1 end
  end
  return #sorted - lo + 1
end

-- Number of entries of sorted (ascending) list that are <= v.
local function count_le(sorted, v)
  local lo, hi = 1, #sorted + 1
  while lo < hi do
    local mid = (lo + hi) // 2
    if sorted[mid] > v then hi = mid else lo = mid + 1 end
  end
  return lo - 1
end

-- Sign-flip permutation test of the mean difference, two-sided: the share of sign
-- assignments whose |sum| is at least the observed |sum|. A relative slack of 1e-12
-- keeps flips that tie the observed sum up to rounding counted as ties.
-- Exact for n <= 20, by meeting in the middle: the 2^(n/2) signed sums of each half,
-- one half sorted, and for each sum of the other half the count of partners that reach
-- the threshold (each full sum is then one addition of two short sums).
-- Above: 100000 random flips from a fixed seed, p = (hits + 1) / (100000 + 1) (the
-- observed assignment counts as one draw, so p is never 0).
local function permutation(d)
  local n = #d
  local total, scale = 0, 0
  for i = 1, n do
    total = total + d[i]
    scale = scale + abs(d[i])
  end
  local thr = abs(total) - 1e-12 * scale
  if n <= PERM_EXACT_MAX then
    local h = n // 2
    local A = signed_sums(table.move(d, 1, h, 1, {}))
    local B = signed_sums(table.move(d, h + 1, n, 1, {}))
    table.sort(B)
    local hits = 0
    for _, a in ipairs(A) do
      -- |a + b| >= thr: b >= thr - a or b <= -thr - a (disjoint when thr > 0)
      if thr <= 0 then
        hits = hits + #B
      else
        hits = hits + count_ge(B, thr - a) + count_le(B, -thr - a)
      end
    end
    return math.min(1, hits / 2 ^ n)
  end
  local rnd = splitmix64(0x5EED)
  local hits = 0
  for _ = 1, PERM_SAMPLES do
    local s, bits, left = 0, 0, 0
    for i = 1, n do
      if left == 0 then bits, left = rnd(), 64 end
      if bits & 1 == 1 then s = s + d[i] else s = s - d[i] end
      bits, left = bits >> 1, left - 1
    end
    if abs(s) >= thr then hits = hits + 1 end
  end
  return (hits + 1) / (PERM_SAMPLES + 1)
end

local TESTS = {t = true, wilcoxon = true, permutation = true}

function stats.paired(a, b, opts)
  local fname = PREFIX .. "paired"
  local n = check_list(fname, a, 1, "a", 3)
  check_list(fname, b, 2, "b", 3, n, "a")
  opts = check_opts(fname, opts, 3, {test = true, alpha = true}, 3)
  local test = opts.test or "t"
  if not TESTS[test] then
    error(fmt("%s: option test must be \"t\", \"wilcoxon\" or \"permutation\", got %s",
      fname, type(test) == "string" and fmt("%q", test) or typename(test)), 2)
  end
  local alpha = opts.alpha == nil and 0.05 or check_prob(fname, opts.alpha, "option alpha", 3)
  local need = test == "t" and 2 or 1
  if n < need then
    error(fmt("%s: the %s test needs at least %d pair%s, got %d", fname,
      test == "t" and "paired t" or test, need, need == 1 and "" or "s", n), 2)
  end

  local d = {}
  for i = 1, n do d[i] = a[i] - b[i] + 0.0 end -- floats: integer sums of squares wrap
  local diff, sd = mean_sd(d, n)
  local res = {n = n, diff = diff, sd = sd, ci95 = ci95(diff, sd, n), test = test}
  if n >= 2 then
    -- the true difference the paired t test finds with 80% power at this n and sd
    -- (the usual approximation: the noncentral t replaced by a shifted central t)
    res.mdd = (t_quantile(1 - alpha / 2, n - 1) + t_quantile(0.8, n - 1)) * sd / sqrt(n)
  end
  if test == "t" then
    if sd == 0 then
      res.p = diff == 0 and 1 or 0 -- identical runs, or a constant nonzero difference
    else
      res.p = t_two_sided(diff / (sd / sqrt(n)), n - 1)
    end
  elseif test == "wilcoxon" then
    res.p = wilcoxon(d)
  else
    res.p = permutation(d)
  end
  return res
end

---------------------------------------------------------------------------------------
-- best_rank_chance

-- P(min rank <= r) for k ranks drawn without replacement from 1..n: 1 - C(n-r, k) / C(n, k),
-- as a product of k ratios (no factorials, no overflow).
function stats.best_rank_chance(n, k, r)
  local fname = PREFIX .. "best_rank_chance"
  for i, v in ipairs{n, k, r} do
    if math.type(v) ~= "integer" and not (type(v) == "number" and v == v and v % 1 == 0) then
      error(fmt("%s: argument #%d (%s) expected a whole number, got %s", fname, i,
        ({"n", "k", "r"})[i], type(v) == "number" and numstr(v) or typename(v)), 2)
    end
  end
  if n < 1 then error(fmt("%s: argument #1 (n) must be >= 1, got %s", fname, numstr(n)), 2) end
  if k < 1 or k > n then
    error(fmt("%s: argument #2 (k) must be in 1..n = 1..%d, got %s", fname, n, numstr(k)), 2)
  end
  if r < 1 or r > n then
    error(fmt("%s: argument #3 (r) must be in 1..n = 1..%d, got %s", fname, n, numstr(r)), 2)
  end
  local none = 1
  for i = 0, k - 1 do
    none = none * math.max(0, n - r - i) / (n - i)
  end
  return 1 - none
end

---------------------------------------------------------------------------------------
-- holm

function stats.holm(pvalues)
  local fname = PREFIX .. "holm"
  local m = check_list(fname, pvalues, 1, "pvalues", 3)
  for i = 1, m do
    local p = pvalues[i]
    if p < 0 or p > 1 then
      error(fmt("%s: argument #1 (pvalues) must hold p-values in [0, 1], element %d is %s",
        fname, i, numstr(p)), 2)
    end
  end
  local idx = {}
  for i = 1, m do idx[i] = i end
  table.sort(idx, function(i, j)
    if pvalues[i] ~= pvalues[j] then return pvalues[i] < pvalues[j] end
    return i < j
  end)
  -- step-down: the k-th smallest p times (m - k + 1), made monotone by a running max
  local adj, run = {}, 0
  for k, i in ipairs(idx) do
    local v = math.min(1, (m - k + 1) * pvalues[i])
    if v > run then run = v end
    adj[i] = run
  end
  return adj
end

---------------------------------------------------------------------------------------
-- mcnemar

-- P(X <= k) for X ~ Binomial(n, 1/2), k <= n / 2, summed in log space from the largest
-- term (k) down, so that n of any size neither overflows nor underflows.
local function binom_half_cdf(k, n)
  local lk = lgamma(n + 1) - lgamma(k + 1) - lgamma(n - k + 1) - n * log(2)
  local sum, term = 1, 1
  for j = k, 1, -1 do
    term = term * j / (n - j + 1) -- term(j - 1) / term(k)
    sum = sum + term
    if term < sum * 1e-17 then break end
  end
  return exp(lk + log(sum))
end

local function check_outcomes(fname, v, argn, name, level, len)
  if type(v) ~= "table" then
    error(fmt("%s: argument #%d (%s) must be a list of booleans or 0/1, got %s", fname, argn,
      name, typename(v)), level)
  end
  local n = #v
  if len and n ~= len then
    error(fmt("%s: argument #%d (%s) must be a list of booleans or 0/1 of the same length " ..
      "as a_correct (%d), got %d", fname, argn, name, len, n), level)
  end
  local out = {}
  for i = 1, n do
    local x = v[i]
    if x == true or x == 1 then out[i] = true
    elseif x == false or x == 0 then out[i] = false
    else
      error(fmt("%s: argument #%d (%s) must be a list of booleans or 0/1, element %d is %s",
        fname, argn, name, i, type(x) == "number" and numstr(x) or typename(x)), level)
    end
  end
  return out, n
end

function stats.mcnemar(a_correct, b_correct)
  local fname = PREFIX .. "mcnemar"
  local A, n = check_outcomes(fname, a_correct, 1, "a_correct", 3)
  local B = check_outcomes(fname, b_correct, 2, "b_correct", 3, n)
  local b, c = 0, 0
  for i = 1, n do
    if A[i] and not B[i] then b = b + 1
    elseif B[i] and not A[i] then c = c + 1 end
  end
  local m = b + c
  local p = 1
  if m > 0 then
    p = math.min(1, 2 * binom_half_cdf(math.min(b, c), m))
  end
  return {b = b, c = c, p = p}
end

---------------------------------------------------------------------------------------
-- rank_probabilities

function stats.rank_probabilities(runs, opts)
  local fname = PREFIX .. "rank_probabilities"
  if type(runs) ~= "table" or #runs < 1 then
    error(fmt("%s: argument #1 (runs) must be a non-empty list of lists of numbers " ..
      "(one per activation), got %s", fname, type(runs) == "table" and "an empty list" or
      typename(runs)), 2)
  end
  local k = #runs
  local s = check_list(fname, runs[1], 1, "runs[1]", 3)
  if s < 1 then
    error(fmt("%s: argument #1 (runs) must hold at least one run per activation", fname), 2)
  end
  for i = 2, k do check_list(fname, runs[i], 1, fmt("runs[%d]", i), 3, s, "runs[1]") end
  opts = check_opts(fname, opts, 2, {B = true, seed = true, larger = true}, 3)
  local B = opts.B == nil and 2000 or opts.B
  if math.type(B) == "float" and B == floor(B) then B = math.tointeger(B) end
  if math.type(B) ~= "integer" or B < 1 then
    error(fmt("%s: option B must be an integer >= 1, got %s", fname,
      type(B) == "number" and numstr(B) or typename(B)), 2)
  end
  local seed = opts.seed == nil and 1 or opts.seed
  if math.type(seed) == "float" and seed == floor(seed) then seed = math.tointeger(seed) end
  if math.type(seed) ~= "integer" then
    error(fmt("%s: option seed must be an integer, got %s", fname,
      type(seed) == "number" and numstr(seed) or typename(seed)), 2)
  end
  local larger = opts.larger
  if larger == nil then larger = true end
  if type(larger) ~= "boolean" then
    error(fmt("%s: option larger must be a boolean, got %s", fname, typename(larger)), 2)
  end

  -- one resample of seed columns per draw, shared by every activation (the runs of one
  -- seed are paired); a tie for first splits the draw's unit between the tied
  local rnd = splitmix64(seed)
  local wins = {}
  for i = 1, k do wins[i] = 0 end
  local pick, sums, best = {}, {}, {}
  for _ = 1, B do
    for j = 1, s do pick[j] = (rnd() >> 11) % s + 1 end
    local top
    for i = 1, k do
      local row, t = runs[i], 0
      for j = 1, s do t = t + row[pick[j]] end
      if not larger then t = -t end
      sums[i] = t
      if top == nil or t > top then top = t end
    end
    local nb = 0
    for i = 1, k do
      if sums[i] == top then nb = nb + 1; best[nb] = i end
    end
    for j = 1, nb do wins[best[j]] = wins[best[j]] + 1 / nb end
  end
  for i = 1, k do wins[i] = wins[i] / B end
  return wins
end

return stats
