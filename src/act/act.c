/* Tensor-level entry points of the activation registry: parameter checks, contiguous
 * inputs, threading; softmax/log_softmax; PReLU with a slope tensor; RReLU training. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "act/act.h"

/* Elements per thread before work is split. After a job the pool's workers watch for the
 * next one for about 0.1 ms (threads.c), so back-to-back calls hand work over at little
 * cost (a 32K-element gelu split so: 10.4 us, 20.2 on one thread); waking a blocked
 * worker costs 10-35 us while the interpreter's thread is busy, about 0.3 ms after the
 * whole process slept. Measured at 2 threads, back to back, against the previous grains
 * (8 x 64K for cheap kernels, 64K for transcendental ones): transcendental forwards
 * 1.8-2.1x faster at 32K-100K elements; cheap forwards and forward+backward 1.5-2x faster
 * at 4e5. Cheap kernels at 32K per thread were 2x faster still at 1e5 forward only, but
 * forward+backward through autograd ran 10-15% slower than on one thread (the ops around
 * them then read data the other core wrote), so they split from 2 x 64K. */
#define CHEAP_GRAIN AR_PAR_GRAIN
#define COSTLY_GRAIN (AR_PAR_GRAIN / 4)

/* The kernel tables, one per level compiled into this build (kern_*.c). */
extern const act_level act_level_baseline;
#ifdef ACTRUN_X86_LEVELS
extern const act_level act_level_avx2, act_level_avx512;
#endif

/* the table of a level this build has (no check that the CPU runs it) */
static const act_level *pick(int level) {
  switch (level) {
#ifdef ACTRUN_X86_LEVELS
  case AR_SIMD_AVX512:
    return &act_level_avx512;
  case AR_SIMD_AVX2:
    return &act_level_avx2;
#endif
  default:
    return &act_level_baseline;
  }
}

const act_level *act_level_at(int level) {
  return ar_simd_available(level) ? pick(level) : NULL;
}

/* ar_simd_level() is always a level the CPU runs: no check per call */
const act_kernels *act_kern(const act_def *a) { return &pick(ar_simd_level())->k[a - act_table]; }

const act_def *act_find(const char *name) {
  if (!name) return NULL;
  for (int i = 0; i < act_count; i++)
    if (strcmp(act_table[i].name, name) == 0) return &act_table[i];
  return NULL;
}

int act_param_index(const act_def *a, const char *pname) {
  for (int i = 0; i < a->nparams; i++)
    if (strcmp(a->params[i].name, pname) == 0) return i;
  return -1;
}

int act_check_params(ar_ctx *C, const act_def *a, const double *p) {
  for (int i = 0; i < a->nparams; i++)
    if (!isfinite(p[i]))
      /* NaN's sign bit is noise (0/0 is -nan on x86): say "nan" either way */
      return ar_seterr(C, AR_EARG, "%s: parameter '%s' must be finite, got %g", a->name,
                       a->params[i].name, isnan(p[i]) ? fabs(p[i]) : p[i]);
  if (a->check && a->check(C, p)) {
    char msg[512];
    snprintf(msg, sizeof msg, "%s", ar_errmsg(C));
    return ar_seterr(C, AR_EARG, "%s: %s", a->name, msg);
  }
  return AR_OK;
}

/* The parameters as doubles (defaults when NULL), checked, and as floats for kernels. */
static int prep_params(ar_ctx *C, const act_def *a, const double *params, float *pf) {
  double p[ACT_MAXPARAMS] = {0};
  for (int i = 0; i < a->nparams; i++) p[i] = params ? params[i] : a->params[i].def;
  int rc = act_check_params(C, a, p);
  for (int i = 0; i < ACT_MAXPARAMS; i++) pf[i] = (float)p[i];
  return rc;
}

typedef struct {
  const act_def *a;
  const act_kernels *k; /* a's kernels at the SIMD level in use */
  act_forward_fn map;   /* y = map(x): k->forward, or k->second for f'' */
  const float *x, *dy;
  float *y, *d;
  int64_t n;
  float p[ACT_MAXPARAMS];
  bool stream; /* y written with non-temporal stores (see below) */
} act_job;

/* Large outputs of the cheap (memory-bound) kernels go through an L1 buffer and
 * non-temporal stores (core.h, AR_STREAM_*): measured at 1.6e7 elements, one thread,
 * identity 6.0 -> 3.5 ms, relu 5.7 -> 4.4, hardtanh 6.1 -> 4.2 (interleaved runs). The
 * transcendental kernels are compute-bound there (their stores already overlap the
 * arithmetic), and the extra copy made them slower (tanh 6.9 -> 9.5 ms): not for them;
 * smaller pieces (128, 256) did not change that and lost half of the gain above. The
 * kernels run over the same ranges, so the bits are the same. */
static bool want_stream(const act_def *a, const float *y, int64_t n) {
  return !a->costly && ar_stream_ok(y, n);
}

/* Units are ACT_GROUP-element groups from the start of the array. */
static void fwd_range(void *arg, int64_t lo, int64_t hi) {
  const act_job *J = arg;
  int64_t b = lo * ACT_GROUP, e = hi * ACT_GROUP < J->n ? hi * ACT_GROUP : J->n;
  if (J->stream) {
    _Alignas(64) float buf[AR_STREAM_CH];
    for (; b + AR_STREAM_CH <= e; b += AR_STREAM_CH) {
      J->map(J->x + b, buf, AR_STREAM_CH, J->p);
      ar_stream_store(J->y + b, buf, AR_STREAM_CH);
    }
    ar_stream_fence();
  }
  if (b < e) J->map(J->x + b, J->y + b, e - b, J->p);
}
static void bwd_range(void *arg, int64_t lo, int64_t hi) {
  const act_job *J = arg;
  int64_t b = lo * ACT_GROUP, e = hi * ACT_GROUP < J->n ? hi * ACT_GROUP : J->n;
  if (J->stream) {
    _Alignas(64) float buf[AR_STREAM_CH];
    for (; b + AR_STREAM_CH <= e; b += AR_STREAM_CH) {
      J->k->backward(J->x + b, J->dy + b, buf, AR_STREAM_CH, J->p);
      ar_stream_store(J->y + b, buf, AR_STREAM_CH);
    }
    ar_stream_fence();
  }
  if (b < e) J->k->backward(J->x + b, J->dy + b, J->y + b, e - b, J->p);
}

static void fused_range(void *arg, int64_t lo, int64_t hi) {
  const act_job *J = arg;
  int64_t b = lo * ACT_GROUP, e = hi * ACT_GROUP < J->n ? hi * ACT_GROUP : J->n;
  J->k->fused(J->x + b, J->y + b, J->d + b, e - b, J->p);
}

static void run(ar_ctx *C, act_job *J, ar_range_fn fn) {
  if (J->n == 0) return;
  int64_t grain = (J->a->costly ? COSTLY_GRAIN : CHEAP_GRAIN) / ACT_GROUP;
  ar_parallel_for(C, (J->n + ACT_GROUP - 1) / ACT_GROUP, grain, fn, J);
}

/* out = map(x) elementwise, map one of a's (forward or second) kernels */
static int map_run(ar_ctx *C, const act_def *a, act_forward_fn map, ar_tensor *out,
                   const ar_tensor *x, const double *params) {
  act_job J = {.a = a, .k = act_kern(a), .map = map};
  out->st = NULL;
  int rc = prep_params(C, a, params, J.p);
  if (rc) return rc;
  ar_tensor xc;
  if ((rc = ar_contiguous(C, &xc, x))) return rc;
  if ((rc = ar_empty(C, out, x->ndim, x->shape))) {
    ar_release(&xc);
    return rc;
  }
  J.x = ar_data(&xc);
  J.y = ar_data(out);
  J.n = ar_numel(x);
  J.stream = want_stream(a, J.y, J.n);
  run(C, &J, fwd_range);
  ar_release(&xc);
  return AR_OK;
}

int act_forward(ar_ctx *C, const act_def *a, ar_tensor *out, const ar_tensor *x,
                const double *params) {
  return map_run(C, a, act_kern(a)->forward, out, x, params);
}

/* The same grains, streaming and splits as the forward pass: a cheap entry's f'' is a
 * select of constants, a costly one's costs about as much as its f. */
int act_second(ar_ctx *C, const act_def *a, ar_tensor *out, const ar_tensor *x,
               const double *params) {
  return map_run(C, a, act_kern(a)->second, out, x, params);
}

int act_forward_fused(ar_ctx *C, const act_def *a, ar_tensor *out, ar_tensor *deriv,
                      const ar_tensor *x, const double *params) {
  act_job J = {.a = a, .k = act_kern(a)};
  out->st = deriv->st = NULL;
  int rc = prep_params(C, a, params, J.p);
  if (rc) return rc;
  ar_tensor xc;
  if ((rc = ar_contiguous(C, &xc, x))) return rc;
  if ((rc = ar_empty(C, out, x->ndim, x->shape)) == AR_OK &&
      (rc = ar_empty(C, deriv, x->ndim, x->shape)) != AR_OK) {
    ar_release(out);
  }
  if (rc == AR_OK) {
    J.x = ar_data(&xc);
    J.y = ar_data(out);
    J.d = ar_data(deriv);
    J.n = ar_numel(x);
    run(C, &J, fused_range);
  }
  ar_release(&xc);
  return rc;
}

int act_backward(ar_ctx *C, const act_def *a, ar_tensor *dx, const ar_tensor *x,
                 const ar_tensor *dy, const double *params) {
  act_job J = {.a = a, .k = act_kern(a)};
  dx->st = NULL;
  if (!ar_same_shape(x, dy)) {
    char b1[200], b2[200];
    return ar_seterr(C, AR_ESHAPE, "dy has shape %s, expected x's shape %s",
                     ar_shape_str(dy->ndim, dy->shape, b1, sizeof b1),
                     ar_shape_str(x->ndim, x->shape, b2, sizeof b2));
  }
  int rc = prep_params(C, a, params, J.p);
  if (rc) return rc;
  ar_tensor xc, gc;
  if ((rc = ar_contiguous(C, &xc, x))) return rc;
  if ((rc = ar_contiguous(C, &gc, dy))) {
    ar_release(&xc);
    return rc;
  }
  if ((rc = ar_empty(C, dx, x->ndim, x->shape)) == AR_OK) {
    J.x = ar_data(&xc);
    J.dy = ar_data(&gc);
    J.y = ar_data(dx);
    J.n = ar_numel(x);
    J.stream = want_stream(a, J.y, J.n);
    run(C, &J, bwd_range);
  }
  ar_release(&xc);
  ar_release(&gc);
  return rc;
}

/* ---------- softmax / log_softmax ---------- */

typedef struct {
  const float *x, *dy;
  float *y;
  int64_t len, inner;
  bool log;
} sm_job;

/* Row r: elements base + k * inner for k < len, base from the (outer, inner) pair. */
static int64_t row_base(const sm_job *J, int64_t r) {
  return (r / J->inner) * J->len * J->inner + r % J->inner;
}

static void sm_rows(void *arg, int64_t lo, int64_t hi) {
  const sm_job *J = arg;
  int64_t s = J->inner;
  for (int64_t r = lo; r < hi; r++) {
    const float *x = J->x + row_base(J, r);
    float *y = J->y + row_base(J, r);
    double m = -INFINITY;
    for (int64_t k = 0; k < J->len; k++) {
      double v = x[k * s];
      if (v > m || v != v) m = v; /* NaN wins and poisons the row, as PyTorch */
    }
    double sum = 0;
    for (int64_t k = 0; k < J->len; k++) sum += exp((double)x[k * s] - m);
    if (J->log) {
      double ls = log(sum);
      for (int64_t k = 0; k < J->len; k++) y[k * s] = (float)(((double)x[k * s] - m) - ls);
    } else {
      double inv = 1.0 / sum;
      for (int64_t k = 0; k < J->len; k++) y[k * s] = (float)(exp((double)x[k * s] - m) * inv);
    }
  }
}

static void sm_back_rows(void *arg, int64_t lo, int64_t hi) {
  const sm_job *J = arg; /* x holds the forward output here */
  int64_t s = J->inner;
  for (int64_t r = lo; r < hi; r++) {
    int64_t b = row_base(J, r);
    const float *y = J->x + b, *dy = J->dy + b;
    float *dx = J->y + b;
    double acc = 0;
    if (J->log) {
      for (int64_t k = 0; k < J->len; k++) acc += dy[k * s];
      for (int64_t k = 0; k < J->len; k++)
        dx[k * s] = (float)((double)dy[k * s] - exp((double)y[k * s]) * acc);
    } else {
      for (int64_t k = 0; k < J->len; k++) acc += (double)dy[k * s] * y[k * s];
      for (int64_t k = 0; k < J->len; k++)
        dx[k * s] = (float)((double)y[k * s] * ((double)dy[k * s] - acc));
    }
  }
}

static int sm_setup(ar_ctx *C, const ar_tensor *x, int dim, sm_job *J, int64_t *rows) {
  int nd = x->ndim;
  if (nd == 0 ? (dim != 0 && dim != -1) : (dim < 0 || dim >= nd))
    return ar_seterr(C, AR_EARG, "dim %d out of range for a %d-D tensor", dim + 1, nd);
  int64_t outer = 1, inner = 1, len = nd ? x->shape[dim] : 1;
  for (int i = 0; i < dim && i < nd; i++) outer *= x->shape[i];
  for (int i = dim + 1; i < nd; i++) inner *= x->shape[i];
  J->len = len;
  J->inner = inner ? inner : 1;
  *rows = outer * inner;
  return AR_OK;
}

static void sm_run(ar_ctx *C, sm_job *J, int64_t rows, ar_range_fn fn) {
  if (rows == 0 || J->len == 0) return;
  int64_t grain = AR_PAR_GRAIN / J->len;
  ar_parallel_for(C, rows, grain < 1 ? 1 : grain, fn, J);
}

int act_softmax(ar_ctx *C, ar_tensor *out, const ar_tensor *x, int dim, bool log) {
  sm_job J = {.log = log};
  int64_t rows = 0;
  out->st = NULL;
  int rc = sm_setup(C, x, dim, &J, &rows);
  if (rc) return rc;
  ar_tensor xc;
  if ((rc = ar_contiguous(C, &xc, x))) return rc;
  if ((rc = ar_empty(C, out, x->ndim, x->shape)) == AR_OK) {
    J.x = ar_data(&xc);
    J.y = ar_data(out);
    sm_run(C, &J, rows, sm_rows);
  }
  ar_release(&xc);
  return rc;
}

int act_softmax_backward(ar_ctx *C, ar_tensor *dx, const ar_tensor *y, const ar_tensor *dy,
                         int dim, bool log) {
  sm_job J = {.log = log};
  int64_t rows = 0;
  dx->st = NULL;
  if (!ar_same_shape(y, dy)) return ar_seterr(C, AR_ESHAPE, "dy must have the output's shape");
  int rc = sm_setup(C, y, dim, &J, &rows);
  if (rc) return rc;
  ar_tensor yc, gc;
  if ((rc = ar_contiguous(C, &yc, y))) return rc;
  if ((rc = ar_contiguous(C, &gc, dy))) {
    ar_release(&yc);
    return rc;
  }
  if ((rc = ar_empty(C, dx, y->ndim, y->shape)) == AR_OK) {
    J.x = ar_data(&yc);
    J.dy = ar_data(&gc);
    J.y = ar_data(dx);
    sm_run(C, &J, rows, sm_back_rows);
  }
  ar_release(&yc);
  ar_release(&gc);
  return rc;
}

/* ---------- PReLU with a slope tensor ---------- */

typedef struct {
  const act_kernels *k;
  const float *x, *dy, *w;
  float *y;
  int64_t nch, inner;
  bool back;
} prelu_job;

/* Row r = (outer, channel) pair: `inner` contiguous elements with one slope. */
static void prelu_rows(void *arg, int64_t lo, int64_t hi) {
  const prelu_job *J = arg;
  for (int64_t r = lo; r < hi; r++) {
    float s = J->w[J->nch > 1 ? r % J->nch : 0];
    int64_t b = r * J->inner;
    if (J->back)
      J->k->backward(J->x + b, J->dy + b, J->y + b, J->inner, &s);
    else
      J->k->forward(J->x + b, J->y + b, J->inner, &s);
  }
}

static int prelu_setup(ar_ctx *C, const ar_tensor *x, const ar_tensor *w, int64_t *nch,
                       int64_t *inner) {
  int64_t nw = ar_numel(w);
  if (nw == 1) {
    *nch = 1;
    *inner = ar_numel(x);
    return AR_OK;
  }
  if (x->ndim < 2 || x->shape[1] != nw)
    return ar_seterr(C, AR_ESHAPE,
                     "the slope has %lld values: expected 1, or one per channel (dim 2 of an "
                     "input with at least 2 dims)",
                     (long long)nw);
  *nch = nw;
  *inner = 1;
  for (int i = 2; i < x->ndim; i++) *inner *= x->shape[i];
  return AR_OK;
}

static int prelu_run(ar_ctx *C, ar_tensor *out, const ar_tensor *x, const ar_tensor *w,
                     const ar_tensor *dy, ar_tensor *xc_keep, ar_tensor *wc_keep) {
  prelu_job J = {.k = act_kern(act_find("prelu")), .back = dy != NULL};
  int64_t rc = prelu_setup(C, x, w, &J.nch, &J.inner);
  if (rc) return (int)rc;
  ar_tensor xc, wc, gc;
  gc.st = NULL;
  if ((rc = ar_contiguous(C, &xc, x))) return (int)rc;
  if ((rc = ar_contiguous(C, &wc, w))) {
    ar_release(&xc);
    return (int)rc;
  }
  if (dy && (rc = ar_contiguous(C, &gc, dy))) goto done;
  if ((rc = ar_empty(C, out, x->ndim, x->shape))) goto done;
  J.x = ar_data(&xc);
  J.w = ar_data(&wc);
  J.dy = dy ? ar_data(&gc) : NULL;
  J.y = ar_data(out);
  int64_t n = ar_numel(x), rows = J.inner ? n / J.inner : 0;
  if (n) {
    int64_t grain = CHEAP_GRAIN / J.inner;
    ar_parallel_for(C, rows, grain < 1 ? 1 : grain, prelu_rows, &J);
  }
done:
  if (gc.st) ar_release(&gc);
  if (!rc && xc_keep) {
    *xc_keep = xc;
    *wc_keep = wc;
    return AR_OK;
  }
  ar_release(&xc);
  ar_release(&wc);
  return (int)rc;
}

int act_prelu_forward(ar_ctx *C, ar_tensor *out, const ar_tensor *x, const ar_tensor *w) {
  out->st = NULL;
  return prelu_run(C, out, x, w, NULL, NULL, NULL);
}

int act_prelu_backward(ar_ctx *C, ar_tensor *dx, ar_tensor *dw, const ar_tensor *x,
                       const ar_tensor *w, const ar_tensor *dy) {
  dx->st = dw->st = NULL;
  if (!ar_same_shape(x, dy)) return ar_seterr(C, AR_ESHAPE, "dy must have x's shape");
  ar_tensor xc, wc;
  int rc = prelu_run(C, dx, x, w, dy, &xc, &wc);
  if (rc) return rc;
  ar_tensor gc;
  if ((rc = ar_contiguous(C, &gc, dy)) == AR_OK) {
    if ((rc = ar_empty(C, dw, w->ndim, w->shape)) == AR_OK) {
      int64_t nch = 1, inner = 1, n = ar_numel(x);
      prelu_setup(C, x, w, &nch, &inner);
      const float *xp = ar_data(&xc), *gp = ar_data(&gc);
      float *out = ar_data(dw);
      /* one channel at a time, rows in order: the same sum whatever the threads */
      for (int64_t c = 0; c < nch; c++) {
        double acc = 0;
        for (int64_t b = c * inner; b < n; b += nch * inner)
          for (int64_t j = 0; j < inner; j++) {
            float v = xp[b + j];
            if (!(v > 0)) acc += (double)v * gp[b + j];
          }
        out[c] = (float)acc;
      }
    }
    ar_release(&gc);
  }
  ar_release(&xc);
  ar_release(&wc);
  if (rc) ar_release(dx);
  return rc;
}

/* ---------- RReLU, training mode ---------- */

typedef struct {
  const float *x;
  float *y, *noise;
  int64_t n;
  uint64_t key, first;
  float lo, span;
} rrelu_job;

/* One Philox counter = 4 elements; element i uses counter first + i/4, word i%4, drawn
 * whether or not x[i] needs it, so the slopes do not depend on the split. */
static void rrelu_range(void *arg, int64_t lo, int64_t hi) {
  const rrelu_job *J = arg;
  uint32_t w[4];
  for (int64_t c = lo; c < hi; c++) {
    ar_philox(J->key, J->first + (uint64_t)c, w);
    for (int k = 0; k < 4; k++) {
      int64_t i = c * 4 + k;
      if (i >= J->n) break;
      float v = J->x[i];
      float r = J->lo + J->span * ((float)(w[k] >> 8) * (1.0f / 16777216.0f));
      if (r >= J->lo + J->span && J->span > 0) r = nextafterf(J->lo + J->span, J->lo);
      float s = v <= 0 ? r : 1.0f; /* PyTorch samples where x <= 0 */
      J->noise[i] = s;
      J->y[i] = v * s;
    }
  }
}

int act_rrelu_train(ar_ctx *C, ar_tensor *out, ar_tensor *noise, const ar_tensor *x,
                    double lower, double upper) {
  out->st = noise->st = NULL;
  double p[2] = {lower, upper};
  int rc = act_check_params(C, act_find("rrelu"), p);
  if (rc) return rc;
  ar_tensor xc;
  if ((rc = ar_contiguous(C, &xc, x))) return rc;
  if ((rc = ar_empty(C, out, x->ndim, x->shape)) == AR_OK &&
      (rc = ar_empty(C, noise, x->ndim, x->shape)) != AR_OK)
    ar_release(out);
  if (rc == AR_OK) {
    rrelu_job J = {ar_data(&xc), ar_data(out), ar_data(noise), ar_numel(x), ar_rng_key(C), 0,
                   (float)lower, (float)(upper - lower)};
    J.first = ar_rng_reserve(C, (uint64_t)J.n);
    int64_t units = (J.n + 3) / 4;
    if (units) ar_parallel_for(C, units, CHEAP_GRAIN / 4, rrelu_range, &J);
  }
  ar_release(&xc);
  return rc;
}
