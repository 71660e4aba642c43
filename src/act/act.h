/* The activation registry: one table, one entry per elementwise activation.
 *
 * Each entry carries its metadata (name, family, formula, parameters with defaults in
 * positional order), a double-precision scalar f, f' and f'' (the reference), and float32
 * vector kernels for the forward and backward passes and for f''. Everything else (the Lua
 * functions, nn.Activation, the properties table, the cost benchmark, the tests) enumerates
 * act_table. Adding an activation = adding one entry in registry.c.
 *
 * Conventions shared by every entry:
 * - Gradients are computed from the input x, never from the output.
 * - NaN propagates: f(NaN) = NaN, f'(NaN) = NaN (so dx = NaN where x is NaN), f''(NaN) =
 *   NaN.
 * - At +-inf, f, f' and f'' are their limits (no inf * 0 = NaN).
 * - At a kink, f' and f'' are the one-sided values PyTorch's autograd uses; f'' is 0
 *   everywhere for piecewise-linear entries, kinks included.
 * - f'' is computed from closed forms (no differencing), in forms that do not cancel in
 *   the tails (e.g. silu''(40.4) ~ -1.08e-16 to full relative precision).
 * - Kernels may be called on any sub-range that starts a multiple of ACT_GROUP elements
 *   after the start of the array: results never depend on how work is split (ACT_GROUP
 *   is a multiple of every level's vector length). */
#ifndef ACTRUN_ACT_H
#define ACTRUN_ACT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/core.h"

#define ACT_MAXPARAMS 2
#define ACT_GROUP 16

typedef struct act_param {
  const char *name;
  double def;
} act_param;

/* f, f' and f'' at x, in double; p holds the entry's parameters (positional order).
 * Every output pointer must be valid. */
typedef void (*act_scalar_fn)(double x, const double *p, double *f, double *df, double *d2);
/* y = f(x) over n elements; p: the parameters as floats. */
typedef void (*act_forward_fn)(const float *x, float *y, int64_t n, const float *p);
/* dx = dy * f'(x). */
typedef void (*act_backward_fn)(const float *x, const float *dy, float *dx, int64_t n,
                                const float *p);
/* y = f(x) and d = f'(x) in one pass, with the same bits as the forward kernel and as the
 * backward kernel's dx / dy (dy * d == backward(x, dy); where x is NaN, d is NaN). */
typedef void (*act_fused_fn)(const float *x, float *y, float *d, int64_t n, const float *p);
/* d2 = f''(x) over n elements (NaN where x is NaN). */
typedef void (*act_second_fn)(const float *x, float *d2, int64_t n, const float *p);

typedef struct act_def {
  const char *name;
  const char *family;
  const char *formula;
  int nparams;
  act_param params[ACT_MAXPARAMS];
  bool learnable;   /* prelu: the slope is a learnable tensor in nn.PReLU */
  /* f'(x) can be computed from y = f(x) alone (autograd may save y instead of x); for
   * leaky_relu/prelu/rrelu/elu/celu this holds for positive slopes/alphas only */
  bool output_grad;
  bool costly;      /* transcendental: worth threading at a smaller size */
  act_scalar_fn scalar;
  /* extra parameter validation (ordered bounds, non-zero divisors), or NULL */
  int (*check)(ar_ctx *C, const double *p);
} act_def;

/* Every entry in act_table's order, with 1 where it has a fused kernel (f and f' in one
 * pass, for entries whose f' costs about as much as f: when x requires grad, autograd
 * keeps f'(x) from the forward pass and its backward is dx = dy * f'(x), instead of
 * keeping x and recomputing the transcendental functions). The kernel tables of every
 * SIMD level are generated from this list. */
#define ACT_LIST(X)                                                                       \
  X(identity, 0) X(step, 0) X(sigmoid, 1) X(hard_sigmoid, 0) X(tanh, 0) X(hardtanh, 0)     \
  X(softsign, 0) X(relu, 0) X(relu6, 0) X(leaky_relu, 0) X(prelu, 0) X(rrelu, 0) X(elu, 0) \
  X(selu, 0) X(celu, 0) X(gelu, 1) X(gelu_tanh, 0) X(silu, 0) X(swish, 0) X(mish, 1)       \
  X(softplus, 1) X(logsigmoid, 1) X(hardswish, 0) X(tanhshrink, 1) X(softshrink, 0)       \
  X(hardshrink, 0) X(sin, 0) X(cos, 0) X(gaussian, 1)
#define ACT_COUNT_ONE_(n, f) +1
#define ACT_N (0 ACT_LIST(ACT_COUNT_ONE_))

/* One entry's float32 kernels at one SIMD level (fused: NULL when the entry has none;
 * every entry has a second). */
typedef struct act_kernels {
  act_forward_fn forward;
  act_backward_fn backward;
  act_fused_fn fused;
  act_second_fn second;
} act_kernels;

/* One SIMD level's kernels (src/act/kernels.h compiled for that level). */
typedef struct act_level {
  const act_kernels *k; /* ACT_N entries, act_table's order */
  /* the inline exp (x <= 0), expm1 (x <= 0) and log1p (x in [0, 1]) the one-pass
   * kernels use, over arrays: for their accuracy tests */
  void (*exp_np)(const float *x, float *y, int64_t n);
  void (*expm1_np)(const float *x, float *y, int64_t n);
  void (*log1p_01)(const float *x, float *y, int64_t n);
} act_level;

/* The kernels of a level (AR_SIMD_*), or NULL when this build or CPU cannot run it. */
const act_level *act_level_at(int level);
/* Entry a's kernels at the level in use (ar_simd_level()). */
const act_kernels *act_kern(const act_def *a);

/* Largest input for which autograd uses the fused kernel. Above it the passes are bound by
 * memory, and the fused forward's extra output plus a separate product pass cost more than
 * recomputing f'. Measured, one thread, forward+backward from Lua, fused vs not (minimum of
 * two alternating runs of 7 samples each): 2^18 elements 11-17% faster (gelu, mish,
 * sigmoid, softplus); 2^20 gelu 18% faster, the others within 2%; 2^21 0-6% slower; 2^22
 * 4-11% slower. */
#ifndef ACT_FUSED_MAX /* overridable for measuring it */
#define ACT_FUSED_MAX ((int64_t)1 << 20)
#endif

extern const act_def act_table[];
extern const int act_count;

/* The entry named `name`, or NULL. */
const act_def *act_find(const char *name);
/* Index of a parameter by name, or -1. */
int act_param_index(const act_def *a, const char *pname);
/* Checks parameter values (finite, ordered bounds, non-zero beta ...); AR_EARG with a
 * message naming the parameter. */
int act_check_params(ar_ctx *C, const act_def *a, const double *p);

/* out = f(x) (a new contiguous tensor of x's shape). params: a->nparams values, or NULL
 * for the defaults. x may be strided; threaded above a size threshold. */
int act_forward(ar_ctx *C, const act_def *a, ar_tensor *out, const ar_tensor *x,
                const double *params);
/* out = f(x) and deriv = f'(x) (new contiguous tensors of x's shape) through the entry's
 * fused kernel (act_kern(a)->fused must not be NULL): the same values as act_forward and
 * act_derivative's. */
int act_forward_fused(ar_ctx *C, const act_def *a, ar_tensor *out, ar_tensor *deriv,
                      const ar_tensor *x, const double *params);
/* dx = dy * f'(x) (a new tensor); dy must have x's shape. */
int act_backward(ar_ctx *C, const act_def *a, ar_tensor *dx, const ar_tensor *x,
                 const ar_tensor *dy, const double *params);

/* out = f''(x) (a new contiguous tensor of x's shape). params: a->nparams values, or NULL
 * for the defaults. x may be strided; threaded above the same thresholds as act_forward,
 * and the result does not depend on the number of threads. */
int act_second(ar_ctx *C, const act_def *a, ar_tensor *out, const ar_tensor *x,
               const double *params);

/* softmax / log_softmax along dim (0-based), max-subtracted, sums in double. */
int act_softmax(ar_ctx *C, ar_tensor *out, const ar_tensor *x, int dim, bool log);
/* Backward from the output y: softmax dx = y * (dy - sum(dy * y)); log_softmax
 * dx = dy - exp(y) * sum(dy). */
int act_softmax_backward(ar_ctx *C, ar_tensor *dx, const ar_tensor *y, const ar_tensor *dy,
                         int dim, bool log);

/* PReLU with a slope tensor: one value shared, or one per channel (dim 1, 0-based, of an
 * input with ndim >= 2). */
int act_prelu_forward(ar_ctx *C, ar_tensor *out, const ar_tensor *x, const ar_tensor *w);
/* dx = dy * (x > 0 ? 1 : w_c); dw_c = sum of dy * x over x <= 0 and the non-channel dims
 * (double accumulation in a fixed order: deterministic). dw has w's shape. */
int act_prelu_backward(ar_ctx *C, ar_tensor *dx, ar_tensor *dw, const ar_tensor *x,
                       const ar_tensor *w, const ar_tensor *dy);

/* The Padé activation unit (safe form): out = P(x) / (1 + |Q(x)|), P(x) = a0 + ... + am x^m
 * and Q(x) = b1 x + ... + bn x^n. a {m+1} and b {n} shared by every element, or a {C, m+1}
 * and b {C, n}: one set per channel (dim 1, 0-based, of an input with ndim >= 2).
 * m, n <= 12. Vector kernels per SIMD level (pau_kernels.h), threaded above a size. */
int act_pau_forward(ar_ctx *C, ar_tensor *out, const ar_tensor *x, const ar_tensor *a,
                    const ar_tensor *b);
/* dx = dy f'(x) (|Q|'s derivative taken as sign(Q), 0 at 0), da, db: the sums of dy df/da_k
 * and dy df/db_j over every element of their set, in double in a fixed order (the same
 * bits at every thread count); shapes of x, a and b. */
int act_pau_backward(ar_ctx *C, ar_tensor *dx, ar_tensor *da, ar_tensor *db, const ar_tensor *x,
                     const ar_tensor *a, const ar_tensor *b, const ar_tensor *dy);

/* RReLU in training mode: per-element slope drawn uniform in [lower, upper) from the
 * context's RNG (thread-count independent), 1 where x >= 0. out = x * noise; noise is
 * returned for the backward pass (dx = dy * noise). */
int act_rrelu_train(ar_ctx *C, ar_tensor *out, ar_tensor *noise, const ar_tensor *x,
                    double lower, double upper);

#endif
