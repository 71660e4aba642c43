/* The context's private layout, shared by the core's .c files only. */
#ifndef ACTRUN_CTX_H
#define ACTRUN_CTX_H

#include "core/core.h"

/* Free buffers kept for reuse, one list per size class (see tensor.c). */
#define AR_NCLASSES 160
typedef struct ar_freebuf {
  struct ar_freebuf *next;
} ar_freebuf;

struct ar_pool; /* threads.c */

struct ar_ctx {
  int64_t refcount;
  char err[512];
  /* storage cache */
  ar_freebuf *freelist[AR_NCLASSES];
  size_t cached_bytes;   /* held in freelists */
  size_t cache_limit;    /* freelists never hold more than this */
  size_t live_bytes;     /* held by live storages */
  size_t alloc_debt;     /* bytes handed out since ar_take_alloc_debt */
  long fail_after;       /* test hook: fail the n-th next allocation */
  bool mem_short;        /* an allocation failed since the last ar_blas_reserve */
  /* RNG */
  uint64_t rng_key;
  uint64_t rng_counter;
  /* threads */
  int nthreads;
  struct ar_pool *pool; /* created on first parallel use; freed with the context */
  /* autograd: ops record graph nodes only while this is on (no_grad turns it off) */
  bool grad_enabled;
};

void ar_pool_free(struct ar_pool *p); /* threads.c: joins and frees the workers */

/* Call before handing work to OpenBLAS (cblas_*, LAPACK), after the call's own allocations.
 * OpenBLAS takes a work buffer per calling thread on first use and, when the system
 * refuses it, retries forever: the process spins instead of failing. So once any
 * allocation has failed (ar_seterr with AR_ENOMEM sets mem_short) the next call first
 * gives the storage cache back and checks that the buffers can be had (tensor.c); an
 * error then is AR_ENOMEM, with the message set. Otherwise this is one load and branch. */
int ar_blas_reserve(ar_ctx *C);
static inline int ar_blas_enter(ar_ctx *C) {
  return __builtin_expect(C->mem_short, 0) ? ar_blas_reserve(C) : AR_OK;
}

#endif
