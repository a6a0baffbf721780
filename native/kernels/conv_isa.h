// The per-ISA pieces of the convolutions: a micro-kernel whose A operand is gathered
// through row pointers and an offset table (so no column matrix is ever built) and a
// blocked transpose between the channel-major and pixel-major layouts.
// conv_isa_impl.h instantiates them once per ISA in its own translation unit.
#pragma once

#include <cstdint>

namespace spur {

enum ConvTileFlags { kTileAccumulate = 1, kTileRelu = 2 };
// How a transpose stores: dst =, dst +=, each optionally followed by max(., 0).
enum TransposeMode { kTransposeCopy = 0, kTransposeAdd = 1, kTransposeRelu = 2 };

struct ConvIsaKernels {
  int mr, nr;  // tile: mr gathered rows x nr columns
  // a[i][p] = rows[i][koff[p]] for i < mr, p < kc; b: packed [kc][nr] ->
  // cRows[i][0, nr) = a b (+ cRows[i] when kTileAccumulate) (+ colBias [nr] when not
  // null), then max(., 0) when kTileRelu.
  void (*micro)(int64_t kc, const float* const* rows, const int64_t* koff, const float* b,
                float* const* cRows, int flags, const float* colBias);
  // The same contract on mrNarrow rows x nrNarrow (one vector) columns, for GEMMs whose
  // columns fit one vector (16 output channels on AVX-512, where the wide tile would
  // multiply as many zeros as weights). Each element sums its products in the same order
  // as in the wide tile, so the two give identical bits.
  int mrNarrow, nrNarrow;
  void (*microNarrow)(int64_t kc, const float* const* rows, const int64_t* koff, const float* b,
                      float* const* cRows, int flags, const float* colBias);
  // src: [rows, cols] (row stride lds) -> dst: [cols, rows] (row stride ldd), stored or
  // added, then max(., 0) when kTransposeRelu is set (mode: TransposeMode bits).
  void (*transpose)(int64_t rows, int64_t cols, const float* src, int64_t lds, float* dst, int64_t ldd, int mode);
  // One input channel, unit strides, no padding (a grayscale image's first layer), one
  // image, vectorized along output rows of at least `lanes` pixels, taps <= kMaxDirectTaps:
  // forward: x [H, W], w [OC][KH*KW], bias [OC] or null -> out [OC][OH][OW] (+= with
  //   kTileAccumulate), then max(., 0) with kTileRelu;
  // weight: dw [OC][KH*KW] += sum over pixels of dz [OC][OH][OW] times the shifted x.
  int lanes;
  void (*directForward)(const float* x, int64_t h, int64_t w, int64_t kh, int64_t kw, const float* wts,
                        const float* bias, int64_t oc, int flags, float* out);
  void (*directWeight)(const float* x, int64_t h, int64_t w, int64_t kh, int64_t kw, const float* dz, int64_t oc,
                       float* dw);
  // Winograd F(2x2, 3x3) transforms (conv_winograd.cc), vectorized along channels.
  // winogradInput: the 4x4 patch of a channels-last image at src (element (i, j) of
  // channel c at src[i * rowStride + j * c + ch]) -> v[xi * xiStride + ch] = (B^T d B)[xi]
  // for the 16 positions xi and ch < c.
  void (*winogradInput)(const float* src, int64_t rowStride, int64_t c, float* v, int64_t xiStride);
  // m[xi * xiStride + o] for o < oc -> the 2x2 outputs (A^T m A) + bias[o] (bias may be
  // null) into dst[k][o], k = 2 * row + column of the output pixel in the tile.
  void (*winogradOutput)(const float* m, int64_t xiStride, int64_t oc, const float* bias, float* const* dst);
  // Unit-stride convolutions along output rows (conv_rows.cc): rowMr output channels x
  // rowPixels consecutive pixels of one row, vectors along the pixels:
  // outRows[i][0, rowPixels) = sum_p w[p][i] src[koff[p] + (0, rowPixels)]
  // (+ outRows[i] when kTileAccumulate) (+ bias[i] when not null), then max(., 0) when
  // kTileRelu; w packed [kc][rowMr].
  int rowMr, rowPixels;
  void (*rowMicro)(int64_t kc, const float* src, const int64_t* koff, const float* w, float* const* outRows, int flags,
                   const float* bias);
};

constexpr int64_t kMaxDirectTaps = 25;

// The kernels of the active ISA (cpu.h).
const ConvIsaKernels& convKernels();

// The active ISA's kernels with the tile for a GEMM of `cols` columns (conv.cc).
ConvIsaKernels convTilesFor(int64_t cols);

const ConvIsaKernels& convKernelsGeneric();
const ConvIsaKernels& convKernelsAvx2();
const ConvIsaKernels& convKernelsAvx512();

}  // namespace spur
