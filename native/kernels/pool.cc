#include "pool.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "threadpool.h"

namespace spur {
namespace {

// Planes ([H, W] slices of one image and channel) per parallel chunk, at least.
inline int64_t planeGrain(const PoolGeom& g) {
  const int64_t work = g.oh * g.ow * g.kh * g.kw + g.h * g.w;
  return work >= (1 << 14) ? 1 : (1 << 14) / (work > 0 ? work : 1);
}

struct Window {
  int64_t y0, y1, x0, x1;  // clipped to the input
  int64_t div;
};

// The reference's windows: adaptive ones span [floor(i*H/OH), ceil((i+1)*H/OH)); fixed
// ones count padding in the divisor, clipped to the padded input.
inline Window avgWindow(const PoolGeom& g, bool adaptive, int64_t y, int64_t x) {
  Window w;
  if (adaptive) {
    w.y0 = y * g.h / g.oh;
    w.y1 = ((y + 1) * g.h + g.oh - 1) / g.oh;
    w.x0 = x * g.w / g.ow;
    w.x1 = ((x + 1) * g.w + g.ow - 1) / g.ow;
    w.div = (w.y1 - w.y0) * (w.x1 - w.x0);
    return w;
  }
  const int64_t y0 = y * g.strideH - g.padH, x0 = x * g.strideW - g.padW;
  const int64_t yEnd = y0 + g.kh < g.h + g.padH ? y0 + g.kh : g.h + g.padH;
  const int64_t xEnd = x0 + g.kw < g.w + g.padW ? x0 + g.kw : g.w + g.padW;
  w.div = (yEnd - y0) * (xEnd - x0);
  w.y0 = y0 > 0 ? y0 : 0;
  w.y1 = y0 + g.kh < g.h ? y0 + g.kh : g.h;
  w.x0 = x0 > 0 ? x0 : 0;
  w.x1 = x0 + g.kw < g.w ? x0 + g.kw : g.w;
  return w;
}

// The common 2x2, stride-2, unpadded window (CNN002's pools) without the bounds checks
// and loop control of the general case: the same row-major order, first maximum and NaN
// rule. x: [planes, H, W] -> out, argmax: [planes, OH, OW]
void maxPool2x2(const float* x, const PoolGeom& g, float* out, int32_t* argmax) {
  parallelFor(g.n * g.c, planeGrain(g), [&](int64_t p0, int64_t p1, int) {
    for (int64_t plane = p0; plane < p1; ++plane) {
      const int64_t base = plane * g.h * g.w;
      for (int64_t y = 0; y < g.oh; ++y) {
        const int64_t row = base + 2 * y * g.w;
        float* o = out + (plane * g.oh + y) * g.ow;
        int32_t* am = argmax + (plane * g.oh + y) * g.ow;
        // Selects instead of branches: on real activations "v > best" is a coin toss,
        // and mispredicted branches cost more than the whole window.
        const float* r0 = x + row;
        const float* r1 = r0 + g.w;
        for (int64_t xo = 0; xo < g.ow; ++xo) {
          const float v[4] = {r0[2 * xo], r0[2 * xo + 1], r1[2 * xo], r1[2 * xo + 1]};
          const int32_t at[4] = {0, 1, static_cast<int32_t>(g.w), static_cast<int32_t>(g.w) + 1};
          float best = v[0];
          int32_t bestAt = 0;
          for (int k = 1; k < 4; ++k) {
            const bool take = best == best && (v[k] > best || v[k] != v[k]);
            best = take ? v[k] : best;
            bestAt = take ? at[k] : bestAt;
          }
          o[xo] = best;
          am[xo] = static_cast<int32_t>(row + 2 * xo) + bestAt;
        }
      }
    }
  });
}

}  // namespace

void maxPool2d(const float* x, const PoolGeom& g, float* out, int32_t* argmax) {
  if (g.kh == 2 && g.kw == 2 && g.strideH == 2 && g.strideW == 2 && g.padH == 0 && g.padW == 0 &&
      g.oh * 2 <= g.h && g.ow * 2 <= g.w) {
    maxPool2x2(x, g, out, argmax);
    return;
  }
  parallelFor(g.n * g.c, planeGrain(g), [&](int64_t p0, int64_t p1, int) {
    for (int64_t plane = p0; plane < p1; ++plane) {
      const int64_t base = plane * g.h * g.w;
      for (int64_t y = 0; y < g.oh; ++y)
        for (int64_t xo = 0; xo < g.ow; ++xo) {
          float best = -std::numeric_limits<float>::infinity();
          int64_t bestIdx = -1;
          for (int64_t ky = 0; ky < g.kh; ++ky) {
            const int64_t iy = y * g.strideH - g.padH + ky;
            if (iy < 0 || iy >= g.h) continue;
            for (int64_t kx = 0; kx < g.kw; ++kx) {
              const int64_t ix = xo * g.strideW - g.padW + kx;
              if (ix < 0 || ix >= g.w) continue;
              const int64_t xi = base + iy * g.w + ix;
              const float v = x[xi];
              // Strict > keeps the first maximum; NaN wins (the reference, like PyTorch).
              if (bestIdx < 0 || v > best || v != v) {
                best = v;
                bestIdx = xi;
                if (v != v) break;
              }
            }
          }
          const int64_t oi = (plane * g.oh + y) * g.ow + xo;
          out[oi] = best;
          argmax[oi] = static_cast<int32_t>(bestIdx);
        }
    }
  });
}

// The scatter is serial: argmax may send several outputs to one input, and only one
// writer per input keeps the sum order fixed. Zeroing dx first (in parallel) lets the
// caller skip the zero fill of a fresh tensor.
void maxPool2dBackward(const float* dy, const int32_t* argmax, int64_t len, float* dx, int64_t dxLen) {
  parallelFor(dxLen, 1 << 16, [&](int64_t i0, int64_t i1, int) {
    std::memset(dx + i0, 0, static_cast<size_t>(i1 - i0) * sizeof(float));
  });
  for (int64_t i = 0; i < len; ++i)
    if (argmax[i] >= 0) dx[argmax[i]] += dy[i];
}

void gatherIndex(const float* src, const int32_t* index, int64_t len, float* out) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (int64_t i = 0; i < len; ++i) out[i] = index[i] >= 0 ? src[index[i]] : nan;
}

void avgPool2d(const float* x, const PoolGeom& g, bool adaptive, float* out) {
  parallelFor(g.n * g.c, planeGrain(g), [&](int64_t p0, int64_t p1, int) {
    for (int64_t plane = p0; plane < p1; ++plane) {
      const float* xp = x + plane * g.h * g.w;
      for (int64_t y = 0; y < g.oh; ++y)
        for (int64_t xo = 0; xo < g.ow; ++xo) {
          const Window w = avgWindow(g, adaptive, y, xo);
          double acc = 0.0;
          for (int64_t iy = w.y0; iy < w.y1; ++iy)
            for (int64_t ix = w.x0; ix < w.x1; ++ix) acc += xp[iy * g.w + ix];
          out[(plane * g.oh + y) * g.ow + xo] = static_cast<float>(acc / static_cast<double>(w.div));
        }
    }
  });
}

void avgPool2dBackward(const float* dy, const PoolGeom& g, bool adaptive, float* dx) {
  parallelFor(g.n * g.c, planeGrain(g), [&](int64_t p0, int64_t p1, int) {
    for (int64_t plane = p0; plane < p1; ++plane) {
      float* dp = dx + plane * g.h * g.w;
      for (int64_t y = 0; y < g.oh; ++y)
        for (int64_t xo = 0; xo < g.ow; ++xo) {
          const Window w = avgWindow(g, adaptive, y, xo);
          const float share = static_cast<float>(
              static_cast<double>(dy[(plane * g.oh + y) * g.ow + xo]) / static_cast<double>(w.div));
          for (int64_t iy = w.y0; iy < w.y1; ++iy)
            for (int64_t ix = w.x0; ix < w.x1; ++ix) dp[iy * g.w + ix] += share;
        }
    }
  });
}

}  // namespace spur
