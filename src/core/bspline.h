/* B-spline bases on a uniform grid (the spline part of a Kolmogorov-Arnold layer). No
 * Lua in here; errors are AR_* codes with a message in the context.
 *
 * A grid of `grid` equal intervals over [lo, hi], step h = (hi - lo) / grid, extended by
 * `order` knots on each side: knots t_j = lo + (j - order) h, j = 0 .. grid + 2 order.
 * The basis of degree `order` has grid + order functions B_0 .. B_{grid+order-1}, each
 * nonzero on order + 1 intervals; inside [lo, hi] they sum to 1 (partition of unity),
 * outside the extended grid all are 0. Cox-de Boor's recurrence on a uniform grid, in the
 * knot coordinate u = (x - lo) / h + order:
 *   B_{j,0}(u) = 1 if j <= u < j + 1 else 0
 *   B_{j,p}(u) = ((u - j) B_{j,p-1}(u) + (j + p + 1 - u) B_{j+1,p-1}(u)) / p
 * and its derivatives, B'_{j,p} = (B_{j,p-1} - B_{j+1,p-1}) / h, applied d times for the
 * d-th derivative (0 for d > order). The kernels (bs_kernels.h, one per SIMD level) run
 * the recurrence on whole vectors of inputs. */
#ifndef ACTRUN_BSPLINE_H
#define ACTRUN_BSPLINE_H

#include "core/core.h"

/* Limits of the grid (a bound on the kernels' scratch table). */
#define AR_BSPLINE_MAX_GRID 1024
#define AR_BSPLINE_MAX_ORDER 8

typedef struct ar_bspline {
  double lo, hi; /* the range, lo < hi, both finite */
  int grid;      /* intervals, 1 .. AR_BSPLINE_MAX_GRID */
  int order;     /* degree, 0 .. AR_BSPLINE_MAX_ORDER */
} ar_bspline;

/* AR_EARG with a message naming the field when p is out of its limits. */
int ar_bspline_check(ar_ctx *C, const ar_bspline *p);
/* Functions in the basis: grid + order. */
static inline int64_t ar_bspline_count(const ar_bspline *p) { return p->grid + p->order; }

/* x {..., F} (at least 1 dim, any view): out {..., grid + order, F}, the deriv-th
 * derivative (deriv >= 0) of every basis function at every element, the functions along
 * the second-to-last dim. This layout is what a KAN layer multiplies (each function's
 * values of a row are contiguous: {batch, M * F} times a {M * F, out} matrix); the
 * natural {..., F, M} is its transposed view. */
int ar_bspline_basis(ar_ctx *C, ar_tensor *out, const ar_tensor *x, const ar_bspline *p,
                     int deriv);
/* out (x's shape) = sum over the functions' dim of g * basis^(deriv)(x), g of the basis's
 * shape: the gradient of ar_bspline_basis(x, deriv - 1) without the table in memory. */
int ar_bspline_dot(ar_ctx *C, ar_tensor *out, const ar_tensor *x, const ar_tensor *g,
                   const ar_bspline *p, int deriv);

#endif
