/* The sum-like reduction kernels, written once over the vector abstraction of
 * core/simd.h and compiled once per instruction-set level (rd_kern_avx512.c,
 * rd_kern_avx2.c, rd_kern_baseline.c define AR_SIMD_LEVEL and include this file). Each
 * level exports one rd_level (rd_level.h) that reduce.c picks once per reduction.
 *
 * The bits do not depend on the level: the unit-stride row kernel keeps RD_NACC double
 * accumulators, accumulator j receiving x[j], x[j + RD_NACC], ... in that order at every
 * width (RD_NACC / VD double vectors, each float vector widened half by half), then the
 * same fixed-order tree; the column kernel adds each column on its own, in row order.
 * Widening and the maps (abs, square, centre) are exact or rounded once in double, lane
 * by lane, as the scalar code does. */
#include <math.h>
#include <string.h>

#include "core/rd_level.h"
#include "core/simd.h"

#define LEVEL_NAME AR_SIMD_NAME(rd_level_) /* rd_level_avx512, ... */

_Static_assert(RD_NACC % VL == 0 && VL == 2 * VD, "whole vectors of accumulators");

/* ---------- maps of the widened element v (c: the centre), scalar and vector ---------- */
VINL double s_sum(double v, double c) { return (void)c, v; }
VINL double s_sq(double v, double c) { return (void)c, v * v; }
VINL double s_abs(double v, double c) { return (void)c, fabs(v); }
VINL double s_nnz(double v, double c) { return (void)c, v != 0 ? 1.0 : 0.0; }
VINL double s_sqdev(double v, double c) { return (v - c) * (v - c); }
VINL vd v_sum(vd v, vd c) { return (void)c, v; }
VINL vd v_sq(vd v, vd c) { return (void)c, vdmul(v, v); }
VINL vd v_abs(vd v, vd c) { return (void)c, vdabs(v); }
VINL vd v_nnz(vd v, vd c) { return (void)c, vdnz(v); }
VINL vd v_sqdev(vd v, vd c) {
  vd d = vdsub(v, c);
  return vdmul(d, d);
}

/* Row kernel (rd_segfn) and column kernel (rd_colfn) of one map. */
#define SUMK(NAME)                                                                       \
  static double k_##NAME(const float *x, int64_t n, int64_t s, double c, double p)       \
  {                                                                                      \
    (void)p;                                                                             \
    if (n < RD_NACC) { /* short runs (rows of a small matrix): skip the lane setup */   \
      double t = 0;                                                                      \
      for (int64_t i = 0; i < n; i++) t += s_##NAME(x[i * s], c);                        \
      return t;                                                                          \
    }                                                                                    \
    double acc[RD_NACC] = {0};                                                           \
    int64_t i = 0;                                                                       \
    if (s == 1) {                                                                        \
      vd a[RD_NACC / VD], vc = vdset1(c);                                                \
      for (int k = 0; k < RD_NACC / VD; k++) a[k] = vdzero();                            \
      for (; i + RD_NACC <= n; i += RD_NACC)                                             \
        for (int k = 0; k < RD_NACC / VL; k++) {                                         \
          vf f = vld(x + i + k * VL);                                                    \
          a[2 * k] = vdadd(a[2 * k], v_##NAME(vcvt_lo(f), vc));                          \
          a[2 * k + 1] = vdadd(a[2 * k + 1], v_##NAME(vcvt_hi(f), vc));                  \
        }                                                                                \
      for (int k = 0; k < RD_NACC / VD; k++) vdst(acc + k * VD, a[k]);                   \
      for (int j = 0; i < n; i++, j++) acc[j] += s_##NAME(x[i], c);                      \
    } else {                                                                             \
      for (; i + 4 <= n; i += 4)                                                         \
        for (int j = 0; j < 4; j++) acc[j] += s_##NAME(x[(i + j) * s], c);              \
      for (; i < n; i++) acc[0] += s_##NAME(x[i * s], c);                                \
    }                                                                                    \
    return rd_hsum(acc);                                                                 \
  }                                                                                      \
  /* four rows per pass: a quarter of the accumulator loads and stores */               \
  static void k_##NAME##_col(double *acc, const float *x, int64_t s, int64_t nr,         \
                             int64_t w, const double *cen, double p)                     \
  {                                                                                      \
    (void)p;                                                                             \
    const vd z = vdzero();                                                               \
    int64_t r = 0;                                                                       \
    for (; r + 4 <= nr; r += 4) {                                                        \
      const float *x0 = x + r * s, *x1 = x0 + s, *x2 = x1 + s, *x3 = x2 + s;             \
      int64_t i = 0;                                                                     \
      for (; i + VL <= w; i += VL) {                                                     \
        vd clo = cen ? vdld(cen + i) : z, chi = cen ? vdld(cen + i + VD) : z;            \
        vf f0 = vld(x0 + i), f1 = vld(x1 + i), f2 = vld(x2 + i), f3 = vld(x3 + i);       \
        vd lo = v_##NAME(vcvt_lo(f0), clo), hi = v_##NAME(vcvt_hi(f0), chi);             \
        lo = vdadd(lo, v_##NAME(vcvt_lo(f1), clo));                                      \
        hi = vdadd(hi, v_##NAME(vcvt_hi(f1), chi));                                      \
        lo = vdadd(lo, v_##NAME(vcvt_lo(f2), clo));                                      \
        hi = vdadd(hi, v_##NAME(vcvt_hi(f2), chi));                                      \
        lo = vdadd(lo, v_##NAME(vcvt_lo(f3), clo));                                      \
        hi = vdadd(hi, v_##NAME(vcvt_hi(f3), chi));                                      \
        vdst(acc + i, vdadd(vdld(acc + i), lo));                                         \
        vdst(acc + i + VD, vdadd(vdld(acc + i + VD), hi));                               \
      }                                                                                  \
      for (; i < w; i++) {                                                               \
        double c = cen ? cen[i] : 0;                                                     \
        double t = s_##NAME(x0[i], c);                                                   \
        t += s_##NAME(x1[i], c);                                                         \
        t += s_##NAME(x2[i], c);                                                         \
        t += s_##NAME(x3[i], c);                                                         \
        acc[i] += t;                                                                     \
      }                                                                                  \
    }                                                                                    \
    for (; r < nr; r++) {                                                                \
      const float *x0 = x + r * s;                                                       \
      int64_t i = 0;                                                                     \
      for (; i + VL <= w; i += VL) {                                                     \
        vd clo = cen ? vdld(cen + i) : z, chi = cen ? vdld(cen + i + VD) : z;            \
        vf f0 = vld(x0 + i);                                                             \
        vdst(acc + i, vdadd(vdld(acc + i), v_##NAME(vcvt_lo(f0), clo)));                 \
        vdst(acc + i + VD, vdadd(vdld(acc + i + VD), v_##NAME(vcvt_hi(f0), chi)));       \
      }                                                                                  \
      for (; i < w; i++) acc[i] += s_##NAME(x0[i], cen ? cen[i] : 0);                    \
    }                                                                                    \
  }

SUMK(sum)
SUMK(sq)
SUMK(abs)
SUMK(nnz)
SUMK(sqdev)

const rd_level LEVEL_NAME = {
    .seg = {[K_SUM] = k_sum, [K_SQ] = k_sq, [K_ABS] = k_abs, [K_NNZ] = k_nnz,
            [K_SQDEV] = k_sqdev},
    .col = {[K_SUM] = k_sum_col, [K_SQ] = k_sq_col, [K_ABS] = k_abs_col,
            [K_NNZ] = k_nnz_col, [K_SQDEV] = k_sqdev_col},
};
