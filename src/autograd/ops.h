/* The differentiable ops: each computes its forward with the core and records itself for
 * autograd (nothing is recorded under no_grad or when no input requires grad, and then
 * an op costs its core call and a pointer test). The Lua binding checks arguments and
 * calls these; the backward functions are written with them too, which is what makes
 * gradients of gradients work. The C API and benchmarks may call them as well.
 *
 * Conventions: `out` is an uninitialised ar_tensor; on success it holds a new result
 * (with a meta when recorded: release it with ag_drop); on failure it holds nothing and
 * the context's error says why. Dims are 0-based. Each family lives in one file:
 *   op_math.c    binary, scalar, unary, clamp, matmul, linear
 *   op_reduce.c  sum mean var std norm prod max min, sum_to_shape
 *   op_shape.c   clone, reshape family, transpose, narrow, select, expand, cat, stack
 *   op_act.c     registry activations (and their f', f''), prelu, softmax, host ones
 *   op_pau.c     the Padé activation unit (learnable rational function)
 *   op_loss.c    nll / cross entropy, mse
 *   op_conv.c    conv2d, max_pool2d (and the ops of their gradients)
 *   op_index.c   index_select, gather, sort, topk, cumsum, where (and their adjoints)
 *   op_kan.c     the B-spline basis of Kolmogorov-Arnold layers
 * Adding an op: write its forward-and-record function and its backward in its family's
 * file, define its ag_opdef there, and add one row to AG_OP_LIST below. */
#ifndef ACTRUN_AG_OPS_H
#define ACTRUN_AG_OPS_H

#include "act/act.h"
#include "act/host.h"
#include "autograd/autograd.h"
#include "core/bspline.h"
#include "core/conv.h"

/* Every op, one row each; ag_op_table lists them in this order (for introspection and
 * the test that every op's gradient of gradient is checked). */
#define AG_OP_LIST(X)                                                                     \
  X(identity) X(binary) X(binary_scalar) X(unary) X(clamp) X(matmul) X(linear)          \
  X(reduce) X(maxmin_dim) X(sum_to_shape)                                                 \
  X(reshape) X(transpose) X(narrow) X(select) X(slice_grad) X(expand) X(cat) X(stack)    \
  X(inplace)                                                                              \
  X(act) X(act_grad) X(act_second) X(prelu) X(softmax) X(host_act) X(host_act_grad)      \
  X(host_act_second) X(pau)                                                               \
  X(nll_loss) X(mse_loss)                                                                 \
  X(conv2d) X(conv2d_input_grad) X(conv2d_weight_grad) X(maxpool2d) X(maxpool2d_grad)   \
  X(maxpool2d_gather)                                                                     \
  X(index_select) X(index_add) X(gather) X(scatter_add) X(cumsum) X(where)                \
  X(bspline_basis)
#define AG_OP_DECLARE_(name) extern const ag_opdef ag_op_##name;
AG_OP_LIST(AG_OP_DECLARE_)
#undef AG_OP_DECLARE_
extern const ag_opdef *const ag_op_table[];
extern const int ag_op_count;

/* ---- math (op_math.c) ---- */
/* a op b for the differentiable binops (add sub mul div pow maximum minimum); the
 * comparisons compute without recording (their gradient is zero). */
int ag_binary(ar_ctx *C, ar_binop op, ar_tensor *out, const ar_tensor *a, const ar_tensor *b);
/* a op s, or s op a when left. */
int ag_binary_scalar(ar_ctx *C, ar_binop op, ar_tensor *out, const ar_tensor *a, float s,
                     bool left);
int ag_unary(ar_ctx *C, ar_unop op, ar_tensor *out, const ar_tensor *a);
int ag_clamp(ar_ctx *C, ar_tensor *out, const ar_tensor *a, double lo, double hi);
int ag_matmul(ar_ctx *C, ar_tensor *out, const ar_tensor *a, const ar_tensor *b);
/* x {N,in} w^T {out,in} + b {out} (b may be NULL). */
int ag_linear(ar_ctx *C, ar_tensor *out, const ar_tensor *x, const ar_tensor *w,
              const ar_tensor *b);

/* ---- reductions (op_reduce.c) ---- */
/* AR_SUM MEAN VAR STD NORM PROD RMAX RMIN over dim (-1: all); p for the norm, correction
 * for var/std. */
int ag_reduce(ar_ctx *C, ar_redop op, ar_tensor *out, const ar_tensor *a, int dim,
              bool keepdim, double p, int correction);
/* max/min along dim: values (differentiable) and 1-based indices (float). */
int ag_maxmin_dim(ar_ctx *C, bool is_max, ar_tensor *vals, ar_tensor *idx, const ar_tensor *a,
                  int dim, bool keepdim);
/* g summed over the dims it was broadcast along to reach its shape from `shape`, given
 * exactly that shape (the gradient of a broadcast). */
int ag_sum_to_shape(ar_ctx *C, ar_tensor *out, const ar_tensor *g, int ndim,
                    const int64_t *shape);

/* ---- shape (op_shape.c) ---- */
int ag_clone(ar_ctx *C, ar_tensor *out, const ar_tensor *a);
int ag_contiguous(ar_ctx *C, ar_tensor *out, const ar_tensor *a);
int ag_alias(ar_ctx *C, ar_tensor *out, const ar_tensor *a); /* same storage and shape */
int ag_reshape(ar_ctx *C, ar_tensor *out, const ar_tensor *a, int ndim, const int64_t *shape);
int ag_view(ar_ctx *C, ar_tensor *out, const ar_tensor *a, int ndim, const int64_t *shape);
int ag_flatten(ar_ctx *C, ar_tensor *out, const ar_tensor *a);
int ag_squeeze(ar_ctx *C, ar_tensor *out, const ar_tensor *a, int dim);
int ag_unsqueeze(ar_ctx *C, ar_tensor *out, const ar_tensor *a, int dim);
int ag_transpose(ar_ctx *C, ar_tensor *out, const ar_tensor *a, int d1, int d2);
int ag_narrow(ar_ctx *C, ar_tensor *out, const ar_tensor *a, int dim, int64_t start,
              int64_t len);
int ag_select(ar_ctx *C, ar_tensor *out, const ar_tensor *a, int dim, int64_t index);
int ag_expand(ar_ctx *C, ar_tensor *out, const ar_tensor *a, int ndim, const int64_t *shape);
int ag_cat(ar_ctx *C, ar_tensor *out, const ar_tensor *const *list, int n, int dim);
int ag_stack(ar_ctx *C, ar_tensor *out, const ar_tensor *const *list, int n, int dim);

/* In-place writes (op_shape.c): before writing into t (with src, or a constant when
 * NULL), ag_inplace_begin says whether autograd must record the write (grad mode on and
 * t or src requires grad) and refuses the writes it cannot follow (into a leaf that
 * requires grad, or into a view of a tensor that requires grad). After the write,
 * ag_inplace_end gives t a new history: its old one where `keep` (t's shape, 1 where the
 * old value survives; NULL: nowhere) and src's on the rest (src covering all of t when
 * row < 0, else the slice select(0, row)). As PyTorch, the written elements then get
 * gradient 0 through the old history, and tensors saved before the write are caught by
 * their version count. */
int ag_inplace_begin(ar_ctx *C, const ar_tensor *t, const ar_tensor *src, bool *record);
int ag_inplace_end(ar_ctx *C, ar_tensor *t, const ar_tensor *src, const ar_tensor *keep,
                   int64_t row);

/* ---- activations (op_act.c) ---- */
/* out = f(x) with the entry's parameters (NULL: defaults). */
int ag_act(ar_ctx *C, const act_def *a, ar_tensor *out, const ar_tensor *x, const double *p);
/* dx = dy * f'(x), differentiable in x (through f'') and in dy. */
int ag_act_grad(ar_ctx *C, const act_def *a, ar_tensor *dx, const ar_tensor *x,
                const ar_tensor *dy, const double *p);
/* PReLU with a slope tensor (one value, or one per channel). */
int ag_prelu(ar_ctx *C, ar_tensor *out, const ar_tensor *x, const ar_tensor *w);
int ag_softmax(ar_ctx *C, ar_tensor *out, const ar_tensor *x, int dim, bool log);
int ag_host_act(ar_ctx *C, const act_host *h, ar_tensor *out, const ar_tensor *x);

/* ---- Padé activation unit (op_pau.c) ---- */
/* P(x) / (1 + |Q(x)|) with numerator coefficients a ({m+1} or {C, m+1}) and denominator
 * coefficients b ({n} or {C, n}, b[j-1] the coefficient of x^j); act_pau_forward. */
int ag_pau(ar_ctx *C, ar_tensor *out, const ar_tensor *x, const ar_tensor *a,
           const ar_tensor *b);

/* ---- losses (op_loss.c) ---- */
/* mean over rows of -log p[label] (labels 0-based floats; from_logits: x are logits). */
int ag_nll_loss(ar_ctx *C, ar_tensor *out, const ar_tensor *x, const ar_tensor *labels,
                bool from_logits);
int ag_mse_loss(ar_ctx *C, ar_tensor *out, const ar_tensor *y, const ar_tensor *t);

/* ---- convolution (op_conv.c) ---- */
int ag_conv2d(ar_ctx *C, ar_tensor *out, const ar_tensor *x, const ar_tensor *w,
              const ar_tensor *b, const ar_conv_params *p);
int ag_maxpool2d(ar_ctx *C, ar_tensor *out, const ar_tensor *x, int64_t kh, int64_t kw,
                 const ar_conv_params *p);

/* ---- indexing and ordering (op_index.c) ----
 * Indices are 1-based integers held as floats (ar_check_index's rules); they are
 * constants for autograd. */
int ag_index_select(ar_ctx *C, ar_tensor *out, const ar_tensor *a, int dim,
                    const ar_tensor *idx);
int ag_gather(ar_ctx *C, ar_tensor *out, const ar_tensor *a, int dim, const ar_tensor *idx);
/* values (differentiable: a gather at the indices) and indices (constants) */
int ag_sort(ar_ctx *C, ar_tensor *vals, ar_tensor *idx, const ar_tensor *a, int dim,
            bool descending);
int ag_topk(ar_ctx *C, ar_tensor *vals, ar_tensor *idx, const ar_tensor *a, int64_t k, int dim,
            bool largest);
/* running sums along dim; reverse: from the end (the adjoint) */
int ag_cumsum(ar_ctx *C, ar_tensor *out, const ar_tensor *a, int dim, bool reverse);
/* where(cond != 0, a, b) with broadcasting; differentiable in a and b. */
int ag_where(ar_ctx *C, ar_tensor *out, const ar_tensor *cond, const ar_tensor *a,
             const ar_tensor *b);

/* ---- Kolmogorov-Arnold layers (op_kan.c) ---- */
/* x {..., F} -> out {..., grid + order, F}: the deriv-th derivative of every B-spline
 * basis function of the grid p at every element of x (core/bspline.h: the layout);
 * differentiable in x to any order. */
int ag_bspline_basis(ar_ctx *C, ar_tensor *out, const ar_tensor *x, const ar_bspline *p,
                     int deriv);

#endif
