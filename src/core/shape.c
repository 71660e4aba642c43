/* Concatenation and stacking. The output is contiguous; each input lands in a
 * rectangular slab of it, copied with memcpy per contiguous run when the input is
 * contiguous, by the strided copy otherwise. */
#include <string.h>

#include "core/core.h"

#define SH_CHUNK ((int64_t)1 << 16) /* floats per memcpy work item */

/* Copies rows x len floats from src (row stride sstride) to dst (row stride dstride). */
typedef struct {
  float *dst;
  const float *src;
  int64_t dstride, sstride, len, chunks;
} sh_copy;

static void sh_copy_items(void *arg, int64_t lo, int64_t hi)
{
  const sh_copy *P = arg;
  for (int64_t w = lo; w < hi; w++) {
    int64_t r = w / P->chunks, c0 = (w % P->chunks) * SH_CHUNK;
    int64_t n = P->len - c0 < SH_CHUNK ? P->len - c0 : SH_CHUNK;
    memcpy(P->dst + r * P->dstride + c0, P->src + r * P->sstride + c0, (size_t)n * sizeof(float));
  }
}

/* A 1-D empty tensor is skipped by cat whatever the other shapes (PyTorch's rule). */
static bool sh_skippable(const ar_tensor *t) { return t->ndim == 1 && t->shape[0] == 0; }

/* Error messages count tensors and dims from 1, as the rest of the core's messages (they
 * reach Lua users unchanged). */

/* Concatenates along dim; stack_dim >= 0 means the inputs get a new size-1 dim there
 * first (stack), which cat then joins. */
static int sh_join(ar_ctx *C, ar_tensor *out, const ar_tensor *const *list, int n, int dim,
                   bool stack)
{
  out->st = NULL;
  if (n < 1) return ar_seterr(C, AR_EARG, "expected a non-empty list of tensors");
  char s1[200], s2[200];

  /* the reference shape: the first input cat does not skip */
  int ref = 0;
  if (!stack)
    while (ref < n - 1 && sh_skippable(list[ref])) ref++;
  const ar_tensor *R = list[ref];
  int nd = R->ndim + (stack ? 1 : 0);
  if (nd == 0)
    return ar_seterr(C, AR_EARG, "cannot concatenate 0-D tensors (use stack)");
  if (nd > AR_MAXDIM) /* stacking 8-D tensors */
    return ar_seterr(C, AR_EARG, "the result would have %d dimensions; a tensor has at most %d",
                     nd, AR_MAXDIM);
  if (dim < 0 || dim >= nd)
    return ar_seterr(C, AR_ERANGE, "dimension %d out of range (expected 1..%d)", dim + 1, nd);

  int64_t total = 0;
  for (int i = 0; i < n; i++) {
    const ar_tensor *t = list[i];
    if (stack) {
      if (!ar_same_shape(t, R))
        return ar_seterr(C, AR_ESHAPE,
                         "expects tensors of equal shape, but tensor %d has shape %s and "
                         "tensor %d has shape %s",
                         i + 1, ar_shape_str(t->ndim, t->shape, s1, sizeof s1), ref + 1,
                         ar_shape_str(R->ndim, R->shape, s2, sizeof s2));
      total += 1;
      continue;
    }
    if (sh_skippable(t)) continue;
    if (t->ndim != R->ndim)
      return ar_seterr(C, AR_ESHAPE,
                       "tensor %d has shape %s but tensor %d has shape %s (different "
                       "numbers of dimensions)",
                       i + 1, ar_shape_str(t->ndim, t->shape, s1, sizeof s1), ref + 1,
                       ar_shape_str(R->ndim, R->shape, s2, sizeof s2));
    for (int d = 0; d < nd; d++)
      if (d != dim && t->shape[d] != R->shape[d])
        return ar_seterr(C, AR_ESHAPE,
                         "tensor %d has shape %s but tensor %d has shape %s (sizes must "
                         "match except in dimension %d)",
                         i + 1, ar_shape_str(t->ndim, t->shape, s1, sizeof s1), ref + 1,
                         ar_shape_str(R->ndim, R->shape, s2, sizeof s2), dim + 1);
    total += t->shape[dim];
  }

  int64_t shape[AR_MAXDIM];
  if (stack) {
    for (int d = 0, j = 0; d < nd; d++) shape[d] = d == dim ? n : R->shape[j++];
  } else {
    memcpy(shape, R->shape, sizeof shape);
    if (sh_skippable(R)) shape[0] = 0; /* every input was a 1-D empty */
    shape[dim] = total;
  }
  int rc = ar_empty(C, out, nd, shape);
  if (rc) return rc;

  /* out = outer x (total * inner): input i fills columns [at*inner, (at+len)*inner) */
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < dim; d++) outer *= shape[d];
  for (int d = dim + 1; d < nd; d++) inner *= shape[d];
  int64_t at = 0;
  for (int i = 0; i < n; i++) {
    const ar_tensor *t = list[i];
    if (!stack && sh_skippable(t)) continue;
    int64_t len = stack ? 1 : t->shape[dim];
    if (len == 0 || outer == 0 || inner == 0) {
      at += len;
      continue;
    }
    if (ar_is_contiguous(t)) {
      sh_copy P = {.dst = ar_data(out) + at * inner, .src = ar_data(t),
                   .dstride = total * inner, .sstride = len * inner, .len = len * inner};
      P.chunks = (P.len + SH_CHUNK - 1) / SH_CHUNK;
      int64_t grain = AR_PAR_GRAIN / (P.len < SH_CHUNK ? P.len : SH_CHUNK);
      ar_parallel_for(C, outer * P.chunks, grain > 0 ? grain : 1, sh_copy_items, &P);
    } else {
      /* a borrowed view of out's slab in t's shape, filled by the strided copy */
      ar_tensor slab = *out;
      slab.ag = NULL;
      slab.ndim = t->ndim;
      slab.offset = out->offset + at * inner;
      int64_t st = 1;
      for (int d = nd - 1, j = t->ndim - 1; d >= 0; d--) {
        if (stack && d == dim) {
          st *= n;
          continue;
        }
        slab.shape[j] = t->shape[j];
        slab.stride[j] = st;
        st *= d == dim ? total : shape[d];
        j--;
      }
      rc = ar_copy_(C, &slab, t);
      if (rc) {
        ar_release(out);
        out->st = NULL;
        return rc;
      }
    }
    at += len;
  }
  return AR_OK;
}

int ar_cat(ar_ctx *C, ar_tensor *out, const ar_tensor *const *list, int n, int dim)
{
  return sh_join(C, out, list, n, dim, false);
}

int ar_stack(ar_ctx *C, ar_tensor *out, const ar_tensor *const *list, int n, int dim)
{
  return sh_join(C, out, list, n, dim, true);
}
