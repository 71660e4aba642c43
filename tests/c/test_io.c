/* IDX and CSV readers: good files of every IDX type (raw and gzip), and the broken ones a
 * reader meets in practice (truncated, wrong magic, absurd sizes, extra bytes). Files are
 * written by the tests into a fresh temporary directory. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <zlib.h>

#include "core/core.h"
#include "io/io.h"

static ar_ctx *C;
static char dir[256];
static void setup(void) {
  C = ar_ctx_new();
  snprintf(dir, sizeof dir, "%s/actrun_io_XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
  cr_assert_not_null(mkdtemp(dir));
}
static void teardown(void) {
  ar_ctx_release(C);
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  cr_assert_eq(system(cmd), 0);
}
TestSuite(idx, .init = setup, .fini = teardown);
TestSuite(csv, .init = setup, .fini = teardown);
TestSuite(loader, .init = setup, .fini = teardown);

static const char *path_of(const char *name) {
  static char p[400];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  return p;
}

static void write_file(const char *name, const void *bytes, size_t n, bool gz) {
  const char *p = path_of(name);
  if (gz) {
    gzFile f = gzopen(p, "wb");
    cr_assert_not_null(f);
    if (n) cr_assert_eq(gzwrite(f, bytes, (unsigned)n), (int)n);
    cr_assert_eq(gzclose(f), Z_OK);
  } else {
    FILE *f = fopen(p, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(bytes, 1, n, f), n);
    fclose(f);
  }
}

/* header for `type` with dims, into buf; returns its length */
static size_t header(unsigned char *buf, int type, int ndim, const uint32_t *dims) {
  buf[0] = buf[1] = 0;
  buf[2] = (unsigned char)type;
  buf[3] = (unsigned char)ndim;
  for (int d = 0; d < ndim; d++) {
    buf[4 + 4 * d] = dims[d] >> 24;
    buf[5 + 4 * d] = dims[d] >> 16;
    buf[6 + 4 * d] = dims[d] >> 8;
    buf[7 + 4 * d] = dims[d];
  }
  return 4 + 4 * (size_t)ndim;
}

static void put_be(unsigned char *p, uint64_t v, int n) {
  for (int i = 0; i < n; i++) p[i] = (unsigned char)(v >> (8 * (n - 1 - i)));
}

/* A {2,3} file of the given type holding -2.5 .. 2.5 style values representable in it. */
static void check_type(int type, bool gz) {
  static const double vals[6] = {0, 1, 2, 100, 127, 5};
  static const double svals[6] = {-128, -1, 0, 1, 127, 42};
  static const double fvals[6] = {-2.5, 0.25, 1e10, -1e-3, 3.0, 7.75};
  const double *v = type == 0x08 ? vals : type == 0x09 || type == 0x0B || type == 0x0C ? svals : fvals;
  int es = type == 0x08 || type == 0x09 ? 1 : type == 0x0B ? 2 : type == 0x0E ? 8 : 4;
  unsigned char buf[128];
  uint32_t dims[2] = {2, 3};
  size_t h = header(buf, type, 2, dims);
  for (int i = 0; i < 6; i++) {
    unsigned char *p = buf + h + (size_t)es * i;
    if (type == 0x0D) {
      float f = (float)v[i];
      uint32_t u;
      memcpy(&u, &f, 4);
      put_be(p, u, 4);
    } else if (type == 0x0E) {
      uint64_t u;
      memcpy(&u, &v[i], 8);
      put_be(p, u, 8);
    } else {
      put_be(p, (uint64_t)(int64_t)v[i], es);
    }
  }
  char name[32];
  snprintf(name, sizeof name, "t%02x%s", type, gz ? ".gz" : "");
  write_file(name, buf, h + 6 * (size_t)es, gz);
  ar_tensor t;
  cr_assert_eq(io_read_idx(C, path_of(name), 0, &t), AR_OK, "type %02x: %s", type, ar_errmsg(C));
  cr_assert_eq(t.ndim, 2);
  cr_assert_eq(t.shape[0], 2);
  cr_assert_eq(t.shape[1], 3);
  for (int i = 0; i < 6; i++)
    cr_assert_float_eq(ar_data(&t)[i], (float)v[i], 1e-6 * (1 + fabs(v[i])), "type %02x elem %d", type, i);
  ar_release(&t);
}

Test(idx, every_type_raw_and_gzip) {
  int types[] = {0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E};
  for (int i = 0; i < 6; i++) {
    check_type(types[i], false);
    check_type(types[i], true);
  }
}

Test(idx, limit_reads_the_first_rows) {
  unsigned char buf[64];
  uint32_t dims[2] = {4, 2};
  size_t h = header(buf, 0x08, 2, dims);
  for (int i = 0; i < 8; i++) buf[h + i] = (unsigned char)i;
  write_file("l.gz", buf, h + 8, true);
  ar_tensor t;
  cr_assert_eq(io_read_idx(C, path_of("l.gz"), 3, &t), AR_OK, "%s", ar_errmsg(C));
  cr_assert_eq(t.shape[0], 3);
  cr_assert_float_eq(ar_data(&t)[5], 5.0f, 0);
  ar_release(&t);
  cr_assert_eq(io_read_idx(C, path_of("l.gz"), 10, &t), AR_OK); /* more than there is: all */
  cr_assert_eq(t.shape[0], 4);
  ar_release(&t);
}

static void expect_fail(const char *name, const char *needle) {
  ar_tensor t;
  int rc = io_read_idx(C, path_of(name), 0, &t);
  cr_assert_eq(rc, AR_EIO, "%s: rc %d (%s)", name, rc, ar_errmsg(C));
  cr_assert_null(t.st);
  cr_assert(strstr(ar_errmsg(C), needle), "%s: message '%s' lacks '%s'", name, ar_errmsg(C), needle);
  cr_assert(strstr(ar_errmsg(C), name), "message '%s' does not name the file", ar_errmsg(C));
}

Test(idx, truncated_data_raw_and_gzip) {
  unsigned char buf[64];
  uint32_t dims[1] = {10};
  size_t h = header(buf, 0x0C, 1, dims); /* 40 bytes declared, 12 given */
  memset(buf + h, 1, 12);
  write_file("trunc", buf, h + 12, false);
  write_file("trunc.gz", buf, h + 12, true);
  expect_fail("trunc", "truncated: expected 40 bytes of data, got 12");
  expect_fail("trunc.gz", "truncated: expected 40 bytes of data, got 12");
}

Test(idx, truncated_header) {
  unsigned char buf[16];
  uint32_t dims[3] = {1, 2, 3};
  header(buf, 0x08, 3, dims);
  write_file("h", buf, 9, false);
  expect_fail("h", "truncated header");
  write_file("tiny", buf, 2, false);
  expect_fail("tiny", "not an IDX file");
  write_file("empty", buf, 0, false);
  expect_fail("empty", "not an IDX file");
}

Test(idx, bad_magic_and_dims) {
  unsigned char buf[64] = {0x1f, 0x00, 0x08, 0x01, 0, 0, 0, 1, 7};
  write_file("m1", buf, 9, false);
  expect_fail("m1", "bad magic");
  unsigned char b2[] = {0, 0, 0x0A, 1, 0, 0, 0, 1, 7}; /* 0x0A is no type */
  write_file("m2", b2, sizeof b2, false);
  expect_fail("m2", "bad magic");
  unsigned char b3[] = {0, 0, 0x08, 0}; /* no dims */
  write_file("m3", b3, sizeof b3, false);
  expect_fail("m3", "dimensions");
  unsigned char b4[] = {0, 0, 0x08, 9};
  write_file("m4", b4, sizeof b4, false);
  expect_fail("m4", "dimensions");
  uint32_t dims[2] = {3, 0};
  size_t h = header(buf, 0x08, 2, dims);
  write_file("zero", buf, h, false);
  expect_fail("zero", "size 0");
}

/* A header declaring far more than memory must fail cleanly, without trying to allocate
 * it: the data is read as it arrives. */
Test(idx, huge_declared_sizes) {
  unsigned char buf[64];
  uint32_t d1[3] = {0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu};
  size_t h = header(buf, 0x0E, 3, d1);
  write_file("overflow", buf, h + 8, true);
  expect_fail("overflow", "overflow");
  uint32_t d2[2] = {1u << 20, 1u << 16}; /* 2^36 bytes declared, 16 present */
  h = header(buf, 0x08, 2, d2);
  memset(buf + h, 3, 16);
  write_file("huge.gz", buf, h + 16, true);
  ar_tensor t;
  int rc = io_read_idx(C, path_of("huge.gz"), 0, &t);
  cr_assert_neq(rc, AR_OK);
  cr_assert_null(t.st);
  write_file("huge", buf, h + 16, false);
  rc = io_read_idx(C, path_of("huge"), 0, &t);
  cr_assert_neq(rc, AR_OK);
}

/* The sanitizers reserve terabytes of address space for their shadow memory, so an
 * address-space limit cannot be used under them. */
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

/* A gzip file's size says nothing about what it inflates to, so its header cannot be
 * checked against the file: a stream declaring 2 GiB that holds 8 MiB must cost memory in
 * proportion to the 8 MiB, and end as "truncated". The address space is capped at 96 MiB
 * above its current size: reserving the declared 2 GiB (even untouched, which resident-
 * memory counters would not see) fails the read with "out of memory" instead. */
Test(idx, gzip_lying_about_its_size_costs_what_it_holds) {
  enum { HELD = 8 << 20 };
  unsigned char *buf = calloc(1, 16 + HELD);
  cr_assert_not_null(buf);
  uint32_t dims[2] = {1u << 15, 1u << 16}; /* 2^31 bytes declared */
  size_t h = header(buf, 0x08, 2, dims);
  write_file("liar.gz", buf, h + HELD, true); /* zeros: a few KB compressed */
  free(buf);

  struct rlimit old;
  cr_assert_eq(getrlimit(RLIMIT_AS, &old), 0);
#ifndef UNDER_ASAN
  long pages = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  if (f) {
    if (fscanf(f, "%ld", &pages) != 1) pages = 0;
    fclose(f);
  }
  if (pages > 0) {
    struct rlimit cap = old;
    cap.rlim_cur = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + ((rlim_t)96 << 20);
    if (old.rlim_cur == RLIM_INFINITY || cap.rlim_cur < old.rlim_cur)
      cr_assert_eq(setrlimit(RLIMIT_AS, &cap), 0);
  }
#endif
  ar_tensor t;
  int rc = io_read_idx(C, path_of("liar.gz"), 0, &t);
  char msg[512];
  snprintf(msg, sizeof msg, "%s", ar_errmsg(C));
  setrlimit(RLIMIT_AS, &old);
  cr_assert_eq(rc, AR_EIO, "rc %d (%s)", rc, msg);
  cr_assert_null(t.st);
  cr_assert(strstr(msg, "truncated: expected 2147483648 bytes of data, got 8388608"), "%s", msg);
}

Test(idx, trailing_bytes) {
  unsigned char buf[64];
  uint32_t dims[1] = {4};
  size_t h = header(buf, 0x08, 1, dims);
  memset(buf + h, 2, 5);
  write_file("trail", buf, h + 5, false);
  write_file("trail.gz", buf, h + 5, true);
  expect_fail("trail", "trailing");
  expect_fail("trail.gz", "trailing");
}

Test(idx, missing_file) { expect_fail("nope", "cannot open"); }

/* ---------- CSV ---------- */

static void write_text(const char *name, const char *text) {
  write_file(name, text, strlen(text), false);
}

Test(csv, header_crlf_and_quotes) {
  write_text("a.csv", "\"x\",y , z\r\n1,2,3\r\n-4.5, 5e2 ,\"6\"\r\n\r\n");
  ar_tensor t;
  char **names;
  int ncols;
  cr_assert_eq(io_read_csv(C, path_of("a.csv"), true, &t, &names, &ncols), AR_OK, "%s", ar_errmsg(C));
  cr_assert_eq(ncols, 3);
  cr_assert_str_eq(names[0], "x");
  cr_assert_str_eq(names[1], "y");
  cr_assert_str_eq(names[2], "z");
  cr_assert_eq(t.shape[0], 2);
  cr_assert_eq(t.shape[1], 3);
  float want[6] = {1, 2, 3, -4.5f, 500, 6};
  for (int i = 0; i < 6; i++) cr_assert_float_eq(ar_data(&t)[i], want[i], 0);
  io_free_names(names, ncols);
  ar_release(&t);
}

Test(csv, no_header_no_final_newline) {
  write_text("b.csv", "1,2\n3,4");
  ar_tensor t;
  char **names;
  int ncols;
  cr_assert_eq(io_read_csv(C, path_of("b.csv"), false, &t, &names, &ncols), AR_OK);
  cr_assert_null(names);
  cr_assert_eq(t.shape[0], 2);
  cr_assert_float_eq(ar_data(&t)[3], 4.0f, 0);
  ar_release(&t);
}

/* Spreadsheet programs on Windows start a UTF-8 CSV with a byte-order mark (EF BB BF): it is
 * not part of the first column's name, nor of the first number. */
Test(csv, utf8_bom_is_skipped) {
  write_text("bomh.csv", "\xEF\xBB\xBFtime,value\n1,2\n");
  ar_tensor t;
  char **names;
  int ncols;
  cr_assert_eq(io_read_csv(C, path_of("bomh.csv"), true, &t, &names, &ncols), AR_OK, "%s",
               ar_errmsg(C));
  cr_assert_str_eq(names[0], "time");
  cr_assert_str_eq(names[1], "value");
  cr_assert_float_eq(ar_data(&t)[0], 1.0f, 0);
  io_free_names(names, ncols);
  ar_release(&t);

  write_text("bom.csv", "\xEF\xBB\xBF" "1.5,2\n3,4\n");
  cr_assert_eq(io_read_csv(C, path_of("bom.csv"), false, &t, &names, &ncols), AR_OK, "%s",
               ar_errmsg(C));
  cr_assert_eq(t.shape[0], 2);
  cr_assert_float_eq(ar_data(&t)[0], 1.5f, 0);
  ar_release(&t);

  /* only a leading mark is skipped: one elsewhere is still not a number */
  write_text("bom2.csv", "1,2\n\xEF\xBB\xBF" "3,4\n");
  cr_assert_eq(io_read_csv(C, path_of("bom2.csv"), false, &t, &names, &ncols), AR_EIO);
  cr_assert(strstr(ar_errmsg(C), "row 2 (line 2), column 1"), "%s", ar_errmsg(C));
}

static void csv_fail(const char *name, const char *text, bool header, const char *needle) {
  write_text(name, text);
  ar_tensor t;
  char **names;
  int ncols;
  int rc = io_read_csv(C, path_of(name), header, &t, &names, &ncols);
  cr_assert_eq(rc, AR_EIO, "%s: rc %d", name, rc);
  cr_assert_null(t.st);
  cr_assert_null(names);
  cr_assert(strstr(ar_errmsg(C), needle), "message '%s' lacks '%s'", ar_errmsg(C), needle);
  cr_assert(strstr(ar_errmsg(C), name), "message '%s' does not name the file", ar_errmsg(C));
}

Test(csv, errors) {
  csv_fail("ragged.csv", "1,2,3\n4,5\n", false, "row 2 (line 2) has 2 columns, expected 3");
  csv_fail("nan.csv", "a,b\n1,2\n3,x\n", true, "row 2 (line 3), column 2: expected a number");
  csv_fail("blank.csv", "1,,3\n", false, "column 2");
  csv_fail("empty.csv", "", false, "empty");
  csv_fail("spaces.csv", "\n  \r\n", true, "empty");
}

/* ---------- shuffles and gathers ---------- */

Test(loader, permutation_is_a_seeded_shuffle) {
  enum { N = 1000 };
  static int64_t p[N], q[N];
  io_rng r;
  io_rng_init(C, &r, true, 42, 0);
  io_permutation(&r, p, N);
  io_rng_init(C, &r, true, 42, 0);
  io_permutation(&r, q, N);
  cr_assert_eq(memcmp(p, q, sizeof p), 0);
  static char seen[N];
  int moved = 0;
  for (int i = 0; i < N; i++) {
    cr_assert(p[i] >= 0 && p[i] < N);
    cr_assert_eq(seen[p[i]], 0);
    seen[p[i]] = 1;
    moved += p[i] != i;
  }
  cr_assert_gt(moved, N / 2);
}

Test(loader, gather_rows) {
  int64_t shape[2] = {4, 3};
  ar_tensor src, out;
  cr_assert_eq(ar_empty(C, &src, 2, shape), AR_OK);
  for (int i = 0; i < 12; i++) ar_data(&src)[i] = (float)i;
  int64_t idx[2] = {3, 1};
  cr_assert_eq(io_gather_rows(C, &out, &src, idx, 2), AR_OK);
  cr_assert_eq(out.shape[0], 2);
  cr_assert_float_eq(ar_data(&out)[0], 9.0f, 0);
  cr_assert_float_eq(ar_data(&out)[5], 5.0f, 0);
  ar_release(&out);
  int64_t bad[1] = {4};
  cr_assert_eq(io_gather_rows(C, &out, &src, bad, 1), AR_ERANGE);
  ar_release(&src);
}

/* A gzip stream cut short is a truncated file, whatever zlib reports for it. */
Test(idx, cut_gzip_stream) {
  enum { N = 20000 };
  static unsigned char buf[8 + N];
  uint32_t dims[1] = {N};
  size_t h = header(buf, 0x08, 1, dims);
  for (int i = 0; i < N; i++) buf[h + i] = (unsigned char)(i * 7919u >> 3);
  write_file("cut.gz", buf, h + N, true);
  FILE *f = fopen(path_of("cut.gz"), "rb");
  static unsigned char z[2 * N];
  size_t zn = fread(z, 1, sizeof z, f);
  fclose(f);
  write_file("cut2.gz", z, zn / 2, false);
  ar_tensor t;
  int rc = io_read_idx(C, path_of("cut2.gz"), 0, &t);
  cr_assert_eq(rc, AR_EIO, "%s", ar_errmsg(C));
  cr_assert_null(t.st);
  cr_assert(strstr(ar_errmsg(C), "truncated") || strstr(ar_errmsg(C), "cannot read"), "%s", ar_errmsg(C));
}

/* Random damage to a good file's bytes never crashes or leaks, and a failure leaves no
 * tensor behind (run under the sanitizers too). */
Test(idx, damaged_files_fail_cleanly) {
  unsigned char good[64];
  uint32_t dims[2] = {3, 4};
  size_t h = header(good, 0x0B, 2, dims);
  for (int i = 0; i < 24; i++) good[h + i] = (unsigned char)i;
  size_t n = h + 24;
  uint32_t s = 12345;
  for (int k = 0; k < 300; k++) {
    unsigned char b[64];
    memcpy(b, good, n);
    size_t len = n;
    for (int m = 0; m < 3; m++) {
      s = s * 1103515245u + 12345u;
      b[(s >> 8) % n] = (unsigned char)(s >> 20);
    }
    s = s * 1103515245u + 12345u;
    if (s & 0x10000) len = (s >> 20) % (n + 1);
    write_file("dmg", b, len, (k & 1) != 0);
    ar_tensor t;
    int rc = io_read_idx(C, path_of("dmg"), 0, &t);
    if (rc == AR_OK) ar_release(&t);
    else cr_assert_null(t.st);
  }
}
