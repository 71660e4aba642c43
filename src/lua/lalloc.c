/* The Lua allocator of interpreters made by actrun_new.
 *
 * Every tensor result is a new Lua userdata, and Lua's collector frees them in bursts of
 * hundreds. glibc's per-thread cache holds only a few blocks per size, so most of those
 * frees and the next allocations went through malloc's slower bins: about 400 instructions
 * per small op, the largest single share of the op. Here blocks up to SMALL_MAX bytes come
 * from per-state free lists (one per 16-byte size class), carved from 64 KB slabs; larger
 * blocks go to malloc. A lua_State is used by one thread at a time, so no locking.
 * Slabs are returned when the state is closed (lt_close), never earlier: the memory kept
 * is the peak of small Lua objects, which Lua's own collector bounds.
 *
 * Sanitizer builds use Lua's default allocator, so ASan sees every block.
 * `require "actrun"` from another Lua uses that Lua's allocator; this is only for the
 * interpreters the library creates. */
#include <lauxlib.h>
#include <lua.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lua/binding.h"

#define GRAN 16
#define SMALL_MAX 256
#define NCLASS (SMALL_MAX / GRAN)
#define SLAB_BYTES (64 * 1024)

typedef struct block {
  struct block *next;
} block;

typedef struct slab {
  struct slab *next;
  /* blocks follow, GRAN-aligned */
} slab;

typedef struct heap {
  block *free[NCLASS];
  slab *slabs;
  char *cur, *end; /* the unused tail of the newest slab */
  int warn_on;     /* lua_setwarnf state: warnings are off until "@on" */
  int warn_cont;   /* in the middle of a multi-part warning */
} heap;

static inline int size_class(size_t n) { return (int)((n + GRAN - 1) / GRAN) - 1; }

static void *small_alloc(heap *H, int c) {
  block *b = H->free[c];
  if (b) {
    H->free[c] = b->next;
    return b;
  }
  size_t sz = (size_t)(c + 1) * GRAN;
  if ((size_t)(H->end - H->cur) < sz) {
    slab *s = malloc(SLAB_BYTES);
    if (!s) return NULL;
    s->next = H->slabs;
    H->slabs = s;
    H->cur = (char *)s + GRAN; /* the header rounded up to keep blocks aligned */
    H->end = (char *)s + SLAB_BYTES;
  }
  void *p = H->cur;
  H->cur += sz;
  return p;
}

static inline void small_free(heap *H, void *p, int c) {
  block *b = p;
  b->next = H->free[c];
  H->free[c] = b;
}

static void *lt_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  heap *H = ud;
  /* Lua passes the block's size as osize whenever ptr is not NULL */
  int oc = ptr && osize <= SMALL_MAX ? size_class(osize) : -1;
  if (nsize == 0) {
    if (oc >= 0)
      small_free(H, ptr, oc);
    else
      free(ptr);
    return NULL;
  }
  int nc = nsize <= SMALL_MAX ? size_class(nsize) : -1;
  if (!ptr) return nc >= 0 ? small_alloc(H, nc) : malloc(nsize);
  if (oc < 0 && nc < 0) return realloc(ptr, nsize);
  if (oc >= 0 && oc == nc) return ptr;
  void *q = nc >= 0 ? small_alloc(H, nc) : malloc(nsize);
  if (!q) return NULL; /* Lua keeps the old block */
  memcpy(q, ptr, osize < nsize ? osize : nsize);
  if (oc >= 0)
    small_free(H, ptr, oc);
  else
    free(ptr);
  return q;
}

/* What luaL_newstate installs, kept: a panic message before Lua aborts (only reachable
 * through an unprotected error, which the library never raises), and warnings that are
 * off until a script turns them on with warn("@on"). */
static int panic(lua_State *L) {
  const char *msg = lua_tostring(L, -1);
  fprintf(stderr, "PANIC: unprotected error in call to Lua API (%s)\n",
          msg ? msg : "error object is not a string");
  return 0;
}

static void warnf(void *ud, const char *msg, int tocont) {
  heap *H = ud;
  if (!H->warn_cont && !tocont && msg[0] == '@') {
    if (strcmp(msg, "@off") == 0) H->warn_on = 0;
    if (strcmp(msg, "@on") == 0) H->warn_on = 1;
    return;
  }
  if (H->warn_on) {
    if (!H->warn_cont) fputs("Lua warning: ", stderr);
    fputs(msg, stderr);
    if (!tocont) fputc('\n', stderr);
    fflush(stderr);
  }
  H->warn_cont = tocont;
}

lua_State *lt_newstate(void) {
#if defined(__SANITIZE_ADDRESS__)
  return luaL_newstate(); /* let ASan see every Lua block */
#endif
  heap *H = calloc(1, sizeof *H);
  if (!H) return NULL;
  lua_State *L = lua_newstate(lt_alloc, H);
  if (!L) {
    free(H);
    return NULL;
  }
  lua_atpanic(L, panic);
  lua_setwarnf(L, warnf, H);
  return L;
}

void *lt_heap(lua_State *L) {
  void *ud = NULL;
  lua_Alloc f = lua_getallocf(L, &ud);
  lt_unwrap_alloc(&f, &ud); /* the tensor-reclaiming wrapper (module.c) goes with the state */
  return f == lt_alloc ? ud : NULL;
}

void lt_free_heap(void *ud) {
  heap *H = ud;
  if (!H) return;
  for (slab *s = H->slabs, *n; s; s = n) {
    n = s->next;
    free(s);
  }
  free(H);
}

void lt_close(lua_State *L) {
  void *H = lt_heap(L);
  lua_close(L);
  lt_free_heap(H);
}
