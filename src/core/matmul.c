/* Matrix products through OpenBLAS's cblas_sgemm.
 *
 * A strided 2-D view goes to sgemm as it is whenever BLAS can address it: unit stride
 * along columns (NoTrans, ld = row stride) or along rows (Trans, ld = column stride: a
 * transposed contiguous matrix). Anything else is copied once.
 */
#include <cblas.h>
#include <limits.h>
#include <string.h>

#include "core/ctx.h"

/* When OpenBLAS's second thread costs more than it gains (measured on 2 Zen 5 cores):
 * narrow outputs (a 10-class layer: 128x10x256 runs up to 1.9x slower on 2 threads) below
 * 2^23 multiply-adds, and anything below 2^18. Wider products gain 1.3-1.9x from 2. */
#define MM_TINY ((double)(1 << 18))
#define MM_NARROW_N 32
#define MM_NARROW ((double)(1 << 23))

/* A matrix operand as sgemm takes it. */
typedef struct {
  const float *p;
  int ld;
  CBLAS_TRANSPOSE tr;
} mm_mat;

/* The r x c matrix at p with strides (s0, s1) as an sgemm operand, or false when BLAS
 * cannot address it without a copy. Strides of size-1 dims do not matter. */
static bool mm_desc(const float *p, int64_t r, int64_t c, int64_t s0, int64_t s1, mm_mat *m)
{
  int64_t ld;
  if ((c <= 1 || s1 == 1) && (r <= 1 || s0 >= (c > 1 ? c : 1))) {
    ld = r <= 1 ? (c > 1 ? c : 1) : s0;
    m->tr = CblasNoTrans;
  } else if ((r <= 1 || s0 == 1) && (c <= 1 || s1 >= (r > 1 ? r : 1))) {
    ld = c <= 1 ? (r > 1 ? r : 1) : s1;
    m->tr = CblasTrans;
  } else {
    return false;
  }
  if (ld > INT_MAX) return false;
  m->p = p;
  m->ld = (int)ld;
  return true;
}

/* Below this many multiply-adds a plain loop beats cblas_sgemm, whose argument checks,
 * buffer set-up and kernel dispatch cost about 1 us: a 2-8-1 network's layers are all
 * far below it. */
#define MM_DIRECT 4096

/* Element (i, j) of an sgemm operand. */
static inline float mm_at(const mm_mat *A, int64_t i, int64_t j)
{
  return A->tr == CblasNoTrans ? A->p[i * A->ld + j] : A->p[j * A->ld + i];
}

/* out = alpha * A B + beta * out by the definition (BLAS semantics:
 * out is not read when beta is 0). */
static void mm_direct(int64_t m, int64_t n, int64_t k, float alpha, const mm_mat *A,
                      const mm_mat *B, float beta, float *out, int64_t ldc)
{
  for (int64_t i = 0; i < m; i++) {
    float *o = out + i * ldc;
    for (int64_t j = 0; j < n; j++) {
      double acc = 0; /* in double: never less accurate than sgemm's float sums */
      for (int64_t q = 0; q < k; q++) acc += (double)mm_at(A, i, q) * mm_at(B, q, j);
      o[j] = beta == 0 ? (float)(alpha * acc) : (float)(alpha * acc + beta * o[j]);
    }
  }
}

/* One sgemm; out is m x n with row stride ldc. */
static void mm_sgemm(int64_t m, int64_t n, int64_t k, float alpha, const mm_mat *A,
                     const mm_mat *B, float beta, float *out, int64_t ldc)
{
  if ((double)m * (double)n * (double)k <= MM_DIRECT) {
    mm_direct(m, n, k, alpha, A, B, beta, out, ldc);
    return;
  }
  cblas_sgemm(CblasRowMajor, A->tr, B->tr, (int)m, (int)n, (int)k, alpha, A->p, A->ld, B->p,
              B->ld, beta, out, (int)(ldc > 1 ? ldc : 1));
}

/* Bits that do not depend on the thread count: OpenBLAS's own threading splits a product
 * differently at 1 and 2 threads, and its edge kernels then sum some dot products in
 * another order (a 256x400 by 400x256 product differed in the last bits). So products
 * are cut into blocks of output rows (or of columns, for short outputs) by their shape
 * alone, each block is one single-threaded sgemm, and only the scheduling of the blocks
 * depends on the threads. Blocks of >= MM_BLOCK rows keep B's repacking per block under
 * 2% of the work. */
#define MM_BLOCK 64
/* Block lengths are whole multiples of this, so only a block's last tile is an edge tile
 * (the x86 sgemm kernels' tiles are 4, 8 or 16 wide). */
#define MM_ALIGN 16
#ifndef MM_MAXBLOCKS
#define MM_MAXBLOCKS 4
#endif
#ifndef MM_PAR
#define MM_PAR ((double)(1 << 22))
#endif

typedef struct {
  int64_t m, n, k, rb; /* rb: rows (or columns, when by_cols) per block */
  bool by_cols;
  float alpha, beta;
  mm_mat A, B;
  float *out;
  int64_t ldc;
} mm_job;

static void mm_blocks(void *arg, int64_t lo, int64_t hi)
{
  const mm_job *J = arg;
  for (int64_t b = lo; b < hi; b++) {
    int64_t first = b * J->rb;
    mm_mat A = J->A, B = J->B;
    if (!J->by_cols) {
      int64_t rows = J->m - first < J->rb ? J->m - first : J->rb;
      A.p += A.tr == CblasNoTrans ? first * A.ld : first;
      mm_sgemm(rows, J->n, J->k, J->alpha, &A, &B, J->beta, J->out + first * J->ldc, J->ldc);
    } else {
      int64_t cols = J->n - first < J->rb ? J->n - first : J->rb;
      B.p += B.tr == CblasNoTrans ? first : first * B.ld;
      mm_sgemm(J->m, cols, J->k, J->alpha, &A, &B, J->beta, J->out + first, J->ldc);
    }
  }
}

/* out (m x n, row stride ldc) = alpha A B + beta out, with the same bits at any thread
 * count (see above). */
static void mm_gemm(ar_ctx *C, int64_t m, int64_t n, int64_t k, float alpha, const mm_mat *A,
                    const mm_mat *B, float beta, float *out, int64_t ldc)
{
  double f = (double)m * (double)n * (double)k;
  if (f <= MM_DIRECT) {
    mm_direct(m, n, k, alpha, A, B, beta, out, ldc);
    return;
  }
  mm_job J = {.m = m, .n = n, .k = k, .alpha = alpha, .beta = beta, .A = *A, .B = *B,
              .out = out, .ldc = ldc};
  J.by_cols = m < 2 * MM_BLOCK && n >= 4 * MM_BLOCK; /* a few rows, many columns */
  int64_t len = J.by_cols ? n : m;
  /* small products: blocks of at least MM_TINY multiply-adds */
  int64_t minb = MM_BLOCK;
  double per_row = J.by_cols ? (double)m * (double)k : (double)n * (double)k;
  while ((double)minb * per_row < MM_TINY && minb < len) minb *= 2;
  /* big products: at most MM_MAXBLOCKS blocks (every block repacks the other operand), of
   * near-equal lengths so that any thread count gets balanced chunks */
  int64_t nb = len / minb;
  nb = nb < 1 ? 1 : nb > MM_MAXBLOCKS ? MM_MAXBLOCKS : nb;
  J.rb = (len + nb - 1) / nb;
  J.rb = (J.rb + MM_ALIGN - 1) / MM_ALIGN * MM_ALIGN;
  int64_t nblocks = (len + J.rb - 1) / J.rb;
  /* in parallel only when a second thread gains (narrow outputs lose below MM_NARROW) */
  bool par = f >= MM_PAR && (n >= MM_NARROW_N || f >= MM_NARROW) && nblocks > 1;
  int prev = openblas_get_num_threads();
  if (prev > 1) openblas_set_num_threads(1);
  ar_parallel_for(C, nblocks, par ? 1 : nblocks, mm_blocks, &J);
  if (prev > 1) openblas_set_num_threads(prev);
}

/* mm_gemm on raw row-major buffers, for kernels such as conv2d's (see core.h). */
void ar_sgemm(ar_ctx *C, bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha,
              const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *out,
              int64_t ldc)
{
  mm_mat A = {a, (int)lda, ta ? CblasTrans : CblasNoTrans};
  mm_mat B = {b, (int)ldb, tb ? CblasTrans : CblasNoTrans};
  mm_gemm(C, m, n, k, alpha, &A, &B, beta, out, ldc);
}

/* ar_blas_enter for a product of m x k by k x n, which reaches OpenBLAS only above
 * MM_DIRECT (see mm_gemm): small products stay possible when memory is short. */
static int mm_enter(ar_ctx *C, int64_t m, int64_t n, int64_t k)
{
  return (double)m * (double)n * (double)k > MM_DIRECT ? ar_blas_enter(C) : AR_OK;
}

static int mm_too_big(ar_ctx *C, int64_t m, int64_t n, int64_t k)
{
  if (m > INT_MAX || n > INT_MAX || k > INT_MAX)
    return ar_seterr(C, AR_ESHAPE, "matrix sizes %lld x %lld x %lld exceed the BLAS limit",
                     (long long)m, (long long)n, (long long)k);
  return AR_OK;
}

static int mm_mismatch(ar_ctx *C, const ar_tensor *a, const ar_tensor *b, int64_t ka,
                       int64_t kb)
{
  char sa[200], sb[200];
  return ar_seterr(C, AR_ESHAPE, "shapes %s and %s do not match (%lld ~= %lld)",
                   ar_shape_str(a->ndim, a->shape, sa, sizeof sa),
                   ar_shape_str(b->ndim, b->shape, sb, sizeof sb), (long long)ka,
                   (long long)kb);
}

/* A 1-, 2- or 3-D operand seen as a batch of matrices. */
typedef struct {
  int64_t batch, r, c;
  int64_t sb, s0, s1;
} mm_view;

static void mm_view_of(const ar_tensor *t, bool is_left, mm_view *v)
{
  v->batch = 1;
  v->sb = 0;
  if (t->ndim == 1) {
    /* a vector is a 1 x k row on the left, a k x 1 column on the right */
    if (is_left) {
      v->r = 1, v->c = t->shape[0], v->s0 = 0, v->s1 = t->stride[0];
    } else {
      v->r = t->shape[0], v->c = 1, v->s0 = t->stride[0], v->s1 = 0;
    }
  } else {
    int o = t->ndim - 2;
    if (t->ndim == 3) v->batch = t->shape[0], v->sb = t->stride[0];
    v->r = t->shape[o], v->c = t->shape[o + 1];
    v->s0 = t->stride[o], v->s1 = t->stride[o + 1];
  }
}

int ar_matmul(ar_ctx *C, ar_tensor *out, const ar_tensor *a, const ar_tensor *b)
{
  out->st = NULL;
  if (a->ndim < 1 || a->ndim > 3 || b->ndim < 1 || b->ndim > 3) {
    char sa[200], sb[200];
    return ar_seterr(C, AR_ESHAPE, "expected 1-D, 2-D or 3-D tensors, got shapes %s and %s",
                     ar_shape_str(a->ndim, a->shape, sa, sizeof sa),
                     ar_shape_str(b->ndim, b->shape, sb, sizeof sb));
  }
  mm_view va, vb;
  mm_view_of(a, true, &va);
  mm_view_of(b, false, &vb);
  if (va.c != vb.r) return mm_mismatch(C, a, b, va.c, vb.r);
  if (va.batch != vb.batch && va.batch != 1 && vb.batch != 1) {
    char sa[200], sb[200];
    return ar_seterr(C, AR_ESHAPE, "batch sizes of shapes %s and %s do not match (%lld ~= %lld)",
                     ar_shape_str(a->ndim, a->shape, sa, sizeof sa),
                     ar_shape_str(b->ndim, b->shape, sb, sizeof sb), (long long)va.batch,
                     (long long)vb.batch);
  }
  const int64_t M = va.r, K = va.c, N = vb.c;
  const int64_t B = va.batch == 1 ? vb.batch : va.batch;
  int rc = mm_too_big(C, M, N, K);
  if (rc) return rc;

  /* torch.matmul's result shape, except that a dot product is {1}, not 0-D */
  int64_t shape[3];
  int nd = 0;
  if (a->ndim == 3 || b->ndim == 3) shape[nd++] = B;
  if (a->ndim > 1) shape[nd++] = M;
  if (b->ndim > 1) shape[nd++] = N;
  if (nd == 0) shape[nd++] = 1;
  rc = ar_empty(C, out, nd, shape);
  if (rc) return rc;
  float *y = ar_data(out);
  if (B == 0 || M == 0 || N == 0) return AR_OK;
  if (K == 0) {
    memset(y, 0, (size_t)(B * M * N) * sizeof(float));
    return AR_OK;
  }

  /* operands BLAS cannot address are copied once, whole */
  ar_tensor ca = {0}, cb = {0};
  mm_mat A, Bm;
  const float *pa = ar_data(a), *pb = ar_data(b);
  if (!mm_desc(pa, M, K, va.s0, va.s1, &A)) {
    rc = ar_contiguous(C, &ca, a);
    if (rc) goto fail;
    mm_view_of(&ca, true, &va);
    pa = ar_data(&ca);
    mm_desc(pa, M, K, va.s0, va.s1, &A);
  }
  if (!mm_desc(pb, K, N, vb.s0, vb.s1, &Bm)) {
    rc = ar_contiguous(C, &cb, b);
    if (rc) goto fail;
    mm_view_of(&cb, false, &vb);
    pb = ar_data(&cb);
    mm_desc(pb, K, N, vb.s0, vb.s1, &Bm);
  }
  if ((rc = mm_enter(C, M, N, K))) goto fail;

  /* one shared right operand: fold a's batch into the rows when its matrices are
   * evenly spaced rows of one bigger matrix (always true for a contiguous a) */
  if (B > 1 && vb.batch == 1 && va.batch == B) {
    int64_t rs = M == 1 ? va.sb : va.s0; /* row stride of the stacked matrix */
    mm_mat F;
    if ((M == 1 || va.sb == M * va.s0) && B * M <= INT_MAX &&
        mm_desc(pa, B * M, K, rs, va.s1, &F)) {
      mm_gemm(C, B * M, N, K, 1.0f, &F, &Bm, 0.0f, y, N);
      goto done;
    }
  }
  for (int64_t i = 0; i < B; i++) {
    mm_mat Ai = A, Bi = Bm;
    Ai.p = pa + (va.batch == 1 ? 0 : i * va.sb);
    Bi.p = pb + (vb.batch == 1 ? 0 : i * vb.sb);
    mm_gemm(C, M, N, K, 1.0f, &Ai, &Bi, 0.0f, y + i * M * N, N);
  }
done:
  if (ca.st) ar_release(&ca);
  if (cb.st) ar_release(&cb);
  return AR_OK;
fail:
  if (ca.st) ar_release(&ca);
  if (cb.st) ar_release(&cb);
  ar_release(out);
  out->st = NULL;
  return rc;
}

int ar_gemm(ar_ctx *C, ar_tensor *out, const ar_tensor *a, bool ta, const ar_tensor *b,
            bool tb, float alpha, float beta)
{
  if (a->ndim != 2 || b->ndim != 2 || out->ndim != 2) {
    char sa[200], sb[200], so[200];
    return ar_seterr(C, AR_ESHAPE, "expected 2-D tensors, got shapes %s, %s and out %s",
                     ar_shape_str(a->ndim, a->shape, sa, sizeof sa),
                     ar_shape_str(b->ndim, b->shape, sb, sizeof sb),
                     ar_shape_str(out->ndim, out->shape, so, sizeof so));
  }
  /* op(a) and op(b) as views: a transpose only swaps shape and strides */
  int ia = ta ? 1 : 0, ib = tb ? 1 : 0;
  int64_t M = a->shape[ia], K = a->shape[1 - ia], K2 = b->shape[ib], N = b->shape[1 - ib];
  if (K != K2) {
    char sa[200], sb[200];
    return ar_seterr(C, AR_ESHAPE, "shapes %s%s and %s%s do not match (%lld ~= %lld)",
                     ar_shape_str(a->ndim, a->shape, sa, sizeof sa), ta ? " (transposed)" : "",
                     ar_shape_str(b->ndim, b->shape, sb, sizeof sb), tb ? " (transposed)" : "",
                     (long long)K, (long long)K2);
  }
  if (out->shape[0] != M || out->shape[1] != N) {
    char so[200];
    return ar_seterr(C, AR_ESHAPE, "out has shape %s, expected {%lld, %lld}",
                     ar_shape_str(out->ndim, out->shape, so, sizeof so), (long long)M,
                     (long long)N);
  }
  int64_t ldc = M <= 1 ? (N > 1 ? N : 1) : out->stride[0];
  if ((N > 1 && out->stride[1] != 1) || ldc < N || ldc > INT_MAX)
    return ar_seterr(C, AR_EARG, "out must have unit stride along its rows");
  if (out->st == a->st || out->st == b->st)
    return ar_seterr(C, AR_EARG, "out must not share storage with an input");
  int rc = mm_too_big(C, M, N, K);
  if (rc) return rc;
  if (M == 0 || N == 0) return AR_OK;
  float *y = ar_data(out);
  if (K == 0) {
    /* nothing to multiply: out = beta * out, without reading out when beta is 0 (BLAS) */
    for (int64_t i = 0; i < M; i++)
      for (int64_t j = 0; j < N; j++) y[i * ldc + j] = beta == 0 ? 0 : beta * y[i * ldc + j];
    return AR_OK;
  }

  ar_tensor ca = {0}, cb = {0};
  mm_mat A, Bm;
  if (!mm_desc(ar_data(a), M, K, a->stride[ia], a->stride[1 - ia], &A)) {
    rc = ar_contiguous(C, &ca, a);
    if (rc) return rc;
    mm_desc(ar_data(&ca), M, K, ca.stride[ia], ca.stride[1 - ia], &A);
  }
  if (!mm_desc(ar_data(b), K, N, b->stride[ib], b->stride[1 - ib], &Bm)) {
    rc = ar_contiguous(C, &cb, b);
    if (rc) {
      if (ca.st) ar_release(&ca);
      return rc;
    }
    mm_desc(ar_data(&cb), K, N, cb.stride[ib], cb.stride[1 - ib], &Bm);
  }
  if ((rc = mm_enter(C, M, N, K))) {
    if (ca.st) ar_release(&ca);
    if (cb.st) ar_release(&cb);
    return rc;
  }
  mm_gemm(C, M, N, K, alpha, &A, &Bm, beta, y, ldc);
  if (ca.st) ar_release(&ca);
  if (cb.st) ar_release(&cb);
  return AR_OK;
}

int ar_linear(ar_ctx *C, ar_tensor *out, const ar_tensor *x, const ar_tensor *w,
              const ar_tensor *b)
{
  out->st = NULL;
  char sx[200], sw[200], sb[200];
  if (x->ndim != 2 || w->ndim != 2)
    return ar_seterr(C, AR_ESHAPE, "expected a 2-D input and a 2-D weight, got shapes %s and %s",
                     ar_shape_str(x->ndim, x->shape, sx, sizeof sx),
                     ar_shape_str(w->ndim, w->shape, sw, sizeof sw));
  const int64_t M = x->shape[0], K = x->shape[1], N = w->shape[0];
  if (w->shape[1] != K)
    return ar_seterr(C, AR_ESHAPE, "input shape %s and weight shape %s do not match (%lld ~= %lld)",
                     ar_shape_str(x->ndim, x->shape, sx, sizeof sx),
                     ar_shape_str(w->ndim, w->shape, sw, sizeof sw), (long long)K,
                     (long long)w->shape[1]);
  if (b && (b->ndim != 1 || b->shape[0] != N))
    return ar_seterr(C, AR_ESHAPE, "bias shape %s does not match weight shape %s (expected {%lld})",
                     ar_shape_str(b->ndim, b->shape, sb, sizeof sb),
                     ar_shape_str(w->ndim, w->shape, sw, sizeof sw), (long long)N);
  int rc = mm_too_big(C, M, N, K);
  if (rc) return rc;
  int64_t shape[2] = {M, N};
  rc = ar_empty(C, out, 2, shape);
  if (rc || M == 0 || N == 0) return rc;
  float *y = ar_data(out);
  /* the bias is the GEMM's starting value (beta = 1): no separate pass over the output */
  if (b) {
    const float *pb = ar_data(b);
    for (int64_t j = 0; j < N; j++) y[j] = pb[j * b->stride[0]];
    for (int64_t i = 1; i < M; i++) memcpy(y + i * N, y, (size_t)N * sizeof(float));
  } else if (K == 0) {
    memset(y, 0, (size_t)(M * N) * sizeof(float));
  }
  if (K == 0) return AR_OK;
  ar_tensor wt = {0};
  ar_transpose(C, &wt, w, 0, 1); /* a view: sgemm reads w transposed in place */
  rc = ar_gemm(C, out, x, false, &wt, false, 1.0f, b ? 1.0f : 0.0f);
  ar_release(&wt);
  if (rc) {
    ar_release(out);
    out->st = NULL;
  }
  return rc;
}
