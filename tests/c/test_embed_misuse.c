/* Misuse of the embedding contract (include/actrun.h) is reported, never silent memory
 * corruption: a double actrun_free, a call after actrun_free, a pointer that is no
 * handle, a call after lua_close(actrun_lua(A)) abort with a message naming the call; a
 * call while another thread is inside one on the same interpreter fails with a message;
 * lua_close then actrun_free frees what is left exactly once. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lauxlib.h>

#include "actrun.h"

TestSuite(embed_misuse, .timeout = 120);

/* Runs fn in a child process; checks that it aborted (SIGABRT) after writing a line
 * containing `expect` to stderr. */
static void dies_with(void (*fn)(void), const char *expect) {
  int fd[2];
  cr_assert_eq(pipe(fd), 0);
  fflush(NULL);
  pid_t pid = fork();
  cr_assert_neq(pid, -1);
  if (pid == 0) {
    dup2(fd[1], 2);
    close(fd[0]);
    fn();
    _exit(0); /* not reached when the misuse is detected */
  }
  close(fd[1]);
  char buf[4096];
  size_t len = 0;
  ssize_t n;
  while (len < sizeof buf - 1 && (n = read(fd[0], buf + len, sizeof buf - 1 - len)) > 0)
    len += (size_t)n;
  buf[len] = '\0';
  close(fd[0]);
  int st;
  cr_assert_eq(waitpid(pid, &st, 0), pid);
  cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT,
            "expected an abort with '%s'; the child %s %d, stderr: %s", expect,
            WIFSIGNALED(st) ? "got signal" : "exited with",
            WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st), buf);
  cr_assert(strstr(buf, expect) != NULL, "stderr '%s' lacks '%s'", buf, expect);
}

static void double_free(void) {
  actrun *A = actrun_new();
  actrun_free(A);
  actrun_free(A);
}

Test(embed_misuse, double_free_aborts_with_a_message) {
  dies_with(double_free, "actrun: actrun_free used after actrun_free");
}

static void run_after_free(void) {
  actrun *A = actrun_new();
  actrun_free(A);
  actrun_run_string(A, "x = 1");
}

static void set_after_free(void) {
  actrun *A = actrun_new();
  actrun_free(A);
  actrun_set_number(A, "x", 1);
}

static void error_after_free(void) {
  actrun *A = actrun_new();
  actrun_free(A);
  (void)actrun_error(A);
}

/* freed handles stay detectable while others are created and freed after them */
static void call_after_later_frees(void) {
  actrun *A = actrun_new();
  actrun_free(A);
  for (int i = 0; i < 8; i++) actrun_free(actrun_new());
  actrun_lua(A);
}

Test(embed_misuse, calls_after_free_abort_naming_the_call) {
  dies_with(run_after_free, "actrun: actrun_run_string used after actrun_free");
  dies_with(set_after_free, "actrun: actrun_set_number used after actrun_free");
  dies_with(error_after_free, "actrun: actrun_error used after actrun_free");
  dies_with(call_after_later_frees, "actrun: actrun_lua used after actrun_free");
}

/* the same death through Criterion's own signal check */
Test(embed_misuse, double_free_raises_sigabrt, .signal = SIGABRT) {
  actrun *A = actrun_new();
  actrun_free(A);
  actrun_free(A);
}

static void not_a_handle(void) {
  static long junk[64]; /* zeroes: no magic */
  actrun_get_number((actrun *)junk, "x", &(double){0});
}

Test(embed_misuse, a_pointer_that_is_no_handle_aborts) {
  dies_with(not_a_handle,
            "actrun: actrun_get_number called on a handle that is not an actrun interpreter");
}

Test(embed_misuse, lua_close_then_free_frees_the_rest_once) {
  actrun *A = actrun_new();
  cr_assert_not_null(A);
  cr_assert_eq(actrun_run_string(A, "t = actrun.randn(100, 100) x = {1, 2, 3}"), 0);
  float buf[4] = {1, 2, 3, 4};
  int64_t shape[1] = {4};
  cr_assert_eq(actrun_wrap_tensor(A, "w", buf, 1, shape), 0, "%s", actrun_error(A));
  lua_close(actrun_lua(A));
  actrun_free(A); /* no second lua_close: ASan and LSan check the rest is freed once */
  cr_assert_eq(buf[3], 4);
}

static void call_after_lua_close(void) {
  actrun *A = actrun_new();
  lua_close(actrun_lua(A));
  actrun_run_string(A, "x = 1");
}

Test(embed_misuse, calls_after_lua_close_abort) {
  dies_with(call_after_lua_close, "actrun: actrun_run_string used after lua_close(actrun_lua(A))");
}

/* ---------- threads ---------- */

static actrun *shared;

struct other_call {
  int rc;
  char msg[512];
};

static void *call_from_other_thread(void *p) {
  struct other_call *r = p;
  r->rc = actrun_set_number(shared, "z", 5);
  snprintf(r->msg, sizeof r->msg, "%s", actrun_error(shared));
  return NULL;
}

/* Called by the script, i.e. while the main thread is inside actrun_run_string: another
 * thread tries a call on the same interpreter, and this thread makes a nested one. */
static int l_while_running(lua_State *L) {
  struct other_call r = {-1, ""};
  pthread_t t;
  if (pthread_create(&t, NULL, call_from_other_thread, &r) != 0)
    return luaL_error(L, "pthread_create");
  pthread_join(t, NULL);
  double y = 0;
  int nested = actrun_get_number(shared, "y", &y);
  lua_pushinteger(L, r.rc);
  lua_pushstring(L, r.msg);
  lua_pushinteger(L, nested);
  lua_pushnumber(L, y);
  return 4;
}

Test(embed_misuse, another_thread_is_refused_while_a_call_runs) {
  shared = actrun_new();
  cr_assert_not_null(shared);
  lua_register(actrun_lua(shared), "while_running", l_while_running);
  cr_assert_eq(actrun_run_string(shared, "y = 7 rc, msg, nested, ny = while_running()"), 0, "%s",
               actrun_error(shared));
  double rc, nested, ny;
  cr_assert_eq(actrun_get_number(shared, "rc", &rc), 0);
  cr_assert_eq(actrun_get_number(shared, "nested", &nested), 0);
  cr_assert_eq(actrun_get_number(shared, "ny", &ny), 0);
  cr_assert_neq(rc, 0, "the other thread's call was let in");
  cr_assert_eq(nested, 0, "a nested call on the same thread was refused");
  cr_assert_eq(ny, 7);
  cr_assert_eq(
      actrun_run_string(shared,
                        "assert(msg:find('actrun_set_number: called while another thread is "
                        "using this interpreter', 1, true), msg) assert(z == nil)"),
      0, "%s", actrun_error(shared));
  /* the refusal never touched the owner's message */
  cr_assert_str_eq(actrun_error(shared), "");
  /* one thread at a time is allowed: once the main thread is out, another may call */
  struct other_call r = {-1, ""};
  pthread_t t;
  cr_assert_eq(pthread_create(&t, NULL, call_from_other_thread, &r), 0);
  pthread_join(t, NULL);
  cr_assert_eq(r.rc, 0, "%s", r.msg);
  double z;
  cr_assert_eq(actrun_get_number(shared, "z", &z), 0);
  cr_assert_eq(z, 5);
  actrun_free(shared);
}
