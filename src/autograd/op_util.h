/* What the op files share: error plumbing and small tensor helpers (internal to
 * src/autograd). */
#ifndef ACTRUN_AG_OP_UTIL_H
#define ACTRUN_AG_OP_UTIL_H

#include "autograd/ops.h"

/* rc = x, and to `done:` on failure (each user declares int rc and the label). */
#define TRY(x)         \
  do {                 \
    rc = (x);          \
    if (rc) goto done; \
  } while (0)

/* A new tensor of zeros (no meta). */
int ag_zeros(ar_ctx *C, ar_tensor *out, int ndim, const int64_t *shape);

/* g (the gradient of a reduction over dim, -1: all) reshaped as if keepdim had been true:
 * the input's shape with 1 at the reduced dims. Differentiable. */
int ag_keep_shape(ar_ctx *C, ar_tensor *out, const ar_tensor *g, const ag_meta *in, int dim);

/* The recording tail every op shares: when ag_wants(a, b), record `op` for out with inputs
 * a (and b when non-NULL) and set *n; on failure out is released. *n NULL: nothing to do. */
int ag_rec2(ar_ctx *C, const ag_opdef *op, ar_tensor *out, const ar_tensor *a,
            const ar_tensor *b, ag_node **n);

#endif
