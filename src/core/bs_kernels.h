/* The B-spline kernels, written once over the vector abstraction of core/simd.h and
 * compiled once per instruction-set level (bs_kern_avx512.c, bs_kern_avx2.c,
 * bs_kern_baseline.c define AR_SIMD_LEVEL and include this file). Each level exports one
 * bs_level (bs_level.h).
 *
 * One vector of inputs at a time (consecutive features of one row): the whole table of
 * the recurrence (bspline.h) for the vector's lanes is built in a scratch array, one
 * vector per knot interval, from the degree-0 indicators up to the wanted degree and
 * derivative; a lane outside the extended grid (or NaN) gets zeros. Each function's row
 * of the table is then stored as one vector (the layout {rows, M, F}: a KAN layer's GEMM
 * operand as it is) or dotted with the incoming gradient. Only IEEE additions,
 * multiplications and comparisons (no fused multiply-adds: -ffp-contract=off), so every
 * level gives the same bits, and each input's values do not depend on its neighbours. */
#include <string.h>

#include "core/bs_level.h"
#include "core/simd.h"

#define LEVEL_NAME AR_SIMD_NAME(bs_level_) /* bs_level_avx512, ... */

#define K(v) vset1(v)

/* The table for the VL inputs u (knot coordinates): on return ws[m * VL + lane] holds
 * B_m^(deriv) for m < grid + order. */
VINL void table(float *restrict ws, vf u, const bs_grid *g) {
  const int T = g->grid + 2 * g->order; /* degree-0 functions (knot intervals) */
  const int M = g->grid + g->order;
  if (g->deriv > g->order) {
    for (int m = 0; m < M; m++) vst(ws + (int64_t)m * VL, K(0.0f));
    return;
  }
  const vf one = K(1.0f), zero = K(0.0f);
  /* NaN and the infinities to a point outside the extended grid (its table is zero;
   * u itself must stay finite for the products with those zeros) */
  u = vminx(vsel(vge(u, K(-1.0f)), u, K(-1.0f)), K((float)(T + 1)));
  /* B_{j,0} = [u >= j] - [u >= j + 1] */
  vf prev = vsel(vge(u, K(0.0f)), one, zero);
  for (int j = 0; j < T; j++) {
    vf next = vsel(vge(u, K((float)(j + 1))), one, zero);
    vst(ws + (int64_t)j * VL, vsub(prev, next));
    prev = next;
  }
  const int q = g->order - g->deriv;
  for (int p = 1; p <= q; p++) {
    const vf rp = K(1.0f / (float)p);
    for (int j = 0; j < T - p; j++) {
      float *bj = ws + (int64_t)j * VL;
      vf left = vmul(vsub(u, K((float)j)), vld(bj));
      vf right = vmul(vsub(K((float)(j + p + 1)), u), vld(bj + VL));
      vst(bj, vmul(vadd(left, right), rp));
    }
  }
  const vf ih = K(g->inv_h);
  for (int d = 0; d < g->deriv; d++) {
    const int cnt = T - q - d - 1; /* entries after this round */
    for (int j = 0; j < cnt; j++) {
      float *bj = ws + (int64_t)j * VL;
      vst(bj, vmul(vsub(vld(bj), vld(bj + VL)), ih));
    }
  }
  (void)M;
}

VINL vf knot_coord(vf x, const bs_grid *g) {
  return vadd(vmul(vsub(x, K(g->lo)), K(g->inv_h)), K((float)g->order));
}

/* Rows of F features: x {rows, F}, out {rows, M, F}; vectors run along the features, so
 * each basis function's values of a row are stored as whole vectors. */
static void k_basis(float *restrict out, const float *restrict x, int64_t rows, int64_t F,
                    const bs_grid *g, float *restrict ws) {
  const int64_t M = g->grid + g->order;
  for (int64_t r = 0; r < rows; r++) {
    const float *xr = x + r * F;
    float *o = out + r * M * F;
    for (int64_t i = 0; i < F; i += VL) {
      const int64_t n = F - i < VL ? F - i : VL;
      table(ws, knot_coord(n == VL ? vld(xr + i) : vld_part(xr + i, n, 0.0f), g), g);
      if (n == VL)
        for (int64_t m = 0; m < M; m++) vst(o + m * F + i, vld(ws + m * VL));
      else
        for (int64_t m = 0; m < M; m++) vst_part(o + m * F + i, vld(ws + m * VL), n);
    }
  }
}

/* out {rows, F} = sum over m of gy {rows, M, F} times the table */
static void k_dot(float *restrict out, const float *restrict x, const float *restrict gy,
                  int64_t rows, int64_t F, const bs_grid *g, float *restrict ws) {
  const int64_t M = g->grid + g->order;
  for (int64_t r = 0; r < rows; r++) {
    const float *xr = x + r * F, *gr = gy + r * M * F;
    float *o = out + r * F;
    for (int64_t i = 0; i < F; i += VL) {
      const int64_t n = F - i < VL ? F - i : VL;
      table(ws, knot_coord(n == VL ? vld(xr + i) : vld_part(xr + i, n, 0.0f), g), g);
      vf acc = K(0.0f);
      for (int64_t m = 0; m < M; m++) {
        vf gv = n == VL ? vld(gr + m * F + i) : vld_part(gr + m * F + i, n, 0.0f);
        acc = vadd(acc, vmul(gv, vld(ws + m * VL)));
      }
      if (n == VL)
        vst(o + i, acc);
      else
        vst_part(o + i, acc, n);
    }
  }
}

const bs_level LEVEL_NAME = {.basis = k_basis, .dot = k_dot};
