/* The Padé activation unit: y = P(x) / (1 + |Q(x)|) with coefficient tensors a (numerator,
 * {m+1} or {C, m+1}) and b (denominator, {n} or {C, n}); act.h's act_pau_forward. Without
 * create_graph the backward is the fused kernel (dx, da and db in one pass); with it the
 * same gradients are composed from differentiable ops (powers, sums, abs, sign, sum to
 * shape), so they can be differentiated again. */
#include <stdlib.h>

#include "act/pau_level.h"
#include "autograd/op_util.h"

#define POOL 512 /* temporaries of the composed backward (m, n <= PAU_MAXDEG) */

typedef struct {
  ar_tensor *t;
  int n;
} pool;

/* A fresh slot of the pool. */
static ar_tensor *slot(pool *p) { return &p->t[p->n++]; }

/* Coefficient k of c ({K} or {C, K}) shaped to broadcast against an input of xnd dims:
 * all ones, or C in dim 1 (0-based). */
static int coef(ar_ctx *C, pool *p, ar_tensor **out, const ar_tensor *c, int k, int xnd,
                int64_t *shape) {
  ar_tensor *t = slot(p);
  int rc = ag_narrow(C, t, c, c->ndim - 1, k, 1);
  if (rc) return rc;
  for (int d = 0; d < xnd; d++) shape[d] = d == 1 && c->ndim == 2 ? c->shape[0] : 1;
  *out = slot(p);
  return ag_reshape(C, *out, t, xnd, shape);
}

/* g summed to the coefficient view's shape, then to one column of c: {1} or {C, 1}. */
static int to_column(ar_ctx *C, pool *p, ar_tensor **out, const ar_tensor *g, const ar_tensor *c,
                     int xnd, const int64_t *vshape) {
  ar_tensor *t = slot(p);
  int rc = ag_sum_to_shape(C, t, g, xnd, vshape);
  if (rc) return rc;
  int64_t s[2] = {c->ndim == 2 ? c->shape[0] : 1, 1};
  *out = slot(p);
  return c->ndim == 2 ? ag_reshape(C, *out, t, 2, s) : ag_reshape(C, *out, t, 1, &s[1]);
}

/* The gradients as ops: D = 1 + |Q|, f = P / D, s = sign(Q), r = g / D;
 * dx = r (P' - f s Q'), da_k = sum r x^k, db_j = -sum r f s x^j. */
static int composed(ar_ctx *C, ag_node *nd, const ar_tensor *g, ar_tensor *gin) {
  const ar_tensor *x = &nd->saved[0], *a = &nd->saved[1], *b = &nd->saved[2];
  int m = (int)a->shape[a->ndim - 1] - 1, n = (int)b->shape[b->ndim - 1], xnd = x->ndim;
  pool p = {calloc(POOL, sizeof(ar_tensor)), 0};
  if (!p.t) return ar_seterr(C, AR_ENOMEM, "out of memory (PAU backward)");
  int rc = AR_OK;
  int64_t vshape[AR_MAXDIM];
  ar_tensor *A[PAU_MAXDEG + 1], *B[PAU_MAXDEG + 1], *X[PAU_MAXDEG + 1];
  const ar_tensor *cols[PAU_MAXDEG + 1];
  int deg = m > n ? m : n;
  X[1] = (ar_tensor *)x;
  for (int k = 2; k <= deg; k++) TRY(ag_binary(C, AR_MUL, X[k] = slot(&p), X[k - 1], x));
  for (int k = 0; k <= m; k++) TRY(coef(C, &p, &A[k], a, k, xnd, vshape));
  for (int j = 1; j <= n; j++) TRY(coef(C, &p, &B[j], b, j - 1, xnd, vshape));
  /* P and P' */
  ar_tensor *P = A[0], *dP = NULL, *t, *u;
  for (int k = 1; k <= m; k++) {
    TRY(ag_binary(C, AR_MUL, t = slot(&p), A[k], X[k]));
    TRY(ag_binary(C, AR_ADD, u = slot(&p), P, t));
    P = u;
    if (k == 1) {
      dP = A[1];
      continue;
    }
    TRY(ag_binary_scalar(C, AR_MUL, t = slot(&p), A[k], (float)k, false));
    TRY(ag_binary(C, AR_MUL, u = slot(&p), t, X[k - 1]));
    TRY(ag_binary(C, AR_ADD, t = slot(&p), dP, u));
    dP = t;
  }
  /* Q and Q' */
  ar_tensor *Q = NULL, *dQ = NULL;
  for (int j = 1; j <= n; j++) {
    TRY(ag_binary(C, AR_MUL, t = slot(&p), B[j], X[j]));
    if (Q) TRY(ag_binary(C, AR_ADD, u = slot(&p), Q, t));
    Q = Q ? u : t;
    if (j == 1) {
      dQ = B[1];
      continue;
    }
    TRY(ag_binary_scalar(C, AR_MUL, t = slot(&p), B[j], (float)j, false));
    TRY(ag_binary(C, AR_MUL, u = slot(&p), t, X[j - 1]));
    TRY(ag_binary(C, AR_ADD, t = slot(&p), dQ, u));
    dQ = t;
  }
  ar_tensor *D, *S = NULL, *F, *R, *FS = NULL;
  if (Q) {
    TRY(ag_unary(C, AR_ABS, t = slot(&p), Q));
    TRY(ag_binary_scalar(C, AR_ADD, D = slot(&p), t, 1.0f, false));
    TRY(ag_unary(C, AR_SIGN, S = slot(&p), Q));
    TRY(ag_binary(C, AR_DIV, F = slot(&p), P, D));
    TRY(ag_binary(C, AR_DIV, R = slot(&p), g, D));
    TRY(ag_binary(C, AR_MUL, FS = slot(&p), F, S));
  } else {
    R = (ar_tensor *)g;
  }
  if (nd->in[0]) {
    ar_tensor *num = dP;
    if (FS) {
      TRY(ag_binary(C, AR_MUL, t = slot(&p), FS, dQ));
      if (num)
        TRY(ag_binary(C, AR_SUB, u = slot(&p), num, t));
      else
        TRY(ag_unary(C, AR_NEG, u = slot(&p), t));
      num = u;
    }
    if (num)
      TRY(ag_binary(C, AR_MUL, &gin[0], R, num));
    else
      TRY(ag_binary_scalar(C, AR_MUL, &gin[0], x, 0.0f, false)); /* constant f: no gradient */
  }
  if (nd->in[1]) {
    for (int k = 0; k <= m; k++) {
      const ar_tensor *term = R;
      if (k) {
        TRY(ag_binary(C, AR_MUL, t = slot(&p), R, X[k]));
        term = t;
      }
      int64_t vs[AR_MAXDIM];
      for (int d = 0; d < xnd; d++) vs[d] = d == 1 && a->ndim == 2 ? a->shape[0] : 1;
      TRY(to_column(C, &p, &u, term, a, xnd, vs));
      cols[k] = u;
    }
    TRY(ag_cat(C, &gin[1], cols, m + 1, a->ndim - 1));
  }
  if (nd->in[2]) {
    if (n == 0) {
      TRY(ag_zeros(C, &gin[2], b->ndim, b->shape));
    } else {
      ar_tensor *T;
      TRY(ag_binary(C, AR_MUL, t = slot(&p), R, FS));
      TRY(ag_unary(C, AR_NEG, T = slot(&p), t));
      for (int j = 1; j <= n; j++) {
        TRY(ag_binary(C, AR_MUL, t = slot(&p), T, X[j]));
        int64_t vs[AR_MAXDIM];
        for (int d = 0; d < xnd; d++) vs[d] = d == 1 && b->ndim == 2 ? b->shape[0] : 1;
        TRY(to_column(C, &p, &u, t, b, xnd, vs));
        cols[j - 1] = u;
      }
      TRY(ag_cat(C, &gin[2], cols, n, b->ndim - 1));
    }
  }
done:
  for (int i = 0; i < p.n; i++)
    if (p.t[i].st) ag_drop(&p.t[i]);
  free(p.t);
  return rc;
}

/* saved x, a, b */
static int bw_pau(ar_ctx *C, ag_node *n, const ar_tensor *g, ar_tensor *gin) {
  if (ag_grad_enabled(C)) return composed(C, n, g, gin);
  ar_tensor dy, d[3];
  int rc = ar_contiguous(C, &dy, g);
  if (rc) return rc;
  rc = act_pau_backward(C, &d[0], &d[1], &d[2], &n->saved[0], &n->saved[1], &n->saved[2], &dy);
  ar_release(&dy);
  if (rc) return rc;
  for (int i = 0; i < 3; i++) {
    if (n->in[i])
      gin[i] = d[i];
    else
      ar_release(&d[i]);
  }
  return AR_OK;
}
const ag_opdef ag_op_pau = {"pau", "act_pau_forward", bw_pau};

int ag_pau(ar_ctx *C, ar_tensor *out, const ar_tensor *x, const ar_tensor *a,
           const ar_tensor *b) {
  int rc = act_pau_forward(C, out, x, a, b);
  if (rc || !(ag_wants(C, x, a) || ag_wants(C, b, NULL))) return rc;
  const ar_tensor *in[3] = {x, a, b};
  ag_node *n;
  if ((rc = ag_record(C, &ag_op_pau, out, in, 3, &n))) {
    ag_drop(out);
    return rc;
  }
  ag_save(n, 0, x), ag_save(n, 1, a), ag_save(n, 2, b);
  return AR_OK;
}
