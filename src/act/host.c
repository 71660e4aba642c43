/* Host activations: forward, backward and f'' through the host's kernels (see host.h). */
#include "act/host.h"

#include <string.h>

static const char *const keywords[] = {
    "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto", "if",
    "in", "local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while",
    NULL};

const char *act_host_name_problem(const char *name) {
  size_t n = strlen(name);
  if (n == 0) return "it is empty";
  if (n > ACT_HOST_NAMEMAX) return "it is longer than 63 bytes";
  for (size_t i = 0; i < n; i++) {
    char c = name[i];
    bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    bool digit = c >= '0' && c <= '9';
    if (!alpha && !(digit && i > 0))
      return "it is not an identifier (letters, digits and '_', not starting with a digit)";
  }
  for (int i = 0; keywords[i]; i++)
    if (strcmp(name, keywords[i]) == 0) return "it is a Lua keyword";
  return "";
}

/* out = k(x) through one of h's kernels */
static int host_map(ar_ctx *C, const act_host *h, act_host_kernel k, ar_tensor *out,
                    const ar_tensor *x) {
  ar_tensor xc;
  int rc = ar_contiguous(C, &xc, x);
  if (rc) return rc;
  rc = ar_empty_like(C, out, x);
  if (rc) {
    ar_release(&xc);
    return rc;
  }
  int64_t n = ar_numel(x);
  if (n > 0) k(ar_data(&xc), ar_data(out), (size_t)n, h->ud);
  ar_release(&xc);
  return AR_OK;
}

int act_host_forward(ar_ctx *C, const act_host *h, ar_tensor *out, const ar_tensor *x) {
  return host_map(C, h, h->f, out, x);
}

int act_host_second(ar_ctx *C, const act_host *h, ar_tensor *out, const ar_tensor *x) {
  out->st = NULL;
  if (!h->d2f)
    return ar_seterr(C, AR_EARG,
                     "host activation '%s' has no second derivative (register it with "
                     "actrun_register_activation2 to differentiate twice)",
                     h->name);
  return host_map(C, h, h->d2f, out, x);
}

int act_host_backward(ar_ctx *C, const act_host *h, ar_tensor *dx, const ar_tensor *x,
                      const ar_tensor *dy) {
  dx->st = NULL;
  if (!ar_same_shape(x, dy)) {
    char a[200], b[200];
    return ar_seterr(C, AR_ESHAPE, "dy has shape %s, expected x's shape %s",
                     ar_shape_str(dy->ndim, dy->shape, b, sizeof b),
                     ar_shape_str(x->ndim, x->shape, a, sizeof a));
  }
  ar_tensor xc;
  int rc = ar_contiguous(C, &xc, x);
  if (rc) return rc;
  rc = ar_empty_like(C, dx, x);
  if (rc) {
    ar_release(&xc);
    return rc;
  }
  int64_t n = ar_numel(x);
  if (n > 0) h->df(ar_data(&xc), ar_data(dx), (size_t)n, h->ud);
  ar_release(&xc);
  rc = ar_binary_(C, AR_MUL, dx, dy); /* dx = f'(x) * dy */
  if (rc) ar_release(dx);
  return rc;
}
