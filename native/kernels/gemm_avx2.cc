// AVX2+FMA GEMM pieces: a 6x16 micro-kernel (12 accumulators + 2 B vectors + 1 broadcast
// of the 16 ymm registers). Only called after __builtin_cpu_supports says AVX2 and FMA.
#include <immintrin.h>

#include <cstdint>

#include "gemm_isa.h"

#pragma GCC push_options
// GCC 12 warns about the deliberately undefined lanes inside its own intrinsic headers.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC target("avx2,fma")

#include "simd_avx2.h"

#include "gemm_isa_impl.h"

namespace spur {
const GemmIsaKernels& gemmKernelsAvx2() {
  static const GemmIsaKernels k = makeKernels<6, 2>(144, 256, 3072);
  return k;
}
}  // namespace spur

#pragma GCC pop_options
