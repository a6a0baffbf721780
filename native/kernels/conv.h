#pragma once

#include <cstdint>

namespace spur {

// Geometry of a 2-d convolution, NCHW input and OIHW weight (see src/backend/kernels.ts).
struct ConvGeom {
  int64_t n, c, h, w;   // input  [N, C, H, W]
  int64_t oc, kh, kw;   // weight [OC, C, KH, KW]
  int64_t strideH, strideW, padH, padW;
  int64_t oh, ow;       // output [N, OC, OH, OW]
};

// How a kernel stores its result: added to the output (zero-filled by the caller, as
// the reference does) or written over it (the output may be uninitialized).
enum class Store { Add, Overwrite };

// x: [N, C, H, W], w: [OC, C, KH, KW], bias: [OC] or null -> out: [N, OC, OH, OW], then
// max(., 0) when relu (after the add when store is Add); bias and ReLU are applied as
// the tiles are stored, not as extra passes.
void conv2d(const float* x, const float* w, const float* bias, bool relu, Store store, const ConvGeom& g, float* out);
// conv2d by Winograd F(2x2, 3x3) (conv_winograd.cc), for the geometries winogradApplies
// accepts: 3x3 kernels, unit strides, enough channels.
bool winogradApplies(const ConvGeom& g);
void conv2dWinograd(const float* x, const float* w, const float* bias, bool relu, Store store, const ConvGeom& g,
                    float* out);
// conv2d along output rows (conv_rows.cc): unit strides, at most one vector of output
// channels, output rows a whole number of the row kernel's pixels.
bool rowPathApplies(const ConvGeom& g);
void conv2dRows(const float* x, const float* w, const float* bias, bool relu, Store store, const ConvGeom& g,
                float* out);
// dy: [N, OC, OH, OW], w: [OC, C, KH, KW] -> dx: [N, C, H, W]
void conv2dBackwardInput(const float* dy, const float* w, const ConvGeom& g, Store store, float* dx);
// x: [N, C, H, W], dy: [N, OC, OH, OW] -> dw: [OC, C, KH, KW]
void conv2dBackwardWeight(const float* x, const float* dy, const ConvGeom& g, Store store, float* dw);
// The backward of conv2d with bias and ReLU, with dz = dy, or dy where out > 0 when relu
// (out: [N, OC, OH, OW], the forward's result): overwrites dx with
// conv2dBackwardInput(dz), dw with conv2dBackwardWeight(x, dz) and db: [OC] with dz
// summed over N, OH, OW; null ones are skipped.
void conv2dFusedBackward(const float* x, const float* w, const float* out, const float* dy, const ConvGeom& g,
                         bool relu, float* dx, float* dw, float* db);

}  // namespace spur
