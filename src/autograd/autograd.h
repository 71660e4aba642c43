/* Reverse-mode autograd, define-by-run: the graph and its engine. No Lua in here, and no
 * op: the ops are in ops.h (one file per family, each op's forward recording beside its
 * backward); the engine reaches a backward through the node's op definition.
 *
 * A tensor that takes part in differentiation carries an ag_meta in ar_tensor.ag:
 * its requires_grad flag, its accumulated .grad (leaves only) and, for results of ops,
 * the ag_node that made it. A node holds its op definition, the tensors and numbers the
 * backward needs, and edges to the metas of its inputs. The graph is a DAG of metas and
 * nodes; each node has exactly one output meta, which owns it, so only metas are
 * refcounted.
 *
 * Recording: an op of ops.h computes the forward with the core, then calls ag_record;
 * when grad mode is off or no input requires grad, ag_record allocates nothing (the
 * inference path pays one pointer test per input).
 *
 * Gradients of gradients: every backward is written with the differentiable ops of ops.h.
 * ag_backward runs them with grad mode set to create_graph, so without it they record
 * nothing (and ops with a fused backward kernel take it), and with it the gradients come
 * out as the results of recorded ops: differentiable again. Saved tensors keep their
 * metas for that (a saved output points to the node's own meta without counting it, so
 * saving creates no cycle).
 *
 * ag_backward walks the graph from its roots once, in topological order (iteratively, so
 * graphs of 10^5 nodes do not overflow the C stack), accumulates into leaves' .grad (or
 * hands the gradients of chosen tensors back, as actrun.grad) and, unless the graph is
 * retained, frees every node's saved tensors and edges as soon as its backward has run. */
#ifndef ACTRUN_AUTOGRAD_H
#define ACTRUN_AUTOGRAD_H

#include "core/core.h"

#define AG_MAXSAVED 3

typedef struct ag_meta ag_meta;
typedef struct ag_node ag_node;

/* Computes the gradients of the node's inputs from the gradient of its output. gin[i]
 * is uninitialised (st NULL) on entry and must be filled where n->in[i] != NULL; it may
 * have any shape that broadcasts to the input's (the engine sums it back). Temporaries
 * and results may carry metas (grad mode is on under create_graph): release them with
 * ag_drop. ag_grad_enabled(C) tells whether the gradient must be differentiable. */
typedef int (*ag_backward_fn)(ar_ctx *C, ag_node *n, const ar_tensor *gout, ar_tensor *gin);

/* One op: what it mirrors and how it differentiates (each defined in its family's file,
 * listed in ops.h). */
typedef struct ag_opdef {
  const char *name;
  const char *forward; /* the core call it records */
  ag_backward_fn backward;
  /* the node's own name when the op is a family (binary: "mul" ...), or NULL */
  const char *(*label)(const ag_node *n);
} ag_opdef;

/* The name messages give a node: its op's label, else the op's name. */
const char *ag_node_name(const ag_node *n);

struct ag_node {
  const ag_opdef *op;
  bool released; /* its backward ran without retain_graph: saved tensors and edges gone */
  unsigned saved_out; /* bit i: saved[i] is the node's own output (its meta not counted) */
  int nin;
  ag_meta **in;         /* nin edges (retained); NULL where the input needs no grad */
  ag_meta *in_small[3]; /* storage for in when nin <= 3 (linear and conv2d with a bias) */
  int64_t *sizes;       /* cat: each input's size along dim */
  ar_tensor saved[AG_MAXSAVED];
  uint64_t saved_version[AG_MAXSAVED]; /* the storage's write count when it was saved */
  int64_t iv[6];   /* dims, indices, flags, sub-op codes */
  double dv[4];    /* scalars, bounds, params */
  const void *ptr; /* the act_def of activations, the act_host of host activations */
};

struct ag_meta {
  int64_t refcount;   /* the tensor userdata, saved slots and the edges of downstream nodes */
  bool requires_grad; /* the user's flag for leaves; always true for op results */
  ar_tensor grad;     /* accumulated gradient of a leaf (with a meta under create_graph) */
  ag_node *grad_fn;   /* the op that made the tensor; NULL for leaves */
  bool view_of_leaf;  /* shares storage with a leaf that requires grad (in-place: error) */
  bool is_view;       /* shares storage with the input it was made from (n->in[0]) */
  bool superseded;    /* an in-place write gave the tensor a new history after this one */
  int ndim;
  int64_t shape[AR_MAXDIM];
  /* scratch of one ag_backward */
  bool visited;
  int capture;        /* 1 + the index of this tensor among actrun.grad's inputs, or 0 */
  int64_t deps;       /* consumers whose gradient has not arrived yet */
  ar_tensor gacc;     /* gradient summed so far */
  ag_meta *next_free; /* intrusive list used while freeing without recursion */
};

/* Grad mode of the context (on by default). */
bool ag_grad_enabled(const ar_ctx *C);
void ag_set_grad_enabled(ar_ctx *C, bool on);

static inline ag_meta *ag_meta_get(const ar_tensor *t) { return (ag_meta *)t->ag; }
static inline bool ag_requires_grad(const ar_tensor *t) {
  return t->ag != NULL && ((ag_meta *)t->ag)->requires_grad;
}
static inline bool ag_is_leaf(const ar_tensor *t) {
  return t->ag == NULL || ((ag_meta *)t->ag)->grad_fn == NULL;
}
/* Whether an op on a (and b, may be NULL) would record: grad mode on and one requires
 * grad. The ops test it before anything else, so inference pays only this. */
static inline bool ag_wants(const ar_ctx *C, const ar_tensor *a, const ar_tensor *b) {
  return (ag_requires_grad(a) || (b && ag_requires_grad(b))) && ag_grad_enabled(C);
}
/* Writing into t in place would change a leaf that requires grad behind autograd's back:
 * the leaf itself or a view of it (PyTorch refuses both outside no_grad). */
static inline bool ag_inplace_forbidden(const ar_tensor *t) {
  const ag_meta *m = t->ag;
  return m && ((m->requires_grad && !m->grad_fn) || m->view_of_leaf);
}

/* For the ops of ops.h. If grad mode is on and one of in[0..nin) requires grad, gives
 * `out` a meta with a new node of op `op` and sets *node (the op then fills its saved
 * tensors and numbers); else *node = NULL and nothing is allocated. AR_ENOMEM on
 * allocation failure. */
int ag_record(ar_ctx *C, const ag_opdef *op, ar_tensor *out, const ar_tensor *const *in,
              int nin, ag_node **node);
/* Saves t in slot i of the node: its storage, and its meta (counted, unless t is the
 * node's own output), so that the backward can differentiate through it. */
void ag_save(ag_node *n, int i, const ar_tensor *t);

/* dst = src with src's storage and meta (both counted): an autograd reference. */
void ag_ref(ar_tensor *dst, const ar_tensor *src);
/* Releases t's storage and meta (the pair ag_ref and the ops of ops.h hand out). */
void ag_drop(ar_tensor *t);

/* Leaf flag. AR_EARG for a non-leaf (its flag follows from its inputs). */
int ag_set_requires_grad(ar_ctx *C, ar_tensor *t, bool on);
/* The leaf's gradient, or NULL. */
const ar_tensor *ag_grad(const ar_tensor *t);
/* Replaces the gradient: g NULL clears it; otherwise g must have t's shape and is shared
 * (with its meta). */
int ag_set_grad(ar_ctx *C, ar_tensor *t, const ar_tensor *g);
/* Drops t's meta reference (when the tensor dies); frees the graph behind it when unused,
 * without recursion. */
void ag_tensor_release(ar_tensor *t);
/* The same for the user's handle on t (the Lua userdata): when t is a leaf, its .grad can
 * no longer be read, and a differentiable .grad is dropped (it may hold the leaf through
 * its graph: the cycle backward{create_graph=true} makes, as in PyTorch). A leaf's meta is
 * held by one handle only: gradients handed out are never leaf metas. */
void ag_handle_release(ar_tensor *t);

typedef struct ag_backward_opts {
  bool create_graph; /* record the backward: gradients differentiable again */
  bool retain_graph; /* keep saved tensors for another backward (implied by create_graph) */
  bool allow_unused; /* ag_grad: an input the outputs do not depend on gets no gradient
                      * (st NULL) instead of an error */
} ag_backward_opts;

/* Backpropagates from root: seed is the gradient of root (NULL: ones, root must have one
 * element), into the .grad of the leaves. AR_EARG with a message when root does not
 * require grad, the seed has the wrong shape, or the graph was already freed by an
 * earlier backward. opts may be NULL (neither create nor retain). */
int ag_backward(ar_ctx *C, ar_tensor *root, const ar_tensor *seed, const ag_backward_opts *opts);

/* actrun.grad: the gradients of the sum of outputs[i] (weighted by seeds[i], NULL for
 * ones) with respect to inputs[j], into grads[j] (new references, with metas under
 * create_graph); leaves' .grad are left alone. */
int ag_grad_of(ar_ctx *C, int nout, ar_tensor *const *outputs, const ar_tensor *const *seeds,
               int nin, const ar_tensor *const *inputs, ar_tensor *grads,
               const ag_backward_opts *opts);

#endif
