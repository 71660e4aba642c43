/* The B-spline kernels at the avx2 level (compiled with its flags: CMakeLists.txt). */
#define AR_SIMD_LEVEL AR_SIMD_AVX2
#include "core/bs_kernels.h"
