// Single-precision GEMM with packed panels, register-blocked micro-kernels chosen at run
// time (AVX-512, AVX2+FMA, portable) and a static 2-d split of C over the thread pool.
#pragma once

#include <cstdint>

namespace spur {

// A general-strided matrix operand: element (r, c) is at data[r * rs + c * cs].
struct MatView {
  const float* data;
  int64_t rs, cs;
};

// What happens to C after the product, fused into the micro-kernel's store.
struct GemmEpilogue {
  bool accumulate = false;        // C += A B instead of C = A B
  const float* colBias = nullptr;  // [N], added to every row
  const float* rowBias = nullptr;  // [M], added to every column (a conv's per-channel bias)
  bool relu = false;              // max(., 0) last
};

// a: [M, K], b: [K, N] (any strides) -> c: [M, N] with row stride ldc.
// parallel=false keeps the call on this thread (used inside already-parallel kernels).
void sgemm(int64_t m, int64_t n, int64_t k, MatView a, MatView b, float* c, int64_t ldc,
           const GemmEpilogue& ep, bool parallel);

// Row-major convenience: a: [M, K] ([K, M] when transA), b: [K, N] ([N, K] when transB).
void sgemmRowMajor(bool transA, bool transB, int64_t m, int64_t n, int64_t k, const float* a,
                   const float* b, float* c, const GemmEpilogue& ep, bool parallel);

}  // namespace spur
