/* The op table, and the helpers the op files share (op_util.h). */
#include <string.h>

#include "autograd/op_util.h"

#define AG_OP_ROW_(name) &ag_op_##name,
const ag_opdef *const ag_op_table[] = {AG_OP_LIST(AG_OP_ROW_)};
#undef AG_OP_ROW_
const int ag_op_count = (int)(sizeof ag_op_table / sizeof ag_op_table[0]);

int ag_zeros(ar_ctx *C, ar_tensor *out, int ndim, const int64_t *shape) {
  int rc = ar_empty(C, out, ndim, shape);
  if (!rc) rc = ar_fill(C, out, 0.0f);
  if (rc) ar_release(out);
  return rc;
}

int ag_keep_shape(ar_ctx *C, ar_tensor *out, const ar_tensor *g, const ag_meta *in, int dim) {
  int64_t ks[AR_MAXDIM];
  for (int d = 0; d < in->ndim; d++) ks[d] = (dim < 0 || d == dim) ? 1 : in->shape[d];
  return ag_reshape(C, out, g, in->ndim, ks);
}

int ag_rec2(ar_ctx *C, const ag_opdef *op, ar_tensor *out, const ar_tensor *a, const ar_tensor *b,
            ag_node **n) {
  *n = NULL;
  if (!ag_wants(C, a, b)) return AR_OK;
  const ar_tensor *in[2] = {a, b};
  int rc = ag_record(C, op, out, in, b ? 2 : 1, n);
  if (rc) ag_drop(out);
  return rc;
}
