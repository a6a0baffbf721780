// AVX-512F convolution pieces: an 8x32 gathered micro-kernel (8 row pointers keep the
// general registers free) and 16x16 transposes. Only called after
// __builtin_cpu_supports says AVX-512F.
#include <immintrin.h>

#include <cstdint>

#include "conv_isa.h"

#pragma GCC push_options
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC target("avx512f")

#include "simd_avx512.h"

#include "conv_isa_impl.h"

namespace spur {
const ConvIsaKernels& convKernelsAvx512() {
  static const ConvIsaKernels k = makeConvKernels<8, 2, 12, 8, 2>();
  return k;
}
}  // namespace spur

#pragma GCC pop_options
