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

#endif
