/* The activation registry: for each entry, its double-precision scalar f/f' (the
 * reference), its float32 forward and backward kernels, side by side, then the table.
 *
 * Most kernels are one loop over memory: branch-free selects the compiler vectorises
 * (AVX-512 or AVX2 with -march=native), with the inline exp/expm1/log1p of vmath.h for
 * the exponential ones (parameters read into locals first: a conditional load keeps
 * GCC from vectorising); gelu's Phi is exp times a fitted rational (no erfc). The others
 * (sin/cos, gelu_tanh, swish's backward, celu with a negative alpha) work in chunks of
 * CH elements: a preparation loop into a stack buffer, SLEEF vector calls over the
 * buffer (padded to ACT_GROUP), then a combining loop. Chunks start at multiples of ACT_GROUP from the caller's start, and
 * every lane is computed independently, so results do not depend on the threading split.
 *
 * Edge cases (tested): x NaN gives NaN for f and f'; at +-inf f and f' are the limits,
 * which is why some products use an input clamped by comparisons (a NaN fails both
 * comparisons and so stays NaN), and why x * s is written as a signed zero when s == 0. */
#include <math.h>
#include <string.h>

#include "act/act.h"
#include "act/vmath.h"

#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
#include <immintrin.h>
#include <sleef.h>
#endif

#define CH 256
/* SLEEF's 3.5-ulp float sin/cos are documented accurate for |x| <= 39000 (the 1-ulp ones
 * further): measured on every 7th float in [-40, 40], sin 2.08 and cos 2.37 ulp (1-ulp
 * versions 0.88 and 0.94), at 0.49 and 0.52 ns per element in L1 against 0.79 and 0.95.
 * Debian's SLEEF 3.5 measured within 1.9 ulp up to 1e31 with them too; the guard keeps
 * to the documented range for other versions. */
#define TRIG_FAST_MAX 39000.0f

/* ---------- vector primitives over buffers whose length is a multiple of 16 ---------- */

#if defined(__AVX512F__)
#define VMAP(NAME, SL)                                                                    \
  static void NAME(float *o, const float *a, int n) {                                     \
    for (int i = 0; i < n; i += 16) _mm512_storeu_ps(o + i, SL(_mm512_loadu_ps(a + i))); \
  }
VMAP(v_exp, Sleef_expf16_u10avx512f)
VMAP(v_expm1, Sleef_expm1f16_u10avx512f)
/* sin and cos per 16 lanes: SLEEF's 3.5-ulp versions where every |x| <= TRIG_FAST_MAX,
 * the 1-ulp ones otherwise (and for NaN/inf lanes). The choice depends only on the
 * 16-element group, which is the same whatever the threading split. */
#define VMAP_TRIG(NAME, FAST, ACC)                                               \
  static void NAME(float *o, const float *a, int n) {                            \
    const __m512 lim = _mm512_set1_ps(TRIG_FAST_MAX);                            \
    for (int i = 0; i < n; i += 16) {                                            \
      __m512 v = _mm512_loadu_ps(a + i);                                         \
      bool fast = _mm512_cmp_ps_mask(_mm512_abs_ps(v), lim, _CMP_LE_OQ) == 0xFFFF; \
      _mm512_storeu_ps(o + i, fast ? FAST(v) : ACC(v));                          \
    }                                                                            \
  }
VMAP_TRIG(v_sin, Sleef_sinf16_u35avx512f, Sleef_sinf16_u10avx512f)
VMAP_TRIG(v_cos, Sleef_cosf16_u35avx512f, Sleef_cosf16_u10avx512f)
#elif defined(__AVX2__) && defined(__FMA__)
#define VMAP(NAME, SL)                                                                  \
  static void NAME(float *o, const float *a, int n) {                                   \
    for (int i = 0; i < n; i += 8) _mm256_storeu_ps(o + i, SL(_mm256_loadu_ps(a + i))); \
  }
VMAP(v_exp, Sleef_expf8_u10avx2)
VMAP(v_expm1, Sleef_expm1f8_u10avx2)
#define VMAP_TRIG(NAME, FAST, ACC)                                                      \
  static void NAME(float *o, const float *a, int n) {                                   \
    const __m256 lim = _mm256_set1_ps(TRIG_FAST_MAX), sign = _mm256_set1_ps(-0.0f);      \
    for (int i = 0; i < n; i += 8) {                                                    \
      __m256 v = _mm256_loadu_ps(a + i);                                                \
      __m256 ok = _mm256_cmp_ps(_mm256_andnot_ps(sign, v), lim, _CMP_LE_OQ);            \
      _mm256_storeu_ps(o + i, _mm256_movemask_ps(ok) == 0xFF ? FAST(v) : ACC(v));       \
    }                                                                                   \
  }
VMAP_TRIG(v_sin, Sleef_sinf8_u35avx2, Sleef_sinf8_u10avx2)
VMAP_TRIG(v_cos, Sleef_cosf8_u35avx2, Sleef_cosf8_u10avx2)
#else
#define VMAP(NAME, F)                                              \
  static void NAME(float *o, const float *a, int n) {              \
    for (int i = 0; i < n; i++) o[i] = F(a[i]);                    \
  }
VMAP(v_exp, expf)
VMAP(v_expm1, expm1f)
VMAP(v_sin, sinf)
VMAP(v_cos, cosf)
#endif

/* Chunk loop: inside, xs/ys point at the chunk, m is its length and mp is m rounded up
 * to 16 (buffers are zero-padded to mp before a vector call). */
#define CHUNKS(n)                                       \
  for (int64_t i0 = 0; i0 < (n); i0 += CH)              \
    for (int m = (int)((n) - i0 < CH ? (n) - i0 : CH), mp = (m + 15) & ~15, once_ = 1; \
         once_; once_ = 0)
#define PAD(t) \
  for (int i = m; i < mp; i++) (t)[i] = 0.0f
#define ISNAN(x) ((x) != (x))
/* Clamp that keeps NaN (lo <= hi). Two selects in sequence, each one vmaxps/vminps (the
 * nested ?: became mask arithmetic, partly through general registers). */
static inline float clampn(float x, float lo, float hi) {
  float t = x < lo ? lo : x;
  return t > hi ? hi : t;
}
#define CLAMPN(x, lo, hi) clampn(x, lo, hi)
/* A loop-invariant float whose value the optimiser cannot see. With constant bounds GCC
 * merges clampn's two selects into one three-way select, vectorised as compares, mask
 * logic and blends (relu6: 6 instructions and 0.10 ns per element in L1); with opaque
 * ones each select stays a vmaxps/vminps (as hardtanh's runtime bounds do). */
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define OPAQUE(v) __extension__({ float o_ = (v); __asm__("" : "+x"(o_)); o_; })
#else
#define OPAQUE(v) (v)
#endif
/* v / 6 without a division (vdivps bounds these kernels, and GCC duplicated it under
 * masks): q = v (1/6) corrected once by its fma residual. Equal to v / 6 for every float
 * v whose quotient is normal (checked over all floats in [0, 12]); a subnormal quotient
 * may differ by one unit of 2^-149. */
#define R6 (1.0f / 6.0f)
/* for finite v that is not -0 (no guards) */
static inline float div6_fin(float v) {
  float q = v * R6;
  return FMAF(FMAF(-q, 6.0f, v), R6, q);
}
static inline float div6(float v) {
  float c = div6_fin(v);
  return copysignf(c == c ? c : v * R6, v); /* inf: the residual is NaN; -0 stays -0 */
}
#define PAR06 const float lo0 = OPAQUE(0.0f), hi6 = OPAQUE(6.0f)

/* Applies a per-element expression: forward y = E(x), backward dx = E(x, g). The _P
 * forms first read the parameters into locals (DECL, e.g. `const float a = p[0]`): a
 * parameter read only on one side of a ?: is a conditional load, which keeps GCC from
 * vectorising the loop at all (leaky_relu ran at 3.5 ns per element instead of 0.3). */
#define FWD_LOOP_P(NAME, DECL, EXPR)                                               \
  static void NAME(const float *restrict xv, float *restrict yv, int64_t n,        \
                   const float *restrict p) {                                      \
    (void)p;                                                                       \
    DECL;                                                                          \
    for (int64_t i = 0; i < n; i++) {                                              \
      float x = xv[i];                                                             \
      yv[i] = (EXPR);                                                              \
    }                                                                              \
  }
#define BWD_LOOP_P(NAME, DECL, EXPR)                                                      \
  static void NAME(const float *restrict xv, const float *restrict dyv, float *restrict dxv, \
                   int64_t n, const float *restrict p) {                                  \
    (void)p;                                                                              \
    DECL;                                                                                 \
    for (int64_t i = 0; i < n; i++) {                                                     \
      float x = xv[i], g = dyv[i];                                                        \
      (void)g;                                                                            \
      dxv[i] = ISNAN(x) ? x : (EXPR);                                                     \
    }                                                                                     \
  }
/* The optional fused kernel (act.h): y = F(x) and d = D(x) in one loop, F the forward's
 * expression and D the backward's factor of dy (written g * D there), so dy * d has the
 * backward kernel's bits; the shared work (exp_np of the same argument) is computed once
 * after inlining. Only where that sharing pays: for tanh, elu and selu (expm1 forward,
 * exp backward) the fused loop cost as much as both kernels. The bits rely on GCC
 * contracting the shared expressions the same way in both loops: the test compares them
 * (an fma that differed is written explicitly in swish_e). */
#define FUSED_LOOP_P(NAME, DECL, FEXPR, DEXPR)                                          \
  static void NAME(const float *restrict xv, float *restrict yv, float *restrict dv,    \
                   int64_t n, const float *restrict p) {                                \
    (void)p;                                                                            \
    DECL;                                                                               \
    for (int64_t i = 0; i < n; i++) {                                                   \
      float x = xv[i];                                                                  \
      yv[i] = (FEXPR);                                                                  \
      dv[i] = ISNAN(x) ? x : (DEXPR);                                                   \
    }                                                                                   \
  }
#define FUSED_LOOP(NAME, FEXPR, DEXPR) FUSED_LOOP_P(NAME, (void)0, FEXPR, DEXPR)
#define FWD_LOOP(NAME, EXPR) FWD_LOOP_P(NAME, (void)0, EXPR)
#define BWD_LOOP(NAME, EXPR) BWD_LOOP_P(NAME, (void)0, EXPR)
#define PAR1 const float a = p[0]
#define PAR2 const float a = p[0], b = p[1]

/* y = V(x), and dx = s * dy * V(x), through padded chunks: the kernels that are a
 * single SLEEF call (tanh, sin, cos and the periodic derivatives). */
/* Whole 16-element groups go straight from x to y; only a ragged tail is copied through
 * a padded buffer (SLEEF's lanes are independent, so the split changes nothing). */
static void vmap(void (*v)(float *, const float *, int), const float *x, float *y, int64_t n) {
  int64_t full = n & ~(int64_t)15;
  for (int64_t i0 = 0; i0 < full; i0 += CH) v(y + i0, x + i0, (int)(full - i0 < CH ? full - i0 : CH));
  if (full < n) {
    float t[16] = {0};
    memcpy(t, x + full, (size_t)(n - full) * sizeof(float));
    v(t, t, 16);
    memcpy(y + full, t, (size_t)(n - full) * sizeof(float));
  }
}
static void vmap_grad(void (*v)(float *, const float *, int), float s, const float *x,
                      const float *dy, float *dx, int64_t n) {
  float t[CH];
  CHUNKS(n) {
    if (m == mp) {
      v(t, x + i0, m);
    } else {
      memcpy(t, x + i0, (size_t)m * sizeof(float));
      PAD(t);
      v(t, t, mp);
    }
    for (int i = 0; i < m; i++) dx[i0 + i] = s * dy[i0 + i] * t[i];
  }
}

/* ---------- double helpers ---------- */

static double d_sigmoid(double x) {
  double e = exp(-fabs(x));
  return x >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
}
/* s(1-s) without cancellation: e / (1+e)^2 with e = exp(-|x|). */
static double d_sigmoid_d(double x) {
  double e = exp(-fabs(x));
  return e / ((1.0 + e) * (1.0 + e));
}
static double d_clamp(double x, double lo, double hi) { return x < lo ? lo : x > hi ? hi : x; }
#define DNAN(x, f, df)   \
  if (isnan(x)) {        \
    *(f) = *(df) = (x);  \
    return;              \
  }

/* ---------- identity, step ---------- */

static void s_identity(double x, const double *p, double *f, double *df) {
  DNAN(x, f, df);
  *f = x;
  *df = 1.0;
}
static void f_identity(const float *x, float *y, int64_t n, const float *p) {
  (void)p;
  memcpy(y, x, (size_t)n * sizeof(float));
}
BWD_LOOP(b_identity, g)

static void s_step(double x, const double *p, double *f, double *df) {
  DNAN(x, f, df);
  *f = x > 0 ? 1.0 : 0.0;
  *df = 0.0;
}
FWD_LOOP(f_step, ISNAN(x) ? x : (x > 0 ? 1.0f : 0.0f))
BWD_LOOP(b_step, 0.0f)

/* ---------- sigmoid-like ---------- */

static void s_sigmoid(double x, const double *p, double *f, double *df) {
  DNAN(x, f, df);
  *f = d_sigmoid(x);
  *df = d_sigmoid_d(x);
}
/* sigmoid from e = exp(-|x|): 1/(1+e) or e/(1+e), one pass (exp_np, vmath.h). */
static inline float sigmoid_e(float x, float e) {
  float r = 1.0f / (1.0f + e);
  return x >= 0 ? r : e * r;
}
FWD_LOOP(f_sigmoid, sigmoid_e(x, exp_np(-fabsf(x))))
static inline float sigmoid_d(float x) {
  float e = exp_np(-fabsf(x)), r = 1.0f / (1.0f + e);
  return e * r * r;
}
BWD_LOOP(b_sigmoid, g * sigmoid_d(x))
FUSED_LOOP(fb_sigmoid, sigmoid_e(x, exp_np(-fabsf(x))), sigmoid_d(x))

static void s_hard_sigmoid(double x, const double *p, double *f, double *df) {
  DNAN(x, f, df);
  *f = d_clamp(x + 3.0, 0.0, 6.0) / 6.0;
  *df = (x > -3.0 && x < 3.0) ? 1.0 / 6.0 : 0.0;
}
FWD_LOOP_P(f_hard_sigmoid, PAR06, div6(CLAMPN(x + 3.0f, lo0, hi6)))
BWD_LOOP(b_hard_sigmoid, (x > -3.0f && x < 3.0f) ? g * (1.0f / 6.0f) : 0.0f)

static void s_tanh(double x, const double *p, double *f, double *df) {
  DNAN(x, f, df);
  double e = exp(-2.0 * fabs(x));
  *f = tanh(x);
  *df = 4.0 * e / ((1.0 + e) * (1.0 + e)); /* sech^2, no 1 - t^2 cancellation */
}
/* tanh(|x|) = -u / (2 + u) with u = expm1(-2|x|) (no cancellation near 0: u ~ -2|x|),
 * then the sign of x; 1 at +-inf (u = -1). */
static inline float tanh_f(float x) {
  float u = expm1_np(-2.0f * fabsf(x));
  return copysignf(-u / (2.0f + u), x);
}
FWD_LOOP(f_tanh, tanh_f(x))
static inline float tanh_d(float x) {
  float e = exp_np(-2.0f * fabsf(x)), d = 1.0f + e;
  return 4.0f * e / (d * d);
}
BWD_LOOP(b_tanh, g * tanh_d(x))

static void s_softsign(double x, const double *p, double *f, double *df) {
  DNAN(x, f, df);
  double d = 1.0 + fabs(x);
  *f = isinf(x) ? copysign(1.0, x) : x / d;
  *df = 1.0 / (d * d);
}
FWD_LOOP(f_softsign, fabsf(x) == INFINITY ? copysignf(1.0f, x) : x / (1.0f + fabsf(x)))
BWD_LOOP(b_softsign, g / ((1.0f + fabsf(x)) * (1.0f + fabsf(x))))

/* hardtanh(min_val, max_val): PyTorch's gradient is 1 strictly inside, 0 at the bounds. */
static void s_hardtanh(double x, const double *p, double *f, double *df) {
  DNAN(x, f, df);
  *f = d_clamp(x, p[0], p[1]);
  *df = (x > p[0] && x < p[1]) ? 1.0 : 0.0;
}
FWD_LOOP_P(f_hardtanh, PAR2, CLAMPN(x, a, b))
BWD_LOOP_P(b_hardtanh, PAR2, (x > a && x < b) ? g : 0.0f)

/* ---------- relu-like ---------- */

static void s_relu(double x, const double *p, double *f, double *df) {
  DNAN(x, f, df);
  *f = x > 0 ? x : 0.0;
  *df = x > 0 ? 1.0 : 0.0; /* relu'(0) = 0, as PyTorch */
}
FWD_LOOP(f_relu, (x > 0 || ISNAN(x)) ? x : 0.0f)
BWD_LOOP(b_relu, x > 0 ? g : 0.0f)

static void s_relu6(double x, const double *p, double *f, double *df) {
  DNAN(x, f, df);
  *f = d_clamp(x, 0.0, 6.0);
  *df = (x > 0 && x < 6.0) ? 1.0 : 0.0;
}
FWD_LOOP_P(f_relu6, PAR06, CLAMPN(x, lo0, hi6))
BWD_LOOP(b_relu6, (x > 0 && x < 6.0f) ? g : 0.0f)

/* leaky_relu, prelu (scalar slope) and rrelu in eval mode share one form. */
static void s_leaky_relu(double x, const double *p, double *f, double *df) {
  DNAN(x, f, df);
  *f = x > 0 ? x : x * p[0];
  *df = x > 0 ? 1.0 : p[0];
}
FWD_LOOP_P(f_leaky_relu, PAR1, x > 0 ? x : x * a)
BWD_LOOP_P(b_leaky_relu, PAR1, x > 0 ? g : g * a)

static void s_rrelu(double x, const double *p, double *f, double *df) {
  double s = (p[0] + p[1]) / 2.0;
  s_leaky_relu(x, &s, f, df);
}
static void f_rrelu(const float *x, float *y, int64_t n, const float *p) {
  float s = (p[0] + p[1]) * 0.5f;
  f_leaky_relu(x, y, n, &s);
}
static void b_rrelu(const float *x, const float *dy, float *dx, int64_t n, const float *p) {
  float s = (p[0] + p[1]) * 0.5f;
  b_leaky_relu(x, dy, dx, n, &s);
}

/* ---------- exponential linear units ----------
 * PyTorch's branch is x <= 0 for the exponential side, so f'(0) = alpha (elu). */

static void s_elu(double x, const double *p, double *f, double *df) {
  DNAN(x, f, df);
  *f = x > 0 ? x : p[0] * expm1(x);
  *df = x > 0 ? 1.0 : p[0] * exp(x);
}
/* One pass each, with the inline expm1/exp above (the chunked SLEEF version read the
 * parameter under a condition and ran as an unpredictable scalar branch: 9.6 ns per
 * element instead of ~0.4). expm1_np/exp_np see min(x, 0): the positive side is a
 * select. */
FWD_LOOP_P(f_elu, PAR1, x > 0 ? x : a * expm1_np(x))
BWD_LOOP_P(b_elu, PAR1, x > 0 ? g : g * (a * exp_np(x)))

#define SELU_ALPHA 1.6732632423543772848170429916717
#define SELU_SCALE 1.0507009873554804934193349852946
static void s_selu(double x, const double *p, double *f, double *df) {
  DNAN(x, f, df);
  *f = SELU_SCALE * (x > 0 ? x : SELU_ALPHA * expm1(x));
  *df = SELU_SCALE * (x > 0 ? 1.0 : SELU_ALPHA * exp(x));
}
#define SELU_P const float sc = (float)SELU_SCALE, neg = (float)(SELU_ALPHA * SELU_SCALE)
FWD_LOOP_P(f_selu, SELU_P, x > 0 ? sc * x : neg * expm1_np(x))
BWD_LOOP_P(b_selu, SELU_P, g * (x > 0 ? sc : neg * exp_np(x)))

static void s_celu(double x, const double *p, double *f, double *df) {
  DNAN(x, f, df);
  *f = x > 0 ? x : p[0] * expm1(x / p[0]);
  *df = x > 0 ? 1.0 : exp(x / p[0]);
}
/* alpha > 0: x / alpha <= 0 on the exponential side, one pass; a negative alpha sends
 * positive arguments to expm1 (up to overflow): the chunked SLEEF path. */
FWD_LOOP_P(f_celu_pos, PAR1, x > 0 ? x : a * expm1_np(x / a))
BWD_LOOP_P(b_celu_pos, PAR1, x > 0 ? g : g * exp_np(x / a))
static void f_celu(const float *x, float *y, int64_t n, const float *p) {
  const float a = p[0];
  if (a > 0) {
    f_celu_pos(x, y, n, p);
    return;
  }
  float t[CH];
  CHUNKS(n) {
    const float *xs = x + i0;
    for (int i = 0; i < m; i++) t[i] = xs[i] > 0 ? 0.0f : xs[i] / a;
    PAD(t);
    v_expm1(t, t, mp);
    for (int i = 0; i < m; i++) y[i0 + i] = xs[i] > 0 ? xs[i] : a * t[i];
  }
}
static void b_celu(const float *x, const float *dy, float *dx, int64_t n, const float *p) {
  const float a = p[0];
  if (a > 0) {
    b_celu_pos(x, dy, dx, n, p);
    return;
  }
  float t[CH];
  CHUNKS(n) {
    const float *xs = x + i0;
    for (int i = 0; i < m; i++) t[i] = xs[i] > 0 ? 0.0f : xs[i] / a;
    PAD(t);
    v_exp(t, t, mp);
    for (int i = 0; i < m; i++) dx[i0 + i] = dy[i0 + i] * (xs[i] > 0 ? 1.0f : t[i]);
  }
}

/* ---------- smooth self-gated ---------- */

#define INV_SQRT_2PI 0.39894228040143267794
/* gelu = x * Phi(x) with Phi(x) = erfc(-x/sqrt2)/2: erfc keeps the left tail accurate
 * where 1 + erf(x/sqrt2) would cancel. */
static void s_gelu(double x, const double *p, double *f, double *df) {
  DNAN(x, f, df);
  double c = erfc(-x * M_SQRT1_2), xc = d_clamp(x, -1e4, 1e4);
  *f = c == 0 ? copysign(0.0, x) : 0.5 * x * c;
  *df = 0.5 * c + xc * exp(-0.5 * xc * xc) * INV_SQRT_2PI;
}
/* Phi without erfc: Phi(-t) = exp(-t^2/2) R(t) for t = |x|, with R(t) = P(t)/Q(t) of
 * degrees 4/5, a minimax fit in relative error on [0, 15] (scripts/fit/fit_phi.py; with
 * the coefficients rounded to float, within 2.7e-8 of R). exp(-t^2/2) takes -t^2/2 = (-t/2) t
 * exactly into its reduction (exp_np24_mul), so the rounding of t^2 stays out of the tail;
 * t is clamped to 15 (exp is 0 from |x| = 14.43 on), a NaN stays NaN. The exp is kept
 * scaled by 2^24 (exp_np24_mul) and R's numerator by 2^-24 (gelu_r24: P's coefficients
 * times 2^-24, exact, so R24 = R 2^-24 bit for bit); x e24 comes first, so for tiny x
 * nothing underflows, and a subnormal result is rounded once, in the last product.
 * gelu = x - v for x > 0 and v for x <= 0, with v = x exp(-t^2/2) R(t) (x clamped to
 * +-15: no inf * 0; at -inf v is -0).
 * Measured on every 11th float in [-15, 15] against the double scalar (erfc): forward
 * max error 5.8 ulp (at x = -10.04; the left tail is relative down to the underflow, where
 * the SLEEF erfcf version was 190 ulp off from rounding x/sqrt2); backward max absolute
 * error 1.4e-7, relative up to 15 ulp where |f'| > 0.05 (near its zero at x = -0.75 the two
 * terms cancel). The chunked SLEEF erfc it replaces took 4.1 ns per element; the split
 * t^2 = h + l with exp(-h/2) (1 - l/2) it replaces, 7% more in L1. */
#define S24 0x1p-24f
static inline float gelu_r24(float t) {
  float p = FMAF(t, 4.153423477e-03f * S24, 4.088258371e-02f * S24);
  p = FMAF(p, t, 1.839736551e-01f * S24);
  p = FMAF(p, t, 4.392898083e-01f * S24);
  p = FMAF(p, t, 5.000000000e-01f * S24);
  float q = FMAF(t, 1.041097660e-02f, 1.024835557e-01f);
  q = FMAF(q, t, 4.714205563e-01f);
  q = FMAF(q, t, 1.205567479e+00f);
  q = FMAF(q, t, 1.676464677e+00f);
  q = FMAF(q, t, 1.0f);
  return p / q;
}
static inline float gelu_f(float x) {
  float a = fabsf(x), t = a > 15.0f ? 15.0f : a, xc = copysignf(t, x);
  float v = xc * exp_np24_mul(-0.5f * t, t) * gelu_r24(t);
  return x <= 0 ? v : x - v;
}
FWD_LOOP(f_gelu, gelu_f(x))
/* gelu' = Phi(x) + x phi(x): with s = exp(-t^2/2) (t / sqrt(2 pi) - R(t)), -s for x < 0
 * and 1 + s above */
static inline float gelu_d(float x) {
  float a = fabsf(x), t = a > 15.0f ? 15.0f : a;
  float s = FMAF(t, (float)INV_SQRT_2PI * S24, -gelu_r24(t)) * exp_np24_mul(-0.5f * t, t);
  return x < 0 ? -s : 1.0f + s;
}
BWD_LOOP(b_gelu, g * gelu_d(x))
FUSED_LOOP(fb_gelu, gelu_f(x), gelu_d(x))

/* gelu_tanh = x/2 (1 + tanh(u)), u = sqrt(2/pi)(x + 0.044715 x^3), written as
 * x sigmoid(2u) so the left tail does not cancel. */
#define GT_K 0.79788456080286535588
#define GT_C 0.044715
static void s_gelu_tanh(double x, const double *p, double *f, double *df) {
  DNAN(x, f, df);
  double xc = d_clamp(x, -1e4, 1e4), u = GT_K * (xc + GT_C * xc * xc * xc);
  double s = d_sigmoid(2.0 * u), q = d_sigmoid_d(2.0 * u);
  *f = s == 0 ? copysign(0.0, x) : x * s;
  *df = s + 2.0 * xc * q * GT_K * (1.0 + 3.0 * GT_C * xc * xc);
}
/* Chunked (x clamped and the exponent into buffers, SLEEF exp over the buffer, then the
 * combination): measured faster here than one fused loop with the inline exp (0.58 vs
 * 0.84 ns per element in L1), the fused loop being longer than the registers allow. */
static void gt_prep(const float *xs, int m, int mp, float *xc, float *e) {
  const float lo = OPAQUE(-100.0f), hi = OPAQUE(100.0f);
  for (int i = 0; i < m; i++) {
    float v = CLAMPN(xs[i], lo, hi);
    xc[i] = v;
    e[i] = -fabsf(2.0f * (float)GT_K * (v + (float)GT_C * v * v * v));
  }
  PAD(e);
  v_exp(e, e, mp);
}
static void f_gelu_tanh(const float *x, float *y, int64_t n, const float *p) {
  float xc[CH], e[CH];
  CHUNKS(n) {
    const float *xs = x + i0;
    gt_prep(xs, m, mp, xc, e);
    for (int i = 0; i < m; i++) {
      float s = sigmoid_e(xc[i], e[i]);
      y[i0 + i] = s == 0 ? copysignf(0.0f, xs[i]) : xs[i] * s;
    }
  }
}
static void b_gelu_tanh(const float *x, const float *dy, float *dx, int64_t n, const float *p) {
  float xc[CH], e[CH];
  CHUNKS(n) {
    gt_prep(x + i0, m, mp, xc, e);
    for (int i = 0; i < m; i++) {
      float v = xc[i], r = 1.0f / (1.0f + e[i]), s = v >= 0 ? r : e[i] * r, q = e[i] * r * r;
      float d = s + 2.0f * v * q * (float)GT_K * (1.0f + 3.0f * (float)GT_C * v * v);
      dx[i0 + i] = dy[i0 + i] * d;
    }
  }
}

/* swish(beta) = x sigmoid(beta x); silu is beta = 1. */
static void s_swish(double x, const double *p, double *f, double *df) {
  DNAN(x, f, df);
  double b = p[0], bx = b * x, s = d_sigmoid(bx);
  *f = s == 0 ? copysign(0.0, x) : x * s;
  *df = s + d_clamp(bx, -1e4, 1e4) * d_sigmoid_d(bx);
}
static void s_silu(double x, const double *p, double *f, double *df) {
  const double one = 1.0;
  s_swish(x, &one, f, df);
}
/* e = exp(-|beta x|) with beta x = h + l split exactly (fma): the rounding of beta x
 * would otherwise become a relative error of |beta x| * 6e-8 in the tail. */
static inline float swish_e(float x, float b) {
  float h = b * x;
  float l = fabsf(h) < INFINITY ? fmaf(b, x, -h) : 0.0f; /* fma(b, inf, -inf) is NaN */
  float e = exp_np(-fabsf(h));
  return FMAF(e, h >= 0 ? -l : l, e); /* e (1 -+ l), one rounding */
}
static inline float swish_f(float x, float b) {
  float e = swish_e(x, b), r = 1.0f / (1.0f + e), s = b * x >= 0 ? r : e * r;
  return s == 0 ? copysignf(0.0f, x) : x * s;
}
FWD_LOOP_P(f_swish, PAR1, swish_f(x, a))
/* the backward in chunks with SLEEF exp: measured faster than the fused loop (0.6 vs
 * 0.8 ns per element in L1) */
static void b_swish(const float *x, const float *dy, float *dx, int64_t n, const float *p) {
  const float b = p[0], c_lo = OPAQUE(-200.0f), c_hi = OPAQUE(200.0f);
  float e[CH], lo[CH];
  CHUNKS(n) {
    const float *xs = x + i0;
    for (int i = 0; i < m; i++) {
      float h = b * xs[i];
      float l = fabsf(h) < INFINITY ? fmaf(b, xs[i], -h) : 0.0f;
      lo[i] = h >= 0 ? -l : l;
      e[i] = -fabsf(h);
    }
    PAD(e);
    v_exp(e, e, mp);
    for (int i = 0; i < m; i++) {
      float ei = e[i] * (1.0f + lo[i]), bx = b * xs[i], r = 1.0f / (1.0f + ei);
      float s = bx >= 0 ? r : ei * r;
      dx[i0 + i] = dy[i0 + i] * (s + CLAMPN(bx, c_lo, c_hi) * (ei * r * r));
    }
  }
}
FWD_LOOP(f_silu, swish_f(x, 1.0f))
static void b_silu(const float *x, const float *dy, float *dx, int64_t n, const float *p) {
  const float one = 1.0f;
  b_swish(x, dy, dx, n, &one);
}

/* mish = x tanh(softplus(x)). With w = 1 + e^x, tanh(log w) = (w^2-1)/(w^2+1) and
 * sech^2(log w) = 4w^2/(w^2+1)^2, rewritten in em = exp(-|x|) so nothing overflows:
 * x > 0: t = (1+2em)/(1+2em+2em^2), sech^2 = 4em^2(1+em)^2/((1+em)^2+em^2)^2
 * x <= 0: n = em(em+2), t = n/(n+2), sech^2 = 4w^2/(w^2+1)^2 with w = 1+em. */
static void s_mish(double x, const double *p, double *f, double *df) {
  DNAN(x, f, df);
  double em = exp(-fabs(x)), t, s2, sg;
  if (x > 0) {
    double a = 1.0 + em, a2 = a * a, den = a2 + em * em;
    t = (1.0 + 2.0 * em) / (1.0 + 2.0 * em + 2.0 * em * em);
    s2 = 4.0 * em * em * a2 / (den * den);
    sg = 1.0 / (1.0 + em);
  } else {
    double nn = em * (em + 2.0), w = 1.0 + em, w2 = w * w;
    t = nn / (nn + 2.0);
    s2 = 4.0 * w2 / ((w2 + 1.0) * (w2 + 1.0));
    sg = em / (1.0 + em);
  }
  *f = t == 0 ? copysign(0.0, x) : x * t;
  *df = t + d_clamp(x, -1e4, 1e4) * s2 * sg;
}
static inline float mish_f(float x) {
  float em = exp_np(-fabsf(x)), nn = em * (em + 2.0f);
  bool pos = x > 0; /* select numerator and denominator, then one division (the same
                      * operations per side as two divisions and a select: same bits) */
  float t = (pos ? 1.0f + 2.0f * em : nn) / (pos ? 1.0f + 2.0f * em + 2.0f * em * em : nn + 2.0f);
  return t == 0 ? copysignf(0.0f, x) : x * t;
}
FWD_LOOP(f_mish, mish_f(x))
/* mish' = tanh(sp) + x sech^2(sp) sigmoid(x) over one denominator (one division instead
 * of three, 1.0 -> 0.6 ns per element in cache): with u = e^x, tanh(sp) = n/(n+2),
 * n = u(u+2), and x sech^2(sp) sigmoid(x) = 4xu(1+u)/(n+2)^2, so
 * mish' = (T D + 4 x m (1+em)) / D^2 where, in em = exp(-|x|),
 * x <= 0: T = em(em+2), D = T + 2, m = em;
 * x > 0 (numerator and denominator times em^4): T = 1+2em, D = T + 2em^2, m = em^2. */
static inline float mish_d(float v) {
  float em = exp_np(-fabsf(v)), x = CLAMPN(v, -200.0f, 200.0f), e2 = em * em;
  float a = FMAF(2.0f, em, 1.0f), nn = em * (em + 2.0f);
  bool pos = v > 0;
  float t = pos ? a : nn, d = pos ? FMAF(2.0f, e2, a) : nn + 2.0f, m = pos ? e2 : em;
  return FMAF(t, d, 4.0f * x * m * (1.0f + em)) / (d * d);
}
BWD_LOOP(b_mish, g * mish_d(x))
FUSED_LOOP(fb_mish, mish_f(x), mish_d(x))

/* ---------- softplus, logsigmoid ---------- */

/* softplus(beta, threshold) = log(1 + exp(beta x)) / beta, linear when beta x > threshold
 * (PyTorch); computed as max(bx, 0) + log1p(exp(-|bx|)) so no threshold can overflow. */
static void s_softplus(double x, const double *p, double *f, double *df) {
  DNAN(x, f, df);
  double bx = p[0] * x;
  if (bx > p[1]) {
    *f = x;
    *df = 1.0;
    return;
  }
  *f = ((bx > 0 ? bx : 0.0) + log1p(exp(-fabs(bx)))) / p[0];
  *df = d_sigmoid(bx);
}
/* times 1/beta rather than a division per element (the kernel has no other): at
 * most half an ulp more, none for beta = 1 or a power of 2. exp(-|beta x|) from the exact
 * split of beta x (swish_e): with a beta that is not a power of 2, the rounding of beta x
 * would be a relative error of |beta x| * 6e-8 in the left tail. */
static inline float softplus_f(float x, float b, float ib, float th) {
  float bx = b * x, v = ((bx > 0 ? bx : 0.0f) + log1p_01(swish_e(x, b))) * ib;
  return bx > th ? x : v;
}
FWD_LOOP_P(f_softplus_b, PAR2; const float ib = 1.0f / a, softplus_f(x, a, ib, b))
static inline float softplus_d(float x, float b, float th) {
  float bx = b * x, e = swish_e(x, b), r = 1.0f / (1.0f + e), s = bx >= 0 ? r : e * r;
  return bx > th ? 1.0f : s;
}
BWD_LOOP_P(b_softplus_b, PAR2, g * softplus_d(x, a, b))
/* beta = 1 (the default): beta x is exact, the split and the scaling drop out (the same
 * bits as the general loops, ~25% fewer operations) */
static inline float softplus1_f(float x, float th) {
  float v = (x > 0 ? x : 0.0f) + log1p_01(exp_np(-fabsf(x)));
  return x > th ? x : v;
}
FWD_LOOP_P(f_softplus1, const float th = p[1], softplus1_f(x, th))
static inline float softplus1_d(float x, float th) {
  float e = exp_np(-fabsf(x)), r = 1.0f / (1.0f + e), s = x >= 0 ? r : e * r;
  return x > th ? 1.0f : s;
}
BWD_LOOP_P(b_softplus1, const float th = p[1], g * softplus1_d(x, th))
FUSED_LOOP_P(fb_softplus_b, PAR2; const float ib = 1.0f / a, softplus_f(x, a, ib, b),
             softplus_d(x, a, b))
FUSED_LOOP_P(fb_softplus1, const float th = p[1], softplus1_f(x, th), softplus1_d(x, th))
static void fb_softplus(const float *x, float *y, float *d, int64_t n, const float *p) {
  (p[0] == 1.0f ? fb_softplus1 : fb_softplus_b)(x, y, d, n, p);
}
static void f_softplus(const float *x, float *y, int64_t n, const float *p) {
  (p[0] == 1.0f ? f_softplus1 : f_softplus_b)(x, y, n, p);
}
static void b_softplus(const float *x, const float *dy, float *dx, int64_t n, const float *p) {
  (p[0] == 1.0f ? b_softplus1 : b_softplus_b)(x, dy, dx, n, p);
}

/* logsigmoid = min(x, 0) - log1p(exp(-|x|)); derivative sigmoid(-x). */
static void s_logsigmoid(double x, const double *p, double *f, double *df) {
  DNAN(x, f, df);
  *f = (x < 0 ? x : 0.0) - log1p(exp(-fabs(x)));
  *df = d_sigmoid(-x);
}
FWD_LOOP(f_logsigmoid, (x < 0 ? x : 0.0f) - log1p_01(exp_np(-fabsf(x))))
static inline float logsigmoid_d(float x) {
  float e = exp_np(-fabsf(x)), r = 1.0f / (1.0f + e);
  return x >= 0 ? e * r : r;
}
BWD_LOOP(b_logsigmoid, g * logsigmoid_d(x))
FUSED_LOOP(fb_logsigmoid, (x < 0 ? x : 0.0f) - log1p_01(exp_np(-fabsf(x))), logsigmoid_d(x))

/* hardswish = x relu6(x+3)/6; gradient 0 below -3, x/3 + 1/2 on [-3, 3), 1 from 3 on.
 * PyTorch 1.13's vectorised kernel (what any tensor of 8+ elements gets) uses x >= 3 -> 1;
 * its scalar tail loop says x/3 + 1/2 = 1.5 at exactly 3. We follow the vector path. */
static void s_hardswish(double x, const double *p, double *f, double *df) {
  DNAN(x, f, df);
  *f = x <= -3.0 ? -0.0 : x * d_clamp(x + 3.0, 0.0, 6.0) / 6.0;
  *df = x < -3.0 ? 0.0 : x < 3.0 ? x / 3.0 + 0.5 : 1.0;
}
/* (2x + 3)/6 rather than x/3 + 1/2: one rounding, no cancellation near x = -1.5 */
/* x <= -3 gives -0 through the factor 0: x is first raised to -4 so that -inf * 0 is not
 * NaN (the same bits as the select on x <= -3 it replaces) */
static inline float hardswish_f(float x, float lo0, float hi6, float m4) {
  float xm = m4 > x ? m4 : x;
  return div6(xm * CLAMPN(x + 3.0f, lo0, hi6));
}
FWD_LOOP_P(f_hardswish, PAR06; const float m4 = OPAQUE(-4.0f), hardswish_f(x, lo0, hi6, m4))
BWD_LOOP(b_hardswish, x < -3.0f ? 0.0f : x < 3.0f ? g * div6_fin(2.0f * x + 3.0f) : g)

/* ---------- shrinkage ---------- */

static void s_tanhshrink(double x, const double *p, double *f, double *df) {
  DNAN(x, f, df);
  double t = tanh(x);
  *f = x - t;
  *df = t * t;
}
FWD_LOOP(f_tanhshrink, x - tanh_f(x))
static inline float sq(float v) { return v * v; }
BWD_LOOP(b_tanhshrink, g * sq(tanh_f(x)))
FUSED_LOOP(fb_tanhshrink, x - tanh_f(x), sq(tanh_f(x)))

static void s_softshrink(double x, const double *p, double *f, double *df) {
  DNAN(x, f, df);
  double l = p[0];
  *f = x > l ? x - l : x < -l ? x + l : 0.0;
  *df = (x >= -l && x <= l) ? 0.0 : 1.0;
}
/* x - clamp(x, -lambd, lambd): the same function (0 is +0, NaN and infinities kept) in 3
 * vector operations instead of 12. It once measured slower than the selects at 1.6e7
 * elements (0.40 vs 0.33 ns per element); since large outputs are streamed (act.c) the
 * short loop is the faster one at every size. */
FWD_LOOP_P(f_softshrink, PAR1; const float na = -a, x - CLAMPN(x, na, a))
BWD_LOOP_P(b_softshrink, PAR1, (x >= -a && x <= a) ? 0.0f : g)

static void s_hardshrink(double x, const double *p, double *f, double *df) {
  DNAN(x, f, df);
  bool in = x >= -p[0] && x <= p[0];
  *f = in ? 0.0 : x;
  *df = in ? 0.0 : 1.0;
}
FWD_LOOP_P(f_hardshrink, PAR1, (x >= -a && x <= a) ? 0.0f : x)
BWD_LOOP_P(b_hardshrink, PAR1, (x >= -a && x <= a) ? 0.0f : g)

/* ---------- periodic, radial ---------- */

static void s_sin(double x, const double *p, double *f, double *df) {
  *f = sin(x);
  *df = cos(x);
}
static void f_sin(const float *x, float *y, int64_t n, const float *p) {
  (void)p;
  vmap(v_sin, x, y, n);
}
static void b_sin(const float *x, const float *dy, float *dx, int64_t n, const float *p) {
  (void)p;
  vmap_grad(v_cos, 1.0f, x, dy, dx, n);
}
static void s_cos(double x, const double *p, double *f, double *df) {
  *f = cos(x);
  *df = -sin(x);
}
static void f_cos(const float *x, float *y, int64_t n, const float *p) {
  (void)p;
  vmap(v_cos, x, y, n);
}
static void b_cos(const float *x, const float *dy, float *dx, int64_t n, const float *p) {
  (void)p;
  vmap_grad(v_sin, -1.0f, x, dy, dx, n);
}

/* gaussian = exp(-x^2); x^2 is split exactly into h + l (fma) so its rounding does not
 * become a relative error of x^2 * 6e-8 in the result. */
static void s_gaussian(double x, const double *p, double *f, double *df) {
  DNAN(x, f, df);
  double g = exp(-x * x);
  *f = g;
  *df = g == 0 ? -copysign(0.0, x) : -2.0 * x * g;
}
/* exp(-(h + l)) ~ exp(-h) (1 - l) with v^2 = h + l exactly */
static inline float gauss_f(float v) {
  float h = v * v;
  return exp_np(-h) * (1.0f - fmaf(v, v, -h));
}
#define PAR20 const float m20 = OPAQUE(-20.0f), p20 = OPAQUE(20.0f)
FWD_LOOP_P(f_gaussian, PAR20, gauss_f(CLAMPN(x, m20, p20)))
static inline float gauss_d(float x, float m20, float p20) {
  float v = CLAMPN(x, m20, p20);
  return -2.0f * v * gauss_f(v);
}
BWD_LOOP_P(b_gaussian, PAR20, g * gauss_d(x, m20, p20))
FUSED_LOOP_P(fb_gaussian, PAR20, gauss_f(CLAMPN(x, m20, p20)), gauss_d(x, m20, p20))

/* ---------- parameter checks (beyond finiteness, checked for every entry) ---------- */

static int chk_hardtanh(ar_ctx *C, const double *p) {
  if (p[0] > p[1])
    return ar_seterr(C, AR_EARG, "min_val (%g) must not exceed max_val (%g)", p[0], p[1]);
  return AR_OK;
}
static int chk_rrelu(ar_ctx *C, const double *p) {
  if (p[0] > p[1])
    return ar_seterr(C, AR_EARG, "lower (%g) must not exceed upper (%g)", p[0], p[1]);
  return AR_OK;
}
static int chk_celu(ar_ctx *C, const double *p) {
  if (p[0] == 0) return ar_seterr(C, AR_EARG, "alpha must be non-zero (it divides x)");
  return AR_OK;
}
static int chk_softplus(ar_ctx *C, const double *p) {
  if (p[0] == 0) return ar_seterr(C, AR_EARG, "beta must be non-zero (it divides the result)");
  return AR_OK;
}
static int chk_lambd(ar_ctx *C, const double *p) {
  if (p[0] < 0) return ar_seterr(C, AR_EARG, "lambd must be >= 0, got %g", p[0]);
  return AR_OK;
}

/* ---------- the table ---------- */

#define P0 0, {{NULL, 0}, {NULL, 0}}
#define P1(a, da) 1, {{a, da}, {NULL, 0}}
#define P2(a, da, b, db) 2, {{a, da}, {b, db}}
#define FNS(n) s_##n, f_##n, b_##n, NULL, NULL
#define FNSC(n, chk) s_##n, f_##n, b_##n, chk, NULL
/* with the fused kernel fb_NAME */
#define FNSF(n) s_##n, f_##n, b_##n, NULL, fb_##n
#define FNSCF(n, chk) s_##n, f_##n, b_##n, chk, fb_##n

const act_def act_table[] = {
    {"identity", "linear", "x", P0, false, true, false, FNS(identity)},
    {"step", "step", "1 if x > 0 else 0 (derivative 0)", P0, false, true, false, FNS(step)},
    {"sigmoid", "sigmoid-like", "1 / (1 + exp(-x))", P0, false, true, true, FNSF(sigmoid)},
    {"hard_sigmoid", "sigmoid-like", "relu6(x + 3) / 6", P0, false, false, false,
     FNS(hard_sigmoid)},
    {"tanh", "sigmoid-like", "tanh(x)", P0, false, true, true, FNS(tanh)},
    {"hardtanh", "sigmoid-like", "min(max(x, min_val), max_val)",
     P2("min_val", -1.0, "max_val", 1.0), false, true, false, FNSC(hardtanh, chk_hardtanh)},
    {"softsign", "sigmoid-like", "x / (1 + |x|)", P0, false, false, false, FNS(softsign)},
    {"relu", "relu-like", "max(0, x)", P0, false, true, false, FNS(relu)},
    {"relu6", "relu-like", "min(max(0, x), 6)", P0, false, true, false, FNS(relu6)},
    {"leaky_relu", "relu-like", "x if x > 0 else negative_slope * x",
     P1("negative_slope", 0.01), false, true, false, FNS(leaky_relu)},
    {"prelu", "relu-like", "x if x > 0 else a * x (a learnable, per channel or shared)",
     P1("init", 0.25), true, true, false, s_leaky_relu, f_leaky_relu, b_leaky_relu, NULL, NULL},
    {"rrelu", "relu-like",
     "x if x >= 0 else a * x, a ~ U(lower, upper) in training, (lower + upper) / 2 in eval",
     P2("lower", 1.0 / 8.0, "upper", 1.0 / 3.0), false, true, false, FNSC(rrelu, chk_rrelu)},
    {"elu", "exp-based linear unit", "x if x > 0 else alpha * (exp(x) - 1)", P1("alpha", 1.0),
     false, true, true, FNS(elu)},
    {"selu", "exp-based linear unit",
     "scale * (x if x > 0 else alpha * (exp(x) - 1)), alpha = 1.6732632423543772, "
     "scale = 1.0507009873554805",
     P0, false, true, true, FNS(selu)},
    {"celu", "exp-based linear unit", "x if x > 0 else alpha * (exp(x / alpha) - 1)",
     P1("alpha", 1.0), false, true, true, FNSC(celu, chk_celu)},
    {"gelu", "smooth self-gated", "x * Phi(x) = x / 2 * (1 + erf(x / sqrt(2)))", P0, false,
     false, true, FNSF(gelu)},
    {"gelu_tanh", "smooth self-gated",
     "x / 2 * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3)))", P0, false, false, true,
     FNS(gelu_tanh)},
    {"silu", "smooth self-gated", "x * sigmoid(x)", P0, false, false, true, FNS(silu)},
    {"swish", "smooth self-gated", "x * sigmoid(beta * x)", P1("beta", 1.0), false, false,
     true, FNS(swish)},
    {"mish", "smooth self-gated", "x * tanh(softplus(x))", P0, false, false, true, FNSF(mish)},
    {"softplus", "smooth relu-like", "log(1 + exp(beta * x)) / beta, x where beta * x > threshold",
     P2("beta", 1.0, "threshold", 20.0), false, false, true, FNSCF(softplus, chk_softplus)},
    {"logsigmoid", "sigmoid-like", "log(sigmoid(x)) = -softplus(-x)", P0, false, false, true,
     FNSF(logsigmoid)},
    {"hardswish", "smooth self-gated", "x * relu6(x + 3) / 6", P0, false, false, false,
     FNS(hardswish)},
    {"tanhshrink", "shrinkage", "x - tanh(x)", P0, false, false, true, FNSF(tanhshrink)},
    {"softshrink", "shrinkage", "x - lambd if x > lambd, x + lambd if x < -lambd, else 0",
     P1("lambd", 0.5), false, false, false, FNSC(softshrink, chk_lambd)},
    {"hardshrink", "shrinkage", "x if |x| > lambd else 0", P1("lambd", 0.5), false, false,
     false, FNSC(hardshrink, chk_lambd)},
    {"sin", "periodic", "sin(x)", P0, false, false, true, FNS(sin)},
    {"cos", "periodic", "cos(x)", P0, false, false, true, FNS(cos)},
    {"gaussian", "radial", "exp(-x^2)", P0, false, false, true, FNSF(gaussian)},
};
const int act_count = (int)(sizeof act_table / sizeof act_table[0]);
