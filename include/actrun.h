/* actrun: a Lua 5.4 DSL for neural-network activation experiments, embeddable in C.
 *
 * Example: run an experiment script from a host program and read a tensor back.
 *
 *   #include <actrun.h>
 *   actrun *A = actrun_new();
 *   if (!A) return 1;
 *   if (actrun_run_string(A, "y = actrun.linspace(-1, 1, 5):tanh()") != 0)
 *     fprintf(stderr, "%s\n", actrun_error(A));
 *   float y[5]; int ndim; int64_t shape[8];
 *   actrun_get_tensor(A, "y", y, 5, &ndim, shape);
 *   actrun_free(A);
 *
 * Conventions: every int-returning call returns 0 on success and non-zero on failure,
 * with the message available from actrun_error() until the next call on the same
 * interpreter. The library never exits, aborts or prints on its own. One interpreter
 * must be used by one thread at a time; distinct interpreters are independent (own RNG,
 * storage cache, worker threads, errors). OpenBLAS's thread count is process-wide.
 */
#ifndef ACTRUN_H
#define ACTRUN_H

#include <stddef.h>
#include <stdint.h>

#include <lua.h>

#define ACTRUN_VERSION_MAJOR 0
#define ACTRUN_VERSION_MINOR 1
#define ACTRUN_VERSION_PATCH 0
#define ACTRUN_VERSION "0.1.0"

#if defined(ACTRUN_BUILDING)
#define ACTRUN_API __attribute__((visibility("default")))
#else
#define ACTRUN_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef struct actrun actrun;

/* A new Lua 5.4 interpreter with the standard libraries and actrun loaded as the global
 * `actrun` (and `require "actrun"`). NULL when out of memory or when the module fails
 * to open. */
ACTRUN_API actrun *actrun_new(void);
/* Closes the interpreter and frees everything it owns. NULL is allowed. */
ACTRUN_API void actrun_free(actrun *A);

/* Run a Lua file or string (its results are discarded). Returns 0 on success, else the
 * Lua status (LUA_ERRSYNTAX, LUA_ERRRUN, LUA_ERRMEM, LUA_ERRFILE...) with the message,
 * traceback included, in actrun_error(A). A Lua error leaves the interpreter usable, and
 * the stack of actrun_lua(A) as it was. */
ACTRUN_API int actrun_run_file(actrun *A, const char *path);
ACTRUN_API int actrun_run_string(actrun *A, const char *code);

/* The message of the last failure on A ("" if none). Valid until the next call on A. */
ACTRUN_API const char *actrun_error(actrun *A);

/* Full access to the underlying Lua state (owned by A). */
ACTRUN_API lua_State *actrun_lua(actrun *A);

/* A message handler for lua_pcall: turns any error value into a string (using its
 * __tostring when it has one) and appends a traceback. */
ACTRUN_API int actrun_traceback(lua_State *L);

/* Opens the actrun module in any Lua 5.4 state; returns 1 (the module table). */
ACTRUN_API int luaopen_actrun(lua_State *L);

/* Copies `data` (row-major, ndim <= 8 dims of shape) into a new tensor stored in the
 * global `name`. */
ACTRUN_API int actrun_set_tensor(actrun *A, const char *name, const float *data, int ndim,
                                 const int64_t *shape);
/* Copies the tensor in global `name` to `out` (capacity in elements); writes its ndim
 * and shape (room for 8 dims). Fails if `name` is not a tensor or capacity is short. */
ACTRUN_API int actrun_get_tensor(actrun *A, const char *name, float *out, size_t capacity,
                                 int *ndim, int64_t *shape);

/* Pushes a tensor holding a copy of data onto L's stack (for hosts using actrun_lua). */
ACTRUN_API int actrun_push_tensor(lua_State *L, const float *data, int ndim,
                                  const int64_t *shape);

#ifdef __cplusplus
}
#endif
#endif
