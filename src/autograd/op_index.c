/* Indexing and ordering: index_select and index_add, gather and scatter_add (each pair the
 * other's adjoint, so they differentiate each other any number of times), sort / topk
 * (their values recorded as a gather at the returned indices), cumsum (forward and
 * reversed: adjoints of each other), where (the gradient goes to the chosen side). */
#include "autograd/op_util.h"

/* ---------- index_select and index_add ---------- */

static int index_add(ar_ctx *C, ar_tensor *out, const ar_tensor *g, int dim,
                     const ar_tensor *idx, int64_t size);

/* iv[0] dim; saved[0] the index. */
static int bw_index_select(ar_ctx *C, ag_node *n, const ar_tensor *g, ar_tensor *gin) {
  int dim = (int)n->iv[0];
  return index_add(C, &gin[0], g, dim, &n->saved[0], n->in[0]->shape[dim]);
}
const ag_opdef ag_op_index_select = {"index_select", "ar_index_select", bw_index_select};

int ag_index_select(ar_ctx *C, ar_tensor *out, const ar_tensor *a, int dim,
                    const ar_tensor *idx) {
  int rc = ar_index_select(C, out, a, dim, idx);
  if (rc) return rc;
  ag_node *n;
  if ((rc = ag_rec2(C, &ag_op_index_select, out, a, NULL, &n)) || !n) return rc;
  n->iv[0] = dim;
  ag_save(n, 0, idx);
  return AR_OK;
}

/* iv[0] dim; saved[0] the index. */
static int bw_index_add(ar_ctx *C, ag_node *n, const ar_tensor *g, ar_tensor *gin) {
  return ag_index_select(C, &gin[0], g, (int)n->iv[0], &n->saved[0]);
}
const ag_opdef ag_op_index_add = {"index_add", "ar_index_add", bw_index_add};

static int index_add(ar_ctx *C, ar_tensor *out, const ar_tensor *g, int dim,
                     const ar_tensor *idx, int64_t size) {
  int rc = ar_index_add(C, out, g, dim, idx, size);
  if (rc) return rc;
  ag_node *n;
  if ((rc = ag_rec2(C, &ag_op_index_add, out, g, NULL, &n)) || !n) return rc;
  n->iv[0] = dim;
  ag_save(n, 0, idx);
  return AR_OK;
}

/* ---------- gather and scatter_add ---------- */

static int scatter_add(ar_ctx *C, ar_tensor *out, const ar_tensor *g, int dim,
                       const ar_tensor *idx, const ag_meta *shape_of);

/* iv[0] dim; saved[0] the index. Also the node of sort's and topk's values. */
static int bw_gather(ar_ctx *C, ag_node *n, const ar_tensor *g, ar_tensor *gin) {
  return scatter_add(C, &gin[0], g, (int)n->iv[0], &n->saved[0], n->in[0]);
}
const ag_opdef ag_op_gather = {"gather", "ar_gather (and the values of ar_sort, ar_topk)",
                               bw_gather};

static int record_gather(ar_ctx *C, ar_tensor *out, const ar_tensor *a, int dim,
                         const ar_tensor *idx) {
  ag_node *n;
  int rc = ag_rec2(C, &ag_op_gather, out, a, NULL, &n);
  if (rc || !n) return rc;
  n->iv[0] = dim;
  ag_save(n, 0, idx);
  return AR_OK;
}

int ag_gather(ar_ctx *C, ar_tensor *out, const ar_tensor *a, int dim, const ar_tensor *idx) {
  int rc = ar_gather(C, out, a, dim, idx);
  if (rc) return rc;
  return record_gather(C, out, a, dim, idx);
}

/* iv[0] dim; saved[0] the index. */
static int bw_scatter_add(ar_ctx *C, ag_node *n, const ar_tensor *g, ar_tensor *gin) {
  return ag_gather(C, &gin[0], g, (int)n->iv[0], &n->saved[0]);
}
const ag_opdef ag_op_scatter_add = {"scatter_add", "ar_scatter_add", bw_scatter_add};

static int scatter_add(ar_ctx *C, ar_tensor *out, const ar_tensor *g, int dim,
                       const ar_tensor *idx, const ag_meta *shape_of) {
  int rc = ar_scatter_add(C, out, g, dim, idx, shape_of->ndim, shape_of->shape);
  if (rc) return rc;
  ag_node *n;
  if ((rc = ag_rec2(C, &ag_op_scatter_add, out, g, NULL, &n)) || !n) return rc;
  n->iv[0] = dim;
  ag_save(n, 0, idx);
  return AR_OK;
}

/* ---------- sort, topk: the values are a gather at the indices ---------- */

static int record_sorted(ar_ctx *C, int rc, ar_tensor *vals, ar_tensor *idx,
                         const ar_tensor *a, int dim) {
  if (rc) return rc;
  if ((rc = record_gather(C, vals, a, dim, idx))) ar_release(idx);
  return rc;
}

int ag_sort(ar_ctx *C, ar_tensor *vals, ar_tensor *idx, const ar_tensor *a, int dim,
            bool descending) {
  return record_sorted(C, ar_sort(C, vals, idx, a, dim, descending), vals, idx, a, dim);
}

int ag_topk(ar_ctx *C, ar_tensor *vals, ar_tensor *idx, const ar_tensor *a, int64_t k, int dim,
            bool largest) {
  return record_sorted(C, ar_topk(C, vals, idx, a, k, dim, largest), vals, idx, a, dim);
}

/* ---------- cumsum: its adjoint is the reversed running sum, and back ---------- */

/* iv[0] dim, iv[1] reverse. */
static int bw_cumsum(ar_ctx *C, ag_node *n, const ar_tensor *g, ar_tensor *gin) {
  return ag_cumsum(C, &gin[0], g, (int)n->iv[0], !n->iv[1]);
}
const ag_opdef ag_op_cumsum = {"cumsum", "ar_cumsum", bw_cumsum};

int ag_cumsum(ar_ctx *C, ar_tensor *out, const ar_tensor *a, int dim, bool reverse) {
  int rc = ar_cumsum(C, out, a, dim, reverse);
  if (rc) return rc;
  ag_node *n;
  if ((rc = ag_rec2(C, &ag_op_cumsum, out, a, NULL, &n)) || !n) return rc;
  n->iv[0] = dim, n->iv[1] = reverse;
  return AR_OK;
}

/* ---------- where: inputs a, b; saved[0] the condition ---------- */

static int bw_where(ar_ctx *C, ag_node *n, const ar_tensor *g, ar_tensor *gin) {
  ar_tensor zero = {0};
  int rc = ag_zeros(C, &zero, 0, NULL);
  if (rc) return rc;
  /* each side gets g where it was chosen (the engine sums broadcast dims back) */
  if (n->in[0]) rc = ag_where(C, &gin[0], &n->saved[0], g, &zero);
  if (!rc && n->in[1]) rc = ag_where(C, &gin[1], &n->saved[0], &zero, g);
  ar_release(&zero);
  return rc;
}
const ag_opdef ag_op_where = {"where", "ar_where", bw_where};

int ag_where(ar_ctx *C, ar_tensor *out, const ar_tensor *cond, const ar_tensor *a,
             const ar_tensor *b) {
  int rc = ar_where(C, out, cond, a, b);
  if (rc) return rc;
  ag_node *n;
  if ((rc = ag_rec2(C, &ag_op_where, out, a, b, &n)) || !n) return rc;
  ag_save(n, 0, cond);
  return AR_OK;
}
