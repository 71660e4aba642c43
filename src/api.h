/* Internal helpers of the embedding API (src/api.c) for the library's other parts,
 * e.g. the binding's actrun_set_tensor / actrun_get_tensor, which report through A. */
#ifndef ACTRUN_API_INTERNAL_H
#define ACTRUN_API_INTERNAL_H

#include "actrun.h"

/* Sets A's error message (printf-style) and returns 1, so `return ar_api_fail(...)`. */
int ar_api_fail(actrun *A, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Forgets A's last message: every public call starts with it. */
void ar_api_clear_error(actrun *A);

#endif
