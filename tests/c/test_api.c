/* The embedding API of include/actrun.h: running code, errors, independence. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>

#include "actrun.h"

Test(api, new_runs_code_and_has_the_module) {
  actrun *A = actrun_new();
  cr_assert_not_null(A);
  cr_assert_str_eq(actrun_error(A), "");
  cr_assert_eq(actrun_run_string(A, "assert(actrun.version == '" ACTRUN_VERSION "')"), 0, "%s",
               actrun_error(A));
  cr_assert_eq(actrun_run_string(A, "assert(require('actrun') == actrun)"), 0, "%s",
               actrun_error(A));
  cr_assert_eq(actrun_run_string(A, "assert(string and math and io and os)"), 0, "%s",
               actrun_error(A));
  actrun_free(A);
}

Test(api, errors_carry_a_traceback_and_leave_the_interpreter_usable) {
  actrun *A = actrun_new();
  lua_State *L = actrun_lua(A);
  int top = lua_gettop(L);
  cr_assert_neq(actrun_run_string(A, "local function f() error('boom') end f()"), 0);
  const char *msg = actrun_error(A);
  cr_assert(strstr(msg, "boom") != NULL, "%s", msg);
  cr_assert(strstr(msg, "stack traceback") != NULL, "%s", msg);
  cr_assert_eq(lua_gettop(L), top, "the stack is left as it was");
  /* usable afterwards, and a success clears the message */
  cr_assert_eq(actrun_run_string(A, "x = 41 + 1"), 0);
  cr_assert_str_eq(actrun_error(A), "");
  lua_getglobal(L, "x");
  cr_assert_eq(lua_tointeger(L, -1), 42);
  lua_pop(L, 1);
  /* syntax errors and non-string error values */
  cr_assert_neq(actrun_run_string(A, "x = = 1"), 0);
  cr_assert(strstr(actrun_error(A), "near '='") != NULL, "%s", actrun_error(A));
  cr_assert_neq(actrun_run_string(A, "error({})"), 0);
  cr_assert(strstr(actrun_error(A), "table value") != NULL, "%s", actrun_error(A));
  cr_assert_neq(actrun_run_string(A, NULL), 0);
  cr_assert_eq(lua_gettop(L), top);
  actrun_free(A);
}

Test(api, run_file) {
  char path[] = "/tmp/actrun-api-XXXXXX";
  int fd = mkstemp(path);
  cr_assert(fd >= 0);
  FILE *f = fdopen(fd, "w");
  fputs("y = 7\nlocal t = nil\nreturn t.field\n", f);
  fclose(f);
  actrun *A = actrun_new();
  cr_assert_neq(actrun_run_file(A, path), 0);
  char where[64];
  snprintf(where, sizeof where, ":%d:", 3);
  cr_assert(strstr(actrun_error(A), where) != NULL, "%s", actrun_error(A));
  cr_assert_eq(actrun_run_string(A, "assert(y == 7)"), 0, "%s", actrun_error(A));
  remove(path);
  cr_assert_neq(actrun_run_file(A, path), 0);
  cr_assert(strstr(actrun_error(A), "cannot open") != NULL, "%s", actrun_error(A));
  actrun_free(A);
}

Test(api, interpreters_are_independent) {
  actrun *A = actrun_new(), *B = actrun_new();
  cr_assert_eq(actrun_run_string(A, "shared = 1"), 0);
  cr_assert_eq(actrun_run_string(B, "assert(shared == nil)"), 0, "%s", actrun_error(B));
  cr_assert_neq(actrun_run_string(A, "error('only A')"), 0);
  cr_assert_str_eq(actrun_error(B), "");
  actrun_free(A);
  cr_assert_eq(actrun_run_string(B, "shared = 2"), 0);
  actrun_free(B);
  actrun_free(NULL);
}
