/* Context, caching storage allocator, tensor views, broadcasting and strided iteration. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/ctx.h"

/* ---------- context ---------- */

/* Memory limits, read once per context (no system call on the allocator's paths). */

/* A cgroup limit file's value; 0 when missing or unlimited: "max" (v2), v1's "unlimited"
 * (2^63 rounded down to a page) and anything from 2^60 up. */
static size_t cg_read(const char *file) {
  FILE *f = fopen(file, "r");
  if (!f) return 0;
  unsigned long long v = 0;
  int ok = fscanf(f, "%llu", &v) == 1; /* "max" does not scan: no limit */
  fclose(f);
  return ok && v < (1ULL << 60) ? (size_t)v : 0;
}

/* The tightest memory.max (cgroup v2) or memory.limit_in_bytes (v1) on the way from the
 * process's cgroup up to the root of its hierarchy: a parent's limit binds its children
 * too, and inside a container the path in /proc/self/cgroup may not exist under the
 * mount, whose root then holds the container's own limit. 0 when there is none. root
 * prefixes both paths (tests give a fake tree; "" is the real one). */
size_t ar_cgroup_memory_limit(const char *root) {
  char file[4096], line[2048];
  snprintf(file, sizeof file, "%s/proc/self/cgroup", root);
  FILE *f = fopen(file, "r");
  if (!f) return 0;
  size_t best = 0;
  while (fgets(line, sizeof line, f)) {
    /* "0::/path" is v2; "N:memory:/path" or "N:cpu,memory:/path" is v1's memory controller */
    char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (!c2) continue;
    *c2 = 0;
    const char *dir, *name;
    if (!c1[1]) {
      dir = "/sys/fs/cgroup", name = "memory.max";
    } else {
      bool mem = false;
      char *save = NULL;
      for (char *t = strtok_r(c1 + 1, ",", &save); t && !mem; t = strtok_r(NULL, ",", &save))
        mem = strcmp(t, "memory") == 0;
      if (!mem) continue;
      dir = "/sys/fs/cgroup/memory", name = "memory.limit_in_bytes";
    }
    char path[2048];
    snprintf(path, sizeof path, "%s", c2 + 1);
    size_t n = strcspn(path, "\n");
    while (n > 0 && path[n - 1] == '/') n--; /* "/" is the root: "" */
    path[n] = 0;
    for (;;) { /* this cgroup, then each parent up to the mount's root */
      snprintf(file, sizeof file, "%s%s%s/%s", root, dir, path, name);
      size_t v = cg_read(file);
      if (v && (!best || v < best)) best = v;
      char *slash = strrchr(path, '/');
      if (!slash) break;
      *slash = 0;
    }
  }
  fclose(f);
  return best;
}

/* The free-buffer cache may hold an eighth of the memory the process can actually use,
 * and never more than 1 GiB. Usable: the least of physical memory, the address-space limit
 * (RLIMIT_AS, ulimit -v) and the cgroup's limit (0: none). An eighth leaves the rest to
 * live tensors, Lua and OpenBLAS, whose work buffer (128 MiB per calling thread) it must
 * find outside the cache: with the old bound of an eighth of physical memory a 1.4 GB
 * ulimit kept 1 GiB cached after a failure, and OpenBLAS then retried its allocation
 * forever. The cap keeps a big machine from holding gigabytes it will not reuse. */
size_t ar_cache_limit_for(size_t phys, size_t as_limit, size_t cg_limit) {
  size_t usable = phys ? phys : ((size_t)1 << 33);
  if (as_limit && as_limit < usable) usable = as_limit;
  if (cg_limit && cg_limit < usable) usable = cg_limit;
  size_t lim = usable / 8;
  return lim < ((size_t)1 << 30) ? lim : ((size_t)1 << 30);
}

static size_t default_cache_limit(void) {
  long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
  size_t phys = (pages > 0 && psize > 0) ? (size_t)pages * (size_t)psize : 0;
  struct rlimit rl;
  size_t as = 0;
  if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) as = (size_t)rl.rlim_cur;
  return ar_cache_limit_for(phys, as, ar_cgroup_memory_limit(""));
}

ar_ctx *ar_ctx_new(void) {
  ar_ctx *C = calloc(1, sizeof *C);
  if (!C) return NULL;
  C->refcount = 1;
  C->cache_limit = default_cache_limit();
  C->nthreads = 1;
  C->grad_enabled = true;
  {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    C->nthreads = n > 0 ? (n > 64 ? 64 : (int)n) : 1;
  }
  ar_manual_seed(C, 0x5eed);
  return C;
}

void ar_ctx_retain(ar_ctx *C) { C->refcount++; }

void ar_ctx_release(ar_ctx *C) {
  if (!C || --C->refcount > 0) return;
  ar_cache_trim(C);
  if (C->pool) ar_pool_free(C->pool);
  free(C);
}

int ar_seterr(ar_ctx *C, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(C->err, sizeof C->err, fmt, ap);
  va_end(ap);
  if (code == AR_ENOMEM) C->mem_short = true; /* see ar_blas_enter */
  return code;
}

const char *ar_errmsg(const ar_ctx *C) { return C->err; }

size_t ar_take_alloc_debt(ar_ctx *C) {
  size_t d = C->alloc_debt;
  C->alloc_debt = 0;
  return d;
}
size_t ar_alloc_debt(const ar_ctx *C) { return C->alloc_debt; }
size_t ar_live_bytes(const ar_ctx *C) { return C->live_bytes; }
size_t ar_cached_bytes(const ar_ctx *C) { return C->cached_bytes; }
size_t ar_cache_limit(const ar_ctx *C) { return C->cache_limit; }
void ar_fail_alloc_after(ar_ctx *C, long n) { C->fail_after = n; }

/* ---------- storage: header and data in one 64-byte aligned block ----------
 * Size classes: 64 bytes, then four classes per power of two (at most 25% slack), so a
 * training loop's repeated shapes always find their buffer in the freelist. */
#define HDR AR_ALIGN

static int size_class(size_t bytes, size_t *cap) {
  if (bytes <= 64) {
    *cap = 64;
    return 0;
  }
  int p = 63 - __builtin_clzll((unsigned long long)(bytes - 1)); /* 2^p < bytes <= 2^(p+1) */
  size_t step = (size_t)1 << (p - 2);
  size_t k = (bytes + step - 1) / step; /* 5..8 */
  *cap = k * step;
  int cls = 1 + (p - 6) * 4 + (int)(k - 5);
  return cls < AR_NCLASSES ? cls : -1;
}

void ar_cache_trim(ar_ctx *C) {
  for (int i = 0; i < AR_NCLASSES; i++) {
    ar_freebuf *b = C->freelist[i];
    while (b) {
      ar_freebuf *next = b->next;
      free(b);
      b = next;
    }
    C->freelist[i] = NULL;
  }
  C->cached_bytes = 0;
}

/* OpenBLAS's work buffer: BUFFER_SIZE (128 MiB in x86-64 builds) plus its header, which
 * it maps, or failing that mallocs, once per thread that calls it (gdb on a spinning
 * process: blas_memory_alloc looping over mmap and malloc of 134221824 bytes). It keeps
 * the buffers, so the probe below can refuse a call that would have fit in buffers taken
 * earlier; after an allocation failure an error is the safe side of that choice. */
#define BLAS_BUFFER (((size_t)128 << 20) + ((size_t)64 << 10))

int ar_blas_reserve(ar_ctx *C) {
  ar_cache_trim(C);
  /* room for a buffer per thread that may call OpenBLAS in this product: mapped the way
   * OpenBLAS maps it (so an address-space limit or strict overcommit refuses it the same
   * way), never touched, and given back at once */
  size_t n = (size_t)(C->nthreads > 0 ? C->nthreads : 1) * BLAS_BUFFER;
  void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    return ar_seterr(C, AR_ENOMEM, "not enough memory for OpenBLAS's work buffers (%zu MB)",
                     n >> 20);
  munmap(p, n);
  C->mem_short = false;
  return AR_OK;
}

/* Blocks of HUGE_MIN bytes and more are aligned to 2 MiB and marked for transparent huge
 * pages (this kernel gives them only where asked: "madvise" mode). Streaming 16M floats
 * through a leaky_relu kernel took 4.0-4.3 ms on huge pages against 4.9-5.1 on 4 KiB
 * ones, and the same activation from Lua moved between 4 and 7.5 ms from one buffer to
 * the next without them. The rounding costs at most 2 MiB of a block of 8 MiB or more. */
#define HUGE_MIN ((size_t)8 << 20)
#define HUGE_ALIGN ((size_t)2 << 20)
void *ar_block_alloc(size_t bytes) {
  if (bytes < HUGE_MIN) /* C11 wants the size a multiple of the alignment */
    return aligned_alloc(AR_ALIGN, (bytes + AR_ALIGN - 1) & ~(size_t)(AR_ALIGN - 1));
  size_t sz = (bytes + HUGE_ALIGN - 1) & ~(HUGE_ALIGN - 1);
  void *p = aligned_alloc(HUGE_ALIGN, sz);
#ifdef MADV_HUGEPAGE
  if (p) (void)madvise(p, sz, MADV_HUGEPAGE);
#endif
  return p;
}

int ar_storage_new(ar_ctx *C, size_t numel, ar_storage **out) {
  *out = NULL;
  if (numel > ((size_t)1 << 60) / sizeof(float))
    return ar_seterr(C, AR_ENOMEM, "not enough memory for %zu elements", numel);
  size_t bytes = numel * sizeof(float), cap;
  int cls = size_class(bytes, &cap);
  if (cls < 0) return ar_seterr(C, AR_ENOMEM, "not enough memory for %zu elements", numel);
  if (C->fail_after > 0 && --C->fail_after == 0)
    return ar_seterr(C, AR_ENOMEM, "not enough memory (injected failure)");
  void *block = NULL;
  if (C->freelist[cls]) {
    ar_freebuf *b = C->freelist[cls];
    C->freelist[cls] = b->next;
    C->cached_bytes -= cap;
    block = b;
  } else {
    block = ar_block_alloc(HDR + cap);
    if (!block && C->cached_bytes) { /* under pressure: give the cache back, retry */
      ar_cache_trim(C);
      block = ar_block_alloc(HDR + cap);
    }
    if (!block) return ar_seterr(C, AR_ENOMEM, "not enough memory for %zu bytes", bytes);
  }
  C->alloc_debt += cap; /* cache hits count too: dead tensors must be collected to be reused */
  ar_storage *s = block;
  s->data = (float *)((char *)block + HDR);
  s->nbytes = bytes;
  s->cap = cap;
  s->refcount = 1;
  s->ctx = C;
  s->version = 0;
  C->live_bytes += cap;
  ar_ctx_retain(C);
  *out = s;
  return AR_OK;
}

void ar_storage_retain(ar_storage *s) { s->refcount++; }

void ar_storage_release(ar_storage *s) {
  if (!s || --s->refcount > 0) return;
  ar_ctx *C = s->ctx;
  size_t cap = s->cap, dummy;
  int cls = size_class(s->nbytes, &dummy);
  C->live_bytes -= cap;
  if (C->cached_bytes + cap <= C->cache_limit) {
    ar_freebuf *b = (ar_freebuf *)s;
    b->next = C->freelist[cls];
    C->freelist[cls] = b;
    C->cached_bytes += cap;
  } else {
    free(s);
  }
  ar_ctx_release(C);
}

/* ---------- tensors ---------- */

char *ar_shape_str(int ndim, const int64_t *shape, char *buf, size_t n) {
  size_t k = 0;
  k += (size_t)snprintf(buf + k, n - k, "{");
  for (int i = 0; i < ndim && k < n; i++)
    k += (size_t)snprintf(buf + k, n - k, i ? ",%lld" : "%lld", (long long)shape[i]);
  if (k < n) snprintf(buf + k, n - k, "}");
  return buf;
}

int ar_check_shape(ar_ctx *C, int ndim, const int64_t *shape) {
  if (ndim < 0 || ndim > AR_MAXDIM)
    return ar_seterr(C, AR_EARG, "a tensor has at most %d dimensions, got %d", AR_MAXDIM, ndim);
  /* n: the product of the nonzero sizes, bounded by 2^58 elements (2^60 bytes) at each
   * step so it never overflows. A zero size makes the tensor empty but not its strides
   * (ar_empty multiplies the sizes after it), so zeros do not lift the bound. */
  int64_t n = 1;
  bool empty = false;
  for (int i = 0; i < ndim; i++) {
    if (shape[i] < 0)
      return ar_seterr(C, AR_EARG, "size %lld of dimension %d is negative",
                       (long long)shape[i], i + 1);
    if (shape[i] == 0) {
      empty = true;
      continue;
    }
    if (n > ((int64_t)1 << 58) / shape[i]) {
      char b[200];
      if (empty)
        return ar_seterr(C, AR_EARG, "shape %s is too large: its nonzero sizes multiply past 2^58",
                         ar_shape_str(ndim, shape, b, sizeof b));
      for (int j = i + 1; j < ndim; j++)
        if (shape[j] == 0)
          return ar_seterr(C, AR_EARG,
                           "shape %s is too large: its nonzero sizes multiply past 2^58",
                           ar_shape_str(ndim, shape, b, sizeof b));
      return ar_seterr(C, AR_ENOMEM, "not enough memory for a tensor of shape %s",
                       ar_shape_str(ndim, shape, b, sizeof b));
    }
    n *= shape[i];
  }
  return AR_OK;
}

int ar_empty(ar_ctx *C, ar_tensor *out, int ndim, const int64_t *shape) {
  memset(out, 0, sizeof *out);
  int rc = ar_check_shape(C, ndim, shape);
  if (rc) return rc;
  int64_t n = 1;
  for (int i = ndim - 1; i >= 0; i--) {
    out->shape[i] = shape[i];
    out->stride[i] = n;
    n *= shape[i];
  }
  out->ndim = ndim;
  rc = ar_storage_new(C, (size_t)n, &out->st);
  if (rc) {
    char b[200];
    return ar_seterr(C, rc, "not enough memory for a tensor of shape %s",
                     ar_shape_str(ndim, shape, b, sizeof b));
  }
  return AR_OK;
}

int ar_empty_dense(ar_ctx *C, ar_tensor *out, const ar_tensor *t, int64_t n) {
  out->st = NULL;
  out->offset = 0;
  out->ndim = t->ndim;
  out->ag = NULL;
  int64_t s = 1;
  for (int i = t->ndim - 1; i >= 0; i--) {
    out->shape[i] = t->shape[i];
    out->stride[i] = s;
    s *= t->shape[i];
  }
  int rc = ar_storage_new(C, (size_t)n, &out->st);
  if (rc) {
    char b[200];
    return ar_seterr(C, rc, "not enough memory for a tensor of shape %s",
                     ar_shape_str(t->ndim, t->shape, b, sizeof b));
  }
  return AR_OK;
}

int ar_empty_like(ar_ctx *C, ar_tensor *out, const ar_tensor *t) {
  return ar_empty(C, out, t->ndim, t->shape);
}

void ar_release(ar_tensor *t) {
  if (t->st) ar_storage_release(t->st);
  t->st = NULL;
}

void ar_share(ar_tensor *dst, const ar_tensor *src) {
  if (dst != src) *dst = *src;
  dst->ag = NULL;
  if (dst->st) ar_storage_retain(dst->st);
}

int64_t ar_numel(const ar_tensor *t) {
  int64_t n = 1;
  for (int i = 0; i < t->ndim; i++) n *= t->shape[i];
  return n;
}

bool ar_is_contiguous(const ar_tensor *t) {
  int64_t expect = 1;
  for (int i = t->ndim - 1; i >= 0; i--) {
    if (t->shape[i] == 1) continue;
    if (t->stride[i] != expect) return false;
    expect *= t->shape[i];
  }
  return true;
}

bool ar_same_shape(const ar_tensor *a, const ar_tensor *b) {
  if (a->ndim != b->ndim) return false;
  for (int i = 0; i < a->ndim; i++)
    if (a->shape[i] != b->shape[i]) return false;
  return true;
}

int64_t ar_offset_of(const ar_tensor *t, const int64_t *idx) {
  int64_t o = t->offset;
  for (int i = 0; i < t->ndim; i++) o += idx[i] * t->stride[i];
  return o;
}

/* ---------- views ---------- */

static int check_dim(ar_ctx *C, int dim, int ndim) {
  if (dim < 0 || dim >= ndim)
    return ar_seterr(C, AR_ERANGE, "dimension %d out of range (the tensor has %d)", dim + 1,
                     ndim);
  return AR_OK;
}

/* Resolves one -1 in shape and checks the element count matches numel. */
static int infer_shape(ar_ctx *C, int64_t numel, int ndim, const int64_t *shape, int64_t *res,
                       const ar_tensor *t) {
  int infer = -1;
  int64_t known = 1, nonzero = 1; /* nonzero: bounds the strides of an empty result too */
  if (ndim < 0 || ndim > AR_MAXDIM)
    return ar_seterr(C, AR_EARG, "a tensor has at most %d dimensions, got %d", AR_MAXDIM, ndim);
  for (int i = 0; i < ndim; i++) {
    if (shape[i] == -1) {
      if (infer >= 0) return ar_seterr(C, AR_EARG, "only one size may be -1");
      infer = i;
    } else if (shape[i] < 0) {
      return ar_seterr(C, AR_EARG, "invalid size %lld", (long long)shape[i]);
    } else {
      if (shape[i] && nonzero > ((int64_t)1 << 58) / shape[i])
        return ar_seterr(C, AR_ESHAPE, "shape too large: its sizes multiply past 2^58");
      if (shape[i]) nonzero *= shape[i];
      known *= shape[i];
    }
    res[i] = shape[i];
  }
  char b1[200], b2[200];
  if (infer >= 0) {
    if (known == 0 || numel % known)
      return ar_seterr(C, AR_ESHAPE, "shape %s is invalid for a tensor of %lld elements (%s)",
                       ar_shape_str(ndim, shape, b1, sizeof b1), (long long)numel,
                       ar_shape_str(t->ndim, t->shape, b2, sizeof b2));
    res[infer] = numel / known;
  } else if (known != numel) {
    return ar_seterr(C, AR_ESHAPE, "shape %s is invalid for a tensor of %lld elements (%s)",
                     ar_shape_str(ndim, shape, b1, sizeof b1), (long long)numel,
                     ar_shape_str(t->ndim, t->shape, b2, sizeof b2));
  }
  return AR_OK;
}

/* Strides for viewing t as `shape` without copying, or false when memory does not allow
 * it. Old dims are grouped into chunks that are contiguous in memory; new dims must
 * split each chunk exactly, innermost first. */
static bool view_strides(const ar_tensor *t, int ndim, const int64_t *shape, int64_t *stride) {
  if (ar_numel(t) == 0 || t->ndim == 0) { /* no memory constraint: plain row-major strides */
    int64_t s = 1;
    for (int i = ndim - 1; i >= 0; i--) {
      stride[i] = s;
      s *= shape[i] ? shape[i] : 1;
    }
    return true;
  }
  int vd = ndim - 1;
  int64_t base = t->stride[t->ndim - 1], tnum = 1, vnum = 1;
  for (int td = t->ndim - 1; td >= 0; td--) {
    tnum *= t->shape[td];
    bool chunk_end = td == 0 || (t->shape[td - 1] != 1 && t->stride[td - 1] != tnum * base);
    if (!chunk_end) continue;
    while (vd >= 0 && (vnum < tnum || shape[vd] == 1)) {
      stride[vd] = vnum * base;
      vnum *= shape[vd];
      vd--;
    }
    if (vnum != tnum) return false;
    if (td > 0) {
      base = t->stride[td - 1];
      tnum = vnum = 1;
    }
  }
  return vd == -1;
}

int ar_view(ar_ctx *C, ar_tensor *out, const ar_tensor *t, int ndim, const int64_t *shape) {
  int64_t res[AR_MAXDIM], stride[AR_MAXDIM];
  out->st = NULL;
  int rc = infer_shape(C, ar_numel(t), ndim, shape, res, t);
  if (rc) return rc;
  if (!view_strides(t, ndim, res, stride)) {
    char b[200];
    return ar_seterr(C, AR_ESHAPE,
                     "a view of shape %s is not possible for these strides; use reshape "
                     "(which copies) or contiguous() first",
                     ar_shape_str(ndim, res, b, sizeof b));
  }
  ar_share(out, t);
  out->ndim = ndim;
  for (int i = 0; i < ndim; i++) {
    out->shape[i] = res[i];
    out->stride[i] = stride[i];
  }
  return AR_OK;
}

int ar_reshape(ar_ctx *C, ar_tensor *out, const ar_tensor *t, int ndim, const int64_t *shape) {
  int64_t res[AR_MAXDIM], stride[AR_MAXDIM];
  out->st = NULL;
  int rc = infer_shape(C, ar_numel(t), ndim, shape, res, t);
  if (rc) return rc;
  if (view_strides(t, ndim, res, stride)) return ar_view(C, out, t, ndim, res);
  ar_tensor tmp;
  rc = ar_clone(C, &tmp, t);
  if (rc) return rc;
  rc = ar_view(C, out, &tmp, ndim, res);
  ar_release(&tmp);
  return rc;
}

int ar_transpose(ar_ctx *C, ar_tensor *out, const ar_tensor *t, int d1, int d2) {
  out->st = NULL;
  int rc = check_dim(C, d1, t->ndim);
  if (!rc) rc = check_dim(C, d2, t->ndim);
  if (rc) return rc;
  ar_share(out, t);
  int64_t s = out->shape[d1];
  out->shape[d1] = out->shape[d2];
  out->shape[d2] = s;
  s = out->stride[d1];
  out->stride[d1] = out->stride[d2];
  out->stride[d2] = s;
  return AR_OK;
}

int ar_narrow(ar_ctx *C, ar_tensor *out, const ar_tensor *t, int dim, int64_t start,
              int64_t len) {
  out->st = NULL;
  int rc = check_dim(C, dim, t->ndim);
  if (rc) return rc;
  if (start < 0 || len < 0 || start > t->shape[dim] || len > t->shape[dim] - start)
    return ar_seterr(C, AR_ERANGE,
                     "start %lld and length %lld out of range for dimension %d of size %lld",
                     (long long)start + 1, (long long)len, dim + 1, (long long)t->shape[dim]);
  ar_share(out, t);
  out->offset += start * t->stride[dim];
  out->shape[dim] = len;
  return AR_OK;
}

int ar_select(ar_ctx *C, ar_tensor *out, const ar_tensor *t, int dim, int64_t index) {
  out->st = NULL;
  int rc = check_dim(C, dim, t->ndim);
  if (rc) return rc;
  if (index < 0 || index >= t->shape[dim])
    return ar_seterr(C, AR_ERANGE, "index %lld out of range for dimension %d of size %lld",
                     (long long)index + 1, dim + 1, (long long)t->shape[dim]);
  ar_share(out, t);
  out->offset += index * t->stride[dim];
  for (int i = dim; i < t->ndim - 1; i++) {
    out->shape[i] = t->shape[i + 1];
    out->stride[i] = t->stride[i + 1];
  }
  out->ndim = t->ndim - 1;
  return AR_OK;
}

int ar_unsqueeze(ar_ctx *C, ar_tensor *out, const ar_tensor *t, int dim) {
  out->st = NULL;
  if (t->ndim >= AR_MAXDIM)
    return ar_seterr(C, AR_EARG, "a tensor has at most %d dimensions", AR_MAXDIM);
  if (dim < 0 || dim > t->ndim)
    return ar_seterr(C, AR_ERANGE, "dimension %d out of range (expected 1..%d)", dim + 1,
                     t->ndim + 1);
  ar_share(out, t);
  for (int i = t->ndim; i > dim; i--) {
    out->shape[i] = t->shape[i - 1];
    out->stride[i] = t->stride[i - 1];
  }
  out->shape[dim] = 1;
  out->stride[dim] = dim < t->ndim ? t->shape[dim] * t->stride[dim] : 1;
  out->ndim = t->ndim + 1;
  return AR_OK;
}

int ar_squeeze(ar_ctx *C, ar_tensor *out, const ar_tensor *t, int dim) {
  out->st = NULL;
  if (dim >= 0) {
    int rc = check_dim(C, dim, t->ndim);
    if (rc) return rc;
  }
  ar_share(out, t);
  int k = 0;
  for (int i = 0; i < t->ndim; i++) {
    if (t->shape[i] == 1 && (dim < 0 || dim == i)) continue;
    out->shape[k] = t->shape[i];
    out->stride[k] = t->stride[i];
    k++;
  }
  out->ndim = k;
  return AR_OK;
}

int ar_broadcast_shape(ar_ctx *C, const ar_tensor *a, const ar_tensor *b, int *ndim,
                       int64_t *shape) {
  int n = a->ndim > b->ndim ? a->ndim : b->ndim;
  for (int i = 0; i < n; i++) {
    int ia = a->ndim - n + i, ib = b->ndim - n + i;
    int64_t sa = ia >= 0 ? a->shape[ia] : 1, sb = ib >= 0 ? b->shape[ib] : 1;
    if (sa != sb && sa != 1 && sb != 1) {
      char b1[200], b2[200];
      return ar_seterr(C, AR_ESHAPE, "shapes %s and %s cannot be broadcast (%lld ~= %lld at dimension %d)",
                       ar_shape_str(a->ndim, a->shape, b1, sizeof b1),
                       ar_shape_str(b->ndim, b->shape, b2, sizeof b2), (long long)sa,
                       (long long)sb, i + 1);
    }
    shape[i] = sa == 1 ? sb : sa;
  }
  *ndim = n;
  return AR_OK;
}

int ar_broadcast_to(ar_ctx *C, ar_tensor *out, const ar_tensor *t, int ndim,
                    const int64_t *shape) {
  out->st = NULL;
  char b1[200], b2[200];
  if (ndim < t->ndim || ndim > AR_MAXDIM)
    return ar_seterr(C, AR_ESHAPE, "cannot expand shape %s to %s",
                     ar_shape_str(t->ndim, t->shape, b1, sizeof b1),
                     ar_shape_str(ndim, shape, b2, sizeof b2));
  int64_t nshape[AR_MAXDIM], nstride[AR_MAXDIM];
  for (int i = 0; i < ndim; i++) {
    int j = t->ndim - ndim + i;
    int64_t want = shape[i];
    if (j < 0) {
      if (want < 0) return ar_seterr(C, AR_EARG, "size -1 is not allowed for a new leading dimension");
      nshape[i] = want;
      nstride[i] = 0;
    } else {
      if (want == -1) want = t->shape[j];
      if (t->shape[j] == want) {
        nshape[i] = want;
        nstride[i] = t->stride[j];
      } else if (t->shape[j] == 1 && want >= 0) {
        nshape[i] = want;
        nstride[i] = 0;
      } else {
        return ar_seterr(C, AR_ESHAPE, "cannot expand shape %s to %s (size %lld at dimension %d is not 1)",
                         ar_shape_str(t->ndim, t->shape, b1, sizeof b1),
                         ar_shape_str(ndim, shape, b2, sizeof b2), (long long)t->shape[j],
                         j + 1);
      }
    }
  }
  /* a view allocates nothing, but its element count and strides must not overflow */
  int rc = ar_check_shape(C, ndim, nshape);
  if (rc) return rc;
  ar_share(out, t);
  out->ndim = ndim;
  memcpy(out->shape, nshape, sizeof(int64_t) * (size_t)ndim);
  memcpy(out->stride, nstride, sizeof(int64_t) * (size_t)ndim);
  return AR_OK;
}

int ar_expand(ar_ctx *C, ar_tensor *out, const ar_tensor *t, int ndim, const int64_t *shape) {
  return ar_broadcast_to(C, out, t, ndim, shape);
}

int ar_flatten(ar_ctx *C, ar_tensor *out, const ar_tensor *t) {
  int64_t n = ar_numel(t);
  return ar_reshape(C, out, t, 1, &n);
}

int ar_contiguous(ar_ctx *C, ar_tensor *out, const ar_tensor *t) {
  if (ar_is_contiguous(t)) {
    ar_share(out, t);
    return AR_OK;
  }
  return ar_clone(C, out, t);
}

int ar_clone(ar_ctx *C, ar_tensor *out, const ar_tensor *t) {
  int rc = ar_empty(C, out, t->ndim, t->shape);
  if (rc) return rc;
  rc = ar_copy_(C, out, t);
  if (rc) ar_release(out);
  return rc;
}

/* ---------- strided iteration ---------- */

void ar_iter_init(ar_iter *it, int nops, const ar_tensor *const *ops) {
  const ar_tensor *t0 = ops[0];
  int n = 0;
  it->nops = nops;
  /* drop size-1 dims, then merge neighbours that are contiguous for every operand */
  for (int i = 0; i < t0->ndim; i++) {
    if (t0->shape[i] == 1) continue;
    if (n > 0) {
      bool merge = true;
      for (int k = 0; k < nops; k++)
        if (it->stride[k][n - 1] != ops[k]->stride[i] * t0->shape[i]) merge = false;
      if (merge) {
        it->shape[n - 1] *= t0->shape[i];
        for (int k = 0; k < nops; k++) it->stride[k][n - 1] = ops[k]->stride[i];
        continue;
      }
    }
    it->shape[n] = t0->shape[i];
    for (int k = 0; k < nops; k++) it->stride[k][n] = ops[k]->stride[i];
    n++;
  }
  if (n == 0) {
    it->shape[0] = 1;
    for (int k = 0; k < nops; k++) it->stride[k][0] = 1;
    n = 1;
  }
  /* a zero-size dim anywhere empties the iteration */
  for (int i = 0; i < t0->ndim; i++)
    if (t0->shape[i] == 0) {
      it->shape[n - 1] = 0;
    }
  it->ndim = n;
  it->outer = 1;
  for (int i = 0; i < n - 1; i++) it->outer *= it->shape[i];
  if (it->shape[n - 1] == 0) it->outer = 0;
  for (int k = 0; k < nops; k++) it->base[k] = ar_data(ops[k]);
}

void ar_iter_row(const ar_iter *it, int64_t r, float **ptrs) {
  int64_t off[3] = {0, 0, 0};
  for (int i = it->ndim - 2; i >= 0; i--) {
    int64_t q = r % it->shape[i];
    r /= it->shape[i];
    for (int k = 0; k < it->nops; k++) off[k] += q * it->stride[k][i];
  }
  for (int k = 0; k < it->nops; k++) ptrs[k] = it->base[k] + off[k];
}
