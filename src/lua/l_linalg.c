/* actrun.linalg_svdvals: the singular values of a matrix (src/core/linalg.c). */
#include "core/linalg.h"
#include "lua/binding.h"

/* linalg_svdvals(t {m, n}) -> {min(m, n)} tensor, descending; not recorded by autograd */
static int f_svdvals(lua_State *L) {
  const char *fn = "actrun.linalg_svdvals";
  ar_tensor *a = lt_check(L, 1, fn, 1, "t");
  if (a->ndim != 2) {
    char s[200];
    return lt_error(L, fn, "argument #1 (t) expected a 2-D matrix, got shape %s",
                    ar_shape_str(a->ndim, a->shape, s, sizeof s));
  }
  ar_ctx *C = lt_ctx(L);
  ar_tensor *out = lt_new(L);
  if (ar_svdvals(C, out, a)) return lt_core_error(L, fn);
  lt_account(L, C);
  return 1;
}

static const luaL_Reg fns[] = {{"linalg_svdvals", f_svdvals}, {NULL, NULL}};

void lt_open_linalg(lua_State *L, int modi, int ctxi, int mti) {
  lua_pushvalue(L, modi);
  lua_pushvalue(L, ctxi);
  lua_pushvalue(L, mti);
  luaL_setfuncs(L, fns, LT_NUP);
  lua_pop(L, 1);
}
