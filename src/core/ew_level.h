/* The elementwise kernels of one SIMD level (src/core/ew_kernels.h compiled per level as
 * ew_kern_LEVEL.c): flat loops over contiguous rows that src/core/elementwise.c drives
 * (iteration, broadcasting, strides, threads). */
#ifndef ACTRUN_CORE_EW_LEVEL_H
#define ACTRUN_CORE_EW_LEVEL_H

#include <stdint.h>

#include "core/core.h"

/* Binary kernels. vv/vs/sv: out-of-place into a fresh output (never aliases the inputs).
 * ivv/ivs: in place, o op= b; callers guarantee b does not overlap o. al is the axpy
 * factor, unused by the other ops. */
typedef void (*ew_bin_vv_fn)(float *restrict o, const float *restrict a,
                             const float *restrict b, int64_t n, float al);
typedef void (*ew_bin_vs_fn)(float *restrict o, const float *restrict a, float y, int64_t n,
                             float al);
typedef void (*ew_bin_sv_fn)(float *restrict o, float x, const float *restrict b, int64_t n,
                             float al);
typedef void (*ew_bin_ivv_fn)(float *restrict o, const float *restrict b, int64_t n, float al);
typedef void (*ew_bin_ivs_fn)(float *restrict o, float y, int64_t n, float al);
typedef struct {
  ew_bin_vv_fn vv;
  ew_bin_vs_fn vs;
  ew_bin_sv_fn sv;
  ew_bin_ivv_fn ivv;
  ew_bin_ivs_fn ivs;
} ew_bin_kernels;

/* Unary kernels: k out of place (fresh output), ki in place. */
typedef struct {
  void (*k)(float *restrict o, const float *restrict a, int64_t n);
  void (*ki)(float *restrict o, int64_t n);
} ew_un_kernels;

/* The internal binary op after the public ones: a += al * b, one rounding (fmaf). */
#define EW_OP_AXPY AR_BINOP_COUNT

typedef struct {
  ew_bin_kernels bin[AR_BINOP_COUNT + 1]; /* ar_binop order, then EW_OP_AXPY */
  ew_un_kernels un[AR_UNOP_COUNT];        /* ar_unop order */
  /* o = max then min as PyTorch's clamp (NaN stays NaN, lo > hi gives hi) */
  void (*clamp)(float *restrict o, const float *restrict a, int64_t n, float lo, float hi);
  /* o = c != 0 ? a : o (where; NaN counts as true) */
  void (*select_vv)(float *restrict o, const float *restrict c, const float *restrict a,
                    int64_t n);
  void (*select_vs)(float *restrict o, const float *restrict c, float v, int64_t n);
  void (*fill)(float *o, float v, int64_t n);
  void (*stream)(float *restrict y, const float *restrict buf, int64_t m); /* ar_stream_store */
} ew_level;

extern const ew_level ew_level_baseline;
#ifdef ACTRUN_X86_LEVELS
extern const ew_level ew_level_avx2;
extern const ew_level ew_level_avx512;
#endif
/* The kernels of a level (AR_SIMD_*), or NULL when this build or CPU cannot run it. */
const ew_level *ew_level_at(int level);

#endif
