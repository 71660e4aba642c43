/* The B-spline kernels at the baseline level (compiled with its flags: CMakeLists.txt). */
#define AR_SIMD_LEVEL AR_SIMD_BASELINE
#include "core/bs_kernels.h"
