// lissa_isa_impl.h compiled three times, each in its own namespace under its own target:
// portable (baseline x86-64), AVX2, AVX-512F; lissaKernels() picks by activeIsa().
#include <cstdint>
#include <cstring>

#include "cpu.h"
#include "lissa_isa.h"

// The vector helpers are internal to each namespace: no ABI crosses a target boundary.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace lissa_generic {
namespace {
#include "lissa_isa_impl.h"
}  // namespace
}  // namespace lissa_generic

#pragma GCC push_options
#pragma GCC target("avx2")
namespace lissa_avx2 {
namespace {
#include "lissa_isa_impl.h"
}  // namespace
}  // namespace lissa_avx2
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx512f")
namespace lissa_avx512 {
namespace {
#include "lissa_isa_impl.h"
}  // namespace
}  // namespace lissa_avx512
#pragma GCC pop_options

namespace spur {
const LissaIsaKernels& lissaKernels() {
  switch (activeIsa()) {
    case Isa::Avx512: return lissa_avx512::kKernels;
    case Isa::Avx2: return lissa_avx2::kKernels;
    default: return lissa_generic::kKernels;
  }
}
}  // namespace spur
