/* Storage, the caching allocator, views, broadcasting, strided iteration and the RNG. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "core/core.h"

static ar_ctx *C;
static void setup(void) { C = ar_ctx_new(); }
static void teardown(void) { ar_ctx_release(C); }
TestSuite(tensor, .init = setup, .fini = teardown);
TestSuite(rng, .init = setup, .fini = teardown);

static void arange(ar_tensor *t, int ndim, const int64_t *shape) {
  cr_assert_eq(ar_empty(C, t, ndim, shape), AR_OK);
  float *p = ar_data(t);
  for (int64_t i = 0; i < ar_numel(t); i++) p[i] = (float)i;
}

/* element of t at a flat row-major position, through its strides */
static float at(const ar_tensor *t, int64_t flat) {
  int64_t off = t->offset;
  for (int d = t->ndim - 1; d >= 0; d--) {
    off += (flat % t->shape[d]) * t->stride[d];
    flat /= t->shape[d];
  }
  return t->st->data[off];
}

Test(tensor, storage_is_aligned_and_refcounted) {
  int64_t shape[] = {3, 5};
  ar_tensor t, u;
  cr_assert_eq(ar_empty(C, &t, 2, shape), AR_OK);
  cr_assert_eq((uintptr_t)ar_data(&t) % AR_ALIGN, 0);
  cr_assert(ar_is_contiguous(&t));
  cr_assert_eq(t.stride[0], 5);
  ar_share(&u, &t);
  cr_assert_eq(t.st->refcount, 2);
  ar_release(&t);
  cr_assert_eq(u.st->refcount, 1);
  ar_release(&u);
  cr_assert_null(u.st);
}

Test(tensor, cache_reuses_freed_buffers) {
  int64_t n = 1 << 20;
  ar_tensor a, b;
  cr_assert_eq(ar_empty(C, &a, 1, &n), AR_OK);
  float *p = ar_data(&a);
  size_t live = ar_live_bytes(C);
  cr_assert_geq(live, (size_t)n * 4);
  ar_release(&a);
  cr_assert_eq(ar_live_bytes(C), 0);
  cr_assert_geq(ar_cached_bytes(C), (size_t)n * 4);
  int64_t m = n - 7; /* same size class */
  cr_assert_eq(ar_empty(C, &b, 1, &m), AR_OK);
  cr_assert_eq(ar_data(&b), p, "a freed buffer of the same class is reused");
  cr_assert_eq(ar_cached_bytes(C), 0);
  ar_release(&b);
  ar_cache_trim(C);
  cr_assert_eq(ar_cached_bytes(C), 0);
}

Test(tensor, alloc_debt_counts_every_allocation) {
  int64_t n = 1000;
  ar_take_alloc_debt(C);
  ar_tensor a;
  cr_assert_eq(ar_empty(C, &a, 1, &n), AR_OK);
  cr_assert_geq(ar_take_alloc_debt(C), 4000);
  ar_release(&a);
  cr_assert_eq(ar_empty(C, &a, 1, &n), AR_OK); /* from the cache: still debt */
  cr_assert_geq(ar_take_alloc_debt(C), 4000);
  ar_release(&a);
}

Test(tensor, bad_shapes_and_oom_are_errors) {
  ar_tensor t;
  int64_t neg[] = {2, -1};
  cr_assert_eq(ar_empty(C, &t, 2, neg), AR_EARG);
  cr_assert_null(t.st);
  int64_t huge[] = {1LL << 40, 1LL << 40};
  cr_assert_eq(ar_empty(C, &t, 2, huge), AR_ENOMEM);
  cr_assert(strstr(ar_errmsg(C), "{1099511627776,1099511627776}"), "%s", ar_errmsg(C));
  int64_t big = 1LL << 45; /* passes the shape check, fails in the allocator */
  cr_assert_eq(ar_empty(C, &t, 1, &big), AR_ENOMEM);
  cr_assert(strstr(ar_errmsg(C), "not enough memory for a tensor of shape {"), "%s", ar_errmsg(C));
  int64_t nine[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
  cr_assert_eq(ar_empty(C, &t, 9, nine), AR_EARG);
  ar_fail_alloc_after(C, 1);
  int64_t two = 2;
  cr_assert_eq(ar_empty(C, &t, 1, &two), AR_ENOMEM);
  cr_assert_eq(ar_empty(C, &t, 1, &two), AR_OK, "the failure is injected once");
  ar_release(&t);
}

Test(tensor, transpose_narrow_select) {
  int64_t shape[] = {3, 4};
  ar_tensor t, tt, n, s;
  arange(&t, 2, shape);
  cr_assert_eq(ar_transpose(C, &tt, &t, 0, 1), AR_OK);
  cr_assert_eq(tt.shape[0], 4);
  cr_assert_not(ar_is_contiguous(&tt));
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 3; j++) cr_assert_eq(at(&tt, i * 3 + j), (float)(j * 4 + i));
  cr_assert_eq(ar_narrow(C, &n, &t, 1, 1, 2), AR_OK);
  cr_assert_eq(at(&n, 0), 1.0f);
  cr_assert_eq(at(&n, 3), 6.0f);
  cr_assert_eq(ar_narrow(C, &s, &t, 1, 3, 2), AR_ERANGE);
  cr_assert_null(s.st);
  cr_assert_eq(ar_select(C, &s, &t, 0, 2), AR_OK);
  cr_assert_eq(s.ndim, 1);
  cr_assert_eq(at(&s, 3), 11.0f);
  ar_release(&s);
  cr_assert_eq(ar_select(C, &s, &t, 0, 3), AR_ERANGE);
  cr_assert_eq(ar_transpose(C, &s, &t, 0, 2), AR_ERANGE);
  ar_release(&t);
  ar_release(&tt);
  ar_release(&n);
}

Test(tensor, view_splits_and_merges_contiguous_chunks) {
  int64_t shape[] = {2, 3, 4};
  ar_tensor t, v;
  arange(&t, 3, shape);
  int64_t s1[] = {6, -1};
  cr_assert_eq(ar_view(C, &v, &t, 2, s1), AR_OK);
  cr_assert_eq(v.shape[1], 4);
  for (int i = 0; i < 24; i++) cr_assert_eq(at(&v, i), (float)i);
  ar_release(&v);
  int64_t bad[] = {5, -1};
  cr_assert_eq(ar_view(C, &v, &t, 2, bad), AR_ESHAPE);
  int64_t two_infer[] = {-1, -1};
  cr_assert_eq(ar_view(C, &v, &t, 2, two_infer), AR_EARG);

  /* a transposed tensor: only splits inside its memory chunks are views */
  ar_tensor tt;
  cr_assert_eq(ar_transpose(C, &tt, &t, 1, 2), AR_OK); /* {2,4,3} */
  int64_t ok[] = {2, 2, 2, 3};                          /* splits the 4 (stride 1 dim) */
  cr_assert_eq(ar_view(C, &v, &tt, 4, ok), AR_OK);
  for (int i = 0; i < 24; i++) cr_assert_eq(at(&v, i), at(&tt, i));
  ar_release(&v);
  int64_t merge[] = {2, 12};
  cr_assert_eq(ar_view(C, &v, &tt, 2, merge), AR_ESHAPE);
  cr_assert_eq(ar_reshape(C, &v, &tt, 2, merge), AR_OK, "reshape copies when a view can't");
  for (int i = 0; i < 24; i++) cr_assert_eq(at(&v, i), at(&tt, i));
  cr_assert_neq(v.st, tt.st);
  ar_release(&v);
  int64_t ones[] = {1, 2, 1, 12, 1};
  cr_assert_eq(ar_view(C, &v, &t, 5, ones), AR_OK);
  for (int i = 0; i < 24; i++) cr_assert_eq(at(&v, i), (float)i);
  ar_release(&v);
  ar_release(&tt);
  ar_release(&t);
}

Test(tensor, unsqueeze_squeeze_expand) {
  int64_t shape[] = {3};
  ar_tensor t, u, s, e;
  arange(&t, 1, shape);
  cr_assert_eq(ar_unsqueeze(C, &u, &t, 0), AR_OK);
  cr_assert_eq(u.ndim, 2);
  cr_assert_eq(u.shape[0], 1);
  cr_assert_eq(ar_squeeze(C, &s, &u, -1), AR_OK);
  cr_assert_eq(s.ndim, 1);
  ar_release(&s);
  int64_t to[] = {4, 3};
  cr_assert_eq(ar_expand(C, &e, &u, 2, to), AR_OK);
  cr_assert_eq(e.stride[0], 0);
  for (int i = 0; i < 12; i++) cr_assert_eq(at(&e, i), (float)(i % 3));
  ar_release(&e);
  int64_t bad[] = {4, 5};
  cr_assert_eq(ar_expand(C, &e, &u, 2, bad), AR_ESHAPE);
  cr_assert_null(e.st);
  ar_release(&u);
  ar_release(&t);
}

Test(tensor, broadcast_shapes) {
  ar_tensor a = {0}, b = {0};
  a.ndim = 2;
  a.shape[0] = 3;
  a.shape[1] = 1;
  b.ndim = 1;
  b.shape[0] = 4;
  int nd;
  int64_t shape[AR_MAXDIM];
  cr_assert_eq(ar_broadcast_shape(C, &a, &b, &nd, shape), AR_OK);
  cr_assert_eq(nd, 2);
  cr_assert_eq(shape[0], 3);
  cr_assert_eq(shape[1], 4);
  b.shape[0] = 5;
  a.shape[1] = 2;
  cr_assert_eq(ar_broadcast_shape(C, &a, &b, &nd, shape), AR_ESHAPE);
  cr_assert(strstr(ar_errmsg(C), "{3,2} and {5}"), "%s", ar_errmsg(C));
}

Test(tensor, iterator_coalesces_and_visits_every_element) {
  int64_t shape[] = {4, 5, 6};
  ar_tensor t, tt;
  arange(&t, 3, shape);
  const ar_tensor *ops1[] = {&t};
  ar_iter it;
  ar_iter_init(&it, 1, ops1);
  cr_assert_eq(it.ndim, 1, "a contiguous tensor is one flat run");
  cr_assert_eq(it.shape[0], 120);
  cr_assert_eq(ar_transpose(C, &tt, &t, 0, 2), AR_OK);
  const ar_tensor *ops2[] = {&tt};
  ar_iter_init(&it, 1, ops2);
  double sum = 0;
  int64_t count = 0;
  for (int64_t r = 0; r < it.outer; r++) {
    float *p[1];
    ar_iter_row(&it, r, p);
    for (int64_t i = 0; i < it.shape[it.ndim - 1]; i++, count++)
      sum += p[0][i * it.stride[0][it.ndim - 1]];
  }
  cr_assert_eq(count, 120);
  cr_assert_eq(sum, 119.0 * 120 / 2);
  ar_release(&tt);
  ar_release(&t);
}

Test(tensor, shape_str) {
  char b[64];
  int64_t s[] = {2, 3};
  cr_assert_str_eq(ar_shape_str(2, s, b, sizeof b), "{2,3}");
  cr_assert_str_eq(ar_shape_str(0, s, b, sizeof b), "{}");
}

Test(rng, seed_reproduces_and_thread_count_does_not_matter) {
  int64_t n = 1 << 19;
  ar_tensor a, b;
  cr_assert_eq(ar_empty(C, &a, 1, &n), AR_OK);
  cr_assert_eq(ar_empty(C, &b, 1, &n), AR_OK);
  ar_set_num_threads(C, 1);
  ar_manual_seed(C, 42);
  cr_assert_eq(ar_rand_normal(C, &a, 0, 1), AR_OK);
  ar_set_num_threads(C, 2);
  ar_manual_seed(C, 42);
  cr_assert_eq(ar_rand_normal(C, &b, 0, 1), AR_OK);
  cr_assert_eq(memcmp(ar_data(&a), ar_data(&b), (size_t)n * 4), 0);
  cr_assert_eq(ar_rand_normal(C, &b, 0, 1), AR_OK);
  cr_assert_neq(memcmp(ar_data(&a), ar_data(&b), (size_t)n * 4), 0, "the stream advances");
  double s = 0, s2 = 0;
  for (int64_t i = 0; i < n; i++) {
    s += ar_data(&a)[i];
    s2 += (double)ar_data(&a)[i] * ar_data(&a)[i];
  }
  double mean = s / n, var = s2 / n - mean * mean;
  cr_assert_lt(fabs(mean), 0.01);
  cr_assert_lt(fabs(var - 1), 0.01);
  ar_release(&a);
  ar_release(&b);
}

Test(rng, uniform_in_half_open_interval) {
  int64_t n = 100003;
  ar_tensor a;
  cr_assert_eq(ar_empty(C, &a, 1, &n), AR_OK);
  ar_manual_seed(C, 7);
  cr_assert_eq(ar_rand_uniform(C, &a, -2, 3), AR_OK);
  double s = 0;
  for (int64_t i = 0; i < n; i++) {
    float v = ar_data(&a)[i];
    cr_assert(v >= -2 && v < 3);
    s += v;
  }
  cr_assert_lt(fabs(s / n - 0.5), 0.02);
  cr_assert_eq(ar_rand_uniform(C, &a, 3, -2), AR_EARG);
  ar_release(&a);
}

Test(rng, philox_known_answer) {
  /* Philox4x32-10 with zero key and counter: the published test vector. */
  uint32_t out[4];
  ar_philox(0, 0, out);
  cr_assert_eq(out[0], 0x6627e8d5u);
  cr_assert_eq(out[1], 0xe169c58du);
  cr_assert_eq(out[2], 0xbc57ac4cu);
  cr_assert_eq(out[3], 0x9b00dbd8u);
}
