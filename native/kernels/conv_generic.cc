// Portable convolution pieces: a 4x8 gathered micro-kernel on 128-bit GCC vectors, and
// the choice of the ISA's kernels at run time.
#include <cstdint>

#include "conv_isa.h"
#include "cpu.h"

#include "simd_generic.h"

#include "conv_isa_impl.h"

namespace spur {
const ConvIsaKernels& convKernelsGeneric() {
  static const ConvIsaKernels k = makeConvKernels<4, 2, 6, 4, 2>();
  return k;
}

const ConvIsaKernels& convKernels() {
  switch (activeIsa()) {
    case Isa::Avx512: return convKernelsAvx512();
    case Isa::Avx2: return convKernelsAvx2();
    default: return convKernelsGeneric();
  }
}
}  // namespace spur
