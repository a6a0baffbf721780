// The per-ISA pieces of the GEMM: a micro-kernel, the panel packers and the matrix-vector
// loops. gemm_isa_impl.h instantiates them once per ISA in its own translation unit.
#pragma once

#include <cstdint>

namespace spur {

enum GemmFlags { kLoadC = 1, kRelu = 2 };

// The most rows of A (or columns of B) a product may have to take the skinny path.
constexpr int kSkinnyRows = 4;

struct GemmIsaKernels {
  int mr, nr;         // micro-tile of C
  int64_t mc, kc, nc;  // cache blocks: A block mc x kc in L2, B panel kc x nc in L3
  // Packed a: [kc][mr], packed b: [kc][nr] -> c: [mr, nr] (ldc), then the flags and an
  // optional column bias [nr] and row bias [mr] applied in registers.
  void (*micro)(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int flags,
                const float* colBias, const float* rowBias);
  // a block [mc, kc] (strides rs, cs) -> slivers [ceil(mc/mr)][kc][mr], zero padded.
  void (*packA)(int64_t mc, int64_t kc, const float* a, int64_t rs, int64_t cs, float* out);
  // b block [kc, nc] (strides rs, cs) -> slivers [ceil(nc/nr)][kc][nr], zero padded.
  void (*packB)(int64_t kc, int64_t nc, const float* b, int64_t rs, int64_t cs, float* out);
  // Skinny products, indexed by M - 1 (M <= kSkinnyRows vectors xs[i * k + p]):
  // dotRows: mat [n, k] (row stride ld) -> out[i, r] = dot(xs[i], mat[r, :]);
  // axpyRows: mat [k, n] (row stride ld) -> out[i, j] = sum_p xs[i][p] * mat[p, j];
  // out has row stride ldo.
  void (*dotRows[4])(int64_t n, int64_t k, const float* xs, const float* mat, int64_t ld, float* out, int64_t ldo);
  void (*axpyRows[4])(int64_t k, int64_t n, const float* xs, const float* mat, int64_t ld, float* out, int64_t ldo);
};

const GemmIsaKernels& gemmKernelsGeneric();
const GemmIsaKernels& gemmKernelsAvx2();
const GemmIsaKernels& gemmKernelsAvx512();

}  // namespace spur
