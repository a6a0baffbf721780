#pragma once

#include <cstdint>

namespace spur {

// Geometry of a 2-d pooling window on NCHW input (see src/backend/kernels.ts).
struct PoolGeom {
  int64_t n, c, h, w;  // input [N, C, H, W]
  int64_t kh, kw, strideH, strideW, padH, padW;
  int64_t oh, ow;      // output [N, C, OH, OW]
};

// x: [N, C, H, W] -> out, argmax: [N, C, OH, OW]; argmax is a flat index into x, -1 for
// a window entirely in padding (whose out is -Infinity).
void maxPool2d(const float* x, const PoolGeom& g, float* out, int32_t* argmax);
// dy, argmax: [len] -> dx[argmax[i]] += dy[i]; index -1 is skipped.
void maxPool2dBackward(const float* dy, const int32_t* argmax, int64_t len, float* dx, int64_t dxLen);
// src: any, index: [len] -> out[i] = src[index[i]] (NaN for index -1, as the reference).
void gatherIndex(const float* src, const int32_t* index, int64_t len, float* out);
// x: [N, C, H, W] -> out: [N, C, OH, OW]
void avgPool2d(const float* x, const PoolGeom& g, bool adaptive, float* out);
// dy: [N, C, OH, OW] -> dx: [N, C, H, W] (accumulated)
void avgPool2dBackward(const float* dy, const PoolGeom& g, bool adaptive, float* dx);

}  // namespace spur
