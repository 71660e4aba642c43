/* Philox4x32-10 (Salmon et al., SC'11): a counter-based generator. Element i of a fill
 * is a pure function of (key, first counter + i/4), so the numbers do not depend on how
 * the work is split across threads. */
#include <math.h>

#include "core/ctx.h"

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

void ar_philox(uint64_t key, uint64_t counter, uint32_t out[4]) {
  uint32_t c0 = (uint32_t)counter, c1 = (uint32_t)(counter >> 32), c2 = 0, c3 = 0;
  uint32_t k0 = (uint32_t)key, k1 = (uint32_t)(key >> 32);
  for (int r = 0; r < 10; r++) {
    uint64_t p0 = (uint64_t)PHILOX_M0 * c0, p1 = (uint64_t)PHILOX_M1 * c2;
    uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0, n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
    c1 = (uint32_t)p1;
    c3 = (uint32_t)p0;
    c0 = n0;
    c2 = n2;
    k0 += PHILOX_W0;
    k1 += PHILOX_W1;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}

/* splitmix64 spreads small seeds (0, 1, 2...) over the whole key space. */
static uint64_t mix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

void ar_manual_seed(ar_ctx *C, uint64_t seed) {
  C->rng_key = mix64(seed);
  C->rng_counter = 0;
}

uint64_t ar_rng_key(const ar_ctx *C) { return C->rng_key; }

uint64_t ar_rng_reserve(ar_ctx *C, uint64_t nwords) {
  uint64_t first = C->rng_counter;
  C->rng_counter += (nwords + 3) / 4;
  return first;
}

/* [0, 1) with 24 random bits: every float in the grid k/2^24 is equally likely. */
static inline float u01(uint32_t w) { return (float)(w >> 8) * (1.0f / 16777216.0f); }
/* (0, 1]: safe under log. */
static inline double u01_open(uint32_t w) { return ((double)(w >> 8) + 1.0) / 16777216.0; }

typedef struct {
  float *out;
  uint64_t key, first;
  float a, b; /* uniform: lo, hi - lo; normal: mean, std */
  int64_t n;
} fill_job;

static void uniform_rows(void *arg, int64_t lo, int64_t hi) {
  fill_job *j = arg;
  uint32_t w[4];
  for (int64_t c = lo; c < hi; c++) { /* one counter = four elements */
    ar_philox(j->key, j->first + (uint64_t)c, w);
    for (int k = 0; k < 4; k++) {
      int64_t i = c * 4 + k;
      if (i >= j->n) break;
      float v = j->a + j->b * u01(w[k]);
      /* rounding may land on hi itself: keep the interval half-open */
      if (v >= j->a + j->b && j->b > 0) v = nextafterf(j->a + j->b, j->a);
      j->out[i] = v;
    }
  }
}

/* Box-Muller on word pairs (w0, w1) and (w2, w3) of each counter:
 * r = sqrt(-2 ln u1), z0 = r cos(2 pi u2), z1 = r sin(2 pi u2), computed in double. */
static void normal_rows(void *arg, int64_t lo, int64_t hi) {
  fill_job *j = arg;
  uint32_t w[4];
  for (int64_t c = lo; c < hi; c++) {
    ar_philox(j->key, j->first + (uint64_t)c, w);
    for (int p = 0; p < 2; p++) {
      double r = sqrt(-2.0 * log(u01_open(w[2 * p])));
      double th = 6.283185307179586 * u01(w[2 * p + 1]);
      int64_t i = c * 4 + 2 * p;
      if (i < j->n) j->out[i] = (float)(j->a + j->b * r * cos(th));
      if (i + 1 < j->n) j->out[i + 1] = (float)(j->a + j->b * r * sin(th));
    }
  }
}

static int fill_random(ar_ctx *C, ar_tensor *t, ar_range_fn fn, float a, float b) {
  int64_t n = ar_numel(t);
  ar_tensor tmp, *dst = t;
  if (!ar_is_contiguous(t)) { /* draw into a contiguous buffer, then scatter */
    int rc = ar_empty_like(C, &tmp, t);
    if (rc) return rc;
    dst = &tmp;
  }
  fill_job j = {ar_data(dst), C->rng_key, ar_rng_reserve(C, (uint64_t)n), a, b, n};
  ar_parallel_for(C, (n + 3) / 4, AR_PAR_GRAIN / 16, fn, &j);
  if (dst != t) {
    int rc = ar_copy_(C, t, dst);
    ar_release(&tmp);
    return rc;
  }
  return AR_OK;
}

int ar_rand_uniform(ar_ctx *C, ar_tensor *t, float lo, float hi) {
  if (!(lo <= hi) || !isfinite(lo) || !isfinite(hi))
    return ar_seterr(C, AR_EARG, "expected finite bounds with lo <= hi, got [%g, %g)", lo, hi);
  return fill_random(C, t, uniform_rows, lo, hi - lo);
}

int ar_rand_normal(ar_ctx *C, ar_tensor *t, float mean, float std) {
  if (!(std >= 0) || !isfinite(mean) || !isfinite(std))
    return ar_seterr(C, AR_EARG, "expected a finite mean and std >= 0, got %g and %g", mean, std);
  return fill_random(C, t, normal_rows, mean, std);
}
