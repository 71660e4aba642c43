/* IDX reader (LeCun's MNIST format): magic 0x00 0x00 TYPE NDIMS, NDIMS big-endian 32-bit
 * sizes, then the values, big-endian, row-major. zlib's gzread reads gzip and plain files
 * alike, so one code path serves both.
 *
 * The header is untrusted: a corrupt or hostile file can declare terabytes. The data is
 * therefore read into a buffer that grows only as bytes actually arrive (never beyond the
 * declared size), and the float tensor is allocated once the whole payload is in hand. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "io/io.h"

#define CHUNK (1u << 20)

static int elem_size(int type, const char **name) {
  switch (type) {
  case 0x08: *name = "ubyte"; return 1;
  case 0x09: *name = "byte"; return 1;
  case 0x0B: *name = "short"; return 2;
  case 0x0C: *name = "int"; return 4;
  case 0x0D: *name = "float"; return 4;
  case 0x0E: *name = "double"; return 8;
  default: return 0;
  }
}

static uint32_t be32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static uint64_t be64(const unsigned char *p) { return (uint64_t)be32(p) << 32 | be32(p + 4); }

/* Reads up to n bytes; returns the count read, or -1 on a read/decompression error. */
static int64_t read_full(gzFile f, unsigned char *buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    unsigned want = n - got > CHUNK ? CHUNK : (unsigned)(n - got);
    int r = gzread(f, buf + got, want);
    if (r < 0) return -1;
    if (r == 0) break;
    got += (size_t)r;
  }
  return (int64_t)got;
}

static int gz_fail(ar_ctx *C, gzFile f, const char *path, const char *what) {
  int zerr = 0;
  const char *m = gzerror(f, &zerr);
  return ar_seterr(C, AR_EIO, "%s: %s (%s)", path, what,
                   zerr == Z_ERRNO ? strerror(errno) : (m && *m ? m : "read error"));
}

static void convert(float *dst, const unsigned char *src, int type, size_t n) {
  switch (type) {
  case 0x08:
    for (size_t i = 0; i < n; i++) dst[i] = (float)src[i];
    break;
  case 0x09:
    for (size_t i = 0; i < n; i++) dst[i] = (float)(int8_t)src[i];
    break;
  case 0x0B:
    for (size_t i = 0; i < n; i++)
      dst[i] = (float)(int16_t)(uint16_t)((unsigned)src[2 * i] << 8 | src[2 * i + 1]);
    break;
  case 0x0C:
    for (size_t i = 0; i < n; i++) dst[i] = (float)(int32_t)be32(src + 4 * i);
    break;
  case 0x0D:
    for (size_t i = 0; i < n; i++) {
      uint32_t u = be32(src + 4 * i);
      memcpy(&dst[i], &u, 4);
    }
    break;
  case 0x0E:
    for (size_t i = 0; i < n; i++) {
      uint64_t u = be64(src + 8 * i);
      double d;
      memcpy(&d, &u, 8);
      dst[i] = (float)d;
    }
    break;
  }
}

static int read_idx(ar_ctx *C, gzFile f, const char *path, int64_t max_rows, ar_tensor *out,
                    unsigned char **bufp) {
  unsigned char head[4 + 4 * AR_MAXDIM];
  int64_t got = read_full(f, head, 4);
  if (got < 0) return gz_fail(C, f, path, "cannot read");
  if (got < 4)
    return ar_seterr(C, AR_EIO, "%s: not an IDX file (only %lld bytes, the header needs 4)",
                     path, (long long)got);
  const char *tname = NULL;
  int type = head[2], ndim = head[3];
  int esize = elem_size(type, &tname);
  if (head[0] != 0 || head[1] != 0 || !esize)
    return ar_seterr(C, AR_EIO,
                     "%s: not an IDX file (bad magic %02x %02x %02x %02x: expected 00 00, "
                     "then a type among 08 09 0b 0c 0d 0e)",
                     path, head[0], head[1], head[2], head[3]);
  if (ndim < 1 || ndim > AR_MAXDIM)
    return ar_seterr(C, AR_EIO, "%s: IDX file declares %d dimensions, expected 1..%d", path,
                     ndim, AR_MAXDIM);
  got = read_full(f, head + 4, 4 * (size_t)ndim);
  if (got < 0) return gz_fail(C, f, path, "cannot read");
  if (got < 4 * ndim)
    return ar_seterr(C, AR_EIO, "%s: truncated header: expected %d bytes of sizes, got %lld",
                     path, 4 * ndim, (long long)got);
  int64_t shape[AR_MAXDIM];
  uint64_t numel = 1;
  for (int d = 0; d < ndim; d++) {
    uint32_t s = be32(head + 4 + 4 * d);
    if (s == 0)
      return ar_seterr(C, AR_EIO, "%s: IDX dimension %d has size 0, expected > 0", path, d + 1);
    shape[d] = s;
    if (__builtin_mul_overflow(numel, (uint64_t)s, &numel))
      return ar_seterr(C, AR_EIO, "%s: IDX sizes overflow (too many elements)", path);
  }
  uint64_t nbytes;
  if (__builtin_mul_overflow(numel, (uint64_t)esize, &nbytes) || nbytes > (uint64_t)SIZE_MAX / 2)
    return ar_seterr(C, AR_EIO, "%s: IDX sizes overflow (too many bytes)", path);
  bool partial = max_rows > 0 && max_rows < shape[0];
  if (partial) {
    nbytes = nbytes / (uint64_t)shape[0] * (uint64_t)max_rows;
    numel = numel / (uint64_t)shape[0] * (uint64_t)max_rows;
    shape[0] = max_rows;
  }
  int rc = ar_check_shape(C, ndim, shape);
  if (rc) return ar_seterr(C, AR_EIO, "%s: %s", path, ar_errmsg(C));

  /* grow the buffer with the data actually read, never to the declared size up front */
  size_t cap = 0, have = 0;
  unsigned char *buf = NULL;
  while (have < nbytes) {
    if (have == cap) {
      size_t ncap = cap ? cap * 2 : CHUNK;
      if (ncap > nbytes) ncap = (size_t)nbytes;
      unsigned char *nb = realloc(buf, ncap);
      if (!nb) {
        *bufp = buf;
        return ar_seterr(C, AR_ENOMEM, "%s: out of memory reading %llu bytes", path,
                         (unsigned long long)nbytes);
      }
      buf = nb;
      cap = ncap;
    }
    *bufp = buf;
    int64_t r = read_full(f, buf + have, cap - have);
    if (r < 0) {
      int zerr = 0;
      gzerror(f, &zerr);
      /* a cut gzip stream: report it as the truncation it is */
      if (zerr != Z_BUF_ERROR) return gz_fail(C, f, path, "cannot read the data");
      r = 0;
    }
    have += (size_t)r;
    if (have < cap) break; /* end of file */
  }
  *bufp = buf;
  if (have < nbytes)
    return ar_seterr(C, AR_EIO, "%s: truncated: expected %llu bytes of data, got %zu", path,
                     (unsigned long long)nbytes, have);
  if (!partial) {
    unsigned char extra[256];
    int64_t r = read_full(f, extra, sizeof extra);
    if (r < 0) return gz_fail(C, f, path, "cannot read the end of the data");
    if (r > 0)
      return ar_seterr(C, AR_EIO,
                       "%s: trailing bytes after the data: expected %llu bytes of %s data, "
                       "the file has more",
                       path, (unsigned long long)nbytes, tname);
  }
  rc = ar_empty(C, out, ndim, shape);
  if (rc) return rc;
  convert(ar_data(out), buf, type, (size_t)numel);
  return AR_OK;
}

int io_read_idx(ar_ctx *C, const char *path, int64_t max_rows, ar_tensor *out) {
  memset(out, 0, sizeof *out);
  if (!path) return ar_seterr(C, AR_EARG, "path is NULL");
  errno = 0;
  gzFile f = gzopen(path, "rb");
  if (!f)
    return ar_seterr(C, AR_EIO, "%s: cannot open (%s)", path,
                     errno ? strerror(errno) : "out of memory");
  gzbuffer(f, 1u << 17);
  unsigned char *buf = NULL;
  int rc = read_idx(C, f, path, max_rows, out, &buf);
  free(buf);
  gzclose(f);
  return rc;
}
