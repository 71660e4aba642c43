/* Data files and datasets: IDX (the MNIST format) and CSV readers, plus the seeded
 * helpers behind actrun.data (synthetic sets, shuffled batches). No Lua in here; errors
 * are AR_* codes with a message in the context, as in the core. */
#ifndef ACTRUN_IO_H
#define ACTRUN_IO_H

#include <stdbool.h>
#include <stdint.h>

#include "core/core.h"

/* Reads an IDX file, gzip-compressed or raw, as a float tensor of its raw values with the
 * file's dims. max_rows > 0 reads only the first max_rows entries of the first dim (the
 * rest of the file is then not checked); 0 reads everything and requires the data to fill
 * the file exactly. */
int io_read_idx(ar_ctx *C, const char *path, int64_t max_rows, ar_tensor *out);

/* Reads a CSV file of numbers as a {rows, cols} tensor. With header, the first line holds
 * the column names: *names gets ncols malloc'd strings (free with io_free_names); without,
 * *names is NULL. */
int io_read_csv(ar_ctx *C, const char *path, bool header, ar_tensor *out, char ***names,
                int *ncols);
void io_free_names(char **names, int ncols);

/* A reproducible stream of random words: either from an explicit seed, or reserved from
 * the context's generator (so it follows actrun.manual_seed). */
typedef struct io_rng {
  uint64_t key, counter;
  uint32_t w[4];
  int used; /* words of w already handed out */
} io_rng;
/* has_seed: use seed; otherwise reserve nwords from C's generator. */
void io_rng_init(ar_ctx *C, io_rng *r, bool has_seed, uint64_t seed, uint64_t nwords);
uint32_t io_rng_u32(io_rng *r);
double io_rng_uniform(io_rng *r); /* [0, 1) */
double io_rng_normal(io_rng *r);  /* N(0, 1) */

/* perm[0..n) = a uniformly shuffled 0..n-1 (Fisher-Yates). */
void io_permutation(io_rng *r, int64_t *perm, int64_t n);

/* out = rows idx[0..count) of src (dim 0), a new contiguous tensor {count, src dims 1..}. */
int io_gather_rows(ar_ctx *C, ar_tensor *out, const ar_tensor *src, const int64_t *idx,
                   int64_t count);

typedef enum { IO_MOONS, IO_CIRCLES, IO_SPIRALS, IO_BLOBS } io_synth_kind;
typedef struct io_synth_opts {
  int64_t n;     /* total points, split as evenly as possible over the classes */
  int classes;   /* spirals and blobs */
  double noise;  /* std of Gaussian noise added to each coordinate */
  double factor; /* circles: inner radius / outer radius */
  double std;    /* blobs: std of each cluster */
} io_synth_opts;
/* X {n, 2}, y {n} with labels 1..C (as floats), points ordered by class. */
int io_synthetic(ar_ctx *C, io_synth_kind kind, const io_synth_opts *o, io_rng *r, ar_tensor *X,
                 ar_tensor *y);

/* ---------- safetensors (safetensors.c) ----------
 * An 8-byte little-endian header length N, N bytes of JSON (tensor name -> {dtype, shape,
 * data_offsets}, optional "__metadata__" string map), then the raw little-endian data.
 * The file is untrusted: every length and offset is checked against the file's size
 * before anything is allocated, and every problem is an AR_E* error naming the file. */
#define IO_ST_MAX_HEADER ((uint64_t)100 << 20) /* header bytes accepted when reading */

typedef struct io_st_entry {
  char *name;    /* NUL-terminated UTF-8 (names with NUL bytes are refused) */
  ar_tensor t;   /* float32, contiguous */
  char dtype[8]; /* the dtype in the file: F32, F16, BF16 or F64 */
} io_st_entry;

typedef struct io_st_file {
  io_st_entry *e; /* in the order of the header */
  size_t n;
  char **meta; /* 2 * nmeta strings: key, value, key, value ... */
  size_t nmeta;
} io_st_file;

/* Reads a whole file; F16, BF16 and F64 data are converted to float32. On failure
 * everything is freed. */
int io_st_read(ar_ctx *C, const char *path, io_st_file *out);
void io_st_free(io_st_file *f);

/* Writes n float32 tensors (any views) under the given names, sorted by name (bytewise),
 * with optional metadata (2 * nmeta strings), atomically through io_writer (below): on any
 * failure path is left as it was. fail_after >= 0 is a test hook: writing fails (as if
 * the disk were full) after that many bytes. */
int io_st_write(ar_ctx *C, const char *path, const char *const *names,
                const ar_tensor *const *tensors, size_t n, const char *const *meta,
                size_t nmeta, int64_t fail_after);

/* ---------- whole-file writer (writer.c) ----------
 * Every file actrun saves goes through this: the destination is checked first (lstat and
 * stat, never open: a regular file or nothing; a symbolic link is followed to its final
 * target, which is what gets replaced; a device, pipe, socket, directory, dangling link
 * or write-protected file is an error and nothing is written), the data go to a
 * temporary file ".NAME.actrun-tmp-XXXXXX" next to that file, which io_writer_commit
 * syncs, gives the old file's mode (and owner, when permitted) and renames over it.
 * SIGTERM, SIGINT and SIGHUP while a writer is open remove its temporary before the
 * process dies (a handler the program installed for them is called instead, see
 * writer.c); temporaries of dead writers of the same destination are removed by the
 * next open. Errors name path as given. */
typedef struct io_writer io_writer;
int io_writer_open(ar_ctx *C, const char *path, io_writer **out);
int io_writer_write(ar_ctx *C, io_writer *w, const void *p, size_t n);
/* Both free w, whatever happens; after a failed commit path is as it was. */
int io_writer_commit(ar_ctx *C, io_writer *w);
void io_writer_abort(io_writer *w); /* NULL is fine */
/* Test hook: writes fail with ENOSPC after that many bytes. */
void io_writer_fail_after(io_writer *w, int64_t bytes);
/* The whole file from n chunks, in one call. */
int io_write_file(ar_ctx *C, const char *path, const void *const *chunks, const size_t *lens,
                  size_t n);

#endif
