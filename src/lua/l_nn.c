/* Convolution, pooling and the Padé activation unit as tensor functions (actrun.conv2d,
 * actrun.max_pool2d, actrun.pau), the B-spline basis of Kolmogorov-Arnold layers
 * (actrun.bspline_basis), and
 * actrun._safetensors, the C half of nn.save / nn.load (lua/actrun/nn_io.lua), and
 * actrun._write_file, the writer of the other files (plots, reports, CSV). */
#include <math.h>
#include <string.h>

#include "autograd/ops.h"
#include "core/conv.h"
#include "io/io.h"
#include "lua/binding.h"
#include "lua/l_nn.h"

/* A size pair given as one integer (both) or a table {a, b}, at stack index idx.
 * `what` names the option in messages. */
static void get_pair(lua_State *L, int idx, const char *fn, const char *what, int64_t v[2]) {
  int ok;
  if (lua_type(L, idx) == LUA_TNUMBER) {
    lua_Integer n = lua_tointegerx(L, idx, &ok); /* floats only when integral and in range */
    if (!ok)
      lt_error(L, fn, "%s must be an integer or a pair {h, w}, got %.14g", what,
               (double)lua_tonumber(L, idx));
    v[0] = v[1] = (int64_t)n;
    return;
  }
  if (lua_type(L, idx) == LUA_TTABLE && luaL_len(L, idx) == 2) {
    for (int k = 0; k < 2; k++) {
      lua_geti(L, idx, k + 1);
      lua_Integer n = lua_type(L, -1) == LUA_TNUMBER ? lua_tointegerx(L, -1, &ok) : (ok = 0);
      if (!ok)
        lt_error(L, fn, "%s must be an integer or a pair {h, w} of integers, got %s in the pair",
                 what, lua_type(L, -1) == LUA_TNUMBER ? "a non-integer" : luaL_typename(L, -1));
      v[k] = (int64_t)n;
      lua_pop(L, 1);
    }
    return;
  }
  lt_error(L, fn, "%s must be an integer or a pair {h, w}, got %s", what,
           lua_type(L, idx) == LUA_TTABLE ? "a table that is not a pair" : luaL_typename(L, idx));
}

/* The options table at idx (none/nil: defaults): stride and padding pairs. */
static void get_opts(lua_State *L, int idx, const char *fn, int64_t stride[2],
                     int64_t padding[2]) {
  if (lua_isnoneornil(L, idx)) return;
  if (lua_type(L, idx) != LUA_TTABLE)
    lt_argerror(L, fn, idx, "options", "a table {stride=, padding=}");
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
    int vi = lua_gettop(L);
    if (k && strcmp(k, "stride") == 0)
      get_pair(L, vi, fn, "stride", stride);
    else if (k && strcmp(k, "padding") == 0)
      get_pair(L, vi, fn, "padding", padding);
    else
      lt_error(L, fn, "unknown option %s%s%s (options: stride, padding)", k ? "'" : "",
               k ? k : "of a non-string key", k ? "'" : "");
    lua_pop(L, 1);
  }
}

/* actrun.conv2d(x, w [, b] [, {stride=1, padding=0}]) */
static int f_conv2d(lua_State *L) {
  const char *fn = "actrun.conv2d";
  ar_ctx *C = lt_ctx(L);
  ar_tensor *x = lt_check(L, 1, fn, 1, "input");
  ar_tensor *w = lt_check(L, 2, fn, 2, "weight");
  ar_tensor *b = NULL;
  int opti = 4;
  if (lua_type(L, 3) == LUA_TTABLE) {
    opti = 3;
    if (!lua_isnone(L, 4)) return lt_error(L, fn, "too many arguments after the options table");
  } else if (!lua_isnoneornil(L, 3)) {
    b = lt_test(L, 3);
    if (!b) return lt_argerror(L, fn, 3, "bias", "a tensor, nil or an options table");
  }
  if (lua_gettop(L) > 4) return lt_error(L, fn, "too many arguments: expected x, w [, b] [, options]");
  int64_t stride[2] = {1, 1}, padding[2] = {0, 0};
  get_opts(L, opti, fn, stride, padding);
  ar_conv_params p = {stride[0], stride[1], padding[0], padding[1]};
  ar_tensor *out = lt_new(L);
  if (ag_conv2d(C, out, x, w, b, &p)) return lt_core_error(L, fn);
  lt_account(L, C);
  return 1;
}

/* actrun.pau(x, a, b): the Padé activation unit P(x) / (1 + |Q(x)|), a the numerator's
 * coefficients a0..am ({m+1} or {C, m+1}), b the denominator's b1..bn ({n} or {C, n}) */
static int f_pau(lua_State *L) {
  const char *fn = "actrun.pau";
  ar_ctx *C = lt_ctx(L);
  if (lua_gettop(L) > 3) return lt_error(L, fn, "too many arguments: expected x, a, b");
  ar_tensor *x = lt_check(L, 1, fn, 1, "x");
  ar_tensor *a = lt_check(L, 2, fn, 2, "a");
  ar_tensor *b = lt_check(L, 3, fn, 3, "b");
  ar_tensor *out = lt_new(L);
  if (ag_pau(C, out, x, a, b)) return lt_core_error(L, fn);
  lt_account(L, C);
  return 1;
}

/* actrun.max_pool2d(x, k [, {stride=k, padding=0}]) (a number as the third argument is
 * the stride) */
static int f_max_pool2d(lua_State *L) {
  const char *fn = "actrun.max_pool2d";
  ar_ctx *C = lt_ctx(L);
  ar_tensor *x = lt_check(L, 1, fn, 1, "input");
  if (lua_isnoneornil(L, 2)) return lt_argerror(L, fn, 2, "kernel_size", "an integer or a pair {h, w}");
  if (lua_gettop(L) > 3) return lt_error(L, fn, "too many arguments: expected x, k [, options]");
  int64_t k[2], stride[2], padding[2] = {0, 0};
  get_pair(L, 2, fn, "kernel_size", k);
  stride[0] = k[0], stride[1] = k[1];
  if (lua_type(L, 3) == LUA_TNUMBER)
    get_pair(L, 3, fn, "stride", stride);
  else
    get_opts(L, 3, fn, stride, padding);
  ar_conv_params p = {stride[0], stride[1], padding[0], padding[1]};
  ar_tensor *out = lt_new(L);
  if (ag_maxpool2d(C, out, x, k[0], k[1], &p)) return lt_core_error(L, fn);
  lt_account(L, C);
  return 1;
}

/* ---------- actrun.bspline_basis ---------- */

/* An integer option in [lo, hi] at stack index idx. */
static int int_opt(lua_State *L, int idx, const char *fn, const char *what, int lo, int hi) {
  int ok = 0;
  lua_Integer v = lua_type(L, idx) == LUA_TNUMBER ? lua_tointegerx(L, idx, &ok) : 0;
  if (!ok || v < lo || v > hi) {
    if (lua_type(L, idx) == LUA_TNUMBER)
      lt_error(L, fn, "option %s expected an integer in %d..%d, got %.14g", what, lo, hi,
               (double)lua_tonumber(L, idx));
    lt_error(L, fn, "option %s expected an integer in %d..%d, got %s", what, lo, hi,
             luaL_typename(L, idx));
  }
  return (int)v;
}

/* actrun.bspline_basis(x [, {grid=5, order=3, range={-1, 1}, deriv=0, transposed=false}])
 * -> {x..., grid + order}: the B-spline basis (or a derivative) of a uniform grid at every
 * element; with transposed=true the kernel's own layout {..., grid + order, F} for x
 * {..., F} (what KANLinear multiplies; the default is its transposed view). */
static int f_bspline_basis(lua_State *L) {
  const char *fn = "actrun.bspline_basis";
  ar_ctx *C = lt_ctx(L);
  ar_tensor *x = lt_check(L, 1, fn, 1, "input");
  if (lua_gettop(L) > 2) return lt_error(L, fn, "too many arguments: expected x [, options]");
  ar_bspline p = {-1.0, 1.0, 5, 3};
  int deriv = 0;
  bool transposed = false;
  if (!lua_isnoneornil(L, 2)) {
    if (lua_type(L, 2) != LUA_TTABLE)
      return lt_argerror(L, fn, 2, "options", "a table {grid=, order=, range=, deriv=}");
    lua_pushnil(L);
    while (lua_next(L, 2)) {
      const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
      int vi = lua_gettop(L);
      if (k && strcmp(k, "grid") == 0)
        p.grid = int_opt(L, vi, fn, "grid", 1, AR_BSPLINE_MAX_GRID);
      else if (k && strcmp(k, "order") == 0)
        p.order = int_opt(L, vi, fn, "order", 0, AR_BSPLINE_MAX_ORDER);
      else if (k && strcmp(k, "deriv") == 0)
        deriv = int_opt(L, vi, fn, "deriv", 0, 64);
      else if (k && strcmp(k, "transposed") == 0) {
        if (lua_type(L, vi) != LUA_TBOOLEAN)
          return lt_error(L, fn, "option transposed expected a boolean, got %s",
                          luaL_typename(L, vi));
        transposed = lua_toboolean(L, vi);
      } else if (k && strcmp(k, "range") == 0) {
        bool ok = lua_type(L, vi) == LUA_TTABLE && luaL_len(L, vi) == 2;
        double r[2] = {0, 0};
        for (int i = 0; ok && i < 2; i++) {
          lua_geti(L, vi, i + 1);
          ok = lua_type(L, -1) == LUA_TNUMBER;
          r[i] = lua_tonumber(L, -1);
          lua_pop(L, 1);
        }
        if (!ok || !isfinite(r[0]) || !isfinite(r[1]) || !(r[0] < r[1]))
          return lt_error(L, fn, "option range expected a pair {lo, hi} of finite numbers "
                                 "with lo < hi");
        p.lo = r[0], p.hi = r[1];
      } else
        return lt_error(L, fn, "unknown option %s%s%s (options: deriv, grid, order, range, transposed)",
                        k ? "'" : "", k ? k : "of a non-string key", k ? "'" : "");
      lua_pop(L, 1);
    }
  }
  if (x->ndim < 1) return lt_error(L, fn, "input must have at least 1 dim, got a 0-dim tensor");
  ar_tensor *out = lt_new(L);
  if (transposed) {
    if (ag_bspline_basis(C, out, x, &p, deriv)) return lt_core_error(L, fn);
  } else {
    ar_tensor t;
    if (ag_bspline_basis(C, &t, x, &p, deriv)) return lt_core_error(L, fn);
    int rc = ag_transpose(C, out, &t, x->ndim - 1, x->ndim);
    ag_drop(&t);
    if (rc) return lt_core_error(L, fn);
  }
  lt_account(L, C);
  return 1;
}

/* ---------- actrun._safetensors ---------- */

/* read(path) -> tensors (name -> tensor), metadata (key -> value), names (header order),
 * dtypes (name -> dtype in the file); or nil, message */
static int f_st_read(lua_State *L) {
  const char *fn = "actrun.nn.load";
  ar_ctx *C = lt_ctx(L);
  if (lua_type(L, 1) != LUA_TSTRING) return lt_argerror(L, fn, 1, "path", "a string");
  io_st_file f;
  if (io_st_read(C, lua_tostring(L, 1), &f)) {
    lua_pushnil(L);
    lua_pushstring(L, ar_errmsg(C));
    return 2;
  }
  lua_createtable(L, 0, (int)f.n);
  int ti = lua_gettop(L);
  lua_createtable(L, 0, (int)f.nmeta);
  int mi = lua_gettop(L);
  lua_createtable(L, (int)f.n, 0);
  int ni = lua_gettop(L);
  lua_createtable(L, 0, (int)f.n);
  int di = lua_gettop(L);
  for (size_t i = 0; i < f.n; i++) {
    ar_tensor *t = lt_new(L);
    *t = f.e[i].t; /* moved: the userdata owns the storage now */
    f.e[i].t.st = NULL;
    lua_setfield(L, ti, f.e[i].name);
    lua_pushstring(L, f.e[i].name);
    lua_rawseti(L, ni, (lua_Integer)i + 1);
    lua_pushstring(L, f.e[i].dtype);
    lua_setfield(L, di, f.e[i].name);
  }
  for (size_t i = 0; i < f.nmeta; i++) {
    lua_pushstring(L, f.meta[2 * i + 1]);
    lua_setfield(L, mi, f.meta[2 * i]);
  }
  io_st_free(&f);
  lt_account(L, C);
  return 4;
}

/* A string without NUL bytes at idx (a field of a list), or an error. */
static const char *plain_string(lua_State *L, int idx, const char *fn, const char *what) {
  size_t len;
  if (lua_type(L, idx) != LUA_TSTRING) /* checked first: tolstring would convert a key */
    lt_error(L, fn, "%s must be a string, got %s", what, luaL_typename(L, idx));
  const char *s = lua_tolstring(L, idx, &len);
  if (strlen(s) != len) lt_error(L, fn, "%s '%s...' contains a NUL byte", what, s);
  return s;
}

/* write(path, names, tensors, metadata or nil [, fail_after]) -> true, or nil, message */
static int f_st_write(lua_State *L) {
  const char *fn = "actrun.nn.save";
  ar_ctx *C = lt_ctx(L);
  if (lua_type(L, 1) != LUA_TSTRING) return lt_argerror(L, fn, 1, "path", "a string");
  luaL_checktype(L, 2, LUA_TTABLE);
  luaL_checktype(L, 3, LUA_TTABLE);
  lua_Integer n = luaL_len(L, 2), nmeta = 0;
  if (luaL_len(L, 3) != n) return lt_error(L, fn, "names and tensors differ in length");
  if (!lua_isnoneornil(L, 4)) {
    luaL_checktype(L, 4, LUA_TTABLE);
    lua_pushnil(L);
    while (lua_next(L, 4)) nmeta++, lua_pop(L, 1);
  }
  int64_t fail_after = lua_isnoneornil(L, 5) ? -1 : (int64_t)luaL_checkinteger(L, 5);
  /* arrays as userdata so an error below frees them */
  const char **names = lua_newuserdatauv(L, sizeof *names * (size_t)(n + 1), 0);
  const ar_tensor **ts = lua_newuserdatauv(L, sizeof *ts * (size_t)(n + 1), 0);
  const char **meta = lua_newuserdatauv(L, sizeof *meta * (size_t)(2 * nmeta + 1), 0);
  for (lua_Integer i = 1; i <= n; i++) {
    /* the lists keep their strings and tensors alive */
    lua_geti(L, 2, i);
    names[i - 1] = plain_string(L, -1, fn, "a tensor name");
    lua_geti(L, 3, i);
    ts[i - 1] = lt_test(L, -1);
    if (!ts[i - 1]) return lt_error(L, fn, "'%s' is not a tensor", names[i - 1]);
    lua_pop(L, 2);
  }
  if (nmeta) {
    lua_Integer k = 0;
    lua_pushnil(L);
    while (lua_next(L, 4)) {
      /* keys and values of a table stay alive while the table does */
      meta[2 * k] = plain_string(L, -2, fn, "a metadata key");
      meta[2 * k + 1] = plain_string(L, -1, fn, "a metadata value");
      k++;
      lua_pop(L, 1);
    }
  }
  if (io_st_write(C, lua_tostring(L, 1), names, ts, (size_t)n, meta, (size_t)nmeta,
                  fail_after)) {
    lua_pushnil(L);
    lua_pushstring(L, ar_errmsg(C));
    return 2;
  }
  lua_pushboolean(L, 1);
  return 1;
}

/* _write_file(path, data) -> true, or nil, message. data: a string or a list of strings
 * (written one after the other, not joined first). Through io_writer: atomic, and the
 * destination is checked; callers put their function's name before the message. */
static int f_write_file(lua_State *L) {
  const char *fn = "actrun._write_file";
  ar_ctx *C = lt_ctx(L);
  if (lua_type(L, 1) != LUA_TSTRING) return lt_argerror(L, fn, 1, "path", "a string");
  size_t pl;
  const char *path = lua_tolstring(L, 1, &pl);
  if (strlen(path) != pl) return lt_error(L, fn, "argument #1 (path) contains a NUL byte");
  int t = lua_type(L, 2);
  if (t != LUA_TSTRING && t != LUA_TTABLE)
    return lt_argerror(L, fn, 2, "data", "a string or a list of strings");
  lua_Integer n = t == LUA_TSTRING ? 1 : luaL_len(L, 2);
  if (n < 0) n = 0;
  const void **chunks = lua_newuserdatauv(L, sizeof *chunks * (size_t)(n + 1), 0);
  size_t *lens = lua_newuserdatauv(L, sizeof *lens * (size_t)(n + 1), 0);
  if (t == LUA_TSTRING) {
    chunks[0] = lua_tolstring(L, 2, &lens[0]);
  } else {
    for (lua_Integer i = 1; i <= n; i++) {
      /* the list keeps its strings alive */
      if (lua_geti(L, 2, i) != LUA_TSTRING)
        return lt_error(L, fn, "argument #2 (data) entry %lld must be a string, got %s",
                        (long long)i, luaL_typename(L, -1));
      chunks[i - 1] = lua_tolstring(L, -1, &lens[i - 1]);
      lua_pop(L, 1);
    }
  }
  if (io_write_file(C, path, chunks, lens, (size_t)n)) {
    lua_pushnil(L);
    lua_pushstring(L, ar_errmsg(C));
    return 2;
  }
  lua_pushboolean(L, 1);
  return 1;
}

static const luaL_Reg tensor_fns[] = {
    {"conv2d", f_conv2d}, {"max_pool2d", f_max_pool2d}, {"pau", f_pau},
    {"bspline_basis", f_bspline_basis}, {"_write_file", f_write_file}, {NULL, NULL}};
static const luaL_Reg st_fns[] = {{"read", f_st_read}, {"write", f_st_write}, {NULL, NULL}};

void lt_open_nn(lua_State *L, int modi, int ctxi, int mti) {
  for (const luaL_Reg *r = tensor_fns; r->name; r++) {
    lua_pushvalue(L, ctxi);
    lua_pushvalue(L, mti);
    lua_pushcclosure(L, r->func, LT_NUP);
    lua_setfield(L, modi, r->name);
  }
  lua_createtable(L, 0, 2);
  lua_pushvalue(L, ctxi);
  lua_pushvalue(L, mti);
  luaL_setfuncs(L, st_fns, LT_NUP);
  lua_setfield(L, modi, "_safetensors");
}
