/* The Padé activation unit (act.h: act_pau_forward / act_pau_backward): validation, the
 * split of the work into blocks, threads, and the coefficient gradients' partial sums.
 *
 * The work is cut into blocks that depend only on the shapes, never on the thread count:
 * with one coefficient set per row of `inner` elements (shared: the whole tensor is one
 * row) a block is a run of at most PAU_BLOCK elements of one row; with one set per
 * element of a row (per channel, nothing after the channel dim: Linear's {N, C}) a block is
 * a group of whole rows. Each block sums its coefficient gradients in double into its own
 * slot, and the slots are added in block order, so the gradients have the same bits
 * whatever the number of threads. */
#include <stdlib.h>
#include <string.h>

#include "act/act.h"
#include "act/pau_level.h"

#define PAU_BLOCK 8192          /* elements of a block (row form) */
#define PAU_PAR_GRAIN (1 << 14) /* elements per thread below which one thread does it */

const pau_level *pau_level_now(void) {
#ifdef ACTRUN_X86_LEVELS
  int l = ar_simd_level();
  if (l >= AR_SIMD_AVX512) return &pau_level_avx512;
  if (l >= AR_SIMD_AVX2) return &pau_level_avx2;
#endif
  return &pau_level_baseline;
}

typedef struct {
  const pau_level *L;
  const float *x, *dy, *a, *b; /* a {nch, m + 1}, b {nch, n}, contiguous */
  float *at, *bt;              /* the column form's transposed coefficients */
  float *y;                    /* out, or dx */
  int m, n, K;                 /* K = m + 1 + n sums per coefficient set */
  int64_t nch, inner;
  bool cols;
  int64_t bpr;     /* row form: blocks per row */
  int64_t nrows;   /* column form: rows of nch elements */
  int64_t gr;      /* column form: rows per block */
  double *part;    /* backward: K doubles per block (row form), K * nch (column form) */
} pau_job;

static void run_blocks(void *arg, int64_t lo, int64_t hi) {
  const pau_job *J = arg;
  for (int64_t id = lo; id < hi; id++) {
    if (!J->cols) {
      int64_t r = id / J->bpr, q = id % J->bpr;
      int64_t s = r * J->inner + q * PAU_BLOCK;
      int64_t len = J->inner - q * PAU_BLOCK < PAU_BLOCK ? J->inner - q * PAU_BLOCK : PAU_BLOCK;
      int64_t c = J->nch > 1 ? r % J->nch : 0;
      const float *a = J->a + c * (J->m + 1), *b = J->b + c * J->n;
      if (J->part) {
        double *ga = J->part + id * J->K;
        memset(ga, 0, sizeof(double) * (size_t)J->K);
        J->L->bwd(J->x + s, J->dy + s, J->y + s, len, a, J->m, b, J->n, ga, ga + J->m + 1);
      } else {
        J->L->fwd(J->x + s, J->y + s, len, a, J->m, b, J->n);
      }
    } else {
      int64_t w = J->nch, r0 = id * J->gr, r1 = r0 + J->gr < J->nrows ? r0 + J->gr : J->nrows;
      double *ga = J->part ? J->part + id * J->K * w : NULL;
      if (ga) memset(ga, 0, sizeof(double) * (size_t)(J->K * w));
      for (int64_t r = r0; r < r1; r++) {
        int64_t s = r * w;
        if (ga)
          J->L->bwd_cols(J->x + s, J->dy + s, J->y + s, w, J->at, J->m, J->bt, J->n, ga,
                         ga + (J->m + 1) * w);
        else
          J->L->fwd_cols(J->x + s, J->y + s, w, J->at, J->m, J->bt, J->n);
      }
    }
  }
}

/* Checks the shapes; sets m, n, the number of coefficient sets and the row length. */
static int check(ar_ctx *C, const ar_tensor *x, const ar_tensor *a, const ar_tensor *b,
                 int *m, int *n, int64_t *nch, int64_t *inner) {
  if (a->ndim < 1 || a->ndim > 2 || b->ndim != a->ndim)
    return ar_seterr(C, AR_ESHAPE,
                     "the coefficients must be a {m+1} numerator and a {n} denominator "
                     "(shared), or {C, m+1} and {C, n} (per channel); got %d and %d dims",
                     a->ndim, b->ndim);
  int64_t na = a->shape[a->ndim - 1], nb = b->shape[b->ndim - 1];
  if (na < 1 || na > PAU_MAXDEG + 1 || nb > PAU_MAXDEG)
    return ar_seterr(C, AR_ESHAPE,
                     "numerator degree %lld and denominator degree %lld: each must be at most "
                     "%d (and the numerator at least 0)",
                     (long long)na - 1, (long long)nb, PAU_MAXDEG);
  int64_t c = a->ndim == 2 ? a->shape[0] : 1;
  if (a->ndim == 2 && b->shape[0] != c)
    return ar_seterr(C, AR_ESHAPE, "the numerator has %lld coefficient sets, the denominator %lld",
                     (long long)c, (long long)b->shape[0]);
  *m = (int)na - 1, *n = (int)nb, *nch = c;
  *inner = 1;
  if (c > 1) {
    if (x->ndim < 2 || x->shape[1] != c)
      return ar_seterr(C, AR_ESHAPE,
                       "%lld coefficient sets: expected an input with at least 2 dims and %lld "
                       "channels in dim 2",
                       (long long)c, (long long)c);
    for (int i = 2; i < x->ndim; i++) *inner *= x->shape[i];
  } else {
    *inner = ar_numel(x);
  }
  return AR_OK;
}

/* The job over x (contiguous) into y; with dy, the backward and its partials. */
static int run(ar_ctx *C, pau_job *J, int64_t numel) {
  int64_t nblocks;
  J->K = J->m + 1 + J->n;
  J->cols = J->nch > 1 && J->inner == 1;
  if (numel == 0) return AR_OK;
  if (J->cols) {
    J->nrows = numel / J->nch;
    J->gr = PAU_BLOCK / J->nch > 1 ? PAU_BLOCK / J->nch : 1;
    nblocks = (J->nrows + J->gr - 1) / J->gr;
    size_t nc = (size_t)(J->m + 1 + J->n) * (size_t)J->nch;
    J->at = malloc(nc * sizeof(float));
    if (!J->at) return ar_seterr(C, AR_ENOMEM, "out of memory (PAU coefficients)");
    J->bt = J->at + (size_t)(J->m + 1) * (size_t)J->nch;
    for (int64_t c = 0; c < J->nch; c++) {
      for (int k = 0; k <= J->m; k++) J->at[k * J->nch + c] = J->a[c * (J->m + 1) + k];
      for (int k = 0; k < J->n; k++) J->bt[k * J->nch + c] = J->b[c * J->n + k];
    }
  } else {
    J->bpr = J->inner ? (J->inner + PAU_BLOCK - 1) / PAU_BLOCK : 0;
    nblocks = (numel / J->inner) * J->bpr;
  }
  if (J->dy) {
    size_t per = (size_t)J->K * (size_t)(J->cols ? J->nch : 1);
    J->part = malloc((size_t)nblocks * per * sizeof(double));
    if (!J->part) {
      free(J->at);
      J->at = NULL;
      return ar_seterr(C, AR_ENOMEM, "out of memory (PAU partial sums)");
    }
  }
  int64_t per_block = numel / nblocks, grain = PAU_PAR_GRAIN / (per_block ? per_block : 1);
  ar_parallel_for(C, nblocks, grain < 1 ? 1 : grain, run_blocks, J);
  return AR_OK;
}

int act_pau_forward(ar_ctx *C, ar_tensor *out, const ar_tensor *x, const ar_tensor *a,
                    const ar_tensor *b) {
  out->st = NULL;
  pau_job J = {.L = pau_level_now()};
  int rc = check(C, x, a, b, &J.m, &J.n, &J.nch, &J.inner);
  if (rc) return rc;
  ar_tensor xc, ac, bc;
  xc.st = ac.st = bc.st = NULL;
  if ((rc = ar_contiguous(C, &xc, x)) || (rc = ar_contiguous(C, &ac, a)) ||
      (rc = ar_contiguous(C, &bc, b)) || (rc = ar_empty(C, out, x->ndim, x->shape)))
    goto done;
  J.x = ar_data(&xc), J.a = ar_data(&ac), J.b = ar_data(&bc), J.y = ar_data(out);
  rc = run(C, &J, ar_numel(x));
  free(J.at);
  if (rc) ar_release(out);
done:
  if (xc.st) ar_release(&xc);
  if (ac.st) ar_release(&ac);
  if (bc.st) ar_release(&bc);
  return rc;
}

int act_pau_backward(ar_ctx *C, ar_tensor *dx, ar_tensor *da, ar_tensor *db, const ar_tensor *x,
                     const ar_tensor *a, const ar_tensor *b, const ar_tensor *dy) {
  dx->st = da->st = db->st = NULL;
  pau_job J = {.L = pau_level_now()};
  int rc = check(C, x, a, b, &J.m, &J.n, &J.nch, &J.inner);
  if (rc) return rc;
  if (!ar_same_shape(x, dy)) return ar_seterr(C, AR_ESHAPE, "dy must have x's shape");
  ar_tensor xc, ac, bc, gc;
  xc.st = ac.st = bc.st = gc.st = NULL;
  if ((rc = ar_contiguous(C, &xc, x)) || (rc = ar_contiguous(C, &ac, a)) ||
      (rc = ar_contiguous(C, &bc, b)) || (rc = ar_contiguous(C, &gc, dy)) ||
      (rc = ar_empty(C, dx, x->ndim, x->shape)) || (rc = ar_empty(C, da, a->ndim, a->shape)) ||
      (rc = ar_empty(C, db, b->ndim, b->shape)))
    goto done;
  J.x = ar_data(&xc), J.a = ar_data(&ac), J.b = ar_data(&bc), J.dy = ar_data(&gc);
  J.y = ar_data(dx);
  int64_t numel = ar_numel(x);
  if ((rc = run(C, &J, numel))) goto done;
  /* the partials in block order */
  int K = J.K, m1 = J.m + 1;
  double *acc = calloc((size_t)K * (size_t)J.nch, sizeof(double));
  if (!acc) {
    rc = ar_seterr(C, AR_ENOMEM, "out of memory (PAU gradients)");
    goto done;
  }
  if (numel && !J.cols) {
    int64_t nblocks = (numel / J.inner) * J.bpr;
    for (int64_t id = 0; id < nblocks; id++) {
      int64_t c = J.nch > 1 ? (id / J.bpr) % J.nch : 0;
      for (int k = 0; k < K; k++) acc[c * K + k] += J.part[id * K + k];
    }
  } else if (numel) {
    int64_t w = J.nch, nblocks = (J.nrows + J.gr - 1) / J.gr;
    for (int64_t id = 0; id < nblocks; id++)
      for (int k = 0; k < K; k++)
        for (int64_t c = 0; c < w; c++) acc[c * K + k] += J.part[(id * K + k) * w + c];
  }
  float *pa = ar_data(da), *pb = ar_data(db);
  for (int64_t c = 0; c < J.nch; c++) {
    for (int k = 0; k < m1; k++) pa[c * m1 + k] = (float)acc[c * K + k];
    for (int k = 0; k < J.n; k++) pb[c * J.n + k] = (float)acc[c * K + m1 + k];
  }
  free(acc);
done:
  free(J.at);
  free(J.part);
  if (rc) {
    if (dx->st) ar_release(dx);
    if (da->st) ar_release(da);
    if (db->st) ar_release(db);
  }
  if (xc.st) ar_release(&xc);
  if (ac.st) ar_release(&ac);
  if (bc.st) ar_release(&bc);
  if (gc.st) ar_release(&gc);
  return rc;
}
