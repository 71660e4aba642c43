/* Memory pressure: the storage cache's default bound follows the memory the process may
 * really use (physical memory, RLIMIT_AS, the cgroup's limit). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

TestSuite(memlimit, .timeout = 120);

#define GiB ((size_t)1 << 30)
#define MiB ((size_t)1 << 20)

Test(memlimit, cache_bound_is_an_eighth_of_the_tightest_limit) {
  cr_assert_eq(ar_cache_limit_for(64 * GiB, 0, 0), GiB, "capped at 1 GiB");
  cr_assert_eq(ar_cache_limit_for(4 * GiB, 0, 0), 512 * MiB);
  cr_assert_eq(ar_cache_limit_for(64 * GiB, 1400 * MiB, 0), 175 * MiB, "ulimit -v");
  cr_assert_eq(ar_cache_limit_for(64 * GiB, 0, 2 * GiB), 256 * MiB, "cgroup");
  cr_assert_eq(ar_cache_limit_for(64 * GiB, 2 * GiB, GiB), 128 * MiB, "the least wins");
  cr_assert_eq(ar_cache_limit_for(GiB, 8 * GiB, 4 * GiB), 128 * MiB, "physical memory");
  cr_assert_eq(ar_cache_limit_for(0, 0, 0), GiB, "unknown physical memory: 8 GiB assumed");
}

/* a file under the fake tree root, with its directories */
static void put(const char *root, const char *rel, const char *text) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", root, rel);
  for (char *s = strchr(path + strlen(root) + 1, '/'); s; s = strchr(s + 1, '/')) {
    *s = 0;
    mkdir(path, 0700);
    *s = '/';
  }
  FILE *f = fopen(path, "w");
  cr_assert_not_null(f, "%s", path);
  fputs(text, f);
  fclose(f);
}

static void fake_root(char *root, size_t n) {
  snprintf(root, n, "%s/actrun-cg-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
  cr_assert_not_null(mkdtemp(root));
}

static void remove_tree(const char *root) {
  char cmd[1200];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
  cr_assert_eq(system(cmd), 0);
}

Test(memlimit, cgroup_v2_limit_is_the_tightest_up_the_tree) {
  char root[512];
  fake_root(root, sizeof root);
  cr_assert_eq(ar_cgroup_memory_limit(root), 0, "no /proc/self/cgroup: no limit");
  put(root, "proc/self/cgroup", "0::/user.slice/job.scope\n");
  cr_assert_eq(ar_cgroup_memory_limit(root), 0, "no limit files");
  put(root, "sys/fs/cgroup/user.slice/job.scope/memory.max", "max\n");
  cr_assert_eq(ar_cgroup_memory_limit(root), 0, "max: no limit");
  put(root, "sys/fs/cgroup/user.slice/memory.max", "3221225472\n");
  cr_assert_eq(ar_cgroup_memory_limit(root), 3 * GiB, "a parent's limit binds");
  put(root, "sys/fs/cgroup/user.slice/job.scope/memory.max", "1073741824\n");
  cr_assert_eq(ar_cgroup_memory_limit(root), GiB, "the child's, tighter");
  put(root, "sys/fs/cgroup/memory.max", "536870912\n");
  cr_assert_eq(ar_cgroup_memory_limit(root), 512 * MiB, "the mount's root (a container's)");
  remove_tree(root);
}

Test(memlimit, cgroup_v1_memory_controller) {
  char root[512];
  fake_root(root, sizeof root);
  put(root, "proc/self/cgroup",
      "9:name=systemd:/\n5:cpu,cpuacct:/a\n4:memory:/ns/job\n0::/\n");
  put(root, "sys/fs/cgroup/memory/memory.limit_in_bytes", "9223372036854771712\n");
  cr_assert_eq(ar_cgroup_memory_limit(root), 0, "v1's unlimited");
  /* the cpu hierarchy's path must not be read as the memory one */
  put(root, "sys/fs/cgroup/memory/a/memory.limit_in_bytes", "1024\n");
  cr_assert_eq(ar_cgroup_memory_limit(root), 0);
  put(root, "sys/fs/cgroup/memory/ns/job/memory.limit_in_bytes", "2147483648\n");
  cr_assert_eq(ar_cgroup_memory_limit(root), 2 * GiB);
  put(root, "proc/self/cgroup", "4:cpuacct,memory:/ns/job/\n");
  cr_assert_eq(ar_cgroup_memory_limit(root), 2 * GiB, "a joint hierarchy, a trailing /");
  put(root, "sys/fs/cgroup/memory/ns/job/memory.limit_in_bytes", "-1\n");
  cr_assert_eq(ar_cgroup_memory_limit(root), 0, "garbage: no limit");
  remove_tree(root);
}

Test(memlimit, new_context_follows_the_address_space_limit) {
  if (SANITIZED) cr_skip_test("the sanitizer's shadow memory exceeds any address-space limit");
  ar_ctx *C = ar_ctx_new();
  long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
  size_t phys = (size_t)pages * (size_t)psize;
  cr_assert_leq(ar_cache_limit(C), GiB);
  cr_assert_leq(ar_cache_limit(C), phys / 8);
  ar_ctx_release(C);
  struct rlimit rl;
  cr_assert_eq(getrlimit(RLIMIT_AS, &rl), 0);
  rl.rlim_cur = 4 * GiB;
  cr_assert_eq(setrlimit(RLIMIT_AS, &rl), 0);
  C = ar_ctx_new();
  cr_assert_eq(ar_cache_limit(C), ar_cache_limit_for(phys, 4 * GiB, ar_cgroup_memory_limit("")));
  cr_assert_leq(ar_cache_limit(C), 512 * MiB);
  ar_ctx_release(C);
}
