/* The elementwise kernels, written once over the vector abstraction of core/simd.h and
 * compiled once per instruction-set level (ew_kern_avx512.c, ew_kern_avx2.c,
 * ew_kern_baseline.c define AR_SIMD_LEVEL and include this file). Each level exports one
 * ew_level (ew_level.h): the binary, unary, clamp, where and fill loops that
 * elementwise.c runs over contiguous rows.
 *
 * Every kernel is one pass in whole vectors, with one padded vector for a ragged tail
 * (vld_part/vst_part), so each element takes the same code path wherever a chunk
 * boundary falls (SLEEF's result for a lane can depend on its neighbours: its slow path
 * for huge arguments is taken per vector; elementwise.c starts chunks at multiples of 16,
 * a multiple of every VL). The
 * IEEE operations give the same bits at every level; the transcendentals are SLEEF's
 * per-level functions, which agree to their error bounds. */
#include <math.h>
#include <string.h>

#include "core/ew_level.h"
#include "core/simd.h"
#include "core/simd_math.h"

#define LEVEL_NAME AR_SIMD_NAME(ew_level_) /* ew_level_avx512, ... */

#define K(v) vset1(v)


/* ---------- binary ops: f(x, y), al the axpy factor ---------- */
VINL vf b_add(vf x, vf y, vf al) { return (void)al, vadd(x, y); }
VINL vf b_sub(vf x, vf y, vf al) { return (void)al, vsub(x, y); }
VINL vf b_mul(vf x, vf y, vf al) { return (void)al, vmul(x, y); }
VINL vf b_div(vf x, vf y, vf al) { return (void)al, vdiv(x, y); }
VINL vf b_pow(vf x, vf y, vf al) { return (void)al, sl_pow(x, y); }
/* comparisons give 1 or 0; ordered, so false on NaN, except != (true on NaN) */
VINL vf mask01(vm m) { return vsel(m, K(1.0f), K(0.0f)); }
VINL vf b_gt(vf x, vf y, vf al) { return (void)al, mask01(vgt(x, y)); }
VINL vf b_lt(vf x, vf y, vf al) { return (void)al, mask01(vlt(x, y)); }
VINL vf b_ge(vf x, vf y, vf al) { return (void)al, mask01(vge(x, y)); }
VINL vf b_le(vf x, vf y, vf al) { return (void)al, mask01(vle(x, y)); }
VINL vf b_eq(vf x, vf y, vf al) { return (void)al, mask01(veq(x, y)); }
VINL vf b_ne(vf x, vf y, vf al) { return (void)al, mask01(mnot(veq(x, y))); }
/* NaN on either side wins, as torch.maximum/minimum (x NaN: x; y NaN: y) */
VINL vf b_max(vf x, vf y, vf al) { return (void)al, vsel(mor(vgt(x, y), visnan(x)), x, y); }
VINL vf b_min(vf x, vf y, vf al) { return (void)al, vsel(mor(vlt(x, y), visnan(x)), x, y); }
/* one rounding (fmaf) at every level */
VINL vf b_axpy(vf x, vf y, vf al) { return vfmaf(al, y, x); }

/* The five loops of a binary op; tails padded with 1 (no 0/0, no pow slow path). */
#define BIN(NAME, F)                                                                         \
  static void NAME##_vv(float *restrict o, const float *restrict a, const float *restrict b, \
                        int64_t n, float al) {                                               \
    vf va = K(al);                                                                           \
    int64_t i = 0;                                                                           \
    for (; i + VL <= n; i += VL) vst(o + i, F(vld(a + i), vld(b + i), va));                 \
    if (i < n) vst_part(o + i, F(vld_part(a + i, n - i, 1.0f), vld_part(b + i, n - i, 1.0f), va), \
                       n - i);                                                               \
  }                                                                                          \
  static void NAME##_vs(float *restrict o, const float *restrict a, float y, int64_t n,      \
                        float al) {                                                          \
    vf va = K(al), vy = K(y);                                                                \
    int64_t i = 0;                                                                           \
    for (; i + VL <= n; i += VL) vst(o + i, F(vld(a + i), vy, va));                          \
    if (i < n) vst_part(o + i, F(vld_part(a + i, n - i, 1.0f), vy, va), n - i);                \
  }                                                                                          \
  static void NAME##_sv(float *restrict o, float x, const float *restrict b, int64_t n,      \
                        float al) {                                                          \
    vf va = K(al), vx = K(x);                                                                \
    int64_t i = 0;                                                                           \
    for (; i + VL <= n; i += VL) vst(o + i, F(vx, vld(b + i), va));                          \
    if (i < n) vst_part(o + i, F(vx, vld_part(b + i, n - i, 1.0f), va), n - i);                \
  }                                                                                          \
  static void NAME##_ivv(float *restrict o, const float *restrict b, int64_t n, float al) {  \
    vf va = K(al);                                                                           \
    int64_t i = 0;                                                                           \
    for (; i + VL <= n; i += VL) vst(o + i, F(vld(o + i), vld(b + i), va));                  \
    if (i < n) vst_part(o + i, F(vld_part(o + i, n - i, 1.0f), vld_part(b + i, n - i, 1.0f), va), \
                       n - i);                                                               \
  }                                                                                          \
  static void NAME##_ivs(float *restrict o, float y, int64_t n, float al) {                  \
    vf va = K(al), vy = K(y);                                                                \
    int64_t i = 0;                                                                           \
    for (; i + VL <= n; i += VL) vst(o + i, F(vld(o + i), vy, va));                          \
    if (i < n) vst_part(o + i, F(vld_part(o + i, n - i, 1.0f), vy, va), n - i);                \
  }

BIN(k_add, b_add)
BIN(k_sub, b_sub)
BIN(k_mul, b_mul)
BIN(k_div, b_div)
BIN(k_gt, b_gt)
BIN(k_lt, b_lt)
BIN(k_ge, b_ge)
BIN(k_le, b_le)
BIN(k_eq, b_eq)
BIN(k_ne, b_ne)
BIN(k_max, b_max)
BIN(k_min, b_min)
BIN(k_axpy, b_axpy)
BIN(k_powg, b_pow)

/* pow: x^2 and x^1 are exact and common (squares in losses and norms) */
static void k_pow_vv(float *restrict o, const float *restrict a, const float *restrict b,
                     int64_t n, float al) {
  k_powg_vv(o, a, b, n, al);
}
static void k_pow_vs(float *restrict o, const float *restrict a, float y, int64_t n, float al) {
  if (y == 2.0f)
    k_mul_vv(o, a, a, n, al);
  else if (y == 1.0f)
    memcpy(o, a, (size_t)n * sizeof(float));
  else
    k_powg_vs(o, a, y, n, al);
}
static void k_pow_sv(float *restrict o, float x, const float *restrict b, int64_t n, float al) {
  k_powg_sv(o, x, b, n, al);
}
static void k_pow_ivv(float *restrict o, const float *restrict b, int64_t n, float al) {
  k_powg_ivv(o, b, n, al);
}
static void k_pow_ivs(float *restrict o, float y, int64_t n, float al) {
  if (y == 2.0f) {
    int64_t i = 0;
    for (; i + VL <= n; i += VL) {
      vf x = vld(o + i);
      vst(o + i, vmul(x, x));
    }
    for (; i < n; i++) o[i] = o[i] * o[i];
  } else if (y != 1.0f) {
    k_powg_ivs(o, y, n, al);
  }
}

/* ---------- unary ops ---------- */
/* sign(+-0) = 0 and sign(NaN) = NaN */
VINL vf u_sign_f(vf x) {
  vf z = vsel(visnan(x), x, K(0.0f));
  return vsel(vgt(x, K(0.0f)), K(1.0f), vsel(vlt(x, K(0.0f)), K(-1.0f), z));
}
/* exp of -|x| never overflows: 1/(1+e) for x >= 0, e/(1+e) for x < 0 */
VINL vf u_sigmoid_f(vf x) {
  vf e = sl_exp(vneg(vabs(x)));
  vf r = vdiv(K(1.0f), vadd(K(1.0f), e));
  return vsel(vge(x, K(0.0f)), r, vmul(e, r));
}

/* out of place and in place (one loop without restrict: in place o is a); tails padded
 * with 0 */
#define UN(NAME, EXPR)                                                                    \
  static inline __attribute__((always_inline)) void NAME##_m(float *o, const float *a,    \
                                                             int64_t n) {                 \
    int64_t i = 0;                                                                        \
    for (; i + VL <= n; i += VL) {                                                        \
      vf x = vld(a + i);                                                                  \
      vst(o + i, (EXPR));                                                                 \
    }                                                                                     \
    if (i < n) {                                                                          \
      vf x = vld_part(a + i, n - i, 0.0f);                                                 \
      vst_part(o + i, (EXPR), n - i);                                                      \
    }                                                                                     \
  }                                                                                       \
  static void NAME##_k(float *restrict o, const float *restrict a, int64_t n) {           \
    NAME##_m(o, a, n);                                                                    \
  }                                                                                       \
  static void NAME##_ki(float *restrict o, int64_t n) { NAME##_m(o, o, n); }

UN(u_neg, vneg(x))
UN(u_abs, vabs(x))
UN(u_sign, u_sign_f(x))
UN(u_recip, vdiv(K(1.0f), x))
UN(u_square, vmul(x, x))
UN(u_exp, sl_exp(x))
UN(u_log, sl_log(x))
UN(u_sqrt, vsqrt(x))
UN(u_sin, sl_sin_u35(x))
UN(u_cos, sl_cos_u35(x))
UN(u_tanh, sl_tanh(x))
UN(u_sigmoid, u_sigmoid_f(x))
UN(u_floor, vfloor(x))
UN(u_ceil, vceil(x))
UN(u_round, vround(x))

/* ---------- clamp, where, fill ---------- */
/* max then min, as PyTorch: NaN stays NaN, and lo > hi gives hi everywhere */
static void k_clamp(float *restrict o, const float *restrict a, int64_t n, float lo, float hi) {
  vf vlo = K(lo), vhi = K(hi);
  int64_t i = 0;
  for (; i + VL <= n; i += VL) vst(o + i, vminx(vhi, vmaxx(vlo, vld(a + i))));
  if (i < n) vst_part(o + i, vminx(vhi, vmaxx(vlo, vld_part(a + i, n - i, 0.0f))), n - i);
}
/* o = c != 0 ? a : o */
static void k_select_vv(float *restrict o, const float *restrict c, const float *restrict a,
                        int64_t n) {
  int64_t i = 0;
  for (; i + VL <= n; i += VL)
    vst(o + i, vsel(mnot(veq(vld(c + i), K(0.0f))), vld(a + i), vld(o + i)));
  for (; i < n; i++) o[i] = c[i] != 0 ? a[i] : o[i];
}
static void k_select_vs(float *restrict o, const float *restrict c, float v, int64_t n) {
  vf vv = K(v);
  int64_t i = 0;
  for (; i + VL <= n; i += VL) vst(o + i, vsel(mnot(veq(vld(c + i), K(0.0f))), vv, vld(o + i)));
  for (; i < n; i++) o[i] = c[i] != 0 ? v : o[i];
}
/* y = buf with non-temporal stores (core.h: ar_stream_store; m a multiple of 16, y and
 * buf 64-byte aligned): the level's full-width stores, whole cache lines at a time */
static void k_stream(float *restrict y, const float *restrict buf, int64_t m) {
  for (int64_t j = 0; j < m; j += VL) vst_nt(y + j, vld(buf + j));
}
static void k_fill(float *o, float v, int64_t n) {
  vf vv = K(v);
  int64_t i = 0;
  for (; i + VL <= n; i += VL) vst(o + i, vv);
  for (; i < n; i++) o[i] = v;
}

/* ---------- the level's table ---------- */
#define BIN_ENTRY(N) {N##_vv, N##_vs, N##_sv, N##_ivv, N##_ivs}
#define UN_ENTRY(N) {N##_k, N##_ki}
const ew_level LEVEL_NAME = {
    .bin =
        {
            [AR_ADD] = BIN_ENTRY(k_add),     [AR_SUB] = BIN_ENTRY(k_sub),
            [AR_MUL] = BIN_ENTRY(k_mul),     [AR_DIV] = BIN_ENTRY(k_div),
            [AR_POW] = BIN_ENTRY(k_pow),     [AR_GT] = BIN_ENTRY(k_gt),
            [AR_LT] = BIN_ENTRY(k_lt),       [AR_GE] = BIN_ENTRY(k_ge),
            [AR_LE] = BIN_ENTRY(k_le),       [AR_EQ] = BIN_ENTRY(k_eq),
            [AR_NE] = BIN_ENTRY(k_ne),       [AR_MAXIMUM] = BIN_ENTRY(k_max),
            [AR_MINIMUM] = BIN_ENTRY(k_min), [EW_OP_AXPY] = BIN_ENTRY(k_axpy),
        },
    .un =
        {
            [AR_NEG] = UN_ENTRY(u_neg),         [AR_EXP] = UN_ENTRY(u_exp),
            [AR_LOG] = UN_ENTRY(u_log),         [AR_SQRT] = UN_ENTRY(u_sqrt),
            [AR_ABS] = UN_ENTRY(u_abs),         [AR_SIN] = UN_ENTRY(u_sin),
            [AR_COS] = UN_ENTRY(u_cos),         [AR_TANH] = UN_ENTRY(u_tanh),
            [AR_SIGMOID] = UN_ENTRY(u_sigmoid), [AR_SIGN] = UN_ENTRY(u_sign),
            [AR_FLOOR] = UN_ENTRY(u_floor),     [AR_CEIL] = UN_ENTRY(u_ceil),
            [AR_ROUND] = UN_ENTRY(u_round),     [AR_RECIP] = UN_ENTRY(u_recip),
            [AR_SQUARE] = UN_ENTRY(u_square),
        },
    .clamp = k_clamp,
    .select_vv = k_select_vv,
    .select_vs = k_select_vs,
    .fill = k_fill,
    .stream = k_stream,
};
