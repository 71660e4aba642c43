/* The reduction kernels of one SIMD level (src/core/rd_kernels.h compiled per level as
 * rd_kern_LEVEL.c): per-element loops that src/core/reduce.c drives (planning, blocks,
 * threads, combining partials). Every level gives the same bits: the accumulators see
 * the same elements in the same order whatever the vector width, max/min and the arg
 * kernels are exact, and the p-norm's pow is the same function at every x86 level. */
#ifndef ACTRUN_CORE_RD_LEVEL_H
#define ACTRUN_CORE_RD_LEVEL_H

#include <stdint.h>

#include "core/core.h"

#define RD_NACC 32 /* double accumulators of the unit-stride kernels */

typedef enum {
  K_SUM, K_SQ, K_ABS, K_POW, K_NNZ, K_SQDEV, K_PROD, K_MAX, K_MIN, K_MAXABS, K_MINABS,
  K_COUNT
} rd_kop;

/* Reduces n elements x[0], x[s], ... to one accumulator; c is the centre (SQDEV), p the
 * norm order (POW). */
typedef double (*rd_segfn)(const float *x, int64_t n, int64_t s, double c, double p);
/* acc[i] = combine(acc[i], map(x[r * s + i])) for the nr rows r and i < w; cen[i] is the
 * centre of column i. */
typedef void (*rd_colfn)(double *acc, const float *x, int64_t s, int64_t nr, int64_t w,
                         const double *cen, double p);

/* First index of the max (is_max) or min of x[0], x[s], ... (n >= 1): the first NaN's if
 * there is one, else the first of the elements equal to the best. */
typedef int64_t (*rd_argfn)(const float *x, int64_t n, int64_t s);
/* The same per column i < w of nr rows (row r at x + r * s; 1 <= nr <= INT32_MAX): the
 * best value into best[i], its row into bi[i]. */
typedef void (*rd_argcolfn)(float *best, int32_t *bi, const float *x, int64_t s, int64_t nr,
                            int64_t w);

/* Every op's kernels, at one level; arg[0]/argcol[0] find the min, [1] the max. */
typedef struct {
  rd_segfn seg[K_COUNT];
  rd_colfn col[K_COUNT];
  rd_argfn arg[2];
  rd_argcolfn argcol[2];
} rd_level;

extern const rd_level rd_level_baseline;
#ifdef ACTRUN_X86_LEVELS
extern const rd_level rd_level_avx2;
extern const rd_level rd_level_avx512;
#endif

/* Fixed-order tree over the RD_NACC accumulators: the same sum at every level and
 * thread count. */
static inline double rd_hsum(const double *a) {
  double t[RD_NACC];
  for (int i = 0; i < RD_NACC; i++) t[i] = a[i];
  for (int w = RD_NACC / 2; w >= 1; w /= 2)
    for (int i = 0; i < w; i++) t[i] += t[i + w];
  return t[0];
}

/* The same tree for the products. */
static inline double rd_hprod(const double *a) {
  double t[RD_NACC];
  for (int i = 0; i < RD_NACC; i++) t[i] = a[i];
  for (int w = RD_NACC / 2; w >= 1; w /= 2)
    for (int i = 0; i < w; i++) t[i] *= t[i + w];
  return t[0];
}

#endif
