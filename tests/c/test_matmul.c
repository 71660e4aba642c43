/* matmul and gemm against a naive triple loop, with every operand layout sgemm can take
 * directly (and some it cannot), batching, broadcasting and the error messages. */
#include <cblas.h>
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

static uint64_t mm_lcg = 7;
static float rnd(void)
{
  mm_lcg = mm_lcg * 6364136223846793005ULL + 1442695040888963407ULL;
  return (float)((double)(mm_lcg >> 40) / (double)(1ULL << 24) * 2.0 - 1.0);
}

static void fill(ar_tensor *t)
{
  float *p = t->st->data;
  for (size_t i = 0; i < t->st->nbytes / sizeof(float); i++) p[i] = rnd();
}

static void make(ar_ctx *C, ar_tensor *t, int ndim, const int64_t *shape)
{
  cr_assert_eq(ar_empty(C, t, ndim, shape), AR_OK, "%s", ar_errmsg(C));
  fill(t);
}

enum { CONTIG, TRANSPOSED, NARROWED, NARROWED_T, STRIDED, NLAYOUT };
static const char *layout_name[] = {"contiguous", "transposed", "narrowed",
                                    "narrowed+transposed", "strided"};

/* An r x c matrix in the given layout (all views of a fresh random storage). */
static void matrix(ar_ctx *C, ar_tensor *t, int64_t r, int64_t c, int layout)
{
  ar_tensor base;
  switch (layout) {
  case CONTIG: {
    int64_t sh[] = {r, c};
    make(C, t, 2, sh);
    return;
  }
  case TRANSPOSED: { /* t:t() of a contiguous c x r: stride[0] == 1 */
    int64_t sh[] = {c, r};
    make(C, &base, 2, sh);
    cr_assert_eq(ar_transpose(C, t, &base, 0, 1), AR_OK);
    break;
  }
  case NARROWED: { /* row stride c + 5 > c */
    int64_t sh[] = {r, c + 5};
    make(C, &base, 2, sh);
    cr_assert_eq(ar_narrow(C, t, &base, 1, 2, c), AR_OK);
    break;
  }
  case NARROWED_T: { /* stride[0] == 1, column stride r + 4 > r */
    ar_tensor n;
    int64_t sh[] = {c, r + 4};
    make(C, &base, 2, sh);
    cr_assert_eq(ar_narrow(C, &n, &base, 1, 1, r), AR_OK);
    cr_assert_eq(ar_transpose(C, t, &n, 0, 1), AR_OK);
    ar_release(&n);
    break;
  }
  default: { /* no unit stride: sgemm cannot take it without a copy */
    int64_t sh[] = {r, c, 2};
    make(C, &base, 3, sh);
    cr_assert_eq(ar_select(C, t, &base, 2, 1), AR_OK);
    break;
  }
  }
  ar_release(&base);
}

/* t[b, i, j] of a 1-, 2- or 3-D operand, with matmul's promotion and batch broadcast */
static double el(const ar_tensor *t, bool left, int64_t b, int64_t i, int64_t j)
{
  const float *d = t->st->data + t->offset;
  if (t->ndim == 1) return d[(left ? j : i) * t->stride[0]];
  if (t->ndim == 2) return d[i * t->stride[0] + j * t->stride[1]];
  if (t->shape[0] == 1) b = 0;
  return d[b * t->stride[0] + i * t->stride[1] + j * t->stride[2]];
}

/* Checks out == a @ b elementwise (torch.matmul shapes). */
static void check_product(const ar_tensor *out, const ar_tensor *a, const ar_tensor *b,
                          const char *what)
{
  int64_t M = a->ndim == 1 ? 1 : a->shape[a->ndim - 2];
  int64_t K = a->shape[a->ndim - 1];
  int64_t N = b->ndim == 1 ? 1 : b->shape[b->ndim - 1];
  int64_t Ba = a->ndim == 3 ? a->shape[0] : 1, Bb = b->ndim == 3 ? b->shape[0] : 1;
  int64_t B = Ba > Bb ? Ba : Bb;
  /* the expected shape */
  int64_t shape[3];
  int nd = 0;
  if (a->ndim == 3 || b->ndim == 3) shape[nd++] = B;
  if (a->ndim > 1) shape[nd++] = M;
  if (b->ndim > 1) shape[nd++] = N;
  if (nd == 0) shape[nd++] = 1;
  cr_assert_eq(out->ndim, nd, "%s: ndim %d, expected %d", what, out->ndim, nd);
  for (int d = 0; d < nd; d++) cr_assert_eq(out->shape[d], shape[d], "%s: dim %d", what, d);
  cr_assert(ar_is_contiguous(out));
  const float *y = ar_data(out);
  for (int64_t bb = 0; bb < B; bb++)
    for (int64_t i = 0; i < M; i++)
      for (int64_t j = 0; j < N; j++) {
        double s = 0, mag = 0;
        for (int64_t k = 0; k < K; k++) {
          double p = el(a, true, bb, i, k) * el(b, false, bb, k, j);
          s += p;
          mag += fabs(p);
        }
        double got = y[(bb * M + i) * N + j];
        cr_assert(fabs(got - s) <= 1e-5 * mag + 1e-6,
                  "%s: [%lld,%lld,%lld] = %.8g, expected %.8g", what, (long long)bb,
                  (long long)i, (long long)j, got, s);
      }
}

static void mm_check(ar_ctx *C, const ar_tensor *a, const ar_tensor *b, const char *what)
{
  ar_tensor out;
  cr_assert_eq(ar_matmul(C, &out, a, b), AR_OK, "%s: %s", what, ar_errmsg(C));
  check_product(&out, a, b, what);
  ar_release(&out);
}

/* ---------- 2-D ---------- */

Test(matmul, odd_sizes_every_layout)
{
  ar_ctx *C = ar_ctx_new();
  const int64_t sz[] = {1, 7, 33, 65, 130};
  char what[160];
  for (int im = 0; im < 5; im++)
    for (int ik = 0; ik < 5; ik++)
      for (int in = 0; in < 5; in++) {
        int64_t M = sz[im], K = sz[ik], N = sz[in];
        /* every layout pairing on the small sizes, matching pairs on the rest */
        bool all = M <= 33 && K <= 33 && N <= 33;
        for (int la = 0; la < NLAYOUT; la++)
          for (int lb = 0; lb < NLAYOUT; lb++) {
            if (!all && la != lb) continue;
            ar_tensor a, b;
            matrix(C, &a, M, K, la);
            matrix(C, &b, K, N, lb);
            snprintf(what, sizeof what, "%lldx%lldx%lld %s@%s", (long long)M, (long long)K,
                     (long long)N, layout_name[la], layout_name[lb]);
            mm_check(C, &a, &b, what);
            ar_release(&a);
            ar_release(&b);
          }
      }
  cr_assert_eq(ar_live_bytes(C), 0, "no storage leaked");
  ar_ctx_release(C);
}

Test(matmul, blas_layouts_are_not_copied)
{
  ar_ctx *C = ar_ctx_new();
  for (int la = 0; la < NLAYOUT; la++) {
    ar_tensor a, b, out;
    matrix(C, &a, 40, 30, la);
    matrix(C, &b, 30, 20, la == STRIDED ? CONTIG : la);
    /* a freed temporary copy would land in the cache */
    ar_cache_trim(C);
    cr_assert_eq(ar_matmul(C, &out, &a, &b), AR_OK);
    if (la == STRIDED)
      cr_assert_gt(ar_cached_bytes(C), 0, "a strided operand needs one copy");
    else
      cr_assert_eq(ar_cached_bytes(C), 0, "%s operands go to sgemm as they are",
                   layout_name[la]);
    check_product(&out, &a, &b, layout_name[la]);
    ar_release(&out);
    ar_release(&a);
    ar_release(&b);
  }
  ar_ctx_release(C);
}

/* ---------- 1-D ---------- */

Test(matmul, vectors)
{
  ar_ctx *C = ar_ctx_new();
  int64_t n = 37, sm[] = {37, 5}, sk[] = {37, 37};
  ar_tensor u, v, m, big, col, out;
  make(C, &u, 1, &n);
  make(C, &v, 1, &n);
  make(C, &m, 2, sm);
  mm_check(C, &u, &v, "dot");
  cr_assert_eq(ar_matmul(C, &out, &u, &v), AR_OK);
  cr_assert_eq(out.ndim, 1, "a dot product is {1}, not 0-D");
  cr_assert_eq(out.shape[0], 1);
  ar_release(&out);
  mm_check(C, &u, &m, "1-D @ 2-D");
  ar_tensor mt;
  cr_assert_eq(ar_transpose(C, &mt, &m, 0, 1), AR_OK);
  mm_check(C, &mt, &u, "2-D @ 1-D");
  /* strided vectors: columns of a matrix */
  make(C, &big, 2, sk);
  cr_assert_eq(ar_select(C, &col, &big, 1, 3), AR_OK);
  mm_check(C, &col, &u, "strided dot");
  mm_check(C, &col, &m, "strided 1-D @ 2-D");
  mm_check(C, &mt, &col, "2-D @ strided 1-D");
  mm_check(C, &big, &col, "2-D @ its own column");
  /* an expanded (stride 0) vector needs a copy but must work */
  int64_t one = 1;
  ar_tensor s, e;
  make(C, &s, 1, &one);
  cr_assert_eq(ar_expand(C, &e, &s, 1, &n), AR_OK);
  mm_check(C, &e, &u, "expanded dot");
  mm_check(C, &m, &mt, "2-D @ 2-D");
  ar_release(&e);
  ar_release(&s);
  ar_release(&col);
  ar_release(&big);
  ar_release(&mt);
  ar_release(&u);
  ar_release(&v);
  ar_release(&m);
  cr_assert_eq(ar_live_bytes(C), 0);
  ar_ctx_release(C);
}

/* ---------- batched ---------- */

Test(matmul, batched)
{
  ar_ctx *C = ar_ctx_new();
  int64_t sa[] = {3, 7, 33}, sb[] = {3, 33, 5}, sb1[] = {1, 33, 5}, sa1[] = {1, 7, 33},
          sat[] = {3, 33, 7}, s2[] = {33, 5}, s2a[] = {7, 33}, sv[] = {33};
  ar_tensor a, b, b1, a1, at, atr, m2, m2a, v;
  make(C, &a, 3, sa);
  make(C, &b, 3, sb);
  make(C, &b1, 3, sb1);
  make(C, &a1, 3, sa1);
  make(C, &at, 3, sat);
  make(C, &m2, 2, s2);
  make(C, &m2a, 2, s2a);
  make(C, &v, 1, sv);
  cr_assert_eq(ar_transpose(C, &atr, &at, 1, 2), AR_OK); /* {3, 7, 33}, Trans per batch */
  mm_check(C, &a, &b, "3-D @ 3-D");
  mm_check(C, &atr, &b, "transposed 3-D @ 3-D");
  mm_check(C, &a, &b1, "3-D @ batch-1 3-D");
  mm_check(C, &a1, &b, "batch-1 3-D @ 3-D");
  mm_check(C, &a, &m2, "3-D @ 2-D (folded)");
  mm_check(C, &atr, &m2, "transposed 3-D @ 2-D");
  mm_check(C, &m2a, &b, "2-D @ 3-D");
  mm_check(C, &a, &v, "3-D @ 1-D");
  ar_tensor vt;
  int64_t sv7[] = {7};
  make(C, &vt, 1, sv7);
  mm_check(C, &vt, &a, "1-D @ 3-D");
  /* batches that are not evenly spaced rows: {M, B, K} transposed to {B, M, K} */
  int64_t sp[] = {7, 3, 33};
  ar_tensor p, pt;
  make(C, &p, 3, sp);
  cr_assert_eq(ar_transpose(C, &pt, &p, 0, 1), AR_OK);
  mm_check(C, &pt, &m2, "permuted 3-D @ 2-D");
  mm_check(C, &pt, &b, "permuted 3-D @ 3-D");
  /* M == 1 batches fold too */
  int64_t sr[] = {4, 1, 33};
  ar_tensor r;
  make(C, &r, 3, sr);
  mm_check(C, &r, &m2, "{4,1,33} @ 2-D");
  /* strided batches need a copy */
  int64_t sq[] = {3, 7, 33, 2};
  ar_tensor q, qs;
  make(C, &q, 4, sq);
  cr_assert_eq(ar_select(C, &qs, &q, 3, 0), AR_OK);
  mm_check(C, &qs, &b, "strided 3-D @ 3-D");
  mm_check(C, &qs, &m2, "strided 3-D @ 2-D");
  ar_tensor *all[] = {&a, &b, &b1, &a1, &at, &atr, &m2, &m2a, &v, &vt, &p, &pt, &r, &q, &qs};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) ar_release(all[i]);
  cr_assert_eq(ar_live_bytes(C), 0);
  ar_ctx_release(C);
}

/* ---------- sizes of zero, errors ---------- */

Test(matmul, zero_sizes)
{
  ar_ctx *C = ar_ctx_new();
  int64_t s0k[] = {0, 4}, sk5[] = {4, 5}, sm0[] = {3, 0}, s05[] = {0, 5}, s40[] = {4, 0};
  ar_tensor a, b, c, d, e, out;
  make(C, &a, 2, s0k);
  make(C, &b, 2, sk5);
  make(C, &c, 2, sm0);
  make(C, &d, 2, s05);
  make(C, &e, 2, s40);
  cr_assert_eq(ar_matmul(C, &out, &a, &b), AR_OK);
  cr_assert_eq(out.shape[0], 0);
  cr_assert_eq(out.shape[1], 5);
  ar_release(&out);
  /* K == 0: a sum of nothing is 0 (the output's storage may be recycled garbage) */
  int64_t big[] = {3, 5};
  ar_tensor junk;
  make(C, &junk, 2, big);
  for (int i = 0; i < 15; i++) ar_data(&junk)[i] = NAN;
  ar_release(&junk);
  cr_assert_eq(ar_matmul(C, &out, &c, &d), AR_OK);
  cr_assert_eq(out.shape[0], 3);
  cr_assert_eq(out.shape[1], 5);
  for (int i = 0; i < 15; i++) cr_assert_eq(ar_data(&out)[i], 0);
  ar_release(&out);
  cr_assert_eq(ar_matmul(C, &out, &b, &e), AR_ESHAPE, "5 ~= 4");
  cr_assert_eq(ar_matmul(C, &out, &a, &e), AR_OK);
  cr_assert_eq(out.shape[0], 0);
  cr_assert_eq(out.shape[1], 0);
  ar_release(&out);
  ar_release(&a);
  ar_release(&b);
  ar_release(&c);
  ar_release(&d);
  ar_release(&e);
  ar_ctx_release(C);
}

Test(matmul, errors)
{
  ar_ctx *C = ar_ctx_new();
  int64_t s23[] = {2, 3}, s45[] = {4, 5}, s4d[] = {2, 2, 2, 2}, sb2[] = {2, 3, 4},
          sb3[] = {3, 4, 5}, s3[] = {3}, s4[] = {4};
  ar_tensor a, b, q, x, y, u, v, s, out;
  make(C, &a, 2, s23);
  make(C, &b, 2, s45);
  make(C, &q, 4, s4d);
  make(C, &x, 3, sb2);
  make(C, &y, 3, sb3);
  make(C, &u, 1, s3);
  make(C, &v, 1, s4);
  cr_assert_eq(ar_empty(C, &s, 0, NULL), AR_OK);
  cr_assert_eq(ar_matmul(C, &out, &a, &b), AR_ESHAPE);
  cr_assert_null(out.st);
  cr_assert_str_eq(ar_errmsg(C), "shapes {2,3} and {4,5} do not match (3 ~= 4)");
  cr_assert_eq(ar_matmul(C, &out, &u, &v), AR_ESHAPE);
  cr_assert_str_eq(ar_errmsg(C), "shapes {3} and {4} do not match (3 ~= 4)");
  cr_assert_eq(ar_matmul(C, &out, &q, &q), AR_ESHAPE);
  cr_assert(strstr(ar_errmsg(C), "1-D, 2-D or 3-D") && strstr(ar_errmsg(C), "{2,2,2,2}"),
            "%s", ar_errmsg(C));
  cr_assert_eq(ar_matmul(C, &out, &s, &u), AR_ESHAPE, "0-D operands are refused");
  cr_assert_eq(ar_matmul(C, &out, &x, &y), AR_ESHAPE);
  cr_assert(strstr(ar_errmsg(C), "batch"), "%s", ar_errmsg(C));
  cr_assert_null(out.st);
  ar_tensor *all[] = {&a, &b, &q, &x, &y, &u, &v, &s};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) ar_release(all[i]);
  cr_assert_eq(ar_live_bytes(C), 0);
  ar_ctx_release(C);
}

/* ---------- thread budget ---------- */

Test(matmul, tiny_products_restore_blas_threads)
{
  ar_ctx *C = ar_ctx_new();
  ar_set_num_threads(C, 2);
  cr_assert_eq(openblas_get_num_threads(), 2);
  ar_tensor a, b, out;
  int64_t sa[] = {128, 256}, sb[] = {256, 10};
  make(C, &a, 2, sa);
  make(C, &b, 2, sb);
  cr_assert_eq(ar_matmul(C, &out, &a, &b), AR_OK);
  cr_assert_eq(openblas_get_num_threads(), 2, "the BLAS thread count is restored");
  check_product(&out, &a, &b, "128x256x10");
  ar_release(&out);
  ar_release(&a);
  ar_release(&b);
  ar_set_num_threads(C, 1);
  cr_assert_eq(openblas_get_num_threads(), 1);
  ar_ctx_release(C);
}

/* ---------- the same bits at any thread count ---------- */

/* ar_sgemm at 1 and 2 threads on the same operands (every transpose flag, beta 0 and 1)
 * gives identical bits, and so does the blocks' partial check against the definition. */
Test(matmul, same_bits_at_1_and_2_threads)
{
  static const int64_t shapes[][3] = {/* m, n, k */
                                      {16, 1600, 72},  {72, 1600, 16}, {16, 72, 1600},
                                      {513, 1024, 17}, {37, 1601, 513}, {1, 1001, 2048},
                                      {300, 299, 301}, {128, 256, 784}, {1601, 33, 64}};
  ar_ctx *C = ar_ctx_new();
  for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
    const int64_t m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
    for (int t = 0; t < 4; t++) {
      bool ta = t & 1, tb = t & 2;
      float beta = t == 3 ? 1.0f : 0.0f;
      int64_t sa[] = {m * k}, sb[] = {k * n}, so[] = {m * n};
      ar_tensor a, b, o1, o2;
      make(C, &a, 1, sa);
      make(C, &b, 1, sb);
      make(C, &o1, 1, so);
      cr_assert_eq(ar_empty(C, &o2, 1, so), AR_OK);
      memcpy(ar_data(&o2), ar_data(&o1), sizeof(float) * (size_t)(m * n));
      float *old = malloc(sizeof(float) * (size_t)(m * n));
      memcpy(old, ar_data(&o1), sizeof(float) * (size_t)(m * n));
      float *out[2] = {ar_data(&o1), ar_data(&o2)};
      for (int nt = 1; nt <= 2; nt++) {
        ar_set_num_threads(C, nt);
        ar_sgemm(C, ta, tb, m, n, k, 1.0f, ar_data(&a), ta ? m : k, ar_data(&b), tb ? k : n,
                 beta, out[nt - 1], n);
        cr_assert_eq(openblas_get_num_threads(), nt, "the BLAS thread count is restored");
      }
      cr_assert(memcmp(out[0], out[1], sizeof(float) * (size_t)(m * n)) == 0,
                "%lldx%lldx%lld ta=%d tb=%d: 1 and 2 threads differ", (long long)m,
                (long long)n, (long long)k, ta, tb);
      /* one element per row against the definition: the blocks cover the whole output */
      for (int64_t i = 0; i < m; i++) {
        int64_t j = (i * 7919) % n;
        double want = beta * old[i * n + j], mag = fabs(want);
        for (int64_t q = 0; q < k; q++) {
          double x = (double)(ta ? ar_data(&a)[q * m + i] : ar_data(&a)[i * k + q]) *
                     (tb ? ar_data(&b)[j * k + q] : ar_data(&b)[q * n + j]);
          want += x;
          mag += fabs(x);
        }
        cr_assert(fabs(out[0][i * n + j] - want) <= 1e-5 * (mag + 1), "[%lld,%lld]: %g vs %g",
                  (long long)i, (long long)j, out[0][i * n + j], want);
      }
      free(old);
      ar_release(&a), ar_release(&b), ar_release(&o1), ar_release(&o2);
    }
  }
  ar_set_num_threads(C, 1);
  cr_assert_eq(ar_live_bytes(C), 0);
  ar_ctx_release(C);
}

/* ---------- gemm ---------- */

static void gemm_check(ar_ctx *C, int64_t M, int64_t N, int64_t K, bool ta, bool tb,
                       float alpha, float beta, bool wide_out)
{
  ar_tensor a, b, ob, out, old;
  int64_t sa[] = {ta ? K : M, ta ? M : K}, sb[] = {tb ? N : K, tb ? K : N};
  int64_t so[] = {M, N + (wide_out ? 3 : 0)}, sm[] = {M, N};
  make(C, &a, 2, sa);
  make(C, &b, 2, sb);
  make(C, &ob, 2, so);
  cr_assert_eq(ar_narrow(C, &out, &ob, 1, 0, N), AR_OK);
  cr_assert_eq(ar_empty(C, &old, 2, sm), AR_OK);
  for (int64_t i = 0; i < M; i++)
    for (int64_t j = 0; j < N; j++) ar_data(&old)[i * N + j] = ar_data(&out)[i * so[1] + j];
  cr_assert_eq(ar_gemm(C, &out, &a, ta, &b, tb, alpha, beta), AR_OK, "%s", ar_errmsg(C));
  for (int64_t i = 0; i < M; i++)
    for (int64_t j = 0; j < N; j++) {
      double s = 0, mag = 0;
      for (int64_t k = 0; k < K; k++) {
        double x = ta ? ar_data(&a)[k * M + i] : ar_data(&a)[i * K + k];
        double y = tb ? ar_data(&b)[j * K + k] : ar_data(&b)[k * N + j];
        s += x * y;
        mag += fabs(x * y);
      }
      double want = alpha * s + beta * ar_data(&old)[i * N + j];
      double got = ar_data(&out)[i * so[1] + j];
      cr_assert(fabs(got - want) <= 1e-5 * (mag + 1) + 1e-6,
                "gemm %lldx%lldx%lld ta=%d tb=%d [%lld,%lld]: %g vs %g", (long long)M,
                (long long)N, (long long)K, ta, tb, (long long)i, (long long)j, got, want);
    }
  if (wide_out) /* the columns outside the view are untouched */
    for (int64_t i = 0; i < M; i++)
      for (int64_t j = N; j < so[1]; j++)
        cr_assert(fabsf(ar_data(&ob)[i * so[1] + j]) <= 1.0f);
  ar_release(&a);
  ar_release(&b);
  ar_release(&ob);
  ar_release(&out);
  ar_release(&old);
}

Test(matmul, gemm)
{
  ar_ctx *C = ar_ctx_new();
  const int64_t sz[] = {1, 7, 65};
  for (int im = 0; im < 3; im++)
    for (int in = 0; in < 3; in++)
      for (int ik = 0; ik < 3; ik++)
        for (int t = 0; t < 4; t++)
          gemm_check(C, sz[im], sz[in], sz[ik], t & 1, t & 2, 0.5f, t == 3 ? 0.0f : -2.0f,
                     t == 2);
  gemm_check(C, 130, 33, 0, false, false, 1.0f, 3.0f, true); /* K == 0: out = beta * out */
  gemm_check(C, 5, 6, 0, true, true, 1.0f, 0.0f, false);
  cr_assert_eq(ar_live_bytes(C), 0);
  ar_ctx_release(C);
}

Test(matmul, gemm_beta_zero_ignores_old_out)
{
  ar_ctx *C = ar_ctx_new();
  int64_t sa[] = {3, 4}, sb[] = {4, 2}, so[] = {3, 2};
  ar_tensor a, b, out;
  make(C, &a, 2, sa);
  make(C, &b, 2, sb);
  cr_assert_eq(ar_empty(C, &out, 2, so), AR_OK);
  for (int i = 0; i < 6; i++) ar_data(&out)[i] = NAN;
  cr_assert_eq(ar_gemm(C, &out, &a, false, &b, false, 1, 0), AR_OK);
  for (int i = 0; i < 6; i++) cr_assert(!isnan(ar_data(&out)[i]));
  /* also when there is nothing to multiply */
  int64_t s30[] = {3, 0}, s02[] = {0, 2};
  ar_tensor z1, z2;
  cr_assert_eq(ar_empty(C, &z1, 2, s30), AR_OK);
  cr_assert_eq(ar_empty(C, &z2, 2, s02), AR_OK);
  for (int i = 0; i < 6; i++) ar_data(&out)[i] = NAN;
  cr_assert_eq(ar_gemm(C, &out, &z1, false, &z2, false, 1, 0), AR_OK);
  for (int i = 0; i < 6; i++) cr_assert_eq(ar_data(&out)[i], 0);
  ar_release(&z1);
  ar_release(&z2);
  /* errors */
  cr_assert_eq(ar_gemm(C, &out, &a, true, &b, false, 1, 0), AR_ESHAPE);
  cr_assert(strstr(ar_errmsg(C), "do not match"), "%s", ar_errmsg(C));
  cr_assert_eq(ar_gemm(C, &out, &b, false, &a, false, 1, 0), AR_ESHAPE);
  cr_assert_eq(ar_gemm(C, &a, &a, false, &b, false, 1, 0), AR_ESHAPE, "out is {3,4}");
  ar_tensor ot;
  cr_assert_eq(ar_transpose(C, &ot, &out, 0, 1), AR_OK);
  cr_assert_eq(ar_gemm(C, &ot, &b, true, &a, true, 1, 0), AR_EARG, "strided out");
  int64_t sq[] = {4, 4};
  ar_tensor sqm;
  make(C, &sqm, 2, sq);
  cr_assert_eq(ar_gemm(C, &sqm, &sqm, false, &sqm, false, 1, 0), AR_EARG, "aliasing out");
  ar_release(&sqm);
  ar_release(&ot);
  ar_release(&a);
  ar_release(&b);
  ar_release(&out);
  ar_ctx_release(C);
}
