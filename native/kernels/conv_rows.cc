// Unit-stride convolutions with at most one vector of output channels (ResNet's
// 16-channel stage, its 3-channel first layer, and through the flipped-kernel
// convolution their input gradients), computed along output rows: each micro-tile is
// rowMr channels x rowPixels consecutive pixels of one row, the pixels in vectors loaded
// straight from the padded image, the weights broadcast. Against the gathered tiles of
// conv.cc (pixels broadcast, channels in the vector) this needs no row pointers, loads
// one vector per rowMr multiplies instead of one broadcast each, and stores NCHW output
// directly, with no transpose. Each output has one writer and a fixed order of taps.
#include <algorithm>
#include <cstring>
#include <vector>

#include "conv.h"
#include "conv_isa.h"
#include "threadpool.h"

namespace spur {
namespace {

constexpr int kChunksPerThread = 4;  // as conv.cc: small chunks tolerate a descheduled worker
thread_local std::vector<float> tImage, tSink;

float* grow(std::vector<float>& v, int64_t n) {
  if (v.size() < static_cast<size_t>(n)) v.resize(static_cast<size_t>(n));
  return v.data();
}

}  // namespace

bool rowPathApplies(const ConvGeom& g) {
  const ConvIsaKernels& K = convKernels();
  return g.strideH == 1 && g.strideW == 1 && g.oc <= K.nrNarrow && g.ow % K.rowPixels == 0;
}

void conv2dRows(const float* x, const float* w, const float* bias, bool relu, Store store, const ConvGeom& g,
                float* out) {
  const ConvIsaKernels& K = convKernels();
  const int64_t mr = K.rowMr, blocks = (g.oc + mr - 1) / mr, kdim = g.c * g.kh * g.kw;
  const bool padded = g.padH != 0 || g.padW != 0;
  const int64_t hp = g.h + 2 * g.padH, wp = g.w + 2 * g.padW, plane = g.oh * g.ow;
  std::vector<int64_t> tapOff(static_cast<size_t>(kdim));
  for (int64_t k = 0; k < kdim; ++k) {
    const int64_t ci = k / (g.kh * g.kw), ky = k / g.kw % g.kh, kx = k % g.kw;
    tapOff[k] = (ci * hp + ky) * wp + kx;
  }
  // w^T in blocks of mr channels: [block][k][mr], zero beyond OC
  std::vector<float> wP(static_cast<size_t>(blocks * kdim * mr), 0.0f);
  for (int64_t o = 0; o < g.oc; ++o)
    for (int64_t k = 0; k < kdim; ++k) wP[((o / mr) * kdim + k) * mr + o % mr] = w[o * kdim + k];
  std::vector<float> biasP;
  if (bias != nullptr) {
    biasP.assign(static_cast<size_t>(blocks * mr), 0.0f);
    std::copy(bias, bias + g.oc, biasP.begin());
  }
  const int flags = (store == Store::Add ? kTileAccumulate : 0) | (relu ? kTileRelu : 0);
  const int chunks = static_cast<int>(std::min<int64_t>(g.n, int64_t{kChunksPerThread} * poolThreads()));
  parallelForChunks(g.n, chunks, [&](int64_t b0, int64_t b1, int) {
    float* sink = grow(tSink, K.rowPixels);  // the rows of channels beyond OC
    float* rows[16];
    for (int64_t b = b0; b < b1; ++b) {
      const float* xb = x + b * g.c * g.h * g.w;
      const float* src = xb;
      if (padded) {
        float* p = grow(tImage, g.c * hp * wp);
        std::memset(p, 0, static_cast<size_t>(g.c * hp * wp) * sizeof(float));
        for (int64_t ci = 0; ci < g.c; ++ci)
          for (int64_t y = 0; y < g.h; ++y)
            std::memcpy(p + (ci * hp + y + g.padH) * wp + g.padW, xb + (ci * g.h + y) * g.w,
                        static_cast<size_t>(g.w) * sizeof(float));
        src = p;
      }
      float* ob = out + b * g.oc * plane;
      for (int64_t oy = 0; oy < g.oh; ++oy)
        for (int64_t blk = 0; blk < blocks; ++blk)
          for (int64_t x0 = 0; x0 < g.ow; x0 += K.rowPixels) {
            for (int64_t i = 0; i < mr; ++i) {
              const int64_t o = blk * mr + i;
              rows[i] = o < g.oc ? ob + o * plane + oy * g.ow + x0 : sink;
            }
            K.rowMicro(kdim, src + oy * wp + x0, tapOff.data(), wP.data() + blk * kdim * mr, rows, flags,
                       biasP.empty() ? nullptr : biasP.data() + blk * mr);
          }
    }
  });
}

}  // namespace spur
