/* Autograd core without Lua: recording only when needed, a diamond graph (each node's
 * backward runs once, after all its consumers), accumulation, errors, graph release and
 * deep chains (no recursion). */
#include <criterion/criterion.h>
#include <string.h>

#include "autograd/ops.h"
#include "core/core.h"

static ar_ctx *C;
static void setup(void) { C = ar_ctx_new(); }
static void teardown(void) { ar_ctx_release(C); }
TestSuite(autograd, .init = setup, .fini = teardown);

static void vec(ar_tensor *t, int n, const float *v, bool rg) {
  int64_t s = n;
  cr_assert_eq(ar_empty(C, t, 1, &s), AR_OK);
  memcpy(ar_data(t), v, sizeof(float) * (size_t)n);
  if (rg) cr_assert_eq(ag_set_requires_grad(C, t, true), AR_OK);
}

/* the differentiable ops of ops.h, as the binding calls them */
static void mul(ar_tensor *out, ar_tensor *a, ar_tensor *b) {
  cr_assert_eq(ag_binary(C, AR_MUL, out, a, b), AR_OK);
}
static void add(ar_tensor *out, ar_tensor *a, ar_tensor *b) {
  cr_assert_eq(ag_binary(C, AR_ADD, out, a, b), AR_OK);
}
static void sum(ar_tensor *out, ar_tensor *a) {
  cr_assert_eq(ag_reduce(C, AR_SUM, out, a, -1, false, 2.0, 0), AR_OK);
}
static void drop(ar_tensor *t) {
  ag_tensor_release(t);
  ar_release(t);
}

Test(autograd, nothing_recorded_without_requires_grad_or_in_no_grad) {
  ar_tensor a, b, y;
  vec(&a, 2, (float[]){1, 2}, false);
  vec(&b, 2, (float[]){3, 4}, false);
  mul(&y, &a, &b);
  cr_assert_null(y.ag);
  drop(&y);
  cr_assert_eq(ag_set_requires_grad(C, &a, true), AR_OK);
  ag_set_grad_enabled(C, false);
  mul(&y, &a, &b);
  cr_assert_null(y.ag);
  drop(&y);
  ag_set_grad_enabled(C, true);
  mul(&y, &a, &b);
  cr_assert_not_null(y.ag);
  cr_assert(!ag_is_leaf(&y));
  drop(&y), drop(&a), drop(&b);
}

Test(autograd, diamond_graph_sums_both_paths) {
  /* x -> a = x*x -> {b = a*x, c = a+a} -> y = sum(b + c): dy/dx = 3x^2 + 4x */
  ar_tensor x, a, b, c, d, y;
  vec(&x, 2, (float[]){1, 3}, true);
  mul(&a, &x, &x);
  mul(&b, &a, &x);
  add(&c, &a, &a);
  add(&d, &b, &c);
  sum(&y, &d);
  cr_assert_eq(ag_backward(C, &y, NULL, NULL), AR_OK, "%s", ar_errmsg(C));
  const ar_tensor *g = ag_grad(&x);
  cr_assert_not_null(g);
  cr_assert_float_eq(ar_data(g)[0], 3 + 4, 1e-5);
  cr_assert_float_eq(ar_data(g)[1], 27 + 12, 1e-5);
  cr_assert_null(ag_grad(&a), "non-leaves keep no gradient");
  /* every node ran once and was freed: a second walk is refused */
  cr_assert_eq(ag_backward(C, &y, NULL, NULL), AR_EARG);
  cr_assert(strstr(ar_errmsg(C), "second time") != NULL);
  drop(&y), drop(&d), drop(&c), drop(&b), drop(&a), drop(&x);
}

Test(autograd, accumulation_and_seed) {
  ar_tensor x, y, s;
  vec(&x, 2, (float[]){1, 2}, true);
  for (int k = 0; k < 3; k++) {
    mul(&y, &x, &x);
    vec(&s, 2, (float[]){1, 10}, false);
    cr_assert_eq(ag_backward(C, &y, &s, NULL), AR_OK, "%s", ar_errmsg(C));
    drop(&s), drop(&y);
  }
  const ar_tensor *g = ag_grad(&x);
  cr_assert_float_eq(ar_data(g)[0], 3 * 2 * 1, 1e-5);
  cr_assert_float_eq(ar_data(g)[1], 3 * 2 * 2 * 10, 1e-4);
  cr_assert_eq(ag_set_grad(C, &x, NULL), AR_OK);
  cr_assert_null(ag_grad(&x));
  drop(&x);
}

Test(autograd, errors) {
  ar_tensor x, y, z;
  vec(&x, 2, (float[]){1, 2}, false);
  cr_assert_eq(ag_backward(C, &x, NULL, NULL), AR_EARG);
  cr_assert(strstr(ar_errmsg(C), "does not require grad") != NULL);
  cr_assert_eq(ag_set_requires_grad(C, &x, true), AR_OK);
  mul(&y, &x, &x);
  cr_assert_eq(ag_backward(C, &y, NULL, NULL), AR_EARG);
  cr_assert(strstr(ar_errmsg(C), "one element, got shape {2}") != NULL, "%s", ar_errmsg(C));
  cr_assert_eq(ag_set_requires_grad(C, &y, false), AR_EARG, "not on a non-leaf");
  vec(&z, 3, (float[]){1, 2, 3}, false);
  cr_assert_eq(ag_set_grad(C, &x, &z), AR_ESHAPE);
  drop(&z), drop(&y), drop(&x);
}

Test(autograd, graph_released_after_backward_and_when_dropped) {
  ar_tensor x, y, s;
  vec(&x, 1024, (float[1024]){0}, true);
  size_t base = ar_live_bytes(C);
  ar_tensor t[8];
  ar_share(&t[0], &x);
  t[0].ag = x.ag;
  ((ag_meta *)x.ag)->refcount++;
  for (int k = 1; k < 8; k++) mul(&t[k], &t[k - 1], &x);
  sum(&s, &t[7]);
  cr_assert_gt(ar_live_bytes(C), base);
  for (int k = 1; k < 8; k++) drop(&t[k]); /* the graph keeps what backward needs */
  cr_assert_eq(ag_backward(C, &s, NULL, NULL), AR_OK, "%s", ar_errmsg(C));
  cr_assert_eq(ag_set_grad(C, &x, NULL), AR_OK);
  drop(&s), drop(&t[0]);
  cr_assert_eq(ar_live_bytes(C), base, "saved tensors and intermediate results freed");
  /* a graph never backpropagated is freed when its last tensor goes */
  mul(&y, &x, &x);
  for (int k = 0; k < 5; k++) {
    ar_tensor n;
    mul(&n, &y, &x);
    drop(&y);
    y = n;
  }
  drop(&y);
  cr_assert_eq(ar_live_bytes(C), base);
  drop(&x);
}

Test(autograd, deep_chain_without_recursion) {
  ar_tensor x, y, s;
  vec(&x, 1, (float[]){2}, true);
  ar_tensor one;
  vec(&one, 1, (float[]){1}, false);
  mul(&y, &x, &one);
  for (int k = 0; k < 200000; k++) {
    ar_tensor n;
    mul(&n, &y, &one);
    drop(&y);
    y = n;
  }
  sum(&s, &y);
  cr_assert_eq(ag_backward(C, &s, NULL, NULL), AR_OK, "%s", ar_errmsg(C));
  cr_assert_float_eq(ar_data(ag_grad(&x))[0], 1.0f, 0);
  drop(&s), drop(&y);
  /* dropping an unused deep graph: freed iteratively */
  mul(&y, &x, &one);
  for (int k = 0; k < 200000; k++) {
    ar_tensor n;
    mul(&n, &y, &one);
    drop(&y);
    y = n;
  }
  drop(&y), drop(&one), drop(&x);
}

Test(autograd, reduce_to_shape) {
  int64_t s3[3] = {2, 3, 4}, t2[2] = {3, 1};
  ar_tensor g, r;
  cr_assert_eq(ar_empty(C, &g, 3, s3), AR_OK);
  ar_fill(C, &g, 1.0f);
  cr_assert_eq(ag_sum_to_shape(C, &r, &g, 2, t2), AR_OK);
  cr_assert_eq(r.ndim, 2);
  cr_assert_eq(r.shape[0], 3);
  cr_assert_eq(r.shape[1], 1);
  for (int i = 0; i < 3; i++) cr_assert_float_eq(ar_data(&r)[i * r.stride[0]], 8.0f, 0);
  ar_release(&r), ar_release(&g);
}

Test(autograd, op_table_is_complete) {
  cr_assert_geq(ag_op_count, 30);
  for (int i = 0; i < ag_op_count; i++) {
    const ag_opdef *d = ag_op_table[i];
    cr_assert_not_null(d->backward, "%s has no backward", d->name);
    cr_assert_not_null(d->forward);
    for (int j = 0; j < i; j++)
      cr_assert_str_neq(ag_op_table[j]->name, d->name, "two ops named %s", d->name);
  }
}

/* y = sum(x^3) through the C API: dy/dx = 3x^2 recorded with create_graph, then its sum
 * differentiated again gives 6x; the graph is freed when the tensors are. */
Test(autograd, second_derivative_from_c) {
  ar_tensor x, x2, x3, y, g[1], s;
  vec(&x, 3, (float[]){1, -2, 0.5f}, true);
  mul(&x2, &x, &x);
  mul(&x3, &x2, &x);
  sum(&y, &x3);
  ar_tensor *outs[1] = {&y};
  const ar_tensor *ins[1] = {&x};
  ag_backward_opts o = {.create_graph = true};
  cr_assert_eq(ag_grad_of(C, 1, outs, NULL, 1, ins, g, &o), AR_OK, "%s", ar_errmsg(C));
  cr_assert(ag_requires_grad(&g[0]));
  const float want1[3] = {3, 12, 0.75f};
  for (int i = 0; i < 3; i++) cr_assert_float_eq(ar_data(&g[0])[i], want1[i], 1e-6);
  cr_assert_null(ag_grad(&x), "actrun.grad leaves .grad alone");
  sum(&s, &g[0]);
  cr_assert_eq(ag_backward(C, &s, NULL, NULL), AR_OK, "%s", ar_errmsg(C));
  const float want2[3] = {6, -12, 3};
  for (int i = 0; i < 3; i++) cr_assert_float_eq(ar_data(ag_grad(&x))[i], want2[i], 1e-6);
  drop(&s), drop(&g[0]), drop(&y), drop(&x3), drop(&x2), drop(&x);
}
