/* The vector abstraction the explicit kernels are written over: one float vector type
 * `vf` of VL lanes, a lane mask `vm`, an int32 vector `vi`, and a few dozen inline
 * operations, defined once per instruction-set level. A kernel file defines
 * AR_SIMD_LEVEL (AR_SIMD_BASELINE / AR_SIMD_AVX2 / AR_SIMD_AVX512, core.h) and is
 * compiled with that level's flags (CMakeLists.txt); the same kernel source then
 * becomes AVX-512, AVX2+FMA or baseline code (SSE2 on x86-64; NEON through GCC's
 * generic vectors on AArch64; 4-lane generic vectors elsewhere). Nothing here depends on
 * the auto-vectoriser: every operation is one intrinsic or one generic vector operator.
 *
 * Semantics every level keeps (the kernels rely on them):
 * - vmaxx(a, b) = a > b ? a : b and vminx(a, b) = a < b ? a : b, lane by lane: when a
 *   lane is NaN the second operand comes back (x86's maxps/minps), so
 *   vminx(hi, vmaxx(lo, x)) clamps x and keeps a NaN x.
 * - Comparisons are ordered (false on NaN); vsel(m, a, b) = m ? a : b.
 * - vfma(a, b, c) = a b + c, one rounding where the level has FMA (AVX2, AVX-512,
 *   AArch64); the baseline x86 level has none and rounds twice (its results stay within
 *   the documented error bounds, tested per level). vfma_x is always exact (the exact
 *   products of split arithmetic need it): on baseline x86 through double. vfmaf(a, b, c)
 *   is fmaf(a, b, c) bit for bit at every level, for any operands (slower on baseline x86).
 * - vst_nt(p, a): a non-temporal store where the level has one (p aligned to VL floats).
 * - vld_part(p, m, pad)/vst_part(p, a, m) touch only p[0..m) (m < VL): ragged tails.
 * - vround/vfloor/vceil are nearbyintf (half to even)/floorf/ceilf exactly, NaN and
 *   signed zeros included; vsqrt is sqrtf.
 * - vd is a double vector of VD = VL / 2 lanes; vcvt_lo/vcvt_hi widen a vf's first/last
 *   VD lanes (exact), vdnz is 1 where a lane != 0 (NaN included) and 0 elsewhere.
 * - vdnarrow(lo, hi) narrows two double vectors back to one float vector (lo's lanes
 *   first; exact for widened floats). vi lanes are int32: viota is 0, 1, ..., VL - 1,
 *   vild/vist load and store them, visel(m, a, b) = m ? a : b; mbits(m) has bit i set
 *   where lane i of m is (the arg max/min kernels find a lane with it).
 * Kernel files are compiled with -ffp-contract=off, so no other a * b + c is fused and the
 * bits of a kernel are exactly what its source says. */
#ifndef ACTRUN_CORE_SIMD_H
#define ACTRUN_CORE_SIMD_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "core/core.h"

#ifndef AR_SIMD_LEVEL
#error "define AR_SIMD_LEVEL before including core/simd.h"
#endif

#define VINL static inline __attribute__((always_inline))

/* ======================================================================== AVX-512 */
#if AR_SIMD_LEVEL == AR_SIMD_AVX512
#if !defined(__AVX512F__) || !defined(__FMA__)
#error "the AVX-512 kernels need -mavx512f -mfma"
#endif
#include <immintrin.h>
#define VL 16
#define AR_SIMD_SUFFIX avx512
typedef __m512 vf;
typedef __m512i vi;
typedef __mmask16 vm;
VINL vf vset1(float a) { return _mm512_set1_ps(a); }
VINL vf vld(const float *p) { return _mm512_loadu_ps(p); }
VINL void vst(float *p, vf a) { _mm512_storeu_ps(p, a); }
VINL void vst_nt(float *p, vf a) { _mm512_stream_ps(p, a); }
VINL vf vadd(vf a, vf b) { return _mm512_add_ps(a, b); }
VINL vf vsub(vf a, vf b) { return _mm512_sub_ps(a, b); }
VINL vf vmul(vf a, vf b) { return _mm512_mul_ps(a, b); }
VINL vf vdiv(vf a, vf b) { return _mm512_div_ps(a, b); }
VINL vf vfma(vf a, vf b, vf c) { return _mm512_fmadd_ps(a, b, c); }
VINL vf vfma_x(vf a, vf b, vf c) { return _mm512_fmadd_ps(a, b, c); }
VINL vf vmaxx(vf a, vf b) { return _mm512_max_ps(a, b); }
VINL vf vminx(vf a, vf b) { return _mm512_min_ps(a, b); }
VINL vm vlt(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
VINL vm vle(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_LE_OQ); }
VINL vm vgt(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ); }
VINL vm vge(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ); }
VINL vm veq(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ); }
VINL vm visnan(vf a) { return _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q); }
VINL vf vsel(vm m, vf a, vf b) { return _mm512_mask_blend_ps(m, b, a); }
VINL vm mand(vm a, vm b) { return (vm)(a & b); }
VINL vm mor(vm a, vm b) { return (vm)(a | b); }
VINL vm mnot(vm a) { return (vm)~a; }
VINL bool mall(vm a) { return a == (vm)0xFFFF; }
VINL vi vbits(vf a) { return _mm512_castps_si512(a); }
VINL vf vfrombits(vi a) { return _mm512_castsi512_ps(a); }
VINL vi viset1(int32_t a) { return _mm512_set1_epi32(a); }
VINL vi viadd(vi a, vi b) { return _mm512_add_epi32(a, b); }
VINL vi visub(vi a, vi b) { return _mm512_sub_epi32(a, b); }
VINL vi vishl23(vi a) { return _mm512_slli_epi32(a, 23); }
VINL vi viand(vi a, vi b) { return _mm512_and_si512(a, b); }
VINL vi vior(vi a, vi b) { return _mm512_or_si512(a, b); }
VINL vi viandnot(vi a, vi b) { return _mm512_andnot_si512(a, b); } /* ~a & b */
VINL vi vixor(vi a, vi b) { return _mm512_xor_si512(a, b); }
VINL vf vsqrt(vf a) { return _mm512_sqrt_ps(a); }
/* the first m < VL lanes of p, the others pad (masked: no access past p + m) */
VINL vf vld_part(const float *p, int64_t m, float pad) {
  return _mm512_mask_loadu_ps(_mm512_set1_ps(pad), (__mmask16)((1u << m) - 1), p);
}
VINL void vst_part(float *p, vf a, int64_t m) {
  _mm512_mask_storeu_ps(p, (__mmask16)((1u << m) - 1), a);
}
VINL vf vfmaf(vf a, vf b, vf c) { return _mm512_fmadd_ps(a, b, c); }
#define AR_SIMD_HAVE_ROUND 1
#define RND_(a, mode) _mm512_roundscale_ps(a, mode | _MM_FROUND_NO_EXC)
VINL vf vfloor(vf a) { return RND_(a, _MM_FROUND_TO_NEG_INF); }
VINL vf vceil(vf a) { return RND_(a, _MM_FROUND_TO_POS_INF); }
VINL vf vround(vf a) { return RND_(a, _MM_FROUND_TO_NEAREST_INT); }
#undef RND_
/* double vectors of VL / 2 lanes: float lanes widened half by half (the reductions) */
#define VD 8
typedef __m512d vd;
VINL vd vdzero(void) { return _mm512_setzero_pd(); }
VINL vd vdset1(double a) { return _mm512_set1_pd(a); }
VINL vd vdld(const double *p) { return _mm512_loadu_pd(p); }
VINL void vdst(double *p, vd a) { _mm512_storeu_pd(p, a); }
VINL vd vdadd(vd a, vd b) { return _mm512_add_pd(a, b); }
VINL vd vdsub(vd a, vd b) { return _mm512_sub_pd(a, b); }
VINL vd vdmul(vd a, vd b) { return _mm512_mul_pd(a, b); }
VINL vd vdabs(vd a) {
  return _mm512_castsi512_pd(_mm512_and_epi64(_mm512_castpd_si512(a), _mm512_set1_epi64(INT64_MAX)));
}
VINL vd vdnz(vd a) { /* 1 where a != 0 (NaN included), else 0 */
  return _mm512_maskz_mov_pd(_mm512_cmp_pd_mask(a, _mm512_setzero_pd(), _CMP_NEQ_UQ), _mm512_set1_pd(1));
}
VINL vd vcvt_lo(vf a) { return _mm512_cvtps_pd(_mm512_castps512_ps256(a)); }
VINL vd vcvt_hi(vf a) {
  return _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(a), 1)));
}
/* two double vectors narrowed to one float vector (lo's lanes first) */
VINL vf vdnarrow(vd lo, vd hi) {
  __m512d l = _mm512_castps_pd(_mm512_castps256_ps512(_mm512_cvtpd_ps(lo)));
  return _mm512_castpd_ps(_mm512_insertf64x4(l, _mm256_castps_pd(_mm512_cvtpd_ps(hi)), 1));
}
VINL vi viota(void) { return _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15); }
VINL vi vild(const int32_t *p) { return _mm512_loadu_si512(p); }
VINL void vist(int32_t *p, vi a) { _mm512_storeu_si512(p, a); }
VINL vi visel(vm m, vi a, vi b) { return _mm512_mask_blend_epi32(m, b, a); }
VINL uint32_t mbits(vm a) { return a; }

/* ======================================================================== AVX2 + FMA */
#elif AR_SIMD_LEVEL == AR_SIMD_AVX2
#if !defined(__AVX2__) || !defined(__FMA__)
#error "the AVX2 kernels need -mavx2 -mfma"
#endif
#include <immintrin.h>
#define VL 8
#define AR_SIMD_SUFFIX avx2
typedef __m256 vf;
typedef __m256i vi;
typedef __m256 vm; /* all-ones / all-zeros lanes */
VINL vf vset1(float a) { return _mm256_set1_ps(a); }
VINL vf vld(const float *p) { return _mm256_loadu_ps(p); }
VINL void vst(float *p, vf a) { _mm256_storeu_ps(p, a); }
VINL void vst_nt(float *p, vf a) { _mm256_stream_ps(p, a); }
VINL vf vadd(vf a, vf b) { return _mm256_add_ps(a, b); }
VINL vf vsub(vf a, vf b) { return _mm256_sub_ps(a, b); }
VINL vf vmul(vf a, vf b) { return _mm256_mul_ps(a, b); }
VINL vf vdiv(vf a, vf b) { return _mm256_div_ps(a, b); }
VINL vf vfma(vf a, vf b, vf c) { return _mm256_fmadd_ps(a, b, c); }
VINL vf vfma_x(vf a, vf b, vf c) { return _mm256_fmadd_ps(a, b, c); }
VINL vf vmaxx(vf a, vf b) { return _mm256_max_ps(a, b); }
VINL vf vminx(vf a, vf b) { return _mm256_min_ps(a, b); }
VINL vm vlt(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
VINL vm vle(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_LE_OQ); }
VINL vm vgt(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_GT_OQ); }
VINL vm vge(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_GE_OQ); }
VINL vm veq(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_EQ_OQ); }
VINL vm visnan(vf a) { return _mm256_cmp_ps(a, a, _CMP_UNORD_Q); }
VINL vf vsel(vm m, vf a, vf b) { return _mm256_blendv_ps(b, a, m); }
VINL vm mand(vm a, vm b) { return _mm256_and_ps(a, b); }
VINL vm mor(vm a, vm b) { return _mm256_or_ps(a, b); }
VINL vm mnot(vm a) { return _mm256_xor_ps(a, _mm256_castsi256_ps(_mm256_set1_epi32(-1))); }
VINL bool mall(vm a) { return _mm256_movemask_ps(a) == 0xFF; }
VINL vi vbits(vf a) { return _mm256_castps_si256(a); }
VINL vf vfrombits(vi a) { return _mm256_castsi256_ps(a); }
VINL vi viset1(int32_t a) { return _mm256_set1_epi32(a); }
VINL vi viadd(vi a, vi b) { return _mm256_add_epi32(a, b); }
VINL vi visub(vi a, vi b) { return _mm256_sub_epi32(a, b); }
VINL vi vishl23(vi a) { return _mm256_slli_epi32(a, 23); }
VINL vi viand(vi a, vi b) { return _mm256_and_si256(a, b); }
VINL vi vior(vi a, vi b) { return _mm256_or_si256(a, b); }
VINL vi viandnot(vi a, vi b) { return _mm256_andnot_si256(a, b); }
VINL vi vixor(vi a, vi b) { return _mm256_xor_si256(a, b); }
VINL vf vsqrt(vf a) { return _mm256_sqrt_ps(a); }
VINL __m256i part_mask_(int64_t m) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)m), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
VINL vf vld_part(const float *p, int64_t m, float pad) {
  __m256i k = part_mask_(m);
  return _mm256_blendv_ps(_mm256_set1_ps(pad), _mm256_maskload_ps(p, k), _mm256_castsi256_ps(k));
}
VINL void vst_part(float *p, vf a, int64_t m) { _mm256_maskstore_ps(p, part_mask_(m), a); }
VINL vf vfmaf(vf a, vf b, vf c) { return _mm256_fmadd_ps(a, b, c); }
#define AR_SIMD_HAVE_ROUND 1
#define RND_(a, mode) _mm256_round_ps(a, mode | _MM_FROUND_NO_EXC)
VINL vf vfloor(vf a) { return RND_(a, _MM_FROUND_TO_NEG_INF); }
VINL vf vceil(vf a) { return RND_(a, _MM_FROUND_TO_POS_INF); }
VINL vf vround(vf a) { return RND_(a, _MM_FROUND_TO_NEAREST_INT); }
#undef RND_
#define VD 4
typedef __m256d vd;
VINL vd vdzero(void) { return _mm256_setzero_pd(); }
VINL vd vdset1(double a) { return _mm256_set1_pd(a); }
VINL vd vdld(const double *p) { return _mm256_loadu_pd(p); }
VINL void vdst(double *p, vd a) { _mm256_storeu_pd(p, a); }
VINL vd vdadd(vd a, vd b) { return _mm256_add_pd(a, b); }
VINL vd vdsub(vd a, vd b) { return _mm256_sub_pd(a, b); }
VINL vd vdmul(vd a, vd b) { return _mm256_mul_pd(a, b); }
VINL vd vdabs(vd a) { return _mm256_andnot_pd(_mm256_set1_pd(-0.0), a); }
VINL vd vdnz(vd a) {
  return _mm256_and_pd(_mm256_cmp_pd(a, _mm256_setzero_pd(), _CMP_NEQ_UQ), _mm256_set1_pd(1));
}
VINL vd vcvt_lo(vf a) { return _mm256_cvtps_pd(_mm256_castps256_ps128(a)); }
VINL vd vcvt_hi(vf a) { return _mm256_cvtps_pd(_mm256_extractf128_ps(a, 1)); }
VINL vf vdnarrow(vd lo, vd hi) { return _mm256_set_m128(_mm256_cvtpd_ps(hi), _mm256_cvtpd_ps(lo)); }
VINL vi viota(void) { return _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7); }
VINL vi vild(const int32_t *p) { return _mm256_loadu_si256((const __m256i *)p); }
VINL void vist(int32_t *p, vi a) { _mm256_storeu_si256((__m256i *)p, a); }
VINL vi visel(vm m, vi a, vi b) {
  return _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(b), _mm256_castsi256_ps(a), m));
}
VINL uint32_t mbits(vm a) { return (uint32_t)_mm256_movemask_ps(a); }

/* ======================================================================== baseline */
#elif AR_SIMD_LEVEL == AR_SIMD_BASELINE && (defined(__x86_64__) || defined(__SSE2__))
#include <emmintrin.h>
#define VL 4
#define AR_SIMD_SUFFIX baseline
#define AR_SIMD_NO_FMA 1
typedef __m128 vf;
typedef __m128i vi;
typedef __m128 vm;
VINL vf vset1(float a) { return _mm_set1_ps(a); }
VINL vf vld(const float *p) { return _mm_loadu_ps(p); }
VINL void vst(float *p, vf a) { _mm_storeu_ps(p, a); }
VINL void vst_nt(float *p, vf a) { _mm_stream_ps(p, a); }
VINL vf vadd(vf a, vf b) { return _mm_add_ps(a, b); }
VINL vf vsub(vf a, vf b) { return _mm_sub_ps(a, b); }
VINL vf vmul(vf a, vf b) { return _mm_mul_ps(a, b); }
VINL vf vdiv(vf a, vf b) { return _mm_div_ps(a, b); }
VINL vf vfma(vf a, vf b, vf c) { return _mm_add_ps(_mm_mul_ps(a, b), c); }
/* exact: a b has at most 48 significant bits, exact in double; one rounding to double
 * for the sum, one to float (the split products this serves are exact in float) */
VINL __m128d fma_pd(__m128d a, __m128d b, __m128d c) { return _mm_add_pd(_mm_mul_pd(a, b), c); }
VINL vf vfma_x(vf a, vf b, vf c) {
  __m128d lo = fma_pd(_mm_cvtps_pd(a), _mm_cvtps_pd(b), _mm_cvtps_pd(c));
  __m128 ah = _mm_movehl_ps(a, a), bh = _mm_movehl_ps(b, b), ch = _mm_movehl_ps(c, c);
  __m128d hi = fma_pd(_mm_cvtps_pd(ah), _mm_cvtps_pd(bh), _mm_cvtps_pd(ch));
  return _mm_movelh_ps(_mm_cvtpd_ps(lo), _mm_cvtpd_ps(hi));
}
VINL vf vmaxx(vf a, vf b) { return _mm_max_ps(a, b); }
VINL vf vminx(vf a, vf b) { return _mm_min_ps(a, b); }
VINL vm vlt(vf a, vf b) { return _mm_cmplt_ps(a, b); }
VINL vm vle(vf a, vf b) { return _mm_cmple_ps(a, b); }
VINL vm vgt(vf a, vf b) { return _mm_cmpgt_ps(a, b); }
VINL vm vge(vf a, vf b) { return _mm_cmpge_ps(a, b); }
VINL vm veq(vf a, vf b) { return _mm_cmpeq_ps(a, b); }
VINL vm visnan(vf a) { return _mm_cmpunord_ps(a, a); }
VINL vf vsel(vm m, vf a, vf b) { return _mm_or_ps(_mm_and_ps(m, a), _mm_andnot_ps(m, b)); }
VINL vm mand(vm a, vm b) { return _mm_and_ps(a, b); }
VINL vm mor(vm a, vm b) { return _mm_or_ps(a, b); }
VINL vm mnot(vm a) { return _mm_xor_ps(a, _mm_castsi128_ps(_mm_set1_epi32(-1))); }
VINL bool mall(vm a) { return _mm_movemask_ps(a) == 0xF; }
VINL vi vbits(vf a) { return _mm_castps_si128(a); }
VINL vf vfrombits(vi a) { return _mm_castsi128_ps(a); }
VINL vi viset1(int32_t a) { return _mm_set1_epi32(a); }
VINL vi viadd(vi a, vi b) { return _mm_add_epi32(a, b); }
VINL vi visub(vi a, vi b) { return _mm_sub_epi32(a, b); }
VINL vi vishl23(vi a) { return _mm_slli_epi32(a, 23); }
VINL vi viand(vi a, vi b) { return _mm_and_si128(a, b); }
VINL vi vior(vi a, vi b) { return _mm_or_si128(a, b); }
VINL vi viandnot(vi a, vi b) { return _mm_andnot_si128(a, b); }
VINL vi vixor(vi a, vi b) { return _mm_xor_si128(a, b); }
VINL vf vsqrt(vf a) { return _mm_sqrt_ps(a); }
/* fmaf exactly, without FMA: a b + c in double (a b is exact there), rounded to odd
 * (the truncation with its last bit set when inexact, found by TwoSum), then to float:
 * round-to-odd with 29 spare bits makes the double rounding a single one (Boldo and
 * Melquiond). Inf/NaN lanes have a NaN error term and stay as computed. */
VINL __m128d fmaf_pd(__m128d a, __m128d b, __m128d c) {
  __m128d p = _mm_mul_pd(a, b), s = _mm_add_pd(p, c), bb = _mm_sub_pd(s, p);
  __m128d e = _mm_add_pd(_mm_sub_pd(p, _mm_sub_pd(s, bb)), _mm_sub_pd(c, bb));
  __m128d z = _mm_setzero_pd();
  __m128i inexact = _mm_castpd_si128(_mm_or_pd(_mm_cmplt_pd(e, z), _mm_cmpgt_pd(e, z)));
  __m128i sb = _mm_castpd_si128(s);
  /* truncation: one step toward zero when the error points there (signs differ) */
  __m128i t = _mm_sub_epi64(sb, _mm_srli_epi64(_mm_xor_si128(_mm_castpd_si128(e), sb), 63));
  t = _mm_or_si128(t, _mm_set_epi32(0, 1, 0, 1));
  return _mm_castsi128_pd(_mm_or_si128(_mm_and_si128(inexact, t), _mm_andnot_si128(inexact, sb)));
}
VINL vf vfmaf(vf a, vf b, vf c) {
  __m128d lo = fmaf_pd(_mm_cvtps_pd(a), _mm_cvtps_pd(b), _mm_cvtps_pd(c));
  __m128 ah = _mm_movehl_ps(a, a), bh = _mm_movehl_ps(b, b), ch = _mm_movehl_ps(c, c);
  __m128d hi = fmaf_pd(_mm_cvtps_pd(ah), _mm_cvtps_pd(bh), _mm_cvtps_pd(ch));
  return _mm_movelh_ps(_mm_cvtpd_ps(lo), _mm_cvtpd_ps(hi));
}
#define VD 2
typedef __m128d vd;
VINL vd vdzero(void) { return _mm_setzero_pd(); }
VINL vd vdset1(double a) { return _mm_set1_pd(a); }
VINL vd vdld(const double *p) { return _mm_loadu_pd(p); }
VINL void vdst(double *p, vd a) { _mm_storeu_pd(p, a); }
VINL vd vdadd(vd a, vd b) { return _mm_add_pd(a, b); }
VINL vd vdsub(vd a, vd b) { return _mm_sub_pd(a, b); }
VINL vd vdmul(vd a, vd b) { return _mm_mul_pd(a, b); }
VINL vd vdabs(vd a) { return _mm_andnot_pd(_mm_set1_pd(-0.0), a); }
VINL vd vdnz(vd a) { return _mm_and_pd(_mm_cmpneq_pd(a, _mm_setzero_pd()), _mm_set1_pd(1)); }
VINL vd vcvt_lo(vf a) { return _mm_cvtps_pd(a); }
VINL vd vcvt_hi(vf a) { return _mm_cvtps_pd(_mm_movehl_ps(a, a)); }
VINL vf vdnarrow(vd lo, vd hi) { return _mm_movelh_ps(_mm_cvtpd_ps(lo), _mm_cvtpd_ps(hi)); }
VINL vi viota(void) { return _mm_setr_epi32(0, 1, 2, 3); }
VINL vi vild(const int32_t *p) { return _mm_loadu_si128((const __m128i *)p); }
VINL void vist(int32_t *p, vi a) { _mm_storeu_si128((__m128i *)p, a); }
VINL vi visel(vm m, vi a, vi b) {
  __m128i k = _mm_castps_si128(m);
  return _mm_or_si128(_mm_and_si128(k, a), _mm_andnot_si128(k, b));
}
VINL uint32_t mbits(vm a) { return (uint32_t)_mm_movemask_ps(a); }

/* ================================================ baseline elsewhere: generic vectors */
#elif AR_SIMD_LEVEL == AR_SIMD_BASELINE
/* GCC/Clang generic vectors: NEON on AArch64 (with its FMA), 4-lane code elsewhere. */
#include <math.h>
#if defined(__aarch64__)
#include <arm_neon.h>
#endif
#define VL 4
#define AR_SIMD_SUFFIX baseline
typedef float vf __attribute__((vector_size(16)));
typedef int32_t vi __attribute__((vector_size(16)));
typedef vi vm;
VINL vf vset1(float a) { return (vf){a, a, a, a}; }
VINL vf vld(const float *p) {
  vf v;
  memcpy(&v, p, sizeof v);
  return v;
}
VINL void vst(float *p, vf a) { memcpy(p, &a, sizeof a); }
VINL void vst_nt(float *p, vf a) { vst(p, a); }
VINL vf vadd(vf a, vf b) { return a + b; }
VINL vf vsub(vf a, vf b) { return a - b; }
VINL vf vmul(vf a, vf b) { return a * b; }
VINL vf vdiv(vf a, vf b) { return a / b; }
#if defined(__aarch64__)
VINL vf vfma(vf a, vf b, vf c) { return (vf)vfmaq_f32((float32x4_t)c, (float32x4_t)a, (float32x4_t)b); }
#else
#define AR_SIMD_NO_FMA 1
VINL vf vfma(vf a, vf b, vf c) { return a * b + c; }
#endif
VINL vf vfma_x(vf a, vf b, vf c) {
#if defined(__aarch64__)
  return vfma(a, b, c);
#else
  return (vf){fmaf(a[0], b[0], c[0]), fmaf(a[1], b[1], c[1]), fmaf(a[2], b[2], c[2]),
              fmaf(a[3], b[3], c[3])};
#endif
}
VINL vf vsel(vm m, vf a, vf b) { return (vf)((m & (vi)a) | (~m & (vi)b)); }
VINL vm vlt(vf a, vf b) { return a < b; }
VINL vm vle(vf a, vf b) { return a <= b; }
VINL vm vgt(vf a, vf b) { return a > b; }
VINL vm vge(vf a, vf b) { return a >= b; }
VINL vm veq(vf a, vf b) { return a == b; }
VINL vm visnan(vf a) { return a != a; }
VINL vf vmaxx(vf a, vf b) { return vsel(a > b, a, b); }
VINL vf vminx(vf a, vf b) { return vsel(a < b, a, b); }
VINL vm mand(vm a, vm b) { return a & b; }
VINL vm mor(vm a, vm b) { return a | b; }
VINL vm mnot(vm a) { return ~a; }
VINL bool mall(vm a) { return a[0] && a[1] && a[2] && a[3]; }
VINL vi vbits(vf a) { return (vi)a; }
VINL vf vfrombits(vi a) { return (vf)a; }
VINL vi viset1(int32_t a) { return (vi){a, a, a, a}; }
VINL vi viadd(vi a, vi b) { return (vi)((uint32_t __attribute__((vector_size(16))))a + (uint32_t __attribute__((vector_size(16))))b); }
VINL vi visub(vi a, vi b) { return (vi)((uint32_t __attribute__((vector_size(16))))a - (uint32_t __attribute__((vector_size(16))))b); }
VINL vi vishl23(vi a) { return (vi)((uint32_t __attribute__((vector_size(16))))a << 23); }
VINL vi viand(vi a, vi b) { return a & b; }
VINL vi vior(vi a, vi b) { return a | b; }
VINL vi viandnot(vi a, vi b) { return ~a & b; }
VINL vi vixor(vi a, vi b) { return a ^ b; }
#if defined(__aarch64__)
VINL vf vsqrt(vf a) { return (vf)vsqrtq_f32((float32x4_t)a); }
VINL vf vfmaf(vf a, vf b, vf c) { return vfma(a, b, c); }
#else
VINL vf vsqrt(vf a) { return (vf){sqrtf(a[0]), sqrtf(a[1]), sqrtf(a[2]), sqrtf(a[3])}; }
VINL vf vfmaf(vf a, vf b, vf c) { return vfma_x(a, b, c); }
#endif
#define VD 2
typedef double vd __attribute__((vector_size(16)));
VINL vd vdzero(void) { return (vd){0, 0}; }
VINL vd vdset1(double a) { return (vd){a, a}; }
VINL vd vdld(const double *p) {
  vd v;
  memcpy(&v, p, sizeof v);
  return v;
}
VINL void vdst(double *p, vd a) { memcpy(p, &a, sizeof a); }
VINL vd vdadd(vd a, vd b) { return a + b; }
VINL vd vdsub(vd a, vd b) { return a - b; }
VINL vd vdmul(vd a, vd b) { return a * b; }
VINL vd vdabs(vd a) { return (vd){fabs(a[0]), fabs(a[1])}; }
VINL vd vdnz(vd a) { return (vd){a[0] != 0 ? 1.0 : 0.0, a[1] != 0 ? 1.0 : 0.0}; }
VINL vd vcvt_lo(vf a) { return (vd){a[0], a[1]}; }
VINL vd vcvt_hi(vf a) { return (vd){a[2], a[3]}; }
VINL vf vdnarrow(vd lo, vd hi) { return (vf){(float)lo[0], (float)lo[1], (float)hi[0], (float)hi[1]}; }
VINL vi viota(void) { return (vi){0, 1, 2, 3}; }
VINL vi vild(const int32_t *p) {
  vi v;
  memcpy(&v, p, sizeof v);
  return v;
}
VINL void vist(int32_t *p, vi a) { memcpy(p, &a, sizeof a); }
VINL vi visel(vm m, vi a, vi b) { return (m & a) | (~m & b); }
VINL uint32_t mbits(vm a) {
  return (uint32_t)((a[0] != 0) | (a[1] != 0) << 1 | (a[2] != 0) << 2 | (a[3] != 0) << 3);
}
#else
#error "unknown AR_SIMD_LEVEL"
#endif

/* ---------------------------------------------------------- shared by every level */
/* PREFIX followed by the level's suffix (act_level_avx512, ...): a kernel file's export */
#define AR_SIMD_CAT_(a, b) a##b
#define AR_SIMD_CAT(a, b) AR_SIMD_CAT_(a, b)
#define AR_SIMD_NAME(prefix) AR_SIMD_CAT(prefix, AR_SIMD_SUFFIX)
#if AR_SIMD_LEVEL == AR_SIMD_BASELINE
/* the first m < VL lanes of p, the others pad; and their store (through the stack) */
VINL vf vld_part(const float *p, int64_t m, float pad) {
  float t[VL];
  for (int i = 0; i < VL; i++) t[i] = i < m ? p[i] : pad;
  return vld(t);
}
VINL void vst_part(float *p, vf a, int64_t m) {
  float t[VL];
  vst(t, a);
  memcpy(p, t, (size_t)m * sizeof(float));
}
#endif
/* -a (the sign bit flipped: -0 for 0, NaN stays NaN) */
VINL vf vneg(vf a) { return vfrombits(vixor(vbits(a), viset1(INT32_MIN))); }
VINL vf vabs(vf a) { return vfrombits(viandnot(viset1(INT32_MIN), vbits(a))); }
/* |mag| with the sign of sgn */
VINL vf vcopysign(vf mag, vf sgn) {
  vi s = viset1(INT32_MIN);
  return vfrombits(vior(viandnot(s, vbits(mag)), viand(s, vbits(sgn))));
}
/* clamp that keeps NaN (lo <= hi) */
VINL vf vclamp(vf x, vf lo, vf hi) { return vminx(hi, vmaxx(lo, x)); }

#ifndef AR_SIMD_HAVE_ROUND
/* nearbyintf, floorf, ceilf without a round instruction: below 2^23, |x| + 2^23 - 2^23 is
 * |x| rounded half to even; floor/ceil step the result by one where it overshot. Each
 * result has x's sign (floorf(-0.5) = -1, ceilf(-0.5) = -0); from 2^23 on (and inf, NaN)
 * x is already integral and comes back as is. */
VINL vm vsmall_(vf a) { return vlt(vabs(a), vset1(8388608.0f)); }
VINL vf vrint_(vf a) { return vsub(vadd(vabs(a), vset1(8388608.0f)), vset1(8388608.0f)); }
VINL vf vround(vf a) { return vsel(vsmall_(a), vcopysign(vrint_(a), a), a); }
VINL vf vfloor(vf a) {
  vf r = vcopysign(vrint_(a), a);
  r = vsub(r, vsel(vgt(r, a), vset1(1.0f), vset1(0.0f)));
  return vsel(vsmall_(a), vcopysign(r, a), a);
}
VINL vf vceil(vf a) {
  vf r = vcopysign(vrint_(a), a);
  r = vadd(r, vsel(vlt(r, a), vset1(1.0f), vset1(0.0f)));
  return vsel(vsmall_(a), vcopysign(r, a), a);
}
#endif

#endif
