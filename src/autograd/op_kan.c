/* Kolmogorov-Arnold layers: the B-spline basis of a uniform grid (core/bspline.h) as an
 * op. Everything else of a KAN layer (the coefficient product, the base activation) is
 * composed from existing ops, in lua/actrun/nn_kan.lua.
 *
 * bspline_basis(x {..., F}, deriv) maps x to its table {..., grid + order, F} of basis
 * values (or their deriv-th derivatives). Its gradient is the sum over the functions' dim
 * of g times the table
 * of the next derivative: without create_graph one fused kernel (ar_bspline_dot, the
 * table never stored); with it the same op one derivative up, times g, summed, so
 * gradients go to any order (past the degree the tables are zero). */
#include "autograd/op_util.h"
#include "core/bspline.h"

static ar_bspline grid_of(const ag_node *n) {
  return (ar_bspline){n->dv[0], n->dv[1], (int)n->iv[0], (int)n->iv[1]};
}

/* inputs x; saved x; iv grid, order, deriv; dv lo, hi. */
static int bw_bspline_basis(ar_ctx *C, ag_node *n, const ar_tensor *g, ar_tensor *gin) {
  const ar_tensor *x = &n->saved[0];
  const ar_bspline p = grid_of(n);
  const int deriv = (int)n->iv[2] + 1;
  if (!ag_grad_enabled(C)) return ar_bspline_dot(C, &gin[0], x, g, &p, deriv);
  ar_tensor t = {0}, u = {0};
  int rc = AR_OK;
  TRY(ag_bspline_basis(C, &t, x, &p, deriv));
  TRY(ag_binary(C, AR_MUL, &u, g, &t));
  TRY(ag_reduce(C, AR_SUM, &gin[0], &u, x->ndim - 1, false, 0, 0)); /* the functions' dim */
done:
  ag_drop(&t), ag_drop(&u);
  return rc;
}
const ag_opdef ag_op_bspline_basis = {.name = "bspline_basis", .forward = "ar_bspline_basis",
                                      .backward = bw_bspline_basis};

int ag_bspline_basis(ar_ctx *C, ar_tensor *out, const ar_tensor *x, const ar_bspline *p,
                     int deriv) {
  int rc = ar_bspline_basis(C, out, x, p, deriv);
  if (rc) return rc;
  ag_node *n;
  if ((rc = ag_rec2(C, &ag_op_bspline_basis, out, x, NULL, &n)) || !n) return rc;
  n->iv[0] = p->grid, n->iv[1] = p->order, n->iv[2] = deriv;
  n->dv[0] = p->lo, n->dv[1] = p->hi;
  ag_save(n, 0, x);
  return AR_OK;
}
