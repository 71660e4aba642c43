/* Reductions: sum mean var std norm prod max min (over all or along one dim), max/min
 * with indices, and sum_to_shape (the gradient of broadcasting). */
#include <math.h>
#include <string.h>

#include "autograd/op_util.h"

/* iv[0] dim (-1: all), iv[1] the ar_redop, iv[2] correction, dv[0] the norm's p;
 * saved[0] = a, saved[1] = out (var std norm prod max min). */
static int bw_reduce(ar_ctx *C, ag_node *n, const ar_tensor *g, ar_tensor *gin) {
  const ag_meta *in = n->in[0];
  const ar_tensor *a = &n->saved[0];
  int dim = (int)n->iv[0];
  ar_tensor gk = {0}, yk = {0}, t = {0}, u = {0}, v = {0}, w = {0};
  int rc = AR_OK;
  int64_t numel = 1;
  for (int d = 0; d < in->ndim; d++) numel *= in->shape[d];
  int64_t N = dim < 0 ? numel : in->shape[dim];
  TRY(ag_keep_shape(C, &gk, g, in, dim));
  if (n->saved[1].st) TRY(ag_keep_shape(C, &yk, &n->saved[1], in, dim));
  switch ((ar_redop)n->iv[1]) {
    case AR_SUM:
      TRY(ag_expand(C, &gin[0], &gk, in->ndim, in->shape));
      break;
    case AR_MEAN:
      TRY(ag_binary_scalar(C, AR_MUL, &t, &gk, N ? 1.0f / (float)N : 0.0f, false));
      TRY(ag_expand(C, &gin[0], &t, in->ndim, in->shape));
      break;
    case AR_VAR:
    case AR_STD: { /* var: 2 (a - mean) / (N - c); std: that / (2 std) */
      double denom = (double)(N - n->iv[2]);
      TRY(ag_reduce(C, AR_MEAN, &t, a, dim, true, 2.0, 0));
      TRY(ag_binary(C, AR_SUB, &u, a, &t));
      ag_drop(&t);
      if (n->iv[1] == AR_VAR) {
        TRY(ag_binary_scalar(C, AR_MUL, &t, &gk, (float)(2.0 / denom), false));
      } else {
        TRY(ag_binary(C, AR_DIV, &v, &gk, &yk));
        TRY(ag_binary_scalar(C, AR_MUL, &t, &v, (float)(1.0 / denom), false));
      }
      TRY(ag_binary(C, AR_MUL, &gin[0], &u, &t));
      break;
    }
    case AR_NORM: {
      double p = n->dv[0];
      if (isinf(p)) { /* to the elements of largest magnitude, split evenly among ties: a
                       * constant weight sign(a) [|a| == max] / count */
        TRY(ar_unary(C, AR_ABS, &t, a));
        TRY(ar_binary(C, AR_EQ, &u, &t, &yk));
        ar_release(&t);
        TRY(ar_reduce(C, AR_SUM, &t, &u, dim, true, 2.0, 0));
        TRY(ar_binary(C, AR_DIV, &v, &u, &t));
        ar_release(&t), ar_release(&u);
        TRY(ar_unary(C, AR_SIGN, &t, a));
        TRY(ar_binary(C, AR_MUL, &u, &t, &v));
        TRY(ag_binary(C, AR_MUL, &gin[0], &u, &gk));
      } else if (p == 0) {
        TRY(ag_zeros(C, &gin[0], in->ndim, in->shape));
      } else { /* sign(a) |a|^(p-1) / norm^(p-1) */
        TRY(ag_unary(C, AR_ABS, &t, a));
        TRY(ag_binary_scalar(C, AR_POW, &u, &t, (float)(p - 1), false));
        ag_drop(&t);
        TRY(ag_binary_scalar(C, AR_POW, &t, &yk, (float)(p - 1), false));
        TRY(ag_binary(C, AR_DIV, &v, &u, &t));
        ag_drop(&t), ag_drop(&u);
        TRY(ar_unary(C, AR_SIGN, &t, a));
        TRY(ag_binary(C, AR_MUL, &u, &v, &t));
        TRY(ag_binary(C, AR_MUL, &gin[0], &u, &gk));
      }
      break;
    }
    case AR_PROD: /* out / a: the inputs must be non-zero */
      TRY(ag_binary(C, AR_DIV, &t, &yk, a));
      TRY(ag_binary(C, AR_MUL, &gin[0], &t, &gk));
      break;
    case AR_RMAX:
    case AR_RMIN: /* PyTorch's full max/min: split evenly among tied extrema (constant) */
      TRY(ar_binary(C, AR_EQ, &t, a, &yk));
      TRY(ar_reduce(C, AR_SUM, &u, &t, -1, false, 2.0, 0));
      TRY(ar_binary(C, AR_DIV, &v, &t, &u));
      TRY(ag_binary(C, AR_MUL, &gin[0], &v, &gk));
      break;
    default:
      rc = ar_seterr(C, AR_EARG, "internal: reduction %d has no gradient", (int)n->iv[1]);
  }
done:
  ag_drop(&gk), ag_drop(&yk), ag_drop(&t), ag_drop(&u), ag_drop(&v), ag_drop(&w);
  return rc;
}
const ag_opdef ag_op_reduce = {.name = "reduce", .forward = "ar_reduce", .backward = bw_reduce};

int ag_reduce(ar_ctx *C, ar_redop op, ar_tensor *out, const ar_tensor *a, int dim, bool keepdim,
              double p, int correction) {
  int rc = ar_reduce(C, op, out, a, dim, keepdim, p, correction);
  if (rc) return rc;
  ag_node *n;
  if ((rc = ag_rec2(C, &ag_op_reduce, out, a, NULL, &n)) || !n) return rc;
  n->iv[0] = dim, n->iv[1] = op, n->iv[2] = correction, n->dv[0] = p;
  if (op != AR_SUM && op != AR_MEAN) ag_save(n, 0, a), ag_save(n, 1, out);
  return AR_OK;
}

/* max/min along a dim: the gradient goes to the returned (1-based) index.
 * iv[0] dim; saved[0] = the index tensor. */
static int bw_maxmin_dim(ar_ctx *C, ag_node *n, const ar_tensor *g, ar_tensor *gin) {
  const ag_meta *in = n->in[0];
  int dim = (int)n->iv[0];
  ar_tensor gk = {0}, ik = {0}, r = {0}, rv = {0}, mask = {0};
  int rc = AR_OK;
  int64_t rs[AR_MAXDIM], ks[AR_MAXDIM];
  for (int d = 0; d < in->ndim; d++) {
    rs[d] = d == dim ? in->shape[d] : 1;
    ks[d] = d == dim ? 1 : in->shape[d];
  }
  TRY(ag_keep_shape(C, &gk, g, in, dim));
  TRY(ar_reshape(C, &ik, &n->saved[0], in->ndim, ks));
  TRY(ar_range(C, &r, 1, (double)in->shape[dim], 1));
  TRY(ar_reshape(C, &rv, &r, in->ndim, rs));
  TRY(ar_binary(C, AR_EQ, &mask, &rv, &ik)); /* one-hot along dim: a constant */
  TRY(ag_binary(C, AR_MUL, &gin[0], &mask, &gk));
done:
  ag_drop(&gk), ar_release(&ik), ar_release(&r), ar_release(&rv), ar_release(&mask);
  return rc;
}
const ag_opdef ag_op_maxmin_dim = {
    .name = "maxmin_dim", .forward = "ar_maxmin_dim", .backward = bw_maxmin_dim};

int ag_maxmin_dim(ar_ctx *C, bool is_max, ar_tensor *vals, ar_tensor *idx, const ar_tensor *a,
                  int dim, bool keepdim) {
  int rc = ar_maxmin_dim(C, is_max, vals, idx, a, dim, keepdim);
  if (rc) return rc;
  ag_node *n;
  if ((rc = ag_rec2(C, &ag_op_maxmin_dim, vals, a, NULL, &n))) {
    ar_release(idx);
    return rc;
  }
  if (n) n->iv[0] = dim, ag_save(n, 0, idx);
  return AR_OK;
}

/* ---------- sum_to_shape: the adjoint of expand ---------- */

static int bw_sum_to_shape(ar_ctx *C, ag_node *n, const ar_tensor *g, ar_tensor *gin) {
  return ag_expand(C, &gin[0], g, n->in[0]->ndim, n->in[0]->shape);
}
const ag_opdef ag_op_sum_to_shape = {
    .name = "sum_to_shape", .forward = "ar_reduce(AR_SUM) to a shape", .backward = bw_sum_to_shape};

int ag_sum_to_shape(ar_ctx *C, ar_tensor *out, const ar_tensor *g, int ndim, const int64_t *shape) {
  ar_tensor cur, r;
  int rc = AR_OK;
  ar_share(&cur, g);
  while (cur.ndim > ndim) { /* broadcast added leading dims */
    /* a sum over the only dim keeps it, as {1}: the reshape below makes that a scalar
     * (reducing again would loop for ever) */
    if (cur.ndim == 1 && cur.shape[0] == 1) break;
    TRY(ar_reduce(C, AR_SUM, &r, &cur, 0, false, 2.0, 0));
    ar_release(&cur);
    cur = r;
  }
  for (int d = 0; d < ndim && d < cur.ndim; d++) {
    if (shape[d] == 1 && cur.shape[d] != 1) {
      TRY(ar_reduce(C, AR_SUM, &r, &cur, d, true, 2.0, 0));
      ar_release(&cur);
      cur = r;
    }
  }
  if (cur.ndim != ndim || memcmp(cur.shape, shape, sizeof(int64_t) * (size_t)ndim) != 0) {
    TRY(ar_reshape(C, &r, &cur, ndim, shape));
    ar_release(&cur);
    cur = r;
  }
  *out = cur;
  ag_node *n;
  return ag_rec2(C, &ag_op_sum_to_shape, out, g, NULL, &n);
done:
  ar_release(&cur);
  out->st = NULL;
  return rc;
}
