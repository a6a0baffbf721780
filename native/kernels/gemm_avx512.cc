// AVX-512F GEMM pieces: a 12x32 micro-kernel (24 accumulators of the 32 zmm registers).
// Only called after __builtin_cpu_supports says AVX-512F.
#include <immintrin.h>

#include <cstdint>

#include "gemm_isa.h"

#pragma GCC push_options
// GCC 12 warns about the deliberately undefined lanes inside its own intrinsic headers.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC target("avx512f")

#include "simd_avx512.h"

#include "gemm_isa_impl.h"

namespace spur {
const GemmIsaKernels& gemmKernelsAvx512() {
  static const GemmIsaKernels k = makeKernels<12, 2>(144, 256, 3072);
  return k;
}
}  // namespace spur

#pragma GCC pop_options
