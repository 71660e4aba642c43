/* TEMPORARY until the f'' kernels land */
#include "act/act.h"
#include "act/host.h"
int act_second(ar_ctx *C, const act_def *a, ar_tensor *out, const ar_tensor *x, const double *params);
int act_host_second(ar_ctx *C, const act_host *h, ar_tensor *out, const ar_tensor *x);
int act_second(ar_ctx *C, const act_def *a, ar_tensor *out, const ar_tensor *x, const double *params) {
  (void)a, (void)x, (void)params; out->st = NULL;
  return ar_seterr(C, AR_EARG, "f'' not yet");
}
int act_host_second(ar_ctx *C, const act_host *h, ar_tensor *out, const ar_tensor *x) {
  (void)h, (void)x; out->st = NULL;
  return ar_seterr(C, AR_EARG, "f'' not yet");
}
