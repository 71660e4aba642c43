/* 2-D convolution and max pooling over {N, C, H, W} tensors, with their backward kernels.
 * No Lua in here; errors are AR_* codes with a message in the context (no function name).
 *
 * Convolution is PyTorch's conv2d: cross-correlation, zero padding, no dilation or
 * groups. Each image is unfolded (im2col) into a {C*kh*kw, Ho*Wo} scratch matrix from
 * the context's storage cache and multiplied by the weight {O, C*kh*kw} with ar_sgemm:
 * output blocks fixed by the shape, each a single-threaded sgemm. With several images and
 * threads, images are spread over the context's pool; otherwise images run in order and
 * each product's blocks are spread over the pool. OpenBLAS never threads a product
 * itself (its split, and so its sums' order, follows the thread count), so the results
 * are bitwise identical whatever the thread count.
 *
 * Backward: dx_n = col2im(W^T dY_n), dW = sum_n dY_n cols_n^T, db = sum of dY over the
 * batch and pixels. The batch is cut into groups whose number depends on the shapes
 * only; each group sums its images in order into its own partial, and the partials are
 * added in group order, so dW and db are bitwise identical whatever the thread count. */
#ifndef ACTRUN_CONV_H
#define ACTRUN_CONV_H

#include "core/core.h"

typedef struct ar_conv_params {
  int64_t sh, sw; /* stride, >= 1 */
  int64_t ph, pw; /* zero padding on each side, >= 0 */
} ar_conv_params;

/* Checks the shapes of conv2d's operands (b may be NULL) and gives the output shape. */
int ar_conv2d_shape(ar_ctx *C, const ar_tensor *x, const ar_tensor *w, const ar_tensor *b,
                    const ar_conv_params *p, int64_t out_shape[4]);
/* out = conv2d(x {N,C,H,W}, w {O,C,kh,kw}, b {O} or NULL): {N,O,Ho,Wo}. Inputs may be
 * any views. */
int ar_conv2d(ar_ctx *C, ar_tensor *out, const ar_tensor *x, const ar_tensor *w,
              const ar_tensor *b, const ar_conv_params *p);
/* Gradients from gy {N,O,Ho,Wo}: each of dx, dw, db is computed when non-NULL (new
 * tensors of x's, w's and {O} shapes). */
int ar_conv2d_backward(ar_ctx *C, const ar_tensor *gy, const ar_tensor *x, const ar_tensor *w,
                       const ar_conv_params *p, ar_tensor *dx, ar_tensor *dw, ar_tensor *db);

/* Max pooling with kernel {kh, kw}; padding is at most half the kernel (as PyTorch) and
 * counts as -inf. out {N,C,Ho,Wo}; when idx is non-NULL it gets a tensor of out's shape
 * whose storage holds int32 positions (h*W + w) of each window's maximum in its input
 * plane: the first maximum in row-major window order, NaN winning, as PyTorch. */
int ar_maxpool2d_shape(ar_ctx *C, const ar_tensor *x, int64_t kh, int64_t kw,
                       const ar_conv_params *p, int64_t out_shape[4]);
int ar_maxpool2d(ar_ctx *C, ar_tensor *out, ar_tensor *idx, const ar_tensor *x, int64_t kh,
                 int64_t kw, const ar_conv_params *p);
/* dx {N,C,H,W} (in_shape) from gy and the positions made by ar_maxpool2d. */
int ar_maxpool2d_backward(ar_ctx *C, ar_tensor *dx, const ar_tensor *gy, const ar_tensor *idx,
                          const int64_t in_shape[4]);
/* out (idx's shape) = x at the positions made by ar_maxpool2d: the adjoint of
 * ar_maxpool2d_backward (what a pooling gradient's own gradient needs). */
int ar_maxpool2d_gather(ar_ctx *C, ar_tensor *out, const ar_tensor *x, const ar_tensor *idx);

#endif
