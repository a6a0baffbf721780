// Portable vector traits (struct Vec) for the per-ISA kernel templates: 128-bit GCC
// vectors (SSE2 on x86-64, NEON elsewhere), written without intrinsics.
#pragma once

#include <cstdint>
#include <cstring>

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
  static V sub(V a, V b) { return a - b; }
  // a > b ? a : b per lane, as _mm_max_ps (a NaN in a gives b).
  static V max(V a, V b) { return a > b ? a : b; }
  static float hsum(V v) { return (v[0] + v[2]) + (v[1] + v[3]); }
  // The W x W block at src (row stride lds), transposed: t[j] holds column j.
  static void transposeBlock(const float* src, int64_t lds, V* t) {
    for (int j = 0; j < W; ++j) t[j] = V{src[j], src[lds + j], src[2 * lds + j], src[3 * lds + j]};
  }
};
}  // namespace
