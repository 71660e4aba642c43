/* Indexing and ordering: randperm, index_select and its adjoint index_add, gather and its
 * adjoint scatter_add, sort / topk, cumsum (forward and reversed).
 *
 * Index tensors hold 1-based integers as floats (the binding's convention); they are
 * checked and converted to 0-based int64 once per call (load_index). The work is cut in
 * pieces that write disjoint parts of the output, each accumulating in a fixed order, so
 * the results are the same bits whatever the thread count:
 * - index_select / index_add / cumsum see their operands as {outer, n, inner} (contiguous)
 *   and split over outer rows and blocks of the inner dim;
 * - gather / scatter_add / sort work on fibers: the lines along `dim`, one per position of
 *   the other dims; a fiber of scatter_add writes only the output fiber at the same
 *   position. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/ctx.h"

/* inner elements per piece of the {outer, n, inner} splits */
#define IX_BLOCK 512

static void split3(const int64_t *shape, int ndim, int dim, int64_t *outer, int64_t *inner) {
  int64_t o = 1, i = 1;
  for (int d = 0; d < dim; d++) o *= shape[d];
  for (int d = dim + 1; d < ndim; d++) i *= shape[d];
  *outer = o, *inner = i;
}

static int64_t grain_for(int64_t per_item) {
  int64_t g = AR_PAR_GRAIN / (per_item > 0 ? per_item : 1);
  return g > 0 ? g : 1;
}

/* ---------- index tensors ---------- */

/* Every element of idx must be an integer in 1..size; position in the message is 1-based,
 * in row-major order. On success *out is a malloc'd 0-based copy (NULL when empty). */
static int load_index(ar_ctx *C, const ar_tensor *idx, int64_t size, int64_t **out) {
  *out = NULL;
  int64_t n = ar_numel(idx);
  if (n == 0) return AR_OK;
  int64_t *ix = malloc(sizeof(int64_t) * (size_t)n);
  if (!ix) return ar_seterr(C, AR_ENOMEM, "out of memory for an index of %lld entries", (long long)n);
  int64_t pos[AR_MAXDIM] = {0};
  bool dense = ar_is_contiguous(idx);
  const float *src = ar_data(idx);
  for (int64_t k = 0; k < n; k++) {
    int64_t off = 0;
    if (dense) {
      off = k;
    } else {
      for (int d = 0; d < idx->ndim; d++) off += pos[d] * idx->stride[d];
      for (int d = idx->ndim - 1; d >= 0; d--) {
        if (++pos[d] < idx->shape[d]) break;
        pos[d] = 0;
      }
    }
    float v = src[off];
    if (!(v == floorf(v))) {
      free(ix);
      return ar_seterr(C, AR_EARG, "expected integer indices, got %g at position %lld", (double)v,
                       (long long)(k + 1));
    }
    if (!(v >= 1 && (double)v <= (double)size)) {
      free(ix);
      if (size == 0)
        return ar_seterr(C, AR_ERANGE, "index %g at position %lld is out of range: the dim is empty",
                         (double)v, (long long)(k + 1));
      return ar_seterr(C, AR_ERANGE, "index %g at position %lld is out of range 1..%lld", (double)v,
                       (long long)(k + 1), (long long)size);
    }
    ix[k] = (int64_t)v - 1;
  }
  *out = ix;
  return AR_OK;
}

int ar_check_index(ar_ctx *C, const ar_tensor *idx, int64_t size) {
  int64_t *ix;
  int rc = load_index(C, idx, size, &ix);
  free(ix);
  return rc;
}

/* ---------- randperm: Fisher-Yates on the context's Philox stream ---------- */

int ar_randperm(ar_ctx *C, ar_tensor *out, int64_t n) {
  if (n < 0 || n > ((int64_t)1 << 24))
    return ar_seterr(C, AR_EARG, "expected 0 <= n <= 2^24 (exact in float32), got %lld",
                     (long long)n);
  int rc = ar_empty(C, out, 1, &n);
  if (rc) return rc;
  float *p = ar_data(out);
  for (int64_t i = 0; i < n; i++) p[i] = (float)(i + 1);
  if (n < 2) return AR_OK;
  /* step i (from n-1 down to 1) uses word i of the draws: a pure function of the seed */
  uint64_t key = ar_rng_key(C), first = ar_rng_reserve(C, (uint64_t)n);
  uint32_t w[4];
  uint64_t have = UINT64_MAX;
  for (int64_t i = n - 1; i >= 1; i--) {
    uint64_t c = first + (uint64_t)i / 4;
    if (c != have) ar_philox(key, c, w), have = c;
    int64_t j = (int64_t)(((uint64_t)w[i % 4] * (uint64_t)(i + 1)) >> 32); /* 0..i */
    float t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return AR_OK;
}

/* ---------- index_select and index_add ---------- */

typedef struct {
  const float *src;
  float *dst;
  const int64_t *ix;
  int64_t n, m, inner, nblk; /* n: size along dim of the source, m: index length */
  bool reverse;
} ix_job;

/* row r = (o, j) of the output: out[o, j, :] = a[o, ix[j], :] */
static void select_rows(void *arg, int64_t lo, int64_t hi) {
  const ix_job *J = arg;
  for (int64_t r = lo; r < hi; r++) {
    int64_t o = r / J->m, j = r % J->m;
    memcpy(J->dst + r * J->inner, J->src + (o * J->n + J->ix[j]) * J->inner,
           sizeof(float) * (size_t)J->inner);
  }
}

int ar_index_select(ar_ctx *C, ar_tensor *out, const ar_tensor *a, int dim,
                    const ar_tensor *idx) {
  out->st = NULL;
  if (dim < 0 || dim >= a->ndim)
    return ar_seterr(C, AR_EARG, "dim %d out of range for a %d-dim tensor", dim + 1, a->ndim);
  if (idx->ndim > 1)
    return ar_seterr(C, AR_ESHAPE, "expected a 1-D index, got %d dims", idx->ndim);
  int64_t *ix;
  int rc = load_index(C, idx, a->shape[dim], &ix);
  if (rc) return rc;
  int64_t shape[AR_MAXDIM], outer, inner, m = ar_numel(idx);
  memcpy(shape, a->shape, sizeof shape);
  shape[dim] = m;
  ar_tensor ac = {0};
  if ((rc = ar_empty(C, out, a->ndim, shape))) goto done;
  if (ar_numel(out) == 0) goto done;
  if ((rc = ar_contiguous(C, &ac, a))) goto done;
  split3(a->shape, a->ndim, dim, &outer, &inner);
  ix_job J = {ar_data(&ac), ar_data(out), ix, a->shape[dim], m, inner, 0, false};
  ar_parallel_for(C, outer * m, grain_for(inner), select_rows, &J);
done:
  if (ac.st) ar_release(&ac);
  if (rc && out->st) ar_release(out);
  free(ix);
  return rc;
}

/* piece t = (o, block b of inner): out[o, ix[j], blk] += g[o, j, blk] for j in order */
static void add_rows(void *arg, int64_t lo, int64_t hi) {
  const ix_job *J = arg;
  for (int64_t t = lo; t < hi; t++) {
    int64_t o = t / J->nblk, i0 = (t % J->nblk) * IX_BLOCK;
    int64_t len = J->inner - i0 < IX_BLOCK ? J->inner - i0 : IX_BLOCK;
    for (int64_t j = 0; j < J->m; j++) {
      const float *s = J->src + (o * J->m + j) * J->inner + i0;
      float *d = J->dst + (o * J->n + J->ix[j]) * J->inner + i0;
      for (int64_t i = 0; i < len; i++) d[i] += s[i];
    }
  }
}

int ar_index_add(ar_ctx *C, ar_tensor *out, const ar_tensor *g, int dim, const ar_tensor *idx,
                 int64_t size) {
  out->st = NULL;
  if (dim < 0 || dim >= g->ndim)
    return ar_seterr(C, AR_EARG, "dim %d out of range for a %d-dim tensor", dim + 1, g->ndim);
  if (idx->ndim > 1 || ar_numel(idx) != g->shape[dim])
    return ar_seterr(C, AR_ESHAPE, "expected a 1-D index of %lld entries", (long long)g->shape[dim]);
  int64_t *ix;
  int rc = load_index(C, idx, size, &ix);
  if (rc) return rc;
  int64_t shape[AR_MAXDIM], outer, inner;
  memcpy(shape, g->shape, sizeof shape);
  shape[dim] = size;
  ar_tensor gc = {0};
  if ((rc = ar_empty(C, out, g->ndim, shape)) || (rc = ar_fill(C, out, 0.0f))) goto done;
  if (ar_numel(g) == 0) goto done;
  if ((rc = ar_contiguous(C, &gc, g))) goto done;
  split3(g->shape, g->ndim, dim, &outer, &inner);
  int64_t nblk = (inner + IX_BLOCK - 1) / IX_BLOCK;
  ix_job J = {ar_data(&gc), ar_data(out), ix, size, g->shape[dim], inner, nblk, false};
  int64_t per = g->shape[dim] * (inner < IX_BLOCK ? inner : IX_BLOCK);
  ar_parallel_for(C, outer * nblk, grain_for(per), add_rows, &J);
done:
  if (gc.st) ar_release(&gc);
  if (rc && out->st) ar_release(out);
  free(ix);
  return rc;
}

/* ---------- cumsum: running sums in double along dim, forward or from the end ---------- */

static void cumsum_rows(void *arg, int64_t lo, int64_t hi) {
  const ix_job *J = arg;
  double acc[IX_BLOCK];
  for (int64_t t = lo; t < hi; t++) {
    int64_t o = t / J->nblk, i0 = (t % J->nblk) * IX_BLOCK;
    int64_t len = J->inner - i0 < IX_BLOCK ? J->inner - i0 : IX_BLOCK;
    for (int64_t i = 0; i < len; i++) acc[i] = 0;
    for (int64_t s = 0; s < J->n; s++) {
      int64_t j = J->reverse ? J->n - 1 - s : s;
      int64_t off = (o * J->n + j) * J->inner + i0;
      for (int64_t i = 0; i < len; i++) {
        acc[i] += J->src[off + i];
        J->dst[off + i] = (float)acc[i];
      }
    }
  }
}

int ar_cumsum(ar_ctx *C, ar_tensor *out, const ar_tensor *a, int dim, bool reverse) {
  out->st = NULL;
  if (dim < 0 || dim >= a->ndim)
    return ar_seterr(C, AR_EARG, "dim %d out of range for a %d-dim tensor", dim + 1, a->ndim);
  ar_tensor ac = {0};
  int rc = ar_empty(C, out, a->ndim, a->shape);
  if (rc || ar_numel(a) == 0) return rc;
  if ((rc = ar_contiguous(C, &ac, a))) {
    ar_release(out);
    return rc;
  }
  int64_t outer, inner;
  split3(a->shape, a->ndim, dim, &outer, &inner);
  int64_t nblk = (inner + IX_BLOCK - 1) / IX_BLOCK;
  ix_job J = {ar_data(&ac), ar_data(out), NULL, a->shape[dim], 0, inner, nblk, reverse};
  int64_t per = a->shape[dim] * (inner < IX_BLOCK ? inner : IX_BLOCK);
  ar_parallel_for(C, outer * nblk, grain_for(per), cumsum_rows, &J);
  ar_release(&ac);
  return AR_OK;
}

/* ---------- fibers: gather, scatter_add, sort ---------- */

/* Fiber f of a shape along dim: offsets of its first element in up to 3 stride sets. */
typedef struct {
  int ndim, dim;
  int64_t shape[AR_MAXDIM];
  int nops;
  int64_t base[3];
  int64_t stride[3][AR_MAXDIM];
} fibers;

static void fiber_init(fibers *F, int ndim, const int64_t *shape, int dim) {
  memset(F, 0, sizeof *F);
  F->ndim = ndim, F->dim = dim;
  memcpy(F->shape, shape, sizeof(int64_t) * (size_t)ndim);
}

static void fiber_add(fibers *F, int64_t base, const int64_t *stride) {
  F->base[F->nops] = base;
  memcpy(F->stride[F->nops], stride, sizeof(int64_t) * (size_t)F->ndim);
  F->nops++;
}

static int64_t fiber_count(const fibers *F) {
  int64_t n = 1;
  for (int d = 0; d < F->ndim; d++)
    if (d != F->dim) n *= F->shape[d];
  return n;
}

static void fiber_offsets(const fibers *F, int64_t f, int64_t *off) {
  for (int k = 0; k < F->nops; k++) off[k] = F->base[k];
  for (int d = F->ndim - 1; d >= 0; d--) {
    if (d == F->dim) continue;
    int64_t c = f % F->shape[d];
    f /= F->shape[d];
    for (int k = 0; k < F->nops; k++) off[k] += c * F->stride[k][d];
  }
}

static void contiguous_strides(int ndim, const int64_t *shape, int64_t *stride) {
  int64_t n = 1;
  for (int d = ndim - 1; d >= 0; d--) stride[d] = n, n *= shape[d];
}

typedef struct {
  fibers F;
  const float *src; /* gather: a; scatter: g (through strides, from storage data) */
  float *dst;       /* from storage data */
  const int64_t *ix;
  int64_t m;        /* fiber length (the index's size along dim) */
} fb_job;

/* ops: 0 = out (contiguous, idx's shape), 1 = a, 2 = the index (contiguous copy) */
static void gather_fibers(void *arg, int64_t lo, int64_t hi) {
  const fb_job *J = arg;
  int dim = J->F.dim;
  int64_t so = J->F.stride[0][dim], sa = J->F.stride[1][dim], si = J->F.stride[2][dim];
  for (int64_t f = lo; f < hi; f++) {
    int64_t off[3];
    fiber_offsets(&J->F, f, off);
    for (int64_t j = 0; j < J->m; j++)
      J->dst[off[0] + j * so] = J->src[off[1] + J->ix[off[2] + j * si] * sa];
  }
}

/* idx must have a's ndim and fit inside a on the other dims (PyTorch's rule). */
static int check_gather_shape(ar_ctx *C, const int64_t *ashape, int andim, int dim,
                              const ar_tensor *idx) {
  if (idx->ndim != andim)
    return ar_seterr(C, AR_ESHAPE, "expected an index with %d dims, got %d", andim, idx->ndim);
  for (int d = 0; d < andim; d++)
    if (d != dim && idx->shape[d] > ashape[d])
      return ar_seterr(C, AR_ESHAPE,
                       "index size %lld at dim %d exceeds the tensor's size %lld there",
                       (long long)idx->shape[d], d + 1, (long long)ashape[d]);
  return AR_OK;
}

int ar_gather(ar_ctx *C, ar_tensor *out, const ar_tensor *a, int dim, const ar_tensor *idx) {
  out->st = NULL;
  if (dim < 0 || dim >= a->ndim)
    return ar_seterr(C, AR_EARG, "dim %d out of range for a %d-dim tensor", dim + 1, a->ndim);
  int rc = check_gather_shape(C, a->shape, a->ndim, dim, idx);
  if (rc) return rc;
  int64_t *ix;
  if ((rc = load_index(C, idx, a->shape[dim], &ix))) return rc;
  if ((rc = ar_empty(C, out, idx->ndim, idx->shape)) || ar_numel(out) == 0) goto done;
  fb_job J = {.src = a->st->data, .dst = out->st->data, .ix = ix, .m = idx->shape[dim]};
  int64_t cs[AR_MAXDIM];
  contiguous_strides(idx->ndim, idx->shape, cs);
  fiber_init(&J.F, idx->ndim, idx->shape, dim);
  fiber_add(&J.F, out->offset, out->stride);
  fiber_add(&J.F, a->offset, a->stride);
  fiber_add(&J.F, 0, cs);
  ar_parallel_for(C, fiber_count(&J.F), grain_for(J.m), gather_fibers, &J);
done:
  if (rc && out->st) ar_release(out);
  free(ix);
  return rc;
}

/* ops: 0 = out (contiguous, the given shape), 1 = g (idx's shape), 2 = the index */
static void scatter_fibers(void *arg, int64_t lo, int64_t hi) {
  const fb_job *J = arg;
  int dim = J->F.dim;
  int64_t so = J->F.stride[0][dim], sg = J->F.stride[1][dim], si = J->F.stride[2][dim];
  for (int64_t f = lo; f < hi; f++) {
    int64_t off[3];
    fiber_offsets(&J->F, f, off);
    for (int64_t j = 0; j < J->m; j++)
      J->dst[off[0] + J->ix[off[2] + j * si] * so] += J->src[off[1] + j * sg];
  }
}

int ar_scatter_add(ar_ctx *C, ar_tensor *out, const ar_tensor *g, int dim, const ar_tensor *idx,
                   int ndim, const int64_t *shape) {
  out->st = NULL;
  if (dim < 0 || dim >= ndim)
    return ar_seterr(C, AR_EARG, "dim %d out of range for a %d-dim tensor", dim + 1, ndim);
  int rc = check_gather_shape(C, shape, ndim, dim, idx);
  if (rc) return rc;
  if (!ar_same_shape(g, idx))
    return ar_seterr(C, AR_ESHAPE, "the source must have the index's shape");
  int64_t *ix;
  if ((rc = load_index(C, idx, shape[dim], &ix))) return rc;
  if ((rc = ar_empty(C, out, ndim, shape)) || (rc = ar_fill(C, out, 0.0f))) goto done;
  if (ar_numel(idx) == 0) goto done;
  fb_job J = {.src = g->st->data, .dst = out->st->data, .ix = ix, .m = idx->shape[dim]};
  int64_t cs[AR_MAXDIM];
  contiguous_strides(idx->ndim, idx->shape, cs);
  fiber_init(&J.F, idx->ndim, idx->shape, dim);
  fiber_add(&J.F, out->offset, out->stride);
  fiber_add(&J.F, g->offset, g->stride);
  fiber_add(&J.F, 0, cs);
  ar_parallel_for(C, fiber_count(&J.F), grain_for(J.m), scatter_fibers, &J);
done:
  if (rc && out->st) ar_release(out);
  free(ix);
  return rc;
}

/* ---------- sort, topk ---------- */

/* Whether x goes strictly before y: ascending with NaN greatest (after everything), or
 * descending with NaN first. Equal keys are never "before": the merge keeps them in input
 * order (stable). */
static inline bool before(float x, float y, bool desc) {
  if (desc) return !isnan(y) && (isnan(x) || x > y);
  return !isnan(x) && (isnan(y) || x < y);
}

/* Stable bottom-up merge sort of positions p[0..n) by key v[p[.]]; tmp has room for n. */
static void merge_sort(const float *v, int64_t *p, int64_t *tmp, int64_t n, bool desc) {
  /* runs of 16 by insertion sort (stable), then merges of doubling width */
  const int64_t R = 16;
  for (int64_t s = 0; s < n; s += R) {
    int64_t e = s + R < n ? s + R : n;
    for (int64_t i = s + 1; i < e; i++) {
      int64_t x = p[i], j = i;
      while (j > s && before(v[x], v[p[j - 1]], desc)) p[j] = p[j - 1], j--;
      p[j] = x;
    }
  }
  int64_t *src = p, *dst = tmp;
  for (int64_t w = R; w < n; w *= 2) {
    for (int64_t s = 0; s < n; s += 2 * w) {
      int64_t mid = s + w < n ? s + w : n, e = s + 2 * w < n ? s + 2 * w : n;
      int64_t i = s, j = mid, k = s;
      while (i < mid && j < e) dst[k++] = before(v[src[j]], v[src[i]], desc) ? src[j++] : src[i++];
      while (i < mid) dst[k++] = src[i++];
      while (j < e) dst[k++] = src[j++];
    }
    int64_t *t = src;
    src = dst, dst = t;
  }
  if (src != p) memcpy(p, src, sizeof(int64_t) * (size_t)n);
}

/* A small k: the first k of the stable order kept in p[0..k) by insertion, one pass over
 * the fiber. A later element enters only when strictly before the current last, and goes
 * after the equal ones: the same k as the stable sort's prefix, in the same order. */
#define TOPK_FEW 32
static void top_few(const float *v, int64_t *p, int64_t n, int64_t k, bool desc) {
  int64_t have = 0;
  for (int64_t j = 0; j < n; j++) {
    if (have == k && !before(v[j], v[p[k - 1]], desc)) continue;
    int64_t i = have < k ? have++ : k - 1;
    while (i > 0 && before(v[j], v[p[i - 1]], desc)) p[i] = p[i - 1], i--;
    p[i] = j;
  }
}

/* An unsigned key in the same order as before(): the float's bits flipped so that
 * unsigned order is numeric order, -0 made +0 (equal keys), every NaN the greatest;
 * complemented for descending order. */
static inline uint32_t sort_key(float x, bool desc) {
  uint32_t u;
  if (isnan(x)) {
    u = 0xFFFFFFFFu;
  } else {
    if (x == 0) x = 0.0f;
    memcpy(&u, &x, sizeof u);
    u = (u & 0x80000000u) ? ~u : (u | 0x80000000u);
  }
  return desc ? ~u : u;
}

/* Longer fibers: LSD radix sort on those keys, 8 bits a pass (each pass stable, so the
 * whole is stable), passes whose digit is the same everywhere skipped. kbuf: 2n keys of
 * scratch; pbuf: 2n positions, the order ends in pbuf[0..n). */
#define RADIX_MIN 64
static void radix_sort(const float *v, uint32_t *kbuf, int64_t *pbuf, int64_t n, bool desc) {
  uint32_t *k = kbuf, *k2 = kbuf + n;
  int64_t *p = pbuf, *p2 = pbuf + n;
  int64_t cnt[4][256];
  memset(cnt, 0, sizeof cnt);
  for (int64_t j = 0; j < n; j++) {
    uint32_t u = sort_key(v[j], desc);
    k[j] = u, p[j] = j;
    for (int b = 0; b < 4; b++) cnt[b][(u >> (8 * b)) & 255]++;
  }
  for (int b = 0; b < 4; b++) {
    int sh = 8 * b;
    if (cnt[b][(k[0] >> sh) & 255] == n) continue; /* one digit everywhere */
    int64_t pos[256], acc = 0;
    for (int d = 0; d < 256; d++) pos[d] = acc, acc += cnt[b][d];
    for (int64_t j = 0; j < n; j++) {
      int64_t t = pos[(k[j] >> sh) & 255]++;
      k2[t] = k[j], p2[t] = p[j];
    }
    uint32_t *tk = k;
    k = k2, k2 = tk;
    int64_t *tp = p;
    p = p2, p2 = tp;
  }
  if (p != pbuf) memcpy(pbuf, p, sizeof(int64_t) * (size_t)n); /* odd number of passes */
}

typedef struct {
  fibers F; /* over a's shape: 0 = a, 1 = vals, 2 = idx (vals/idx have k along dim) */
  const float *a;
  float *vals, *idx;
  int64_t n, k;
  bool desc;
  bool failed; /* scratch allocation failed in some piece (written only as true) */
} sort_job;

static void sort_fibers(void *arg, int64_t lo, int64_t hi) {
  sort_job *J = arg;
  int dim = J->F.dim;
  int64_t n = J->n, sa = J->F.stride[0][dim], sv = J->F.stride[1][dim], si = J->F.stride[2][dim];
  float *v = malloc(sizeof(float) * (size_t)n);
  int64_t *p = malloc(sizeof(int64_t) * (size_t)n * 2);
  uint32_t *kb = n >= RADIX_MIN ? malloc(sizeof(uint32_t) * (size_t)n * 2) : NULL;
  if (!v || !p || (n >= RADIX_MIN && !kb)) {
    free(v), free(p), free(kb);
    __atomic_store_n(&J->failed, true, __ATOMIC_RELAXED);
    return;
  }
  bool few = J->k <= TOPK_FEW && J->k < n;
  for (int64_t f = lo; f < hi; f++) {
    int64_t off[3];
    fiber_offsets(&J->F, f, off);
    for (int64_t j = 0; j < n; j++) v[j] = J->a[off[0] + j * sa];
    if (few) {
      top_few(v, p, n, J->k, J->desc);
    } else if (n >= RADIX_MIN) {
      radix_sort(v, kb, p, n, J->desc);
    } else {
      for (int64_t j = 0; j < n; j++) p[j] = j;
      merge_sort(v, p, p + n, n, J->desc);
    }
    for (int64_t j = 0; j < J->k; j++) {
      J->vals[off[1] + j * sv] = v[p[j]];
      J->idx[off[2] + j * si] = (float)(p[j] + 1);
    }
  }
  free(v), free(p), free(kb);
}

static int sort_k(ar_ctx *C, ar_tensor *vals, ar_tensor *idx, const ar_tensor *a, int dim,
                  int64_t k, bool desc);

/* Large inputs sorted along a strided dim: swapped with the last dim and copied first, so
 * each fiber is read and written in one stretch of memory; the results swapped back. */
static int sort_moved(ar_ctx *C, ar_tensor *vals, ar_tensor *idx, const ar_tensor *a, int dim,
                      int64_t k, bool desc) {
  int last = a->ndim - 1;
  ar_tensor t = {0}, tc = {0}, vt = {0}, it = {0}, tv = {0}, ti = {0};
  int rc = ar_transpose(C, &t, a, dim, last);
  if (!rc) rc = ar_clone(C, &tc, &t);
  if (!rc) rc = sort_k(C, &vt, &it, &tc, last, k, desc);
  if (!rc) rc = ar_transpose(C, &tv, &vt, dim, last);
  if (!rc) rc = ar_transpose(C, &ti, &it, dim, last);
  if (!rc) rc = ar_clone(C, vals, &tv);
  if (!rc && (rc = ar_clone(C, idx, &ti))) ar_release(vals);
  ar_tensor *all[] = {&t, &tc, &vt, &it, &tv, &ti};
  for (int i = 0; i < 6; i++)
    if (all[i]->st) ar_release(all[i]);
  if (rc) vals->st = idx->st = NULL;
  return rc;
}

/* The k first of each fiber in sorted order (k = n: a full sort). */
static int sort_k(ar_ctx *C, ar_tensor *vals, ar_tensor *idx, const ar_tensor *a, int dim,
                  int64_t k, bool desc) {
  vals->st = idx->st = NULL;
  if (dim < 0 || dim >= a->ndim)
    return ar_seterr(C, AR_EARG, "dim %d out of range for a %d-dim tensor", dim + 1, a->ndim);
  int64_t n = a->shape[dim];
  if (k < 0 || k > n)
    return ar_seterr(C, AR_ERANGE, "k = %lld is out of range 0..%lld (the size of dim %d)",
                     (long long)k, (long long)n, dim + 1);
  if (n > ((int64_t)1 << 24))
    return ar_seterr(C, AR_EARG, "cannot sort more than 2^24 elements along a dim (float indices)");
  int last = a->ndim - 1;
  if (dim != last && n >= RADIX_MIN && ar_numel(a) >= AR_PAR_GRAIN && a->stride[dim] != 1)
    return sort_moved(C, vals, idx, a, dim, k, desc);
  int64_t shape[AR_MAXDIM];
  memcpy(shape, a->shape, sizeof shape);
  shape[dim] = k;
  int rc = ar_empty(C, vals, a->ndim, shape);
  if (!rc) rc = ar_empty(C, idx, a->ndim, shape);
  if (rc) goto fail;
  if (ar_numel(vals) == 0) return AR_OK;
  sort_job J = {.a = a->st->data, .vals = vals->st->data, .idx = idx->st->data, .n = n, .k = k,
                .desc = desc};
  fiber_init(&J.F, a->ndim, a->shape, dim);
  fiber_add(&J.F, a->offset, a->stride);
  fiber_add(&J.F, vals->offset, vals->stride);
  fiber_add(&J.F, idx->offset, idx->stride);
  /* a few passes over each fiber */
  int64_t per = n * 8;
  ar_parallel_for(C, fiber_count(&J.F), grain_for(per), sort_fibers, &J);
  if (J.failed) {
    rc = ar_seterr(C, AR_ENOMEM, "out of memory for sort scratch");
    goto fail;
  }
  return AR_OK;
fail:
  if (vals->st) ar_release(vals);
  if (idx->st) ar_release(idx);
  return rc;
}

int ar_sort(ar_ctx *C, ar_tensor *vals, ar_tensor *idx, const ar_tensor *a, int dim,
            bool descending) {
  if (dim < 0 || dim >= a->ndim) {
    vals->st = idx->st = NULL;
    return ar_seterr(C, AR_EARG, "dim %d out of range for a %d-dim tensor", dim + 1, a->ndim);
  }
  return sort_k(C, vals, idx, a, dim, a->shape[dim], descending);
}

int ar_topk(ar_ctx *C, ar_tensor *vals, ar_tensor *idx, const ar_tensor *a, int64_t k, int dim,
            bool largest) {
  return sort_k(C, vals, idx, a, dim, k, largest);
}
