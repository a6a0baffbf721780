// Convolutions as im2col + GEMM, one image per task: the images of a batch are split
// statically over the pool and each runs a single-threaded GEMM on its own column
// buffer. A batch smaller than the pool runs image by image with a threaded GEMM.
#include "conv.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "gemm.h"
#include "threadpool.h"

namespace spur {
namespace {

int64_t colRows(const ConvGeom& g) { return g.c * g.kh * g.kw; }
int64_t outPixels(const ConvGeom& g) { return g.oh * g.ow; }

// A 1x1 kernel with unit stride and no padding needs no column matrix: x is one.
bool isPointwise(const ConvGeom& g) {
  return g.kh == 1 && g.kw == 1 && g.strideH == 1 && g.strideW == 1 && g.padH == 0 && g.padW == 0;
}

// The input columns [iy, ix] of output row oy for tap (ky, kx): ix = ox*stride - pad + kx.
// Returns the range [ox0, ox1) of outputs whose ix is inside the image.
inline void validOx(const ConvGeom& g, int64_t kx, int64_t* ox0, int64_t* ox1) {
  const int64_t off = g.padW - kx;  // ix = ox*s - off
  int64_t lo = off <= 0 ? 0 : (off + g.strideW - 1) / g.strideW;
  int64_t hi = (g.w - 1 + off) >= 0 ? (g.w - 1 + off) / g.strideW + 1 : 0;
  if (hi > g.ow) hi = g.ow;
  if (lo > hi) lo = hi;
  *ox0 = lo;
  *ox1 = hi;
}

// x: [C, H, W] (one image) -> col: [C*KH*KW, OH*OW], zero where the tap is in padding.
void im2col(const float* x, const ConvGeom& g, float* col) {
  for (int64_t ci = 0; ci < g.c; ++ci)
    for (int64_t ky = 0; ky < g.kh; ++ky)
      for (int64_t kx = 0; kx < g.kw; ++kx) {
        int64_t ox0, ox1;
        validOx(g, kx, &ox0, &ox1);
        float* dst = col + ((ci * g.kh + ky) * g.kw + kx) * outPixels(g);
        for (int64_t oy = 0; oy < g.oh; ++oy, dst += g.ow) {
          const int64_t iy = oy * g.strideH - g.padH + ky;
          if (iy < 0 || iy >= g.h) {
            std::memset(dst, 0, static_cast<size_t>(g.ow) * sizeof(float));
            continue;
          }
          const float* src = x + (ci * g.h + iy) * g.w - g.padW + kx;
          for (int64_t ox = 0; ox < ox0; ++ox) dst[ox] = 0.0f;
          if (g.strideW == 1) {
            std::memcpy(dst + ox0, src + ox0, static_cast<size_t>(ox1 - ox0) * sizeof(float));
          } else {
            for (int64_t ox = ox0; ox < ox1; ++ox) dst[ox] = src[ox * g.strideW];
          }
          for (int64_t ox = ox1; ox < g.ow; ++ox) dst[ox] = 0.0f;
        }
      }
}

// col: [C*KH*KW, OH*OW] -> dx: [C, H, W] (one image), adding each tap where it came from.
void col2imAdd(const float* col, const ConvGeom& g, float* dx) {
  for (int64_t ci = 0; ci < g.c; ++ci)
    for (int64_t ky = 0; ky < g.kh; ++ky)
      for (int64_t kx = 0; kx < g.kw; ++kx) {
        int64_t ox0, ox1;
        validOx(g, kx, &ox0, &ox1);
        const float* src = col + ((ci * g.kh + ky) * g.kw + kx) * outPixels(g);
        for (int64_t oy = 0; oy < g.oh; ++oy, src += g.ow) {
          const int64_t iy = oy * g.strideH - g.padH + ky;
          if (iy < 0 || iy >= g.h) continue;
          float* dst = dx + (ci * g.h + iy) * g.w - g.padW + kx;
          // The unit-stride loop is the common case and vectorizes; the strided one cannot.
          if (g.strideW == 1) {
            for (int64_t ox = ox0; ox < ox1; ++ox) dst[ox] += src[ox];
          } else {
            for (int64_t ox = ox0; ox < ox1; ++ox) dst[ox * g.strideW] += src[ox];
          }
        }
      }
}

// Column buffers per thread, kept between calls.
thread_local std::vector<float> tCol;

float* colBuffer(const ConvGeom& g) {
  const size_t need = static_cast<size_t>(colRows(g) * outPixels(g));
  if (tCol.size() < need) tCol.resize(need);
  return tCol.data();
}

// Chunks of images per pool thread: on a machine shared with other processes a worker
// may be descheduled for milliseconds, and with one chunk per thread the caller would
// wait for it; smaller chunks let whoever runs take the rest.
constexpr int kChunksPerThread = 4;

int imageChunks(int64_t n) { return static_cast<int>(std::min<int64_t>(n, int64_t{kChunksPerThread} * poolThreads())); }

// Runs body(image, parallelGemm) over the batch: images split over the pool when there
// are enough of them, else one by one with the GEMM threaded instead.
template <class F>
void forEachImage(int64_t n, const F& body) {
  if (n >= poolThreads()) {
    parallelForChunks(n, imageChunks(n), [&](int64_t b0, int64_t b1, int) {
      for (int64_t b = b0; b < b1; ++b) body(b, false);
    });
  } else {
    for (int64_t b = 0; b < n; ++b) body(b, true);
  }
}

}  // namespace

void conv2d(const float* x, const float* w, const float* bias, bool relu, const ConvGeom& g, float* out) {
  const int64_t K = colRows(g), P = outPixels(g);
  GemmEpilogue ep;
  ep.accumulate = true;
  ep.rowBias = bias;
  ep.relu = relu;
  forEachImage(g.n, [&](int64_t b, bool par) {
    const float* xb = x + b * g.c * g.h * g.w;
    const float* col = xb;
    if (!isPointwise(g)) {
      float* buf = colBuffer(g);
      im2col(xb, g, buf);
      col = buf;
    }
    // w: [OC, K] x col: [K, P] -> out[b]: [OC, P]
    sgemm(g.oc, P, K, MatView{w, K, 1}, MatView{col, P, 1}, out + b * g.oc * P, P, ep, par);
  });
}

void conv2dBackwardInput(const float* dy, const float* w, const ConvGeom& g, float* dx) {
  const int64_t K = colRows(g), P = outPixels(g);
  forEachImage(g.n, [&](int64_t b, bool par) {
    const float* dyb = dy + b * g.oc * P;
    float* dxb = dx + b * g.c * g.h * g.w;
    // w^T: [K, OC] x dy[b]: [OC, P] -> dcol: [K, P]
    const MatView wT{w, 1, K}, dyv{dyb, P, 1};
    if (isPointwise(g)) {
      GemmEpilogue ep;
      ep.accumulate = true;
      sgemm(K, P, g.oc, wT, dyv, dxb, P, ep, par);
      return;
    }
    float* dcol = colBuffer(g);
    sgemm(K, P, g.oc, wT, dyv, dcol, P, GemmEpilogue{}, par);
    col2imAdd(dcol, g, dxb);
  });
}

void conv2dBackwardWeight(const float* x, const float* dy, const ConvGeom& g, float* dw) {
  const int64_t K = colRows(g), P = outPixels(g), wsize = g.oc * K;
  GemmEpilogue ep;
  ep.accumulate = true;
  // dy[b]: [OC, P] x col^T: [P, K] -> dw: [OC, K], summed over the images of a chunk
  auto accumulateImage = [&](int64_t b, float* dwAcc, bool par) {
    const float* xb = x + b * g.c * g.h * g.w;
    const float* col = xb;
    if (!isPointwise(g)) {
      float* buf = colBuffer(g);
      im2col(xb, g, buf);
      col = buf;
    }
    sgemm(g.oc, K, P, MatView{dy + b * g.oc * P, P, 1}, MatView{col, 1, P}, dwAcc, K, ep, par);
  };
  if (g.n < poolThreads()) {
    for (int64_t b = 0; b < g.n; ++b) accumulateImage(b, dw, true);
    return;
  }
  // Private partial sums per chunk, added in chunk order: deterministic per thread count.
  const int chunks = imageChunks(g.n);
  std::vector<float> partial(static_cast<size_t>(chunks * wsize), 0.0f);
  parallelForChunks(g.n, chunks, [&](int64_t b0, int64_t b1, int chunk) {
    for (int64_t b = b0; b < b1; ++b) accumulateImage(b, partial.data() + chunk * wsize, false);
  });
  for (int c = 0; c < chunks; ++c) {
    const float* p = partial.data() + c * wsize;
    for (int64_t i = 0; i < wsize; ++i) dw[i] += p[i];
  }
}

}  // namespace spur
