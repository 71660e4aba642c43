/* The B-spline kernels of one SIMD level (src/core/bs_kernels.h compiled per level as
 * bs_kern_LEVEL.c); bspline.c checks arguments, splits work and picks the level. */
#ifndef ACTRUN_CORE_BS_LEVEL_H
#define ACTRUN_CORE_BS_LEVEL_H

#include <stdint.h>

/* The grid in the kernels' terms: u = (x - lo) * inv_h + order; grid + order functions. */
typedef struct bs_grid {
  float lo, inv_h;
  int grid, order, deriv;
} bs_grid;

typedef struct {
  /* x {rows, F}: out[(r * M + m) * F + f] = B_m^(deriv)(x[r * F + f]), M = grid + order;
   * ws holds (grid + 2 order + 1) * 16 floats */
  void (*basis)(float *restrict out, const float *restrict x, int64_t rows, int64_t F,
                const bs_grid *g, float *restrict ws);
  /* out[r * F + f] = sum_m gy[(r * M + m) * F + f] B_m^(deriv)(x[r * F + f]) */
  void (*dot)(float *restrict out, const float *restrict x, const float *restrict gy,
              int64_t rows, int64_t F, const bs_grid *g, float *restrict ws);
} bs_level;

extern const bs_level bs_level_baseline;
#ifdef ACTRUN_X86_LEVELS
extern const bs_level bs_level_avx2;
extern const bs_level bs_level_avx512;
#endif
/* The kernels of a level (AR_SIMD_*), or NULL when this build or CPU cannot run it. */
const bs_level *bs_level_at(int level);

#endif
