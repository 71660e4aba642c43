/* The reduction kernels at the avx512 level (compiled with its flags: CMakeLists.txt). */
#define AR_SIMD_LEVEL AR_SIMD_AVX512
#include "core/rd_kernels.h"
