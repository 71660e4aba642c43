/* Cycles per vector of every activation kernel, data in L1/L2.
 *
 * For every registry entry and every SIMD level this CPU runs, the level's forward,
 * backward and fused kernels (act_level_at(level)->k, the tables the tests reach) are
 * called directly on n floats (default 4096: x, dy and the outputs fit in L1/L2), with no
 * Lua, tensors or thread pool in between. x = 3 |N(0,1)| with random signs; parameters
 * are the registry's defaults. A sample times `reps` back-to-back calls (reps chosen so a
 * sample lasts about --target-us); samples of the levels and of fwd/bwd/fused are
 * interleaved, and the median, min and max of --samples samples are reported.
 *
 * The clock: no cycle counters are assumed. A chain of dependent register-to-register
 * `add`s (1 cycle latency on every x86-64 core in use; a register operand, not an
 * immediate, so no renamer can fold it) is timed before every activation; adds per second
 * is then the effective core clock during the run, and the median of those samples
 * converts ns to cycles. Its spread is printed; it is the clock while this thread runs
 * scalar code, which on a CPU that lowers its clock for wide vectors may be higher than
 * the clock under the vector kernels.
 *
 * Output: "KEY VALUE UNIT" lines
 *   clock.ghz (.min, .max)                            adds per ns
 *   cycles.LEVEL.ACT.KIND (.min, .max)                cycles per vector (VL 16/8/4 lanes at
 *                                                     avx512/avx2/baseline), KIND fwd/bwd/fused
 *   ns_per_elem.LEVEL.ACT.KIND                        median ns per element
 * and with --report a Markdown table, one row per activation.
 *
 * Usage: kernel_cycles [--n 4096] [--samples 15] [--target-us 300]
 *                      [--clock-adds 100000000] [--only NAME] [--level NAME] [--report]
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "act/act.h"
#include "bench_util.h"
#include "core/core.h"

#define MAXS 101
#define NKIND 3
static const char *kind_name[NKIND] = {"fwd", "bwd", "fused"};
static const int level_vl[AR_SIMD_NLEVELS] = {4, 8, 16}; /* baseline, avx2, avx512 */

/* `adds` dependent adds (a multiple of 100), in seconds. The loop counter runs beside the
 * chain, not in it. */
static double time_add_chain(long adds)
{
  uint64_t acc = 0, one = 1;
  long iters = adds / 100;
  double t0 = bench_now();
#if defined(__x86_64__)
  for (long i = 0; i < iters; i++)
    __asm__ volatile(".rept 100\n\tadd %1, %0\n\t.endr" : "+r"(acc) : "r"(one));
#else
  for (long i = 0; i < iters; i++)
    for (int j = 0; j < 100; j++) __asm__ volatile("" : "+r"(acc) : "r"(one)), acc += one;
#endif
  double t = bench_now() - t0;
  if (acc != (uint64_t)iters * 100) fprintf(stderr, "add chain: wrong count\n");
  return t;
}

/* `n` dependent imuls (a multiple of 100; 3 cycles each on the same cores), in seconds:
 * the add chain's rate over this one's should be 3 if an add really took one cycle */
static double time_imul_chain(long n)
{
  uint64_t acc = 1, one = 1;
  double t0 = bench_now();
#if defined(__x86_64__)
  for (long i = 0; i < n / 100; i++)
    __asm__ volatile(".rept 100\n\timul %1, %0\n\t.endr" : "+r"(acc) : "r"(one));
#else
  for (long i = 0; i < n / 100; i++)
    for (int j = 0; j < 100; j++) __asm__ volatile("" : "+r"(acc) : "r"(one)), acc *= one;
#endif
  double t = bench_now() - t0;
  if (acc != 1) fprintf(stderr, "imul chain: wrong product\n");
  return t;
}

/* standard normal by Box-Muller over a small LCG: reproducible, no library state */
static uint64_t rng_state = 0x9E3779B97F4A7C15u;
static double urand(void)
{
  rng_state = rng_state * 6364136223846793005u + 1442695040888963407u;
  return ((double)(rng_state >> 11) + 0.5) * 0x1p-53;
}

typedef struct {
  const act_kernels *k;
  const float *p;
  const float *x, *dy;
  float *y, *d;
  int64_t n;
} job;

static void run(const job *J, int kind, long reps)
{
  for (long r = 0; r < reps; r++) {
    if (kind == 0)
      J->k->forward(J->x, J->y, J->n, J->p);
    else if (kind == 1)
      J->k->backward(J->x, J->dy, J->d, J->n, J->p);
    else
      J->k->fused(J->x, J->y, J->d, J->n, J->p);
  }
}

static double time_run(const job *J, int kind, long reps)
{
  double t0 = bench_now();
  run(J, kind, reps);
  return bench_now() - t0;
}

/* per activation, level and kind: ns per call (median, min, max) */
typedef struct {
  int have;
  double med, lo, hi;
} cell;

static cell res[ACT_N][AR_SIMD_NLEVELS][NKIND];

int main(int argc, char **argv)
{
  int64_t n = bench_opt(argc, argv, "--n", 4096);
  int samples = (int)bench_opt(argc, argv, "--samples", 15);
  double target = 1e-6 * (double)bench_opt(argc, argv, "--target-us", 300);
  long clock_adds = bench_opt(argc, argv, "--clock-adds", 100000000) / 100 * 100;
  int report = bench_flag(argc, argv, "--report");
  const char *only = NULL, *lvname = NULL;
  for (int i = 1; i + 1 < argc; i++) {
    if (strcmp(argv[i], "--only") == 0) only = argv[i + 1];
    if (strcmp(argv[i], "--level") == 0) lvname = argv[i + 1];
  }
  if (samples < 1) samples = 1;
  if (samples > MAXS) samples = MAXS;
  if (n < 16) n = 16;
  if (clock_adds < 100) clock_adds = 100;
  int want_level = -1;
  if (lvname && (want_level = ar_simd_parse(lvname)) < 0) {
    fprintf(stderr, "kernel_cycles: unknown level '%s'\n", lvname);
    return 2;
  }
  if (only && !act_find(only)) {
    fprintf(stderr, "kernel_cycles: unknown activation '%s'\n", only);
    return 2;
  }

  /* 64-byte aligned, padded to whole vectors of every level */
  size_t bytes = ((size_t)n * sizeof(float) + 63) / 64 * 64;
  float *x = aligned_alloc(64, bytes), *dy = aligned_alloc(64, bytes);
  float *y = aligned_alloc(64, bytes), *d = aligned_alloc(64, bytes);
  if (!x || !dy || !y || !d) return 1;
  for (int64_t i = 0; i < n; i++) {
    double g = sqrt(-2.0 * log(urand())) * cos(6.283185307179586 * urand());
    x[i] = (float)((urand() < 0.5 ? -3.0 : 3.0) * fabs(g));
    dy[i] = (float)(urand() - 0.5);
  }
  memset(y, 0, bytes);
  memset(d, 0, bytes);

  int levels[AR_SIMD_NLEVELS], nlev = 0;
  for (int lv = AR_SIMD_NLEVELS - 1; lv >= 0; lv--)
    if (act_level_at(lv) && (want_level < 0 || want_level == lv)) levels[nlev++] = lv;
  if (nlev == 0) {
    fprintf(stderr, "kernel_cycles: level '%s' is not available on this CPU/build\n", lvname);
    return 2;
  }

  bench_note("kernel_cycles: n = %lld floats, %d samples, ~%.0f us per sample, levels:",
             (long long)n, samples, target * 1e6);
  for (int i = 0; i < nlev; i++)
    bench_note("  %s (VL %d)", ar_simd_name(levels[i]), level_vl[levels[i]]);

  double clk[ACT_N + 1];
  int nclk = 0;
  (void)time_add_chain(clock_adds / 10); /* warm up: let the clock settle */
  clk[nclk++] = (double)clock_adds / time_add_chain(clock_adds) * 1e-9;

  for (int a = 0; a < act_count; a++) {
    const act_def *A = &act_table[a];
    if (only && strcmp(only, A->name) != 0) continue;
    float p[ACT_MAXPARAMS] = {0};
    for (int i = 0; i < A->nparams; i++) p[i] = (float)A->params[i].def;
    /* calibrate reps per level and kind (after a warm-up call) */
    long reps[AR_SIMD_NLEVELS][NKIND] = {{0}};
    job J[AR_SIMD_NLEVELS];
    for (int li = 0; li < nlev; li++) {
      int lv = levels[li];
      J[lv] = (job){&act_level_at(lv)->k[a], p, x, dy, y, d, n};
      for (int k = 0; k < NKIND; k++) {
        if (k == 2 && !J[lv].k->fused) continue;
        run(&J[lv], k, 2);
        double t1 = time_run(&J[lv], k, 8) / 8;
        long r = (long)(target / (t1 > 1e-9 ? t1 : 1e-9));
        reps[lv][k] = r < 1 ? 1 : r;
      }
    }
    double t[AR_SIMD_NLEVELS][NKIND][MAXS];
    for (int s = 0; s < samples; s++)
      for (int li = 0; li < nlev; li++)
        for (int k = 0; k < NKIND; k++) {
          int lv = levels[li];
          if (!reps[lv][k]) continue;
          t[lv][k][s] = time_run(&J[lv], k, reps[lv][k]) / (double)reps[lv][k] * 1e9;
        }
    for (int li = 0; li < nlev; li++)
      for (int k = 0; k < NKIND; k++) {
        int lv = levels[li];
        if (!reps[lv][k]) continue;
        double hi = t[lv][k][0];
        for (int s = 1; s < samples; s++) hi = t[lv][k][s] > hi ? t[lv][k][s] : hi;
        res[a][lv][k] = (cell){1, bench_median(t[lv][k], samples), bench_min(t[lv][k], samples), hi};
      }
    clk[nclk++] = (double)clock_adds / time_add_chain(clock_adds) * 1e-9;
  }

  double ghz = bench_median(clk, nclk), ghz_lo = bench_min(clk, nclk), ghz_hi = clk[0];
  for (int i = 1; i < nclk; i++) ghz_hi = clk[i] > ghz_hi ? clk[i] : ghz_hi;
  bench_note("effective clock during the run: %d chains of %ld dependent adds", nclk,
             clock_adds);
  {
    /* a check of the add chain: adds per imul, medians of 5 interleaved pairs */
    double ra[5];
    long m = clock_adds / 300 * 100;
    for (int i = 0; i < 5; i++) {
      double ta = time_add_chain(m), tm = time_imul_chain(m);
      ra[i] = tm / ta;
    }
    bench_result(bench_median(ra, 5), "adds/imul", "clock.check.adds_per_imul");
  }
  bench_result(ghz, "GHz", "clock.ghz");
  bench_result(ghz_lo, "GHz", "clock.ghz.min");
  bench_result(ghz_hi, "GHz", "clock.ghz.max");

  for (int a = 0; a < act_count; a++)
    for (int li = 0; li < nlev; li++)
      for (int k = 0; k < NKIND; k++) {
        int lv = levels[li];
        const cell *c = &res[a][lv][k];
        if (!c->have) continue;
        double vecs = (double)n / level_vl[lv], f = ghz / vecs;
        const char *an = act_table[a].name, *ln = ar_simd_name(lv), *kn = kind_name[k];
        bench_result(c->med * f, "cyc/vec", "cycles.%s.%s.%s", ln, an, kn);
        bench_result(c->lo * f, "cyc/vec", "cycles.%s.%s.%s.min", ln, an, kn);
        bench_result(c->hi * f, "cyc/vec", "cycles.%s.%s.%s.max", ln, an, kn);
        bench_result(c->med / (double)n, "ns/elem", "ns_per_elem.%s.%s.%s", ln, an, kn);
      }

  if (report) {
    printf("\nCycles per vector, median of %d samples (n = %lld, clock %.2f GHz, %.2f-%.2f);"
           " fwd / bwd / fused (- : no fused kernel)\n\n| activation |",
           samples, (long long)n, ghz, ghz_lo, ghz_hi);
    for (int li = 0; li < nlev; li++) printf(" %s (VL %d) |", ar_simd_name(levels[li]),
                                             level_vl[levels[li]]);
    printf(" fwd ns/elem (");
    for (int li = 0; li < nlev; li++) printf("%s%s", li ? " / " : "", ar_simd_name(levels[li]));
    printf(") |\n| --- |");
    for (int li = 0; li <= nlev; li++) printf(" ---: |");
    printf("\n");
    for (int a = 0; a < act_count; a++) {
      if (!res[a][levels[0]][0].have) continue;
      printf("| `%s` |", act_table[a].name);
      for (int li = 0; li < nlev; li++) {
        int lv = levels[li];
        double f = ghz * level_vl[lv] / (double)n;
        printf(" ");
        for (int k = 0; k < NKIND; k++) {
          const cell *c = &res[a][lv][k];
          if (c->have)
            printf("%s%.1f", k ? " / " : "", c->med * f);
          else
            printf("%s-", k ? " / " : "");
        }
        printf(" |");
      }
      printf(" ");
      for (int li = 0; li < nlev; li++)
        printf("%s%.3f", li ? " / " : "", res[a][levels[li]][0].med / (double)n);
      printf(" |\n");
    }
  }
  free(x), free(dy), free(y), free(d);
  return 0;
}
