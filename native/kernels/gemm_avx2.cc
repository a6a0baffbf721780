// AVX2+FMA GEMM pieces: a 6x16 micro-kernel (12 accumulators + 2 B vectors + 1 broadcast
// of the 16 ymm registers). Only called after __builtin_cpu_supports says AVX2 and FMA.
#include <immintrin.h>

#include <cstdint>

#include "gemm_isa.h"

#pragma GCC push_options
// GCC 12 warns about the deliberately undefined lanes inside its own intrinsic headers.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC target("avx2,fma")

namespace {
struct Vec {
  using V = __m256;
  static constexpr int W = 8;
  static V zero() { return _mm256_setzero_ps(); }
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
  static V bcast(float x) { return _mm256_set1_ps(x); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static V max(V a, V b) { return _mm256_max_ps(a, b); }
  static float hsum(V v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
};
}  // namespace

#include "gemm_isa_impl.h"

namespace spur {
const GemmIsaKernels& gemmKernelsAvx2() {
  static const GemmIsaKernels k = makeKernels<6, 2>(144, 256, 3072);
  return k;
}
}  // namespace spur

#pragma GCC pop_options
