/* conv2d and max_pool2d, forward and backward (see conv.h). */
#include "core/conv.h"
#include "core/ctx.h"

#include <cblas.h>
#include <limits.h>
#include <math.h>
#include <stdatomic.h>
#include <string.h>

/* Work (multiply-adds) a chunk of images should carry before the pool splits them. */
#define CONV_GRAIN_WORK ((double)(1 << 17))
/* The batch is cut into at most this many groups for dW/db partial sums, and the
 * partials together hold at most CONV_PARTIAL_MAX floats. */
#define CONV_MAX_GROUPS 16
#define CONV_PARTIAL_MAX ((int64_t)1 << 24)

static int not4d(ar_ctx *C, const ar_tensor *t, const char *name, const char *layout) {
  char s[200];
  return ar_seterr(C, AR_ESHAPE, "%s must be 4-D %s, got shape %s", name, layout,
                   ar_shape_str(t->ndim, t->shape, s, sizeof s));
}

static int check_params(ar_ctx *C, const ar_conv_params *p) {
  if (p->sh < 1 || p->sw < 1)
    return ar_seterr(C, AR_EARG, "stride must be positive, got {%lld,%lld}", (long long)p->sh,
                     (long long)p->sw);
  if (p->ph < 0 || p->pw < 0)
    return ar_seterr(C, AR_EARG, "padding must be >= 0, got {%lld,%lld}", (long long)p->ph,
                     (long long)p->pw);
  if (p->sh > INT32_MAX || p->sw > INT32_MAX || p->ph > INT32_MAX || p->pw > INT32_MAX)
    return ar_seterr(C, AR_ERANGE, "stride and padding must be below 2^31");
  return AR_OK;
}

/* Output size along one dim, or -1 when the kernel does not fit the padded input. */
static int64_t out_size(int64_t in, int64_t k, int64_t s, int64_t pad) {
  int64_t span = in + 2 * pad - k;
  return span < 0 ? -1 : span / s + 1;
}

static int too_big(ar_ctx *C, int64_t H, int64_t W, int64_t kh, int64_t kw, int64_t ph,
                   int64_t pw) {
  return ar_seterr(C, AR_ESHAPE,
                   "kernel %lldx%lld is larger than the padded input %lldx%lld (input "
                   "%lldx%lld, padding {%lld,%lld})",
                   (long long)kh, (long long)kw, (long long)(H + 2 * ph),
                   (long long)(W + 2 * pw), (long long)H, (long long)W, (long long)ph,
                   (long long)pw);
}

int ar_conv2d_shape(ar_ctx *C, const ar_tensor *x, const ar_tensor *w, const ar_tensor *b,
                    const ar_conv_params *p, int64_t os[4]) {
  if (x->ndim != 4) return not4d(C, x, "input", "{N,C,H,W}");
  if (w->ndim != 4) return not4d(C, w, "weight", "{out_channels,in_channels,kh,kw}");
  int rc = check_params(C, p);
  if (rc) return rc;
  const int64_t N = x->shape[0], Cin = x->shape[1], H = x->shape[2], W = x->shape[3];
  const int64_t O = w->shape[0], kh = w->shape[2], kw = w->shape[3];
  if (w->shape[1] != Cin)
    return ar_seterr(C, AR_ESHAPE, "input has %lld channels but weight expects %lld",
                     (long long)Cin, (long long)w->shape[1]);
  if (kh < 1 || kw < 1 || O < 1 || Cin < 1) {
    char s[200];
    return ar_seterr(C, AR_ESHAPE, "weight %s has an empty dimension",
                     ar_shape_str(w->ndim, w->shape, s, sizeof s));
  }
  if (b && (b->ndim != 1 || b->shape[0] != O)) {
    char s[200];
    return ar_seterr(C, AR_ESHAPE, "bias must have shape {%lld} (one per output channel), got %s",
                     (long long)O, ar_shape_str(b->ndim, b->shape, s, sizeof s));
  }
  int64_t Ho = out_size(H, kh, p->sh, p->ph), Wo = out_size(W, kw, p->sw, p->pw);
  if (Ho < 1 || Wo < 1) return too_big(C, H, W, kh, kw, p->ph, p->pw);
  if (Cin * kh * kw > INT_MAX || Ho * Wo > INT_MAX || O > INT_MAX)
    return ar_seterr(C, AR_ESHAPE, "convolution sizes exceed the BLAS limit (2^31)");
  os[0] = N, os[1] = O, os[2] = Ho, os[3] = Wo;
  return AR_OK;
}

/* ---------- im2col / col2im over one image ---------- */

typedef struct conv_geom {
  int64_t N, Cin, H, W, O, kh, kw, Ho, Wo, sh, sw, ph, pw;
  int64_t K;   /* Cin * kh * kw: rows of the unfolded image */
  int64_t P;   /* Ho * Wo: its columns */
  bool direct; /* 1x1 kernel, stride 1, no padding: the image is its own unfolding */
} conv_geom;

static void geom_of(conv_geom *g, const ar_tensor *x, const ar_tensor *w,
                    const ar_conv_params *p, const int64_t os[4]) {
  g->N = x->shape[0], g->Cin = x->shape[1], g->H = x->shape[2], g->W = x->shape[3];
  g->O = w->shape[0], g->kh = w->shape[2], g->kw = w->shape[3];
  g->Ho = os[2], g->Wo = os[3];
  g->sh = p->sh, g->sw = p->sw, g->ph = p->ph, g->pw = p->pw;
  g->K = g->Cin * g->kh * g->kw;
  g->P = g->Ho * g->Wo;
  g->direct = g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->ph == 0 && g->pw == 0;
}

/* Output columns ow whose input column ow*sw - pw + j lies inside [0, W): [lo, hi). */
static void valid_cols(const conv_geom *g, int64_t j, int64_t *lo, int64_t *hi) {
  int64_t a = g->pw - j; /* ow*sw >= a */
  int64_t l = a > 0 ? (a + g->sw - 1) / g->sw : 0;
  int64_t b = g->W - 1 + g->pw - j; /* ow*sw <= b */
  int64_t h = b >= 0 ? b / g->sw + 1 : 0;
  if (h > g->Wo) h = g->Wo;
  if (l > h) l = h;
  *lo = l, *hi = h;
}

/* cols {K, P} from image x {Cin, H, W}, zeros where the window is in the padding. */
static void im2col(const conv_geom *g, const float *x, float *cols) {
  for (int64_t c = 0; c < g->Cin; c++)
    for (int64_t i = 0; i < g->kh; i++)
      for (int64_t j = 0; j < g->kw; j++) {
        float *row = cols + ((c * g->kh + i) * g->kw + j) * g->P;
        int64_t lo, hi;
        valid_cols(g, j, &lo, &hi);
        for (int64_t oh = 0; oh < g->Ho; oh++) {
          float *r = row + oh * g->Wo;
          int64_t ih = oh * g->sh - g->ph + i;
          if (ih < 0 || ih >= g->H) {
            memset(r, 0, sizeof(float) * (size_t)g->Wo);
            continue;
          }
          /* input column of output column ow: ow * sw + off, inside [0, W) on [lo, hi) */
          const float *src = x + (c * g->H + ih) * g->W;
          const int64_t off = j - g->pw;
          for (int64_t ow = 0; ow < lo; ow++) r[ow] = 0;
          if (g->sw == 1) {
            if (hi > lo) memcpy(r + lo, src + lo + off, sizeof(float) * (size_t)(hi - lo));
          } else {
            for (int64_t ow = lo; ow < hi; ow++) r[ow] = src[ow * g->sw + off];
          }
          for (int64_t ow = hi; ow < g->Wo; ow++) r[ow] = 0;
        }
      }
}

/* dx {Cin, H, W} += the columns folded back: the adjoint of im2col. Rows in a fixed
 * order, so the sums are the same on every run. */
static void col2im(const conv_geom *g, const float *cols, float *dx) {
  for (int64_t c = 0; c < g->Cin; c++)
    for (int64_t i = 0; i < g->kh; i++)
      for (int64_t j = 0; j < g->kw; j++) {
        const float *row = cols + ((c * g->kh + i) * g->kw + j) * g->P;
        int64_t lo, hi;
        valid_cols(g, j, &lo, &hi);
        for (int64_t oh = 0; oh < g->Ho; oh++) {
          int64_t ih = oh * g->sh - g->ph + i;
          if (ih < 0 || ih >= g->H) continue;
          const float *r = row + oh * g->Wo;
          float *dst = dx + (c * g->H + ih) * g->W;
          const int64_t off = j - g->pw;
          if (g->sw == 1) {
            for (int64_t ow = lo; ow < hi; ow++) dst[ow + off] += r[ow];
          } else {
            for (int64_t ow = lo; ow < hi; ow++) dst[ow * g->sw + off] += r[ow];
          }
        }
      }
}

/* ---------- threading helpers ---------- */

/* Runs OpenBLAS on one thread (returns the count to restore, 0: nothing to restore): set
 * once per call, not toggled by every ar_sgemm. */
static int blas_single_begin(void) {
  int prev = openblas_get_num_threads();
  if (prev <= 1) return 0;
  openblas_set_num_threads(1);
  return prev;
}
static void blas_end(int prev) {
  if (prev > 0) openblas_set_num_threads(prev);
}

/* Scratch slots: one per chunk the pool runs (at most the thread count), handed out in
 * the order chunks start. */
typedef struct scratch {
  ar_storage *st;
  int64_t per; /* floats per slot */
  int nslots;
  atomic_int next;
} scratch;

/* A work buffer of shape's element count; failing, the message gives the shape as for a
 * tensor (every out-of-memory error reads "not enough memory for a tensor of shape"). */
static int scratch_alloc(ar_ctx *C, int ndim, const int64_t *shape, ar_storage **st) {
  size_t n = 1;
  for (int i = 0; i < ndim; i++) n *= (size_t)shape[i];
  int rc = ar_storage_new(C, n, st);
  if (rc) {
    char b[200];
    return ar_seterr(C, rc, "not enough memory for a tensor of shape %s",
                     ar_shape_str(ndim, shape, b, sizeof b));
  }
  return AR_OK;
}

static int scratch_new(ar_ctx *C, scratch *s, int nslots, int64_t per) {
  s->per = per;
  s->nslots = nslots;
  atomic_init(&s->next, 0);
  s->st = NULL;
  if (per == 0) return AR_OK;
  int64_t shape[2] = {nslots, per};
  return scratch_alloc(C, 2, shape, &s->st);
}
static float *scratch_take(scratch *s) {
  int k = atomic_fetch_add(&s->next, 1);
  if (!s->st) return NULL;
  return s->st->data + (int64_t)(k < s->nslots ? k : s->nslots - 1) * s->per;
}
static void scratch_free(scratch *s) {
  if (s->st) ar_storage_release(s->st);
  s->st = NULL;
}

/* ---------- forward ---------- */

typedef struct fwd_job {
  ar_ctx *C;
  conv_geom g;
  const float *x, *w, *b;
  float *y;
  scratch sc;
} fwd_job;

static void fwd_range(void *arg, int64_t lo, int64_t hi) {
  fwd_job *J = arg;
  const conv_geom *g = &J->g;
  float *cols = g->direct ? NULL : scratch_take(&J->sc);
  for (int64_t n = lo; n < hi; n++) {
    const float *xn = J->x + n * g->Cin * g->H * g->W;
    float *yn = J->y + n * g->O * g->P;
    const float *B = xn;
    if (!g->direct) {
      im2col(g, xn, cols);
      B = cols;
    }
    if (J->b)
      for (int64_t o = 0; o < g->O; o++)
        for (int64_t q = 0; q < g->P; q++) yn[o * g->P + q] = J->b[o];
    ar_sgemm(J->C, false, false, g->O, g->P, g->K, 1.0f, J->w, g->K, B, g->P,
             J->b ? 1.0f : 0.0f, yn, g->P);
  }
}

/* Images per chunk so that a chunk carries at least CONV_GRAIN_WORK multiply-adds. */
static int64_t image_grain(const conv_geom *g) {
  double per = (double)g->O * (double)g->K * (double)g->P;
  if (per <= 0) return 1;
  double q = CONV_GRAIN_WORK / per;
  return q <= 1 ? 1 : (int64_t)q + 1;
}

int ar_conv2d(ar_ctx *C, ar_tensor *out, const ar_tensor *x, const ar_tensor *w,
              const ar_tensor *b, const ar_conv_params *p) {
  out->st = NULL;
  int64_t os[4];
  int rc = ar_conv2d_shape(C, x, w, b, p, os);
  if (rc) return rc;
  ar_tensor cx = {0}, cw = {0}, cb = {0};
  fwd_job J = {0};
  if ((rc = ar_contiguous(C, &cx, x)) || (rc = ar_contiguous(C, &cw, w)) ||
      (b && (rc = ar_contiguous(C, &cb, b))) || (rc = ar_empty(C, out, 4, os)))
    goto done;
  geom_of(&J.g, x, w, p, os);
  J.C = C;
  J.x = ar_data(&cx), J.w = ar_data(&cw), J.b = b ? ar_data(&cb) : NULL, J.y = ar_data(out);
  const int64_t N = J.g.N;
  if (N == 0) goto done;
  int nt = ar_get_num_threads(C);
  int64_t grain = image_grain(&J.g);
  bool par = nt > 1 && N >= 2 * grain;
  int nslots = par ? (int)(nt < N ? nt : N) : 1;
  if ((rc = scratch_new(C, &J.sc, nslots, J.g.direct ? 0 : J.g.K * J.g.P))) goto done;
  if ((rc = ar_blas_enter(C))) {
    scratch_free(&J.sc);
    goto done;
  }
  /* images over the pool, or else each product's blocks over it (ar_sgemm) */
  int prev = blas_single_begin();
  if (par)
    ar_parallel_for(C, N, grain, fwd_range, &J);
  else
    fwd_range(&J, 0, N);
  blas_end(prev);
  scratch_free(&J.sc);
done:
  ar_release(&cx);
  ar_release(&cw);
  ar_release(&cb);
  if (rc && out->st) {
    ar_release(out);
    out->st = NULL;
  }
  return rc;
}

/* ---------- backward ---------- */

typedef struct bwd_job {
  ar_ctx *C;
  conv_geom g;
  const float *x, *w, *gy;
  float *dx;      /* NULL: not wanted */
  float *dwpart;  /* G partials of {O, K}, NULL: not wanted */
  double *dbpart; /* G partials of {O}, NULL: not wanted */
  int64_t G;
  scratch sc; /* per slot: cols {K,P} when dw is wanted, then dcols {K,P} when dx is */
} bwd_job;

/* Sum of n floats in double: 8 running sums (lane k takes elements k, k + 8, ...), which
 * GCC vectorises, then combined in a fixed order; one double chain was latency-bound. The
 * order depends on n only, so the result is the same on every run and thread count. */
static double sum_double(const float *r, int64_t n) {
  double acc[8] = {0};
  int64_t q = 0;
  for (; q + 8 <= n; q += 8)
    for (int k = 0; k < 8; k++) acc[k] += r[q + k];
  for (int k = 0; k < 8 && q < n; q++, k++) acc[k] += r[q];
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

static void bwd_range(void *arg, int64_t glo, int64_t ghi) {
  bwd_job *J = arg;
  const conv_geom *g = &J->g;
  float *s = scratch_take(&J->sc);
  float *cols = NULL, *dcols = NULL;
  if (!g->direct) {
    if (J->dwpart) cols = s, s += g->K * g->P;
    if (J->dx) dcols = s;
  }
  const int64_t img = g->Cin * g->H * g->W;
  for (int64_t gi = glo; gi < ghi; gi++) {
    int64_t n0 = g->N * gi / J->G, n1 = g->N * (gi + 1) / J->G;
    float *dw = J->dwpart ? J->dwpart + gi * g->O * g->K : NULL;
    double *db = J->dbpart ? J->dbpart + gi * g->O : NULL;
    if (db)
      for (int64_t o = 0; o < g->O; o++) db[o] = 0;
    for (int64_t n = n0; n < n1; n++) {
      const float *xn = J->x + n * img, *gyn = J->gy + n * g->O * g->P;
      if (dw) {
        const float *B = xn;
        if (!g->direct) {
          im2col(g, xn, cols);
          B = cols;
        }
        ar_sgemm(J->C, false, true, g->O, g->K, g->P, 1.0f, gyn, g->P, B, g->P,
                 n == n0 ? 0.0f : 1.0f, dw, g->K);
      }
      if (J->dx) {
        float *dxn = J->dx + n * img;
        float *D = g->direct ? dxn : dcols;
        ar_sgemm(J->C, true, false, g->K, g->P, g->O, 1.0f, J->w, g->K, gyn, g->P, 0.0f, D,
                 g->P);
        if (!g->direct) {
          memset(dxn, 0, sizeof(float) * (size_t)img);
          col2im(g, dcols, dxn);
        }
      }
      if (db)
        for (int64_t o = 0; o < g->O; o++) db[o] += sum_double(gyn + o * g->P, g->P);
    }
  }
}

int ar_conv2d_backward(ar_ctx *C, const ar_tensor *gy, const ar_tensor *x, const ar_tensor *w,
                       const ar_conv_params *p, ar_tensor *dx, ar_tensor *dw, ar_tensor *db) {
  if (dx) dx->st = NULL;
  if (dw) dw->st = NULL;
  if (db) db->st = NULL;
  int64_t os[4];
  int rc = ar_conv2d_shape(C, x, w, NULL, p, os);
  if (rc) return rc;
  if (gy->ndim != 4 || memcmp(gy->shape, os, sizeof os) != 0) {
    char s1[200], s2[200];
    return ar_seterr(C, AR_ESHAPE, "gradient has shape %s, expected %s",
                     ar_shape_str(gy->ndim, gy->shape, s1, sizeof s1),
                     ar_shape_str(4, os, s2, sizeof s2));
  }
  bwd_job J = {0};
  geom_of(&J.g, x, w, p, os);
  const conv_geom *g = &J.g;
  ar_tensor cx = {0}, cw = {0}, cgy = {0}, part = {0};
  ar_storage *dbst = NULL;
  if ((rc = ar_contiguous(C, &cgy, gy))) goto fail;
  if (dw && (rc = ar_contiguous(C, &cx, x))) goto fail;
  if (dx && (rc = ar_contiguous(C, &cw, w))) goto fail;
  if (dx && (rc = ar_empty(C, dx, 4, x->shape))) goto fail;
  if (dw && (rc = ar_empty(C, dw, 4, w->shape))) goto fail;
  if (db && (rc = ar_empty(C, db, 1, &g->O))) goto fail;
  const int64_t N = g->N;
  if (N == 0) {
    if (dw) ar_fill(C, dw, 0.0f);
    if (db) ar_fill(C, db, 0.0f);
    goto ok;
  }
  /* groups: a function of the shapes only */
  int64_t G = N < CONV_MAX_GROUPS ? N : CONV_MAX_GROUPS;
  if (dw) {
    int64_t cap = CONV_PARTIAL_MAX / (g->O * g->K);
    if (cap < 1) cap = 1;
    if (G > cap) G = cap;
  }
  J.G = G;
  J.C = C;
  J.gy = ar_data(&cgy);
  J.x = dw ? ar_data(&cx) : NULL;
  J.w = dx ? ar_data(&cw) : NULL;
  J.dx = dx ? ar_data(dx) : NULL;
  if (dw) {
    int64_t shp[2] = {G, g->O * g->K};
    if ((rc = ar_empty(C, &part, 2, shp))) goto fail;
    J.dwpart = ar_data(&part);
  }
  if (db) {
    int64_t dbn = 2 * G * g->O; /* doubles: twice the floats */
    if ((rc = scratch_alloc(C, 1, &dbn, &dbst))) goto fail;
    J.dbpart = (double *)(void *)dbst->data;
  }
  int nt = ar_get_num_threads(C);
  bool par = nt > 1 && G >= 2;
  int nslots = par ? (int)(nt < G ? nt : G) : 1;
  int64_t per = g->direct ? 0 : ((dw ? 1 : 0) + (dx ? 1 : 0)) * g->K * g->P;
  if ((rc = scratch_new(C, &J.sc, nslots, per))) goto fail;
  if ((rc = ar_blas_enter(C))) {
    scratch_free(&J.sc);
    goto fail;
  }
  /* groups over the pool, or else each product's blocks over it (ar_sgemm) */
  int prev = blas_single_begin();
  if (par)
    ar_parallel_for(C, G, 1, bwd_range, &J);
  else
    bwd_range(&J, 0, G);
  blas_end(prev);
  scratch_free(&J.sc);
  /* partials in group order */
  if (dw) {
    float *out = ar_data(dw);
    const int64_t m = g->O * g->K;
    for (int64_t i = 0; i < m; i++) {
      double acc = 0;
      for (int64_t k = 0; k < G; k++) acc += J.dwpart[k * m + i];
      out[i] = (float)acc;
    }
  }
  if (db) {
    float *out = ar_data(db);
    for (int64_t o = 0; o < g->O; o++) {
      double acc = 0;
      for (int64_t k = 0; k < G; k++) acc += J.dbpart[k * g->O + o];
      out[o] = (float)acc;
    }
  }
ok:
  ar_release(&cx);
  ar_release(&cw);
  ar_release(&cgy);
  ar_release(&part);
  if (dbst) ar_storage_release(dbst);
  return AR_OK;
fail:
  ar_release(&cx);
  ar_release(&cw);
  ar_release(&cgy);
  ar_release(&part);
  if (dbst) ar_storage_release(dbst);
  if (dx && dx->st) ar_release(dx), dx->st = NULL;
  if (dw && dw->st) ar_release(dw), dw->st = NULL;
  if (db && db->st) ar_release(db), db->st = NULL;
  return rc;
}

/* ---------- max pooling ---------- */

int ar_maxpool2d_shape(ar_ctx *C, const ar_tensor *x, int64_t kh, int64_t kw,
                       const ar_conv_params *p, int64_t os[4]) {
  if (x->ndim != 4) return not4d(C, x, "input", "{N,C,H,W}");
  if (kh < 1 || kw < 1)
    return ar_seterr(C, AR_EARG, "kernel size must be positive, got {%lld,%lld}",
                     (long long)kh, (long long)kw);
  if (kh > INT32_MAX || kw > INT32_MAX)
    return ar_seterr(C, AR_ERANGE, "kernel size must be below 2^31");
  int rc = check_params(C, p);
  if (rc) return rc;
  if (p->ph > kh / 2 || p->pw > kw / 2)
    return ar_seterr(C, AR_EARG,
                     "padding {%lld,%lld} must be at most half the kernel size {%lld,%lld}",
                     (long long)p->ph, (long long)p->pw, (long long)kh, (long long)kw);
  const int64_t H = x->shape[2], W = x->shape[3];
  if (H * W > INT32_MAX)
    return ar_seterr(C, AR_ESHAPE, "input planes of %lldx%lld exceed 2^31 elements",
                     (long long)H, (long long)W);
  int64_t Ho = out_size(H, kh, p->sh, p->ph), Wo = out_size(W, kw, p->sw, p->pw);
  if (Ho < 1 || Wo < 1) return too_big(C, H, W, kh, kw, p->ph, p->pw);
  os[0] = x->shape[0], os[1] = x->shape[1], os[2] = Ho, os[3] = Wo;
  return AR_OK;
}

typedef struct pool_job {
  int64_t H, W, Ho, Wo, kh, kw, sh, sw, ph, pw;
  const float *x;
  float *y;
  int32_t *idx;
  const float *gy;
  float *dx;
} pool_job;

/* The common 2x2 window with stride 2 and no padding, in the same order and with the same
 * rule as the general loop below (take v when v > max or v is NaN; the window's first
 * element starts it, which equals starting from -inf), without its bounds and loops. The
 * selects are bit masks as there: rows of 7 or 14 outputs are too short to vectorise, and
 * a plain conditional becomes a branch that mispredicts on real data. */
static inline void pool_take(float v, int32_t i, uint32_t *mb, int32_t *at) {
  float m;
  memcpy(&m, mb, 4);
  uint32_t vb;
  memcpy(&vb, &v, 4);
  uint32_t take = -(uint32_t)((v > m) | (v != v));
  *mb = (vb & take) | (*mb & ~take);
  *at = (int32_t)(((uint32_t)i & take) | ((uint32_t)*at & ~take));
}
static void pool2x2_plane(const float *restrict x, float *restrict y, int32_t *restrict ix,
                          int64_t W, int64_t Ho, int64_t Wo) {
  for (int64_t oh = 0; oh < Ho; oh++) {
    const float *r0 = x + 2 * oh * W, *r1 = r0 + W;
    const int32_t b0 = (int32_t)(2 * oh * W), b1 = b0 + (int32_t)W;
    for (int32_t ow = 0; ow < (int32_t)Wo; ow++) {
      int32_t c = 2 * ow, at = b0 + c;
      uint32_t mb;
      memcpy(&mb, &r0[c], 4);
      pool_take(r0[c + 1], b0 + c + 1, &mb, &at);
      pool_take(r1[c], b1 + c, &mb, &at);
      pool_take(r1[c + 1], b1 + c + 1, &mb, &at);
      memcpy(&y[oh * Wo + ow], &mb, 4);
      if (ix) ix[oh * Wo + ow] = at;
    }
  }
}

static void pool_fwd_range(void *arg, int64_t lo, int64_t hi) {
  const pool_job *J = arg;
  if (J->kh == 2 && J->kw == 2 && J->sh == 2 && J->sw == 2 && J->ph == 0 && J->pw == 0) {
    for (int64_t pl = lo; pl < hi; pl++)
      pool2x2_plane(J->x + pl * J->H * J->W, J->y + pl * J->Ho * J->Wo,
                    J->idx ? J->idx + pl * J->Ho * J->Wo : NULL, J->W, J->Ho, J->Wo);
    return;
  }
  for (int64_t pl = lo; pl < hi; pl++) {
    const float *x = J->x + pl * J->H * J->W;
    float *y = J->y + pl * J->Ho * J->Wo;
    int32_t *ix = J->idx ? J->idx + pl * J->Ho * J->Wo : NULL;
    for (int64_t oh = 0; oh < J->Ho; oh++) {
      int64_t h0 = oh * J->sh - J->ph, h1 = h0 + J->kh;
      if (h0 < 0) h0 = 0;
      if (h1 > J->H) h1 = J->H;
      for (int64_t ow = 0; ow < J->Wo; ow++) {
        int64_t w0 = ow * J->sw - J->pw, w1 = w0 + J->kw;
        if (w0 < 0) w0 = 0;
        if (w1 > J->W) w1 = J->W;
        /* PyTorch's rule (take v when v > max or v is NaN) with masks instead of
         * branches: on random data a branch mispredicts half the time, and gcc turns
         * a plain conditional back into one */
        float m = -INFINITY;
        uint32_t mb;
        memcpy(&mb, &m, 4);
        int64_t at = h0 * J->W + w0;
        for (int64_t h = h0; h < h1; h++)
          for (int64_t w = w0; w < w1; w++) {
            float v = x[h * J->W + w];
            uint32_t vb;
            memcpy(&vb, &v, 4);
            uint64_t take = -(uint64_t)((v > m) | (v != v));
            mb = (vb & (uint32_t)take) | (mb & ~(uint32_t)take);
            memcpy(&m, &mb, 4);
            at = (int64_t)(((uint64_t)(h * J->W + w) & take) | ((uint64_t)at & ~take));
          }
        y[oh * J->Wo + ow] = m;
        if (ix) ix[oh * J->Wo + ow] = (int32_t)at;
      }
    }
  }
}

int ar_maxpool2d(ar_ctx *C, ar_tensor *out, ar_tensor *idx, const ar_tensor *x, int64_t kh,
                 int64_t kw, const ar_conv_params *p) {
  out->st = NULL;
  if (idx) idx->st = NULL;
  int64_t os[4];
  int rc = ar_maxpool2d_shape(C, x, kh, kw, p, os);
  if (rc) return rc;
  ar_tensor cx = {0};
  if ((rc = ar_contiguous(C, &cx, x)) || (rc = ar_empty(C, out, 4, os)) ||
      (idx && (rc = ar_empty(C, idx, 4, os)))) {
    ar_release(&cx);
    if (out->st) ar_release(out), out->st = NULL;
    if (idx && idx->st) ar_release(idx), idx->st = NULL;
    return rc;
  }
  pool_job J = {x->shape[2], x->shape[3], os[2], os[3], kh, kw, p->sh, p->sw, p->ph, p->pw,
                ar_data(&cx), ar_data(out), idx ? (int32_t *)(void *)ar_data(idx) : NULL,
                NULL, NULL};
  int64_t planes = os[0] * os[1], per = os[2] * os[3] * kh * kw;
  int64_t grain = per > 0 ? AR_PAR_GRAIN / per + 1 : 1;
  ar_parallel_for(C, planes, grain, pool_fwd_range, &J);
  ar_release(&cx);
  return AR_OK;
}

static void pool_bwd_range(void *arg, int64_t lo, int64_t hi) {
  const pool_job *J = arg;
  const int64_t in = J->H * J->W, on = J->Ho * J->Wo;
  for (int64_t pl = lo; pl < hi; pl++) {
    float *dx = J->dx + pl * in;
    const float *gy = J->gy + pl * on;
    const int32_t *ix = J->idx + pl * on;
    memset(dx, 0, sizeof(float) * (size_t)in);
    for (int64_t q = 0; q < on; q++) dx[ix[q]] += gy[q];
  }
}

int ar_maxpool2d_backward(ar_ctx *C, ar_tensor *dx, const ar_tensor *gy, const ar_tensor *idx,
                          const int64_t in_shape[4]) {
  dx->st = NULL;
  if (gy->ndim != 4 || !ar_same_shape(gy, idx) || gy->shape[0] != in_shape[0] ||
      gy->shape[1] != in_shape[1]) {
    char s1[200], s2[200];
    return ar_seterr(C, AR_ESHAPE, "gradient has shape %s, expected %s",
                     ar_shape_str(gy->ndim, gy->shape, s1, sizeof s1),
                     ar_shape_str(idx->ndim, idx->shape, s2, sizeof s2));
  }
  ar_tensor cg;
  int rc = ar_contiguous(C, &cg, gy);
  if (rc) return rc;
  if ((rc = ar_empty(C, dx, 4, in_shape))) {
    ar_release(&cg);
    return rc;
  }
  pool_job J = {0};
  J.H = in_shape[2], J.W = in_shape[3], J.Ho = gy->shape[2], J.Wo = gy->shape[3];
  J.idx = (int32_t *)(void *)ar_data(idx);
  J.gy = ar_data(&cg);
  J.dx = ar_data(dx);
  int64_t planes = in_shape[0] * in_shape[1], per = J.H * J.W + J.Ho * J.Wo;
  int64_t grain = per > 0 ? AR_PAR_GRAIN / per + 1 : 1;
  ar_parallel_for(C, planes, grain, pool_bwd_range, &J);
  ar_release(&cg);
  return AR_OK;
}

int ar_maxpool2d_gather(ar_ctx *C, ar_tensor *out, const ar_tensor *x, const ar_tensor *idx) {
  out->st = NULL;
  if (x->ndim != 4 || idx->ndim != 4 || x->shape[0] != idx->shape[0] ||
      x->shape[1] != idx->shape[1]) {
    char s1[200], s2[200];
    return ar_seterr(C, AR_ESHAPE, "cannot gather pooling positions %s from %s",
                     ar_shape_str(idx->ndim, idx->shape, s1, sizeof s1),
                     ar_shape_str(x->ndim, x->shape, s2, sizeof s2));
  }
  ar_tensor cx;
  int rc = ar_contiguous(C, &cx, x);
  if (rc) return rc;
  if ((rc = ar_empty(C, out, 4, idx->shape))) {
    ar_release(&cx);
    return rc;
  }
  const int64_t planes = idx->shape[0] * idx->shape[1], hw = x->shape[2] * x->shape[3];
  const int64_t per = idx->shape[2] * idx->shape[3];
  const int32_t *id = (const int32_t *)(const void *)ar_data(idx);
  const float *xd = ar_data(&cx);
  float *o = ar_data(out);
  for (int64_t p = 0; p < planes; p++)
    for (int64_t j = 0; j < per; j++) o[p * per + j] = xd[p * hw + id[p * per + j]];
  ar_release(&cx);
  return AR_OK;
}
