/* Reverse-mode autograd: metas, nodes and the backward engine. It knows no op: a node's
 * backward is reached through its op definition (ops.h). See autograd.h. */
#include "autograd/autograd.h"

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autograd/op_util.h"
#include "core/ctx.h"

bool ag_grad_enabled(const ar_ctx *C) { return C->grad_enabled; }
void ag_set_grad_enabled(ar_ctx *C, bool on) { C->grad_enabled = on; }

/* ---------- metas and nodes ---------- */

/* The meta of an op result and the node that made it live and die together (the meta owns
 * the node), so ag_record makes them as one block. Freed blocks wait in a small per-thread
 * cache for the next op: a training loop records the same few nodes every step, so after
 * the first step recording and freeing call no allocator. A thread's cache is freed when
 * the thread ends. Sanitized builds skip the cache so that use-after-free stays visible. */
typedef struct ag_block {
  ag_meta m;
  ag_node n;
} ag_block;

#if defined(__SANITIZE_ADDRESS__)
#define AG_CACHE_MAX 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define AG_CACHE_MAX 0
#endif
#endif
#ifndef AG_CACHE_MAX
#define AG_CACHE_MAX 1024 /* blocks wait here until the GC frees their tensors */
#endif

static _Thread_local ag_meta *block_cache; /* linked through m.next_free */
static _Thread_local int block_cached;
static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;
static bool cache_key_ok;

static void cache_drain(void *unused) {
  (void)unused;
  while (block_cache) {
    ag_meta *m = block_cache;
    block_cache = m->next_free;
    free(m);
  }
  block_cached = 0;
}
static void cache_init(void) { cache_key_ok = pthread_key_create(&cache_key, cache_drain) == 0; }

static ag_block *block_new(void) {
  ag_meta *m = block_cache;
  if (m) {
    block_cache = m->next_free;
    block_cached--;
    memset(m, 0, sizeof(ag_block));
    return (ag_block *)m;
  }
  return calloc(1, sizeof(ag_block));
}

static void block_free(ag_block *b) {
  if (block_cached >= AG_CACHE_MAX) {
    free(b);
    return;
  }
  if (block_cached == 0 && !block_cache) { /* the thread's first: have it drained at exit */
    pthread_once(&cache_once, cache_init);
    if (!cache_key_ok || pthread_setspecific(cache_key, (void *)1) != 0) {
      free(b);
      return;
    }
  }
  b->m.next_free = block_cache;
  block_cache = &b->m;
  block_cached++;
}

static ag_meta *meta_new(const ar_tensor *t) {
  ag_meta *m = calloc(1, sizeof *m);
  if (!m) return NULL;
  m->refcount = 1;
  m->ndim = t->ndim;
  memcpy(m->shape, t->shape, sizeof(int64_t) * (size_t)t->ndim);
  return m;
}

static void unref_to(ag_meta *p, ag_meta **dead) {
  if (p && --p->refcount == 0) {
    p->next_free = *dead;
    *dead = p;
  }
}

/* Drops the saved tensors and the edges (queued on *dead when their count reaches 0). */
static void node_clear(ag_node *n, ag_meta **dead) {
  for (int i = 0; i < AG_MAXSAVED; i++) {
    ar_tensor *t = &n->saved[i];
    if (!(n->saved_out & (1u << i))) unref_to(t->ag, dead);
    t->ag = NULL;
    ar_release(t);
  }
  n->saved_out = 0;
  for (int i = 0; i < n->nin; i++) {
    ag_meta *p = n->in[i];
    n->in[i] = NULL;
    unref_to(p, dead);
  }
  n->released = true;
}

/* Frees metas whose count reached 0, and everything they alone kept alive, with an
 * intrusive worklist instead of recursion (a chain of 10^5 ops is a chain of 10^5 frees). */
static void free_dead(ag_meta *dead) {
  while (dead) {
    ag_meta *m = dead;
    dead = m->next_free;
    unref_to(m->grad.ag, &dead);
    unref_to(m->gacc.ag, &dead);
    m->grad.ag = m->gacc.ag = NULL;
    ar_release(&m->grad);
    ar_release(&m->gacc);
    ag_node *n = m->grad_fn;
    if (n) { /* an op result: meta and node are one ag_block */
      node_clear(n, &dead);
      if (n->in != n->in_small) free(n->in);
      free(n->sizes);
      block_free((ag_block *)m);
    } else {
      free(m);
    }
  }
}

static void meta_release(ag_meta *m) {
  if (m && --m->refcount == 0) {
    m->next_free = NULL;
    free_dead(m);
  }
}

void ag_tensor_release(ar_tensor *t) {
  ag_meta *m = t->ag;
  t->ag = NULL;
  meta_release(m);
}

void ag_handle_release(ar_tensor *t) {
  ag_meta *m = t->ag;
  if (m && m->grad.ag && m->refcount > 1) {
    /* a tensor the user can no longer reach: nothing can read its .grad, and one with a
     * history may hold the tensor through it, a cycle that would keep both alive: a
     * leaf's after backward with create_graph, any tensor's after `y.grad = y` or
     * `y.grad = y * 2` (a .grad with a history is shared only by handles read from .grad,
     * which lose it with the tensor, as its other readers would) */
    ar_tensor g = m->grad;
    m->grad = (ar_tensor){0};
    ag_drop(&g);
  }
  ag_tensor_release(t);
}

/* A view whose base got a new history from a recorded in-place write after the view was
 * taken: the view's own history still goes through the old one, which no longer matches
 * its values (writes under no_grad are not recorded and do not count, as in PyTorch). */
static bool stale_view(const ag_meta *m) {
  for (int hops = 0; m && m->is_view && m->grad_fn && hops < 64; hops++) {
    const ag_node *n = m->grad_fn;
    m = n->nin > 0 ? n->in[0] : NULL;
    if (m && m->superseded) return true;
  }
  return false;
}

int ag_record(ar_ctx *C, const ag_opdef *op, ar_tensor *out, const ar_tensor *const *in, int nin,
              ag_node **node) {
  *node = NULL;
  if (!C->grad_enabled) return AR_OK;
  int i;
  for (i = 0; i < nin; i++)
    if (ag_requires_grad(in[i])) break;
  if (i == nin) return AR_OK; /* the common inference path: nothing allocated */
  for (int k = i; k < nin; k++) {
    if (stale_view(in[k]->ag))
      return ar_seterr(C, AR_EARG,
                       "a view of a tensor that requires grad is used after an in-place write "
                       "into the tensor it views (its recorded history no longer matches its "
                       "values): take the view again after the write");
  }
  ag_block *b = block_new();
  ag_node *n = b ? &b->n : NULL;
  ag_meta **edges = nin <= 3 ? (n ? n->in_small : NULL) : calloc((size_t)nin, sizeof *edges);
  if (!b || !edges) {
    if (b) block_free(b);
    return ar_seterr(C, AR_ENOMEM, "out of memory recording the autograd graph");
  }
  ag_meta *m = &b->m;
  m->refcount = 1;
  m->ndim = out->ndim;
  memcpy(m->shape, out->shape, sizeof(int64_t) * (size_t)out->ndim);
  n->op = op;
  n->nin = nin;
  n->in = edges;
  for (i = 0; i < nin; i++) {
    if (!ag_requires_grad(in[i])) continue;
    n->in[i] = in[i]->ag;
    n->in[i]->refcount++;
  }
  m->requires_grad = true;
  m->grad_fn = n;
  if (nin == 1 && out->st == in[0]->st) { /* a view (reshape may have copied instead) */
    const ag_meta *src = in[0]->ag;
    m->view_of_leaf = src->view_of_leaf || !src->grad_fn;
    m->is_view = true;
  }
  ag_tensor_release(out);
  out->ag = m;
  *node = n;
  return AR_OK;
}

/* A node's output meta: the block it shares with the node. */
static ag_meta *node_owner(ag_node *n) {
  return &((ag_block *)(void *)((char *)n - offsetof(ag_block, n)))->m;
}

void ag_save(ag_node *n, int i, const ar_tensor *t) {
  ar_tensor *s = &n->saved[i];
  ar_share(s, t);
  n->saved_version[i] = t->st ? t->st->version : 0;
  ag_meta *m = t->ag;
  if (!m) return;
  s->ag = m;
  if (m == node_owner(n))
    n->saved_out |= 1u << i; /* counting it would keep the node alive forever */
  else
    m->refcount++;
}

void ag_ref(ar_tensor *dst, const ar_tensor *src) {
  ar_share(dst, src);
  dst->ag = src->ag;
  if (dst->ag) ((ag_meta *)dst->ag)->refcount++;
}

void ag_drop(ar_tensor *t) {
  ag_tensor_release(t);
  ar_release(t);
}

int ag_set_requires_grad(ar_ctx *C, ar_tensor *t, bool on) {
  ag_meta *m = t->ag;
  if (m && m->grad_fn)
    return ar_seterr(C, AR_EARG,
                     "you can only change requires_grad flags of leaf tensors (this one is "
                     "the result of an op; use detach() for a leaf copy)");
  if (!m) {
    if (!on) return AR_OK;
    m = meta_new(t);
    if (!m) return ar_seterr(C, AR_ENOMEM, "out of memory");
    t->ag = m;
  }
  m->requires_grad = on;
  return AR_OK;
}

const ar_tensor *ag_grad(const ar_tensor *t) {
  ag_meta *m = t->ag;
  return m && m->grad.st ? &m->grad : NULL;
}

int ag_set_grad(ar_ctx *C, ar_tensor *t, const ar_tensor *g) {
  ag_meta *m = t->ag;
  if (!g) {
    if (m) ag_drop(&m->grad);
    return AR_OK;
  }
  /* PyTorch refuses a tensor as its own grad; memory shared with the tensor (the tensor
   * itself, t:detach(), a view) is refused too: an optimiser step would then read a
   * gradient its own write to the parameter has just changed. */
  if (g->st == t->st)
    return ar_seterr(C, AR_EARG, "a tensor cannot be its own gradient (the gradient shares "
                                 "the tensor's memory: it is the tensor, a detach() or a view "
                                 "of it; assign a clone())");
  if (!ar_same_shape(t, g)) {
    char a[200], b[200];
    return ar_seterr(C, AR_ESHAPE, "the gradient must have the tensor's shape %s, got %s",
                     ar_shape_str(t->ndim, t->shape, a, sizeof a),
                     ar_shape_str(g->ndim, g->shape, b, sizeof b));
  }
  if (!m) {
    m = meta_new(t);
    if (!m) return ar_seterr(C, AR_ENOMEM, "out of memory");
    t->ag = m;
  }
  ar_tensor s;
  ag_ref(&s, g);
  if (s.ag && !((ag_meta *)s.ag)->grad_fn) ag_tensor_release(&s); /* see ag_handle_release */
  ag_drop(&m->grad);
  m->grad = s;
  return AR_OK;
}

/* ---------- the engine ---------- */

#define TRY(x)         \
  do {                 \
    rc = (x);          \
    if (rc) goto done; \
  } while (0)

/* A growable list that starts in its own inline array: small graphs allocate nothing. */
#define MLIST_INLINE 64
typedef struct {
  ag_meta **v;
  size_t n, cap;
  ag_meta *inl[MLIST_INLINE];
} mlist;

static void mlist_init(mlist *l) {
  l->v = l->inl;
  l->n = 0;
  l->cap = MLIST_INLINE;
}

static void mlist_free(mlist *l) {
  if (l->v != l->inl) free(l->v);
}

static int mlist_push(mlist *l, ag_meta *m) {
  if (l->n == l->cap) {
    size_t cap = l->cap * 2;
    ag_meta **v = malloc(cap * sizeof *v);
    if (!v) return AR_ENOMEM;
    memcpy(v, l->v, l->n * sizeof *v);
    mlist_free(l);
    l->v = v;
    l->cap = cap;
  }
  l->v[l->n++] = m;
  return AR_OK;
}

/* The first gradient to reach a leaf becomes its .grad when nothing else holds its
 * storage (a fresh, dense, whole-storage tensor): no copy. Otherwise a contiguous clone. */
static int leaf_first_grad(ar_ctx *C, ar_tensor *grad, ar_tensor *g) {
  ag_tensor_release(g); /* not recording: the gradient is a plain tensor */
  if (g->st->refcount == 1 && g->offset == 0 && ar_is_contiguous(g) &&
      g->st->nbytes == sizeof(float) * (size_t)ar_numel(g)) {
    *grad = *g;
    g->st = NULL;
    return AR_OK;
  }
  return ar_clone(C, grad, g);
}

/* *dst = an alias of g recorded as an op (a meta of its own, never a leaf's: only the
 * leaf's own handle holds a leaf meta, see ag_handle_release). Consumes g. */
static int alias_into(ar_ctx *C, ar_tensor *dst, ar_tensor *g) {
  int rc = ag_alias(C, dst, g);
  ag_drop(g);
  return rc;
}

/* A leaf's .grad += g. Without create_graph a plain .grad is summed in place (the user may
 * hold it: PyTorch accumulates in place too); with it, or when .grad is itself
 * differentiable, the sum is a new (recorded) tensor. Consumes g. */
static int leaf_accumulate(ar_ctx *C, ag_meta *m, ar_tensor *g, bool create) {
  int rc;
  if (!m->grad.st) {
    if (create && g->ag) {
      if (!((ag_meta *)g->ag)->grad_fn) /* a seed that is a leaf: .grad gets its own meta */
        return alias_into(C, &m->grad, g);
      m->grad = *g;
      g->st = NULL, g->ag = NULL;
      return AR_OK;
    }
    rc = leaf_first_grad(C, &m->grad, g);
  } else if (!create && !m->grad.ag) {
    rc = ar_axpy_(C, &m->grad, 1.0f, g);
  } else {
    ar_tensor s;
    rc = ag_binary(C, AR_ADD, &s, &m->grad, g);
    if (!rc) {
      ag_drop(&m->grad);
      m->grad = s;
    }
  }
  ag_drop(g);
  return rc;
}

/* acc += g without touching either operand's storage (a first arrival may be a view of
 * another gradient, so sums always go to a new tensor). Consumes g. */
static int accumulate(ar_ctx *C, ar_tensor *acc, ar_tensor *g) {
  if (!acc->st) {
    *acc = *g;
    g->st = NULL, g->ag = NULL;
    return AR_OK;
  }
  ar_tensor s;
  int rc = ag_binary(C, AR_ADD, &s, acc, g);
  ag_drop(g);
  if (rc) return rc;
  ag_drop(acc);
  *acc = s;
  return AR_OK;
}

static bool same_shape_as(const ar_tensor *t, const ag_meta *m) {
  return t->ndim == m->ndim && memcmp(t->shape, m->shape, sizeof(int64_t) * (size_t)m->ndim) == 0;
}

/* Every meta reachable from the roots (retained, in *seen), with how many consumers each
 * has in this graph. */
static int discover(ar_ctx *C, int nroot, ar_tensor *const *roots, mlist *seen) {
  mlist todo;
  mlist_init(&todo);
  int rc = AR_OK;
  for (int k = 0; k < nroot && !rc; k++) {
    ag_meta *r = roots[k]->ag;
    if (r->visited) continue;
    r->visited = true;
    r->refcount++;
    if ((rc = mlist_push(seen, r))) {
      r->visited = false;
      meta_release(r);
      break;
    }
    if ((rc = mlist_push(&todo, r))) break;
    while (todo.n) {
      ag_meta *m = todo.v[--todo.n];
      ag_node *n = m->grad_fn;
      if (!n) continue;
      if (n->released) {
        rc = ar_seterr(C, AR_EARG,
                       "trying to backward through the graph a second time: its saved "
                       "tensors were freed by the first backward() (use retain_graph=true)");
        break;
      }
      for (int i = 0; i < n->nin; i++) {
        ag_meta *p = n->in[i];
        if (!p) continue;
        p->deps++;
        if (p->visited) continue;
        p->visited = true;
        p->refcount++;
        if ((rc = mlist_push(seen, p))) {
          p->visited = false;
          meta_release(p);
          break;
        }
        if ((rc = mlist_push(&todo, p))) break;
      }
      if (rc) break;
    }
  }
  mlist_free(&todo);
  return rc;
}

static int check_saved(ar_ctx *C, const ag_node *n);

const char *ag_node_name(const ag_node *n) { return n->op->label ? n->op->label(n) : n->op->name; }

/* The walk itself. seeds[k] NULL: ones. With captures (ncap > 0, actrun.grad), the
 * gradients of caps[j] go to grads[j] and no .grad is touched. */
static int run_backward(ar_ctx *C, int nroot, ar_tensor *const *roots,
                        const ar_tensor *const *seeds, int ncap, const ar_tensor *const *caps,
                        ar_tensor *grads, const ag_backward_opts *o) {
  const bool create = o && o->create_graph;
  const bool retain = o && (o->retain_graph || o->create_graph);
  const bool was_enabled = C->grad_enabled;
  mlist seen, todo;
  mlist_init(&seen);
  mlist_init(&todo);
  ar_tensor gin_small[4];
  ar_tensor *gin = NULL;
  int rc = AR_OK;

  for (int j = 0; j < ncap; j++) {
    ag_meta *m = caps[j]->ag;
    if (!m->capture) m->capture = j + 1; /* the same tensor twice: the first gets it */
  }
  TRY(discover(C, nroot, roots, &seen));

  /* the seeds, summed per root (a root may be given twice) */
  C->grad_enabled = create;
  for (int k = 0; k < nroot; k++) {
    ar_tensor s;
    ag_meta *r = roots[k]->ag;
    if (seeds && seeds[k]) {
      ag_ref(&s, seeds[k]);
      if (!create) ag_tensor_release(&s);
    } else {
      TRY(ar_empty(C, &s, roots[k]->ndim, roots[k]->shape));
      ar_fill(C, &s, 1.0f);
    }
    TRY(accumulate(C, &r->gacc, &s));
  }

  /* Kahn's order: a meta is processed once all its consumers have sent their part */
  for (int k = 0; k < nroot; k++) {
    ag_meta *r = roots[k]->ag;
    if (r->deps == 0 && !r->next_free) { /* next_free marks "queued" during the walk */
      r->next_free = r;
      TRY(mlist_push(&todo, r));
    }
  }
  while (todo.n) {
    ag_meta *m = todo.v[--todo.n];
    ar_tensor g = m->gacc;
    m->gacc.st = NULL, m->gacc.ag = NULL;
    if (!g.st) TRY(ag_zeros(C, &g, m->ndim, m->shape));
    if (m->capture) {
      ar_tensor *out = &grads[m->capture - 1];
      if (create && g.ag && !((ag_meta *)g.ag)->grad_fn)
        TRY(ag_alias(C, out, &g)); /* as leaf_accumulate: no second handle on a leaf */
      else
        ag_ref(out, &g);
    }
    ag_node *n = m->grad_fn;
    if (!n) { /* a leaf: sum into .grad (unless actrun.grad asked for the gradients) */
      if (m->requires_grad && ncap == 0) rc = leaf_accumulate(C, m, &g, create);
      ag_drop(&g);
      if (rc) goto done;
      continue;
    }
    gin = n->nin <= 4 ? gin_small : calloc((size_t)n->nin, sizeof *gin);
    if (!gin) {
      ag_drop(&g);
      rc = ar_seterr(C, AR_ENOMEM, "out of memory in backward()");
      goto done;
    }
    memset(gin, 0, sizeof *gin * (size_t)n->nin);
    rc = check_saved(C, n);
    if (!rc) rc = n->op->backward(C, n, &g, gin);
    ag_drop(&g);
    for (int i = 0; i < n->nin; i++) {
      ag_meta *p = n->in[i];
      if (!p) {
        ag_drop(&gin[i]);
        continue;
      }
      if (!rc && gin[i].st && !same_shape_as(&gin[i], p)) {
        ar_tensor red;
        rc = ag_sum_to_shape(C, &red, &gin[i], p->ndim, p->shape);
        ag_drop(&gin[i]);
        if (!rc) gin[i] = red;
      }
      if (!rc && gin[i].st) rc = accumulate(C, &p->gacc, &gin[i]);
      ag_drop(&gin[i]);
      if (!rc && --p->deps == 0) {
        p->next_free = p;
        rc = mlist_push(&todo, p);
      }
    }
    if (gin != gin_small) free(gin);
    gin = NULL;
    if (rc) goto done;
    if (!retain) { /* its job is done: free what it saved and let go of its inputs (they
                    * stay alive through `seen` until the end of this walk) */
      ag_meta *dead = NULL;
      node_clear(n, &dead);
      free_dead(dead);
    }
  }

done:
  C->grad_enabled = was_enabled;
  for (int j = 0; j < ncap; j++) ((ag_meta *)caps[j]->ag)->capture = 0;
  for (size_t i = 0; i < seen.n; i++) {
    ag_meta *m = seen.v[i];
    m->visited = false;
    m->deps = 0;
    m->next_free = NULL;
    ag_drop(&m->gacc);
  }
  for (size_t i = 0; i < seen.n; i++) meta_release(seen.v[i]);
  mlist_free(&seen);
  mlist_free(&todo);
  return rc;
}

/* PyTorch's rule: a tensor a backward needs must not have been written in place since it
 * was saved (the gradient would silently be computed from the new values). */
static int check_saved(ar_ctx *C, const ag_node *n) {
  for (int i = 0; i < AG_MAXSAVED; i++) {
    const ar_tensor *t = &n->saved[i];
    if (t->st && t->st->version != n->saved_version[i])
      return ar_seterr(C, AR_EARG,
                       "a tensor needed for backward was modified by an in-place operation "
                       "(saved by %s at version %llu, now version %llu)",
                       ag_node_name(n), (unsigned long long)n->saved_version[i],
                       (unsigned long long)t->st->version);
  }
  return AR_OK;
}

/* The checks both entry points make on an output and its seed. */
static int check_root(ar_ctx *C, const ar_tensor *root, const ar_tensor *seed, const char *what) {
  char s1[200], s2[200];
  ag_meta *r = root->ag;
  if (!r || !r->requires_grad)
    return ar_seterr(C, AR_EARG, "%s does not require grad and has no grad_fn", what);
  if (!seed && ar_numel(root) != 1)
    return ar_seterr(C, AR_EARG,
                     "grad can be implicitly created only for a tensor with one element, "
                     "got shape %s for %s",
                     ar_shape_str(root->ndim, root->shape, s1, sizeof s1), what);
  if (seed && !ar_same_shape(root, seed))
    return ar_seterr(C, AR_ESHAPE, "the gradient of %s must have its shape %s, got %s", what,
                     ar_shape_str(root->ndim, root->shape, s1, sizeof s1),
                     ar_shape_str(seed->ndim, seed->shape, s2, sizeof s2));
  return AR_OK;
}

int ag_backward(ar_ctx *C, ar_tensor *root, const ar_tensor *seed, const ag_backward_opts *opts) {
  int rc = check_root(C, root, seed, "the tensor");
  if (rc) return rc;
  return run_backward(C, 1, &root, &seed, 0, NULL, NULL, opts);
}

int ag_grad_of(ar_ctx *C, int nout, ar_tensor *const *outputs, const ar_tensor *const *seeds,
               int nin, const ar_tensor *const *inputs, ar_tensor *grads,
               const ag_backward_opts *opts) {
  char what[64];
  for (int j = 0; j < nin; j++) grads[j] = (ar_tensor){0};
  for (int k = 0; k < nout; k++) {
    snprintf(what, sizeof what, "output %d", k + 1);
    int rc = check_root(C, outputs[k], seeds ? seeds[k] : NULL, what);
    if (rc) return rc;
  }
  for (int j = 0; j < nin; j++)
    if (!ag_requires_grad(inputs[j]))
      return ar_seterr(C, AR_EARG, "input %d does not require grad", j + 1);
  int rc = run_backward(C, nout, outputs, seeds, nin, inputs, grads, opts);
  for (int j = 0; j < nin && !rc; j++) {
    if (grads[j].st || (opts && opts->allow_unused)) continue;
    rc = ar_seterr(C, AR_EARG,
                   "input %d was not used in the graph of the outputs (pass "
                   "allow_unused=true to get nil for it)",
                   j + 1);
  }
  if (rc)
    for (int j = 0; j < nin; j++) ag_drop(&grads[j]);
  return rc;
}
