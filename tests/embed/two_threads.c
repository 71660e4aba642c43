/* Two interpreters in two threads at once never share state.
 *
 * Each interpreter registers its own host activation under the same name (with a
 * different `ud`), seeds its RNG differently, turns on its worker pool, and runs tensor
 * work large enough to be threaded plus 30 training steps (autograd + Adam +
 * cross_entropy). The results of each are first computed alone, one interpreter after
 * the other, then with both running concurrently in two pthreads (three rounds): they
 * must be bitwise the same. Shared state (RNG, storage cache, registered activations,
 * errors) would change them or, under ThreadSanitizer (tests/embed/tsan.sh), be
 * reported as a race.
 *
 * Used two ways: compiled alone with -DTWO_THREADS_MAIN (the embed_threads test and the
 * TSan run), and #included by tests/c/test_embed_threads.c (Criterion). */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "actrun.h"

#define TT_NRES 6

/* f(x) = x / (1 + s|x|): softsign with a slope s from ud, so each interpreter's kernel is
 * distinguishable by its results. */
static void tt_f(const float *x, float *y, size_t n, void *ud) {
  float s = *(const float *)ud;
  for (size_t i = 0; i < n; i++) y[i] = x[i] / (1.0f + s * fabsf(x[i]));
}
static void tt_df(const float *x, float *y, size_t n, void *ud) {
  float s = *(const float *)ud;
  for (size_t i = 0; i < n; i++) {
    float d = 1.0f + s * fabsf(x[i]);
    y[i] = 1.0f / (d * d);
  }
}

static const char tt_script[] =
    "actrun.manual_seed(SEED)\n"
    "actrun.set_num_threads(2)\n"
    "local nn, optim, act = actrun.nn, actrun.optim, actrun.act\n"
    "local big = actrun.randn(400, 700)\n" /* threaded elementwise work */
    "local s1 = act.apply('hk', big):sum():item()\n"
    "local s2 = big:tanh():mean():item() + big:exp():sum():item()\n"
    /* a product big enough for OpenBLAS's own threads, while the other interpreter may
     * be changing OpenBLAS's (process-wide) thread count around its small products */
    "local M = big:narrow(1, 1, 300):narrow(2, 1, 300)\n"
    "s2 = s2 + M:matmul(M):abs():sum():item()\n"
    "local X = actrun.randn(128, 4)\n"
    "local y = X:narrow(2, 1, 1):reshape(128):gt(0) + 1\n"
    "local W1 = nn.init.kaiming_uniform(actrun.empty(32, 4)); W1.requires_grad = true\n"
    "local b1 = actrun.zeros(32); b1.requires_grad = true\n"
    "local W2 = nn.init.xavier_uniform(actrun.empty(2, 32)); W2.requires_grad = true\n"
    "local opt = optim.Adam({W1, b1, W2}, {lr = 0.02})\n"
    "local loss\n"
    "for step = 1, 30 do\n"
    "  opt:zero_grad()\n"
    "  local h = act.hk(X:matmul(W1:t()) + b1)\n"
    "  loss = nn.cross_entropy(h:matmul(W2:t()), y)\n"
    "  loss:backward()\n"
    "  opt:step()\n"
    "end\n"
    "assert(not pcall(actrun.zeros, -1))\n" /* an error message per interpreter */
    "RESULT = actrun.tensor{s1, s2, loss:item(), W1:sum():item(), W2:norm():item(),\n"
    "                       actrun.rand(1):item()}\n";

typedef struct tt_job {
  int seed;
  float slope;
  float res[TT_NRES];
  char err[512];
  int rc;
} tt_job;

static void *tt_run(void *p) {
  tt_job *j = p;
  j->rc = 1;
  actrun *A = actrun_new();
  if (!A) {
    snprintf(j->err, sizeof j->err, "actrun_new failed");
    return NULL;
  }
  int64_t n = TT_NRES;
  int ndim;
  int64_t shape[8];
  if (actrun_register_activation(A, "hk", tt_f, tt_df, &j->slope) ||
      actrun_set_number(A, "SEED", j->seed) || actrun_run_string(A, tt_script) ||
      actrun_get_tensor(A, "RESULT", j->res, (size_t)n, &ndim, shape)) {
    snprintf(j->err, sizeof j->err, "%s", actrun_error(A));
  } else {
    j->rc = 0;
  }
  actrun_free(A);
  return NULL;
}

/* 0 when both interpreters give, concurrently, exactly what they give alone; else 1 with
 * a message in msg. */
static int two_threads_check(char *msg, size_t msgsize) {
  tt_job alone[2] = {{.seed = 11, .slope = 1.0f}, {.seed = 12345, .slope = 0.5f}};
  for (int i = 0; i < 2; i++) {
    tt_run(&alone[i]);
    if (alone[i].rc) {
      snprintf(msg, msgsize, "alone %d: %s", i, alone[i].err);
      return 1;
    }
  }
  if (memcmp(alone[0].res, alone[1].res, sizeof alone[0].res) == 0) {
    snprintf(msg, msgsize, "different seeds and kernels gave the same results");
    return 1;
  }
  for (int round = 0; round < 3; round++) {
    tt_job par[2] = {{.seed = 11, .slope = 1.0f}, {.seed = 12345, .slope = 0.5f}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
      if (pthread_create(&t[i], NULL, tt_run, &par[i]) != 0) {
        snprintf(msg, msgsize, "pthread_create failed");
        return 1;
      }
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    for (int i = 0; i < 2; i++) {
      if (par[i].rc) {
        snprintf(msg, msgsize, "round %d, thread %d: %s", round, i, par[i].err);
        return 1;
      }
      for (int k = 0; k < TT_NRES; k++)
        if (memcmp(&par[i].res[k], &alone[i].res[k], sizeof(float)) != 0) {
          snprintf(msg, msgsize,
                   "round %d, interpreter %d, result %d: %.9g concurrently, %.9g alone", round,
                   i, k, par[i].res[k], alone[i].res[k]);
          return 1;
        }
    }
  }
  snprintf(msg, msgsize, "ok");
  return 0;
}

#ifdef TWO_THREADS_MAIN
int main(void) {
  char msg[600];
  int rc = two_threads_check(msg, sizeof msg);
  printf("two interpreters in two threads: %s\n", msg);
  return rc;
}
#endif
