/* The C half of actrun.plot: the loops over every element of a big tensor (histogram
 * binning, min/max decimation of a long series) and isatty for the terminal colours.
 * Registered as the module "actrun.plot_c"; lua/actrun/plot.lua builds actrun.plot on it. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "lua/binding.h"

/* A read-only view of numbers: a contiguous tensor (pushed on the stack so the GC owns
 * it) or a Lua array copied into a double buffer (a userdata, also on the stack). */
typedef struct {
  const float *f;
  const double *d;
  int64_t n;
} values;

static inline double value_at(const values *v, int64_t i) { return v->f ? v->f[i] : v->d[i]; }

/* Reads argument idx as tensor or array of numbers; pushes one value (the keeper). */
static void get_values(lua_State *L, int idx, const char *fname, const char *what, values *v) {
  memset(v, 0, sizeof *v);
  ar_tensor *t = lt_test(L, idx);
  if (t) {
    ar_ctx *C = lt_ctx(L);
    ar_tensor *c = lt_new(L);
    if (ar_contiguous(C, c, t)) lt_core_error(L, fname);
    v->n = ar_numel(c);
    v->f = v->n ? ar_data(c) : NULL;
    return;
  }
  if (!lua_istable(L, idx)) {
    lt_argerror(L, fname, idx, what, "a tensor or an array of numbers");
    return;
  }
  lua_Integer n = luaL_len(L, idx);
  double *d = lua_newuserdatauv(L, (size_t)(n > 0 ? n : 1) * sizeof(double), 0);
  for (lua_Integer i = 1; i <= n; i++) {
    int ty = lua_geti(L, idx, i);
    if (ty != LUA_TNUMBER)
      lt_error(L, fname, "%s value %lld is %s, expected a number", what, (long long)i,
               lua_typename(L, ty));
    d[i - 1] = lua_tonumber(L, -1);
    lua_pop(L, 1);
  }
  v->d = d;
  v->n = n;
}

/* hist(data, bins [, lo, hi]) -> counts, edges, outside, nonfinite, lo, hi
 * Bins [lo, hi] into `bins` equal bins, the last one closed (as torch.histc). Without
 * lo/hi the finite min and max are used. Non-finite values are never counted; values
 * outside [lo, hi] are counted in `outside`. Edge i is lo + (hi - lo) * (i - 1) / bins
 * and a value lands in bin i exactly when edge i <= v < edge i+1. */
static int f_hist(lua_State *L) {
  const char *fn = "actrun.plot.hist";
  lua_settop(L, 4); /* get_values pushes its keeper above the arguments */
  values v;
  get_values(L, 1, fn, "data", &v);
  lua_Integer bins = lt_checkint(L, 2, fn, 2, "bins");
  if (bins < 1 || bins > 100000000)
    lt_error(L, fn, "'bins' must be 1..100000000, got %lld", (long long)bins);
  double lo, hi;
  int64_t nonfinite = 0, outside = 0;
  if (lua_isnoneornil(L, 3)) {
    lo = INFINITY;
    hi = -INFINITY;
    for (int64_t i = 0; i < v.n; i++) {
      double x = value_at(&v, i);
      if (!isfinite(x)) continue;
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    }
    if (lo > hi) lo = hi = 0; /* no finite value */
  } else {
    lo = lt_checknum(L, 3, fn, 3, "lo");
    hi = lt_checknum(L, 4, fn, 4, "hi");
  }
  if (!isfinite(lo) || !isfinite(hi) || lo > hi)
    lt_error(L, fn, "'range' must be finite with lo <= hi, got {%g, %g}", lo, hi);
  if (lo == hi) { /* as torch.histc: a degenerate range widens by 1 on each side */
    lo -= 1;
    hi += 1;
  }
  if (!isfinite(hi - lo) || !(hi - lo > 0) || !isfinite((double)bins / (hi - lo)))
    lt_error(L, fn, "the values span a range too wide or too narrow to bin (%.17g to %.17g)", lo, hi);
  double *edges = lua_newuserdatauv(L, (size_t)(bins + 1) * sizeof(double), 0);
  int64_t *counts = lua_newuserdatauv(L, (size_t)bins * sizeof(int64_t), 0);
  for (lua_Integer i = 0; i <= bins; i++) edges[i] = lo + (hi - lo) * (double)i / (double)bins;
  edges[bins] = hi;
  memset(counts, 0, (size_t)bins * sizeof(int64_t));
  double scale = (double)bins / (hi - lo);
  for (int64_t i = 0; i < v.n; i++) {
    double x = value_at(&v, i);
    if (!isfinite(x)) {
      nonfinite++;
      continue;
    }
    if (x < lo || x > hi) {
      outside++;
      continue;
    }
    double fb = (x - lo) * scale; /* in [0, bins] up to rounding: clamp before the cast */
    int64_t b = fb >= (double)bins ? bins - 1 : fb > 0 ? (int64_t)fb : 0;
    /* rounding can put x one bin off its edges: settle it against the edges themselves */
    while (b > 0 && x < edges[b]) b--;
    while (b < bins - 1 && x >= edges[b + 1]) b++;
    counts[b]++;
  }
  lua_createtable(L, (int)bins, 0);
  for (lua_Integer i = 0; i < bins; i++) {
    lua_pushinteger(L, counts[i]);
    lua_rawseti(L, -2, i + 1);
  }
  lua_createtable(L, (int)bins + 1, 0);
  for (lua_Integer i = 0; i <= bins; i++) {
    lua_pushnumber(L, edges[i]);
    lua_rawseti(L, -2, i + 1);
  }
  lua_pushinteger(L, outside);
  lua_pushinteger(L, nonfinite);
  lua_pushnumber(L, lo);
  lua_pushnumber(L, hi);
  return 6;
}

/* decimate(x | false, y, buckets) -> xs, ys (Lua arrays)
 * A long series reduced to at most ~5 points per bucket of consecutive indices: the
 * first and last finite points, the minimum and maximum of y, and a NaN marker where the
 * bucket holds a non-finite value (so a gap stays a gap), all in index order. Drawn at
 * one bucket per pixel column this looks exactly like the full series. Without x the
 * x values are 1..n. */
static int f_decimate(lua_State *L) {
  const char *fn = "actrun.plot.line";
  lua_settop(L, 3); /* get_values pushes its keepers above the arguments */
  values vx, vy;
  int has_x = lua_toboolean(L, 1);
  if (has_x) get_values(L, 1, fn, "x", &vx);
  else memset(&vx, 0, sizeof vx);
  get_values(L, 2, fn, "y", &vy);
  lua_Integer buckets = lt_checkint(L, 3, fn, 3, "buckets");
  if (buckets < 1) buckets = 1;
  if (has_x && vx.n != vy.n)
    lt_error(L, fn, "x has %lld values but y has %lld", (long long)vx.n, (long long)vy.n);
  int64_t n = vy.n;
  lua_newtable(L);
  int xi = lua_gettop(L);
  lua_newtable(L);
  int yi = lua_gettop(L);
  lua_Integer out = 0;
  for (int64_t b = 0; b < buckets && b < n; b++) {
    int64_t i0 = n * b / buckets, i1 = n * (b + 1) / buckets;
    int64_t first = -1, last = -1, imin = -1, imax = -1, bad = -1;
    for (int64_t i = i0; i < i1; i++) {
      double y = value_at(&vy, i), x = has_x ? value_at(&vx, i) : (double)(i + 1);
      if (!isfinite(x) || !isfinite(y)) {
        if (bad < 0) bad = i;
        continue;
      }
      if (first < 0) first = i;
      last = i;
      if (imin < 0 || y < value_at(&vy, imin)) imin = i;
      if (imax < 0 || y > value_at(&vy, imax)) imax = i;
    }
    int64_t pick[5] = {first, imin, imax, last, bad};
    /* sort the (at most 5) indices, then emit each once */
    for (int a = 1; a < 5; a++)
      for (int c = a; c > 0 && pick[c] < pick[c - 1]; c--) {
        int64_t t = pick[c];
        pick[c] = pick[c - 1];
        pick[c - 1] = t;
      }
    for (int a = 0; a < 5; a++) {
      int64_t i = pick[a];
      if (i < 0 || (a > 0 && pick[a - 1] == i)) continue;
      out++;
      lua_pushnumber(L, has_x ? value_at(&vx, i) : (double)(i + 1));
      lua_rawseti(L, xi, out);
      lua_pushnumber(L, value_at(&vy, i));
      lua_rawseti(L, yi, out);
    }
  }
  return 2;
}

/* isatty([fd=1]) -> whether the descriptor is a terminal (for colour decisions). */
static int f_isatty(lua_State *L) {
  lua_Integer fd = luaL_optinteger(L, 1, 1);
  lua_pushboolean(L, fd >= 0 && fd <= 1024 && isatty((int)fd));
  return 1;
}

/* term_size([fd=1]) -> columns, rows of the terminal on fd, or nothing when fd is no
 * terminal (or it does not say). */
static int f_term_size(lua_State *L) {
  lua_Integer fd = luaL_optinteger(L, 1, 1);
  struct winsize ws;
  if (fd < 0 || fd > 1024 || ioctl((int)fd, TIOCGWINSZ, &ws) != 0 || ws.ws_col == 0) return 0;
  lua_pushinteger(L, ws.ws_col);
  lua_pushinteger(L, ws.ws_row);
  return 2;
}

static const luaL_Reg functions[] = {
    {"hist", f_hist},
    {"decimate", f_decimate},
    {"isatty", f_isatty},
    {"term_size", f_term_size},
    {NULL, NULL},
};

void lt_open_plot(lua_State *L, int ctxi, int mti) {
  lua_createtable(L, 0, 4);
  lua_pushvalue(L, ctxi);
  lua_pushvalue(L, mti);
  luaL_setfuncs(L, functions, LT_NUP);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_pushvalue(L, -2);
  lua_setfield(L, -2, "actrun.plot_c");
  lua_pop(L, 2);
}
