// Portable GEMM pieces for CPUs without AVX2: a 4x8 micro-kernel on 128-bit GCC vectors
// (SSE2 on x86-64, NEON elsewhere), written without intrinsics.
#include <cstdint>
#include <cstring>

#include "gemm_isa.h"

#include "simd_generic.h"

#include "gemm_isa_impl.h"

namespace spur {
const GemmIsaKernels& gemmKernelsGeneric() {
  static const GemmIsaKernels k = makeKernels<4, 2>(128, 256, 2048);
  return k;
}
}  // namespace spur
