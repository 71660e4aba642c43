/* The C core's share of a small operation: per-call time of the core functions behind
 * `c = a + b`, `a:sum()` and `actrun.zeros(4)` on 4-element tensors, without Lua. The
 * difference to bench/overhead.lua's numbers is the binding and Lua's GC.
 *
 * Each case runs --n calls (default 1e6) per sample, --reps samples (default 5); the
 * median per call is printed in microseconds.
 *
 * Usage: overhead_core [--n CALLS] [--reps R]
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench_util.h"
#include "core/core.h"

#define MAXREPS 64

static ar_ctx *C;
static ar_tensor A, B;
static volatile float sink;

static void die(const char *what)
{
  fprintf(stderr, "overhead_core: %s failed: %s\n", what, ar_errmsg(C));
  exit(1);
}

static void op_add(void)
{
  ar_tensor out;
  if (ar_binary(C, AR_ADD, &out, &A, &B)) die("ar_binary");
  ar_release(&out);
}
static void op_add_inplace(void)
{
  if (ar_binary_(C, AR_ADD, &A, &B)) die("ar_binary_");
}
static void op_sum(void)
{
  ar_tensor out;
  if (ar_reduce(C, AR_SUM, &out, &A, -1, false, 2.0, 0)) die("ar_reduce");
  sink = ar_data(&out)[0];
  ar_release(&out);
}
static void op_zeros(void)
{
  ar_tensor out;
  int64_t shape[1] = {4};
  if (ar_empty(C, &out, 1, shape) || ar_fill(C, &out, 0.0f)) die("ar_empty/ar_fill");
  ar_release(&out);
}
static void op_empty(void)
{
  ar_tensor out;
  int64_t shape[1] = {4};
  if (ar_empty(C, &out, 1, shape)) die("ar_empty");
  ar_release(&out);
}
/* the loop and call alone */
static void op_nothing(void) { sink = 0; }

int main(int argc, char **argv)
{
  long n = bench_opt(argc, argv, "--n", 1000000);
  int reps = (int)bench_opt(argc, argv, "--reps", 5);
  if (reps < 1) reps = 1;
  if (reps > MAXREPS) reps = MAXREPS;
  C = ar_ctx_new();
  if (!C) return 1;
  int64_t shape[1] = {4};
  if (ar_empty(C, &A, 1, shape) || ar_empty(C, &B, 1, shape)) die("ar_empty");
  for (int i = 0; i < 4; i++) ar_data(&A)[i] = 0.25f * (float)i, ar_data(&B)[i] = 1.0f;
  bench_note("overhead_core: 4-element tensors, %ld calls x %d samples (median), threads %d", n,
             reps, ar_get_num_threads(C));

  struct {
    const char *key;
    void (*fn)(void);
  } cases[] = {
      {"core.small.nothing", op_nothing},
      {"core.small.add", op_add},              /* ar_binary + ar_release */
      {"core.small.add_inplace", op_add_inplace}, /* ar_binary_ */
      {"core.small.sum", op_sum},              /* ar_reduce(AR_SUM) + ar_release */
      {"core.small.zeros", op_zeros},          /* ar_empty + ar_fill + ar_release */
      {"core.small.empty", op_empty},          /* ar_empty + ar_release */
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    double t[MAXREPS];
    for (long i = 0; i < n / 100 + 1; i++) cases[c].fn(); /* warm up */
    for (int r = 0; r < reps; r++) {
      double t0 = bench_now();
      for (long i = 0; i < n; i++) cases[c].fn();
      t[r] = (bench_now() - t0) / (double)n;
    }
    bench_result(bench_median(t, reps) * 1e6, "us", "%s", cases[c].key);
  }
  ar_release(&A);
  ar_release(&B);
  ar_ctx_release(C);
  return 0;
}
