/* Optimiser kernels and the fused nll / cross entropy against naive double references:
 * the kernels over lengths that exercise vector bodies and tails, the loss on huge logits. */
#include <criterion/criterion.h>
#include <math.h>

#include "core/core.h"
#include "optim/loss.h"
#include "optim/optim.h"

#define N 37 /* not a multiple of any vector width: the scalar tail runs too */

static void fill(float *x, int n, float a, float b) {
  for (int i = 0; i < n; i++) x[i] = a + b * (float)((i * 7) % 11 - 5);
}

Test(optim, sgd_nesterov_matches_reference) {
  float p[N], g[N], buf[N];
  double rp[N], rb[N];
  fill(p, N, 0.5f, 0.1f);
  for (int i = 0; i < N; i++) rp[i] = p[i];
  for (int step = 0; step < 3; step++) {
    fill(g, N, 0.01f * (float)step, 0.2f);
    optim_sgd(p, g, buf, N, 0.1f, 0.9f, 0.0f, true, 0.01f, step == 0);
    for (int i = 0; i < N; i++) {
      double d = g[i] + 0.01 * rp[i];
      rb[i] = step == 0 ? d : 0.9 * rb[i] + d;
      rp[i] -= 0.1 * (d + 0.9 * rb[i]);
    }
  }
  for (int i = 0; i < N; i++) cr_assert(fabs(p[i] - rp[i]) < 1e-5, "p[%d] %g vs %g", i, p[i], rp[i]);
}

Test(optim, adam_and_adamw_match_reference) {
  for (int decoupled = 0; decoupled < 2; decoupled++) {
    float p[N], g[N], m[N] = {0}, v[N] = {0};
    double rp[N], rm[N] = {0}, rv[N] = {0};
    fill(p, N, -0.3f, 0.2f);
    for (int i = 0; i < N; i++) rp[i] = p[i];
    for (int step = 1; step <= 3; step++) {
      fill(g, N, 0.05f * (float)step, -0.3f);
      optim_adam(p, g, m, v, N, 0.01f, 0.9, 0.999, 1e-8f, 0.1f, decoupled, step);
      for (int i = 0; i < N; i++) {
        double gi = g[i];
        if (decoupled) rp[i] *= 1 - 0.01 * 0.1;
        else gi += 0.1 * rp[i];
        rm[i] = 0.9 * rm[i] + 0.1 * gi;
        rv[i] = 0.999 * rv[i] + 0.001 * gi * gi;
        double mh = rm[i] / (1 - pow(0.9, step)), vh = rv[i] / (1 - pow(0.999, step));
        rp[i] -= 0.01 * mh / (sqrt(vh) + 1e-8);
      }
    }
    for (int i = 0; i < N; i++)
      cr_assert(fabs(p[i] - rp[i]) < 1e-5, "decoupled %d p[%d] %g vs %g", decoupled, i, p[i], rp[i]);
  }
}

Test(optim, sumsq_and_scale) {
  float x[N];
  double ref = 0;
  fill(x, N, 1.0f, 0.5f);
  for (int i = 0; i < N; i++) ref += (double)x[i] * x[i];
  cr_assert(fabs(optim_sumsq(x, N) - ref) < 1e-9 * ref);
  optim_scale(x, N, 0.5f);
  cr_assert(fabs(optim_sumsq(x, N) - ref / 4) < 1e-9 * ref);
}

Test(optim, cross_entropy_huge_logits_and_backward) {
  ar_ctx *C = ar_ctx_new();
  int64_t sx[2] = {2, 3}, sl[1] = {2};
  ar_tensor x, lab, out, gx;
  cr_assert_eq(ar_empty(C, &x, 2, sx), AR_OK);
  cr_assert_eq(ar_empty(C, &lab, 1, sl), AR_OK);
  const float xv[6] = {1e30f, 0, -1e30f, 1, 2, 3};
  for (int i = 0; i < 6; i++) ar_data(&x)[i] = xv[i];
  ar_data(&lab)[0] = 0, ar_data(&lab)[1] = 2;
  cr_assert_eq(ar_nll_loss(C, &out, &x, &lab, true), AR_OK);
  double lse = log(exp(1.0) + exp(2.0) + exp(3.0));
  cr_assert(fabs(ar_data(&out)[0] - (lse - 3) / 2) < 1e-6, "%g", ar_data(&out)[0]);
  cr_assert_eq(ar_nll_loss_backward(C, &gx, &x, &lab, true, 1.0f), AR_OK);
  const float *g = ar_data(&gx);
  cr_assert(fabs(g[0]) < 1e-7 && fabs(g[1]) < 1e-7 && fabs(g[2]) < 1e-7);
  cr_assert(fabs(g[5] - (exp(3 - lse) - 1) / 2) < 1e-6);
  float s = 0;
  for (int i = 0; i < 6; i++) s += g[i];
  cr_assert(fabs(s) < 1e-6, "rows of the gradient sum to 0");
  ar_release(&x), ar_release(&lab), ar_release(&out), ar_release(&gx);
  ar_ctx_release(C);
}
