/* Reverse-mode autograd, define-by-run. No Lua in here.
 *
 * A tensor that takes part in differentiation carries an ag_meta in ar_tensor.ag:
 * its requires_grad flag, its accumulated .grad (leaves only) and, for results of ops,
 * the ag_node that made it. A node holds the op id (one entry of ag_ops: the forward it
 * mirrors and its backward), the tensors and numbers the backward needs, and edges to the
 * metas of its inputs. The graph is a DAG of metas and nodes; each node has exactly one
 * output meta, which owns it, so only metas are refcounted.
 *
 * Recording: the binding computes the forward with the core, then calls ag_record; when
 * grad mode is off or no input requires grad, ag_record allocates nothing (the inference
 * path pays one pointer test per input).
 *
 * ag_backward walks the graph from a root once, in topological order (iteratively, so
 * graphs of 10^5 nodes do not overflow the C stack), accumulates into leaves' .grad and
 * frees every node's saved tensors and edges as soon as its backward has run. */
#ifndef ACTRUN_AUTOGRAD_H
#define ACTRUN_AUTOGRAD_H

#include "core/core.h"

/* One op per differentiable forward (one line per family); ag_ops[op] names it and holds
 * its backward. */
// clang-format off
typedef enum {
  AG_IDENTITY,   /* clone, contiguous, t() of a 1-D tensor: gradient passes unchanged */
  AG_ADD, AG_SUB, AG_MUL, AG_DIV, AG_POW, AG_MAXIMUM, AG_MINIMUM,     /* tensor op tensor */
  AG_ADD_S, AG_SUB_S, AG_RSUB_S, AG_MUL_S, AG_DIV_S, AG_RDIV_S,       /* with a scalar */
  AG_POW_S, AG_RPOW_S, AG_MAXIMUM_S, AG_MINIMUM_S,
  AG_NEG, AG_EXP, AG_LOG, AG_SQRT, AG_ABS, AG_SIN, AG_COS, AG_TANH, AG_SIGMOID,
  AG_RECIP, AG_SQUARE, AG_ZERO_GRAD, /* sign floor ceil round: zero almost everywhere */
  AG_CLAMP,
  AG_SUM, AG_MEAN, AG_VAR, AG_STD, AG_NORM, AG_PROD, AG_MAXMIN_ALL, AG_MAXMIN_DIM,
  AG_MATMUL,
  AG_RESHAPE, /* reshape view flatten squeeze unsqueeze: back to the input's shape */
  AG_TRANSPOSE, AG_NARROW, AG_SELECT,
  AG_EXPAND,  /* the engine sums the gradient back to the input's shape */
  AG_CAT, AG_STACK,
  AG_ACT, AG_PRELU, AG_SOFTMAX,
  AG_NLL_LOSS, /* nll and cross entropy: saved x and 0-based labels, iv[0] from_logits */
  AG_LINEAR,   /* x w^T + b: inputs x, w[, b]; saved x (when w needs grad), w (when x does) */
  AG_CONV2D,    /* saved x, w; iv stride h, w, padding h, w; inputs x, w [, b] */
  AG_MAXPOOL2D, /* saved int32 argmax positions; the input's shape from its meta */
  AG_HOSTACT,  /* a host program's activation (act/host.h): saved x, ptr the act_host */
  AG_MSE_LOSS, /* mean((y - t)^2): inputs y, t; saved y, t */
  AG_OP_COUNT
} ag_op;
// clang-format on

#define AG_MAXSAVED 3

typedef struct ag_meta ag_meta;
typedef struct ag_node ag_node;

/* Computes the gradients of the node's inputs from the gradient of its output. gin[i]
 * is uninitialised (st NULL) on entry and must be filled where n->in[i] != NULL; it may
 * have any shape that broadcasts to the input's (the engine sums it back). */
typedef int (*ag_backward_fn)(ar_ctx *C, ag_node *n, const ar_tensor *gout, ar_tensor *gin);

typedef struct ag_opdef {
  const char *name;
  const char *forward; /* the core call the binding records it after */
  ag_backward_fn backward;
} ag_opdef;
extern const ag_opdef ag_ops[AG_OP_COUNT];

struct ag_node {
  ag_op op;
  bool released; /* its backward ran: saved tensors and edges are gone */
  int nin;
  ag_meta **in;         /* nin edges (retained); NULL where the input needs no grad */
  ag_meta *in_small[3]; /* storage for in when nin <= 3 (linear and conv2d with a bias) */
  int64_t *sizes;       /* cat/stack: each input's size along dim */
  ar_tensor saved[AG_MAXSAVED];
  int64_t iv[4];   /* dims, indices, flags */
  double dv[4];    /* scalars, bounds, params */
  const void *ptr; /* the act_def of AG_ACT, the act_host of AG_HOSTACT */
};

struct ag_meta {
  int64_t refcount;   /* the tensor userdata and the edges of downstream nodes */
  bool requires_grad; /* the user's flag for leaves; always true for op results */
  ar_tensor grad;     /* accumulated gradient of a leaf; st NULL when none */
  ag_node *grad_fn;   /* the op that made the tensor; NULL for leaves */
  bool view_of_leaf;  /* shares storage with a leaf that requires grad (in-place: error) */
  int ndim;
  int64_t shape[AR_MAXDIM];
  /* scratch of one ag_backward */
  bool visited;
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
/* Writing into t in place would change a leaf that requires grad behind autograd's back:
 * the leaf itself or a view of it (PyTorch refuses both outside no_grad). */
static inline bool ag_inplace_forbidden(const ar_tensor *t) {
  const ag_meta *m = t->ag;
  return m && ((m->requires_grad && !m->grad_fn) || m->view_of_leaf);
}

/* If grad mode is on and one of in[0..nin) requires grad, gives `out` a meta with a new
 * node of op `op` and sets *node (fill its saved tensors/numbers); else *node = NULL and
 * nothing is allocated. AR_ENOMEM on allocation failure. */
int ag_record(ar_ctx *C, ag_op op, ar_tensor *out, const ar_tensor *const *in, int nin,
              ag_node **node);
/* Saves a view of t (shares storage, no meta) in slot i of the node. */
void ag_save(ag_node *n, int i, const ar_tensor *t);

/* Leaf flag. AR_EARG for a non-leaf (its flag follows from its inputs). */
int ag_set_requires_grad(ar_ctx *C, ar_tensor *t, bool on);
/* The leaf's gradient, or NULL. */
const ar_tensor *ag_grad(const ar_tensor *t);
/* Replaces the gradient: g NULL clears it; otherwise g must have t's shape and is shared. */
int ag_set_grad(ar_ctx *C, ar_tensor *t, const ar_tensor *g);
/* Drops t's meta reference (when the tensor dies); frees the graph behind it when unused,
 * without recursion. */
void ag_tensor_release(ar_tensor *t);

/* Backpropagates from root: seed is the gradient of root (NULL: ones, root must have one
 * element). AR_EARG with a message when root does not require grad, the seed has the
 * wrong shape, or the graph was already freed by an earlier backward. */
int ag_backward(ar_ctx *C, ar_tensor *root, const ar_tensor *seed);

/* out = g summed over the dims where it was broadcast to reach its shape from `shape`
 * (leading dims, and dims of size 1 in `shape`), then given exactly that shape. */
int ag_reduce_to_shape(ar_ctx *C, ar_tensor *out, const ar_tensor *g, int ndim,
                       const int64_t *shape);

#endif
