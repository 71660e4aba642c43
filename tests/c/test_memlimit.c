/* Memory pressure: the storage cache's default bound follows the memory the process may
 * really use (physical memory, RLIMIT_AS, the cgroup's limit), and after an allocation
 * failure every entry into OpenBLAS first gives the cache back and makes sure OpenBLAS's
 * work buffers can be had (OpenBLAS itself retries a refused buffer forever). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/conv.h"
#include "core/core.h"
#include "core/linalg.h"

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

/* ---------- OpenBLAS after an allocation failure ---------- */

static void filled(ar_ctx *C, ar_tensor *t, int ndim, const int64_t *shape) {
  cr_assert_eq(ar_empty(C, t, ndim, shape), AR_OK);
  for (int64_t i = 0; i < ar_numel(t); i++) ar_data(t)[i] = (float)((i * 7) % 13) - 6;
}

/* leaves a 1 MB buffer in the cache: more than every operand and result below together,
 * which the calls release into the cache when they are done */
static void cache_something(ar_ctx *C) {
  int64_t n = 1 << 18;
  ar_tensor t;
  cr_assert_eq(ar_empty(C, &t, 1, &n), AR_OK);
  ar_release(&t);
  cr_assert_geq(ar_cached_bytes(C), (size_t)n * 4);
}

static void fail_one(ar_ctx *C) {
  ar_tensor t;
  int64_t n = 10;
  ar_fail_alloc_after(C, 1);
  cr_assert_eq(ar_empty(C, &t, 1, &n), AR_ENOMEM);
}

enum { MATMUL, GEMM, LINEAR, CONV, CONV_BACKWARD, SVD, NENTRY };
static const char *entry_name[NENTRY] = {"matmul", "gemm", "linear", "conv2d",
                                         "conv2d backward", "svdvals"};

/* One call into OpenBLAS (contiguous operands, a 1x1 convolution: no copies, no scratch),
 * after which its operands are released: well under 1 MB into the cache. */
static int call_blas(ar_ctx *C, int e, ar_tensor *out) {
  ar_tensor a, b;
  int64_t sa[2] = {96, 80}, sb[2] = {80, 64}, sx[4] = {2, 8, 12, 12}, sw[4] = {16, 8, 1, 1};
  ar_conv_params p = {1, 1, 0, 0};
  int rc;
  switch (e) {
  case MATMUL:
  case GEMM:
  case LINEAR:
  case SVD:
    filled(C, &a, 2, sa);
    if (e == SVD) {
      rc = ar_svdvals(C, out, &a);
      ar_release(&a);
      return rc;
    }
    if (e == LINEAR) sb[0] = 64, sb[1] = 80; /* the weight is {out, in} */
    filled(C, &b, 2, sb);
    if (e == MATMUL) {
      rc = ar_matmul(C, out, &a, &b);
    } else if (e == LINEAR) {
      rc = ar_linear(C, out, &a, &b, NULL);
    } else {
      int64_t so[2] = {96, 64};
      cr_assert_eq(ar_empty(C, out, 2, so), AR_OK);
      rc = ar_gemm(C, out, &a, false, &b, false, 1.0f, 0.0f);
    }
    break;
  case CONV:
    filled(C, &a, 4, sx);
    filled(C, &b, 4, sw);
    rc = ar_conv2d(C, out, &a, &b, NULL, &p);
    break;
  default: {
    int64_t sy[4] = {2, 16, 12, 12};
    filled(C, &a, 4, sy);
    filled(C, &b, 4, sw);
    ar_tensor x;
    filled(C, &x, 4, sx);
    rc = ar_conv2d_backward(C, &a, &x, &b, &p, out, NULL, NULL);
    ar_release(&x);
  }
  }
  ar_release(&a);
  ar_release(&b);
  return rc;
}

Test(memlimit, openblas_entries_trim_the_cache_after_a_failure) {
  ar_ctx *C = ar_ctx_new();
  for (int e = 0; e < NENTRY; e++) {
    ar_tensor out;
    /* no failure: the cache stays (the check costs nothing) */
    cache_something(C);
    size_t before = ar_cached_bytes(C);
    cr_assert_eq(call_blas(C, e, &out), AR_OK, "%s: %s", entry_name[e], ar_errmsg(C));
    ar_release(&out);
    cache_something(C);
    cr_assert_geq(ar_cached_bytes(C), before, "%s: trimmed without a failure", entry_name[e]);
    /* after a failure the call gives the cache back before OpenBLAS runs */
    fail_one(C);
    cr_assert_eq(call_blas(C, e, &out), AR_OK, "%s: %s", entry_name[e], ar_errmsg(C));
    cr_assert_lt(ar_cached_bytes(C), (size_t)1 << 20, "%s: the cache was not trimmed",
                 entry_name[e]);
    ar_release(&out);
    /* once: the next call keeps the cache again */
    cache_something(C);
    before = ar_cached_bytes(C);
    cr_assert_eq(call_blas(C, e, &out), AR_OK, "%s: %s", entry_name[e], ar_errmsg(C));
    ar_release(&out);
    cr_assert_geq(ar_cached_bytes(C), before, "%s: trimmed twice", entry_name[e]);
  }
  ar_cache_trim(C);
  cr_assert_eq(ar_live_bytes(C), 0, "no storage leaked");
  ar_ctx_release(C);
}

Test(memlimit, small_products_skip_openblas_and_keep_the_cache) {
  ar_ctx *C = ar_ctx_new();
  ar_tensor a, b, out;
  int64_t s[2] = {4, 4};
  filled(C, &a, 2, s);
  filled(C, &b, 2, s);
  cache_something(C);
  fail_one(C);
  size_t before = ar_cached_bytes(C);
  cr_assert_eq(ar_matmul(C, &out, &a, &b), AR_OK);
  cr_assert_eq(ar_cached_bytes(C), before, "a 4x4 product does not reach OpenBLAS");
  ar_release(&out);
  ar_release(&a);
  ar_release(&b);
  ar_ctx_release(C);
}

/* The buffers cannot be had: a clean error, not OpenBLAS's endless retry. The limit is
 * set after start-up, so this runs in the normal build only. */
Test(memlimit, openblas_without_room_is_an_error_not_a_hang, .timeout = 30) {
  if (SANITIZED) cr_skip_test("the sanitizer's shadow memory exceeds any address-space limit");
  ar_ctx *C = ar_ctx_new();
  ar_tensor a, b, out;
  int64_t s[2] = {256, 256};
  filled(C, &a, 2, s);
  filled(C, &b, 2, s);
  /* room for the result, not for a 128 MiB buffer */
  long vm = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  cr_assert(f && fscanf(f, "%ld", &vm) == 1);
  fclose(f);
  struct rlimit old;
  cr_assert_eq(getrlimit(RLIMIT_AS, &old), 0);
  struct rlimit tight = {(rlim_t)vm * (rlim_t)sysconf(_SC_PAGESIZE) + 32 * MiB, old.rlim_max};
  cr_assert_eq(setrlimit(RLIMIT_AS, &tight), 0);
  fail_one(C);
  cr_assert_eq(ar_matmul(C, &out, &a, &b), AR_ENOMEM);
  cr_assert(strstr(ar_errmsg(C), "not enough memory for OpenBLAS's work buffers"), "%s",
            ar_errmsg(C));
  cr_assert_null(out.st, "the result is released");
  /* with room again the same product runs */
  cr_assert_eq(setrlimit(RLIMIT_AS, &old), 0);
  cr_assert_eq(ar_matmul(C, &out, &a, &b), AR_OK, "%s", ar_errmsg(C));
  ar_release(&out);
  ar_release(&a);
  ar_release(&b);
  ar_ctx_release(C);
}
