/* The C half of actrun.data: file readers, synthetic sets and the batch loader. The table
 * is registered as the module "actrun.data_c"; lua/actrun/data.lua builds actrun.data on it
 * (dataset directories, MNIST files, the tiny truth tables). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/io.h"
#include "lua/binding.h"


/* ---------- options tables ---------- */

/* opts at idx must be nil or a table whose keys are all in allowed (a typo such as
 * batch_size would otherwise be silently ignored). */
static void check_opts(lua_State *L, int idx, const char *fname, const char *const *allowed) {
  if (lua_isnoneornil(L, idx)) return;
  if (!lua_istable(L, idx)) lt_argerror(L, fname, idx, "options", "a table");
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pop(L, 1);
    bool ok = false;
    if (lua_type(L, -1) == LUA_TSTRING)
      for (const char *const *a = allowed; *a; a++)
        if (strcmp(*a, lua_tostring(L, -1)) == 0) ok = true;
    if (!ok) {
      luaL_Buffer b;
      luaL_buffinit(L, &b);
      for (const char *const *a = allowed; *a; a++) {
        luaL_addstring(&b, *a);
        if (a[1]) luaL_addstring(&b, ", ");
      }
      luaL_pushresult(&b);
      const char *key = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : luaL_typename(L, -2);
      lt_error(L, fname, "argument #%d (options): unknown option '%s' (known: %s)", idx, key,
               lua_tostring(L, -1));
    }
  }
}

/* Pushes opts[key] (nil when opts is absent). */
static int get_opt(lua_State *L, int idx, const char *key) {
  if (lua_isnoneornil(L, idx)) {
    lua_pushnil(L);
    return LUA_TNIL;
  }
  return lua_getfield(L, idx, key);
}

static bool opt_int(lua_State *L, int idx, const char *key, lua_Integer *v, const char *fname) {
  int t = get_opt(L, idx, key);
  if (t == LUA_TNIL) {
    lua_pop(L, 1);
    return false;
  }
  int isnum = 0;
  lua_Integer x = lua_tointegerx(L, -1, &isnum);
  if (!isnum || t != LUA_TNUMBER)
    lt_error(L, fname, "argument #%d (options): '%s' expected an integer, got %s", idx, key,
             t == LUA_TNUMBER ? "a non-integer number" : lua_typename(L, t));
  lua_pop(L, 1);
  *v = x;
  return true;
}

static double opt_num(lua_State *L, int idx, const char *key, double def, const char *fname) {
  int t = get_opt(L, idx, key);
  double v = def;
  if (t == LUA_TNUMBER) v = lua_tonumber(L, -1);
  else if (t != LUA_TNIL)
    lt_error(L, fname, "argument #%d (options): '%s' expected a number, got %s", idx, key,
             lua_typename(L, t));
  lua_pop(L, 1);
  return v;
}

static bool opt_bool(lua_State *L, int idx, const char *key, bool def, const char *fname) {
  int t = get_opt(L, idx, key);
  bool v = def;
  if (t == LUA_TBOOLEAN) v = lua_toboolean(L, -1);
  else if (t != LUA_TNIL)
    lt_error(L, fname, "argument #%d (options): '%s' expected a boolean, got %s", idx, key,
             lua_typename(L, t));
  lua_pop(L, 1);
  return v;
}

/* ---------- files ---------- */

static int f_idx(lua_State *L) {
  const char *fn = "actrun.data.idx";
  if (lua_type(L, 1) != LUA_TSTRING) lt_argerror(L, fn, 1, "path", "a string");
  static const char *const allowed[] = {"limit", NULL};
  check_opts(L, 2, fn, allowed);
  lua_Integer limit = 0;
  if (opt_int(L, 2, "limit", &limit, fn) && limit < 1)
    lt_error(L, fn, "argument #2 (options): 'limit' expected an integer >= 1, got %lld",
             (long long)limit);
  ar_ctx *C = lt_ctx(L);
  ar_tensor *t = lt_new(L);
  if (io_read_idx(C, lua_tostring(L, 1), limit, t)) return lt_core_error(L, fn);
  lt_account(L, C);
  return 1;
}

static int f_csv(lua_State *L) {
  const char *fn = "actrun.data.csv";
  if (lua_type(L, 1) != LUA_TSTRING) lt_argerror(L, fn, 1, "path", "a string");
  static const char *const allowed[] = {"header", NULL};
  check_opts(L, 2, fn, allowed);
  bool header = opt_bool(L, 2, "header", false, fn);
  ar_ctx *C = lt_ctx(L);
  ar_tensor *t = lt_new(L);
  char **names = NULL;
  int ncols = 0;
  if (io_read_csv(C, lua_tostring(L, 1), header, t, &names, &ncols)) return lt_core_error(L, fn);
  lt_account(L, C);
  /* names are copied before anything can raise, so they cannot leak */
  lua_createtable(L, names ? ncols : 0, 0);
  if (names) {
    for (int i = 0; i < ncols; i++) {
      lua_pushstring(L, names[i]);
      lua_rawseti(L, -2, i + 1);
    }
    io_free_names(names, ncols);
  }
  return 2;
}

/* ---------- synthetic sets ---------- */

static int synth(lua_State *L, io_synth_kind kind, const char *fn) {
  static const char *const moons_opts[] = {"n", "noise", "seed", NULL};
  static const char *const circles_opts[] = {"n", "noise", "factor", "seed", NULL};
  static const char *const spirals_opts[] = {"n", "classes", "noise", "seed", NULL};
  static const char *const blobs_opts[] = {"n", "classes", "noise", "std", "seed", NULL};
  const char *const *allowed = kind == IO_MOONS     ? moons_opts
                               : kind == IO_CIRCLES ? circles_opts
                               : kind == IO_SPIRALS ? spirals_opts
                                                    : blobs_opts;
  if (lua_gettop(L) > 1) lt_error(L, fn, "too many arguments: expected one options table");
  check_opts(L, 1, fn, allowed);
  io_synth_opts o = {100, kind == IO_BLOBS ? 3 : 2, 0.0, 0.5, 1.0};
  lua_Integer v;
  if (opt_int(L, 1, "n", &v, fn)) {
    if (v < 1 || v > ((lua_Integer)1 << 40))
      lt_error(L, fn, "argument #1 (options): 'n' expected an integer >= 1, got %lld",
               (long long)v);
    o.n = v;
  }
  if (opt_int(L, 1, "classes", &v, fn)) {
    if (v < 1 || v > 64)
      lt_error(L, fn, "argument #1 (options): 'classes' expected an integer in 1..64, got %lld",
               (long long)v);
    o.classes = (int)v;
  }
  o.noise = opt_num(L, 1, "noise", 0.0, fn);
  if (!(o.noise >= 0) || o.noise > 1e30)
    lt_error(L, fn, "argument #1 (options): 'noise' expected a finite number >= 0, got %g", o.noise);
  o.factor = opt_num(L, 1, "factor", 0.5, fn);
  if (!(o.factor > 0 && o.factor < 1))
    lt_error(L, fn, "argument #1 (options): 'factor' expected a number in (0, 1), got %g", o.factor);
  o.std = opt_num(L, 1, "std", 1.0, fn);
  if (!(o.std >= 0) || o.std > 1e30)
    lt_error(L, fn, "argument #1 (options): 'std' expected a finite number >= 0, got %g", o.std);
  lua_Integer seed = 0;
  bool has_seed = opt_int(L, 1, "seed", &seed, fn);
  ar_ctx *C = lt_ctx(L);
  io_rng r;
  io_rng_init(C, &r, has_seed, (uint64_t)seed, (uint64_t)o.n * 16 + 512);
  ar_tensor *X = lt_new(L);
  ar_tensor *y = lt_new(L);
  ar_tensor tx, ty;
  if (io_synthetic(C, kind, &o, &r, &tx, &ty)) return lt_core_error(L, fn);
  *X = tx;
  *y = ty;
  lt_account(L, C);
  return 2;
}
static int f_moons(lua_State *L) { return synth(L, IO_MOONS, "actrun.data.moons"); }
static int f_circles(lua_State *L) { return synth(L, IO_CIRCLES, "actrun.data.circles"); }
static int f_spirals(lua_State *L) { return synth(L, IO_SPIRALS, "actrun.data.spirals"); }
static int f_blobs(lua_State *L) { return synth(L, IO_BLOBS, "actrun.data.blobs"); }

/* ---------- loader ---------- */

typedef struct {
  int64_t n, pos, batch;
  int64_t perm[]; /* row order of this pass */
} loader;

/* Upvalues: context, tensor metatable, the loader userdata (whose user values are X, y). */
static int loader_next(lua_State *L) {
  const char *fn = "actrun.data.loader";
  loader *ld = lua_touserdata(L, lua_upvalueindex(3));
  if (ld->pos >= ld->n) return 0;
  int64_t count = ld->n - ld->pos < ld->batch ? ld->n - ld->pos : ld->batch;
  ar_ctx *C = lt_ctx(L);
  lua_getiuservalue(L, lua_upvalueindex(3), 1);
  lua_getiuservalue(L, lua_upvalueindex(3), 2);
  ar_tensor *X = lt_totensor(L, -2), *y = lt_totensor(L, -1);
  if (!X || !y) return lt_error(L, fn, "X or y was closed while the loader was in use");
  ar_tensor *xb = lt_new(L);
  if (io_gather_rows(C, xb, X, ld->perm + ld->pos, count)) return lt_core_error(L, fn);
  ar_tensor *yb = lt_new(L);
  if (io_gather_rows(C, yb, y, ld->perm + ld->pos, count)) return lt_core_error(L, fn);
  ld->pos += count;
  lt_account(L, C);
  return 2;
}

static int f_loader(lua_State *L) {
  const char *fn = "actrun.data.loader";
  ar_tensor *X = lt_check(L, 1, fn, 1, "X");
  ar_tensor *y = lt_check(L, 2, fn, 2, "y");
  static const char *const allowed[] = {"batch", "shuffle", "seed", "drop_last", NULL};
  check_opts(L, 3, fn, allowed);
  if (X->ndim < 1) lt_error(L, fn, "argument #1 (X) expected at least 1 dimension, got a scalar");
  if (y->ndim < 1) lt_error(L, fn, "argument #2 (y) expected at least 1 dimension, got a scalar");
  if (X->shape[0] != y->shape[0])
    lt_error(L, fn, "X and y have different numbers of rows (%lld ~= %lld)",
             (long long)X->shape[0], (long long)y->shape[0]);
  lua_Integer batch = 1, seed = 0; /* PyTorch's DataLoader default batch_size */
  if (opt_int(L, 3, "batch", &batch, fn) && batch < 1)
    lt_error(L, fn, "argument #3 (options): 'batch' expected an integer >= 1, got %lld",
             (long long)batch);
  bool shuffle = opt_bool(L, 3, "shuffle", false, fn);
  bool has_seed = opt_int(L, 3, "seed", &seed, fn);
  bool drop_last = opt_bool(L, 3, "drop_last", false, fn);
  int64_t n = X->shape[0];
  if ((uint64_t)n > (SIZE_MAX - sizeof(loader)) / sizeof(int64_t))
    lt_error(L, fn, "too many rows (%lld)", (long long)n);
  ar_ctx *C = lt_ctx(L);
  lua_pushvalue(L, LT_UP_CTX);
  lua_pushvalue(L, LT_UP_TMT);
  loader *ld = lua_newuserdatauv(L, sizeof(loader) + sizeof(int64_t) * (size_t)n, 2);
  /* drop_last: the pass ends before a partial batch (rows still drawn from the full
   * permutation, so which rows are left out changes with the shuffle) */
  ld->n = drop_last ? n / batch * batch : n;
  ld->pos = 0;
  ld->batch = batch;
  if (shuffle) {
    io_rng r;
    io_rng_init(C, &r, has_seed, (uint64_t)seed, (uint64_t)n * 2);
    io_permutation(&r, ld->perm, n);
  } else {
    for (int64_t i = 0; i < n; i++) ld->perm[i] = i;
  }
  /* batches gather whole rows: keep row-major copies of strided views (once, not per batch) */
  for (int i = 1; i <= 2; i++) {
    ar_tensor *src = lt_totensor(L, i);
    if (ar_is_contiguous(src)) {
      lua_pushvalue(L, i);
    } else {
      ar_tensor *c = lt_new(L);
      if (ar_contiguous(C, c, src)) return lt_core_error(L, fn);
      lt_account(L, C);
    }
    lua_setiuservalue(L, -2, i);
  }
  lua_pushcclosure(L, loader_next, 3);
  return 1;
}

/* ---------- terminal check ---------- */

/* isatty(fd) -> whether the file descriptor is a terminal (lab's progress display draws
 * an updating bar there and plain lines elsewhere). Internal, in the module
 * "actrun.term_c" (not part of the API). */
static int f_isatty(lua_State *L) {
  lua_Integer fd = lt_checkint(L, 1, "actrun.term_c.isatty", 1, "fd");
  lua_pushboolean(L, fd >= 0 && fd <= 1 << 20 && isatty((int)fd) == 1);
  return 1;
}

static const luaL_Reg functions[] = {
    {"idx", f_idx},         {"csv", f_csv},         {"moons", f_moons},   {"circles", f_circles},
    {"spirals", f_spirals}, {"blobs", f_blobs},     {"loader", f_loader}, {NULL, NULL},
};

void lt_open_data(lua_State *L, int ctxi, int mti) {
  lua_createtable(L, 0, 8);
  lua_pushvalue(L, ctxi);
  lua_pushvalue(L, mti);
  luaL_setfuncs(L, functions, LT_NUP);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_pushvalue(L, -2);
  lua_setfield(L, -2, "actrun.data_c");
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, f_isatty);
  lua_setfield(L, -2, "isatty");
  lua_setfield(L, -2, "actrun.term_c");
  lua_pop(L, 2);
}
