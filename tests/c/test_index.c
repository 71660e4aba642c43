/* Indexing and ordering kernels (index.c): against naive references, adjoint identities
 * (<select(a), g> = <a, add(g)>), stable order with ties and NaN, strided inputs, index
 * checks, and the same bits at 1 and 3 threads. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

static uint64_t ix_lcg = 7;
static float rnd(void) {
  ix_lcg = ix_lcg * 6364136223846793005ULL + 1442695040888963407ULL;
  return (float)((double)(ix_lcg >> 40) / (double)(1ULL << 24) * 2.0 - 1.0); /* [-1, 1) */
}

static void make(ar_ctx *C, ar_tensor *t, int ndim, const int64_t *shape) {
  cr_assert_eq(ar_empty(C, t, ndim, shape), AR_OK, "%s", ar_errmsg(C));
  for (int64_t i = 0; i < ar_numel(t); i++) ar_data(t)[i] = rnd();
}

/* values with many ties: multiples of 0.5 in [-2, 2) */
static void make_ties(ar_ctx *C, ar_tensor *t, int ndim, const int64_t *shape) {
  make(C, t, ndim, shape);
  for (int64_t i = 0; i < ar_numel(t); i++) ar_data(t)[i] = floorf(ar_data(t)[i] * 4) / 2;
}

/* 1-based random indices into a dim of size n */
static void make_index(ar_ctx *C, ar_tensor *t, int ndim, const int64_t *shape, int64_t n) {
  make(C, t, ndim, shape);
  for (int64_t i = 0; i < ar_numel(t); i++) {
    int64_t v = (int64_t)((ar_data(t)[i] * 0.5f + 0.5f) * (float)n);
    ar_data(t)[i] = (float)((v < n ? v : n - 1) + 1);
  }
}

static float at(const ar_tensor *t, int64_t flat) {
  int64_t off = t->offset;
  for (int d = t->ndim - 1; d >= 0; d--) {
    off += (flat % t->shape[d]) * t->stride[d];
    flat /= t->shape[d];
  }
  return t->st->data[off];
}

static double dot(const ar_tensor *a, const ar_tensor *b) {
  cr_assert(ar_same_shape(a, b));
  double s = 0;
  for (int64_t i = 0; i < ar_numel(a); i++) s += (double)at(a, i) * at(b, i);
  return s;
}

static bool same_bits(const ar_tensor *a, const ar_tensor *b) {
  if (!ar_same_shape(a, b)) return false;
  for (int64_t i = 0; i < ar_numel(a); i++) {
    float x = at(a, i), y = at(b, i);
    if (memcmp(&x, &y, sizeof x) != 0) return false;
  }
  return true;
}

Test(index, randperm_is_a_reproducible_permutation) {
  ar_ctx *C = ar_ctx_new();
  ar_tensor p, q;
  ar_manual_seed(C, 3);
  cr_assert_eq(ar_randperm(C, &p, 1000), AR_OK);
  ar_manual_seed(C, 3);
  ar_set_num_threads(C, 3);
  cr_assert_eq(ar_randperm(C, &q, 1000), AR_OK);
  cr_assert(same_bits(&p, &q));
  char *seen = calloc(1001, 1);
  for (int64_t i = 0; i < 1000; i++) {
    float v = ar_data(&p)[i];
    cr_assert(v == floorf(v) && v >= 1 && v <= 1000 && !seen[(int)v]);
    seen[(int)v] = 1;
  }
  free(seen);
  ar_release(&p), ar_release(&q);
  cr_assert_eq(ar_randperm(C, &p, -1), AR_EARG);
  cr_assert_null(p.st);
  ar_ctx_release(C);
}

Test(index, index_select_and_index_add_are_adjoint) {
  ar_ctx *C = ar_ctx_new();
  int64_t sh[] = {5, 7, 600}; /* inner beyond one block */
  for (int dim = 0; dim < 3; dim++) {
    ar_tensor a, idx, s, g, r;
    make(C, &a, 3, sh);
    int64_t m = 9;
    make_index(C, &idx, 1, &m, sh[dim]);
    cr_assert_eq(ar_index_select(C, &s, &a, dim, &idx), AR_OK, "%s", ar_errmsg(C));
    /* against the definition */
    for (int64_t i = 0; i < ar_numel(&s); i += 37) {
      int64_t c[3] = {i / (s.shape[1] * s.shape[2]), (i / s.shape[2]) % s.shape[1], i % s.shape[2]};
      c[dim] = (int64_t)ar_data(&idx)[c[dim]] - 1;
      cr_assert_eq(ar_data(&s)[i], ar_data(&a)[(c[0] * sh[1] + c[1]) * sh[2] + c[2]]);
    }
    make(C, &g, 3, s.shape);
    cr_assert_eq(ar_index_add(C, &r, &g, dim, &idx, sh[dim]), AR_OK, "%s", ar_errmsg(C));
    double l = dot(&s, &g), rr = dot(&a, &r);
    cr_assert(fabs(l - rr) <= 1e-4 * (1 + fabs(l)), "dim %d: %g vs %g", dim, l, rr);
    ar_release(&a), ar_release(&idx), ar_release(&s), ar_release(&g), ar_release(&r);
  }
  cr_assert_eq(ar_live_bytes(C), 0, "no storage leaked");
  ar_ctx_release(C);
}

Test(index, gather_and_scatter_add_are_adjoint_on_strided_views) {
  ar_ctx *C = ar_ctx_new();
  int64_t sh[] = {6, 5, 8};
  for (int dim = 0; dim < 3; dim++) {
    ar_tensor base, a, idx, out, g, r;
    make(C, &base, 3, sh);
    cr_assert_eq(ar_transpose(C, &a, &base, 0, 2), AR_OK); /* {8, 5, 6}, strided */
    int64_t ish[] = {7, 4, 5};
    ish[dim] = 11; /* longer than a along dim: repeats */
    make_index(C, &idx, 3, ish, a.shape[dim]);
    cr_assert_eq(ar_gather(C, &out, &a, dim, &idx), AR_OK, "%s", ar_errmsg(C));
    for (int64_t i = 0; i < ar_numel(&out); i++) {
      int64_t c[3] = {i / (ish[1] * ish[2]), (i / ish[2]) % ish[1], i % ish[2]};
      c[dim] = (int64_t)ar_data(&idx)[i] - 1;
      cr_assert_eq(ar_data(&out)[i], ar_data(&base)[(c[2] * sh[1] + c[1]) * sh[2] + c[0]]);
    }
    make(C, &g, 3, ish);
    cr_assert_eq(ar_scatter_add(C, &r, &g, dim, &idx, a.ndim, a.shape), AR_OK, "%s", ar_errmsg(C));
    double l = dot(&out, &g), rr = dot(&a, &r);
    cr_assert(fabs(l - rr) <= 1e-4 * (1 + fabs(l)), "dim %d: %g vs %g", dim, l, rr);
    ar_release(&base), ar_release(&a), ar_release(&idx), ar_release(&out), ar_release(&g),
        ar_release(&r);
  }
  cr_assert_eq(ar_live_bytes(C), 0, "no storage leaked");
  ar_ctx_release(C);
}

/* the stable order by insertion: NaN greatest */
static bool ref_before(float x, float y, bool desc) {
  if (desc) return !isnan(y) && (isnan(x) || x > y);
  return !isnan(x) && (isnan(y) || x < y);
}

Test(index, sort_is_stable_with_ties_and_nan) {
  ar_ctx *C = ar_ctx_new();
  int64_t sh[] = {3, 70, 4};
  ar_tensor base, a;
  make_ties(C, &base, 3, sh);
  for (int64_t i = 0; i < ar_numel(&base); i += 11) ar_data(&base)[i] = NAN;
  cr_assert_eq(ar_transpose(C, &a, &base, 0, 2), AR_OK); /* {4, 70, 3} */
  for (int desc = 0; desc < 2; desc++) {
    ar_tensor v, ix;
    cr_assert_eq(ar_sort(C, &v, &ix, &a, 1, desc), AR_OK, "%s", ar_errmsg(C));
    for (int64_t o = 0; o < 4; o++)
      for (int64_t q = 0; q < 3; q++) {
        int64_t p[70];
        float x[70];
        for (int64_t j = 0; j < 70; j++) x[j] = at(&a, (o * 70 + j) * 3 + q), p[j] = j;
        for (int64_t i = 1; i < 70; i++) { /* insertion sort: stable */
          int64_t t = p[i], j = i;
          while (j > 0 && ref_before(x[t], x[p[j - 1]], desc)) p[j] = p[j - 1], j--;
          p[j] = t;
        }
        for (int64_t j = 0; j < 70; j++) {
          int64_t k = (o * 70 + j) * 3 + q;
          cr_assert_eq(ar_data(&ix)[k], (float)(p[j] + 1), "desc %d fiber %ld,%ld pos %ld", desc,
                       (long)o, (long)q, (long)j);
          float want = x[p[j]];
          cr_assert(memcmp(&ar_data(&v)[k], &want, sizeof want) == 0);
        }
      }
    /* topk is the prefix of the sort (small k by insertion, larger k by the sort) */
    const int64_t ks[] = {1, 9, 32, 33, 69, 70};
    for (int q = 0; q < 6; q++) {
      ar_tensor tv, ti, nv, ni;
      cr_assert_eq(ar_topk(C, &tv, &ti, &a, ks[q], 1, desc), AR_OK);
      cr_assert_eq(ar_narrow(C, &nv, &v, 1, 0, ks[q]), AR_OK);
      cr_assert_eq(ar_narrow(C, &ni, &ix, 1, 0, ks[q]), AR_OK);
      cr_assert(same_bits(&tv, &nv) && same_bits(&ti, &ni), "k %ld desc %d", (long)ks[q], desc);
      ar_release(&tv), ar_release(&ti), ar_release(&nv), ar_release(&ni);
    }
    ar_release(&v), ar_release(&ix);
  }
  ar_tensor v, ix;
  cr_assert_eq(ar_topk(C, &v, &ix, &a, 71, 1, true), AR_ERANGE);
  cr_assert_null(v.st);
  ar_release(&a), ar_release(&base);
  cr_assert_eq(ar_live_bytes(C), 0, "no storage leaked");
  ar_ctx_release(C);
}

Test(index, cumsum_matches_double_sums_both_ways) {
  ar_ctx *C = ar_ctx_new();
  int64_t sh[] = {4, 30, 700};
  ar_tensor a;
  make(C, &a, 3, sh);
  for (int dim = 0; dim < 3; dim++)
    for (int rev = 0; rev < 2; rev++) {
      ar_tensor c;
      cr_assert_eq(ar_cumsum(C, &c, &a, dim, rev), AR_OK);
      int64_t outer = 1, inner = 1, n = sh[dim];
      for (int d = 0; d < dim; d++) outer *= sh[d];
      for (int d = dim + 1; d < 3; d++) inner *= sh[d];
      for (int64_t o = 0; o < outer; o += 3)
        for (int64_t i = 0; i < inner; i += 13) {
          double s = 0;
          for (int64_t t = 0; t < n; t++) {
            int64_t j = rev ? n - 1 - t : t, k = (o * n + j) * inner + i;
            s += ar_data(&a)[k];
            cr_assert_eq(ar_data(&c)[k], (float)s);
          }
        }
      ar_release(&c);
    }
  ar_release(&a);
  ar_ctx_release(C);
}

Test(index, bad_indices_are_refused_before_writing) {
  ar_ctx *C = ar_ctx_new();
  int64_t sh[] = {3, 4}, m = 2;
  ar_tensor a, idx, out;
  make(C, &a, 2, sh);
  cr_assert_eq(ar_empty(C, &idx, 1, &m), AR_OK);
  ar_data(&idx)[0] = 1, ar_data(&idx)[1] = 5;
  cr_assert_eq(ar_index_select(C, &out, &a, 1, &idx), AR_ERANGE);
  cr_assert_null(out.st);
  cr_assert(strstr(ar_errmsg(C), "position 2"), "%s", ar_errmsg(C));
  ar_data(&idx)[1] = 2.5f;
  cr_assert_eq(ar_index_select(C, &out, &a, 1, &idx), AR_EARG);
  ar_data(&idx)[1] = NAN;
  cr_assert_eq(ar_check_index(C, &idx, 4), AR_EARG);
  ar_data(&idx)[1] = 0;
  cr_assert_eq(ar_check_index(C, &idx, 4), AR_ERANGE);
  cr_assert_eq(ar_gather(C, &out, &a, 1, &idx), AR_ESHAPE); /* 1-D index for 2-D a */
  cr_assert_null(out.st);
  ar_release(&a), ar_release(&idx);
  cr_assert_eq(ar_live_bytes(C), 0, "no storage leaked");
  ar_ctx_release(C);
}

Test(index, same_bits_at_one_and_three_threads) {
  ar_ctx *C = ar_ctx_new();
  int64_t sh[] = {257, 1031};
  ar_tensor a, idx, gi;
  make(C, &a, 2, sh);
  make_index(C, &idx, 2, sh, sh[0]);
  int64_t m = 300;
  make_index(C, &gi, 1, &m, sh[0]);
  ar_tensor r[2][8];
  for (int k = 0; k < 2; k++) {
    ar_set_num_threads(C, k ? 3 : 1);
    cr_assert_eq(ar_sort(C, &r[k][0], &r[k][1], &a, 0, false), AR_OK);
    cr_assert_eq(ar_cumsum(C, &r[k][2], &a, 0, false), AR_OK);
    cr_assert_eq(ar_cumsum(C, &r[k][3], &a, 1, true), AR_OK);
    cr_assert_eq(ar_gather(C, &r[k][4], &a, 0, &idx), AR_OK);
    cr_assert_eq(ar_scatter_add(C, &r[k][5], &a, 0, &idx, 2, sh), AR_OK);
    cr_assert_eq(ar_index_select(C, &r[k][6], &a, 0, &gi), AR_OK);
    cr_assert_eq(ar_index_add(C, &r[k][7], &r[k][6], 0, &gi, sh[0]), AR_OK);
  }
  /* the large strided sort (moved to the last dim internally) against a per-row sort */
  ar_tensor at_, atc;
  cr_assert_eq(ar_transpose(C, &at_, &a, 0, 1), AR_OK);
  cr_assert_eq(ar_clone(C, &atc, &at_), AR_OK);
  int64_t one = 1031, rowlen = 257;
  for (int64_t row = 0; row < one; row += 97) {
    ar_tensor rv, rs, rsi;
    cr_assert_eq(ar_select(C, &rv, &atc, 0, row), AR_OK);
    cr_assert_eq(ar_sort(C, &rs, &rsi, &rv, 0, false), AR_OK);
    for (int64_t j = 0; j < rowlen; j++) {
      cr_assert_eq(ar_data(&rs)[j], ar_data(&r[0][0])[j * one + row]);
      cr_assert_eq(ar_data(&rsi)[j], ar_data(&r[0][1])[j * one + row]);
    }
    ar_release(&rv), ar_release(&rs), ar_release(&rsi);
  }
  ar_release(&at_), ar_release(&atc);
  for (int j = 0; j < 8; j++) {
    cr_assert(same_bits(&r[0][j], &r[1][j]), "result %d", j);
    ar_release(&r[0][j]), ar_release(&r[1][j]);
  }
  ar_release(&a), ar_release(&idx), ar_release(&gi);
  ar_ctx_release(C);
}

/* Both sort paths (merge below 64 elements, radix from 64) against the insertion
 * reference, on ties, NaN and zeros of both signs (equal: stable order between them). */
Test(index, sort_paths_agree_with_the_reference) {
  ar_ctx *C = ar_ctx_new();
  const int64_t ns[] = {1, 5, 63, 64, 65, 300};
  for (int q = 0; q < 6; q++) {
    int64_t n = ns[q];
    ar_tensor a;
    make_ties(C, &a, 1, &n);
    float *x = ar_data(&a);
    for (int64_t i = 0; i < n; i++) {
      if (i % 7 == 3) x[i] = NAN;
      if (i % 5 == 1) x[i] = (i & 2) ? -0.0f : 0.0f;
      if (i % 11 == 4) x[i] = (i & 1) ? INFINITY : -INFINITY;
    }
    for (int desc = 0; desc < 2; desc++) {
      ar_tensor v, ix;
      cr_assert_eq(ar_sort(C, &v, &ix, &a, 0, desc), AR_OK);
      int64_t *p = malloc(sizeof(int64_t) * (size_t)n);
      for (int64_t j = 0; j < n; j++) p[j] = j;
      for (int64_t i = 1; i < n; i++) {
        int64_t t = p[i], j = i;
        while (j > 0 && ref_before(x[t], x[p[j - 1]], desc)) p[j] = p[j - 1], j--;
        p[j] = t;
      }
      for (int64_t j = 0; j < n; j++) {
        cr_assert_eq(ar_data(&ix)[j], (float)(p[j] + 1), "n %ld desc %d pos %ld", (long)n, desc,
                     (long)j);
        cr_assert(memcmp(&ar_data(&v)[j], &x[p[j]], sizeof(float)) == 0);
      }
      free(p);
      ar_release(&v), ar_release(&ix);
    }
    ar_release(&a);
  }
  cr_assert_eq(ar_live_bytes(C), 0, "no storage leaked");
  ar_ctx_release(C);
}
