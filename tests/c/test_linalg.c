/* ar_svdvals: known spectra, invariants (sum of squares = squared Frobenius norm, product
 * = |det|), strided views, wide and tall shapes, and the errors. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "core/core.h"
#include "core/linalg.h"

static void matrix_of(ar_ctx *C, ar_tensor *t, int64_t r, int64_t c, const float *v) {
  int64_t sh[] = {r, c};
  cr_assert_eq(ar_empty(C, t, 2, sh), AR_OK, "%s", ar_errmsg(C));
  for (int64_t i = 0; i < r * c; i++) ar_data(t)[i] = v[i];
}

static uint64_t lcg = 11;
static float rnd(void) {
  lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
  return (float)((double)(lcg >> 40) / (double)(1ULL << 24) * 2.0 - 1.0);
}

Test(linalg, known_two_by_two) {
  ar_ctx *C = ar_ctx_new();
  /* A^T A = [[25, 20], [20, 25]]: eigenvalues 45 and 5 */
  const float v[] = {3, 0, 4, 5};
  ar_tensor a, s;
  matrix_of(C, &a, 2, 2, v);
  cr_assert_eq(ar_svdvals(C, &s, &a), AR_OK, "%s", ar_errmsg(C));
  cr_assert_eq(s.ndim, 1);
  cr_assert_eq(s.shape[0], 2);
  cr_assert_float_eq(ar_data(&s)[0], sqrtf(45.0f), 1e-5);
  cr_assert_float_eq(ar_data(&s)[1], sqrtf(5.0f), 1e-5);
  ar_release(&s);
  ar_release(&a);
  ar_ctx_release(C);
}

Test(linalg, diagonal_comes_out_sorted) {
  ar_ctx *C = ar_ctx_new();
  const float v[] = {1, 0, 0, 0, -7, 0, 0, 0, 3};
  ar_tensor a, s;
  matrix_of(C, &a, 3, 3, v);
  cr_assert_eq(ar_svdvals(C, &s, &a), AR_OK, "%s", ar_errmsg(C));
  cr_assert_float_eq(ar_data(&s)[0], 7.0f, 1e-6);
  cr_assert_float_eq(ar_data(&s)[1], 3.0f, 1e-6);
  cr_assert_float_eq(ar_data(&s)[2], 1.0f, 1e-6);
  ar_release(&s);
  ar_release(&a);
  ar_ctx_release(C);
}

/* random square matrix: sum s^2 = ||A||_F^2 and prod s = |det A| (by LU here) */
Test(linalg, random_square_invariants) {
  ar_ctx *C = ar_ctx_new();
  enum { N = 6 };
  float v[N * N];
  double m[N][N], fro = 0.0;
  for (int i = 0; i < N * N; i++) {
    v[i] = rnd();
    m[i / N][i % N] = v[i];
    fro += (double)v[i] * v[i];
  }
  double det = 1.0; /* Gaussian elimination with partial pivoting */
  for (int c = 0; c < N; c++) {
    int p = c;
    for (int r = c + 1; r < N; r++)
      if (fabs(m[r][c]) > fabs(m[p][c])) p = r;
    if (p != c) {
      for (int j = 0; j < N; j++) {
        double t = m[c][j];
        m[c][j] = m[p][j];
        m[p][j] = t;
      }
      det = -det;
    }
    det *= m[c][c];
    for (int r = c + 1; r < N; r++) {
      double f = m[r][c] / m[c][c];
      for (int j = c; j < N; j++) m[r][j] -= f * m[c][j];
    }
  }
  ar_tensor a, s;
  matrix_of(C, &a, N, N, v);
  cr_assert_eq(ar_svdvals(C, &s, &a), AR_OK, "%s", ar_errmsg(C));
  double ss = 0.0, prod = 1.0;
  for (int i = 0; i < N; i++) {
    const double x = ar_data(&s)[i];
    if (i) cr_assert(ar_data(&s)[i - 1] >= ar_data(&s)[i], "descending");
    cr_assert(x >= 0.0);
    ss += x * x;
    prod *= x;
  }
  cr_assert(fabs(ss - fro) < 1e-5 * fro, "sum of squares %g vs %g", ss, fro);
  cr_assert(fabs(prod - fabs(det)) < 1e-4 * fabs(det) + 1e-7, "product %g vs |det| %g", prod, det);
  ar_release(&s);
  ar_release(&a);
  ar_ctx_release(C);
}

/* a wide matrix, its transposed view (strides swapped) and the tall copy agree */
Test(linalg, wide_tall_and_transposed_views) {
  ar_ctx *C = ar_ctx_new();
  enum { R = 3, K = 5 };
  float v[R * K], vt[K * R];
  for (int i = 0; i < R; i++)
    for (int j = 0; j < K; j++) vt[j * R + i] = v[i * K + j] = rnd();
  ar_tensor a, at, b, s1, s2, s3;
  matrix_of(C, &a, R, K, v);
  matrix_of(C, &b, K, R, vt);
  cr_assert_eq(ar_transpose(C, &at, &a, 0, 1), AR_OK);
  cr_assert_eq(ar_svdvals(C, &s1, &a), AR_OK, "%s", ar_errmsg(C));
  cr_assert_eq(ar_svdvals(C, &s2, &at), AR_OK, "%s", ar_errmsg(C));
  cr_assert_eq(ar_svdvals(C, &s3, &b), AR_OK, "%s", ar_errmsg(C));
  cr_assert_eq(s1.shape[0], R);
  cr_assert_eq(s2.shape[0], R);
  for (int i = 0; i < R; i++) {
    cr_assert_float_eq(ar_data(&s1)[i], ar_data(&s2)[i], 1e-6);
    cr_assert_float_eq(ar_data(&s1)[i], ar_data(&s3)[i], 1e-6);
  }
  ar_release(&s1);
  ar_release(&s2);
  ar_release(&s3);
  ar_release(&at);
  ar_release(&a);
  ar_release(&b);
  ar_ctx_release(C);
}

Test(linalg, errors_and_empty) {
  ar_ctx *C = ar_ctx_new();
  ar_tensor a, s;
  int64_t n = 4;
  cr_assert_eq(ar_empty(C, &a, 1, &n), AR_OK);
  cr_assert_eq(ar_svdvals(C, &s, &a), AR_ESHAPE);
  cr_assert_null(s.st);
  cr_assert(strstr(ar_errmsg(C), "2-D") != NULL, "%s", ar_errmsg(C));
  ar_release(&a);
  const float v[] = {1, NAN, 0, 1};
  matrix_of(C, &a, 2, 2, v);
  cr_assert_eq(ar_svdvals(C, &s, &a), AR_EARG);
  cr_assert_null(s.st);
  cr_assert(strstr(ar_errmsg(C), "entry (1, 2) is nan") != NULL, "%s", ar_errmsg(C));
  ar_release(&a);
  int64_t sh[] = {0, 3};
  cr_assert_eq(ar_empty(C, &a, 2, sh), AR_OK);
  cr_assert_eq(ar_svdvals(C, &s, &a), AR_OK, "%s", ar_errmsg(C));
  cr_assert_eq(s.ndim, 1);
  cr_assert_eq(s.shape[0], 0);
  ar_release(&s);
  ar_release(&a);
  ar_ctx_release(C);
}
