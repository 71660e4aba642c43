/* Convolution and pooling. conv2d's gradient is two ops, the input gradient and the
 * weight gradient, each bilinear, so that the gradient of each is made of conv2d and the
 * other: gradients to any order. max_pool2d's gradient (a scatter to the recorded
 * maxima) and its adjoint (a gather from them) likewise differentiate each other. */
#include "autograd/op_util.h"

static ar_conv_params params_of(const ag_node *n) {
  return (ar_conv_params){n->iv[0], n->iv[1], n->iv[2], n->iv[3]};
}
static void put_params(ag_node *n, const ar_conv_params *p) {
  n->iv[0] = p->sh, n->iv[1] = p->sw, n->iv[2] = p->ph, n->iv[3] = p->pw;
}

/* A tensor that has only a shape: for the core's conv2d_backward, which reads only the
 * shape of the operand whose gradient it is not asked for. */
static ar_tensor shape_only(int ndim, const int64_t *shape) {
  ar_tensor t = {0};
  t.ndim = ndim;
  int64_t s = 1;
  for (int d = ndim - 1; d >= 0; d--) {
    t.shape[d] = shape[d];
    t.stride[d] = s;
    s *= shape[d];
  }
  return t;
}

static int conv2d_input_grad(ar_ctx *C, ar_tensor *dx, const ar_tensor *g, const ar_tensor *w,
                             const int64_t *xshape, const ar_conv_params *p);
static int conv2d_weight_grad(ar_ctx *C, ar_tensor *dw, const ar_tensor *g, const ar_tensor *x,
                              const int64_t *wshape, const ar_conv_params *p);

/* dx = conv2d_input_grad(g, w): inputs g, w; saved g, w. Its output has x's shape, so the
 * gradient gg arriving here has it too. d/dg = conv2d(gg, w); d/dw = weight_grad(g, gg). */
static int bw_conv2d_input_grad(ar_ctx *C, ag_node *n, const ar_tensor *gg, ar_tensor *gin) {
  ar_conv_params p = params_of(n);
  const ar_tensor *g = &n->saved[0], *w = &n->saved[1];
  int rc = AR_OK;
  if (n->in[0]) rc = ag_conv2d(C, &gin[0], gg, w, NULL, &p);
  if (!rc && n->in[1]) rc = conv2d_weight_grad(C, &gin[1], g, gg, w->shape, &p);
  return rc;
}
const ag_opdef ag_op_conv2d_input_grad = {.name = "conv2d_input_grad",
                                          .forward = "ar_conv2d_backward(dx)",
                                          .backward = bw_conv2d_input_grad};

static int conv2d_input_grad(ar_ctx *C, ar_tensor *dx, const ar_tensor *g, const ar_tensor *w,
                             const int64_t *xshape, const ar_conv_params *p) {
  ar_tensor fx = shape_only(4, xshape);
  int rc = ar_conv2d_backward(C, g, &fx, w, p, dx, NULL, NULL);
  if (rc) return rc;
  ag_node *n;
  if ((rc = ag_rec2(C, &ag_op_conv2d_input_grad, dx, g, w, &n)) || !n) return rc;
  put_params(n, p);
  ag_save(n, 0, g), ag_save(n, 1, w);
  return AR_OK;
}

/* dw = conv2d_weight_grad(g, x): inputs g, x; saved g, x; gg has w's shape.
 * d/dg = conv2d(x, gg); d/dx = input_grad(g, gg). */
static int bw_conv2d_weight_grad(ar_ctx *C, ag_node *n, const ar_tensor *gg, ar_tensor *gin) {
  ar_conv_params p = params_of(n);
  const ar_tensor *g = &n->saved[0], *x = &n->saved[1];
  int rc = AR_OK;
  if (n->in[0]) rc = ag_conv2d(C, &gin[0], x, gg, NULL, &p);
  if (!rc && n->in[1]) rc = conv2d_input_grad(C, &gin[1], g, gg, x->shape, &p);
  return rc;
}
const ag_opdef ag_op_conv2d_weight_grad = {.name = "conv2d_weight_grad",
                                           .forward = "ar_conv2d_backward(dw)",
                                           .backward = bw_conv2d_weight_grad};

static int conv2d_weight_grad(ar_ctx *C, ar_tensor *dw, const ar_tensor *g, const ar_tensor *x,
                              const int64_t *wshape, const ar_conv_params *p) {
  ar_tensor fw = shape_only(4, wshape);
  int rc = ar_conv2d_backward(C, g, x, &fw, p, NULL, dw, NULL);
  if (rc) return rc;
  ag_node *n;
  if ((rc = ag_rec2(C, &ag_op_conv2d_weight_grad, dw, g, x, &n)) || !n) return rc;
  put_params(n, p);
  ag_save(n, 0, g), ag_save(n, 1, x);
  return AR_OK;
}

/* conv2d: inputs x, w [, b]; saved x, w; iv stride h, w, padding h, w. */
static int bw_conv2d(ar_ctx *C, ag_node *n, const ar_tensor *g, ar_tensor *gin) {
  const ar_conv_params p = params_of(n);
  const ar_tensor *x = &n->saved[0], *w = &n->saved[1];
  bool want_b = n->nin > 2 && n->in[2];
  if (!ag_grad_enabled(C))
    return ar_conv2d_backward(C, g, x, w, &p, n->in[0] ? &gin[0] : NULL, n->in[1] ? &gin[1] : NULL,
                              want_b ? &gin[2] : NULL);
  int rc = AR_OK;
  if (n->in[0]) rc = conv2d_input_grad(C, &gin[0], g, w, x->shape, &p);
  if (!rc && n->in[1]) rc = conv2d_weight_grad(C, &gin[1], g, x, w->shape, &p);
  if (!rc && want_b) {
    int64_t s[4] = {1, g->shape[1], 1, 1};
    ar_tensor t;
    if (!(rc = ag_sum_to_shape(C, &t, g, 4, s))) {
      rc = ag_reshape(C, &gin[2], &t, 1, &s[1]);
      ag_drop(&t);
    }
  }
  return rc;
}
const ag_opdef ag_op_conv2d = {.name = "conv2d", .forward = "ar_conv2d", .backward = bw_conv2d};

int ag_conv2d(ar_ctx *C, ar_tensor *out, const ar_tensor *x, const ar_tensor *w, const ar_tensor *b,
              const ar_conv_params *p) {
  int rc = ar_conv2d(C, out, x, w, b, p);
  if (rc || !(ag_wants(C, x, w) || (b && ag_wants(C, b, NULL)))) return rc;
  const ar_tensor *in[3] = {x, w, b};
  ag_node *n;
  if ((rc = ag_record(C, &ag_op_conv2d, out, in, b ? 3 : 2, &n))) {
    ag_drop(out);
    return rc;
  }
  ag_save(n, 0, x), ag_save(n, 1, w);
  put_params(n, p);
  return AR_OK;
}

/* ---------- max_pool2d ---------- */

static int maxpool2d_grad(ar_ctx *C, ar_tensor *dx, const ar_tensor *g, const ar_tensor *idx,
                          const int64_t *xshape);

/* gather(x) at the saved positions: inputs x; saved idx. Its adjoint is the scatter. */
static int bw_maxpool2d_gather(ar_ctx *C, ag_node *n, const ar_tensor *g, ar_tensor *gin) {
  return maxpool2d_grad(C, &gin[0], g, &n->saved[0], n->in[0]->shape);
}
const ag_opdef ag_op_maxpool2d_gather = {
    .name = "maxpool2d_gather", .forward = "ar_maxpool2d_gather", .backward = bw_maxpool2d_gather};

static int maxpool2d_gather(ar_ctx *C, ar_tensor *out, const ar_tensor *x, const ar_tensor *idx) {
  int rc = ar_maxpool2d_gather(C, out, x, idx);
  if (rc) return rc;
  ag_node *n;
  if ((rc = ag_rec2(C, &ag_op_maxpool2d_gather, out, x, NULL, &n)) || !n) return rc;
  ag_save(n, 0, idx);
  return AR_OK;
}

/* scatter(g) to the saved positions: inputs g; saved idx. */
static int bw_maxpool2d_grad(ar_ctx *C, ag_node *n, const ar_tensor *gg, ar_tensor *gin) {
  return maxpool2d_gather(C, &gin[0], gg, &n->saved[0]);
}
const ag_opdef ag_op_maxpool2d_grad = {
    .name = "maxpool2d_grad", .forward = "ar_maxpool2d_backward", .backward = bw_maxpool2d_grad};

static int maxpool2d_grad(ar_ctx *C, ar_tensor *dx, const ar_tensor *g, const ar_tensor *idx,
                          const int64_t *xshape) {
  int rc = ar_maxpool2d_backward(C, dx, g, idx, xshape);
  if (rc) return rc;
  ag_node *n;
  if ((rc = ag_rec2(C, &ag_op_maxpool2d_grad, dx, g, NULL, &n)) || !n) return rc;
  ag_save(n, 0, idx);
  return AR_OK;
}

/* max_pool2d: the gradient goes to each window's recorded maximum. saved int32 positions. */
static int bw_maxpool2d(ar_ctx *C, ag_node *n, const ar_tensor *g, ar_tensor *gin) {
  const ag_meta *in = n->in[0];
  if (!in || in->ndim != 4) return AR_OK;
  return maxpool2d_grad(C, &gin[0], g, &n->saved[0], in->shape);
}
const ag_opdef ag_op_maxpool2d = {
    .name = "maxpool2d", .forward = "ar_maxpool2d", .backward = bw_maxpool2d};

int ag_maxpool2d(ar_ctx *C, ar_tensor *out, const ar_tensor *x, int64_t kh, int64_t kw,
                 const ar_conv_params *p) {
  bool rec = ag_wants(C, x, NULL);
  ar_tensor idx = {0};
  int rc = ar_maxpool2d(C, out, rec ? &idx : NULL, x, kh, kw, p);
  if (rc || !rec) return rc;
  ag_node *n;
  if (!(rc = ag_rec2(C, &ag_op_maxpool2d, out, x, NULL, &n)) && n) ag_save(n, 0, &idx);
  ar_release(&idx);
  return rc;
}
