/* B-spline bases on a uniform grid: argument checks, the split over threads and the pick
 * of the level's kernels (bs_kernels.h). Work is split over whole rows of features, and
 * each input's values depend on it alone, so results never depend on the thread count. */
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

typedef struct {
  const bs_level *k;
  bs_grid g;
  float *out;
  const float *x, *gy;
  int64_t rows, F, M;
  int fail; /* a chunk could not get its scratch table */
} bs_job;

static void run(void *arg, int64_t lo, int64_t hi) {
  bs_job *J = arg;
  float *ws = malloc(sizeof(float) * 16 * (size_t)(J->g.grid + 2 * J->g.order + 1));
  if (!ws) {
    J->fail = 1; /* benign race: every writer stores 1 */
    return;
  }
  const int64_t F = J->F, M = J->M;
  if (J->gy)
    J->k->dot(J->out + lo * F, J->x + lo * F, J->gy + lo * M * F, hi - lo, F, &J->g, ws);
  else
    J->k->basis(J->out + lo * M * F, J->x + lo * F, hi - lo, F, &J->g, ws);
  free(ws);
}

static int launch(ar_ctx *C, bs_job *J) {
  /* about 4 flops per table entry: split from a few thousand inputs on */
  int64_t cost = (int64_t)(J->g.grid + 2 * J->g.order) * (J->g.order + 1) * J->F;
  int64_t grain = AR_PAR_GRAIN / (cost > 0 ? cost : 1) + 1;
  ar_parallel_for(C, J->rows, grain, run, J);
  return J->fail ? ar_seterr(C, AR_ENOMEM, "out of memory for the B-spline table") : AR_OK;
}

/* rows and features of x (at least 1 dim) */
static int rows_of(ar_ctx *C, const ar_tensor *x, int64_t *rows, int64_t *F) {
  if (x->ndim < 1 || x->ndim >= AR_MAXDIM)
    return ar_seterr(C, AR_ESHAPE, "input must have 1 to %d dims, got %d", AR_MAXDIM - 1,
                     x->ndim);
  *F = x->shape[x->ndim - 1];
  *rows = *F ? ar_numel(x) / *F : 0;
  return AR_OK;
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
  int64_t rows = 0, F = 0, M = ar_bspline_count(p);
  if ((rc = rows_of(C, x, &rows, &F))) return rc;
  int64_t shape[AR_MAXDIM];
  memcpy(shape, x->shape, sizeof(int64_t) * (size_t)x->ndim);
  shape[x->ndim - 1] = M;
  shape[x->ndim] = F;
  ar_tensor xc, o;
  if ((rc = ar_contiguous(C, &xc, x))) return rc;
  if ((rc = ar_empty(C, &o, x->ndim + 1, shape))) {
    ar_release(&xc);
    return rc;
  }
  bs_job J = {pick(ar_simd_level()), {0, 0, 0, 0, 0}, ar_data(&o), ar_data(&xc), NULL, rows,
              F, M, 0};
  fill_grid(&J.g, p, deriv);
  rc = rows && F ? launch(C, &J) : AR_OK;
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
  int64_t rows = 0, F = 0, M = ar_bspline_count(p);
  if ((rc = rows_of(C, x, &rows, &F))) return rc;
  bool ok = g->ndim == x->ndim + 1 && g->shape[x->ndim - 1] == M && g->shape[x->ndim] == F;
  for (int d = 0; ok && d < x->ndim - 1; d++) ok = g->shape[d] == x->shape[d];
  if (!ok)
    return ar_seterr(C, AR_ESHAPE, "gradient must have the basis's shape {..., %lld, %lld}",
                     (long long)M, (long long)F);
  ar_tensor xc, gc, o;
  if ((rc = ar_contiguous(C, &xc, x))) return rc;
  if ((rc = ar_contiguous(C, &gc, g))) {
    ar_release(&xc);
    return rc;
  }
  if ((rc = ar_empty(C, &o, x->ndim, x->shape))) goto done;
  bs_job J = {pick(ar_simd_level()), {0, 0, 0, 0, 0}, ar_data(&o), ar_data(&xc), ar_data(&gc),
              rows, F, M, 0};
  fill_grid(&J.g, p, deriv);
  rc = rows && F ? launch(C, &J) : AR_OK;
  if (rc)
    ar_release(&o);
  else
    *out = o;
done:
  ar_release(&xc);
  ar_release(&gc);
  return rc;
}
