/* The B-spline basis kernels (src/core/bs_kernels.h) against a double reference on
 * general knots (the textbook Cox-de Boor recursion, no uniform-grid shortcut): values
 * and derivatives, over lengths that exercise vector bodies and ragged tails; every level
 * this CPU runs gives the same bits; the fused dot equals the table's row sums; bad grids
 * are refused. The suite also runs at ACTRUN_SIMD=avx2 and baseline (tests/CMakeLists.txt). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/bs_level.h"
#include "core/bspline.h"
#include "core/core.h"

/* B_{j,p}(x) on knots t, half-open intervals */
static double ref_b(const double *t, int j, int p, double x) {
  if (p == 0) return t[j] <= x && x < t[j + 1] ? 1.0 : 0.0;
  double a = (x - t[j]) / (t[j + p] - t[j]) * ref_b(t, j, p - 1, x);
  double b = (t[j + p + 1] - x) / (t[j + p + 1] - t[j + 1]) * ref_b(t, j + 1, p - 1, x);
  return a + b;
}
/* its d-th derivative: B' = p/(t_{j+p}-t_j) B_{j,p-1} - p/(t_{j+p+1}-t_{j+1}) B_{j+1,p-1} */
static double ref_d(const double *t, int j, int p, int d, double x) {
  if (d == 0) return ref_b(t, j, p, x);
  if (p == 0) return 0.0;
  return p / (t[j + p] - t[j]) * ref_d(t, j, p - 1, d - 1, x) -
         p / (t[j + p + 1] - t[j + 1]) * ref_d(t, j + 1, p - 1, d - 1, x);
}

static void knots(const ar_bspline *p, double *t) {
  double h = (p->hi - p->lo) / p->grid;
  for (int j = 0; j <= p->grid + 2 * p->order; j++) t[j] = p->lo + (j - p->order) * h;
}

/* n points over the extended grid and a little beyond, off the knots */
static void points(float *x, int n, const ar_bspline *p) {
  double h = (p->hi - p->lo) / p->grid;
  double a = p->lo - (p->order + 0.5) * h, b = p->hi + (p->order + 0.5) * h;
  for (int i = 0; i < n; i++) {
    double v = a + (b - a) * ((i * 37) % n + 0.37) / n;
    double u = (v - p->lo) / h;
    if (fabs(u - round(u)) < 0.01) v += 0.02 * h;
    x[i] = (float)v;
  }
}

static ar_tensor from(ar_ctx *C, const float *v, int64_t n) {
  ar_tensor t;
  cr_assert_eq(ar_empty(C, &t, 1, &n), AR_OK);
  memcpy(ar_data(&t), v, sizeof(float) * (size_t)n);
  return t;
}

static const ar_bspline GRIDS[] = {
    {-1, 1, 5, 3}, {-1, 1, 10, 3}, {0, 2, 4, 2}, {-2, 1, 3, 1}, {-1, 1, 7, 0}, {-3, 3, 6, 5}};

Test(bspline, basis_and_derivatives_match_the_recursion) {
  ar_ctx *C = ar_ctx_new();
  for (size_t gi = 0; gi < sizeof GRIDS / sizeof *GRIDS; gi++) {
    const ar_bspline *p = &GRIDS[gi];
    double t[64];
    knots(p, t);
    double h = (p->hi - p->lo) / p->grid;
    for (int n = 1; n <= 45; n += 4) {
      float x[64];
      points(x, n, p);
      ar_tensor xt = from(C, x, n);
      for (int d = 0; d <= 3; d++) {
        ar_tensor b;
        cr_assert_eq(ar_bspline_basis(C, &b, &xt, p, d), AR_OK, "%s", ar_errmsg(C));
        int64_t M = ar_bspline_count(p);
        cr_assert_eq(b.ndim, 2); /* {M, n}: the functions before the features */
        cr_assert_eq(b.shape[0], M);
        cr_assert_eq(b.shape[1], n);
        const float *v = ar_data(&b);
        double tol = 3e-6 * pow(1.0 / h, d) * (1 + p->order);
        for (int i = 0; i < n; i++)
          for (int m = 0; m < M; m++) {
            double want = ref_d(t, m, p->order, d, x[i]);
            cr_assert(fabs(v[m * n + i] - want) <= tol, "grid %d order %d d%d x %g B_%d: %g vs %g",
                      p->grid, p->order, d, x[i], m, v[m * n + i], want);
          }
        ar_release(&b);
      }
      ar_release(&xt);
    }
  }
  ar_ctx_release(C);
}

Test(bspline, every_level_gives_the_same_bits) {
  const ar_bspline p = {-1, 1, 5, 3};
  enum { n = 53 };
  float x[n], gy[n * 8];
  points(x, n, &p);
  for (int i = 0; i < n * 8; i++) gy[i] = (float)((i * 13) % 7) - 3.0f;
  bs_grid g = {-1.0f, 2.5f, 5, 3, 0};
  float ws[(5 + 7) * 16];
  float ref[n * 8], refd[n];
  const bs_level *base = bs_level_at(AR_SIMD_BASELINE);
  cr_assert_not_null(base);
  for (int d = 0; d <= 2; d++) {
    g.deriv = d;
    /* one row of n features, and n rows of one feature */
    base->basis(ref, x, 1, n, &g, ws);
    base->dot(refd, x, gy, 1, n, &g, ws);
    for (int lvl = 1; lvl < AR_SIMD_NLEVELS; lvl++) {
      const bs_level *k = bs_level_at(lvl);
      if (!k) continue;
      float out[n * 8], outd[n];
      k->basis(out, x, 1, n, &g, ws);
      k->dot(outd, x, gy, 1, n, &g, ws);
      cr_assert_eq(memcmp(out, ref, sizeof out), 0, "basis d%d at %s", d, ar_simd_name(lvl));
      cr_assert_eq(memcmp(outd, refd, sizeof outd), 0, "dot d%d at %s", d, ar_simd_name(lvl));
      /* n rows of one feature: the same values, the table transposed */
      float col[n * 8], cold[n];
      float gt[n * 8];
      for (int i = 0; i < n; i++)
        for (int m = 0; m < 8; m++) gt[i * 8 + m] = gy[m * n + i];
      k->basis(col, x, n, 1, &g, ws);
      k->dot(cold, x, gt, n, 1, &g, ws);
      for (int i = 0; i < n; i++)
        for (int m = 0; m < 8; m++)
          cr_assert_eq(col[i * 8 + m], ref[m * n + i], "rows: d%d at %s", d, ar_simd_name(lvl));
      for (int i = 0; i < n; i++)
        cr_assert(fabsf(cold[i] - refd[i]) <= 1e-5f * (1 + fabsf(refd[i])), "rows dot d%d", d);
    }
  }
}

Test(bspline, dot_is_the_rows_of_the_table_times_the_gradient) {
  ar_ctx *C = ar_ctx_new();
  const ar_bspline p = {-2, 3, 8, 3};
  enum { n = 29, M = 11 };
  float x[n], gv[n * M];
  points(x, n, &p);
  for (int i = 0; i < n * M; i++) gv[i] = (float)((i * 5) % 9) * 0.25f - 1.0f;
  ar_tensor xt = from(C, x, n), g;
  int64_t gs[2] = {M, n};
  cr_assert_eq(ar_empty(C, &g, 2, gs), AR_OK);
  memcpy(ar_data(&g), gv, sizeof gv);
  for (int d = 0; d <= 4; d++) {
    ar_tensor b, dot;
    cr_assert_eq(ar_bspline_basis(C, &b, &xt, &p, d), AR_OK);
    cr_assert_eq(ar_bspline_dot(C, &dot, &xt, &g, &p, d), AR_OK);
    for (int i = 0; i < n; i++) {
      double s = 0;
      for (int m = 0; m < M; m++) s += (double)ar_data(&b)[m * n + i] * gv[m * n + i];
      cr_assert(fabs(ar_data(&dot)[i] - s) <= 1e-4 * (1 + fabs(s)), "d%d x %g: %g vs %g", d,
                x[i], ar_data(&dot)[i], s);
    }
    ar_release(&b), ar_release(&dot);
  }
  ar_release(&xt), ar_release(&g);
  ar_ctx_release(C);
}

Test(bspline, partition_of_unity_and_zero_outside) {
  ar_ctx *C = ar_ctx_new();
  const ar_bspline p = {-1, 1, 5, 3};
  enum { n = 1000 };
  float x[n + 4];
  for (int i = 0; i < n; i++) x[i] = -1.0f + 2.0f * (float)i / n;
  x[n] = -2.3f, x[n + 1] = 2.3f, x[n + 2] = NAN, x[n + 3] = INFINITY;
  ar_tensor xt = from(C, x, n + 4), b;
  cr_assert_eq(ar_bspline_basis(C, &b, &xt, &p, 0), AR_OK);
  for (int i = 0; i < n + 4; i++) {
    double s = 0;
    for (int m = 0; m < 8; m++) s += ar_data(&b)[m * (n + 4) + i];
    if (i < n)
      cr_assert(fabs(s - 1) < 1e-6, "x %g: sum %g", x[i], s);
    else
      cr_assert(s == 0, "x %g: sum %g", x[i], s);
  }
  ar_release(&xt), ar_release(&b);
  ar_ctx_release(C);
}

Test(bspline, bad_grids_are_refused) {
  ar_ctx *C = ar_ctx_new();
  float v = 0;
  ar_tensor xt = from(C, &v, 1), b;
  const ar_bspline bad[] = {{-1, 1, 0, 3}, {-1, 1, 5, -1}, {-1, 1, 5, 9}, {1, -1, 5, 3},
                            {-1, INFINITY, 5, 3}, {-1, 1, AR_BSPLINE_MAX_GRID + 1, 3}};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    cr_assert_eq(ar_bspline_basis(C, &b, &xt, &bad[i], 0), AR_EARG, "case %zu", i);
  cr_assert_eq(ar_bspline_basis(C, &b, &xt, &GRIDS[0], -1), AR_EARG);
  ar_release(&xt);
  ar_ctx_release(C);
}
