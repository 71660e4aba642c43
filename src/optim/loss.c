/* Fused nll / cross entropy (see loss.h). Row sums are taken in double: a row of C logits
 * costs one max, one exp-sum and one log. */
#include "optim/loss.h"

#include <math.h>
#include <stdlib.h>

/* log(sum(exp(row))) with the max subtracted first (stable for any finite logits). */
static double row_lse(const float *row, int64_t c) {
  float m = -INFINITY;
  for (int64_t j = 0; j < c; j++) m = row[j] > m ? row[j] : m;
  if (isinf(m)) return m; /* all -inf (-inf) or some +inf (+inf): as PyTorch */
  double s = 0.0;
  for (int64_t j = 0; j < c; j++) s += exp((double)row[j] - m);
  return m + log(s);
}

static int contiguous_inputs(ar_ctx *C, const ar_tensor *x, const ar_tensor *labels,
                             ar_tensor *xc, ar_tensor *lc) {
  int rc = ar_contiguous(C, xc, x);
  if (rc) return rc;
  rc = ar_contiguous(C, lc, labels);
  if (rc) ar_release(xc);
  return rc;
}

int ar_nll_loss(ar_ctx *C, ar_tensor *out, const ar_tensor *x, const ar_tensor *labels,
                bool from_logits) {
  out->st = NULL;
  if (x->ndim != 2 || labels->ndim != 1 || labels->shape[0] != x->shape[0])
    return ar_seterr(C, AR_ESHAPE, "expected x {N,C} and labels {N}");
  ar_tensor xc, lc;
  int rc = contiguous_inputs(C, x, labels, &xc, &lc);
  if (rc) return rc;
  const int64_t n = x->shape[0], c = x->shape[1];
  const float *xd = ar_data(&xc), *ld = ar_data(&lc);
  double total = 0.0;
  for (int64_t i = 0; i < n; i++) {
    const float *row = xd + i * c;
    double picked = row[(int64_t)ld[i]];
    total += from_logits ? row_lse(row, c) - picked : -picked;
  }
  ar_release(&xc);
  ar_release(&lc);
  int64_t one = 1;
  rc = ar_empty(C, out, 1, &one);
  if (rc) return rc;
  ar_data(out)[0] = (float)(total / (double)n); /* N = 0: NaN, as PyTorch's mean */
  return AR_OK;
}

int ar_nll_loss_backward(ar_ctx *C, ar_tensor *gx, const ar_tensor *x, const ar_tensor *labels,
                         bool from_logits, float gout) {
  gx->st = NULL;
  ar_tensor xc, lc;
  int rc = contiguous_inputs(C, x, labels, &xc, &lc);
  if (rc) return rc;
  rc = ar_empty(C, gx, x->ndim, x->shape);
  if (rc) {
    ar_release(&xc);
    ar_release(&lc);
    return rc;
  }
  const int64_t n = x->shape[0], c = x->shape[1];
  const float *xd = ar_data(&xc), *ld = ar_data(&lc);
  float *gd = ar_data(gx);
  const double scale = (double)gout / (double)n;
  for (int64_t i = 0; i < n; i++) {
    const float *row = xd + i * c;
    float *grow = gd + i * c;
    if (from_logits) {
      /* d/dx_j (lse - x_y) = softmax_j - [j == y] */
      const double lse = row_lse(row, c);
      for (int64_t j = 0; j < c; j++) grow[j] = (float)(exp((double)row[j] - lse) * scale);
    } else {
      for (int64_t j = 0; j < c; j++) grow[j] = 0.0f;
    }
    grow[(int64_t)ld[i]] -= (float)scale;
  }
  ar_release(&xc);
  ar_release(&lc);
  return AR_OK;
}

int ar_orthogonal_(ar_ctx *C, ar_tensor *w, float gain) {
  if (w->ndim != 2 || !ar_is_contiguous(w))
    return ar_seterr(C, AR_EARG, "expected a contiguous 2-D matrix");
  const int64_t rows = w->shape[0], cols = w->shape[1];
  const bool wide = rows < cols;
  /* the k vectors of length m to orthonormalise: columns of w, or its rows when wide */
  const int64_t m = wide ? cols : rows, k = wide ? rows : cols;
  if (m == 0 || k == 0) return AR_OK;
  double *q = malloc((size_t)(m * k) * sizeof *q);
  if (!q) return ar_seterr(C, AR_ENOMEM, "out of memory");
  float *d = ar_data(w);
  for (int64_t j = 0; j < k; j++)
    for (int64_t i = 0; i < m; i++) q[j * m + i] = wide ? d[j * cols + i] : d[i * cols + j];
  for (int64_t j = 0; j < k; j++) {
    double *c = q + j * m;
    for (int64_t p = 0; p < j; p++) {
      const double *qp = q + p * m;
      double dot = 0.0;
      for (int64_t i = 0; i < m; i++) dot += qp[i] * c[i];
      for (int64_t i = 0; i < m; i++) c[i] -= dot * qp[i];
    }
    double nrm = 0.0;
    for (int64_t i = 0; i < m; i++) nrm += c[i] * c[i];
    nrm = sqrt(nrm);
    if (!(nrm > 1e-30)) {
      free(q);
      return ar_seterr(C, AR_EARG, "the random matrix was rank deficient (try another seed)");
    }
    for (int64_t i = 0; i < m; i++) c[i] /= nrm;
  }
  for (int64_t j = 0; j < k; j++)
    for (int64_t i = 0; i < m; i++) {
      float v = (float)(q[j * m + i] * gain);
      if (wide) d[j * cols + i] = v;
      else d[i * cols + j] = v;
    }
  free(q);
  return AR_OK;
}

/* ---------- mean squared error ---------- */

int ar_mse_loss(ar_ctx *C, ar_tensor *out, const ar_tensor *y, const ar_tensor *t) {
  out->st = NULL;
  if (!ar_same_shape(y, t)) return ar_seterr(C, AR_ESHAPE, "mse: y and t must have one shape");
  ar_tensor yc, tc;
  int rc = contiguous_inputs(C, y, t, &yc, &tc);
  if (rc) return rc;
  const int64_t n = ar_numel(y);
  const float *yd = ar_data(&yc), *td = ar_data(&tc);
  double s = 0.0;
  for (int64_t i = 0; i < n; i++) {
    double d = (double)(yd[i] - td[i]); /* the float difference, as (y - t) computes it */
    s += d * d;
  }
  ar_release(&yc);
  ar_release(&tc);
  int64_t one = 1;
  rc = ar_empty(C, out, 1, &one);
  if (rc) return rc;
  ar_data(out)[0] = n ? (float)(s / (double)n) : NAN;
  return AR_OK;
}

int ar_mse_loss_backward(ar_ctx *C, ar_tensor *gy, const ar_tensor *y, const ar_tensor *t,
                         float gout, float scale) {
  gy->st = NULL;
  ar_tensor yc, tc;
  int rc = contiguous_inputs(C, y, t, &yc, &tc);
  if (rc) return rc;
  rc = ar_empty(C, gy, y->ndim, y->shape);
  if (!rc) {
    const int64_t n = ar_numel(y);
    const float k = scale * 2.0f * gout / (float)n;
    const float *yd = ar_data(&yc), *td = ar_data(&tc);
    float *o = ar_data(gy);
    for (int64_t i = 0; i < n; i++) o[i] = k * (yd[i] - td[i]);
  }
  ar_release(&yc);
  ar_release(&tc);
  return rc;
}
