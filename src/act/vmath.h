/* Branch-free float exp/expm1 for arguments <= 0, written so that GCC vectorises them
 * inside plain element loops (no calls, no chunk buffers). Internal to the activation
 * kernels (registry.c) and their accuracy test. */
#ifndef ACTRUN_ACT_VMATH_H
#define ACTRUN_ACT_VMATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

/* x = k ln2 + r with k = round(x / ln2)
 * (the 1.5 * 2^23 trick, exact for |x / ln2| < 2^22), r = x - k ln2 in two steps
 * (Cody-Waite: k * LN2_HI is exact for |k| < 2^9), |r| <= ln2 / 2, and
 * expm1(r) = r + r^2 P(r), P of degree 4: a minimax fit in relative error with float
 * coefficients (scripts/fit/fit_poly.py expm1: 1.4e-8 before the float evaluation). Then
 * exp(x) = 2^k (1 + p) and expm1(x) = 2^k p + (2^k - 1).
 * Measured on every float in [-87, 0] (expm1) and [-87.33, 0] (exp) against double
 * expm1/exp: max error 0.95 ulp for expm1 (at x = -0.382), 1.03 ulp for exp
 * (at x = -71.0), with FMA; tests/c/test_act.c (act/vexp) checks a sample at <= 2 ulp.
 * The Taylor polynomial of degree 8 it replaced had 0.88 / 0.98 ulp and two more FMAs
 * (sigmoid and tanh 0.40 -> 0.36 ns per element in L1). */
#if defined(__FMA__)
#define FMAF(a, b, c) fmaf(a, b, c)
#else
#define FMAF(a, b, c) ((a) * (b) + (c))
#endif
#define LN2_HI 0.693145751953125f
#define LN2_LO 1.42860682030941723212e-6f
#define LOG2E 1.44269504088896341f
#define RND_MAGIC 12582912.0f /* 1.5 * 2^23 */

/* expm1(r) for |r| <= ln2 / 2 (and a little more) */
static inline float exp_poly(float r) {
  float q = FMAF(r, 1.387066557e-03f, 8.366263472e-03f);
  q = FMAF(q, r, 4.166743532e-02f);
  q = FMAF(q, r, 1.666654646e-01f);
  q = FMAF(q, r, 4.999999702e-01f);
  return FMAF(r * r, q, r);
}
/* k = round(x / ln2), returned as a float and in *k (x clamped; NaN: garbage k) */
static inline float exp_k(float xc, int32_t *k) {
  float kb = FMAF(xc, LOG2E, RND_MAGIC);
  uint32_t bits; /* kb's bits are those of 1.5 * 2^23 plus k (unsigned: a NaN's wrap) */
  memcpy(&bits, &kb, sizeof bits);
  *k = (int32_t)(bits - 0x4B400000u);
  return kb - RND_MAGIC;
}
/* k = round(x / ln2) and expm1(r), r = x - k ln2, for x already clamped (NaN: p NaN). */
static inline float exp_reduce(float xc, int32_t *k) {
  float kf = exp_k(xc, k);
  float r = FMAF(-kf, LN2_HI, xc);
  return exp_poly(FMAF(-kf, LN2_LO, r));
}
/* 2^k for k in [-126, 127] */
static inline float pow2i(int32_t k) {
  uint32_t b = ((uint32_t)k + 127u) << 23;
  float s;
  memcpy(&s, &b, sizeof s);
  return s;
}
/* expm1(x) for x <= 0 (and NaN, -inf; positive x is taken as 0); keeps the sign of a
 * zero. Below -87 expm1 is -1 in float: the clamp keeps 2^k normal. */
static inline float expm1_np(float x) {
  float xc = x < -87.0f ? -87.0f : x > 0 ? 0.0f : x; /* NaN stays NaN */
  int32_t k;
  float p = exp_reduce(xc, &k), s = pow2i(k);
  float e = FMAF(s, p, s - 1.0f);
  return x == 0 ? x : e;
}
/* exp(x) for x <= 0 (and NaN, -inf; positive x is taken as 0), down through the
 * subnormal range: 2^(k + 24) (1 + p) is normal for k >= -149, and the product with
 * 2^-24 is exact for a normal result and rounds once into a subnormal one. x is clamped
 * to -104.9, where k = -151 and the scale 2^(k + 24) is exactly 0 (pow2i(-127)): so the
 * result is 0 from there on without a select (exp(-104) is already below half the
 * smallest subnormal). exp_np24 is 2^24 exp(x) before that last product: a kernel that
 * multiplies exp(x) by something can scale once at the end, so a result that is normal
 * does not go through a subnormal intermediate. (With constant bounds GCC still turns the
 * clamps into compares and blends, not vmaxps/vminps; the gain was the dropped select.) */
static inline float exp_np24(float x) {
  float xl = -104.9f > x ? -104.9f : x, xc = 0.0f < xl ? 0.0f : xl;
  int32_t k;
  float p = exp_reduce(xc, &k), s = pow2i(k + 24);
  return FMAF(s, p, s);
}
static inline float exp_np(float x) { return exp_np24(x) * 0x1p-24f; }
/* exp_np24(a * b) for a * b in [-112.5, 0] without the rounding of the product: the first
 * step of the reduction, a b - k LN2_HI, is one fma (k LN2_HI is exact), so r is as
 * accurate as for an exact argument. For exp(-t^2/2) (gelu), where rounding t^2 would cost a relative
 * error of t^2 * 3e-8 in the tail. */
static inline float exp_np24_mul(float a, float b) {
  float h = a * b, hc = -104.9f > h ? -104.9f : h; /* NaN stays NaN */
  int32_t k;
  float kf = exp_k(hc, &k);
  /* below the clamp r is off, but a b >= -112.5 here keeps p finite and the scale is 0 */
  float r = fmaf(a, b, -kf * LN2_HI);
  float p = exp_poly(FMAF(-kf, LN2_LO, r)), s = pow2i(k + 24);
  return FMAF(s, p, s);
}

/* log1p(e) for e in [0, 1] (NaN stays NaN): the softplus/logsigmoid term
 * log1p(exp(-|x|)). Divide-free: log1p(e) = e + e^2 H(e) with H a polynomial of degree 8,
 * fitted in relative error on [0, 1] with float coefficients (scripts/fit/fit_poly.py
 * log1p: 5.3e-9 before the float evaluation), evaluated by Horner with FMA. Measured over every
 * float in [0, 1] against double log1p: max error 1.30 ulp (at e = 0.98); softplus over
 * every float in [-110, 25]: 1.95 ulp. It replaced a range reduction and 2 atanh(f/(2+f))
 * (0.90 ulp, but a division per element): softplus 0.80 -> 0.56 ns per element in L1. */
static inline float log1p_01(float e) {
  float h = FMAF(e, -3.290468594e-03f, 2.008624189e-02f);
  h = FMAF(h, e, -5.745723099e-02f);
  h = FMAF(h, e, 1.066112816e-01f);
  h = FMAF(h, e, -1.534488052e-01f);
  h = FMAF(h, e, 1.969210207e-01f);
  h = FMAF(h, e, -2.495801896e-01f);
  h = FMAF(h, e, 3.333046436e-01f);
  h = FMAF(h, e, -4.999993145e-01f);
  return FMAF(h * e, e, e);
}

#endif
