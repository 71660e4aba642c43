/* actrun._optim: the update kernels of actrun.optim (lua/actrun/optim.lua keeps the
 * options and state buffers and calls these once per parameter tensor). The kernels write
 * into the parameter's storage directly, so autograd records nothing. */
#include <stdbool.h>

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
    optim_scale(ar_data(gr), ar_numel(gr), s);
  } else if (ar_binary_scalar_(C, AR_MUL, (ar_tensor *)gr, s)) {
    return lt_core_error(L, fn);
  }
  return 0;
}

static const luaL_Reg kernels[] = {
    {"sgd", f_sgd},         {"adam", f_adam},
    {"rmsprop", f_rmsprop}, {"adagrad", f_adagrad},
    {"grad_sumsq", f_grad_sumsq}, {"grad_scale", f_grad_scale},
    {NULL, NULL}};

void lt_open_optim(lua_State *L, int modi, int ctxi, int mti) {
  lua_createtable(L, 0, (int)(sizeof kernels / sizeof kernels[0]));
  lua_pushvalue(L, ctxi);
  lua_pushvalue(L, mti);
  luaL_setfuncs(L, kernels, LT_NUP);
  lua_setfield(L, modi, "_optim");
}
