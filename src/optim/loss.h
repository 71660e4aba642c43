/* Fused classification losses: mean negative log-likelihood over the rows of x {N, C},
 * either of x itself (x holds log-probabilities: nll) or of log_softmax(x) computed inside
 * the loop (cross entropy), so large logits never overflow and no {N, C} log-probability
 * tensor is made. labels: {N}, 0-based class indices stored as floats, already checked. */
#ifndef ACTRUN_LOSS_H
#define ACTRUN_LOSS_H

#include <stdbool.h>

#include "core/core.h"

/* out = a new {1} tensor holding the mean loss. */
int ar_nll_loss(ar_ctx *C, ar_tensor *out, const ar_tensor *x, const ar_tensor *labels,
                bool from_logits);
/* gx = a new tensor shaped like x: d(loss)/dx times gout. */
int ar_nll_loss_backward(ar_ctx *C, ar_tensor *gx, const ar_tensor *x, const ar_tensor *labels,
                         bool from_logits, float gout);

/* Mean squared error over all elements of y and t (same shape, any strides): out = a new
 * {1} tensor, the sum of squares taken in double. */
int ar_mse_loss(ar_ctx *C, ar_tensor *out, const ar_tensor *y, const ar_tensor *t);
/* gy = 2 * gout / numel * (y - t), a new contiguous tensor shaped like y (the gradient
 * of t is its negative: pass scale -1). */
int ar_mse_loss_backward(ar_ctx *C, ar_tensor *gy, const ar_tensor *y, const ar_tensor *t,
                         float gout, float scale);

#endif

/* nn.init.orthogonal's core: overwrites the contiguous {rows, cols} matrix w (holding
 * normal draws) with the orthogonal factor of its QR decomposition (of its transpose when
 * rows < cols, so the result has orthonormal rows or columns, whichever are fewer),
 * signs fixed so R has a positive diagonal as PyTorch does, times gain. Modified
 * Gram-Schmidt in double. AR_EARG when the draws are rank deficient. */
int ar_orthogonal_(ar_ctx *C, ar_tensor *w, float gain);
