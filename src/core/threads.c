/* Worker pool for ar_parallel_for.
 *
 * One pool per context, made on first parallel use with nthreads - 1 workers; the calling
 * thread runs chunk 0 itself. A worker that finished a chunk watches for the next job for
 * a short while (SPIN pauses, some tens of microseconds) before it blocks on a condition
 * variable, and the caller likewise watches for the last chunk before it blocks: waking a
 * blocked thread costs tens of microseconds here, more than a second thread saves on a
 * 128x256x256 product. The watch is short, so an idle pool does not keep a core busy
 * (OpenBLAS keeps its own threads on the same cores). */
#include <cblas.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "core/ctx.h"

#define AR_MAX_THREADS 64

typedef struct ar_worker {
  struct ar_pool *pool;
  pthread_t tid;
  int index; /* chunk index this worker runs: 1..nworkers */
} ar_worker;

struct ar_pool {
  pthread_mutex_t mu;
  pthread_cond_t work_cv; /* workers wait here for a new job */
  pthread_cond_t done_cv; /* the caller waits here for the job's chunks */
  uint64_t generation;    /* bumped for every job; workers compare with the last seen */
  _Atomic uint64_t gen_pub;  /* generation, published after the job: read while watching */
  _Atomic int pending;       /* chunks still running on workers */
  _Atomic bool quit;
  int sleeping;           /* workers blocked on work_cv (under mu) */
  bool caller_waiting;    /* the caller blocked on done_cv (under mu) */
  /* the current job, written under mu */
  ar_range_fn fn;
  void *arg;
  int64_t n;
  int nchunks;
  int size;     /* workers asked for (nthreads - 1) */
  int nworkers; /* workers actually started */
  ar_worker *workers;
};

/* Set while a thread is inside a chunk: a nested parallel_for then runs inline instead
 * of waiting on workers that are busy with the outer job (which would deadlock). */
static _Thread_local bool ar_in_parallel;

#define SPIN 4096

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

/* Bounds of chunk c of k over [0, n), without n * c overflowing. */
static void chunk_bounds(int64_t n, int k, int c, int64_t *lo, int64_t *hi) {
  int64_t q = n / k, r = n % k;
  *lo = q * c + (c < r ? c : r);
  *hi = *lo + q + (c < r ? 1 : 0);
}

static void *worker_main(void *p) {
  ar_worker *w = p;
  struct ar_pool *P = w->pool;
  ar_in_parallel = true; /* anything a worker runs is already inside a chunk */
  /* Jobs start at generation 1: one posted before this thread got here is still run. */
  uint64_t seen = 0;
  for (;;) {
    for (int i = 0; i < SPIN && atomic_load_explicit(&P->gen_pub, memory_order_acquire) == seen &&
                    !atomic_load_explicit(&P->quit, memory_order_relaxed);
         i++)
      cpu_relax();
    pthread_mutex_lock(&P->mu);
    while (!P->quit && P->generation == seen) {
      P->sleeping++;
      pthread_cond_wait(&P->work_cv, &P->mu);
      P->sleeping--;
    }
    if (P->quit) break;
    seen = P->generation;
    bool mine = w->index < P->nchunks; /* else the job is too small to need this worker */
    ar_range_fn fn = P->fn;
    void *arg = P->arg;
    int64_t lo = 0, hi = 0;
    if (mine) chunk_bounds(P->n, P->nchunks, w->index, &lo, &hi);
    pthread_mutex_unlock(&P->mu);
    if (!mine) continue;
    fn(arg, lo, hi);
    if (atomic_fetch_sub_explicit(&P->pending, 1, memory_order_acq_rel) == 1) {
      pthread_mutex_lock(&P->mu);
      if (P->caller_waiting) pthread_cond_signal(&P->done_cv);
      pthread_mutex_unlock(&P->mu);
    }
  }
  pthread_mutex_unlock(&P->mu);
  return NULL;
}

static struct ar_pool *pool_new(int nworkers) {
  struct ar_pool *P = calloc(1, sizeof *P);
  if (!P) return NULL;
  P->workers = calloc((size_t)nworkers, sizeof *P->workers);
  if (!P->workers) {
    free(P);
    return NULL;
  }
  pthread_mutex_init(&P->mu, NULL);
  pthread_cond_init(&P->work_cv, NULL);
  pthread_cond_init(&P->done_cv, NULL);
  P->size = nworkers;
  /* Workers block every signal, so an interrupt (Ctrl-C in the REPL) reaches the
   * interpreter's thread. They inherit the mask from here. */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  /* A worker that fails to start just leaves the pool smaller. */
  for (int i = 0; i < nworkers; i++) {
    ar_worker *w = &P->workers[P->nworkers];
    w->pool = P;
    w->index = P->nworkers + 1;
    if (pthread_create(&w->tid, NULL, worker_main, w) != 0) break;
    P->nworkers++;
  }
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  return P;
}

void ar_pool_free(struct ar_pool *P) {
  if (!P) return;
  pthread_mutex_lock(&P->mu);
  atomic_store(&P->quit, true);
  pthread_cond_broadcast(&P->work_cv);
  pthread_mutex_unlock(&P->mu);
  for (int i = 0; i < P->nworkers; i++) pthread_join(P->workers[i].tid, NULL);
  pthread_cond_destroy(&P->done_cv);
  pthread_cond_destroy(&P->work_cv);
  pthread_mutex_destroy(&P->mu);
  free(P->workers);
  free(P);
}

void ar_set_num_threads(ar_ctx *C, int n) {
  if (n < 1) n = 1;
  if (n > AR_MAX_THREADS) n = AR_MAX_THREADS;
  /* Resizing from inside a chunk would join the thread we run on. */
  if (n != C->nthreads && C->pool && !ar_in_parallel) {
    ar_pool_free(C->pool);
    C->pool = NULL;
  }
  C->nthreads = n;
  openblas_set_num_threads(n);
}

int ar_get_num_threads(const ar_ctx *C) { return C->nthreads; }

void ar_parallel_for(ar_ctx *C, int64_t n, int64_t grain, ar_range_fn fn, void *arg) {
  if (n <= 0) return;
  if (grain < 1) grain = 1;
  int nt = C->nthreads;
  if (nt <= 1 || n < 2 * grain || ar_in_parallel) {
    fn(arg, 0, n);
    return;
  }
  /* Every chunk gets at least `grain` items. */
  int64_t maxchunks = n / grain;
  int k = maxchunks < nt ? (int)maxchunks : nt;
  struct ar_pool *P = C->pool;
  if (!P || P->size != nt - 1) {
    ar_pool_free(P);
    P = C->pool = pool_new(nt - 1);
  }
  if (!P || P->nworkers == 0) {
    fn(arg, 0, n);
    return;
  }
  if (k > P->nworkers + 1) k = P->nworkers + 1;

  pthread_mutex_lock(&P->mu);
  P->fn = fn;
  P->arg = arg;
  P->n = n;
  P->nchunks = k;
  atomic_store_explicit(&P->pending, k - 1, memory_order_relaxed);
  P->generation++;
  atomic_store_explicit(&P->gen_pub, P->generation, memory_order_release);
  if (P->sleeping) pthread_cond_broadcast(&P->work_cv);
  pthread_mutex_unlock(&P->mu);

  int64_t lo, hi;
  chunk_bounds(n, k, 0, &lo, &hi);
  ar_in_parallel = true;
  fn(arg, lo, hi);
  ar_in_parallel = false;

  for (int i = 0; i < SPIN && atomic_load_explicit(&P->pending, memory_order_acquire) > 0; i++)
    cpu_relax();
  if (atomic_load_explicit(&P->pending, memory_order_acquire) > 0) {
    pthread_mutex_lock(&P->mu);
    P->caller_waiting = true;
    while (atomic_load_explicit(&P->pending, memory_order_acquire) > 0)
      pthread_cond_wait(&P->done_cv, &P->mu);
    P->caller_waiting = false;
    pthread_mutex_unlock(&P->mu);
  }
}
