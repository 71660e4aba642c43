/* Internal side of the embedding API (include/actrun.h): the interpreter handle, shared
 * by src/api.c (running code, errors) and src/lua/embed.c (tensors, numbers, calls, host
 * activations), which both report through A. */
#ifndef ACTRUN_API_INTERNAL_H
#define ACTRUN_API_INTERNAL_H

#include <lua.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "actrun.h"
#include "core/core.h"

/* One actrun_wrap_tensor: a storage whose data pointer is the host's buffer. The handle
 * keeps one reference to it, so the storage cannot die while the host memory is in use
 * and can be detached (data redirected to `copy`) at actrun_unwrap_tensor. */
typedef struct ar_wrap {
  float *host;       /* the host's buffer, as passed to actrun_wrap_tensor */
  ar_storage *st;    /* the storage every view of the wrapped tensor shares */
  ar_storage *copy;  /* after unwrap: the private copy st->data points into, else NULL */
  int64_t numel;
  struct ar_wrap *next;
} ar_wrap;

/* A handle's `magic` while it is usable, and after actrun_free (the struct itself is kept
 * for a while, see the quarantine in src/api.c, so that a stale pointer still reads it). */
#define AR_HANDLE_LIVE 0x61637472u  /* "actr" */
#define AR_HANDLE_FREED 0x64656164u /* "dead" */

struct actrun {
  uint32_t magic;        /* AR_HANDLE_LIVE, AR_HANDLE_FREED, or anything else for a bad pointer */
  int lua_closed;        /* the host closed L itself (lua_close(actrun_lua(A))) */
  int depth;             /* calls of the thread in `user` now running on A (nested: a Lua C
                          * function of the host, called by a script, calling back into A) */
  atomic_uintptr_t user; /* the thread inside a call on A (ar_api_thread()), 0 when none */
  void *heap;            /* the allocator's heap (lt_heap), freed even when the host closed L */
  lua_State *L;
  char *err;      /* last failure's message (malloc'd), NULL when none */
  ar_wrap *wraps; /* live wraps, newest first */
};

/* Misuse of the handle itself (double free, use after free, a pointer that is no handle,
 * use after lua_close): says so on stderr and aborts, since carrying on would corrupt
 * memory. */
_Noreturn void ar_api_misuse(const actrun *A, const char *fname);
/* Another thread is inside a call on A: the message goes to the calling thread's own
 * slot (A's belongs to the thread using it), actrun_error(A) shows it there. Returns 1. */
int ar_api_busy(actrun *A, const char *fname);
/* A token for the calling thread, never 0 (glibc's pthread_t is the thread's control
 * block address; pthread_self is one load). */
static inline uintptr_t ar_api_thread(void) { return (uintptr_t)pthread_self(); }
/* The calling thread's last refusal is not about A any more. */
void ar_api_forget_busy(const actrun *A);

/* First thing in every public call on A (A not NULL): aborts on a handle that is not
 * usable; returns 1 (message for this thread) when another thread is inside a call on A;
 * else marks A as used by this thread, clears A's last message and returns 0. Every 0
 * must be paired with ar_api_leave. Cheap: a compare and an uncontended atomic exchange. */
static inline int ar_api_enter(actrun *A, const char *fname) {
  if (A->magic != AR_HANDLE_LIVE || A->lua_closed) ar_api_misuse(A, fname);
  uintptr_t me = ar_api_thread(), none = 0;
  if (!atomic_compare_exchange_strong_explicit(&A->user, &none, me, memory_order_acquire,
                                               memory_order_relaxed) &&
      none != me)
    return ar_api_busy(A, fname);
  A->depth++;
  ar_api_forget_busy(A);
  free(A->err);
  A->err = NULL;
  return 0;
}

/* Last thing of a call that ar_api_enter let in: the outermost one frees A for others. */
static inline void ar_api_leave(actrun *A) {
  if (--A->depth == 0) atomic_store_explicit(&A->user, 0, memory_order_release);
}

/* Sets A's error message (printf-style) and returns 1, so `return ar_api_fail(...)`. */
int ar_api_fail(actrun *A, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Runs fn protected (a light userdata p as its only argument; results discarded), so a
 * Lua error, memory errors included, can never reach Lua's panic handler (which would
 * abort the host). On failure A's message is "fname: <error>" and the Lua status is
 * returned. The stack of A->L is left as it was. */
int ar_api_pcall(actrun *A, const char *fname, lua_CFunction fn, void *p);
/* embed.c: after lua_close, drops the handle's references to wrapped storages. */
void ar_api_free_wraps(actrun *A);

#endif
