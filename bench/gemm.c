/* Matrix products: ar_matmul (a fresh output per call, released after, as `c = a @ b`)
 * against a direct cblas_sgemm into a preallocated output, on the same operands, at 1 and
 * 2 threads (ar_set_num_threads sets OpenBLAS's count too; the direct calls run with it).
 *
 * Shapes: squares 128..2048, and the GEMMs of one training step of a 784-256-256-10 MLP
 * at batch 128 with nn.Linear's layout (weight {out, in}, y = x W^T + b):
 *   fwd   x @ W:t()      the right operand is a transposed view of the weight
 *   dx    dy @ W         plain
 *   dw    dy:t() @ x     the left operand is a transposed view of the output gradient
 * Views reach sgemm without a copy (Trans flags); the direct call gets the same flags.
 *
 * Each case is timed in samples of >= ~20 ms (enough calls per sample), ar and BLAS
 * samples interleaved; the median per-call time is reported as GFLOP/s (2*m*n*k flops).
 * "peak" is the fraction of the FP32 FMA peak given by --peak1/--peak2 (GFLOP/s; the
 * defaults are the measured figures of the reference machine in docs/BENCHMARKS.md).
 *
 * Usage: gemm [--samples N] [--threads MAX] [--max-size N] [--peak1 G] [--peak2 G]
 *             [--only NAME[,NAME...]]      (case names: sq128.., fwd1.., dx2.., dw1..)
 */
#define _GNU_SOURCE
#include <cblas.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "core/core.h"

#define MAXS 64

typedef struct {
  const char *name;
  int64_t m, n, k;
  int ta, tb; /* operand is a t() view of a contiguous {k,m} / {n,k} matrix */
} gcase;

static const gcase cases[] = {
    {"sq128", 128, 128, 128, 0, 0},     {"sq256", 256, 256, 256, 0, 0},
    {"sq512", 512, 512, 512, 0, 0},     {"sq1024", 1024, 1024, 1024, 0, 0},
    {"sq2048", 2048, 2048, 2048, 0, 0},
    /* forward: x {128,in} @ W:t() with W {out,in} */
    {"fwd1", 128, 256, 784, 0, 1},      {"fwd2", 128, 256, 256, 0, 1},
    {"fwd3", 128, 10, 256, 0, 1},
    /* input gradient: dy {128,out} @ W {out,in} (not needed for the first layer) */
    {"dx2", 128, 256, 256, 0, 0},       {"dx3", 128, 256, 10, 0, 0},
    /* weight gradient: dy:t() {out,128} @ x {128,in} */
    {"dw1", 256, 784, 128, 1, 0},       {"dw2", 256, 256, 128, 1, 0},
    {"dw3", 10, 256, 128, 1, 0},
};

static void die_core(ar_ctx *C, const char *what)
{
  fprintf(stderr, "gemm: %s failed: %s\n", what, ar_errmsg(C));
  exit(1);
}

static void fill(ar_tensor *t, uint32_t seed)
{
  float *p = ar_data(t);
  int64_t n = 1;
  for (int i = 0; i < t->ndim; i++) n *= t->shape[i];
  for (int64_t i = 0; i < n; i++) {
    seed = seed * 1664525u + 1013904223u;
    p[i] = (float)(seed >> 8) * (1.0f / 16777216.0f) - 0.5f;
  }
}

/* A {r,c} operand: contiguous, or (trans) the t() view of a contiguous {c,r} matrix. */
static void make_operand(ar_ctx *C, ar_tensor *base, ar_tensor *op, int64_t r, int64_t c,
                         int trans, uint32_t seed)
{
  int64_t shape[2] = {trans ? c : r, trans ? r : c};
  if (ar_empty(C, base, 2, shape)) die_core(C, "ar_empty");
  fill(base, seed);
  if (trans) {
    if (ar_transpose(C, op, base, 0, 1)) die_core(C, "ar_transpose");
  } else {
    ar_share(op, base);
  }
}

typedef struct {
  ar_ctx *C;
  const gcase *g;
  ar_tensor *A, *B, *Cd; /* operands (possibly views) and the direct call's output */
  const float *pa, *pb;
} job;

static void run_ar(job *J, long iters)
{
  for (long i = 0; i < iters; i++) {
    ar_tensor out;
    if (ar_matmul(J->C, &out, J->A, J->B)) die_core(J->C, "ar_matmul");
    ar_release(&out);
  }
}

static void run_blas(job *J, long iters)
{
  const gcase *g = J->g;
  int lda = (int)(g->ta ? g->m : g->k), ldb = (int)(g->tb ? g->k : g->n);
  for (long i = 0; i < iters; i++)
    cblas_sgemm(CblasRowMajor, g->ta ? CblasTrans : CblasNoTrans,
                g->tb ? CblasTrans : CblasNoTrans, (int)g->m, (int)g->n, (int)g->k, 1.0f,
                J->pa, lda, J->pb, ldb, 0.0f, ar_data(J->Cd), (int)g->n);
}

/* Calls per sample so that one sample lasts about target seconds. */
static long calibrate(job *J, int use_ar, double target)
{
  long iters = 1;
  for (;;) {
    double t0 = bench_now();
    use_ar ? run_ar(J, iters) : run_blas(J, iters);
    double dt = bench_now() - t0;
    if (dt >= target / 4 || iters >= (1L << 24)) {
      long k = (long)(iters * target / (dt > 1e-9 ? dt : 1e-9));
      return k < 1 ? 1 : k;
    }
    iters *= 4;
  }
}

int main(int argc, char **argv)
{
  int samples = (int)bench_opt(argc, argv, "--samples", 9);
  int maxt = (int)bench_opt(argc, argv, "--threads", 2);
  long maxsize = bench_opt(argc, argv, "--max-size", 2048);
  double peak[3] = {0, (double)bench_opt(argc, argv, "--peak1", 288),
                    (double)bench_opt(argc, argv, "--peak2", 573)};
  if (samples < 3) samples = 3;
  if (samples > MAXS) samples = MAXS;
  if (maxt < 1) maxt = 1;
  if (maxt > 2) maxt = 2;
  const double target = 0.02;
  const char *only = NULL;
  for (int i = 1; i + 1 < argc; i++)
    if (strcmp(argv[i], "--only") == 0) only = argv[i + 1];

  ar_ctx *C = ar_ctx_new();
  if (!C) {
    fprintf(stderr, "gemm: ar_ctx_new failed\n");
    return 1;
  }
  bench_note("gemm: %d samples of >= %.0f ms per case, median; FP32 peak %g / %g GFLOP/s",
             samples, target * 1e3, peak[1], peak[2]);
  const char *ct = getenv("OPENBLAS_CORETYPE");
  bench_note("OpenBLAS %s, OPENBLAS_CORETYPE=%s", openblas_get_config(), ct ? ct : "(unset)");

  for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
    const gcase *g = &cases[ci];
    if (g->m > maxsize || g->n > maxsize || g->k > maxsize) continue;
    if (only) { /* comma-separated exact names */
      const char *p = only;
      size_t len = strlen(g->name);
      bool found = false;
      while (*p && !found) {
        const char *q = strchr(p, ',');
        size_t l = q ? (size_t)(q - p) : strlen(p);
        found = l == len && strncmp(p, g->name, l) == 0;
        p = q ? q + 1 : p + l;
      }
      if (!found) continue;
    }
    ar_tensor abase, bbase, A, B, Cd;
    make_operand(C, &abase, &A, g->m, g->k, g->ta, 12345u + (uint32_t)ci);
    make_operand(C, &bbase, &B, g->k, g->n, g->tb, 777u + (uint32_t)ci);
    int64_t cshape[2] = {g->m, g->n};
    if (ar_empty(C, &Cd, 2, cshape)) die_core(C, "ar_empty");
    job J = {C, g, &A, &B, &Cd, ar_data(&abase), ar_data(&bbase)};
    const double flops = 2.0 * (double)g->m * (double)g->n * (double)g->k;

    for (int nt = 1; nt <= maxt; nt++) {
      ar_set_num_threads(C, nt);
      run_ar(&J, 2); /* warm caches, pool and OpenBLAS buffers */
      run_blas(&J, 2);
      long it_ar = calibrate(&J, 1, target), it_bl = calibrate(&J, 0, target);
      double t_ar[MAXS], t_bl[MAXS];
      for (int s = 0; s < samples; s++) {
        double t0 = bench_now();
        run_ar(&J, it_ar);
        t_ar[s] = (bench_now() - t0) / (double)it_ar;
        t0 = bench_now();
        run_blas(&J, it_bl);
        t_bl[s] = (bench_now() - t0) / (double)it_bl;
        /* After a multi-threaded call OpenBLAS's workers keep polling for more work (tens
         * of ms). actrun never runs OpenBLAS multi-threaded, but here the next ar sample
         * would share the cores with those pollers (fwd1 at 2 threads measured 66 GFLOP/s
         * right after the direct calls, 178 without them): let them go to sleep first. */
        if (nt > 1) bench_sleep(0.25);
      }
      double ga = flops / bench_median(t_ar, samples) * 1e-9;
      double gb = flops / bench_median(t_bl, samples) * 1e-9;
      bench_result(bench_median(t_ar, samples) * 1e6, "us", "gemm.%s.ar.%dt.us", g->name, nt);
      bench_result(ga, "GFLOP/s", "gemm.%s.ar.%dt", g->name, nt);
      bench_result(gb, "GFLOP/s", "gemm.%s.blas.%dt", g->name, nt);
      bench_result(ga / gb, "x_blas", "gemm.%s.ratio.%dt", g->name, nt);
      bench_result(ga / peak[nt], "x_peak", "gemm.%s.ar.%dt.peak", g->name, nt);
    }
    ar_release(&A);
    ar_release(&B);
    ar_release(&abase);
    ar_release(&bbase);
    ar_release(&Cd);
  }
  ar_ctx_release(C);
  return 0;
}
