/* Optimiser update kernels (see optim.h). Each loop has no calls and no aliasing, so gcc
 * vectorises it; the branches on options are hoisted out of the loops. */
#include "optim/optim.h"

#include <math.h>

void optim_sgd(float *restrict p, const float *restrict g, float *restrict buf, int64_t n,
               float lr, float momentum, float dampening, bool nesterov, float wd, bool first) {
  if (momentum == 0.0f) {
    for (int64_t i = 0; i < n; i++) p[i] -= lr * (g[i] + wd * p[i]);
    return;
  }
  /* PyTorch: the buffer starts as a copy of the first d_p (no dampening on that step).
   * The first step never reads buf, so it may be uninitialised memory. */
  if (first) {
    for (int64_t i = 0; i < n; i++) buf[i] = g[i] + wd * p[i];
  } else {
    const float take = 1.0f - dampening;
    for (int64_t i = 0; i < n; i++) buf[i] = momentum * buf[i] + take * (g[i] + wd * p[i]);
  }
  if (nesterov) {
    for (int64_t i = 0; i < n; i++) p[i] -= lr * ((g[i] + wd * p[i]) + momentum * buf[i]);
  } else {
    for (int64_t i = 0; i < n; i++) p[i] -= lr * buf[i];
  }
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
  for (int64_t i = 0; i < n; i++) {
    float pi = p[i] * shrink;
    float gi = g[i] + l2 * pi;
    float mi = m[i] * b1 + c1 * gi;
    float vi = v[i] * b2 + c2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] = pi - k * mi / (sqrtf(vi) + eps_s);
  }
}

void optim_rmsprop(float *restrict p, const float *restrict g, float *restrict sq,
                   float *restrict gavg, float *restrict buf, int64_t n, float lr, float alpha,
                   float eps, float wd, float momentum) {
  const float c = 1.0f - alpha;
  for (int64_t i = 0; i < n; i++) {
    float gi = g[i] + wd * p[i];
    float s = sq[i] * alpha + c * gi * gi;
    sq[i] = s;
    float avg;
    if (gavg) {
      float a = gavg[i] * alpha + c * gi;
      gavg[i] = a;
      avg = sqrtf(s - a * a) + eps;
    } else {
      avg = sqrtf(s) + eps;
    }
    if (buf) {
      float b = buf[i] * momentum + gi / avg;
      buf[i] = b;
      p[i] -= lr * b;
    } else {
      p[i] -= lr * (gi / avg);
    }
  }
}

void optim_adagrad(float *restrict p, const float *restrict g, float *restrict sum, int64_t n,
                   float clr, float eps, float wd) {
  for (int64_t i = 0; i < n; i++) {
    float gi = g[i] + wd * p[i];
    float s = sum[i] + gi * gi;
    sum[i] = s;
    p[i] -= clr * (gi / (sqrtf(s) + eps));
  }
}

double optim_sumsq(const float *x, int64_t n) {
  double s = 0.0;
  for (int64_t i = 0; i < n; i++) s += (double)x[i] * x[i];
  return s;
}

void optim_scale(float *x, int64_t n, float s) {
  for (int64_t i = 0; i < n; i++) x[i] *= s;
}
