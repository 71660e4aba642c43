/* Worker pool: coverage of ar_parallel_for, chunking, nesting, thread counts, idling. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "core/ctx.h"

/* A deadlock must fail the suite, not hang it. */
TestSuite(threads, .timeout = 120);

#define MAXCALLS 256

typedef struct {
  atomic_int *hits; /* per index */
  int64_t n;
  atomic_int ncalls;
  int64_t lo[MAXCALLS], hi[MAXCALLS];
  pthread_t tid[MAXCALLS];
} cover_t;

static void cover_fn(void *arg, int64_t lo, int64_t hi) {
  cover_t *c = arg;
  int k = atomic_fetch_add(&c->ncalls, 1);
  if (k < MAXCALLS) {
    c->lo[k] = lo;
    c->hi[k] = hi;
    c->tid[k] = pthread_self();
  }
  for (int64_t i = lo; i < hi; i++)
    if (i >= 0 && i < c->n) atomic_fetch_add(&c->hits[i], 1);
}

static int cmp_lo(const void *x, const void *y) {
  int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
  return (a > b) - (a < b);
}

/* Runs one parallel_for and checks every index is hit once, the chunks are contiguous
 * and tile [0, n), there are at most nthreads of them and each has >= grain items. */
static int check_cover(ar_ctx *C, int64_t n, int64_t grain) {
  cover_t *c = calloc(1, sizeof *c);
  c->n = n;
  c->hits = calloc((size_t)(n > 0 ? n : 1), sizeof(atomic_int));
  ar_parallel_for(C, n, grain, cover_fn, c);
  for (int64_t i = 0; i < n; i++)
    cr_assert_eq(atomic_load(&c->hits[i]), 1, "n=%lld grain=%lld index %lld hit %d times",
                 (long long)n, (long long)grain, (long long)i, atomic_load(&c->hits[i]));
  int k = atomic_load(&c->ncalls);
  if (n == 0) {
    cr_assert_leq(k, 1);
  } else {
    cr_assert_geq(k, 1);
    cr_assert_leq(k, ar_get_num_threads(C), "n=%lld: %d chunks for %d threads", (long long)n, k,
                  ar_get_num_threads(C));
    int64_t pairs[MAXCALLS][2];
    for (int i = 0; i < k; i++) {
      pairs[i][0] = c->lo[i];
      pairs[i][1] = c->hi[i];
    }
    qsort(pairs, (size_t)k, sizeof pairs[0], cmp_lo);
    cr_assert_eq(pairs[0][0], 0);
    cr_assert_eq(pairs[k - 1][1], n);
    for (int i = 0; i < k; i++) {
      cr_assert_lt(pairs[i][0], pairs[i][1], "empty chunk");
      if (i > 0) cr_assert_eq(pairs[i][0], pairs[i - 1][1], "chunks not contiguous");
      if (k > 1) cr_assert_geq(pairs[i][1] - pairs[i][0], grain, "chunk smaller than grain");
    }
    if (n < 2 * grain || ar_get_num_threads(C) == 1) {
      cr_assert_eq(k, 1, "expected an inline call for n=%lld grain=%lld", (long long)n,
                   (long long)grain);
      cr_assert(pthread_equal(c->tid[0], pthread_self()), "inline call ran on another thread");
    }
  }
  free(c->hits);
  free(c);
  return k;
}

Test(threads, set_get_clamps) {
  ar_ctx *C = ar_ctx_new();
  cr_assert_geq(ar_get_num_threads(C), 1);
  ar_set_num_threads(C, 3);
  cr_assert_eq(ar_get_num_threads(C), 3);
  ar_set_num_threads(C, 0);
  cr_assert_eq(ar_get_num_threads(C), 1);
  ar_set_num_threads(C, -7);
  cr_assert_eq(ar_get_num_threads(C), 1);
  ar_set_num_threads(C, 1000);
  cr_assert_eq(ar_get_num_threads(C), 64);
  ar_set_num_threads(C, 2);
  cr_assert_eq(ar_get_num_threads(C), 2);
  ar_ctx_release(C);
}

Test(threads, covers_every_index_once) {
  ar_ctx *C = ar_ctx_new();
  const int threads[] = {1, 2, 3, 4, 7, 64};
  const int64_t grains[] = {1, 3, 100, AR_PAR_GRAIN};
  const int64_t sizes[] = {0, 1, 2, 3, 5, 7, 64, 199, 200, 201, 1000, 4099, 100003};
  for (size_t t = 0; t < sizeof threads / sizeof *threads; t++) {
    ar_set_num_threads(C, threads[t]);
    for (size_t g = 0; g < sizeof grains / sizeof *grains; g++)
      for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) check_cover(C, sizes[s], grains[g]);
    /* around the 2*grain threshold */
    for (int64_t n = 2 * 100 - 2; n <= 2 * 100 + 2; n++) check_cover(C, n, 100);
  }
  ar_ctx_release(C);
}

Test(threads, splits_when_large_and_uses_workers) {
  ar_ctx *C = ar_ctx_new();
  ar_set_num_threads(C, 2);
  cr_assert_eq(check_cover(C, 4 * AR_PAR_GRAIN, AR_PAR_GRAIN), 2);
  cr_assert_eq(check_cover(C, 2 * AR_PAR_GRAIN, AR_PAR_GRAIN), 2);
  cr_assert_eq(check_cover(C, 2 * AR_PAR_GRAIN - 1, AR_PAR_GRAIN), 1);
  ar_set_num_threads(C, 4);
  cr_assert_eq(check_cover(C, 1000, 10), 4);
  cr_assert_eq(check_cover(C, 30, 10), 3); /* never a chunk below grain */
  ar_set_num_threads(C, 1);
  cr_assert_eq(check_cover(C, 1000000, 10), 1);

  /* the two chunks really run on two threads */
  ar_set_num_threads(C, 2);
  cover_t *c = calloc(1, sizeof *c);
  c->n = 1000;
  c->hits = calloc(1000, sizeof(atomic_int));
  ar_parallel_for(C, 1000, 10, cover_fn, c);
  cr_assert_eq(atomic_load(&c->ncalls), 2);
  cr_assert(!pthread_equal(c->tid[0], c->tid[1]), "both chunks ran on one thread");
  free(c->hits);
  free(c);
  ar_ctx_release(C);
}

typedef struct {
  ar_ctx *C;
  atomic_int *hits;
  int64_t inner;
  atomic_int inner_calls;
  atomic_int wrong_thread;
} nest_t;

typedef struct {
  nest_t *t;
  int64_t base;
  pthread_t tid;
} nest_row_t;

static void nest_inner(void *arg, int64_t lo, int64_t hi) {
  nest_row_t *r = arg;
  atomic_fetch_add(&r->t->inner_calls, 1);
  if (!pthread_equal(r->tid, pthread_self())) atomic_fetch_add(&r->t->wrong_thread, 1);
  for (int64_t i = lo; i < hi; i++) atomic_fetch_add(&r->t->hits[r->base + i], 1);
}

static void nest_outer(void *arg, int64_t lo, int64_t hi) {
  nest_t *t = arg;
  for (int64_t r = lo; r < hi; r++) {
    nest_row_t row = {t, r * t->inner, pthread_self()};
    /* large enough to split if it were not nested */
    ar_parallel_for(t->C, t->inner, 1, nest_inner, &row);
  }
}

Test(threads, nested_calls_run_inline) {
  ar_ctx *C = ar_ctx_new();
  ar_set_num_threads(C, 2);
  nest_t t = {.C = C, .inner = 50};
  int64_t rows = 40;
  t.hits = calloc((size_t)(rows * t.inner), sizeof(atomic_int));
  ar_parallel_for(C, rows, 1, nest_outer, &t);
  for (int64_t i = 0; i < rows * t.inner; i++)
    cr_assert_eq(atomic_load(&t.hits[i]), 1, "index %lld", (long long)i);
  cr_assert_eq(atomic_load(&t.inner_calls), rows, "nested calls were split");
  cr_assert_eq(atomic_load(&t.wrong_thread), 0, "nested call left its thread");
  /* and the pool still works afterwards */
  check_cover(C, 100000, 1000);
  free(t.hits);
  ar_ctx_release(C);
}

static void sum_fn(void *arg, int64_t lo, int64_t hi) {
  int64_t *out = arg; /* out[c] gets the sum of the chunk starting at lo */
  int64_t s = 0;
  for (int64_t i = lo; i < hi; i++) s += i;
  out[lo == 0 ? 0 : 1] += s;
}

Test(threads, many_small_jobs_and_resizing) {
  ar_ctx *C = ar_ctx_new();
  const int seq[] = {2, 4, 1, 3, 2};
  for (size_t q = 0; q < sizeof seq / sizeof *seq; q++) {
    ar_set_num_threads(C, seq[q]);
    for (int it = 0; it < 2000; it++) {
      int64_t n = 2 + it % 97;
      int64_t acc[2] = {0, 0};
      if (seq[q] <= 2) {
        ar_parallel_for(C, n, 1, sum_fn, acc);
        cr_assert_eq(acc[0] + acc[1], n * (n - 1) / 2, "job %d", it);
      } else {
        check_cover(C, n, 1);
      }
    }
  }
  ar_ctx_release(C);
}

static void *ctx_thread(void *arg) {
  (void)arg;
  ar_ctx *C = ar_ctx_new();
  ar_set_num_threads(C, 2);
  long bad = 0;
  for (int it = 0; it < 300; it++) {
    int64_t acc[2] = {0, 0}, n = 1000 + it;
    ar_parallel_for(C, n, 10, sum_fn, acc);
    if (acc[0] + acc[1] != n * (n - 1) / 2) bad++;
  }
  ar_ctx_release(C);
  return (void *)bad;
}

Test(threads, independent_contexts_in_parallel) {
  pthread_t a, b;
  void *ra, *rb;
  pthread_create(&a, NULL, ctx_thread, NULL);
  pthread_create(&b, NULL, ctx_thread, NULL);
  pthread_join(a, &ra);
  pthread_join(b, &rb);
  cr_assert_eq((long)ra, 0);
  cr_assert_eq((long)rb, 0);
}

static double cpu_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void touch_fn(void *arg, int64_t lo, int64_t hi) {
  volatile float *x = arg;
  for (int64_t i = lo; i < hi; i++) x[i] = (float)i;
}

/* Idle workers must sleep: a spinning pool would burn CPU while we wait. */
Test(threads, idle_workers_sleep) {
  ar_ctx *C = ar_ctx_new();
  ar_set_num_threads(C, 4);
  float *x = calloc(100000, sizeof(float));
  ar_parallel_for(C, 100000, 10, touch_fn, x); /* starts the pool */
  cr_assert_not_null(C->pool);
  /* OpenBLAS's own threads spin for a while after openblas_set_num_threads: let that
   * pass, then wake our workers once more and watch them go idle. */
  usleep(800 * 1000);
  ar_parallel_for(C, 100000, 10, touch_fn, x);
  double c0 = cpu_seconds();
  usleep(300 * 1000);
  double used = cpu_seconds() - c0;
  cr_assert_lt(used, 0.03, "workers used %.3f s of CPU while idle for 0.3 s", used);
  free(x);
  ar_ctx_release(C);
}

typedef struct {
  pthread_t caller;
  atomic_int worker_chunks, sigint_open;
} sig_t_;

static void sig_fn(void *arg, int64_t lo, int64_t hi) {
  (void)lo, (void)hi;
  sig_t_ *st = arg;
  if (pthread_equal(st->caller, pthread_self())) return;
  sigset_t cur;
  pthread_sigmask(SIG_BLOCK, NULL, &cur);
  atomic_fetch_add(&st->worker_chunks, 1);
  if (!sigismember(&cur, SIGINT)) atomic_fetch_add(&st->sigint_open, 1);
}

/* Ctrl-C must reach the interpreter's thread, not a worker. */
Test(threads, workers_block_signals) {
  ar_ctx *C = ar_ctx_new();
  ar_set_num_threads(C, 3);
  sig_t_ st = {.caller = pthread_self()};
  ar_parallel_for(C, 300, 1, sig_fn, &st);
  cr_assert_eq(atomic_load(&st.worker_chunks), 2);
  cr_assert_eq(atomic_load(&st.sigint_open), 0, "a worker accepts SIGINT");
  sigset_t cur;
  pthread_sigmask(SIG_BLOCK, NULL, &cur);
  cr_assert(!sigismember(&cur, SIGINT), "the caller's signal mask was left changed");
  ar_ctx_release(C);
}

Test(threads, release_joins_pool) {
  for (int i = 0; i < 20; i++) {
    ar_ctx *C = ar_ctx_new();
    ar_set_num_threads(C, 3);
    check_cover(C, 10000, 100);
    ar_ctx_release(C); /* leaks or hangs would show under the sanitizers / timeout */
  }
  ar_pool_free(NULL); /* tolerated */
}
