/* The C embedding API of include/actrun.h: an interpreter handle around a lua_State.
 * Tensors, numbers, calls and host activations (src/lua/embed.c) live with the Lua
 * binding, which owns the tensor userdata; this file runs code, keeps the last error
 * message and runs the other calls protected. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lualib.h>

#include "actrun.h"
#include "api.h"
#include "lua/binding.h"

static void set_error_len(actrun *A, const char *msg, size_t len) {
  free(A->err);
  A->err = malloc(len + 1);
  if (A->err) { /* out of memory leaves no message rather than failing again */
    memcpy(A->err, msg, len);
    A->err[len] = '\0';
  }
}

int ar_api_fail(actrun *A, const char *fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n < 0) n = 0;
  set_error_len(A, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
  return 1;
}

/* ---------- misuse of the handle ----------
 * A freed handle's struct is not given back to malloc at once: it stays, with its magic
 * set to AR_HANDLE_FREED, in a ring of the last QUARANTINE freed handles, and only the
 * oldest is freed when the ring is full. So a second actrun_free, or any call on a freed
 * handle, reads a valid struct that says "freed" (no use of freed memory, which ASan
 * would report and which could be reused by the next actrun_new) for the next QUARANTINE
 * frees at least; past that window detection is best effort. The structs are small, so
 * the ring costs at most QUARANTINE * sizeof(actrun) bytes. Never reusing them instead
 * (a free list) would make a stale pointer look live once its struct is handed out again. */
#define QUARANTINE 256
static pthread_mutex_t quarantine_lock = PTHREAD_MUTEX_INITIALIZER;
static actrun *quarantine[QUARANTINE];
static unsigned quarantine_next;

static void quarantine_handle(actrun *A) {
  A->magic = AR_HANDLE_FREED;
  pthread_mutex_lock(&quarantine_lock);
  actrun *oldest = quarantine[quarantine_next];
  quarantine[quarantine_next] = A;
  quarantine_next = (quarantine_next + 1) % QUARANTINE;
  pthread_mutex_unlock(&quarantine_lock);
  free(oldest);
}

_Noreturn void ar_api_misuse(const actrun *A, const char *fname) {
  if (A->magic == AR_HANDLE_FREED)
    fprintf(stderr, "actrun: %s used after actrun_free (the handle was freed already)\n", fname);
  else if (A->magic == AR_HANDLE_LIVE) /* lua_closed */
    fprintf(stderr,
            "actrun: %s used after lua_close(actrun_lua(A)) (only actrun_free may follow it)\n",
            fname);
  else
    fprintf(stderr, "actrun: %s called on a handle that is not an actrun interpreter\n", fname);
  fflush(stderr);
  abort();
}

/* The calling thread's message when a call was refused because another thread was using
 * the interpreter: thread-local, so that the refused thread never writes into the handle
 * the other thread is using. */
static _Thread_local const actrun *busy_handle;
static _Thread_local char busy_msg[256];


void ar_api_forget_busy(const actrun *A) {
  if (busy_handle == A) busy_handle = NULL;
}

int ar_api_busy(actrun *A, const char *fname) {
  snprintf(busy_msg, sizeof busy_msg,
           "%s: called while another thread is using this interpreter (one thread at a "
           "time: calls on one actrun * from several threads need the host's lock)",
           fname);
  busy_handle = A;
  return 1;
}

/* Stores the error value on top of the stack as A's message (prefix may be NULL), pops it. */
static void take_error(actrun *A, const char *prefix) {
  lua_State *L = A->L;
  size_t len = 0;
  const char *msg = lua_tolstring(L, -1, &len);
  if (!msg)
    ar_api_fail(A, "%s%s(error object is a %s value)", prefix ? prefix : "", prefix ? ": " : "",
                luaL_typename(L, -1));
  else if (prefix)
    ar_api_fail(A, "%s: %s", prefix, msg);
  else
    set_error_len(A, msg, len);
  lua_pop(L, 1);
}

int ar_api_pcall(actrun *A, const char *fname, lua_CFunction fn, void *p) {
  lua_State *L = A->L;
  if (!lua_checkstack(L, 2)) { /* a host that filled the stack */
    ar_api_fail(A, "%s: Lua stack overflow", fname);
    return LUA_ERRMEM;
  }
  lua_pushcfunction(L, fn); /* neither push allocates, so neither can raise */
  lua_pushlightuserdata(L, p);
  int status = lua_pcall(L, 1, 0, 0);
  if (status != LUA_OK) take_error(A, fname);
  return status;
}

/* Message handler: turns any error value into a string with a traceback appended. */
ACTRUN_API int actrun_traceback(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL) { /* not a string nor a number */
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
      msg = lua_tostring(L, -1);
    else
      msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
  }
  luaL_traceback(L, L, msg, 1);
  return 1;
}

/* Calls the chunk on top of the stack with no arguments, discarding its results.
 * On failure the message moves from the stack into A. Leaves the stack as it was. */
static int call_chunk(actrun *A, int status) {
  lua_State *L = A->L;
  if (status == LUA_OK && !lua_checkstack(L, 2)) { /* a host that filled the stack */
    lua_pop(L, 1);
    ar_api_fail(A, "Lua stack overflow");
    return LUA_ERRMEM;
  }
  if (status == LUA_OK) {
    int base = lua_gettop(L); /* the chunk's index */
    lua_pushcfunction(L, actrun_traceback);
    lua_insert(L, base);
    status = lua_pcall(L, 0, 0, base);
    lua_remove(L, base);
  }
  if (status != LUA_OK) take_error(A, NULL);
  return status;
}

int actrun_run_file(actrun *A, const char *path) {
  if (A == NULL) return LUA_ERRRUN;
  if (ar_api_enter(A, "actrun_run_file")) return LUA_ERRRUN;
  int status;
  if (path == NULL) {
    ar_api_fail(A, "actrun_run_file: path is NULL");
    status = LUA_ERRFILE;
  } else {
    status = call_chunk(A, actrun_load_file(A->L, path));
  }
  ar_api_leave(A);
  return status;
}

int actrun_run_string(actrun *A, const char *code) {
  if (A == NULL) return LUA_ERRRUN;
  if (ar_api_enter(A, "actrun_run_string")) return LUA_ERRRUN;
  int status;
  if (code == NULL) {
    ar_api_fail(A, "actrun_run_string: code is NULL");
    status = LUA_ERRRUN;
  } else {
    status = call_chunk(A, actrun_load_buffer(A->L, code, strlen(code), code));
  }
  ar_api_leave(A);
  return status;
}

/* Reads only: the message of this thread's refused call, else A's (see ar_api_busy). */
const char *actrun_error(actrun *A) {
  if (A == NULL) return "";
  if (A->magic != AR_HANDLE_LIVE) ar_api_misuse(A, "actrun_error");
  if (busy_handle == A) return busy_msg;
  return A->err ? A->err : "";
}

lua_State *actrun_lua(actrun *A) {
  if (A == NULL) return NULL;
  if (A->magic != AR_HANDLE_LIVE || A->lua_closed) ar_api_misuse(A, "actrun_lua");
  return A->L;
}

/* ---------- lua_close(actrun_lua(A)) by the host ----------
 * A userdata in L's registry points back to A; its finalizer runs when L is closed. If
 * the host closed L itself, A learns it there, so that actrun_free then frees only what
 * is A's (and any other call aborts with a message instead of using a freed state).
 * actrun_free clears the pointer before closing L. */
#define SENTINEL_KEY "actrun.handle"

static int sentinel_gc(lua_State *L) {
  actrun **p = lua_touserdata(L, 1);
  /* A finalizer runs with its object still in the registry only when L is closing; a
   * script that dropped it from debug.getregistry() merely loses the detection. */
  lua_getfield(L, LUA_REGISTRYINDEX, SENTINEL_KEY);
  int closing = lua_rawequal(L, 1, -1);
  lua_pop(L, 1);
  if (closing && *p) (*p)->lua_closed = 1;
  return 0;
}

static int open_sentinel(lua_State *L) {
  actrun **p = lua_newuserdatauv(L, sizeof *p, 0);
  *p = lua_touserdata(L, 1);
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, sentinel_gc);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);
  lua_setfield(L, LUA_REGISTRYINDEX, SENTINEL_KEY);
  return 0;
}

/* Runs protected so that an allocation failure while opening becomes a status, not a
 * panic (which would abort the host). */
static int open_all(lua_State *L) {
  unsigned options = (unsigned)lua_tointeger(L, 1);
  luaL_openlibs(L);
  lt_chunks_policy(L, (options & ACTRUN_ALLOW_BINARY) != 0);
  luaL_requiref(L, "actrun", luaopen_actrun, 1); /* also sets package.loaded.actrun */
  return 0;
}

actrun *actrun_new(void) { return actrun_new_ex(0); }

actrun *actrun_new_ex(unsigned options) {
  /* an option this library does not know (a host built against a newer header) could be
   * one that restricts: refuse rather than ignore it */
  if (options & ~(unsigned)ACTRUN_ALLOW_BINARY) return NULL;
  actrun *A = calloc(1, sizeof *A);
  if (A == NULL) return NULL;
  A->L = lt_newstate();
  if (A->L == NULL) {
    free(A);
    return NULL;
  }
  lua_pushcfunction(A->L, open_all);
  lua_pushinteger(A->L, (lua_Integer)options);
  if (lua_pcall(A->L, 1, 0, 0) != LUA_OK) {
    lt_close(A->L);
    free(A);
    return NULL;
  }
  lua_pushcfunction(A->L, open_sentinel);
  lua_pushlightuserdata(A->L, A);
  if (lua_pcall(A->L, 1, 0, 0) != LUA_OK) {
    lt_close(A->L);
    free(A);
    return NULL;
  }
  A->heap = lt_heap(A->L);
  /* Generational collection: a script's temporaries (most tensors) die young, and with no
   * finalizers on tensors a minor collection frees them cheaply (c = a + b on 4 elements:
   * 20-30% faster than incremental). Scripts can switch back with
   * collectgarbage("incremental"). */
  lua_gc(A->L, LUA_GCGEN, 0, 0);
  A->magic = AR_HANDLE_LIVE;
  return A;
}

void actrun_free(actrun *A) {
  if (A == NULL) return;
  if (A->magic != AR_HANDLE_LIVE) ar_api_misuse(A, "actrun_free");
  /* freeing while another thread is inside a call would pull L from under it */
  uintptr_t none = 0;
  if (!atomic_compare_exchange_strong(&A->user, &none, ar_api_thread()) &&
      none != ar_api_thread()) {
    fprintf(stderr, "actrun: actrun_free called while another thread is using the interpreter\n");
    fflush(stderr);
    abort();
  }
  if (A->depth > 0) {
    fprintf(stderr, "actrun: actrun_free called from inside a call on the same interpreter\n");
    fflush(stderr);
    abort();
  }
  if (!A->lua_closed) {
    lua_getfield(A->L, LUA_REGISTRYINDEX, SENTINEL_KEY); /* no allocation: cannot raise */
    actrun **p = lua_touserdata(A->L, -1);
    if (p) *p = NULL;
    lua_pop(A->L, 1);
    lua_close(A->L); /* every tensor dies here; then the wrapped storages can go */
  }
  lt_free_heap(A->heap);
  ar_api_free_wraps(A);
  free(A->err);
  A->err = NULL;
  A->L = NULL;
  ar_api_forget_busy(A);
  atomic_store(&A->user, 0);
  quarantine_handle(A);
}
