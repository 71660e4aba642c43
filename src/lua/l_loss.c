/* actrun._loss: the fused nll / cross entropy behind actrun.nn.nll and nn.cross_entropy
 * (lua/actrun/nn.lua), and the Gram-Schmidt of nn.init.orthogonal. Labels are checked
 * here, once, into a {N} tensor of 0-based class indices that the forward and the
 * autograd node share. */
#include <math.h>

#include "autograd/ops.h"
#include "lua/binding.h"
#include "optim/loss.h"

/* Checks label value v (entry i, 1-based) against 1..c and stores it 0-based. */
static void put_label(lua_State *L, const char *fn, double v, int64_t i, int64_t c, float *dst) {
  if (v != floor(v) || isnan(v))
    lt_error(L, fn, "label %.9g at position %lld is not an integer (labels are 1..%lld)", v,
             (long long)i, (long long)c);
  if (v < 1 || v > (double)c)
    lt_error(L, fn, "label %.9g at position %lld is outside 1..%lld (C = %lld classes)", v,
             (long long)i, (long long)c, (long long)c);
  *dst = (float)(v - 1);
}

/* nll(x, labels) / cross_entropy(logits, labels) -> {1} tensor. Called directly as
 * nn.nll / nn.cross_entropy so errors point at the user's line. */
static int nll_common(lua_State *L, bool from_logits) {
  const char *fn = from_logits ? "actrun.nn.cross_entropy" : "actrun.nn.nll";
  ar_ctx *C = lt_ctx(L);
  ar_tensor *x = lt_check(L, 1, fn, 1, from_logits ? "logits" : "logp");
  char s1[200], s2[200];
  if (x->ndim != 2)
    return lt_error(L, fn, "%s must be 2-D {N,C}, got shape %s", from_logits ? "logits" : "logp",
                    ar_shape_str(x->ndim, x->shape, s1, sizeof s1));
  const int64_t n = x->shape[0], c = x->shape[1];
  ar_tensor *lt = NULL;
  int64_t nl;
  if (lua_type(L, 2) == LUA_TTABLE) {
    nl = (int64_t)luaL_len(L, 2);
  } else {
    lt = lt_totensor(L, 2);
    if (!lt) return lt_argerror(L, fn, 2, "labels", "a tensor {N} or a list of integers");
    if (lt->ndim != 1)
      return lt_error(L, fn, "labels must be 1-D {N}, got shape %s (%s shape %s)",
                      ar_shape_str(lt->ndim, lt->shape, s1, sizeof s1),
                      from_logits ? "logits" : "logp", ar_shape_str(2, x->shape, s2, sizeof s2));
    nl = lt->shape[0];
  }
  if (nl != n)
    return lt_error(L, fn, "%s has shape %s but labels have %lld entries (expected %lld)",
                    from_logits ? "logits" : "logp", ar_shape_str(2, x->shape, s1, sizeof s1),
                    (long long)nl, (long long)n);
  ar_tensor *lab = lt_new(L); /* kept on the stack so an error below frees it */
  if (ar_empty(C, lab, 1, &n)) return lt_core_error(L, fn);
  float *ld = ar_data(lab);
  if (lt) {
    for (int64_t i = 0; i < n; i++) {
      int64_t idx = i;
      put_label(L, fn, lt->st->data[ar_offset_of(lt, &idx)], i + 1, c,
                ld + i);
    }
  } else {
    for (int64_t i = 0; i < n; i++) {
      lua_geti(L, 2, (lua_Integer)(i + 1));
      if (!lua_isnumber(L, -1))
        return lt_error(L, fn, "label at position %lld is a %s, expected an integer 1..%lld",
                        (long long)(i + 1), luaL_typename(L, -1), (long long)c);
      put_label(L, fn, lua_tonumber(L, -1), i + 1, c, ld + i);
      lua_pop(L, 1);
    }
  }
  ar_tensor *out = lt_new(L);
  if (ag_nll_loss(C, out, x, lab, from_logits)) return lt_core_error(L, fn);
  lt_account(L, C);
  return 1;
}

/* orthogonal_(w {rows, cols} contiguous, gain): in place, see ar_orthogonal_ */
static int f_orthogonal(lua_State *L) {
  const char *fn = "actrun.nn.init.orthogonal";
  ar_tensor *w = lt_check(L, 1, fn, 1, "t");
  if (ar_orthogonal_(lt_ctx(L), w, (float)lt_checknum(L, 2, fn, 2, "gain")))
    return lt_core_error(L, fn);
  return 0;
}

/* mse(y, t [, strict]) -> {1} tensor: one fused op and one autograd node. When y and t
 * are not two tensors of one shape it returns nothing (actrun.nn.mse then raises its own
 * message), or raises when strict. */
static int f_mse(lua_State *L) {
  const char *fn = "actrun.nn.mse";
  ar_ctx *C = lt_ctx(L);
  ar_tensor *y = lt_totensor(L, 1), *t = lt_totensor(L, 2);
  if (!y || !t || !ar_same_shape(y, t)) {
    if (!lua_toboolean(L, 3)) return 0;
    y = lt_check(L, 1, fn, 1, "y");
    t = lt_check(L, 2, fn, 2, "t");
    if (!ar_same_shape(y, t)) return lt_error(L, fn, "y and t must have one shape");
  }
  lua_settop(L, 2);
  ar_tensor *out = lt_new(L);
  if (ag_mse_loss(C, out, y, t)) return lt_core_error(L, fn);
  lt_account(L, C);
  return 1;
}

static int f_nll(lua_State *L) { return nll_common(L, false); }
static int f_cross_entropy(lua_State *L) { return nll_common(L, true); }

static const luaL_Reg fns[] = {{"nll", f_nll}, {"cross_entropy", f_cross_entropy},
                              {"orthogonal_", f_orthogonal}, {"mse", f_mse},
                              {NULL, NULL}};

void lt_open_loss(lua_State *L, int modi, int ctxi, int mti) {
  lua_createtable(L, 0, 4);
  lua_pushvalue(L, ctxi);
  lua_pushvalue(L, mti);
  luaL_setfuncs(L, fns, LT_NUP);
  lua_setfield(L, modi, "_loss");
}
