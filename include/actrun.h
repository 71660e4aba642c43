/* actrun: a Lua 5.4 DSL for neural-network activation experiments, embeddable in C.
 *
 * Build a host with `cc host.c $(pkg-config --cflags --libs actrun)`, or in CMake with
 * `find_package(actrun)` and `target_link_libraries(host PRIVATE actrun::actrun)`.
 * docs/EMBEDDING.md walks through a complete example (examples/embed/).
 *
 * ---------------------------------------------------------------------------------------
 * Worked example: hand the host's data to a Lua script, use a C activation, call a Lua
 * function, read results back. (Error checks shortened to `if (rc) fail(A)`.)
 *
 *   #include <actrun.h>
 *   #include <math.h>
 *   #include <stdio.h>
 *   #include <stdlib.h>
 *
 *   // the host's own activation: f(x) = x / sqrt(1 + x^2), f'(x) = (1 + x^2)^(-3/2)
 *   static void isru(const float *x, float *y, size_t n, void *ud) {
 *     for (size_t i = 0; i < n; i++) y[i] = x[i] / sqrtf(1 + x[i] * x[i]);
 *   }
 *   static void isru_d(const float *x, float *y, size_t n, void *ud) {
 *     for (size_t i = 0; i < n; i++) { float s = 1 + x[i] * x[i]; y[i] = 1 / (s * sqrtf(s)); }
 *   }
 *   static void fail(actrun *A) { fprintf(stderr, "%s\n", actrun_error(A)); exit(1); }
 *
 *   int main(void) {
 *     actrun *A = actrun_new();
 *     if (!A) return 1;
 *     float X[4][2] = {{0, 0}, {0, 1}, {1, 0}, {1, 1}};
 *     int64_t shape[2] = {4, 2};
 *     if (actrun_set_tensor(A, "X", &X[0][0], 2, shape)) fail(A);        // copy in
 *     if (actrun_register_activation(A, "isru", isru, isru_d, NULL)) fail(A);
 *     if (actrun_run_string(A,
 *           "function score(x) return actrun.act.isru(x):sum(), x:mean() end")) fail(A);
 *     const char *in[] = {"X"}, *out[] = {"s", "m"};
 *     if (actrun_call(A, "score", in, 1, out, 2)) fail(A);              // s, m = score(X)
 *     double s;
 *     if (actrun_get_number(A, "s", &s)) fail(A);                        // 1-element tensor
 *     float m[1]; int ndim; int64_t mshape[8];
 *     if (actrun_get_tensor(A, "m", m, 1, &ndim, mshape)) fail(A);      // copy out
 *     printf("%g %g\n", s, m[0]);
 *     actrun_free(A);
 *   }
 *
 * ---------------------------------------------------------------------------------------
 * Conventions
 *
 * Errors: every int-returning call returns 0 on success and non-zero on failure, and the
 *   message (naming the call and the argument, e.g. "actrun_get_tensor: global 'W' is not
 *   a tensor (it is a number)") is then in actrun_error(A) until the next call on A. Every
 *   call starts by clearing it. A NULL `A` makes a call fail (or do nothing, for
 *   actrun_free) without a message. A failed call leaves the interpreter usable: a Lua
 *   error inside a script or a called function unwinds to the call that ran it, and the
 *   Lua stack of actrun_lua(A) is left as it was.
 * The library never exits, aborts or prints on its own: every Lua operation these calls
 *   make is protected, so even an allocation failure becomes an error return. The one
 *   exception is misuse of the handle itself, where going on would corrupt memory: a call
 *   (actrun_free included) on a handle already freed, on a pointer that is no handle, or
 *   on a handle whose Lua state the host closed with lua_close prints "actrun: <call>
 *   used after actrun_free" (or "... called on a handle that is not an actrun
 *   interpreter", "... used after lua_close(actrun_lua(A))") on stderr and aborts. A
 *   freed handle is recognised for at least the next 256 actrun_free calls (its memory is
 *   kept that long); later, detection is best effort.
 * Names: tensors and numbers cross the boundary as Lua global variables, by name.
 * Ownership: pointers passed in are only read during the call (copied where kept), except
 *   the buffer given to actrun_wrap_tensor and the `ud` of actrun_register_activation.
 *   Strings returned (actrun_error) belong to A.
 *
 * Threads: one interpreter must be used by one thread at a time (calls on the same A
 *   from two threads at once need the host's lock; any thread may make them, one after
 *   the other). An int-returning call made while another thread is inside a call on A
 *   fails with "<call>: called while another thread is using this interpreter", which
 *   actrun_error(A) shows to the refused thread only; A is not touched. actrun_free in
 *   that situation aborts. A call into A from inside a call on A on the same thread (a host's Lua C
 *   function calling actrun_get_number) is allowed. Distinct interpreters are
 *   independent and may run in parallel threads: each has its own Lua state, RNG
 *   (actrun.manual_seed), storage cache, worker-thread pool, registered activations and
 *   error message, and nothing in the library is a global except what OpenBLAS keeps:
 *   OpenBLAS's thread count is one setting for the whole process, so
 *   actrun.set_num_threads(n) in any interpreter sets it for all (results do not depend
 *   on it; only speed does). Host activation kernels are called on the thread that made
 *   the call into actrun, never on the worker pool.
 *
 * Versions: ACTRUN_VERSION_MAJOR/MINOR/PATCH, ACTRUN_VERSION ("0.1.0"), and
 *   ACTRUN_VERSION_NUMBER (major*10000 + minor*100 + patch); the Lua side's
 *   `actrun.version` is the same string.
 */
#ifndef ACTRUN_H
#define ACTRUN_H

#include <stddef.h>
#include <stdint.h>

#include <lua.h>

/* The version: these three numbers are the one place it is written (CMakeLists.txt reads
 * them for the project, actrun.pc and the CMake package). */
#define ACTRUN_VERSION_MAJOR 0
#define ACTRUN_VERSION_MINOR 1
#define ACTRUN_VERSION_PATCH 0
#define ACTRUN_VERSION_STR_(x) #x
#define ACTRUN_VERSION_STR(x) ACTRUN_VERSION_STR_(x)
/* "MAJOR.MINOR.PATCH"; the Lua side's actrun.version is this string. */
#define ACTRUN_VERSION                                                    \
  ACTRUN_VERSION_STR(ACTRUN_VERSION_MAJOR) "." ACTRUN_VERSION_STR(ACTRUN_VERSION_MINOR) "." \
      ACTRUN_VERSION_STR(ACTRUN_VERSION_PATCH)
/* One number to compare: ACTRUN_VERSION_NUMBER >= 10200 means 1.2.0 or later. */
#define ACTRUN_VERSION_NUMBER \
  (ACTRUN_VERSION_MAJOR * 10000 + ACTRUN_VERSION_MINOR * 100 + ACTRUN_VERSION_PATCH)

#if defined(ACTRUN_BUILDING)
#define ACTRUN_API __attribute__((visibility("default")))
#else
#define ACTRUN_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef struct actrun actrun;

/* ---------- the interpreter ---------- */

/* A new Lua 5.4 interpreter with the standard libraries and actrun loaded as the global
 * `actrun` (and `require "actrun"`). NULL when out of memory or when the module fails
 * to open. Free it with actrun_free.
 * It runs text chunks only: Lua does not verify precompiled (binary) chunks, and a
 * corrupt or hostile one can crash the process. actrun_run_file/string, the Lua functions
 * load, loadfile, dofile (whatever mode a script passes) and require (its searcher for
 * Lua files) refuse one with "refusing a precompiled (binary) chunk in 'FILE': ..." (load:
 * nil and the message, as for any load error); C functions of the standard searchers are
 * unaffected. actrun_new_ex(ACTRUN_ALLOW_BINARY) lifts this, for trusted code only. */
ACTRUN_API actrun *actrun_new(void);

/* actrun_new with options, a bitwise or of ACTRUN_* option flags (0: actrun_new). NULL
 * also when `options` has a bit this library does not know. */
ACTRUN_API actrun *actrun_new_ex(unsigned options);
/* Option: run precompiled (binary) chunks too; the standard load, loadfile, dofile and
 * searchers are left as Lua made them. Lua never verifies bytecode: trusted code only. */
#define ACTRUN_ALLOW_BINARY 1u

/* Loads (does not run) a Lua file (`path` NULL: stdin), or a buffer, onto L's stack,
 * like luaL_loadfilex/luaL_loadbufferx, under the interpreter's policy: text only unless
 * it was made with ACTRUN_ALLOW_BINARY (a state actrun did not create: text only). Returns
 * the Lua status, with the function or the error message pushed. For hosts that load code
 * themselves through actrun_lua(A) (luaL_loadfile there is the host's own call and is
 * not filtered). chunkname is as luaL_loadbufferx's ("=name", "@file"; NULL: the text). */
ACTRUN_API int actrun_load_file(lua_State *L, const char *path);
ACTRUN_API int actrun_load_buffer(lua_State *L, const char *buf, size_t len,
                                  const char *chunkname);
/* Closes the interpreter and frees everything it owns; tensors wrapping host memory
 * (actrun_wrap_tensor) let go of it here at the latest. NULL is allowed. A second
 * actrun_free of the same handle aborts with a message (see Conventions). After the host
 * closed actrun_lua(A) itself (which it should not), actrun_free frees the rest without
 * closing the state again; every other call then aborts. */
ACTRUN_API void actrun_free(actrun *A);

/* Run a Lua file or string (its results are discarded). Returns 0 on success, else the
 * Lua status (LUA_ERRSYNTAX, LUA_ERRRUN, LUA_ERRMEM, LUA_ERRFILE ...) with the message,
 * file:line and traceback included, in actrun_error(A). */
ACTRUN_API int actrun_run_file(actrun *A, const char *path);
ACTRUN_API int actrun_run_string(actrun *A, const char *code);

/* Calls a Lua function with globals as arguments and stores its results in globals:
 *   results[0], ..., results[nresults-1] = function(args[0], ..., args[nargs-1])
 * `function` is a global name or a dotted path through tables ("train.step"); it may be
 * any callable value. Each args[i] names a global that must be set (not nil): a tensor,
 * a number, a table, anything. A NULL results[i] discards that result; missing results
 * are nil, extra ones dropped. Example:
 *
 *   const char *in[] = {"X", "y"}, *out[] = {"loss", NULL, "W"};
 *   if (actrun_call(A, "step", in, 2, out, 3)) puts(actrun_error(A));
 *
 * Returns 0, or the Lua status with the error (and the traceback, for an error raised
 * by the function) in actrun_error(A). nargs and nresults are 0..200. */
ACTRUN_API int actrun_call(actrun *A, const char *function, const char *const *args, int nargs,
                           const char *const *results, int nresults);

/* The message of the last failure on A ("" if none). Valid until the next call on A. */
ACTRUN_API const char *actrun_error(actrun *A);

/* Full access to the underlying Lua state (owned by A: do not lua_close it; if the host
 * does, only actrun_free(A) may follow). */
ACTRUN_API lua_State *actrun_lua(actrun *A);

/* A message handler for lua_pcall: turns any error value into a string (using its
 * __tostring when it has one) and appends a traceback. */
ACTRUN_API int actrun_traceback(lua_State *L);

/* Opens the actrun module in any Lua 5.4 state; returns 1 (the module table). This is
 * also what `require "actrun"` calls in the Lua C module actrun.so. */
ACTRUN_API int luaopen_actrun(lua_State *L);

/* ---------- tensors and numbers across the boundary ----------
 * Tensors are float32, row-major, with ndim 0..8 dims (ndim 0: one element); shape has
 * ndim entries, each >= 0. */

/* Copies `data` (ndim dims of `shape`, row-major) into a new tensor stored in the global
 * `name` (replacing what was there). data may be NULL only when the tensor is empty. */
ACTRUN_API int actrun_set_tensor(actrun *A, const char *name, const float *data, int ndim,
                                 const int64_t *shape);

/* Copies the tensor in global `name` to `out` in row-major order (views and transposes
 * are laid out as their shape says); `capacity` is out's size in elements. Writes its
 * ndim and shape when those are not NULL (shape needs room for 8 dims), even when the
 * call then fails because capacity is too small. Fails when the global is not set or is
 * not a tensor. */
ACTRUN_API int actrun_get_tensor(actrun *A, const char *name, float *out, size_t capacity,
                                 int *ndim, int64_t *shape);

/* The ndim, shape (room for 8) and element count of the tensor in global `name`, so the
 * host can size a buffer for actrun_get_tensor. Any output pointer may be NULL. */
ACTRUN_API int actrun_tensor_shape(actrun *A, const char *name, int *ndim, int64_t *shape,
                                   size_t *numel);

/* Zero-copy: stores in global `name` a tensor whose elements ARE the host's buffer
 * `data` (ndim dims of `shape`, row-major, float-aligned). Nothing is copied: Lua reads
 * what the host wrote and the host sees what Lua writes in place (t:fill(), t[i] = v,
 * an optimiser step on it). actrun never frees or reallocates `data`.
 * Lifetime: the buffer must stay valid, and must not be freed by the host, until
 * actrun_unwrap_tensor(A, data) or actrun_free(A). Views of the tensor (t[1],
 * t:view(...), t:t()), tensors autograd saved for a backward pass and Lua references
 * share the buffer while it is wrapped; at unwrap they all move, together, onto a
 * private copy of the buffer's contents at that moment, so they stay valid and the
 * host's memory is no longer touched. Results of ops on it (t * 2, t:clone()) are
 * ordinary tensors. Wrapping the same pointer several times (e.g. with two shapes) is
 * allowed: the wraps share one storage, and one unwrap ends them all (and moves them
 * onto one copy, still shared). Overlapping wraps at different pointers are separate
 * (each unwrap copies its own range). Changing the buffer between a forward pass and its
 * backward changes the gradients, as an in-place write in Lua would. */
ACTRUN_API int actrun_wrap_tensor(actrun *A, const char *name, float *data, int ndim,
                                  const int64_t *shape);

/* Ends every wrap of `data` made on A (see actrun_wrap_tensor): when it returns 0 the
 * host owns the buffer again. Fails when `data` is not wrapped on A (nothing changes),
 * or when the private copy cannot be allocated (the buffer then stays wrapped). */
ACTRUN_API int actrun_unwrap_tensor(actrun *A, const float *data);

/* Sets the global `name` to a Lua number. */
ACTRUN_API int actrun_set_number(actrun *A, const char *name, double value);
/* Reads the global `name`: a number, or a tensor of one element (its value). */
ACTRUN_API int actrun_get_number(actrun *A, const char *name, double *value);

/* Pushes a tensor holding a copy of data onto L's stack (for hosts using actrun_lua).
 * Returns 0, or non-zero with nothing pushed (bad ndim/shape, NULL data, out of memory).
 * Like any lua_push function it may raise a Lua memory error: call it protected. */
ACTRUN_API int actrun_push_tensor(lua_State *L, const float *data, int ndim,
                                  const int64_t *shape);

/* ---------- host activations ---------- */

/* An elementwise kernel: writes k(x[i]) to y[i] for i < n. x and y are contiguous and
 * never overlap; ud is the pointer given at registration. */
typedef void (*actrun_kernel)(const float *x, float *y, size_t n, void *ud);

/* Makes f a first-class activation of interpreter A (only): `actrun.act.NAME(x)`,
 * `act.apply(NAME, x)`, listed by `act.list()`, described by `act.info(NAME)` (family
 * "host"), `act.scalar` (f'' nil: see actrun_register_activation2), `act.derivative`,
 * and differentiable: autograd's backward is dx = dy * df(x). f writes f(x[i]) to y[i];
 * df writes f'(x[i]) to y[i]. The kernels
 * are called with contiguous buffers (strided inputs are copied first), once per op,
 * always on the thread that called into actrun (never on the worker pool), so they need
 * not be thread-safe unless the host shares ud between interpreters used in parallel.
 * ud must stay valid as long as A. Host activations take no parameters. A kernel must
 * not call back into A (it runs in the middle of one of A's operations); it may use
 * other interpreters.
 * Fails when name, f or df is NULL, when name is not a Lua identifier (letters, digits,
 * '_', at most 63 bytes, not a keyword), names a built-in activation or a field of
 * actrun.act (apply, softmax ...), or is already registered on A: a registration is
 * permanent for A's lifetime and is never replaced, since models and autograd graphs
 * already built hold on to it. */
ACTRUN_API int actrun_register_activation(actrun *A, const char *name, actrun_kernel f,
                                          actrun_kernel df, void *ud);

/* actrun_register_activation with a second derivative: d2f writes f''(x[i]) to y[i],
 * under the same rules as f and df (contiguous buffers, the calling thread, ud). d2f may
 * be NULL, meaning none: exactly actrun_register_activation. `act.scalar(NAME, x)`
 * returns f, f' and f'' (f'' nil without d2f). f'' over a tensor (what differentiating
 * twice through the activation needs) fails without d2f, with "host activation 'NAME'
 * has no second derivative (register it with actrun_register_activation2 to
 * differentiate twice)". Fails as actrun_register_activation does, naming
 * actrun_register_activation2 (d2f being NULL is not a failure). */
ACTRUN_API int actrun_register_activation2(actrun *A, const char *name, actrun_kernel f,
                                           actrun_kernel df, actrun_kernel d2f, void *ud);

#ifdef __cplusplus
}
#endif
#endif
