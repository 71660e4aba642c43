/* Optimiser updates (see optim.h): the constants here, the loops in explicit vector code
 * per SIMD level (optim_kernels.h), the level's table looked up once per call. */
#include "optim/optim.h"

#include <math.h>

#include "core/core.h"
#include "optim/optim_level.h"

static const optim_level *cur(void) {
  switch (ar_simd_level()) {
#ifdef ACTRUN_X86_LEVELS
  case AR_SIMD_AVX512:
    return &optim_level_avx512;
  case AR_SIMD_AVX2:
    return &optim_level_avx2;
#endif
  default:
    return &optim_level_baseline;
  }
}

void optim_sgd(float *restrict p, const float *restrict g, float *restrict buf, int64_t n,
               float lr, float momentum, float dampening, bool nesterov, float wd, bool first) {
  /* PyTorch: the buffer starts as a copy of the first d_p (no dampening on that step).
   * The first step never reads buf, so it may be uninitialised memory. */
  cur()->sgd(p, g, momentum == 0.0f ? NULL : buf, n, lr, momentum, 1.0f - dampening, nesterov,
             wd, first);
}

void optim_adam(float *restrict p, const float *restrict g, float *restrict m,
                float *restrict v, int64_t n, float lr, double beta1, double beta2, float eps,
                float wd, bool decoupled, int64_t step) {
  /* bias corrections in double as PyTorch computes them on Python floats */
  const double bc1 = 1.0 - pow(beta1, (double)step), bc2 = 1.0 - pow(beta2, (double)step);
  /* PyTorch's step_size * m / (sqrt(v) / sqrt(bc2) + eps), with both sides multiplied
   * by sqrt(bc2): one division per element instead of two (the update differs in the
   * last bits; division and square root are what bound this loop) */
  const double bc2_sqrt = sqrt(bc2);
  const float k = (float)(lr / bc1 * bc2_sqrt), eps_s = (float)(eps * bc2_sqrt);
  const float b1 = (float)beta1, b2 = (float)beta2, c1 = (float)(1.0 - beta1),
              c2 = (float)(1.0 - beta2);
  const float shrink = decoupled ? 1.0f - lr * wd : 1.0f, l2 = decoupled ? 0.0f : wd;
  cur()->adam(p, g, m, v, n, k, eps_s, b1, b2, c1, c2, shrink, l2);
}

void optim_rmsprop(float *restrict p, const float *restrict g, float *restrict sq,
                   float *restrict gavg, float *restrict buf, int64_t n, float lr, float alpha,
                   float eps, float wd, float momentum) {
  cur()->rmsprop(p, g, sq, gavg, buf, n, lr, alpha, eps, wd, momentum);
}

void optim_adagrad(float *restrict p, const float *restrict g, float *restrict sum, int64_t n,
                   float clr, float eps, float wd) {
  cur()->adagrad(p, g, sum, n, clr, eps, wd);
}

double optim_sumsq(const float *x, int64_t n) {
  double s = 0.0;
  for (int64_t i = 0; i < n; i++) s += (double)x[i] * x[i];
  return s;
}

void optim_scale(float *x, int64_t n, float s) {
  for (int64_t i = 0; i < n; i++) x[i] *= s;
}
