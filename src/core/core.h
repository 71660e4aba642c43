/* actrun core: float32 tensors, storage, views, ops. No Lua in here.
 *
 * Conventions:
 * - Every function takes the interpreter's context `ar_ctx *C` first: it owns the
 *   storage cache, the RNG, the worker threads and the last error message.
 * - Functions that can fail return an int status: AR_OK (0) or an AR_E* code, and set a
 *   message with ar_seterr() (no function name in it: the binding prefixes that).
 * - Output tensors are passed as `ar_tensor *out`, uninitialised on entry; on success
 *   they hold a new reference to a storage, on failure out->st is NULL.
 * - Dimensions are 0-based in C (the Lua binding converts from 1-based).
 * - Shapes have at most AR_MAXDIM dims; ndim 0 is a scalar (numel 1).
 */
#ifndef ACTRUN_CORE_H
#define ACTRUN_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AR_MAXDIM 8
#define AR_ALIGN 64

enum { AR_OK = 0, AR_EARG, AR_ESHAPE, AR_ERANGE, AR_ENOMEM, AR_EIO };

typedef struct ar_ctx ar_ctx;

/* Reference-counted, 64-byte aligned float buffer owned by one context's cache. */
typedef struct ar_storage {
  float *data;
  size_t nbytes;    /* bytes requested (numel * 4) */
  size_t cap;       /* bytes actually held (the size class) */
  int64_t refcount; /* tensors and saved views holding it; single interpreter thread */
  ar_ctx *ctx;      /* the cache it returns to */
  uint64_t version; /* in-place writes so far (autograd checks what it saved) */
} ar_storage;

/* A view: shape, strides (in elements, may be 0 for broadcast/expand) and offset. */
typedef struct ar_tensor {
  ar_storage *st;
  int64_t offset;
  int ndim;
  int64_t shape[AR_MAXDIM];
  int64_t stride[AR_MAXDIM];
  void *ag; /* autograd metadata; owned by the autograd module, NULL otherwise */
} ar_tensor;

/* Counts an in-place write into t's storage. The core's in-place functions (ar_fill,
 * ar_copy_, ar_binary_, ar_axpy_ ...) call it; so must any code that writes into an
 * existing tensor through its data pointer (optimisers, element setters). Autograd
 * compares the count with the one it saw when it saved a tensor. */
static inline void ar_bump_version(const ar_tensor *t) {
  if (t->st) t->st->version++;
}

/* ---------- context ---------- */
ar_ctx *ar_ctx_new(void);
void ar_ctx_retain(ar_ctx *C);
void ar_ctx_release(ar_ctx *C); /* frees when the last storage and owner let go */
int ar_seterr(ar_ctx *C, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4))); /* returns code */
const char *ar_errmsg(const ar_ctx *C);

/* Bytes handed to new storages (fresh or from the cache) since the last take: the binding
 * turns them into GC debt so Lua collects dead tensors at the pace tensors are made. */
size_t ar_take_alloc_debt(ar_ctx *C);
size_t ar_alloc_debt(const ar_ctx *C);
/* Bytes currently held by live storages, and by the free-buffer cache. */
size_t ar_live_bytes(const ar_ctx *C);
size_t ar_cached_bytes(const ar_ctx *C);
void ar_cache_trim(ar_ctx *C); /* release every cached buffer to the OS */
/* The storage allocator's raw blocks: 64-byte aligned, and from 8 MiB on 2 MiB-aligned and
 * marked for transparent huge pages; NULL when out of memory; released with free(). */
void *ar_block_alloc(size_t bytes);
/* Test hook: make the n-th next storage allocation fail (0 disables). */
void ar_fail_alloc_after(ar_ctx *C, long n);
/* The most the free-buffer cache keeps (set when the context is made). */
size_t ar_cache_limit(const ar_ctx *C);
/* How the default cache limit is found (exposed for tests): an eighth of the least of
 * phys, as_limit and cg_limit (0: no such limit), at most 1 GiB; and the process's cgroup
 * memory limit (v2 or v1, the tightest up the hierarchy; 0: none), with every path read
 * prefixed by root ("" for the real files). */
size_t ar_cache_limit_for(size_t phys, size_t as_limit, size_t cg_limit);
size_t ar_cgroup_memory_limit(const char *root);

/* ---------- SIMD level: which explicit vector kernels run ----------
 * Kernels are compiled once per level and picked at run time (one build runs on any CPU
 * of its architecture). The level is process-wide, like OpenBLAS's thread count: the
 * best this CPU and build can run, lowered (never raised) by the environment variable
 * ACTRUN_SIMD=baseline|avx2|avx512, read once at the first use. */
#define AR_SIMD_BASELINE 0 /* SSE2 on x86-64, NEON on AArch64: vector code everywhere */
#define AR_SIMD_AVX2 1     /* AVX2 + FMA */
#define AR_SIMD_AVX512 2   /* AVX-512F */
#define AR_SIMD_NLEVELS 3
int ar_simd_level(void);
/* true when this build has the level's kernels and this CPU can run them */
bool ar_simd_available(int level);
const char *ar_simd_name(int level); /* "baseline", "avx2", "avx512" */
int ar_simd_parse(const char *name); /* the level of a name, or -1 */
/* For tests and benchmarks: switch the level (AR_EARG when unavailable). Not for use
 * while other threads run kernels. */
int ar_simd_set_level(int level);

/* ---------- threads ---------- */
void ar_set_num_threads(ar_ctx *C, int n); /* also sets OpenBLAS's thread count */
int ar_get_num_threads(const ar_ctx *C);
/* Runs fn(arg, lo, hi) over [0, n) split in contiguous chunks across the context's
 * workers when n >= grain * 2 and threads > 1, else inline. Workers sleep (no spin). */
typedef void (*ar_range_fn)(void *arg, int64_t lo, int64_t hi);
void ar_parallel_for(ar_ctx *C, int64_t n, int64_t grain, ar_range_fn fn, void *arg);
/* Elements per thread below which elementwise work stays on one thread. */
#define AR_PAR_GRAIN (1 << 16)

/* ---------- RNG: Philox4x32-10, counter based ---------- */
void ar_manual_seed(ar_ctx *C, uint64_t seed);
/* Reserve n draws of 32-bit words; returns the first counter. Element i of a fill uses
 * counter (first + i/4), word i%4, so results do not depend on the thread count. */
uint64_t ar_rng_reserve(ar_ctx *C, uint64_t nwords);
void ar_philox(uint64_t key, uint64_t counter, uint32_t out[4]);
uint64_t ar_rng_key(const ar_ctx *C);
int ar_rand_uniform(ar_ctx *C, ar_tensor *t, float lo, float hi); /* in place, [lo,hi) */
int ar_rand_normal(ar_ctx *C, ar_tensor *t, float mean, float std); /* Box-Muller */

/* ---------- storage and tensor basics (tensor.c) ---------- */
int ar_storage_new(ar_ctx *C, size_t numel, ar_storage **out);
void ar_storage_retain(ar_storage *s);
void ar_storage_release(ar_storage *s);

int ar_empty(ar_ctx *C, ar_tensor *out, int ndim, const int64_t *shape);
int ar_empty_like(ar_ctx *C, ar_tensor *out, const ar_tensor *t);
/* Validates a shape: 0 <= ndim <= 8, sizes >= 0, product fits in memory limits. */
int ar_check_shape(ar_ctx *C, int ndim, const int64_t *shape);
/* A new contiguous tensor of t's (valid) shape, whose element count n the caller has
 * computed: ar_empty without checking the shape again (the small-op paths). */
int ar_empty_dense(ar_ctx *C, ar_tensor *out, const ar_tensor *t, int64_t n);

/* Outputs too large for the last-level cache are written with non-temporal stores by the
 * memory-bound kernels: each AR_STREAM_CH-element piece is computed into a buffer in L1
 * and copied out bypassing the caches, which saves the write-allocate read of every
 * output line (12 bytes of traffic per element of y = f(x) become 8). */
#define AR_STREAM_MIN ((int64_t)1 << 22)
#define AR_STREAM_CH 1024
/* True when the machine has the stores, n >= AR_STREAM_MIN and y is 64-byte aligned. */
bool ar_stream_ok(const float *y, int64_t n);
/* y[0..m) = buf[0..m) with non-temporal stores; m a multiple of 16, y 64-byte aligned. */
void ar_stream_store(float *y, const float *buf, int64_t m);
/* Orders the non-temporal stores before what follows (end of a range). */
void ar_stream_fence(void);
void ar_release(ar_tensor *t);                        /* drops the storage reference */
void ar_share(ar_tensor *dst, const ar_tensor *src);   /* dst = new reference to src's view */
int64_t ar_numel(const ar_tensor *t);
bool ar_is_contiguous(const ar_tensor *t);
static inline float *ar_data(const ar_tensor *t) { return t->st->data + t->offset; }
bool ar_same_shape(const ar_tensor *a, const ar_tensor *b);
/* Formats a shape as "{2,3}" into buf (returns buf); n >= 8 * 21 + 3 always suffices. */
char *ar_shape_str(int ndim, const int64_t *shape, char *buf, size_t n);
/* Element offset (relative to storage data) of a 0-based index vector. */
int64_t ar_offset_of(const ar_tensor *t, const int64_t *idx);

/* ---------- views (share storage; no copy) ---------- */
/* reshape: one size may be -1. view fails with AR_ESHAPE when strides do not allow it;
 * reshape copies in that case. */
int ar_view(ar_ctx *C, ar_tensor *out, const ar_tensor *t, int ndim, const int64_t *shape);
int ar_reshape(ar_ctx *C, ar_tensor *out, const ar_tensor *t, int ndim, const int64_t *shape);
int ar_transpose(ar_ctx *C, ar_tensor *out, const ar_tensor *t, int d1, int d2);
int ar_narrow(ar_ctx *C, ar_tensor *out, const ar_tensor *t, int dim, int64_t start, int64_t len);
int ar_select(ar_ctx *C, ar_tensor *out, const ar_tensor *t, int dim, int64_t index);
int ar_unsqueeze(ar_ctx *C, ar_tensor *out, const ar_tensor *t, int dim);
int ar_squeeze(ar_ctx *C, ar_tensor *out, const ar_tensor *t, int dim); /* dim -1: all */
int ar_expand(ar_ctx *C, ar_tensor *out, const ar_tensor *t, int ndim, const int64_t *shape);
int ar_flatten(ar_ctx *C, ar_tensor *out, const ar_tensor *t);
int ar_contiguous(ar_ctx *C, ar_tensor *out, const ar_tensor *t); /* shares if already */
int ar_clone(ar_ctx *C, ar_tensor *out, const ar_tensor *t);

/* ---------- strided iteration helper (tensor.c) ----------
 * Up to 3 operands of one broadcast shape; dims are coalesced where memory allows so the
 * innermost loop is as long as possible. Operand 0 is usually the output. */
typedef struct ar_iter {
  int ndim;                  /* after coalescing, >= 1 */
  int64_t shape[AR_MAXDIM];  /* shape[ndim-1] is the inner length */
  int64_t stride[3][AR_MAXDIM];
  float *base[3];
  int nops;
  int64_t outer;             /* product of shape[0..ndim-2] */
} ar_iter;
/* ops[i] must already have `shape` as its shape after broadcasting: pass views made by
 * ar_broadcast_to. */
void ar_iter_init(ar_iter *it, int nops, const ar_tensor *const *ops);
/* Pointers of every operand for outer row r (0 <= r < outer). */
void ar_iter_row(const ar_iter *it, int64_t r, float **ptrs);

/* Broadcast shape of a and b (NumPy rules), into shape/ndim. AR_ESHAPE with message. */
int ar_broadcast_shape(ar_ctx *C, const ar_tensor *a, const ar_tensor *b, int *ndim,
                       int64_t *shape);
/* A view of t expanded to shape (stride 0 on broadcast dims); fails if incompatible. */
int ar_broadcast_to(ar_ctx *C, ar_tensor *out, const ar_tensor *t, int ndim,
                    const int64_t *shape);

/* ---------- creation and in-place (elementwise.c) ---------- */
int ar_fill(ar_ctx *C, ar_tensor *t, float v);
int ar_copy_(ar_ctx *C, ar_tensor *dst, const ar_tensor *src); /* src broadcast to dst */
int ar_range(ar_ctx *C, ar_tensor *out, double a, double b, double step);
int ar_linspace(ar_ctx *C, ar_tensor *out, double a, double b, int64_t n);
int ar_eye(ar_ctx *C, ar_tensor *out, int64_t n, int64_t m);

/* ---------- elementwise (elementwise.c) ---------- */
typedef enum {
  AR_ADD, AR_SUB, AR_MUL, AR_DIV, AR_POW,
  AR_GT, AR_LT, AR_GE, AR_LE, AR_EQ, AR_NE,
  AR_MAXIMUM, AR_MINIMUM,
  AR_BINOP_COUNT
} ar_binop;
typedef enum {
  AR_NEG, AR_EXP, AR_LOG, AR_SQRT, AR_ABS, AR_SIN, AR_COS, AR_TANH, AR_SIGMOID,
  AR_SIGN, AR_FLOOR, AR_CEIL, AR_ROUND, AR_RECIP, AR_SQUARE,
  AR_UNOP_COUNT
} ar_unop;
const char *ar_binop_name(ar_binop op); /* "add", "sub", ... */
const char *ar_unop_name(ar_unop op);   /* "neg", "exp", ... */

/* out = a op b with broadcasting (new storage). */
int ar_binary(ar_ctx *C, ar_binop op, ar_tensor *out, const ar_tensor *a, const ar_tensor *b);
/* out = a op s, or s op a when scalar_left. */
int ar_binary_scalar(ar_ctx *C, ar_binop op, ar_tensor *out, const ar_tensor *a, float s,
                     bool scalar_left);
/* In place: a = a op b, b broadcast to a's shape. */
int ar_binary_(ar_ctx *C, ar_binop op, ar_tensor *a, const ar_tensor *b);
int ar_binary_scalar_(ar_ctx *C, ar_binop op, ar_tensor *a, float s);
/* a += alpha * b (b broadcast to a), the accumulate used by autograd and optimisers. */
int ar_axpy_(ar_ctx *C, ar_tensor *a, float alpha, const ar_tensor *b);

int ar_unary(ar_ctx *C, ar_unop op, ar_tensor *out, const ar_tensor *a);
int ar_unary_(ar_ctx *C, ar_unop op, ar_tensor *a);
int ar_clamp(ar_ctx *C, ar_tensor *out, const ar_tensor *a, float lo, float hi);
/* where(cond != 0, a, b) with broadcasting. */
int ar_where(ar_ctx *C, ar_tensor *out, const ar_tensor *cond, const ar_tensor *a,
             const ar_tensor *b);

/* ---------- reductions (reduce.c) ----------
 * dim = -1 reduces everything to shape {1} (or {1,..,1} with keepdim). Accumulation is
 * in double, in fixed-size blocks combined in a fixed order: results are bitwise
 * identical whatever the thread count. */
typedef enum { AR_SUM, AR_MEAN, AR_VAR, AR_STD, AR_NORM, AR_PROD, AR_RMAX, AR_RMIN } ar_redop;
/* p: the norm's order (AR_NORM only; 2 by default, inf allowed). correction: 1 for the
 * unbiased var/std. */
int ar_reduce(ar_ctx *C, ar_redop op, ar_tensor *out, const ar_tensor *a, int dim,
              bool keepdim, double p, int correction);
/* Values and 1-based float indices of the max (or min) along dim (first occurrence; NaN
 * wins, as PyTorch). idx may be NULL. */
int ar_maxmin_dim(ar_ctx *C, bool is_max, ar_tensor *vals, ar_tensor *idx,
                  const ar_tensor *a, int dim, bool keepdim);

/* ---------- matmul, cat, stack (matmul.c, shape.c) ---------- */
/* 1-D, 2-D and batched 3-D (batch broadcast when one side is 2-D), as torch.matmul.
 * Transposed views go to cblas_sgemm without a copy. */
int ar_matmul(ar_ctx *C, ar_tensor *out, const ar_tensor *a, const ar_tensor *b);
/* out = alpha * a @ b + beta * out, out already allocated {m, n} (2-D only). */
int ar_gemm(ar_ctx *C, ar_tensor *out, const ar_tensor *a, bool ta, const ar_tensor *b,
            bool tb, float alpha, float beta);
/* The same on raw row-major buffers: out (m x n, row stride ldc) = alpha op(a) op(b) +
 * beta out, op a transpose when ta / tb; a's row stride lda, b's ldb (all below 2^31).
 * Cut into output blocks by the shape alone, each one single-threaded sgemm, run on C's
 * pool (inline inside a pool chunk): the same bits at any thread count. Leaves OpenBLAS's
 * thread count as it found it. */
void ar_sgemm(ar_ctx *C, bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha,
              const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *out,
              int64_t ldc);
/* y = x w^T + b (b may be NULL): x {m, k}, w {n, k}, b {n}; the bias starts the GEMM's
 * accumulation, so the layer is one pass over its output. */
int ar_linear(ar_ctx *C, ar_tensor *out, const ar_tensor *x, const ar_tensor *w,
              const ar_tensor *b);
int ar_cat(ar_ctx *C, ar_tensor *out, const ar_tensor *const *list, int n, int dim);
int ar_stack(ar_ctx *C, ar_tensor *out, const ar_tensor *const *list, int n, int dim);

/* ---------- indexing and ordering (index.c) ----------
 * Index tensors hold 1-based integers as floats (actrun's convention for indices); every
 * entry is checked (an integer in 1..size) before anything is written. Results are the
 * same bits at any thread count. */
/* AR_EARG (not an integer) or AR_ERANGE (outside 1..size), naming the entry's position. */
int ar_check_index(ar_ctx *C, const ar_tensor *idx, int64_t size);
/* A random permutation of 1..n (n <= 2^24) drawn from the context's RNG (manual_seed). */
int ar_randperm(ar_ctx *C, ar_tensor *out, int64_t n);
/* out = a with dim replaced by the entries idx (1-D) selects, in idx's order. */
int ar_index_select(ar_ctx *C, ar_tensor *out, const ar_tensor *a, int dim,
                    const ar_tensor *idx);
/* The adjoint of index_select: zeros with size along dim, g's slices added at idx. */
int ar_index_add(ar_ctx *C, ar_tensor *out, const ar_tensor *g, int dim, const ar_tensor *idx,
                 int64_t size);
/* out[.., j, ..] = a[.., idx[.., j, ..], ..] along dim; idx has a's ndim and at most a's
 * sizes on the other dims; out has idx's shape. */
int ar_gather(ar_ctx *C, ar_tensor *out, const ar_tensor *a, int dim, const ar_tensor *idx);
/* The adjoint of gather: zeros of `shape`, g (idx's shape) added at idx along dim. */
int ar_scatter_add(ar_ctx *C, ar_tensor *out, const ar_tensor *g, int dim, const ar_tensor *idx,
                   int ndim, const int64_t *shape);
/* Stable sort along dim: values and 1-based float indices; NaN sorts as the greatest. */
int ar_sort(ar_ctx *C, ar_tensor *vals, ar_tensor *idx, const ar_tensor *a, int dim,
            bool descending);
/* The k largest (or smallest) along dim, in sorted order, ties in input order. */
int ar_topk(ar_ctx *C, ar_tensor *vals, ar_tensor *idx, const ar_tensor *a, int64_t k, int dim,
            bool largest);
/* Running sums along dim (in double), from the end when reverse (cumsum's adjoint). */
int ar_cumsum(ar_ctx *C, ar_tensor *out, const ar_tensor *a, int dim, bool reverse);

#endif
