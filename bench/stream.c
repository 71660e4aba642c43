/* Memory bandwidth: a STREAM-like reference (copy, scale, add, triad, and a read-only
 * sum, on 64 MiB float arrays, plain C loops on 1 and 2 pthreads) and the same traffic
 * through actrun, at the same thread count, in the same process:
 *
 *   core.add_new       ar_binary(AR_ADD) into a fresh output, released after: c = a + b as
 *                      users write it (the buffer comes back from the storage cache)
 *   core.add_inplace   ar_binary_(AR_ADD): a:add_(b)
 *   core.clamp_new     ar_clamp(0, inf) into a fresh output (relu)
 *   core.sum           ar_reduce(AR_SUM) over everything
 *   core.add_new_cold  ar_binary(AR_ADD) with the cache emptied first: a fresh buffer from
 *                      the OS (malloc and page faults)
 *   lua.*              the same through the Lua binding (`c = a + b`, `c = a:clamp(0)`,
 *                      `s = a:sum()` run by an embedded interpreter, timed in Lua)
 *
 * Bytes are counted as STREAM and PyTorch do: copy/scale/clamp 8 per element (1 read,
 * 1 write), add/triad 12 (2 reads, 1 write), sum/read 4 (1 read); write-allocate traffic
 * is not counted. Every operation runs once per round, `--reps` rounds (default 20) after
 * two warm-up rounds, the order rotated every round so none always runs first; the median
 * time is reported. ".frac" is the bandwidth as a fraction of the triad measured in the
 * same process at the same thread count; ".frac_add" of the plain C add (c = a + b).
 *
 * Usage: stream [--n ELEMENTS] [--reps N] [--threads MAX]
 */
#define _GNU_SOURCE
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <actrun.h>

#include "bench_util.h"
#include "core/core.h"

#define MAXT 8

#define MAXREPS 256

typedef enum { K_INIT, K_COPY, K_SCALE, K_ADD, K_TRIAD, K_READ, K_QUIT } kernel;

typedef struct team team;
typedef struct {
  team *T;
  int id;
} member;

struct team {
  int nt;
  pthread_barrier_t go, done;
  kernel k;
  float *a, *b, *c;
  int64_t n;
  float s;
  float partial[MAXT];
  pthread_t tid[MAXT];
  member m[MAXT];
};

static void k_copy(float *restrict a, const float *restrict b, int64_t lo, int64_t hi)
{
  for (int64_t i = lo; i < hi; i++) a[i] = b[i];
}
static void k_scale(float *restrict a, const float *restrict b, float s, int64_t lo,
                    int64_t hi)
{
  for (int64_t i = lo; i < hi; i++) a[i] = s * b[i];
}
static void k_add(float *restrict a, const float *restrict b, const float *restrict c,
                  int64_t lo, int64_t hi)
{
  for (int64_t i = lo; i < hi; i++) a[i] = b[i] + c[i];
}
static void k_triad(float *restrict a, const float *restrict b, const float *restrict c,
                    float s, int64_t lo, int64_t hi)
{
  for (int64_t i = lo; i < hi; i++) a[i] = b[i] + s * c[i];
}
/* read-only reference for the sum: 16 float lanes so the compiler vectorises it */
static float k_read(const float *restrict b, int64_t lo, int64_t hi)
{
  float acc[16] = {0};
  int64_t i = lo;
  for (; i + 16 <= hi; i += 16)
    for (int j = 0; j < 16; j++) acc[j] += b[i + j];
  for (; i < hi; i++) acc[0] += b[i];
  float s = 0;
  for (int j = 0; j < 16; j++) s += acc[j];
  return s;
}

static void run_chunk(team *T, int id)
{
  /* chunks of whole cache lines (16 floats) so threads never share a line */
  int64_t lines = (T->n + 15) / 16;
  int64_t lo = lines * id / T->nt * 16, hi = lines * (id + 1) / T->nt * 16;
  if (hi > T->n) hi = T->n;
  if (lo > hi) lo = hi;
  switch (T->k) {
  case K_INIT:
    for (int64_t i = lo; i < hi; i++) T->a[i] = 1.0f, T->b[i] = 2.0f, T->c[i] = 0.5f;
    break;
  case K_COPY: k_copy(T->c, T->a, lo, hi); break;
  case K_SCALE: k_scale(T->b, T->c, T->s, lo, hi); break;
  case K_ADD: k_add(T->c, T->a, T->b, lo, hi); break;
  case K_TRIAD: k_triad(T->a, T->b, T->c, T->s, lo, hi); break;
  case K_READ: T->partial[id] = k_read(T->a, lo, hi); break;
  case K_QUIT: break;
  }
}

static void *worker(void *p)
{
  member *m = p;
  team *T = m->T;
  for (;;) {
    pthread_barrier_wait(&T->go);
    if (T->k == K_QUIT) break;
    run_chunk(T, m->id);
    pthread_barrier_wait(&T->done);
  }
  return NULL;
}

static void team_run(team *T, kernel k)
{
  T->k = k;
  if (T->nt == 1) {
    run_chunk(T, 0);
    return;
  }
  pthread_barrier_wait(&T->go);
  run_chunk(T, 0);
  pthread_barrier_wait(&T->done);
}

static void team_start(team *T, int nt, float *a, float *b, float *c, int64_t n)
{
  T->nt = nt;
  T->a = a, T->b = b, T->c = c, T->n = n;
  T->s = 0.5f; /* keeps the values bounded over many rounds */
  if (nt == 1) return;
  pthread_barrier_init(&T->go, NULL, (unsigned)nt);
  pthread_barrier_init(&T->done, NULL, (unsigned)nt);
  for (int i = 1; i < nt; i++) {
    T->m[i].T = T;
    T->m[i].id = i;
    if (pthread_create(&T->tid[i], NULL, worker, &T->m[i]) != 0) {
      fprintf(stderr, "stream: cannot start thread %d\n", i);
      exit(1);
    }
  }
}

static void team_stop(team *T)
{
  if (T->nt == 1) return;
  T->k = K_QUIT;
  pthread_barrier_wait(&T->go);
  for (int i = 1; i < T->nt; i++) pthread_join(T->tid[i], NULL);
  pthread_barrier_destroy(&T->go);
  pthread_barrier_destroy(&T->done);
}

static void die_core(ar_ctx *C, const char *what)
{
  fprintf(stderr, "stream: %s failed: %s\n", what, ar_errmsg(C));
  exit(1);
}

/* ---------- the measured operations ---------- */

typedef struct {
  team *T;
  ar_ctx *C;
  ar_tensor *A, *B;
  actrun *L; /* an interpreter holding a, b of the same size */
  double checksum;
} env;

typedef double (*op_fn)(env *E);

static double raw(env *E, kernel k)
{
  double t0 = bench_now();
  team_run(E->T, k);
  double dt = bench_now() - t0;
  if (k == K_READ)
    for (int j = 0; j < E->T->nt; j++) E->checksum += E->T->partial[j];
  return dt;
}
static double op_copy(env *E) { return raw(E, K_COPY); }
static double op_scale(env *E) { return raw(E, K_SCALE); }
static double op_add(env *E) { return raw(E, K_ADD); }
static double op_triad(env *E) { return raw(E, K_TRIAD); }
static double op_read(env *E) { return raw(E, K_READ); }

/* c = a + b: a new storage, and the previous result released (back to the cache) */
static double op_core_add_new(env *E)
{
  ar_tensor out;
  double t0 = bench_now();
  if (ar_binary(E->C, AR_ADD, &out, E->A, E->B)) die_core(E->C, "ar_binary");
  ar_release(&out);
  return bench_now() - t0;
}
static double op_core_add_inplace(env *E)
{
  double t0 = bench_now();
  if (ar_binary_(E->C, AR_ADD, E->A, E->B)) die_core(E->C, "ar_binary_");
  return bench_now() - t0; /* a grows by 1 per round: harmless */
}
static double op_core_clamp_new(env *E)
{
  ar_tensor out;
  double t0 = bench_now();
  if (ar_clamp(E->C, &out, E->A, 0.0f, INFINITY)) die_core(E->C, "ar_clamp");
  ar_release(&out);
  return bench_now() - t0;
}
static double op_core_sum(env *E)
{
  ar_tensor out;
  double t0 = bench_now();
  if (ar_reduce(E->C, AR_SUM, &out, E->A, -1, false, 2.0, 0)) die_core(E->C, "ar_reduce");
  double dt = bench_now() - t0;
  E->checksum += ar_data(&out)[0];
  ar_release(&out);
  return dt;
}
/* the same add when the cache holds no buffer: malloc and page faults of a new buffer
 * (released into the cache afterwards, untimed, so the other operations stay warm) */
static double op_core_add_cold(env *E)
{
  ar_tensor out;
  ar_cache_trim(E->C);
  double t0 = bench_now();
  if (ar_binary(E->C, AR_ADD, &out, E->A, E->B)) die_core(E->C, "ar_binary");
  double dt = bench_now() - t0;
  ar_release(&out);
  return dt;
}

/* A Lua statement timed inside the interpreter (actrun.clock around it). */
static double lua_timed(env *E, const char *code)
{
  if (actrun_run_string(E->L, code)) {
    fprintf(stderr, "stream: Lua failed: %s\n", actrun_error(E->L));
    exit(1);
  }
  lua_State *L = actrun_lua(E->L);
  lua_getglobal(L, "T");
  double dt = lua_tonumber(L, -1);
  lua_pop(L, 1);
  return dt;
}
static double op_lua_add_new(env *E)
{
  return lua_timed(E, "local t0 = clock(); c = a + b; T = clock() - t0");
}
static double op_lua_clamp_new(env *E)
{
  return lua_timed(E, "local t0 = clock(); c = a:clamp(0); T = clock() - t0");
}
static double op_lua_sum(env *E)
{
  return lua_timed(E, "local t0 = clock(); s = a:sum(); T = clock() - t0");
}

typedef struct {
  const char *key;
  op_fn fn;
  double bytes; /* per element */
  int raw;      /* a reference kernel, reported without a fraction */
} op_desc;

static const op_desc ops[] = {
    {"stream.copy", op_copy, 8, 1},
    {"stream.scale", op_scale, 8, 1},
    {"stream.add", op_add, 12, 1},
    {"stream.triad", op_triad, 12, 1},
    {"stream.read", op_read, 4, 1},
    {"core.add_new", op_core_add_new, 12, 0},
    {"core.add_inplace", op_core_add_inplace, 12, 0},
    {"core.clamp_new", op_core_clamp_new, 8, 0},
    {"core.sum", op_core_sum, 4, 0},
    {"core.add_new_cold", op_core_add_cold, 12, 0},
    {"lua.add_new", op_lua_add_new, 12, 0},
    {"lua.clamp_new", op_lua_clamp_new, 8, 0},
    {"lua.sum", op_lua_sum, 4, 0},
};
#define NOPS ((int)(sizeof ops / sizeof ops[0]))
#define TRIAD 3 /* index of stream.triad */

int main(int argc, char **argv)
{
  const int64_t n = bench_opt(argc, argv, "--n", (int64_t)1 << 24); /* 64 MiB of floats */
  int reps = (int)bench_opt(argc, argv, "--reps", 20);
  int maxt = (int)bench_opt(argc, argv, "--threads", 2);
  if (reps < 3) reps = 3;
  if (reps > MAXREPS) reps = MAXREPS;
  if (maxt < 1) maxt = 1;
  if (maxt > MAXT) maxt = MAXT;

  /* the core's allocator: large blocks on huge pages, like the tensors compared with */
  size_t bytes = (size_t)n * 4 + 64;
  float *a = ar_block_alloc(bytes), *b = ar_block_alloc(bytes), *c = ar_block_alloc(bytes);
  if (!a || !b || !c) {
    fprintf(stderr, "stream: out of memory\n");
    return 1;
  }
  bench_note("stream: %lld floats (%.0f MiB) per array, %d rounds (operation order rotated "
             "every round), median times; GB = 1e9 bytes",
             (long long)n, (double)n * 4 / (1 << 20), reps);

  ar_ctx *C = ar_ctx_new();
  if (!C) {
    fprintf(stderr, "stream: ar_ctx_new failed\n");
    return 1;
  }
  ar_tensor A, B;
  int64_t shape[1] = {n};
  if (ar_empty(C, &A, 1, shape) || ar_empty(C, &B, 1, shape)) die_core(C, "ar_empty");
  {
    float *pa = ar_data(&A), *pb = ar_data(&B);
    for (int64_t i = 0; i < n; i++) pa[i] = (float)(i & 1023) * 0.001f - 0.5f, pb[i] = 1.0f;
  }
  actrun *L = actrun_new();
  if (!L) {
    fprintf(stderr, "stream: actrun_new failed\n");
    return 1;
  }
  {
    char code[256];
    snprintf(code, sizeof code,
             "actrun.set_num_threads(1); clock = actrun.clock; "
             "a = actrun.rand(%lld) - 0.5; b = actrun.ones(%lld)",
             (long long)n, (long long)n);
    if (actrun_run_string(L, code)) {
      fprintf(stderr, "stream: %s\n", actrun_error(L));
      return 1;
    }
  }

  env E = {0};
  E.C = C, E.A = &A, E.B = &B, E.L = L;
  static double t[NOPS][MAXREPS];
  for (int nt = 1; nt <= maxt; nt++) {
    team T = {0};
    team_start(&T, nt, a, b, c, n);
    team_run(&T, K_INIT); /* first touch by the threads that use the pages */
    E.T = &T;
    ar_set_num_threads(C, nt);
    {
      char code[64];
      snprintf(code, sizeof code, "actrun.set_num_threads(%d)", nt);
      if (actrun_run_string(L, code)) {
        fprintf(stderr, "stream: %s\n", actrun_error(L));
        return 1;
      }
    }
    for (int r = -2; r < reps; r++) /* two warm-up rounds */
      for (int j = 0; j < NOPS; j++) {
        int k = (j + (r < 0 ? 0 : r)) % NOPS; /* rotate: no operation always runs first */
        t[k][r < 0 ? 0 : r] = ops[k].fn(&E);
      }
    team_stop(&T);

    const double gb = (double)n * 1e-9;
    double triad = ops[TRIAD].bytes * gb / bench_median(t[TRIAD], reps);
    double addref = ops[TRIAD - 1].bytes * gb / bench_median(t[TRIAD - 1], reps);
    for (int k = 0; k < NOPS; k++) {
      double med = bench_median(t[k], reps), bw = ops[k].bytes * gb / med;
      bench_result(med * 1e3, "ms", "%s.%dt.ms", ops[k].key, nt);
      bench_result(bw, "GB/s", "%s.%dt", ops[k].key, nt);
      if (!ops[k].raw) {
        bench_result(bw / triad, "x_triad", "%s.%dt.frac", ops[k].key, nt);
        bench_result(bw / addref, "x_add", "%s.%dt.frac_add", ops[k].key, nt);
      }
    }
  }
  bench_note("checksum %g", E.checksum + a[n / 3] + b[n / 5] + c[n / 7]);
  actrun_free(L);
  ar_release(&A);
  ar_release(&B);
  ar_ctx_release(C);
  free(a);
  free(b);
  free(c);
  return 0;
}
