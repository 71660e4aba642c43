/* The Padé activation unit's kernels at the avx2 level (compiled with its flags: CMakeLists.txt). */
#define AR_SIMD_LEVEL AR_SIMD_AVX2
#include "act/pau_kernels.h"
