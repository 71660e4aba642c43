/* CSV of numbers: comma separated, one row per line, optional header line of names.
 * Accepts \n or \r\n line ends, a missing or present final newline, blank lines (skipped),
 * spaces around fields, double-quoted fields (quotes stripped; "" is a quote) and a leading
 * UTF-8 byte-order mark (skipped). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/io.h"

typedef struct {
  char *text;
  size_t len;
} file_text;

static int slurp(ar_ctx *C, const char *path, file_text *ft) {
  errno = 0;
  FILE *f = fopen(path, "rb");
  if (!f) return ar_seterr(C, AR_EIO, "%s: cannot open (%s)", path, strerror(errno));
  size_t cap = 1 << 16, len = 0;
  errno = 0;
  char *buf = malloc(cap + 1);
  while (buf) {
    size_t r = fread(buf + len, 1, cap - len, f);
    len += r;
    if (len < cap) break;
    char *nb = realloc(buf, cap * 2 + 1);
    if (!nb) { free(buf); buf = NULL; break; }
    buf = nb;
    cap *= 2;
  }
  int err = ferror(f) ? (errno ? errno : EIO) : 0;
  fclose(f);
  if (!buf) return ar_seterr(C, AR_ENOMEM, "%s: out of memory reading the file", path);
  if (err) {
    free(buf);
    return ar_seterr(C, AR_EIO, "%s: cannot read (%s)", path, strerror(err));
  }
  buf[len] = 0;
  ft->text = buf;
  ft->len = len;
  return AR_OK;
}

/* Fields of a line, by the same rules as split() below (a quote opens a quoted field only
 * at the start of a field; "" inside one is a quote; anything after the closing quote up
 * to the comma is ignored), so the two always agree. Leaves the line intact. */
static int count_fields(const char *p) {
  int n = 0;
  for (;;) {
    while (*p == ' ' || *p == '\t') p++;
    if (*p == '"') {
      p++;
      while (*p) {
        if (*p == '"') {
          if (p[1] == '"') { p += 2; continue; }
          p++;
          break;
        }
        p++;
      }
    }
    while (*p && *p != ',') p++;
    n++;
    if (*p != ',') return n;
    p++;
  }
}

/* Splits one line (without its end) in place into fields; returns the count. Fields are
 * unquoted and trimmed. */
static int split(char *line, char **fields, int max) {
  int n = 0;
  char *p = line;
  for (;;) {
    while (*p == ' ' || *p == '\t') p++;
    char *start = p, *w = p;
    if (*p == '"') {
      p++;
      for (;;) {
        if (!*p) break;
        if (*p == '"') {
          if (p[1] == '"') { *w++ = '"'; p += 2; continue; }
          p++;
          break;
        }
        *w++ = *p++;
      }
      while (*p && *p != ',') p++; /* anything after the closing quote is ignored */
    } else {
      while (*p && *p != ',') *w++ = *p++;
      while (w > start && (w[-1] == ' ' || w[-1] == '\t')) w--;
    }
    char sep = *p;
    *w = 0;
    if (n < max) fields[n] = start;
    n++;
    if (sep != ',') break;
    p++;
  }
  return n;
}

void io_free_names(char **names, int ncols) {
  if (!names) return;
  for (int i = 0; i < ncols; i++) free(names[i]);
  free(names);
}

int io_read_csv(ar_ctx *C, const char *path, bool header, ar_tensor *out, char ***names,
                int *ncols) {
  memset(out, 0, sizeof *out);
  *names = NULL;
  *ncols = 0;
  if (!path) return ar_seterr(C, AR_EARG, "path is NULL");
  file_text ft = {NULL, 0};
  int rc = slurp(C, path, &ft);
  if (rc) return rc;

  float *vals = NULL;
  char **fields = NULL, **hdr = NULL;
  size_t nvals = 0, cap = 0;
  int cols = -1;
  int64_t rows = 0, lineno = 0;
  char *p = ft.text, *end = ft.text + ft.len;
  /* a UTF-8 byte-order mark (Excel's "CSV UTF-8") is an encoding marker, not text: left
   * in, it would become part of the first column's name or make the first number bad */
  if (ft.len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) p += 3;
  rc = AR_OK;
  while (p < end && rc == AR_OK) {
    char *nl = memchr(p, '\n', (size_t)(end - p));
    char *le = nl ? nl : end;
    char *next = nl ? nl + 1 : end;
    lineno++;
    if (le > p && le[-1] == '\r') le--;
    *le = 0;
    char *q = p;
    while (*q == ' ' || *q == '\t') q++;
    if (!*q) { p = next; continue; } /* blank line */
    if (memchr(p, 0, (size_t)(le - p)) != NULL) {
      rc = ar_seterr(C, AR_EIO, "%s: line %lld contains a NUL byte (not a text file?)", path,
                     (long long)lineno);
      break;
    }
    int n = count_fields(p);
    if (cols < 0) {
      cols = n;
      fields = malloc(sizeof(char *) * (size_t)cols);
      if (!fields) { rc = ar_seterr(C, AR_ENOMEM, "%s: out of memory", path); break; }
    } else if (n != cols) {
      rc = ar_seterr(C, AR_EIO, "%s: row %lld (line %lld) has %d columns, expected %d", path,
                     (long long)rows + 1, (long long)lineno, n, cols);
      break;
    }
    if (split(p, fields, cols) != cols) { /* cannot happen: count_fields follows split */
      rc = ar_seterr(C, AR_EIO, "%s: line %lld: could not split its fields", path, (long long)lineno);
      break;
    }
    if (header && !hdr) {
      hdr = calloc((size_t)cols, sizeof(char *));
      if (!hdr) { rc = ar_seterr(C, AR_ENOMEM, "%s: out of memory", path); break; }
      for (int i = 0; i < cols; i++)
        if (!(hdr[i] = strdup(fields[i]))) rc = ar_seterr(C, AR_ENOMEM, "%s: out of memory", path);
      p = next;
      continue;
    }
    if (nvals + (size_t)cols > cap) {
      size_t ncap = cap ? cap * 2 : 1024;
      while (ncap < nvals + (size_t)cols) ncap *= 2;
      float *nv = realloc(vals, ncap * sizeof(float));
      if (!nv) { rc = ar_seterr(C, AR_ENOMEM, "%s: out of memory", path); break; }
      vals = nv;
      cap = ncap;
    }
    for (int i = 0; i < cols; i++) {
      char *e;
      errno = 0;
      double v = strtod(fields[i], &e);
      if (e == fields[i] || *e) {
        rc = ar_seterr(C, AR_EIO,
                       "%s: row %lld (line %lld), column %d: expected a number, got \"%.40s\"",
                       path, (long long)rows + 1, (long long)lineno, i + 1, fields[i]);
        break;
      }
      vals[nvals++] = (float)v;
    }
    rows++;
    p = next;
  }
  if (rc == AR_OK && cols < 0) rc = ar_seterr(C, AR_EIO, "%s: empty file (no rows)", path);
  if (rc == AR_OK) {
    int64_t shape[2] = {rows, cols};
    rc = ar_empty(C, out, 2, shape);
    if (rc == AR_OK && nvals) memcpy(ar_data(out), vals, nvals * sizeof(float));
  }
  free(vals);
  free(fields);
  free(ft.text);
  if (rc == AR_OK && hdr) {
    *names = hdr;
    *ncols = cols;
  } else {
    io_free_names(hdr, cols);
    if (rc == AR_OK) *ncols = cols;
  }
  return rc;
}
