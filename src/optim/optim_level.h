/* The optimiser update kernels of one SIMD level (src/optim/optim_kernels.h compiled per
 * level as optim_kern_LEVEL.c); optim.c computes the constants and picks the level. */
#ifndef ACTRUN_OPTIM_LEVEL_H
#define ACTRUN_OPTIM_LEVEL_H

#include <stdbool.h>
#include <stdint.h>

typedef struct {
  /* optim_sgd's loops in one pass; take = 1 - dampening; buf NULL when momentum == 0 */
  void (*sgd)(float *restrict p, const float *restrict g, float *restrict buf, int64_t n,
              float lr, float momentum, float take, bool nesterov, float wd, bool first);
  /* p = p shrink - k m / (sqrt(v) + eps_s) after the moment updates (optim.c: why) */
  void (*adam)(float *restrict p, const float *restrict g, float *restrict m,
               float *restrict v, int64_t n, float k, float eps_s, float b1, float b2,
               float c1, float c2, float shrink, float l2);
  void (*rmsprop)(float *restrict p, const float *restrict g, float *restrict sq,
                  float *restrict gavg, float *restrict buf, int64_t n, float lr, float alpha,
                  float eps, float wd, float momentum);
  void (*adagrad)(float *restrict p, const float *restrict g, float *restrict sum, int64_t n,
                  float clr, float eps, float wd);
} optim_level;

extern const optim_level optim_level_baseline;
#ifdef ACTRUN_X86_LEVELS
extern const optim_level optim_level_avx2;
extern const optim_level optim_level_avx512;
#endif

#endif
