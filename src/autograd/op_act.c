/* Activations: the registry's elementwise functions with their first and second
 * derivatives as ops, PReLU with a slope tensor, softmax / log_softmax, and the host
 * program's activations. Without create_graph the backwards are the fused C kernels;
 * with it they are the ops act_grad (dy f'(x), differentiable in x through act_second and
 * in dy through itself) and compositions. */
#include <string.h>

#include "autograd/op_util.h"

/* The entry's parameters as the node keeps them (NULL: the defaults). */
static void put_params(ag_node *n, const act_def *a, const double *p) {
  for (int i = 0; i < a->nparams; i++) n->dv[i] = p ? p[i] : a->params[i].def;
}

/* ---------- f''(x): its own derivative is not provided ---------- */

static int bw_act_second(ar_ctx *C, ag_node *n, const ar_tensor *g, ar_tensor *gin) {
  (void)g, (void)gin;
  const act_def *a = n->ptr;
  return ar_seterr(C, AR_EARG,
                   "the third derivative of activation '%s' is not available (gradients of "
                   "activations go to second order)",
                   a->name);
}
const ag_opdef ag_op_act_second = {
    .name = "act_second", .forward = "act_second", .backward = bw_act_second};

static int ag_act_second(ar_ctx *C, const act_def *a, ar_tensor *out, const ar_tensor *x,
                         const double *p) {
  int rc = act_second(C, a, out, x, p);
  if (rc) return rc;
  ag_node *n;
  if ((rc = ag_rec2(C, &ag_op_act_second, out, x, NULL, &n)) || !n) return rc;
  n->ptr = a;
  put_params(n, a, p);
  return AR_OK;
}

/* ---------- dx = dy f'(x) ---------- */

/* inputs x, dy; saved x, dy. d/d(dy) = gg f'(x) (this op again); d/dx = gg dy f''(x). */
static int bw_act_grad(ar_ctx *C, ag_node *n, const ar_tensor *g, ar_tensor *gin) {
  const act_def *a = n->ptr;
  const ar_tensor *x = &n->saved[0], *dy = &n->saved[1];
  ar_tensor t = {0}, u = {0};
  int rc = AR_OK;
  if (n->in[1]) TRY(ag_act_grad(C, a, &gin[1], x, g, n->dv));
  if (n->in[0]) {
    TRY(ag_act_second(C, a, &t, x, n->dv));
    TRY(ag_binary(C, AR_MUL, &u, g, dy));
    TRY(ag_binary(C, AR_MUL, &gin[0], &u, &t));
  }
done:
  ag_drop(&t), ag_drop(&u);
  return rc;
}
const ag_opdef ag_op_act_grad = {
    .name = "act_grad", .forward = "act_backward", .backward = bw_act_grad};

int ag_act_grad(ar_ctx *C, const act_def *a, ar_tensor *dx, const ar_tensor *x, const ar_tensor *dy,
                const double *p) {
  ar_tensor dyc;
  int rc = ar_contiguous(C, &dyc, dy);
  if (rc) return rc;
  double pd[ACT_MAXPARAMS];
  for (int i = 0; i < a->nparams; i++) pd[i] = p ? p[i] : a->params[i].def;
  rc = act_backward(C, a, dx, x, &dyc, pd);
  ar_release(&dyc);
  if (rc) return rc;
  ag_node *n;
  if ((rc = ag_rec2(C, &ag_op_act_grad, dx, x, dy, &n)) || !n) return rc;
  n->ptr = a;
  put_params(n, a, pd);
  ag_save(n, 0, x), ag_save(n, 1, dy);
  return AR_OK;
}

/* ---------- y = f(x) ---------- */

/* saved[0] x; with iv[0] = 1 (the entry's fused forward ran) saved[1] is f'(x) and the
 * plain backward is dx = dy * f'(x): the backward kernels compute that same product, so
 * the bits are the same. dv the parameters, ptr the act_def. */
static int bw_act(ar_ctx *C, ag_node *n, const ar_tensor *g, ar_tensor *gin) {
  if (ag_grad_enabled(C)) return ag_act_grad(C, n->ptr, &gin[0], &n->saved[0], g, n->dv);
  ar_tensor dy;
  int rc = ar_contiguous(C, &dy, g);
  if (rc) return rc;
  if (n->iv[0])
    rc = ar_binary(C, AR_MUL, &gin[0], &dy, &n->saved[1]);
  else
    rc = act_backward(C, n->ptr, &gin[0], &n->saved[0], &dy, n->dv);
  ar_release(&dy);
  return rc;
}
static const char *act_label(const ag_node *n) { return ((const act_def *)n->ptr)->name; }
const ag_opdef ag_op_act = {
    .name = "act", .forward = "act_forward", .backward = bw_act, .label = act_label};

/* When x requires grad and the entry has a fused kernel (and x is at most ACT_FUSED_MAX
 * elements), the forward also computes f'(x) for the backward, instead of recomputing the
 * transcendental functions there. */
int ag_act(ar_ctx *C, const act_def *a, ar_tensor *out, const ar_tensor *x, const double *p) {
  double pd[ACT_MAXPARAMS];
  for (int i = 0; i < a->nparams; i++) pd[i] = p ? p[i] : a->params[i].def;
  if (!ag_wants(C, x, NULL)) return act_forward(C, a, out, x, pd);
  ar_tensor d = {0};
  bool fused = act_kern(a)->fused && ar_numel(x) <= ACT_FUSED_MAX;
  int rc = fused ? act_forward_fused(C, a, out, &d, x, pd) : act_forward(C, a, out, x, pd);
  if (rc) return rc;
  ag_node *n;
  if ((rc = ag_rec2(C, &ag_op_act, out, x, NULL, &n)) || !n) {
    ar_release(&d);
    return rc;
  }
  n->ptr = a;
  put_params(n, a, pd);
  ag_save(n, 0, x);
  if (fused) {
    n->iv[0] = 1;
    ag_save(n, 1, &d);
    ar_release(&d); /* the node holds its own reference */
  }
  return AR_OK;
}

/* ---------- PReLU with a slope tensor ---------- */

/* w broadcastable against x: w itself when it holds one value, else {1, C, 1 ...}. */
static int slope_view(ar_ctx *C, ar_tensor *wb, const ar_tensor *w, const ar_tensor *x) {
  if (ar_numel(w) == 1 || x->ndim < 2) {
    ag_ref(wb, w);
    return AR_OK;
  }
  int64_t s[AR_MAXDIM];
  for (int d = 0; d < x->ndim; d++) s[d] = d == 1 ? ar_numel(w) : 1;
  return ag_reshape(C, wb, w, x->ndim, s);
}

/* saved x, w. dx = dy (x > 0 ? 1 : w_c); dw_c = sum of dy x over x <= 0. */
static int bw_prelu(ar_ctx *C, ag_node *n, const ar_tensor *g, ar_tensor *gin) {
  const ar_tensor *x = &n->saved[0], *w = &n->saved[1];
  ar_tensor dy = {0}, dx = {0}, dw = {0}, pos = {0}, neg = {0}, wb = {0}, t = {0}, u = {0};
  int rc = AR_OK;
  if (!ag_grad_enabled(C)) {
    TRY(ar_contiguous(C, &dy, g));
    TRY(act_prelu_backward(C, &dx, &dw, x, w, &dy));
    if (n->in[0]) gin[0] = dx, dx.st = NULL;
    if (n->in[1]) gin[1] = dw, dw.st = NULL;
    goto done;
  }
  TRY(ar_binary_scalar(C, AR_GT, &pos, x, 0.0f, false)); /* constants */
  TRY(ar_binary_scalar(C, AR_SUB, &neg, &pos, 1.0f, true));
  TRY(slope_view(C, &wb, w, x));
  if (n->in[0]) {
    TRY(ag_binary(C, AR_MUL, &t, &neg, &wb));
    TRY(ag_binary(C, AR_ADD, &u, &t, &pos));
    TRY(ag_binary(C, AR_MUL, &gin[0], g, &u));
    ag_drop(&t), ag_drop(&u);
  }
  if (n->in[1]) {
    TRY(ag_binary(C, AR_MUL, &t, g, x));
    TRY(ag_binary(C, AR_MUL, &u, &t, &neg));
    ag_drop(&t);
    TRY(ag_sum_to_shape(C, &t, &u, wb.ndim, wb.shape));
    TRY(ag_reshape(C, &gin[1], &t, w->ndim, w->shape));
  }
done:
  ar_release(&dy), ar_release(&dx), ar_release(&dw), ar_release(&pos), ar_release(&neg);
  ag_drop(&wb), ag_drop(&t), ag_drop(&u);
  return rc;
}
const ag_opdef ag_op_prelu = {
    .name = "prelu", .forward = "act_prelu_forward", .backward = bw_prelu};

int ag_prelu(ar_ctx *C, ar_tensor *out, const ar_tensor *x, const ar_tensor *w) {
  int rc = act_prelu_forward(C, out, x, w);
  if (rc) return rc;
  ag_node *n;
  if ((rc = ag_rec2(C, &ag_op_prelu, out, x, w, &n)) || !n) return rc;
  ag_save(n, 0, x), ag_save(n, 1, w);
  return AR_OK;
}

/* ---------- softmax, log_softmax ---------- */

/* From the output y (saved[0]); iv[0] dim, iv[1] log. softmax dx = y (dy - sum(dy y));
 * log_softmax dx = dy - exp(y) sum(dy). */
static int bw_softmax(ar_ctx *C, ag_node *n, const ar_tensor *g, ar_tensor *gin) {
  const ar_tensor *y = &n->saved[0];
  int dim = (int)n->iv[0];
  bool log = n->iv[1] != 0;
  ar_tensor t = {0}, u = {0}, v = {0};
  int rc = AR_OK;
  if (!ag_grad_enabled(C)) {
    TRY(ar_contiguous(C, &t, g));
    TRY(act_softmax_backward(C, &gin[0], y, &t, dim, log));
    goto done;
  }
  if (!log) {
    TRY(ag_binary(C, AR_MUL, &t, g, y));
    TRY(ag_reduce(C, AR_SUM, &u, &t, dim, true, 2.0, 0));
    TRY(ag_binary(C, AR_SUB, &v, g, &u));
    TRY(ag_binary(C, AR_MUL, &gin[0], y, &v));
  } else {
    TRY(ag_reduce(C, AR_SUM, &t, g, dim, true, 2.0, 0));
    TRY(ag_unary(C, AR_EXP, &u, y));
    TRY(ag_binary(C, AR_MUL, &v, &u, &t));
    TRY(ag_binary(C, AR_SUB, &gin[0], g, &v));
  }
done:
  ag_drop(&t), ag_drop(&u), ag_drop(&v);
  return rc;
}
const ag_opdef ag_op_softmax = {
    .name = "softmax", .forward = "act_softmax", .backward = bw_softmax};

int ag_softmax(ar_ctx *C, ar_tensor *out, const ar_tensor *x, int dim, bool log) {
  int rc = act_softmax(C, out, x, dim, log);
  if (rc) return rc;
  ag_node *n;
  if ((rc = ag_rec2(C, &ag_op_softmax, out, x, NULL, &n)) || !n) return rc;
  n->iv[0] = dim, n->iv[1] = log;
  ag_save(n, 0, out);
  return AR_OK;
}

/* ---------- host activations: f, f' and (when the host gives it) f'' ---------- */

static int bw_host_act_second(ar_ctx *C, ag_node *n, const ar_tensor *g, ar_tensor *gin) {
  (void)g, (void)gin;
  const act_host *h = n->ptr;
  return ar_seterr(C, AR_EARG, "the third derivative of host activation '%s' is not available",
                   h->name);
}
const ag_opdef ag_op_host_act_second = {
    .name = "host_act_second", .forward = "act_host_second", .backward = bw_host_act_second};

static int host_grad(ar_ctx *C, const act_host *h, ar_tensor *dx, const ar_tensor *x,
                     const ar_tensor *dy);

/* inputs x, dy; saved x, dy: as act_grad, with the host's kernels. */
static int bw_host_act_grad(ar_ctx *C, ag_node *n, const ar_tensor *g, ar_tensor *gin) {
  const act_host *h = n->ptr;
  const ar_tensor *x = &n->saved[0], *dy = &n->saved[1];
  ar_tensor t = {0}, u = {0};
  int rc = AR_OK;
  if (n->in[1]) TRY(host_grad(C, h, &gin[1], x, g));
  if (n->in[0]) {
    TRY(act_host_second(C, h, &t, x));
    ag_node *s;
    TRY(ag_rec2(C, &ag_op_host_act_second, &t, x, NULL, &s));
    if (s) s->ptr = h;
    TRY(ag_binary(C, AR_MUL, &u, g, dy));
    TRY(ag_binary(C, AR_MUL, &gin[0], &u, &t));
  }
done:
  ag_drop(&t), ag_drop(&u);
  return rc;
}
const ag_opdef ag_op_host_act_grad = {
    .name = "host_act_grad", .forward = "act_host_backward", .backward = bw_host_act_grad};

static int host_grad(ar_ctx *C, const act_host *h, ar_tensor *dx, const ar_tensor *x,
                     const ar_tensor *dy) {
  ar_tensor dyc;
  int rc = ar_contiguous(C, &dyc, dy);
  if (rc) return rc;
  rc = act_host_backward(C, h, dx, x, &dyc);
  ar_release(&dyc);
  if (rc) return rc;
  ag_node *n;
  if ((rc = ag_rec2(C, &ag_op_host_act_grad, dx, x, dy, &n)) || !n) return rc;
  n->ptr = h;
  ag_save(n, 0, x), ag_save(n, 1, dy);
  return AR_OK;
}

/* saved x, ptr the act_host. */
static int bw_host_act(ar_ctx *C, ag_node *n, const ar_tensor *g, ar_tensor *gin) {
  return host_grad(C, n->ptr, &gin[0], &n->saved[0], g);
}
const ag_opdef ag_op_host_act = {
    .name = "host_act", .forward = "act_host_forward", .backward = bw_host_act};

int ag_host_act(ar_ctx *C, const act_host *h, ar_tensor *out, const ar_tensor *x) {
  int rc = act_host_forward(C, h, out, x);
  if (rc) return rc;
  ag_node *n;
  if ((rc = ag_rec2(C, &ag_op_host_act, out, x, NULL, &n)) || !n) return rc;
  n->ptr = h;
  ag_save(n, 0, x);
  return AR_OK;
}
