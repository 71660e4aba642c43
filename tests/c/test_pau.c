/* The Padé activation unit's kernels (src/act/pau_kernels.h through act_pau_forward /
 * act_pau_backward) against a double-precision reference, in the shared, per-channel
 * {N, C} (column) and per-channel {N, C, L} (row) forms, with ragged lengths; and the
 * same bits at every thread count. Runs at every SIMD level (tests/CMakeLists.txt). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "act/act.h"
#include "core/ctx.h"

TestSuite(pau, .timeout = 120);

static ar_tensor mk(ar_ctx *C, int nd, const int64_t *shape) {
  ar_tensor t;
  int rc = ar_empty(C, &t, nd, shape);
  cr_assert_eq(rc, AR_OK, "ar_empty: %s", ar_errmsg(C));
  return t;
}

static uint64_t rs = 0x9E3779B97F4A7C15ull;
static double urand(void) {
  rs ^= rs << 13, rs ^= rs >> 7, rs ^= rs << 17;
  return (double)(rs >> 11) / 9007199254740992.0;
}
static void fill(ar_tensor *t, double lo, double hi) {
  float *p = ar_data(t);
  for (int64_t i = 0; i < ar_numel(t); i++) p[i] = (float)(lo + (hi - lo) * urand());
}

/* f, f' and the coefficient derivatives at x in double */
static void ref(double x, const float *a, int m, const float *b, int n, double *f, double *df,
                double *da, double *db) {
  double p = 0, dp = 0, q = 0, dq = 0, xp = 1;
  for (int k = 0; k <= m; k++) {
    p += a[k] * xp;
    if (k < m) dp += (k + 1) * a[k + 1] * xp;
    xp *= x;
  }
  xp = 1;
  for (int j = 1; j <= n; j++) {
    dq += j * b[j - 1] * xp;
    xp *= x;
    q += b[j - 1] * xp;
  }
  double d = 1 + fabs(q), s = q > 0 ? 1 : (q < 0 ? -1 : 0);
  *f = p / d;
  *df = (dp - *f * s * dq) / d;
  xp = 1;
  for (int k = 0; k <= m; k++) da[k] = xp / d, xp *= x;
  xp = x;
  for (int j = 1; j <= n; j++) db[j - 1] = -*f * s * xp / d, xp *= x;
}

/* x of shape xs; coefficient sets: nch (1: shared, 1-D coefficients) */
static void check_case(int nd, const int64_t *xs, int64_t nch, int m, int n) {
  ar_ctx *C = ar_ctx_new();
  int64_t as[2] = {nch, m + 1}, bs[2] = {nch, n};
  int cd = nch > 1 ? 2 : 1;
  ar_tensor x = mk(C, nd, xs), dy = mk(C, nd, xs);
  ar_tensor a = mk(C, cd, cd == 2 ? as : &as[1]), b = mk(C, cd, cd == 2 ? bs : &bs[1]);
  fill(&x, -3, 3), fill(&dy, -1, 1), fill(&a, -0.5, 0.5), fill(&b, -0.5, 0.5);
  ar_tensor y, dx, da, db;
  cr_assert_eq(act_pau_forward(C, &y, &x, &a, &b), AR_OK, "%s", ar_errmsg(C));
  cr_assert_eq(act_pau_backward(C, &dx, &da, &db, &x, &a, &b, &dy), AR_OK, "%s", ar_errmsg(C));
  int64_t N = ar_numel(&x), inner = 1;
  for (int i = 2; i < nd; i++) inner *= xs[i];
  double *ga = calloc((size_t)(nch * (m + 1)), sizeof(double));
  double *gb = calloc((size_t)(nch * n), sizeof(double));
  double *gsa = calloc((size_t)(nch * (m + 1)), sizeof(double)); /* sums of |terms| */
  double *gsb = calloc((size_t)(nch * n), sizeof(double));
  const float *px = ar_data(&x), *pg = ar_data(&dy), *pa = ar_data(&a), *pb = ar_data(&b);
  for (int64_t i = 0; i < N; i++) {
    int64_t c = nch > 1 ? (i / inner) % nch : 0;
    double f, df, da1[13], db1[13];
    ref(px[i], pa + c * (m + 1), m, pb + c * n, n, &f, &df, da1, db1);
    float yf = ((float *)ar_data(&y))[i], dxf = ((float *)ar_data(&dx))[i];
    cr_assert(fabs(yf - f) <= 1e-5 * (1 + fabs(f)), "f at %lld: %g vs %g", (long long)i, yf, f);
    cr_assert(fabs(dxf - pg[i] * df) <= 1e-4 * (1 + fabs(pg[i] * df)), "dx at %lld: %g vs %g",
              (long long)i, dxf, pg[i] * df);
    for (int k = 0; k <= m; k++)
      ga[c * (m + 1) + k] += pg[i] * da1[k], gsa[c * (m + 1) + k] += fabs(pg[i] * da1[k]);
    for (int j = 0; j < n; j++) gb[c * n + j] += pg[i] * db1[j], gsb[c * n + j] += fabs(pg[i] * db1[j]);
  }
  for (int64_t k = 0; k < nch * (m + 1); k++)
    cr_assert(fabs(((float *)ar_data(&da))[k] - ga[k]) <= 1e-5 * (1 + gsa[k]), "da[%lld]: %g vs %g",
              (long long)k, ((float *)ar_data(&da))[k], ga[k]);
  for (int64_t k = 0; k < nch * n; k++)
    cr_assert(fabs(((float *)ar_data(&db))[k] - gb[k]) <= 1e-5 * (1 + gsb[k]), "db[%lld]: %g vs %g",
              (long long)k, ((float *)ar_data(&db))[k], gb[k]);
  free(ga), free(gb), free(gsa), free(gsb);
  ar_release(&x), ar_release(&dy), ar_release(&a), ar_release(&b);
  ar_release(&y), ar_release(&dx), ar_release(&da), ar_release(&db);
  ar_ctx_release(C);
}

Test(pau, shared_matches_double_reference) {
  int64_t s1[1] = {1003}, s2[2] = {7, 33};
  check_case(1, s1, 1, 5, 4);
  check_case(2, s2, 1, 3, 2);
  check_case(1, s1, 1, 12, 12);
  int64_t s3[1] = {3}; /* shorter than a vector */
  check_case(1, s3, 1, 5, 4);
}

Test(pau, per_channel_matches_double_reference) {
  int64_t cols[2] = {37, 5}, cols_wide[2] = {9, 41}, rows[3] = {3, 4, 11}, img[4] = {2, 3, 5, 7};
  check_case(2, cols, 5, 5, 4);
  check_case(2, cols_wide, 41, 4, 3);
  check_case(3, rows, 4, 5, 4);
  check_case(4, img, 3, 5, 4);
}

/* large enough to be split across threads and blocks */
static void run_threads(int nt, int nd, const int64_t *xs, int64_t nch, ar_tensor out[4]) {
  ar_ctx *C = ar_ctx_new();
  ar_set_num_threads(C, nt);
  rs = 12345;
  int64_t as[2] = {nch, 6}, bs[2] = {nch, 4};
  int cd = nch > 1 ? 2 : 1;
  ar_tensor x = mk(C, nd, xs), dy = mk(C, nd, xs);
  ar_tensor a = mk(C, cd, cd == 2 ? as : &as[1]), b = mk(C, cd, cd == 2 ? bs : &bs[1]);
  fill(&x, -3, 3), fill(&dy, -1, 1), fill(&a, -0.5, 0.5), fill(&b, -0.5, 0.5);
  cr_assert_eq(act_pau_forward(C, &out[0], &x, &a, &b), AR_OK);
  cr_assert_eq(act_pau_backward(C, &out[1], &out[2], &out[3], &x, &a, &b, &dy), AR_OK);
  ar_release(&x), ar_release(&dy), ar_release(&a), ar_release(&b);
  ar_ctx_release(C);
}

Test(pau, same_bits_at_every_thread_count) {
  int64_t s1[1] = {300001}, s2[2] = {4001, 64}, s4[4] = {16, 4, 61, 63};
  struct { int nd; const int64_t *s; int64_t nch; } cases[] = {{1, s1, 1}, {2, s2, 64}, {4, s4, 4}};
  for (int c = 0; c < 3; c++) {
    ar_tensor r1[4], r2[4];
    run_threads(1, cases[c].nd, cases[c].s, cases[c].nch, r1);
    run_threads(3, cases[c].nd, cases[c].s, cases[c].nch, r2);
    for (int k = 0; k < 4; k++) {
      cr_assert_eq(ar_numel(&r1[k]), ar_numel(&r2[k]));
      cr_assert(memcmp(ar_data(&r1[k]), ar_data(&r2[k]), sizeof(float) * (size_t)ar_numel(&r1[k])) == 0,
                "case %d output %d differs between 1 and 3 threads", c, k);
      ar_release(&r1[k]), ar_release(&r2[k]);
    }
  }
}
