/* Reverse-mode autograd: metas, nodes, the backward engine, and one backward per op
 * (listed in ag_ops next to the forward it mirrors). See autograd.h. */
#include "autograd/autograd.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "act/act.h"
#include "act/host.h"
#include "optim/loss.h"
#include "core/conv.h"
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

/* Drops the saved tensors and the edges (queued on *dead when their count reaches 0). */
static void node_clear(ag_node *n, ag_meta **dead) {
  for (int i = 0; i < AG_MAXSAVED; i++) ar_release(&n->saved[i]);
  for (int i = 0; i < n->nin; i++) {
    ag_meta *p = n->in[i];
    n->in[i] = NULL;
    if (p && --p->refcount == 0) {
      p->next_free = *dead;
      *dead = p;
    }
  }
  n->released = true;
}

/* Frees metas whose count reached 0, and everything they alone kept alive, with an
 * intrusive worklist instead of recursion (a chain of 10^5 ops is a chain of 10^5 frees). */
static void free_dead(ag_meta *dead) {
  while (dead) {
    ag_meta *m = dead;
    dead = m->next_free;
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

int ag_record(ar_ctx *C, ag_op op, ar_tensor *out, const ar_tensor *const *in, int nin,
              ag_node **node) {
  *node = NULL;
  if (!C->grad_enabled) return AR_OK;
  int i;
  for (i = 0; i < nin; i++)
    if (ag_requires_grad(in[i])) break;
  if (i == nin) return AR_OK; /* the common inference path: nothing allocated */
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
  }
  ag_tensor_release(out);
  out->ag = m;
  *node = n;
  return AR_OK;
}

void ag_save(ag_node *n, int i, const ar_tensor *t) { ar_share(&n->saved[i], t); }

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
    if (m) ar_release(&m->grad);
    return AR_OK;
  }
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
  ar_share(&s, g);
  ar_release(&m->grad);
  m->grad = s;
  return AR_OK;
}

/* ---------- helpers for the backward functions ---------- */

#define TRY(x)         \
  do {                 \
    rc = (x);          \
    if (rc) goto done; \
  } while (0)

static int zeros_of(ar_ctx *C, ar_tensor *out, int ndim, const int64_t *shape) {
  int rc = ar_empty(C, out, ndim, shape);
  if (!rc) rc = ar_fill(C, out, 0.0f);
  if (rc) ar_release(out);
  return rc;
}

int ag_reduce_to_shape(ar_ctx *C, ar_tensor *out, const ar_tensor *g, int ndim,
                       const int64_t *shape) {
  ar_tensor cur, r;
  int rc = AR_OK;
  ar_share(&cur, g);
  while (cur.ndim > ndim) { /* broadcast added leading dims */
    TRY(ar_reduce(C, AR_SUM, &r, &cur, 0, false, 2.0, 0));
    ar_release(&cur);
    cur = r;
  }
  for (int d = 0; d < ndim && d < cur.ndim; d++) {
    if (shape[d] == 1 && cur.shape[d] != 1) {
      TRY(ar_reduce(C, AR_SUM, &r, &cur, d, true, 2.0, 0));
      ar_release(&cur);
      cur = r;
    }
  }
  if (cur.ndim != ndim || memcmp(cur.shape, shape, sizeof(int64_t) * (size_t)ndim) != 0) {
    TRY(ar_reshape(C, &r, &cur, ndim, shape));
    ar_release(&cur);
    cur = r;
  }
  *out = cur;
  return AR_OK;
done:
  ar_release(&cur);
  out->st = NULL;
  return rc;
}

/* gout of a reduction, reshaped as if keepdim had been true (dims of size 1 kept). */
static int keep_shape(ar_ctx *C, ar_tensor *out, const ar_tensor *g, const ag_meta *in, int dim) {
  int64_t ks[AR_MAXDIM];
  for (int d = 0; d < in->ndim; d++) ks[d] = (dim < 0 || d == dim) ? 1 : in->shape[d];
  return ar_reshape(C, out, g, in->ndim, ks);
}

static int mul(ar_ctx *C, ar_tensor *o, const ar_tensor *a, const ar_tensor *b) {
  return ar_binary(C, AR_MUL, o, a, b);
}
static int muls(ar_ctx *C, ar_tensor *o, const ar_tensor *a, float s) {
  return ar_binary_scalar(C, AR_MUL, o, a, s, false);
}

/* ---------- backward functions, in ag_op order ---------- */

static int bw_identity(ar_ctx *C, ag_node *n, const ar_tensor *g, ar_tensor *gin) {
  for (int i = 0; i < n->nin; i++)
    if (n->in[i]) ar_share(&gin[i], g);
  return AR_OK;
}

static int bw_sub(ar_ctx *C, ag_node *n, const ar_tensor *g, ar_tensor *gin) {
  int rc = AR_OK;
  if (n->in[0]) ar_share(&gin[0], g);
  if (n->in[1]) rc = ar_unary(C, AR_NEG, &gin[1], g);
  return rc;
}

static int bw_mul(ar_ctx *C, ag_node *n, const ar_tensor *g, ar_tensor *gin) {
  int rc = AR_OK;
  if (n->in[0]) TRY(mul(C, &gin[0], g, &n->saved[1]));
  if (n->in[1]) TRY(mul(C, &gin[1], g, &n->saved[0]));
done:
  return rc;
}

/* saved: b, out.  d(a/b)/da = 1/b, d/db = -out/b */
static int bw_div(ar_ctx *C, ag_node *n, const ar_tensor *g, ar_tensor *gin) {
  int rc = AR_OK;
  ar_tensor t = {0}, u = {0};
  if (n->in[0]) TRY(ar_binary(C, AR_DIV, &gin[0], g, &n->saved[0]));
  if (n->in[1]) {
    TRY(mul(C, &t, g, &n->saved[1]));
    TRY(ar_binary(C, AR_DIV, &u, &t, &n->saved[0]));
    TRY(ar_unary(C, AR_NEG, &gin[1], &u));
  }
done:
  ar_release(&t);
  ar_release(&u);
  return rc;
}

/* saved: a, b, out.  d/da = b * a^(b-1), d/db = out * log(a) */
static int bw_pow(ar_ctx *C, ag_node *n, const ar_tensor *g, ar_tensor *gin) {
  int rc = AR_OK;
  ar_tensor t = {0}, u = {0}, v = {0};
  if (n->in[0]) {
    TRY(ar_binary_scalar(C, AR_SUB, &t, &n->saved[1], 1.0f, false));
    TRY(ar_binary(C, AR_POW, &u, &n->saved[0], &t));
    TRY(mul(C, &v, &u, &n->saved[1]));
    TRY(mul(C, &gin[0], g, &v));
    ar_release(&t), ar_release(&u), ar_release(&v);
  }
  if (n->in[1]) {
    TRY(ar_unary(C, AR_LOG, &t, &n->saved[0]));
    TRY(mul(C, &u, &t, &n->saved[2]));
    TRY(mul(C, &gin[1], g, &u));
  }
done:
  ar_release(&t), ar_release(&u), ar_release(&v);
  return rc;
}

/* maximum/minimum: the gradient goes to the selected side; ties split it evenly (as
 * PyTorch). saved: a, b (or a and the scalar in dv[0]). */
static int select_mask(ar_ctx *C, ar_tensor *mask, bool is_max, const ar_tensor *a,
                       const ar_tensor *b, float s, bool scalar) {
  ar_tensor w = {0}, e = {0}, h = {0};
  int rc = AR_OK;
  ar_binop win = is_max ? AR_GT : AR_LT;
  if (scalar) {
    TRY(ar_binary_scalar(C, win, &w, a, s, false));
    TRY(ar_binary_scalar(C, AR_EQ, &e, a, s, false));
  } else {
    TRY(ar_binary(C, win, &w, a, b));
    TRY(ar_binary(C, AR_EQ, &e, a, b));
  }
  TRY(muls(C, &h, &e, 0.5f));
  TRY(ar_binary(C, AR_ADD, mask, &w, &h));
done:
  ar_release(&w), ar_release(&e), ar_release(&h);
  return rc;
}

static int bw_maxmin2(ar_ctx *C, ag_node *n, const ar_tensor *g, ar_tensor *gin) {
  bool is_max = n->op == AG_MAXIMUM;
  ar_tensor ma = {0}, mb = {0};
  int rc = AR_OK;
  if (n->in[0]) {
    TRY(select_mask(C, &ma, is_max, &n->saved[0], &n->saved[1], 0, false));
    TRY(mul(C, &gin[0], g, &ma));
  }
  if (n->in[1]) {
    TRY(select_mask(C, &mb, is_max, &n->saved[1], &n->saved[0], 0, false));
    TRY(mul(C, &gin[1], g, &mb));
  }
done:
  ar_release(&ma), ar_release(&mb);
  return rc;
}

static int bw_scalar_ops(ar_ctx *C, ag_node *n, const ar_tensor *g, ar_tensor *gin) {
  float s = (float)n->dv[0];
  ar_tensor t = {0}, u = {0};
  int rc = AR_OK;
  switch (n->op) {
    case AG_ADD_S:
    case AG_SUB_S:
      ar_share(&gin[0], g);
      break;
    case AG_RSUB_S:
      TRY(ar_unary(C, AR_NEG, &gin[0], g));
      break;
    case AG_MUL_S:
      TRY(muls(C, &gin[0], g, s));
      break;
    case AG_DIV_S:
      TRY(ar_binary_scalar(C, AR_DIV, &gin[0], g, s, false));
      break;
    case AG_RDIV_S: /* s / a: -out / a; saved a, out */
      TRY(mul(C, &t, g, &n->saved[1]));
      TRY(ar_binary(C, AR_DIV, &u, &t, &n->saved[0]));
      TRY(ar_unary(C, AR_NEG, &gin[0], &u));
      break;
    case AG_POW_S: /* a^s: s * a^(s-1); saved a */
      TRY(ar_binary_scalar(C, AR_POW, &t, &n->saved[0], s - 1.0f, false));
      TRY(muls(C, &u, &t, s));
      TRY(mul(C, &gin[0], g, &u));
      break;
    case AG_RPOW_S: /* s^a: out * log(s); saved out */
      TRY(muls(C, &t, &n->saved[1], (float)log(n->dv[0])));
      TRY(mul(C, &gin[0], g, &t));
      break;
    case AG_MAXIMUM_S:
    case AG_MINIMUM_S:
      TRY(select_mask(C, &t, n->op == AG_MAXIMUM_S, &n->saved[0], NULL, s, true));
      TRY(mul(C, &gin[0], g, &t));
      break;
    default:
      rc = ar_seterr(C, AR_EARG, "internal: not a scalar op");
  }
done:
  ar_release(&t), ar_release(&u);
  return rc;
}

/* Elementwise math; saved[0] = input a, saved[1] = output. */
static int bw_unary(ar_ctx *C, ag_node *n, const ar_tensor *g, ar_tensor *gin) {
  const ar_tensor *a = &n->saved[0], *y = &n->saved[1];
  ar_tensor t = {0}, u = {0};
  int rc = AR_OK;
  switch (n->op) {
    case AG_NEG:
      TRY(ar_unary(C, AR_NEG, &gin[0], g));
      break;
    case AG_EXP:
      TRY(mul(C, &gin[0], g, y));
      break;
    case AG_LOG:
      TRY(ar_binary(C, AR_DIV, &gin[0], g, a));
      break;
    case AG_SQRT: /* 0.5 / sqrt(a) */
      TRY(ar_binary(C, AR_DIV, &t, g, y));
      TRY(muls(C, &gin[0], &t, 0.5f));
      break;
    case AG_ABS:
      TRY(ar_unary(C, AR_SIGN, &t, a));
      TRY(mul(C, &gin[0], g, &t));
      break;
    case AG_SIN:
      TRY(ar_unary(C, AR_COS, &t, a));
      TRY(mul(C, &gin[0], g, &t));
      break;
    case AG_COS:
      TRY(ar_unary(C, AR_SIN, &t, a));
      TRY(mul(C, &u, g, &t));
      TRY(ar_unary(C, AR_NEG, &gin[0], &u));
      break;
    case AG_TANH: /* 1 - y^2 */
      TRY(ar_unary(C, AR_SQUARE, &t, y));
      TRY(ar_binary_scalar(C, AR_SUB, &u, &t, 1.0f, true));
      TRY(mul(C, &gin[0], g, &u));
      break;
    case AG_SIGMOID: /* y (1 - y) */
      TRY(ar_binary_scalar(C, AR_SUB, &t, y, 1.0f, true));
      TRY(mul(C, &u, &t, y));
      TRY(mul(C, &gin[0], g, &u));
      break;
    case AG_RECIP: /* -y^2 */
      TRY(ar_unary(C, AR_SQUARE, &t, y));
      TRY(mul(C, &u, g, &t));
      TRY(ar_unary(C, AR_NEG, &gin[0], &u));
      break;
    case AG_SQUARE:
      TRY(mul(C, &t, g, a));
      TRY(muls(C, &gin[0], &t, 2.0f));
      break;
    case AG_ZERO_GRAD:
      TRY(zeros_of(C, &gin[0], n->in[0]->ndim, n->in[0]->shape));
      break;
    case AG_CLAMP: /* 1 where lo <= a <= hi (bounds included, as PyTorch) */
      TRY(ar_binary_scalar(C, AR_GE, &t, a, (float)n->dv[0], false));
      TRY(ar_binary_scalar(C, AR_LE, &u, a, (float)n->dv[1], false));
      TRY(ar_binary_(C, AR_MUL, &t, &u));
      TRY(mul(C, &gin[0], g, &t));
      break;
    default:
      rc = ar_seterr(C, AR_EARG, "internal: not a unary op");
  }
done:
  ar_release(&t), ar_release(&u);
  return rc;
}

/* Reductions: iv[0] dim (-1: all), iv[2] correction, dv[0] the norm's p;
 * saved[0] = a, saved[1] = out. */
static int bw_reduce(ar_ctx *C, ag_node *n, const ar_tensor *g, ar_tensor *gin) {
  const ag_meta *in = n->in[0];
  const ar_tensor *a = &n->saved[0];
  int dim = (int)n->iv[0];
  ar_tensor gk = {0}, yk = {0}, t = {0}, u = {0}, v = {0};
  int rc = AR_OK;
  int64_t numel = 1;
  for (int d = 0; d < in->ndim; d++) numel *= in->shape[d];
  int64_t N = dim < 0 ? numel : in->shape[dim];
  TRY(keep_shape(C, &gk, g, in, dim));
  if (n->saved[1].st) TRY(keep_shape(C, &yk, &n->saved[1], in, dim));
  switch (n->op) {
    case AG_SUM:
      TRY(ar_expand(C, &gin[0], &gk, in->ndim, in->shape));
      break;
    case AG_MEAN:
      TRY(muls(C, &t, &gk, N ? 1.0f / (float)N : 0.0f));
      TRY(ar_expand(C, &gin[0], &t, in->ndim, in->shape));
      break;
    case AG_VAR:
    case AG_STD: { /* var: 2 (a - mean) / (N - c); std: that / (2 std) */
      double denom = (double)(N - n->iv[2]);
      TRY(ar_reduce(C, AR_MEAN, &t, a, dim, true, 2.0, 0));
      TRY(ar_binary(C, AR_SUB, &u, a, &t));
      ar_release(&t);
      if (n->op == AG_VAR) {
        TRY(muls(C, &t, &gk, (float)(2.0 / denom)));
      } else {
        TRY(ar_binary(C, AR_DIV, &v, &gk, &yk));
        TRY(muls(C, &t, &v, (float)(1.0 / denom)));
      }
      TRY(mul(C, &gin[0], &u, &t));
      break;
    }
    case AG_NORM: {
      double p = n->dv[0];
      if (isinf(p)) { /* to the elements of largest magnitude, split evenly among ties */
        TRY(ar_unary(C, AR_ABS, &t, a));
        TRY(ar_binary(C, AR_EQ, &u, &t, &yk));
        ar_release(&t);
        TRY(ar_reduce(C, AR_SUM, &t, &u, dim, true, 2.0, 0));
        TRY(ar_binary(C, AR_DIV, &v, &u, &t));
        ar_release(&t), ar_release(&u);
        TRY(ar_unary(C, AR_SIGN, &t, a));
        TRY(mul(C, &u, &t, &v));
        TRY(mul(C, &gin[0], &u, &gk));
      } else if (p == 0) {
        TRY(zeros_of(C, &gin[0], in->ndim, in->shape));
      } else { /* sign(a) |a|^(p-1) / norm^(p-1) */
        TRY(ar_unary(C, AR_ABS, &t, a));
        TRY(ar_binary_scalar(C, AR_POW, &u, &t, (float)(p - 1), false));
        ar_release(&t);
        TRY(ar_binary_scalar(C, AR_POW, &t, &yk, (float)(p - 1), false));
        TRY(ar_binary(C, AR_DIV, &v, &u, &t));
        ar_release(&t), ar_release(&u);
        TRY(ar_unary(C, AR_SIGN, &t, a));
        TRY(mul(C, &u, &t, &v));
        TRY(mul(C, &gin[0], &u, &gk));
      }
      break;
    }
    case AG_PROD: /* out / a: the inputs must be non-zero */
      TRY(ar_binary(C, AR_DIV, &t, &yk, a));
      TRY(mul(C, &gin[0], &t, &gk));
      break;
    case AG_MAXMIN_ALL: /* PyTorch's full max/min: split evenly among tied extrema */
      TRY(ar_binary(C, AR_EQ, &t, a, &yk));
      TRY(ar_reduce(C, AR_SUM, &u, &t, -1, false, 2.0, 0));
      TRY(ar_binary(C, AR_DIV, &v, &gk, &u));
      TRY(mul(C, &gin[0], &t, &v));
      break;
    default:
      rc = ar_seterr(C, AR_EARG, "internal: not a reduction");
  }
done:
  ar_release(&gk), ar_release(&yk), ar_release(&t), ar_release(&u), ar_release(&v);
  return rc;
}

/* max/min along a dim: the gradient goes to the returned (1-based) index.
 * iv[0] dim; saved[0] = the index tensor. */
static int bw_maxmin_dim(ar_ctx *C, ag_node *n, const ar_tensor *g, ar_tensor *gin) {
  const ag_meta *in = n->in[0];
  int dim = (int)n->iv[0];
  ar_tensor gk = {0}, ik = {0}, r = {0}, rv = {0}, mask = {0};
  int rc = AR_OK;
  int64_t rs[AR_MAXDIM];
  for (int d = 0; d < in->ndim; d++) rs[d] = d == dim ? in->shape[d] : 1;
  TRY(keep_shape(C, &gk, g, in, dim));
  TRY(keep_shape(C, &ik, &n->saved[0], in, dim));
  TRY(ar_range(C, &r, 1, (double)in->shape[dim], 1));
  TRY(ar_reshape(C, &rv, &r, in->ndim, rs));
  TRY(ar_binary(C, AR_EQ, &mask, &rv, &ik)); /* one-hot along dim */
  TRY(mul(C, &gin[0], &mask, &gk));
done:
  ar_release(&gk), ar_release(&ik), ar_release(&r), ar_release(&rv), ar_release(&mask);
  return rc;
}

/* matmul: 1-D operands are promoted to matrices ({k} -> {1,k} on the left, {k,1} on the
 * right), then dA = G B^T and dB = A^T G with transposed views (no copies); batch dims
 * broadcast from a 2-D side are summed by the engine. saved: a, b. */
/* y = x w^T + b: dx = g w, dw = g^T x, db = the column sums of g. */
static int bw_linear(ar_ctx *C, ag_node *n, const ar_tensor *g, ar_tensor *gin) {
  const ar_tensor *x = &n->saved[0], *w = &n->saved[1];
  int rc = AR_OK;
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
    if (ar_is_contiguous(g) && g->shape[1] <= 1024) {
      /* the bias gradient: column sums of a dense g in double, as ar_reduce takes them,
       * without its general strided machinery (most of a small layer's backward) */
      const int64_t rows = g->shape[0], cols = g->shape[1];
      double acc[1024];
      for (int64_t j = 0; j < cols; j++) acc[j] = 0.0;
      const float *gd = ar_data(g);
      for (int64_t i = 0; i < rows; i++) {
        const float *row = gd + i * cols;
        for (int64_t j = 0; j < cols; j++) acc[j] += row[j];
      }
      TRY(ar_empty(C, &gin[2], 1, &cols));
      float *db = ar_data(&gin[2]);
      for (int64_t j = 0; j < cols; j++) db[j] = (float)acc[j];
    } else {
      TRY(ar_reduce(C, AR_SUM, &gin[2], g, 0, false, 0, 0));
    }
  }
done:
  return rc;
}

static int bw_matmul(ar_ctx *C, ag_node *n, const ar_tensor *g, ar_tensor *gin) {
  const ar_tensor *a = &n->saved[0], *b = &n->saved[1];
  ar_tensor A = {0}, B = {0}, G = {0}, T = {0}, R = {0};
  int rc = AR_OK;
  if (a->ndim == 1) {
    int64_t s[2] = {1, a->shape[0]};
    TRY(ar_view(C, &A, a, 2, s));
  } else {
    ar_share(&A, a);
  }
  if (b->ndim == 1) {
    int64_t s[2] = {b->shape[0], 1};
    TRY(ar_view(C, &B, b, 2, s));
  } else {
    ar_share(&B, b);
  }
  int64_t gs[3];
  int gn = 0;
  if (A.ndim == 3 || B.ndim == 3) gs[gn++] = A.ndim == 3 ? A.shape[0] : B.shape[0];
  gs[gn++] = A.shape[A.ndim - 2];
  gs[gn++] = B.shape[B.ndim - 1];
  TRY(ar_reshape(C, &G, g, gn, gs));
  if (n->in[0]) {
    TRY(ar_transpose(C, &T, &B, B.ndim - 2, B.ndim - 1));
    TRY(ar_matmul(C, &R, &G, &T));
    ar_release(&T);
    TRY(ag_reduce_to_shape(C, &T, &R, A.ndim, A.shape));
    TRY(ar_reshape(C, &gin[0], &T, a->ndim, a->shape));
    ar_release(&T), ar_release(&R);
  }
  if (n->in[1]) {
    TRY(ar_transpose(C, &T, &A, A.ndim - 2, A.ndim - 1));
    TRY(ar_matmul(C, &R, &T, &G));
    ar_release(&T);
    TRY(ag_reduce_to_shape(C, &T, &R, B.ndim, B.shape));
    TRY(ar_reshape(C, &gin[1], &T, b->ndim, b->shape));
  }
done:
  ar_release(&A), ar_release(&B), ar_release(&G), ar_release(&T), ar_release(&R);
  return rc;
}

static int bw_reshape(ar_ctx *C, ag_node *n, const ar_tensor *g, ar_tensor *gin) {
  return ar_reshape(C, &gin[0], g, n->in[0]->ndim, n->in[0]->shape);
}

static int bw_transpose(ar_ctx *C, ag_node *n, const ar_tensor *g, ar_tensor *gin) {
  return ar_transpose(C, &gin[0], g, (int)n->iv[0], (int)n->iv[1]);
}

/* narrow/select: the gradient lands in the slice of a zero tensor of the input's shape.
 * iv: dim, start (or index), length. */
static int bw_slice(ar_ctx *C, ag_node *n, const ar_tensor *g, ar_tensor *gin) {
  ar_tensor z = {0}, v = {0};
  int rc = AR_OK;
  TRY(zeros_of(C, &z, n->in[0]->ndim, n->in[0]->shape));
  if (n->op == AG_NARROW)
    TRY(ar_narrow(C, &v, &z, (int)n->iv[0], n->iv[1], n->iv[2]));
  else
    TRY(ar_select(C, &v, &z, (int)n->iv[0], n->iv[1]));
  TRY(ar_copy_(C, &v, g));
  gin[0] = z;
  z.st = NULL;
done:
  ar_release(&z), ar_release(&v);
  return rc;
}

/* cat: each input gets its stretch of the gradient along dim; stack: its slice. */
static int bw_join(ar_ctx *C, ag_node *n, const ar_tensor *g, ar_tensor *gin) {
  int dim = (int)n->iv[0];
  if (n->op == AG_CAT && !n->sizes) /* recording ran out of memory half-way */
    return ar_seterr(C, AR_ENOMEM, "cat: the sizes of the inputs were not recorded");
  int64_t off = 0;
  for (int i = 0; i < n->nin; i++) {
    int rc = AR_OK;
    if (n->in[i])
      rc = n->op == AG_CAT ? ar_narrow(C, &gin[i], g, dim, off, n->sizes[i])
                           : ar_select(C, &gin[i], g, dim, i);
    if (rc) return rc;
    if (n->op == AG_CAT) off += n->sizes[i];
  }
  return AR_OK;
}

/* Registry activations: dx = dy f'(x) from the entry's kernel. saved x; dv params. With
 * iv[0] = 1 (the entry's fused forward ran), saved is f'(x) itself and dx = dy * f'(x):
 * the backward kernels compute that same product, so the bits are the same. */
static int bw_act(ar_ctx *C, ag_node *n, const ar_tensor *g, ar_tensor *gin) {
  ar_tensor dy;
  int rc = ar_contiguous(C, &dy, g);
  if (rc) return rc;
  if (n->iv[0])
    rc = ar_binary(C, AR_MUL, &gin[0], &dy, &n->saved[0]);
  else
    rc = act_backward(C, n->ptr, &gin[0], &n->saved[0], &dy, n->dv);
  ar_release(&dy);
  return rc;
}

/* A host activation: dx = dy * f'(x) through the host's derivative kernel. saved x. */
static int bw_hostact(ar_ctx *C, ag_node *n, const ar_tensor *g, ar_tensor *gin) {
  ar_tensor dy;
  int rc = ar_contiguous(C, &dy, g);
  if (rc) return rc;
  rc = act_host_backward(C, n->ptr, &gin[0], &n->saved[0], &dy);
  ar_release(&dy);
  return rc;
}

/* PReLU with a slope tensor: gradients to x and to the slope. saved x, w. */
static int bw_prelu(ar_ctx *C, ag_node *n, const ar_tensor *g, ar_tensor *gin) {
  ar_tensor dy, dx, dw;
  int rc = ar_contiguous(C, &dy, g);
  if (rc) return rc;
  rc = act_prelu_backward(C, &dx, &dw, &n->saved[0], &n->saved[1], &dy);
  ar_release(&dy);
  if (rc) return rc;
  if (n->in[0])
    gin[0] = dx;
  else
    ar_release(&dx);
  if (n->in[1])
    gin[1] = dw;
  else
    ar_release(&dw);
  return AR_OK;
}

/* softmax/log_softmax from the output. saved y; iv[0] dim, iv[1] log. */
static int bw_softmax(ar_ctx *C, ag_node *n, const ar_tensor *g, ar_tensor *gin) {
  ar_tensor dy;
  int rc = ar_contiguous(C, &dy, g);
  if (rc) return rc;
  rc = act_softmax_backward(C, &gin[0], &n->saved[0], &dy, (int)n->iv[0], n->iv[1] != 0);
  ar_release(&dy);
  return rc;
}

/* nll / cross entropy: gout has one element (the loss is a mean). */
static int bw_nll_loss(ar_ctx *C, ag_node *n, const ar_tensor *g, ar_tensor *gin) {
  ar_tensor gc;
  int rc = ar_contiguous(C, &gc, g);
  if (rc) return rc;
  float go = ar_data(&gc)[0];
  ar_release(&gc);
  return ar_nll_loss_backward(C, &gin[0], &n->saved[0], &n->saved[1], n->iv[0] != 0, go);
}

/* mean squared error: gout has one element; t's gradient is y's negated. */
static int bw_mse_loss(ar_ctx *C, ag_node *n, const ar_tensor *g, ar_tensor *gin) {
  float go = g->st->data[g->offset];
  int rc = AR_OK;
  if (n->in[0]) TRY(ar_mse_loss_backward(C, &gin[0], &n->saved[0], &n->saved[1], go, 1.0f));
  if (n->in[1]) TRY(ar_mse_loss_backward(C, &gin[1], &n->saved[0], &n->saved[1], go, -1.0f));
done:
  return rc;
}

/* The op table: what each node mirrors and how it differentiates. */
/* conv2d: dx, dW, db from the saved input and weight, only those whose input needs one */
static int bw_conv2d(ar_ctx *C, ag_node *n, const ar_tensor *g, ar_tensor *gin) {
  const ar_conv_params p = {n->iv[0], n->iv[1], n->iv[2], n->iv[3]};
  return ar_conv2d_backward(C, g, &n->saved[0], &n->saved[1], &p, n->in[0] ? &gin[0] : NULL,
                            n->in[1] ? &gin[1] : NULL,
                            n->nin > 2 && n->in[2] ? &gin[2] : NULL);
}

/* max_pool2d: the gradient goes to each window's recorded maximum */
static int bw_maxpool2d(ar_ctx *C, ag_node *n, const ar_tensor *g, ar_tensor *gin) {
  const ag_meta *in = n->in[0];
  if (!in || in->ndim != 4) return AR_OK;
  return ar_maxpool2d_backward(C, &gin[0], g, &n->saved[0], in->shape);
}

const ag_opdef ag_ops[AG_OP_COUNT] = {
    [AG_IDENTITY] = {"identity", "ar_clone / ar_share", bw_identity},
    [AG_ADD] = {"add", "ar_binary(AR_ADD)", bw_identity},
    [AG_SUB] = {"sub", "ar_binary(AR_SUB)", bw_sub},
    [AG_MUL] = {"mul", "ar_binary(AR_MUL)", bw_mul},
    [AG_DIV] = {"div", "ar_binary(AR_DIV)", bw_div},
    [AG_POW] = {"pow", "ar_binary(AR_POW)", bw_pow},
    [AG_MAXIMUM] = {"maximum", "ar_binary(AR_MAXIMUM)", bw_maxmin2},
    [AG_MINIMUM] = {"minimum", "ar_binary(AR_MINIMUM)", bw_maxmin2},
    [AG_ADD_S] = {"add_scalar", "ar_binary_scalar(AR_ADD)", bw_scalar_ops},
    [AG_SUB_S] = {"sub_scalar", "ar_binary_scalar(AR_SUB)", bw_scalar_ops},
    [AG_RSUB_S] = {"rsub_scalar", "ar_binary_scalar(AR_SUB, left)", bw_scalar_ops},
    [AG_MUL_S] = {"mul_scalar", "ar_binary_scalar(AR_MUL)", bw_scalar_ops},
    [AG_DIV_S] = {"div_scalar", "ar_binary_scalar(AR_DIV)", bw_scalar_ops},
    [AG_RDIV_S] = {"rdiv_scalar", "ar_binary_scalar(AR_DIV, left)", bw_scalar_ops},
    [AG_POW_S] = {"pow_scalar", "ar_binary_scalar(AR_POW)", bw_scalar_ops},
    [AG_RPOW_S] = {"rpow_scalar", "ar_binary_scalar(AR_POW, left)", bw_scalar_ops},
    [AG_MAXIMUM_S] = {"maximum_scalar", "ar_binary_scalar(AR_MAXIMUM)", bw_scalar_ops},
    [AG_MINIMUM_S] = {"minimum_scalar", "ar_binary_scalar(AR_MINIMUM)", bw_scalar_ops},
    [AG_NEG] = {"neg", "ar_unary(AR_NEG)", bw_unary},
    [AG_EXP] = {"exp", "ar_unary(AR_EXP)", bw_unary},
    [AG_LOG] = {"log", "ar_unary(AR_LOG)", bw_unary},
    [AG_SQRT] = {"sqrt", "ar_unary(AR_SQRT)", bw_unary},
    [AG_ABS] = {"abs", "ar_unary(AR_ABS)", bw_unary},
    [AG_SIN] = {"sin", "ar_unary(AR_SIN)", bw_unary},
    [AG_COS] = {"cos", "ar_unary(AR_COS)", bw_unary},
    [AG_TANH] = {"tanh", "ar_unary(AR_TANH)", bw_unary},
    [AG_SIGMOID] = {"sigmoid", "ar_unary(AR_SIGMOID)", bw_unary},
    [AG_RECIP] = {"reciprocal", "ar_unary(AR_RECIP)", bw_unary},
    [AG_SQUARE] = {"square", "ar_unary(AR_SQUARE)", bw_unary},
    [AG_ZERO_GRAD] = {"piecewise_constant", "ar_unary(AR_SIGN/FLOOR/CEIL/ROUND)", bw_unary},
    [AG_CLAMP] = {"clamp", "ar_clamp", bw_unary},
    [AG_SUM] = {"sum", "ar_reduce(AR_SUM)", bw_reduce},
    [AG_MEAN] = {"mean", "ar_reduce(AR_MEAN)", bw_reduce},
    [AG_VAR] = {"var", "ar_reduce(AR_VAR)", bw_reduce},
    [AG_STD] = {"std", "ar_reduce(AR_STD)", bw_reduce},
    [AG_NORM] = {"norm", "ar_reduce(AR_NORM)", bw_reduce},
    [AG_PROD] = {"prod", "ar_reduce(AR_PROD)", bw_reduce},
    [AG_MAXMIN_ALL] = {"max_min", "ar_reduce(AR_RMAX/AR_RMIN)", bw_reduce},
    [AG_MAXMIN_DIM] = {"max_min_dim", "ar_maxmin_dim", bw_maxmin_dim},
    [AG_MATMUL] = {"matmul", "ar_matmul", bw_matmul},
    [AG_RESHAPE] = {"reshape", "ar_reshape/view/flatten/squeeze/unsqueeze", bw_reshape},
    [AG_TRANSPOSE] = {"transpose", "ar_transpose", bw_transpose},
    [AG_NARROW] = {"narrow", "ar_narrow", bw_slice},
    [AG_SELECT] = {"select", "ar_select", bw_slice},
    [AG_EXPAND] = {"expand", "ar_expand", bw_identity},
    [AG_CAT] = {"cat", "ar_cat", bw_join},
    [AG_STACK] = {"stack", "ar_stack", bw_join},
    [AG_ACT] = {"activation", "act_forward", bw_act},
    [AG_PRELU] = {"prelu", "act_prelu_forward", bw_prelu},
    [AG_SOFTMAX] = {"softmax", "act_softmax", bw_softmax},
    [AG_NLL_LOSS] = {"nll_loss", "ar_nll_loss", bw_nll_loss},
    [AG_MSE_LOSS] = {"mse_loss", "ar_mse_loss", bw_mse_loss},
    [AG_LINEAR] = {"linear", "ar_linear", bw_linear},
    [AG_CONV2D] = {"conv2d", "ar_conv2d", bw_conv2d},
    [AG_MAXPOOL2D] = {"max_pool2d", "ar_maxpool2d", bw_maxpool2d},
    [AG_HOSTACT] = {"host_activation", "act_host_forward", bw_hostact},
};

/* ---------- the engine ---------- */

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
  if (g->st->refcount == 1 && g->offset == 0 && ar_is_contiguous(g) &&
      g->st->nbytes == sizeof(float) * (size_t)ar_numel(g)) {
    *grad = *g;
    g->st = NULL;
    return AR_OK;
  }
  return ar_clone(C, grad, g);
}

/* acc += g without touching either operand's storage (a first arrival may be a view of
 * another gradient, so sums always go to a new tensor). */
static int accumulate(ar_ctx *C, ar_tensor *acc, ar_tensor *g) {
  if (!acc->st) {
    *acc = *g;
    g->st = NULL;
    return AR_OK;
  }
  ar_tensor s;
  int rc = ar_binary(C, AR_ADD, &s, acc, g);
  ar_release(g);
  if (rc) return rc;
  ar_release(acc);
  *acc = s;
  return AR_OK;
}

int ag_backward(ar_ctx *C, ar_tensor *root, const ar_tensor *seed) {
  ag_meta *r = root->ag;
  char s1[200], s2[200];
  if (!r || !r->requires_grad)
    return ar_seterr(C, AR_EARG, "the tensor does not require grad and has no grad_fn");
  if (!seed && ar_numel(root) != 1)
    return ar_seterr(C, AR_EARG,
                     "grad can be implicitly created only for a tensor with one element, "
                     "got shape %s",
                     ar_shape_str(root->ndim, root->shape, s1, sizeof s1));
  if (seed && !ar_same_shape(root, seed))
    return ar_seterr(C, AR_ESHAPE, "the gradient must have the tensor's shape %s, got %s",
                     ar_shape_str(root->ndim, root->shape, s1, sizeof s1),
                     ar_shape_str(seed->ndim, seed->shape, s2, sizeof s2));
  mlist seen, todo;
  mlist_init(&seen);
  mlist_init(&todo);
  ar_tensor gin_small[4];
  ar_tensor *gin = NULL;
  int rc = AR_OK;

  /* 1. every meta reachable from root, and how many consumers each has in this graph */
  r->refcount++;
  r->visited = true;
  if ((rc = mlist_push(&seen, r)) || (rc = mlist_push(&todo, r))) {
    r->visited = false;
    meta_release(r);
    goto cleanup;
  }
  while (todo.n) {
    ag_meta *m = todo.v[--todo.n];
    ag_node *n = m->grad_fn;
    if (!n) continue;
    if (n->released) {
      rc = ar_seterr(C, AR_EARG,
                     "trying to backward through the graph a second time: its saved tensors "
                     "were freed by the first backward()");
      goto cleanup;
    }
    for (int i = 0; i < n->nin; i++) {
      ag_meta *p = n->in[i];
      if (!p) continue;
      p->deps++;
      if (p->visited) continue;
      p->visited = true;
      p->refcount++;
      if ((rc = mlist_push(&seen, p))) {
        p->visited = false;
        meta_release(p);
        goto cleanup;
      }
      if ((rc = mlist_push(&todo, p))) goto cleanup;
    }
  }

  /* 2. Kahn's order: a meta is processed once all its consumers have sent their part */
  if (seed) {
    TRY(ar_clone(C, &r->gacc, seed));
  } else {
    TRY(ar_empty(C, &r->gacc, root->ndim, root->shape));
    ar_fill(C, &r->gacc, 1.0f);
  }
  todo.n = 0;
  TRY(mlist_push(&todo, r));
  while (todo.n) {
    ag_meta *m = todo.v[--todo.n];
    ar_tensor g = m->gacc;
    m->gacc.st = NULL;
    if (!g.st) TRY(zeros_of(C, &g, m->ndim, m->shape));
    ag_node *n = m->grad_fn;
    if (!n) { /* a leaf: sum into .grad (a fresh contiguous tensor on first arrival) */
      if (m->requires_grad)
        rc = m->grad.st ? ar_axpy_(C, &m->grad, 1.0f, &g) : leaf_first_grad(C, &m->grad, &g);
      ar_release(&g);
      if (rc) goto cleanup;
      continue;
    }
    gin = n->nin <= 4 ? gin_small : calloc((size_t)n->nin, sizeof *gin);
    if (!gin) {
      ar_release(&g);
      rc = ar_seterr(C, AR_ENOMEM, "out of memory in backward()");
      goto cleanup;
    }
    memset(gin, 0, sizeof *gin * (size_t)n->nin);
    rc = ag_ops[n->op].backward(C, n, &g, gin);
    ar_release(&g);
    for (int i = 0; i < n->nin; i++) {
      ag_meta *p = n->in[i];
      if (!p) {
        ar_release(&gin[i]);
        continue;
      }
      if (!rc && gin[i].st &&
          (gin[i].ndim != p->ndim ||
           memcmp(gin[i].shape, p->shape, sizeof(int64_t) * (size_t)p->ndim) != 0)) {
        ar_tensor red;
        rc = ag_reduce_to_shape(C, &red, &gin[i], p->ndim, p->shape);
        ar_release(&gin[i]);
        gin[i] = red;
      }
      if (!rc && gin[i].st) rc = accumulate(C, &p->gacc, &gin[i]);
      ar_release(&gin[i]);
      if (!rc && --p->deps == 0) rc = mlist_push(&todo, p);
    }
    if (gin != gin_small) free(gin);
    gin = NULL;
    if (rc) goto cleanup;
    /* its job is done: free what it saved and let go of its inputs (they stay alive
     * through `seen` until the end of this walk) */
    ag_meta *dead = NULL;
    node_clear(n, &dead);
    free_dead(dead);
  }

cleanup:
done:
  for (size_t i = 0; i < seen.n; i++) {
    ag_meta *m = seen.v[i];
    m->visited = false;
    m->deps = 0;
    ar_release(&m->gacc);
  }
  for (size_t i = 0; i < seen.n; i++) meta_release(seen.v[i]);
  mlist_free(&seen);
  mlist_free(&todo);
  return rc;
}
