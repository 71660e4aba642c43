/* actrun._optim: the update kernels of actrun.optim (lua/actrun/optim.lua keeps the
 * options and state buffers and calls these once per parameter tensor). The kernels write
 * into the parameter's storage directly, so autograd records nothing. */
#include <stdbool.h>
#include <string.h>

#include "autograd/autograd.h"
#include "lua/binding.h"
#include "optim/optim.h"

/* The parameter at idx and a contiguous view of its gradient in *g (a fresh copy only when
 * the gradient is strided). Returns false (nothing to do) when it has no gradient. */
static bool param_and_grad(lua_State *L, ar_ctx *C, int idx, const char *fn, ar_tensor **p,
                           ar_tensor *g) {
  *p = lt_check(L, idx, fn, idx, "param");
  if (!ar_is_contiguous(*p)) lt_error(L, fn, "parameter must be contiguous");
  const ar_tensor *gr = ag_grad(*p);
  g->st = NULL;
  if (!gr) return false;
  if (!ar_same_shape(gr, *p)) lt_error(L, fn, "gradient shape differs from the parameter's");
  if (ar_contiguous(C, g, gr)) lt_core_error(L, fn);
  return true;
}

/* A state buffer: a contiguous tensor with as many elements as the parameter. */
static float *state(lua_State *L, int idx, const ar_tensor *p, const char *fn, const char *name) {
  if (lua_isnoneornil(L, idx)) return NULL;
  ar_tensor *s = lt_check(L, idx, fn, idx, name);
  if (!ar_is_contiguous(s) || ar_numel(s) != ar_numel(p))
    lt_error(L, fn, "state buffer %s does not match the parameter", name);
  return ar_data(s);
}

static float num(lua_State *L, int idx, const char *fn, const char *name) {
  return (float)lt_checknum(L, idx, fn, idx, name);
}

/* sgd(p, buf|nil, lr, momentum, dampening, nesterov, wd, first) -> updated */
static int f_sgd(lua_State *L) {
  const char *fn = "actrun.optim.SGD";
  ar_ctx *C = lt_ctx(L);
  ar_tensor *p, g;
  if (!param_and_grad(L, C, 1, fn, &p, &g)) return lua_pushboolean(L, 0), 1;
  float *buf = state(L, 2, p, fn, "momentum_buffer");
  float mom = num(L, 4, fn, "momentum");
  if (mom != 0.0f && !buf) {
    ar_release(&g);
    return lt_error(L, fn, "momentum needs a buffer");
  }
  ar_bump_version(p);
  optim_sgd(ar_data(p), ar_data(&g), buf, ar_numel(p), num(L, 3, fn, "lr"), mom,
            num(L, 5, fn, "dampening"), lua_toboolean(L, 6), num(L, 7, fn, "weight_decay"),
            lua_toboolean(L, 8));
  ar_release(&g);
  return lua_pushboolean(L, 1), 1;
}

/* adam(p, m, v, lr, beta1, beta2, eps, wd, decoupled, step) -> updated */
static int f_adam(lua_State *L) {
  const char *fn = "actrun.optim.Adam";
  ar_ctx *C = lt_ctx(L);
  ar_tensor *p, g;
  if (!param_and_grad(L, C, 1, fn, &p, &g)) return lua_pushboolean(L, 0), 1;
  float *m = state(L, 2, p, fn, "exp_avg"), *v = state(L, 3, p, fn, "exp_avg_sq");
  if (!m || !v) {
    ar_release(&g);
    return lt_error(L, fn, "missing state buffers");
  }
  ar_bump_version(p);
  optim_adam(ar_data(p), ar_data(&g), m, v, ar_numel(p), num(L, 4, fn, "lr"),
             lt_checknum(L, 5, fn, 5, "beta1"), lt_checknum(L, 6, fn, 6, "beta2"),
             num(L, 7, fn, "eps"), num(L, 8, fn, "weight_decay"), lua_toboolean(L, 9),
             (int64_t)lt_checkint(L, 10, fn, 10, "step"));
  ar_release(&g);
  return lua_pushboolean(L, 1), 1;
}

/* rmsprop(p, square_avg, grad_avg|nil, buf|nil, lr, alpha, eps, wd, momentum) -> updated */
static int f_rmsprop(lua_State *L) {
  const char *fn = "actrun.optim.RMSprop";
  ar_ctx *C = lt_ctx(L);
  ar_tensor *p, g;
  if (!param_and_grad(L, C, 1, fn, &p, &g)) return lua_pushboolean(L, 0), 1;
  float *sq = state(L, 2, p, fn, "square_avg"), *ga = state(L, 3, p, fn, "grad_avg"),
        *buf = state(L, 4, p, fn, "momentum_buffer");
  if (!sq) {
    ar_release(&g);
    return lt_error(L, fn, "missing state buffers");
  }
  ar_bump_version(p);
  optim_rmsprop(ar_data(p), ar_data(&g), sq, ga, buf, ar_numel(p), num(L, 5, fn, "lr"),
                num(L, 6, fn, "alpha"), num(L, 7, fn, "eps"), num(L, 8, fn, "weight_decay"),
                num(L, 9, fn, "momentum"));
  ar_release(&g);
  return lua_pushboolean(L, 1), 1;
}

/* adagrad(p, sum, clr, eps, wd) -> updated */
static int f_adagrad(lua_State *L) {
  const char *fn = "actrun.optim.Adagrad";
  ar_ctx *C = lt_ctx(L);
  ar_tensor *p, g;
  if (!param_and_grad(L, C, 1, fn, &p, &g)) return lua_pushboolean(L, 0), 1;
  float *sum = state(L, 2, p, fn, "sum");
  if (!sum) {
    ar_release(&g);
    return lt_error(L, fn, "missing state buffers");
  }
  ar_bump_version(p);
  optim_adagrad(ar_data(p), ar_data(&g), sum, ar_numel(p), num(L, 3, fn, "lr"),
                num(L, 4, fn, "eps"), num(L, 5, fn, "weight_decay"));
  ar_release(&g);
  return lua_pushboolean(L, 1), 1;
}

/* grad_sumsq(p) -> sum of squares of p's gradient (0 when none), in double */
static int f_grad_sumsq(lua_State *L) {
  const char *fn = "actrun.optim.clip_grad_norm";
  ar_ctx *C = lt_ctx(L);
  ar_tensor *p, g;
  if (!param_and_grad(L, C, 1, fn, &p, &g)) return lua_pushnumber(L, 0), 1;
  lua_pushnumber(L, optim_sumsq(ar_data(&g), ar_numel(&g)));
  ar_release(&g);
  return 1;
}

/* grad_scale(p, s): p's gradient *= s in place (through its own view, strided or not) */
static int f_grad_scale(lua_State *L) {
  const char *fn = "actrun.optim.clip_grad_norm";
  ar_ctx *C = lt_ctx(L);
  ar_tensor *p = lt_check(L, 1, fn, 1, "param");
  float s = num(L, 2, fn, "scale");
  const ar_tensor *gr = ag_grad(p);
  if (!gr) return 0;
  if (ar_is_contiguous(gr)) {
    ar_bump_version(gr);
    optim_scale(ar_data(gr), ar_numel(gr), s);
  } else if (ar_binary_scalar_(C, AR_MUL, (ar_tensor *)gr, s)) {
    return lt_core_error(L, fn);
  }
  return 0;
}

/* ---------- whole-list steps: one call per optimiser step ---------- */

/* The tensor at params[i] (a list checked at construction; re-checked here because Lua
 * code can change it). */
static ar_tensor *list_param(lua_State *L, int i, const char *fn) {
  lua_rawgeti(L, 1, i);
  ar_tensor *p = lt_totensor(L, -1);
  lua_pop(L, 1); /* the list keeps it alive */
  if (!p) lt_error(L, fn, "parameter %d is not a tensor", i);
  if (!ar_is_contiguous(p)) lt_error(L, fn, "parameter must be contiguous");
  return p;
}

/* The contiguous gradient of p (a view, or a copy when the gradient is strided); false
 * when p has none. */
static bool list_grad(lua_State *L, ar_ctx *C, ar_tensor *p, const char *fn, ar_tensor *g) {
  const ar_tensor *gr = ag_grad(p);
  g->st = NULL;
  if (!gr) return false;
  if (!ar_same_shape(gr, p)) lt_error(L, fn, "gradient shape differs from the parameter's");
  if (ar_contiguous(C, g, gr)) lt_core_error(L, fn);
  return true;
}

/* state[key]: the buffer kept in the state table at the top of the stack, made (zeros,
 * or uninitialised when `zero` is false) the first time; *made tells which. */
static float *list_buffer(lua_State *L, ar_ctx *C, const ar_tensor *p, const char *key,
                          bool zero, const char *fn, bool *made) {
  int st = lua_gettop(L);
  *made = false;
  if (lua_getfield(L, st, key) != LUA_TNIL) {
    ar_tensor *b = lt_totensor(L, -1);
    lua_pop(L, 1); /* the state table keeps it alive */
    if (!b || !ar_is_contiguous(b) || ar_numel(b) != ar_numel(p))
      lt_error(L, fn, "state buffer %s does not match the parameter", key);
    return ar_data(b);
  }
  lua_pop(L, 1);
  ar_tensor *b = lt_new(L);
  if (ar_empty(C, b, p->ndim, p->shape)) lt_core_error(L, fn);
  if (zero) memset(ar_data(b), 0, sizeof(float) * (size_t)ar_numel(b));
  lua_setfield(L, st, key);
  *made = true;
  return ar_data(b);
}

/* Pushes states[i] (a table). */
static void list_state(lua_State *L, int i, const char *fn) {
  if (lua_rawgeti(L, 2, i) != LUA_TTABLE) lt_error(L, fn, "state %d is not a table", i);
}

/* zero_grad_all(params): every parameter's .grad = nil */
static int f_zero_grad_all(lua_State *L) {
  const char *fn = "actrun.optim.zero_grad";
  ar_ctx *C = lt_ctx(L);
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_Integer n = (lua_Integer)lua_rawlen(L, 1);
  for (lua_Integer i = 1; i <= n; i++) {
    lua_rawgeti(L, 1, i);
    ar_tensor *p = lt_totensor(L, -1);
    if (!p) lt_error(L, fn, "parameter %d is not a tensor", (int)i);
    ag_set_grad(C, p, NULL);
    lua_pop(L, 1);
  }
  return 0;
}

/* has_grad(p) -> boolean (without making a userdata for the gradient as p.grad does) */
static int f_has_grad(lua_State *L) {
  ar_tensor *p = lt_check(L, 1, "actrun.optim", 1, "param");
  lua_pushboolean(L, ag_grad(p) != NULL);
  return 1;
}

/* sgd_all(params, states, lr, momentum, dampening, nesterov, wd): every parameter with a
 * gradient; state.momentum_buffer is made at its first update when momentum != 0. */
static int f_sgd_all(lua_State *L) {
  const char *fn = "actrun.optim.SGD";
  ar_ctx *C = lt_ctx(L);
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checktype(L, 2, LUA_TTABLE);
  float lr = num(L, 3, fn, "lr"), mom = num(L, 4, fn, "momentum"),
        damp = num(L, 5, fn, "dampening"), wd = num(L, 7, fn, "weight_decay");
  bool nesterov = lua_toboolean(L, 6);
  lua_Integer n = (lua_Integer)lua_rawlen(L, 1);
  for (lua_Integer i = 1; i <= n; i++) {
    ar_tensor *p = list_param(L, (int)i, fn), g;
    if (!list_grad(L, C, p, fn, &g)) continue;
    float *buf = NULL;
    bool first = false;
    if (mom != 0.0f) {
      list_state(L, (int)i, fn);
      buf = list_buffer(L, C, p, "momentum_buffer", false, fn, &first);
      lua_pop(L, 1);
    }
    ar_bump_version(p);
    optim_sgd(ar_data(p), ar_data(&g), buf, ar_numel(p), lr, mom, damp, nesterov, wd, first);
    ar_release(&g);
  }
  lt_account(L, C);
  return 0;
}

/* Adam over a range of one parameter's elements (the kernel is elementwise, so a large
 * parameter is split across the context's threads: the update reads and writes seven
 * floats per element and would otherwise run on one core while the GEMMs use them all). */
typedef struct {
  float *p, *m, *v;
  const float *g;
  float lr, eps, wd;
  double b1, b2;
  bool decoupled;
  int64_t step;
} adam_job;

static void adam_range(void *arg, int64_t lo, int64_t hi) {
  const adam_job *J = arg;
  optim_adam(J->p + lo, J->g + lo, J->m + lo, J->v + lo, hi - lo, J->lr, J->b1, J->b2, J->eps,
             J->wd, J->decoupled, J->step);
}

/* adam_all(params, states, lr, beta1, beta2, eps, wd, decoupled): every parameter with a
 * gradient; state.exp_avg/exp_avg_sq are made at its first update, state.step counts. */
static int f_adam_all(lua_State *L) {
  const char *fn = "actrun.optim.Adam";
  ar_ctx *C = lt_ctx(L);
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checktype(L, 2, LUA_TTABLE);
  float lr = num(L, 3, fn, "lr"), eps = num(L, 6, fn, "eps"), wd = num(L, 7, fn, "weight_decay");
  double b1 = lt_checknum(L, 4, fn, 4, "beta1"), b2 = lt_checknum(L, 5, fn, 5, "beta2");
  bool decoupled = lua_toboolean(L, 8);
  lua_Integer n = (lua_Integer)lua_rawlen(L, 1);
  for (lua_Integer i = 1; i <= n; i++) {
    ar_tensor *p = list_param(L, (int)i, fn), g;
    if (!list_grad(L, C, p, fn, &g)) continue;
    list_state(L, (int)i, fn);
    bool made;
    float *m = list_buffer(L, C, p, "exp_avg", true, fn, &made);
    float *v = list_buffer(L, C, p, "exp_avg_sq", true, fn, &made);
    lua_getfield(L, -1, "step");
    lua_Integer step = lua_tointeger(L, -1) + 1;
    lua_pop(L, 1);
    lua_pushinteger(L, step);
    lua_setfield(L, -2, "step");
    lua_pop(L, 1);
    adam_job J = {ar_data(p), m, v, ar_data(&g), lr, eps, wd, b1, b2, decoupled,
                  (int64_t)step};
    ar_parallel_for(C, ar_numel(p), 1 << 15, adam_range, &J);
    ar_release(&g);
  }
  lt_account(L, C);
  return 0;
}

static const luaL_Reg kernels[] = {
    {"sgd", f_sgd},         {"adam", f_adam},
    {"rmsprop", f_rmsprop}, {"adagrad", f_adagrad},
    {"grad_sumsq", f_grad_sumsq}, {"grad_scale", f_grad_scale},
    {"zero_grad_all", f_zero_grad_all}, {"has_grad", f_has_grad},
    {"sgd_all", f_sgd_all}, {"adam_all", f_adam_all},
    {NULL, NULL}};


void lt_open_optim(lua_State *L, int modi, int ctxi, int mti) {
  lua_createtable(L, 0, (int)(sizeof kernels / sizeof kernels[0]));
  lua_pushvalue(L, ctxi);
  lua_pushvalue(L, mti);
  luaL_setfuncs(L, kernels, LT_NUP);
  lua_setfield(L, modi, "_optim");
}
