/* The C embedding API of include/actrun.h: an interpreter handle around a lua_State.
 * Tensors, numbers, calls and host activations (src/lua/embed.c) live with the Lua
 * binding, which owns the tensor userdata; this file runs code, keeps the last error
 * message and runs the other calls protected. */
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

void ar_api_clear_error(actrun *A) {
  free(A->err);
  A->err = NULL;
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
  ar_api_clear_error(A);
  if (path == NULL) {
    ar_api_fail(A, "actrun_run_file: path is NULL");
    return LUA_ERRFILE;
  }
  return call_chunk(A, luaL_loadfile(A->L, path));
}

int actrun_run_string(actrun *A, const char *code) {
  if (A == NULL) return LUA_ERRRUN;
  ar_api_clear_error(A);
  if (code == NULL) {
    ar_api_fail(A, "actrun_run_string: code is NULL");
    return LUA_ERRRUN;
  }
  return call_chunk(A, luaL_loadstring(A->L, code));
}

const char *actrun_error(actrun *A) { return (A && A->err) ? A->err : ""; }

lua_State *actrun_lua(actrun *A) { return A ? A->L : NULL; }

/* Runs protected so that an allocation failure while opening becomes a status, not a
 * panic (which would abort the host). */
static int open_all(lua_State *L) {
  luaL_openlibs(L);
  luaL_requiref(L, "actrun", luaopen_actrun, 1); /* also sets package.loaded.actrun */
  return 0;
}

actrun *actrun_new(void) {
  actrun *A = calloc(1, sizeof *A);
  if (A == NULL) return NULL;
  A->L = lt_newstate();
  if (A->L == NULL) {
    free(A);
    return NULL;
  }
  lua_pushcfunction(A->L, open_all);
  if (lua_pcall(A->L, 0, 0, 0) != LUA_OK) {
    lt_close(A->L);
    free(A);
    return NULL;
  }
  /* Generational collection: a script's temporaries (most tensors) die young, and with no
   * finalizers on tensors a minor collection frees them cheaply (c = a + b on 4 elements:
   * 20-30% faster than incremental). Scripts can switch back with
   * collectgarbage("incremental"). */
  lua_gc(A->L, LUA_GCGEN, 0, 0);
  return A;
}

void actrun_free(actrun *A) {
  if (A == NULL) return;
  lt_close(A->L); /* every tensor dies here; then the wrapped storages can go */
  ar_api_free_wraps(A);
  free(A->err);
  free(A);
}
