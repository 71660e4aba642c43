/* Two interpreters in two threads at once (the workload is tests/embed/two_threads.c,
 * also built alone for the ThreadSanitizer run of tests/embed/tsan.sh). */
#include <criterion/criterion.h>

#include "../embed/two_threads.c"

Test(embed_threads, two_interpreters_in_two_threads_match_their_solo_runs, .timeout = 300) {
  char msg[600];
  int rc = two_threads_check(msg, sizeof msg);
  cr_assert_eq(rc, 0, "%s", msg);
}
