// AVX2+FMA convolution pieces: a 6x16 gathered micro-kernel (the GEMM's register tile)
// and 8x8 transposes. Only called after __builtin_cpu_supports says AVX2 and FMA.
#include <immintrin.h>

#include <cstdint>

#include "conv_isa.h"

#pragma GCC push_options
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC target("avx2,fma")

#include "simd_avx2.h"

#include "conv_isa_impl.h"

namespace spur {
const ConvIsaKernels& convKernelsAvx2() {
  static const ConvIsaKernels k = makeConvKernels<6, 2, 8, 6, 2>();
  return k;
}
}  // namespace spur

#pragma GCC pop_options
