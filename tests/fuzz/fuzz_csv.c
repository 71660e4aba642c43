/* libFuzzer harness: the CSV reader, with and without a header line, on arbitrary bytes.
 * A success must give a {rows, cols} tensor and, with a header, cols names. */
#include <string.h>

#include "fuzz_file.h"
#include "io/io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = fuzz_write(data, size, ".csv");
  ar_ctx *C = ar_ctx_new();
  if (!C) return 0;
  for (int header = 0; header <= 1; header++) {
    ar_tensor t;
    memset(&t, 0, sizeof t);
    char **names = NULL;
    int ncols = 0;
    int rc = io_read_csv(C, path, header, &t, &names, &ncols);
    if (rc == AR_OK) {
      if (t.ndim != 2) abort();
      if (header) {
        if (ncols != t.shape[1] || (ncols && !names)) abort();
        for (int i = 0; i < ncols; i++)
          if (!names[i]) abort();
        io_free_names(names, ncols);
      }
      int64_t n = ar_numel(&t);
      if (n > 0) {
        volatile float last = t.st->data[n - 1];
        (void)last;
      }
      ar_release(&t);
    } else if (!ar_errmsg(C)[0]) {
      abort();
    }
  }
  ar_ctx_release(C);
  return 0;
}
