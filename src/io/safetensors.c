/* safetensors files: reader with a small strict JSON parser for the header, and a writer
 * that streams the tensors through io_writer (writer.c: atomic, checks the destination).
 *
 * Reading checks, before allocating anything for tensor data: the header length against
 * the limit and the file size, the JSON, each entry's dtype, shape and offsets, that the
 * offsets tile the data section exactly (contiguous, non-overlapping, no bytes left over)
 * and that each tensor's byte count matches its shape. The data are then read in file
 * order, so no tensor is larger than the file that holds it. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/io.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors.c assumes a little-endian host"
#endif

#define ST_MAX_DEPTH 64

/* ---------- UTF-8 ---------- */

static bool utf8_valid(const unsigned char *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    unsigned c = s[i];
    size_t k;
    uint32_t cp, min;
    if (c < 0x80) {
      i++;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      k = 1, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      k = 2, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      k = 3, cp = c & 0x07, min = 0x10000;
    } else {
      return false;
    }
    for (size_t j = 1; j <= k; j++) {
      if (i + j >= n || (s[i + j] & 0xC0) != 0x80) return false;
      cp = cp << 6 | (s[i + j] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += k + 1;
  }
  return true;
}

static size_t utf8_put(char *d, uint32_t cp) {
  if (cp < 0x80) {
    d[0] = (char)cp;
    return 1;
  } else if (cp < 0x800) {
    d[0] = (char)(0xC0 | cp >> 6), d[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
  } else if (cp < 0x10000) {
    d[0] = (char)(0xE0 | cp >> 12), d[1] = (char)(0x80 | (cp >> 6 & 0x3F));
    d[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
  }
  d[0] = (char)(0xF0 | cp >> 18), d[1] = (char)(0x80 | (cp >> 12 & 0x3F));
  d[2] = (char)(0x80 | (cp >> 6 & 0x3F)), d[3] = (char)(0x80 | (cp & 0x3F));
  return 4;
}

/* ---------- dtypes ---------- */

typedef enum { ST_F32, ST_F16, ST_BF16, ST_F64, ST_NTYPES } st_dtype;
static const char *const st_names[ST_NTYPES] = {"F32", "F16", "BF16", "F64"};
static const int st_size[ST_NTYPES] = {4, 2, 2, 8};

static float half_to_float(uint16_t h) {
  unsigned e = (h >> 10) & 0x1F, m = h & 0x3FF;
  float v;
  if (e == 0)
    v = ldexpf((float)m, -24);
  else if (e == 31)
    v = m ? NAN : INFINITY;
  else
    v = ldexpf((float)(m | 0x400), (int)e - 25);
  return (h & 0x8000) ? -v : v;
}

static void convert(float *dst, const unsigned char *src, st_dtype t, size_t n) {
  switch (t) {
  case ST_F32:
    memcpy(dst, src, n * 4);
    break;
  case ST_F16:
    for (size_t i = 0; i < n; i++) dst[i] = half_to_float((uint16_t)(src[2 * i] | src[2 * i + 1] << 8));
    break;
  case ST_BF16:
    for (size_t i = 0; i < n; i++) {
      uint32_t b = (uint32_t)(src[2 * i] | src[2 * i + 1] << 8) << 16;
      memcpy(&dst[i], &b, 4);
    }
    break;
  case ST_F64:
    for (size_t i = 0; i < n; i++) {
      double d;
      memcpy(&d, src + 8 * i, 8);
      dst[i] = (float)d;
    }
    break;
  default:
    break;
  }
}

/* ---------- the header's JSON ---------- */

typedef struct jp {
  const char *s;
  size_t n, i;
  ar_ctx *C;
  const char *path;
} jp;

static int jerr(jp *J, const char *what) {
  return ar_seterr(J->C, AR_EIO, "%s: malformed header JSON at byte %zu: %s", J->path, J->i,
                   what);
}

static void ws(jp *J) {
  while (J->i < J->n &&
         (J->s[J->i] == ' ' || J->s[J->i] == '\t' || J->s[J->i] == '\n' || J->s[J->i] == '\r'))
    J->i++;
}

static int expect(jp *J, char c) {
  ws(J);
  if (J->i >= J->n || J->s[J->i] != c) {
    char m[40];
    snprintf(m, sizeof m, "expected '%c'", c);
    return jerr(J, m);
  }
  J->i++;
  return AR_OK;
}

static int hex4(jp *J, uint32_t *v) {
  if (J->i + 4 > J->n) return jerr(J, "truncated \\u escape");
  *v = 0;
  for (int k = 0; k < 4; k++) {
    char c = J->s[J->i++];
    int d = c >= '0' && c <= '9' ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : -1;
    if (d < 0) return jerr(J, "bad \\u escape");
    *v = *v << 4 | (uint32_t)d;
  }
  return AR_OK;
}

/* A string at the cursor, decoded into a new NUL-terminated buffer (*len excludes it). */
static int jstring(jp *J, char **out, size_t *len) {
  *out = NULL;
  ws(J);
  if (J->i >= J->n || J->s[J->i] != '"') return jerr(J, "expected a string");
  size_t start = ++J->i, j = start;
  while (j < J->n && J->s[j] != '"') j += J->s[j] == '\\' ? 2 : 1;
  if (j >= J->n) return jerr(J, "unterminated string");
  char *d = malloc(j - start + 1);
  if (!d) return ar_seterr(J->C, AR_ENOMEM, "%s: out of memory reading the header", J->path);
  size_t k = 0;
  while (J->s[J->i] != '"') {
    unsigned char c = (unsigned char)J->s[J->i];
    if (c < 0x20) {
      free(d);
      return jerr(J, "control character in a string");
    }
    if (c != '\\') {
      d[k++] = (char)c;
      J->i++;
      continue;
    }
    J->i++;
    char e = J->s[J->i++];
    uint32_t cp;
    switch (e) {
    case '"': d[k++] = '"'; break;
    case '\\': d[k++] = '\\'; break;
    case '/': d[k++] = '/'; break;
    case 'b': d[k++] = '\b'; break;
    case 'f': d[k++] = '\f'; break;
    case 'n': d[k++] = '\n'; break;
    case 'r': d[k++] = '\r'; break;
    case 't': d[k++] = '\t'; break;
    case 'u':
      if (hex4(J, &cp)) {
        free(d);
        return AR_EIO;
      }
      if (cp >= 0xD800 && cp <= 0xDBFF) {
        uint32_t lo;
        if (J->i + 2 > J->n || J->s[J->i] != '\\' || J->s[J->i + 1] != 'u') {
          free(d);
          return jerr(J, "unpaired surrogate in \\u escape");
        }
        J->i += 2;
        if (hex4(J, &lo) || lo < 0xDC00 || lo > 0xDFFF) {
          free(d);
          return jerr(J, "unpaired surrogate in \\u escape");
        }
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
      } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
        free(d);
        return jerr(J, "unpaired surrogate in \\u escape");
      }
      k += utf8_put(d + k, cp); /* \uXXXX is 6 bytes, its UTF-8 at most 4 */
      break;
    default:
      free(d);
      return jerr(J, "bad escape in a string");
    }
  }
  J->i++; /* the closing quote */
  d[k] = 0;
  if (!utf8_valid((const unsigned char *)d, k)) {
    free(d);
    return jerr(J, "string is not valid UTF-8");
  }
  *out = d;
  *len = k;
  return AR_OK;
}

/* A non-negative integer (no sign, fraction or exponent). */
static int juint(jp *J, uint64_t *v, const char *what) {
  ws(J);
  size_t st = J->i;
  uint64_t x = 0;
  while (J->i < J->n && J->s[J->i] >= '0' && J->s[J->i] <= '9') {
    unsigned d = (unsigned)(J->s[J->i] - '0');
    if (x > (UINT64_MAX - d) / 10) return jerr(J, "integer too large");
    x = x * 10 + d;
    J->i++;
  }
  if (J->i == st || (J->i - st > 1 && J->s[st] == '0') ||
      (J->i < J->n && (J->s[J->i] == '.' || J->s[J->i] == 'e' || J->s[J->i] == 'E'))) {
    char m[80];
    snprintf(m, sizeof m, "%s must be non-negative integers", what);
    return jerr(J, m);
  }
  *v = x;
  return AR_OK;
}

static int skip_value(jp *J, int depth);

static int skip_number(jp *J) {
  size_t st = J->i;
  if (J->s[J->i] == '-') J->i++;
  if (J->i >= J->n) return jerr(J, "bad number");
  if (J->s[J->i] == '0') {
    J->i++;
  } else if (J->s[J->i] >= '1' && J->s[J->i] <= '9') {
    while (J->i < J->n && J->s[J->i] >= '0' && J->s[J->i] <= '9') J->i++;
  } else {
    return jerr(J, "bad number");
  }
  if (J->i < J->n && J->s[J->i] == '.') {
    size_t f = ++J->i;
    while (J->i < J->n && J->s[J->i] >= '0' && J->s[J->i] <= '9') J->i++;
    if (J->i == f) return jerr(J, "bad number");
  }
  if (J->i < J->n && (J->s[J->i] == 'e' || J->s[J->i] == 'E')) {
    J->i++;
    if (J->i < J->n && (J->s[J->i] == '+' || J->s[J->i] == '-')) J->i++;
    size_t f = J->i;
    while (J->i < J->n && J->s[J->i] >= '0' && J->s[J->i] <= '9') J->i++;
    if (J->i == f) return jerr(J, "bad number");
  }
  return J->i > st ? AR_OK : jerr(J, "bad number");
}

static int skip_value(jp *J, int depth) {
  if (depth > ST_MAX_DEPTH) return jerr(J, "nested too deeply");
  ws(J);
  if (J->i >= J->n) return jerr(J, "unexpected end");
  char c = J->s[J->i];
  int rc;
  if (c == '"') {
    char *s;
    size_t l;
    if ((rc = jstring(J, &s, &l))) return rc;
    free(s);
    return AR_OK;
  }
  if (c == '{' || c == '[') {
    char close = c == '{' ? '}' : ']';
    J->i++;
    ws(J);
    if (J->i < J->n && J->s[J->i] == close) {
      J->i++;
      return AR_OK;
    }
    for (;;) {
      if (c == '{') {
        char *s;
        size_t l;
        if ((rc = jstring(J, &s, &l))) return rc;
        free(s);
        if ((rc = expect(J, ':'))) return rc;
      }
      if ((rc = skip_value(J, depth + 1))) return rc;
      ws(J);
      if (J->i < J->n && J->s[J->i] == ',') {
        J->i++;
        continue;
      }
      return expect(J, close);
    }
  }
  static const char *const lits[] = {"true", "false", "null"};
  for (int k = 0; k < 3; k++) {
    size_t l = strlen(lits[k]);
    if (J->n - J->i >= l && memcmp(J->s + J->i, lits[k], l) == 0) {
      J->i += l;
      return AR_OK;
    }
  }
  if (c == '-' || (c >= '0' && c <= '9')) return skip_number(J);
  return jerr(J, "unexpected character");
}

/* Calls item(J, ud, index) for each element of an array at the cursor. */
static int jarray(jp *J, int (*item)(jp *, void *, size_t), void *ud) {
  int rc;
  if ((rc = expect(J, '['))) return rc;
  ws(J);
  if (J->i < J->n && J->s[J->i] == ']') {
    J->i++;
    return AR_OK;
  }
  for (size_t k = 0;; k++) {
    if ((rc = item(J, ud, k))) return rc;
    ws(J);
    if (J->i < J->n && J->s[J->i] == ',') {
      J->i++;
      continue;
    }
    return expect(J, ']');
  }
}

/* ---------- reading ---------- */

typedef struct st_info {
  char *name;
  int dtype; /* -1 until seen */
  int ndim;  /* -1 until seen; may exceed AR_MAXDIM while parsing (refused after) */
  int64_t shape[AR_MAXDIM];
  int noffsets; /* -1 until seen */
  uint64_t off[2];
} st_info;

static int shape_item(jp *J, void *ud, size_t k) {
  st_info *e = ud;
  uint64_t v;
  int rc = juint(J, &v, "shape entries");
  if (rc) return rc;
  if (k >= AR_MAXDIM)
    return ar_seterr(J->C, AR_EIO, "%s: tensor '%s' has more than %d dims", J->path, e->name,
                     AR_MAXDIM);
  if (v > ((uint64_t)1 << 62))
    return ar_seterr(J->C, AR_EIO, "%s: tensor '%s' has a dimension of %llu", J->path, e->name,
                     (unsigned long long)v);
  e->shape[k] = (int64_t)v;
  e->ndim = (int)k + 1;
  return AR_OK;
}

static int offset_item(jp *J, void *ud, size_t k) {
  st_info *e = ud;
  uint64_t v;
  int rc = juint(J, &v, "data_offsets");
  if (rc) return rc;
  if (k >= 2)
    return ar_seterr(J->C, AR_EIO, "%s: tensor '%s': data_offsets must be [begin, end]",
                     J->path, e->name);
  e->off[k] = v;
  e->noffsets = (int)k + 1;
  return AR_OK;
}

/* One tensor's object {"dtype":..., "shape":[...], "data_offsets":[b, e]}. */
static int parse_entry(jp *J, st_info *e) {
  int rc;
  e->dtype = -1, e->ndim = -1, e->noffsets = -1;
  if ((rc = expect(J, '{'))) return rc;
  ws(J);
  if (J->i < J->n && J->s[J->i] == '}') {
    J->i++;
  } else {
    for (;;) {
      char *key;
      size_t kl;
      if ((rc = jstring(J, &key, &kl))) return rc;
      if ((rc = expect(J, ':'))) {
        free(key);
        return rc;
      }
      bool dup = false;
      if (strcmp(key, "dtype") == 0) {
        dup = e->dtype != -1;
        char *dt;
        size_t dl;
        if (!dup && !(rc = jstring(J, &dt, &dl))) {
          e->dtype = -2;
          for (int t = 0; t < ST_NTYPES; t++)
            if (strcmp(dt, st_names[t]) == 0) e->dtype = t;
          if (e->dtype == -2)
            rc = ar_seterr(J->C, AR_EIO,
                           "%s: tensor '%s' has dtype %.20s, which actrun cannot read "
                           "(supported: F32, F16, BF16, F64)",
                           J->path, e->name, dt);
          free(dt);
        }
      } else if (strcmp(key, "shape") == 0) {
        dup = e->ndim != -1;
        if (!dup) {
          e->ndim = 0;
          rc = jarray(J, shape_item, e);
        }
      } else if (strcmp(key, "data_offsets") == 0) {
        dup = e->noffsets != -1;
        if (!dup) {
          e->noffsets = 0;
          rc = jarray(J, offset_item, e);
        }
      } else {
        rc = skip_value(J, 2); /* unknown fields are ignored, as the reference reader does */
      }
      if (dup)
        rc = ar_seterr(J->C, AR_EIO, "%s: tensor '%s' has '%s' twice", J->path, e->name, key);
      free(key);
      if (rc) return rc;
      ws(J);
      if (J->i < J->n && J->s[J->i] == ',') {
        J->i++;
        continue;
      }
      if ((rc = expect(J, '}'))) return rc;
      break;
    }
  }
  const char *missing = e->dtype < 0 ? "dtype" : e->ndim < 0 ? "shape"
                        : e->noffsets < 0 ? "data_offsets" : NULL;
  if (missing)
    return ar_seterr(J->C, AR_EIO, "%s: tensor '%s' has no '%s'", J->path, e->name, missing);
  if (e->noffsets != 2)
    return ar_seterr(J->C, AR_EIO, "%s: tensor '%s': data_offsets must be [begin, end]",
                     J->path, e->name);
  return AR_OK;
}

static int parse_meta(jp *J, io_st_file *f) {
  int rc;
  size_t cap = 0;
  if ((rc = expect(J, '{'))) return rc;
  ws(J);
  if (J->i < J->n && J->s[J->i] == '}') {
    J->i++;
    return AR_OK;
  }
  for (;;) {
    if (2 * f->nmeta + 2 > cap) {
      size_t nc = cap ? cap * 2 : 8;
      char **m = realloc(f->meta, nc * sizeof *m);
      if (!m) return ar_seterr(J->C, AR_ENOMEM, "%s: out of memory reading the header", J->path);
      f->meta = m, cap = nc;
    }
    size_t l;
    char *k, *v;
    if ((rc = jstring(J, &k, &l))) return rc;
    f->meta[2 * f->nmeta] = k;
    f->meta[2 * f->nmeta + 1] = NULL;
    f->nmeta++;
    if ((rc = expect(J, ':'))) return rc;
    ws(J);
    if (J->i >= J->n || J->s[J->i] != '"')
      return ar_seterr(J->C, AR_EIO, "%s: __metadata__ value of '%s' is not a string", J->path,
                       k);
    if ((rc = jstring(J, &v, &l))) return rc;
    f->meta[2 * f->nmeta - 1] = v;
    ws(J);
    if (J->i < J->n && J->s[J->i] == ',') {
      J->i++;
      continue;
    }
    return expect(J, '}');
  }
}

static int cmp_name(const void *a, const void *b) {
  return strcmp((*(const st_info *const *)a)->name, (*(const st_info *const *)b)->name);
}
static int cmp_off(const void *a, const void *b) {
  const st_info *x = *(const st_info *const *)a, *y = *(const st_info *const *)b;
  if (x->off[0] != y->off[0]) return x->off[0] < y->off[0] ? -1 : 1;
  if (x->off[1] != y->off[1]) return x->off[1] < y->off[1] ? -1 : 1;
  return 0;
}

static void infos_free(st_info *v, size_t n) {
  for (size_t i = 0; i < n; i++) free(v[i].name);
  free(v);
}

void io_st_free(io_st_file *f) {
  for (size_t i = 0; i < f->n; i++) {
    free(f->e[i].name);
    ar_release(&f->e[i].t);
  }
  free(f->e);
  for (size_t i = 0; i < 2 * f->nmeta; i++) free(f->meta[i]);
  free(f->meta);
  memset(f, 0, sizeof *f);
}

/* Parses the header into infos; checks everything that does not need the data. */
static int parse_header(jp *J, io_st_file *f, st_info **pv, size_t *pn, uint64_t data_len) {
  int rc;
  st_info *v = NULL;
  size_t n = 0, cap = 0;
  bool have_meta = false;
  *pv = NULL, *pn = 0;
  if ((rc = expect(J, '{'))) return rc;
  ws(J);
  if (J->i < J->n && J->s[J->i] == '}') {
    J->i++;
  } else {
    for (;;) {
      char *key;
      size_t kl;
      if ((rc = jstring(J, &key, &kl))) goto fail;
      if (strcmp(key, "__metadata__") == 0) {
        free(key);
        if (have_meta) {
          rc = ar_seterr(J->C, AR_EIO, "%s: __metadata__ appears twice", J->path);
          goto fail;
        }
        have_meta = true;
        if ((rc = expect(J, ':')) || (rc = parse_meta(J, f))) goto fail;
      } else {
        if (strlen(key) != kl) {
          free(key);
          rc = ar_seterr(J->C, AR_EIO, "%s: a tensor name contains a NUL character", J->path);
          goto fail;
        }
        if (n == cap) {
          size_t nc = cap ? cap * 2 : 16;
          st_info *nv = realloc(v, nc * sizeof *nv);
          if (!nv) {
            free(key);
            rc = ar_seterr(J->C, AR_ENOMEM, "%s: out of memory reading the header", J->path);
            goto fail;
          }
          v = nv, cap = nc;
        }
        memset(&v[n], 0, sizeof v[n]);
        v[n].name = key;
        n++;
        if ((rc = expect(J, ':')) || (rc = parse_entry(J, &v[n - 1]))) goto fail;
      }
      ws(J);
      if (J->i < J->n && J->s[J->i] == ',') {
        J->i++;
        continue;
      }
      if ((rc = expect(J, '}'))) goto fail;
      break;
    }
  }
  ws(J);
  if (J->i != J->n) {
    rc = jerr(J, "unexpected data after the header object");
    goto fail;
  }
  if (n == 0) goto ok;
  /* each entry on its own, then names unique and offsets tiling the data */
  st_info **ord = malloc(n * sizeof *ord);
  if (!ord) {
    rc = ar_seterr(J->C, AR_ENOMEM, "%s: out of memory reading the header", J->path);
    goto fail;
  }
  for (size_t i = 0; i < n; i++) {
    st_info *e = &v[i];
    ord[i] = e;
    /* the product of the non-zero sizes must fit a tensor even when a zero size makes
     * it empty (strides are products of the later sizes) */
    uint64_t numel = 1;
    bool over = false, empty = false;
    for (int d = 0; d < e->ndim; d++) {
      uint64_t s = (uint64_t)e->shape[d];
      if (s == 0)
        empty = true;
      else if (numel > ((uint64_t)1 << 58) / s)
        over = true;
      else
        numel *= s;
    }
    if (empty) numel = 0;
    if (e->off[0] > e->off[1]) {
      rc = ar_seterr(J->C, AR_EIO, "%s: tensor '%s' has data_offsets [%llu,%llu] (begin > end)",
                     J->path, e->name, (unsigned long long)e->off[0],
                     (unsigned long long)e->off[1]);
    } else if (e->off[1] > data_len) {
      rc = ar_seterr(J->C, AR_EIO,
                     "%s: tensor '%s' has data_offsets [%llu,%llu] beyond the data section "
                     "(%llu bytes)",
                     J->path, e->name, (unsigned long long)e->off[0],
                     (unsigned long long)e->off[1], (unsigned long long)data_len);
    } else if (over) {
      char s[200];
      rc = ar_seterr(J->C, AR_EIO,
                     "%s: tensor '%s' has shape %s, too large for its data_offsets [%llu,%llu] "
                     "(%llu bytes)",
                     J->path, e->name, ar_shape_str(e->ndim, e->shape, s, sizeof s),
                     (unsigned long long)e->off[0], (unsigned long long)e->off[1],
                     (unsigned long long)(e->off[1] - e->off[0]));
    } else if (numel * (uint64_t)st_size[e->dtype] != e->off[1] - e->off[0]) {
      char s[200];
      rc = ar_seterr(J->C, AR_EIO,
                     "%s: tensor '%s' has shape %s of %s (%llu bytes) but data_offsets "
                     "[%llu,%llu] hold %llu bytes",
                     J->path, e->name, ar_shape_str(e->ndim, e->shape, s, sizeof s),
                     st_names[e->dtype], (unsigned long long)(numel * (uint64_t)st_size[e->dtype]),
                     (unsigned long long)e->off[0], (unsigned long long)e->off[1],
                     (unsigned long long)(e->off[1] - e->off[0]));
    }
    if (rc) {
      free(ord);
      goto fail;
    }
  }
  qsort(ord, n, sizeof *ord, cmp_name);
  for (size_t i = 1; i < n; i++)
    if (strcmp(ord[i - 1]->name, ord[i]->name) == 0) {
      rc = ar_seterr(J->C, AR_EIO, "%s: tensor '%s' appears twice", J->path, ord[i]->name);
      free(ord);
      goto fail;
    }
  qsort(ord, n, sizeof *ord, cmp_off);
  uint64_t at = 0;
  for (size_t i = 0; i < n; i++) {
    const st_info *e = ord[i];
    if (e->off[0] != at) {
      if (e->off[0] < at)
        rc = ar_seterr(J->C, AR_EIO,
                       "%s: tensor '%s' (data_offsets [%llu,%llu]) overlaps tensor '%s' "
                       "(data_offsets [%llu,%llu])",
                       J->path, e->name, (unsigned long long)e->off[0],
                       (unsigned long long)e->off[1], ord[i - 1]->name,
                       (unsigned long long)ord[i - 1]->off[0],
                       (unsigned long long)ord[i - 1]->off[1]);
      else
        rc = ar_seterr(J->C, AR_EIO,
                       "%s: the data section has a gap of %llu bytes before tensor '%s' "
                       "(data_offsets [%llu,%llu])",
                       J->path, (unsigned long long)(e->off[0] - at), e->name,
                       (unsigned long long)e->off[0], (unsigned long long)e->off[1]);
      free(ord);
      goto fail;
    }
    at = e->off[1];
  }
  free(ord);
ok: {
    uint64_t used = 0;
    for (size_t i = 0; i < n; i++)
      if (v[i].off[1] > used) used = v[i].off[1];
    if (used != data_len) {
      rc = ar_seterr(J->C, AR_EIO,
                     "%s: %llu bytes after the last tensor's data (the file is %llu bytes "
                     "longer than its header describes)",
                     J->path, (unsigned long long)(data_len - used),
                     (unsigned long long)(data_len - used));
      goto fail;
    }
  }
  *pv = v, *pn = n;
  return AR_OK;
fail:
  infos_free(v, n);
  return rc;
}

int io_st_read(ar_ctx *C, const char *path, io_st_file *out) {
  memset(out, 0, sizeof *out);
  FILE *fp = fopen(path, "rb");
  if (!fp) return ar_seterr(C, AR_EIO, "%s: cannot open (%s)", path, strerror(errno));
  int rc = AR_OK;
  char *hdr = NULL;
  st_info *v = NULL;
  size_t n = 0;
  unsigned char *buf = NULL;
  struct stat sb;
  if (fstat(fileno(fp), &sb) != 0 || !S_ISREG(sb.st_mode)) {
    rc = ar_seterr(C, AR_EIO, "%s: not a regular file", path);
    goto done;
  }
  uint64_t size = (uint64_t)sb.st_size;
  unsigned char lenb[8];
  if (size < 8 || fread(lenb, 1, 8, fp) != 8) {
    rc = ar_seterr(C, AR_EIO,
                   "%s: truncated: %llu bytes, too short for the 8-byte header length",
                   path, (unsigned long long)size);
    goto done;
  }
  uint64_t hl = 0;
  for (int k = 7; k >= 0; k--) hl = hl << 8 | lenb[k];
  if (hl > IO_ST_MAX_HEADER) {
    /* the first 8 bytes of another kind of file (text, a zip, a pickle) read as a length */
    rc = ar_seterr(C, AR_EIO,
                   "%s: not a safetensors file: its first 8 bytes give a header length of %llu,"
                   " which exceeds the limit of %llu bytes",
                   path,
                   (unsigned long long)hl, (unsigned long long)IO_ST_MAX_HEADER);
    goto done;
  }
  if (hl > size - 8) {
    rc = ar_seterr(C, AR_EIO,
                   "%s: truncated: the header length is %llu bytes but only %llu follow", path,
                   (unsigned long long)hl, (unsigned long long)(size - 8));
    goto done;
  }
  if (hl < 2) {
    rc = ar_seterr(C, AR_EIO,
                   "%s: not a safetensors file: a header of %llu bytes is too short to be a"
                   " JSON object",
                   path, (unsigned long long)hl);
    goto done;
  }
  hdr = malloc((size_t)hl);
  if (!hdr) {
    rc = ar_seterr(C, AR_ENOMEM, "%s: out of memory for a header of %llu bytes", path,
                   (unsigned long long)hl);
    goto done;
  }
  if (fread(hdr, 1, (size_t)hl, fp) != hl) {
    rc = ar_seterr(C, AR_EIO, "%s: read error in the header", path);
    goto done;
  }
  jp J = {hdr, (size_t)hl, 0, C, path};
  ws(&J);
  if (J.i >= J.n || hdr[J.i] != '{') {
    rc = ar_seterr(C, AR_EIO,
                   "%s: not a safetensors file: the header is not a JSON object (it does not"
                   " start with '{')",
                   path);
    goto done;
  }
  if ((rc = parse_header(&J, out, &v, &n, size - 8 - hl))) goto done;
  free(hdr);
  hdr = NULL;

  /* the data, in file order */
  out->e = calloc(n ? n : 1, sizeof *out->e);
  if (!out->e) {
    rc = ar_seterr(C, AR_ENOMEM, "%s: out of memory", path);
    goto done;
  }
  st_info **ord = malloc((n ? n : 1) * sizeof *ord);
  if (!ord) {
    rc = ar_seterr(C, AR_ENOMEM, "%s: out of memory", path);
    goto done;
  }
  for (size_t i = 0; i < n; i++) ord[i] = &v[i];
  qsort(ord, n, sizeof *ord, cmp_off);
  const size_t CH = 1 << 16;
  buf = malloc(CH * 8);
  if (!buf) {
    free(ord);
    rc = ar_seterr(C, AR_ENOMEM, "%s: out of memory", path);
    goto done;
  }
  for (size_t i = 0; i < n; i++) {
    st_info *e = ord[i];
    io_st_entry *d = &out->e[e - v]; /* header order */
    out->n = n;
    if ((rc = ar_empty(C, &d->t, e->ndim, e->shape))) break;
    snprintf(d->dtype, sizeof d->dtype, "%s", st_names[e->dtype]);
    size_t numel = (size_t)ar_numel(&d->t), es = (size_t)st_size[e->dtype];
    float *dst = ar_data(&d->t);
    for (size_t k = 0; k < numel;) {
      size_t m = numel - k < CH ? numel - k : CH;
      if (fread(buf, es, m, fp) != m) {
        rc = ar_seterr(C, AR_EIO, "%s: read error in the data of tensor '%s'", path, e->name);
        break;
      }
      convert(dst + k, buf, (st_dtype)e->dtype, m);
      k += m;
    }
    if (rc) break;
  }
  free(ord);
  if (rc) goto done;
  for (size_t i = 0; i < n; i++) {
    out->e[i].name = v[i].name;
    v[i].name = NULL;
  }
  out->n = n;
done:
  free(buf);
  free(hdr);
  infos_free(v, n);
  fclose(fp);
  if (rc) io_st_free(out);
  return rc;
}

/* ---------- writing ---------- */

typedef struct sbuf {
  char *p;
  size_t n, cap;
  bool oom;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t l) {
  if (b->oom) return;
  if (b->n + l + 1 > b->cap) {
    size_t nc = b->cap ? b->cap : 256;
    while (nc < b->n + l + 1) nc *= 2;
    char *p = realloc(b->p, nc);
    if (!p) {
      b->oom = true;
      return;
    }
    b->p = p, b->cap = nc;
  }
  memcpy(b->p + b->n, s, l);
  b->n += l;
  b->p[b->n] = 0;
}
static void sb_str(sbuf *b, const char *s) { sb_put(b, s, strlen(s)); }

/* A JSON string literal of s (UTF-8, already validated). */
static void sb_json(sbuf *b, const char *s) {
  sb_put(b, "\"", 1);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') {
      char e[2] = {'\\', (char)c};
      sb_put(b, e, 2);
    } else if (c < 0x20) {
      char e[8];
      snprintf(e, sizeof e, "\\u%04x", c);
      sb_put(b, e, 6);
    } else {
      sb_put(b, (const char *)s, 1);
    }
  }
  sb_put(b, "\"", 1);
}

typedef struct widx {
  const char *name;
  size_t i;
} widx;
static int cmp_widx(const void *a, const void *b) {
  return strcmp(((const widx *)a)->name, ((const widx *)b)->name);
}

int io_st_write(ar_ctx *C, const char *path, const char *const *names,
                const ar_tensor *const *tensors, size_t n, const char *const *meta,
                size_t nmeta, int64_t fail_after) {
  widx *ord = malloc((n ? n : 1) * sizeof *ord);
  widx *mord = malloc((nmeta ? nmeta : 1) * sizeof *mord);
  sbuf h = {0};
  int rc = AR_OK;
  if (!ord || !mord) {
    rc = ar_seterr(C, AR_ENOMEM, "out of memory");
    goto done;
  }
  for (size_t i = 0; i < n; i++) {
    if (!utf8_valid((const unsigned char *)names[i], strlen(names[i]))) {
      rc = ar_seterr(C, AR_EARG, "tensor name '%s' is not valid UTF-8", names[i]);
      goto done;
    }
    if (strcmp(names[i], "__metadata__") == 0) {
      rc = ar_seterr(C, AR_EARG, "'__metadata__' is reserved and cannot name a tensor");
      goto done;
    }
    ord[i].name = names[i], ord[i].i = i;
  }
  for (size_t i = 0; i < 2 * nmeta; i++)
    if (!utf8_valid((const unsigned char *)meta[i], strlen(meta[i]))) {
      rc = ar_seterr(C, AR_EARG, "metadata string '%s' is not valid UTF-8", meta[i]);
      goto done;
    }
  for (size_t i = 0; i < nmeta; i++) mord[i].name = meta[2 * i], mord[i].i = i;
  qsort(ord, n, sizeof *ord, cmp_widx);
  qsort(mord, nmeta, sizeof *mord, cmp_widx);
  for (size_t i = 1; i < n; i++)
    if (strcmp(ord[i - 1].name, ord[i].name) == 0) {
      rc = ar_seterr(C, AR_EARG, "tensor name '%s' appears twice", ord[i].name);
      goto done;
    }
  for (size_t i = 1; i < nmeta; i++)
    if (strcmp(mord[i - 1].name, mord[i].name) == 0) {
      rc = ar_seterr(C, AR_EARG, "metadata key '%s' appears twice", mord[i].name);
      goto done;
    }

  /* the header */
  sb_str(&h, "{");
  bool first = true;
  if (nmeta) {
    sb_str(&h, "\"__metadata__\":{");
    for (size_t i = 0; i < nmeta; i++) {
      if (i) sb_str(&h, ",");
      sb_json(&h, meta[2 * mord[i].i]);
      sb_str(&h, ":");
      sb_json(&h, meta[2 * mord[i].i + 1]);
    }
    sb_str(&h, "}");
    first = false;
  }
  uint64_t off = 0;
  for (size_t i = 0; i < n; i++) {
    const ar_tensor *t = tensors[ord[i].i];
    char num[64];
    if (!first) sb_str(&h, ",");
    first = false;
    sb_json(&h, ord[i].name);
    sb_str(&h, ":{\"dtype\":\"F32\",\"shape\":[");
    for (int d = 0; d < t->ndim; d++) {
      snprintf(num, sizeof num, "%s%lld", d ? "," : "", (long long)t->shape[d]);
      sb_str(&h, num);
    }
    uint64_t bytes = (uint64_t)ar_numel(t) * 4;
    snprintf(num, sizeof num, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)off,
             (unsigned long long)(off + bytes));
    sb_str(&h, num);
    off += bytes;
  }
  sb_str(&h, "}");
  while (!h.oom && h.n % 8) sb_str(&h, " ");
  if (h.oom) {
    rc = ar_seterr(C, AR_ENOMEM, "out of memory building the header");
    goto done;
  }

  io_writer *w;
  if ((rc = io_writer_open(C, path, &w))) goto done;
  if (fail_after >= 0) io_writer_fail_after(w, fail_after);
  unsigned char lenb[8];
  for (int k = 0; k < 8; k++) lenb[k] = (unsigned char)((uint64_t)h.n >> (8 * k));
  if ((rc = io_writer_write(C, w, lenb, 8)) || (rc = io_writer_write(C, w, h.p, h.n))) {
    io_writer_abort(w);
    goto done;
  }
  for (size_t i = 0; i < n; i++) {
    const ar_tensor *t = tensors[ord[i].i];
    ar_tensor c;
    if ((rc = ar_contiguous(C, &c, t))) {
      io_writer_abort(w);
      goto done;
    }
    if (ar_numel(&c)) rc = io_writer_write(C, w, ar_data(&c), (size_t)ar_numel(&c) * 4);
    ar_release(&c);
    if (rc) {
      io_writer_abort(w);
      goto done;
    }
  }
  rc = io_writer_commit(C, w);
done:
  free(h.p);
  free(ord);
  free(mord);
  return rc;
}
