/* Internal side of the embedding API (include/actrun.h): the interpreter handle, shared
 * by src/api.c (running code, errors) and src/lua/embed.c (tensors, numbers, calls, host
 * activations), which both report through A. */
#ifndef ACTRUN_API_INTERNAL_H
#define ACTRUN_API_INTERNAL_H

#include <lua.h>

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

struct actrun {
  lua_State *L;
  char *err;      /* last failure's message (malloc'd), NULL when none */
  ar_wrap *wraps; /* live wraps, newest first */
};

/* Sets A's error message (printf-style) and returns 1, so `return ar_api_fail(...)`. */
int ar_api_fail(actrun *A, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Forgets A's last message: every public call starts with it. */
void ar_api_clear_error(actrun *A);
/* Runs fn protected (a light userdata p as its only argument; results discarded), so a
 * Lua error, memory errors included, can never reach Lua's panic handler (which would
 * abort the host). On failure A's message is "fname: <error>" and the Lua status is
 * returned. The stack of A->L is left as it was. */
int ar_api_pcall(actrun *A, const char *fname, lua_CFunction fn, void *p);
/* embed.c: after lua_close, drops the handle's references to wrapped storages. */
void ar_api_free_wraps(actrun *A);

#endif
