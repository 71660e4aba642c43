/* cat and stack: every dim, contiguous and strided inputs, PyTorch's 1-D empty rule,
 * error messages. */
#include <criterion/criterion.h>
#include <string.h>

#include "core/core.h"

static uint64_t sh_lcg = 3;
static void make(ar_ctx *C, ar_tensor *t, int ndim, const int64_t *shape)
{
  cr_assert_eq(ar_empty(C, t, ndim, shape), AR_OK, "%s", ar_errmsg(C));
  for (int64_t i = 0; i < ar_numel(t); i++) {
    sh_lcg = sh_lcg * 6364136223846793005ULL + 1442695040888963407ULL;
    ar_data(t)[i] = (float)(sh_lcg >> 40);
  }
}

/* t at a logical multi-index */
static float get(const ar_tensor *t, const int64_t *idx)
{
  return t->st->data[ar_offset_of(t, idx)];
}

/* Checks out == cat(list, dim) element by element. */
static void check_cat(const ar_tensor *out, const ar_tensor *const *list, int n, int dim)
{
  int64_t idx[AR_MAXDIM] = {0}, sub[AR_MAXDIM];
  int64_t total = ar_numel(out);
  for (int64_t f = 0; f < total; f++) {
    int64_t r = f;
    for (int d = out->ndim - 1; d >= 0; d--) {
      idx[d] = r % out->shape[d];
      r /= out->shape[d];
    }
    /* find the input holding idx[dim] */
    int64_t k = idx[dim];
    int i = 0;
    while (list[i]->ndim != out->ndim || k >= list[i]->shape[dim]) {
      if (list[i]->ndim == out->ndim) k -= list[i]->shape[dim];
      i++;
    }
    memcpy(sub, idx, sizeof sub);
    sub[dim] = k;
    cr_assert_eq(get(out, idx), get(list[i], sub), "cat dim %d: element %lld from input %d", dim,
                 (long long)f, i);
  }
}

Test(shape, cat_every_dim)
{
  ar_ctx *C = ar_ctx_new();
  for (int dim = 0; dim < 3; dim++) {
    int64_t s0[] = {4, 5, 6}, s1[] = {4, 5, 6}, s2[] = {4, 5, 6};
    s1[dim] = 1;
    s2[dim] = 3;
    ar_tensor a, b, c, out;
    make(C, &a, 3, s0);
    make(C, &b, 3, s1);
    make(C, &c, 3, s2);
    const ar_tensor *list[] = {&a, &b, &c};
    cr_assert_eq(ar_cat(C, &out, list, 3, dim), AR_OK, "%s", ar_errmsg(C));
    cr_assert_eq(out.ndim, 3);
    for (int d = 0; d < 3; d++) cr_assert_eq(out.shape[d], d == dim ? s0[d] + 4 : s0[d]);
    cr_assert(ar_is_contiguous(&out));
    check_cat(&out, list, 3, dim);
    ar_release(&out);
    ar_release(&a);
    ar_release(&b);
    ar_release(&c);
  }
  cr_assert_eq(ar_live_bytes(C), 0);
  ar_ctx_release(C);
}

Test(shape, cat_strided_inputs)
{
  ar_ctx *C = ar_ctx_new();
  int64_t sa[] = {6, 5}, sb[] = {5, 6}, sc[] = {6, 9};
  ar_tensor a, b, bt, c, cn, e, ee, out;
  make(C, &a, 2, sa);
  make(C, &b, 2, sb);
  make(C, &c, 2, sc);
  cr_assert_eq(ar_transpose(C, &bt, &b, 0, 1), AR_OK); /* {6, 5} */
  cr_assert_eq(ar_narrow(C, &cn, &c, 1, 2, 5), AR_OK);   /* {6, 5}, row stride 9 */
  int64_t s1[] = {1, 5}, s6[] = {6, 5};
  make(C, &e, 2, s1);
  cr_assert_eq(ar_expand(C, &ee, &e, 2, s6), AR_OK);     /* stride 0 rows */
  const ar_tensor *list[] = {&a, &bt, &cn, &ee};
  for (int dim = 0; dim < 2; dim++) {
    cr_assert_eq(ar_cat(C, &out, list, 4, dim), AR_OK, "%s", ar_errmsg(C));
    cr_assert_eq(out.shape[dim], dim == 0 ? 24 : 20);
    check_cat(&out, list, 4, dim);
    ar_release(&out);
  }
  ar_tensor *all[] = {&a, &b, &bt, &c, &cn, &e, &ee};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) ar_release(all[i]);
  cr_assert_eq(ar_live_bytes(C), 0);
  ar_ctx_release(C);
}

Test(shape, cat_large_rows)
{
  ar_ctx *C = ar_ctx_new();
  ar_set_num_threads(C, 2);
  /* rows longer than one copy chunk, and many rows */
  int64_t sa[] = {3, 200000}, sb[] = {3, 70001}, sc[] = {5000, 40}, sd[] = {5000, 41};
  ar_tensor a, b, c, d, out;
  make(C, &a, 2, sa);
  make(C, &b, 2, sb);
  make(C, &c, 2, sc);
  make(C, &d, 2, sd);
  const ar_tensor *l1[] = {&a, &b}, *l2[] = {&c, &d, &c};
  cr_assert_eq(ar_cat(C, &out, l1, 2, 1), AR_OK);
  check_cat(&out, l1, 2, 1);
  ar_release(&out);
  cr_assert_eq(ar_cat(C, &out, l2, 3, 1), AR_OK);
  cr_assert_eq(out.shape[1], 121);
  check_cat(&out, l2, 3, 1);
  ar_release(&out);
  ar_release(&a);
  ar_release(&b);
  ar_release(&c);
  ar_release(&d);
  ar_ctx_release(C);
}

Test(shape, cat_skips_1d_empties)
{
  ar_ctx *C = ar_ctx_new();
  int64_t z = 0, s[] = {2, 3}, s2[] = {4, 3}, s0[] = {0, 3};
  ar_tensor e, a, b, e2, out;
  cr_assert_eq(ar_empty(C, &e, 1, &z), AR_OK);
  make(C, &a, 2, s);
  make(C, &b, 2, s2);
  make(C, &e2, 2, s0);
  const ar_tensor *list[] = {&e, &a, &e, &e2, &b};
  cr_assert_eq(ar_cat(C, &out, list, 5, 0), AR_OK, "%s", ar_errmsg(C));
  cr_assert_eq(out.ndim, 2);
  cr_assert_eq(out.shape[0], 6);
  cr_assert_eq(out.shape[1], 3);
  const ar_tensor *kept[] = {&a, &e2, &b};
  check_cat(&out, kept, 3, 0);
  ar_release(&out);
  const ar_tensor *only[] = {&e, &e};
  cr_assert_eq(ar_cat(C, &out, only, 2, 0), AR_OK);
  cr_assert_eq(out.ndim, 1);
  cr_assert_eq(out.shape[0], 0);
  ar_release(&out);
  /* 1-D with 1-D empties is an ordinary cat */
  int64_t n3 = 3;
  ar_tensor v;
  make(C, &v, 1, &n3);
  const ar_tensor *l1[] = {&v, &e, &v};
  cr_assert_eq(ar_cat(C, &out, l1, 3, 0), AR_OK);
  cr_assert_eq(out.shape[0], 6);
  cr_assert_eq(ar_data(&out)[4], ar_data(&v)[1]);
  ar_release(&out);
  ar_release(&v);
  ar_release(&e);
  ar_release(&a);
  ar_release(&b);
  ar_release(&e2);
  ar_ctx_release(C);
}

Test(shape, cat_errors)
{
  ar_ctx *C = ar_ctx_new();
  int64_t s23[] = {2, 3}, s24[] = {2, 4}, s3[] = {3}, s234[] = {2, 3, 4};
  ar_tensor a, b, v, x, out;
  make(C, &a, 2, s23);
  make(C, &b, 2, s24);
  make(C, &v, 1, s3);
  make(C, &x, 3, s234);
  const ar_tensor *l1[] = {&a, &b};
  cr_assert_eq(ar_cat(C, &out, l1, 2, 0), AR_ESHAPE);
  cr_assert_null(out.st);
  /* messages count from 1, like every message that reaches Lua */
  cr_assert_str_eq(ar_errmsg(C),
                   "tensor 2 has shape {2,4} but tensor 1 has shape {2,3} (sizes must match "
                   "except in dimension 1)");
  cr_assert_eq(ar_cat(C, &out, l1, 2, 1), AR_OK, "fine along dim 1");
  ar_release(&out);
  const ar_tensor *l2[] = {&a, &a, &v};
  cr_assert_eq(ar_cat(C, &out, l2, 3, 0), AR_ESHAPE);
  cr_assert(strstr(ar_errmsg(C), "tensor 3 has shape {3}") && strstr(ar_errmsg(C), "{2,3}"),
            "%s", ar_errmsg(C));
  const ar_tensor *l3[] = {&x, &a};
  cr_assert_eq(ar_cat(C, &out, l3, 2, 0), AR_ESHAPE);
  cr_assert_eq(ar_cat(C, &out, l1, 2, 2), AR_ERANGE);
  cr_assert_eq(ar_cat(C, &out, l1, 2, -1), AR_ERANGE);
  cr_assert_eq(ar_cat(C, &out, l1, 0, 0), AR_EARG);
  ar_tensor s;
  cr_assert_eq(ar_empty(C, &s, 0, NULL), AR_OK);
  const ar_tensor *l4[] = {&s, &s};
  cr_assert_eq(ar_cat(C, &out, l4, 2, 0), AR_EARG, "0-D tensors cannot be concatenated");
  cr_assert_null(out.st);
  ar_release(&s);
  ar_release(&a);
  ar_release(&b);
  ar_release(&v);
  ar_release(&x);
  cr_assert_eq(ar_live_bytes(C), 0);
  ar_ctx_release(C);
}

Test(shape, stack_every_dim)
{
  ar_ctx *C = ar_ctx_new();
  int64_t sa[] = {3, 4}, sb[] = {4, 3};
  ar_tensor a, b, bt, c, out;
  make(C, &a, 2, sa);
  make(C, &b, 2, sb);
  make(C, &c, 2, sa);
  cr_assert_eq(ar_transpose(C, &bt, &b, 0, 1), AR_OK);
  const ar_tensor *list[] = {&a, &bt, &c, &a};
  for (int dim = 0; dim <= 2; dim++) {
    cr_assert_eq(ar_stack(C, &out, list, 4, dim), AR_OK, "%s", ar_errmsg(C));
    cr_assert_eq(out.ndim, 3);
    for (int d = 0, j = 0; d < 3; d++)
      cr_assert_eq(out.shape[d], d == dim ? 4 : sa[j++]);
    int64_t idx[3], sub[2];
    for (idx[0] = 0; idx[0] < out.shape[0]; idx[0]++)
      for (idx[1] = 0; idx[1] < out.shape[1]; idx[1]++)
        for (idx[2] = 0; idx[2] < out.shape[2]; idx[2]++) {
          for (int d = 0, j = 0; d < 3; d++)
            if (d != dim) sub[j++] = idx[d];
          cr_assert_eq(get(&out, idx), get(list[idx[dim]], sub), "stack dim %d", dim);
        }
    ar_release(&out);
  }
  /* scalars stack into a vector */
  ar_tensor s1, s2;
  cr_assert_eq(ar_empty(C, &s1, 0, NULL), AR_OK);
  cr_assert_eq(ar_empty(C, &s2, 0, NULL), AR_OK);
  ar_data(&s1)[0] = 1;
  ar_data(&s2)[0] = 2;
  const ar_tensor *ls[] = {&s1, &s2, &s1};
  cr_assert_eq(ar_stack(C, &out, ls, 3, 0), AR_OK);
  cr_assert_eq(out.ndim, 1);
  cr_assert_eq(out.shape[0], 3);
  cr_assert_eq(ar_data(&out)[1], 2);
  cr_assert_eq(ar_data(&out)[2], 1);
  ar_release(&out);
  ar_release(&s1);
  ar_release(&s2);
  ar_release(&a);
  ar_release(&b);
  ar_release(&bt);
  ar_release(&c);
  cr_assert_eq(ar_live_bytes(C), 0);
  ar_ctx_release(C);
}

Test(shape, stack_errors)
{
  ar_ctx *C = ar_ctx_new();
  int64_t sa[] = {3, 4}, sb[] = {4, 3};
  ar_tensor a, b, out;
  make(C, &a, 2, sa);
  make(C, &b, 2, sb);
  const ar_tensor *l[] = {&a, &a, &b};
  cr_assert_eq(ar_stack(C, &out, l, 3, 0), AR_ESHAPE);
  cr_assert_null(out.st);
  cr_assert(strstr(ar_errmsg(C), "tensor 3 has shape {4,3}") && strstr(ar_errmsg(C), "{3,4}"),
            "%s", ar_errmsg(C));
  cr_assert_eq(ar_stack(C, &out, l, 2, 3), AR_ERANGE);
  cr_assert_eq(ar_stack(C, &out, l, 0, 0), AR_EARG);
  /* empty tensors stack fine */
  int64_t s0[] = {0, 2};
  ar_tensor e;
  cr_assert_eq(ar_empty(C, &e, 2, s0), AR_OK);
  const ar_tensor *le[] = {&e, &e};
  cr_assert_eq(ar_stack(C, &out, le, 2, 1), AR_OK);
  cr_assert_eq(out.shape[0], 0);
  cr_assert_eq(out.shape[1], 2);
  cr_assert_eq(out.shape[2], 2);
  ar_release(&out);
  ar_release(&e);
  ar_release(&a);
  ar_release(&b);
  ar_ctx_release(C);
}
