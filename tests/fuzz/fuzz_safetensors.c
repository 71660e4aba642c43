/* libFuzzer harness: the safetensors reader on arbitrary bytes (header lengths, offsets and
 * shapes are all untrusted). A success is written back and read again: the round trip must
 * give the same names and shapes. */
#include <stdio.h>
#include <string.h>

#include "fuzz_file.h"
#include "io/io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = fuzz_write(data, size, ".safetensors");
  ar_ctx *C = ar_ctx_new();
  if (!C) return 0;
  io_st_file f;
  memset(&f, 0, sizeof f);
  int rc = io_st_read(C, path, &f);
  if (rc != AR_OK) {
    if (!ar_errmsg(C)[0]) abort();
    ar_ctx_release(C);
    return 0;
  }
  for (size_t i = 0; i < f.n; i++) {
    int64_t n = ar_numel(&f.e[i].t);
    if (n > 0 && f.e[i].t.st) {
      volatile float last = f.e[i].t.st->data[n - 1];
      (void)last;
    }
  }
  /* round trip (small files only: the fuzzer should spend its time in the reader) */
  if (f.n <= 16) {
    const char *names[16];
    const ar_tensor *ts[16];
    for (size_t i = 0; i < f.n; i++) {
      names[i] = f.e[i].name;
      ts[i] = &f.e[i].t;
    }
    char out[300];
    snprintf(out, sizeof out, "%s.out", path);
    if (io_st_write(C, out, names, ts, f.n, (const char *const *)f.meta, f.nmeta, -1) == AR_OK) {
      io_st_file g;
      memset(&g, 0, sizeof g);
      /* names are unique in a valid file, so the output reads back with the same count */
      if (io_st_read(C, out, &g) != AR_OK) {
        fprintf(stderr, "written file does not read back: %s\n", ar_errmsg(C));
        abort();
      }
      if (g.n != f.n) abort();
      io_st_free(&g);
    }
    remove(out);
  }
  io_st_free(&f);
  ar_ctx_release(C);
  return 0;
}
