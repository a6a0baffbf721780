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
  static V sub(V a, V b) { return _mm512_sub_ps(a, b); }
  static V max(V a, V b) { return _mm512_max_ps(a, b); }
  static float hsum(V v) { return _mm512_reduce_add_ps(v); }
  // The W x W block at src (row stride lds), transposed: t[j] holds column j. In
  // registers (the scalar gather it replaces was a tenth of a ResNet20 step): pairs of
  // rows interleaved, then pairs of pairs, which leaves in 128-bit lane k of b[4q + r]
  // column 4k + r of rows 4q..4q+3; two rounds of 128-bit lane shuffles gather them.
  static void transposeBlock(const float* src, int64_t lds, V* t) {
    V r[16], a[16], b[16], c[16];
    for (int i = 0; i < 16; ++i) r[i] = load(src + i * lds);
    for (int i = 0; i < 16; i += 2) {
      a[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
      a[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
      b[i] = _mm512_shuffle_ps(a[i], a[i + 2], 0x44);
      b[i + 1] = _mm512_shuffle_ps(a[i], a[i + 2], 0xEE);
      b[i + 2] = _mm512_shuffle_ps(a[i + 1], a[i + 3], 0x44);
      b[i + 3] = _mm512_shuffle_ps(a[i + 1], a[i + 3], 0xEE);
    }
    // c[r] / c[4 + r]: lanes (0, 2) / (1, 3) of b[r] (rows 0-3) and b[4 + r] (rows 4-7);
    // c[8 + r] / c[12 + r] the same of rows 8-15.
    for (int q = 0; q < 2; ++q)
      for (int k = 0; k < 4; ++k) {
        c[8 * q + k] = _mm512_shuffle_f32x4(b[8 * q + k], b[8 * q + 4 + k], 0x88);
        c[8 * q + 4 + k] = _mm512_shuffle_f32x4(b[8 * q + k], b[8 * q + 4 + k], 0xDD);
      }
    // column 4m + k sits in c[4 * (m % 2) + k] (rows 0-7) and c[8 + 4 * (m % 2) + k]
    // (rows 8-15), lanes m / 2 and m / 2 + 2
    for (int k = 0; k < 4; ++k)
      for (int h = 0; h < 2; ++h) {
        t[4 * h + k] = _mm512_shuffle_f32x4(c[4 * h + k], c[8 + 4 * h + k], 0x88);
        t[8 + 4 * h + k] = _mm512_shuffle_f32x4(c[4 * h + k], c[8 + 4 * h + k], 0xDD);
      }
  }
};
}  // namespace
