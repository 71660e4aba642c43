/* Optimiser update kernels: one fused loop per parameter tensor, in place, no allocation.
 * Every pointer is to n contiguous floats. The formulas are PyTorch 1.13's single-tensor
 * implementations, evaluated in float32 in the same order so results agree to rounding. */
#ifndef ACTRUN_OPTIM_H
#define ACTRUN_OPTIM_H

#include <stdbool.h>
#include <stdint.h>

/* buf may be NULL when momentum == 0; first: the step that creates buf (buf = d_p). */
void optim_sgd(float *restrict p, const float *restrict g, float *restrict buf, int64_t n,
               float lr, float momentum, float dampening, bool nesterov, float wd, bool first);
/* decoupled: AdamW (p *= 1 - lr*wd) instead of L2 added to the gradient. step >= 1. */
void optim_adam(float *restrict p, const float *restrict g, float *restrict m,
                float *restrict v, int64_t n, float lr, double beta1, double beta2, float eps,
                float wd, bool decoupled, int64_t step);
/* gavg: NULL unless centered; buf: NULL unless momentum > 0. */
void optim_rmsprop(float *restrict p, const float *restrict g, float *restrict sq,
                   float *restrict gavg, float *restrict buf, int64_t n, float lr, float alpha,
                   float eps, float wd, float momentum);
void optim_adagrad(float *restrict p, const float *restrict g, float *restrict sum, int64_t n,
                   float clr, float eps, float wd);
/* Sum of squares in double (the total norm of clip_grad_norm), and x *= s. */
double optim_sumsq(const float *x, int64_t n);
void optim_scale(float *x, int64_t n, float s);

#endif
