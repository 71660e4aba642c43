/* The C half of actrun.dist: MPI's collectives on tensors, tables of numbers and byte
 * strings. Registered as the module "actrun.dist_c"; lua/actrun/dist.lua builds
 * actrun.dist on it (row serialisation, help).
 *
 * MPI is initialised when the library is opened (luaopen_actrun: the actrun binary, every
 * actrun_new host and `require "actrun"`) and only when the process was started by an MPI
 * launcher (mpirun, mpiexec, srun: OMPI_COMM_WORLD_SIZE, PMIX_RANK, PMI_RANK or PMI_SIZE in
 * the environment; ACTRUN_MPI=0 turns it off). Everywhere else, and in a build without MPI
 * (ACTRUN_HAVE_MPI undefined), the same functions work as one rank: rank 0 of size 1.
 * Initialising when opened rather than on first use matters: MPI_Init is collective in
 * Open MPI (a fence over every process), so it must not depend on which rank calls what.
 * A host that initialised MPI itself keeps it: actrun then neither initialises nor
 * finalises. MPI_Finalize runs once per process, from an atexit handler (for the Lua C
 * module loaded by a stock lua5.4, glibc runs it when the module is unloaded at lua_close).
 * Threads: MPI_THREAD_SERIALIZED is requested; collectives from two interpreters at once
 * are not allowed (they would be in MPI too). */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lua/binding.h"

#ifdef ACTRUN_HAVE_MPI
#include <mpi.h>
#endif

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static int g_active;      /* MPI is initialised and in use */
static int g_rank, g_size = 1;
#ifdef ACTRUN_HAVE_MPI
static int g_owner;       /* actrun called MPI_Init, so it calls MPI_Finalize */
#endif
static char g_initerr[256];

static int launched(void) {
  const char *off = getenv("ACTRUN_MPI");
  if (off && strcmp(off, "0") == 0) return 0;
  static const char *vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"};
  for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
    if (getenv(vars[i])) return 1;
  return 0;
}

#ifdef ACTRUN_HAVE_MPI
static void finalize_at_exit(void) {
  int fin = 0;
  if (g_owner && MPI_Finalized(&fin) == MPI_SUCCESS && !fin) MPI_Finalize();
  g_active = 0;
}
#endif

static void dist_init(void) {
#ifdef ACTRUN_HAVE_MPI
  int already = 0;
  MPI_Initialized(&already);
  if (!already) {
    if (!launched()) return;
    int provided = 0;
    int rc = MPI_Init_thread(NULL, NULL, MPI_THREAD_SERIALIZED, &provided);
    if (rc != MPI_SUCCESS) {
      snprintf(g_initerr, sizeof g_initerr, "MPI_Init_thread failed (code %d)", rc);
      return;
    }
    g_owner = 1;
    atexit(finalize_at_exit);
  } else {
    int fin = 0;
    MPI_Finalized(&fin);
    if (fin) return;
  }
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &g_size);
  g_active = 1;
#else
  /* N copies of a one-rank run would each do (and write) everything: say so once */
  if (launched())
    fprintf(stderr, "actrun: started by an MPI launcher, but this build has no MPI "
                    "(ACTRUN_MPI=OFF): every process runs as rank 0 of 1\n");
#endif
}

/* Called when the library is opened (module.c). */
void lt_dist_init(void) { pthread_once(&g_once, dist_init); }

#ifdef ACTRUN_HAVE_MPI
/* Raises "fname: MPI error: <MPI's message>" unless rc is MPI_SUCCESS. */
static void check_mpi(lua_State *L, const char *fname, int rc) {
  if (rc == MPI_SUCCESS) return;
  char msg[MPI_MAX_ERROR_STRING];
  int len = 0;
  if (MPI_Error_string(rc, msg, &len) != MPI_SUCCESS) len = 0;
  msg[len < MPI_MAX_ERROR_STRING ? len : MPI_MAX_ERROR_STRING - 1] = '\0';
  lt_error(L, fname, "MPI error (code %d): %s", rc, len ? msg : "unknown error");
}

/* MPI counts are int: larger buffers go in slices. */
#define CHUNK ((int64_t)1 << 30)
#endif

static int f_rank(lua_State *L) {
  lua_pushinteger(L, g_rank);
  return 1;
}

static int f_size(lua_State *L) {
  lua_pushinteger(L, g_size);
  return 1;
}

/* info() -> {mpi=built with MPI, active=MPI in use, rank=, size=, library=, host=} */
static int f_info(lua_State *L) {
  lua_createtable(L, 0, 6);
#ifdef ACTRUN_HAVE_MPI
  lua_pushboolean(L, 1);
#else
  lua_pushboolean(L, 0);
#endif
  lua_setfield(L, -2, "mpi");
  lua_pushboolean(L, g_active);
  lua_setfield(L, -2, "active");
  lua_pushinteger(L, g_rank);
  lua_setfield(L, -2, "rank");
  lua_pushinteger(L, g_size);
  lua_setfield(L, -2, "size");
#ifdef ACTRUN_HAVE_MPI
  char lib[MPI_MAX_LIBRARY_VERSION_STRING];
  int len = 0;
  if (MPI_Get_library_version(lib, &len) == MPI_SUCCESS && len > 0) {
    while (len > 0 && (lib[len - 1] == '\n' || lib[len - 1] == '\0' || lib[len - 1] == ' '))
      len--;
    char *nl = memchr(lib, '\n', (size_t)len); /* first line only */
    lua_pushlstring(L, lib, nl ? (size_t)(nl - lib) : (size_t)len);
    lua_setfield(L, -2, "library");
  }
  if (g_active) {
    char host[MPI_MAX_PROCESSOR_NAME];
    if (MPI_Get_processor_name(host, &len) == MPI_SUCCESS) {
      lua_pushlstring(L, host, (size_t)len);
      lua_setfield(L, -2, "host");
    }
  }
#endif
  if (g_initerr[0]) {
    lua_pushstring(L, g_initerr);
    lua_setfield(L, -2, "error");
  }
  return 1;
}

static const char *const OPS[] = {"sum", "mean", "max", "min", NULL};

/* allreduce(t [, op]) -> t: in place on a contiguous float tensor or on a Lua array of
 * numbers (combined as doubles). */
static int f_allreduce(lua_State *L) {
  const char *fn = "actrun.dist.allreduce";
  const char *opname = "sum";
  if (!lua_isnoneornil(L, 2)) {
    if (lua_type(L, 2) != LUA_TSTRING)
      lt_argerror(L, fn, 2, "op", "\"sum\", \"mean\", \"max\" or \"min\"");
    opname = lua_tostring(L, 2);
  }
  int op = -1;
  for (int i = 0; OPS[i]; i++)
    if (strcmp(opname, OPS[i]) == 0) op = i;
  if (op < 0)
    lt_error(L, fn, "argument #2 (op) expected \"sum\", \"mean\", \"max\" or \"min\", got \"%s\"",
             opname);
  ar_tensor *t = lt_test(L, 1);
  if (t) {
    if (!ar_is_contiguous(t))
      lt_error(L, fn, "argument #1 (t) is a non-contiguous view; allreduce works in place on "
               "contiguous tensors (reduce t:contiguous() and copy it back)");
    int64_t n = ar_numel(t);
    float *d = n ? ar_data(t) : NULL;
#ifdef ACTRUN_HAVE_MPI
    if (g_active && g_size > 1) {
      MPI_Op mop = op == 2 ? MPI_MAX : op == 3 ? MPI_MIN : MPI_SUM;
      for (int64_t i = 0; i < n; i += CHUNK) {
        int c = (int)(n - i < CHUNK ? n - i : CHUNK);
        check_mpi(L, fn, MPI_Allreduce(MPI_IN_PLACE, d + i, c, MPI_FLOAT, mop, MPI_COMM_WORLD));
      }
    }
#endif
    if (op == 1 && g_size > 1)
      for (int64_t i = 0; i < n; i++) d[i] /= (float)g_size;
    lua_settop(L, 1);
    return 1;
  }
  if (!lua_istable(L, 1)) lt_argerror(L, fn, 1, "t", "a tensor or an array of numbers");
  lua_Integer n = luaL_len(L, 1);
  double *v = lua_newuserdatauv(L, (size_t)(n > 0 ? n : 1) * sizeof(double), 0);
  for (lua_Integer i = 1; i <= n; i++) {
    int ty = lua_geti(L, 1, i);
    if (ty != LUA_TNUMBER)
      lt_error(L, fn, "argument #1 (t) entry %lld is %s, expected a number", (long long)i,
               lua_typename(L, ty));
    v[i - 1] = lua_tonumber(L, -1);
    lua_pop(L, 1);
  }
#ifdef ACTRUN_HAVE_MPI
  if (g_active && g_size > 1 && n > 0) {
    MPI_Op mop = op == 2 ? MPI_MAX : op == 3 ? MPI_MIN : MPI_SUM;
    for (lua_Integer i = 0; i < n; i += CHUNK) {
      int c = (int)(n - i < CHUNK ? n - i : CHUNK);
      check_mpi(L, fn, MPI_Allreduce(MPI_IN_PLACE, v + i, c, MPI_DOUBLE, mop, MPI_COMM_WORLD));
    }
  }
#endif
  for (lua_Integer i = 1; i <= n; i++) {
    double x = v[i - 1];
    if (op == 1) x /= g_size;
    lua_pushnumber(L, x);
    lua_seti(L, 1, i);
  }
  lua_settop(L, 1);
  return 1;
}

static int check_root(lua_State *L, const char *fn, int arg) {
  lua_Integer root = lt_optint(L, arg, 0, fn, arg, "root");
  if (root < 0 || root >= g_size)
    lt_error(L, fn, "argument #%d (root) is %lld, expected a rank in 0..%d", arg,
             (long long)root, g_size - 1);
  return (int)root;
}

/* broadcast(t [, root=0]) -> t: rank root's values into t on every rank, in place. */
static int f_broadcast(lua_State *L) {
  const char *fn = "actrun.dist.broadcast";
  ar_tensor *t = lt_check(L, 1, fn, 1, "t");
  int root = check_root(L, fn, 2);
  if (!ar_is_contiguous(t))
    lt_error(L, fn, "argument #1 (t) is a non-contiguous view; broadcast works in place on "
             "contiguous tensors");
#ifdef ACTRUN_HAVE_MPI
  int64_t n = ar_numel(t);
  if (g_active && g_size > 1 && n > 0) {
    float *d = ar_data(t);
    for (int64_t i = 0; i < n; i += CHUNK) {
      int c = (int)(n - i < CHUNK ? n - i : CHUNK);
      check_mpi(L, fn, MPI_Bcast(d + i, c, MPI_FLOAT, root, MPI_COMM_WORLD));
    }
  }
#else
  (void)root;
#endif
  lua_settop(L, 1);
  return 1;
}

static int f_barrier(lua_State *L) {
#ifdef ACTRUN_HAVE_MPI
  if (g_active && g_size > 1) check_mpi(L, "actrun.dist.barrier", MPI_Barrier(MPI_COMM_WORLD));
#endif
  return 0;
}

#ifdef ACTRUN_HAVE_MPI
/* Pushes the list of the strings in buf (counts[i] bytes each, rank order). */
static void push_parts(lua_State *L, const char *buf, const int *counts, const int *displs) {
  lua_createtable(L, g_size, 0);
  for (int r = 0; r < g_size; r++) {
    lua_pushlstring(L, buf + displs[r], (size_t)counts[r]);
    lua_rawseti(L, -2, r + 1);
  }
}

/* counts/displs (2 * size ints) and the receive buffer as one userdata on the stack;
 * counts[] must already hold the lengths. NULL when the total is over INT_MAX. */
static char *recv_layout(lua_State *L, const char *fn, int *counts, int *displs) {
  int64_t total = 0;
  for (int r = 0; r < g_size; r++) {
    displs[r] = (int)total;
    total += counts[r];
    if (total > 0x7fffffff)
      lt_error(L, fn, "the gathered data is over 2 GiB (MPI counts are int)");
  }
  return lua_newuserdatauv(L, (size_t)(total > 0 ? total : 1), 0);
}
#endif

/* gather_bytes(s [, root=0]) -> list of every rank's string on root, nil elsewhere. */
static int f_gather_bytes(lua_State *L) {
  const char *fn = "actrun.dist.gather_bytes";
  size_t len = 0;
  const char *s = luaL_checklstring(L, 1, &len);
  int root = check_root(L, fn, 2);
  if (len > 0x7fffffff) lt_error(L, fn, "argument #1 is over 2 GiB");
#ifdef ACTRUN_HAVE_MPI
  if (g_active && g_size > 1) {
    int mine = (int)len;
    int *cd = lua_newuserdatauv(L, sizeof(int) * 2 * (size_t)g_size, 0);
    int *counts = cd, *displs = cd + g_size;
    check_mpi(L, fn, MPI_Gather(&mine, 1, MPI_INT, counts, 1, MPI_INT, root, MPI_COMM_WORLD));
    char *buf = NULL;
    if (g_rank == root) buf = recv_layout(L, fn, counts, displs);
    check_mpi(L, fn, MPI_Gatherv(s, mine, MPI_CHAR, buf, counts, displs, MPI_CHAR, root,
                                 MPI_COMM_WORLD));
    if (g_rank != root) {
      lua_pushnil(L);
      return 1;
    }
    push_parts(L, buf, counts, displs);
    return 1;
  }
#endif
  (void)root;
  (void)s;
  lua_createtable(L, 1, 0);
  lua_pushvalue(L, 1);
  lua_rawseti(L, -2, 1);
  return 1;
}

/* allgather_bytes(s) -> list of every rank's string, on every rank. */
static int f_allgather_bytes(lua_State *L) {
  const char *fn = "actrun.dist.allgather_bytes";
  size_t len = 0;
  const char *s = luaL_checklstring(L, 1, &len);
  if (len > 0x7fffffff) lt_error(L, fn, "argument #1 is over 2 GiB");
#ifdef ACTRUN_HAVE_MPI
  if (g_active && g_size > 1) {
    int mine = (int)len;
    int *cd = lua_newuserdatauv(L, sizeof(int) * 2 * (size_t)g_size, 0);
    int *counts = cd, *displs = cd + g_size;
    check_mpi(L, fn, MPI_Allgather(&mine, 1, MPI_INT, counts, 1, MPI_INT, MPI_COMM_WORLD));
    char *buf = recv_layout(L, fn, counts, displs);
    check_mpi(L, fn, MPI_Allgatherv(s, mine, MPI_CHAR, buf, counts, displs, MPI_CHAR,
                                    MPI_COMM_WORLD));
    push_parts(L, buf, counts, displs);
    return 1;
  }
#endif
  (void)s;
  lua_createtable(L, 1, 0);
  lua_pushvalue(L, 1);
  lua_rawseti(L, -2, 1);
  return 1;
}

/* broadcast_bytes(s, root) -> root's string on every rank (s is ignored elsewhere). */
static int f_broadcast_bytes(lua_State *L) {
  const char *fn = "actrun.dist.broadcast_bytes";
  int root = check_root(L, fn, 2);
#ifdef ACTRUN_HAVE_MPI
  if (g_active && g_size > 1) {
    size_t len = 0;
    const char *s = g_rank == root ? luaL_checklstring(L, 1, &len) : NULL;
    if (len > 0x7fffffff) lt_error(L, fn, "argument #1 is over 2 GiB");
    int n = (int)len;
    check_mpi(L, fn, MPI_Bcast(&n, 1, MPI_INT, root, MPI_COMM_WORLD));
    char *buf = lua_newuserdatauv(L, (size_t)(n > 0 ? n : 1), 0);
    if (g_rank == root) memcpy(buf, s, (size_t)n);
    if (n > 0) check_mpi(L, fn, MPI_Bcast(buf, n, MPI_CHAR, root, MPI_COMM_WORLD));
    lua_pushlstring(L, buf, (size_t)n);
    return 1;
  }
#endif
  (void)root;
  luaL_checkstring(L, 1);
  lua_settop(L, 1);
  return 1;
}

/* abort([code=1]): ends every rank (MPI_Abort); without MPI, exit(code). */
static int f_abort(lua_State *L) {
  lua_Integer code = lt_optint(L, 1, 1, "actrun.dist.abort", 1, "code");
  fflush(NULL);
#ifdef ACTRUN_HAVE_MPI
  if (g_active) MPI_Abort(MPI_COMM_WORLD, (int)code);
#endif
  exit((int)code);
  return 0;
}

static const luaL_Reg functions[] = {
    {"rank", f_rank},
    {"size", f_size},
    {"info", f_info},
    {"allreduce", f_allreduce},
    {"broadcast", f_broadcast},
    {"barrier", f_barrier},
    {"gather_bytes", f_gather_bytes},
    {"allgather_bytes", f_allgather_bytes},
    {"broadcast_bytes", f_broadcast_bytes},
    {"abort", f_abort},
    {NULL, NULL},
};

void lt_open_dist(lua_State *L, int ctxi, int mti) {
  lt_dist_init();
  lua_createtable(L, 0, 12);
  lua_pushvalue(L, ctxi);
  lua_pushvalue(L, mti);
  luaL_setfuncs(L, functions, LT_NUP);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_pushvalue(L, -2);
  lua_setfield(L, -2, "actrun.dist_c");
  lua_pop(L, 2);
}
