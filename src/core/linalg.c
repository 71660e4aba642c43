/* Singular values through LAPACK's dgesdd (values only). OpenBLAS exports the Fortran
 * symbols; they are declared here rather than through a LAPACKE header, which not every
 * distribution installs with OpenBLAS. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>

#include "core/ctx.h"
#include "core/linalg.h"

/* Fortran LAPACK: arguments by reference, column-major, and (gfortran's convention) the
 * hidden length of each character argument appended at the end. */
extern void dgesdd_(const char *jobz, const int *m, const int *n, double *a, const int *lda,
                    double *s, double *u, const int *ldu, double *vt, const int *ldvt,
                    double *work, const int *lwork, int *iwork, int *info, size_t jobz_len);

int ar_svdvals(ar_ctx *C, ar_tensor *out, const ar_tensor *a) {
  out->st = NULL;
  if (a->ndim != 2)
    return ar_seterr(C, AR_ESHAPE, "expected a 2-D matrix, got %d dimension%s", a->ndim,
                     a->ndim == 1 ? "" : "s");
  const int64_t rows = a->shape[0], cols = a->shape[1];
  const int64_t k = rows < cols ? rows : cols;
  if (rows > INT_MAX || cols > INT_MAX || rows * cols > INT_MAX)
    return ar_seterr(C, AR_ESHAPE, "matrix of %lld x %lld is too large for LAPACK",
                     (long long)rows, (long long)cols);
  int rc = ar_empty(C, out, 1, &k);
  if (rc) return rc;
  if (k == 0) return AR_OK;

  const int m = (int)rows, n = (int)cols, ldone = 1;
  double *A = malloc((size_t)m * (size_t)n * sizeof *A);
  double *s = malloc((size_t)k * sizeof *s);
  int *iwork = malloc((size_t)(8 * k) * sizeof *iwork);
  double *work = NULL;
  if (!A || !s || !iwork) {
    rc = ar_seterr(C, AR_ENOMEM, "out of memory");
    goto done;
  }
  /* column-major copy, in double, from any strides */
  const float *base = a->st->data + a->offset;
  for (int64_t j = 0; j < cols; j++)
    for (int64_t i = 0; i < rows; i++) {
      const double v = base[i * a->stride[0] + j * a->stride[1]];
      if (!isfinite(v)) {
        rc = ar_seterr(C, AR_EARG, "entry (%lld, %lld) is %s", (long long)(i + 1),
                       (long long)(j + 1), isnan(v) ? "nan" : "infinite");
        goto done;
      }
      A[j * rows + i] = v;
    }

  /* workspace query, then the decomposition */
  double dummy = 0.0, wq = 0.0;
  int lwork = -1, info = 0;
  dgesdd_("N", &m, &n, A, &m, s, &dummy, &ldone, &dummy, &ldone, &wq, &lwork, iwork, &info, 1);
  if (info != 0) {
    rc = ar_seterr(C, AR_EARG, "LAPACK dgesdd workspace query failed (info %d)", info);
    goto done;
  }
  lwork = (int)wq + 1;
  work = malloc((size_t)lwork * sizeof *work);
  if (!work) {
    rc = ar_seterr(C, AR_ENOMEM, "out of memory");
    goto done;
  }
  if ((rc = ar_blas_enter(C))) goto done; /* dgesdd runs OpenBLAS's kernels */
  dgesdd_("N", &m, &n, A, &m, s, &dummy, &ldone, &dummy, &ldone, work, &lwork, iwork, &info, 1);
  if (info != 0) {
    rc = ar_seterr(C, AR_EARG, info > 0 ? "the SVD did not converge (LAPACK dgesdd info %d)"
                                        : "LAPACK dgesdd rejected argument %d", info < 0 ? -info : info);
    goto done;
  }
  float *o = ar_data(out);
  for (int64_t i = 0; i < k; i++) o[i] = (float)s[i]; /* dgesdd: descending already */

done:
  free(A);
  free(s);
  free(iwork);
  free(work);
  if (rc) ar_release(out);
  return rc;
}
