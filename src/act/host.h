/* Activations supplied by a host program (actrun_register_activation, and
 * actrun_register_activation2 with a second derivative): float kernels f, f' and
 * optionally f'' over contiguous buffers. No Lua in here; the per-interpreter table of
 * them lives in the Lua registry (src/lua/l_act.c, src/lua/embed.c).
 *
 * The kernels are the host's code: they are always called on the calling thread (never
 * on the worker pool), once per op, on contiguous buffers (x copied first when it is a
 * strided view). */
#ifndef ACTRUN_ACT_HOST_H
#define ACTRUN_ACT_HOST_H

#include <stdbool.h>
#include <stddef.h>

#include "core/core.h"

#define ACT_HOST_NAMEMAX 63
/* Registry key of the name -> act_host userdata table of a Lua state. */
#define ACT_HOST_REGISTRY "actrun.host_activations"

typedef void (*act_host_kernel)(const float *x, float *y, size_t n, void *ud);

typedef struct act_host {
  char name[ACT_HOST_NAMEMAX + 1];
  act_host_kernel f, df;
  act_host_kernel d2f; /* f'', or NULL: the activation has no second derivative */
  void *ud;
} act_host;

/* "" when name can be an activation name (a Lua identifier, not a keyword, at most
 * ACT_HOST_NAMEMAX bytes), else why not. */
const char *act_host_name_problem(const char *name);

/* out = f(x): a new contiguous tensor of x's shape. */
int act_host_forward(ar_ctx *C, const act_host *h, ar_tensor *out, const ar_tensor *x);
/* dx = dy * f'(x) (a new tensor); dy must have x's shape. */
int act_host_backward(ar_ctx *C, const act_host *h, ar_tensor *dx, const ar_tensor *x,
                      const ar_tensor *dy);
/* out = f''(x) (a new tensor of x's shape) through h->d2f; AR_EARG, naming the
 * activation, when it has none. */
int act_host_second(ar_ctx *C, const act_host *h, ar_tensor *out, const ar_tensor *x);

#endif
