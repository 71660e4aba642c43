/* Elementwise ops against naive double-precision reference loops: contiguous, strided,
 * narrowed and broadcast operands, in-place forms, special values, large sizes at 1 and 2
 * threads, creation functions. */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/ctx.h"

/* More elements than any op keeps on one thread (see elementwise.c). */
#define LARGE (16 * AR_PAR_GRAIN)

/* A deadlock must fail the suite, not hang it. */
TestSuite(elementwise, .timeout = 120);

/* ---------- helpers ---------- */

static ar_tensor mk(ar_ctx *C, int nd, const int64_t *shape) {
  ar_tensor t;
  int rc = ar_empty(C, &t, nd, shape);
  cr_assert_eq(rc, AR_OK, "ar_empty: %s", ar_errmsg(C));
  return t;
}

static uint64_t rng_state = 88172645463325252ull;
static double urand(void) { /* xorshift64, enough for test data */
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (double)(rng_state >> 11) * 0x1p-53;
}

static const float specials[] = {0.0f, -0.0f, 1.0f,     -1.0f,     0.5f, -0.5f,  1.5f,  2.5f, -2.5f,
                                 2.0f, 3.0f,  INFINITY, -INFINITY, NAN,  1e-40f, 1e30f, -7.0f};
#define NSPECIAL ((int)(sizeof specials / sizeof *specials))

/* Fills the storage behind a fresh contiguous tensor: uniform in [lo, hi), with special
 * values sprinkled in when `special` is set. */
static void fill_data(ar_tensor *t, double lo, double hi, bool special) {
  float *d = ar_data(t);
  int64_t n = ar_numel(t);
  for (int64_t i = 0; i < n; i++) {
    d[i] = (float)(lo + (hi - lo) * urand());
    if (special && i % 7 == 3) d[i] = specials[(i / 7) % NSPECIAL];
  }
}

static ar_tensor mk_data(ar_ctx *C, int nd, const int64_t *shape, double lo, double hi,
                         bool special) {
  ar_tensor t = mk(C, nd, shape);
  fill_data(&t, lo, hi, special);
  return t;
}

/* element at a 0-based index, computed from the strides independently of the library */
static float at(const ar_tensor *t, const int64_t *idx) {
  int64_t o = t->offset;
  for (int i = 0; i < t->ndim; i++) o += idx[i] * t->stride[i];
  return t->st->data[o];
}

/* element of t broadcast to an nd-dim index */
static float at_bc(const ar_tensor *t, int nd, const int64_t *idx) {
  int64_t j[AR_MAXDIM] = {0};
  for (int i = 0; i < t->ndim; i++) {
    int64_t k = idx[nd - t->ndim + i];
    j[i] = t->shape[i] == 1 ? 0 : k;
  }
  return at(t, j);
}

static void unravel(int64_t i, int nd, const int64_t *shape, int64_t *idx) {
  for (int d = nd - 1; d >= 0; d--) {
    idx[d] = shape[d] ? i % shape[d] : 0;
    i = shape[d] ? i / shape[d] : 0;
  }
}

static bool shape_is(const ar_tensor *t, int nd, const int64_t *shape) {
  if (t->ndim != nd) return false;
  for (int i = 0; i < nd; i++)
    if (t->shape[i] != shape[i]) return false;
  return true;
}

/* got equals the float rounding of ref (NaN matches NaN), within rel relative error
 * (rel 0: exactly). */
static bool close_to(float got, double ref, double rel) {
  if (isnan(ref)) return isnan(got);
  float want = (float)ref;
  if (isinf(want) || rel == 0) return got == want;
  if (isnan(got) || isinf(got)) return false;
  double err = fabs((double)got - ref);
  return err <= rel * fmax(fabs(ref), FLT_MIN) || got == want;
}

static double ref_bin(int op, double x, double y) {
  switch (op) {
    case AR_ADD:
      return x + y;
    case AR_SUB:
      return x - y;
    case AR_MUL:
      return x * y;
    case AR_DIV:
      return x / y;
    case AR_POW:
      return pow(x, y);
    case AR_GT:
      return x > y;
    case AR_LT:
      return x < y;
    case AR_GE:
      return x >= y;
    case AR_LE:
      return x <= y;
    case AR_EQ:
      return x == y;
    case AR_NE:
      return x != y;
    case AR_MAXIMUM:
      return (isnan(x) || isnan(y)) ? NAN : (x > y ? x : y);
    case AR_MINIMUM:
      return (isnan(x) || isnan(y)) ? NAN : (x < y ? x : y);
  }
  return NAN;
}
static double bin_tol(int op) { return op == AR_POW ? 3e-7 : 0; }

static double ref_un(int op, double x) {
  switch (op) {
    case AR_NEG:
      return -x;
    case AR_EXP:
      return exp(x);
    case AR_LOG:
      return log(x);
    case AR_SQRT:
      return sqrt(x);
    case AR_ABS:
      return fabs(x);
    case AR_SIN:
      return sin(x);
    case AR_COS:
      return cos(x);
    case AR_TANH:
      return tanh(x);
    case AR_SIGMOID:
      return 1.0 / (1.0 + exp(-x));
    case AR_SIGN:
      return isnan(x) ? x : (x > 0) - (x < 0);
    case AR_FLOOR:
      return floor(x);
    case AR_CEIL:
      return ceil(x);
    case AR_ROUND:
      return nearbyint(x);
    case AR_RECIP:
      return 1.0 / x;
    case AR_SQUARE:
      return x * x;
  }
  return NAN;
}
static double un_tol(int op) {
  switch (op) {
    case AR_EXP:
    case AR_LOG:
    case AR_SIN:
    case AR_COS:
    case AR_TANH:
    case AR_SIGMOID:
      return 5e-7; /* about 4 ulp: the kernels promise 3.5 */
    default:
      return 0; /* correctly rounded ops must match exactly */
  }
}

/* Checks out == a op b elementwise (broadcast) against the double reference. */
/* The elements the result checks look at: every one, except in the large thread cases of
 * a sanitizer build, where every LARGE_STEP-th is enough (the normal build checks them
 * all, and the sanitizers are there for the memory the kernels touch, which the runs
 * themselves cover); the bitwise 1-vs-2-thread comparison always covers every element. */
static int64_t check_step = 1;
#if defined(__SANITIZE_ADDRESS__)
#define LARGE_STEP 13
#else
#define LARGE_STEP 1
#endif

static void check_binary_result(int op, const ar_tensor *out, const ar_tensor *a,
                                const ar_tensor *b, const char *what) {
  int64_t n = ar_numel(out), idx[AR_MAXDIM] = {0};
  for (int64_t i = 0; i < n; i += check_step) {
    unravel(i, out->ndim, out->shape, idx);
    float x = at_bc(a, out->ndim, idx), y = at_bc(b, out->ndim, idx);
    float got = at(out, idx);
    double ref = ref_bin(op, x, y);
    cr_assert(close_to(got, ref, bin_tol(op)), "%s %s: %g op %g = %.9g, want %.9g (i=%lld)", what,
              ar_binop_name(op), x, y, got, ref, (long long)i);
  }
}

/* Every binary op on (a, b): out-of-place, scalar forms and in place (when the broadcast
 * shape is a's). */
static void check_all_binary(ar_ctx *C, const ar_tensor *a, const ar_tensor *b, const char *what) {
  int nd;
  int64_t shape[AR_MAXDIM];
  cr_assert_eq(ar_broadcast_shape(C, a, b, &nd, shape), AR_OK);
  for (int op = 0; op < AR_BINOP_COUNT; op++) {
    ar_tensor out;
    cr_assert_eq(ar_binary(C, op, &out, a, b), AR_OK, "%s", ar_errmsg(C));
    cr_assert(shape_is(&out, nd, shape), "%s: wrong result shape", what);
    check_binary_result(op, &out, a, b, what);
    ar_release(&out);

    /* in place: a' = a op b when b broadcasts to a */
    if (shape_is(a, nd, shape)) {
      ar_tensor base, view;
      /* same layout as a (so strided in-place paths are exercised): copy a's storage */
      cr_assert_eq(ar_empty(C, &base, 1, (int64_t[]){(int64_t)(a->st->nbytes / 4)}), AR_OK);
      memcpy(base.st->data, a->st->data, a->st->nbytes);
      view = *a;
      view.st = base.st;
      cr_assert_eq(ar_binary_(C, op, &view, b), AR_OK, "%s", ar_errmsg(C));
      check_binary_result(op, &view, a, b, "in place");
      ar_release(&base);
    }
  }
  /* tensor-scalar, both sides; the scalar is b's first element */
  float s = b->st->data[b->offset];
  ar_tensor sc = mk(C, 0, NULL);
  ar_data(&sc)[0] = s;
  for (int op = 0; op < AR_BINOP_COUNT; op++) {
    ar_tensor out;
    cr_assert_eq(ar_binary_scalar(C, op, &out, a, s, false), AR_OK);
    check_binary_result(op, &out, a, &sc, "tensor-scalar");
    ar_release(&out);
    cr_assert_eq(ar_binary_scalar(C, op, &out, a, s, true), AR_OK);
    check_binary_result(op, &out, &sc, a, "scalar-tensor");
    ar_release(&out);
  }
  ar_release(&sc);
}

static void check_unary_result(int op, const ar_tensor *out, const ar_tensor *a, const char *what) {
  int64_t n = ar_numel(out), idx[AR_MAXDIM] = {0};
  cr_assert(ar_same_shape(out, a));
  for (int64_t i = 0; i < n; i += check_step) {
    unravel(i, out->ndim, out->shape, idx);
    float x = at(a, idx), got = at(out, idx);
    double ref = ref_un(op, x);
    cr_assert(close_to(got, ref, un_tol(op)), "%s %s(%.9g) = %.9g, want %.9g", what,
              ar_unop_name(op), x, got, ref);
  }
}

static void check_all_unary(ar_ctx *C, const ar_tensor *a, const char *what) {
  for (int op = 0; op < AR_UNOP_COUNT; op++) {
    ar_tensor out;
    cr_assert_eq(ar_unary(C, op, &out, a), AR_OK);
    check_unary_result(op, &out, a, what);
    ar_release(&out);
    /* in place on a copy with a's exact layout */
    ar_tensor base, view;
    cr_assert_eq(ar_empty(C, &base, 1, (int64_t[]){(int64_t)(a->st->nbytes / 4)}), AR_OK);
    memcpy(base.st->data, a->st->data, a->st->nbytes);
    view = *a;
    view.st = base.st;
    cr_assert_eq(ar_unary_(C, op, &view), AR_OK);
    check_unary_result(op, &view, a, "in place");
    ar_release(&base);
  }
}

/* ---------- binary ops ---------- */

Test(elementwise, binary_contiguous_same_shape) {
  ar_ctx *C = ar_ctx_new();
  int64_t sh[2] = {7, 13};
  ar_tensor a = mk_data(C, 2, sh, -4, 4, true), b = mk_data(C, 2, sh, -4, 4, false);
  /* make some pairs equal, and some NaN on the right, to hit eq/ne/max/min edge cases */
  for (int i = 0; i < 91; i += 5) ar_data(&b)[i] = ar_data(&a)[i];
  ar_data(&b)[2] = NAN;
  ar_data(&b)[9] = INFINITY;
  check_all_binary(C, &a, &b, "contiguous");
  check_all_binary(C, &b, &a, "contiguous swapped");
  check_all_binary(C, &a, &a, "same tensor");
  ar_release(&a);
  ar_release(&b);
  ar_ctx_release(C);
}

/* Every pair of special values (signed zeros, infinities, NaN, halves, negatives with
 * integer and fractional exponents for pow). */
Test(elementwise, binary_special_pairs) {
  ar_ctx *C = ar_ctx_new();
  ar_tensor col = mk(C, 2, (int64_t[]){NSPECIAL, 1}), row = mk(C, 2, (int64_t[]){1, NSPECIAL});
  memcpy(ar_data(&col), specials, sizeof specials);
  memcpy(ar_data(&row), specials, sizeof specials);
  check_all_binary(C, &col, &row, "special pairs");
  /* pow's scalar-exponent shortcuts (x^2, x^1) agree with pow, in place too */
  const float exps[] = {2.0f, 1.0f, 0.5f, -1.0f, 0.0f, 3.0f};
  ar_tensor sc = mk(C, 0, NULL), out;
  for (int i = 0; i < 6; i++) {
    ar_data(&sc)[0] = exps[i];
    cr_assert_eq(ar_binary_scalar(C, AR_POW, &out, &col, exps[i], false), AR_OK);
    check_binary_result(AR_POW, &out, &col, &sc, "pow scalar");
    cr_assert_eq(ar_copy_(C, &out, &col), AR_OK);
    cr_assert_eq(ar_binary_scalar_(C, AR_POW, &out, exps[i]), AR_OK);
    check_binary_result(AR_POW, &out, &col, &sc, "pow scalar in place");
    ar_release(&out);
  }
  ar_release(&sc);
  ar_release(&col);
  ar_release(&row);
  ar_ctx_release(C);
}

Test(elementwise, binary_strided_views) {
  ar_ctx *C = ar_ctx_new();
  int64_t s1[2] = {9, 6}, s2[2] = {6, 9};
  ar_tensor a = mk_data(C, 2, s1, -3, 3, true), b = mk_data(C, 2, s2, -3, 3, true);
  ar_tensor at_, nb, na;
  cr_assert_eq(ar_transpose(C, &at_, &a, 0, 1), AR_OK); /* {6, 9}, strided */
  check_all_binary(C, &at_, &b, "transposed+contiguous");
  check_all_binary(C, &b, &at_, "contiguous+transposed");
  check_all_binary(C, &at_, &at_, "transposed+transposed");
  cr_assert_eq(ar_narrow(C, &nb, &b, 1, 2, 5), AR_OK);   /* {6, 5}, row stride 9 */
  cr_assert_eq(ar_narrow(C, &na, &at_, 1, 3, 5), AR_OK); /* {6, 5}, transposed + offset */
  check_all_binary(C, &na, &nb, "narrowed");
  check_all_binary(C, &nb, &na, "narrowed swapped");
  ar_release(&a);
  ar_release(&b);
  ar_release(&at_);
  ar_release(&nb);
  ar_release(&na);
  ar_ctx_release(C);
}

/* Inner strides other than 0 and 1 that are not transposes: gathered row by row. */
Test(elementwise, binary_unary_gathered_strides) {
  ar_ctx *C = ar_ctx_new();
  ar_tensor m = mk_data(C, 3, (int64_t[]){4, 5, 3}, -3, 3, true), s2, col, m2, c2;
  cr_assert_eq(ar_select(C, &s2, &m, 2, 1), AR_OK); /* {4, 5}, strides {15, 3} */
  ar_tensor b = mk_data(C, 2, (int64_t[]){4, 5}, -3, 3, true);
  check_all_binary(C, &s2, &b, "stride-3 rows");
  check_all_binary(C, &b, &s2, "stride-3 rows swapped");
  check_all_unary(C, &s2, "stride-3 rows");
  m2 = mk_data(C, 2, (int64_t[]){40, 3}, -3, 3, true);
  cr_assert_eq(ar_select(C, &col, &m2, 1, 2), AR_OK); /* {40}, stride 3 */
  c2 = mk_data(C, 1, (int64_t[]){40}, -3, 3, true);
  check_all_binary(C, &col, &c2, "1-D strided");
  check_all_binary(C, &c2, &col, "1-D strided swapped");
  check_all_unary(C, &col, "1-D strided");
  ar_tensor *all[] = {&m, &s2, &b, &m2, &col, &c2};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++) ar_release(all[i]);
  ar_ctx_release(C);
}

Test(elementwise, binary_broadcasting) {
  ar_ctx *C = ar_ctx_new();
  ar_tensor a = mk_data(C, 2, (int64_t[]){3, 1}, -3, 3, true);
  ar_tensor b = mk_data(C, 2, (int64_t[]){1, 4}, -3, 3, true);
  ar_tensor out;
  cr_assert_eq(ar_binary(C, AR_ADD, &out, &a, &b), AR_OK);
  cr_assert(shape_is(&out, 2, (int64_t[]){3, 4}));
  ar_release(&out);
  check_all_binary(C, &a, &b, "{3,1}x{1,4}");
  check_all_binary(C, &b, &a, "{1,4}x{3,1}");

  ar_tensor c = mk_data(C, 1, (int64_t[]){5}, -3, 3, true);
  ar_tensor d = mk_data(C, 3, (int64_t[]){2, 3, 5}, -3, 3, true);
  check_all_binary(C, &c, &d, "{5}x{2,3,5}");
  check_all_binary(C, &d, &c, "{2,3,5}x{5}");
  ar_tensor e = mk_data(C, 3, (int64_t[]){2, 1, 5}, -3, 3, true);
  check_all_binary(C, &d, &e, "{2,3,5}x{2,1,5}");
  ar_tensor f = mk_data(C, 3, (int64_t[]){1, 3, 1}, -3, 3, true);
  check_all_binary(C, &d, &f, "{2,3,5}x{1,3,1}");

  /* scalars: ndim 0, and 1-element tensors */
  ar_tensor s0 = mk_data(C, 0, NULL, -3, 3, false);
  ar_tensor s1 = mk_data(C, 1, (int64_t[]){1}, -3, 3, false);
  check_all_binary(C, &d, &s0, "{2,3,5}x{}");
  check_all_binary(C, &s0, &d, "{}x{2,3,5}");
  check_all_binary(C, &s0, &s1, "{}x{1}");
  cr_assert_eq(ar_binary(C, AR_MUL, &out, &s0, &s0), AR_OK);
  cr_assert_eq(out.ndim, 0);
  cr_assert_eq(ar_data(&out)[0], ar_data(&s0)[0] * ar_data(&s0)[0]);
  ar_release(&out);

  /* a broadcast operand that is also strided: transposed {5,3} narrowed to {1,3} */
  ar_tensor g = mk_data(C, 2, (int64_t[]){3, 5}, -3, 3, true), gt, gn, gu;
  cr_assert_eq(ar_transpose(C, &gt, &g, 0, 1), AR_OK);
  cr_assert_eq(ar_narrow(C, &gn, &gt, 0, 2, 1), AR_OK);
  cr_assert_eq(ar_unsqueeze(C, &gu, &gn, 2), AR_OK); /* {1, 3, 1} strided */
  check_all_binary(C, &d, &gu, "{2,3,5}x strided {1,3,1}");

  ar_tensor *all[] = {&a, &b, &c, &d, &e, &f, &s0, &s1, &g, &gt, &gn, &gu};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++) ar_release(all[i]);
  ar_ctx_release(C);
}

Test(elementwise, binary_zero_size) {
  ar_ctx *C = ar_ctx_new();
  ar_tensor a = mk(C, 2, (int64_t[]){0, 3}), b = mk_data(C, 2, (int64_t[]){1, 3}, 0, 1, false);
  ar_tensor c = mk(C, 2, (int64_t[]){2, 0}), d = mk_data(C, 2, (int64_t[]){2, 1}, 0, 1, false);
  for (int op = 0; op < AR_BINOP_COUNT; op++) {
    ar_tensor out;
    cr_assert_eq(ar_binary(C, op, &out, &a, &b), AR_OK);
    cr_assert(shape_is(&out, 2, (int64_t[]){0, 3}));
    ar_release(&out);
    cr_assert_eq(ar_binary(C, op, &out, &d, &c), AR_OK);
    cr_assert(shape_is(&out, 2, (int64_t[]){2, 0}));
    ar_release(&out);
    cr_assert_eq(ar_binary_(C, op, &a, &b), AR_OK);
    cr_assert_eq(ar_binary_scalar_(C, op, &c, 2.0f), AR_OK);
  }
  ar_tensor out;
  cr_assert_eq(ar_unary(C, AR_EXP, &out, &a), AR_OK);
  cr_assert(shape_is(&out, 2, (int64_t[]){0, 3}));
  ar_release(&out);
  cr_assert_eq(ar_fill(C, &c, 1.0f), AR_OK);
  cr_assert_eq(ar_clamp(C, &out, &c, 0, 1), AR_OK);
  cr_assert(shape_is(&out, 2, (int64_t[]){2, 0}));
  ar_release(&out);
  /* {0} against {2} is not broadcastable */
  ar_tensor z = mk(C, 1, (int64_t[]){0}), t2 = mk(C, 1, (int64_t[]){2});
  out.st = (ar_storage *)1;
  cr_assert_eq(ar_binary(C, AR_ADD, &out, &z, &t2), AR_ESHAPE);
  cr_assert_null(out.st);
  ar_tensor *all[] = {&a, &b, &c, &d, &z, &t2};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++) ar_release(all[i]);
  ar_ctx_release(C);
}

Test(elementwise, binary_shape_errors) {
  ar_ctx *C = ar_ctx_new();
  ar_tensor a = mk_data(C, 2, (int64_t[]){2, 3}, 0, 1, false);
  ar_tensor b = mk_data(C, 1, (int64_t[]){4}, 0, 1, false);
  ar_tensor c = mk_data(C, 2, (int64_t[]){3, 3}, 0, 1, false);
  ar_tensor out;
  for (int op = 0; op < AR_BINOP_COUNT; op++) {
    out.st = (ar_storage *)1; /* must be reset on failure */
    cr_assert_eq(ar_binary(C, op, &out, &a, &b), AR_ESHAPE);
    cr_assert_null(out.st);
    char sa[64], sb[64];
    ar_shape_str(a.ndim, a.shape, sa, sizeof sa);
    ar_shape_str(b.ndim, b.shape, sb, sizeof sb);
    cr_assert(strstr(ar_errmsg(C), sa) && strstr(ar_errmsg(C), sb), "message: %s", ar_errmsg(C));
  }
  /* in place: the result must keep a's shape */
  ar_tensor row = mk_data(C, 1, (int64_t[]){3}, 0, 1, false);
  float before = ar_data(&row)[0];
  cr_assert_eq(ar_binary_(C, AR_ADD, &row, &a), AR_ESHAPE);
  cr_assert_eq(ar_data(&row)[0], before, "failed op changed its target");
  cr_assert_eq(ar_binary_(C, AR_ADD, &a, &c), AR_ESHAPE);
  cr_assert_eq(ar_axpy_(C, &a, 2.0f, &b), AR_ESHAPE);
  cr_assert_eq(ar_copy_(C, &a, &b), AR_ESHAPE);
  out.st = (ar_storage *)1;
  cr_assert_eq(ar_where(C, &out, &a, &b, &a), AR_ESHAPE);
  cr_assert_null(out.st);
  out.st = (ar_storage *)1;
  cr_assert_eq(ar_binary(C, AR_BINOP_COUNT, &out, &a, &a), AR_EARG);
  cr_assert_null(out.st);
  out.st = (ar_storage *)1;
  cr_assert_eq(ar_unary(C, AR_UNOP_COUNT, &out, &a), AR_EARG);
  cr_assert_null(out.st);
  ar_tensor *all[] = {&a, &b, &c, &row};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++) ar_release(all[i]);
  ar_ctx_release(C);
}

Test(elementwise, binary_inplace_broadcast_and_strided) {
  ar_ctx *C = ar_ctx_new();
  ar_tensor a = mk_data(C, 2, (int64_t[]){8, 5}, -3, 3, true), at_;
  cr_assert_eq(ar_transpose(C, &at_, &a, 0, 1), AR_OK); /* {5, 8} strided */
  ar_tensor r1 = mk_data(C, 1, (int64_t[]){8}, -3, 3, true);
  ar_tensor c1 = mk_data(C, 2, (int64_t[]){5, 1}, -3, 3, true);
  ar_tensor s0 = mk_data(C, 0, NULL, -3, 3, false);
  ar_tensor bt = mk_data(C, 2, (int64_t[]){8, 5}, -3, 3, true), btt;
  cr_assert_eq(ar_transpose(C, &btt, &bt, 0, 1), AR_OK);
  check_all_binary(C, &at_, &r1, "strided a op= {8}");
  check_all_binary(C, &at_, &c1, "strided a op= {5,1}");
  check_all_binary(C, &at_, &s0, "strided a op= scalar");
  check_all_binary(C, &at_, &btt, "strided a op= strided b");
  check_all_binary(C, &a, &bt, "a op= b");
  ar_tensor *all[] = {&a, &at_, &r1, &c1, &s0, &bt, &btt};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++) ar_release(all[i]);
  ar_ctx_release(C);
}

Test(elementwise, inplace_overlapping_operands) {
  ar_ctx *C = ar_ctx_new();
  /* a += a^T on a square matrix (several tiles): every read must see the old values */
  enum { N = 150 };
  int64_t sh[2] = {N, N};
  ar_tensor a = mk_data(C, 2, sh, -2, 2, false), at_, want, orig;
  cr_assert_eq(ar_clone(C, &orig, &a), AR_OK);
  cr_assert_eq(ar_transpose(C, &at_, &a, 0, 1), AR_OK);
  cr_assert_eq(ar_binary(C, AR_ADD, &want, &a, &at_), AR_OK);
  for (int i = 0; i < N; i++)
    for (int j = 0; j < N; j++)
      cr_assert_eq(ar_data(&want)[i * N + j], ar_data(&a)[i * N + j] + ar_data(&a)[j * N + i]);
  cr_assert_eq(ar_binary_(C, AR_ADD, &a, &at_), AR_OK);
  cr_assert_eq(memcmp(ar_data(&a), ar_data(&want), N * N * 4), 0, "a += a^T wrong");
  ar_release(&want);
  /* a^T -= a, the written operand strided */
  cr_assert_eq(ar_copy_(C, &a, &orig), AR_OK);
  cr_assert_eq(ar_binary_(C, AR_SUB, &at_, &a), AR_OK);
  for (int i = 0; i < N; i++)
    for (int j = 0; j < N; j++)
      cr_assert_eq(ar_data(&a)[i * N + j], ar_data(&orig)[i * N + j] - ar_data(&orig)[j * N + i]);
  /* a *= a */
  cr_assert_eq(ar_copy_(C, &a, &orig), AR_OK);
  cr_assert_eq(ar_binary_(C, AR_MUL, &a, &a), AR_OK);
  for (int i = 0; i < N * N; i++)
    cr_assert_eq(ar_data(&a)[i], ar_data(&orig)[i] * ar_data(&orig)[i]);
  /* shifted views of one buffer: x[1:] -= x[:-1] */
  ar_tensor x = mk_data(C, 1, (int64_t[]){1000}, -2, 2, false), xo, hi, lo;
  cr_assert_eq(ar_clone(C, &xo, &x), AR_OK);
  cr_assert_eq(ar_narrow(C, &hi, &x, 0, 1, 999), AR_OK);
  cr_assert_eq(ar_narrow(C, &lo, &x, 0, 0, 999), AR_OK);
  cr_assert_eq(ar_binary_(C, AR_SUB, &hi, &lo), AR_OK);
  cr_assert_eq(ar_data(&x)[0], ar_data(&xo)[0]);
  for (int i = 1; i < 1000; i++)
    cr_assert_eq(ar_data(&x)[i], ar_data(&xo)[i] - ar_data(&xo)[i - 1], "i=%d", i);
  /* axpy with overlap: x[:-1] += 0.5 * x[1:] */
  cr_assert_eq(ar_copy_(C, &x, &xo), AR_OK);
  cr_assert_eq(ar_axpy_(C, &lo, 0.5f, &hi), AR_OK);
  for (int i = 0; i < 999; i++)
    cr_assert_eq(ar_data(&x)[i], fmaf(0.5f, ar_data(&xo)[i + 1], ar_data(&xo)[i]));
  ar_tensor *all[] = {&a, &at_, &orig, &x, &xo, &hi, &lo};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++) ar_release(all[i]);
  ar_ctx_release(C);
}

Test(elementwise, inplace_on_expanded_view_is_refused) {
  ar_ctx *C = ar_ctx_new();
  ar_tensor a = mk_data(C, 1, (int64_t[]){3}, 0, 1, false), e, b;
  cr_assert_eq(ar_expand(C, &e, &a, 2, (int64_t[]){4, 3}), AR_OK);
  b = mk_data(C, 2, (int64_t[]){4, 3}, 0, 1, false);
  float keep[3];
  memcpy(keep, ar_data(&a), sizeof keep);
  cr_assert_eq(ar_binary_(C, AR_ADD, &e, &b), AR_EARG);
  cr_assert_eq(ar_binary_scalar_(C, AR_ADD, &e, 1.0f), AR_EARG);
  cr_assert_eq(ar_unary_(C, AR_EXP, &e), AR_EARG);
  cr_assert_eq(ar_fill(C, &e, 1.0f), AR_EARG);
  cr_assert_eq(ar_copy_(C, &e, &b), AR_EARG);
  cr_assert_eq(ar_axpy_(C, &e, 1.0f, &b), AR_EARG);
  cr_assert_eq(memcmp(keep, ar_data(&a), sizeof keep), 0);
  /* reading from it is fine */
  ar_tensor out;
  cr_assert_eq(ar_binary(C, AR_ADD, &out, &e, &b), AR_OK);
  ar_release(&out);
  ar_release(&a);
  ar_release(&e);
  ar_release(&b);
  ar_ctx_release(C);
}

Test(elementwise, axpy) {
  ar_ctx *C = ar_ctx_new();
  ar_tensor a = mk_data(C, 2, (int64_t[]){6, 7}, -3, 3, true), orig, at_;
  ar_tensor b = mk_data(C, 2, (int64_t[]){6, 7}, -3, 3, false);
  ar_tensor r = mk_data(C, 1, (int64_t[]){7}, -3, 3, false);
  cr_assert_eq(ar_clone(C, &orig, &a), AR_OK);
  cr_assert_eq(ar_axpy_(C, &a, -0.25f, &b), AR_OK);
  for (int i = 0; i < 42; i++) {
    double ref = (double)ar_data(&orig)[i] + -0.25 * (double)ar_data(&b)[i];
    cr_assert(close_to(ar_data(&a)[i], ref, 0), "%g vs %g", ar_data(&a)[i], ref);
  }
  cr_assert_eq(ar_copy_(C, &a, &orig), AR_OK);
  cr_assert_eq(ar_axpy_(C, &a, 3.0f, &r), AR_OK); /* broadcast row */
  for (int i = 0; i < 42; i++) {
    double ref = (double)ar_data(&orig)[i] + 3.0 * (double)ar_data(&r)[i % 7];
    cr_assert(close_to(ar_data(&a)[i], ref, 0));
  }
  /* strided target {7, 6} with a broadcast column */
  cr_assert_eq(ar_copy_(C, &a, &orig), AR_OK);
  cr_assert_eq(ar_transpose(C, &at_, &a, 0, 1), AR_OK);
  ar_tensor col = mk_data(C, 2, (int64_t[]){7, 1}, -3, 3, false);
  cr_assert_eq(ar_axpy_(C, &at_, 2.0f, &col), AR_OK);
  for (int i = 0; i < 6; i++)
    for (int j = 0; j < 7; j++) {
      double ref = (double)ar_data(&orig)[i * 7 + j] + 2.0 * (double)ar_data(&col)[j];
      cr_assert(close_to(ar_data(&a)[i * 7 + j], ref, 0));
    }
  ar_tensor *all[] = {&a, &orig, &at_, &b, &r, &col};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++) ar_release(all[i]);
  ar_ctx_release(C);
}

/* ---------- unary ops ---------- */

Test(elementwise, unary_contiguous_and_views) {
  ar_ctx *C = ar_ctx_new();
  ar_tensor a = mk_data(C, 2, (int64_t[]){11, 9}, -6, 6, true), at_, an;
  check_all_unary(C, &a, "contiguous");
  cr_assert_eq(ar_transpose(C, &at_, &a, 0, 1), AR_OK);
  check_all_unary(C, &at_, "transposed");
  cr_assert_eq(ar_narrow(C, &an, &at_, 0, 2, 5), AR_OK);
  check_all_unary(C, &an, "narrowed");
  ar_tensor s = mk_data(C, 0, NULL, 0.1, 2, false);
  check_all_unary(C, &s, "scalar");
  ar_tensor e;
  cr_assert_eq(ar_expand(C, &e, &s, 2, (int64_t[]){3, 4}), AR_OK);
  for (int op = 0; op < AR_UNOP_COUNT; op++) { /* out-of-place from an expanded view */
    ar_tensor out;
    cr_assert_eq(ar_unary(C, op, &out, &e), AR_OK);
    check_unary_result(op, &out, &e, "expanded");
    ar_release(&out);
  }
  ar_tensor *all[] = {&a, &at_, &an, &s, &e};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++) ar_release(all[i]);
  ar_ctx_release(C);
}

Test(elementwise, unary_special_values) {
  ar_ctx *C = ar_ctx_new();
  const float v[] = {0.0f,     -0.0f,     1.0f,  -1.0f,  0.5f,       -0.5f,      1.5f,    -1.5f,
                     2.5f,     -2.5f,     3.5f,  1e-45f, -1e-45f,    1e-38f,     FLT_MAX, -FLT_MAX,
                     INFINITY, -INFINITY, NAN,   88.0f,  -87.0f,     100.0f,     -104.0f, -200.0f,
                     20.0f,    -20.0f,    1e10f, -1e10f, 8388607.5f, 4194304.5f, -80.0f,  40.0f};
  int64_t n = sizeof v / sizeof *v;
  ar_tensor a = mk(C, 1, &n);
  memcpy(ar_data(&a), v, sizeof v);
  check_all_unary(C, &a, "special");
  /* the rules spelled out */
  ar_tensor o;
  ar_unary(C, AR_SIGN, &o, &a);
  cr_assert_eq(ar_data(&o)[0], 0.0f);
  cr_assert(!signbit(ar_data(&o)[1]), "sign(-0) should be 0");
  cr_assert(isnan(ar_data(&o)[18]));
  ar_release(&o);
  ar_unary(C, AR_ROUND, &o, &a);
  const float r[] = {0, -0.0f, 1, -1, 0, -0.0f, 2, -2, 2, -2, 4};
  for (int i = 0; i < 11; i++)
    cr_assert(ar_data(&o)[i] == r[i] && signbit(ar_data(&o)[i]) == signbit(r[i]), "round(%g) = %g",
              v[i], ar_data(&o)[i]);
  ar_release(&o);
  ar_unary(C, AR_SIGMOID, &o, &a);
  cr_assert_eq(ar_data(&o)[16], 1.0f);
  cr_assert_eq(ar_data(&o)[17], 0.0f);
  cr_assert_gt(ar_data(&o)[30], 0.0f, "sigmoid(-80) underflowed");
  cr_assert(close_to(ar_data(&o)[30], 1.0 / (1.0 + exp(80.0)), 1e-6));
  cr_assert_eq(ar_data(&o)[31], 1.0f);
  ar_release(&o);
  ar_unary(C, AR_TANH, &o, &a);
  cr_assert_eq(ar_data(&o)[16], 1.0f);
  cr_assert_eq(ar_data(&o)[17], -1.0f);
  ar_release(&o);
  ar_unary(C, AR_LOG, &o, &a);
  cr_assert(isinf(ar_data(&o)[0]) && ar_data(&o)[0] < 0);
  cr_assert(isnan(ar_data(&o)[3]));
  ar_release(&o);
  ar_release(&a);
  ar_ctx_release(C);
}

/* Sweeps that measure the transcendental kernels against double libm. */
static double sweep_max_rel(ar_ctx *C, int op, double lo, double hi, int64_t n) {
  ar_tensor a = mk(C, 1, &n), o;
  for (int64_t i = 0; i < n; i++)
    ar_data(&a)[i] = (float)(lo + (hi - lo) * (double)i / (double)(n - 1));
  cr_assert_eq(ar_unary(C, op, &o, &a), AR_OK);
  double worst = 0;
  for (int64_t i = 0; i < n; i++) {
    double ref = ref_un(op, ar_data(&a)[i]);
    double err = fabs(ar_data(&o)[i] - ref) / fmax(fabs(ref), FLT_MIN);
    if (!(err <= worst)) worst = err; /* NaN results count as infinitely wrong */
  }
  ar_release(&a);
  ar_release(&o);
  return worst;
}

Test(elementwise, transcendental_accuracy) {
  ar_ctx *C = ar_ctx_new();
  struct {
    int op;
    double lo, hi;
  } cases[] = {{AR_EXP, -87, 88},   {AR_LOG, 1e-30, 10},    {AR_LOG, 10, 3e38},
               {AR_SIN, -100, 100}, {AR_COS, -100, 100},    {AR_SIN, -1e5, 1e5},
               {AR_TANH, -12, 12},  {AR_TANH, -1e-3, 1e-3}, {AR_SIGMOID, -80, 80},
               {AR_SIGMOID, -1, 1}};
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    double e = sweep_max_rel(C, cases[i].op, cases[i].lo, cases[i].hi, 1000003);
    cr_log_info("%s on [%g, %g]: max relative error %.3g", ar_unop_name(cases[i].op), cases[i].lo,
                cases[i].hi, e);
    cr_assert_lt(e, 1e-6, "%s on [%g, %g]: max relative error %.3g", ar_unop_name(cases[i].op),
                 cases[i].lo, cases[i].hi, e);
  }
  ar_ctx_release(C);
}

/* ---------- clamp, where, fill, copy ---------- */

Test(elementwise, clamp) {
  ar_ctx *C = ar_ctx_new();
  const float v[] = {-3, -1, -0.5f, 0, 0.5f, 1, 3, NAN, INFINITY, -INFINITY};
  int64_t n = 10;
  ar_tensor a = mk(C, 1, &n), o;
  memcpy(ar_data(&a), v, sizeof v);
  cr_assert_eq(ar_clamp(C, &o, &a, -1, 1), AR_OK);
  const float w[] = {-1, -1, -0.5f, 0, 0.5f, 1, 1, NAN, 1, -1};
  for (int i = 0; i < 10; i++)
    cr_assert(close_to(ar_data(&o)[i], w[i], 0), "clamp(%g) = %g", v[i], ar_data(&o)[i]);
  ar_release(&o);
  cr_assert_eq(ar_clamp(C, &o, &a, 2, -2), AR_OK); /* lo > hi: hi, as PyTorch */
  for (int i = 0; i < 10; i++)
    if (!isnan(v[i])) cr_assert_eq(ar_data(&o)[i], -2.0f);
  cr_assert(isnan(ar_data(&o)[7]));
  ar_release(&o);
  cr_assert_eq(ar_clamp(C, &o, &a, -INFINITY, 0), AR_OK); /* one-sided */
  for (int i = 0; i < 10; i++)
    cr_assert(close_to(ar_data(&o)[i], isnan(v[i]) ? NAN : fmin(v[i], 0), 0));
  ar_release(&o);
  cr_assert_eq(ar_clamp(C, &o, &a, NAN, 1), AR_OK);
  for (int i = 0; i < 10; i++) cr_assert(isnan(ar_data(&o)[i]));
  ar_release(&o);
  /* strided */
  ar_tensor m = mk_data(C, 2, (int64_t[]){5, 8}, -3, 3, true), mt;
  cr_assert_eq(ar_transpose(C, &mt, &m, 0, 1), AR_OK);
  cr_assert_eq(ar_clamp(C, &o, &mt, -0.5f, 0.75f), AR_OK);
  int64_t idx[AR_MAXDIM] = {0};
  for (int64_t i = 0; i < 40; i++) {
    unravel(i, 2, o.shape, idx);
    float x = at(&mt, idx), want = isnan(x) ? NAN : fminf(fmaxf(x, -0.5f), 0.75f);
    cr_assert(close_to(at(&o, idx), want, 0));
  }
  ar_release(&o);
  ar_release(&m);
  ar_release(&mt);
  ar_release(&a);
  ar_ctx_release(C);
}

Test(elementwise, where) {
  ar_ctx *C = ar_ctx_new();
  ar_tensor c = mk(C, 2, (int64_t[]){3, 1});
  ar_data(&c)[0] = 1;
  ar_data(&c)[1] = 0;
  ar_data(&c)[2] = NAN; /* nonzero: picks a */
  ar_tensor a = mk_data(C, 2, (int64_t[]){1, 4}, -3, 3, false);
  ar_tensor b = mk_data(C, 0, NULL, -3, 3, false);
  ar_tensor o;
  cr_assert_eq(ar_where(C, &o, &c, &a, &b), AR_OK);
  cr_assert(shape_is(&o, 2, (int64_t[]){3, 4}));
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 4; j++)
      cr_assert_eq(ar_data(&o)[i * 4 + j], i == 1 ? ar_data(&b)[0] : ar_data(&a)[j]);
  ar_release(&o);
  /* contiguous, same shape; and transposed operands */
  int64_t sh[2] = {6, 6};
  ar_tensor cc = mk_data(C, 2, sh, -1, 1, false), aa = mk_data(C, 2, sh, -1, 1, false);
  ar_tensor bb = mk_data(C, 2, sh, -1, 1, false), ct, at_;
  for (int i = 0; i < 36; i++) ar_data(&cc)[i] = ar_data(&cc)[i] > 0;
  cr_assert_eq(ar_where(C, &o, &cc, &aa, &bb), AR_OK);
  for (int i = 0; i < 36; i++)
    cr_assert_eq(ar_data(&o)[i], ar_data(&cc)[i] != 0 ? ar_data(&aa)[i] : ar_data(&bb)[i]);
  ar_release(&o);
  cr_assert_eq(ar_transpose(C, &ct, &cc, 0, 1), AR_OK);
  cr_assert_eq(ar_transpose(C, &at_, &aa, 0, 1), AR_OK);
  cr_assert_eq(ar_where(C, &o, &ct, &at_, &bb), AR_OK);
  for (int i = 0; i < 6; i++)
    for (int j = 0; j < 6; j++)
      cr_assert_eq(ar_data(&o)[i * 6 + j], ar_data(&cc)[j * 6 + i] != 0 ? ar_data(&aa)[j * 6 + i]
                                                                        : ar_data(&bb)[i * 6 + j]);
  ar_release(&o);
  /* a scalar a with dense cond */
  cr_assert_eq(ar_where(C, &o, &cc, &b, &bb), AR_OK);
  for (int i = 0; i < 36; i++)
    cr_assert_eq(ar_data(&o)[i], ar_data(&cc)[i] != 0 ? ar_data(&b)[0] : ar_data(&bb)[i]);
  ar_release(&o);
  ar_tensor *all[] = {&c, &a, &b, &cc, &aa, &bb, &ct, &at_};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++) ar_release(all[i]);
  ar_ctx_release(C);
}

Test(elementwise, fill_and_copy) {
  ar_ctx *C = ar_ctx_new();
  ar_tensor a = mk_data(C, 2, (int64_t[]){4, 6}, 0, 1, false), t, n;
  cr_assert_eq(ar_fill(C, &a, 2.5f), AR_OK);
  for (int i = 0; i < 24; i++) cr_assert_eq(ar_data(&a)[i], 2.5f);
  /* fill a strided window only */
  cr_assert_eq(ar_transpose(C, &t, &a, 0, 1), AR_OK);
  cr_assert_eq(ar_narrow(C, &n, &t, 0, 1, 3), AR_OK); /* columns 1..3 of a */
  cr_assert_eq(ar_fill(C, &n, -1.0f), AR_OK);
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 6; j++)
      cr_assert_eq(ar_data(&a)[i * 6 + j], (j >= 1 && j <= 3) ? -1.0f : 2.5f);
  ar_tensor s = mk(C, 0, NULL);
  cr_assert_eq(ar_fill(C, &s, 7.0f), AR_OK);
  cr_assert_eq(ar_data(&s)[0], 7.0f);

  /* copy: broadcast a row into a transposed destination */
  ar_tensor row = mk_data(C, 1, (int64_t[]){4}, -1, 1, false);
  cr_assert_eq(ar_copy_(C, &t, &row), AR_OK); /* t is {6, 4}: t[j][i] = row[i] */
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 6; j++) cr_assert_eq(ar_data(&a)[i * 6 + j], ar_data(&row)[i]);
  /* copy a transposed source into a contiguous one */
  ar_tensor src = mk_data(C, 2, (int64_t[]){6, 4}, -1, 1, false), st;
  cr_assert_eq(ar_transpose(C, &st, &src, 0, 1), AR_OK);
  cr_assert_eq(ar_copy_(C, &a, &st), AR_OK);
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 6; j++) cr_assert_eq(ar_data(&a)[i * 6 + j], ar_data(&src)[j * 4 + i]);
  /* scalar source */
  cr_assert_eq(ar_copy_(C, &a, &s), AR_OK);
  for (int i = 0; i < 24; i++) cr_assert_eq(ar_data(&a)[i], 7.0f);
  ar_tensor *all[] = {&a, &t, &n, &s, &row, &src, &st};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++) ar_release(all[i]);
  ar_ctx_release(C);
}

Test(elementwise, copy_between_overlapping_views) {
  ar_ctx *C = ar_ctx_new();
  /* shift right by one within one buffer: x[1:] = x[:-1] */
  ar_tensor x = mk_data(C, 1, (int64_t[]){5000}, -1, 1, false), xo, hi, lo;
  cr_assert_eq(ar_clone(C, &xo, &x), AR_OK);
  cr_assert_eq(ar_narrow(C, &hi, &x, 0, 1, 4999), AR_OK);
  cr_assert_eq(ar_narrow(C, &lo, &x, 0, 0, 4999), AR_OK);
  cr_assert_eq(ar_copy_(C, &hi, &lo), AR_OK);
  cr_assert_eq(ar_data(&x)[0], ar_data(&xo)[0]);
  for (int i = 1; i < 5000; i++) cr_assert_eq(ar_data(&x)[i], ar_data(&xo)[i - 1], "i=%d", i);
  /* and left: x[:-1] = x[1:] */
  cr_assert_eq(ar_copy_(C, &x, &xo), AR_OK);
  cr_assert_eq(ar_copy_(C, &lo, &hi), AR_OK);
  for (int i = 0; i < 4999; i++) cr_assert_eq(ar_data(&x)[i], ar_data(&xo)[i + 1], "i=%d", i);
  /* in-place transpose of a square matrix (several tiles) through copy */
  enum { N = 150 };
  ar_tensor m = mk_data(C, 2, (int64_t[]){N, N}, -1, 1, false), mo, mt;
  cr_assert_eq(ar_clone(C, &mo, &m), AR_OK);
  cr_assert_eq(ar_transpose(C, &mt, &m, 0, 1), AR_OK);
  cr_assert_eq(ar_copy_(C, &m, &mt), AR_OK);
  for (int i = 0; i < N; i++)
    for (int j = 0; j < N; j++) cr_assert_eq(ar_data(&m)[i * N + j], ar_data(&mo)[j * N + i]);
  /* copying a view onto itself changes nothing */
  cr_assert_eq(ar_copy_(C, &m, &m), AR_OK);
  for (int i = 0; i < N; i++)
    for (int j = 0; j < N; j++) cr_assert_eq(ar_data(&m)[i * N + j], ar_data(&mo)[j * N + i]);
  /* shift along strided views: columns 1.. of m = columns ..N-2 */
  ar_tensor m2, dst, src;
  cr_assert_eq(ar_clone(C, &m2, &m), AR_OK);
  cr_assert_eq(ar_narrow(C, &dst, &mt, 0, 1, N - 1), AR_OK); /* rows 1.. of m^T */
  cr_assert_eq(ar_narrow(C, &src, &mt, 0, 0, N - 1), AR_OK);
  cr_assert_eq(ar_copy_(C, &dst, &src), AR_OK);
  for (int i = 0; i < N; i++)
    for (int j = 0; j < N; j++)
      cr_assert_eq(ar_data(&m)[i * N + j], ar_data(&m2)[i * N + (j ? j - 1 : 0)], "%d %d", i, j);
  ar_release(&m2);
  ar_release(&dst);
  ar_release(&src);
  ar_tensor *all[] = {&x, &xo, &hi, &lo, &m, &mo, &mt};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++) ar_release(all[i]);
  ar_ctx_release(C);
}

/* ---------- creation ---------- */

static void expect_values(const ar_tensor *t, const double *v, int64_t n) {
  cr_assert_eq(t->ndim, 1);
  cr_assert_eq(t->shape[0], n, "got %lld elements, want %lld", (long long)t->shape[0],
               (long long)n);
  for (int64_t i = 0; i < n; i++)
    cr_assert_eq(ar_data(t)[i], (float)v[i], "element %lld: %g vs %g", (long long)i, ar_data(t)[i],
                 v[i]);
}

Test(elementwise, range) {
  ar_ctx *C = ar_ctx_new();
  ar_tensor t;
  cr_assert_eq(ar_range(C, &t, 1, 5, 1), AR_OK);
  expect_values(&t, (double[]){1, 2, 3, 4, 5}, 5);
  ar_release(&t);
  cr_assert_eq(ar_range(C, &t, 5, 1, -2), AR_OK);
  expect_values(&t, (double[]){5, 3, 1}, 3);
  ar_release(&t);
  cr_assert_eq(ar_range(C, &t, 0, 1, 0.1), AR_OK);
  cr_assert_eq(t.shape[0], 11);
  cr_assert_eq(ar_data(&t)[10], 1.0f);
  ar_release(&t);
  cr_assert_eq(ar_range(C, &t, 0, 0.3, 0.1), AR_OK); /* 0.3/0.1 = 2.9999999999999996 */
  expect_values(&t, (double[]){0, 0.1, 0.2, 0.3}, 4);
  ar_release(&t);
  cr_assert_eq(ar_range(C, &t, 1, 2, 0.3), AR_OK); /* last step does not reach 2 */
  expect_values(&t, (double[]){1, 1.3, 1.6, 1.9}, 4);
  ar_release(&t);
  cr_assert_eq(ar_range(C, &t, 3, 3, 1), AR_OK);
  expect_values(&t, (double[]){3}, 1);
  ar_release(&t);
  cr_assert_eq(ar_range(C, &t, 5, 1, 1), AR_OK); /* empty, as a Lua for */
  cr_assert_eq(t.shape[0], 0);
  ar_release(&t);
  cr_assert_eq(ar_range(C, &t, 1, 5, -1), AR_OK);
  cr_assert_eq(t.shape[0], 0);
  ar_release(&t);
  t.st = (ar_storage *)1;
  cr_assert_eq(ar_range(C, &t, 1, 5, 0), AR_EARG);
  cr_assert_null(t.st);
  cr_assert_eq(ar_range(C, &t, 0, NAN, 1), AR_EARG);
  cr_assert_neq(ar_range(C, &t, 0, 1e30, 1), AR_OK);
  cr_assert_null(t.st);
  /* large: split across threads, values exact */
  ar_set_num_threads(C, 2);
  cr_assert_eq(ar_range(C, &t, -100000, LARGE, 1), AR_OK);
  cr_assert_eq(t.shape[0], LARGE + 100001);
  for (int64_t i = 0; i < LARGE + 100001; i++) cr_assert_eq(ar_data(&t)[i], (float)(-100000 + i));
  ar_release(&t);
  ar_ctx_release(C);
}

Test(elementwise, linspace) {
  ar_ctx *C = ar_ctx_new();
  ar_tensor t;
  cr_assert_eq(ar_linspace(C, &t, 0, 1, 5), AR_OK);
  expect_values(&t, (double[]){0, 0.25, 0.5, 0.75, 1}, 5);
  ar_release(&t);
  cr_assert_eq(ar_linspace(C, &t, 3, -3, 4), AR_OK);
  expect_values(&t, (double[]){3, 1, -1, -3}, 4);
  ar_release(&t);
  cr_assert_eq(ar_linspace(C, &t, 2.5, 7, 1), AR_OK);
  expect_values(&t, (double[]){2.5}, 1);
  ar_release(&t);
  cr_assert_eq(ar_linspace(C, &t, 0, 0.3, 7), AR_OK);
  cr_assert_eq(ar_data(&t)[6], 0.3f, "last point must be the end exactly");
  ar_release(&t);
  t.st = (ar_storage *)1;
  cr_assert_eq(ar_linspace(C, &t, 0, 1, 0), AR_EARG);
  cr_assert_null(t.st);
  cr_assert_eq(ar_linspace(C, &t, 0, 1, -3), AR_EARG);
  ar_set_num_threads(C, 2);
  int64_t n = LARGE + 1;
  cr_assert_eq(ar_linspace(C, &t, -1, 2, n), AR_OK);
  for (int64_t i = 0; i < n; i++) {
    double want = -1 + 3.0 * (double)i / (double)(n - 1);
    cr_assert(fabs(ar_data(&t)[i] - want) <= 1e-6, "i=%lld", (long long)i);
  }
  cr_assert_eq(ar_data(&t)[0], -1.0f);
  cr_assert_eq(ar_data(&t)[n - 1], 2.0f);
  ar_release(&t);
  ar_ctx_release(C);
}

Test(elementwise, eye) {
  ar_ctx *C = ar_ctx_new();
  ar_tensor t;
  const int64_t dims[][2] = {{3, 3}, {2, 4}, {4, 2}, {1, 1}, {0, 0}, {0, 3}};
  for (size_t k = 0; k < sizeof dims / sizeof *dims; k++) {
    int64_t n = dims[k][0], m = dims[k][1];
    cr_assert_eq(ar_eye(C, &t, n, m), AR_OK);
    cr_assert(shape_is(&t, 2, dims[k]));
    for (int64_t i = 0; i < n; i++)
      for (int64_t j = 0; j < m; j++) cr_assert_eq(ar_data(&t)[i * m + j], i == j ? 1.0f : 0.0f);
    ar_release(&t);
  }
  t.st = (ar_storage *)1;
  cr_assert_eq(ar_eye(C, &t, -1, 2), AR_EARG);
  cr_assert_null(t.st);
  ar_ctx_release(C);
}

Test(elementwise, names) {
  const char *bn[] = {"add", "sub", "mul", "div", "pow",     "gt",     "lt",
                      "ge",  "le",  "eq",  "ne",  "maximum", "minimum"};
  const char *un[] = {"neg",     "exp",  "log",   "sqrt", "abs",   "sin",        "cos",   "tanh",
                      "sigmoid", "sign", "floor", "ceil", "round", "reciprocal", "square"};
  cr_assert_eq((int)(sizeof bn / sizeof *bn), AR_BINOP_COUNT);
  cr_assert_eq((int)(sizeof un / sizeof *un), AR_UNOP_COUNT);
  for (int i = 0; i < AR_BINOP_COUNT; i++) cr_assert_str_eq(ar_binop_name(i), bn[i]);
  for (int i = 0; i < AR_UNOP_COUNT; i++) cr_assert_str_eq(ar_unop_name(i), un[i]);
  cr_assert_not_null(ar_binop_name(AR_BINOP_COUNT));
  cr_assert_not_null(ar_unop_name(-1));
}

Test(elementwise, allocation_failure) {
  ar_ctx *C = ar_ctx_new();
  ar_tensor a = mk_data(C, 1, (int64_t[]){10}, 0, 1, false), o;
  ar_fail_alloc_after(C, 1);
  o.st = (ar_storage *)1;
  cr_assert_eq(ar_binary(C, AR_ADD, &o, &a, &a), AR_ENOMEM);
  cr_assert_null(o.st);
  ar_fail_alloc_after(C, 1);
  o.st = (ar_storage *)1;
  cr_assert_eq(ar_unary(C, AR_EXP, &o, &a), AR_ENOMEM);
  cr_assert_null(o.st);
  ar_fail_alloc_after(C, 1);
  o.st = (ar_storage *)1;
  cr_assert_eq(ar_where(C, &o, &a, &a, &a), AR_ENOMEM);
  cr_assert_null(o.st);
  ar_fail_alloc_after(C, 0);
  cr_assert_eq(ar_binary(C, AR_ADD, &o, &a, &a), AR_OK);
  ar_release(&o);
  ar_release(&a);
  ar_ctx_release(C);
}

/* ---------- large sizes: threads give bitwise-identical, correct results ----------
 * Cheap ops split only from 8 * AR_PAR_GRAIN elements per thread, so "large" is past
 * twice that: every op below runs on two threads in the second pass. */

typedef struct {
  ar_tensor res[AR_BINOP_COUNT * 3 + AR_UNOP_COUNT * 2 + 4];
  int n;
} results_t;

static void run_all_large(ar_ctx *C, const ar_tensor *a, const ar_tensor *b, const ar_tensor *row,
                          results_t *R) {
  R->n = 0;
  for (int op = 0; op < AR_BINOP_COUNT; op++) {
    cr_assert_eq(ar_binary(C, op, &R->res[R->n++], a, b), AR_OK);
    cr_assert_eq(ar_binary(C, op, &R->res[R->n++], a, row), AR_OK);
    cr_assert_eq(ar_binary_scalar(C, op, &R->res[R->n++], a, 1.7f, op % 2), AR_OK);
  }
  for (int op = 0; op < AR_UNOP_COUNT; op++) {
    cr_assert_eq(ar_unary(C, op, &R->res[R->n++], a), AR_OK);
    ar_tensor *t = &R->res[R->n++];
    cr_assert_eq(ar_clone(C, t, a), AR_OK);
    cr_assert_eq(ar_unary_(C, op, t), AR_OK);
  }
  ar_tensor *t = &R->res[R->n++];
  cr_assert_eq(ar_clone(C, t, a), AR_OK);
  cr_assert_eq(ar_axpy_(C, t, 0.3f, b), AR_OK);
  cr_assert_eq(ar_clamp(C, &R->res[R->n++], a, -0.5f, 0.5f), AR_OK);
  cr_assert_eq(ar_where(C, &R->res[R->n++], b, a, row), AR_OK);
  t = &R->res[R->n++];
  cr_assert_eq(ar_clone(C, t, a), AR_OK);
  cr_assert_eq(ar_binary_(C, AR_MUL, t, row), AR_OK);
}

static void compare_results(results_t *x, results_t *y, const char *what) {
  cr_assert_eq(x->n, y->n);
  for (int i = 0; i < x->n; i++) {
    int64_t n = ar_numel(&x->res[i]);
    cr_assert_eq(n, ar_numel(&y->res[i]));
    cr_assert_eq(memcmp(ar_data(&x->res[i]), ar_data(&y->res[i]), (size_t)n * 4), 0,
                 "%s: result %d differs between 1 and 2 threads", what, i);
    ar_release(&x->res[i]);
    ar_release(&y->res[i]);
  }
}

static void large_case(ar_ctx *C, const ar_tensor *a, const ar_tensor *b, const ar_tensor *row,
                       const char *what) {
  results_t *r1 = calloc(1, sizeof *r1), *r2 = calloc(1, sizeof *r2);
  ar_set_num_threads(C, 1);
  run_all_large(C, a, b, row, r1);
  ar_set_num_threads(C, 2);
  run_all_large(C, a, b, row, r2);
  /* and the 2-thread results are right, not just stable */
  check_step = LARGE_STEP;
  int k = 0;
  for (int op = 0; op < AR_BINOP_COUNT; op++, k += 3) {
    check_binary_result(op, &r2->res[k], a, b, what);
    check_binary_result(op, &r2->res[k + 1], a, row, what);
  }
  for (int op = 0; op < AR_UNOP_COUNT; op++, k += 2) {
    check_unary_result(op, &r2->res[k], a, what);
    check_unary_result(op, &r2->res[k + 1], a, what);
  }
  check_step = 1;
  compare_results(r1, r2, what);
  free(r1);
  free(r2);
}

Test(elementwise, large_contiguous_threads_identical) {
  ar_ctx *C = ar_ctx_new();
  /* odd sizes so chunk boundaries fall mid-vector */
  int64_t sh[2] = {LARGE / 1001 + 3, 1001};
  ar_tensor a = mk_data(C, 2, sh, -5, 5, true), b = mk_data(C, 2, sh, -5, 5, true);
  ar_tensor row = mk_data(C, 1, sh + 1, -5, 5, true);
  cr_assert_gt(ar_numel(&a), LARGE);
  large_case(C, &a, &b, &row, "contiguous");
  ar_release(&a);
  ar_release(&b);
  ar_release(&row);
  ar_ctx_release(C);
}

Test(elementwise, large_strided_threads_identical) {
  ar_ctx *C = ar_ctx_new();
  int64_t sh[2] = {1401, 801};
  ar_tensor a0 = mk_data(C, 2, sh, -5, 5, true), b0 = mk_data(C, 2, sh, -5, 5, true);
  ar_tensor a, row = mk_data(C, 2, (int64_t[]){1401, 1}, -5, 5, true);
  cr_assert_eq(ar_transpose(C, &a, &a0, 0, 1), AR_OK); /* {801, 1401}, strided */
  ar_tensor b2;
  cr_assert_eq(ar_transpose(C, &b2, &b0, 0, 1), AR_OK); /* {801, 1401} strided too */
  ar_tensor rt;
  cr_assert_eq(ar_transpose(C, &rt, &row, 0, 1), AR_OK); /* {1, 1401} */
  cr_assert_gt(ar_numel(&a), LARGE);
  large_case(C, &a, &b2, &rt, "strided");
  ar_tensor *all[] = {&a0, &b0, &a, &b2, &row, &rt};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++) ar_release(all[i]);
  ar_ctx_release(C);
}

Test(elementwise, large_gathered_threads_identical) {
  ar_ctx *C = ar_ctx_new();
  int64_t n = LARGE + 77;
  ar_tensor m = mk_data(C, 2, (int64_t[]){n, 3}, -5, 5, true), a;
  cr_assert_eq(ar_select(C, &a, &m, 1, 1), AR_OK); /* {n}, stride 3 */
  ar_tensor b = mk_data(C, 1, &n, -5, 5, true), one = mk_data(C, 1, (int64_t[]){1}, -5, 5, false);
  large_case(C, &a, &b, &one, "1-D strided");
  ar_tensor *all[] = {&m, &a, &b, &one};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++) ar_release(all[i]);
  ar_ctx_release(C);
}

/* short rows: a broadcast row repeated over many rows goes through batched runs */
Test(elementwise, large_short_rows_threads_identical) {
  ar_ctx *C = ar_ctx_new();
  int64_t sh[2] = {LARGE / 10 + 7, 10};
  ar_tensor a = mk_data(C, 2, sh, -5, 5, true), b = mk_data(C, 2, sh, -5, 5, true);
  ar_tensor row = mk_data(C, 1, sh + 1, -5, 5, true);
  large_case(C, &a, &b, &row, "short rows");
  /* a row that changes with the leading dim: {160, 700, 10} op {160, 1, 10} */
  int64_t s3[3] = {160, 700, 10};
  ar_tensor x = mk_data(C, 3, s3, -5, 5, true), y = mk_data(C, 3, s3, -5, 5, true);
  ar_tensor r3 = mk_data(C, 3, (int64_t[]){160, 1, 10}, -5, 5, true);
  large_case(C, &x, &y, &r3, "short rows, 3-D");
  ar_tensor *all[] = {&a, &b, &row, &x, &y, &r3};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++) ar_release(all[i]);
  ar_ctx_release(C);
}

/* transposes of tall, thin tensors: the long dim is walked innermost */
Test(elementwise, thin_transposes) {
  ar_ctx *C = ar_ctx_new();
  ar_tensor a = mk_data(C, 2, (int64_t[]){3, LARGE / 3 + 5}, -5, 5, true), at_;
  cr_assert_eq(ar_transpose(C, &at_, &a, 0, 1), AR_OK); /* {n, 3}, strides {1, n} */
  ar_tensor b = mk_data(C, 2, at_.shape, -5, 5, true);
  ar_tensor row = mk_data(C, 1, (int64_t[]){3}, -5, 5, true);
  large_case(C, &at_, &b, &row, "thin transposed");
  ar_tensor *all[] = {&a, &at_, &b, &row};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++) ar_release(all[i]);
  ar_ctx_release(C);
}
