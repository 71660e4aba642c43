/* Shared pieces of the Lua binding: the context of a Lua state, tensor userdata,
 * argument checking with messages that name the function and the argument. */
#ifndef ACTRUN_BINDING_H
#define ACTRUN_BINDING_H

#include <lauxlib.h>
#include <stdbool.h>
#include <lua.h>

#include "core/core.h"

#define LT_TENSOR_MT "actrun.Tensor"
#define LT_CTX_KEY "actrun.ctx"

/* Every C function of the module has these upvalues. */
#define LT_UP_CTX lua_upvalueindex(1)     /* full userdata holding ar_ctx* */
#define LT_UP_TMT lua_upvalueindex(2)     /* the tensor metatable */
#define LT_NUP 2

ar_ctx *lt_ctx(lua_State *L); /* from upvalue 1 */

/* A registration entry that carries the most arguments its function takes (for a method,
 * not counting self): more is an error naming the function, "Tensor:sum: expected at most
 * 2 arguments, got 3", checked once in lt_setfuncs rather than in every function.
 * LT_VARARGS: the function takes any number (sizes, indices) and checks them itself. */
typedef struct lt_reg {
  const char *name;
  lua_CFunction fn;
  int maxargs;
} lt_reg;
#define LT_VARARGS (-1)
/* Sets each entry of r (ending with a NULL name) in the table at the top of the stack,
 * with the module's upvalues (ctx at ctxi, tensor metatable at mti). methods: Tensor
 * methods, named "Tensor:NAME" in messages and self not counted; else "actrun.NAME". */
void lt_setfuncs(lua_State *L, const lt_reg *r, bool methods, int ctxi, int mti);
/* The context of a state where the module was opened, from the registry (or NULL). */
ar_ctx *lt_ctx_from_registry(lua_State *L);

/* Raises "fname: message" at the caller's position. Never returns. */
int lt_error(lua_State *L, const char *fname, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Raises "fname: <core error message>". */
int lt_core_error(lua_State *L, const char *fname);
/* Raises "fname: argument #arg (name) expected WHAT, got TYPE-or-value". */
int lt_argerror(lua_State *L, const char *fname, int arg, const char *name, const char *expected);

/* A new tensor userdata on the stack (st = NULL, metatable set); fill it with a core op. */
ar_tensor *lt_new(lua_State *L);
/* Same as lt_new, but for C functions without the module's upvalues (host API). */
ar_tensor *lt_new_reg(lua_State *L);
/* Tells Lua's GC about tensor memory allocated since the last call. */
void lt_account(lua_State *L, ar_ctx *C);

ar_tensor *lt_totensor(lua_State *L, int idx); /* NULL if not a live tensor */
/* The same (kept for the callers that read better with it). Both identify a tensor by
 * its userdata's size and tag, not its metatable: see module.c. */
ar_tensor *lt_test(lua_State *L, int idx);
/* A tensor, live or closed (st NULL), or NULL: the one identity check under all of these
 * and under every metamethod. */
ar_tensor *lt_peek(lua_State *L, int idx);
ar_tensor *lt_check(lua_State *L, int idx, const char *fname, int arg, const char *name);
lua_Integer lt_checkint(lua_State *L, int idx, const char *fname, int arg, const char *name);
lua_Integer lt_optint(lua_State *L, int idx, lua_Integer def, const char *fname, int arg,
                      const char *name);
double lt_checknum(lua_State *L, int idx, const char *fname, int arg, const char *name);
/* 1-based (negative from the end) dim to 0-based, checked against ndim. */
int lt_checkdim(lua_State *L, int idx, int ndim, const char *fname, int arg);
/* A shape given as numbers from `first` to the top, or one table at `first`. Returns the
 * number of dims. allow_neg1: one size may be -1 (view/reshape/expand). */
int lt_shape_args(lua_State *L, int first, int64_t *shape, const char *fname, bool allow_neg1);

/* Copies the tensor at idx into out (row-major); AR_* status, message in the context. */
int lt_copy_out(lua_State *L, int idx, float *out, size_t capacity, int *ndim, int64_t *shape);

/* lalloc.c: a state with actrun's small-block allocator (see there), and its closing. */
lua_State *lt_newstate(void);
void lt_close(lua_State *L);
/* lt_close in two steps, for a state the host may close itself: lt_heap(L) while L is
 * open (NULL when L does not use actrun's allocator), lt_free_heap after lua_close. */
void *lt_heap(lua_State *L);
void lt_free_heap(void *heap);
/* chunks.c: the loading policy of an interpreter actrun creates: binary chunks refused
 * (load, loadfile, dofile, require's Lua searcher wrapped) unless allow_binary. Raises
 * on a memory error. */
void lt_chunks_policy(lua_State *L, int allow_binary);
/* module.c: the allocator a state's tensor-reclaiming wrapper delegates to, if wrapped */
void lt_unwrap_alloc(lua_Alloc *f, void **ud);

/* l_tensor.c: fill the tensor metatable / put the module functions into the module table;
 * ctxi and mti are the stack indices of the context holder and the metatable. */
void lt_open_tensor(lua_State *L, int ctxi, int mti);
void lt_register_functions(lua_State *L, int modi, int ctxi, int mti);
/* l_act.c: sets module.act, the activation functions generated from the registry. */
void lt_open_act(lua_State *L, int modi, int ctxi, int mti);
/* l_optim.c: sets module._optim, the optimiser update kernels lua/actrun/optim.lua calls;
 * l_loss.c: sets module._loss, the fused losses lua/actrun/nn.lua calls. */
void lt_open_optim(lua_State *L, int modi, int ctxi, int mti);
void lt_open_loss(lua_State *L, int modi, int ctxi, int mti);
/* l_linalg.c: sets module.linalg_svdvals (LAPACK's SVD, values only). */
void lt_open_linalg(lua_State *L, int modi, int ctxi, int mti);
/* l_data.c: registers package.loaded["actrun.data_c"], the C half of actrun.data. */
void lt_open_data(lua_State *L, int ctxi, int mti);
/* l_plot.c: registers package.loaded["actrun.plot_c"], the C half of actrun.plot. */
void lt_open_plot(lua_State *L, int ctxi, int mti);
/* l_dist.c: registers package.loaded["actrun.dist_c"], the C half of actrun.dist (MPI), and
 * initialises MPI once per process when launched by mpirun (see there). */
void lt_open_dist(lua_State *L, int ctxi, int mti);

#endif
