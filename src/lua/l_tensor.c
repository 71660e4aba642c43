/* The tensor type in Lua: creation functions, methods and metamethods. Thin: check the
 * arguments (1-based), call the core, push the results. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cblas.h>

#include "actrun.h"
#include "autograd/ops.h"
#include "lua/binding.h"

/* status of a core call -> the result on the stack, or a Lua error naming fname */
static int finish(lua_State *L, ar_ctx *C, int rc, const char *fname) {
  if (rc) return lt_core_error(L, fname);
  lt_account(L, C);
  return 1;
}

/* PyTorch's rule: a leaf that requires grad may only be modified in place under no_grad
 * (as optimisers do), or its gradient would silently be wrong. */
static void check_inplace(lua_State *L, ar_ctx *C, const ar_tensor *t, const char *fn) {
  if (ag_grad_enabled(C) && ag_inplace_forbidden(t))
    lt_error(L, fn, "a %s that requires grad is used in an in-place operation "
                    "(wrap it in actrun.no_grad, or use detach())",
             ag_is_leaf(t) ? "leaf tensor" : "view of a leaf tensor");
}

/* ---------- creation ---------- */

static int fill_shape(lua_State *L, const char *fname, bool init, float v, int first) {
  ar_ctx *C = lt_ctx(L);
  int64_t shape[AR_MAXDIM];
  int nd = lt_shape_args(L, first, shape, fname, false);
  ar_tensor *t = lt_new(L);
  int rc = ar_empty(C, t, nd, shape);
  if (!rc && init) rc = ar_fill(C, t, v);
  return finish(L, C, rc, fname);
}

static int f_zeros(lua_State *L) { return fill_shape(L, "actrun.zeros", true, 0.0f, 1); }
static int f_ones(lua_State *L) { return fill_shape(L, "actrun.ones", true, 1.0f, 1); }
static int f_empty(lua_State *L) { return fill_shape(L, "actrun.empty", false, 0.0f, 1); }

static int f_full(lua_State *L) {
  const char *fn = "actrun.full";
  if (lua_type(L, 1) != LUA_TTABLE) return lt_argerror(L, fn, 1, "shape", "a table of sizes");
  float v = (float)lt_checknum(L, 2, fn, 2, "value");
  lua_settop(L, 1);
  return fill_shape(L, fn, true, v, 1);
}

static int random_shape(lua_State *L, const char *fname, bool normal) {
  ar_ctx *C = lt_ctx(L);
  int64_t shape[AR_MAXDIM];
  int nd = lt_shape_args(L, 1, shape, fname, false);
  ar_tensor *t = lt_new(L);
  int rc = ar_empty(C, t, nd, shape);
  if (!rc) rc = normal ? ar_rand_normal(C, t, 0.0f, 1.0f) : ar_rand_uniform(C, t, 0.0f, 1.0f);
  return finish(L, C, rc, fname);
}
static int f_rand(lua_State *L) { return random_shape(L, "actrun.rand", false); }
static int f_randn(lua_State *L) { return random_shape(L, "actrun.randn", true); }

/* Shape of a nested table: follow first elements. */
static int nested_shape(lua_State *L, int idx, int64_t *shape, const char *fn) {
  int nd = 0;
  lua_pushvalue(L, idx);
  while (lua_type(L, -1) == LUA_TTABLE) {
    if (nd == AR_MAXDIM) lt_error(L, fn, "argument #1 is nested deeper than %d levels", AR_MAXDIM);
    lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
    shape[nd++] = n;
    if (n == 0) break;
    lua_rawgeti(L, -1, 1);
    lua_remove(L, -2);
  }
  lua_pop(L, 1);
  return nd;
}

static void nested_fill(lua_State *L, int idx, int depth, int nd, const int64_t *shape,
                        float **out, const char *fn, char *path, size_t plen) {
  lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
  if (n != shape[depth])
    lt_error(L, fn, "argument #1 is ragged: entry %s has %lld elements, expected %lld",
             plen ? path : "(top)", (long long)n, (long long)shape[depth]);
  for (lua_Integer i = 1; i <= n; i++) {
    lua_rawgeti(L, idx, i);
    char sub[128];
    snprintf(sub, sizeof sub, "%s[%lld]", path, (long long)i);
    if (depth + 1 < nd) {
      if (lua_type(L, -1) != LUA_TTABLE)
        lt_error(L, fn, "argument #1 is ragged: entry %s is %s, expected a table", sub,
                 luaL_typename(L, -1));
      nested_fill(L, lua_gettop(L), depth + 1, nd, shape, out, fn, sub, strlen(sub));
    } else {
      if (lua_type(L, -1) != LUA_TNUMBER)
        lt_error(L, fn, "argument #1 entry %s is %s, expected a number", sub, luaL_typename(L, -1));
      *(*out)++ = (float)lua_tonumber(L, -1);
    }
    lua_pop(L, 1);
  }
}

static int tensor_data(lua_State *L, ar_ctx *C, const char *fn);
static int f_tensor(lua_State *L) {
  const char *fn = "actrun.tensor";
  ar_ctx *C = lt_ctx(L);
  bool rg = false;
  if (!lua_isnoneornil(L, 2)) {
    if (lua_type(L, 2) != LUA_TTABLE) return lt_argerror(L, fn, 2, "options", "a table");
    int ty = lua_getfield(L, 2, "requires_grad");
    if (ty != LUA_TNIL && ty != LUA_TBOOLEAN)
      return lt_error(L, fn, "option requires_grad expected a boolean, got %s", lua_typename(L, ty));
    rg = lua_toboolean(L, -1);
    lua_pop(L, 1);
  }
  lua_settop(L, 1);
  int n = tensor_data(L, C, fn);
  if (rg && ag_set_requires_grad(C, lt_totensor(L, -1), true)) return lt_core_error(L, fn);
  return n;
}

static int tensor_data(lua_State *L, ar_ctx *C, const char *fn) {
  int type = lua_type(L, 1);
  if (type == LUA_TNUMBER) {
    int64_t one = 1;
    ar_tensor *t = lt_new(L);
    int rc = ar_empty(C, t, 1, &one);
    if (!rc) ar_data(t)[0] = (float)lua_tonumber(L, 1);
    return finish(L, C, rc, fn);
  }
  if (type == LUA_TUSERDATA) {
    ar_tensor *src = lt_check(L, 1, fn, 1, "data");
    ar_tensor *t = lt_new(L);
    return finish(L, C, ar_clone(C, t, src), fn);
  }
  if (type != LUA_TTABLE)
    return lt_argerror(L, fn, 1, "data", "a number, a (nested) table of numbers or a tensor");
  int64_t shape[AR_MAXDIM];
  int nd = nested_shape(L, 1, shape, fn);
  ar_tensor *t = lt_new(L);
  int rc = ar_empty(C, t, nd, shape);
  if (rc) return lt_core_error(L, fn);
  float *p = ar_data(t);
  char path[2] = "";
  nested_fill(L, 1, 0, nd, shape, &p, fn, path, 0);
  lt_account(L, C);
  return 1;
}

static int f_range(lua_State *L) {
  const char *fn = "actrun.range";
  ar_ctx *C = lt_ctx(L);
  double a = lt_checknum(L, 1, fn, 1, "from"), b = lt_checknum(L, 2, fn, 2, "to");
  double step = lua_isnoneornil(L, 3) ? 1.0 : lt_checknum(L, 3, fn, 3, "step");
  if (!isfinite(a) || !isfinite(b)) return lt_error(L, fn, "bounds must be finite, got %g and %g", a, b);
  if (step == 0 || !isfinite(step))
    return lt_error(L, fn, "argument #3 (step) expected a finite non-zero number, got %g", step);
  ar_tensor *t = lt_new(L);
  return finish(L, C, ar_range(C, t, a, b, step), fn);
}

static int f_linspace(lua_State *L) {
  const char *fn = "actrun.linspace";
  ar_ctx *C = lt_ctx(L);
  double a = lt_checknum(L, 1, fn, 1, "from"), b = lt_checknum(L, 2, fn, 2, "to");
  lua_Integer n = lt_checkint(L, 3, fn, 3, "n");
  if (!isfinite(a) || !isfinite(b)) return lt_error(L, fn, "bounds must be finite, got %g and %g", a, b);
  if (n < 1) return lt_error(L, fn, "argument #3 (n) expected a positive integer, got %lld", (long long)n);
  ar_tensor *t = lt_new(L);
  return finish(L, C, ar_linspace(C, t, a, b, (int64_t)n), fn);
}

static int f_eye(lua_State *L) {
  const char *fn = "actrun.eye";
  ar_ctx *C = lt_ctx(L);
  lua_Integer n = lt_checkint(L, 1, fn, 1, "n");
  lua_Integer m = lt_optint(L, 2, n, fn, 2, "m");
  if (n < 0 || m < 0) return lt_error(L, fn, "sizes must be non-negative, got %lld and %lld", (long long)n, (long long)m);
  ar_tensor *t = lt_new(L);
  return finish(L, C, ar_eye(C, t, (int64_t)n, (int64_t)m), fn);
}

/* cat/stack: a Lua list of tensors and a 1-based dim */
static int join(lua_State *L, const char *fn, bool stack) {
  ar_ctx *C = lt_ctx(L);
  lua_settop(L, 2); /* the list buffer below must not land in the dim's slot */
  if (lua_type(L, 1) != LUA_TTABLE) return lt_argerror(L, fn, 1, "tensors", "a list of tensors");
  lua_Integer n = luaL_len(L, 1);
  if (n < 1) return lt_error(L, fn, "argument #1 (tensors) expected a non-empty list of tensors");
  if (n > 1 << 20) return lt_error(L, fn, "argument #1 (tensors) has too many tensors (%lld)", (long long)n);
  const ar_tensor **list = lua_newuserdatauv(L, sizeof(ar_tensor *) * (size_t)n, 0);
  int listi = lua_gettop(L);
  for (lua_Integer i = 1; i <= n; i++) {
    lua_geti(L, 1, i);
    ar_tensor *t = lt_totensor(L, -1);
    if (!t)
      return lt_error(L, fn, "argument #1 (tensors) entry %lld is %s, expected a tensor", (long long)i,
                      lt_peek(L, -1) ? "a closed tensor" : luaL_typename(L, -1));
    list[i - 1] = t;
    lua_pop(L, 1); /* still referenced by the list table */
  }
  int ndim = list[0]->ndim + (stack ? 1 : 0);
  int dim = lua_isnoneornil(L, 2) ? 0 : lt_checkdim(L, 2, ndim, fn, 2);
  ar_tensor *out = lt_new(L);
  int rc = stack ? ag_stack(C, out, list, (int)n, dim) : ag_cat(C, out, list, (int)n, dim);
  if (rc) return lt_core_error(L, fn);
  lua_remove(L, listi);
  return finish(L, C, rc, fn);
}
static int f_cat(lua_State *L) { return join(L, "actrun.cat", false); }
static int f_stack(lua_State *L) { return join(L, "actrun.stack", true); }

static int f_manual_seed(lua_State *L) {
  lua_Integer s = lt_checkint(L, 1, "actrun.manual_seed", 1, "seed");
  ar_manual_seed(lt_ctx(L), (uint64_t)s);
  return 0;
}

static int f_is_tensor(lua_State *L) {
  lua_pushboolean(L, lt_totensor(L, 1) != NULL);
  return 1;
}

static int f_set_num_threads(lua_State *L) {
  const char *fn = "actrun.set_num_threads";
  lua_Integer n = lt_checkint(L, 1, fn, 1, "n");
  if (n < 1 || n > 64) return lt_error(L, fn, "argument #1 (n) expected 1..64, got %lld", (long long)n);
  ar_set_num_threads(lt_ctx(L), (int)n);
  return 0;
}

static int f_get_num_threads(lua_State *L) {
  lua_pushinteger(L, ar_get_num_threads(lt_ctx(L)));
  return 1;
}

/* actrun.build_info(): what this build and CPU run (API.md). */
static int f_build_info(lua_State *L) {
  lua_createtable(L, 0, 7);
  lua_pushstring(L, ACTRUN_VERSION);
  lua_setfield(L, -2, "version");
  lua_pushstring(L, ar_simd_name(ar_simd_level()));
  lua_setfield(L, -2, "simd");
  lua_newtable(L);
  for (int lv = 0, k = 0; lv < AR_SIMD_NLEVELS; lv++)
    if (ar_simd_available(lv)) {
      lua_pushstring(L, ar_simd_name(lv));
      lua_rawseti(L, -2, ++k);
    }
  lua_setfield(L, -2, "simd_available");
  lua_pushstring(L, openblas_get_config());
  lua_setfield(L, -2, "blas");
#ifdef ACTRUN_HAVE_MPI
  lua_pushboolean(L, 1);
#else
  lua_pushboolean(L, 0);
#endif
  lua_setfield(L, -2, "mpi");
  lua_pushinteger(L, ar_get_num_threads(lt_ctx(L)));
  lua_setfield(L, -2, "threads");
#ifdef ACTRUN_BUILT_NATIVE
  lua_pushboolean(L, 1);
#else
  lua_pushboolean(L, 0);
#endif
  lua_setfield(L, -2, "native"); /* built with -march=native (ACTRUN_NATIVE) */
  return 1;
}

static int f_clock(lua_State *L) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec * 1e-9);
  return 1;
}

/* no_grad(fn, ...): runs fn with recording off and returns its results; the previous mode
 * comes back even when fn raises (the error is rethrown unchanged). */
static int f_no_grad(lua_State *L) {
  if (lua_type(L, 1) != LUA_TFUNCTION) return lt_argerror(L, "actrun.no_grad", 1, "fn", "a function");
  ar_ctx *C = lt_ctx(L);
  bool was = ag_grad_enabled(C);
  ag_set_grad_enabled(C, false);
  int st = lua_pcall(L, lua_gettop(L) - 1, LUA_MULTRET, 0);
  ag_set_grad_enabled(C, was);
  if (st != LUA_OK) return lua_error(L);
  return lua_gettop(L);
}

static int f_memory(lua_State *L) {
  ar_ctx *C = lt_ctx(L);
  lua_createtable(L, 0, 2);
  lua_pushinteger(L, (lua_Integer)ar_live_bytes(C));
  lua_setfield(L, -2, "live");
  lua_pushinteger(L, (lua_Integer)ar_cached_bytes(C));
  lua_setfield(L, -2, "cached");
  return 1;
}

/* ---------- shape and elements ---------- */

#define SELF(fn) ar_tensor *self = lt_check(L, 1, fn, 1, "self")

static int push_shape(lua_State *L, const ar_tensor *t) {
  lua_createtable(L, t->ndim, 0);
  for (int i = 0; i < t->ndim; i++) {
    lua_pushinteger(L, t->shape[i]);
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

static int m_shape(lua_State *L) {
  SELF("Tensor:shape");
  return push_shape(L, self);
}

static int m_size(lua_State *L) {
  const char *fn = "Tensor:size";
  SELF(fn);
  if (lua_isnoneornil(L, 2)) return push_shape(L, self);
  int d = lt_checkdim(L, 2, self->ndim, fn, 2);
  lua_pushinteger(L, self->shape[d]);
  return 1;
}

static int m_stride(lua_State *L) {
  const char *fn = "Tensor:stride";
  SELF(fn);
  if (!lua_isnoneornil(L, 2)) {
    lua_pushinteger(L, self->stride[lt_checkdim(L, 2, self->ndim, fn, 2)]);
    return 1;
  }
  lua_createtable(L, self->ndim, 0);
  for (int i = 0; i < self->ndim; i++) {
    lua_pushinteger(L, self->stride[i]);
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

static int m_dim(lua_State *L) {
  SELF("Tensor:dim");
  lua_pushinteger(L, self->ndim);
  return 1;
}

static int m_numel(lua_State *L) {
  SELF("Tensor:numel");
  lua_pushinteger(L, ar_numel(self));
  return 1;
}

static int m_is_contiguous(lua_State *L) {
  SELF("Tensor:is_contiguous");
  lua_pushboolean(L, ar_is_contiguous(self));
  return 1;
}

/* 1-based index (negative from the end) into a dim of size n -> 0-based */
static int64_t check_index(lua_State *L, int idx, int64_t n, const char *fn, int arg, int dim) {
  lua_Integer i = lt_checkint(L, idx, fn, arg, "index");
  if (i >= 1 && i <= n) return i - 1;
  if (i < 0 && i >= -n) return n + i; /* not -i: i may be the minimum integer */
  lt_error(L, fn, "argument #%d (index) out of range: got %lld, dimension %d has size %lld",
           arg, (long long)i, dim + 1, (long long)n);
  return 0;
}

static float *element_ptr(lua_State *L, ar_tensor *t, int first, const char *fn) {
  int64_t idx[AR_MAXDIM];
  for (int d = 0; d < t->ndim; d++) idx[d] = check_index(L, first + d, t->shape[d], fn, first + d, d);
  return t->st->data + ar_offset_of(t, idx);
}

static int m_get(lua_State *L) {
  const char *fn = "Tensor:get";
  SELF(fn);
  int n = lua_gettop(L) - 1;
  if (n != self->ndim)
    return lt_error(L, fn, "expected %d indices (one per dimension), got %d", self->ndim, n);
  lua_pushnumber(L, *element_ptr(L, self, 2, fn));
  return 1;
}

/* Every in-place write: refused on leaves that require grad (and views of them), and
 * when autograd follows self or src, recorded after the write (autograd/ops.h,
 * ag_inplace_*); `keep` (when recording) is made by the caller: 1 where the old value
 * survives. Returns whether to record. */
static bool write_begin(lua_State *L, ar_ctx *C, ar_tensor *self, const ar_tensor *src,
                        const char *fn) {
  check_inplace(L, C, self, fn);
  bool rec;
  if (ag_inplace_begin(C, self, src, &rec)) lt_core_error(L, fn);
  return rec;
}

/* ones of self's shape, on the stack (collected if an error follows) */
static ar_tensor *keep_mask(lua_State *L, ar_ctx *C, const ar_tensor *self, const char *fn) {
  ar_tensor *k = lt_new(L);
  if (ar_empty(C, k, self->ndim, self->shape) || ar_fill(C, k, 1.0f)) lt_core_error(L, fn);
  return k;
}

static void write_end(lua_State *L, ar_ctx *C, ar_tensor *self, const ar_tensor *src,
                      const ar_tensor *keep, int64_t row, const char *fn) {
  if (ag_inplace_end(C, self, src, keep, row)) lt_core_error(L, fn);
}

static int m_set(lua_State *L) {
  const char *fn = "Tensor:set";
  SELF(fn);
  int n = lua_gettop(L) - 2;
  if (n != self->ndim)
    return lt_error(L, fn, "expected %d indices (one per dimension) and a value, got %d arguments",
                    self->ndim, n + 1);
  float v = (float)lt_checknum(L, n + 2, fn, n + 2, "value");
  ar_ctx *C = lt_ctx(L);
  bool rec = write_begin(L, C, self, NULL, fn);
  float *e = element_ptr(L, self, 2, fn);
  ar_tensor *keep = NULL;
  if (rec) {
    keep = keep_mask(L, C, self, fn);
    *element_ptr(L, keep, 2, fn) = 0.0f;
  }
  ar_bump_version(self);
  *e = v;
  if (rec) write_end(L, C, self, NULL, keep, -1, fn);
  lua_settop(L, 1);
  return 1;
}

static int m_item(lua_State *L) {
  const char *fn = "Tensor:item";
  SELF(fn);
  if (ar_numel(self) != 1) {
    char b[200];
    return lt_error(L, fn, "expected a tensor with one element, got shape %s",
                    ar_shape_str(self->ndim, self->shape, b, sizeof b));
  }
  lua_pushnumber(L, ar_data(self)[0]);
  return 1;
}

static void totable_rec(lua_State *L, const ar_tensor *t, int d, int64_t off) {
  if (d == t->ndim) {
    lua_pushnumber(L, t->st->data[off]);
    return;
  }
  luaL_checkstack(L, 3, "nested too deep");
  lua_createtable(L, (int)(t->shape[d] > 1 << 24 ? 0 : t->shape[d]), 0);
  for (int64_t i = 0; i < t->shape[d]; i++) {
    totable_rec(L, t, d + 1, off + i * t->stride[d]);
    lua_rawseti(L, -2, i + 1);
  }
}

static int m_totable(lua_State *L) {
  SELF("Tensor:totable");
  if (self->ndim == 0) {
    lua_pushnumber(L, ar_data(self)[0]);
    return 1;
  }
  totable_rec(L, self, 0, self->offset);
  return 1;
}

/* ---------- views and copies ---------- */

static int m_clone(lua_State *L) {
  const char *fn = "Tensor:clone";
  SELF(fn);
  ar_ctx *C = lt_ctx(L);
  ar_tensor *t = lt_new(L);
  return finish(L, C, ag_clone(C, t, self), fn);
}

static int m_contiguous(lua_State *L) {
  const char *fn = "Tensor:contiguous";
  SELF(fn);
  ar_ctx *C = lt_ctx(L);
  if (ar_is_contiguous(self)) {
    lua_settop(L, 1);
    return 1;
  }
  ar_tensor *t = lt_new(L);
  return finish(L, C, ag_clone(C, t, self), fn);
}

static int reshape_like(lua_State *L, const char *fn, bool copy_ok) {
  SELF(fn);
  ar_ctx *C = lt_ctx(L);
  int64_t shape[AR_MAXDIM];
  int nd = lt_shape_args(L, 2, shape, fn, true);
  ar_tensor *t = lt_new(L);
  int rc = copy_ok ? ag_reshape(C, t, self, nd, shape) : ag_view(C, t, self, nd, shape);
  return finish(L, C, rc, fn);
}
static int m_reshape(lua_State *L) { return reshape_like(L, "Tensor:reshape", true); }
static int m_view(lua_State *L) { return reshape_like(L, "Tensor:view", false); }

static int m_expand(lua_State *L) {
  const char *fn = "Tensor:expand";
  SELF(fn);
  ar_ctx *C = lt_ctx(L);
  int64_t shape[AR_MAXDIM];
  int nd = lt_shape_args(L, 2, shape, fn, true);
  ar_tensor *t = lt_new(L);
  return finish(L, C, ag_expand(C, t, self, nd, shape), fn);
}

static int m_transpose(lua_State *L) {
  const char *fn = "Tensor:transpose";
  SELF(fn);
  ar_ctx *C = lt_ctx(L);
  int d1 = lt_checkdim(L, 2, self->ndim, fn, 2), d2 = lt_checkdim(L, 3, self->ndim, fn, 3);
  ar_tensor *t = lt_new(L);
  return finish(L, C, ag_transpose(C, t, self, d1, d2), fn);
}

static int m_t(lua_State *L) {
  const char *fn = "Tensor:t";
  SELF(fn);
  ar_ctx *C = lt_ctx(L);
  if (self->ndim > 2) {
    char b[200];
    return lt_error(L, fn, "expected a tensor with at most 2 dimensions, got shape %s",
                    ar_shape_str(self->ndim, self->shape, b, sizeof b));
  }
  ar_tensor *t = lt_new(L);
  if (self->ndim < 2) return finish(L, C, ag_alias(C, t, self), fn);
  return finish(L, C, ag_transpose(C, t, self, 0, 1), fn);
}

static int m_narrow(lua_State *L) {
  const char *fn = "Tensor:narrow";
  SELF(fn);
  ar_ctx *C = lt_ctx(L);
  int d = lt_checkdim(L, 2, self->ndim, fn, 2);
  lua_Integer start = lt_checkint(L, 3, fn, 3, "start");
  lua_Integer len = lt_checkint(L, 4, fn, 4, "length");
  int64_t n = self->shape[d];
  if (start < 0) start = n + start + 1; /* -1 is the last element */
  if (start < 1 || start > n + 1 || len < 0 || len > n - (start - 1))
    return lt_error(L, fn, "start %lld and length %lld out of range for dimension %d of size %lld",
                    (long long)start, (long long)len, d + 1, (long long)n);
  ar_tensor *t = lt_new(L);
  return finish(L, C, ag_narrow(C, t, self, d, start - 1, len), fn);
}

static int m_select(lua_State *L) {
  const char *fn = "Tensor:select";
  SELF(fn);
  ar_ctx *C = lt_ctx(L);
  int d = lt_checkdim(L, 2, self->ndim, fn, 2);
  int64_t i = check_index(L, 3, self->shape[d], fn, 3, d);
  ar_tensor *t = lt_new(L);
  return finish(L, C, ag_select(C, t, self, d, i), fn);
}

/* flatten([start_dim [, end_dim]]): dims start_dim..end_dim (1-based, negative from the
 * end; PyTorch's defaults: all of them) merged into one. A reshape, so a view when the
 * strides allow and recorded for autograd as one. A 0-d tensor counts as 1-D. */
static int m_flatten(lua_State *L) {
  const char *fn = "Tensor:flatten";
  SELF(fn);
  ar_ctx *C = lt_ctx(L);
  int nd = self->ndim > 0 ? self->ndim : 1;
  int s = lua_isnoneornil(L, 2) ? 0 : lt_checkdim(L, 2, nd, fn, 2);
  int e = lua_isnoneornil(L, 3) ? nd - 1 : lt_checkdim(L, 3, nd, fn, 3);
  if (s > e)
    return lt_error(L, fn, "argument #2 (start_dim) is dim %d, after argument #3 (end_dim), dim %d",
                    s + 1, e + 1);
  ar_tensor *t = lt_new(L);
  if (self->ndim == 0) return finish(L, C, ag_flatten(C, t, self), fn);
  int64_t shape[AR_MAXDIM];
  int k = 0;
  for (int d = 0; d < s; d++) shape[k++] = self->shape[d];
  shape[k] = 1; /* no overflow: the product of all sizes is bounded */
  for (int d = s; d <= e; d++) shape[k] *= self->shape[d];
  k++;
  for (int d = e + 1; d < self->ndim; d++) shape[k++] = self->shape[d];
  return finish(L, C, ag_reshape(C, t, self, k, shape), fn);
}

static int m_unsqueeze(lua_State *L) {
  const char *fn = "Tensor:unsqueeze";
  SELF(fn);
  ar_ctx *C = lt_ctx(L);
  int d = lt_checkdim(L, 2, self->ndim + 1, fn, 2);
  ar_tensor *t = lt_new(L);
  return finish(L, C, ag_unsqueeze(C, t, self, d), fn);
}

static int m_squeeze(lua_State *L) {
  const char *fn = "Tensor:squeeze";
  SELF(fn);
  ar_ctx *C = lt_ctx(L);
  int d = lua_isnoneornil(L, 2) ? -1 : lt_checkdim(L, 2, self->ndim, fn, 2);
  ar_tensor *t = lt_new(L);
  return finish(L, C, ag_squeeze(C, t, self, d), fn);
}

/* ---------- in place ---------- */

static int m_fill(lua_State *L) {
  const char *fn = "Tensor:fill";
  SELF(fn);
  ar_ctx *C = lt_ctx(L);
  float v = (float)lt_checknum(L, 2, fn, 2, "value");
  bool rec = write_begin(L, C, self, NULL, fn);
  if (ar_fill(C, self, v)) return lt_core_error(L, fn);
  if (rec) write_end(L, C, self, NULL, NULL, -1, fn);
  lua_settop(L, 1);
  return 1;
}

static int m_zero(lua_State *L) {
  const char *fn = "Tensor:zero";
  SELF(fn);
  ar_ctx *C = lt_ctx(L);
  bool rec = write_begin(L, C, self, NULL, fn);
  if (ar_fill(C, self, 0.0f)) return lt_core_error(L, fn);
  if (rec) write_end(L, C, self, NULL, NULL, -1, fn);
  lua_settop(L, 1);
  return 1;
}

static int m_copy(lua_State *L) {
  const char *fn = "Tensor:copy";
  SELF(fn);
  ar_ctx *C = lt_ctx(L);
  if (lua_type(L, 2) == LUA_TNUMBER) return m_fill(L);
  ar_tensor *src = lt_check(L, 2, fn, 2, "src");
  bool rec = write_begin(L, C, self, src, fn);
  if (ar_copy_(C, self, src)) return lt_core_error(L, fn);
  if (rec) write_end(L, C, self, ag_requires_grad(src) ? src : NULL, NULL, -1, fn);
  lua_settop(L, 1);
  return 1;
}

/* ---------- arithmetic ---------- */

/* a op b where either side may be a number (not both: Lua handles that itself). */
static int binary(lua_State *L, ar_binop op, const char *fn) {
  ar_ctx *C = lt_ctx(L);
  int rc;
  ar_tensor *t, *a, *b = NULL;
  float s = 0;
  if ((a = lt_test(L, 1)) && (b = lt_test(L, 2))) { /* the common case first */
    t = lt_new(L);
    rc = ag_binary(C, op, t, a, b);
  } else if (lua_type(L, 1) == LUA_TNUMBER) {
    s = (float)lua_tonumber(L, 1);
    a = lt_check(L, 2, fn, 2, "other");
    t = lt_new(L);
    rc = ag_binary_scalar(C, op, t, a, s, true);
  } else {
    /* (a live tensor here means argument 2 is not one) */
    a = lt_check(L, 1, fn, 1, "self");
    if (lua_type(L, 2) != LUA_TNUMBER)
      return lt_argerror(L, fn, 2, "other", "a tensor or a number");
    s = (float)lua_tonumber(L, 2);
    t = lt_new(L);
    rc = ag_binary_scalar(C, op, t, a, s, false);
  }
  return finish(L, C, rc, fn);
}

static int m_add(lua_State *L) { return binary(L, AR_ADD, "actrun.add"); }
static int m_sub(lua_State *L) { return binary(L, AR_SUB, "actrun.sub"); }
static int m_mul(lua_State *L) { return binary(L, AR_MUL, "actrun.mul"); }
static int m_div(lua_State *L) { return binary(L, AR_DIV, "actrun.div"); }
static int m_pow(lua_State *L) { return binary(L, AR_POW, "actrun.pow"); }
static int m_gt(lua_State *L) { return binary(L, AR_GT, "Tensor:gt"); }
static int m_lt(lua_State *L) { return binary(L, AR_LT, "Tensor:lt"); }
static int m_ge(lua_State *L) { return binary(L, AR_GE, "Tensor:ge"); }
static int m_le(lua_State *L) { return binary(L, AR_LE, "Tensor:le"); }
static int m_eq(lua_State *L) { return binary(L, AR_EQ, "Tensor:eq"); }
static int m_ne(lua_State *L) { return binary(L, AR_NE, "Tensor:ne"); }
static int m_maximum(lua_State *L) { return binary(L, AR_MAXIMUM, "Tensor:maximum"); }
static int m_minimum(lua_State *L) { return binary(L, AR_MINIMUM, "Tensor:minimum"); }

static int m_matmul(lua_State *L) {
  const char *fn = "actrun.matmul";
  ar_ctx *C = lt_ctx(L);
  ar_tensor *a = lt_check(L, 1, fn, 1, "a"), *b = lt_check(L, 2, fn, 2, "b");
  ar_tensor *t = lt_new(L);
  return finish(L, C, ag_matmul(C, t, a, b), fn);
}

/* actrun.linear(x, w [, b]) = x w^T + b, one node (nn.Linear's forward). */
static int m_linear(lua_State *L) {
  const char *fn = "actrun.linear";
  ar_ctx *C = lt_ctx(L);
  ar_tensor *x = lt_check(L, 1, fn, 1, "x"), *w = lt_check(L, 2, fn, 2, "weight");
  ar_tensor *b = lua_isnoneornil(L, 3) ? NULL : lt_check(L, 3, fn, 3, "bias");
  ar_tensor *t = lt_new(L);
  return finish(L, C, ag_linear(C, t, x, w, b), fn);
}

static int unary(lua_State *L, ar_unop op, const char *fn) {
  ar_ctx *C = lt_ctx(L);
  ar_tensor *a = lt_check(L, 1, fn, 1, "self");
  ar_tensor *t = lt_new(L);
  return finish(L, C, ag_unary(C, op, t, a), fn);
}

#define UNARY(name, op) \
  static int m_##name(lua_State *L) { return unary(L, op, "Tensor:" #name); }
UNARY(neg, AR_NEG)
UNARY(exp, AR_EXP)
UNARY(log, AR_LOG)
UNARY(sqrt, AR_SQRT)
UNARY(abs, AR_ABS)
UNARY(sin, AR_SIN)
UNARY(cos, AR_COS)
UNARY(tanh, AR_TANH)
UNARY(sigmoid, AR_SIGMOID)
UNARY(sign, AR_SIGN)
UNARY(floor, AR_FLOOR)
UNARY(ceil, AR_CEIL)
UNARY(round, AR_ROUND)
UNARY(reciprocal, AR_RECIP)
UNARY(square, AR_SQUARE)

static int m_clamp(lua_State *L) {
  const char *fn = "Tensor:clamp";
  SELF(fn);
  ar_ctx *C = lt_ctx(L);
  double lo = lua_isnoneornil(L, 2) ? -INFINITY : lt_checknum(L, 2, fn, 2, "min");
  double hi = lua_isnoneornil(L, 3) ? INFINITY : lt_checknum(L, 3, fn, 3, "max");
  if (isnan(lo) || isnan(hi)) return lt_error(L, fn, "bounds must not be NaN");
  ar_tensor *t = lt_new(L);
  return finish(L, C, ag_clamp(C, t, self, lo, hi), fn);
}

/* ---------- reductions ---------- */

static int reduce(lua_State *L, ar_redop op, const char *fn) {
  SELF(fn);
  ar_ctx *C = lt_ctx(L);
  int dim = lua_isnoneornil(L, 2) ? -1 : lt_checkdim(L, 2, self->ndim, fn, 2);
  bool keepdim = lua_toboolean(L, 3);
  int correction = 1;
  if ((op == AR_VAR || op == AR_STD) && !lua_isnoneornil(L, 4))
    correction = lua_toboolean(L, 4) ? 1 : 0; /* unbiased flag */
  ar_tensor *t = lt_new(L);
  return finish(L, C, ag_reduce(C, op, t, self, dim, keepdim, 2.0, correction), fn);
}
static int m_sum(lua_State *L) { return reduce(L, AR_SUM, "Tensor:sum"); }
static int m_mean(lua_State *L) { return reduce(L, AR_MEAN, "Tensor:mean"); }
static int m_var(lua_State *L) { return reduce(L, AR_VAR, "Tensor:var"); }
static int m_std(lua_State *L) { return reduce(L, AR_STD, "Tensor:std"); }
static int m_prod(lua_State *L) { return reduce(L, AR_PROD, "Tensor:prod"); }

/* norm([p [, dim [, keepdim]]]), p a number or "inf" */
static int m_norm(lua_State *L) {
  const char *fn = "Tensor:norm";
  SELF(fn);
  ar_ctx *C = lt_ctx(L);
  double p = 2.0;
  if (lua_type(L, 2) == LUA_TSTRING && strcmp(lua_tostring(L, 2), "inf") == 0)
    p = INFINITY;
  else if (!lua_isnoneornil(L, 2))
    p = lt_checknum(L, 2, fn, 2, "p");
  if (isnan(p) || p < 0) return lt_error(L, fn, "argument #2 (p) expected a number >= 0, got %g", p);
  int dim = lua_isnoneornil(L, 3) ? -1 : lt_checkdim(L, 3, self->ndim, fn, 3);
  ar_tensor *t = lt_new(L);
  return finish(L, C, ag_reduce(C, AR_NORM, t, self, dim, lua_toboolean(L, 4), p, 0), fn);
}

/* max()/min(): full -> 1-element tensor; max(dim [, keepdim]) -> values, indices;
 * max(tensor) -> elementwise maximum. */
static int maxmin(lua_State *L, bool is_max, const char *fn) {
  SELF(fn);
  ar_ctx *C = lt_ctx(L);
  if (lua_type(L, 2) == LUA_TUSERDATA) return binary(L, is_max ? AR_MAXIMUM : AR_MINIMUM, fn);
  if (lua_isnoneornil(L, 2)) {
    ar_tensor *t = lt_new(L);
    return finish(L, C, ag_reduce(C, is_max ? AR_RMAX : AR_RMIN, t, self, -1, false, 0, 0), fn);
  }
  int dim = lt_checkdim(L, 2, self->ndim, fn, 2);
  bool keepdim = lua_toboolean(L, 3);
  ar_tensor *v = lt_new(L);
  ar_tensor *i = lt_new(L);
  if (ag_maxmin_dim(C, is_max, v, i, self, dim, keepdim)) return lt_core_error(L, fn);
  lt_account(L, C);
  return 2;
}
static int m_max(lua_State *L) { return maxmin(L, true, "Tensor:max"); }
static int m_min(lua_State *L) { return maxmin(L, false, "Tensor:min"); }

/* argmax([dim [, keepdim]]): without dim, the 1-based index into the flattened tensor */
static int argmaxmin(lua_State *L, bool is_max, const char *fn) {
  SELF(fn);
  ar_ctx *C = lt_ctx(L);
  ar_tensor flat, v, *src = self;
  int dim = 0;
  bool keepdim = false;
  int nflat = lua_isnoneornil(L, 2);
  if (nflat) {
    if (ar_flatten(C, &flat, self)) return lt_core_error(L, fn);
    src = &flat;
  } else {
    dim = lt_checkdim(L, 2, self->ndim, fn, 2);
    keepdim = lua_toboolean(L, 3);
  }
  ar_tensor *i = lt_new(L);
  int rc = ar_maxmin_dim(C, is_max, &v, i, src, dim, keepdim);
  if (nflat) ar_release(&flat);
  if (rc) return lt_core_error(L, fn);
  ar_release(&v);
  if (nflat && i->ndim == 0) { /* keep the {1} convention of full reductions */
    int64_t one = 1;
    ar_tensor r;
    if (ar_view(C, &r, i, 1, &one)) return lt_core_error(L, fn);
    ar_release(i);
    *i = r;
  }
  lt_account(L, C);
  return 1;
}
static int m_argmax(lua_State *L) { return argmaxmin(L, true, "Tensor:argmax"); }
static int m_argmin(lua_State *L) { return argmaxmin(L, false, "Tensor:argmin"); }

/* ---------- indexing and ordering ---------- */

/* An optional boolean argument (nil/none: def). */
static bool opt_bool(lua_State *L, int idx, bool def, const char *fn, const char *name) {
  if (lua_isnoneornil(L, idx)) return def;
  if (lua_type(L, idx) != LUA_TBOOLEAN) lt_argerror(L, fn, idx, name, "a boolean");
  return lua_toboolean(L, idx);
}

/* The ops below take at least one dim. */
static void need_dims(lua_State *L, const ar_tensor *t, const char *fn) {
  if (t->ndim == 0) lt_error(L, fn, "argument #1 (self) expected a tensor with at least one dimension, got a 0-dim tensor");
}

/* A failed core call whose argument errors are about the index at argument `arg`. */
static int index_error(lua_State *L, ar_ctx *C, int rc, const char *fn, int arg) {
  if (rc == AR_ENOMEM) return lt_core_error(L, fn);
  return lt_error(L, fn, "argument #%d (index) %s", arg, ar_errmsg(C));
}

static int f_randperm(lua_State *L) {
  const char *fn = "actrun.randperm";
  ar_ctx *C = lt_ctx(L);
  lua_Integer n = lt_checkint(L, 1, fn, 1, "n");
  if (n < 0 || n > (1 << 24))
    return lt_error(L, fn, "argument #1 (n) expected 0..16777216 (indices are exact floats), got %lld",
                    (long long)n);
  ar_tensor *t = lt_new(L);
  return finish(L, C, ar_randperm(C, t, (int64_t)n), fn);
}

/* index_select(dim, index): index a 1-D tensor of 1-based positions along dim */
static int m_index_select(lua_State *L) {
  const char *fn = "Tensor:index_select";
  SELF(fn);
  ar_ctx *C = lt_ctx(L);
  need_dims(L, self, fn);
  int dim = lt_checkdim(L, 2, self->ndim, fn, 2);
  ar_tensor *idx = lt_check(L, 3, fn, 3, "index");
  if (idx->ndim != 1)
    return lt_error(L, fn, "argument #3 (index) expected a 1-D tensor, got %d dims", idx->ndim);
  ar_tensor *t = lt_new(L);
  int rc = ag_index_select(C, t, self, dim, idx);
  if (rc) return index_error(L, C, rc, fn, 3);
  return finish(L, C, rc, fn);
}

/* gather(dim, index): index has self's number of dims */
static int m_gather(lua_State *L) {
  const char *fn = "Tensor:gather";
  SELF(fn);
  ar_ctx *C = lt_ctx(L);
  need_dims(L, self, fn);
  int dim = lt_checkdim(L, 2, self->ndim, fn, 2);
  ar_tensor *idx = lt_check(L, 3, fn, 3, "index");
  ar_tensor *t = lt_new(L);
  int rc = ag_gather(C, t, self, dim, idx);
  if (rc) return index_error(L, C, rc, fn, 3);
  return finish(L, C, rc, fn);
}

/* A where() operand: a tensor, or a number as a 0-dim tensor (kept in a new userdata). */
static ar_tensor *where_operand(lua_State *L, ar_ctx *C, int idx, const char *fn, const char *name) {
  ar_tensor *t = lt_test(L, idx);
  if (t) return t;
  if (lua_type(L, idx) != LUA_TNUMBER) {
    lt_argerror(L, fn, idx, name, "a tensor or a number");
    return NULL;
  }
  float v = (float)lua_tonumber(L, idx);
  t = lt_new(L);
  if (ar_empty(C, t, 0, NULL) || ar_fill(C, t, v)) lt_core_error(L, fn);
  lua_replace(L, idx);
  return lt_test(L, idx);
}

/* actrun.where(cond, a, b): a where cond is nonzero (1), else b; broadcasting */
static int f_where(lua_State *L) {
  const char *fn = "actrun.where";
  ar_ctx *C = lt_ctx(L);
  lua_settop(L, 3);
  ar_tensor *cond = lt_check(L, 1, fn, 1, "cond");
  ar_tensor *a = where_operand(L, C, 2, fn, "a");
  ar_tensor *b = where_operand(L, C, 3, fn, "b");
  ar_tensor *t = lt_new(L);
  return finish(L, C, ag_where(C, t, cond, a, b), fn);
}

/* sort([dim [, descending]]) -> values, indices; argsort(...) -> indices */
static int sort_common(lua_State *L, const char *fn, bool values) {
  SELF(fn);
  ar_ctx *C = lt_ctx(L);
  need_dims(L, self, fn);
  int dim = lua_isnoneornil(L, 2) ? self->ndim - 1 : lt_checkdim(L, 2, self->ndim, fn, 2);
  bool desc = opt_bool(L, 3, false, fn, "descending");
  ar_tensor *v = lt_new(L);
  ar_tensor *i = lt_new(L);
  if (values ? ag_sort(C, v, i, self, dim, desc) : ar_sort(C, v, i, self, dim, desc))
    return lt_core_error(L, fn);
  lt_account(L, C);
  if (values) return 2;
  return 1;
}
static int m_sort(lua_State *L) { return sort_common(L, "Tensor:sort", true); }
static int m_argsort(lua_State *L) { return sort_common(L, "Tensor:argsort", false); }

/* topk(k [, dim [, largest]]) -> values, indices */
static int m_topk(lua_State *L) {
  const char *fn = "Tensor:topk";
  SELF(fn);
  ar_ctx *C = lt_ctx(L);
  need_dims(L, self, fn);
  lua_Integer k = lt_checkint(L, 2, fn, 2, "k");
  int dim = lua_isnoneornil(L, 3) ? self->ndim - 1 : lt_checkdim(L, 3, self->ndim, fn, 3);
  bool largest = opt_bool(L, 4, true, fn, "largest");
  if (k < 0 || k > self->shape[dim])
    return lt_error(L, fn, "argument #2 (k) out of range: got %lld, dimension %d has size %lld",
                    (long long)k, dim + 1, (long long)self->shape[dim]);
  ar_tensor *v = lt_new(L);
  ar_tensor *i = lt_new(L);
  if (ag_topk(C, v, i, self, (int64_t)k, dim, largest)) return lt_core_error(L, fn);
  lt_account(L, C);
  return 2;
}

static int m_cumsum(lua_State *L) {
  const char *fn = "Tensor:cumsum";
  SELF(fn);
  ar_ctx *C = lt_ctx(L);
  need_dims(L, self, fn);
  if (lua_isnoneornil(L, 2)) return lt_argerror(L, fn, 2, "dim", "a dim");
  int dim = lt_checkdim(L, 2, self->ndim, fn, 2);
  ar_tensor *t = lt_new(L);
  return finish(L, C, ag_cumsum(C, t, self, dim, false), fn);
}

/* ---------- metamethods ---------- */

/* __gc (when the allocator does not reclaim tensors) and __close: release now; closing
 * a closed tensor again is a no-op, as Lua may close a <close> variable the script
 * already closed. */
static int release_self(lua_State *L, const char *fn) {
  ar_tensor *t = lt_peek(L, 1);
  if (!t) return lt_argerror(L, fn, 1, "self", "a tensor");
  ag_handle_release(t);
  ar_release(t);
  return 0;
}

static int mm_gc(lua_State *L) { return release_self(L, "Tensor:__gc"); }

static int mm_len(lua_State *L) {
  const char *fn = "Tensor:__len";
  SELF(fn);
  if (self->ndim == 0) return lt_error(L, fn, "a 0-dimensional tensor has no length");
  lua_pushinteger(L, self->shape[0]);
  return 1;
}

static int mm_unm(lua_State *L) { return unary(L, AR_NEG, "actrun.neg"); }

/* The autograd fields: requires_grad, grad, is_leaf. Returns 0 for other keys. */
static int ag_field(lua_State *L, ar_tensor *self, const char *k) {
  if (strcmp(k, "requires_grad") == 0) {
    lua_pushboolean(L, ag_requires_grad(self));
    return 1;
  }
  if (strcmp(k, "grad") == 0) {
    const ar_tensor *g = ag_grad(self);
    if (!g) {
      lua_pushnil(L);
      return 1;
    }
    ag_ref(lt_new(L), g); /* shares storage: in-place edits reach the gradient; under
                           * create_graph it is differentiable */
    return 1;
  }
  if (strcmp(k, "is_leaf") == 0) {
    lua_pushboolean(L, ag_is_leaf(self));
    return 1;
  }
  return 0;
}

static int mm_index(lua_State *L) {
  if (lua_type(L, 2) == LUA_TSTRING) {
    /* a closed tensor still finds its methods, which then report it closed */
    ar_tensor *self = lt_peek(L, 1);
    if (!self) return lt_argerror(L, "Tensor:__index", 1, "self", "a tensor");
    lua_pushvalue(L, 2);
    lua_rawget(L, lua_upvalueindex(3)); /* the methods table: the hot path of t:method() */
    if (!lua_isnil(L, -1)) return 1;
    if (self->st && ag_field(L, self, lua_tostring(L, 2))) return 1;
    lua_pushnil(L);
    return 1;
  }
  const char *fn = "Tensor:__index";
  SELF(fn);
  if (lua_type(L, 2) != LUA_TNUMBER)
    return lt_argerror(L, fn, 2, "key", "an integer index or a method name");
  if (self->ndim == 0) return lt_error(L, fn, "cannot index a 0-dimensional tensor");
  int64_t i = check_index(L, 2, self->shape[0], fn, 2, 0);
  if (self->ndim == 1) {
    lua_pushnumber(L, self->st->data[self->offset + i * self->stride[0]]);
    return 1;
  }
  ar_ctx *C = lt_ctx(L);
  ar_tensor *t = lt_new(L);
  return finish(L, C, ag_select(C, t, self, 0, i), fn);
}

/* ---------- autograd methods ---------- */

/* The options of backward and grad (the table at idx, may be none/nil): create_graph,
 * retain_graph, and for grad allow_unused and grad_outputs (read by f_grad); other keys
 * are an error. */
static void backward_opts(lua_State *L, int idx, const char *fn, bool for_grad,
                          ag_backward_opts *o) {
  *o = (ag_backward_opts){0};
  if (lua_isnoneornil(L, idx)) return;
  if (lua_type(L, idx) != LUA_TTABLE) lt_argerror(L, fn, idx, "options", "a table");
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";
    if (for_grad && strcmp(k, "grad_outputs") == 0) {
      lua_pop(L, 1);
      continue;
    }
    bool *field = strcmp(k, "create_graph") == 0   ? &o->create_graph
                  : strcmp(k, "retain_graph") == 0 ? &o->retain_graph
                  : for_grad && strcmp(k, "allow_unused") == 0 ? &o->allow_unused
                                                                : NULL;
    if (!field)
      lt_error(L, fn, "unknown option '%s' (options: create_graph, retain_graph%s)", k,
               for_grad ? ", allow_unused, grad_outputs" : "");
    if (!lua_isboolean(L, -1))
      lt_error(L, fn, "option '%s' expected a boolean, got %s", k, luaL_typename(L, -1));
    *field = lua_toboolean(L, -1);
    lua_pop(L, 1);
  }
}

/* t:backward([grad] [, {create_graph=, retain_graph=}]) */
static int m_backward(lua_State *L) {
  const char *fn = "Tensor:backward";
  SELF(fn);
  ar_ctx *C = lt_ctx(L);
  ar_tensor *g = NULL;
  int opti = 2;
  if (lua_type(L, 2) == LUA_TTABLE && !lt_totensor(L, 2)) {
    if (!lua_isnone(L, 3)) return lt_error(L, fn, "too many arguments after the options table");
  } else {
    if (!lua_isnoneornil(L, 2)) g = lt_check(L, 2, fn, 2, "grad");
    opti = 3;
  }
  ag_backward_opts o;
  backward_opts(L, opti, fn, false, &o);
  if (ag_backward(C, self, g, &o)) return lt_core_error(L, fn);
  lt_account(L, C);
  return 0;
}

/* A tensor or a list of tensors at idx -> a userdata array of pointers, pushed (the
 * tensors stay referenced by the caller's arguments). */
static const ar_tensor **tensor_list(lua_State *L, int idx, const char *fn, const char *name,
                                     int *n, bool nil_ok) {
  ar_tensor *one = lt_totensor(L, idx);
  if (one) {
    const ar_tensor **v = lua_newuserdatauv(L, sizeof *v, 0);
    v[0] = one;
    *n = 1;
    return v;
  }
  if (lua_type(L, idx) != LUA_TTABLE)
    lt_argerror(L, fn, idx, name, "a tensor or a list of tensors");
  lua_Integer len = luaL_len(L, idx);
  if (len < 1 || len > 1 << 16)
    lt_error(L, fn, "argument #%d (%s) expected a non-empty list of tensors", idx, name);
  const ar_tensor **v = lua_newuserdatauv(L, sizeof *v * (size_t)len, 0);
  for (lua_Integer i = 1; i <= len; i++) {
    lua_geti(L, idx, i);
    v[i - 1] = lt_totensor(L, -1);
    if (!v[i - 1] && !(nil_ok && lua_isnil(L, -1)))
      lt_error(L, fn, "argument #%d (%s) entry %lld is %s, expected a tensor", idx, name,
               (long long)i, luaL_typename(L, -1));
    lua_pop(L, 1);
  }
  *n = (int)len;
  return v;
}

/* actrun.grad(outputs, inputs [, {grad_outputs=, create_graph=, retain_graph=,
 * allow_unused=}]) -> list of gradients (nil for unused inputs with allow_unused) */
static int f_grad(lua_State *L) {
  const char *fn = "actrun.grad";
  ar_ctx *C = lt_ctx(L);
  lua_settop(L, 3);
  int nout, nin, nseed = 0;
  const ar_tensor **outs = tensor_list(L, 1, fn, "outputs", &nout, false);
  const ar_tensor **ins = tensor_list(L, 2, fn, "inputs", &nin, false);
  const ar_tensor **seeds = NULL;
  if (lua_type(L, 3) == LUA_TTABLE) {
    lua_getfield(L, 3, "grad_outputs");
    int gi = lua_gettop(L);
    if (!lua_isnil(L, gi)) {
      seeds = tensor_list(L, gi, fn, "grad_outputs", &nseed, true);
      if (nseed != nout)
        return lt_error(L, fn, "grad_outputs has %d entries for %d outputs", nseed, nout);
    }
  }
  ag_backward_opts o;
  backward_opts(L, 3, fn, true, &o);
  ar_tensor *grads = lua_newuserdatauv(L, sizeof *grads * (size_t)nin, 0);
  if (ag_grad_of(C, nout, (ar_tensor *const *)outs, seeds, nin, ins, grads, &o))
    return lt_core_error(L, fn);
  lua_createtable(L, nin, 0);
  for (int j = 0; j < nin; j++) {
    if (!grads[j].st) continue; /* allow_unused: nil */
    ar_tensor *t = lt_new(L);
    *t = grads[j]; /* the reference moves into the userdata */
    grads[j] = (ar_tensor){0};
    lua_seti(L, -2, j + 1);
  }
  lt_account(L, C);
  return 1;
}

static int m_detach(lua_State *L) {
  SELF("Tensor:detach");
  ar_share(lt_new(L), self); /* same storage, no autograd metadata */
  return 1;
}

static int m_zero_grad(lua_State *L) {
  const char *fn = "Tensor:zero_grad";
  SELF(fn);
  if (ag_set_grad(lt_ctx(L), self, NULL)) return lt_core_error(L, fn);
  return 0;
}

static int mm_newindex(lua_State *L) {
  const char *fn = "Tensor:__newindex";
  SELF(fn);
  ar_ctx *C = lt_ctx(L);
  if (lua_type(L, 2) != LUA_TNUMBER) {
    const char *k = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : NULL;
    if (k && strcmp(k, "requires_grad") == 0) {
      if (lua_type(L, 3) != LUA_TBOOLEAN)
        return lt_argerror(L, "Tensor.requires_grad", 3, "value", "a boolean");
      if (ag_set_requires_grad(C, self, lua_toboolean(L, 3)))
        return lt_core_error(L, "Tensor.requires_grad");
      return 0;
    }
    if (k && strcmp(k, "grad") == 0) {
      ar_tensor *g = lua_isnil(L, 3) ? NULL : lt_totensor(L, 3);
      if (!g && !lua_isnil(L, 3)) return lt_argerror(L, "Tensor.grad", 3, "value", "nil or a tensor");
      if (ag_set_grad(C, self, g)) return lt_core_error(L, "Tensor.grad");
      return 0;
    }
    if (k) return lt_error(L, fn, "cannot set field '%s' of a tensor", k);
    return lt_argerror(L, fn, 2, "key", "an integer index");
  }
  if (self->ndim == 0) return lt_error(L, fn, "cannot index a 0-dimensional tensor");
  int64_t i = check_index(L, 2, self->shape[0], fn, 2, 0);
  ar_tensor *src = NULL;
  if (lua_type(L, 3) != LUA_TNUMBER && !(src = lt_totensor(L, 3)))
    return lt_argerror(L, fn, 3, "value", "a number or a tensor");
  bool rec = write_begin(L, C, self, src, fn);
  ar_tensor *keep = NULL;
  if (rec) { /* the old values survive outside row i */
    keep = keep_mask(L, C, self, fn);
    ar_tensor kr;
    if (ar_select(C, &kr, keep, 0, i)) return lt_core_error(L, fn);
    int krc = ar_fill(C, &kr, 0.0f);
    ar_release(&kr);
    if (krc) return lt_core_error(L, fn);
  }
  ar_tensor slice;
  if (ar_select(C, &slice, self, 0, i)) return lt_core_error(L, fn);
  int rc = src ? ar_copy_(C, &slice, src) : ar_fill(C, &slice, (float)lua_tonumber(L, 3));
  ar_release(&slice);
  if (rc) return lt_core_error(L, fn);
  if (rec) write_end(L, C, self, src && ag_requires_grad(src) ? src : NULL, keep, i, fn);
  return 0;
}

static int mm_close(lua_State *L) { return release_self(L, "Tensor:__close"); }

/* ---------- tostring, PyTorch style ---------- */

typedef struct {
  int mode; /* 0: integers "3.", 1: fixed "%.4f", 2: scientific "%.4e" */
  int width;
  bool elide;
} fmt_t;

#define EDGE 3
#define ELIDE_ABOVE 1000

static int fmt_value(char *buf, size_t n, float v, int mode) {
  if (isnan(v)) return snprintf(buf, n, "nan");
  if (isinf(v)) return snprintf(buf, n, v > 0 ? "inf" : "-inf");
  if (mode == 0) return snprintf(buf, n, "%.0f.", (double)v);
  if (mode == 1) return snprintf(buf, n, "%.4f", (double)v);
  return snprintf(buf, n, "%.4e", (double)v);
}

/* visits the printed elements (edges only when eliding) to choose one format */
static void scan(const ar_tensor *t, int d, int64_t off, bool elide, double *maxabs,
                 double *minabs, bool *allint, int *width, int mode, bool measure) {
  if (d == t->ndim) {
    float v = t->st->data[off];
    if (measure) {
      char b[64];
      int w = fmt_value(b, sizeof b, v, mode);
      if (w > *width) *width = w;
      return;
    }
    if (isfinite(v)) {
      double a = fabs((double)v);
      if (a > *maxabs) *maxabs = a;
      if (a > 0 && a < *minabs) *minabs = a;
      if (v != floorf(v)) *allint = false;
    }
    return;
  }
  int64_t n = t->shape[d];
  for (int64_t i = 0; i < n; i++) {
    if (elide && n > 2 * EDGE && i == EDGE) i = n - EDGE;
    scan(t, d + 1, off + i * t->stride[d], elide, maxabs, minabs, allint, width, mode, measure);
  }
}

static void put_rec(luaL_Buffer *B, const ar_tensor *t, int d, int64_t off, const fmt_t *f,
                    int indent) {
  char b[64];
  if (d == t->ndim) {
    int w = fmt_value(b, sizeof b, t->st->data[off], f->mode);
    for (int k = w; k < f->width; k++) luaL_addchar(B, ' ');
    luaL_addstring(B, b);
    return;
  }
  int64_t n = t->shape[d];
  luaL_addchar(B, '[');
  int col = indent + 1;
  for (int64_t i = 0; i < n; i++) {
    if (f->elide && n > 2 * EDGE && i == EDGE) {
      if (d == t->ndim - 1) {
        luaL_addstring(B, "...");
        luaL_addstring(B, ", ");
        col += 5;
      } else {
        luaL_addstring(B, "...,\n");
        for (int k = 0; k < indent + 1; k++) luaL_addchar(B, ' ');
      }
      i = n - EDGE;
    }
    put_rec(B, t, d + 1, off + i * t->stride[d], f, indent + 1);
    if (i + 1 < n) {
      luaL_addchar(B, ',');
      if (d == t->ndim - 1) {
        col += f->width + 2;
        if (col + f->width + 2 > 88) { /* wrap long rows */
          luaL_addchar(B, '\n');
          for (int k = 0; k < indent + 1; k++) luaL_addchar(B, ' ');
          col = indent + 1;
        } else {
          luaL_addchar(B, ' ');
        }
      } else {
        for (int k = d; k < t->ndim - 1; k++) luaL_addchar(B, '\n');
        for (int k = 0; k < indent + 1; k++) luaL_addchar(B, ' ');
      }
    }
  }
  luaL_addchar(B, ']');
}

static int mm_tostring(lua_State *L) {
  ar_tensor *t = lt_peek(L, 1);
  if (!t) return lt_argerror(L, "Tensor:__tostring", 1, "self", "a tensor");
  if (!t->st) {
    lua_pushstring(L, "tensor(closed)");
    return 1;
  }
  fmt_t f = {1, 0, ar_numel(t) > ELIDE_ABOVE};
  double maxabs = 0, minabs = INFINITY;
  bool allint = true;
  int64_t n = ar_numel(t);
  if (n > 0) scan(t, 0, t->offset, f.elide, &maxabs, &minabs, &allint, &f.width, 0, false);
  if (allint && maxabs < 1e8) f.mode = 0;
  else if (maxabs >= 1e8 || (minabs < 1e-4 && minabs > 0)) f.mode = 2;
  if (n > 0) scan(t, 0, t->offset, f.elide, &maxabs, &minabs, &allint, &f.width, f.mode, true);
  luaL_Buffer B;
  luaL_buffinit(L, &B);
  luaL_addstring(&B, "tensor(");
  if (n == 0) {
    for (int i = 0; i < t->ndim; i++) luaL_addchar(&B, '[');
    for (int i = 0; i < t->ndim; i++) luaL_addchar(&B, ']');
  } else {
    put_rec(&B, t, 0, t->offset, &f, 7);
  }
  if (t->ndim != 1 || n != 1 || true) {
    char s[200];
    luaL_addstring(&B, ", shape=");
    luaL_addstring(&B, ar_shape_str(t->ndim, t->shape, s, sizeof s));
  }
  luaL_addchar(&B, ')');
  luaL_pushresult(&B);
  return 1;
}

/* ---------- registration ---------- */

/* With the most arguments each takes after self (lt_setfuncs checks them); the sizes
 * and indices of get/set/reshape/view/expand are counted by the functions themselves. */
static const lt_reg methods[] = {
    {"shape", m_shape, 0},           {"size", m_size, 1},
    {"stride", m_stride, 1},         {"dim", m_dim, 0},
    {"numel", m_numel, 0},           {"is_contiguous", m_is_contiguous, 0},
    {"get", m_get, LT_VARARGS},      {"set", m_set, LT_VARARGS},
    {"item", m_item, 0},             {"totable", m_totable, 0},
    {"clone", m_clone, 0},           {"contiguous", m_contiguous, 0},
    {"reshape", m_reshape, LT_VARARGS}, {"view", m_view, LT_VARARGS},
    {"transpose", m_transpose, 2},   {"t", m_t, 0},
    {"narrow", m_narrow, 3},         {"select", m_select, 2},
    {"flatten", m_flatten, 2},       {"unsqueeze", m_unsqueeze, 1},
    {"squeeze", m_squeeze, 1},       {"expand", m_expand, LT_VARARGS},
    {"fill", m_fill, 1},             {"zero", m_zero, 0},
    {"copy", m_copy, 1},             {"add", m_add, 1},
    {"sub", m_sub, 1},               {"mul", m_mul, 1},
    {"div", m_div, 1},               {"pow", m_pow, 1},
    {"matmul", m_matmul, 1},         {"neg", m_neg, 0},
    {"exp", m_exp, 0},               {"log", m_log, 0},
    {"sqrt", m_sqrt, 0},             {"abs", m_abs, 0},
    {"sin", m_sin, 0},               {"cos", m_cos, 0},
    {"tanh", m_tanh, 0},             {"sigmoid", m_sigmoid, 0},
    {"sign", m_sign, 0},             {"floor", m_floor, 0},
    {"ceil", m_ceil, 0},             {"round", m_round, 0},
    {"reciprocal", m_reciprocal, 0}, {"square", m_square, 0},
    {"clamp", m_clamp, 2},           {"sum", m_sum, 2},
    {"mean", m_mean, 2},             {"var", m_var, 3},
    {"std", m_std, 3},               {"prod", m_prod, 2},
    {"norm", m_norm, 3},             {"max", m_max, 2},
    {"min", m_min, 2},               {"argmax", m_argmax, 2},
    {"argmin", m_argmin, 2},         {"maximum", m_maximum, 1},
    {"minimum", m_minimum, 1},       {"gt", m_gt, 1},
    {"lt", m_lt, 1},                 {"ge", m_ge, 1},
    {"le", m_le, 1},                 {"eq", m_eq, 1},
    {"ne", m_ne, 1},                 {"backward", m_backward, 2},
    {"detach", m_detach, 0},         {"zero_grad", m_zero_grad, 0},
    {"index_select", m_index_select, 2}, {"gather", m_gather, 2},
    {"sort", m_sort, 2},             {"argsort", m_argsort, 2},
    {"topk", m_topk, 3},             {"cumsum", m_cumsum, 1},
    {NULL, NULL, 0}};

static const luaL_Reg metamethods[] = {
    {"__add", m_add},   {"__sub", m_sub},         {"__mul", m_mul},
    {"__div", m_div},   {"__pow", m_pow},         {"__unm", mm_unm},
    {"__len", mm_len},  {"__newindex", mm_newindex}, {"__tostring", mm_tostring},
    {"__close", mm_close}, {"__gc", mm_gc},       {NULL, NULL}};

static void push_upvalues(lua_State *L, int ctxi, int mti) {
  lua_pushvalue(L, ctxi);
  lua_pushvalue(L, mti);
}

/* Fills the tensor metatable at mti; every function gets (ctx holder, metatable). */
void lt_open_tensor(lua_State *L, int ctxi, int mti) {
  lua_pushvalue(L, mti);
  push_upvalues(L, ctxi, mti);
  luaL_setfuncs(L, metamethods, LT_NUP);
  lua_pop(L, 1);
  /* methods table, also reachable as __methods for REPL completion */
  lua_createtable(L, 0, (int)(sizeof methods / sizeof methods[0]));
  int methi = lua_gettop(L);
  lt_setfuncs(L, methods, true, ctxi, mti);
  lua_pushvalue(L, methi);
  lua_setfield(L, mti, "__methods");
  /* __index(t, k): methods by name, slices by integer; methods table as upvalue 3 */
  push_upvalues(L, ctxi, mti);
  lua_pushvalue(L, methi);
  lua_pushcclosure(L, mm_index, 3);
  lua_setfield(L, mti, "__index");
  lua_pop(L, 1);
  lua_pushstring(L, LT_TENSOR_MT);
  lua_setfield(L, mti, "__name");
}

/* With the most arguments each takes (lt_setfuncs checks them); shapes given as sizes
 * and no_grad's arguments for fn are counted by the functions themselves. */
static const lt_reg functions[] = {
    {"tensor", f_tensor, 2},          {"zeros", f_zeros, LT_VARARGS},
    {"ones", f_ones, LT_VARARGS},     {"full", f_full, 2},
    {"empty", f_empty, LT_VARARGS},   {"rand", f_rand, LT_VARARGS},
    {"randn", f_randn, LT_VARARGS},   {"range", f_range, 3},
    {"linspace", f_linspace, 3},      {"eye", f_eye, 2},
    {"cat", f_cat, 2},                {"stack", f_stack, 2},
    {"manual_seed", f_manual_seed, 1}, {"is_tensor", f_is_tensor, 1},
    {"matmul", m_matmul, 2},          {"linear", m_linear, 3},
    {"no_grad", f_no_grad, LT_VARARGS}, {"grad", f_grad, 3},
    {"set_num_threads", f_set_num_threads, 1}, {"get_num_threads", f_get_num_threads, 0},
    {"clock", f_clock, 0},            {"memory", f_memory, 0},
    {"build_info", f_build_info, 0},  {"randperm", f_randperm, 1},
    {"where", f_where, 3},            {NULL, NULL, 0}};

void lt_register_functions(lua_State *L, int modi, int ctxi, int mti) {
  lua_pushvalue(L, modi);
  lt_setfuncs(L, functions, false, ctxi, mti);
  lua_pop(L, 1);
}
