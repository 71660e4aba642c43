/* Reductions: sum, mean, var, std, norm, prod, max, min (and arg-max/min along a dim).
 *
 * Every reduction is planned the same way: the kept dims are the outputs, the reduced
 * dims form a "reduce space" of R elements per output. Work is cut into items of
 * (output group, block of the reduce space); the block size depends on the shape only,
 * each item writes its own double partial and partials are combined in block order
 * afterwards. So the summation order, hence every bit of the result, is the same
 * whatever the number of threads.
 *
 * Two kernel shapes cover the fast paths:
 * - rows: the reduce space's inner run is scanned per output (unit stride: vectorised
 *   with many double accumulators; otherwise a strided loop). Full reductions and
 *   reductions over the last dim land here.
 * - columns: when the reduced dim is not the innermost but the output's last dim has
 *   unit stride, input rows are streamed and added into a row of double accumulators,
 *   vectorised across the output (column sums), instead of gathering one strided
 *   element at a time.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/rd_level.h"

#define RD_BLK ((int64_t)1 << 15)     /* row kernel: reduce elements per partial */
#define RD_COL_BLK ((int64_t)1 << 20) /* column kernel: elements per partial */
#define RD_TILE 4096                  /* output columns per group in column reductions */
#define RD_ATILE 1024                 /* the same for arg max/min (values + indices on the stack) */
#define RD_COL_MIN 8                  /* narrower outputs use the strided row kernel */
#define RD_PAR_ELEMS ((int64_t)1 << 17) /* elements per thread worth waking a worker */

/* The per-element kernels of every op are in rd_kernels.h, one set per SIMD level. */

static const rd_level *rd_pick(int level)
{
  switch (level) {
#ifdef ACTRUN_X86_LEVELS
  case AR_SIMD_AVX512: return &rd_level_avx512;
  case AR_SIMD_AVX2: return &rd_level_avx2;
#endif
  default: return &rd_level_baseline;
  }
}

static double rd_identity(rd_kop k)
{
  switch (k) {
  case K_PROD: return 1;
  case K_MAX: return -INFINITY;
  case K_MIN:
  case K_MINABS: return INFINITY;
  default: return 0;
  }
}

static double rd_combine(rd_kop k, double a, double b)
{
  switch (k) {
  case K_PROD: return a * b;
  case K_MAX:
  case K_MAXABS: return (isnan(a) || isnan(b)) ? NAN : (b > a ? b : a);
  case K_MIN:
  case K_MINABS: return (isnan(a) || isnan(b)) ? NAN : (b < a ? b : a);
  default: return a + b;
  }
}

/* ---------- geometry ---------- */

typedef struct {
  /* kept dims, row-major order of the output, with their strides in the input */
  int on;
  int64_t osz[AR_MAXDIM], ost[AR_MAXDIM];
  int64_t O; /* outputs */
  /* reduced dims, innermost (smallest stride) last */
  int rn;
  int64_t rsz[AR_MAXDIM], rst[AR_MAXDIM];
  int64_t R; /* elements per output */
  /* output shape as allocated */
  int ondim;
  int64_t oshape[AR_MAXDIM];
} rd_geom;

/* Drops size-1 dims and merges neighbours that are one run in memory. */
static int rd_coalesce(int n, int64_t *sz, int64_t *st)
{
  int k = 0;
  for (int i = 0; i < n; i++) {
    if (sz[i] == 1) continue;
    if (k > 0 && st[k - 1] == st[i] * sz[i]) {
      sz[k - 1] *= sz[i];
      st[k - 1] = st[i];
    } else {
      sz[k] = sz[i];
      st[k] = st[i];
      k++;
    }
  }
  return k;
}

static inline uint64_t rd_key(int64_t st) { return st == 0 ? UINT64_MAX : (uint64_t)st; }

/* dim: 0-based or -1 for everything. Validates and fills the output shape and the
 * coalesced kept/reduced dims. */
static int rd_geometry(ar_ctx *C, const ar_tensor *a, int dim, bool keepdim, rd_geom *G)
{
  int nd = a->ndim;
  if (dim < -1 || dim >= (nd > 0 ? nd : 1))
    return ar_seterr(C, AR_ERANGE, "dimension %d out of range for a %d-D tensor", dim + 1, nd);
  if (nd == 0) dim = -1; /* a scalar: dim 0 means all of it */
  memset(G, 0, sizeof *G);
  G->O = 1;
  G->R = 1;
  if (dim < 0) {
    int64_t sz[AR_MAXDIM] = {0}, st[AR_MAXDIM] = {0};
    int k = 0;
    for (int i = 0; i < nd; i++) {
      G->R *= a->shape[i];
      if (a->shape[i] == 1) continue;
      sz[k] = a->shape[i];
      st[k] = a->stride[i];
      k++;
    }
    /* innermost = smallest stride, so transposed views still scan unit-stride runs;
     * broadcast (stride 0) dims go outermost */
    for (int i = 1; i < k; i++)
      for (int j = i; j > 0 && rd_key(st[j - 1]) < rd_key(st[j]); j--) {
        int64_t t = st[j]; st[j] = st[j - 1]; st[j - 1] = t;
        t = sz[j]; sz[j] = sz[j - 1]; sz[j - 1] = t;
      }
    G->rn = rd_coalesce(k, sz, st);
    memcpy(G->rsz, sz, sizeof sz);
    memcpy(G->rst, st, sizeof st);
    G->on = 0;
    if (keepdim && nd > 0) {
      G->ondim = nd;
      for (int i = 0; i < nd; i++) G->oshape[i] = 1;
    } else {
      G->ondim = 1;
      G->oshape[0] = 1;
    }
  } else {
    int k = 0;
    for (int i = 0; i < nd; i++) {
      if (i == dim) continue;
      G->osz[k] = a->shape[i];
      G->ost[k] = a->stride[i];
      G->O *= a->shape[i];
      k++;
    }
    G->on = rd_coalesce(k, G->osz, G->ost);
    G->R = a->shape[dim];
    G->rn = 1;
    G->rsz[0] = a->shape[dim];
    G->rst[0] = a->stride[dim];
    G->ondim = 0;
    for (int i = 0; i < nd; i++) {
      if (i == dim && !keepdim) continue;
      G->oshape[G->ondim++] = i == dim ? 1 : a->shape[i];
    }
    /* reducing a 1-D tensor along its dim gives {1}, like a full reduction */
    if (G->ondim == 0) {
      G->ondim = 1;
      G->oshape[0] = 1;
    }
  }
  if (G->rn == 0) { /* all sizes 1 (or none): one element */
    G->rn = 1;
    G->rsz[0] = 1;
    G->rst[0] = 1;
  }
  return AR_OK;
}

/* Input offset of output (or reduce-row) number g over dims sz/st (row-major). */
static inline int64_t rd_off(int n, const int64_t *sz, const int64_t *st, int64_t g)
{
  if (n == 0) return 0;
  if (n == 1) return g * st[0];
  int64_t off = 0;
  for (int i = n - 1; i >= 0; i--) {
    off += (g % sz[i]) * st[i];
    g /= sz[i];
  }
  return off;
}

/* ---------- the accumulate plan ---------- */

typedef struct {
  rd_kop k;
  double p;
  const rd_level *L;    /* the level's kernels, picked once per reduction */
  const float *x;
  const rd_geom *G;
  int on;               /* kept dims used for the group base (columns: without the last) */
  bool col;
  int64_t I, ntile;     /* columns: width of the last kept dim, tiles across it */
  int64_t R0, s0;       /* inner run of the reduce space */
  int64_t ngroups, width, nb, rb;
  const double *cen;    /* per output, or NULL */
  double *acc;          /* per output */
  double *part;         /* ngroups * nb * width, when nb > 1 */
} rd_plan;

static void rd_items(void *arg, int64_t lo, int64_t hi)
{
  const rd_plan *P = arg;
  const rd_geom *G = P->G;
  const rd_segfn seg = P->L->seg[P->k];
  const rd_colfn colf = P->L->col[P->k];
  const double id = rd_identity(P->k);

  if (!P->col && P->nb == 1 && G->rn == 1) {
    /* one run per output (rows, or a strided dim): no segment bookkeeping */
    for (int64_t g = lo; g < hi; g++)
      P->acc[g] = seg(P->x + rd_off(P->on, G->osz, G->ost, g), G->R, P->s0,
                      P->cen ? P->cen[g] : 0, P->p);
    return;
  }
  for (int64_t w = lo; w < hi; w++) {
    int64_t g = w / P->nb, b = w % P->nb;
    int64_t r0 = b * P->rb, r1 = r0 + P->rb < G->R ? r0 + P->rb : G->R;
    if (!P->col) {
      int64_t base = rd_off(P->on, G->osz, G->ost, g);
      double c = P->cen ? P->cen[g] : 0;
      double a = id;
      for (int64_t r = r0; r < r1;) {
        /* one segment: the rest of the current inner run, or of the block */
        int64_t row = r / P->R0, j = r - row * P->R0;
        int64_t len = P->R0 - j < r1 - r ? P->R0 - j : r1 - r;
        int64_t off = base + rd_off(G->rn - 1, G->rsz, G->rst, row) + j * P->s0;
        a = rd_combine(P->k, a, seg(P->x + off, len, P->s0, c, P->p));
        r += len;
      }
      if (P->nb > 1)
        P->part[w] = a;
      else
        P->acc[g] = a;
    } else {
      /* whole rows of the tile, streamed, into a buffer that stays in L1 */
      int64_t q = g / P->ntile, c0 = (g % P->ntile) * RD_TILE;
      int64_t wd = P->I - c0 < RD_TILE ? P->I - c0 : RD_TILE;
      int64_t base = rd_off(P->on, G->osz, G->ost, q) + c0, obase = q * P->I + c0;
      const double *cen = P->cen ? P->cen + obase : NULL;
      double *dst = P->nb > 1 ? P->part + w * P->width : P->acc + obase;
      for (int64_t i = 0; i < wd; i++) dst[i] = id;
      colf(dst, P->x + base + r0 * P->s0, P->s0, r1 - r0, wd, cen, P->p);
    }
  }
}

/* Accumulates op k over the reduce space of every output into acc[O]. */
static int rd_run(ar_ctx *C, const rd_level *L, const ar_tensor *a, const rd_geom *G,
                  rd_kop k, double p, const double *cen, double *acc)
{
  rd_plan P = {.k = k, .p = p, .L = L, .x = ar_data(a), .G = G, .cen = cen, .acc = acc};
  P.R0 = G->rsz[G->rn - 1];
  P.s0 = G->rst[G->rn - 1];
  P.on = G->on;
  /* columns only for a single reduced dim with a wide unit-stride output */
  P.col = G->rn == 1 && G->R > 1 && P.s0 != 1 && G->on > 0 && G->ost[G->on - 1] == 1 &&
          G->osz[G->on - 1] >= RD_COL_MIN;
  int64_t per_item;
  if (P.col) {
    P.on = G->on - 1;
    P.I = G->osz[G->on - 1];
    P.ntile = (P.I + RD_TILE - 1) / RD_TILE;
    P.ngroups = (G->O / P.I) * P.ntile;
    int64_t wd = P.I < RD_TILE ? P.I : RD_TILE;
    P.width = wd;
    P.rb = (RD_COL_BLK + wd - 1) / wd;
    per_item = wd;
  } else {
    P.ngroups = G->O;
    P.width = 1;
    P.rb = RD_BLK;
    per_item = 1;
  }
  P.nb = G->R > P.rb ? (G->R + P.rb - 1) / P.rb : 1;
  per_item *= G->R < P.rb ? G->R : P.rb;
  if (P.nb > 1) {
    P.part = malloc((size_t)(P.ngroups * P.nb * P.width) * sizeof(double));
    if (!P.part) return ar_seterr(C, AR_ENOMEM, "out of memory for reduction partials");
  }
  int64_t grain = RD_PAR_ELEMS / (per_item > 0 ? per_item : 1);
  ar_parallel_for(C, P.ngroups * P.nb, grain > 0 ? grain : 1, rd_items, &P);
  if (P.nb > 1) {
    /* combine block partials in block order: the fixed order that makes it deterministic */
    for (int64_t g = 0; g < P.ngroups; g++) {
      const double *pg = P.part + g * P.nb * P.width;
      int64_t wd = 1, obase = g;
      if (P.col) {
        int64_t q = g / P.ntile, c0 = (g % P.ntile) * RD_TILE;
        wd = P.I - c0 < RD_TILE ? P.I - c0 : RD_TILE;
        obase = q * P.I + c0;
      }
      for (int64_t i = 0; i < wd; i++) acc[obase + i] = pg[i];
      for (int64_t b = 1; b < P.nb; b++)
        for (int64_t i = 0; i < wd; i++)
          acc[obase + i] = rd_combine(k, acc[obase + i], pg[b * P.width + i]);
    }
    free(P.part);
  }
  return AR_OK;
}

static const char *rd_name(ar_redop op)
{
  switch (op) {
  case AR_SUM: return "sum";
  case AR_MEAN: return "mean";
  case AR_VAR: return "var";
  case AR_STD: return "std";
  case AR_NORM: return "norm";
  case AR_PROD: return "prod";
  case AR_RMAX: return "max";
  case AR_RMIN: return "min";
  }
  return "?";
}

int ar_reduce(ar_ctx *C, ar_redop op, ar_tensor *out, const ar_tensor *a, int dim,
              bool keepdim, double p, int correction)
{
  out->st = NULL;
  if ((int)op < AR_SUM || (int)op > AR_RMIN)
    return ar_seterr(C, AR_EARG, "unknown reduction %d", (int)op);
  if (op == AR_NORM && isnan(p)) return ar_seterr(C, AR_EARG, "norm order is NaN");
  rd_geom G;
  int rc = rd_geometry(C, a, dim, keepdim, &G);
  if (rc) return rc;

  rd_kop k = K_SUM;
  switch (op) {
  case AR_SUM:
  case AR_MEAN: k = K_SUM; break;
  case AR_VAR:
  case AR_STD: k = K_SQDEV; break;
  case AR_PROD: k = K_PROD; break;
  case AR_RMAX: k = K_MAX; break;
  case AR_RMIN: k = K_MIN; break;
  case AR_NORM:
    if (p == 2) k = K_SQ;
    else if (p == 1) k = K_ABS;
    else if (p == INFINITY) k = K_MAXABS;
    else if (p == -INFINITY) k = K_MINABS;
    else if (p == 0) k = K_NNZ;
    else k = K_POW;
    break;
  }
  if (G.R == 0 && (k == K_MAX || k == K_MIN || k == K_MINABS))
    return ar_seterr(C, AR_EARG, "cannot take %s of an empty tensor",
                     op == AR_NORM ? "the -inf norm" : rd_name(op));

  rc = ar_empty(C, out, G.ondim, G.oshape);
  if (rc) return rc;
  if (G.O == 0) return AR_OK;

  double *acc = malloc((size_t)G.O * sizeof(double) * (k == K_SQDEV ? 2 : 1));
  if (!acc) {
    ar_release(out);
    out->st = NULL;
    return ar_seterr(C, AR_ENOMEM, "out of memory for reduction");
  }
  double *cen = NULL;
  const double R = (double)G.R;
  const rd_level *L = rd_pick(ar_simd_level());
  if (G.R == 0) {
    for (int64_t o = 0; o < G.O; o++) acc[o] = rd_identity(k);
  } else {
    if (k == K_SQDEV) {
      /* two passes: the mean first, then squared deviations from it */
      cen = acc + G.O;
      rc = rd_run(C, L, a, &G, K_SUM, 0, NULL, cen);
      for (int64_t o = 0; !rc && o < G.O; o++) cen[o] /= R;
    }
    if (!rc) rc = rd_run(C, L, a, &G, k, p, cen, acc);
  }
  if (rc) {
    free(acc);
    ar_release(out);
    out->st = NULL;
    return rc;
  }

  float *y = ar_data(out);
  /* var divides by max(0, N - correction), as PyTorch: 0/0 -> NaN, s/0 -> inf */
  double div = R - correction > 0 ? R - correction : 0;
  for (int64_t o = 0; o < G.O; o++) {
    double s = acc[o];
    switch (op) {
    case AR_MEAN: s = s / R; break;
    case AR_VAR: s = s / div; break;
    case AR_STD: s = sqrt(s / div); break;
    case AR_NORM:
      if (k == K_SQ) s = sqrt(s);
      else if (k == K_POW) s = pow(s, 1.0 / p);
      break;
    default: break;
    }
    y[o] = (float)s;
  }
  free(acc);
  return AR_OK;
}

/* ---------- values and indices of the max/min along a dim ---------- */

typedef struct {
  const rd_level *L;
  const float *x;
  const rd_geom *G;
  bool is_max, col;
  int on;
  int64_t I, ntile, s0;
  float *vals, *idx;
} rd_argplan;

#define RD_ARG_ROWS ((int64_t)1 << 30) /* rows per call of a column kernel (int32 rows) */

static void rd_arg_items(void *arg, int64_t lo, int64_t hi)
{
  const rd_argplan *P = arg;
  const rd_geom *G = P->G;
  const rd_argfn argf = P->L->arg[P->is_max];
  const rd_argcolfn colf = P->L->argcol[P->is_max];
  float best[RD_ATILE], cb[RD_ATILE];
  int32_t bi[RD_ATILE], ci[RD_ATILE];
  int64_t bi64[RD_ATILE];
  for (int64_t g = lo; g < hi; g++) {
    if (!P->col) {
      const float *x = P->x + rd_off(P->on, G->osz, G->ost, g);
      int64_t i = argf(x, G->R, P->s0);
      P->vals[g] = x[i * P->s0];
      if (P->idx) P->idx[g] = (float)(i + 1);
      continue;
    }
    int64_t q = g / P->ntile, c0 = (g % P->ntile) * RD_ATILE;
    int64_t wd = P->I - c0 < RD_ATILE ? P->I - c0 : RD_ATILE;
    const float *x = P->x + rd_off(P->on, G->osz, G->ost, q) + c0;
    int64_t nr = G->R < RD_ARG_ROWS ? G->R : RD_ARG_ROWS;
    colf(best, bi, x, P->s0, nr, wd);
    for (int64_t i = 0; i < wd; i++) bi64[i] = bi[i];
    /* more rows than int32 counts (never in practice): later chunks merged in order */
    for (int64_t r0 = nr; r0 < G->R; r0 += RD_ARG_ROWS) {
      int64_t n = G->R - r0 < RD_ARG_ROWS ? G->R - r0 : RD_ARG_ROWS;
      colf(cb, ci, x + r0 * P->s0, P->s0, n, wd);
      for (int64_t i = 0; i < wd; i++) {
        bool nb = best[i] != best[i], nc = cb[i] != cb[i];
        bool take = !nb && (nc || (P->is_max ? cb[i] > best[i] : cb[i] < best[i]));
        if (take) {
          best[i] = cb[i];
          bi64[i] = r0 + ci[i];
        }
      }
    }
    int64_t obase = q * P->I + c0;
    memcpy(P->vals + obase, best, (size_t)wd * sizeof(float));
    if (P->idx)
      for (int64_t i = 0; i < wd; i++) P->idx[obase + i] = (float)(bi64[i] + 1);
  }
}

int ar_maxmin_dim(ar_ctx *C, bool is_max, ar_tensor *vals, ar_tensor *idx,
                  const ar_tensor *a, int dim, bool keepdim)
{
  vals->st = NULL;
  if (idx) idx->st = NULL;
  rd_geom G;
  int rc = rd_geometry(C, a, dim, keepdim, &G);
  if (rc) return rc;
  if (G.R == 0)
    return ar_seterr(C, AR_EARG, "cannot take %s of an empty tensor", is_max ? "max" : "min");

  /* a flat index needs row-major order: scan a contiguous copy when a is not */
  ar_tensor src;
  bool flat = dim < 0 || a->ndim == 0;
  if (flat && !ar_is_contiguous(a)) {
    rc = ar_contiguous(C, &src, a);
    if (rc) return rc;
  } else {
    ar_share(&src, a);
  }
  if (flat) {
    G.rn = 1;
    G.rsz[0] = G.R;
    G.rst[0] = 1;
  }

  rc = ar_empty(C, vals, G.ondim, G.oshape);
  if (!rc && idx) rc = ar_empty(C, idx, G.ondim, G.oshape);
  if (rc) {
    ar_release(vals);
    vals->st = NULL;
    ar_release(&src);
    return rc;
  }
  if (G.O > 0) {
    rd_argplan P = {.L = rd_pick(ar_simd_level()), .x = ar_data(&src), .G = &G,
                    .is_max = is_max, .on = G.on,
                    .s0 = G.rst[0], .vals = ar_data(vals), .idx = idx ? ar_data(idx) : NULL};
    P.col = !flat && G.R > 1 && P.s0 != 1 && G.on > 0 && G.ost[G.on - 1] == 1 &&
            G.osz[G.on - 1] >= RD_COL_MIN;
    int64_t ngroups = G.O, per = G.R;
    if (P.col) {
      P.on = G.on - 1;
      P.I = G.osz[G.on - 1];
      P.ntile = (P.I + RD_ATILE - 1) / RD_ATILE;
      ngroups = (G.O / P.I) * P.ntile;
      per = G.R * (P.I < RD_ATILE ? P.I : RD_ATILE);
    }
    int64_t grain = RD_PAR_ELEMS / per;
    ar_parallel_for(C, ngroups, grain > 0 ? grain : 1, rd_arg_items, &P);
  }
  ar_release(&src);
  return AR_OK;
}
