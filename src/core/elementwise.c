/* Elementwise ops: fill, copy, range/linspace/eye, binary and unary math, clamp, where.
 *
 * Every op is a set of flat kernels over contiguous rows: explicit vector code compiled
 * once per SIMD level (ew_kernels.h), the level's table looked up once per op call.
 * Strided and broadcast operands reach the same kernels row by row through ar_iter: an
 * inner stride of 1 is used in place, 0 becomes a scalar operand, anything else is
 * gathered into a small stack buffer. Work is split over flat element ranges, so results
 * never depend on the thread count: each element is computed by the same code whichever
 * chunk it falls in. */
#include <math.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "core/ctx.h"

#include "core/ew_level.h"

/* Elements per gather buffer: small enough for the stack and L1. */
#define BLK 512

/* the table of a level this build has (no check that the CPU runs it) */
static const ew_level *pick(int level) {
  switch (level) {
#ifdef ACTRUN_X86_LEVELS
  case AR_SIMD_AVX512:
    return &ew_level_avx512;
  case AR_SIMD_AVX2:
    return &ew_level_avx2;
#endif
  default:
    return &ew_level_baseline;
  }
}

const ew_level *ew_level_at(int level) { return ar_simd_available(level) ? pick(level) : NULL; }

/* the kernels at the level in use (ACTRUN_SIMD may lower it); ar_simd_level() is always
 * available, so no check here (this runs once per op, tiny ops included) */
static const ew_level *cur(void) { return pick(ar_simd_level()); }

/* Elements per thread before work is split. Waking a sleeping worker costs tens of
 * microseconds (measured 20-40 us round trip on the 2-core development VM), while a
 * memory-bound op on cache-resident data runs at several elements per nanosecond: below
 * about a million elements a second thread only adds latency. Transcendentals do ~10x
 * more work per element and gain from AR_PAR_GRAIN on. */
#define CHEAP_GRAIN (8 * AR_PAR_GRAIN)
#define COSTLY_GRAIN AR_PAR_GRAIN

static int64_t un_grain(ar_unop op) {
  switch (op) {
    case AR_EXP:
    case AR_LOG:
    case AR_SIN:
    case AR_COS:
    case AR_TANH:
    case AR_SIGMOID:
      return COSTLY_GRAIN;
    default:
      return CHEAP_GRAIN;
  }
}

static const char *const binop_names[AR_BINOP_COUNT] = {
    "add", "sub", "mul", "div", "pow", "gt", "lt", "ge", "le", "eq", "ne", "maximum", "minimum"};
static const char *const unop_names[AR_UNOP_COUNT] = {
    "neg",     "exp",  "log",   "sqrt", "abs",   "sin",        "cos",   "tanh",
    "sigmoid", "sign", "floor", "ceil", "round", "reciprocal", "square"};

const char *ar_binop_name(ar_binop op) {
  return (unsigned)op < AR_BINOP_COUNT ? binop_names[op] : "?";
}
const char *ar_unop_name(ar_unop op) { return (unsigned)op < AR_UNOP_COUNT ? unop_names[op] : "?"; }

/* ---------- strided helpers ---------- */

static const float *gather(float *restrict buf, const float *restrict p, int64_t s, int64_t n) {
  for (int64_t i = 0; i < n; i++) buf[i] = p[i * s];
  return buf;
}
static void scatter(float *restrict p, int64_t s, const float *restrict buf, int64_t n) {
  for (int64_t i = 0; i < n; i++) p[i * s] = buf[i];
}
static void fill_strided(const ew_level *L, float *p, int64_t s, float v, int64_t n) {
  if (s == 1) {
    L->fill(p, v, n);
  } else {
    for (int64_t i = 0; i < n; i++) p[i * s] = v;
  }
}

/* o = a op b over one row; a stride of 0 means a scalar operand. o is fresh. */
static void bin_row(const ew_level *L, int op, float al, float *o, int64_t os, const float *a,
                    int64_t as, const float *b, int64_t bs, int64_t n) {
  const ew_bin_kernels *K = &L->bin[op];
  if (as == 0 && bs == 0) {
    float v;
    K->vv(&v, a, b, 1, al);
    fill_strided(L, o, os, v, n);
    return;
  }
  if (os == 1 && (as | 1) == 1 && (bs | 1) == 1) {
    if (as && bs)
      K->vv(o, a, b, n, al);
    else if (as)
      K->vs(o, a, *b, n, al);
    else
      K->sv(o, *a, b, n, al);
    return;
  }
  float bo[BLK], ba[BLK], bb[BLK];
  for (int64_t j = 0; j < n; j += BLK) {
    int64_t m = n - j < BLK ? n - j : BLK;
    const float *pa = as == 1 ? a + j : as == 0 ? NULL : gather(ba, a + j * as, as, m);
    const float *pb = bs == 1 ? b + j : bs == 0 ? NULL : gather(bb, b + j * bs, bs, m);
    float *po = os == 1 ? o + j : bo;
    if (pa && pb)
      K->vv(po, pa, pb, m, al);
    else if (pa)
      K->vs(po, pa, *b, m, al);
    else
      K->sv(po, *a, pb, m, al);
    if (os != 1) scatter(o + j * os, os, po, m);
  }
}

/* o op= b over one row; b (stride 0: a scalar) does not overlap o. */
static void ibin_row(const ew_level *L, int op, float al, float *o, int64_t os, const float *b,
                     int64_t bs, int64_t n) {
  const ew_bin_kernels *K = &L->bin[op];
  float bo[BLK], bb[BLK];
  if (os == 1 && bs == 0) {
    K->ivs(o, *b, n, al);
    return;
  }
  if (os == 1 && bs == 1) {
    K->ivv(o, b, n, al);
    return;
  }
  for (int64_t j = 0; j < n; j += BLK) {
    int64_t m = n - j < BLK ? n - j : BLK;
    float *po = os == 1 ? o + j : (gather(bo, o + j * os, os, m), bo);
    if (bs == 0)
      K->ivs(po, *b, m, al);
    else
      K->ivv(po, bs == 1 ? b + j : gather(bb, b + j * bs, bs, m), m, al);
    if (os != 1) scatter(o + j * os, os, po, m);
  }
}

/* ---------- the runner: one job over an ar_iter, split in flat element ranges ---------- */

typedef struct ew_job ew_job;
typedef void (*ew_row_fn)(const ew_job *J, float *const *p, const int64_t *s, int64_t n);
struct ew_job {
  ar_iter it;
  ew_row_fn row;
  const ew_level *L; /* the kernels of the level in use */
  int op;
  bool scalar_left;
  float s;      /* scalar operand (read through a stride-0 pointer to it) */
  float alpha;  /* axpy factor */
  float lo, hi; /* clamp bounds */
  int64_t grain;
  bool overwrite; /* the row function writes operand 0 without reading it */
  bool stream;    /* memory-bound and writing a fresh output: non-temporal stores */
};

/* Work is split in units of GROUP elements counted from each row's start, so a SIMD
 * vector never straddles two chunks: SLEEF's results for one lane can depend on the other
 * lanes (its slow path for huge arguments is taken per vector), and aligned groups keep
 * every result identical whatever the thread count. */
#define GROUP 16

/* ---------- non-temporal output (see core.h) ---------- */

/* every x86-64 CPU has non-temporal stores (SSE2's movntps); the copy itself is the
 * level's (ew_kernels.h: k_stream), full-width stores as in a native build */
#if defined(__x86_64__) || defined(__SSE2__)
#include <immintrin.h>
#define HAVE_STREAM 1
#else
#define HAVE_STREAM 0
#endif

bool ar_stream_ok(const float *y, int64_t n) {
  return HAVE_STREAM && n >= AR_STREAM_MIN && ((uintptr_t)y & 63) == 0;
}

void ar_stream_store(float *restrict y, const float *restrict buf, int64_t m) {
  cur()->stream(y, buf, m);
}

void ar_stream_fence(void) {
#if HAVE_STREAM
  _mm_sfence();
#endif
}

/* One row of a job: through the L1 buffer and non-temporal stores when the job asks for
 * it and operand 0 (written, not read) is dense and aligned. The row function runs over
 * the same elements in pieces that start at multiples of GROUP, so the bits are the same. */
static void ew_row(const ew_job *J, float *const *p, const int64_t *s, int64_t n) {
  if (!J->stream || s[0] != 1 || n < AR_STREAM_CH || ((uintptr_t)p[0] & 63) != 0) {
    J->row(J, p, s, n);
    return;
  }
  _Alignas(64) float buf[AR_STREAM_CH];
  const int nops = J->it.nops;
  float *q[3] = {buf, NULL, NULL};
  int64_t i = 0;
  for (; i + AR_STREAM_CH <= n; i += AR_STREAM_CH) {
    for (int k = 1; k < nops; k++) q[k] = p[k] + i * s[k];
    J->row(J, q, s, AR_STREAM_CH);
    ar_stream_store(p[0] + i, buf, AR_STREAM_CH);
  }
  ar_stream_fence();
  if (i < n) {
    q[0] = p[0] + i;
    for (int k = 1; k < nops; k++) q[k] = p[k] + i * s[k];
    J->row(J, q, s, n - i);
  }
}

static void ew_range(void *arg, int64_t ulo, int64_t uhi) {
  const ew_job *J = arg;
  const ar_iter *it = &J->it;
  int nd = it->ndim, nops = it->nops;
  int64_t inner = it->shape[nd - 1], upr = (inner + GROUP - 1) / GROUP;
  int64_t s[3] = {0, 0, 0}, off[3] = {0, 0, 0}, idx[AR_MAXDIM];
  float *row[3];
  int64_t r = ulo / upr;
  ar_iter_row(it, r, row);
  for (int k = 0; k < nops; k++) {
    s[k] = it->stride[k][nd - 1];
    off[k] = row[k] - it->base[k];
  }
  for (int d = nd - 2; d >= 0; d--) { /* outer index of row r, to step rows */
    idx[d] = r % it->shape[d];
    r /= it->shape[d];
  }
  r = ulo / upr;
  for (int64_t u = ulo; u < uhi;) {
    int64_t uend = (r + 1) * upr < uhi ? (r + 1) * upr : uhi;
    int64_t j0 = (u - r * upr) * GROUP, j1 = (uend - r * upr) * GROUP;
    if (j1 > inner) j1 = inner;
    float *p[3];
    for (int k = 0; k < nops; k++) p[k] = it->base[k] + off[k] + j0 * s[k];
    ew_row(J, p, s, j1 - j0);
    u = uend;
    if (u >= uhi) break;
    r++;
    for (int d = nd - 2; d >= 0; d--) { /* odometer: next row without divisions */
      for (int k = 0; k < nops; k++) off[k] += it->stride[k][d];
      if (++idx[d] < it->shape[d]) break;
      for (int k = 0; k < nops; k++) off[k] -= it->stride[k][d] * it->shape[d];
      idx[d] = 0;
    }
  }
}

/* With a transposed operand, walking whole rows touches a new cache line (and page) per
 * element of it, and power-of-two row lengths map them all to one cache set. So such
 * iterations go by TILE x TILE tiles of the last two dims: each strided operand's tile
 * is copied to (or from, for the output) a dense buffer in its own memory order, and the
 * row function then sees unit strides. TILE is a multiple of GROUP, keeping vectors
 * aligned to the row start. */
#define TILE 64

static void tile_in(float *restrict buf, const float *restrict p, int64_t rs, int64_t s, int64_t h,
                    int64_t w) {
  if ((rs < 0 ? -rs : rs) < (s < 0 ? -s : s)) { /* walk down columns: p is transposed */
    for (int64_t j = 0; j < w; j++)
      for (int64_t i = 0; i < h; i++) buf[i * TILE + j] = p[i * rs + j * s];
  } else {
    for (int64_t i = 0; i < h; i++)
      for (int64_t j = 0; j < w; j++) buf[i * TILE + j] = p[i * rs + j * s];
  }
}

static void tile_out(float *restrict p, int64_t rs, int64_t s, const float *restrict buf, int64_t h,
                     int64_t w) {
  if ((rs < 0 ? -rs : rs) < (s < 0 ? -s : s)) {
    for (int64_t j = 0; j < w; j++)
      for (int64_t i = 0; i < h; i++) p[i * rs + j * s] = buf[i * TILE + j];
  } else {
    for (int64_t i = 0; i < h; i++)
      for (int64_t j = 0; j < w; j++) p[i * rs + j * s] = buf[i * TILE + j];
  }
}

static void ew_tiles(void *arg, int64_t tlo, int64_t thi) {
  const ew_job *J = arg;
  const ar_iter *it = &J->it;
  int nd = it->ndim, nops = it->nops;
  int64_t rows = it->shape[nd - 2], cols = it->shape[nd - 1];
  int64_t ntr = (rows + TILE - 1) / TILE, ntc = (cols + TILE - 1) / TILE;
  int64_t s[3] = {0, 0, 0}, rs[3] = {0, 0, 0}, ts[3] = {0, 0, 0};
  bool buffered[3] = {false, false, false};
  /* one buffer per chunk: 48 KiB is too much for the stack of an arbitrary host thread */
  float *buf = malloc(3 * TILE * TILE * sizeof(float));
  for (int k = 0; k < nops; k++) {
    s[k] = it->stride[k][nd - 1];
    rs[k] = it->stride[k][nd - 2];
    buffered[k] = buf && s[k] != 0 && s[k] != 1; /* without memory: plain strides */
    ts[k] = buffered[k] ? 1 : s[k];
  }
  for (int64_t t = tlo; t < thi; t++) {
    int64_t m = t / (ntr * ntc), tr = t % (ntr * ntc) / ntc, tc = t % ntc;
    int64_t r0 = tr * TILE, h = r0 + TILE < rows ? TILE : rows - r0;
    int64_t c0 = tc * TILE, w = c0 + TILE < cols ? TILE : cols - c0;
    float *base[3];
    ar_iter_row(it, m * rows, base); /* first row of this matrix */
    for (int k = 0; k < nops; k++) {
      base[k] += r0 * rs[k] + c0 * s[k];
      if (buffered[k] && !(k == 0 && J->overwrite))
        tile_in(buf + k * TILE * TILE, base[k], rs[k], s[k], h, w);
    }
    for (int64_t i = 0; i < h; i++) {
      float *p[3];
      for (int k = 0; k < nops; k++)
        p[k] = buffered[k] ? buf + k * TILE * TILE + i * TILE : base[k] + i * rs[k];
      J->row(J, p, ts, w);
    }
    if (buffered[0]) tile_out(base[0], rs[0], s[0], buf, h, w);
  }
  free(buf);
}

/* Tiles pay off when a strided operand puts consecutive elements a cache line or more
 * apart; shorter strides stream well through the row gather. */
static bool wants_tiles(const ar_iter *it) {
  int nd = it->ndim;
  if (nd < 2 || it->shape[nd - 2] < 2 || it->shape[nd - 1] < 2) return false;
  for (int k = 0; k < it->nops; k++) {
    int64_t s = it->stride[k][nd - 1], rs = it->stride[k][nd - 2];
    s = s < 0 ? -s : s;
    if (s >= GROUP && (rs < 0 ? -rs : rs) < s) return true;
  }
  return false;
}

/* Short rows (a bias added to {batch, 10}) would cost a call per row. When the output and
 * every operand are either dense across rows or repeat one row (stride 0 between rows),
 * BATCH_ROWS rows go to the row function as one run, the repeated rows copied out that
 * many times. Runs start at fixed rows, so results do not depend on the thread count. */
static int64_t batch_rows(const ar_iter *it) {
  int nd = it->ndim;
  if (nd < 2) return 0;
  int64_t inner = it->shape[nd - 1];
  if (inner > BLK / 4 || it->shape[nd - 2] < 2) return 0;
  for (int k = 0; k < it->nops; k++) {
    int64_t s = it->stride[k][nd - 1], rs = it->stride[k][nd - 2];
    bool dense = s == 1 && rs == inner, repeated = rs == 0 && k > 0;
    if (!dense && !repeated) return 0;
  }
  return BLK / inner;
}

static void ew_batch(void *arg, int64_t ulo, int64_t uhi) {
  const ew_job *J = arg;
  const ar_iter *it = &J->it;
  int nd = it->ndim, nops = it->nops;
  int64_t inner = it->shape[nd - 1], rows = it->shape[nd - 2], R = batch_rows(it);
  int64_t per = (rows + R - 1) / R, built = -1, copies = R < rows ? R : rows;
  float rep[3][BLK]; /* repeated rows, R copies */
  int64_t st[3];
  bool repeated[3] = {false, false, false};
  for (int k = 0; k < nops; k++) {
    int64_t s = it->stride[k][nd - 1];
    repeated[k] = it->stride[k][nd - 2] == 0 && s != 0; /* scalars stay stride 0 */
    st[k] = s == 0 ? 0 : 1;
  }
  for (int64_t u = ulo; u < uhi; u++) {
    int64_t m = u / per, r0 = u % per * R, n = (r0 + R < rows ? R : rows - r0) * inner;
    float *p[3];
    ar_iter_row(it, m * rows + r0, p);
    for (int k = 0; k < nops; k++) {
      if (!repeated[k]) continue;
      if (m != built) { /* the repeated row can differ between matrices */
        int64_t s = it->stride[k][nd - 1];
        for (int64_t j = 0; j < inner; j++) rep[k][j] = p[k][j * s];
        for (int64_t r = 1; r < copies; r++)
          memcpy(rep[k] + r * inner, rep[k], inner * sizeof(float));
      }
      p[k] = rep[k];
    }
    built = m;
    J->row(J, p, st, n);
  }
}

/* Rows shorter than a vector (a {n, 3} tensor, or its transpose) would cost a call per
 * few elements: then the longer of the last two dims goes innermost. Elementwise results
 * do not depend on the visiting order. */
static void ew_plan(ar_iter *it) {
  int nd = it->ndim;
  if (nd < 2) return;
  int64_t inner = it->shape[nd - 1], next = it->shape[nd - 2];
  if (inner >= GROUP || next <= inner) return;
  it->shape[nd - 1] = next;
  it->shape[nd - 2] = inner;
  for (int k = 0; k < it->nops; k++) {
    int64_t t = it->stride[k][nd - 1];
    it->stride[k][nd - 1] = it->stride[k][nd - 2];
    it->stride[k][nd - 2] = t;
  }
  it->outer = it->outer / next * inner;
}

static void ew_exec(ar_ctx *C, ew_job *J) {
  const ar_iter *it = &J->it;
  if (it->outer <= 0 || it->shape[it->ndim - 1] <= 0) return;
  int64_t grain = J->grain > 0 ? J->grain : CHEAP_GRAIN;
  if (it->ndim == 1 && it->shape[0] <= grain) {
    /* One short flat row: exactly what ew_range would do on one thread, minus the
     * planning (most of a small op's cost in C). */
    const int64_t s[3] = {it->stride[0][0], it->stride[1][0], it->stride[2][0]};
    J->row(J, it->base, s, it->shape[0]);
    return;
  }
  int64_t R = batch_rows(it);
  if (R > 0) {
    int64_t rows = it->shape[it->ndim - 2], per = R * it->shape[it->ndim - 1];
    int64_t units = it->outer / rows * ((rows + R - 1) / R);
    ar_parallel_for(C, units, (grain + per - 1) / per, ew_batch, J);
    return;
  }
  ew_plan(&J->it);
  int64_t inner = it->shape[it->ndim - 1];
  if (wants_tiles(it)) {
    int64_t rows = it->shape[it->ndim - 2];
    int64_t tiles = it->outer / rows * ((rows + TILE - 1) / TILE) * ((inner + TILE - 1) / TILE);
    ar_parallel_for(C, tiles, (grain + TILE * TILE - 1) / (TILE * TILE), ew_tiles, J);
    return;
  }
  int64_t units = it->outer * ((inner + GROUP - 1) / GROUP);
  int64_t per_unit = inner < GROUP ? inner : GROUP;
  ar_parallel_for(C, units, (grain + per_unit - 1) / per_unit, ew_range, J);
}

/* A one-row iteration over n elements: stride 1 (dense) or 0 (a scalar) per operand. */
static void ew_flat(ew_job *J, int nops, float *const *p, const int64_t *s, int64_t n) {
  memset(&J->it, 0, sizeof J->it);
  J->it.ndim = 1;
  J->it.nops = nops;
  J->it.shape[0] = n;
  J->it.outer = 1;
  for (int k = 0; k < nops; k++) {
    J->it.base[k] = p[k];
    J->it.stride[k][0] = s[k];
  }
}

/* ops[] already have ops[0]'s shape. */
static void ew_strided(ew_job *J, int nops, const ar_tensor *const *ops) {
  ar_iter_init(&J->it, nops, ops);
}

/* ---------- shared checks ---------- */

/* Writing through an expanded view would store several results in one element. */
static int check_writable(ar_ctx *C, const ar_tensor *t) {
  if (ar_numel(t) == 0) return AR_OK;
  for (int d = 0; d < t->ndim; d++)
    if (t->shape[d] > 1 && t->stride[d] == 0)
      return ar_seterr(C, AR_EARG,
                       "cannot write in place to an expanded tensor (several elements share "
                       "memory); clone it first");
  return AR_OK;
}

static bool same_view(const ar_tensor *a, const ar_tensor *b) {
  if (a->st != b->st || a->offset != b->offset || !ar_same_shape(a, b)) return false;
  for (int d = 0; d < a->ndim; d++)
    if (a->shape[d] > 1 && a->stride[d] != b->stride[d]) return false;
  return true;
}

/* dense: contiguous with exactly `like`'s shape, so it can be walked flat. */
static bool dense_as(const ar_tensor *t, const ar_tensor *like) {
  return ar_is_contiguous(t) && ar_same_shape(t, like);
}

/* ---------- fill and copy ---------- */

static void row_fill(const ew_job *J, float *const *p, const int64_t *s, int64_t n) {
  fill_strided(J->L, p[0], s[0], J->s, n);
}

int ar_fill(ar_ctx *C, ar_tensor *t, float v) {
  ar_bump_version(t);
  int rc = check_writable(C, t);
  if (rc) return rc;
  int64_t n = ar_numel(t);
  if (n == 0) return AR_OK;
  ew_job J = {.L = cur(), .row = row_fill, .s = v, .overwrite = true};
  if (ar_is_contiguous(t)) {
    float *p[1] = {ar_data(t)};
    int64_t s[1] = {1};
    ew_flat(&J, 1, p, s, n);
  } else {
    const ar_tensor *ops[1] = {t};
    ew_strided(&J, 1, ops);
  }
  ew_exec(C, &J);
  return AR_OK;
}

static void row_copy(const ew_job *J, float *const *p, const int64_t *s, int64_t n) {
  (void)J;
  float *restrict o = p[0];
  const float *restrict a = p[1];
  int64_t os = s[0], as = s[1];
  if (as == 0)
    fill_strided(J->L, o, os, *a, n);
  else if (os == 1 && as == 1)
    memcpy(o, a, (size_t)n * sizeof(float));
  else if (os == 1)
    gather(o, a, as, n);
  else if (as == 1)
    scatter(o, os, a, n);
  else
    for (int64_t i = 0; i < n; i++) o[i * os] = a[i * as];
}

int ar_copy_(ar_ctx *C, ar_tensor *dst, const ar_tensor *src) {
  ar_bump_version(dst);
  ar_tensor vs, tmp = {0};
  int rc = ar_broadcast_to(C, &vs, src, dst->ndim, dst->shape);
  if (rc) return rc;
  rc = check_writable(C, dst);
  if (rc || ar_numel(dst) == 0 || same_view(dst, &vs)) goto done;
  if (src->st == dst->st) {
    /* Overlapping views: read everything before writing anything. */
    ar_release(&vs);
    rc = ar_clone(C, &tmp, src);
    if (rc) return rc;
    rc = ar_broadcast_to(C, &vs, &tmp, dst->ndim, dst->shape);
    if (rc) goto done;
  }
  ew_job J = {.L = cur(), .row = row_copy, .overwrite = true};
  if (ar_is_contiguous(dst) && (dense_as(&vs, dst) || ar_numel(src) == 1)) {
    float *p[2] = {ar_data(dst), ar_data(&vs)};
    int64_t s[2] = {1, dense_as(&vs, dst) ? 1 : 0};
    ew_flat(&J, 2, p, s, ar_numel(dst));
  } else {
    const ar_tensor *ops[2] = {dst, &vs};
    ew_strided(&J, 2, ops);
  }
  ew_exec(C, &J);
done:
  ar_release(&vs);
  if (tmp.st) ar_release(&tmp);
  return rc;
}

/* ---------- creation ---------- */

typedef struct {
  float *o;
  double a, b, step;
  int64_t n;
} seq_job;

static void range_run(void *arg, int64_t lo, int64_t hi) {
  const seq_job *S = arg;
  for (int64_t i = lo; i < hi; i++) {
    double v = S->a + (double)i * S->step;
    /* the rounding tolerance may place the last value a hair past b */
    if ((S->step > 0 && v > S->b) || (S->step < 0 && v < S->b)) v = S->b;
    S->o[i] = (float)v;
  }
}

int ar_range(ar_ctx *C, ar_tensor *out, double a, double b, double step) {
  out->st = NULL;
  if (!isfinite(a) || !isfinite(b) || !isfinite(step))
    return ar_seterr(C, AR_EARG, "start, end and step must be finite numbers");
  if (step == 0) return ar_seterr(C, AR_EARG, "step must not be zero");
  double q = (b - a) / step, r = nearbyint(q);
  /* (1 - 0.1*3) / 0.1 style rounding must not lose or add the last element */
  if (fabs(q - r) <= 1e-9 * fmax(1.0, fabs(q))) q = r;
  if (q >= 0x1p58)
    return ar_seterr(C, AR_ENOMEM, "range from %g to %g by %g has too many elements", a, b, step);
  int64_t n = q < 0 ? 0 : (int64_t)floor(q) + 1;
  ar_tensor t;
  int rc = ar_empty(C, &t, 1, &n);
  if (rc) return rc;
  seq_job S = {ar_data(&t), a, b, step, n};
  ar_parallel_for(C, n, CHEAP_GRAIN, range_run, &S);
  *out = t;
  return AR_OK;
}

static void linspace_run(void *arg, int64_t lo, int64_t hi) {
  const seq_job *S = arg;
  int64_t half = S->n / 2;
  for (int64_t i = lo; i < hi; i++) {
    /* from the nearer end, so both endpoints are exact (as PyTorch does) */
    double v = i < half ? S->a + S->step * (double)i : S->b - S->step * (double)(S->n - 1 - i);
    S->o[i] = (float)v;
  }
}

int ar_linspace(ar_ctx *C, ar_tensor *out, double a, double b, int64_t n) {
  out->st = NULL;
  if (n < 1)
    return ar_seterr(C, AR_EARG, "number of points must be at least 1, got %lld", (long long)n);
  if (!isfinite(a) || !isfinite(b))
    return ar_seterr(C, AR_EARG, "start and end must be finite numbers");
  ar_tensor t;
  int rc = ar_empty(C, &t, 1, &n);
  if (rc) return rc;
  seq_job S = {ar_data(&t), a, b, n > 1 ? (b - a) / (double)(n - 1) : 0.0, n};
  if (n == 1)
    ar_data(&t)[0] = (float)a;
  else
    ar_parallel_for(C, n, CHEAP_GRAIN, linspace_run, &S);
  *out = t;
  return AR_OK;
}

int ar_eye(ar_ctx *C, ar_tensor *out, int64_t n, int64_t m) {
  out->st = NULL;
  if (n < 0 || m < 0)
    return ar_seterr(C, AR_EARG, "sizes must not be negative, got %lld x %lld", (long long)n,
                     (long long)m);
  ar_tensor t;
  int64_t shape[2] = {n, m};
  int rc = ar_empty(C, &t, 2, shape);
  if (rc) return rc;
  ar_fill(C, &t, 0.0f);
  float *d = ar_data(&t);
  for (int64_t i = 0; i < n && i < m; i++) d[i * m + i] = 1.0f;
  *out = t;
  return AR_OK;
}

/* ---------- binary ops ---------- */

static void row_binary(const ew_job *J, float *const *p, const int64_t *s, int64_t n) {
  bin_row(J->L, J->op, J->alpha, p[0], s[0], p[1], s[1], p[2], s[2], n);
}

static void row_binary_scalar(const ew_job *J, float *const *p, const int64_t *s, int64_t n) {
  if (J->scalar_left)
    bin_row(J->L, J->op, J->alpha, p[0], s[0], &J->s, 0, p[1], s[1], n);
  else
    bin_row(J->L, J->op, J->alpha, p[0], s[0], p[1], s[1], &J->s, 0, n);
}

static void row_binary_inplace(const ew_job *J, float *const *p, const int64_t *s, int64_t n) {
  ibin_row(J->L, J->op, J->alpha, p[0], s[0], p[1], s[1], n);
}

static void row_binary_inplace_scalar(const ew_job *J, float *const *p, const int64_t *s,
                                      int64_t n) {
  ibin_row(J->L, J->op, J->alpha, p[0], s[0], &J->s, 0, n);
}

static int64_t bin_grain(int op) { return op == AR_POW ? COSTLY_GRAIN : CHEAP_GRAIN; }
static bool bin_cheap(int op) { return op != AR_POW; } /* memory-bound at large sizes */

static int check_binop(ar_ctx *C, int op) {
  if (op < 0 || op >= AR_BINOP_COUNT)
    return ar_seterr(C, AR_EARG, "unknown binary operation %d", op);
  return AR_OK;
}

/* Small dense operands of one shape (the common case in a Lua loop): one kernel call,
 * no iterator, no job setup. The same kernel over the same range as the general path,
 * so the results are bit-identical. */
static bool small_dense(const ar_tensor *a, int64_t grain) {
  return ar_is_contiguous(a) && ar_numel(a) <= grain;
}

/* The element count of a and b when both are dense with one shape and at most grain
 * elements, else -1 (one pass over the dimensions). */
static int64_t small_dense_pair(const ar_tensor *a, const ar_tensor *b, int64_t grain) {
  if (a->ndim != b->ndim) return -1;
  int64_t n = 1;
  for (int i = a->ndim - 1; i >= 0; i--) {
    const int64_t s = a->shape[i];
    if (s != b->shape[i]) return -1;
    if (s != 1 && (a->stride[i] != n || b->stride[i] != n)) return -1;
    n *= s;
  }
  return n <= grain ? n : -1;
}

int ar_binary(ar_ctx *C, ar_binop op, ar_tensor *out, const ar_tensor *a, const ar_tensor *b) {
  int rc = check_binop(C, op);
  int64_t n;
  if (!rc && out != a && out != b && (n = small_dense_pair(a, b, bin_grain(op))) >= 0) {
    /* straight into out: a copy through a local here stalled on store forwarding */
    rc = ar_empty_dense(C, out, a, n);
    if (!rc) bin_row(cur(), op, 0.0f, ar_data(out), 1, ar_data(a), 1, ar_data(b), 1, n);
    return rc;
  }
  ar_tensor r = {0}, va = {0}, vb = {0};
  int nd;
  int64_t shape[AR_MAXDIM];
  if (!rc) rc = ar_broadcast_shape(C, a, b, &nd, shape);
  if (!rc) rc = ar_empty(C, &r, nd, shape);
  if (rc || ar_numel(&r) == 0) goto done;
  ew_job J = {.L = cur(), .row = row_binary, .op = op, .grain = bin_grain(op)};
  J.stream = bin_cheap(op) && ar_stream_ok(ar_data(&r), ar_numel(&r));
  bool ad = dense_as(a, &r), bd = dense_as(b, &r);
  if ((ad || ar_numel(a) == 1) && (bd || ar_numel(b) == 1)) {
    float *p[3] = {ar_data(&r), ar_data(a), ar_data(b)};
    int64_t s[3] = {1, ad, bd};
    ew_flat(&J, 3, p, s, ar_numel(&r));
  } else {
    rc = ar_broadcast_to(C, &va, a, nd, shape);
    if (!rc) rc = ar_broadcast_to(C, &vb, b, nd, shape);
    if (rc) goto done;
    const ar_tensor *ops[3] = {&r, &va, &vb};
    ew_strided(&J, 3, ops);
  }
  ew_exec(C, &J);
done:
  if (va.st) ar_release(&va);
  if (vb.st) ar_release(&vb);
  if (rc && r.st) ar_release(&r);
  *out = r;
  return rc;
}

int ar_binary_scalar(ar_ctx *C, ar_binop op, ar_tensor *out, const ar_tensor *a, float s,
                     bool scalar_left) {
  ar_tensor r = {0};
  int rc = check_binop(C, op);
  if (!rc) rc = ar_empty(C, &r, a->ndim, a->shape);
  if (rc || ar_numel(&r) == 0) goto done;
  if (small_dense(a, bin_grain(op))) {
    const ew_level *L = cur();
    int64_t n = ar_numel(a);
    if (scalar_left)
      bin_row(L, op, 0.0f, ar_data(&r), 1, &s, 0, ar_data(a), 1, n);
    else
      bin_row(L, op, 0.0f, ar_data(&r), 1, ar_data(a), 1, &s, 0, n);
    goto done;
  }
  ew_job J = {.L = cur(), .row = row_binary_scalar,
              .op = op,
              .s = s,
              .scalar_left = scalar_left,
              .grain = bin_grain(op),
              .stream = bin_cheap(op) && ar_stream_ok(ar_data(&r), ar_numel(&r))};
  if (ar_is_contiguous(a)) {
    float *p[2] = {ar_data(&r), ar_data(a)};
    int64_t st[2] = {1, 1};
    ew_flat(&J, 2, p, st, ar_numel(&r));
  } else {
    const ar_tensor *ops[2] = {&r, a};
    ew_strided(&J, 2, ops);
  }
  ew_exec(C, &J);
done:
  *out = r;
  return rc;
}

/* a = a op b (op may be EW_OP_AXPY with factor al). */
static int binary_inplace(ar_ctx *C, int op, float al, ar_tensor *a, const ar_tensor *b) {
  ar_tensor vb = {0}, tmp = {0};
  int rc = ar_broadcast_to(C, &vb, b, a->ndim, a->shape);
  if (!rc) rc = check_writable(C, a);
  if (rc || ar_numel(a) == 0) goto done;
  if (b->st == a->st) {
    /* The kernels need b apart from a (a += a, a += a^T, shifted views). */
    ar_release(&vb);
    rc = ar_clone(C, &tmp, b);
    if (!rc) rc = ar_broadcast_to(C, &vb, &tmp, a->ndim, a->shape);
    if (rc) goto done;
  }
  ew_job J = {.L = cur(), .row = row_binary_inplace, .op = op, .alpha = al, .grain = bin_grain(op)};
  bool bd = dense_as(&vb, a);
  if (ar_is_contiguous(a) && (bd || ar_numel(b) == 1)) {
    float *p[2] = {ar_data(a), ar_data(&vb)};
    int64_t s[2] = {1, bd};
    ew_flat(&J, 2, p, s, ar_numel(a));
  } else {
    const ar_tensor *ops[2] = {a, &vb};
    ew_strided(&J, 2, ops);
  }
  ew_exec(C, &J);
done:
  if (vb.st) ar_release(&vb);
  if (tmp.st) ar_release(&tmp);
  return rc;
}

int ar_binary_(ar_ctx *C, ar_binop op, ar_tensor *a, const ar_tensor *b) {
  ar_bump_version(a);
  int rc = check_binop(C, op);
  return rc ? rc : binary_inplace(C, op, 0.0f, a, b);
}

int ar_axpy_(ar_ctx *C, ar_tensor *a, float alpha, const ar_tensor *b) {
  ar_bump_version(a);
  return binary_inplace(C, EW_OP_AXPY, alpha, a, b);
}

int ar_binary_scalar_(ar_ctx *C, ar_binop op, ar_tensor *a, float s) {
  ar_bump_version(a);
  int rc = check_binop(C, op);
  if (!rc) rc = check_writable(C, a);
  if (rc || ar_numel(a) == 0) return rc;
  ew_job J = {.L = cur(), .row = row_binary_inplace_scalar, .op = op, .s = s,
              .grain = bin_grain(op)};
  if (ar_is_contiguous(a)) {
    float *p[1] = {ar_data(a)};
    int64_t st[1] = {1};
    ew_flat(&J, 1, p, st, ar_numel(a));
  } else {
    const ar_tensor *ops[1] = {a};
    ew_strided(&J, 1, ops);
  }
  ew_exec(C, &J);
  return AR_OK;
}

/* ---------- unary ops ---------- */

static void row_unary(const ew_job *J, float *const *p, const int64_t *s, int64_t n) {
  const ew_un_kernels *U = &J->L->un[J->op];
  float *o = p[0];
  const float *a = p[1];
  int64_t os = s[0], as = s[1];
  if (os == 1 && as == 1) {
    U->k(o, a, n);
    return;
  }
  if (as == 0) {
    float v;
    U->k(&v, a, 1);
    fill_strided(J->L, o, os, v, n);
    return;
  }
  float bo[BLK], ba[BLK];
  for (int64_t j = 0; j < n; j += BLK) {
    int64_t m = n - j < BLK ? n - j : BLK;
    const float *pa = as == 1 ? a + j : gather(ba, a + j * as, as, m);
    float *po = os == 1 ? o + j : bo;
    U->k(po, pa, m);
    if (os != 1) scatter(o + j * os, os, po, m);
  }
}

static void row_unary_inplace(const ew_job *J, float *const *p, const int64_t *s, int64_t n) {
  const ew_un_kernels *U = &J->L->un[J->op];
  float *o = p[0];
  int64_t os = s[0];
  if (os == 1) {
    U->ki(o, n);
    return;
  }
  float bo[BLK];
  for (int64_t j = 0; j < n; j += BLK) {
    int64_t m = n - j < BLK ? n - j : BLK;
    gather(bo, o + j * os, os, m);
    U->ki(bo, m);
    scatter(o + j * os, os, bo, m);
  }
}

static int check_unop(ar_ctx *C, int op) {
  if (op < 0 || op >= AR_UNOP_COUNT) return ar_seterr(C, AR_EARG, "unknown unary operation %d", op);
  return AR_OK;
}

/* out = f(a) with a row function over (out, a); shared by unary ops and clamp. */
static int map_new(ar_ctx *C, ar_tensor *out, const ar_tensor *a, ew_job *J) {
  ar_tensor r;
  int rc = ar_empty(C, &r, a->ndim, a->shape);
  if (rc) {
    out->st = NULL;
    return rc;
  }
  int64_t n = ar_numel(&r);
  J->stream = J->stream && ar_stream_ok(ar_data(&r), n);
  if (n > 0) {
    if (ar_is_contiguous(a)) {
      float *p[2] = {ar_data(&r), ar_data(a)};
      int64_t s[2] = {1, 1};
      ew_flat(J, 2, p, s, n);
    } else {
      const ar_tensor *ops[2] = {&r, a};
      ew_strided(J, 2, ops);
    }
    ew_exec(C, J);
  }
  *out = r;
  return AR_OK;
}

int ar_unary(ar_ctx *C, ar_unop op, ar_tensor *out, const ar_tensor *a) {
  int rc = check_unop(C, op);
  if (rc) {
    out->st = NULL;
    return rc;
  }
  ew_job J = {.L = cur(), .row = row_unary, .op = op, .grain = un_grain(op)};
  return map_new(C, out, a, &J);
}

int ar_unary_(ar_ctx *C, ar_unop op, ar_tensor *a) {
  ar_bump_version(a);
  int rc = check_unop(C, op);
  if (!rc) rc = check_writable(C, a);
  if (rc || ar_numel(a) == 0) return rc;
  ew_job J = {.L = cur(), .row = row_unary_inplace, .op = op, .grain = un_grain(op)};
  if (ar_is_contiguous(a)) {
    float *p[1] = {ar_data(a)};
    int64_t s[1] = {1};
    ew_flat(&J, 1, p, s, ar_numel(a));
  } else {
    const ar_tensor *ops[1] = {a};
    ew_strided(&J, 1, ops);
  }
  ew_exec(C, &J);
  return AR_OK;
}

/* ---------- clamp ---------- */

static void row_clamp(const ew_job *J, float *const *p, const int64_t *s, int64_t n) {
  float *o = p[0];
  const float *a = p[1];
  int64_t os = s[0], as = s[1];
  if (os == 1 && as == 1) {
    J->L->clamp(o, a, n, J->lo, J->hi);
    return;
  }
  float bo[BLK], ba[BLK];
  for (int64_t j = 0; j < n; j += BLK) {
    int64_t m = n - j < BLK ? n - j : BLK;
    const float *pa = as == 1 ? a + j : gather(ba, a + j * as, as, m);
    float *po = os == 1 ? o + j : bo;
    J->L->clamp(po, pa, m, J->lo, J->hi);
    if (os != 1) scatter(o + j * os, os, po, m);
  }
}

static void row_nan(const ew_job *J, float *const *p, const int64_t *s, int64_t n) {
  (void)J;
  fill_strided(J->L, p[0], s[0], NAN, n);
}

int ar_clamp(ar_ctx *C, ar_tensor *out, const ar_tensor *a, float lo, float hi) {
  /* a NaN bound makes every result NaN, as in PyTorch */
  ew_job J = {.L = cur(), .row = (isnan(lo) || isnan(hi)) ? row_nan : row_clamp, .lo = lo, .hi = hi,
              .stream = true}; /* (map_new keeps it for a large dense result only) */
  return map_new(C, out, a, &J);
}

/* ---------- where ---------- */

/* o = cond ? a : o over one row (o already holds b). */
static void row_select(const ew_job *J, float *const *p, const int64_t *s, int64_t n) {
  float *o = p[0];
  const float *c = p[1], *a = p[2];
  int64_t os = s[0], cs = s[1], as = s[2];
  if (os == 1 && cs == 1 && as == 1) {
    J->L->select_vv(o, c, a, n);
  } else if (os == 1 && cs == 1 && as == 0) {
    J->L->select_vs(o, c, *a, n);
  } else {
    for (int64_t i = 0; i < n; i++)
      if (c[i * cs] != 0) o[i * os] = a[i * as];
  }
}

int ar_where(ar_ctx *C, ar_tensor *out, const ar_tensor *cond, const ar_tensor *a,
             const ar_tensor *b) {
  ar_tensor r = {0}, vc = {0}, va = {0}, ab = {0};
  int nd;
  int64_t shape[AR_MAXDIM];
  /* the broadcast shape of three: (a, b) first, then with cond */
  int rc = ar_broadcast_shape(C, a, b, &ab.ndim, ab.shape);
  if (!rc) rc = ar_broadcast_shape(C, cond, &ab, &nd, shape);
  if (!rc) rc = ar_empty(C, &r, nd, shape);
  if (rc || ar_numel(&r) == 0) goto done;
  /* out = b everywhere, then a where cond holds: two simple passes instead of a
   * four-operand iterator. */
  rc = ar_copy_(C, &r, b);
  if (rc) goto done;
  ew_job J = {.L = cur(), .row = row_select};
  bool cd = dense_as(cond, &r), ad = dense_as(a, &r);
  if ((cd || ar_numel(cond) == 1) && (ad || ar_numel(a) == 1)) {
    float *p[3] = {ar_data(&r), ar_data(cond), ar_data(a)};
    int64_t s[3] = {1, cd, ad};
    ew_flat(&J, 3, p, s, ar_numel(&r));
  } else {
    rc = ar_broadcast_to(C, &vc, cond, nd, shape);
    if (!rc) rc = ar_broadcast_to(C, &va, a, nd, shape);
    if (rc) goto done;
    const ar_tensor *ops[3] = {&r, &vc, &va};
    ew_strided(&J, 3, ops);
  }
  ew_exec(C, &J);
done:
  if (vc.st) ar_release(&vc);
  if (va.st) ar_release(&va);
  if (rc && r.st) ar_release(&r);
  *out = r;
  return rc;
}
