/* The Padé activation unit's kernels of one SIMD level (src/act/pau_kernels.h compiled per
 * level as pau_kern_LEVEL.c), which src/act/pau.c drives (blocks, threads, partial sums).
 *
 * f(x) = P(x) / (1 + |Q(x)|), P(x) = a0 + a1 x + ... + am x^m, Q(x) = b1 x + ... + bn x^n
 * (the "safe" PAU of Molina et al. 2020). Coefficients are floats; b[j - 1] is bj. */
#ifndef ACTRUN_ACT_PAU_LEVEL_H
#define ACTRUN_ACT_PAU_LEVEL_H

#include <stdint.h>

#include "core/core.h"

#define PAU_MAXDEG 12 /* largest m and n */

typedef struct {
  /* y = f(x) over len elements, one coefficient set */
  void (*fwd)(const float *restrict x, float *restrict y, int64_t len, const float *a, int m,
              const float *b, int n);
  /* dx = dy f'(x); ga[k] += sum dy x^k / D (k = 0..m) and gb[j - 1] += sum of
   * -dy f sign(Q) x^j / D (j = 1..n), D = 1 + |Q|, the sums taken in double in an order
   * fixed by len alone (dx may be NULL: the coefficient sums only) */
  void (*bwd)(const float *restrict x, const float *restrict dy, float *restrict dx,
              int64_t len, const float *a, int m, const float *b, int n, double *ga,
              double *gb);
  /* The column forms: element j of a row of w elements has its own coefficient set,
   * at[k * w + j] (k = 0..m) and bt[(k - 1) * w + j] (k = 1..n); the sums go to
   * ga[k * w + j] and gb[(k - 1) * w + j]. */
  void (*fwd_cols)(const float *restrict x, float *restrict y, int64_t w, const float *at,
                   int m, const float *bt, int n);
  void (*bwd_cols)(const float *restrict x, const float *restrict dy, float *restrict dx,
                   int64_t w, const float *at, int m, const float *bt, int n, double *ga,
                   double *gb);
} pau_level;

extern const pau_level pau_level_baseline;
#ifdef ACTRUN_X86_LEVELS
extern const pau_level pau_level_avx2;
extern const pau_level pau_level_avx512;
#endif
/* The kernels of the current SIMD level (ar_simd_level). */
const pau_level *pau_level_now(void);

#endif
