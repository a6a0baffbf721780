// 3x3 convolutions with unit strides by Winograd's minimal filtering F(2x2, 3x3) (Lavin
// and Gray 2016, "Fast Algorithms for Convolutional Neural Networks"): each 2x2 block of
// outputs comes from a 4x4 input patch d as A^T [(G g G^T) . (B^T d B)] A, so the
// channel reduction becomes 16 GEMMs (one per patch position xi) of
//   m[xi][tile][oc] = sum_c v[xi][tile][c] u[xi][c][oc]
// with 16 multiplies per 4 outputs instead of 36: 2.25x fewer. The GEMMs run on the
// gathered-tile micro-kernels of conv_isa.h (rows of v, packed slivers of u); the
// transforms are vectorized along channels (conv_isa_impl.h) on a channels-last copy of
// the padded image, and outputs go through the pixel-major transpose of the other paths.
// Rounding differs from the direct sum (the transforms add and subtract inputs first),
// by a few float ulps of the result's scale; every output is written by one thread in a
// fixed order, so results do not depend on the thread count.
#include <algorithm>
#include <cstring>
#include <vector>

#include "conv.h"
#include "conv_isa.h"
#include "threadpool.h"

namespace spur {
namespace {

constexpr int kXi = 16;
// Images are grouped so that each GEMM has at least this many rows (tiles): an 8x8
// output has only 16 tiles, too few to amortize a GEMM call's packing and edges.
constexpr int64_t kMinTiles = 64;
constexpr int kChunksPerThread = 4;
constexpr int64_t kWinogradMinChannels = 64;  // as conv.cc: small chunks tolerate a descheduled worker

struct Scratch {
  std::vector<float> image, v, m, y, sink;
  int64_t imageKey[5] = {-1, -1, -1, -1, -1};  // the geometry whose zero border `image` holds
};
thread_local Scratch tScratch;

float* grow(std::vector<float>& v, int64_t n) {
  if (v.size() < static_cast<size_t>(n)) v.resize(static_cast<size_t>(n));
  return v.data();
}

int64_t roundUp(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

}  // namespace

bool winogradApplies(const ConvGeom& g) {
  // The transforms and the short (K = C) GEMMs cost about as much as the multiplies saved
  // below 64 channels: measured side by side at batch 128, 1 thread, 22% faster than the
  // implicit GEMM on ResNet20's 64-channel 8x8 layers (forward and input gradient), even
  // on its 32-channel ones, 1.5x slower on its 16-channel ones.
  return g.kh == 3 && g.kw == 3 && g.strideH == 1 && g.strideW == 1 && g.padH <= 2 && g.padW <= 2 &&
         g.c >= kWinogradMinChannels && g.oc >= kWinogradMinChannels && g.oh >= 2 && g.ow >= 2;
}

void conv2dWinograd(const float* x, const float* w, const float* bias, bool relu, Store store, const ConvGeom& g,
                    float* out) {
  const ConvIsaKernels K = convTilesFor(g.oc);
  const int64_t th = (g.oh + 1) / 2, tw = (g.ow + 1) / 2, tiles = th * tw;
  // the padded image, channels last; 2*th + 2 >= h + 2*padH, so it holds every input row
  const int64_t hp = 2 * th + 2, wp = 2 * tw + 2, c = g.c, oc = g.oc, pixels = g.oh * g.ow;
  const int64_t group = std::max<int64_t>(1, std::min<int64_t>(g.n, (kMinTiles + tiles - 1) / tiles));
  const int64_t rowsT = group * tiles, items = (g.n + group - 1) / group;
  const int64_t ocp = roundUp(oc, K.nr), slivers = ocp / K.nr;

  // u[xi][sliver][c][nr] = (G g G^T)[xi], zero beyond OC; in double, rounded once.
  static constexpr double G[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
  std::vector<float> u(static_cast<size_t>(kXi * ocp * c), 0.0f);
  for (int64_t o = 0; o < oc; ++o)
    for (int64_t ci = 0; ci < c; ++ci) {
      const float* k = w + (o * c + ci) * 9;
      double t[4][3];
      for (int i = 0; i < 4; ++i)
        for (int j = 0; j < 3; ++j) t[i][j] = G[i][0] * k[j] + G[i][1] * k[3 + j] + G[i][2] * k[6 + j];
      for (int i = 0; i < 4; ++i)
        for (int l = 0; l < 4; ++l) {
          const double v = t[i][0] * G[l][0] + t[i][1] * G[l][1] + t[i][2] * G[l][2];
          u[(((i * 4 + l) * slivers + o / K.nr) * c + ci) * K.nr + o % K.nr] = static_cast<float>(v);
        }
    }
  std::vector<float> biasP;
  if (bias != nullptr) {
    biasP.assign(static_cast<size_t>(ocp), 0.0f);
    std::copy(bias, bias + oc, biasP.begin());
  }
  std::vector<int64_t> koff(static_cast<size_t>(c));
  for (int64_t i = 0; i < c; ++i) koff[i] = i;
  const int mode = (store == Store::Add ? kTransposeAdd : kTransposeCopy) | (relu ? kTransposeRelu : 0);

  const int chunks = static_cast<int>(std::min<int64_t>(items, int64_t{kChunksPerThread} * poolThreads()));
  parallelForChunks(items, chunks, [&](int64_t i0, int64_t i1, int) {
    Scratch& s = tScratch;
    float* img = grow(s.image, hp * wp * c);
    float* v = grow(s.v, kXi * rowsT * c);
    float* m = grow(s.m, kXi * rowsT * ocp);
    float* y = grow(s.y, group * pixels * ocp);
    float* sink = grow(s.sink, ocp);
    const int64_t key[5] = {hp, wp, c, g.padH * 8 + g.padW, g.h * 4096 + g.w};
    if (!std::equal(key, key + 5, s.imageKey)) {  // the border stays zero between images
      std::memset(img, 0, static_cast<size_t>(hp * wp * c) * sizeof(float));
      std::copy(key, key + 5, s.imageKey);
    }
    const float* rows[16];
    float* cRows[16];
    for (int64_t item = i0; item < i1; ++item) {
      const int64_t b0 = item * group, images = std::min(group, g.n - b0), used = images * tiles;
      for (int64_t j = 0; j < images; ++j) {
        const float* xb = x + (b0 + j) * c * g.h * g.w;
        for (int64_t r = 0; r < g.h; ++r)
          K.transpose(c, g.w, xb + r * g.w, g.h * g.w, img + ((r + g.padH) * wp + g.padW) * c, c, kTransposeCopy);
        for (int64_t ty = 0; ty < th; ++ty)
          for (int64_t tx = 0; tx < tw; ++tx)
            K.winogradInput(img + (2 * ty * wp + 2 * tx) * c, wp * c, c, v + (j * tiles + ty * tw + tx) * c, rowsT * c);
      }
      for (int xi = 0; xi < kXi; ++xi)
        for (int64_t sl = 0; sl < slivers; ++sl)
          for (int64_t r0 = 0; r0 < used; r0 += K.mr) {
            for (int i = 0; i < K.mr; ++i) {
              const int64_t r = r0 + i;
              rows[i] = v + (xi * rowsT + std::min(r, used - 1)) * c;
              cRows[i] = r < used ? m + (xi * rowsT + r) * ocp + sl * K.nr : sink;
            }
            K.micro(c, rows, koff.data(), u.data() + (xi * slivers + sl) * c * K.nr, cRows, 0, nullptr);
          }
      for (int64_t j = 0; j < images; ++j) {
        float* yb = y + j * pixels * ocp;
        for (int64_t ty = 0; ty < th; ++ty)
          for (int64_t tx = 0; tx < tw; ++tx) {
            float* dst[4];
            for (int k = 0; k < 4; ++k) {
              const int64_t oy = 2 * ty + k / 2, ox = 2 * tx + k % 2;
              dst[k] = oy < g.oh && ox < g.ow ? yb + (oy * g.ow + ox) * ocp : sink;
            }
            K.winogradOutput(m + (j * tiles + ty * tw + tx) * ocp, rowsT * ocp, oc, biasP.empty() ? nullptr : biasP.data(),
                             dst);
          }
        K.transpose(pixels, oc, yb, ocp, out + (b0 + j) * oc * pixels, pixels, mode);
      }
    }
  });
}

}  // namespace spur
