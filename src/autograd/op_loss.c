/* Losses: nll / cross entropy and mean squared error, each one node with a fused
 * backward kernel, and a composition of differentiable ops under create_graph. */
#include "autograd/op_util.h"
#include "optim/loss.h"

/* ---------- nll / cross entropy ---------- */

/* one_hot {N,K}: 1 at (i, labels[i]), a constant. */
static int one_hot(ar_ctx *C, ar_tensor *out, const ar_tensor *labels, int64_t k) {
  int64_t s[2] = {labels->shape[0], k};
  ar_tensor lc;
  int rc = ag_zeros(C, out, 2, s);
  if (rc) return rc;
  if ((rc = ar_contiguous(C, &lc, labels))) {
    ar_release(out);
    return rc;
  }
  float *o = ar_data(out);
  const float *l = ar_data(&lc);
  for (int64_t i = 0; i < s[0]; i++) o[i * k + (int64_t)l[i]] = 1.0f;
  ar_release(&lc);
  return AR_OK;
}

/* saved x (with its meta), the 0-based labels; iv[0] from_logits. The loss is a mean over
 * the N rows: dx = (softmax(x) - onehot) g / N from logits, -onehot g / N from log-probs. */
static int bw_nll_loss(ar_ctx *C, ag_node *n, const ar_tensor *g, ar_tensor *gin) {
  const ar_tensor *x = &n->saved[0], *labels = &n->saved[1];
  bool logits = n->iv[0] != 0;
  ar_tensor t = {0}, u = {0}, v = {0}, oh = {0};
  int rc = AR_OK;
  if (!ag_grad_enabled(C)) /* the loss has one element */
    return ar_nll_loss_backward(C, &gin[0], x, labels, logits, g->st->data[g->offset]);
  int64_t N = x->shape[0];
  TRY(one_hot(C, &oh, labels, x->shape[1]));
  TRY(ag_binary_scalar(C, AR_MUL, &t, g, N ? 1.0f / (float)N : 0.0f, false));
  if (logits) {
    TRY(ag_softmax(C, &u, x, 1, false));
    TRY(ag_binary(C, AR_SUB, &v, &u, &oh));
  } else {
    TRY(ar_unary(C, AR_NEG, &v, &oh));
  }
  TRY(ag_binary(C, AR_MUL, &gin[0], &v, &t));
done:
  ag_drop(&t), ag_drop(&u), ag_drop(&v), ar_release(&oh);
  return rc;
}
const ag_opdef ag_op_nll_loss = {
    .name = "nll_loss", .forward = "ar_nll_loss", .backward = bw_nll_loss};

int ag_nll_loss(ar_ctx *C, ar_tensor *out, const ar_tensor *x, const ar_tensor *labels,
                bool from_logits) {
  int rc = ar_nll_loss(C, out, x, labels, from_logits);
  if (rc) return rc;
  ag_node *n;
  if ((rc = ag_rec2(C, &ag_op_nll_loss, out, x, NULL, &n)) || !n) return rc;
  ag_save(n, 0, x), ag_save(n, 1, labels);
  n->iv[0] = from_logits;
  return AR_OK;
}

/* ---------- mean squared error ---------- */

/* inputs y, t; saved y, t. dy = 2 (y - t) g / numel; dt = -dy. */
static int bw_mse_loss(ar_ctx *C, ag_node *n, const ar_tensor *g, ar_tensor *gin) {
  const ar_tensor *y = &n->saved[0], *tt = &n->saved[1];
  int rc = AR_OK;
  if (!ag_grad_enabled(C)) {
    float go = g->st->data[g->offset]; /* the loss has one element */
    if (n->in[0]) rc = ar_mse_loss_backward(C, &gin[0], y, tt, go, 1.0f);
    if (!rc && n->in[1]) rc = ar_mse_loss_backward(C, &gin[1], y, tt, go, -1.0f);
    return rc;
  }
  ar_tensor a = {0}, b = {0}, c = {0};
  int64_t N = ar_numel(y);
  TRY(ag_binary(C, AR_SUB, &a, y, tt));
  TRY(ag_binary_scalar(C, AR_MUL, &b, g, N ? 2.0f / (float)N : 0.0f, false));
  TRY(ag_binary(C, AR_MUL, &c, &a, &b));
  if (n->in[1]) TRY(ag_unary(C, AR_NEG, &gin[1], &c));
  if (n->in[0]) gin[0] = c, c.st = NULL, c.ag = NULL;
done:
  ag_drop(&a), ag_drop(&b), ag_drop(&c);
  return rc;
}
const ag_opdef ag_op_mse_loss = {
    .name = "mse_loss", .forward = "ar_mse_loss", .backward = bw_mse_loss};

int ag_mse_loss(ar_ctx *C, ar_tensor *out, const ar_tensor *y, const ar_tensor *t) {
  int rc = ar_mse_loss(C, out, y, t);
  if (rc) return rc;
  ag_node *n;
  if ((rc = ag_rec2(C, &ag_op_mse_loss, out, y, t, &n)) || !n) return rc;
  ag_save(n, 0, y), ag_save(n, 1, t);
  return AR_OK;
}
