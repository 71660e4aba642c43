/* B-spline bases on a uniform grid: argument checks, the split over threads and the pick
 * of the level's kernels (bs_kernels.h). Work is split over whole vectors of inputs
 * (chunks start at multiples of 16, a multiple of every level's width), and each input's
 * values depend on it alone, so results never depend on the thread count. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/bs_level.h"
#include "core/bspline.h"

static const bs_level *pick(int level) {
  switch (level) {
#ifdef ACTRUN_X86_LEVELS
  case AR_SIMD_AVX512:
    return &bs_level_avx512;
  case AR_SIMD_AVX2:
    return &bs_level_avx2;
#endif
  default:
    return &bs_level_baseline;
  }
}

const bs_level *bs_level_at(int level) { return ar_simd_available(level) ? pick(level) : NULL; }

int ar_bspline_check(ar_ctx *C, const ar_bspline *p) {
  if (p->grid < 1 || p->grid > AR_BSPLINE_MAX_GRID)
    return ar_seterr(C, AR_EARG, "grid must be an integer in 1..%d, got %d",
                     AR_BSPLINE_MAX_GRID, p->grid);
  if (p->order < 0 || p->order > AR_BSPLINE_MAX_ORDER)
    return ar_seterr(C, AR_EARG, "order must be an integer in 0..%d, got %d",
                     AR_BSPLINE_MAX_ORDER, p->order);
  if (!isfinite(p->lo) || !isfinite(p->hi) || !(p->lo < p->hi))
    return ar_seterr(C, AR_EARG, "range must be finite with lo < hi, got {%g, %g}", p->lo,
                     p->hi);
  return AR_OK;
}

/* the inputs of a chunk: whole vectors of 16 */
#define UNIT 16

typedef struct {
  const bs_level *k;
  bs_grid g;
  float *out;
  const float *x, *gy;
  int64_t n, M;
  int fail; /* a chunk could not get its scratch table */
} bs_job;

static void run(void *arg, int64_t lo, int64_t hi) {
  bs_job *J = arg;
  int64_t a = lo * UNIT, b = hi * UNIT < J->n ? hi * UNIT : J->n;
  float *ws = malloc(sizeof(float) * 16 * (size_t)(J->g.grid + 2 * J->g.order + 1));
  if (!ws) {
    J->fail = 1; /* benign race: every writer stores 1 */
    return;
  }
  if (J->gy)
    J->k->dot(J->out + a, J->x + a, J->gy + a * J->M, b - a, &J->g, ws);
  else
    J->k->basis(J->out + a * J->M, J->x + a, b - a, &J->g, ws);
  free(ws);
}

static int launch(ar_ctx *C, bs_job *J) {
  int64_t units = (J->n + UNIT - 1) / UNIT;
  /* about 10 flops per table entry: split from a few thousand inputs on */
  int64_t cost = (int64_t)(J->g.grid + 2 * J->g.order) * (J->g.order + 1);
  int64_t grain = AR_PAR_GRAIN / (UNIT * (cost > 0 ? cost : 1)) + 1;
  ar_parallel_for(C, units, grain, run, J);
  return J->fail ? ar_seterr(C, AR_ENOMEM, "out of memory for the B-spline table") : AR_OK;
}

static void fill_grid(bs_grid *g, const ar_bspline *p, int deriv) {
  double h = (p->hi - p->lo) / p->grid;
  g->lo = (float)p->lo;
  g->inv_h = (float)(1.0 / h);
  g->grid = p->grid;
  g->order = p->order;
  g->deriv = deriv;
}

int ar_bspline_basis(ar_ctx *C, ar_tensor *out, const ar_tensor *x, const ar_bspline *p,
                     int deriv) {
  int rc = ar_bspline_check(C, p);
  if (rc) return rc;
  if (deriv < 0) return ar_seterr(C, AR_EARG, "derivative order must be >= 0, got %d", deriv);
  if (x->ndim >= AR_MAXDIM)
    return ar_seterr(C, AR_ESHAPE, "input has %d dims, at most %d allowed", x->ndim,
                     AR_MAXDIM - 1);
  int64_t shape[AR_MAXDIM];
  memcpy(shape, x->shape, sizeof(int64_t) * (size_t)x->ndim);
  int64_t M = ar_bspline_count(p);
  shape[x->ndim] = M;
  ar_tensor xc, o;
  if ((rc = ar_contiguous(C, &xc, x))) return rc;
  if ((rc = ar_empty(C, &o, x->ndim + 1, shape))) {
    ar_release(&xc);
    return rc;
  }
  bs_job J = {pick(ar_simd_level()), {0, 0, 0, 0, 0}, ar_data(&o), ar_data(&xc), NULL, ar_numel(x), M, 0};
  fill_grid(&J.g, p, deriv);
  rc = J.n ? launch(C, &J) : AR_OK;
  ar_release(&xc);
  if (rc) {
    ar_release(&o);
    return rc;
  }
  *out = o;
  return AR_OK;
}

int ar_bspline_dot(ar_ctx *C, ar_tensor *out, const ar_tensor *x, const ar_tensor *g,
                   const ar_bspline *p, int deriv) {
  int rc = ar_bspline_check(C, p);
  if (rc) return rc;
  if (deriv < 0) return ar_seterr(C, AR_EARG, "derivative order must be >= 0, got %d", deriv);
  int64_t M = ar_bspline_count(p);
  bool ok = g->ndim == x->ndim + 1 && g->shape[x->ndim] == M;
  for (int d = 0; ok && d < x->ndim; d++) ok = g->shape[d] == x->shape[d];
  if (!ok)
    return ar_seterr(C, AR_ESHAPE,
                     "gradient must have the input's shape plus a last dim of %lld",
                     (long long)M);
  ar_tensor xc, gc, o;
  if ((rc = ar_contiguous(C, &xc, x))) return rc;
  if ((rc = ar_contiguous(C, &gc, g))) {
    ar_release(&xc);
    return rc;
  }
  if ((rc = ar_empty(C, &o, x->ndim, x->shape))) goto done;
  bs_job J = {pick(ar_simd_level()), {0, 0, 0, 0, 0}, ar_data(&o), ar_data(&xc), ar_data(&gc),
              ar_numel(x), M, 0};
  fill_grid(&J.g, p, deriv);
  rc = J.n ? launch(C, &J) : AR_OK;
  if (rc)
    ar_release(&o);
  else
    *out = o;
done:
  ar_release(&xc);
  ar_release(&gc);
  return rc;
}
