/* The Padé activation unit's kernels at the baseline level (compiled with its flags: CMakeLists.txt). */
#define AR_SIMD_LEVEL AR_SIMD_BASELINE
#include "act/pau_kernels.h"
