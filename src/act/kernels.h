/* The activation kernels, written once over the vector abstraction of core/simd.h and
 * compiled once per instruction-set level (kern_avx512.c, kern_avx2.c, kern_baseline.c
 * define AR_SIMD_LEVEL and include this file). Each level exports one act_level: the
 * forward, backward and fused kernels of every registry entry in act_table's order
 * (ACT_LIST, act.h), and its inline exp/expm1/log1p for their accuracy tests.
 *
 * Every kernel is one pass over memory in whole vectors, with one zero-padded vector
 * for a ragged tail; lanes are independent, so a result never depends on how the work
 * is split (calls start at multiples of ACT_GROUP, a multiple of every VL). Inside a
 * level the fused kernel shares the forward's and the backward's expressions, so its
 * bits are theirs (tested). Levels differ in the last bits only where the baseline x86
 * level, which has no FMA, rounds a * b + c twice (each level is tested against the
 * double references within the documented bounds).
 *
 * Edge cases (tested): x NaN gives NaN for f and f'; at +-inf f and f' are the limits,
 * which is why some products use an input clamped by vclamp (a NaN stays NaN) and why
 * x * s is written as a signed zero when s == 0. */
#include <math.h>
#include <string.h>

#include "act/act.h"
#include "core/simd.h"
#include "core/simd_math.h"

#define LEVEL_NAME AR_SIMD_NAME(act_level_) /* act_level_avx512, ... */

#define K(v) vset1(v)
#define INF ((float)INFINITY)


/* ---------- exp, expm1, log1p for the one-pass kernels ----------
 * x = k ln2 + r with k = round(x / ln2) (the 1.5 * 2^23 trick, exact for
 * |x / ln2| < 2^22), r = x - k ln2 in two steps (Cody-Waite: k * LN2_HI is exact for
 * |k| < 2^9), |r| <= ln2 / 2, and expm1(r) = r + r^2 P(r), P of degree 4: a minimax fit
 * in relative error with float coefficients (scripts/fit/fit_poly.py expm1: 1.4e-8
 * before the float evaluation). Then exp(x) = 2^k (1 + p) and expm1(x) = 2^k p + (2^k - 1).
 * Measured with FMA on every float in [-87, 0] (expm1) and [-87.33, 0] (exp) against
 * double: max error 0.95 ulp for expm1, 1.03 ulp for exp; tests/c/test_act.c checks a
 * sample at every level at <= 2 ulp. */
#define LN2_HI 0.693145751953125f
#define LN2_LO 1.42860682030941723212e-6f
#define LOG2E 1.44269504088896341f
#define RND_MAGIC 12582912.0f /* 1.5 * 2^23 */

/* expm1(r) for |r| <= ln2 / 2 (and a little more) */
VINL vf exp_poly(vf r) {
  vf q = vfma(r, K(1.387066557e-03f), K(8.366263472e-03f));
  q = vfma(q, r, K(4.166743532e-02f));
  q = vfma(q, r, K(1.666654646e-01f));
  q = vfma(q, r, K(4.999999702e-01f));
  return vfma(vmul(r, r), q, r);
}
/* k = round(x / ln2) as a float and in *k (kb's bits are 1.5 * 2^23's plus k) */
VINL vf exp_k(vf xc, vi *k) {
  vf kb = vfma(xc, K(LOG2E), K(RND_MAGIC));
  *k = visub(vbits(kb), viset1(0x4B400000));
  return vsub(kb, K(RND_MAGIC));
}
/* expm1(r), r = x - k ln2, for x already clamped (NaN: p NaN) */
VINL vf exp_reduce(vf xc, vi *k) {
  vf nk = vneg(exp_k(xc, k));
  return exp_poly(vfma(nk, K(LN2_LO), vfma(nk, K(LN2_HI), xc)));
}
/* 2^k for k in [-126, 127] (k = -127 gives exactly 0) */
VINL vf pow2i(vi k) { return vfrombits(vishl23(viadd(k, viset1(127)))); }
/* expm1(x) for x <= 0 (and NaN, -inf; positive x is taken as 0); keeps the sign of a
 * zero. Below -87 expm1 is -1 in float: the clamp keeps 2^k normal. */
VINL vf expm1_np(vf x) {
  vi k;
  vf p = exp_reduce(vclamp(x, K(-87.0f), K(0.0f)), &k), s = pow2i(k);
  vf e = vfma(s, p, vsub(s, K(1.0f)));
  return vsel(veq(x, K(0.0f)), x, e);
}
/* 2^24 exp(x) for x <= 0, down through the subnormal range: 2^(k + 24) (1 + p) is normal
 * for k >= -149; x is clamped to -104.9, where the scale 2^(k + 24) is exactly 0, so the
 * result is 0 from there on without a select. A kernel that multiplies exp(x) by
 * something scales by 2^-24 once at the end, so a normal result does not go through a
 * subnormal intermediate. */
VINL vf exp_np24(vf x) {
  vi k;
  vf p = exp_reduce(vclamp(x, K(-104.9f), K(0.0f)), &k), s = pow2i(viadd(k, viset1(24)));
  return vfma(s, p, s);
}
VINL vf exp_np(vf x) { return vmul(exp_np24(x), K(0x1p-24f)); }
/* exp_np24(a b) for a b in [-112.5, 0] without the rounding of the product: the first
 * reduction step a b - k LN2_HI is one exact fma (k LN2_HI is exact), so r is as accurate
 * as for an exact argument (gelu's exp(-t^2/2), whose tail would otherwise carry a
 * relative error of t^2 * 3e-8). */
VINL vf exp_np24_mul(vf a, vf b) {
  vi k;
  vf kf = exp_k(vmaxx(K(-104.9f), vmul(a, b)), &k), nk = vneg(kf);
  vf r = vfma_x(a, b, vmul(nk, K(LN2_HI)));
  vf p = exp_poly(vfma(nk, K(LN2_LO), r)), s = pow2i(viadd(k, viset1(24)));
  return vfma(s, p, s);
}
/* log1p(e) for e in [0, 1] (NaN stays NaN), the softplus/logsigmoid term
 * log1p(exp(-|x|)), divide-free: e + e^2 H(e), H of degree 8 fitted in relative error on
 * [0, 1] with float coefficients (scripts/fit/fit_poly.py log1p: 5.3e-9). Measured with
 * FMA over every float in [0, 1]: 1.30 ulp; softplus over [-110, 25]: 1.95 ulp. */
VINL vf log1p_01(vf e) {
  vf h = vfma(e, K(-3.290468594e-03f), K(2.008624189e-02f));
  h = vfma(h, e, K(-5.745723099e-02f));
  h = vfma(h, e, K(1.066112816e-01f));
  h = vfma(h, e, K(-1.534488052e-01f));
  h = vfma(h, e, K(1.969210207e-01f));
  h = vfma(h, e, K(-2.495801896e-01f));
  h = vfma(h, e, K(3.333046436e-01f));
  h = vfma(h, e, K(-4.999993145e-01f));
  return vfma(vmul(h, e), e, e);
}

/* ---------- loops ----------
 * FWD: y = EXPR(x); BWD: dx = EXPR(x, g) (NaN where x is NaN); FUSED: y = FEXPR(x) and
 * d = DEXPR(x), with the forward's expression and the backward's factor of dy (written
 * g * D there), so dy * d has the backward's bits; SND (below): f''. DECL reads
 * parameters into locals. The tail goes through zero-padded vectors on the stack. */
#define FWD(NAME, DECL, EXPR)                                                        \
  static void NAME(const float *restrict xv, float *restrict yv, int64_t n,          \
                   const float *restrict p) {                                        \
    (void)p;                                                                         \
    DECL;                                                                            \
    int64_t i = 0;                                                                   \
    for (; i + VL <= n; i += VL) {                                                   \
      vf x = vld(xv + i);                                                            \
      vst(yv + i, (EXPR));                                                           \
    }                                                                                \
    if (i < n) {                                                                     \
      float tx[VL] = {0}, ty[VL];                                                    \
      memcpy(tx, xv + i, (size_t)(n - i) * sizeof(float));                          \
      vf x = vld(tx);                                                                \
      vst(ty, (EXPR));                                                               \
      memcpy(yv + i, ty, (size_t)(n - i) * sizeof(float));                           \
    }                                                                                \
  }
#define BWD(NAME, DECL, EXPR)                                                            \
  static void NAME(const float *restrict xv, const float *restrict gv, float *restrict dv, \
                   int64_t n, const float *restrict p) {                                 \
    (void)p;                                                                             \
    DECL;                                                                                \
    int64_t i = 0;                                                                       \
    for (; i + VL <= n; i += VL) {                                                       \
      vf x = vld(xv + i), g = vld(gv + i);                                               \
      (void)g;                                                                           \
      vst(dv + i, vsel(visnan(x), x, (EXPR)));                                           \
    }                                                                                    \
    if (i < n) {                                                                         \
      float tx[VL] = {0}, tg[VL] = {0}, td[VL];                                          \
      memcpy(tx, xv + i, (size_t)(n - i) * sizeof(float));                               \
      memcpy(tg, gv + i, (size_t)(n - i) * sizeof(float));                               \
      vf x = vld(tx), g = vld(tg);                                                       \
      (void)g;                                                                           \
      vst(td, vsel(visnan(x), x, (EXPR)));                                               \
      memcpy(dv + i, td, (size_t)(n - i) * sizeof(float));                               \
    }                                                                                    \
  }
#define FUSED(NAME, DECL, FEXPR, DEXPR)                                                \
  static void NAME(const float *restrict xv, float *restrict yv, float *restrict dv,   \
                   int64_t n, const float *restrict p) {                               \
    (void)p;                                                                           \
    DECL;                                                                              \
    int64_t i = 0;                                                                     \
    for (; i + VL <= n; i += VL) {                                                     \
      vf x = vld(xv + i);                                                              \
      vst(yv + i, (FEXPR));                                                            \
      vst(dv + i, vsel(visnan(x), x, (DEXPR)));                                        \
    }                                                                                  \
    if (i < n) {                                                                       \
      float tx[VL] = {0}, ty[VL], td[VL];                                              \
      memcpy(tx, xv + i, (size_t)(n - i) * sizeof(float));                             \
      vf x = vld(tx);                                                                  \
      vst(ty, (FEXPR));                                                                \
      vst(td, vsel(visnan(x), x, (DEXPR)));                                            \
      memcpy(yv + i, ty, (size_t)(n - i) * sizeof(float));                             \
      memcpy(dv + i, td, (size_t)(n - i) * sizeof(float));                             \
    }                                                                                  \
  }
/* SND: d2 = EXPR(x), f'' (NaN where x is NaN): the forward loop over the second
 * derivative's expression. */
#define SND(NAME, DECL, EXPR)                                               \
  static void NAME(const float *restrict xv, float *restrict dv, int64_t n, \
                   const float *restrict p) {                               \
    (void)p;                                                                \
    DECL;                                                                   \
    int64_t i = 0;                                                          \
    for (; i + VL <= n; i += VL) {                                          \
      vf x = vld(xv + i);                                                   \
      vst(dv + i, vsel(visnan(x), x, (EXPR)));                              \
    }                                                                       \
    if (i < n) {                                                            \
      float tx[VL] = {0}, td[VL];                                           \
      memcpy(tx, xv + i, (size_t)(n - i) * sizeof(float));                  \
      vf x = vld(tx);                                                       \
      vst(td, vsel(visnan(x), x, (EXPR)));                                  \
      memcpy(dv + i, td, (size_t)(n - i) * sizeof(float));                  \
    }                                                                       \
  }
#define NODECL (void)0
#define PAR1 const vf a = K(p[0])
#define PAR2 const vf a = K(p[0]), b = K(p[1])
#define ZERO K(0.0f)
#define ONE K(1.0f)

/* v / 6 without a division where the level has FMA (vdivps bounded these kernels):
 * q = v (1/6) corrected once by its fma residual, equal to v / 6 for every float v whose
 * quotient is normal (checked over all floats in [0, 12]; a subnormal quotient may differ
 * by one unit of 2^-149). Without FMA the residual is not exact: a division. */
#define R6 (1.0f / 6.0f)
VINL vf div6_fin(vf v) { /* finite v, not -0 */
#ifdef AR_SIMD_NO_FMA
  return vdiv(v, K(6.0f));
#else
  vf q = vmul(v, K(R6));
  return vfma(vfma(vneg(q), K(6.0f), v), K(R6), q);
#endif
}
VINL vf div6(vf v) {
#ifdef AR_SIMD_NO_FMA
  return vdiv(v, K(6.0f));
#else
  vf c = div6_fin(v); /* inf: the residual is NaN; -0 stays -0 through the sign */
  return vcopysign(vsel(veq(c, c), c, vmul(v, K(R6))), v);
#endif
}
/* m ? x * s : signed zero of x, for products whose factor underflowed to 0 */
VINL vf xs_or_zero(vf x, vf s) { return vsel(veq(s, ZERO), vcopysign(ZERO, x), vmul(x, s)); }
/* (m ? a : 0) */
VINL vf vand0(vm m, vf a) { return vsel(m, a, ZERO); }

/* ---------- identity, step ---------- */
/* a vector copy, not memcpy: glibc's memcpy takes `rep movsb` for the 4 KB pieces of a
 * streamed output, which ran at half the speed of every other cheap kernel here */
FWD(f_identity, NODECL, x)
BWD(b_identity, NODECL, g)
FWD(f_step, NODECL, vsel(visnan(x), x, vand0(vgt(x, ZERO), ONE)))
BWD(b_step, NODECL, ZERO)
/* f'' of the piecewise-linear entries: 0 everywhere, kinks included (one kernel; the
 * table points every such entry at it) */
SND(d2_zero, NODECL, ZERO)

/* ---------- sigmoid-like ---------- */
/* sigmoid from e = exp(-|x|): 1/(1+e) or e/(1+e) */
VINL vf sigmoid_e(vf x, vf e) {
  vf r = vdiv(ONE, vadd(ONE, e));
  return vsel(vge(x, ZERO), r, vmul(e, r));
}
VINL vf sigmoid_f(vf x) { return sigmoid_e(x, exp_np(vneg(vabs(x)))); }
VINL vf sigmoid_d(vf x) {
  vf e = exp_np(vneg(vabs(x))), r = vdiv(ONE, vadd(ONE, e));
  return vmul(vmul(e, r), r);
}
FWD(f_sigmoid, NODECL, sigmoid_f(x))
BWD(b_sigmoid, NODECL, vmul(g, sigmoid_d(x)))
FUSED(fb_sigmoid, NODECL, sigmoid_f(x), sigmoid_d(x))
/* sigmoid'' = -sign(x) e (1 - e) / (1 + e)^3 with e = exp(-|x|) and 1 - e = -expm1(-|x|):
 * no cancellation at 0 nor in the tails */
VINL vf sigmoid_d2(vf x) {
  vf na = vneg(vabs(x)), e = exp_np(na), m = vneg(expm1_np(na)), r = vdiv(ONE, vadd(ONE, e));
  return vcopysign(vmul(vmul(vmul(e, m), r), vmul(r, r)), vneg(x));
}
SND(d2_sigmoid, NODECL, sigmoid_d2(x))

FWD(f_hard_sigmoid, NODECL, div6(vclamp(vadd(x, K(3.0f)), ZERO, K(6.0f))))
BWD(b_hard_sigmoid, NODECL, vand0(mand(vgt(x, K(-3.0f)), vlt(x, K(3.0f))), vmul(g, K(R6))))

/* tanh(|x|) = -u / (2 + u) with u = expm1(-2|x|) (no cancellation near 0), then the
 * sign of x; 1 at +-inf (u = -1) */
VINL vf tanh_f(vf x) {
  vf u = expm1_np(vmul(K(-2.0f), vabs(x)));
  return vcopysign(vdiv(vneg(u), vadd(K(2.0f), u)), x);
}
/* sech^2 = 4e / (1 + e)^2, e = exp(-2|x|) (no 1 - t^2 cancellation) */
VINL vf tanh_d(vf x) {
  vf e = exp_np(vmul(K(-2.0f), vabs(x))), d = vadd(ONE, e);
  return vdiv(vmul(K(4.0f), e), vmul(d, d));
}
FWD(f_tanh, NODECL, tanh_f(x))
BWD(b_tanh, NODECL, vmul(g, tanh_d(x)))
/* tanh'' = -2 tanh sech^2 */
SND(d2_tanh, NODECL, vmul(vmul(K(-2.0f), tanh_f(x)), tanh_d(x)))

VINL vf softsign_f(vf x) {
  vf ax = vabs(x);
  return vsel(veq(ax, K(INF)), vcopysign(ONE, x), vdiv(x, vadd(ONE, ax)));
}
VINL vf softsign_d(vf x) {
  vf d = vadd(ONE, vabs(x));
  return vdiv(ONE, vmul(d, d));
}
FWD(f_softsign, NODECL, softsign_f(x))
BWD(b_softsign, NODECL, vdiv(g, vmul(vadd(ONE, vabs(x)), vadd(ONE, vabs(x)))))
/* softsign'' = -2 sign(x) / (1 + |x|)^3, 0 at x = 0 (autograd's sign(0) = 0) */
VINL vf softsign_d2(vf x) {
  vf d = vadd(ONE, vabs(x));
  vf v = vcopysign(vdiv(K(2.0f), vmul(vmul(d, d), d)), vneg(x));
  return vsel(veq(x, ZERO), ZERO, v);
}
SND(d2_softsign, NODECL, softsign_d2(x))

/* hardtanh(min_val, max_val): the gradient is 1 strictly inside, 0 at the bounds */
FWD(f_hardtanh, PAR2, vclamp(x, a, b))
BWD(b_hardtanh, PAR2, vand0(mand(vgt(x, a), vlt(x, b)), g))

/* ---------- relu-like ---------- */
/* relu(-0) = +0 and relu(NaN) = NaN, as PyTorch */
FWD(f_relu, NODECL, vsel(mor(vgt(x, ZERO), visnan(x)), x, ZERO))
BWD(b_relu, NODECL, vand0(vgt(x, ZERO), g))
FWD(f_relu6, NODECL, vclamp(x, ZERO, K(6.0f)))
BWD(b_relu6, NODECL, vand0(mand(vgt(x, ZERO), vlt(x, K(6.0f))), g))

/* leaky_relu, prelu (scalar slope) and rrelu in eval mode share one form */
FWD(f_leaky_relu, PAR1, vsel(vgt(x, ZERO), x, vmul(x, a)))
BWD(b_leaky_relu, PAR1, vsel(vgt(x, ZERO), g, vmul(g, a)))
static void f_prelu(const float *x, float *y, int64_t n, const float *p) {
  f_leaky_relu(x, y, n, p);
}
static void b_prelu(const float *x, const float *dy, float *dx, int64_t n, const float *p) {
  b_leaky_relu(x, dy, dx, n, p);
}
static void f_rrelu(const float *x, float *y, int64_t n, const float *p) {
  float s = (p[0] + p[1]) * 0.5f;
  f_leaky_relu(x, y, n, &s);
}
static void b_rrelu(const float *x, const float *dy, float *dx, int64_t n, const float *p) {
  float s = (p[0] + p[1]) * 0.5f;
  b_leaky_relu(x, dy, dx, n, &s);
}

/* ---------- exponential linear units (x <= 0 takes the exponential side) ---------- */
FWD(f_elu, PAR1, vsel(vgt(x, ZERO), x, vmul(a, expm1_np(x))))
BWD(b_elu, PAR1, vsel(vgt(x, ZERO), g, vmul(g, vmul(a, exp_np(x)))))
/* f'' = f' on the exponential side (x <= 0, 0 included), 0 above */
SND(d2_elu, PAR1, vsel(vgt(x, ZERO), ZERO, vmul(a, exp_np(x))))

#define SELU_ALPHA 1.6732632423543772848170429916717
#define SELU_SCALE 1.0507009873554804934193349852946
#define SELU_P const vf sc = K((float)SELU_SCALE), neg = K((float)(SELU_ALPHA * SELU_SCALE))
FWD(f_selu, SELU_P, vsel(vgt(x, ZERO), vmul(sc, x), vmul(neg, expm1_np(x))))
BWD(b_selu, SELU_P, vmul(g, vsel(vgt(x, ZERO), sc, vmul(neg, exp_np(x)))))
SND(d2_selu, const vf neg = K((float)(SELU_ALPHA * SELU_SCALE)),
    vsel(vgt(x, ZERO), ZERO, vmul(neg, exp_np(x))))

/* alpha > 0: x / alpha <= 0 on the exponential side, the inline expm1/exp; a negative
 * alpha sends positive arguments to expm1 (up to overflow): SLEEF's */
FWD(f_celu_pos, PAR1, vsel(vgt(x, ZERO), x, vmul(a, expm1_np(vdiv(x, a)))))
BWD(b_celu_pos, PAR1, vsel(vgt(x, ZERO), g, vmul(g, exp_np(vdiv(x, a)))))
VINL vf celu_arg(vf x, vf a) { return vsel(vgt(x, ZERO), ZERO, vdiv(x, a)); }
FWD(f_celu_neg, PAR1, vsel(vgt(x, ZERO), x, vmul(a, sl_expm1(celu_arg(x, a)))))
BWD(b_celu_neg, PAR1, vmul(g, vsel(vgt(x, ZERO), ONE, sl_exp(celu_arg(x, a)))))
/* celu'' = exp(x / alpha) / alpha on the exponential side */
SND(d2_celu_pos, PAR1, vsel(vgt(x, ZERO), ZERO, vdiv(exp_np(vdiv(x, a)), a)))
SND(d2_celu_neg, PAR1, vsel(vgt(x, ZERO), ZERO, vdiv(sl_exp(celu_arg(x, a)), a)))
static void d2_celu(const float *x, float *y, int64_t n, const float *p) {
  (p[0] > 0 ? d2_celu_pos : d2_celu_neg)(x, y, n, p);
}
static void f_celu(const float *x, float *y, int64_t n, const float *p) {
  (p[0] > 0 ? f_celu_pos : f_celu_neg)(x, y, n, p);
}
static void b_celu(const float *x, const float *dy, float *dx, int64_t n, const float *p) {
  (p[0] > 0 ? b_celu_pos : b_celu_neg)(x, dy, dx, n, p);
}

/* ---------- smooth self-gated ---------- */

/* gelu = x Phi(x). Phi(-t) = exp(-t^2/2) R(t) for t = |x|, R = P/Q of degrees 4/5, a
 * minimax fit in relative error on [0, 15] (scripts/fit/fit_phi.py; with float
 * coefficients within 2.7e-8 of R). exp(-t^2/2) takes -t^2/2 = (-t/2) t exactly into its
 * reduction (exp_np24_mul); t is clamped to 15 (exp is 0 from |x| = 14.43 on), a NaN stays
 * NaN. The exp is kept scaled by 2^24 and R's numerator by 2^-24 (P's coefficients times
 * 2^-24, exact); x e24 comes first, so for tiny x nothing underflows and a subnormal
 * result is rounded once. gelu = x - v for x > 0 and v for x <= 0, v = x exp(-t^2/2) R(t)
 * (x clamped to +-15: no inf * 0; at -inf v is -0). Measured with FMA on every 11th float
 * in [-15, 15] against the double scalar (erfc): forward 5.8 ulp; backward absolute
 * 1.4e-7, relative up to 15 ulp where |f'| > 0.05. */
#define S24 0x1p-24f
#define INV_SQRT_2PI 0.39894228040143267794
VINL vf gelu_r24(vf t) {
  vf p = vfma(t, K(4.153423477e-03f * S24), K(4.088258371e-02f * S24));
  p = vfma(p, t, K(1.839736551e-01f * S24));
  p = vfma(p, t, K(4.392898083e-01f * S24));
  p = vfma(p, t, K(5.000000000e-01f * S24));
  vf q = vfma(t, K(1.041097660e-02f), K(1.024835557e-01f));
  q = vfma(q, t, K(4.714205563e-01f));
  q = vfma(q, t, K(1.205567479e+00f));
  q = vfma(q, t, K(1.676464677e+00f));
  q = vfma(q, t, ONE);
  return vdiv(p, q);
}
VINL vf gelu_f(vf x) {
  vf t = vminx(K(15.0f), vabs(x)), xc = vcopysign(t, x);
  vf v = vmul(vmul(xc, exp_np24_mul(vmul(K(-0.5f), t), t)), gelu_r24(t));
  return vsel(vle(x, ZERO), v, vsub(x, v));
}
/* gelu' = Phi(x) + x phi(x) = -s for x < 0 and 1 + s above, with
 * s = exp(-t^2/2) (t / sqrt(2 pi) - R(t)) */
VINL vf gelu_d(vf x) {
  vf t = vminx(K(15.0f), vabs(x));
  vf s = vmul(vfma(t, K((float)INV_SQRT_2PI * S24), vneg(gelu_r24(t))),
              exp_np24_mul(vmul(K(-0.5f), t), t));
  return vsel(vlt(x, ZERO), vneg(s), vadd(ONE, s));
}
FWD(f_gelu, NODECL, gelu_f(x))
BWD(b_gelu, NODECL, vmul(g, gelu_d(x)))
FUSED(fb_gelu, NODECL, gelu_f(x), gelu_d(x))
/* gelu'' = phi(x) (2 - x^2): the scaled exp(-t^2/2) (exact argument) times (2 - t^2) in one
 * rounding where the level has FMA, scaled back once */
VINL vf gelu_d2(vf x) {
  vf t = vminx(K(15.0f), vabs(x));
  vf v = vmul(exp_np24_mul(vmul(K(-0.5f), t), t), vfma(vneg(t), t, K(2.0f)));
  return vmul(v, K((float)INV_SQRT_2PI * S24));
}
SND(d2_gelu, NODECL, gelu_d2(x))

/* gelu_tanh = x/2 (1 + tanh(u)), u = sqrt(2/pi)(x + 0.044715 x^3), written x sigmoid(2u)
 * so the left tail does not cancel; e = exp(-|2u|) of x clamped to +-100 */
#define GT_K 0.79788456080286535588f
#define GT_C 0.044715f
VINL vf gt_e(vf v) {
  vf u2 = vmul(K(2.0f * GT_K), vfma(vmul(vmul(K(GT_C), v), v), v, v));
  return exp_np(vneg(vabs(u2)));
}
VINL vf gelu_tanh_f(vf x) {
  vf v = vclamp(x, K(-100.0f), K(100.0f));
  return xs_or_zero(x, sigmoid_e(v, gt_e(v)));
}
VINL vf gelu_tanh_d(vf x) {
  vf v = vclamp(x, K(-100.0f), K(100.0f)), e = gt_e(v), r = vdiv(ONE, vadd(ONE, e));
  vf s = vsel(vge(v, ZERO), r, vmul(e, r)), q = vmul(vmul(e, r), r);
  vf du = vfma(vmul(K(3.0f * GT_C), v), v, ONE); /* 1 + 3 c v^2 */
  return vfma(vmul(vmul(vmul(K(2.0f), v), q), K(GT_K)), du, s);
}
FWD(f_gelu_tanh, NODECL, gelu_tanh_f(x))
BWD(b_gelu_tanh, NODECL, vmul(g, gelu_tanh_d(x)))
/* gelu_tanh'' = q (4 u' + 4 x (1 - 2S) u'^2 + 2 x u'') with v = 2u, S = sigmoid(v),
 * q = S (1 - S) = e / (1 + e)^2, 1 - 2S = -sign(v) (1 - e) / (1 + e), e = exp(-|v|),
 * u' = k (1 + 3 c x^2), u'' = 6 k c x; x clamped to +-100 (q is 0 there) */
VINL vf gelu_tanh_d2(vf x) {
  vf v = vclamp(x, K(-100.0f), K(100.0f));
  vf na = vneg(vabs(vmul(K(2.0f * GT_K), vfma(vmul(vmul(K(GT_C), v), v), v, v))));
  vf e = exp_np(na), r = vdiv(ONE, vadd(ONE, e)), q = vmul(vmul(e, r), r);
  vf w = vcopysign(vmul(vneg(expm1_np(na)), r), vneg(v)); /* 1 - 2S: v and x share a sign */
  vf du = vmul(K(GT_K), vfma(vmul(K(3.0f * GT_C), v), v, ONE));
  vf b = vfma(vmul(vmul(K(4.0f), v), w), vmul(du, du), vmul(K(4.0f), du));
  return vmul(q, vfma(vmul(K(12.0f * GT_K * GT_C), v), v, b));
}
SND(d2_gelu_tanh, NODECL, gelu_tanh_d2(x))

/* swish(beta) = x sigmoid(beta x); silu is beta = 1. e = exp(-|beta x|) with beta x =
 * h + l split exactly (vfma_x): the rounding of beta x would otherwise become a relative
 * error of |beta x| * 6e-8 in the tail. */
VINL vf swish_e(vf x, vf b) {
  vf h = vmul(b, x);
  vf l = vsel(vlt(vabs(h), K(INF)), vfma_x(b, x, vneg(h)), ZERO); /* fma(b, inf, -inf): NaN */
  vf e = exp_np(vneg(vabs(h)));
  return vfma(e, vsel(vge(h, ZERO), vneg(l), l), e); /* e (1 -+ l), one rounding */
}
/* sigmoid(bx) and its derivative factor from e */
VINL vf swish_f_e(vf x, vf bx, vf e) {
  vf r = vdiv(ONE, vadd(ONE, e));
  return xs_or_zero(x, vsel(vge(bx, ZERO), r, vmul(e, r)));
}
VINL vf swish_d_e(vf bx, vf e) {
  vf r = vdiv(ONE, vadd(ONE, e)), s = vsel(vge(bx, ZERO), r, vmul(e, r));
  return vfma(vclamp(bx, K(-200.0f), K(200.0f)), vmul(vmul(e, r), r), s);
}
FWD(f_swish, PAR1, swish_f_e(x, vmul(a, x), swish_e(x, a)))
BWD(b_swish, PAR1, vmul(g, swish_d_e(vmul(a, x), swish_e(x, a))))
/* beta = 1: beta x is exact, no split */
VINL vf silu_e(vf x) { return exp_np(vneg(vabs(x))); }
FWD(f_silu, NODECL, swish_f_e(x, x, silu_e(x)))
BWD(b_silu, NODECL, vmul(g, swish_d_e(x, silu_e(x))))
/* swish'' = b q (2 + bx (1 - 2S)), q = e / (1 + e)^2, 1 - 2S = -sign(bx) m / (1 + e) with
 * m = 1 - e: for e the split-corrected swish_e, m = -expm1(-|h|) -+ e l (bx = h + l) */
VINL vf swish_d2_em(vf b, vf bx, vf e, vf m) {
  vf r = vdiv(ONE, vadd(ONE, e)), q = vmul(vmul(e, r), r);
  vf w = vcopysign(vmul(m, r), vneg(bx));
  return vmul(vmul(b, q), vfma(vclamp(bx, K(-200.0f), K(200.0f)), w, K(2.0f)));
}
VINL vf swish_d2(vf x, vf b) {
  vf h = vmul(b, x);
  vf l = vsel(vlt(vabs(h), K(INF)), vfma_x(b, x, vneg(h)), ZERO);
  vf na = vneg(vabs(h)), e0 = exp_np(na), ls = vsel(vge(h, ZERO), vneg(l), l);
  vf e = vfma(e0, ls, e0), m = vsub(vneg(expm1_np(na)), vmul(e0, ls));
  return swish_d2_em(b, h, e, m);
}
VINL vf silu_d2(vf x) {
  vf na = vneg(vabs(x));
  return swish_d2_em(ONE, x, exp_np(na), vneg(expm1_np(na)));
}
SND(d2_swish, PAR1, swish_d2(x, a))
SND(d2_silu, NODECL, silu_d2(x))

/* mish = x tanh(softplus(x)), in em = exp(-|x|) so nothing overflows:
 * x > 0: t = (1+2em)/(1+2em+2em^2); x <= 0: n = em(em+2), t = n/(n+2). */
VINL vf mish_f(vf x) {
  vf em = exp_np(vneg(vabs(x))), nn = vmul(em, vadd(em, K(2.0f)));
  vf a1 = vfma(K(2.0f), em, ONE);
  vm pos = vgt(x, ZERO);
  vf t = vdiv(vsel(pos, a1, nn), vsel(pos, vfma(vmul(K(2.0f), em), em, a1), vadd(nn, K(2.0f))));
  return xs_or_zero(x, t);
}
/* mish' = tanh(sp) + x sech^2(sp) sigmoid(x) over one denominator: (T D + 4 x m (1+em)) / D^2
 * with x <= 0: T = em(em+2), D = T + 2, m = em; x > 0: T = 1+2em, D = T + 2em^2, m = em^2 */
VINL vf mish_d(vf v) {
  vf em = exp_np(vneg(vabs(v))), x = vclamp(v, K(-200.0f), K(200.0f)), e2 = vmul(em, em);
  vf a1 = vfma(K(2.0f), em, ONE), nn = vmul(em, vadd(em, K(2.0f)));
  vm pos = vgt(v, ZERO);
  vf t = vsel(pos, a1, nn), d = vsel(pos, vfma(K(2.0f), e2, a1), vadd(nn, K(2.0f)));
  vf m = vsel(pos, e2, em);
  return vdiv(vfma(t, d, vmul(vmul(vmul(K(4.0f), x), m), vadd(ONE, em))), vmul(d, d));
}
FWD(f_mish, NODECL, mish_f(x))
BWD(b_mish, NODECL, vmul(g, mish_d(x)))
FUSED(fb_mish, NODECL, mish_f(x), mish_d(x))
/* mish'' = g sg (2 + x (sigmoid(-x) - 2 T sg)) with T = tanh(softplus(x)) = t / D,
 * g = sech^2(softplus(x)), sg = sigmoid(x); in em: g sg = 4 (1 + em) m / D^2 (m as in
 * mish_d), sigmoid(+-x) = 1 / (1 + em) or em / (1 + em) */
VINL vf mish_d2(vf v) {
  vf em = exp_np(vneg(vabs(v))), x = vclamp(v, K(-200.0f), K(200.0f)), e2 = vmul(em, em);
  vf a1 = vfma(K(2.0f), em, ONE), nn = vmul(em, vadd(em, K(2.0f)));
  vm pos = vgt(v, ZERO);
  vf t = vsel(pos, a1, nn), d = vsel(pos, vfma(K(2.0f), e2, a1), vadd(nn, K(2.0f)));
  vf m = vsel(pos, e2, em), ope = vadd(ONE, em), r = vdiv(ONE, ope), er = vmul(em, r);
  vf sg = vsel(pos, r, er), sn = vsel(pos, er, r);
  vf inner = vsub(sn, vdiv(vmul(vmul(K(2.0f), t), sg), d));
  vf gs = vdiv(vmul(vmul(K(4.0f), ope), m), vmul(d, d));
  return vmul(gs, vfma(x, inner, K(2.0f)));
}
SND(d2_mish, NODECL, mish_d2(x))

/* ---------- softplus, logsigmoid ---------- */
/* softplus(beta, threshold) = (max(bx, 0) + log1p(exp(-|bx|))) / beta, x where
 * bx > threshold; times 1/beta (at most half an ulp more; none for powers of 2) */
#define SP_P PAR2; const vf ib = K(1.0f / p[0])
VINL vf softplus_f(vf x, vf b, vf ib, vf th) {
  vf bx = vmul(b, x);
  vf v = vmul(vadd(vand0(vgt(bx, ZERO), bx), log1p_01(swish_e(x, b))), ib);
  return vsel(vgt(bx, th), x, v);
}
VINL vf softplus_d(vf x, vf b, vf th) {
  vf bx = vmul(b, x), e = swish_e(x, b), r = vdiv(ONE, vadd(ONE, e));
  return vsel(vgt(bx, th), ONE, vsel(vge(bx, ZERO), r, vmul(e, r)));
}
FWD(f_softplus_b, SP_P, softplus_f(x, a, ib, b))
BWD(b_softplus_b, PAR2, vmul(g, softplus_d(x, a, b)))
FUSED(fb_softplus_b, SP_P, softplus_f(x, a, ib, b), softplus_d(x, a, b))
/* beta = 1 (the default): no split, no scaling */
#define TH_P const vf th = K(p[1])
VINL vf softplus1_f(vf x, vf th) {
  vf v = vadd(vand0(vgt(x, ZERO), x), log1p_01(exp_np(vneg(vabs(x)))));
  return vsel(vgt(x, th), x, v);
}
VINL vf softplus1_d(vf x, vf th) {
  vf e = exp_np(vneg(vabs(x))), r = vdiv(ONE, vadd(ONE, e));
  return vsel(vgt(x, th), ONE, vsel(vge(x, ZERO), r, vmul(e, r)));
}
FWD(f_softplus1, TH_P, softplus1_f(x, th))
BWD(b_softplus1, TH_P, vmul(g, softplus1_d(x, th)))
FUSED(fb_softplus1, TH_P, softplus1_f(x, th), softplus1_d(x, th))
/* softplus'' = beta q(beta x) = beta e / (1 + e)^2 below the threshold, 0 above */
VINL vf q_of_e(vf e) {
  vf r = vdiv(ONE, vadd(ONE, e));
  return vmul(vmul(e, r), r);
}
SND(d2_softplus_b, PAR2, vsel(vgt(vmul(a, x), b), ZERO, vmul(a, q_of_e(swish_e(x, a)))))
SND(d2_softplus1, TH_P, vsel(vgt(x, th), ZERO, q_of_e(exp_np(vneg(vabs(x))))))
static void d2_softplus(const float *x, float *y, int64_t n, const float *p) {
  (p[0] == 1.0f ? d2_softplus1 : d2_softplus_b)(x, y, n, p);
}
static void f_softplus(const float *x, float *y, int64_t n, const float *p) {
  (p[0] == 1.0f ? f_softplus1 : f_softplus_b)(x, y, n, p);
}
static void b_softplus(const float *x, const float *dy, float *dx, int64_t n, const float *p) {
  (p[0] == 1.0f ? b_softplus1 : b_softplus_b)(x, dy, dx, n, p);
}
static void fb_softplus(const float *x, float *y, float *d, int64_t n, const float *p) {
  (p[0] == 1.0f ? fb_softplus1 : fb_softplus_b)(x, y, d, n, p);
}

/* logsigmoid = min(x, 0) - log1p(exp(-|x|)); derivative sigmoid(-x) */
VINL vf logsigmoid_f(vf x) {
  return vsub(vsel(vlt(x, ZERO), x, ZERO), log1p_01(exp_np(vneg(vabs(x)))));
}
VINL vf logsigmoid_d(vf x) {
  vf e = exp_np(vneg(vabs(x))), r = vdiv(ONE, vadd(ONE, e));
  return vsel(vge(x, ZERO), vmul(e, r), r);
}
FWD(f_logsigmoid, NODECL, logsigmoid_f(x))
BWD(b_logsigmoid, NODECL, vmul(g, logsigmoid_d(x)))
FUSED(fb_logsigmoid, NODECL, logsigmoid_f(x), logsigmoid_d(x))
SND(d2_logsigmoid, NODECL, vneg(q_of_e(exp_np(vneg(vabs(x))))))

/* hardswish = x relu6(x+3)/6; gradient 0 below -3, (2x + 3)/6 on [-3, 3], 1 above 3:
 * PyTorch's formula (its scalar kernel and its autograd), so f'(3) = 1.5, the left
 * limit. (PyTorch 1.13's vectorised kernel alone gives 1 at exactly 3.) x is first
 * raised to -4 so that -inf * 0 is not NaN: below -3 the factor is 0 and the result -0. */
FWD(f_hardswish, NODECL,
    div6(vmul(vmaxx(K(-4.0f), x), vclamp(vadd(x, K(3.0f)), ZERO, K(6.0f)))))
BWD(b_hardswish, NODECL,
    vsel(vlt(x, K(-3.0f)), ZERO,
         vsel(vle(x, K(3.0f)), vmul(g, div6_fin(vfma(K(2.0f), x, K(3.0f)))), g)))
/* 1/3 strictly inside (-3, 3), 0 elsewhere (PyTorch's double backward) */
SND(d2_hardswish, NODECL, vand0(mand(vgt(x, K(-3.0f)), vlt(x, K(3.0f))), K(1.0f / 3.0f)))

/* ---------- shrinkage ---------- */
VINL vf sq(vf v) { return vmul(v, v); }
FWD(f_tanhshrink, NODECL, vsub(x, tanh_f(x)))
BWD(b_tanhshrink, NODECL, vmul(g, sq(tanh_f(x))))
FUSED(fb_tanhshrink, NODECL, vsub(x, tanh_f(x)), sq(tanh_f(x)))
SND(d2_tanhshrink, NODECL, vmul(vmul(K(2.0f), tanh_f(x)), tanh_d(x)))
/* softshrink = x - clamp(x, -lambd, lambd) (0 is +0; NaN and infinities kept) */
FWD(f_softshrink, PAR1, vsub(x, vclamp(x, vneg(a), a)))
VINL vm inside(vf x, vf a) { return mand(vge(x, vneg(a)), vle(x, a)); }
BWD(b_softshrink, PAR1, vsel(inside(x, a), ZERO, g))
FWD(f_hardshrink, PAR1, vsel(inside(x, a), ZERO, x))
BWD(b_hardshrink, PAR1, vsel(inside(x, a), ZERO, g))

/* ---------- periodic, radial ---------- */
/* SLEEF's 3.5-ulp sin/cos for vectors whose every |x| <= 39000 (their documented range),
 * the 1-ulp ones otherwise (and for NaN/inf lanes). The choice depends only on the
 * vector's lanes, which are the same whatever the threading split. */
#define TRIG_FAST_MAX 39000.0f
VINL vf v_sin(vf x) {
  return mall(vle(vabs(x), K(TRIG_FAST_MAX))) ? sl_sin_u35(x) : sl_sin_u10(x);
}
VINL vf v_cos(vf x) {
  return mall(vle(vabs(x), K(TRIG_FAST_MAX))) ? sl_cos_u35(x) : sl_cos_u10(x);
}
FWD(f_sin, NODECL, v_sin(x))
BWD(b_sin, NODECL, vmul(g, v_cos(x)))
FWD(f_cos, NODECL, v_cos(x))
BWD(b_cos, NODECL, vmul(vneg(g), v_sin(x)))
SND(d2_sin, NODECL, vneg(v_sin(x)))
SND(d2_cos, NODECL, vneg(v_cos(x)))

/* gaussian = exp(-x^2) with x^2 = h + l split exactly: exp(-h) (1 - l), x clamped to
 * +-20 (the result is 0 there already) */
VINL vf gauss_f(vf v) {
  vf h = vmul(v, v);
  return vmul(exp_np(vneg(h)), vsub(ONE, vfma_x(v, v, vneg(h))));
}
VINL vf gauss_d(vf x) {
  vf v = vclamp(x, K(-20.0f), K(20.0f));
  return vmul(vmul(K(-2.0f), v), gauss_f(v));
}
FWD(f_gaussian, NODECL, gauss_f(vclamp(x, K(-20.0f), K(20.0f))))
BWD(b_gaussian, NODECL, vmul(g, gauss_d(x)))
FUSED(fb_gaussian, NODECL, gauss_f(vclamp(x, K(-20.0f), K(20.0f))), gauss_d(x))
/* gaussian'' = 2 exp(-x^2) (2 x^2 - 1) */
VINL vf gauss_d2(vf x) {
  vf v = vclamp(x, K(-20.0f), K(20.0f));
  return vmul(vmul(K(2.0f), gauss_f(v)), vfma(vadd(v, v), v, K(-1.0f)));
}
SND(d2_gaussian, NODECL, gauss_d2(x))

/* ---------- the level's table ---------- */
/* the piecewise-linear entries share d2_zero */
#define d2_identity d2_zero
#define d2_step d2_zero
#define d2_hard_sigmoid d2_zero
#define d2_hardtanh d2_zero
#define d2_relu d2_zero
#define d2_relu6 d2_zero
#define d2_leaky_relu d2_zero
#define d2_prelu d2_zero
#define d2_rrelu d2_zero
#define d2_softshrink d2_zero
#define d2_hardshrink d2_zero
#define KENTRY_0(n) {f_##n, b_##n, NULL, d2_##n},
#define KENTRY_1(n) {f_##n, b_##n, fb_##n, d2_##n},
#define KENTRY(n, fused) KENTRY_##fused(n)
static const act_kernels kernels[] = {ACT_LIST(KENTRY)};
_Static_assert(sizeof kernels / sizeof *kernels == ACT_N, "one kernel set per registry entry");

/* the inline exp/expm1/log1p over arrays, for their accuracy tests */
FWD(t_exp_np, NODECL, exp_np(x))
FWD(t_expm1_np, NODECL, expm1_np(x))
FWD(t_log1p_01, NODECL, log1p_01(x))
static void a_exp_np(const float *x, float *y, int64_t n) { t_exp_np(x, y, n, NULL); }
static void a_expm1_np(const float *x, float *y, int64_t n) { t_expm1_np(x, y, n, NULL); }
static void a_log1p_01(const float *x, float *y, int64_t n) { t_log1p_01(x, y, n, NULL); }

const act_level LEVEL_NAME = {kernels, a_exp_np, a_expm1_np, a_log1p_01};
