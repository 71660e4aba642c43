/* Out of memory: every tensor allocation an operation makes is failed in turn (the
 * context's injection hook), and each failure must come back as a Lua error "not enough
 * memory for a tensor of shape {...}" naming the function; nothing may be leaked (live
 * tensor bytes return to where they were once Lua collects), and the interpreter must
 * stay usable: the same operation then succeeds and gives the same result. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "actrun.h"
#include "core/core.h"
#include "lua/binding.h"

TestSuite(oom, .timeout = 300);

#define RUN(A, code) cr_assert_eq(actrun_run_string((A), (code)), 0, "%s", actrun_error(A))

static size_t live(actrun *A) {
  RUN(A, "collectgarbage(); collectgarbage()");
  return ar_live_bytes(lt_ctx_from_registry(actrun_lua(A)));
}

/* Runs setup once, then op with the 1st, 2nd, ... allocation failing until op succeeds.
 * op leaves its result in the local `out` (a number or a tensor, reduced to its sum);
 * only a complete run stores it in the global `result`. fname: the function the message
 * must name (NULL: any actrun function or Tensor method). */
static void each_failure(const char *setup, const char *op, const char *fname) {
  actrun *A = actrun_new();
  cr_assert_not_null(A);
  RUN(A, "nn, optim, act, data = actrun.nn, actrun.optim, actrun.act, actrun.data");
  RUN(A, setup);
  ar_ctx *C = lt_ctx_from_registry(actrun_lua(A));
  char code[4096];
  snprintf(code, sizeof code,
           "do local out; %s; if type(out) == 'userdata' then out = out:sum():item() end; "
           "result = out end", op);
  /* the reference run, without failures (run twice: lazy state such as optimiser
   * buffers or the thread pool is created on first use) */
  RUN(A, code);
  RUN(A, code);
  RUN(A, "expected = result");
  size_t base = live(A);
  int failures = 0;
  for (long k = 1; k <= 400; k++) {
    ar_fail_alloc_after(C, k);
    int rc = actrun_run_string(A, code);
    ar_fail_alloc_after(C, 0);
    if (rc == 0) break; /* k is past the op's last allocation */
    failures++;
    const char *msg = actrun_error(A);
    cr_assert(strstr(msg, "not enough memory for a tensor of shape {") != NULL,
              "%s: allocation %ld: message '%s'", op, k, msg);
    if (fname)
      cr_assert(strstr(msg, fname) != NULL, "%s: allocation %ld: message '%s' does not name %s",
                op, k, msg, fname);
    else
      cr_assert(strstr(msg, ": actrun.") || strstr(msg, ": Tensor:"),
                "%s: allocation %ld: message '%s' names no function", op, k, msg);
    /* nothing leaked by the failed attempt (graph nodes, partial results) */
    cr_assert_leq(live(A), base, "%s: allocation %ld: %zu live bytes after, %zu before", op, k,
                  live(A), base);
    /* still usable: a fresh computation works, and the op itself still gives its result */
    RUN(A, "assert((actrun.ones(3) * 2):sum():item() == 6)");
  }
  cr_assert_gt(failures, 0, "%s: no allocation was failed (does it allocate?)", op);
  RUN(A, code);
  /* the same result as before the failures (the ops below are deterministic; an optimiser
   * step changes the parameters, so those compare a fresh evaluation instead) */
  RUN(A, "assert(result == expected or out_varies, 'result changed: ' .. tostring(result) .. "
         "' vs ' .. tostring(expected))");
  actrun_free(A);
}

#define SETUP "actrun.manual_seed(3) a = actrun.randn(4, 6) b = actrun.randn(4, 6) " \
              "w = actrun.randn(6, 5) labels = actrun.tensor{1, 2, 3, 1} " \
              "img = actrun.randn(2, 3, 8, 8) k = actrun.randn(4, 3, 3, 3)"

Test(oom, elementwise_and_broadcast) {
  each_failure(SETUP, "out = (a + b) * 2 - a / (b:abs() + 1) + a:sum(1, true)", NULL);
}
Test(oom, matmul) { each_failure(SETUP, "out = actrun.matmul(a, w)", "actrun.matmul"); }
Test(oom, reductions) { each_failure(SETUP, "out = a:var(1):sum() + a:max(2):sum() + a:norm()", NULL); }
Test(oom, views_and_copies) {
  each_failure(SETUP, "out = a:reshape(6, 4):t():contiguous():narrow(1, 2, 3):clone()", NULL);
}
Test(oom, cat_and_stack) {
  each_failure(SETUP, "out = actrun.cat({a, b}, 2):sum(2) + actrun.stack({a, b}, 1):sum(1):sum(2)", NULL);
}
Test(oom, activations) {
  each_failure(SETUP, "out = act.gelu(a) + act.softmax(a, 2) + act.elu(a, 0.5) + act.mish(a)", NULL);
}
Test(oom, losses) {
  each_failure(SETUP, "out = actrun.nn.cross_entropy(a, labels):item() + actrun.nn.mse(a, b):item()", NULL);
}
Test(oom, autograd_backward) {
  each_failure(SETUP "; p = a:clone(); p.requires_grad = true",
               "p.grad = nil; local l = (act.tanh(actrun.matmul(p, w)) ^ 2):sum(); l:backward(); out = p.grad",
               "memory");
}
Test(oom, conv_and_pool) {
  each_failure(SETUP, "out = actrun.max_pool2d(actrun.conv2d(img, k, nil, {stride = 1, padding = 1}), 2)", NULL);
}
Test(oom, training_step) {
  each_failure(SETUP "; m = nn.mlp{6, 16, 3, dropout = 0.1}; opt = optim.Adam(m:parameters(), {lr = 1e-3}); out_varies = true",
               "opt:zero_grad(); local l = nn.cross_entropy(m(a), labels); l:backward(); opt:step(); out = l:item()",
               "memory");
}
Test(oom, lstm) {
  each_failure(SETUP "; r = nn.LSTM(6, 5); s = actrun.randn(3, 2, 6)", "out = r(s)", NULL);
}
Test(oom, tensor_from_table_and_tostring) {
  each_failure(SETUP, "out = #tostring(actrun.tensor{{1, 2}, {3, 4}} + a:narrow(1, 1, 2):narrow(2, 1, 2))", NULL);
}
Test(oom, datasets) { each_failure(SETUP, "local X, y = data.moons{n = 64, seed = 1}; out = X", NULL); }
Test(oom, conv_backward) {
  each_failure(SETUP "; kk = k:clone(); kk.requires_grad = true; bb = actrun.zeros(4); bb.requires_grad = true",
               "kk.grad = nil; bb.grad = nil; local l = (actrun.conv2d(img, kk, bb, {padding = 1}) ^ 2):sum(); "
               "l:backward(); out = kk.grad:sum() + bb.grad:sum()",
               NULL);
}
Test(oom, model_file_round_trip) {
  each_failure(SETUP "; m = nn.mlp{6, 8, 3}; path = os.tmpname()",
               "nn.save(path, m); local m2 = nn.mlp{6, 8, 3}; nn.load(path, m2); "
               "out = m2(a); os.remove(path)",
               NULL);
}
