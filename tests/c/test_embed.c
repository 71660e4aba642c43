/* The embedding API's data calls (include/actrun.h): tensors and numbers by global name,
 * zero-copy wraps, actrun_call, host activations; every error path names the call and
 * the argument and leaves the interpreter usable. */
#include <criterion/criterion.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>

#include "actrun.h"
#include "act/host.h"
#include "api.h"
#include "core/ctx.h"
#include "lua/binding.h"

TestSuite(embed, .timeout = 120);

static actrun *new_or_die(void) {
  actrun *A = actrun_new();
  cr_assert_not_null(A);
  return A;
}

#define RUN(A, code) cr_assert_eq(actrun_run_string((A), (code)), 0, "%s", actrun_error(A))

/* The call failed and its message contains every fragment given. */
static void fails_with(actrun *A, int rc, const char *a, const char *b) {
  const char *msg = actrun_error(A);
  cr_assert_neq(rc, 0, "expected a failure (%s)", a);
  cr_assert(strstr(msg, a) != NULL, "message '%s' lacks '%s'", msg, a);
  if (b) cr_assert(strstr(msg, b) != NULL, "message '%s' lacks '%s'", msg, b);
}

/* ---------- versions ---------- */

Test(embed, version_macros_agree_with_each_other_and_lua) {
  char v[64];
  snprintf(v, sizeof v, "%d.%d.%d", ACTRUN_VERSION_MAJOR, ACTRUN_VERSION_MINOR,
           ACTRUN_VERSION_PATCH);
  cr_assert_str_eq(v, ACTRUN_VERSION);
  cr_assert_eq(ACTRUN_VERSION_NUMBER,
               ACTRUN_VERSION_MAJOR * 10000 + ACTRUN_VERSION_MINOR * 100 + ACTRUN_VERSION_PATCH);
  actrun *A = new_or_die();
  RUN(A, "assert(actrun.version == '" ACTRUN_VERSION "', actrun.version)");
  actrun_free(A);
}

/* ---------- copies ---------- */

Test(embed, set_and_get_tensor_round_trip) {
  actrun *A = new_or_die();
  float data[6] = {1, 2, 3, 4, 5, 6};
  int64_t shape[2] = {2, 3};
  cr_assert_eq(actrun_set_tensor(A, "T", data, 2, shape), 0, "%s", actrun_error(A));
  data[0] = 100; /* copied: the tensor does not see it */
  RUN(A, "assert(T:get(1, 1) == 1 and T:get(2, 3) == 6 and T:dim() == 2)");
  RUN(A, "U = T:t()"); /* a transposed view comes out in its own row-major order */
  float out[6];
  int ndim = -1;
  int64_t s[8] = {0};
  cr_assert_eq(actrun_get_tensor(A, "U", out, 6, &ndim, s), 0, "%s", actrun_error(A));
  cr_assert_eq(ndim, 2);
  cr_assert(s[0] == 3 && s[1] == 2);
  float want[6] = {1, 4, 2, 5, 3, 6};
  cr_assert_arr_eq(out, want, sizeof want);
  /* a 0-dim tensor and an empty one */
  float one = 7.5f;
  cr_assert_eq(actrun_set_tensor(A, "S", &one, 0, NULL), 0, "%s", actrun_error(A));
  RUN(A, "assert(S:dim() == 0 and S:item() == 7.5)");
  int64_t zero = 0;
  cr_assert_eq(actrun_set_tensor(A, "E", NULL, 1, &zero), 0, "%s", actrun_error(A));
  size_t n = 99;
  cr_assert_eq(actrun_tensor_shape(A, "E", &ndim, s, &n), 0, "%s", actrun_error(A));
  cr_assert(ndim == 1 && s[0] == 0 && n == 0);
  cr_assert_eq(actrun_tensor_shape(A, "T", NULL, NULL, &n), 0);
  cr_assert_eq(n, 6);
  actrun_free(A);
}

Test(embed, set_tensor_errors) {
  actrun *A = new_or_die();
  float d[4] = {0};
  int64_t shape[2] = {2, 2}, neg[2] = {2, -1};
  int64_t nine[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
  fails_with(A, actrun_set_tensor(A, NULL, d, 2, shape), "actrun_set_tensor", "name is NULL");
  fails_with(A, actrun_set_tensor(A, "x", NULL, 2, shape), "actrun_set_tensor", "data is NULL");
  fails_with(A, actrun_set_tensor(A, "x", d, 2, NULL), "actrun_set_tensor", "shape is NULL");
  fails_with(A, actrun_set_tensor(A, "x", d, -1, shape), "ndim", "got -1");
  fails_with(A, actrun_set_tensor(A, "x", d, 9, nine), "ndim", "got 9");
  fails_with(A, actrun_set_tensor(A, "x", d, 2, neg), "actrun_set_tensor", "negative");
  int64_t huge[2] = {INT64_C(1) << 40, INT64_C(1) << 40};
  fails_with(A, actrun_set_tensor(A, "x", d, 2, huge), "actrun_set_tensor", "memory");
  RUN(A, "assert(x == nil)"); /* nothing was set */
  cr_assert_neq(actrun_set_tensor(NULL, "x", d, 2, shape), 0);
  /* an allocation failure inside the call is an error return, not an abort */
  ar_fail_alloc_after(lt_ctx_from_registry(actrun_lua(A)), 1);
  fails_with(A, actrun_set_tensor(A, "x", d, 2, shape), "actrun_set_tensor", "memory");
  cr_assert_eq(actrun_set_tensor(A, "x", d, 2, shape), 0, "%s", actrun_error(A));
  cr_assert_str_eq(actrun_error(A), "");
  actrun_free(A);
}

Test(embed, get_tensor_errors) {
  actrun *A = new_or_die();
  lua_State *L = actrun_lua(A);
  int top = lua_gettop(L);
  RUN(A, "W = actrun.ones(3, 4); n = 5; s = 'text'; do local t <close> = actrun.ones(2); c = t end");
  float out[12];
  int ndim = 0;
  int64_t shape[8] = {0};
  fails_with(A, actrun_get_tensor(A, NULL, out, 12, &ndim, shape), "actrun_get_tensor",
             "name is NULL");
  fails_with(A, actrun_get_tensor(A, "W", NULL, 12, &ndim, shape), "actrun_get_tensor",
             "out is NULL");
  fails_with(A, actrun_get_tensor(A, "nope", out, 12, &ndim, shape), "'nope'", "not set");
  fails_with(A, actrun_get_tensor(A, "n", out, 12, &ndim, shape), "'n' is not a tensor",
             "number");
  fails_with(A, actrun_get_tensor(A, "s", out, 12, &ndim, shape), "'s' is not a tensor",
             "string");
  fails_with(A, actrun_get_tensor(A, "c", out, 12, &ndim, shape), "'c' is not a tensor",
             "closed");
  /* capacity too small: fails, but the shape is reported so the host can size a buffer */
  fails_with(A, actrun_get_tensor(A, "W", out, 11, &ndim, shape), "12 elements",
             "capacity is 11");
  cr_assert(ndim == 2 && shape[0] == 3 && shape[1] == 4);
  fails_with(A, actrun_tensor_shape(A, "n", &ndim, shape, NULL), "actrun_tensor_shape",
             "not a tensor");
  cr_assert_eq(lua_gettop(L), top, "the stack is left as it was");
  cr_assert_eq(actrun_get_tensor(A, "W", out, 12, NULL, NULL), 0, "%s", actrun_error(A));
  cr_assert_eq(out[11], 1.0f);
  actrun_free(A);
}

/* ---------- numbers ---------- */

Test(embed, numbers) {
  actrun *A = new_or_die();
  cr_assert_eq(actrun_set_number(A, "lr", 0.25), 0);
  RUN(A, "assert(lr == 0.25); acc = actrun.tensor{0.75}; i = 3; v = actrun.ones(2); s = 'x'");
  double v = 0;
  cr_assert_eq(actrun_get_number(A, "lr", &v), 0);
  cr_assert_eq(v, 0.25);
  cr_assert_eq(actrun_get_number(A, "acc", &v), 0, "%s", actrun_error(A));
  cr_assert_eq(v, 0.75);
  cr_assert_eq(actrun_get_number(A, "i", &v), 0);
  cr_assert_eq(v, 3);
  fails_with(A, actrun_get_number(A, "v", &v), "actrun_get_number", "2 elements");
  fails_with(A, actrun_get_number(A, "s", &v), "'s' is not a number", "string");
  fails_with(A, actrun_get_number(A, "missing", &v), "'missing'", "not set");
  fails_with(A, actrun_get_number(A, "lr", NULL), "actrun_get_number", "value is NULL");
  fails_with(A, actrun_get_number(A, NULL, &v), "actrun_get_number", "name is NULL");
  fails_with(A, actrun_set_number(A, NULL, 1), "actrun_set_number", "name is NULL");
  actrun_free(A);
}

/* ---------- zero-copy wraps ---------- */

Test(embed, wrap_shares_memory_both_ways) {
  actrun *A = new_or_die();
  float buf[6] = {1, 2, 3, 4, 5, 6};
  int64_t shape[2] = {2, 3};
  cr_assert_eq(actrun_wrap_tensor(A, "H", buf, 2, shape), 0, "%s", actrun_error(A));
  RUN(A, "assert(H:get(2, 1) == 4 and H:sum():item() == 21)");
  buf[0] = 10; /* the host writes, Lua reads */
  RUN(A, "assert(H:get(1, 1) == 10)");
  RUN(A, "H[2]:fill(0); H:set(1, 2, -1)"); /* Lua writes in place, the host reads */
  cr_assert(buf[1] == -1 && buf[3] == 0 && buf[5] == 0);
  /* results of ops are ordinary tensors */
  RUN(A, "D = H * 2; D:fill(9)");
  cr_assert_eq(buf[0], 10);
  cr_assert_eq(actrun_unwrap_tensor(A, buf), 0, "%s", actrun_error(A));
  actrun_free(A);
}

Test(embed, unwrap_moves_views_to_a_copy) {
  actrun *A = new_or_die();
  float *buf = malloc(8 * sizeof *buf);
  for (int i = 0; i < 8; i++) buf[i] = (float)i;
  int64_t shape[1] = {8};
  cr_assert_eq(actrun_wrap_tensor(A, "H", buf, 1, shape), 0, "%s", actrun_error(A));
  RUN(A, "V = H:narrow(1, 3, 4):view(2, 2); R = H:view(2, 4):t()");
  cr_assert_eq(actrun_unwrap_tensor(A, buf), 0, "%s", actrun_error(A));
  for (int i = 0; i < 8; i++) buf[i] = -100; /* the host's memory is its own again */
  free(buf); /* and may go (ASan would catch a later read) */
  RUN(A, "assert(V:get(1, 1) == 2 and V:get(2, 2) == 5, tostring(V))");
  RUN(A, "assert(H:get(8) == 7 and R:get(4, 2) == 7)");
  RUN(A, "V:fill(1); assert(H:get(3) == 1 and H:get(7) == 6)"); /* still one storage */
  RUN(A, "H = nil V = nil R = nil collectgarbage() collectgarbage()");
  actrun_free(A);
}

Test(embed, wrap_with_autograd_and_an_optimiser_step) {
  actrun *A = new_or_die();
  float w[3] = {1, -2, 3};
  int64_t n = 3;
  cr_assert_eq(actrun_wrap_tensor(A, "W", w, 1, &n), 0, "%s", actrun_error(A));
  RUN(A, "W.requires_grad = true\n"
         "local opt = actrun.optim.SGD({W}, {lr = 0.5})\n"
         "local loss = (W * W):sum()\n" /* grad 2w */
         "loss:backward()\n"
         "opt:step()\n");
  cr_assert(w[0] == 0 && w[1] == 0 && w[2] == 0, "w = %g %g %g", w[0], w[1], w[2]);
  /* the graph saved views of W; unwrapping with them alive is safe */
  RUN(A, "keep = W * W");
  cr_assert_eq(actrun_unwrap_tensor(A, w), 0, "%s", actrun_error(A));
  RUN(A, "assert(W:abs():sum():item() == 0)\n"
         "W.grad = nil; keep:sum():backward(); assert(W.grad:abs():sum():item() == 0)");
  actrun_free(A);
}

Test(embed, wrap_errors_and_lifetimes) {
  actrun *A = new_or_die();
  float buf[4] = {0};
  int64_t shape[1] = {4}, neg = -2;
  fails_with(A, actrun_wrap_tensor(A, NULL, buf, 1, shape), "actrun_wrap_tensor", "name is NULL");
  fails_with(A, actrun_wrap_tensor(A, "x", NULL, 1, shape), "actrun_wrap_tensor", "data is NULL");
  fails_with(A, actrun_wrap_tensor(A, "x", (float *)((char *)buf + 1), 1, shape),
             "actrun_wrap_tensor", "aligned");
  fails_with(A, actrun_wrap_tensor(A, "x", buf, 9, shape), "ndim", "got 9");
  fails_with(A, actrun_wrap_tensor(A, "x", buf, 1, &neg), "actrun_wrap_tensor", "negative");
  fails_with(A, actrun_wrap_tensor(A, "x", buf, 1, NULL), "actrun_wrap_tensor", "shape is NULL");
  fails_with(A, actrun_unwrap_tensor(A, buf), "actrun_unwrap_tensor", "not wrapped");
  fails_with(A, actrun_unwrap_tensor(A, NULL), "actrun_unwrap_tensor", "data is NULL");
  /* two wraps of one buffer; one unwrap ends both; a second unwrap is an error */
  int64_t s22[2] = {2, 2};
  cr_assert_eq(actrun_wrap_tensor(A, "a", buf, 1, shape), 0, "%s", actrun_error(A));
  cr_assert_eq(actrun_wrap_tensor(A, "b", buf, 2, s22), 0, "%s", actrun_error(A));
  RUN(A, "b:set(2, 2, 5); assert(a:get(4) == 5)");
  cr_assert_eq(actrun_unwrap_tensor(A, buf), 0, "%s", actrun_error(A));
  fails_with(A, actrun_unwrap_tensor(A, buf), "actrun_unwrap_tensor", "not wrapped");
  RUN(A, "a:fill(3); assert(b:get(1, 1) == 3)"); /* one private copy, still shared */
  cr_assert_eq(buf[0], 0);
  /* a wrap nobody uses any more: unwrap needs no copy */
  cr_assert_eq(actrun_wrap_tensor(A, "c", buf, 1, shape), 0);
  RUN(A, "c = nil; collectgarbage(); collectgarbage()");
  cr_assert_eq(actrun_unwrap_tensor(A, buf), 0, "%s", actrun_error(A));
  /* many wrap/unwrap cycles do not pile up records */
  for (int i = 0; i < 200; i++) {
    cr_assert_eq(actrun_wrap_tensor(A, "d", buf, 1, shape), 0);
    RUN(A, "d:add(1)");
    cr_assert_eq(actrun_unwrap_tensor(A, buf), 0);
  }
  RUN(A, "d = nil; collectgarbage(); collectgarbage()");
  cr_assert_eq(actrun_wrap_tensor(A, "d", buf, 1, shape), 0); /* sweeps the detached ones */
  int records = 0;
  for (ar_wrap *w = A->wraps; w; w = w->next) records++;
  cr_assert_leq(records, 2, "%d wrap records kept", records);
  cr_assert_eq(actrun_unwrap_tensor(A, buf), 0);
  /* left wrapped at actrun_free: released there (ASan/LSan check the bookkeeping) */
  cr_assert_eq(actrun_wrap_tensor(A, "e", buf, 1, shape), 0);
  RUN(A, "f = e:view(2, 2)");
  actrun_free(A);
}

/* ---------- actrun_call ---------- */

Test(embed, call_functions_by_name) {
  actrun *A = new_or_die();
  lua_State *L = actrun_lua(A);
  int top = lua_gettop(L);
  RUN(A, "function affine(x, a, b) return x * a + b, 'second', x:numel() end\n"
         "M = {sub = {f = function() return 42 end}}\n"
         "callable = setmetatable({}, {__call = function(self, v) return v + 1 end})");
  float x[3] = {1, 2, 3};
  int64_t n = 3;
  cr_assert_eq(actrun_set_tensor(A, "x", x, 1, &n), 0);
  cr_assert_eq(actrun_set_number(A, "a", 2), 0);
  cr_assert_eq(actrun_set_number(A, "b", 1), 0);
  const char *in[] = {"x", "a", "b"}, *out[] = {"y", NULL, "count", "extra"};
  cr_assert_eq(actrun_call(A, "affine", in, 3, out, 4), 0, "%s", actrun_error(A));
  float y[3];
  cr_assert_eq(actrun_get_tensor(A, "y", y, 3, NULL, NULL), 0, "%s", actrun_error(A));
  cr_assert(y[0] == 3 && y[1] == 5 && y[2] == 7);
  double c;
  cr_assert_eq(actrun_get_number(A, "count", &c), 0);
  cr_assert_eq(c, 3);
  RUN(A, "assert(extra == nil)");
  const char *r1[] = {"r"};
  cr_assert_eq(actrun_call(A, "M.sub.f", NULL, 0, r1, 1), 0, "%s", actrun_error(A));
  RUN(A, "assert(r == 42)");
  const char *ina[] = {"a"};
  cr_assert_eq(actrun_call(A, "callable", ina, 1, r1, 1), 0, "%s", actrun_error(A));
  RUN(A, "assert(r == 3)");
  cr_assert_eq(actrun_call(A, "affine", in, 3, NULL, 0), 0, "%s", actrun_error(A));
  cr_assert_eq(lua_gettop(L), top);
  actrun_free(A);
}

Test(embed, call_errors_leave_the_interpreter_usable) {
  actrun *A = new_or_die();
  lua_State *L = actrun_lua(A);
  int top = lua_gettop(L);
  RUN(A, "function boom(v) local t = nil; return t.field end\n"
         "function ok() return 1 end\n"
         "notfn = 5; M = {x = 1}; v = 1");
  const char *in[] = {"v"}, *bad[] = {"undefined_global"}, *out[] = {"r"};
  int rc = actrun_call(A, "boom", in, 1, out, 1);
  fails_with(A, rc, "actrun_call", "attempt to index a nil value");
  cr_assert(strstr(actrun_error(A), "stack traceback") != NULL, "%s", actrun_error(A));
  cr_assert_eq(rc, LUA_ERRRUN);
  fails_with(A, actrun_call(A, "missing", NULL, 0, NULL, 0), "'missing' is not a function",
             "nil");
  fails_with(A, actrun_call(A, "notfn", NULL, 0, NULL, 0), "'notfn' is not a function",
             "number");
  fails_with(A, actrun_call(A, "M.x.y", NULL, 0, NULL, 0), "'M.x' is not a table", "number");
  fails_with(A, actrun_call(A, "nope.f", NULL, 0, NULL, 0), "'nope' is not a table", "nil");
  fails_with(A, actrun_call(A, "a..b", NULL, 0, NULL, 0), "actrun_call", "dotted path");
  fails_with(A, actrun_call(A, "", NULL, 0, NULL, 0), "actrun_call", "dotted path");
  fails_with(A, actrun_call(A, NULL, NULL, 0, NULL, 0), "actrun_call", "function is NULL");
  fails_with(A, actrun_call(A, "ok", bad, 1, NULL, 0), "argument 1",
             "'undefined_global' is not set");
  fails_with(A, actrun_call(A, "ok", NULL, 1, NULL, 0), "actrun_call", "args is NULL");
  fails_with(A, actrun_call(A, "ok", NULL, 0, NULL, 1), "actrun_call", "results is NULL");
  fails_with(A, actrun_call(A, "ok", NULL, -1, NULL, 0), "actrun_call", "nargs");
  const char *nullarg[] = {NULL};
  fails_with(A, actrun_call(A, "ok", nullarg, 1, NULL, 0), "actrun_call", "args[0] is NULL");
  cr_assert_eq(lua_gettop(L), top, "the stack is left as it was");
  cr_assert_eq(actrun_call(A, "ok", NULL, 0, out, 1), 0, "%s", actrun_error(A));
  cr_assert_str_eq(actrun_error(A), "");
  RUN(A, "assert(r == 1)");
  actrun_free(A);
}

/* ---------- host activations ---------- */

/* bent identity: f(x) = (sqrt(x^2 + 1) - 1) / 2 + x, f'(x) = x / (2 sqrt(x^2 + 1)) + 1;
 * ud counts calls and records the calling thread. */
typedef struct {
  int calls;
  pthread_t thread;
  size_t last_n;
} probe;
static void bent(const float *x, float *y, size_t n, void *ud) {
  probe *p = ud;
  if (p) p->calls++, p->thread = pthread_self(), p->last_n = n;
  for (size_t i = 0; i < n; i++) y[i] = (sqrtf(x[i] * x[i] + 1) - 1) / 2 + x[i];
}
static void bent_d(const float *x, float *y, size_t n, void *ud) {
  probe *p = ud;
  if (p) p->calls++, p->thread = pthread_self();
  for (size_t i = 0; i < n; i++) y[i] = x[i] / (2 * sqrtf(x[i] * x[i] + 1)) + 1;
}
static void twice(const float *x, float *y, size_t n, void *ud) {
  for (size_t i = 0; i < n; i++) y[i] = 2 * x[i];
}
static void two(const float *x, float *y, size_t n, void *ud) {
  for (size_t i = 0; i < n; i++) y[i] = 2;
}

Test(embed, host_activation_is_first_class) {
  actrun *A = new_or_die();
  probe p = {0};
  cr_assert_eq(actrun_register_activation(A, "bent", bent, bent_d, &p), 0, "%s",
               actrun_error(A));
  float xs[5] = {-3, -0.5f, 0, 0.5f, 4};
  int64_t n = 5;
  cr_assert_eq(actrun_set_tensor(A, "x", xs, 1, &n), 0);
  RUN(A, "local act = actrun.act\n"
         "y1 = act.bent(x); y2 = act.apply('bent', x); y3 = act.apply('bent', x, {})\n"
         "assert(y1:eq(y2):sum():item() == 5 and y1:eq(y3):sum():item() == 5)\n"
         "local xr = x:clone(); xr.requires_grad = true\n"
         "act.bent(xr):sum():backward()\n"
         "g = xr.grad\n"
         "d = act.derivative('bent', x)\n"
         "f0, df0 = act.scalar('bent', 0.5)\n");
  float y[5], g[5], d[5];
  cr_assert_eq(actrun_get_tensor(A, "y1", y, 5, NULL, NULL), 0);
  cr_assert_eq(actrun_get_tensor(A, "g", g, 5, NULL, NULL), 0, "%s", actrun_error(A));
  cr_assert_eq(actrun_get_tensor(A, "d", d, 5, NULL, NULL), 0);
  for (int i = 0; i < 5; i++) {
    float want, dwant;
    bent(&xs[i], &want, 1, NULL);
    bent_d(&xs[i], &dwant, 1, NULL);
    cr_assert_eq(y[i], want, "f(%g) = %g, want %g", xs[i], y[i], want);
    cr_assert_eq(g[i], dwant, "grad at %g = %g, want %g", xs[i], g[i], dwant);
    cr_assert_eq(d[i], dwant);
  }
  double f0, df0;
  cr_assert_eq(actrun_get_number(A, "f0", &f0), 0);
  cr_assert_eq(actrun_get_number(A, "df0", &df0), 0);
  cr_assert_float_eq(f0, (sqrt(1.25) - 1) / 2 + 0.5, 1e-6);
  cr_assert_float_eq(df0, 0.5 / (2 * sqrt(1.25)) + 1, 1e-6);
  cr_assert(p.calls > 0 && pthread_equal(p.thread, pthread_self()),
            "kernels run on the calling thread");
  /* a dy other than ones: dx = dy * f'(x), and a strided input is copied contiguous */
  RUN(A, "local m = actrun.randn(4, 6); local v = m:t(); v.requires_grad = true\n"
         "local out = actrun.act.bent(v)\n"
         "local w = actrun.randn(6, 4);\n"
         "(out * w):sum():backward()\n"
         "local want = actrun.act.backward('bent', v:detach(), w)\n"
         "assert((v.grad - want):abs():max():item() == 0)\n"
         "assert((v.grad - w * actrun.act.derivative('bent', v:detach())):abs():max():item() "
         "== 0)\n");
  cr_assert_eq(p.last_n, 24);
  /* an expanded (stride-0) input reaches the kernel as a full contiguous copy */
  RUN(A, "local e = actrun.tensor{{-1, 0, 2}}:expand(4, 3)\n"
         "local y = actrun.act.bent(e)\n"
         "assert(y:size(1) == 4 and y:get(4, 3) == y:get(1, 3) and y:get(2, 2) == 0)");
  cr_assert_eq(p.last_n, 12);
  /* a dy of the wrong shape is refused, naming the function and the argument */
  cr_assert_neq(actrun_run_string(A, "actrun.act.backward('bent', actrun.ones(2, 3), "
                                     "actrun.ones(3, 2))"), 0);
  cr_assert(strstr(actrun_error(A), "actrun.act.backward: dy has shape {3,2}, expected"),
            "%s", actrun_error(A));
  /* listed (sorted), described */
  RUN(A, "local l = actrun.act.list(); local seen = false\n"
         "for i = 2, #l do assert(l[i - 1] < l[i], 'sorted') end\n"
         "for _, v in ipairs(l) do seen = seen or v == 'bent' end\n"
         "assert(seen, 'bent is listed')\n"
         "local info = actrun.act.info('bent')\n"
         "assert(info.name == 'bent' and info.family == 'host' and #info.params == 0)\n"
         "assert(info.learnable == false and type(info.formula) == 'string')\n"
         "assert(require('actrun.act').bent == actrun.act.bent)");
  /* argument errors name the function */
  cr_assert_neq(actrun_run_string(A, "actrun.act.bent(x, 1)"), 0);
  cr_assert(strstr(actrun_error(A), "actrun.act.bent: too many arguments"), "%s",
            actrun_error(A));
  cr_assert_neq(actrun_run_string(A, "actrun.act.bent('x')"), 0);
  cr_assert(strstr(actrun_error(A), "actrun.act.bent: argument #1 (x) expected a tensor"),
            "%s", actrun_error(A));
  cr_assert_neq(actrun_run_string(A, "actrun.act.apply('bent', x, {alpha = 1})"), 0);
  cr_assert(strstr(actrun_error(A), "unknown parameter 'alpha' for bent"), "%s",
            actrun_error(A));
  actrun_free(A);
}

/* bent identity's f'' = 1 / (2 (x^2 + 1)^(3/2)) */
static void bent_d2(const float *x, float *y, size_t n, void *ud) {
  probe *p = ud;
  if (p) p->calls++, p->thread = pthread_self(), p->last_n = n;
  for (size_t i = 0; i < n; i++) {
    float r = sqrtf(x[i] * x[i] + 1);
    y[i] = 1 / (2 * r * r * r);
  }
}

#define NO_D2                                                           \
  "host activation 'bent1' has no second derivative (register it with " \
  "actrun_register_activation2 to differentiate twice)"

Test(embed, host_activation_second_derivative) {
  actrun *A = new_or_die();
  probe p = {0};
  cr_assert_eq(actrun_register_activation2(A, "bent2", bent, bent_d, bent_d2, &p), 0, "%s",
               actrun_error(A));
  /* d2f NULL: as actrun_register_activation */
  cr_assert_eq(actrun_register_activation2(A, "bent1", bent, bent_d, NULL, NULL), 0, "%s",
               actrun_error(A));
  float xs[5] = {-3, -0.5f, 0, 0.5f, 4};
  int64_t n = 5;
  cr_assert_eq(actrun_set_tensor(A, "x", xs, 1, &n), 0);
  /* f'' through act.scalar (one element) and the hidden tensor form (strided input too) */
  RUN(A, "local C = package.loaded['actrun.act_c']\n"
         "f0, df0, d20 = actrun.act.scalar('bent2', 0.5)\n"
         "d2 = C.second('bent2', x)\n"
         "local m = actrun.tensor{{-3, 0}, {-0.5, 0.5}, {0, 4}}\n"
         "local s = C.second('bent2', m:t())\n"
         "assert(s:size(1) == 2 and s:get(2, 3) == d2:get(5) and s:get(1, 2) == d2:get(2))\n"
         "assert(select('#', actrun.act.scalar('bent1', 0.5)) == 3)\n"
         "f1, df1, d21 = actrun.act.scalar('bent1', 0.5)\n"
         "assert(d21 == nil and f1 == f0 and df1 == df0)\n"
         "local f, df, d = actrun.act.scalar('relu', 2)\n"
         "assert(f == 2 and df == 1 and d == 0)");
  float d2[5];
  cr_assert_eq(actrun_get_tensor(A, "d2", d2, 5, NULL, NULL), 0, "%s", actrun_error(A));
  for (int i = 0; i < 5; i++) {
    float want;
    bent_d2(&xs[i], &want, 1, NULL);
    cr_assert_eq(d2[i], want, "f''(%g) = %g, want %g", xs[i], d2[i], want);
  }
  double d20;
  cr_assert_eq(actrun_get_number(A, "d20", &d20), 0);
  cr_assert_float_eq(d20, 1 / (2 * pow(1.25, 1.5)), 1e-6);
  cr_assert(p.calls > 0 && pthread_equal(p.thread, pthread_self()),
            "f'' runs on the calling thread");
  /* without d2f: a clear error naming the activation and the way out */
  cr_assert_neq(actrun_run_string(A, "package.loaded['actrun.act_c'].second('bent1', x)"), 0);
  cr_assert(strstr(actrun_error(A), NO_D2), "%s", actrun_error(A));
  RUN(A, "assert(actrun.act.bent1(x):numel() == 5)"); /* still usable */
  /* double backward through the host's f'' (autograd's host_act_grad op); without one, the
   * second backward fails with the same message and the first still works */
  RUN(A, "local xx = actrun.tensor({-0.5, 0.5, 2}, {requires_grad = true})\n"
         "local g = actrun.grad(actrun.act.bent2(xx):sum(), xx, {create_graph = true})[1]\n"
         "local h = actrun.grad(g:sum(), xx)[1]\n"
         "for i = 1, 3 do\n"
         "  local _, _, d = actrun.act.scalar('bent2', xx:get(i))\n"
         "  assert(math.abs(h:get(i) - d) < 1e-6, h:get(i) .. ' vs ' .. d)\n"
         "end\n"
         "local y = actrun.tensor({0.5}, {requires_grad = true})\n"
         "local g1 = actrun.grad(actrun.act.bent1(y):sum(), y, {create_graph = true})[1]\n"
         "local ok, msg = pcall(actrun.grad, g1:sum(), y)\n"
         "assert(not ok and msg:find('has no second derivative', 1, true), msg)");
  /* act.properties: f'' through d2f, or differences of f' without it (max at x = 0) */
  RUN(A, "local act = actrun.act\n"
         "local p2 = act.properties('bent2', nil, {cost = false})\n"
         "assert(p2.smoothness == 'C2' and math.abs(p2.max_curvature - 0.5) < 1e-6)\n"
         "local p1 = act.properties('bent1', nil, {cost = false})\n"
         "assert(p1.smoothness == 'C2' and math.abs(p1.max_curvature - 0.5) < 1e-3)");
  /* the same through act_host_second itself */
  ar_ctx *C = ar_ctx_new();
  act_host h = {.name = "bent1", .f = bent, .df = bent_d};
  ar_tensor x, out;
  cr_assert_eq(ar_empty(C, &x, 1, &n), AR_OK);
  memcpy(ar_data(&x), xs, sizeof xs);
  cr_assert_eq(act_host_second(C, &h, &out, &x), AR_EARG);
  cr_assert_str_eq(ar_errmsg(C), NO_D2);
  cr_assert(out.st == NULL);
  h.d2f = bent_d2;
  cr_assert_eq(act_host_second(C, &h, &out, &x), AR_OK);
  cr_assert(memcmp(ar_data(&out), d2, sizeof d2) == 0);
  ar_release(&out), ar_release(&x);
  ar_ctx_release(C);
  /* the registration rules are actrun_register_activation's, under its own name */
  fails_with(A, actrun_register_activation2(A, "t", NULL, bent_d, bent_d2, NULL),
             "actrun_register_activation2", "argument f is NULL");
  fails_with(A, actrun_register_activation2(A, "t", bent, NULL, bent_d2, NULL),
             "actrun_register_activation2", "argument df is NULL");
  fails_with(A, actrun_register_activation2(A, "bent2", bent, bent_d, bent_d2, NULL),
             "'bent2'", "already registered");
  fails_with(A, actrun_register_activation2(A, "gelu", bent, bent_d, bent_d2, NULL), "'gelu'",
             "built-in");
  fails_with(A, actrun_register_activation2(A, "second", bent, bent_d, bent_d2, NULL),
             "'second'", "already a field");
  cr_assert_neq(actrun_register_activation2(NULL, "x", bent, bent_d, bent_d2, NULL), 0);
  actrun_free(A);
}

Test(embed, host_activation_errors) {
  actrun *A = new_or_die();
  fails_with(A, actrun_register_activation(A, NULL, twice, two, NULL),
             "actrun_register_activation", "name is NULL");
  fails_with(A, actrun_register_activation(A, "t", NULL, two, NULL), "argument f is NULL", NULL);
  fails_with(A, actrun_register_activation(A, "t", twice, NULL, NULL), "argument df is NULL",
             NULL);
  fails_with(A, actrun_register_activation(A, "relu", twice, two, NULL), "'relu'", "built-in");
  fails_with(A, actrun_register_activation(A, "apply", twice, two, NULL), "'apply'",
             "already a field of actrun.act");
  fails_with(A, actrun_register_activation(A, "softmax", twice, two, NULL), "'softmax'",
             "already a field");
  const char *bad[] = {"", "1x", "a-b", "with space", "end", "x.y"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    fails_with(A, actrun_register_activation(A, bad[i], twice, two, NULL), "is not valid",
               NULL);
  char longname[80];
  memset(longname, 'a', 64);
  longname[64] = 0;
  fails_with(A, actrun_register_activation(A, longname, twice, two, NULL), "longer", NULL);
  longname[63] = 0;
  cr_assert_eq(actrun_register_activation(A, longname, twice, two, NULL), 0, "%s",
               actrun_error(A));
  cr_assert_eq(actrun_register_activation(A, "_double2", twice, two, NULL), 0, "%s",
               actrun_error(A));
  /* refused, not replaced: the first registration keeps working */
  fails_with(A, actrun_register_activation(A, "_double2", bent, bent_d, NULL), "'_double2'",
             "already registered");
  RUN(A, "assert(actrun.act._double2(actrun.ones(2)):sum():item() == 4)");
  cr_assert_neq(actrun_run_string(A, "actrun.act.apply('not_there', actrun.ones(1))"), 0);
  cr_assert(strstr(actrun_error(A), "unknown activation 'not_there'"), "%s", actrun_error(A));
  RUN(A, "assert(actrun.act.not_there == nil)");
  cr_assert_neq(actrun_register_activation(NULL, "x", twice, two, NULL), 0);
  actrun_free(A);
}

Test(embed, host_activations_belong_to_one_interpreter) {
  actrun *A = new_or_die(), *B = new_or_die();
  /* a script that took the act table before the registration sees it too */
  RUN(A, "early_act = actrun.act; assert(early_act.dbl == nil)");
  cr_assert_eq(actrun_register_activation(A, "dbl", twice, two, NULL), 0);
  RUN(A, "assert(actrun.act.dbl(actrun.ones(1)):item() == 2)");
  RUN(A, "assert(early_act.dbl == actrun.act.dbl)");
  RUN(B, "assert(actrun.act.dbl == nil)\n"
         "for _, n in ipairs(actrun.act.list()) do assert(n ~= 'dbl') end\n"
         "assert(not pcall(actrun.act.info, 'dbl'))");
  /* B may register the same name with other kernels */
  cr_assert_eq(actrun_register_activation(B, "dbl", bent, bent_d, NULL), 0, "%s",
               actrun_error(B));
  RUN(B, "assert(actrun.act.dbl(actrun.zeros(1)):item() == 0)");
  RUN(A, "assert(actrun.act.dbl(actrun.zeros(1) + 1):item() == 2)");
  actrun_free(A);
  RUN(B, "assert(actrun.act.dbl(actrun.ones(1)):item() > 1)");
  actrun_free(B);
}

/* ---------- independence and robustness ---------- */

Test(embed, rng_and_errors_are_per_interpreter) {
  actrun *A = new_or_die(), *B = new_or_die();
  RUN(A, "actrun.manual_seed(3); a1 = actrun.rand(4)");
  RUN(B, "actrun.manual_seed(3); b0 = actrun.rand(100)"); /* draws in B do not move A */
  RUN(A, "a2 = actrun.rand(4)");
  RUN(B, "actrun.manual_seed(3); b1 = actrun.rand(4); b2 = actrun.rand(4)");
  float a[4], b[4];
  cr_assert_eq(actrun_get_tensor(A, "a2", a, 4, NULL, NULL), 0);
  cr_assert_eq(actrun_get_tensor(B, "b2", b, 4, NULL, NULL), 0);
  cr_assert_arr_eq(a, b, sizeof a);
  cr_assert_neq(actrun_get_tensor(A, "nothing", a, 4, NULL, NULL), 0);
  cr_assert_str_eq(actrun_error(B), "");
  actrun_free(A);
  actrun_free(B);
}

Test(embed, lua_errors_leave_the_interpreter_usable) {
  actrun *A = new_or_die();
  lua_State *L = actrun_lua(A);
  int top = lua_gettop(L);
  cr_assert_neq(actrun_run_string(A, "actrun.matmul(actrun.ones(2, 3), actrun.ones(4, 5))"), 0);
  cr_assert(strstr(actrun_error(A), "actrun.matmul"), "%s", actrun_error(A));
  cr_assert_neq(actrun_run_string(A, "local t = {} t = t .. 1"), 0);
  cr_assert_neq(actrun_run_string(A, "error(setmetatable({}, {__tostring = function() "
                                     "return 'custom' end}))"), 0);
  cr_assert(strstr(actrun_error(A), "custom"), "%s", actrun_error(A));
  /* a memory error in the middle of a run, injected into the tensor allocator */
  ar_fail_alloc_after(lt_ctx_from_registry(L), 2);
  cr_assert_neq(actrun_run_string(A, "local a = actrun.ones(10); local b = actrun.ones(10)"), 0);
  cr_assert(strstr(actrun_error(A), "memory"), "%s", actrun_error(A));
  cr_assert_eq(lua_gettop(L), top);
  RUN(A, "x = actrun.ones(3) * 2");
  float x[3];
  cr_assert_eq(actrun_get_tensor(A, "x", x, 3, NULL, NULL), 0, "%s", actrun_error(A));
  cr_assert_eq(x[2], 2);
  actrun_free(A);
}

Test(embed, a_null_interpreter_fails_every_call) {
  float d[1] = {0};
  int64_t one = 1;
  double v;
  size_t n;
  const char *in[] = {"x"};
  cr_assert_neq(actrun_set_tensor(NULL, "x", d, 1, &one), 0);
  cr_assert_neq(actrun_get_tensor(NULL, "x", d, 1, NULL, NULL), 0);
  cr_assert_neq(actrun_tensor_shape(NULL, "x", NULL, NULL, &n), 0);
  cr_assert_neq(actrun_wrap_tensor(NULL, "x", d, 1, &one), 0);
  cr_assert_neq(actrun_unwrap_tensor(NULL, d), 0);
  cr_assert_neq(actrun_set_number(NULL, "x", 1), 0);
  cr_assert_neq(actrun_get_number(NULL, "x", &v), 0);
  cr_assert_neq(actrun_call(NULL, "f", in, 1, NULL, 0), 0);
  cr_assert_neq(actrun_run_string(NULL, "x = 1"), 0);
  cr_assert_neq(actrun_run_file(NULL, "x.lua"), 0);
  cr_assert_neq(actrun_register_activation(NULL, "x", twice, two, NULL), 0);
  cr_assert_str_eq(actrun_error(NULL), "");
  cr_assert_null(actrun_lua(NULL));
  actrun_free(NULL);
  /* and a NULL name where a name is expected */
  actrun *A = new_or_die();
  fails_with(A, actrun_tensor_shape(A, NULL, NULL, NULL, &n), "actrun_tensor_shape",
             "name is NULL");
  fails_with(A, actrun_get_number(A, NULL, &v), "actrun_get_number", "name is NULL");
  actrun_free(A);
}
