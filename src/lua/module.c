/* luaopen_actrun: the module table, the per-state context, embedded Lua sources, and the
 * copy-out used by the host API (whose calls live in src/lua/embed.c). */
#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#if defined(__linux__) && defined(__has_include)
#if __has_include(<sys/random.h>)
#include <sys/random.h>
#endif
#endif

#include "actrun.h"
#include "api.h"
#include "autograd/autograd.h"
#include "lua/binding.h"
#include "lua/l_nn.h"

struct ar_lua_source {
  const char *module, *file, *code;
  size_t len;
};
extern const struct ar_lua_source ar_lua_sources[]; /* generated from the lua/actrun sources */

/* ---------- context and errors ---------- */

ar_ctx *lt_ctx(lua_State *L) { return *(ar_ctx **)lua_touserdata(L, LT_UP_CTX); }

ar_ctx *lt_ctx_from_registry(lua_State *L) {
  ar_ctx *C = NULL;
  if (lua_getfield(L, LUA_REGISTRYINDEX, LT_CTX_KEY) == LUA_TUSERDATA)
    C = *(ar_ctx **)lua_touserdata(L, -1);
  lua_pop(L, 1);
  return C;
}

int lt_error(lua_State *L, const char *fname, const char *fmt, ...) {
  char msg[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  luaL_where(L, 1);
  lua_pushfstring(L, "%s: %s", fname, msg);
  lua_concat(L, 2);
  return lua_error(L);
}

/* The closures lt_setfuncs registers for entries with a limit: upvalues 1 and 2 are the
 * module's, so the wrapped function, called directly from here, sees its own; upvalue 3
 * is the entry. One for methods (self not counted), one for functions, so that the hot
 * path reads a single upvalue: this runs on every call (some 60 instructions in all,
 * against 650 for t:dim() and 1700 for a:add(b)), and Lua's calling convention gives a
 * C function no way to learn its arity. */
static int too_many(lua_State *L, const lt_reg *r, const char *prefix, int got) {
  char fname[96];
  snprintf(fname, sizeof fname, "%s%s", prefix, r->name);
  if (r->maxargs == 0) return lt_error(L, fname, "expected no arguments, got %d", got);
  return lt_error(L, fname, "expected at most %d argument%s, got %d", r->maxargs,
                  r->maxargs == 1 ? "" : "s", got);
}
static int checked_method(lua_State *L) {
  const lt_reg *r = lua_touserdata(L, lua_upvalueindex(3));
  int n = lua_gettop(L) - 1;
  if (n > r->maxargs) return too_many(L, r, "Tensor:", n);
  return r->fn(L);
}
static int checked_function(lua_State *L) {
  const lt_reg *r = lua_touserdata(L, lua_upvalueindex(3));
  int n = lua_gettop(L);
  if (n > r->maxargs) return too_many(L, r, "actrun.", n);
  return r->fn(L);
}

void lt_setfuncs(lua_State *L, const lt_reg *r, bool methods, int ctxi, int mti) {
  ctxi = lua_absindex(L, ctxi);
  mti = lua_absindex(L, mti);
  for (; r->name; r++) {
    lua_pushvalue(L, ctxi);
    lua_pushvalue(L, mti);
    if (r->maxargs == LT_VARARGS) {
      lua_pushcclosure(L, r->fn, LT_NUP);
    } else {
      lua_pushlightuserdata(L, (void *)r);
      lua_pushcclosure(L, methods ? checked_method : checked_function, LT_NUP + 1);
    }
    lua_setfield(L, -2, r->name);
  }
}

int lt_core_error(lua_State *L, const char *fname) {
  ar_ctx *C = lt_ctx_from_registry(L);
  return lt_error(L, fname, "%s", C ? ar_errmsg(C) : "error");
}

static const char *describe(lua_State *L, int idx) {
  int t = lua_type(L, idx);
  const ar_tensor *x = lt_peek(L, idx);
  if (x) return x->st ? "a tensor" : "a closed tensor";
  return t == LUA_TNONE ? "no value" : lua_typename(L, t);
}

int lt_argerror(lua_State *L, const char *fname, int arg, const char *name, const char *expected) {
  char buf[64];
  const char *got;
  if (lua_type(L, arg) == LUA_TNUMBER) {
    lua_Number v = lua_tonumber(L, arg);
    if (lua_isinteger(L, arg))
      snprintf(buf, sizeof buf, "%lld", (long long)lua_tointeger(L, arg));
    else if (v != v)
      snprintf(buf, sizeof buf, "nan");
    else
      snprintf(buf, sizeof buf, "%.14g", (double)v);
    got = buf;
  } else {
    got = describe(L, arg);
  }
  if (name)
    return lt_error(L, fname, "argument #%d (%s) expected %s, got %s", arg, name, expected, got);
  return lt_error(L, fname, "argument #%d expected %s, got %s", arg, expected, got);
}

/* ---------- tensors ---------- */

/* A tensor userdata: the ar_tensor first (so lua_touserdata gives it), then a tag that
 * identifies it without fetching and comparing metatables, which cost half of a small
 * op's binding time. The tag is a per-process secret mixed with the userdata's own
 * address: Lua code cannot forge a full userdata, but it can fill a string of any length
 * with any bytes and learn its address (string.format("%p")), and the allocator wrapper
 * below looks at blocks Lua frees, strings included. A secret it cannot read makes the
 * bytes unguessable; the address makes a tag left in freed memory worthless at any other
 * address. */
typedef struct lt_udata {
  ar_tensor t;
  uint64_t tag; /* tag_of(this), 0 once the allocator released it */
} lt_udata;

static _Atomic uint64_t secret;

/* getrandom(2) where it exists; otherwise what varies between processes and runs (time,
 * pid, where the stack and the library were mapped). Chosen once per process, by whichever
 * state opens actrun first: tensors of every state must carry the same one. */
static uint64_t fresh_secret(void) {
  uint64_t s = 0;
#if defined(__linux__) && defined(__has_include)
#if __has_include(<sys/random.h>)
  if (getrandom(&s, sizeof s, GRND_NONBLOCK) != (ssize_t)sizeof s) s = 0;
#endif
#endif
  if (!s) {
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    uintptr_t here = (uintptr_t)&ts, code = (uintptr_t)&fresh_secret;
    s = ((uint64_t)ts.tv_sec * 1000000007u) ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32) ^
        ((uint64_t)here << 17) ^ (uint64_t)code;
    s ^= s >> 33; /* splitmix64's finaliser: every input bit reaches every output bit */
    s *= 0xff51afd7ed558ccdull;
    s ^= s >> 33;
    s *= 0xc4ceb9fe1a85ec53ull;
    s ^= s >> 33;
  }
  return s | 1; /* never 0: a released tensor's tag is 0 */
}

static void secret_init(void) {
  uint64_t none = 0;
  if (atomic_load_explicit(&secret, memory_order_acquire)) return;
  atomic_compare_exchange_strong(&secret, &none, fresh_secret());
}

static inline uint64_t tag_of(const lt_udata *u) {
  return atomic_load_explicit(&secret, memory_order_relaxed) ^ (uint64_t)(uintptr_t)u;
}

/* The one test of "is this a tensor": every metamethod, method and argument check goes
 * through it. A closed tensor passes (its st is NULL). */
static inline ar_tensor *peek(lua_State *L, int idx) {
  lt_udata *u = lua_touserdata(L, idx);
  if (u && lua_rawlen(L, idx) == sizeof *u && u->tag == tag_of(u)) return &u->t;
  return NULL;
}

ar_tensor *lt_peek(lua_State *L, int idx) { return peek(L, idx); }

typedef struct reclaim reclaim;
static reclaim *reclaim_of(lua_State *L);
static int set_reserve(reclaim *W);
static void set_add(reclaim *W, uintptr_t k);

static ar_tensor *new_with_mt(lua_State *L, int mtidx) {
  /* room in the allocator's set of tensor blocks first: adding cannot fail after the
   * userdata exists */
  reclaim *W = reclaim_of(L);
  if (W && !set_reserve(W)) luaL_error(L, "not enough memory");
  lt_udata *u = lua_newuserdatauv(L, sizeof *u, 0);
  memset(&u->t, 0, sizeof u->t);
  u->tag = tag_of(u);
  if (W) set_add(W, (uintptr_t)u);
  lua_pushvalue(L, mtidx);
  lua_setmetatable(L, -2);
  return &u->t;
}

ar_tensor *lt_new(lua_State *L) { return new_with_mt(L, LT_UP_TMT); }

ar_tensor *lt_new_reg(lua_State *L) {
  luaL_getmetatable(L, LT_TENSOR_MT);
  ar_tensor *t = new_with_mt(L, lua_gettop(L));
  lua_remove(L, -2);
  return t;
}

/* ---------- tensors freed by the allocator, not by __gc ----------
 *
 * A finalizer (__gc) makes every small op cost twice: Lua keeps finalizable objects on a
 * separate list, resurrects each dead one for a call into C, and frees its memory only in
 * the next cycle. `c = a + b` on 4 elements spent 60 of its 160 ns there (a userdata with a
 * metatable costs 65 ns to create and collect, one with __gc 123 ns, in stock Lua 5.4).
 * So the state's allocator is wrapped: when Lua frees a block of exactly a tensor
 * userdata's size that holds a tensor, the tensor inside is released right there (pure C:
 * storage and autograd references, no Lua). The tensor metatable then has no __gc. The
 * wrapper learns the block size and the offset of the user memory from one probe
 * allocation; if what it learns does not add up (another Lua build), tensors keep their
 * __gc and nothing else changes.
 *
 * "Holds a tensor" must not be decided by the bytes alone: Lua strings of that block size
 * free through here too, and a script chooses their bytes. So the wrapper keeps the set of
 * tensor userdata it saw created and releases only a member (which leaves the set); the
 * tag (secret ^ address) is checked first, so other blocks of that size cost one compare.
 *
 * The wrapper frees itself when lua_close frees the state's own block, the last
 * allocation Lua releases. */
#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define RECLAIM_DEFINED(p, n) VALGRIND_MAKE_MEM_DEFINED_IF_ADDRESSABLE(p, n)
#endif
#endif
#ifndef RECLAIM_DEFINED
#define RECLAIM_DEFINED(p, n) ((void)0)
#endif

#define RECLAIM_KEY "actrun.reclaim" /* registry: the wrapper, for when another wraps it */

struct reclaim {
  lua_Alloc f; /* the allocator wrapped */
  void *ud;
  size_t block; /* size of a tensor userdata's block, 0 until probed */
  size_t off;   /* where its user memory starts */
  void *lg;     /* the main thread's block: freed last by lua_close */
  void *probe;  /* the newest userdata block while probing */
  size_t probe_size;
  size_t since_full; /* tensor bytes allocated since the last full collection */
  size_t full_base;  /* tensor bytes live after it */
  /* the live tensor userdata: open addressing, linear probing, 0 marks a free slot */
  uintptr_t *set;
  size_t set_cap; /* a power of two, or 0 */
  size_t set_n;
  int set_shift; /* 64 - log2(set_cap) */
};

static void *reclaim_alloc(void *ud, void *ptr, size_t osize, size_t nsize);

/* the wrapper when tensors are reclaimed by it, else NULL (they have __gc) */
static reclaim *reclaim_of(lua_State *L) {
  void *ud;
  if (lua_getallocf(L, &ud) == reclaim_alloc) return ((reclaim *)ud)->block ? ud : NULL;
  /* rare: the host wrapped the allocator after actrun installed its wrapper */
  reclaim *W = NULL;
  if (lua_getfield(L, LUA_REGISTRYINDEX, RECLAIM_KEY) == LUA_TLIGHTUSERDATA) W = lua_touserdata(L, -1);
  lua_pop(L, 1);
  return W && W->block ? W : NULL;
}

static inline size_t set_home(const reclaim *W, uintptr_t k) {
  return (size_t)(((uint64_t)(k >> 4) * 0x9e3779b97f4a7c15ull) >> W->set_shift);
}

/* k must not be there yet, and there must be room (set_reserve) */
static void set_add(reclaim *W, uintptr_t k) {
  size_t m = W->set_cap - 1, i = set_home(W, k);
  while (W->set[i]) i = (i + 1) & m;
  W->set[i] = k;
  W->set_n++;
}

/* room for one more at most half full (short probe sequences); 0 when out of memory */
static int set_reserve(reclaim *W) {
  if ((W->set_n + 1) * 2 <= W->set_cap) return 1;
  size_t cap = W->set_cap ? W->set_cap * 2 : 256;
  uintptr_t *old = W->set, *fresh = calloc(cap, sizeof *fresh);
  if (!fresh) return 0;
  size_t ocap = W->set_cap;
  W->set = fresh;
  W->set_cap = cap;
  W->set_n = 0;
  W->set_shift = 64;
  for (size_t c = cap; c > 1; c >>= 1) W->set_shift--;
  for (size_t i = 0; i < ocap; i++)
    if (old[i]) set_add(W, old[i]);
  free(old);
  return 1;
}

/* Removes k; 0 if it was not there. Deletion shifts the entries after it back, so the
 * set needs no tombstones and never fills up with them. */
static int set_remove(reclaim *W, uintptr_t k) {
  if (!W->set_n) return 0;
  size_t m = W->set_cap - 1, i = set_home(W, k);
  while (W->set[i] != k) {
    if (!W->set[i]) return 0;
    i = (i + 1) & m;
  }
  for (size_t j = (i + 1) & m; W->set[j]; j = (j + 1) & m) {
    size_t h = set_home(W, W->set[j]);
    /* the entry at j may fill the hole at i unless its home lies in (i, j] */
    bool stays = i <= j ? (h > i && h <= j) : (h > i || h <= j);
    if (!stays) {
      W->set[i] = W->set[j];
      i = j;
    }
  }
  W->set[i] = 0;
  W->set_n--;
  return 1;
}

static void *reclaim_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  reclaim *W = ud;
  if (nsize == 0 && ptr) {
    if (osize == W->block) {
      lt_udata *u = (lt_udata *)((char *)ptr + W->off);
      /* a block of this size that is not a tensor may hold unwritten bytes there; the
       * answer does not depend on them (a tensor's are always written), so tell memcheck */
      RECLAIM_DEFINED(&u->tag, sizeof u->tag);
      if (u->tag == tag_of(u) && set_remove(W, (uintptr_t)u)) {
        u->tag = 0;
        ag_handle_release(&u->t);
        ar_release(&u->t);
      }
    } else if (ptr == W->lg) {
      lua_Alloc f = W->f;
      void *fud = W->ud;
      free(W->set);
      free(W);
      return f(fud, ptr, osize, 0);
    }
  }
  return W->f(W->ud, ptr, osize, nsize);
}
/* Installed only for the probe allocation: notes the newest userdata block. */
static void *probe_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  reclaim *W = ud;
  void *q = W->f(W->ud, ptr, osize, nsize);
  if (!ptr && osize == LUA_TUSERDATA) { /* osize: the new object's type */
    W->probe = q;
    W->probe_size = nsize;
  }
  return q;
}

static int probe_userdata(lua_State *L) {
  memset(lua_newuserdatauv(L, sizeof(lt_udata), 0), 0, sizeof(lt_udata));
  return 1;
}

/* Wraps L's allocator once; returns 1 when tensors need no __gc. */
static int reclaim_install(lua_State *L) {
  void *ud;
  if (lua_getallocf(L, &ud) == reclaim_alloc) return ((reclaim *)ud)->block != 0;
  reclaim *W = calloc(1, sizeof *W);
  if (!W) return 0;
  W->f = lua_getallocf(L, &W->ud);
  lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD);
  W->lg = (char *)lua_tothread(L, -1) - LUA_EXTRASPACE;
  lua_pop(L, 1);
  /* the probe: no collection may allocate between Lua's request and our look at it;
   * protected, so that running out of memory here leaves the collector and the
   * allocator as they must be (and tensors with their __gc) */
  int running = lua_gc(L, LUA_GCISRUNNING);
  lua_gc(L, LUA_GCSTOP);
  lua_pushcfunction(L, probe_userdata);
  lua_setallocf(L, probe_alloc, W);
  int ok = lua_pcall(L, 0, 1, 0) == LUA_OK;
  lua_setallocf(L, reclaim_alloc, W);
  if (running) lua_gc(L, LUA_GCRESTART);
  char *p = ok ? lua_touserdata(L, -1) : NULL;
  size_t off = p && W->probe ? (size_t)(p - (char *)W->probe) : 0;
  lua_pop(L, 1);
  if (W->probe && off > 0 && off <= 256 && W->probe_size == off + sizeof(lt_udata)) {
    W->off = off;
    W->block = W->probe_size;
  }
  lua_pushlightuserdata(L, W);
  lua_setfield(L, LUA_REGISTRYINDEX, RECLAIM_KEY);
  return W->block != 0;
}

/* Lua's GC only sees the small userdata; without this it would let gigabytes of dead
 * tensors pile up (Torch7's classic problem). Every KB handed out to a tensor becomes GC
 * debt, so collection keeps pace with tensor memory, not just Lua objects. */
void lt_account(lua_State *L, ar_ctx *C) {
  if (ar_alloc_debt(C) < (64u << 10)) return;
  size_t bytes = ar_take_alloc_debt(C), kb = bytes >> 10;
  if (kb > (1u << 30)) kb = 1u << 30;
  /* The steps alone do not suffice in generational mode: a tensor alive across two minor
   * collections becomes old, and a major collection waits for the Lua heap (a few hundred
   * bytes per tensor) to double. So a full collection runs whenever tensors worth half of
   * what was live after the last one (at least FULL_MIN) have been allocated since. */
  void *ud;
  if (lua_getallocf(L, &ud) == reclaim_alloc) {
    reclaim *W = ud;
    enum { FULL_MIN = 32 << 20 };
    size_t limit = W->full_base / 2 > FULL_MIN ? W->full_base / 2 : FULL_MIN;
    if ((W->since_full += bytes) > limit && lua_gc(L, LUA_GCISRUNNING)) {
      lua_gc(L, LUA_GCCOLLECT);
      W->since_full = 0;
      W->full_base = ar_live_bytes(C);
      return;
    }
  }
  lua_gc(L, LUA_GCSTEP, (int)kb);
}

ar_tensor *lt_totensor(lua_State *L, int idx) {
  ar_tensor *t = peek(L, idx);
  return t && t->st ? t : NULL;
}

ar_tensor *lt_test(lua_State *L, int idx) { return lt_totensor(L, idx); }

ar_tensor *lt_check(lua_State *L, int idx, const char *fname, int arg, const char *name) {
  ar_tensor *t = peek(L, idx);
  if (t) {
    if (!t->st) lt_error(L, fname, "argument #%d%s%s%s is a closed tensor", arg,
                         name ? " (" : "", name ? name : "", name ? ")" : "");
    return t;
  }
  lt_argerror(L, fname, arg, name, "a tensor");
  return NULL;
}

lua_Integer lt_checkint(lua_State *L, int idx, const char *fname, int arg, const char *name) {
  int isnum = 0;
  lua_Integer v = lua_tointegerx(L, idx, &isnum);
  if (!isnum || lua_type(L, idx) != LUA_TNUMBER) lt_argerror(L, fname, arg, name, "an integer");
  return v;
}

lua_Integer lt_optint(lua_State *L, int idx, lua_Integer def, const char *fname, int arg,
                      const char *name) {
  return lua_isnoneornil(L, idx) ? def : lt_checkint(L, idx, fname, arg, name);
}

double lt_checknum(lua_State *L, int idx, const char *fname, int arg, const char *name) {
  if (lua_type(L, idx) != LUA_TNUMBER) lt_argerror(L, fname, arg, name, "a number");
  return (double)lua_tonumber(L, idx);
}

int lt_checkdim(lua_State *L, int idx, int ndim, const char *fname, int arg) {
  lua_Integer d = lt_checkint(L, idx, fname, arg, "dim");
  if (d >= 1 && d <= ndim) return (int)d - 1;
  if (d < 0 && d >= -ndim) return (int)(ndim + d);
  if (ndim == 0)
    return lt_error(L, fname, "argument #%d (dim) out of range: got %lld, the tensor has no dimensions",
                    arg, (long long)d);
  return lt_error(L, fname, "argument #%d (dim) out of range: got %lld, expected 1..%d or -%d..-1",
                  arg, (long long)d, ndim, ndim);
}

static int64_t shape_entry(lua_State *L, int idx, const char *fname, int arg, bool allow_neg1,
                           int pos) {
  int isnum = 0;
  lua_Integer v = lua_tointegerx(L, idx, &isnum);
  if (!isnum || lua_type(L, idx) != LUA_TNUMBER) {
    if (pos)
      lt_error(L, fname, "argument #%d (shape) entry %d expected an integer size", arg, pos);
    lt_argerror(L, fname, arg, "size", "an integer size");
  }
  if (v < 0 && !(allow_neg1 && v == -1)) {
    if (pos)
      lt_error(L, fname, "argument #%d (shape) entry %d expected a non-negative size, got %lld",
               arg, pos, (long long)v);
    lt_error(L, fname, "argument #%d (size) expected a non-negative size, got %lld", arg,
             (long long)v);
  }
  return (int64_t)v;
}

int lt_shape_args(lua_State *L, int first, int64_t *shape, const char *fname, bool allow_neg1) {
  int top = lua_gettop(L);
  if (lua_type(L, first) == LUA_TTABLE) {
    if (top > first && !lua_isnil(L, first + 1))
      lt_error(L, fname, "give the shape either as numbers or as one table, not both");
    lua_Integer n = luaL_len(L, first);
    if (n > AR_MAXDIM)
      lt_error(L, fname, "argument #%d (shape) has %lld dimensions, at most %d allowed", first,
               (long long)n, AR_MAXDIM);
    for (int i = 1; i <= n; i++) {
      lua_geti(L, first, i);
      shape[i - 1] = shape_entry(L, -1, fname, first, allow_neg1, i);
      lua_pop(L, 1);
    }
    return (int)n;
  }
  int n = 0;
  for (int i = first; i <= top; i++) {
    if (lua_isnil(L, i) && i == top) break;
    if (n == AR_MAXDIM)
      lt_error(L, fname, "too many sizes: a tensor has at most %d dimensions", AR_MAXDIM);
    shape[n++] = shape_entry(L, i, fname, i, allow_neg1, 0);
  }
  return n;
}

/* ---------- embedded Lua modules ---------- */

static const struct ar_lua_source *find_source(const char *module) {
  for (const struct ar_lua_source *s = ar_lua_sources; s->module; s++)
    if (strcmp(s->module, module) == 0) return s;
  return NULL;
}

/* package.preload loader: the source tree named by ACTRUN_LUA_DIR wins (development),
 * else the copy compiled into the library. */
static int load_embedded(lua_State *L) {
  const char *module = luaL_checkstring(L, 1);
  const struct ar_lua_source *s = find_source(module);
  if (!s) return luaL_error(L, "actrun: no embedded module '%s'", module);
  const char *dir = getenv("ACTRUN_LUA_DIR");
  int rc;
  if (dir && *dir) {
    const char *base = strrchr(s->file, '/');
    lua_pushfstring(L, "%s/%s", dir, base ? base + 1 : s->file);
    rc = actrun_load_file(L, lua_tostring(L, -1)); /* text only, as every chunk actrun loads */
    lua_remove(L, -2);
  } else {
    lua_pushfstring(L, "@%s", s->file);
    rc = luaL_loadbuffer(L, s->code, s->len, lua_tostring(L, -1));
    lua_remove(L, -2);
  }
  if (rc != LUA_OK) return lua_error(L);
  lua_pushvalue(L, 1);
  lua_call(L, 1, 1);
  return 1;
}

/* actrun.nn, actrun.act ...: loaded on first access through require. */
static int module_index(lua_State *L) {
  const char *key = lua_tostring(L, 2);
  if (!key || lua_type(L, 2) != LUA_TSTRING) return 0;
  lua_pushfstring(L, "actrun.%s", key);
  const char *name = lua_tostring(L, -1);
  if (!find_source(name)) return 0;
  lua_getglobal(L, "require");
  lua_pushvalue(L, -2);
  lua_call(L, 1, 1);
  lua_pushvalue(L, 2);
  lua_pushvalue(L, -2);
  lua_rawset(L, 1);
  return 1;
}

/* Reachable from Lua only through the debug library; still, only the holder itself. */
static int ctx_gc(lua_State *L) {
  lua_getfield(L, LUA_REGISTRYINDEX, LT_CTX_KEY);
  if (lua_type(L, 1) != LUA_TUSERDATA || !lua_rawequal(L, 1, -1))
    return lt_argerror(L, "actrun.context:__gc", 1, "self", "the actrun context");
  ar_ctx **p = lua_touserdata(L, 1);
  if (*p) ar_ctx_release(*p);
  *p = NULL;
  return 0;
}

ACTRUN_API int luaopen_actrun(lua_State *L) {
  /* one context per Lua state, shared by every C function as upvalue 1 */
  ar_ctx **holder;
  secret_init(); /* before the first tensor */
  if (lua_getfield(L, LUA_REGISTRYINDEX, LT_CTX_KEY) != LUA_TUSERDATA) {
    lua_pop(L, 1);
    holder = lua_newuserdatauv(L, sizeof *holder, 0);
    *holder = NULL;
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, ctx_gc);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, -2);
    *holder = ar_ctx_new();
    if (!*holder) return luaL_error(L, "actrun: not enough memory for the context");
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, LT_CTX_KEY);
  }
  int ctxi = lua_gettop(L);

  /* the tensor metatable (upvalue 2) */
  int fresh = luaL_newmetatable(L, LT_TENSOR_MT);
  int mti = lua_gettop(L);

  lua_newtable(L); /* module */
  int modi = lua_gettop(L);

  lt_open_tensor(L, ctxi, mti);
  lt_register_functions(L, modi, ctxi, mti);
  lt_open_act(L, modi, ctxi, mti);
  lt_open_optim(L, modi, ctxi, mti);
  lt_open_loss(L, modi, ctxi, mti);
  lt_open_linalg(L, modi, ctxi, mti);
  lt_open_nn(L, modi, ctxi, mti);
  lt_open_data(L, ctxi, mti);
  lt_open_plot(L, ctxi, mti);
  lt_open_dist(L, ctxi, mti);
  /* tensors released by the allocator need no finalizer (before any tensor exists) */
  if (fresh && reclaim_install(L)) {
    lua_pushnil(L);
    lua_setfield(L, mti, "__gc");
  }

  lua_pushstring(L, ACTRUN_VERSION);
  lua_setfield(L, modi, "version");

  /* preload every embedded module; submodules load lazily as fields */
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  for (const struct ar_lua_source *s = ar_lua_sources; s->module; s++) {
    if (strcmp(s->module, "actrun") == 0) continue;
    lua_pushcfunction(L, load_embedded);
    lua_setfield(L, -2, s->module);
  }
  lua_pop(L, 1);
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, module_index);
  lua_setfield(L, -2, "__index");
  lua_setmetatable(L, modi);

  /* lua/actrun/init.lua, when present, extends the C module in Lua */
  const struct ar_lua_source *init = find_source("actrun");
  if (init) {
    lua_pushcfunction(L, load_embedded);
    lua_pushstring(L, "actrun");
    lua_call(L, 1, 1);
    if (lua_isfunction(L, -1)) {
      lua_pushvalue(L, modi);
      lua_call(L, 1, 0);
    } else {
      lua_pop(L, 1);
    }
  }
  lua_pushvalue(L, modi);
  return 1;
}

/* ---------- host API: the strided copy behind actrun_get_tensor (src/lua/embed.c) ---------- */

int lt_copy_out(lua_State *L, int idx, float *out, size_t capacity, int *ndim, int64_t *shape) {
  ar_ctx *C = lt_ctx_from_registry(L);
  ar_tensor *t = lt_totensor(L, idx);
  if (!C) return AR_EARG;
  if (!t) return ar_seterr(C, AR_EARG, "not a tensor");
  int64_t n = ar_numel(t);
  if ((size_t)n > capacity)
    return ar_seterr(C, AR_ERANGE, "the tensor has %lld elements, capacity is %zu",
                     (long long)n, capacity);
  if (ndim) *ndim = t->ndim;
  if (shape) memcpy(shape, t->shape, sizeof(int64_t) * (size_t)t->ndim);
  if (n == 0) return AR_OK;
  ar_tensor dst;
  memset(&dst, 0, sizeof dst);
  /* wrap the caller's buffer as a borrowed storage so the strided copy writes into it */
  ar_storage borrowed = {out, (size_t)n * sizeof(float), (size_t)n * sizeof(float), 2, C, 0};
  dst.st = &borrowed;
  dst.ndim = t->ndim;
  int64_t s = 1;
  for (int i = t->ndim - 1; i >= 0; i--) {
    dst.shape[i] = t->shape[i];
    dst.stride[i] = s;
    s *= t->shape[i];
  }
  return ar_copy_(C, &dst, t);
}

void lt_unwrap_alloc(lua_Alloc *f, void **ud) {
  if (*f != reclaim_alloc) return;
  reclaim *W = *ud;
  *f = W->f;
  *ud = W->ud;
}
