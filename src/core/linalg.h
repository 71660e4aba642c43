/* Dense linear algebra on top of LAPACK (the copy OpenBLAS ships). No Lua in here. */
#ifndef ACTRUN_LINALG_H
#define ACTRUN_LINALG_H

#include "core/core.h"

/* The singular values of the 2-D matrix a (any strides), in descending order, into a new
 * 1-D tensor out of min(rows, cols) entries. Computed in double precision by LAPACK's
 * divide-and-conquer SVD (dgesdd, values only) and rounded to float. Errors: a not 2-D
 * (AR_ESHAPE), an entry that is nan or infinite (AR_EARG), no convergence (AR_EARG),
 * out of memory (AR_ENOMEM). */
int ar_svdvals(ar_ctx *C, ar_tensor *out, const ar_tensor *a);

#endif
