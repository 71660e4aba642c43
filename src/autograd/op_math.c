/* Elementwise math and products: binary ops (tensor op tensor, tensor op scalar), unary
 * functions, clamp, matmul, linear. Each forward-and-record function sits beside its
 * backward; the backwards are written with these same differentiable ops. */
#include <math.h>

#include "autograd/op_util.h"

/* ---------- tensor op tensor ---------- */

/* The gradient of maximum/minimum goes to the selected side; ties split it evenly (as
 * PyTorch): mask = (a wins) + 0.5 (a == b), a constant. b NULL: against the scalar s. */
static int select_mask(ar_ctx *C, ar_tensor *mask, bool is_max, const ar_tensor *a,
                       const ar_tensor *b, float s) {
  ar_tensor w = {0}, e = {0}, h = {0};
  int rc = AR_OK;
  ar_binop win = is_max ? AR_GT : AR_LT;
  if (!b) {
    TRY(ar_binary_scalar(C, win, &w, a, s, false));
    TRY(ar_binary_scalar(C, AR_EQ, &e, a, s, false));
  } else {
    TRY(ar_binary(C, win, &w, a, b));
    TRY(ar_binary(C, AR_EQ, &e, a, b));
  }
  TRY(ar_binary_scalar(C, AR_MUL, &h, &e, 0.5f, false));
  TRY(ar_binary(C, AR_ADD, mask, &w, &h));
done:
  ar_release(&w), ar_release(&e), ar_release(&h);
  return rc;
}

/* saved: mul, maximum, minimum a, b; div b, out; pow a, b, out. iv[0] the ar_binop. */
static int bw_binary(ar_ctx *C, ag_node *n, const ar_tensor *g, ar_tensor *gin) {
  const ar_tensor *s0 = &n->saved[0], *s1 = &n->saved[1], *s2 = &n->saved[2];
  ar_tensor t = {0}, u = {0}, v = {0};
  int rc = AR_OK;
  switch ((ar_binop)n->iv[0]) {
    case AR_ADD:
      if (n->in[0]) ag_ref(&gin[0], g);
      if (n->in[1]) ag_ref(&gin[1], g);
      break;
    case AR_SUB:
      if (n->in[0]) ag_ref(&gin[0], g);
      if (n->in[1]) TRY(ag_unary(C, AR_NEG, &gin[1], g));
      break;
    case AR_MUL:
      if (n->in[0]) TRY(ag_binary(C, AR_MUL, &gin[0], g, s1));
      if (n->in[1]) TRY(ag_binary(C, AR_MUL, &gin[1], g, s0));
      break;
    case AR_DIV: /* d(a/b)/da = 1/b, d/db = -out/b */
      if (n->in[0]) TRY(ag_binary(C, AR_DIV, &gin[0], g, s0));
      if (n->in[1]) {
        TRY(ag_binary(C, AR_MUL, &t, g, s1));
        TRY(ag_binary(C, AR_DIV, &u, &t, s0));
        TRY(ag_unary(C, AR_NEG, &gin[1], &u));
      }
      break;
    case AR_POW: /* d/da = b a^(b-1), d/db = out log(a) */
      if (n->in[0]) {
        TRY(ag_binary_scalar(C, AR_SUB, &t, s1, 1.0f, false));
        TRY(ag_binary(C, AR_POW, &u, s0, &t));
        TRY(ag_binary(C, AR_MUL, &v, &u, s1));
        TRY(ag_binary(C, AR_MUL, &gin[0], g, &v));
        ag_drop(&t), ag_drop(&u), ag_drop(&v);
      }
      if (n->in[1]) {
        TRY(ag_unary(C, AR_LOG, &t, s0));
        TRY(ag_binary(C, AR_MUL, &u, s2, &t));
        TRY(ag_binary(C, AR_MUL, &gin[1], g, &u));
      }
      break;
    case AR_MAXIMUM:
    case AR_MINIMUM: {
      bool is_max = n->iv[0] == AR_MAXIMUM;
      if (n->in[0]) {
        TRY(select_mask(C, &t, is_max, s0, s1, 0));
        TRY(ag_binary(C, AR_MUL, &gin[0], g, &t));
      }
      if (n->in[1]) {
        TRY(select_mask(C, &u, is_max, s1, s0, 0));
        TRY(ag_binary(C, AR_MUL, &gin[1], g, &u));
      }
      break;
    }
    default:
      rc = ar_seterr(C, AR_EARG, "internal: binary op %d has no gradient", (int)n->iv[0]);
  }
done:
  ag_drop(&t), ag_drop(&u), ag_drop(&v);
  return rc;
}
static const char *binop_label(const ag_node *n) { return ar_binop_name((ar_binop)n->iv[0]); }
const ag_opdef ag_op_binary = {
    .name = "binary", .forward = "ar_binary", .backward = bw_binary, .label = binop_label};

static bool differentiable_binop(ar_binop op) {
  return op == AR_ADD || op == AR_SUB || op == AR_MUL || op == AR_DIV || op == AR_POW ||
         op == AR_MAXIMUM || op == AR_MINIMUM;
}

int ag_binary(ar_ctx *C, ar_binop op, ar_tensor *out, const ar_tensor *a, const ar_tensor *b) {
  int rc = ar_binary(C, op, out, a, b);
  if (rc || !differentiable_binop(op)) return rc;
  ag_node *n;
  if ((rc = ag_rec2(C, &ag_op_binary, out, a, b, &n)) || !n) return rc;
  n->iv[0] = op;
  switch (op) {
    case AR_MUL:
    case AR_MAXIMUM:
    case AR_MINIMUM:
      ag_save(n, 0, a), ag_save(n, 1, b);
      break;
    case AR_DIV:
      ag_save(n, 0, b), ag_save(n, 1, out);
      break;
    case AR_POW:
      ag_save(n, 0, a), ag_save(n, 1, b), ag_save(n, 2, out);
      break;
    default:
      break;
  }
  return AR_OK;
}

/* ---------- tensor op scalar ---------- */

/* iv[0] the ar_binop, iv[1] left (s op a), dv[0] s. saved: s / a: a, out; a ^ s: a;
 * s ^ a: out; maximum/minimum: a. */
static int bw_binary_scalar(ar_ctx *C, ag_node *n, const ar_tensor *g, ar_tensor *gin) {
  float s = (float)n->dv[0];
  bool left = n->iv[1] != 0;
  const ar_tensor *a = &n->saved[0], *y = &n->saved[1];
  ar_tensor t = {0}, u = {0};
  int rc = AR_OK;
  switch ((ar_binop)n->iv[0]) {
    case AR_ADD:
      ag_ref(&gin[0], g);
      break;
    case AR_SUB:
      if (left)
        TRY(ag_unary(C, AR_NEG, &gin[0], g));
      else
        ag_ref(&gin[0], g);
      break;
    case AR_MUL:
      TRY(ag_binary_scalar(C, AR_MUL, &gin[0], g, s, false));
      break;
    case AR_DIV:
      if (!left) {
        TRY(ag_binary_scalar(C, AR_DIV, &gin[0], g, s, false));
      } else { /* s / a: -out / a */
        TRY(ag_binary(C, AR_MUL, &t, g, y));
        TRY(ag_binary(C, AR_DIV, &u, &t, a));
        TRY(ag_unary(C, AR_NEG, &gin[0], &u));
      }
      break;
    case AR_POW:
      if (!left) { /* a^s: s a^(s-1) */
        TRY(ag_binary_scalar(C, AR_POW, &t, a, s - 1.0f, false));
        TRY(ag_binary_scalar(C, AR_MUL, &u, &t, s, false));
        TRY(ag_binary(C, AR_MUL, &gin[0], g, &u));
      } else { /* s^a: out log(s) */
        TRY(ag_binary_scalar(C, AR_MUL, &t, y, (float)log(n->dv[0]), false));
        TRY(ag_binary(C, AR_MUL, &gin[0], g, &t));
      }
      break;
    case AR_MAXIMUM:
    case AR_MINIMUM:
      TRY(select_mask(C, &t, n->iv[0] == AR_MAXIMUM, a, NULL, s));
      TRY(ag_binary(C, AR_MUL, &gin[0], g, &t));
      break;
    default:
      rc = ar_seterr(C, AR_EARG, "internal: scalar op %d has no gradient", (int)n->iv[0]);
  }
done:
  ag_drop(&t), ag_drop(&u);
  return rc;
}
const ag_opdef ag_op_binary_scalar = {.name = "binary_scalar",
                                      .forward = "ar_binary_scalar",
                                      .backward = bw_binary_scalar,
                                      .label = binop_label};

int ag_binary_scalar(ar_ctx *C, ar_binop op, ar_tensor *out, const ar_tensor *a, float s,
                     bool left) {
  int rc = ar_binary_scalar(C, op, out, a, s, left);
  if (rc || !differentiable_binop(op)) return rc;
  ag_node *n;
  if ((rc = ag_rec2(C, &ag_op_binary_scalar, out, a, NULL, &n)) || !n) return rc;
  n->iv[0] = op, n->iv[1] = left, n->dv[0] = s;
  if (op == AR_DIV && left) ag_save(n, 0, a), ag_save(n, 1, out);
  if (op == AR_POW) left ? ag_save(n, 1, out) : ag_save(n, 0, a);
  if (op == AR_MAXIMUM || op == AR_MINIMUM) ag_save(n, 0, a);
  return AR_OK;
}

/* ---------- unary functions ---------- */

/* iv[0] the ar_unop; saved[0] the input a or saved[1] the output y, whichever the
 * derivative is computed from. */
static int bw_unary(ar_ctx *C, ag_node *n, const ar_tensor *g, ar_tensor *gin) {
  const ar_tensor *a = &n->saved[0], *y = &n->saved[1];
  ar_tensor t = {0}, u = {0};
  int rc = AR_OK;
  switch ((ar_unop)n->iv[0]) {
    case AR_NEG:
      TRY(ag_unary(C, AR_NEG, &gin[0], g));
      break;
    case AR_EXP:
      TRY(ag_binary(C, AR_MUL, &gin[0], g, y));
      break;
    case AR_LOG:
      TRY(ag_binary(C, AR_DIV, &gin[0], g, a));
      break;
    case AR_SQRT: /* 0.5 / sqrt(a) */
      TRY(ag_binary(C, AR_DIV, &t, g, y));
      TRY(ag_binary_scalar(C, AR_MUL, &gin[0], &t, 0.5f, false));
      break;
    case AR_ABS: /* sign(a): piecewise constant */
      TRY(ar_unary(C, AR_SIGN, &t, a));
      TRY(ag_binary(C, AR_MUL, &gin[0], g, &t));
      break;
    case AR_SIN:
      TRY(ag_unary(C, AR_COS, &t, a));
      TRY(ag_binary(C, AR_MUL, &gin[0], g, &t));
      break;
    case AR_COS:
      TRY(ag_unary(C, AR_SIN, &t, a));
      TRY(ag_binary(C, AR_MUL, &u, g, &t));
      TRY(ag_unary(C, AR_NEG, &gin[0], &u));
      break;
    case AR_TANH: /* 1 - y^2 */
      TRY(ag_unary(C, AR_SQUARE, &t, y));
      TRY(ag_binary_scalar(C, AR_SUB, &u, &t, 1.0f, true));
      TRY(ag_binary(C, AR_MUL, &gin[0], g, &u));
      break;
    case AR_SIGMOID: /* y (1 - y) */
      TRY(ag_binary_scalar(C, AR_SUB, &t, y, 1.0f, true));
      TRY(ag_binary(C, AR_MUL, &u, &t, y));
      TRY(ag_binary(C, AR_MUL, &gin[0], g, &u));
      break;
    case AR_RECIP: /* -y^2 */
      TRY(ag_unary(C, AR_SQUARE, &t, y));
      TRY(ag_binary(C, AR_MUL, &u, g, &t));
      TRY(ag_unary(C, AR_NEG, &gin[0], &u));
      break;
    case AR_SQUARE:
      TRY(ag_binary(C, AR_MUL, &t, g, a));
      TRY(ag_binary_scalar(C, AR_MUL, &gin[0], &t, 2.0f, false));
      break;
    case AR_SIGN:
    case AR_FLOOR:
    case AR_CEIL:
    case AR_ROUND: /* zero almost everywhere */
      TRY(ag_zeros(C, &gin[0], n->in[0]->ndim, n->in[0]->shape));
      break;
    default:
      rc = ar_seterr(C, AR_EARG, "internal: unary op %d has no gradient", (int)n->iv[0]);
  }
done:
  ag_drop(&t), ag_drop(&u);
  return rc;
}
static const char *unop_label(const ag_node *n) { return ar_unop_name((ar_unop)n->iv[0]); }
const ag_opdef ag_op_unary = {
    .name = "unary", .forward = "ar_unary", .backward = bw_unary, .label = unop_label};

int ag_unary(ar_ctx *C, ar_unop op, ar_tensor *out, const ar_tensor *a) {
  int rc = ar_unary(C, op, out, a);
  if (rc) return rc;
  ag_node *n;
  if ((rc = ag_rec2(C, &ag_op_unary, out, a, NULL, &n)) || !n) return rc;
  n->iv[0] = op;
  if (op == AR_LOG || op == AR_ABS || op == AR_SIN || op == AR_COS || op == AR_SQUARE)
    ag_save(n, 0, a);
  else if (op == AR_EXP || op == AR_SQRT || op == AR_TANH || op == AR_SIGMOID || op == AR_RECIP)
    ag_save(n, 1, out);
  return AR_OK;
}

/* clamp: 1 where lo <= a <= hi (bounds included, as PyTorch). saved a; dv lo, hi. */
static int bw_clamp(ar_ctx *C, ag_node *n, const ar_tensor *g, ar_tensor *gin) {
  ar_tensor t = {0}, u = {0};
  int rc = AR_OK;
  TRY(ar_binary_scalar(C, AR_GE, &t, &n->saved[0], (float)n->dv[0], false));
  TRY(ar_binary_scalar(C, AR_LE, &u, &n->saved[0], (float)n->dv[1], false));
  TRY(ar_binary_(C, AR_MUL, &t, &u));
  TRY(ag_binary(C, AR_MUL, &gin[0], g, &t));
done:
  ar_release(&t), ar_release(&u);
  return rc;
}
const ag_opdef ag_op_clamp = {.name = "clamp", .forward = "ar_clamp", .backward = bw_clamp};

int ag_clamp(ar_ctx *C, ar_tensor *out, const ar_tensor *a, double lo, double hi) {
  int rc = ar_clamp(C, out, a, (float)lo, (float)hi);
  if (rc) return rc;
  ag_node *n;
  if ((rc = ag_rec2(C, &ag_op_clamp, out, a, NULL, &n)) || !n) return rc;
  ag_save(n, 0, a);
  n->dv[0] = lo, n->dv[1] = hi;
  return AR_OK;
}

/* ---------- matmul ---------- */

/* 1-D operands are promoted to matrices ({k} -> {1,k} on the left, {k,1} on the right),
 * then dA = G B^T and dB = A^T G with transposed views (no copies); batch dims broadcast
 * from a 2-D side are summed back. saved: a, b. */
static int bw_matmul(ar_ctx *C, ag_node *n, const ar_tensor *g, ar_tensor *gin) {
  const ar_tensor *a = &n->saved[0], *b = &n->saved[1];
  ar_tensor A = {0}, B = {0}, G = {0}, T = {0}, R = {0};
  int rc = AR_OK;
  if (a->ndim == 1) {
    int64_t s[2] = {1, a->shape[0]};
    TRY(ag_view(C, &A, a, 2, s));
  } else {
    ag_ref(&A, a);
  }
  if (b->ndim == 1) {
    int64_t s[2] = {b->shape[0], 1};
    TRY(ag_view(C, &B, b, 2, s));
  } else {
    ag_ref(&B, b);
  }
  int64_t gs[3];
  int gn = 0;
  if (A.ndim == 3 || B.ndim == 3) gs[gn++] = A.ndim == 3 ? A.shape[0] : B.shape[0];
  gs[gn++] = A.shape[A.ndim - 2];
  gs[gn++] = B.shape[B.ndim - 1];
  TRY(ag_reshape(C, &G, g, gn, gs));
  if (n->in[0]) {
    TRY(ag_transpose(C, &T, &B, B.ndim - 2, B.ndim - 1));
    TRY(ag_matmul(C, &R, &G, &T));
    ag_drop(&T);
    TRY(ag_sum_to_shape(C, &T, &R, A.ndim, A.shape));
    TRY(ag_reshape(C, &gin[0], &T, a->ndim, a->shape));
    ag_drop(&T), ag_drop(&R);
  }
  if (n->in[1]) {
    TRY(ag_transpose(C, &T, &A, A.ndim - 2, A.ndim - 1));
    TRY(ag_matmul(C, &R, &T, &G));
    ag_drop(&T);
    TRY(ag_sum_to_shape(C, &T, &R, B.ndim, B.shape));
    TRY(ag_reshape(C, &gin[1], &T, b->ndim, b->shape));
  }
done:
  ag_drop(&A), ag_drop(&B), ag_drop(&G), ag_drop(&T), ag_drop(&R);
  return rc;
}
const ag_opdef ag_op_matmul = {.name = "matmul", .forward = "ar_matmul", .backward = bw_matmul};

int ag_matmul(ar_ctx *C, ar_tensor *out, const ar_tensor *a, const ar_tensor *b) {
  int rc = ar_matmul(C, out, a, b);
  if (rc) return rc;
  ag_node *n;
  if ((rc = ag_rec2(C, &ag_op_matmul, out, a, b, &n)) || !n) return rc;
  ag_save(n, 0, a), ag_save(n, 1, b);
  return AR_OK;
}

/* ---------- linear ---------- */

/* The bias gradient of a dense g: column sums in double, as ar_reduce takes them, without
 * its general strided machinery (most of a small layer's backward). */
static int column_sums(ar_ctx *C, ar_tensor *out, const ar_tensor *g) {
  const int64_t rows = g->shape[0], cols = g->shape[1];
  double acc[1024];
  for (int64_t j = 0; j < cols; j++) acc[j] = 0.0;
  const float *gd = ar_data(g);
  for (int64_t i = 0; i < rows; i++) {
    const float *row = gd + i * cols;
    for (int64_t j = 0; j < cols; j++) acc[j] += row[j];
  }
  int rc = ar_empty(C, out, 1, &cols);
  if (rc) return rc;
  float *db = ar_data(out);
  for (int64_t j = 0; j < cols; j++) db[j] = (float)acc[j];
  return AR_OK;
}

/* y = x w^T + b: dx = g w, dw = g^T x, db = the column sums of g. saved x (when w needs
 * grad), w (when x does). Without create_graph straight to GEMM; with it, through matmul. */
static int bw_linear(ar_ctx *C, ag_node *n, const ar_tensor *g, ar_tensor *gin) {
  const ar_tensor *x = &n->saved[0], *w = &n->saved[1];
  ar_tensor gt = {0};
  int rc = AR_OK;
  if (ag_grad_enabled(C)) {
    if (n->in[0]) TRY(ag_matmul(C, &gin[0], g, w));
    if (n->in[1]) {
      TRY(ag_transpose(C, &gt, g, 0, 1));
      TRY(ag_matmul(C, &gin[1], &gt, x));
    }
    if (n->nin > 2 && n->in[2]) TRY(ag_reduce(C, AR_SUM, &gin[2], g, 0, false, 2.0, 0));
    goto done;
  }
  if (n->in[0]) {
    int64_t s[2] = {g->shape[0], w->shape[1]};
    TRY(ar_empty(C, &gin[0], 2, s));
    TRY(ar_gemm(C, &gin[0], g, false, w, false, 1.0f, 0.0f));
  }
  if (n->in[1]) {
    int64_t s[2] = {g->shape[1], x->shape[1]};
    TRY(ar_empty(C, &gin[1], 2, s));
    TRY(ar_gemm(C, &gin[1], g, true, x, false, 1.0f, 0.0f));
  }
  if (n->nin > 2 && n->in[2]) {
    if (ar_is_contiguous(g) && g->shape[1] <= 1024)
      TRY(column_sums(C, &gin[2], g));
    else
      TRY(ar_reduce(C, AR_SUM, &gin[2], g, 0, false, 0, 0));
  }
done:
  ag_drop(&gt);
  return rc;
}
const ag_opdef ag_op_linear = {.name = "linear", .forward = "ar_linear", .backward = bw_linear};

int ag_linear(ar_ctx *C, ar_tensor *out, const ar_tensor *x, const ar_tensor *w,
              const ar_tensor *b) {
  int rc = ar_linear(C, out, x, w, b);
  if (rc || !(ag_wants(C, x, w) || (b && ag_wants(C, b, NULL)))) return rc;
  const ar_tensor *in[3] = {x, w, b};
  ag_node *n;
  if ((rc = ag_record(C, &ag_op_linear, out, in, b ? 3 : 2, &n))) {
    ag_drop(out);
    return rc;
  }
  if (n->in[1]) ag_save(n, 0, x); /* dw needs x */
  if (n->in[0]) ag_save(n, 1, w); /* dx needs w */
  return AR_OK;
}
