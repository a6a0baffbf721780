// Templates behind ConvIsaKernels. Include only from conv_{generic,avx2,avx512}.cc after
// `#pragma GCC target(...)` and the matching simd_*.h, so every function here is
// compiled for that ISA alone.

namespace {

using spur::kTileAccumulate;
using spur::kTileRelu;

// cRows[i][0, NV*W) (op)= sum_p rows[i][koff[p]] * b[p][.]: the micro-kernel of the GEMM
// (gemm_isa_impl.h) with A read in place. A convolution's column matrix is a set of
// shifted views of the image, so row i of a tile is a pointer and koff lists the shifts;
// the broadcast loads cost the same as from a packed panel.
template <int MR, int NV>
void gatherMicro(int64_t kc, const float* const* rows, const int64_t* koff, const float* b,
                 float* const* cRows, int flags, const float* colBias) {
  constexpr int W = Vec::W;
  constexpr int NR = NV * W;
  typename Vec::V acc[MR][NV];
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NV; ++j) acc[i][j] = Vec::zero();
  const float* r[MR];
  for (int i = 0; i < MR; ++i) r[i] = rows[i];
#pragma GCC unroll 4
  for (int64_t p = 0; p < kc; ++p) {
    const int64_t o = koff[p];
    typename Vec::V bv[NV];
    for (int j = 0; j < NV; ++j) bv[j] = Vec::load(b + j * W);
    for (int i = 0; i < MR; ++i) {
      typename Vec::V av = Vec::bcast(r[i][o]);
      for (int j = 0; j < NV; ++j) acc[i][j] = Vec::fma(av, bv[j], acc[i][j]);
    }
    b += NR;
  }
  for (int i = 0; i < MR; ++i) {
    float* row = cRows[i];
    for (int j = 0; j < NV; ++j) {
      typename Vec::V v = acc[i][j];
      if (flags & kTileAccumulate) v = Vec::add(Vec::load(row + j * W), v);
      if (colBias != nullptr) v = Vec::add(v, Vec::load(colBias + j * W));
      if (flags & kTileRelu) v = Vec::max(v, Vec::zero());
      Vec::store(row + j * W, v);
    }
  }
}

inline float combine(int mode, float v, float old) {
  if (mode & spur::kTransposeAdd) v += old;
  // NaN becomes 0 as in the reference's !(v > 0).
  return (mode & spur::kTransposeRelu) && !(v > 0.0f) ? 0.0f : v;
}

// dst[c][r] (op)= src[r][c], in W x W blocks turned in registers; scalar at the edges.
// Blocks go along dst rows (W rows of dst at a time, left to right): dst is the large
// side (a batch's NCHW tensor), and W sequential streams keep its lines flowing.
void transpose(int64_t rows, int64_t cols, const float* src, int64_t lds, float* dst, int64_t ldd, int mode) {
  constexpr int W = Vec::W;
  int64_t c = 0;
  for (; c + W <= cols; c += W) {
    int64_t r = 0;
    for (; r + W <= rows; r += W) {
      typename Vec::V t[W];
      Vec::transposeBlock(src + r * lds + c, lds, t);
      for (int j = 0; j < W; ++j) {
        float* d = dst + (c + j) * ldd + r;
        typename Vec::V v = t[j];
        if (mode & spur::kTransposeAdd) v = Vec::add(v, Vec::load(d));
        if (mode & spur::kTransposeRelu) v = Vec::max(v, Vec::zero());
        Vec::store(d, v);
      }
    }
    for (int64_t j = c; j < c + W; ++j)
      for (int64_t i = r; i < rows; ++i) dst[j * ldd + i] = combine(mode, src[i * lds + j], dst[j * ldd + i]);
  }
  for (; c < cols; ++c)
    for (int64_t r = 0; r < rows; ++r) dst[c * ldd + r] = combine(mode, src[r * lds + c], dst[c * ldd + r]);
}

template <int MR, int NV>
spur::ConvIsaKernels makeConvKernels() {
  return spur::ConvIsaKernels{MR, NV * Vec::W, &gatherMicro<MR, NV>, &transpose};
}

}  // namespace
