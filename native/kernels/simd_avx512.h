// The AVX-512F vector traits (struct Vec) for the per-ISA kernel templates. Include only
// after `#pragma GCC target("avx512f")`.
#pragma once

#include <immintrin.h>

#include <cstdint>

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
  // The W x W block at src (row stride lds), transposed: t[j] holds column j.
  static void transposeBlock(const float* src, int64_t lds, V* t) {
    alignas(64) float col[W];
    for (int j = 0; j < W; ++j) {
      for (int i = 0; i < W; ++i) col[i] = src[i * lds + j];
      t[j] = _mm512_load_ps(col);
    }
  }
};
}  // namespace
