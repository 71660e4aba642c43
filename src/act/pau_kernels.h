/* The Padé activation unit's kernels, written once over the vector abstraction of
 * core/simd.h and compiled once per instruction-set level (pau_kern_avx512.c,
 * pau_kern_avx2.c, pau_kern_baseline.c define AR_SIMD_LEVEL and include this file). Each
 * level exports one pau_level (pau_level.h) that pau.c picks per call.
 *
 * f(x) = P(x) / D(x), D = 1 + |Q(x)|. P, Q and their derivatives are Horner recurrences
 * in float (vfma: one rounding where the level has FMA). The backward is fused: one pass
 * gives dx = dy (P' - f sign(Q) Q') / D and the coefficient gradients
 *   dL/da_k = sum dy x^k / D,   dL/db_j = -sum dy f sign(Q) x^j / D,
 * each product rounded to float, widened exactly and added into double accumulators:
 * two double vectors per coefficient, lanes fixed, then reduced in a fixed order, so the
 * sum of a run depends only on the run (pau.c cuts the work into runs that do not depend
 * on the thread count). Ragged tails are padded vectors (x = 0, dy = 0: they add 0). */
#include <math.h>
#include <string.h>

#include "act/pau_level.h"
#include "core/simd.h"

#define LEVEL_NAME AR_SIMD_NAME(pau_level_) /* pau_level_avx512, ... */

#define K(v) vset1(v)
#define NC (PAU_MAXDEG + 1)

/* sign(q): 1, -1, or 0 (at 0 and NaN: the subgradient autograd uses for |q|) */
VINL vf sgn(vf q) {
  return vsel(vgt(q, K(0.0f)), K(1.0f), vsel(vlt(q, K(0.0f)), K(-1.0f), K(0.0f)));
}

/* P(x), Q(x) by Horner; va[k] = a_k, vb[j] = b_j (vb[0] unused) */
VINL vf horner_p(vf x, const vf *va, int m) {
  vf p = va[m];
  for (int k = m - 1; k >= 0; k--) p = vfma(p, x, va[k]);
  return p;
}
VINL vf horner_q(vf x, const vf *vb, int n) {
  if (n == 0) return K(0.0f);
  vf q = vb[n];
  for (int j = n - 1; j >= 1; j--) q = vfma(q, x, vb[j]);
  return vmul(q, x);
}
/* the derivatives from the scaled coefficients vd[k] = k c_k (k = 1..deg) */
VINL vf horner_d(vf x, const vf *vd, int deg) {
  if (deg == 0) return K(0.0f);
  vf d = vd[deg];
  for (int k = deg - 1; k >= 1; k--) d = vfma(d, x, vd[k]);
  return d;
}

VINL vf fwd1(vf x, const vf *va, int m, const vf *vb, int n) {
  vf q = horner_q(x, vb, n);
  return vdiv(horner_p(x, va, m), vadd(K(1.0f), vabs(q)));
}

/* One vector of the backward: dx, and the per-coefficient products (ca[k] = dy x^k / D,
 * cb[j] = -dy f s x^j / D), each rounded to float. */
VINL vf bwd1(vf x, vf dy, const vf *va, const vf *vda, int m, const vf *vb, const vf *vdb,
             int n, vf *ca, vf *cb) {
  vf q = horner_q(x, vb, n);
  vf p = horner_p(x, va, m);
  vf inv = vdiv(K(1.0f), vadd(K(1.0f), vabs(q)));
  vf f = vmul(p, inv), fs = vmul(f, sgn(q));
  vf r = vmul(dy, inv);
  vf dx = vmul(r, vsub(horner_d(x, vda, m), vmul(fs, horner_d(x, vdb, n))));
  vf xp = r;
  for (int k = 0; k <= m; k++) {
    ca[k] = xp;
    xp = vmul(xp, x);
  }
  xp = vmul(vneg(vmul(r, fs)), x);
  for (int j = 1; j <= n; j++) {
    cb[j] = xp;
    xp = vmul(xp, x);
  }
  return dx;
}

static void setup_row(const float *a, int m, const float *b, int n, vf *va, vf *vda, vf *vb,
                      vf *vdb) {
  for (int k = 0; k <= m; k++) va[k] = K(a[k]), vda[k] = K((float)k * a[k]);
  vb[0] = vdb[0] = K(0.0f);
  for (int j = 1; j <= n; j++) vb[j] = K(b[j - 1]), vdb[j] = K((float)j * b[j - 1]);
}

static void k_fwd(const float *restrict x, float *restrict y, int64_t len, const float *a,
                  int m, const float *b, int n) {
  vf va[NC], vda[NC], vb[NC], vdb[NC];
  setup_row(a, m, b, n, va, vda, vb, vdb);
  int64_t i = 0;
  for (; i + VL <= len; i += VL) vst(y + i, fwd1(vld(x + i), va, m, vb, n));
  if (i < len) vst_part(y + i, fwd1(vld_part(x + i, len - i, 0.0f), va, m, vb, n), len - i);
}

/* acc[2k], acc[2k + 1]: the low and high halves of coefficient k's products */
VINL void accum(vd *acc, vf c) {
  acc[0] = vdadd(acc[0], vcvt_lo(c));
  acc[1] = vdadd(acc[1], vcvt_hi(c));
}
/* the lanes of one coefficient's two accumulators, in a fixed order */
static double lanes_sum(const vd *acc) {
  double t[VD];
  vdst(t, vdadd(acc[0], acc[1]));
  double s = 0;
  for (int i = 0; i < VD; i++) s += t[i];
  return s;
}

static void k_bwd(const float *restrict x, const float *restrict dy, float *restrict dx,
                  int64_t len, const float *a, int m, const float *b, int n, double *ga,
                  double *gb) {
  vf va[NC], vda[NC], vb[NC], vdb[NC], ca[NC], cb[NC];
  vd acca[2 * NC], accb[2 * NC];
  setup_row(a, m, b, n, va, vda, vb, vdb);
  for (int k = 0; k < 2 * NC; k++) acca[k] = accb[k] = vdzero();
  int64_t i = 0;
  for (; i + VL <= len; i += VL) {
    vst(dx + i, bwd1(vld(x + i), vld(dy + i), va, vda, m, vb, vdb, n, ca, cb));
    for (int k = 0; k <= m; k++) accum(acca + 2 * k, ca[k]);
    for (int j = 1; j <= n; j++) accum(accb + 2 * j, cb[j]);
  }
  if (i < len) {
    vf g = bwd1(vld_part(x + i, len - i, 0.0f), vld_part(dy + i, len - i, 0.0f), va, vda, m,
                vb, vdb, n, ca, cb);
    vst_part(dx + i, g, len - i);
    for (int k = 0; k <= m; k++) accum(acca + 2 * k, ca[k]);
    for (int j = 1; j <= n; j++) accum(accb + 2 * j, cb[j]);
  }
  for (int k = 0; k <= m; k++) ga[k] += lanes_sum(acca + 2 * k);
  for (int j = 1; j <= n; j++) gb[j - 1] += lanes_sum(accb + 2 * j);
}

/* ---------- column forms: each element of the row its own coefficient set ---------- */

/* the coefficient vectors of columns [j, j + cnt) (cnt <= VL; padded with 0) */
static void setup_cols(const float *at, int m, const float *bt, int n, int64_t w, int64_t j,
                       int64_t cnt, vf *va, vf *vda, vf *vb, vf *vdb) {
  for (int k = 0; k <= m; k++) {
    va[k] = cnt == VL ? vld(at + k * w + j) : vld_part(at + k * w + j, cnt, 0.0f);
    vda[k] = vmul(K((float)k), va[k]);
  }
  vb[0] = vdb[0] = K(0.0f);
  for (int k = 1; k <= n; k++) {
    const float *p = bt + (k - 1) * w + j;
    vb[k] = cnt == VL ? vld(p) : vld_part(p, cnt, 0.0f);
    vdb[k] = vmul(K((float)k), vb[k]);
  }
}

static void k_fwd_cols(const float *restrict x, float *restrict y, int64_t w, const float *at,
                       int m, const float *bt, int n) {
  vf va[NC], vda[NC], vb[NC], vdb[NC];
  for (int64_t j = 0; j < w; j += VL) {
    int64_t cnt = w - j < VL ? w - j : VL;
    setup_cols(at, m, bt, n, w, j, cnt, va, vda, vb, vdb);
    if (cnt == VL)
      vst(y + j, fwd1(vld(x + j), va, m, vb, n));
    else
      vst_part(y + j, fwd1(vld_part(x + j, cnt, 0.0f), va, m, vb, n), cnt);
  }
}

/* g[0..cnt) += the lanes of c, widened (a ragged tail through a buffer) */
VINL void accum_cols(double *g, vf c, int64_t cnt) {
  if (cnt == VL) {
    vdst(g, vdadd(vdld(g), vcvt_lo(c)));
    vdst(g + VD, vdadd(vdld(g + VD), vcvt_hi(c)));
    return;
  }
  double t[VL];
  vdst(t, vcvt_lo(c));
  vdst(t + VD, vcvt_hi(c));
  for (int64_t i = 0; i < cnt; i++) g[i] += t[i];
}

static void k_bwd_cols(const float *restrict x, const float *restrict dy, float *restrict dx,
                       int64_t w, const float *at, int m, const float *bt, int n, double *ga,
                       double *gb) {
  vf va[NC], vda[NC], vb[NC], vdb[NC], ca[NC], cb[NC];
  for (int64_t j = 0; j < w; j += VL) {
    int64_t cnt = w - j < VL ? w - j : VL;
    setup_cols(at, m, bt, n, w, j, cnt, va, vda, vb, vdb);
    vf xv = cnt == VL ? vld(x + j) : vld_part(x + j, cnt, 0.0f);
    vf gv = cnt == VL ? vld(dy + j) : vld_part(dy + j, cnt, 0.0f);
    vf g = bwd1(xv, gv, va, vda, m, vb, vdb, n, ca, cb);
    if (cnt == VL)
      vst(dx + j, g);
    else
      vst_part(dx + j, g, cnt);
    for (int k = 0; k <= m; k++) accum_cols(ga + k * w + j, ca[k], cnt);
    for (int k = 1; k <= n; k++) accum_cols(gb + (k - 1) * w + j, cb[k], cnt);
  }
}

const pau_level LEVEL_NAME = {
    .fwd = k_fwd,
    .bwd = k_bwd,
    .fwd_cols = k_fwd_cols,
    .bwd_cols = k_bwd_cols,
};
