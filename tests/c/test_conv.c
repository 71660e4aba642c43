/* conv2d and max_pool2d kernels against direct loops in double: forward and every
 * gradient, over strides, paddings, odd sizes, the 1x1 path and thread counts; pooling's
 * tie and NaN rules; scratch memory returned to the cache; error messages. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "core/conv.h"

static uint64_t cv_lcg = 11;
static float crnd(void) {
  cv_lcg = cv_lcg * 6364136223846793005ULL + 1442695040888963407ULL;
  return (float)((double)(cv_lcg >> 40) / (double)(1ULL << 24) * 2.0 - 1.0);
}

static void rand4(ar_ctx *C, ar_tensor *t, int64_t a, int64_t b, int64_t c, int64_t d) {
  int64_t s[4] = {a, b, c, d};
  cr_assert_eq(ar_empty(C, t, 4, s), AR_OK, "%s", ar_errmsg(C));
  for (int64_t i = 0; i < ar_numel(t); i++) ar_data(t)[i] = crnd();
}

/* x {N,Ci,H,W}, w {O,Ci,kh,kw}: the value of output (n,o,i,j) straight from the definition */
static double ref_out(const ar_tensor *x, const ar_tensor *w, const float *b, const ar_conv_params *p,
                      int64_t n, int64_t o, int64_t i, int64_t j) {
  const int64_t Ci = x->shape[1], H = x->shape[2], W = x->shape[3];
  const int64_t kh = w->shape[2], kw = w->shape[3];
  double s = b ? b[o] : 0;
  for (int64_t c = 0; c < Ci; c++)
    for (int64_t u = 0; u < kh; u++)
      for (int64_t v = 0; v < kw; v++) {
        int64_t h = i * p->sh - p->ph + u, ww = j * p->sw - p->pw + v;
        if (h < 0 || h >= H || ww < 0 || ww >= W) continue;
        s += (double)ar_data(x)[((n * Ci + c) * H + h) * W + ww] *
             ar_data(w)[((o * Ci + c) * kh + u) * kw + v];
      }
  return s;
}

static void check_case(int64_t N, int64_t Ci, int64_t H, int64_t W, int64_t O, int64_t kh,
                       int64_t kw, ar_conv_params p, int threads) {
  ar_ctx *C = ar_ctx_new();
  ar_set_num_threads(C, threads);
  ar_tensor x, w, b, y, gy, dx, dw, db;
  rand4(C, &x, N, Ci, H, W);
  rand4(C, &w, O, Ci, kh, kw);
  int64_t on = O;
  cr_assert_eq(ar_empty(C, &b, 1, &on), AR_OK);
  for (int64_t i = 0; i < O; i++) ar_data(&b)[i] = crnd();
  cr_assert_eq(ar_conv2d(C, &y, &x, &w, &b, &p), AR_OK, "%s", ar_errmsg(C));
  const int64_t Ho = y.shape[2], Wo = y.shape[3];
  cr_assert_eq(Ho, (H + 2 * p.ph - kh) / p.sh + 1);
  cr_assert_eq(Wo, (W + 2 * p.pw - kw) / p.sw + 1);
  for (int64_t n = 0; n < N; n++)
    for (int64_t o = 0; o < O; o++)
      for (int64_t i = 0; i < Ho; i++)
        for (int64_t j = 0; j < Wo; j++) {
          double want = ref_out(&x, &w, ar_data(&b), &p, n, o, i, j);
          float got = ar_data(&y)[((n * O + o) * Ho + i) * Wo + j];
          cr_assert(fabs(got - want) <= 1e-5 * (1 + fabs(want)), "y[%lld,%lld,%lld,%lld] = %g, want %g",
                    (long long)n, (long long)o, (long long)i, (long long)j, got, want);
        }
  /* gradients of L = sum(y * gy), straight from the definition */
  rand4(C, &gy, N, O, Ho, Wo);
  cr_assert_eq(ar_conv2d_backward(C, &gy, &x, &w, &p, &dx, &dw, &db), AR_OK, "%s", ar_errmsg(C));
  double *rdx = calloc((size_t)ar_numel(&x), sizeof(double));
  double *rdw = calloc((size_t)ar_numel(&w), sizeof(double));
  double *rdb = calloc((size_t)O, sizeof(double));
  for (int64_t n = 0; n < N; n++)
    for (int64_t o = 0; o < O; o++)
      for (int64_t i = 0; i < Ho; i++)
        for (int64_t j = 0; j < Wo; j++) {
          double g = ar_data(&gy)[((n * O + o) * Ho + i) * Wo + j];
          rdb[o] += g;
          for (int64_t c = 0; c < Ci; c++)
            for (int64_t u = 0; u < kh; u++)
              for (int64_t v = 0; v < kw; v++) {
                int64_t h = i * p.sh - p.ph + u, ww = j * p.sw - p.pw + v;
                if (h < 0 || h >= H || ww < 0 || ww >= W) continue;
                int64_t xi = ((n * Ci + c) * H + h) * W + ww, wi = ((o * Ci + c) * kh + u) * kw + v;
                rdx[xi] += g * ar_data(&w)[wi];
                rdw[wi] += g * ar_data(&x)[xi];
              }
        }
  for (int64_t i = 0; i < ar_numel(&x); i++)
    cr_assert(fabs(ar_data(&dx)[i] - rdx[i]) <= 1e-5 * (1 + fabs(rdx[i])), "dx[%lld] = %g, want %g",
              (long long)i, ar_data(&dx)[i], rdx[i]);
  for (int64_t i = 0; i < ar_numel(&w); i++)
    cr_assert(fabs(ar_data(&dw)[i] - rdw[i]) <= 1e-4 * (1 + fabs(rdw[i])), "dw[%lld] = %g, want %g",
              (long long)i, ar_data(&dw)[i], rdw[i]);
  for (int64_t i = 0; i < O; i++)
    cr_assert(fabs(ar_data(&db)[i] - rdb[i]) <= 1e-5 * (1 + fabs(rdb[i])), "db[%lld] = %g, want %g",
              (long long)i, ar_data(&db)[i], rdb[i]);
  free(rdx), free(rdw), free(rdb);
  ar_tensor *all[] = {&x, &w, &b, &y, &gy, &dx, &dw, &db};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++) ar_release(all[i]);
  cr_assert_eq(ar_live_bytes(C), 0, "scratch buffers went back to the cache");
  ar_ctx_release(C);
}

Test(conv, forward_backward_against_definition) {
  for (int t = 1; t <= 3; t += 2) {
    check_case(2, 3, 7, 6, 4, 3, 3, (ar_conv_params){1, 1, 0, 0}, t);
    check_case(3, 2, 9, 8, 5, 3, 2, (ar_conv_params){2, 1, 1, 2}, t);
    check_case(1, 1, 5, 5, 2, 5, 5, (ar_conv_params){1, 1, 2, 2}, t);
    check_case(19, 2, 6, 5, 3, 1, 1, (ar_conv_params){1, 1, 0, 0}, t); /* 1x1: no unfolding */
    check_case(18, 3, 8, 7, 2, 4, 3, (ar_conv_params){3, 2, 1, 0}, t); /* groups > threads */
    check_case(2, 2, 3, 3, 2, 4, 4, (ar_conv_params){5, 5, 2, 2}, t);  /* stride > kernel */
  }
}

/* conv2d and its gradients at `threads` threads on fixed inputs (seeded): y, dx, dw, db. */
static void conv_at(int threads, int64_t N, int64_t Ci, int64_t H, int64_t W, int64_t O,
                    int64_t k, ar_conv_params p, ar_tensor out[4]) {
  ar_ctx *C = ar_ctx_new();
  ar_set_num_threads(C, threads);
  cv_lcg = 29;
  ar_tensor x, w, b, gy;
  rand4(C, &x, N, Ci, H, W);
  rand4(C, &w, O, Ci, k, k);
  int64_t on = O;
  cr_assert_eq(ar_empty(C, &b, 1, &on), AR_OK);
  for (int64_t i = 0; i < O; i++) ar_data(&b)[i] = crnd();
  cr_assert_eq(ar_conv2d(C, &out[0], &x, &w, &b, &p), AR_OK, "%s", ar_errmsg(C));
  rand4(C, &gy, N, O, out[0].shape[2], out[0].shape[3]);
  cr_assert_eq(ar_conv2d_backward(C, &gy, &x, &w, &p, &out[1], &out[2], &out[3]), AR_OK, "%s",
               ar_errmsg(C));
  ar_release(&x), ar_release(&w), ar_release(&b), ar_release(&gy);
  ar_ctx_release(C); /* the results keep their storages */
}

/* One image (no batch to spread) and a few, with outputs that are no multiple of the
 * sgemm tiles: OpenBLAS's own threading once changed the bits here. */
Test(conv, same_bits_at_1_and_2_threads) {
  static const struct { int64_t N, Ci, H, W, O, k; ar_conv_params p; } cases[] = {
      {1, 8, 40, 40, 16, 3, {1, 1, 1, 1}},  {1, 3, 37, 41, 7, 3, {1, 1, 1, 1}},
      {1, 5, 33, 29, 13, 5, {1, 1, 2, 2}},  {1, 64, 17, 19, 33, 1, {1, 1, 0, 0}},
      {1, 3, 64, 61, 17, 3, {2, 2, 1, 1}},  {3, 7, 23, 31, 9, 3, {2, 1, 1, 0}},
  };
  static const char *what[4] = {"y", "dx", "dw", "db"};
  for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
    ar_tensor one[4], two[4];
    conv_at(1, cases[c].N, cases[c].Ci, cases[c].H, cases[c].W, cases[c].O, cases[c].k,
            cases[c].p, one);
    conv_at(2, cases[c].N, cases[c].Ci, cases[c].H, cases[c].W, cases[c].O, cases[c].k,
            cases[c].p, two);
    for (int i = 0; i < 4; i++) {
      cr_assert_eq(ar_numel(&one[i]), ar_numel(&two[i]));
      cr_assert(memcmp(ar_data(&one[i]), ar_data(&two[i]),
                       sizeof(float) * (size_t)ar_numel(&one[i])) == 0,
                "case %zu: %s differs between 1 and 2 threads", c, what[i]);
      ar_release(&one[i]), ar_release(&two[i]);
    }
  }
}

Test(conv, only_requested_gradients) {
  ar_ctx *C = ar_ctx_new();
  ar_tensor x, w, y, dw;
  rand4(C, &x, 2, 2, 5, 5);
  rand4(C, &w, 3, 2, 3, 3);
  ar_conv_params p = {1, 1, 1, 1};
  cr_assert_eq(ar_conv2d(C, &y, &x, &w, NULL, &p), AR_OK);
  cr_assert_eq(ar_conv2d_backward(C, &y, &x, &w, &p, NULL, &dw, NULL), AR_OK);
  cr_assert_eq(dw.ndim, 4);
  ar_release(&x), ar_release(&w), ar_release(&y), ar_release(&dw);
  ar_ctx_release(C);
}

Test(conv, errors) {
  ar_ctx *C = ar_ctx_new();
  ar_tensor x, w, b, y;
  rand4(C, &x, 1, 3, 4, 4);
  rand4(C, &w, 2, 1, 3, 3);
  ar_conv_params p = {1, 1, 0, 0};
  cr_assert_eq(ar_conv2d(C, &y, &x, &w, NULL, &p), AR_ESHAPE);
  cr_assert_str_eq(ar_errmsg(C), "input has 3 channels but weight expects 1");
  cr_assert_null(y.st);
  ar_release(&w);
  rand4(C, &w, 2, 3, 5, 3);
  cr_assert_eq(ar_conv2d(C, &y, &x, &w, NULL, &p), AR_ESHAPE);
  cr_assert(strstr(ar_errmsg(C), "kernel 5x3 is larger than the padded input 4x4"), "%s", ar_errmsg(C));
  p.ph = 1;
  cr_assert_eq(ar_conv2d(C, &y, &x, &w, NULL, &p), AR_OK); /* 6 rows once padded */
  ar_release(&y);
  p.sw = 0;
  cr_assert_eq(ar_conv2d(C, &y, &x, &w, NULL, &p), AR_EARG);
  cr_assert_str_eq(ar_errmsg(C), "stride must be positive, got {1,0}");
  p.sw = 1;
  int64_t three = 3;
  ar_empty(C, &b, 1, &three);
  cr_assert_eq(ar_conv2d(C, &y, &x, &w, &b, &p), AR_ESHAPE);
  cr_assert_str_eq(ar_errmsg(C), "bias must have shape {2} (one per output channel), got {3}");
  ar_release(&x), ar_release(&w), ar_release(&b);
  ar_ctx_release(C);
}

Test(maxpool, ties_nan_and_backward) {
  ar_ctx *C = ar_ctx_new();
  int64_t s[4] = {1, 1, 3, 4};
  ar_tensor x, y, idx, gy, dx;
  cr_assert_eq(ar_empty(C, &x, 4, s), AR_OK);
  const float v[12] = {1, 5, 5, 0, /**/ 5, 2, NAN, 3, /**/ 0, 0, 1, 1};
  memcpy(ar_data(&x), v, sizeof v);
  ar_conv_params p = {1, 1, 0, 0}; /* 2x2 windows, stride 1: overlapping */
  cr_assert_eq(ar_maxpool2d(C, &y, &idx, &x, 2, 2, &p), AR_OK, "%s", ar_errmsg(C));
  cr_assert_eq(y.shape[2], 2);
  cr_assert_eq(y.shape[3], 3);
  const int32_t *ix = (const int32_t *)(void *)ar_data(&idx);
  /* window (0,0): 1 5 / 5 2 -> the first 5, at position 1 */
  cr_assert_eq(ix[0], 1);
  cr_assert_eq(ar_data(&y)[0], 5);
  /* windows touching the NaN pick it */
  cr_assert(isnan(ar_data(&y)[1]) && ix[1] == 6);
  cr_assert(isnan(ar_data(&y)[2]) && ix[2] == 6);
  /* window (1,0): 5 2 / 0 0 -> 5 at position 4 */
  cr_assert_eq(ix[3], 4);
  /* backward: every window's gradient lands on its position, summed where they meet */
  int64_t gs[4] = {1, 1, 2, 3};
  cr_assert_eq(ar_empty(C, &gy, 4, gs), AR_OK);
  for (int i = 0; i < 6; i++) ar_data(&gy)[i] = (float)(i + 1);
  cr_assert_eq(ar_maxpool2d_backward(C, &dx, &gy, &idx, s), AR_OK);
  float want[12] = {0};
  for (int i = 0; i < 6; i++) want[ix[i]] += (float)(i + 1);
  for (int i = 0; i < 12; i++) cr_assert_eq(ar_data(&dx)[i], want[i], "dx[%d]", i);
  ar_release(&x), ar_release(&y), ar_release(&idx), ar_release(&gy), ar_release(&dx);
  ar_ctx_release(C);
}

/* 2x2 windows with stride 2 and no padding take their own loop (conv.c, pool2x2_plane):
 * values and indices against the rule written out (first strict maximum in row order, a
 * NaN taken wherever it comes), on data full of ties, NaNs and -inf, odd and even sizes,
 * with and without indices, 1 and 2 threads. */
Test(maxpool, two_by_two_fast_path_matches_the_rule) {
  ar_ctx *C = ar_ctx_new();
  const int64_t shapes[][4] = {{2, 3, 7, 9}, {1, 1, 2, 2}, {3, 2, 8, 8}, {1, 4, 28, 28}, {2, 1, 5, 4}};
  for (size_t k = 0; k < sizeof shapes / sizeof *shapes; k++)
    for (int threads = 1; threads <= 2; threads++) {
      ar_set_num_threads(C, threads);
      const int64_t *sh = shapes[k];
      ar_tensor x, y, idx, y2;
      cr_assert_eq(ar_empty(C, &x, 4, sh), AR_OK);
      float *xp = ar_data(&x);
      for (int64_t i = 0; i < ar_numel(&x); i++) {
        float r = crnd();
        xp[i] = r > 0.9f ? NAN : r < -0.9f ? -INFINITY : (float)(int)(r * 3); /* ties */
      }
      ar_conv_params p = {2, 2, 0, 0};
      cr_assert_eq(ar_maxpool2d(C, &y, &idx, &x, 2, 2, &p), AR_OK, "%s", ar_errmsg(C));
      cr_assert_eq(ar_maxpool2d(C, &y2, NULL, &x, 2, 2, &p), AR_OK);
      const int64_t H = sh[2], W = sh[3], Ho = H / 2, Wo = W / 2;
      cr_assert(y.shape[2] == Ho && y.shape[3] == Wo);
      const int32_t *ix = (const int32_t *)(void *)ar_data(&idx);
      for (int64_t pl = 0; pl < sh[0] * sh[1]; pl++)
        for (int64_t oh = 0; oh < Ho; oh++)
          for (int64_t ow = 0; ow < Wo; ow++) {
            float m = -INFINITY;
            int64_t at = 2 * oh * W + 2 * ow;
            for (int64_t h = 2 * oh; h < 2 * oh + 2; h++)
              for (int64_t w = 2 * ow; w < 2 * ow + 2; w++) {
                float v = xp[pl * H * W + h * W + w];
                if (v > m || isnan(v)) m = v, at = h * W + w;
              }
            int64_t o = pl * Ho * Wo + oh * Wo + ow;
            float got = ar_data(&y)[o], got2 = ar_data(&y2)[o];
            cr_assert(isnan(m) ? isnan(got) && isnan(got2) : got == m && got2 == m,
                      "shape %zu, plane %lld, (%lld,%lld): %g, want %g", k, (long long)pl,
                      (long long)oh, (long long)ow, got, m);
            cr_assert_eq(ix[o], at, "shape %zu, plane %lld, (%lld,%lld): index", k,
                         (long long)pl, (long long)oh, (long long)ow);
          }
      ar_release(&x), ar_release(&y), ar_release(&idx), ar_release(&y2);
    }
  ar_ctx_release(C);
}

Test(maxpool, padding_counts_as_minus_infinity) {
  ar_ctx *C = ar_ctx_new();
  int64_t s[4] = {1, 1, 2, 2};
  ar_tensor x, y;
  ar_empty(C, &x, 4, s);
  const float v[4] = {-3, -4, -5, -6};
  memcpy(ar_data(&x), v, sizeof v);
  ar_conv_params p = {2, 2, 1, 1};
  cr_assert_eq(ar_maxpool2d(C, &y, NULL, &x, 2, 2, &p), AR_OK);
  /* windows of one real element each: the padding never wins */
  cr_assert_eq(ar_numel(&y), 4);
  for (int i = 0; i < 4; i++) cr_assert_eq(ar_data(&y)[i], v[i]);
  p.ph = 2;
  cr_assert_eq(ar_maxpool2d(C, &y, NULL, &x, 2, 2, &p), AR_EARG);
  cr_assert(strstr(ar_errmsg(C), "at most half the kernel size"), "%s", ar_errmsg(C));
  ar_release(&x), ar_release(&y);
  ar_ctx_release(C);
}

/* Every allocation inside the kernels may fail: each failure is AR_ENOMEM with nothing
 * leaked (live bytes back to what the inputs hold) and the outputs left empty. */
Test(conv, allocation_failures_are_clean) {
  ar_ctx *C = ar_ctx_new();
  ar_set_num_threads(C, 2);
  ar_tensor x, w, b, gy, xt;
  rand4(C, &x, 6, 3, 7, 6);
  rand4(C, &w, 4, 3, 3, 3);
  int64_t four = 4;
  ar_empty(C, &b, 1, &four);
  ar_fill(C, &b, 0.5f);
  ar_transpose(C, &xt, &x, 2, 3); /* non-contiguous: one more allocation to fail */
  ar_conv_params p = {1, 1, 1, 1};
  rand4(C, &gy, 6, 4, 6, 7);
  const size_t base = ar_live_bytes(C);
  int failures = 0;
  for (long n = 1; n <= 12; n++) {
    ar_tensor y, dx, dw, db, idx;
    ar_fail_alloc_after(C, n);
    int rc = ar_conv2d(C, &y, &xt, &w, &b, &p);
    if (rc) {
      cr_assert_eq(rc, AR_ENOMEM, "%s", ar_errmsg(C));
      cr_assert_null(y.st);
      failures++;
    } else {
      ar_release(&y);
    }
    ar_fail_alloc_after(C, n);
    rc = ar_conv2d_backward(C, &gy, &xt, &w, &p, &dx, &dw, &db);
    if (rc) {
      cr_assert_eq(rc, AR_ENOMEM, "%s", ar_errmsg(C));
      cr_assert(!dx.st && !dw.st && !db.st);
      failures++;
    } else {
      ar_release(&dx), ar_release(&dw), ar_release(&db);
    }
    ar_fail_alloc_after(C, n);
    rc = ar_maxpool2d(C, &y, &idx, &xt, 2, 2, &p);
    if (rc) {
      cr_assert_eq(rc, AR_ENOMEM, "%s", ar_errmsg(C));
      cr_assert(!y.st && !idx.st);
      failures++;
    } else {
      ar_release(&y), ar_release(&idx);
    }
    ar_fail_alloc_after(C, 0);
    cr_assert_eq(ar_live_bytes(C), base, "nothing leaked after failing allocation %ld", n);
  }
  cr_assert_gt(failures, 5);
  ar_release(&x), ar_release(&w), ar_release(&b), ar_release(&gy), ar_release(&xt);
  ar_ctx_release(C);
}
