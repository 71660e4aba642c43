/* Reductions against naive double references, on contiguous and strided views; thread
 * count independence; arg max/min with ties and NaN. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#if defined(__x86_64__) && !defined(ACTRUN_X86_LEVELS)
#define ACTRUN_X86_LEVELS /* the library builds the x86 levels there: declare them */
#endif
#include "core/rd_level.h"

/* ---------- helpers ---------- */

static uint64_t rd_lcg = 1;
static float rnd(void)
{
  rd_lcg = rd_lcg * 6364136223846793005ULL + 1442695040888963407ULL;
  return (float)((double)(rd_lcg >> 40) / (double)(1ULL << 24) * 2.0 - 1.0); /* [-1, 1) */
}

static void make(ar_ctx *C, ar_tensor *t, int ndim, const int64_t *shape, float lo, float hi)
{
  cr_assert_eq(ar_empty(C, t, ndim, shape), AR_OK, "%s", ar_errmsg(C));
  float *p = ar_data(t);
  for (int64_t i = 0; i < ar_numel(t); i++) p[i] = lo + (hi - lo) * (rnd() * 0.5f + 0.5f);
}

/* element at a logical row-major position, through the strides */
static float at(const ar_tensor *t, int64_t flat)
{
  int64_t off = t->offset;
  for (int d = t->ndim - 1; d >= 0; d--) {
    off += (flat % t->shape[d]) * t->stride[d];
    flat /= t->shape[d];
  }
  return t->st->data[off];
}

/* The elements of output o's reduction, in logical order, into buf; returns the count. */
static int64_t gather(const ar_tensor *a, int dim, int64_t o, float *buf)
{
  int64_t n = ar_numel(a);
  if (dim < 0) {
    for (int64_t i = 0; i < n; i++) buf[i] = at(a, i);
    return n;
  }
  int64_t R = a->shape[dim], inner = 1;
  for (int d = dim + 1; d < a->ndim; d++) inner *= a->shape[d];
  int64_t oo = o / inner, oi = o % inner;
  for (int64_t r = 0; r < R; r++) buf[r] = at(a, (oo * R + r) * inner + oi);
  return R;
}

static double ref_reduce(ar_redop op, const float *x, int64_t n, double p, int corr)
{
  double s = 0, m;
  switch (op) {
  case AR_SUM:
    for (int64_t i = 0; i < n; i++) s += x[i];
    return s;
  case AR_MEAN:
    for (int64_t i = 0; i < n; i++) s += x[i];
    return s / (double)n;
  case AR_VAR:
  case AR_STD:
    for (int64_t i = 0; i < n; i++) s += x[i];
    m = s / (double)n;
    s = 0;
    for (int64_t i = 0; i < n; i++) s += (x[i] - m) * (x[i] - m);
    s /= (double)n - corr > 0 ? (double)n - corr : 0;
    return op == AR_STD ? sqrt(s) : s;
  case AR_NORM:
    if (isinf(p)) {
      s = p > 0 ? 0 : INFINITY;
      for (int64_t i = 0; i < n; i++)
        s = p > 0 ? fmax(s, fabs(x[i])) : fmin(s, fabs(x[i]));
      return s;
    }
    if (p == 0) {
      for (int64_t i = 0; i < n; i++) s += x[i] != 0;
      return s;
    }
    for (int64_t i = 0; i < n; i++) s += pow(fabs(x[i]), p);
    return pow(s, 1 / p);
  case AR_PROD:
    s = 1;
    for (int64_t i = 0; i < n; i++) s *= x[i];
    return s;
  case AR_RMAX:
    s = -INFINITY;
    for (int64_t i = 0; i < n; i++) s = fmax(s, x[i]);
    return s;
  case AR_RMIN:
    s = INFINITY;
    for (int64_t i = 0; i < n; i++) s = fmin(s, x[i]);
    return s;
  }
  return NAN;
}

static bool close_to(double got, double want, double scale)
{
  if (isnan(want)) return isnan(got);
  if (isinf(want)) return got == want;
  return fabs(got - want) <= 1e-6 * scale + 1e-30;
}

static const char *opname[] = {"sum", "mean", "var", "std", "norm", "prod", "max", "min"};

/* Checks op over every dim (and all) with and without keepdim against the reference. */
static void check_all(ar_ctx *C, const ar_tensor *a, const char *what)
{
  static float buf[1 << 18];
  const double ps[] = {2, 1, INFINITY, 3};
  for (int op = AR_SUM; op <= AR_RMIN; op++) {
    int np = op == AR_NORM ? 4 : 1;
    for (int ip = 0; ip < np; ip++) {
      double p = op == AR_NORM ? ps[ip] : 2;
      for (int dim = -1; dim < a->ndim; dim++) {
        for (int kd = 0; kd < 2; kd++) {
          ar_tensor out;
          int64_t R = dim < 0 ? ar_numel(a) : a->shape[dim];
          int rc = ar_reduce(C, (ar_redop)op, &out, a, dim, kd, p, 1);
          if (R == 0 && (op == AR_RMAX || op == AR_RMIN)) {
            cr_assert_eq(rc, AR_EARG, "%s: %s of an empty dim must fail", what, opname[op]);
            cr_assert_null(out.st);
            continue;
          }
          cr_assert_eq(rc, AR_OK, "%s: %s dim %d: %s", what, opname[op], dim, ar_errmsg(C));
          /* shape */
          if (dim < 0) {
            if (kd && a->ndim > 0) {
              cr_assert_eq(out.ndim, a->ndim);
              for (int d = 0; d < a->ndim; d++) cr_assert_eq(out.shape[d], 1);
            } else {
              cr_assert_eq(out.ndim, 1);
              cr_assert_eq(out.shape[0], 1);
            }
          } else if (kd) {
            cr_assert_eq(out.ndim, a->ndim);
            for (int d = 0; d < a->ndim; d++)
              cr_assert_eq(out.shape[d], d == dim ? 1 : a->shape[d]);
          } else {
            int expect = a->ndim - 1 > 0 ? a->ndim - 1 : 1;
            cr_assert_eq(out.ndim, expect, "%s: %s dim %d ndim %d", what, opname[op], dim,
                         out.ndim);
          }
          int64_t O = ar_numel(&out);
          for (int64_t o = 0; o < O; o++) {
            int64_t n = gather(a, dim, o, buf);
            double want = ref_reduce((ar_redop)op, buf, n, p, 1);
            double scale = 1;
            for (int64_t i = 0; i < n; i++) scale += fabs(buf[i]);
            if (op == AR_PROD || op == AR_VAR || op == AR_STD || op == AR_NORM)
              scale = fabs(want) + 1e-3;
            if (op == AR_MEAN) scale /= n > 0 ? (double)n : 1;
            double got = ar_data(&out)[o];
            cr_assert(close_to(got, (float)want, scale),
                      "%s: %s (p=%g) dim %d keepdim %d out %lld: got %.9g want %.9g", what,
                      opname[op], p, dim, kd, (long long)o, got, want);
          }
          ar_release(&out);
        }
      }
    }
  }
}

/* ---------- reductions vs the reference ---------- */

Test(reduce, contiguous_shapes)
{
  ar_ctx *C = ar_ctx_new();
  const int64_t shapes[][3] = {{7, 0, 0},  {5, 13, 0}, {3, 1, 33}, {4, 6, 9},
                               {1, 1, 1},  {2, 40, 3}, {33, 65, 0}, {9, 300, 0}};
  const int nds[] = {1, 2, 3, 3, 3, 3, 2, 2};
  for (int s = 0; s < 8; s++) {
    ar_tensor a;
    make(C, &a, nds[s], shapes[s], 0.5f, 1.5f);
    check_all(C, &a, "contiguous");
    ar_release(&a);
  }
  cr_assert_eq(ar_live_bytes(C), 0, "no storage leaked");
  ar_ctx_release(C);
}

Test(reduce, signed_values)
{
  ar_ctx *C = ar_ctx_new();
  int64_t sh[] = {17, 23};
  ar_tensor a;
  make(C, &a, 2, sh, -2, 2);
  check_all(C, &a, "signed");
  ar_release(&a);
  ar_ctx_release(C);
}

Test(reduce, transposed_narrowed_expanded_views)
{
  ar_ctx *C = ar_ctx_new();
  int64_t sh[] = {6, 35, 20};
  ar_tensor a, t, n, u, v;
  make(C, &a, 3, sh, 0.5f, 1.5f);
  /* a transpose makes the reduced dims unit-stride or the kept ones strided */
  cr_assert_eq(ar_transpose(C, &t, &a, 1, 2), AR_OK);
  check_all(C, &t, "transpose(1,2)");
  ar_release(&t);
  cr_assert_eq(ar_transpose(C, &t, &a, 0, 2), AR_OK);
  check_all(C, &t, "transpose(0,2)");
  /* narrowed: row stride larger than the row */
  cr_assert_eq(ar_narrow(C, &n, &a, 2, 3, 11), AR_OK);
  check_all(C, &n, "narrow(2)");
  cr_assert_eq(ar_narrow(C, &u, &t, 1, 5, 17), AR_OK);
  check_all(C, &u, "narrow of transpose");
  /* every other element: no unit stride at all */
  cr_assert_eq(ar_select(C, &v, &a, 2, 4), AR_OK);
  ar_release(&u);
  cr_assert_eq(ar_transpose(C, &u, &v, 0, 1), AR_OK);
  check_all(C, &u, "select+transpose");
  ar_release(&u);
  ar_release(&v);
  /* broadcast view with stride 0 */
  int64_t s1[] = {1, 9}, s2[] = {7, 9};
  ar_tensor b;
  make(C, &b, 2, s1, 0.5f, 1.5f);
  cr_assert_eq(ar_expand(C, &u, &b, 2, s2), AR_OK);
  check_all(C, &u, "expand");
  ar_release(&u);
  ar_release(&b);
  ar_release(&n);
  ar_release(&t);
  ar_release(&a);
  cr_assert_eq(ar_live_bytes(C), 0);
  ar_ctx_release(C);
}

Test(reduce, wide_column_reductions)
{
  ar_ctx *C = ar_ctx_new();
  /* outputs wider than one column tile, many rows: the column kernel and its splits */
  int64_t sh1[] = {300, 531}, sh2[] = {3, 70, 260};
  ar_tensor a, b;
  make(C, &a, 2, sh1, -1, 1);
  make(C, &b, 3, sh2, -1, 1);
  check_all(C, &a, "300x531");
  check_all(C, &b, "3x70x260");
  ar_release(&a);
  ar_release(&b);
  ar_ctx_release(C);
}

Test(reduce, scalar_and_one_d)
{
  ar_ctx *C = ar_ctx_new();
  ar_tensor s, out;
  cr_assert_eq(ar_empty(C, &s, 0, NULL), AR_OK);
  ar_data(&s)[0] = 3;
  check_all(C, &s, "0-D");
  cr_assert_eq(ar_reduce(C, AR_SUM, &out, &s, 0, false, 2, 1), AR_OK);
  cr_assert_eq(out.ndim, 1);
  cr_assert_eq(ar_data(&out)[0], 3);
  ar_release(&out);
  /* reducing the only dim of a 1-D tensor gives {1}, as a full reduction */
  int64_t n = 5;
  ar_tensor v;
  make(C, &v, 1, &n, 0, 1);
  cr_assert_eq(ar_reduce(C, AR_SUM, &out, &v, 0, false, 2, 1), AR_OK);
  cr_assert_eq(out.ndim, 1);
  cr_assert_eq(out.shape[0], 1);
  ar_release(&out);
  cr_assert_eq(ar_reduce(C, AR_SUM, &out, &v, 1, false, 2, 1), AR_ERANGE);
  cr_assert_null(out.st);
  cr_assert_eq(ar_reduce(C, AR_SUM, &out, &v, -2, false, 2, 1), AR_ERANGE);
  ar_release(&v);
  ar_release(&s);
  ar_ctx_release(C);
}

Test(reduce, known_values)
{
  ar_ctx *C = ar_ctx_new();
  int64_t sh[] = {2, 3};
  ar_tensor a, o;
  cr_assert_eq(ar_empty(C, &a, 2, sh), AR_OK);
  const float v[] = {1, -2, 3, 4, 5, -6};
  memcpy(ar_data(&a), v, sizeof v);
  struct {
    ar_redop op;
    int dim;
    double p;
    float want[3];
  } cases[] = {
      {AR_SUM, -1, 2, {5}},
      {AR_SUM, 0, 2, {5, 3, -3}},
      {AR_SUM, 1, 2, {2, 3}},
      {AR_MEAN, 1, 2, {2.0f / 3, 1}},
      {AR_PROD, 0, 2, {4, -10, -18}},
      {AR_RMAX, 1, 2, {3, 5}},
      {AR_RMIN, 0, 2, {1, -2, -6}},
      {AR_VAR, 0, 2, {4.5f, 24.5f, 40.5f}},
      {AR_NORM, -1, 1, {21}},
      {AR_NORM, -1, INFINITY, {6}},
      {AR_NORM, -1, -INFINITY, {1}},
      {AR_NORM, -1, 0, {6}},
      {AR_NORM, 1, 2, {(float)sqrt(14.0), (float)sqrt(77.0)}},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    cr_assert_eq(ar_reduce(C, cases[i].op, &o, &a, cases[i].dim, false, cases[i].p, 1), AR_OK);
    for (int64_t j = 0; j < ar_numel(&o); j++)
      cr_assert_float_eq(ar_data(&o)[j], cases[i].want[j], 1e-6, "case %zu elem %lld", i,
                         (long long)j);
    ar_release(&o);
  }
  ar_release(&a);
  ar_ctx_release(C);
}

/* ---------- special values ---------- */

Test(reduce, empty_tensors)
{
  ar_ctx *C = ar_ctx_new();
  ar_tensor e, o;
  int64_t z = 0;
  cr_assert_eq(ar_empty(C, &e, 1, &z), AR_OK);
  cr_assert_eq(ar_reduce(C, AR_SUM, &o, &e, -1, false, 2, 1), AR_OK);
  cr_assert_eq(ar_data(&o)[0], 0);
  ar_release(&o);
  cr_assert_eq(ar_reduce(C, AR_PROD, &o, &e, -1, false, 2, 1), AR_OK);
  cr_assert_eq(ar_data(&o)[0], 1);
  ar_release(&o);
  cr_assert_eq(ar_reduce(C, AR_MEAN, &o, &e, -1, false, 2, 1), AR_OK);
  cr_assert(isnan(ar_data(&o)[0]));
  ar_release(&o);
  cr_assert_eq(ar_reduce(C, AR_VAR, &o, &e, 0, false, 2, 1), AR_OK);
  cr_assert(isnan(ar_data(&o)[0]));
  ar_release(&o);
  cr_assert_eq(ar_reduce(C, AR_NORM, &o, &e, -1, false, 2, 1), AR_OK);
  cr_assert_eq(ar_data(&o)[0], 0);
  ar_release(&o);
  cr_assert_eq(ar_reduce(C, AR_RMAX, &o, &e, -1, false, 2, 1), AR_EARG);
  cr_assert_null(o.st);
  cr_assert_str_eq(ar_errmsg(C), "cannot take max of an empty tensor");
  cr_assert_eq(ar_reduce(C, AR_RMIN, &o, &e, -1, false, 2, 1), AR_EARG);
  cr_assert_str_eq(ar_errmsg(C), "cannot take min of an empty tensor");
  ar_tensor vals, idx;
  cr_assert_eq(ar_maxmin_dim(C, true, &vals, &idx, &e, 0, false), AR_EARG);
  cr_assert_null(vals.st);
  cr_assert_null(idx.st);
  ar_release(&e);

  /* {0, 3}: reducing the empty dim gives 3 outputs, the other dim an empty output */
  int64_t sh[] = {0, 3};
  cr_assert_eq(ar_empty(C, &e, 2, sh), AR_OK);
  cr_assert_eq(ar_reduce(C, AR_SUM, &o, &e, 0, false, 2, 1), AR_OK);
  cr_assert_eq(o.ndim, 1);
  cr_assert_eq(o.shape[0], 3);
  for (int i = 0; i < 3; i++) cr_assert_eq(ar_data(&o)[i], 0);
  ar_release(&o);
  cr_assert_eq(ar_reduce(C, AR_MEAN, &o, &e, 0, true, 2, 1), AR_OK);
  cr_assert_eq(o.ndim, 2);
  cr_assert(isnan(ar_data(&o)[2]));
  ar_release(&o);
  cr_assert_eq(ar_reduce(C, AR_SUM, &o, &e, 1, false, 2, 1), AR_OK);
  cr_assert_eq(o.shape[0], 0);
  ar_release(&o);
  cr_assert_eq(ar_reduce(C, AR_RMAX, &o, &e, 1, false, 2, 1), AR_OK, "max over size-3 dim");
  cr_assert_eq(ar_numel(&o), 0);
  ar_release(&o);
  cr_assert_eq(ar_reduce(C, AR_RMAX, &o, &e, 0, false, 2, 1), AR_EARG);
  ar_release(&e);
  cr_assert_eq(ar_live_bytes(C), 0);
  ar_ctx_release(C);
}

Test(reduce, var_corrections)
{
  ar_ctx *C = ar_ctx_new();
  ar_tensor a, o;
  int64_t one = 1, two = 2;
  cr_assert_eq(ar_empty(C, &a, 1, &one), AR_OK);
  ar_data(&a)[0] = 5;
  cr_assert_eq(ar_reduce(C, AR_VAR, &o, &a, -1, false, 2, 1), AR_OK);
  cr_assert(isnan(ar_data(&o)[0]), "unbiased var of one element is NaN");
  ar_release(&o);
  cr_assert_eq(ar_reduce(C, AR_STD, &o, &a, -1, false, 2, 0), AR_OK);
  cr_assert_eq(ar_data(&o)[0], 0);
  ar_release(&o);
  ar_release(&a);
  cr_assert_eq(ar_empty(C, &a, 1, &two), AR_OK);
  ar_data(&a)[0] = 1;
  ar_data(&a)[1] = 2;
  cr_assert_eq(ar_reduce(C, AR_VAR, &o, &a, -1, false, 2, 2), AR_OK);
  cr_assert(isinf(ar_data(&o)[0]), "s/0 is inf, as PyTorch");
  ar_release(&o);
  cr_assert_eq(ar_reduce(C, AR_VAR, &o, &a, -1, false, 2, 0), AR_OK);
  cr_assert_float_eq(ar_data(&o)[0], 0.25f, 1e-7);
  ar_release(&o);
  ar_release(&a);
  ar_ctx_release(C);
}

Test(reduce, var_is_two_pass)
{
  ar_ctx *C = ar_ctx_new();
  /* a big offset ruins the one-pass E[x^2] - E[x]^2 formula */
  int64_t n = 100001;
  ar_tensor a, o;
  cr_assert_eq(ar_empty(C, &a, 1, &n), AR_OK);
  for (int64_t i = 0; i < n; i++) ar_data(&a)[i] = 1e4f + (i % 2 ? 0.5f : -0.5f);
  cr_assert_eq(ar_reduce(C, AR_VAR, &o, &a, -1, false, 2, 0), AR_OK);
  double m = 0, s = 0;
  for (int64_t i = 0; i < n; i++) m += ar_data(&a)[i];
  m /= n;
  for (int64_t i = 0; i < n; i++) s += (ar_data(&a)[i] - m) * (ar_data(&a)[i] - m);
  cr_assert_float_eq(ar_data(&o)[0], s / n, 1e-6);
  ar_release(&o);
  ar_release(&a);
  ar_ctx_release(C);
}

Test(reduce, nan_propagates)
{
  ar_ctx *C = ar_ctx_new();
  int64_t sh[] = {3, 40};
  ar_tensor a, o, t;
  make(C, &a, 2, sh, -1, 1);
  ar_data(&a)[1 * 40 + 37] = NAN;
  const ar_redop ops[] = {AR_SUM, AR_RMAX, AR_RMIN, AR_NORM, AR_VAR};
  for (int i = 0; i < 5; i++) {
    cr_assert_eq(ar_reduce(C, ops[i], &o, &a, -1, false, INFINITY, 1), AR_OK);
    cr_assert(isnan(ar_data(&o)[0]), "%s of a NaN", opname[ops[i]]);
    ar_release(&o);
    cr_assert_eq(ar_reduce(C, ops[i], &o, &a, 1, false, INFINITY, 1), AR_OK);
    cr_assert(!isnan(ar_data(&o)[0]) && isnan(ar_data(&o)[1]) && !isnan(ar_data(&o)[2]));
    ar_release(&o);
  }
  /* the column kernel */
  cr_assert_eq(ar_reduce(C, AR_RMAX, &o, &a, 0, false, 2, 1), AR_OK);
  for (int j = 0; j < 40; j++) cr_assert_eq(isnan(ar_data(&o)[j]), j == 37);
  ar_release(&o);
  cr_assert_eq(ar_transpose(C, &t, &a, 0, 1), AR_OK);
  cr_assert_eq(ar_reduce(C, AR_RMIN, &o, &t, 1, false, 2, 1), AR_OK);
  for (int j = 0; j < 40; j++) cr_assert_eq(isnan(ar_data(&o)[j]), j == 37);
  ar_release(&o);
  ar_release(&t);
  ar_release(&a);
  ar_ctx_release(C);
}

/* ---------- determinism across thread counts ---------- */

static double hard_val(uint64_t i, uint64_t o, bool big)
{
  uint64_t h = (i * 0x9E3779B97F4A7C15ULL) ^ (o * 0xC2B2AE3D27D4EB4FULL) ^ (big ? 77 : 0);
  h ^= h >> 29;
  h *= 0xBF58476D1CE4E5B9ULL;
  h ^= h >> 32;
  double u = (double)(h >> 11) / (double)(1ULL << 53) * 2 - 1;
  return big ? (double)(float)(u * 1073741824.0) : u;
}

/* Data whose sums along `axis` (-1: flat) cancel big values: partial sums grow to ~2^38
 * and come back, so the small values' rounding in double shows in the float result and
 * any change of summation order changes the output bits. */
static void hard_fill(ar_tensor *t, int axis)
{
  int64_t n = ar_numel(t), na = axis < 0 ? n : t->shape[axis], inner = 1;
  if (axis >= 0)
    for (int d = axis + 1; d < t->ndim; d++) inner *= t->shape[d];
  int64_t h = na / 2;
  for (int64_t f = 0; f < n; f++) {
    int64_t i = (f / inner) % na, o = (f / inner / na) * inner + f % inner;
    double v;
    if (i < h && i % 2 == 0) v = hard_val(i, o, true);
    else if (i >= na - h && (na - 1 - i) % 2 == 0) v = -hard_val(na - 1 - i, o, true);
    else v = hard_val(i, o, false);
    ar_data(t)[f] = (float)v;
  }
}

static void same_bits(ar_ctx *C, const ar_tensor *a, ar_redop op, int dim, double p)
{
  ar_tensor o1, o2;
  ar_set_num_threads(C, 1);
  cr_assert_eq(ar_reduce(C, op, &o1, a, dim, false, p, 1), AR_OK);
  ar_set_num_threads(C, 2);
  cr_assert_eq(ar_reduce(C, op, &o2, a, dim, false, p, 1), AR_OK);
  cr_assert_eq(ar_numel(&o1), ar_numel(&o2));
  cr_assert_eq(memcmp(ar_data(&o1), ar_data(&o2), (size_t)ar_numel(&o1) * sizeof(float)), 0,
               "%s dim %d differs between 1 and 2 threads", opname[op], dim);
  ar_release(&o1);
  ar_release(&o2);
}

Test(reduce, thread_count_does_not_change_bits)
{
  ar_ctx *C = ar_ctx_new();
  int64_t s1[] = {1 << 21}, s2[] = {1100, 1030}, s3[] = {3, 400001}, s4[] = {400001, 3},
          s5[] = {70001, 20}, s6[] = {9000, 300};
  const int64_t *shapes[] = {s1, s2, s3, s4, s5, s6};
  const int nds[] = {1, 2, 2, 2, 2, 2};
  const ar_redop ops[] = {AR_SUM, AR_MEAN, AR_VAR, AR_STD, AR_NORM, AR_PROD, AR_RMAX};
  for (int s = 0; s < 6; s++) {
    ar_tensor a, t;
    cr_assert_eq(ar_empty(C, &a, nds[s], shapes[s]), AR_OK);
    for (int dim = -1; dim < nds[s]; dim++) {
      hard_fill(&a, dim);
      for (int i = 0; i < 7; i++) same_bits(C, &a, ops[i], dim, 2);
      same_bits(C, &a, AR_NORM, dim, 3);
    }
    if (nds[s] == 2) {
      cr_assert_eq(ar_transpose(C, &t, &a, 0, 1), AR_OK);
      for (int dim = -1; dim < 2; dim++) {
        hard_fill(&a, dim < 0 ? -1 : 1 - dim);
        same_bits(C, &t, AR_SUM, dim, 2);
      }
      ar_release(&t);
    }
    ar_release(&a);
  }
  ar_ctx_release(C);
}

/* The test above can fail: the same data summed in another order gives other bits. */
Test(reduce, hard_data_exposes_summation_order)
{
  ar_ctx *C = ar_ctx_new();
  int64_t n = 1 << 20;
  ar_tensor a, o;
  cr_assert_eq(ar_empty(C, &a, 1, &n), AR_OK);
  hard_fill(&a, -1);
  double fwd = 0, pairs = 0;
  for (int64_t i = 0; i < n; i++) fwd += ar_data(&a)[i];
  for (int64_t i = 0; i < n; i += 2) pairs += (double)ar_data(&a)[i] + ar_data(&a)[i + 1];
  cr_assert_neq((float)fwd, (float)pairs, "orders differ in float: %.9g %.9g", fwd, pairs);
  cr_assert_eq(ar_reduce(C, AR_SUM, &o, &a, -1, false, 2, 1), AR_OK);
  cr_assert(fabs(ar_data(&o)[0] - fwd) < 1e-2 * fabs(fwd), "%g vs %g", ar_data(&o)[0], fwd);
  ar_release(&o);
  ar_release(&a);
  ar_ctx_release(C);
}

Test(reduce, large_sum_matches_double)
{
  ar_ctx *C = ar_ctx_new();
  ar_set_num_threads(C, 2);
  int64_t n = (1 << 22) + 12345;
  ar_tensor a, o;
  make(C, &a, 1, &n, -1, 1.5f);
  double s = 0;
  for (int64_t i = 0; i < n; i++) s += ar_data(&a)[i];
  cr_assert_eq(ar_reduce(C, AR_SUM, &o, &a, -1, false, 2, 1), AR_OK);
  cr_assert_eq(ar_data(&o)[0], (float)s, "double accumulation rounds once: %.9g vs %.9g",
               ar_data(&o)[0], s);
  ar_release(&o);
  /* a {2, n/2} view: two long rows split into blocks */
  int64_t sh[] = {2, n / 2};
  ar_tensor v;
  ar_tensor an;
  cr_assert_eq(ar_narrow(C, &an, &a, 0, 0, n / 2 * 2), AR_OK);
  cr_assert_eq(ar_view(C, &v, &an, 2, sh), AR_OK);
  cr_assert_eq(ar_reduce(C, AR_MEAN, &o, &v, 1, false, 2, 1), AR_OK);
  for (int r = 0; r < 2; r++) {
    double m = 0;
    for (int64_t i = 0; i < n / 2; i++) m += ar_data(&a)[r * (n / 2) + i];
    cr_assert_float_eq(ar_data(&o)[r], m / (double)(n / 2), 1e-7);
  }
  ar_release(&o);
  ar_release(&v);
  ar_release(&an);
  ar_release(&a);
  ar_ctx_release(C);
}

/* ---------- max/min with indices ---------- */

static void check_maxmin(ar_ctx *C, const ar_tensor *a, const char *what)
{
  static float buf[1 << 18];
  for (int is_max = 0; is_max < 2; is_max++)
    for (int dim = -1; dim < a->ndim; dim++)
      for (int kd = 0; kd < 2; kd++) {
        ar_tensor v, ix;
        cr_assert_eq(ar_maxmin_dim(C, is_max, &v, &ix, a, dim, kd), AR_OK, "%s",
                     ar_errmsg(C));
        cr_assert(ar_same_shape(&v, &ix));
        for (int64_t o = 0; o < ar_numel(&v); o++) {
          int64_t n = gather(a, dim, o, buf), bi = 0;
          for (int64_t i = 1; i < n; i++) {
            if (isnan(buf[bi])) break;
            if (isnan(buf[i]) || (is_max ? buf[i] > buf[bi] : buf[i] < buf[bi])) bi = i;
          }
          float got = ar_data(&v)[o];
          cr_assert(got == buf[bi] || (isnan(got) && isnan(buf[bi])),
                    "%s: %s dim %d out %lld value", what, is_max ? "max" : "min", dim,
                    (long long)o);
          cr_assert_eq(ar_data(&ix)[o], (float)(bi + 1), "%s: %s dim %d out %lld: index %g not %lld",
                       what, is_max ? "max" : "min", dim, (long long)o, ar_data(&ix)[o],
                       (long long)bi + 1);
        }
        ar_release(&v);
        ar_release(&ix);
      }
}

Test(reduce, maxmin_indices)
{
  ar_ctx *C = ar_ctx_new();
  int64_t sh[] = {5, 37, 9};
  ar_tensor a, t;
  make(C, &a, 3, sh, -1, 1);
  /* ties: quantise so equal values are common */
  for (int64_t i = 0; i < ar_numel(&a); i++) ar_data(&a)[i] = floorf(ar_data(&a)[i] * 3);
  check_maxmin(C, &a, "ties");
  cr_assert_eq(ar_transpose(C, &t, &a, 0, 2), AR_OK);
  check_maxmin(C, &t, "ties, transposed");
  ar_release(&t);
  /* NaNs, several per row: the first one wins */
  for (int64_t i = 0; i < ar_numel(&a); i += 7) ar_data(&a)[i] = NAN;
  check_maxmin(C, &a, "NaN");
  cr_assert_eq(ar_transpose(C, &t, &a, 1, 2), AR_OK);
  check_maxmin(C, &t, "NaN, transposed");
  ar_release(&t);
  ar_release(&a);
  /* wide outputs (column tiles) */
  int64_t s2[] = {40, 600};
  make(C, &a, 2, s2, -1, 1);
  for (int64_t i = 0; i < ar_numel(&a); i++) ar_data(&a)[i] = floorf(ar_data(&a)[i] * 4);
  ar_data(&a)[5 * 600 + 300] = NAN;
  ar_data(&a)[9 * 600 + 300] = NAN;
  check_maxmin(C, &a, "wide");
  ar_release(&a);
  cr_assert_eq(ar_live_bytes(C), 0);
  ar_ctx_release(C);
}

Test(reduce, maxmin_known)
{
  ar_ctx *C = ar_ctx_new();
  int64_t n = 4;
  ar_tensor a, v, ix;
  cr_assert_eq(ar_empty(C, &a, 1, &n), AR_OK);
  const float x[] = {3, 1, 3, 1};
  memcpy(ar_data(&a), x, sizeof x);
  cr_assert_eq(ar_maxmin_dim(C, true, &v, &ix, &a, 0, false), AR_OK);
  cr_assert_eq(ar_data(&v)[0], 3);
  cr_assert_eq(ar_data(&ix)[0], 1);
  ar_release(&v);
  ar_release(&ix);
  cr_assert_eq(ar_maxmin_dim(C, false, &v, &ix, &a, 0, false), AR_OK);
  cr_assert_eq(ar_data(&ix)[0], 2);
  ar_release(&v);
  ar_release(&ix);
  ar_data(&a)[1] = NAN;
  ar_data(&a)[3] = NAN;
  cr_assert_eq(ar_maxmin_dim(C, false, &v, NULL, &a, 0, false), AR_OK, "idx may be NULL");
  cr_assert(isnan(ar_data(&v)[0]));
  ar_release(&v);
  cr_assert_eq(ar_maxmin_dim(C, true, &v, &ix, &a, -1, false), AR_OK);
  cr_assert_eq(ar_data(&ix)[0], 2);
  ar_release(&v);
  ar_release(&ix);
  cr_assert_eq(ar_maxmin_dim(C, true, &v, &ix, &a, 1, false), AR_ERANGE);
  ar_release(&a);
  ar_ctx_release(C);
}

/* ---------- SIMD levels: the same bits at every level ---------- */

/* The row kernel's summation order, as reduce.c has always done it: runs under 32 add
 * in sequence; longer ones into 32 double lanes (lane j: elements j, j + 32, ...) and a
 * halving tree; blocks of 2^15 elements combined in order. */
static double ref_seg(const float *x, int64_t n)
{
  double t = 0, acc[32] = {0};
  if (n < 32) {
    for (int64_t i = 0; i < n; i++) t += x[i];
    return t;
  }
  for (int64_t i = 0; i < n; i++) acc[i % 32] += x[i];
  for (int w = 16; w >= 1; w /= 2)
    for (int i = 0; i < w; i++) acc[i] += acc[i + w];
  return acc[0];
}

static double ref_sum(const float *x, int64_t n)
{
  const int64_t blk = (int64_t)1 << 15;
  if (n <= blk) return ref_seg(x, n);
  double s = 0 + ref_seg(x, blk);
  for (int64_t b = blk; b < n; b += blk) s += 0 + ref_seg(x + b, n - b < blk ? n - b : blk);
  return s;
}

/* column sums of a contiguous r x c matrix (one block: r * c <= 2^20): four rows added
 * in double, then into the column's accumulator */
static double ref_colsum(const float *x, int64_t r, int64_t c, int64_t j)
{
  double acc = 0;
  int64_t i = 0;
  for (; i + 4 <= r; i += 4) {
    double t = x[i * c + j];
    t += x[(i + 1) * c + j];
    t += x[(i + 2) * c + j];
    t += x[(i + 3) * c + j];
    acc += t;
  }
  for (; i < r; i++) acc += x[i * c + j];
  return acc;
}

/* every reduction of a along dim, outputs (values, then indices for max/min) appended
 * to buf; returns the count */
static int64_t all_results(ar_ctx *C, const ar_tensor *a, int dim, float *buf)
{
  const struct { ar_redop op; double p; } rs[] = {
      {AR_SUM, 2},  {AR_MEAN, 2}, {AR_VAR, 2},  {AR_STD, 2},  {AR_NORM, 2},
      {AR_NORM, 1}, {AR_NORM, 0}, {AR_NORM, 3}, {AR_NORM, INFINITY}, {AR_PROD, 2},
      {AR_RMAX, 2}, {AR_RMIN, 2}};
  int64_t m = 0;
  for (size_t r = 0; r < sizeof rs / sizeof rs[0]; r++) {
    ar_tensor o;
    cr_assert_eq(ar_reduce(C, rs[r].op, &o, a, dim, false, rs[r].p, 1), AR_OK, "%s", ar_errmsg(C));
    memcpy(buf + m, ar_data(&o), (size_t)ar_numel(&o) * sizeof(float));
    m += ar_numel(&o);
    ar_release(&o);
  }
  for (int mx = 0; mx < 2; mx++) {
    ar_tensor v, ix;
    cr_assert_eq(ar_maxmin_dim(C, mx, &v, &ix, a, dim, false), AR_OK, "%s", ar_errmsg(C));
    memcpy(buf + m, ar_data(&v), (size_t)ar_numel(&v) * sizeof(float));
    m += ar_numel(&v);
    memcpy(buf + m, ar_data(&ix), (size_t)ar_numel(&ix) * sizeof(float));
    m += ar_numel(&ix);
    ar_release(&v);
    ar_release(&ix);
  }
  return m;
}

Test(reduce, simd_levels_give_identical_bits)
{
  ar_ctx *C = ar_ctx_new();
  const int saved = ar_simd_level();
  /* awkward sizes: under, at and past the 32 lanes, vector tails, partial blocks */
  int64_t s1[] = {1}, s2[] = {31}, s3[] = {33}, s4[] = {1001}, s5[] = {32769},
          s6[] = {100003}, s7[] = {37, 261}, s8[] = {261, 37}, s9[] = {4096, 35},
          s10[] = {5, 70001};
  const int64_t *shapes[] = {s1, s2, s3, s4, s5, s6, s7, s8, s9, s10};
  const int nds[] = {1, 1, 1, 1, 1, 1, 2, 2, 2, 2};
  const int levels[] = {AR_SIMD_AVX2, AR_SIMD_AVX512};
  int compared = 0;
  for (int s = 0; s < 10; s++) {
    ar_tensor a;
    cr_assert_eq(ar_empty(C, &a, nds[s], shapes[s]), AR_OK);
    int64_t n = ar_numel(&a);
    float *want = malloc((size_t)(40 * n + 64) * sizeof(float));
    float *got = malloc((size_t)(40 * n + 64) * sizeof(float));
    cr_assert(want && got);
    for (int dim = -1; dim < nds[s]; dim++) {
      hard_fill(&a, dim);
      cr_assert_eq(ar_simd_set_level(AR_SIMD_BASELINE), AR_OK);
      int64_t m = all_results(C, &a, dim, want);
      /* sums and means against the summation order reduce.c always had */
      const float *x = ar_data(&a);
      if (dim < 0 || nds[s] == 1) {
        double r = ref_sum(x, n);
        cr_assert_eq(want[0], (float)r, "sum of %lld: %a vs %a", (long long)n, want[0], (float)r);
        cr_assert_eq(want[1], (float)(r / (double)n), "mean of %lld", (long long)n);
      } else if (dim == 0 && shapes[s][1] >= 8) {
        for (int64_t j = 0; j < shapes[s][1]; j++)
          cr_assert_eq(want[j], (float)ref_colsum(x, shapes[s][0], shapes[s][1], j),
                       "column sum %lld of %lldx%lld", (long long)j, (long long)shapes[s][0],
                       (long long)shapes[s][1]);
      } else if (dim == 1) {
        for (int64_t i = 0; i < shapes[s][0]; i++)
          cr_assert_eq(want[i], (float)ref_sum(x + i * shapes[s][1], shapes[s][1]),
                       "row sum %lld", (long long)i);
      }
      for (int l = 0; l < 2; l++) {
        if (!ar_simd_available(levels[l])) continue;
        cr_assert_eq(ar_simd_set_level(levels[l]), AR_OK);
        cr_assert_eq(all_results(C, &a, dim, got), m);
        for (int64_t i = 0; i < m; i++)
          cr_assert_eq(memcmp(&got[i], &want[i], sizeof(float)), 0,
                       "%s: result %lld of shape %d dim %d: %a, baseline %a",
                       ar_simd_name(levels[l]), (long long)i, s, dim, got[i], want[i]);
        compared++;
      }
    }
    free(want);
    free(got);
    ar_release(&a);
  }
  cr_assert_eq(ar_simd_set_level(saved), AR_OK);
  if (!ar_simd_available(AR_SIMD_AVX2)) cr_log_warn("no AVX2 here: only baseline checked");
  (void)compared;
  ar_ctx_release(C);
}

/* ---------- the kernels of every level, called directly ---------- */

/* every level this CPU runs, baseline first (the others are compared with it) */
static int kern_levels(const rd_level **L, const char **name)
{
  int n = 0;
  L[n] = &rd_level_baseline;
  name[n++] = "baseline";
#ifdef ACTRUN_X86_LEVELS
  if (ar_simd_available(AR_SIMD_AVX2)) {
    L[n] = &rd_level_avx2;
    name[n++] = "avx2";
  }
  if (ar_simd_available(AR_SIMD_AVX512)) {
    L[n] = &rd_level_avx512;
    name[n++] = "avx512";
  }
#endif
  return n;
}

/* lengths 0..70 and a few large ones, none a multiple of a vector width */
static const int64_t kern_big[] = {1001, 4099, 32769 + 17, 100003};
#define KERN_NLEN (71 + 4)
static int64_t kern_len(int k) { return k <= 70 ? k : kern_big[k - 71]; }

/* the values the cases are built from: a few levels, so ties are common */
static float tie_val(void) { return floorf(rnd() * 4); }

/* first index of the best, the first NaN's if any: the sequential definition */
static int64_t ref_arg(const float *x, int64_t n, int64_t s, int mx)
{
  int64_t bi = 0;
  for (int64_t i = 0; i < n; i++)
    if (x[i * s] != x[i * s]) return i;
  for (int64_t i = 1; i < n; i++)
    if (mx ? x[i * s] > x[bi * s] : x[i * s] < x[bi * s]) bi = i;
  return bi;
}

/* Fills case c of length n (stride s): random ties, all equal, all -inf, signed zeros,
 * the best twice at lane-boundary distances, NaN first/last/middle/in the tail/twice. */
#define ARG_CASES 12
static void arg_case(float *x, int64_t n, int64_t s, int c, int mx)
{
  for (int64_t i = 0; i < n; i++) x[i * s] = tie_val();
  if (n == 0) return;
  const float top = mx ? 9 : -9;
  const int64_t d[] = {1, 3, 4, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 128};
  const int nd = (int)(sizeof d / sizeof d[0]);
  int64_t a = n > 1 ? (int64_t)((rnd() * 0.5 + 0.5) * (double)(n - 1)) : 0;
  switch (c) {
  case 0: break;
  case 1: for (int64_t i = 0; i < n; i++) x[i * s] = 2; break;
  case 2: for (int64_t i = 0; i < n; i++) x[i * s] = -INFINITY; break;
  case 3: /* zeros of random signs and worse values: the best is a zero, which one? */
    for (int64_t i = 0; i < n; i++) {
      float r = rnd();
      x[i * s] = r < -0.3f ? -top : r < 0.35f ? -0.0f : 0.0f;
    }
    break;
  case 4: /* the best at a and a + d: the first must win (d a lane or vector apart) */
  case 5:
    x[a * s] = top;
    for (int k = 0; k < nd; k++)
      if (a + d[k] < n && (c == 4 || k % 2)) x[(a + d[k]) * s] = top;
    break;
  case 6: x[0] = NAN; break;
  case 7: x[(n - 1) * s] = NAN; break;
  case 8: x[(n / 2) * s] = NAN; break;
  case 9: x[(n > 3 ? n - 1 - n % 3 : 0) * s] = NAN; break; /* in or near the tail */
  case 10: x[a * s] = NAN; x[(n - 1) * s] = NAN; x[(a / 2) * s] = -NAN; break;
  case 11: x[(n - 1) * s] = top; break; /* the best last */
  }
}

Test(reduce, arg_kernels_every_level)
{
  const rd_level *L[3];
  const char *name[3];
  int nl = kern_levels(L, name);
  int64_t cap = kern_big[3] * 3;
  float *x = malloc((size_t)cap * sizeof(float));
  cr_assert(x);
  for (int k = 1; k < KERN_NLEN; k++)
    for (int64_t s = 1; s <= 3; s += 2)
      for (int mx = 0; mx < 2; mx++)
        for (int c = 0; c < ARG_CASES; c++) {
          int64_t n = kern_len(k);
          arg_case(x, n, s, c, mx);
          int64_t want = ref_arg(x, n, s, mx);
          for (int l = 0; l < nl; l++) {
            int64_t got = L[l]->arg[mx](x, n, s);
            cr_assert_eq(got, want, "%s %s: n %lld stride %lld case %d: index %lld, not %lld",
                         name[l], mx ? "argmax" : "argmin", (long long)n, (long long)s, c,
                         (long long)got, (long long)want);
          }
        }
  free(x);
}

Test(reduce, arg_column_kernels_every_level)
{
  const rd_level *L[3];
  const char *name[3];
  int nl = kern_levels(L, name);
  const int64_t widths[] = {1, 3, 4, 7, 8, 15, 16, 17, 31, 33, 47, 70, 1024};
  const int64_t rows[] = {1, 2, 3, 4, 5, 8, 9, 37};
  static float x[37 * 1030], best[1024];
  static int32_t bi[1024];
  for (size_t wi = 0; wi < sizeof widths / sizeof widths[0]; wi++)
    for (size_t ri = 0; ri < sizeof rows / sizeof rows[0]; ri++)
      for (int mx = 0; mx < 2; mx++)
        for (int c = 0; c < ARG_CASES; c++) {
          int64_t w = widths[wi], nr = rows[ri], s = w + 3; /* rows wider than the output */
          for (int64_t j = 0; j < w; j++) arg_case(x + j, nr, s, (c + (int)j) % ARG_CASES, mx);
          for (int l = 0; l < nl; l++) {
            L[l]->argcol[mx](best, bi, x, s, nr, w);
            for (int64_t j = 0; j < w; j++) {
              int64_t want = ref_arg(x + j, nr, s, mx);
              cr_assert_eq(bi[j], want,
                           "%s %s columns: %lldx%lld case %d column %lld: row %d, not %lld",
                           name[l], mx ? "max" : "min", (long long)nr, (long long)w, c,
                           (long long)j, bi[j], (long long)want);
              float v = x[want * s + j];
              cr_assert(memcmp(&best[j], &v, sizeof v) == 0, "%s: value of column %lld",
                        name[l], (long long)j);
            }
          }
        }
}

/* max/min as the kernel has always computed them: 32 lanes for unit-stride runs of 32 or
 * more (lane j: elements j, j + 32, ...), combined j = 0, 16, 1, 17, ..., then the rest
 * in order; a better element or a NaN replaces */
static float ref_ext(const float *x, int64_t n, int64_t s, int mx, int ab)
{
  const float init = mx ? (ab ? 0.0f : -INFINITY) : INFINITY;
#define RX_F(v) (ab ? fabsf(v) : (v))
#define RX_TAKE(v, r) ((mx ? (v) > (r) : (v) < (r)) || (v) != (v))
  float r = init, m[32];
  int64_t i = 0;
  if (s == 1 && n >= 32) {
    for (int j = 0; j < 32; j++) m[j] = init;
    for (; i + 32 <= n; i += 32)
      for (int j = 0; j < 32; j++) {
        float v = RX_F(x[i + j]);
        if (RX_TAKE(v, m[j])) m[j] = v;
      }
    for (int j = 0; j < 16; j++) {
      if (RX_TAKE(m[j], r)) r = m[j];
      if (RX_TAKE(m[j + 16], r)) r = m[j + 16];
    }
  }
  for (; i < n; i++) {
    float v = RX_F(x[i * s]);
    if (RX_TAKE(v, r)) r = v;
  }
  return r;
}

/* products as always: 32 accumulators, the rest (and strided runs) into the first, the
 * halving tree */
static double ref_prod(const float *x, int64_t n, int64_t s)
{
  double acc[32];
  for (int j = 0; j < 32; j++) acc[j] = 1;
  int64_t i = 0;
  if (s == 1)
    for (; i + 32 <= n; i += 32)
      for (int j = 0; j < 32; j++) acc[j] *= x[i + j];
  for (; i < n; i++) acc[0] *= x[i * s];
  for (int w = 16; w >= 1; w /= 2)
    for (int j = 0; j < w; j++) acc[j] *= acc[j + w];
  return acc[0];
}

static bool same_double(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }

Test(reduce, extremum_and_prod_kernels_every_level)
{
  const rd_level *L[3];
  const char *name[3];
  int nl = kern_levels(L, name);
  int64_t cap = kern_big[3] * 3;
  float *x = malloc((size_t)cap * sizeof(float));
  cr_assert(x);
  const rd_kop ext[] = {K_MIN, K_MAX, K_MINABS, K_MAXABS};
  for (int k = 0; k < KERN_NLEN; k++)
    for (int64_t s = 1; s <= 3; s += 2)
      for (int c = 0; c < ARG_CASES; c++) {
        int64_t n = kern_len(k);
        arg_case(x, n, s, c, (c + k) % 2);
        for (int e = 0; e < 4; e++) {
          double want = ref_ext(x, n, s, e % 2, e / 2);
          for (int l = 0; l < nl; l++) {
            double got = L[l]->seg[ext[e]](x, n, s, 0, 0);
            cr_assert(same_double(got, want) || (isnan(got) && isnan(want)),
                      "%s op %d: n %lld stride %lld case %d: %a, not %a", name[l], ext[e],
                      (long long)n, (long long)s, c, got, want);
            /* a NaN's payload too: the same bits at every level */
            double g0 = L[0]->seg[ext[e]](x, n, s, 0, 0);
            cr_assert(same_double(got, g0), "%s op %d: bits differ from baseline", name[l], ext[e]);
          }
        }
        /* products near 1, so long runs neither overflow nor vanish */
        for (int64_t i = 0; i < n; i++)
          if (x[i * s] == x[i * s] && !isinf(x[i * s])) x[i * s] = 1 + x[i * s] / 64 + rnd() / 1024;
        double want = ref_prod(x, n, s);
        for (int l = 0; l < nl; l++) {
          double got = L[l]->seg[K_PROD](x, n, s, 0, 0);
          cr_assert(same_double(got, want) || (isnan(got) && isnan(want)),
                    "%s prod: n %lld stride %lld case %d: %a, not %a", name[l], (long long)n,
                    (long long)s, c, got, want);
        }
      }
  free(x);
}

Test(reduce, extremum_and_prod_column_kernels_every_level)
{
  const rd_level *L[3];
  const char *name[3];
  int nl = kern_levels(L, name);
  const int64_t widths[] = {1, 3, 4, 7, 8, 15, 16, 17, 31, 33, 47, 70, 1024};
  const int64_t rows[] = {1, 2, 3, 4, 5, 8, 9, 37};
  const rd_kop ops[] = {K_MIN, K_MAX, K_MINABS, K_MAXABS, K_PROD};
  static float x[37 * 1030];
  static double acc[1024];
  for (size_t wi = 0; wi < sizeof widths / sizeof widths[0]; wi++)
    for (size_t ri = 0; ri < sizeof rows / sizeof rows[0]; ri++)
      for (int c = 0; c < ARG_CASES; c++) {
        int64_t w = widths[wi], nr = rows[ri], s = w + 5;
        for (int64_t j = 0; j < w; j++) arg_case(x + j, nr, s, (c + (int)j) % ARG_CASES, c % 2);
        for (int o = 0; o < 5; o++) {
          const double init = o == 4 ? 1 : o == 3 ? 0 : o % 2 ? -INFINITY : INFINITY;
          for (int l = 0; l < nl; l++) {
            for (int64_t j = 0; j < w; j++) acc[j] = init;
            L[l]->col[ops[o]](acc, x, s, nr, w, NULL, 0);
            for (int64_t j = 0; j < w; j++) {
              double want = init;
              for (int64_t r = 0; r < nr; r++) {
                double v = x[r * s + j];
                if (o >= 2 && o < 4) v = fabs(v);
                if (o == 4) want *= v;
                else if ((o % 2 ? v > want : v < want) || v != v) want = v;
              }
              cr_assert(same_double(acc[j], want) || (isnan(acc[j]) && isnan(want)),
                        "%s op %d columns %lldx%lld case %d column %lld: %a, not %a", name[l],
                        ops[o], (long long)nr, (long long)w, c, (long long)j, acc[j], want);
            }
          }
        }
      }
}

/* The p-norm's sum of |x|^p against long double, at every level, and the same bits at
 * every level (the pow has no FMA anywhere). Relative bound: each term within 1 ulp of
 * double (pow) or 2 log2(p) half-ulp roundings (integer orders), the double sum of n
 * positive terms within n ulps. */
Test(reduce, pow_kernels_accuracy_every_level)
{
  const rd_level *L[3];
  const char *name[3];
  int nl = kern_levels(L, name);
  /* integer orders 3..16 square repeatedly, the others call pow: both sides of 16 */
  const double ps[] = {0.5, 1.5, 3, 7, -1.5, 16, 17};
  const int nps = (int)(sizeof ps / sizeof ps[0]);
  int64_t cap = kern_big[3] * 3;
  float *x = malloc((size_t)cap * sizeof(float));
  cr_assert(x);
  double worst = 0;
  for (int k = 0; k < KERN_NLEN; k++)
    for (int64_t s = 1; s <= 3; s += 2)
      for (int pi = 0; pi < nps; pi++) {
        int64_t n = kern_len(k);
        double p = ps[pi];
        /* magnitudes over 2^-10 .. 2^10, both signs, exact zeros for p > 0 */
        for (int64_t i = 0; i < n; i++) {
          float v = ldexpf(1 + rnd() * 0.999f, (int)floorf(rnd() * 10));
          x[i * s] = (p > 0 && i % 17 == 5) ? 0.0f : (i % 2 ? -v : v);
        }
        long double ref = 0;
        for (int64_t i = 0; i < n; i++) ref += powl(fabsl((long double)x[i * s]), p);
        double g0 = 0;
        for (int l = 0; l < nl; l++) {
          double got = L[l]->seg[K_POW](x, n, s, 0, p);
          double err = ref == 0 ? fabs(got) : (double)fabsl((got - ref) / ref);
          if (err > worst) worst = err;
          cr_assert(err <= (double)(n + 2) * 0x1p-52, "%s: n %lld p %g: %.17g vs %.17Lg (%.3g)",
                    name[l], (long long)n, p, got, ref, err);
          if (l == 0) g0 = got;
          cr_assert(same_double(got, g0), "%s: n %lld p %g: %a, baseline %a", name[l],
                    (long long)n, p, got, g0);
        }
      }
  /* the column kernel: every column against long double, every level the same bits */
  const int64_t nr = 37, w = 70, s = 75;
  static double acc[3][70];
  for (int64_t i = 0; i < nr * s; i++) x[i] = ldexpf(1 + rnd() * 0.999f, (int)floorf(rnd() * 10));
  for (int pi = 0; pi < nps; pi++) {
    for (int l = 0; l < nl; l++) {
      memset(acc[l], 0, sizeof acc[l]);
      L[l]->col[K_POW](acc[l], x, s, nr, w, NULL, ps[pi]);
    }
    for (int64_t j = 0; j < w; j++) {
      long double ref = 0;
      for (int64_t r = 0; r < nr; r++) ref += powl(fabsl((long double)x[r * s + j]), ps[pi]);
      for (int l = 0; l < nl; l++) {
        double err = (double)fabsl((acc[l][j] - ref) / ref);
        cr_assert(err <= (nr + 2) * 0x1p-52, "%s column %lld p %g: %.3g", name[l], (long long)j,
                  ps[pi], err);
        cr_assert(same_double(acc[l][j], acc[0][j]), "%s column %lld p %g: bits", name[l],
                  (long long)j, ps[pi]);
      }
    }
  }
  cr_log_info("p-norm kernels: worst relative error %.3g", worst);
  free(x);
}

/* through the public entry: tiles narrower and wider than the column tile, strides */
Test(reduce, maxmin_column_tiles)
{
  ar_ctx *C = ar_ctx_new();
  const int64_t widths[] = {7, 8, 17, 1023, 1025, 2100};
  for (int t = 0; t < 2; t++)
    for (size_t wi = 0; wi < sizeof widths / sizeof widths[0]; wi++) {
      int64_t sh[] = {t ? 3 : 19, widths[wi]};
      ar_tensor a, v;
      make(C, &a, 2, sh, -1, 1);
      for (int64_t i = 0; i < ar_numel(&a); i++) ar_data(&a)[i] = floorf(ar_data(&a)[i] * 3);
      ar_data(&a)[sh[1] + sh[1] - 1] = NAN;
      ar_data(&a)[sh[1] / 2] = NAN;
      check_maxmin(C, &a, "column tiles");
      /* a narrowed view: rows longer than the output */
      cr_assert_eq(ar_narrow(C, &v, &a, 1, 0, sh[1] - 1), AR_OK);
      check_maxmin(C, &v, "column tiles, narrowed");
      ar_release(&v);
      ar_release(&a);
    }
  cr_assert_eq(ar_live_bytes(C), 0);
  ar_ctx_release(C);
}

/* ---------- the row arg kernel's chunks ----------
 * Its int32 lane indices count within chunks of 2^30 elements, combined in order; no
 * test can afford such rows, so a copy of the baseline kernels is compiled here with
 * chunks of 64 elements (the library's own code, only the constant differs). */
#define AR_SIMD_LEVEL AR_SIMD_BASELINE
#define RD_ARG_CHUNK ((int64_t)64)
#define LEVEL_NAME rd_level_chunk64
#include "core/rd_kernels.h"

Test(reduce, arg_kernel_chunks_combine_in_order)
{
  static float x[1000];
  for (int64_t n = 1; n <= 1000; n += n < 300 ? 1 : 37)
    for (int mx = 0; mx < 2; mx++)
      for (int c = 0; c < ARG_CASES; c++) {
        arg_case(x, n, 1, c, mx);
        int64_t want = ref_arg(x, n, 1, mx), got = rd_level_chunk64.arg[mx](x, n, 1);
        cr_assert_eq(got, want, "%s: n %lld case %d: index %lld, not %lld",
                     mx ? "argmax" : "argmin", (long long)n, c, (long long)got,
                     (long long)want);
      }
}
