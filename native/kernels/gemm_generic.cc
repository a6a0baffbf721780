// Portable GEMM pieces for CPUs without AVX2: a 4x8 micro-kernel on 128-bit GCC vectors
// (SSE2 on x86-64, NEON elsewhere), written without intrinsics.
#include <cstdint>
#include <cstring>

#include "gemm_isa.h"

namespace {
struct Vec {
  typedef float V __attribute__((vector_size(16)));
  static constexpr int W = 4;
  static V zero() { return V{0.0f, 0.0f, 0.0f, 0.0f}; }
  static V load(const float* p) {
    V v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
  static void store(float* p, V v) { std::memcpy(p, &v, sizeof v); }
  static V bcast(float x) { return V{x, x, x, x}; }
  static V fma(V a, V b, V c) { return a * b + c; }
  static V add(V a, V b) { return a + b; }
  // a > b ? a : b per lane, as _mm_max_ps (a NaN in a gives b).
  static V max(V a, V b) { return a > b ? a : b; }
  static float hsum(V v) { return (v[0] + v[2]) + (v[1] + v[3]); }
};
}  // namespace

#include "gemm_isa_impl.h"

namespace spur {
const GemmIsaKernels& gemmKernelsGeneric() {
  static const GemmIsaKernels k = makeKernels<4, 2>(128, 256, 2048);
  return k;
}
}  // namespace spur
