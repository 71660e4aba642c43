/* libFuzzer harness: the IDX reader (raw and gzip-compressed) on arbitrary bytes. Any
 * input must give either a tensor whose element count matches its dims or an error with a
 * message; ASan/UBSan report the rest. */
#include <string.h>

#include "fuzz_file.h"
#include "io/io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = fuzz_write(data, size, ".idx");
  ar_ctx *C = ar_ctx_new();
  if (!C) return 0;
  for (int64_t max_rows = 0; max_rows <= 2; max_rows += 2) {
    ar_tensor t;
    memset(&t, 0, sizeof t);
    int rc = io_read_idx(C, path, max_rows, &t);
    if (rc == AR_OK) {
      int64_t n = ar_numel(&t);
      if (n > 0) { /* touch the first and last element: the buffer must hold them */
        volatile float first = t.st->data[0], last = t.st->data[n - 1];
        (void)first, (void)last;
      }
      ar_release(&t);
    } else if (!ar_errmsg(C)[0]) {
      abort(); /* an error without a message */
    }
  }
  ar_ctx_release(C);
  return 0;
}
