/* Shape ops: clone and aliases, the reshape family, transpose, narrow, select (and the
 * op of their gradient, slice_grad), expand, cat, stack. Their gradients are shape ops
 * again, so they differentiate any number of times. */
#include <stdlib.h>

#include "autograd/op_util.h"

/* ---------- identity: clone, contiguous, alias ---------- */

static int bw_identity(ar_ctx *C, ag_node *n, const ar_tensor *g, ar_tensor *gin) {
  (void)C;
  for (int i = 0; i < n->nin; i++)
    if (n->in[i]) ag_ref(&gin[i], g);
  return AR_OK;
}
const ag_opdef ag_op_identity = {
    .name = "identity", .forward = "ar_clone / ar_contiguous / ar_share", .backward = bw_identity};

static int record_identity(ar_ctx *C, int rc, ar_tensor *out, const ar_tensor *a) {
  if (rc) return rc;
  ag_node *n;
  return ag_rec2(C, &ag_op_identity, out, a, NULL, &n);
}
int ag_clone(ar_ctx *C, ar_tensor *out, const ar_tensor *a) {
  return record_identity(C, ar_clone(C, out, a), out, a);
}
int ag_contiguous(ar_ctx *C, ar_tensor *out, const ar_tensor *a) {
  return record_identity(C, ar_contiguous(C, out, a), out, a);
}
int ag_alias(ar_ctx *C, ar_tensor *out, const ar_tensor *a) {
  ar_share(out, a);
  return record_identity(C, AR_OK, out, a);
}

/* ---------- reshape, view, flatten, squeeze, unsqueeze ---------- */

static int bw_reshape(ar_ctx *C, ag_node *n, const ar_tensor *g, ar_tensor *gin) {
  return ag_reshape(C, &gin[0], g, n->in[0]->ndim, n->in[0]->shape);
}
const ag_opdef ag_op_reshape = {.name = "reshape",
                                .forward = "ar_reshape/view/flatten/squeeze/unsqueeze",
                                .backward = bw_reshape};

static int record_reshape(ar_ctx *C, int rc, ar_tensor *out, const ar_tensor *a) {
  if (rc) return rc;
  ag_node *n;
  return ag_rec2(C, &ag_op_reshape, out, a, NULL, &n);
}
int ag_reshape(ar_ctx *C, ar_tensor *out, const ar_tensor *a, int ndim, const int64_t *shape) {
  return record_reshape(C, ar_reshape(C, out, a, ndim, shape), out, a);
}
int ag_view(ar_ctx *C, ar_tensor *out, const ar_tensor *a, int ndim, const int64_t *shape) {
  return record_reshape(C, ar_view(C, out, a, ndim, shape), out, a);
}
int ag_flatten(ar_ctx *C, ar_tensor *out, const ar_tensor *a) {
  return record_reshape(C, ar_flatten(C, out, a), out, a);
}
int ag_squeeze(ar_ctx *C, ar_tensor *out, const ar_tensor *a, int dim) {
  return record_reshape(C, ar_squeeze(C, out, a, dim), out, a);
}
int ag_unsqueeze(ar_ctx *C, ar_tensor *out, const ar_tensor *a, int dim) {
  return record_reshape(C, ar_unsqueeze(C, out, a, dim), out, a);
}

/* ---------- transpose ---------- */

static int bw_transpose(ar_ctx *C, ag_node *n, const ar_tensor *g, ar_tensor *gin) {
  return ag_transpose(C, &gin[0], g, (int)n->iv[0], (int)n->iv[1]);
}
const ag_opdef ag_op_transpose = {
    .name = "transpose", .forward = "ar_transpose", .backward = bw_transpose};

int ag_transpose(ar_ctx *C, ar_tensor *out, const ar_tensor *a, int d1, int d2) {
  int rc = ar_transpose(C, out, a, d1, d2);
  if (rc) return rc;
  ag_node *n;
  if ((rc = ag_rec2(C, &ag_op_transpose, out, a, NULL, &n)) || !n) return rc;
  n->iv[0] = d1, n->iv[1] = d2;
  return AR_OK;
}

/* ---------- narrow, select and their gradient ---------- */

/* slice_grad: g placed in the slice of a zero tensor of the sliced input's shape (the
 * node's output shape). iv[0] 0 narrow / 1 select, iv[1] dim, iv[2] start or index,
 * iv[3] length. Its gradient is the slice again. */
static int bw_slice_grad(ar_ctx *C, ag_node *n, const ar_tensor *g, ar_tensor *gin) {
  if (n->iv[0] == 0) return ag_narrow(C, &gin[0], g, (int)n->iv[1], n->iv[2], n->iv[3]);
  return ag_select(C, &gin[0], g, (int)n->iv[1], n->iv[2]);
}
const ag_opdef ag_op_slice_grad = {.name = "slice_grad",
                                   .forward = "zeros, then ar_copy_ into a slice",
                                   .backward = bw_slice_grad};

static int slice_grad(ar_ctx *C, ar_tensor *out, const ar_tensor *g, const ag_meta *shape_of,
                      bool select, int dim, int64_t start, int64_t len) {
  ar_tensor v = {0};
  int rc = ag_zeros(C, out, shape_of->ndim, shape_of->shape);
  if (rc) return rc;
  rc = select ? ar_select(C, &v, out, dim, start) : ar_narrow(C, &v, out, dim, start, len);
  if (!rc) rc = ar_copy_(C, &v, g);
  ar_release(&v);
  if (rc) {
    ar_release(out);
    return rc;
  }
  ag_node *n;
  if ((rc = ag_rec2(C, &ag_op_slice_grad, out, g, NULL, &n)) || !n) return rc;
  n->iv[0] = select, n->iv[1] = dim, n->iv[2] = start, n->iv[3] = len;
  return AR_OK;
}

/* narrow/select: iv[0] dim, iv[1] start (or index), iv[2] length. */
static int bw_narrow(ar_ctx *C, ag_node *n, const ar_tensor *g, ar_tensor *gin) {
  return slice_grad(C, &gin[0], g, n->in[0], false, (int)n->iv[0], n->iv[1], n->iv[2]);
}
const ag_opdef ag_op_narrow = {.name = "narrow", .forward = "ar_narrow", .backward = bw_narrow};

static int bw_select(ar_ctx *C, ag_node *n, const ar_tensor *g, ar_tensor *gin) {
  return slice_grad(C, &gin[0], g, n->in[0], true, (int)n->iv[0], n->iv[1], 1);
}
const ag_opdef ag_op_select = {.name = "select", .forward = "ar_select", .backward = bw_select};

int ag_narrow(ar_ctx *C, ar_tensor *out, const ar_tensor *a, int dim, int64_t start, int64_t len) {
  int rc = ar_narrow(C, out, a, dim, start, len);
  if (rc) return rc;
  ag_node *n;
  if ((rc = ag_rec2(C, &ag_op_narrow, out, a, NULL, &n)) || !n) return rc;
  n->iv[0] = dim, n->iv[1] = start, n->iv[2] = len;
  return AR_OK;
}

int ag_select(ar_ctx *C, ar_tensor *out, const ar_tensor *a, int dim, int64_t index) {
  int rc = ar_select(C, out, a, dim, index);
  if (rc) return rc;
  ag_node *n;
  if ((rc = ag_rec2(C, &ag_op_select, out, a, NULL, &n)) || !n) return rc;
  n->iv[0] = dim, n->iv[1] = index;
  return AR_OK;
}

/* ---------- expand: the engine sums the gradient back to the input's shape ---------- */

const ag_opdef ag_op_expand = {.name = "expand", .forward = "ar_expand", .backward = bw_identity};

int ag_expand(ar_ctx *C, ar_tensor *out, const ar_tensor *a, int ndim, const int64_t *shape) {
  int rc = ar_expand(C, out, a, ndim, shape);
  if (rc) return rc;
  ag_node *n;
  return ag_rec2(C, &ag_op_expand, out, a, NULL, &n);
}

/* ---------- cat, stack: each input gets its stretch (its slice) of the gradient ---------- */

static int bw_join(ar_ctx *C, ag_node *n, const ar_tensor *g, ar_tensor *gin) {
  int dim = (int)n->iv[0];
  bool cat = n->op == &ag_op_cat;
  int64_t off = 0;
  for (int i = 0; i < n->nin; i++) {
    int rc = AR_OK;
    if (n->in[i])
      rc = cat ? ag_narrow(C, &gin[i], g, dim, off, n->sizes[i]) : ag_select(C, &gin[i], g, dim, i);
    if (rc) return rc;
    if (cat) off += n->sizes[i];
  }
  return AR_OK;
}
const ag_opdef ag_op_cat = {.name = "cat", .forward = "ar_cat", .backward = bw_join};
const ag_opdef ag_op_stack = {.name = "stack", .forward = "ar_stack", .backward = bw_join};

static int record_join(ar_ctx *C, int rc, bool stack, ar_tensor *out, const ar_tensor *const *list,
                       int n, int dim) {
  if (rc || !ag_grad_enabled(C)) return rc;
  ag_node *node;
  if ((rc = ag_record(C, stack ? &ag_op_stack : &ag_op_cat, out, list, n, &node)) || !node) {
    if (rc) ag_drop(out);
    return rc;
  }
  node->iv[0] = dim;
  if (!stack) { /* each input's stretch along dim, for slicing the gradient back */
    node->sizes = malloc(sizeof(int64_t) * (size_t)n);
    if (!node->sizes) {
      ag_drop(out);
      return ar_seterr(C, AR_ENOMEM, "out of memory recording cat");
    }
    for (int i = 0; i < n; i++) node->sizes[i] = list[i]->shape[dim];
  }
  return AR_OK;
}
int ag_cat(ar_ctx *C, ar_tensor *out, const ar_tensor *const *list, int n, int dim) {
  return record_join(C, ar_cat(C, out, list, n, dim), false, out, list, n, dim);
}
int ag_stack(ar_ctx *C, ar_tensor *out, const ar_tensor *const *list, int n, int dim) {
  return record_join(C, ar_stack(C, out, list, n, dim), true, out, list, n, dim);
}

/* ---------- in-place writes into tensors autograd follows ---------- */

/* inputs: the tensor's history before the write, and the source when it requires grad;
 * saved[0]: the mask of the elements the write left alone (none: nothing survived);
 * iv[0]: -1 when the source covered the whole tensor, else the row (dim 0) it filled. */
static int bw_inplace(ar_ctx *C, ag_node *n, const ar_tensor *g, ar_tensor *gin) {
  int rc = AR_OK;
  if (n->in[0]) {
    if (n->saved[0].st)
      rc = ag_binary(C, AR_MUL, &gin[0], g, &n->saved[0]);
    else
      rc = ag_zeros(C, &gin[0], g->ndim, g->shape);
  }
  if (!rc && n->nin > 1 && n->in[1]) {
    if (n->iv[0] < 0)
      ag_ref(&gin[1], g); /* the engine sums it back to the source's shape */
    else
      rc = ag_select(C, &gin[1], g, 0, n->iv[0]);
  }
  return rc;
}
const ag_opdef ag_op_inplace = {.name = "inplace_write",
                                .forward = "ar_fill / ar_copy_ / an element set",
                                .backward = bw_inplace};

int ag_inplace_begin(ar_ctx *C, const ar_tensor *t, const ar_tensor *src, bool *record) {
  *record = false;
  if (!ag_grad_enabled(C) || !(ag_requires_grad(t) || (src && ag_requires_grad(src)))) return AR_OK;
  const ag_meta *m = t->ag;
  if (m && m->requires_grad && !m->grad_fn)
    return ar_seterr(C, AR_EARG,
                     "a leaf tensor that requires grad is used in an in-place "
                     "operation (wrap it in actrun.no_grad, or use detach())");
  if (m && m->requires_grad && (m->is_view || m->view_of_leaf))
    return ar_seterr(C, AR_EARG,
                     "in-place write into a view of a tensor that requires grad: the tensor "
                     "it views would get a wrong gradient (write into a clone(), or into the "
                     "tensor itself)");
  *record = true;
  return AR_OK;
}

int ag_inplace_end(ar_ctx *C, ar_tensor *t, const ar_tensor *src, const ar_tensor *keep,
                   int64_t row) {
  ar_tensor old;
  ag_ref(&old, t); /* the history before the write, held by the new node's edge */
  if (old.ag) ((ag_meta *)old.ag)->superseded = true; /* views of it are now stale */
  const ar_tensor *in[2] = {&old, src};
  ag_node *n;
  int rc = ag_record(C, &ag_op_inplace, t, in, src ? 2 : 1, &n);
  ag_drop(&old);
  if (rc || !n) return rc;
  ag_meta *m = t->ag;
  m->is_view = false, m->view_of_leaf = false; /* the tensor itself, written */
  n->iv[0] = row;
  if (keep) ag_save(n, 0, keep);
  return AR_OK;
}
