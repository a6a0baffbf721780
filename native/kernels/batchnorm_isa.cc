// batchnorm_isa_impl.h compiled three times, each in its own namespace under its own
// target: portable (baseline x86-64), AVX2+FMA, AVX-512F; bnKernels() picks by activeIsa().
#include <cstdint>
#include <cstring>

#include "batchnorm_isa.h"
#include "cpu.h"

// The vector helpers are internal to each namespace: no ABI crosses a target boundary.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace bn_generic {
namespace {
#include "batchnorm_isa_impl.h"
}  // namespace
}  // namespace bn_generic

#pragma GCC push_options
#pragma GCC target("avx2,fma")
namespace bn_avx2 {
namespace {
#include "batchnorm_isa_impl.h"
}  // namespace
}  // namespace bn_avx2
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx512f")
namespace bn_avx512 {
namespace {
#include "batchnorm_isa_impl.h"
}  // namespace
}  // namespace bn_avx512
#pragma GCC pop_options

namespace spur {
const BnIsaKernels& bnKernels() {
  switch (activeIsa()) {
    case Isa::Avx512: return bn_avx512::kKernels;
    case Isa::Avx2: return bn_avx2::kKernels;
    default: return bn_generic::kKernels;
  }
}
}  // namespace spur
