/* The SIMD level: what the CPU can run (cpuid through the compiler's builtins), what this
 * build compiled (ACTRUN_X86_LEVELS: the AVX2 and AVX-512 kernels exist on x86-64 only),
 * and the environment's ACTRUN_SIMD, which may lower it. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

static const char *const names[AR_SIMD_NLEVELS] = {"baseline", "avx2", "avx512"};

const char *ar_simd_name(int level) {
  return level >= 0 && level < AR_SIMD_NLEVELS ? names[level] : "unknown";
}

int ar_simd_parse(const char *name) {
  for (int i = 0; name && i < AR_SIMD_NLEVELS; i++)
    if (strcmp(name, names[i]) == 0) return i;
  return -1;
}

bool ar_simd_available(int level) {
  switch (level) {
  case AR_SIMD_BASELINE:
    return true;
#if defined(ACTRUN_X86_LEVELS) && (defined(__x86_64__) || defined(__i386__))
  case AR_SIMD_AVX2:
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  case AR_SIMD_AVX512:
    /* GCC's check includes the OS's support for the wider register state (XCR0) */
    return __builtin_cpu_supports("avx512f") && ar_simd_available(AR_SIMD_AVX2);
#endif
  default:
    return false;
  }
}

static int best(void) {
  int b = AR_SIMD_BASELINE;
  while (b + 1 < AR_SIMD_NLEVELS && ar_simd_available(b + 1)) b++;
  return b;
}

/* -1 until first read; then the level. Racing first reads compute the same value. */
static atomic_int current = -1;

static int from_env(void) {
  int lvl = best();
  const char *e = getenv("ACTRUN_SIMD");
  if (e && *e) {
    int want = ar_simd_parse(e);
    if (want < 0)
      fprintf(stderr, "actrun: ACTRUN_SIMD=%s is not one of baseline, avx2, avx512; using %s\n", e,
              names[lvl]);
    else if (want > lvl)
      fprintf(stderr, "actrun: ACTRUN_SIMD=%s is not available on this CPU; using %s\n", e,
              names[lvl]);
    else
      lvl = want;
  }
  return lvl;
}

int ar_simd_level(void) {
  int l = atomic_load_explicit(&current, memory_order_relaxed);
  if (l < 0) {
    l = from_env();
    int expect = -1;
    if (!atomic_compare_exchange_strong(&current, &expect, l)) l = expect;
  }
  return l;
}

int ar_simd_set_level(int level) {
  if (!ar_simd_available(level)) return AR_EARG;
  atomic_store(&current, level);
  return AR_OK;
}
