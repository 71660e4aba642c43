/* SLEEF's vector math at the level being compiled (core/simd.h's AR_SIMD_LEVEL), under
 * one set of names for every kernel file: sl_exp, sl_expm1, sl_pow (1 ulp), sl_log,
 * sl_tanh (3.5 ulp), and sin/cos in both accuracies (sl_sin_u35, sl_sin_u10, ...). The
 * 3.5-ulp variants run about twice as fast as the 1-ulp ones and stay within 2.5e-7
 * relative error in the tests; exp, expm1 and pow only come as 1 ulp. Where SLEEF has no
 * build (not x86-64 or AArch64), libm per lane. */
#ifndef ACTRUN_CORE_SIMD_MATH_H
#define ACTRUN_CORE_SIMD_MATH_H

#include <math.h>

#include "core/simd.h"

#if defined(__x86_64__) || defined(__aarch64__)
#include <sleef.h>
#endif

#if AR_SIMD_LEVEL == AR_SIMD_AVX512
#define SLEEF(fn, acc) Sleef_##fn##f16_##acc##avx512f
#elif AR_SIMD_LEVEL == AR_SIMD_AVX2
#define SLEEF(fn, acc) Sleef_##fn##f8_##acc##avx2
#elif defined(__x86_64__)
#define SLEEF(fn, acc) Sleef_##fn##f4_##acc##sse2
#elif defined(__aarch64__)
#define SLEEF(fn, acc) Sleef_##fn##f4_##acc##advsimd
#endif

/* sl_powd: pow on the level's double vector (vd), 1 ulp. The variants without FMA compute
 * the same bits at every x86 level (SSE2, AVX, AVX-512 without FMA: checked over 16M
 * operands, and by the reductions' cross-level test), so a reduction built on it keeps
 * its bits from level to level. */
#if AR_SIMD_LEVEL == AR_SIMD_AVX512
#define sl_powd Sleef_powd8_u10avx512fnofma
#elif AR_SIMD_LEVEL == AR_SIMD_AVX2
#define sl_powd Sleef_powd4_u10avx
#elif defined(__x86_64__)
#define sl_powd Sleef_powd2_u10sse2
#elif defined(__aarch64__)
#define sl_powd Sleef_powd2_u10advsimd
#else
VINL vd sl_powd(vd a, vd b) {
  double t[VD], u[VD];
  vdst(t, a);
  vdst(u, b);
  for (int i = 0; i < VD; i++) t[i] = pow(t[i], u[i]);
  return vdld(t);
}
#endif

#ifdef SLEEF
#define sl_exp SLEEF(exp, u10)
#define sl_expm1 SLEEF(expm1, u10)
#define sl_pow SLEEF(pow, u10)
#define sl_log SLEEF(log, u35)
#define sl_tanh SLEEF(tanh, u35)
#define sl_sin_u35 SLEEF(sin, u35)
#define sl_sin_u10 SLEEF(sin, u10)
#define sl_cos_u35 SLEEF(cos, u35)
#define sl_cos_u10 SLEEF(cos, u10)
#else
#define LANEWISE(NAME, F)                        \
  VINL vf NAME(vf a) {                           \
    float t[VL];                                 \
    vst(t, a);                                   \
    for (int i = 0; i < VL; i++) t[i] = F(t[i]); \
    return vld(t);                               \
  }
LANEWISE(sl_exp, expf)
LANEWISE(sl_expm1, expm1f)
LANEWISE(sl_log, logf)
LANEWISE(sl_tanh, tanhf)
LANEWISE(sl_sin_u35, sinf)
LANEWISE(sl_sin_u10, sinf)
LANEWISE(sl_cos_u35, cosf)
LANEWISE(sl_cos_u10, cosf)
VINL vf sl_pow(vf a, vf b) {
  float t[VL], u[VL];
  vst(t, a);
  vst(u, b);
  for (int i = 0; i < VL; i++) t[i] = powf(t[i], u[i]);
  return vld(t);
}
#endif

#endif
