/* The embedding API's data calls (include/actrun.h): tensors and numbers across the
 * boundary by global name, zero-copy wraps of host buffers, calling a Lua function, and
 * host activations. Every Lua operation runs under ar_api_pcall, so no error (an
 * allocation failure included) can reach Lua's panic handler; argument checks come first
 * and name the function and the argument. */
#include <stdlib.h>
#include <string.h>

#include "act/act.h"
#include "act/host.h"
#include "actrun.h"
#include "api.h"
#include "lua/binding.h"

/* The context of A's state (NULL if actrun was not opened in it, which actrun_new
 * prevents: then a clear message rather than a crash). */
static ar_ctx *ctx_of(actrun *A) { return lt_ctx_from_registry(A->L); }

static int throwf(lua_State *L, const char *fmt, const char *a) {
  lua_pushfstring(L, fmt, a);
  return lua_error(L);
}

/* Checks ndim/shape like the tensor constructors do; 0 or a message in A. */
static int check_shape_args(actrun *A, const char *fn, int ndim, const int64_t *shape) {
  if (ndim < 0 || ndim > AR_MAXDIM)
    return ar_api_fail(A, "%s: argument ndim must be 0..%d, got %d", fn, AR_MAXDIM, ndim);
  if (ndim > 0 && !shape) return ar_api_fail(A, "%s: argument shape is NULL", fn);
  for (int i = 0; i < ndim; i++)
    if (shape[i] < 0)
      return ar_api_fail(A, "%s: argument shape: size %lld of dimension %d is negative", fn,
                         (long long)shape[i], i + 1);
  ar_ctx *C = ctx_of(A);
  if (!C) return ar_api_fail(A, "%s: actrun is not open in this interpreter", fn);
  if (ar_check_shape(C, ndim, shape)) return ar_api_fail(A, "%s: %s", fn, ar_errmsg(C));
  return 0;
}

static int64_t numel_of(int ndim, const int64_t *shape) {
  int64_t n = 1;
  for (int i = 0; i < ndim; i++) n *= shape[i];
  return n;
}

/* ---------- copies in and out ---------- */

ACTRUN_API int actrun_push_tensor(lua_State *L, const float *data, int ndim,
                                  const int64_t *shape) {
  ar_ctx *C = lt_ctx_from_registry(L);
  if (!C) return AR_EARG;
  if (ndim < 0 || ndim > AR_MAXDIM)
    return ar_seterr(C, AR_EARG, "ndim must be 0..%d, got %d", AR_MAXDIM, ndim);
  if (ndim > 0 && !shape) return ar_seterr(C, AR_EARG, "shape is NULL");
  if (!lua_checkstack(L, 3)) return ar_seterr(C, AR_ENOMEM, "Lua stack overflow");
  ar_tensor *t = lt_new_reg(L); /* first, so a Lua memory error cannot leak the storage */
  int rc = ar_empty(C, t, ndim, shape);
  if (rc) {
    lua_pop(L, 1);
    return rc;
  }
  int64_t n = ar_numel(t);
  if (n && !data) {
    ar_release(t);
    lua_pop(L, 1);
    return ar_seterr(C, AR_EARG, "data is NULL");
  }
  if (n) memcpy(ar_data(t), data, (size_t)n * sizeof(float));
  lt_account(L, C);
  return AR_OK;
}

struct set_req {
  const char *name;
  const float *data;
  int ndim;
  const int64_t *shape;
};

static int set_tensor_p(lua_State *L) {
  struct set_req *r = lua_touserdata(L, 1);
  if (actrun_push_tensor(L, r->data, r->ndim, r->shape)) {
    ar_ctx *C = lt_ctx_from_registry(L);
    return throwf(L, "%s", ar_errmsg(C));
  }
  lua_setglobal(L, r->name);
  return 0;
}

static int set_tensor(actrun *A, const char *name, const float *data, int ndim,
                      const int64_t *shape) {
  const char *fn = "actrun_set_tensor";
  if (!name) return ar_api_fail(A, "%s: argument name is NULL", fn);
  if (check_shape_args(A, fn, ndim, shape)) return 1;
  if (!data && numel_of(ndim, shape) > 0) return ar_api_fail(A, "%s: argument data is NULL", fn);
  struct set_req r = {name, data, ndim, shape};
  return ar_api_pcall(A, fn, set_tensor_p, &r) ? 1 : 0;
}

ACTRUN_API int actrun_set_tensor(actrun *A, const char *name, const float *data, int ndim,
                                 const int64_t *shape) {
  if (!A) return 1;
  if (ar_api_enter(A, "actrun_set_tensor")) return 1;
  int rc = set_tensor(A, name, data, ndim, shape);
  ar_api_leave(A);
  return rc;
}

/* Pushes the global `name` and returns its tensor, or raises naming what it is. */
static ar_tensor *global_tensor(lua_State *L, const char *name) {
  int t = lua_getglobal(L, name);
  ar_tensor *x = lt_totensor(L, -1);
  if (!x) {
    if (t == LUA_TNIL) return throwf(L, "global '%s' is not set (nil)", name), NULL;
    bool closed = lt_peek(L, -1) != NULL;
    lua_pushfstring(L, "global '%s' is not a tensor (it is a %s)", name,
                    closed ? "closed tensor" : luaL_typename(L, -1));
    lua_error(L);
  }
  return x;
}

struct get_req {
  const char *name;
  float *out;
  size_t capacity;
  int *ndim;
  int64_t *shape;
  size_t *numel;
};

static int get_tensor_p(lua_State *L) {
  struct get_req *r = lua_touserdata(L, 1);
  ar_tensor *x = global_tensor(L, r->name);
  int64_t n = ar_numel(x);
  if (r->numel) *r->numel = (size_t)n;
  if (r->ndim) *r->ndim = x->ndim;
  if (r->shape) memcpy(r->shape, x->shape, sizeof(int64_t) * (size_t)x->ndim);
  if (!r->out) return 0; /* actrun_tensor_shape */
  if ((size_t)n > r->capacity) {
    lua_pushfstring(L, "global '%s' has %I elements, capacity is %I", r->name, (lua_Integer)n,
                    (lua_Integer)r->capacity);
    return lua_error(L);
  }
  if (lt_copy_out(L, -1, r->out, r->capacity, NULL, NULL))
    return throwf(L, "%s", ar_errmsg(lt_ctx_from_registry(L)));
  return 0;
}

static int get_tensor(actrun *A, const char *name, float *out, size_t capacity, int *ndim,
                      int64_t *shape) {
  const char *fn = "actrun_get_tensor";
  if (!name) return ar_api_fail(A, "%s: argument name is NULL", fn);
  if (!out) return ar_api_fail(A, "%s: argument out is NULL", fn);
  if (!ctx_of(A)) return ar_api_fail(A, "%s: actrun is not open in this interpreter", fn);
  struct get_req r = {name, out, capacity, ndim, shape, NULL};
  return ar_api_pcall(A, fn, get_tensor_p, &r) ? 1 : 0;
}

ACTRUN_API int actrun_get_tensor(actrun *A, const char *name, float *out, size_t capacity,
                                 int *ndim, int64_t *shape) {
  if (!A) return 1;
  if (ar_api_enter(A, "actrun_get_tensor")) return 1;
  int rc = get_tensor(A, name, out, capacity, ndim, shape);
  ar_api_leave(A);
  return rc;
}

static int tensor_shape(actrun *A, const char *name, int *ndim, int64_t *shape, size_t *numel) {
  const char *fn = "actrun_tensor_shape";
  if (!name) return ar_api_fail(A, "%s: argument name is NULL", fn);
  if (!ctx_of(A)) return ar_api_fail(A, "%s: actrun is not open in this interpreter", fn);
  struct get_req r = {name, NULL, 0, ndim, shape, numel};
  return ar_api_pcall(A, fn, get_tensor_p, &r) ? 1 : 0;
}

ACTRUN_API int actrun_tensor_shape(actrun *A, const char *name, int *ndim, int64_t *shape,
                                   size_t *numel) {
  if (!A) return 1;
  if (ar_api_enter(A, "actrun_tensor_shape")) return 1;
  int rc = tensor_shape(A, name, ndim, shape, numel);
  ar_api_leave(A);
  return rc;
}

/* ---------- numbers ---------- */

struct num_req {
  const char *name;
  double v;
  double *out;
};

static int set_number_p(lua_State *L) {
  struct num_req *r = lua_touserdata(L, 1);
  lua_pushnumber(L, r->v);
  lua_setglobal(L, r->name);
  return 0;
}

static int get_number_p(lua_State *L) {
  struct num_req *r = lua_touserdata(L, 1);
  int t = lua_getglobal(L, r->name);
  if (t == LUA_TNUMBER) {
    *r->out = (double)lua_tonumber(L, -1);
    return 0;
  }
  ar_tensor *x = lt_totensor(L, -1);
  if (x && ar_numel(x) == 1) {
    float v;
    if (lt_copy_out(L, -1, &v, 1, NULL, NULL))
      return throwf(L, "%s", ar_errmsg(lt_ctx_from_registry(L)));
    *r->out = v;
    return 0;
  }
  if (t == LUA_TNIL) return throwf(L, "global '%s' is not set (nil)", r->name);
  if (x) {
    lua_pushfstring(L, "global '%s' is a tensor of %I elements, expected a number or a 1-element tensor",
                    r->name, (lua_Integer)ar_numel(x));
    return lua_error(L);
  }
  lua_pushfstring(L, "global '%s' is not a number (it is a %s)", r->name, luaL_typename(L, -1));
  return lua_error(L);
}

static int set_number(actrun *A, const char *name, double value) {
  if (!name) return ar_api_fail(A, "actrun_set_number: argument name is NULL");
  struct num_req r = {name, value, NULL};
  return ar_api_pcall(A, "actrun_set_number", set_number_p, &r) ? 1 : 0;
}

ACTRUN_API int actrun_set_number(actrun *A, const char *name, double value) {
  if (!A) return 1;
  if (ar_api_enter(A, "actrun_set_number")) return 1;
  int rc = set_number(A, name, value);
  ar_api_leave(A);
  return rc;
}

static int get_number(actrun *A, const char *name, double *value) {
  if (!name) return ar_api_fail(A, "actrun_get_number: argument name is NULL");
  if (!value) return ar_api_fail(A, "actrun_get_number: argument value is NULL");
  struct num_req r = {name, 0, value};
  return ar_api_pcall(A, "actrun_get_number", get_number_p, &r) ? 1 : 0;
}

ACTRUN_API int actrun_get_number(actrun *A, const char *name, double *value) {
  if (!A) return 1;
  if (ar_api_enter(A, "actrun_get_number")) return 1;
  int rc = get_number(A, name, value);
  ar_api_leave(A);
  return rc;
}

/* ---------- zero-copy wraps of host memory ----------
 * The wrapped storage is an ordinary 64-byte storage block from the context (so releasing
 * it through the core returns it to the right size class) whose data pointer is set to
 * the host buffer. The handle holds one reference to it: the storage outlives every view,
 * saved autograd tensor and Lua reference, and at unwrap its data pointer can be moved to
 * a private copy, which every view then sees. When only the handle's reference is left,
 * the record is dropped (swept at each wrap/unwrap and at actrun_free). */

static void free_wrap(ar_wrap *w) {
  ar_storage *copy = w->copy;
  ar_storage_release(w->st);
  if (copy) ar_storage_release(copy);
  free(w);
}

/* Drops the records that are no longer wraps (host NULL: unwrapped, or never made) once
 * nothing but the handle holds their storage. */
static void sweep(actrun *A) {
  for (ar_wrap **p = &A->wraps; *p;) {
    ar_wrap *w = *p;
    if (!w->host && w->st->refcount == 1) {
      *p = w->next;
      free_wrap(w);
    } else {
      p = &w->next;
    }
  }
}

void ar_api_free_wraps(actrun *A) {
  while (A->wraps) {
    ar_wrap *w = A->wraps;
    A->wraps = w->next;
    free_wrap(w);
  }
}

struct wrap_req {
  const char *name;
  ar_wrap *w;
  int ndim;
  const int64_t *shape;
};

static int wrap_p(lua_State *L) {
  struct wrap_req *r = lua_touserdata(L, 1);
  ar_tensor *t = lt_new_reg(L);
  t->st = r->w->st;
  ar_storage_retain(t->st); /* the tensor's reference; the handle keeps its own */
  t->ndim = r->ndim;
  int64_t s = 1;
  for (int i = r->ndim - 1; i >= 0; i--) {
    t->shape[i] = r->shape[i];
    t->stride[i] = s;
    s *= r->shape[i];
  }
  lua_setglobal(L, r->name);
  return 0;
}

static int wrap_tensor(actrun *A, const char *name, float *data, int ndim, const int64_t *shape) {
  const char *fn = "actrun_wrap_tensor";
  if (!name) return ar_api_fail(A, "%s: argument name is NULL", fn);
  if (!data) return ar_api_fail(A, "%s: argument data is NULL", fn);
  if (((uintptr_t)data & (sizeof(float) - 1)) != 0)
    return ar_api_fail(A, "%s: argument data is not aligned for float", fn);
  if (check_shape_args(A, fn, ndim, shape)) return 1;
  ar_ctx *C = ctx_of(A);
  sweep(A);
  int64_t numel = numel_of(ndim, shape);
  /* a buffer wrapped again shares the first wrap's storage, so that at unwrap every
   * tensor made from it moves onto one copy and stays connected */
  ar_wrap *w = A->wraps;
  while (w && w->host != data) w = w->next;
  bool fresh = !w;
  if (fresh) {
    w = calloc(1, sizeof *w);
    if (!w) return ar_api_fail(A, "%s: not enough memory", fn);
    if (ar_storage_new(C, 0, &w->st)) {
      free(w);
      return ar_api_fail(A, "%s: %s", fn, ar_errmsg(C));
    }
    w->st->data = data;
    w->host = data;
    w->next = A->wraps;
    A->wraps = w;
  }
  int64_t before = w->numel;
  if (numel > w->numel) w->numel = numel;
  struct wrap_req r = {name, w, ndim, shape};
  int rc = ar_api_pcall(A, fn, wrap_p, &r);
  if (rc) {
    w->numel = before;
    /* a fresh record stays as a non-wrap: an unreachable tensor may still hold the
     * storage until Lua collects it (never read; the host owes no unwrap) */
    if (fresh) w->host = NULL;
  }
  return rc ? 1 : 0;
}

ACTRUN_API int actrun_wrap_tensor(actrun *A, const char *name, float *data, int ndim,
                                  const int64_t *shape) {
  if (!A) return 1;
  if (ar_api_enter(A, "actrun_wrap_tensor")) return 1;
  int rc = wrap_tensor(A, name, data, ndim, shape);
  ar_api_leave(A);
  return rc;
}

static int unwrap_tensor(actrun *A, const float *data) {
  const char *fn = "actrun_unwrap_tensor";
  if (!data) return ar_api_fail(A, "%s: argument data is NULL", fn);
  ar_ctx *C = ctx_of(A);
  int found = 0;
  for (ar_wrap *w = A->wraps; w; w = w->next) {
    if (w->host != data) continue;
    found = 1;
    if (w->st->refcount > 1) {
      /* still referenced: move every view onto a private copy of the current contents */
      if (ar_storage_new(C, (size_t)w->numel, &w->copy))
        return ar_api_fail(A, "%s: %s (the buffer is still wrapped)", fn, ar_errmsg(C));
      if (w->numel) memcpy(w->copy->data, w->host, (size_t)w->numel * sizeof(float));
      w->st->data = w->copy->data;
    }
    w->host = NULL;
  }
  if (!found) return ar_api_fail(A, "%s: this buffer is not wrapped in this interpreter", fn);
  sweep(A);
  return 0;
}

ACTRUN_API int actrun_unwrap_tensor(actrun *A, const float *data) {
  if (!A) return 1;
  if (ar_api_enter(A, "actrun_unwrap_tensor")) return 1;
  int rc = unwrap_tensor(A, data);
  ar_api_leave(A);
  return rc;
}

/* ---------- calling a Lua function ---------- */

struct call_req {
  const char *function;
  const char *const *args;
  int nargs;
  const char *const *results;
  int nresults;
};

/* Pushes the value at a dotted path of globals ("step", "M.step"). */
static void push_path(lua_State *L, const char *path) {
  const char *dot = strchr(path, '.');
  if (!dot) {
    lua_getglobal(L, path);
    return;
  }
  lua_pushlstring(L, path, (size_t)(dot - path));
  lua_getglobal(L, lua_tostring(L, -1));
  lua_remove(L, -2);
  while (dot) {
    const char *start = dot + 1;
    dot = strchr(start, '.');
    size_t len = dot ? (size_t)(dot - start) : strlen(start);
    if (!lua_istable(L, -1)) {
      const char *type = luaL_typename(L, -1);
      lua_pushlstring(L, path, (size_t)(start - 1 - path));
      lua_pushfstring(L, "'%s': '%s' is not a table (it is a %s)", path, lua_tostring(L, -1),
                      type);
      lua_error(L);
    }
    lua_pushlstring(L, start, len);
    lua_gettable(L, -2);
    lua_remove(L, -2);
  }
}

static int call_p(lua_State *L) {
  struct call_req *r = lua_touserdata(L, 1);
  luaL_checkstack(L, r->nargs + r->nresults + 4, "too many arguments and results");
  lua_pushcfunction(L, actrun_traceback);
  int handler = lua_gettop(L);
  push_path(L, r->function);
  if (!lua_isfunction(L, -1)) { /* a callable table or userdata will do */
    if (luaL_getmetafield(L, -1, "__call") == LUA_TNIL) {
      lua_pushfstring(L, "'%s' is not a function (it is a %s)", r->function,
                      luaL_typename(L, -1));
      return lua_error(L);
    }
    lua_pop(L, 1);
  }
  for (int i = 0; i < r->nargs; i++) {
    if (lua_getglobal(L, r->args[i]) == LUA_TNIL) {
      lua_pushfstring(L, "argument %d: global '%s' is not set (nil)", i + 1, r->args[i]);
      return lua_error(L);
    }
  }
  if (lua_pcall(L, r->nargs, r->nresults, handler) != LUA_OK) return lua_error(L);
  for (int i = r->nresults - 1; i >= 0; i--) {
    if (r->results[i])
      lua_setglobal(L, r->results[i]);
    else
      lua_pop(L, 1);
  }
  return 0;
}

static int call(actrun *A, const char *function, const char *const *args, int nargs,
                const char *const *results, int nresults) {
  const char *fn = "actrun_call";
  if (!function) return ar_api_fail(A, "%s: argument function is NULL", fn), LUA_ERRRUN;
  if (!*function || function[0] == '.' || function[strlen(function) - 1] == '.' ||
      strstr(function, ".."))
    return ar_api_fail(A, "%s: argument function '%s' is not a name or a dotted path", fn,
                       function), LUA_ERRRUN;
  if (nargs < 0 || nargs > 200)
    return ar_api_fail(A, "%s: argument nargs must be 0..200, got %d", fn, nargs), LUA_ERRRUN;
  if (nresults < 0 || nresults > 200)
    return ar_api_fail(A, "%s: argument nresults must be 0..200, got %d", fn, nresults),
           LUA_ERRRUN;
  if (nargs > 0 && !args) return ar_api_fail(A, "%s: argument args is NULL", fn), LUA_ERRRUN;
  if (nresults > 0 && !results)
    return ar_api_fail(A, "%s: argument results is NULL", fn), LUA_ERRRUN;
  for (int i = 0; i < nargs; i++)
    if (!args[i]) return ar_api_fail(A, "%s: args[%d] is NULL", fn, i), LUA_ERRRUN;
  struct call_req r = {function, args, nargs, results, nresults};
  return ar_api_pcall(A, fn, call_p, &r);
}

ACTRUN_API int actrun_call(actrun *A, const char *function, const char *const *args, int nargs,
                           const char *const *results, int nresults) {
  if (!A) return LUA_ERRRUN;
  if (ar_api_enter(A, "actrun_call")) return LUA_ERRRUN;
  int rc = call(A, function, args, nargs, results, nresults);
  ar_api_leave(A);
  return rc;
}

/* ---------- host activations ---------- */

struct reg_req {
  const char *name;
  act_host_kernel f, df, d2f; /* d2f may be NULL */
  void *ud;
};

static int register_p(lua_State *L) {
  struct reg_req *r = lua_touserdata(L, 1);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, ACT_HOST_REGISTRY);
  int reg = lua_gettop(L);
  if (lua_getfield(L, reg, r->name) != LUA_TNIL)
    return throwf(L, "'%s' is already registered in this interpreter (a host activation "
                    "cannot be replaced)", r->name);
  lua_pop(L, 1);
  /* the act tables' own functions (apply, softmax ...) and anything defined there */
  static const char *const tables[] = {"actrun.act", "actrun.act_c"};
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  for (int i = 0; i < 2; i++) {
    if (lua_getfield(L, -1, tables[i]) == LUA_TTABLE) {
      lua_pushstring(L, r->name);
      if (lua_rawget(L, -2) != LUA_TNIL) {
        lua_pushfstring(L, "'%s' is already a field of %s", r->name, tables[i]);
        return lua_error(L);
      }
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  act_host *h = lua_newuserdatauv(L, sizeof *h, 0);
  memset(h, 0, sizeof *h);
  strcpy(h->name, r->name); /* length checked by act_host_name_problem */
  h->f = r->f;
  h->df = r->df;
  h->d2f = r->d2f;
  h->ud = r->ud;
  lua_setfield(L, reg, r->name);
  return 0;
}

/* actrun_register_activation and actrun_register_activation2 under the caller's name */
static int register_host(actrun *A, const char *fn, const char *name, actrun_kernel f,
                         actrun_kernel df, actrun_kernel d2f, void *ud) {
  if (!name) return ar_api_fail(A, "%s: argument name is NULL", fn);
  if (!f) return ar_api_fail(A, "%s: argument f is NULL ('%s')", fn, name);
  if (!df) return ar_api_fail(A, "%s: argument df is NULL ('%s')", fn, name);
  const char *why = act_host_name_problem(name);
  if (*why) return ar_api_fail(A, "%s: argument name '%s' is not valid: %s", fn, name, why);
  if (act_find(name))
    return ar_api_fail(A, "%s: '%s' is a built-in activation", fn, name);
  if (!ctx_of(A)) return ar_api_fail(A, "%s: actrun is not open in this interpreter", fn);
  struct reg_req r = {name, f, df, d2f, ud};
  return ar_api_pcall(A, fn, register_p, &r) ? 1 : 0;
}

ACTRUN_API int actrun_register_activation(actrun *A, const char *name, actrun_kernel f,
                                          actrun_kernel df, void *ud) {
  if (!A) return 1;
  if (ar_api_enter(A, "actrun_register_activation")) return 1;
  int rc = register_host(A, "actrun_register_activation", name, f, df, NULL, ud);
  ar_api_leave(A);
  return rc;
}

ACTRUN_API int actrun_register_activation2(actrun *A, const char *name, actrun_kernel f,
                                           actrun_kernel df, actrun_kernel d2f, void *ud) {
  if (!A) return 1;
  if (ar_api_enter(A, "actrun_register_activation2")) return 1;
  int rc = register_host(A, "actrun_register_activation2", name, f, df, d2f, ud);
  ar_api_leave(A);
  return rc;
}
