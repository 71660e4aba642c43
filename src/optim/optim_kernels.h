/* The optimiser update kernels, written once over core/simd.h and compiled once per
 * instruction-set level (optim_kern_avx512.c, optim_kern_avx2.c, optim_kern_baseline.c).
 * Each formula is PyTorch's in float32, in its order and with its roundings (no fused
 * multiply-adds: the kernel files are compiled with -ffp-contract=off), so every level
 * gives the same bits. One pass over the tensors; a ragged tail goes through padded
 * vectors on the stack (padding lanes are computed and dropped). */
#include <string.h>

#include "core/simd.h"
#include "optim/optim_level.h"

#define LEVEL_NAME AR_SIMD_NAME(optim_level_) /* optim_level_avx512, ... */

#define K(v) vset1(v)
/* x - a b, as x -= a * b */
VINL vf vsubmul(vf x, vf a, vf b) { return vsub(x, vmul(a, b)); }

/* ---------- SGD: d_p = g + wd p; buf = momentum buf + (1 - dampening) d_p (d_p on the
 * first step); p -= lr (d_p + momentum buf) with nesterov, else lr buf ---------- */
typedef struct {
  vf lr, mom, take, wd;
} sgd_c;
VINL void sgd_v(float *p, const float *g, float *buf, const sgd_c *c, bool has_buf,
                bool nesterov, bool first) {
  vf pv = vld(p), d = vadd(vld(g), vmul(c->wd, pv));
  if (!has_buf) {
    vst(p, vsubmul(pv, c->lr, d));
    return;
  }
  vf b = first ? d : vadd(vmul(c->mom, vld(buf)), vmul(c->take, d));
  vst(buf, b);
  vst(p, vsubmul(pv, c->lr, nesterov ? vadd(d, vmul(c->mom, b)) : b));
}
VINL void sgd_loop(float *p, const float *g, float *buf, int64_t n, const sgd_c *c,
                   bool has_buf, bool nesterov, bool first) {
  int64_t i = 0;
  for (; i + VL <= n; i += VL)
    sgd_v(p + i, g + i, has_buf ? buf + i : NULL, c, has_buf, nesterov, first);
  if (i < n) {
    float tp[VL] = {0}, tg[VL] = {0}, tb[VL] = {0};
    size_t r = (size_t)(n - i) * sizeof(float);
    memcpy(tp, p + i, r);
    memcpy(tg, g + i, r);
    if (has_buf && !first) memcpy(tb, buf + i, r);
    sgd_v(tp, tg, tb, c, has_buf, nesterov, first);
    memcpy(p + i, tp, r);
    if (has_buf) memcpy(buf + i, tb, r);
  }
}
static void k_sgd(float *restrict p, const float *restrict g, float *restrict buf, int64_t n,
                  float lr, float momentum, float take, bool nesterov, float wd, bool first) {
  const sgd_c c = {K(lr), K(momentum), K(take), K(wd)};
  /* one specialised loop per case (constant flags) */
  if (momentum == 0.0f)
    sgd_loop(p, g, NULL, n, &c, false, false, false);
  else if (first && nesterov)
    sgd_loop(p, g, buf, n, &c, true, true, true);
  else if (first)
    sgd_loop(p, g, buf, n, &c, true, false, true);
  else if (nesterov)
    sgd_loop(p, g, buf, n, &c, true, true, false);
  else
    sgd_loop(p, g, buf, n, &c, true, false, false);
}

/* ---------- Adam/AdamW (constants from optim.c) ---------- */
typedef struct {
  vf k, eps, b1, b2, c1, c2, shrink, l2;
} adam_c;
VINL void adam_v(float *p, const float *g, float *m, float *v, const adam_c *c) {
  vf pi = vmul(vld(p), c->shrink);
  vf gi = vadd(vld(g), vmul(c->l2, pi));
  vf mi = vadd(vmul(vld(m), c->b1), vmul(c->c1, gi));
  vf vi = vadd(vmul(vld(v), c->b2), vmul(vmul(c->c2, gi), gi));
  vst(m, mi);
  vst(v, vi);
  vst(p, vsub(pi, vdiv(vmul(c->k, mi), vadd(vsqrt(vi), c->eps))));
}
static void k_adam(float *restrict p, const float *restrict g, float *restrict m,
                   float *restrict v, int64_t n, float k, float eps_s, float b1, float b2,
                   float c1, float c2, float shrink, float l2) {
  const adam_c c = {K(k), K(eps_s), K(b1), K(b2), K(c1), K(c2), K(shrink), K(l2)};
  int64_t i = 0;
  for (; i + VL <= n; i += VL) adam_v(p + i, g + i, m + i, v + i, &c);
  if (i < n) {
    float tp[VL] = {0}, tg[VL] = {0}, tm[VL] = {0}, tv[VL] = {0};
    size_t r = (size_t)(n - i) * sizeof(float);
    memcpy(tp, p + i, r);
    memcpy(tg, g + i, r);
    memcpy(tm, m + i, r);
    memcpy(tv, v + i, r);
    adam_v(tp, tg, tm, tv, &c);
    memcpy(p + i, tp, r);
    memcpy(m + i, tm, r);
    memcpy(v + i, tv, r);
  }
}

/* ---------- RMSprop: gavg when centered, buf when momentum > 0 ---------- */
typedef struct {
  vf lr, alpha, c, eps, wd, mom;
} rms_c;
VINL void rms_v(float *p, const float *g, float *sq, float *gavg, float *buf, const rms_c *c,
                bool centered, bool mom) {
  vf pv = vld(p), gi = vadd(vld(g), vmul(c->wd, pv));
  vf s = vadd(vmul(vld(sq), c->alpha), vmul(vmul(c->c, gi), gi));
  vst(sq, s);
  vf avg;
  if (centered) {
    vf a = vadd(vmul(vld(gavg), c->alpha), vmul(c->c, gi));
    vst(gavg, a);
    avg = vadd(vsqrt(vsub(s, vmul(a, a))), c->eps);
  } else {
    avg = vadd(vsqrt(s), c->eps);
  }
  if (mom) {
    vf b = vadd(vmul(vld(buf), c->mom), vdiv(gi, avg));
    vst(buf, b);
    vst(p, vsubmul(pv, c->lr, b));
  } else {
    vst(p, vsubmul(pv, c->lr, vdiv(gi, avg)));
  }
}
VINL void rms_loop(float *p, const float *g, float *sq, float *gavg, float *buf, int64_t n,
                   const rms_c *c, bool centered, bool mom) {
  int64_t i = 0;
  for (; i + VL <= n; i += VL)
    rms_v(p + i, g + i, sq + i, centered ? gavg + i : NULL, mom ? buf + i : NULL, c, centered,
          mom);
  if (i < n) {
    float tp[VL] = {0}, tg[VL] = {0}, ts[VL] = {0}, ta[VL] = {0}, tb[VL] = {0};
    size_t r = (size_t)(n - i) * sizeof(float);
    memcpy(tp, p + i, r);
    memcpy(tg, g + i, r);
    memcpy(ts, sq + i, r);
    if (centered) memcpy(ta, gavg + i, r);
    if (mom) memcpy(tb, buf + i, r);
    rms_v(tp, tg, ts, ta, tb, c, centered, mom);
    memcpy(p + i, tp, r);
    memcpy(sq + i, ts, r);
    if (centered) memcpy(gavg + i, ta, r);
    if (mom) memcpy(buf + i, tb, r);
  }
}
static void k_rmsprop(float *restrict p, const float *restrict g, float *restrict sq,
                      float *restrict gavg, float *restrict buf, int64_t n, float lr,
                      float alpha, float eps, float wd, float momentum) {
  const rms_c c = {K(lr), K(alpha), K(1.0f - alpha), K(eps), K(wd), K(momentum)};
  if (gavg && buf)
    rms_loop(p, g, sq, gavg, buf, n, &c, true, true);
  else if (gavg)
    rms_loop(p, g, sq, gavg, NULL, n, &c, true, false);
  else if (buf)
    rms_loop(p, g, sq, NULL, buf, n, &c, false, true);
  else
    rms_loop(p, g, sq, NULL, NULL, n, &c, false, false);
}

/* ---------- Adagrad ---------- */
typedef struct {
  vf clr, eps, wd;
} ada_c;
VINL void ada_v(float *p, const float *g, float *sum, const ada_c *c) {
  vf pv = vld(p), gi = vadd(vld(g), vmul(c->wd, pv));
  vf s = vadd(vld(sum), vmul(gi, gi));
  vst(sum, s);
  vst(p, vsubmul(pv, c->clr, vdiv(gi, vadd(vsqrt(s), c->eps))));
}
static void k_adagrad(float *restrict p, const float *restrict g, float *restrict sum,
                      int64_t n, float clr, float eps, float wd) {
  const ada_c c = {K(clr), K(eps), K(wd)};
  int64_t i = 0;
  for (; i + VL <= n; i += VL) ada_v(p + i, g + i, sum + i, &c);
  if (i < n) {
    float tp[VL] = {0}, tg[VL] = {0}, ts[VL] = {0};
    size_t r = (size_t)(n - i) * sizeof(float);
    memcpy(tp, p + i, r);
    memcpy(tg, g + i, r);
    memcpy(ts, sum + i, r);
    ada_v(tp, tg, ts, &c);
    memcpy(p + i, tp, r);
    memcpy(sum + i, ts, r);
  }
}

const optim_level LEVEL_NAME = {k_sgd, k_adam, k_rmsprop, k_adagrad};
