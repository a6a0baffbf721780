// AVX-512F GEMM pieces: a 12x32 micro-kernel (24 accumulators of the 32 zmm registers).
// Only called after __builtin_cpu_supports says AVX-512F.
#include <immintrin.h>

#include <cstdint>

#include "gemm_isa.h"

#pragma GCC push_options
// GCC 12 warns about the deliberately undefined lanes inside its own intrinsic headers.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC target("avx512f")

namespace {
struct Vec {
  using V = __m512;
  static constexpr int W = 16;
  static V zero() { return _mm512_setzero_ps(); }
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
  static V bcast(float x) { return _mm512_set1_ps(x); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
  static V max(V a, V b) { return _mm512_max_ps(a, b); }
  static float hsum(V v) { return _mm512_reduce_add_ps(v); }
};
}  // namespace

#include "gemm_isa_impl.h"

namespace spur {
const GemmIsaKernels& gemmKernelsAvx512() {
  static const GemmIsaKernels k = makeKernels<12, 2>(144, 256, 3072);
  return k;
}
}  // namespace spur

#pragma GCC pop_options
