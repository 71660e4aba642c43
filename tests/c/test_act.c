/* The activation registry: every entry's float kernels against its double scalar on a
 * dense grid plus extremes, the scalar derivative against finite differences, bitwise
 * determinism (contiguous / strided / 1 or 2 threads), parameter checks, softmax,
 * PReLU with a slope tensor, RReLU training mode. */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "act/act.h"
#include "core/ctx.h"

TestSuite(act, .timeout = 300);

/* More elements than any activation keeps on one thread. */
#define LARGE (16 * AR_PAR_GRAIN)

static ar_tensor mk(ar_ctx *C, int nd, const int64_t *shape) {
  ar_tensor t;
  int rc = ar_empty(C, &t, nd, shape);
  cr_assert_eq(rc, AR_OK, "ar_empty: %s", ar_errmsg(C));
  return t;
}
static ar_tensor mk1(ar_ctx *C, int64_t n) { return mk(C, 1, &n); }

static uint64_t rng_state = 88172645463325252ull;
static double urand(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (double)(rng_state >> 11) * 0x1p-53;
}

/* ---------- accuracy: float kernels vs the double scalar ---------- */

/* Tolerance: |float - double| <= RTOL |double| + atol. The default atol only absorbs
 * results below float's normal range (the double value of e.g. sigmoid(-100) is a
 * float denormal or underflows). Looser absolute bounds, with the reason:
 * - gelu_tanh: the float cubic u carries a relative rounding of ~6e-8 that the tail
 *   amplifies by ~x^2 (measured 3e-6 relative at x = -10 where the value is ~1e-22).
 *   gelu's forward needs no absolute slack (it is relative down to the underflow: x^2
 *   is split exactly); f' of both crosses zero (x ~ -0.75), where two terms cancel.
 * - silu, swish, mish: f' crosses zero (x ~ -1.28, -1.19), where two O(0.3) terms cancel.
 * - tanhshrink: x - tanh(x) cancels near 0 (value ~x^3/3), as in PyTorch.
 * Measured maxima are printed when ACTRUN_ACT_REPORT is set. */
#define RTOL 1e-6
#define TINY 1.2e-38

typedef struct {
  const char *name;
  double atol_f, atol_df;
} tol_entry;
static const tol_entry tols[] = {
    {"gelu", 0, 1e-7},         {"gelu_tanh", 1e-7, 1e-7}, {"silu", 0, 1e-7},
    {"swish", 0, 1e-7},        {"mish", 0, 1e-7},         {"tanhshrink", 1e-7, 0},
};

static void tol_of(const act_def *a, double *af, double *adf) {
  *af = *adf = TINY;
  for (size_t i = 0; i < sizeof tols / sizeof *tols; i++)
    if (strcmp(tols[i].name, a->name) == 0) {
      if (tols[i].atol_f > 0) *af = tols[i].atol_f;
      if (tols[i].atol_df > 0) *adf = tols[i].atol_df;
    }
}

/* Alternative parameter settings of the parametric entries (the defaults are tested too). */
typedef struct {
  const char *name;
  double p[ACT_MAXPARAMS];
} alt_params;
static const alt_params alts[] = {
    {"hardtanh", {-2.0, 0.5}}, {"leaky_relu", {0.2, 0}}, {"prelu", {-0.3, 0}},
    {"rrelu", {0.1, 0.3}},     {"elu", {0.5, 0}},        {"celu", {2.0, 0}},
    {"swish", {1.5, 0}},       {"softplus", {2.0, 10.0}}, {"softshrink", {1.0, 0}},
    {"hardshrink", {1.0, 0}},
    /* a beta that is not a power of 2: beta x rounds (the left tail must not show it) */
    {"softplus", {1.5, 20.0}},
};

static const float extremes[] = {0.0f,  -0.0f,  1e-30f, -1e-30f, 1e30f, -1e30f, INFINITY,
                                 -INFINITY, 3.0f, -3.0f, 6.0f,    0.5f,  -0.5f,  1.0f,
                                 -1.0f, 20.0f, -20.0f, 88.0f, -88.0f, 100.0f, -100.0f, 1e-3f};
#define NEXT ((int)(sizeof extremes / sizeof *extremes))
#define NGRID 60001

static bool same_nan_or_close(double got, double ref, double rtol, double atol) {
  if (isnan(ref)) return isnan(got);
  if (isnan(got)) return false;
  if (isinf(ref) || isinf(got)) return got == ref;
  return fabs(got - ref) <= rtol * fabs(ref) + atol;
}

typedef struct {
  double max_rel_f, max_rel_df, max_abs_f, max_abs_df;
} acc_stats;

static void check_entry(ar_ctx *C, const act_def *a, const double *p, acc_stats *st) {
  int64_t n = NGRID + NEXT + 1;
  ar_tensor x = mk1(C, n), g = mk1(C, n);
  float *xp = ar_data(&x);
  for (int i = 0; i < NGRID; i++) xp[i] = (float)(-30.0 + i * 1e-3);
  for (int i = 0; i < NEXT; i++) xp[NGRID + i] = extremes[i];
  xp[n - 1] = NAN;
  ar_fill(C, &g, 1.0f);
  ar_tensor y, dx;
  cr_assert_eq(act_forward(C, a, &y, &x, p), AR_OK, "%s: %s", a->name, ar_errmsg(C));
  cr_assert_eq(act_backward(C, a, &dx, &x, &g, p), AR_OK, "%s: %s", a->name, ar_errmsg(C));
  double pd[ACT_MAXPARAMS];
  for (int i = 0; i < a->nparams; i++) pd[i] = p ? p[i] : a->params[i].def;
  double af, adf;
  tol_of(a, &af, &adf);
  const float *yp = ar_data(&y), *dp = ar_data(&dx);
  /* one assertion per entry (millions of passing cr_expect calls are slow) */
  int64_t nbad = 0;
  char first[256] = "";
  for (int64_t i = 0; i < n; i++) {
    double f, df, d2, xv = xp[i];
    a->scalar(xv, pd, &f, &df, &d2);
    bool okf = same_nan_or_close(yp[i], f, RTOL, af), okd = same_nan_or_close(dp[i], df, RTOL, adf);
    if ((!okf || !okd) && nbad++ == 0)
      snprintf(first, sizeof first, "%s at x=%.9g: f %.9g (want %.17g), f' %.9g (want %.17g)",
               a->name, xv, (double)yp[i], f, (double)dp[i], df);
    if (isfinite(f) && isfinite(yp[i]) && fabs(f) <= 1) {
      double e = fabs(yp[i] - f);
      if (e > st->max_abs_f) st->max_abs_f = e;
      if (fabs(f) > 1e-3 && e / fabs(f) > st->max_rel_f) st->max_rel_f = e / fabs(f);
    }
    if (isfinite(df) && isfinite(dp[i]) && fabs(df) <= 1) {
      double e = fabs(dp[i] - df);
      if (e > st->max_abs_df) st->max_abs_df = e;
      if (fabs(df) > 1e-3 && e / fabs(df) > st->max_rel_df) st->max_rel_df = e / fabs(df);
    }
  }
  cr_expect(nbad == 0, "%lld mismatches; first: %s", (long long)nbad, first);
  ar_release(&x);
  ar_release(&g);
  ar_release(&y);
  ar_release(&dx);
}

Test(act, float_kernels_match_double_scalar) {
  ar_ctx *C = ar_ctx_new();
  bool report = getenv("ACTRUN_ACT_REPORT") != NULL;
  if (report) fprintf(stderr, "%-12s %10s %10s %10s %10s  (rel: where |ref| > 1e-3; abs: where |ref| <= 1)\n", "name",
                      "rel f", "rel f'", "abs f", "abs f'");
  for (int k = 0; k < act_count; k++) {
    const act_def *a = &act_table[k];
    acc_stats st = {0};
    check_entry(C, a, NULL, &st);
    for (size_t j = 0; j < sizeof alts / sizeof *alts; j++)
      if (strcmp(alts[j].name, a->name) == 0) check_entry(C, a, alts[j].p, &st);
    if (report)
      fprintf(stderr, "%-12s %10.2e %10.2e %10.2e %10.2e\n", a->name, st.max_rel_f,
              st.max_rel_df, st.max_abs_f, st.max_abs_df);
  }
  ar_ctx_release(C);
}

/* dy scales the derivative elementwise (not only dy = 1). */
/* The inline exp/expm1/log1p of the one-pass kernels (kernels.h), at every SIMD level
 * this CPU runs: every 257th float of [-104, 0] (resp. [0, 1]) against double
 * exp/expm1/log1p. Offline, over every float, the maxima were 0.95 ulp (expm1) and 1.03
 * ulp (exp) with FMA; the bounds here leave room for the baseline x86 level, which has
 * no FMA. Subnormal results of exp are checked in units of 2^-149. */
static double ulp_of(double r) {
  float f = (float)fabs(r);
  return (double)nextafterf(f, INFINITY) - f;
}
/* f over one value through an array kernel */
static float at1(void (*f)(const float *, float *, int64_t), float x) {
  float y;
  f(&x, &y, 1);
  return y;
}
static float *grid_257(uint32_t from, float lo, float hi, int64_t *n) {
  int64_t cap = 1 << 24, k = 0;
  float *v = malloc((size_t)cap * sizeof(float));
  cr_assert(v);
  for (uint32_t b = from; k < cap; b += 257) {
    float x;
    memcpy(&x, &b, sizeof x);
    if (!(x >= lo && x <= hi)) break;
    v[k++] = x;
  }
  *n = k;
  return v;
}
static void check_vexp_level(int level) {
  const act_level *L = act_level_at(level);
  const char *ln = ar_simd_name(level);
  int64_t n, m;
  float *x = grid_257(0x80000000u, -104.0f, 0.0f, &n), *y1 = malloc((size_t)n * 4),
        *y2 = malloc((size_t)n * 4);
  L->exp_np(x, y2, n);
  L->expm1_np(x, y1, n);
  double m1 = 0, m2 = 0, msub = 0, m3 = 0;
  for (int64_t i = 0; i < n; i++) {
    double r2 = exp((double)x[i]), e2 = fabs((double)y2[i] - r2);
    if (r2 >= 0x1p-126) {
      if (e2 / ulp_of(r2) > m2) m2 = e2 / ulp_of(r2);
    } else if (e2 / 0x1p-149 > msub) {
      msub = e2 / 0x1p-149;
    }
    if (x[i] >= -87.0f) {
      double r1 = expm1((double)x[i]), e1 = fabs((double)y1[i] - r1) / ulp_of(r1);
      if (e1 > m1) m1 = e1;
    }
  }
  float *u = grid_257(0, 0.0f, 1.0f, &m), *l = malloc((size_t)m * 4); /* log1p_01 on [0, 1] */
  L->log1p_01(u, l, m);
  for (int64_t i = 0; i < m; i++) {
    double r = log1p((double)u[i]), e = fabs((double)l[i] - r);
    if (r > 0 && e / ulp_of(r) > m3) m3 = e / ulp_of(r);
  }
  free(x), free(y1), free(y2), free(u), free(l);
  cr_expect(at1(L->log1p_01, 0.0f) == 0.0f && isnan(at1(L->log1p_01, NAN)), "%s", ln);
  cr_expect(m3 <= 2.0, "%s log1p_01: max error %.3f ulp", ln, m3);
  cr_expect(m1 <= 2.0, "%s expm1_np: max error %.3f ulp", ln, m1);
  cr_expect(m2 <= 2.0, "%s exp_np: max error %.3f ulp", ln, m2);
  cr_expect(msub <= 1.0, "%s exp_np: max error %.3f * 2^-149 on subnormal results", ln, msub);
  cr_expect(isnan(at1(L->exp_np, NAN)) && isnan(at1(L->expm1_np, NAN)), "%s", ln);
  cr_expect(at1(L->exp_np, -INFINITY) == 0.0f && at1(L->expm1_np, -INFINITY) == -1.0f, "%s", ln);
  cr_expect(at1(L->exp_np, -0.0f) == 1.0f && at1(L->exp_np, -200.0f) == 0.0f &&
                at1(L->expm1_np, -200.0f) == -1.0f, "%s", ln);
  cr_expect(at1(L->expm1_np, -0.0f) == 0.0f && signbit(at1(L->expm1_np, -0.0f)), "%s", ln);
  if (getenv("ACTRUN_ACT_REPORT"))
    fprintf(stderr, "vexp %s: expm1 %.3f ulp, exp %.3f ulp, subnormal %.3f * 2^-149, log1p %.3f ulp\n",
            ln, m1, m2, msub, m3);
}
Test(act, vexp) {
  int tested = 0;
  for (int lv = 0; lv < AR_SIMD_NLEVELS; lv++)
    if (act_level_at(lv)) check_vexp_level(lv), tested++;
  cr_expect(tested >= 1 && act_level_at(AR_SIMD_BASELINE));
}

/* sin and cos take SLEEF's 3.5-ulp path for vectors whose every |x| <= 39000 and
 * the 1-ulp path otherwise (kernels.h, TRIG_FAST_MAX): within 4 ulp for small arguments,
 * 1.5 for large ones, forward and backward. */
Test(act, trig_paths_accurate) {
  ar_ctx *C = ar_ctx_new();
  int64_t n = 4096;
  ar_tensor x = mk1(C, n), g = mk1(C, n);
  float *xp = ar_data(&x);
  for (int64_t i = 0; i < n; i++) /* groups 0-127 small, 128-255 large arguments */
    xp[i] = i < 2048 ? (float)(urand() * 80 - 40) : (float)((urand() * 2 - 1) * 1e7);
  xp[2048 + 5] = 39000.5f;
  ar_fill(C, &g, 1.0f);
  const char *names[] = {"sin", "cos"};
  for (int k = 0; k < 2; k++) {
    const act_def *a = act_find(names[k]);
    ar_tensor y, d;
    cr_assert_eq(act_forward(C, a, &y, &x, NULL), AR_OK);
    cr_assert_eq(act_backward(C, a, &d, &x, &g, NULL), AR_OK);
    double worst[2] = {0, 0};
    for (int64_t i = 0; i < n; i++) {
      double f, df, d2;
      a->scalar(xp[i], NULL, &f, &df, &d2);
      double ef = fabs(ar_data(&y)[i] - f) / ulp_of(f), ed = fabs(ar_data(&d)[i] - df) / ulp_of(df);
      int w = i >= 2048;
      if (ef > worst[w]) worst[w] = ef;
      if (ed > worst[w]) worst[w] = ed;
    }
    cr_expect(worst[0] <= 4.0, "%s: small arguments %.2f ulp", names[k], worst[0]);
    cr_expect(worst[1] <= 1.5, "%s: large arguments %.2f ulp", names[k], worst[1]);
    ar_release(&y);
    ar_release(&d);
  }
  ar_release(&x);
  ar_release(&g);
  ar_ctx_release(C);
}

Test(act, backward_multiplies_dy) {
  ar_ctx *C = ar_ctx_new();
  int64_t n = 1000;
  ar_tensor x = mk1(C, n), g = mk1(C, n), one = mk1(C, n);
  for (int64_t i = 0; i < n; i++) {
    ar_data(&x)[i] = (float)(urand() * 20 - 10);
    ar_data(&g)[i] = (float)(urand() * 4 - 2);
  }
  ar_fill(C, &one, 1.0f);
  for (int k = 0; k < act_count; k++) {
    const act_def *a = &act_table[k];
    ar_tensor d1, dg;
    cr_assert_eq(act_backward(C, a, &d1, &x, &one, NULL), AR_OK);
    cr_assert_eq(act_backward(C, a, &dg, &x, &g, NULL), AR_OK);
    int64_t bad = 0;
    for (int64_t i = 0; i < n; i++) {
      double want = (double)ar_data(&d1)[i] * ar_data(&g)[i];
      bad += !(fabs(ar_data(&dg)[i] - want) <= 1e-6 * fabs(want) + 1e-30);
    }
    cr_expect(bad == 0, "%s: %lld mismatches", a->name, (long long)bad);
    ar_release(&d1);
    ar_release(&dg);
  }
  ar_release(&x);
  ar_release(&g);
  ar_release(&one);
  ar_ctx_release(C);
}

/* ---------- fused forward (f and f' in one pass) ---------- */

static bool same_bits_or_nan(float a, float b) {
  return (isnan(a) && isnan(b)) || memcmp(&a, &b, sizeof a) == 0;
}

/* act_forward_fused gives act_forward's y bit for bit, and dy * d is act_backward's dx bit
 * for bit (autograd's backward through a fused node is that product), on the accuracy
 * grid, extremes and NaN, with a dy that is not 1, the default and the alternative
 * parameters, and on 1 and 2 threads over a size that is split. */
static void check_fused(ar_ctx *C, const act_def *a, const double *p, int64_t n) {
  ar_tensor x = mk1(C, n), g = mk1(C, n);
  float *xp = ar_data(&x), *gp = ar_data(&g);
  for (int64_t i = 0; i < n; i++) {
    xp[i] = i < NGRID ? (float)(-30.0 + i * 1e-3) : (float)(urand() * 60 - 30);
    gp[i] = (float)(urand() * 4 - 2);
  }
  for (int i = 0; i < NEXT && i < n; i++) xp[n - 1 - i] = extremes[i];
  xp[n / 2] = NAN;
  ar_tensor y, y2, d, dx;
  cr_assert_eq(act_forward(C, a, &y, &x, p), AR_OK);
  cr_assert_eq(act_backward(C, a, &dx, &x, &g, p), AR_OK);
  cr_assert_eq(act_forward_fused(C, a, &y2, &d, &x, p), AR_OK, "%s: %s", a->name, ar_errmsg(C));
  int64_t bad_y = 0, bad_d = 0, first = -1;
  for (int64_t i = 0; i < n; i++) {
    bool oky = same_bits_or_nan(ar_data(&y2)[i], ar_data(&y)[i]);
    bool okd = same_bits_or_nan(gp[i] * ar_data(&d)[i], ar_data(&dx)[i]);
    bad_y += !oky, bad_d += !okd;
    if ((!oky || !okd) && first < 0) first = i;
  }
  cr_expect(bad_y == 0 && bad_d == 0, "%s (n %lld): %lld y and %lld dx differ, first at x=%.9g",
            a->name, (long long)n, (long long)bad_y, (long long)bad_d,
            first >= 0 ? (double)xp[first] : 0.0);
  ar_release(&x), ar_release(&g), ar_release(&y), ar_release(&y2), ar_release(&d),
      ar_release(&dx);
}

Test(act, fused_forward_matches_forward_and_backward_bitwise) {
  ar_ctx *C = ar_ctx_new();
  int nfused = 0;
  for (int k = 0; k < act_count; k++) {
    const act_def *a = &act_table[k];
    if (!act_kern(a)->fused) continue;
    nfused++;
    for (int th = 1; th <= 2; th++) {
      ar_set_num_threads(C, th);
      check_fused(C, a, NULL, NGRID + 1000);
      check_fused(C, a, NULL, LARGE + 5);
      for (size_t j = 0; j < sizeof alts / sizeof *alts; j++)
        if (strcmp(alts[j].name, a->name) == 0) check_fused(C, a, alts[j].p, NGRID + 1000);
    }
  }
  cr_expect(nfused >= 2 && act_kern(act_find("gelu"))->fused && act_kern(act_find("softplus"))->fused);
  ar_ctx_release(C);
}

/* ---------- the scalar derivative against central differences of the scalar f ---------- */

Test(act, scalar_derivative_matches_finite_differences) {
  const double h = 1e-5;
  for (int k = 0; k < act_count; k++) {
    const act_def *a = &act_table[k];
    double p[ACT_MAXPARAMS];
    for (int i = 0; i < a->nparams; i++) p[i] = a->params[i].def;
    for (int i = 0; i < 4000; i++) {
      double x = -20.0 + (i + 0.37) * 0.01, fm, fp, f0, df, tmp;
      a->scalar(x - h, p, &fm, &tmp, &tmp);
      a->scalar(x + h, p, &fp, &tmp, &tmp);
      a->scalar(x, p, &f0, &df, &tmp);
      double fd = (fp - fm) / (2 * h), left = (f0 - fm) / h, right = (fp - f0) / h;
      /* a kink or jump within h: one-sided slopes disagree; not a smooth point */
      if (fabs(left - right) > 1e-3 * (1 + fabs(fd))) continue;
      if (!(fabs(fd - df) <= 1e-6 * (1 + fabs(df))))
        cr_expect(false, "%s'(%.6g): scalar %.12g, fd %.12g", a->name, x, df, fd);
    }
  }
}

/* ---------- conventions: derivative at kinks, special values ---------- */

static void scal2(const char *name, double x, const double *p, double *f, double *df, double *d2) {
  const act_def *a = act_find(name);
  cr_assert(a, "%s is registered", name);
  double d[ACT_MAXPARAMS];
  for (int i = 0; i < a->nparams; i++) d[i] = p ? p[i] : a->params[i].def;
  a->scalar(x, d, f, df, d2);
}
static void scal(const char *name, double x, const double *p, double *f, double *df) {
  double d2;
  scal2(name, x, p, f, df, &d2);
}

Test(act, pytorch_conventions_at_kinks) {
  double f, df;
  scal("relu", 0, NULL, &f, &df);
  cr_expect(f == 0 && df == 0);
  scal("leaky_relu", 0, NULL, &f, &df);
  cr_expect(df == 0.01);
  scal("hardtanh", 1, NULL, &f, &df);
  cr_expect(f == 1 && df == 0);
  scal("hardtanh", -1, NULL, &f, &df);
  cr_expect(f == -1 && df == 0);
  scal("relu6", 6, NULL, &f, &df);
  cr_expect(f == 6 && df == 0);
  scal("hardswish", -3, NULL, &f, &df);
  cr_expect(f == 0 && df == -0.5);
  scal("hardswish", 3, NULL, &f, &df);
  cr_expect(f == 3 && df == 1.5, "hardswish'(3) = %g", df); /* PyTorch's x/3 + 1/2 */
  scal("hard_sigmoid", 3, NULL, &f, &df);
  cr_expect(f == 1 && df == 0);
  scal("elu", 0, NULL, &f, &df);
  cr_expect(f == 0 && df == 1);
  scal("selu", 0, NULL, &f, &df);
  cr_expect(fabs(df - 1.6732632423543772 * 1.0507009873554805) < 1e-15);
  scal("softshrink", 0.5, NULL, &f, &df);
  cr_expect(f == 0 && df == 0);
  scal("hardshrink", -0.5, NULL, &f, &df);
  cr_expect(f == 0 && df == 0);
  scal("step", 0, NULL, &f, &df);
  cr_expect(f == 0 && df == 0);
  double sp[2] = {1, 20};
  scal("softplus", 20.5, sp, &f, &df);
  cr_expect(f == 20.5 && df == 1); /* linear above the threshold */
}

Test(act, nan_propagates_and_infinities_are_limits) {
  for (int k = 0; k < act_count; k++) {
    const act_def *a = &act_table[k];
    double p[ACT_MAXPARAMS], f, df, d2;
    for (int i = 0; i < a->nparams; i++) p[i] = a->params[i].def;
    a->scalar(NAN, p, &f, &df, &d2);
    cr_expect(isnan(f) && isnan(df) && isnan(d2), "%s(NaN)", a->name);
    if (strcmp(a->name, "sin") == 0 || strcmp(a->name, "cos") == 0) continue;
    a->scalar(INFINITY, p, &f, &df, &d2);
    cr_expect(!isnan(f) && !isnan(df) && !isnan(d2), "%s(+inf) = %g, %g, %g", a->name, f, df, d2);
    a->scalar(-INFINITY, p, &f, &df, &d2);
    cr_expect(!isnan(f) && !isnan(df) && !isnan(d2), "%s(-inf) = %g, %g, %g", a->name, f, df, d2);
  }
  double f, df;
  scal("sigmoid", -INFINITY, NULL, &f, &df);
  cr_expect(f == 0 && df == 0);
  scal("silu", INFINITY, NULL, &f, &df);
  cr_expect(f == INFINITY && df == 1);
  scal("mish", -INFINITY, NULL, &f, &df);
  cr_expect(f == 0 && df == 0);
  scal("softsign", INFINITY, NULL, &f, &df);
  cr_expect(f == 1 && df == 0);
  scal("logsigmoid", -INFINITY, NULL, &f, &df);
  cr_expect(f == -INFINITY && df == 1);
}

/* ---------- determinism: strided, 1 vs 2 threads ---------- */

static bool bitwise_eq(const ar_tensor *a, const ar_tensor *b) {
  return memcmp(ar_data(a), ar_data(b), (size_t)ar_numel(a) * sizeof(float)) == 0;
}

Test(act, contiguous_strided_and_threads_bitwise_identical) {
  ar_ctx *C = ar_ctx_new();
  int64_t shape[2] = {1024, LARGE / 1024 + 3}; /* odd inner length: tails in every row */
  ar_tensor base = mk(C, 2, shape), gb = mk(C, 2, shape);
  int64_t n = ar_numel(&base);
  for (int64_t i = 0; i < n; i++) {
    ar_data(&base)[i] = (float)(urand() * 60 - 30);
    ar_data(&gb)[i] = (float)(urand() * 2 - 1);
  }
  ar_data(&base)[5] = NAN;
  ar_data(&base)[77] = INFINITY;
  ar_data(&base)[1234] = 1e30f;
  ar_tensor xt, gt, xc, gc;
  cr_assert_eq(ar_transpose(C, &xt, &base, 0, 1), AR_OK);
  cr_assert_eq(ar_transpose(C, &gt, &gb, 0, 1), AR_OK);
  cr_assert_eq(ar_clone(C, &xc, &xt), AR_OK);
  cr_assert_eq(ar_clone(C, &gc, &gt), AR_OK);
  for (int k = 0; k < act_count; k++) {
    const act_def *a = &act_table[k];
    ar_tensor y1, y2, ys, d1, d2, ds;
    ar_set_num_threads(C, 1);
    cr_assert_eq(act_forward(C, a, &y1, &xc, NULL), AR_OK);
    cr_assert_eq(act_backward(C, a, &d1, &xc, &gc, NULL), AR_OK);
    ar_set_num_threads(C, 2);
    cr_assert_eq(act_forward(C, a, &y2, &xc, NULL), AR_OK);
    cr_assert_eq(act_backward(C, a, &d2, &xc, &gc, NULL), AR_OK);
    cr_assert_eq(act_forward(C, a, &ys, &xt, NULL), AR_OK);
    cr_assert_eq(act_backward(C, a, &ds, &xt, &gt, NULL), AR_OK);
    cr_expect(bitwise_eq(&y1, &y2) && bitwise_eq(&y1, &ys), "%s forward", a->name);
    cr_expect(bitwise_eq(&d1, &d2) && bitwise_eq(&d1, &ds), "%s backward", a->name);
    /* a sub-range starting at an odd offset gives the same values (kernel level) */
    ar_release(&y1), ar_release(&y2), ar_release(&ys);
    ar_release(&d1), ar_release(&d2), ar_release(&ds);
  }
  ar_release(&base), ar_release(&gb), ar_release(&xt), ar_release(&gt);
  ar_release(&xc), ar_release(&gc);
  ar_ctx_release(C);
}

/* ---------- parameter checks ---------- */

Test(act, parameter_validation) {
  ar_ctx *C = ar_ctx_new();
  ar_tensor x = mk1(C, 4), y;
  ar_fill(C, &x, 1.0f);
  double bad_ht[2] = {1, -1}, bad_sp[2] = {0, 20}, bad_rr[2] = {0.5, 0.1}, nanp[1] = {NAN};
  cr_expect_eq(act_forward(C, act_find("hardtanh"), &y, &x, bad_ht), AR_EARG);
  cr_expect(strstr(ar_errmsg(C), "min_val"), "%s", ar_errmsg(C));
  cr_expect(y.st == NULL);
  cr_expect_eq(act_forward(C, act_find("softplus"), &y, &x, bad_sp), AR_EARG);
  cr_expect(strstr(ar_errmsg(C), "beta"), "%s", ar_errmsg(C));
  cr_expect_eq(act_forward(C, act_find("rrelu"), &y, &x, bad_rr), AR_EARG);
  cr_expect_eq(act_forward(C, act_find("elu"), &y, &x, nanp), AR_EARG);
  cr_expect(strstr(ar_errmsg(C), "alpha"), "%s", ar_errmsg(C));
  ar_tensor g = mk1(C, 3);
  cr_expect_eq(act_backward(C, act_find("relu"), &y, &x, &g, NULL), AR_ESHAPE);
  cr_expect(act_find("nope") == NULL);
  ar_release(&x), ar_release(&g);
  ar_ctx_release(C);
}

Test(act, registry_is_complete_and_consistent) {
  const char *req[] = {"identity", "step", "sigmoid", "hard_sigmoid", "tanh", "hardtanh",
                       "softsign", "relu", "relu6", "leaky_relu", "prelu", "rrelu", "elu",
                       "selu", "celu", "gelu", "gelu_tanh", "silu", "swish", "mish",
                       "softplus", "logsigmoid", "hardswish", "tanhshrink", "softshrink",
                       "hardshrink", "sin", "cos", "gaussian"};
  for (size_t i = 0; i < sizeof req / sizeof *req; i++) cr_expect(act_find(req[i]), "%s", req[i]);
  for (int k = 0; k < act_count; k++) {
    const act_def *a = &act_table[k];
    cr_expect(a->family && a->formula && a->scalar, "%s", a->name);
    for (int lv = 0; lv < AR_SIMD_NLEVELS; lv++) {
      const act_level *L = act_level_at(lv);
      if (L)
        cr_expect(L->k[k].forward && L->k[k].backward && L->k[k].second, "%s at %s", a->name,
                  ar_simd_name(lv));
    }
    for (int j = 0; j < k; j++) cr_expect(strcmp(a->name, act_table[j].name) != 0);
  }
  cr_expect(act_find("prelu")->learnable);
}

/* ---------- softmax ---------- */

Test(act, softmax_rows_sum_to_one_and_stable) {
  ar_ctx *C = ar_ctx_new();
  int64_t shape[3] = {3, 5, 7};
  ar_tensor x = mk(C, 3, shape);
  for (int64_t i = 0; i < 105; i++) ar_data(&x)[i] = (float)(urand() * 2e4 - 1e4);
  ar_data(&x)[0] = 1e4f, ar_data(&x)[7] = -1e4f;
  for (int dim = 0; dim < 3; dim++) {
    ar_tensor y, ly;
    cr_assert_eq(act_softmax(C, &y, &x, dim, false), AR_OK);
    cr_assert_eq(act_softmax(C, &ly, &x, dim, true), AR_OK);
    ar_tensor s;
    cr_assert_eq(ar_reduce(C, AR_SUM, &s, &y, dim, false, 2, 0), AR_OK);
    for (int64_t i = 0; i < ar_numel(&s); i++) cr_expect(fabs(ar_data(&s)[i] - 1) < 1e-6);
    for (int64_t i = 0; i < 105; i++) {
      cr_expect(isfinite(ar_data(&ly)[i]) && ar_data(&ly)[i] <= 0);
      cr_expect(fabs(expf(ar_data(&ly)[i]) - ar_data(&y)[i]) < 1e-6);
    }
    ar_release(&y), ar_release(&ly), ar_release(&s);
  }
  /* a known value: softmax{1,2,3} */
  ar_tensor v = mk1(C, 3), y;
  ar_data(&v)[0] = 1, ar_data(&v)[1] = 2, ar_data(&v)[2] = 3;
  cr_assert_eq(act_softmax(C, &y, &v, 0, false), AR_OK);
  double z = exp(1) + exp(2) + exp(3);
  for (int i = 0; i < 3; i++) cr_expect(fabs(ar_data(&y)[i] - exp(i + 1) / z) < 1e-7);
  ar_release(&y);
  cr_expect_eq(act_softmax(C, &y, &v, 1, false), AR_EARG);
  ar_release(&v), ar_release(&x);
  ar_ctx_release(C);
}

/* Backward against central differences of sum(w * softmax(x)) in double. */
Test(act, softmax_backward_matches_finite_differences) {
  ar_ctx *C = ar_ctx_new();
  int64_t shape[2] = {4, 6};
  ar_tensor x = mk(C, 2, shape), w = mk(C, 2, shape);
  for (int i = 0; i < 24; i++) {
    ar_data(&x)[i] = (float)(urand() * 6 - 3);
    ar_data(&w)[i] = (float)(urand() * 2 - 1);
  }
  for (int lg = 0; lg < 2; lg++)
    for (int dim = 0; dim < 2; dim++) {
      ar_tensor y, dx;
      cr_assert_eq(act_softmax(C, &y, &x, dim, lg), AR_OK);
      cr_assert_eq(act_softmax_backward(C, &dx, &y, &w, dim, lg), AR_OK);
      for (int i = 0; i < 24; i++) {
        float keep = ar_data(&x)[i];
        double loss[2];
        for (int sgn = 0; sgn < 2; sgn++) {
          ar_data(&x)[i] = keep + (sgn ? 1e-2f : -1e-2f);
          ar_tensor yy;
          act_softmax(C, &yy, &x, dim, lg);
          loss[sgn] = 0;
          for (int j = 0; j < 24; j++) loss[sgn] += (double)ar_data(&w)[j] * ar_data(&yy)[j];
          ar_release(&yy);
        }
        double h = (double)(keep + 1e-2f) - (double)(keep - 1e-2f);
        ar_data(&x)[i] = keep;
        cr_expect(fabs((loss[1] - loss[0]) / h - ar_data(&dx)[i]) < 2e-4, "log=%d dim=%d i=%d",
                  lg, dim, i);
      }
      ar_release(&y), ar_release(&dx);
    }
  ar_release(&x), ar_release(&w);
  ar_ctx_release(C);
}

/* ---------- prelu, rrelu ---------- */

Test(act, prelu_per_channel_and_shared) {
  ar_ctx *C = ar_ctx_new();
  int64_t shape[3] = {2, 3, 4}, three = 3;
  ar_tensor x = mk(C, 3, shape), g = mk(C, 3, shape), w = mk(C, 1, &three), w1 = mk1(C, 1);
  for (int i = 0; i < 24; i++) {
    ar_data(&x)[i] = (float)(urand() * 4 - 2);
    ar_data(&g)[i] = (float)(urand() * 2 - 1);
  }
  ar_data(&w)[0] = 0.1f, ar_data(&w)[1] = -0.5f, ar_data(&w)[2] = 2.0f;
  ar_data(&w1)[0] = 0.25f;
  ar_tensor y, dx, dw;
  cr_assert_eq(act_prelu_forward(C, &y, &x, &w), AR_OK);
  cr_assert_eq(act_prelu_backward(C, &dx, &dw, &x, &w, &g), AR_OK);
  double acc[3] = {0};
  for (int i = 0; i < 24; i++) {
    int c = (i / 4) % 3;
    float xv = ar_data(&x)[i], s = ar_data(&w)[c];
    cr_expect(ar_data(&y)[i] == (xv > 0 ? xv : xv * s));
    cr_expect(ar_data(&dx)[i] == (xv > 0 ? ar_data(&g)[i] : ar_data(&g)[i] * s));
    if (xv <= 0) acc[c] += (double)xv * ar_data(&g)[i];
  }
  for (int c = 0; c < 3; c++) cr_expect(fabs(ar_data(&dw)[c] - acc[c]) < 1e-6);
  ar_release(&y), ar_release(&dx), ar_release(&dw);
  cr_assert_eq(act_prelu_backward(C, &dx, &dw, &x, &w1, &g), AR_OK);
  double all = 0;
  for (int i = 0; i < 24; i++)
    if (ar_data(&x)[i] <= 0) all += (double)ar_data(&x)[i] * ar_data(&g)[i];
  cr_expect(ar_numel(&dw) == 1 && fabs(ar_data(&dw)[0] - all) < 1e-6);
  ar_release(&dx), ar_release(&dw);
  ar_tensor w4 = mk1(C, 4);
  cr_expect_eq(act_prelu_forward(C, &y, &x, &w4), AR_ESHAPE);
  ar_release(&x), ar_release(&g), ar_release(&w), ar_release(&w1), ar_release(&w4);
  ar_ctx_release(C);
}

Test(act, rrelu_training_samples_in_range_and_is_thread_independent) {
  ar_ctx *C = ar_ctx_new();
  ar_tensor x = mk1(C, LARGE);
  for (int64_t i = 0; i < LARGE; i++) ar_data(&x)[i] = (float)(urand() * 2 - 1);
  ar_tensor y1, n1, y2, n2;
  ar_set_num_threads(C, 1);
  ar_manual_seed(C, 7);
  cr_assert_eq(act_rrelu_train(C, &y1, &n1, &x, 0.125, 1.0 / 3.0), AR_OK);
  ar_set_num_threads(C, 2);
  ar_manual_seed(C, 7);
  cr_assert_eq(act_rrelu_train(C, &y2, &n2, &x, 0.125, 1.0 / 3.0), AR_OK);
  cr_expect(bitwise_eq(&y1, &y2) && bitwise_eq(&n1, &n2));
  double sum = 0;
  int64_t cnt = 0, bad = 0;
  for (int64_t i = 0; i < LARGE; i++) {
    float xv = ar_data(&x)[i], s = ar_data(&n1)[i];
    if (xv > 0) {
      bad += !(s == 1.0f && ar_data(&y1)[i] == xv);
    } else {
      bad += !(s >= 0.125f && s < (float)(1.0 / 3.0) && ar_data(&y1)[i] == xv * s);
      sum += s, cnt++;
    }
  }
  cr_expect(bad == 0, "%lld bad samples", (long long)bad);
  cr_expect(fabs(sum / cnt - (0.125 + 1.0 / 3.0) / 2) < 1e-3, "mean slope %g", sum / cnt);
  ar_tensor y3, n3;
  cr_expect_eq(act_rrelu_train(C, &y3, &n3, &x, 0.5, 0.1), AR_EARG);
  ar_release(&y1), ar_release(&n1), ar_release(&y2), ar_release(&n2), ar_release(&x);
  ar_ctx_release(C);
}

/* ---------- f'': the float kernels of every level vs the double scalar ----------
 * Tolerance: |float - double| <= RTOL2 |double| + atol. Measured with FMA on this grid
 * (ACTRUN_ACT_REPORT prints the maxima), the relative errors where |f''| > 1e-3 stay below
 * 1e-6 at every level; RTOL2 leaves a factor 2 for the baseline x86 level, which has no
 * FMA and rounds twice. The default atol only absorbs results below float's normal range.
 * Looser absolute bounds, with the reason:
 * - gelu_tanh: the float argument 2u = 2k (x + c x^3) carries ~4 roundings (2.4e-7
 *   relative) that exp(-|2u|) turns into a relative error of |2u| * 2.4e-7 (2e-6 at
 *   x = 7, where f'' is 3e-13): absolute 1e-7 as for its f'.
 * - f'' crosses zero where two terms of the same size cancel: silu/swish (x ~ 2.4,
 *   2 + x (1 - 2s) = 0), mish, gelu (x = sqrt 2, 2 - x^2 = 0), gelu_tanh, gaussian (x =
 *   1 / sqrt 2): the rounding of the terms is absolute there, 1e-7 of their size ~1.
 * - sin, cos: the zeros of -sin, -cos at multiples of pi/2 (SLEEF's error is relative to
 *   the argument's reduction there). */
#define RTOL2 2e-6
static const tol_entry tols2[] = {
    {"gelu", 0, 1e-7}, {"gelu_tanh", 0, 1e-7}, {"silu", 0, 1e-7}, {"swish", 0, 1e-7},
    {"mish", 0, 1e-7}, {"gaussian", 0, 1e-7},  {"sin", 0, 1e-7},  {"cos", 0, 1e-7},
};
static double atol2_of(const act_def *a) {
  for (size_t i = 0; i < sizeof tols2 / sizeof *tols2; i++)
    if (strcmp(tols2[i].name, a->name) == 0) return tols2[i].atol_df;
  return TINY;
}

typedef struct {
  double max_rel, max_abs;
} acc2_stats;

/* f'' of entry a at level L over the accuracy grid, extremes and NaN, through the raw
 * kernel; plus, at the level in use, through act_second */
static void check_second(ar_ctx *C, const act_level *L, const act_def *a, const double *p,
                         acc2_stats *st, const char *ln) {
  int64_t n = NGRID + NEXT + 1;
  float *x = malloc((size_t)n * sizeof(float)), *d2 = malloc((size_t)n * sizeof(float));
  cr_assert(x && d2);
  for (int i = 0; i < NGRID; i++) x[i] = (float)(-30.0 + i * 1e-3);
  for (int i = 0; i < NEXT; i++) x[NGRID + i] = extremes[i];
  x[n - 1] = NAN;
  double pd[ACT_MAXPARAMS] = {0};
  float pf[ACT_MAXPARAMS] = {0};
  for (int i = 0; i < a->nparams; i++) pd[i] = p ? p[i] : a->params[i].def, pf[i] = (float)pd[i];
  L->k[a - act_table].second(x, d2, n, pf);
  double atol = atol2_of(a);
  int64_t nbad = 0;
  char first[256] = "";
  for (int64_t i = 0; i < n; i++) {
    double f, df, want;
    a->scalar(x[i], pd, &f, &df, &want);
    if (!same_nan_or_close(d2[i], want, RTOL2, atol) && nbad++ == 0)
      snprintf(first, sizeof first, "%s at %s, x=%.9g: f'' %.9g (want %.17g)", a->name, ln,
               (double)x[i], (double)d2[i], want);
    if (isfinite(want) && isfinite(d2[i]) && fabs(want) <= 1) {
      double e = fabs(d2[i] - want);
      if (e > st->max_abs) st->max_abs = e;
      if (fabs(want) > 1e-3 && e / fabs(want) > st->max_rel) st->max_rel = e / fabs(want);
    }
  }
  cr_expect(nbad == 0, "%lld mismatches; first: %s", (long long)nbad, first);
  free(x), free(d2);
}

Test(act, second_kernels_match_double_scalar_at_every_level) {
  ar_ctx *C = ar_ctx_new();
  bool report = getenv("ACTRUN_ACT_REPORT") != NULL;
  int levels = 0;
  for (int lv = 0; lv < AR_SIMD_NLEVELS; lv++) {
    const act_level *L = act_level_at(lv);
    if (!L) continue;
    levels++;
    const char *ln = ar_simd_name(lv);
    for (int k = 0; k < act_count; k++) {
      const act_def *a = &act_table[k];
      acc2_stats st = {0};
      check_second(C, L, a, NULL, &st, ln);
      for (size_t j = 0; j < sizeof alts / sizeof *alts; j++)
        if (strcmp(alts[j].name, a->name) == 0) check_second(C, L, a, alts[j].p, &st, ln);
      if (report)
        fprintf(stderr, "f'' %-8s %-12s rel %10.2e abs %10.2e  (rel: where |ref| > 1e-3)\n", ln,
                a->name, st.max_rel, st.max_abs);
    }
  }
  cr_expect(levels >= 1 && act_level_at(AR_SIMD_BASELINE));
  ar_ctx_release(C);
}

/* act_second: the level in use's kernel, the same bits for contiguous and strided x and
 * on 1 or 2 threads over a size that is split; a new tensor of x's shape */
Test(act, second_strided_and_threads_bitwise_identical) {
  ar_ctx *C = ar_ctx_new();
  int64_t shape[2] = {1024, LARGE / 1024 + 3};
  ar_tensor base = mk(C, 2, shape);
  int64_t n = ar_numel(&base);
  for (int64_t i = 0; i < n; i++) ar_data(&base)[i] = (float)(urand() * 60 - 30);
  ar_data(&base)[5] = NAN;
  ar_data(&base)[77] = INFINITY;
  ar_data(&base)[78] = -INFINITY;
  ar_tensor xt, xc;
  cr_assert_eq(ar_transpose(C, &xt, &base, 0, 1), AR_OK);
  cr_assert_eq(ar_clone(C, &xc, &xt), AR_OK);
  const float *xp = ar_data(&xc);
  float *ref = malloc((size_t)n * sizeof(float));
  cr_assert(ref);
  for (int k = 0; k < act_count; k++) {
    const act_def *a = &act_table[k];
    ar_tensor s1, s2, ss;
    ar_set_num_threads(C, 1);
    cr_assert_eq(act_second(C, a, &s1, &xc, NULL), AR_OK, "%s: %s", a->name, ar_errmsg(C));
    ar_set_num_threads(C, 2);
    cr_assert_eq(act_second(C, a, &s2, &xc, NULL), AR_OK);
    cr_assert_eq(act_second(C, a, &ss, &xt, NULL), AR_OK);
    cr_expect(ss.ndim == 2 && ss.shape[0] == xt.shape[0] && ss.shape[1] == xt.shape[1]);
    cr_expect(bitwise_eq(&s1, &s2) && bitwise_eq(&s1, &ss), "%s f''", a->name);
    /* the kernel on the whole array in one call (no split) */
    float pf[ACT_MAXPARAMS];
    for (int i = 0; i < a->nparams; i++) pf[i] = (float)a->params[i].def;
    act_kern(a)->second(xp, ref, n, pf);
    cr_expect(memcmp(ref, ar_data(&s1), (size_t)n * sizeof(float)) == 0, "%s: split", a->name);
    ar_release(&s1), ar_release(&s2), ar_release(&ss);
  }
  double bad[2] = {1, -1};
  ar_tensor y;
  cr_expect_eq(act_second(C, act_find("hardtanh"), &y, &xc, bad), AR_EARG);
  cr_expect(y.st == NULL);
  free(ref);
  ar_release(&base), ar_release(&xt), ar_release(&xc);
  ar_ctx_release(C);
}

/* The double f'' against central differences of the double f', away from kinks */
Test(act, scalar_second_derivative_matches_finite_differences) {
  const double h = 1e-5;
  for (int k = 0; k < act_count; k++) {
    const act_def *a = &act_table[k];
    for (int alt = -1; alt < (int)(sizeof alts / sizeof *alts); alt++) {
      if (alt >= 0 && strcmp(alts[alt].name, a->name) != 0) continue;
      double p[ACT_MAXPARAMS];
      for (int i = 0; i < a->nparams; i++) p[i] = alt >= 0 ? alts[alt].p[i] : a->params[i].def;
      int64_t bad = 0;
      char first[200] = "";
      for (int i = 0; i < 4000; i++) {
        double x = -20.0 + (i + 0.37) * 0.01, f, dm, dp, d0, d2, t;
        a->scalar(x - h, p, &f, &dm, &t);
        a->scalar(x + h, p, &f, &dp, &t);
        a->scalar(x, p, &f, &d0, &d2);
        double fd = (dp - dm) / (2 * h), left = (d0 - dm) / h, right = (dp - d0) / h;
        if (fabs(left - right) > 1e-3 * (1 + fabs(fd))) continue; /* a kink within h */
        if (!(fabs(fd - d2) <= 1e-6 * (1 + fabs(d2))) && bad++ == 0)
          snprintf(first, sizeof first, "x=%.6g: scalar %.12g, fd %.12g", x, d2, fd);
      }
      cr_expect(bad == 0, "%s'' (params %g, %g): %lld mismatches, first %s", a->name, p[0], p[1],
                (long long)bad, first);
    }
  }
}

/* Values of f'' at kinks (the one-sided values PyTorch's double backward uses), in a far
 * tail, and known maxima */
Test(act, second_derivative_conventions_and_known_values) {
  double f, df, d2, sp[2] = {1, 20}, al[1] = {0.5};
  const char *zero_everywhere[] = {"identity", "step",       "hard_sigmoid", "hardtanh",
                                   "relu",     "relu6",      "leaky_relu",   "prelu",
                                   "rrelu",    "softshrink", "hardshrink"};
  for (size_t i = 0; i < sizeof zero_everywhere / sizeof *zero_everywhere; i++)
    for (double x = -7; x <= 7; x += 0.25) {
      scal2(zero_everywhere[i], x, NULL, &f, &df, &d2);
      cr_expect(d2 == 0, "%s''(%g) = %g", zero_everywhere[i], x, d2);
    }
  scal2("elu", 0, NULL, &f, &df, &d2);
  cr_expect(d2 == 1, "elu''(0) = alpha (the exponential side): %g", d2);
  scal2("elu", 0, al, &f, &df, &d2);
  cr_expect(d2 == 0.5);
  scal2("elu", 1e-9, NULL, &f, &df, &d2);
  cr_expect(d2 == 0);
  scal2("celu", 0, (double[]){2.0}, &f, &df, &d2);
  cr_expect(d2 == 0.5);
  scal2("softsign", 0, NULL, &f, &df, &d2);
  cr_expect(d2 == 0, "softsign''(0) = %g", d2);
  scal2("softsign", 1e-12, NULL, &f, &df, &d2);
  cr_expect(fabs(d2 + 2) < 1e-9);
  scal2("hardswish", 3, NULL, &f, &df, &d2);
  cr_expect(d2 == 0);
  scal2("hardswish", -3, NULL, &f, &df, &d2);
  cr_expect(d2 == 0);
  scal2("hardswish", 0, NULL, &f, &df, &d2);
  cr_expect(d2 == 1.0 / 3.0);
  scal2("softplus", 20.5, sp, &f, &df, &d2);
  cr_expect(d2 == 0); /* linear above the threshold */
  scal2("softplus", 0, sp, &f, &df, &d2);
  cr_expect(d2 == 0.25);
  /* the far tail without cancellation: silu''(40.41080093383789) from mpmath */
  scal2("silu", 40.41080093383789, NULL, &f, &df, &d2);
  cr_expect(fabs(d2 / -1.0820952937772137233e-16 - 1) < 1e-12, "silu'' = %.17g", d2);
  scal2("sigmoid", -700, NULL, &f, &df, &d2);
  cr_expect(d2 > 0 && fabs(d2 / exp(-700) - 1) < 1e-12, "sigmoid''(-700) = %g", d2);
  scal2("tanh", atanh(1 / sqrt(3.0)), NULL, &f, &df, &d2);
  cr_expect(fabs(d2 + 4 / (3 * sqrt(3.0))) < 1e-15, "max |tanh''| = 4/(3 sqrt 3): %.17g", d2);
  scal2("gelu", 0, NULL, &f, &df, &d2);
  cr_expect(fabs(d2 - 2 * 0.39894228040143267794) < 1e-15);
  scal2("gaussian", 0, NULL, &f, &df, &d2);
  cr_expect(d2 == -2);
  scal2("sigmoid", INFINITY, NULL, &f, &df, &d2);
  cr_expect(d2 == 0);
  scal2("mish", INFINITY, NULL, &f, &df, &d2);
  cr_expect(d2 == 0);
  scal2("gelu_tanh", -INFINITY, NULL, &f, &df, &d2);
  cr_expect(d2 == 0);
}
