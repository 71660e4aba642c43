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
 * by lane, as the scalar code does; the p-norm's map is SLEEF's double pow without FMA,
 * which gives the same bits at every x86 level (its scalar uses take lane 0 of the same
 * function). Products keep the same 32 accumulators (the tail goes to the first, as it
 * always has); max/min compare in float, exactly, with the same 32 lanes and the same
 * order of combining them, so even the sign of a zero result does not depend on the
 * level; the arg kernels keep an index per lane and are exact by construction. */
#include <math.h>
#include <string.h>

#include "core/rd_level.h"
#include "core/simd.h"
#include "core/simd_math.h"

#ifndef LEVEL_NAME /* (a test compiles a copy under its own name) */
#define LEVEL_NAME AR_SIMD_NAME(rd_level_) /* rd_level_avx512, ... */
#endif

_Static_assert(RD_NACC % VL == 0 && VL == 2 * VD, "whole vectors of accumulators");

/* ---------- maps of the widened element v (c: the centre, p: the order), scalar and vector */
VINL double s_sum(double v, double c, double p) { return (void)c, (void)p, v; }
VINL double s_sq(double v, double c, double p) { return (void)c, (void)p, v * v; }
VINL double s_abs(double v, double c, double p) { return (void)c, (void)p, fabs(v); }
VINL double s_nnz(double v, double c, double p) { return (void)c, (void)p, v != 0 ? 1.0 : 0.0; }
VINL double s_sqdev(double v, double c, double p) { return (void)p, (v - c) * (v - c); }
/* p-norm terms |v|^p. Integer orders 3..RD_IPOW_MAX: repeated squaring in double (|v|^2
 * is exact, then at most 2 log2(p) roundings, the same multiplications at every level);
 * other orders: one lane of the vector pow, the same bits as its vector lanes. */
#define RD_IPOW_MAX 16
static double s_gpow(double v, double c, double p) {
  (void)c;
  double t[VD];
  vdst(t, sl_powd(vdset1(fabs(v)), vdset1(p)));
  return t[0];
}
VINL double s_ipow(double v, double c, double p) {
  (void)c;
  double r = 1, b = fabs(v);
  for (int k = (int)p; k; k >>= 1) {
    if (k & 1) r *= b;
    if (k > 1) b *= b;
  }
  return r;
}
VINL vd v_sum(vd v, vd c, vd p, double ps) { return (void)c, (void)p, (void)ps, v; }
VINL vd v_sq(vd v, vd c, vd p, double ps) { return (void)c, (void)p, (void)ps, vdmul(v, v); }
VINL vd v_abs(vd v, vd c, vd p, double ps) { return (void)c, (void)p, (void)ps, vdabs(v); }
VINL vd v_nnz(vd v, vd c, vd p, double ps) { return (void)c, (void)p, (void)ps, vdnz(v); }
VINL vd v_sqdev(vd v, vd c, vd p, double ps) {
  (void)p, (void)ps;
  vd d = vdsub(v, c);
  return vdmul(d, d);
}
VINL vd v_gpow(vd v, vd c, vd p, double ps) { return (void)c, (void)ps, sl_powd(vdabs(v), p); }
VINL vd v_ipow(vd v, vd c, vd p, double ps) {
  (void)c, (void)p;
  vd r = vdset1(1), b = vdabs(v);
  for (int k = (int)ps; k; k >>= 1) {
    if (k & 1) r = vdmul(r, b);
    if (k > 1) b = vdmul(b, b);
  }
  return r;
}

/* Row kernel (rd_segfn) and column kernel (rd_colfn) of one map. */
#define SUMK(NAME)                                                                       \
  static double k_##NAME(const float *x, int64_t n, int64_t s, double c, double p)       \
  {                                                                                      \
    if (n < RD_NACC) { /* short runs (rows of a small matrix): skip the lane setup */    \
      double t = 0;                                                                      \
      for (int64_t i = 0; i < n; i++) t += s_##NAME(x[i * s], c, p);                     \
      return t;                                                                          \
    }                                                                                    \
    double acc[RD_NACC] = {0};                                                           \
    int64_t i = 0;                                                                       \
    if (s == 1) {                                                                        \
      vd a[RD_NACC / VD], vc = vdset1(c), vp = vdset1(p);                                \
      for (int k = 0; k < RD_NACC / VD; k++) a[k] = vdzero();                            \
      for (; i + RD_NACC <= n; i += RD_NACC)                                             \
        for (int k = 0; k < RD_NACC / VL; k++) {                                         \
          vf f = vld(x + i + k * VL);                                                    \
          a[2 * k] = vdadd(a[2 * k], v_##NAME(vcvt_lo(f), vc, vp, p));                   \
          a[2 * k + 1] = vdadd(a[2 * k + 1], v_##NAME(vcvt_hi(f), vc, vp, p));           \
        }                                                                                \
      for (int k = 0; k < RD_NACC / VD; k++) vdst(acc + k * VD, a[k]);                   \
      for (int j = 0; i < n; i++, j++) acc[j] += s_##NAME(x[i], c, p);                   \
    } else {                                                                             \
      for (; i + 4 <= n; i += 4)                                                         \
        for (int j = 0; j < 4; j++) acc[j] += s_##NAME(x[(i + j) * s], c, p);            \
      for (; i < n; i++) acc[0] += s_##NAME(x[i * s], c, p);                             \
    }                                                                                    \
    return rd_hsum(acc);                                                                 \
  }                                                                                      \
  /* four rows per pass: a quarter of the accumulator loads and stores */                \
  static void k_##NAME##_col(double *acc, const float *x, int64_t s, int64_t nr,         \
                             int64_t w, const double *cen, double p)                     \
  {                                                                                      \
    const vd z = vdzero(), vp = vdset1(p);                                               \
    int64_t r = 0;                                                                       \
    for (; r + 4 <= nr; r += 4) {                                                        \
      const float *x0 = x + r * s, *x1 = x0 + s, *x2 = x1 + s, *x3 = x2 + s;             \
      int64_t i = 0;                                                                     \
      for (; i + VL <= w; i += VL) {                                                     \
        vd clo = cen ? vdld(cen + i) : z, chi = cen ? vdld(cen + i + VD) : z;            \
        vf f0 = vld(x0 + i), f1 = vld(x1 + i), f2 = vld(x2 + i), f3 = vld(x3 + i);       \
        vd lo = v_##NAME(vcvt_lo(f0), clo, vp, p);                                       \
        vd hi = v_##NAME(vcvt_hi(f0), chi, vp, p);                                       \
        lo = vdadd(lo, v_##NAME(vcvt_lo(f1), clo, vp, p));                               \
        hi = vdadd(hi, v_##NAME(vcvt_hi(f1), chi, vp, p));                               \
        lo = vdadd(lo, v_##NAME(vcvt_lo(f2), clo, vp, p));                               \
        hi = vdadd(hi, v_##NAME(vcvt_hi(f2), chi, vp, p));                               \
        lo = vdadd(lo, v_##NAME(vcvt_lo(f3), clo, vp, p));                               \
        hi = vdadd(hi, v_##NAME(vcvt_hi(f3), chi, vp, p));                               \
        vdst(acc + i, vdadd(vdld(acc + i), lo));                                         \
        vdst(acc + i + VD, vdadd(vdld(acc + i + VD), hi));                               \
      }                                                                                  \
      for (; i < w; i++) {                                                               \
        double c = cen ? cen[i] : 0;                                                     \
        double t = s_##NAME(x0[i], c, p);                                                \
        t += s_##NAME(x1[i], c, p);                                                      \
        t += s_##NAME(x2[i], c, p);                                                      \
        t += s_##NAME(x3[i], c, p);                                                      \
        acc[i] += t;                                                                     \
      }                                                                                  \
    }                                                                                    \
    for (; r < nr; r++) {                                                                \
      const float *x0 = x + r * s;                                                       \
      int64_t i = 0;                                                                     \
      for (; i + VL <= w; i += VL) {                                                     \
        vd clo = cen ? vdld(cen + i) : z, chi = cen ? vdld(cen + i + VD) : z;            \
        vf f0 = vld(x0 + i);                                                             \
        vdst(acc + i, vdadd(vdld(acc + i), v_##NAME(vcvt_lo(f0), clo, vp, p)));          \
        vd hi = v_##NAME(vcvt_hi(f0), chi, vp, p);                                       \
        vdst(acc + i + VD, vdadd(vdld(acc + i + VD), hi));                               \
      }                                                                                  \
      for (; i < w; i++) acc[i] += s_##NAME(x0[i], cen ? cen[i] : 0, p);                 \
    }                                                                                    \
  }

SUMK(sum)
SUMK(sq)
SUMK(abs)
SUMK(nnz)
SUMK(sqdev)
SUMK(gpow)
SUMK(ipow)

static bool rd_ipow(double p) { return p >= 3 && p <= RD_IPOW_MAX && p == (int)p; }
static double k_pow(const float *x, int64_t n, int64_t s, double c, double p)
{
  return rd_ipow(p) ? k_ipow(x, n, s, c, p) : k_gpow(x, n, s, c, p);
}
static void k_pow_col(double *acc, const float *x, int64_t s, int64_t nr, int64_t w,
                      const double *cen, double p)
{
  if (rd_ipow(p))
    k_ipow_col(acc, x, s, nr, w, cen, p);
  else
    k_gpow_col(acc, x, s, nr, w, cen, p);
}

/* ---------- products: the 32 accumulators, the tail and strided runs into the first */
static double k_prod(const float *x, int64_t n, int64_t s, double c, double p)
{
  (void)c;
  (void)p;
  double acc[RD_NACC];
  for (int j = 0; j < RD_NACC; j++) acc[j] = 1;
  int64_t i = 0;
  if (s == 1 && n >= RD_NACC) {
    vd a[RD_NACC / VD];
    for (int k = 0; k < RD_NACC / VD; k++) a[k] = vdset1(1);
    for (; i + RD_NACC <= n; i += RD_NACC)
      for (int k = 0; k < RD_NACC / VL; k++) {
        vf f = vld(x + i + k * VL);
        a[2 * k] = vdmul(a[2 * k], vcvt_lo(f));
        a[2 * k + 1] = vdmul(a[2 * k + 1], vcvt_hi(f));
      }
    for (int k = 0; k < RD_NACC / VD; k++) vdst(acc + k * VD, a[k]);
  }
  /* a strided run is one chain in row order: its bits are that order's */
  for (; i < n; i++) acc[0] *= (double)x[i * s];
  return rd_hprod(acc);
}

/* each column's product in row order, four rows per pass over the accumulators */
static void k_prod_col(double *acc, const float *x, int64_t s, int64_t nr, int64_t w,
                       const double *cen, double p)
{
  (void)cen;
  (void)p;
  for (int64_t r = 0; r < nr; r += 4) {
    const int64_t nk = nr - r < 4 ? nr - r : 4;
    const float *xr = x + r * s;
    int64_t i = 0;
    for (; i + VL <= w; i += VL) {
      vd lo = vdld(acc + i), hi = vdld(acc + i + VD);
      for (int64_t k = 0; k < nk; k++) {
        vf f = vld(xr + k * s + i);
        lo = vdmul(lo, vcvt_lo(f));
        hi = vdmul(hi, vcvt_hi(f));
      }
      vdst(acc + i, lo);
      vdst(acc + i + VD, hi);
    }
    for (; i < w; i++) {
      double a = acc[i];
      for (int64_t k = 0; k < nk; k++) a *= (double)xr[k * s + i];
      acc[i] = a;
    }
  }
}

/* ---------- max/min (ABS: of |x|, the norms of order +-inf) ----------
 * Compare in float (exact). A lane takes an element that compares better or is NaN, so a
 * NaN sticks (only another NaN replaces it) and any NaN makes the result NaN, as PyTorch.
 * The unit-stride run keeps 32 lanes (lane j: elements j, j + 32, ...) combined in the
 * order j = 0, 16, 1, 17, ...: the order the kernel has always had, so a result among
 * equal values (+0 and -0) is the same element at every level. */
#define EXTK(NAME, ABS, CMP, VCMP, INIT)                                                 \
  static double k_##NAME(const float *x, int64_t n, int64_t s, double c, double p)       \
  {                                                                                      \
    (void)c;                                                                             \
    (void)p;                                                                             \
    float r = (INIT);                                                                    \
    int64_t i = 0;                                                                       \
    if (s == 1 && n >= RD_NACC) {                                                        \
      vf m[RD_NACC / VL];                                                                \
      float t[RD_NACC];                                                                  \
      for (int k = 0; k < RD_NACC / VL; k++) m[k] = vset1(INIT);                         \
      for (; i + RD_NACC <= n; i += RD_NACC)                                             \
        for (int k = 0; k < RD_NACC / VL; k++) {                                         \
          vf a = vld(x + i + k * VL);                                                    \
          if (ABS) a = vabs(a);                                                          \
          m[k] = vsel(mor(VCMP(a, m[k]), visnan(a)), a, m[k]);                           \
        }                                                                                \
      for (int k = 0; k < RD_NACC / VL; k++) vst(t + k * VL, m[k]);                      \
      for (int j = 0; j < RD_NACC / 2; j++) {                                            \
        r = (t[j] CMP r || t[j] != t[j]) ? t[j] : r;                                     \
        r = (t[j + RD_NACC / 2] CMP r || t[j + RD_NACC / 2] != t[j + RD_NACC / 2])       \
                ? t[j + RD_NACC / 2] : r;                                                \
      }                                                                                  \
    }                                                                                    \
    for (; i < n; i++) {                                                                 \
      float v = x[i * s];                                                                \
      if (ABS) v = fabsf(v);                                                             \
      r = (v CMP r || v != v) ? v : r;                                                   \
    }                                                                                    \
    return r;                                                                            \
  }                                                                                      \
  /* the accumulators hold floats (widened): narrowed, compared, widened back */         \
  static void k_##NAME##_col(double *acc, const float *x, int64_t s, int64_t nr,         \
                             int64_t w, const double *cen, double p)                     \
  {                                                                                      \
    (void)cen;                                                                           \
    (void)p;                                                                             \
    for (int64_t r = 0; r < nr; r += 4) {                                                \
      const int64_t nk = nr - r < 4 ? nr - r : 4;                                        \
      const float *xr = x + r * s;                                                       \
      int64_t i = 0;                                                                     \
      for (; i + VL <= w; i += VL) {                                                     \
        vf m = vdnarrow(vdld(acc + i), vdld(acc + i + VD));                              \
        for (int64_t k = 0; k < nk; k++) {                                               \
          vf a = vld(xr + k * s + i);                                                    \
          if (ABS) a = vabs(a);                                                          \
          m = vsel(mor(VCMP(a, m), visnan(a)), a, m);                                    \
        }                                                                                \
        vdst(acc + i, vcvt_lo(m));                                                       \
        vdst(acc + i + VD, vcvt_hi(m));                                                  \
      }                                                                                  \
      for (; i < w; i++)                                                                 \
        for (int64_t k = 0; k < nk; k++) {                                               \
          double v = ABS ? fabsf(xr[k * s + i]) : xr[k * s + i];                         \
          acc[i] = (v CMP acc[i] || v != v) ? v : acc[i];                                \
        }                                                                                \
    }                                                                                    \
  }

EXTK(max, 0, >, vgt, -INFINITY)
EXTK(min, 0, <, vlt, INFINITY)
EXTK(maxabs, 1, >, vgt, 0.0f)
EXTK(minabs, 1, <, vlt, INFINITY)

/* ---------- index of the max/min ----------
 * Row: per lane the best value and its index (a strictly better element replaces it, so
 * each lane keeps its first best), two vectors of lanes in flight; the lanes combine to
 * the smallest index among those holding the best value. NaN is tracked apart (a mask
 * OR-ed over the run) and, when seen, the run is searched again for its first NaN. The
 * int32 lane indices count within chunks of 2^30 elements. */
#ifndef RD_ARG_CHUNK /* (a test uses a small one: the chunks' combining) */
#define RD_ARG_CHUNK ((int64_t)1 << 30)
#endif

static int64_t arg_first_nan(const float *x, int64_t n, int64_t s)
{
  int64_t i = 0;
  if (s == 1)
    for (; i + VL <= n; i += VL) {
      uint32_t b = mbits(visnan(vld(x + i)));
      if (b) return i + __builtin_ctz(b);
    }
  for (; i < n; i++)
    if (x[i * s] != x[i * s]) return i;
  return -1;
}

#define ARGK(NAME, CMP, VCMP)                                                            \
  static int64_t k_##NAME(const float *x, int64_t n, int64_t s)                          \
  {                                                                                      \
    float b = x[0];                                                                      \
    int64_t bi = 0, i = 1;                                                               \
    bool nan = b != b;                                                                   \
    if (s == 1 && n >= 2 * VL) {                                                         \
      const int64_t nv = n - n % (2 * VL);                                               \
      for (int64_t c0 = 0; c0 < nv; c0 += RD_ARG_CHUNK) {                                \
        const int64_t c1 = nv - c0 < RD_ARG_CHUNK ? nv : c0 + RD_ARG_CHUNK;              \
        const vi step = viset1(2 * VL);                                                  \
        vi i0 = viota(), i1 = viadd(i0, viset1(VL)), b0 = i0, b1 = i1;                   \
        vf v0 = vld(x + c0), v1 = vld(x + c0 + VL);                                      \
        vm nm = mor(visnan(v0), visnan(v1));                                             \
        for (int64_t j = c0 + 2 * VL; j < c1; j += 2 * VL) {                             \
          vf a0 = vld(x + j), a1 = vld(x + j + VL);                                      \
          i0 = viadd(i0, step);                                                          \
          i1 = viadd(i1, step);                                                          \
          vm t0 = VCMP(a0, v0), t1 = VCMP(a1, v1);                                       \
          v0 = vsel(t0, a0, v0);                                                         \
          v1 = vsel(t1, a1, v1);                                                         \
          b0 = visel(t0, i0, b0);                                                        \
          b1 = visel(t1, i1, b1);                                                        \
          nm = mor(nm, mor(visnan(a0), visnan(a1)));                                     \
        }                                                                                \
        if (mbits(nm)) return arg_first_nan(x, n, s);                                    \
        float tv[2 * VL];                                                                \
        int32_t ti[2 * VL];                                                              \
        vst(tv, v0);                                                                     \
        vst(tv + VL, v1);                                                                \
        vist(ti, b0);                                                                    \
        vist(ti + VL, b1);                                                               \
        float cb = tv[0];                                                                \
        int32_t ci = ti[0];                                                              \
        for (int l = 1; l < 2 * VL; l++)                                                 \
          if (tv[l] CMP cb || (tv[l] == cb && ti[l] < ci)) {                             \
            cb = tv[l];                                                                  \
            ci = ti[l];                                                                  \
          }                                                                              \
        /* a later chunk must be strictly better: the first occurrence wins */           \
        if (c0 == 0 || cb CMP b) {                                                       \
          b = cb;                                                                        \
          bi = c0 + ci;                                                                  \
        }                                                                                \
      }                                                                                  \
      i = nv;                                                                            \
    }                                                                                    \
    /* short or strided runs, and the tail: select, no branch on the data */             \
    for (; i < n; i++) {                                                                 \
      float v = x[i * s];                                                                \
      bool t = v CMP b;                                                                  \
      b = t ? v : b;                                                                     \
      bi = t ? i : bi;                                                                   \
      nan |= v != v;                                                                     \
    }                                                                                    \
    return nan ? arg_first_nan(x, n, s) : bi;                                            \
  }                                                                                      \
  /* per column, in row order, four rows per pass over the tile's values and indices: a  \
   * column takes a strictly better element, or a NaN while it holds none */             \
  static void k_##NAME##_col(float *best, int32_t *bi, const float *x, int64_t s,        \
                             int64_t nr, int64_t w)                                      \
  {                                                                                      \
    memcpy(best, x, (size_t)w * sizeof(float));                                          \
    memset(bi, 0, (size_t)w * sizeof(int32_t));                                          \
    for (int64_t r = 1; r < nr; r += 4) {                                                \
      const int64_t nk = nr - r < 4 ? nr - r : 4;                                        \
      const float *xr = x + r * s;                                                       \
      int64_t i = 0;                                                                     \
      for (; i + VL <= w; i += VL) {                                                     \
        vf m = vld(best + i);                                                            \
        vi mi = vild(bi + i);                                                            \
        for (int64_t k = 0; k < nk; k++) {                                               \
          vf a = vld(xr + k * s + i);                                                    \
          vm t = mor(VCMP(a, m), mand(visnan(a), mnot(visnan(m))));                      \
          m = vsel(t, a, m);                                                             \
          mi = visel(t, viset1((int32_t)(r + k)), mi);                                   \
        }                                                                                \
        vst(best + i, m);                                                                \
        vist(bi + i, mi);                                                                \
      }                                                                                  \
      for (; i < w; i++)                                                                 \
        for (int64_t k = 0; k < nk; k++) {                                               \
          float v = xr[k * s + i];                                                       \
          bool t = v CMP best[i] || (v != v && best[i] == best[i]);                      \
          best[i] = t ? v : best[i];                                                     \
          bi[i] = t ? (int32_t)(r + k) : bi[i];                                          \
        }                                                                                \
    }                                                                                    \
  }

ARGK(argmin, <, vlt)
ARGK(argmax, >, vgt)

const rd_level LEVEL_NAME = {
    .seg = {[K_SUM] = k_sum, [K_SQ] = k_sq, [K_ABS] = k_abs, [K_NNZ] = k_nnz,
            [K_SQDEV] = k_sqdev, [K_POW] = k_pow, [K_PROD] = k_prod, [K_MAX] = k_max,
            [K_MIN] = k_min, [K_MAXABS] = k_maxabs, [K_MINABS] = k_minabs},
    .col = {[K_SUM] = k_sum_col, [K_SQ] = k_sq_col, [K_ABS] = k_abs_col,
            [K_NNZ] = k_nnz_col, [K_SQDEV] = k_sqdev_col, [K_POW] = k_pow_col,
            [K_PROD] = k_prod_col, [K_MAX] = k_max_col, [K_MIN] = k_min_col,
            [K_MAXABS] = k_maxabs_col, [K_MINABS] = k_minabs_col},
    .arg = {k_argmin, k_argmax},
    .argcol = {k_argmin_col, k_argmax_col},
};
