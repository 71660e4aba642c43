/* actrun.act_c: the activation registry in Lua. One function per registry entry
 * (act.NAME(x, p1, p2 ...)), plus apply/list/info/scalar/derivative/backward and
 * softmax/log_softmax. Everything is generated from act_table, plus the host activations
 * of this state (actrun_register_activation: the registry table ACT_HOST_REGISTRY), which
 * apply/list/info/scalar/derivative/backward and act[name] (an __index) resolve too. The
 * public actrun.act (lua/actrun/act.lua) holds these same functions and adds the
 * Lua-defined ones. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "act/act.h"
#include "act/host.h"
#include "autograd/ops.h"
#include "lua/binding.h"

static int finish(lua_State *L, ar_ctx *C, int rc, const char *fname) {
  if (rc) return lt_core_error(L, fname);
  lt_account(L, C);
  return 1;
}

/* out = f(x) for a registry entry, differentiable (autograd's op_act.c). */
static int act_call(lua_State *L, ar_ctx *C, const act_def *a, ar_tensor *x, const double *p,
                    const char *fn) {
  ar_tensor *out = lt_new(L);
  return finish(L, C, ag_act(C, a, out, x, p), fn);
}

/* The host activation `name` of this state, pushed (its userdata) and returned; nothing
 * pushed and NULL when there is none. */
static act_host *push_host(lua_State *L, const char *name) {
  if (lua_getfield(L, LUA_REGISTRYINDEX, ACT_HOST_REGISTRY) != LUA_TTABLE) {
    lua_pop(L, 1);
    return NULL;
  }
  if (lua_getfield(L, -1, name) != LUA_TUSERDATA) {
    lua_pop(L, 2);
    return NULL;
  }
  lua_remove(L, -2);
  return lua_touserdata(L, -1);
}

static act_host *find_host(lua_State *L, const char *name) {
  act_host *h = push_host(L, name);
  if (h) lua_pop(L, 1); /* the registry table keeps it alive */
  return h;
}

/* A built-in (returned) or a host activation (*host set, NULL returned). */
static const act_def *check_any(lua_State *L, int idx, const char *fn, act_host **host) {
  if (lua_type(L, idx) != LUA_TSTRING) lt_argerror(L, fn, idx, "name", "an activation name");
  const char *name = lua_tostring(L, idx);
  const act_def *a = act_find(name);
  *host = a ? NULL : find_host(L, name);
  if (!a && !*host) lt_error(L, fn, "unknown activation '%s' (see act.list())", name);
  return a;
}

/* Host activations take no parameters: a params table must be empty. */
static void host_no_params(lua_State *L, int idx, const act_host *h, const char *fn) {
  if (lua_isnoneornil(L, idx)) return;
  if (lua_type(L, idx) != LUA_TTABLE) lt_argerror(L, fn, idx, "params", "a table of parameters");
  lua_pushnil(L);
  if (lua_next(L, idx)) {
    lua_pop(L, 1);
    const char *key = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "?";
    lt_error(L, fn, "unknown parameter '%s' for %s (parameters: none)", key, h->name);
  }
}

/* out = f(x) through the host's kernel, recorded for autograd (dx = dy * df(x)). */
static int host_call(lua_State *L, ar_ctx *C, const act_host *h, ar_tensor *x, const char *fn) {
  ar_tensor *out = lt_new(L);
  return finish(L, C, ag_host_act(C, h, out, x), fn);
}

/* act.NAME(x) of a host activation: upvalue 3 is its userdata. */
static int f_host_entry(lua_State *L) {
  const act_host *h = lua_touserdata(L, lua_upvalueindex(3));
  char fn[96];
  snprintf(fn, sizeof fn, "actrun.act.%s", h->name);
  if (lua_gettop(L) > 1)
    return lt_error(L, fn, "too many arguments: %d given, %s takes x only", lua_gettop(L),
                    h->name);
  ar_tensor *x = lt_check(L, 1, fn, 1, "x");
  return host_call(L, lt_ctx(L), h, x, fn);
}

/* __index of the act table: act[name] for a host activation registered after the table
 * was made (the function is cached in the table: names are never re-registered). */
static int f_act_index(lua_State *L) {
  if (lua_type(L, 2) != LUA_TSTRING) return 0;
  if (!push_host(L, lua_tostring(L, 2))) return 0;
  lua_pushvalue(L, LT_UP_CTX);
  lua_pushvalue(L, LT_UP_TMT);
  lua_rotate(L, -3, 2); /* ctx, mt, userdata */
  lua_pushcclosure(L, f_host_entry, LT_NUP + 1);
  lua_pushvalue(L, 2);
  lua_pushvalue(L, -2);
  lua_rawset(L, 1);
  return 1;
}

static void param_list(const act_def *a, char *buf, size_t n) {
  buf[0] = 0;
  for (int i = 0; i < a->nparams; i++) {
    if (i) strncat(buf, ", ", n - strlen(buf) - 1);
    strncat(buf, a->params[i].name, n - strlen(buf) - 1);
  }
}

/* Parameters from a table keyed by name (idx may be none/nil: the defaults). */
static void table_params(lua_State *L, int idx, const act_def *a, double *p, const char *fn) {
  for (int i = 0; i < a->nparams; i++) p[i] = a->params[i].def;
  if (lua_isnoneornil(L, idx)) return;
  if (lua_type(L, idx) != LUA_TTABLE) lt_argerror(L, fn, idx, "params", "a table of parameters");
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    const char *key = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
    int k = key ? act_param_index(a, key) : -1;
    if (k < 0) {
      char names[128];
      param_list(a, names, sizeof names);
      if (!key) lt_error(L, fn, "parameter names must be strings (%s takes: %s)", a->name,
                         a->nparams ? names : "no parameters");
      lt_error(L, fn, "unknown parameter '%s' for %s (parameters: %s)", key, a->name,
               a->nparams ? names : "none");
    }
    if (lua_type(L, -1) != LUA_TNUMBER)
      lt_error(L, fn, "parameter '%s' expected a number, got %s", key, luaL_typename(L, -1));
    p[k] = lua_tonumber(L, -1);
    lua_pop(L, 1);
  }
}

/* act.NAME(x [, p1, p2 ...]): positional parameters; prelu's slope may be a tensor. */
static int f_entry(lua_State *L) {
  const act_def *a = &act_table[lua_tointeger(L, lua_upvalueindex(3))];
  /* "actrun.act.NAME", made once at registration (a snprintf per call was a tenth of
   * the cost of a call on 1000 elements) */
  const char *fn = lua_tostring(L, lua_upvalueindex(4));
  ar_ctx *C = lt_ctx(L);
  int top = lua_gettop(L);
  if (top > 1 + a->nparams) {
    char names[128];
    param_list(a, names, sizeof names);
    return lt_error(L, fn, "too many arguments: %d given, %s takes x%s%s", top, a->name,
                    a->nparams ? ", " : "", names);
  }
  ar_tensor *x = lt_check(L, 1, fn, 1, "x");
  if (a->learnable && lt_totensor(L, 2)) {
    ar_tensor *w = lt_check(L, 2, fn, 2, a->params[0].name);
    ar_tensor *out = lt_new(L);
    return finish(L, C, ag_prelu(C, out, x, w), fn);
  }
  double p[ACT_MAXPARAMS];
  for (int i = 0; i < a->nparams; i++)
    p[i] = lua_isnoneornil(L, 2 + i) ? a->params[i].def
                                     : lt_checknum(L, 2 + i, fn, 2 + i, a->params[i].name);
  return act_call(L, C, a, x, p, fn);
}

static int f_apply(lua_State *L) {
  const char *fn = "actrun.act.apply";
  ar_ctx *C = lt_ctx(L);
  act_host *h;
  const act_def *a = check_any(L, 1, fn, &h);
  ar_tensor *x = lt_check(L, 2, fn, 2, "x");
  if (h) {
    host_no_params(L, 3, h, fn);
    return host_call(L, C, h, x, fn);
  }
  double p[ACT_MAXPARAMS];
  table_params(L, 3, a, p, fn);
  return act_call(L, C, a, x, p, fn);
}

/* f, f', f'': the double reference of a built-in; for a host activation its float
 * kernels on one element, and nil for f'' when it has no second derivative kernel */
static int f_scalar(lua_State *L) {
  const char *fn = "actrun.act.scalar";
  act_host *h;
  const act_def *a = check_any(L, 1, fn, &h);
  double x = lt_checknum(L, 2, fn, 2, "x"), p[ACT_MAXPARAMS], f, df, d2;
  if (h) { /* the host's float kernels on one element */
    host_no_params(L, 3, h, fn);
    float xf = (float)x, yf, dyf, d2f;
    h->f(&xf, &yf, 1, h->ud);
    h->df(&xf, &dyf, 1, h->ud);
    lua_pushnumber(L, yf);
    lua_pushnumber(L, dyf);
    if (!h->d2f) {
      lua_pushnil(L);
      return 3;
    }
    h->d2f(&xf, &d2f, 1, h->ud);
    lua_pushnumber(L, d2f);
    return 3;
  }
  table_params(L, 3, a, p, fn);
  if (act_check_params(lt_ctx(L), a, p)) return lt_core_error(L, fn);
  a->scalar(x, p, &f, &df, &d2);
  lua_pushnumber(L, f);
  lua_pushnumber(L, df);
  lua_pushnumber(L, d2);
  return 3;
}

/* second(name, x [, params]): f''(x) elementwise through the float kernels (a built-in's
 * act_second, a host activation's d2f), not recorded by autograd. Hidden (act.properties
 * and the tests use it; not part of the public act table). */
static int f_second(lua_State *L) {
  const char *fn = "actrun.act.second";
  ar_ctx *C = lt_ctx(L);
  act_host *h;
  const act_def *a = check_any(L, 1, fn, &h);
  ar_tensor *x = lt_check(L, 2, fn, 2, "x");
  ar_tensor *out;
  if (h) {
    host_no_params(L, 3, h, fn);
    out = lt_new(L);
    return finish(L, C, act_host_second(C, h, out, x), fn);
  }
  double p[ACT_MAXPARAMS];
  table_params(L, 3, a, p, fn);
  out = lt_new(L);
  return finish(L, C, act_second(C, a, out, x, p), fn);
}

static int f_backward(lua_State *L) {
  const char *fn = "actrun.act.backward";
  ar_ctx *C = lt_ctx(L);
  act_host *h;
  const act_def *a = check_any(L, 1, fn, &h);
  ar_tensor *x = lt_check(L, 2, fn, 2, "x");
  ar_tensor *dy = lt_check(L, 3, fn, 3, "dy");
  if (h) {
    host_no_params(L, 4, h, fn);
    ar_tensor *out = lt_new(L);
    return finish(L, C, act_host_backward(C, h, out, x, dy), fn);
  }
  double p[ACT_MAXPARAMS];
  table_params(L, 4, a, p, fn);
  ar_tensor *out = lt_new(L);
  return finish(L, C, act_backward(C, a, out, x, dy, p), fn);
}

static int f_derivative(lua_State *L) {
  const char *fn = "actrun.act.derivative";
  ar_ctx *C = lt_ctx(L);
  act_host *h;
  const act_def *a = check_any(L, 1, fn, &h);
  ar_tensor *x = lt_check(L, 2, fn, 2, "x");
  double p[ACT_MAXPARAMS];
  if (h)
    host_no_params(L, 3, h, fn);
  else
    table_params(L, 3, a, p, fn);
  ar_tensor ones;
  int rc = ar_empty(C, &ones, x->ndim, x->shape);
  if (rc) return lt_core_error(L, fn);
  ar_fill(C, &ones, 1.0f);
  ar_tensor *out = lt_new(L);
  rc = h ? act_host_backward(C, h, out, x, &ones) : act_backward(C, a, out, x, &ones, p);
  ar_release(&ones);
  return finish(L, C, rc, fn);
}

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The elementwise entries and this state's host activations, sorted; softmax and
 * log_softmax (vector-valued) are not in the list, since they take a dim rather than
 * parameters and have no scalar form. */
static int f_list(lua_State *L) {
  int nhost = 0;
  if (lua_getfield(L, LUA_REGISTRYINDEX, ACT_HOST_REGISTRY) == LUA_TTABLE) {
    lua_pushnil(L);
    while (lua_next(L, -2)) nhost++, lua_pop(L, 1);
  }
  int hosti = lua_gettop(L); /* the host table, or nil */
  size_t n = (size_t)act_count + (size_t)nhost;
  /* the names live in act_table and in the host table (kept on the stack) */
  const char **names = lua_newuserdatauv(L, n * sizeof *names + 1, 0);
  for (int i = 0; i < act_count; i++) names[i] = act_table[i].name;
  int k = act_count;
  if (nhost) {
    lua_pushnil(L);
    while (lua_next(L, hosti) && k < (int)n) {
      names[k++] = lua_tostring(L, -2);
      lua_pop(L, 1);
    }
  }
  qsort(names, (size_t)k, sizeof *names, cmp_names);
  lua_createtable(L, k, 0);
  for (int i = 0; i < k; i++) {
    lua_pushstring(L, names[i]);
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

static int f_info(lua_State *L) {
  act_host *h;
  const act_def *a = check_any(L, 1, "actrun.act.info", &h);
  if (h) {
    lua_createtable(L, 0, 7);
    lua_pushstring(L, h->name);
    lua_setfield(L, -2, "name");
    lua_pushliteral(L, "host");
    lua_setfield(L, -2, "family");
    lua_pushliteral(L, "f(x) by a C kernel of the host program");
    lua_setfield(L, -2, "formula");
    lua_newtable(L);
    lua_setfield(L, -2, "params");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "learnable");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "output_grad");
    return 1;
  }
  lua_createtable(L, 0, 7);
  lua_pushstring(L, a->name);
  lua_setfield(L, -2, "name");
  lua_pushstring(L, a->family);
  lua_setfield(L, -2, "family");
  lua_pushstring(L, a->formula);
  lua_setfield(L, -2, "formula");
  lua_createtable(L, a->nparams, 0);
  for (int i = 0; i < a->nparams; i++) {
    lua_createtable(L, 0, 2);
    lua_pushstring(L, a->params[i].name);
    lua_setfield(L, -2, "name");
    lua_pushnumber(L, a->params[i].def);
    lua_setfield(L, -2, "default");
    lua_rawseti(L, -2, i + 1);
  }
  lua_setfield(L, -2, "params");
  lua_pushboolean(L, a->learnable);
  lua_setfield(L, -2, "learnable");
  lua_pushboolean(L, a->output_grad);
  lua_setfield(L, -2, "output_grad");
  return 1;
}

static int softmax_common(lua_State *L, bool log, const char *fn) {
  ar_ctx *C = lt_ctx(L);
  ar_tensor *x = lt_check(L, 1, fn, 1, "x");
  if (lua_gettop(L) > 2) return lt_error(L, fn, "too many arguments: expected x [, dim]");
  int dim;
  if (lua_isnoneornil(L, 2))
    dim = x->ndim ? x->ndim - 1 : 0;
  else
    dim = x->ndim ? lt_checkdim(L, 2, x->ndim, fn, 2) : (lt_checkint(L, 2, fn, 2, "dim"), 0);
  ar_tensor *out = lt_new(L);
  return finish(L, C, ag_softmax(C, out, x, dim, log), fn);
}
static int f_softmax(lua_State *L) { return softmax_common(L, false, "actrun.act.softmax"); }
static int f_log_softmax(lua_State *L) {
  return softmax_common(L, true, "actrun.act.log_softmax");
}

/* scalars(name, xs [, params]) or scalars(name, lo, hi, n [, params]): the double
 * scalar f, f' and f'' at every x of the table xs, or at the n evenly spaced points from
 * lo to hi, as three Lua arrays. One call for a whole grid: act.properties analyses built-ins
 * from these (hidden in actrun.act_c, not part of the public act table). */
static int f_scalars(lua_State *L) {
  const char *fn = "actrun.act.scalars";
  act_host *h;
  const act_def *a = check_any(L, 1, fn, &h);
  if (!a) return lt_error(L, fn, "activation '%s' has no scalar form", h->name);
  if (!a->scalar) return lt_error(L, fn, "activation '%s' has no scalar form", a->name);
  bool grid = lua_type(L, 2) != LUA_TTABLE;
  double lo = 0, hi = 0, p[ACT_MAXPARAMS];
  lua_Integer n;
  int pidx;
  if (grid) {
    lo = lt_checknum(L, 2, fn, 2, "lo");
    hi = lt_checknum(L, 3, fn, 3, "hi");
    n = lt_checkint(L, 4, fn, 4, "n");
    if (!isfinite(lo) || !isfinite(hi))
      return lt_error(L, fn, "lo and hi must be finite, got %g and %g", lo, hi);
    if (n < 1 || n > 100000000)
      return lt_error(L, fn, "argument #4 (n) expected 1..100000000 points, got %lld",
                      (long long)n);
    pidx = 5;
  } else {
    n = (lua_Integer)lua_rawlen(L, 2);
    pidx = 3;
  }
  table_params(L, pidx, a, p, fn);
  if (act_check_params(lt_ctx(L), a, p)) return lt_core_error(L, fn);
  lua_createtable(L, n > INT32_MAX ? 0 : (int)n, 0);
  lua_createtable(L, n > INT32_MAX ? 0 : (int)n, 0);
  lua_createtable(L, n > INT32_MAX ? 0 : (int)n, 0);
  int fi = lua_gettop(L) - 2, dfi = fi + 1, d2i = fi + 2;
  for (lua_Integer i = 0; i < n; i++) {
    double x, f, df, d2;
    if (grid) {
      x = n == 1 ? lo : lo + (hi - lo) * ((double)i / (double)(n - 1));
    } else {
      if (lua_rawgeti(L, 2, i + 1) != LUA_TNUMBER)
        return lt_error(L, fn, "argument #2 (xs) entry %lld expected a number, got %s",
                        (long long)(i + 1), luaL_typename(L, -1));
      x = lua_tonumber(L, -1);
      lua_pop(L, 1);
    }
    a->scalar(x, p, &f, &df, &d2);
    lua_pushnumber(L, f);
    lua_rawseti(L, fi, i + 1);
    lua_pushnumber(L, df);
    lua_rawseti(L, dfi, i + 1);
    lua_pushnumber(L, d2);
    lua_rawseti(L, d2i, i + 1);
  }
  return 3;
}

/* builtins(): the names compiled into the registry (act_table), sorted. act.lua copies
 * exactly these functions into its table; anything else in this table (activations a
 * host registers at run time) is looked up on each use. */
static int f_builtins(lua_State *L) {
  const char *names[128];
  int n = act_count < 128 ? act_count : 128;
  for (int i = 0; i < n; i++) names[i] = act_table[i].name;
  qsort(names, (size_t)n, sizeof *names, cmp_names);
  lua_createtable(L, n, 0);
  for (int i = 0; i < n; i++) {
    lua_pushstring(L, names[i]);
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

/* enable_grad(fn, ...): runs fn with recording on (act.properties and act.scalar need
 * autograd for Lua-defined activations even when called under actrun.no_grad); the
 * previous mode comes back even when fn raises. */
static int f_enable_grad(lua_State *L) {
  if (lua_type(L, 1) != LUA_TFUNCTION)
    return lt_argerror(L, "actrun.act.enable_grad", 1, "fn", "a function");
  ar_ctx *C = lt_ctx(L);
  bool was = ag_grad_enabled(C);
  ag_set_grad_enabled(C, true);
  int st = lua_pcall(L, lua_gettop(L) - 1, LUA_MULTRET, 0);
  ag_set_grad_enabled(C, was);
  if (st != LUA_OK) return lua_error(L);
  return lua_gettop(L);
}

static const luaL_Reg functions[] = {
    {"apply", f_apply},       {"scalar", f_scalar},   {"backward", f_backward},
    {"derivative", f_derivative}, {"list", f_list},   {"info", f_info},
    {"softmax", f_softmax},   {"log_softmax", f_log_softmax},
    {"scalars", f_scalars},   {"enable_grad", f_enable_grad}, {"builtins", f_builtins},
    {"second", f_second},
    {NULL, NULL},
};

void lt_open_act(lua_State *L, int modi, int ctxi, int mti) {
  lua_createtable(L, 0, act_count + 8);
  /* host activations registered later are found through __index */
  lua_createtable(L, 0, 1);
  lua_pushvalue(L, ctxi);
  lua_pushvalue(L, mti);
  lua_pushcclosure(L, f_act_index, LT_NUP);
  lua_setfield(L, -2, "__index");
  lua_setmetatable(L, -2);
  lua_pushvalue(L, ctxi);
  lua_pushvalue(L, mti);
  luaL_setfuncs(L, functions, LT_NUP);
  for (int i = 0; i < act_count; i++) {
    lua_pushvalue(L, ctxi);
    lua_pushvalue(L, mti);
    lua_pushinteger(L, i);
    lua_pushfstring(L, "actrun.act.%s", act_table[i].name);
    lua_pushcclosure(L, f_entry, LT_NUP + 2);
    lua_setfield(L, -2, act_table[i].name);
  }
  /* The C table is package.loaded["actrun.act_c"]; the public actrun.act is
   * lua/actrun/act.lua (loaded on first use of actrun.act), which puts these functions
   * in its own table and adds act.define, act.properties and act.table. */
  (void)modi;
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_insert(L, -2);
  lua_setfield(L, -2, "actrun.act_c");
  lua_pop(L, 1);
}
