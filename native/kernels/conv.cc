// Convolutions as GEMMs whose column matrix is never built: each row of a micro-tile is
// a pointer into the (padded) image and an offset table lists the shifts along the
// reduction (conv_isa.h), so the only copies are small transposes between the NCHW
// tensors and the pixel-major tiles. With pix an output pixel and tap = (ky, kx):
//
//   forward          out^T[pix][oc]     = sum_(ci,tap) x[ci][pix + tap] w^T[(ci,tap)][oc]
//   backward input   either the forward of the padded dy with w flipped (unit strides,
//                    when cheaper), or dcol[pix][(tap,ci)] = sum_oc dy[oc][pix] w[oc][(ci,tap)]
//                    with each tile added straight into a pixel-major dx at pix + tap
//   backward weight  dw^T[(ci,tap)][oc]  = sum_pix x[ci][pix + tap] dy^T[pix][oc]
//
// Images are split over the pool, one writer per output; a batch smaller than the pool
// splits each image's tiles instead.
#include "conv.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "conv_isa.h"
#include "threadpool.h"

namespace spur {
namespace {

constexpr int kMaxMr = 16;

int64_t roundUp(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

}  // namespace

// The tile for a GEMM with `cols` columns: the narrow one when they fit its one vector,
// where the wide tile would spend half its multiplies on padding (16 channels on
// AVX-512: ResNet's first stage). Bit-identical either way (conv_isa.h).
ConvIsaKernels convTilesFor(int64_t cols) {
  ConvIsaKernels k = convKernels();
  if (cols <= k.nrNarrow && k.nrNarrow < k.nr) {
    k.mr = k.mrNarrow;
    k.nr = k.nrNarrow;
    k.micro = k.microNarrow;
  }
  return k;
}

namespace {

// Where the taps and the output pixels sit in the input padded on all sides.
struct Layout {
  int64_t hp, wp;               // padded height and width
  int64_t kdim, taps, pixels;   // C*KH*KW, KH*KW, OH*OW
  // Taps k are in OIHW order (ci, ky, kx), except with vertical padding: then kernel rows
  // come first, (ky, ci, kx), so the taps of a kernel row are a contiguous range of k and
  // a window whose row ky lies in the padding skips that range instead of multiplying
  // zeros. (Unpadded, OIHW order measured ~8% faster on CNN002's conv3 and conv4.)
  bool rowsFirst;
  std::vector<int64_t> tapOff;  // [C*KH*KW]: offset of tap k from a window's origin
  std::vector<int64_t> pixOff;  // [OH*OW]: offset of output pixel (oy, ox)'s window origin
  const ConvGeom& g;

  explicit Layout(const ConvGeom& g)
      : hp(g.h + 2 * g.padH), wp(g.w + 2 * g.padW), kdim(g.c * g.kh * g.kw), taps(g.kh * g.kw),
        pixels(g.oh * g.ow), rowsFirst(g.padH != 0), tapOff(static_cast<size_t>(kdim)),
        pixOff(static_cast<size_t>(pixels)), g(g) {
    for (int64_t k = 0; k < kdim; ++k) {
      const int64_t t = oihw(k), ci = t / taps, ky = t / g.kw % g.kh, kx = t % g.kw;
      tapOff[k] = (ci * hp + ky) * wp + kx;
    }
    for (int64_t oy = 0; oy < g.oh; ++oy)
      for (int64_t ox = 0; ox < g.ow; ++ox) pixOff[oy * g.ow + ox] = oy * g.strideH * wp + ox * g.strideW;
  }
  bool padded() const { return g.padH != 0 || g.padW != 0; }
  // The OIHW index (ci, ky, kx) of tap k.
  int64_t oihw(int64_t k) const {
    if (!rowsFirst) return k;
    const int64_t kx = k % g.kw, ci = (k / g.kw) % g.c, ky = k / (g.kw * g.c);
    return (ci * g.kh + ky) * g.kw + kx;
  }
  // The taps [k0, k1) that kernel rows [ky0, ky1) cover (rowsFirst only).
  void tapRange(int64_t ky0, int64_t ky1, int64_t* k0, int64_t* k1) const {
    *k0 = ky0 * g.c * g.kw;
    *k1 = ky1 * g.c * g.kw;
  }
};

// Per-thread buffers, grown on demand and kept between calls.
struct Scratch {
  std::vector<float> image;  // the padded input image
  std::vector<float> tile;   // pixel-major output or dy^T
  std::vector<float> sink;   // where the rows of a partial tile go
};
thread_local Scratch tScratch;

float* grow(std::vector<float>& v, int64_t n) {
  if (v.size() < static_cast<size_t>(n)) v.resize(static_cast<size_t>(n));
  return v.data();
}

// xb: [C, H, W] -> p: [C, HP, WP] with zeros around.
void padImage(const float* xb, const ConvGeom& g, const Layout& L, float* p) {
  std::memset(p, 0, static_cast<size_t>(g.c * L.hp * L.wp) * sizeof(float));
  for (int64_t ci = 0; ci < g.c; ++ci)
    for (int64_t y = 0; y < g.h; ++y)
      std::memcpy(p + (ci * L.hp + y + g.padH) * L.wp + g.padW, xb + (ci * g.h + y) * g.w,
                  static_cast<size_t>(g.w) * sizeof(float));
}

// Chunks of images per pool thread: on a machine shared with other processes a worker
// may be descheduled for milliseconds, and with one chunk per thread the caller would
// wait for it; smaller chunks let whoever runs take the rest.
constexpr int kChunksPerThread = 4;

int imageChunks(int64_t n) { return static_cast<int>(std::min<int64_t>(n, int64_t{kChunksPerThread} * poolThreads())); }

// Reductions over images (weight and bias gradients) use this many chunks whatever the
// pool's size: each chunk's partial sum is added in chunk order, so the result is the same
// at 1, 2 or 3 threads (a run's weights depend on its config, not on --workers).
constexpr int64_t kReductionChunks = 8;

int reductionChunks(int64_t n) { return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(n, kReductionChunks))); }

// Runs a pass over its items (an image, or a group of images). A pass has tileCount(),
// prepare(item, scratch) for per-item setup, tiles(item, scratch, t0, t1, chunk) for tiles
// [t0, t1) of the item (whose writes are disjoint between tiles) and finish(item,
// scratch). Items go to the pool when there are enough of them; otherwise each item's
// tiles are split over it.
// `chunks` fixes how items group into chunks (the chunk index a pass accumulates into);
// serially over items, the chunks are walked in order, so both ways give the same sums.
template <class Pass>
void runPass(const Pass& pass, int64_t n, int chunks) {
  const int64_t tiles = pass.tileCount();
  if (n >= poolThreads()) {
    parallelForChunks(n, chunks, [&](int64_t b0, int64_t b1, int chunk) {
      Scratch& s = tScratch;
      for (int64_t b = b0; b < b1; ++b) {
        pass.prepare(b, s);
        pass.tiles(b, s, 0, tiles, chunk);
        pass.finish(b, s);
      }
    });
    return;
  }
  Scratch& s = tScratch;
  if (chunks > n) chunks = static_cast<int>(n);
  for (int c = 0; c < chunks; ++c)
    for (int64_t b = n * c / chunks; b < n * (c + 1) / chunks; ++b) {
      pass.prepare(b, s);
      parallelForChunks(tiles, poolThreads(), [&](int64_t t0, int64_t t1, int) { pass.tiles(b, s, t0, t1, c); });
      pass.finish(b, s);
    }
}

// out[b] (+)= conv(x[b], w) + bias, then relu: tiles of mr output pixels x nr channels.
struct ForwardPass {
  const ConvGeom& g;
  const Layout& L;
  const ConvIsaKernels K;
  const float* x;
  float* out;
  bool relu;
  Store store;
  std::vector<float> wT;    // [OCP/nr][taps k][nr]: w^T in column slivers, zero beyond OC
  std::vector<float> bias;  // [OCP] or empty
  int64_t ocp, pixelTiles;

  ForwardPass(const ConvGeom& g, const Layout& L, const float* x, const float* w, const float* b, bool relu, Store store,
              float* out)
      : g(g), L(L), K(convTilesFor(g.oc)), x(x), out(out), relu(relu), store(store), ocp(roundUp(g.oc, K.nr)),
        pixelTiles((L.pixels + K.mr - 1) / K.mr) {
    wT.assign(static_cast<size_t>(ocp * L.kdim), 0.0f);
    for (int64_t o = 0; o < g.oc; ++o)
      for (int64_t k = 0; k < L.kdim; ++k) wT[((o / K.nr) * L.kdim + k) * K.nr + o % K.nr] = w[o * L.kdim + L.oihw(k)];
    if (b != nullptr) {
      bias.assign(static_cast<size_t>(ocp), 0.0f);
      std::copy(b, b + g.oc, bias.begin());
    }
  }
  int64_t tileCount() const { return pixelTiles * (ocp / K.nr); }
  void prepare(int64_t b, Scratch& s) const {
    if (L.padded()) padImage(x + b * g.c * g.h * g.w, g, L, grow(s.image, g.c * L.hp * L.wp));
    grow(s.tile, pixelTiles * K.mr * ocp);  // out^T: [pixels][OCP]
  }
  void tiles(int64_t b, Scratch& s, int64_t t0, int64_t t1, int) const {
    const float* src = L.padded() ? s.image.data() : x + b * g.c * g.h * g.w;
    const float* rows[kMaxMr];
    float* cRows[kMaxMr];
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t sliver = t / pixelTiles, p0 = (t % pixelTiles) * K.mr;
      for (int i = 0; i < K.mr; ++i) {
        rows[i] = src + L.pixOff[std::min(p0 + i, L.pixels - 1)];
        cRows[i] = s.tile.data() + (p0 + i) * ocp + sliver * K.nr;
      }
      // Kernel rows [ky0, ky1) reach the image for some pixel of the tile; the others
      // would only multiply padding.
      int64_t k0 = 0, k1 = L.kdim;
      if (L.rowsFirst) {
        const int64_t oyA = p0 / g.ow, oyB = std::min(p0 + K.mr - 1, L.pixels - 1) / g.ow;
        const int64_t ky0 = std::max<int64_t>(0, g.padH - oyB * g.strideH);
        const int64_t ky1 = std::max(ky0, std::min(g.kh, g.padH + g.h - oyA * g.strideH));
        L.tapRange(ky0, ky1, &k0, &k1);
      }
      K.micro(k1 - k0, rows, L.tapOff.data() + k0, wT.data() + (sliver * L.kdim + k0) * K.nr, cRows, 0,
              bias.empty() ? nullptr : bias.data() + sliver * K.nr);
    }
  }
  void finish(int64_t b, Scratch& s) const {
    K.transpose(L.pixels, g.oc, s.tile.data(), ocp, out + b * g.oc * L.pixels, L.pixels,
                (store == Store::Add ? kTransposeAdd : kTransposeCopy) | (relu ? kTransposeRelu : 0));
  }
};

// dx[b] (+)= conv^T(dy[b], w): tiles of mr output pixels x nr (tap, channel) columns, each
// added into the pixel-major padded dx at its pixel + tap. Tiles that share a channel
// block may hit the same element, so a tile index is a channel block (one writer each).
struct BackwardInputPass {
  const ConvGeom& g;
  const Layout& L;
  const ConvIsaKernels K;
  const float* dy;
  float* dx;
  int mode;                    // TransposeMode of the final store into dx
  std::vector<float> wB;       // [CP/nr][taps][OC][nr]: w with (tap, ci) columns, zero beyond C
  std::vector<int64_t> ocOff;  // [OC]: oc * OH*OW, the reduction's stride in dy
  int64_t cp;

  BackwardInputPass(const ConvGeom& g, const Layout& L, const float* dy, const float* w, Store store, float* dx)
      : g(g), L(L), K(convTilesFor(g.c)), dy(dy), dx(dx), mode(store == Store::Add ? kTransposeAdd : kTransposeCopy),
        ocOff(static_cast<size_t>(g.oc)), cp(roundUp(g.c, K.nr)) {
    wB.assign(static_cast<size_t>(cp * L.taps * g.oc), 0.0f);
    for (int64_t o = 0; o < g.oc; ++o)
      for (int64_t ci = 0; ci < g.c; ++ci)
        for (int64_t t = 0; t < L.taps; ++t)
          wB[(((ci / K.nr) * L.taps + t) * g.oc + o) * K.nr + ci % K.nr] = w[(o * g.c + ci) * L.taps + t];
    for (int64_t o = 0; o < g.oc; ++o) ocOff[o] = o * L.pixels;
  }
  int64_t tileCount() const { return cp / K.nr; }
  void prepare(int64_t, Scratch& s) const {
    float* t = grow(s.tile, L.hp * L.wp * cp);  // dx: [HP*WP][CP]
    std::memset(t, 0, static_cast<size_t>(L.hp * L.wp * cp) * sizeof(float));
    grow(s.sink, K.nr);
  }
  void tiles(int64_t b, Scratch& s, int64_t block0, int64_t block1, int) const {
    const float* dyb = dy + b * g.oc * L.pixels;
    const float* rows[kMaxMr];
    float* cRows[kMaxMr];
    for (int64_t block = block0; block < block1; ++block)
      for (int64_t t = 0; t < L.taps; ++t) {
        const int64_t shift = (t / g.kw) * L.wp + t % g.kw;
        const float* bsl = wB.data() + (block * L.taps + t) * g.oc * K.nr;
        for (int64_t p0 = 0; p0 < L.pixels; p0 += K.mr) {
          for (int i = 0; i < K.mr; ++i) {
            const int64_t pix = p0 + i;
            rows[i] = dyb + std::min(pix, L.pixels - 1);
            cRows[i] = pix < L.pixels ? s.tile.data() + (L.pixOff[pix] + shift) * cp + block * K.nr : s.sink.data();
          }
          K.micro(g.oc, rows, ocOff.data(), bsl, cRows, kTileAccumulate, nullptr);
        }
      }
  }
  void finish(int64_t b, Scratch& s) const {
    float* dxb = dx + b * g.c * g.h * g.w;
    if (!L.padded()) {
      K.transpose(g.h * g.w, g.c, s.tile.data(), cp, dxb, g.h * g.w, mode);
      return;
    }
    for (int64_t y = 0; y < g.h; ++y)
      K.transpose(g.w, g.c, s.tile.data() + ((y + g.padH) * L.wp + g.padW) * cp, cp, dxb + y * g.w, g.h * g.w, mode);
  }
};

// Per-chunk dw^T partials [KP][OCP] += tiles of mr taps x nr output channels, reduced over
// the pixels of a group of images (a reduction of at least ~kWeightPixels, so small
// images still amortize each tile's store); the chunks are summed in order afterwards
// (deterministic for a given thread count).
constexpr int64_t kWeightPixels = 256;

struct BackwardWeightPass {
  const ConvGeom& g;
  const Layout& L;
  const ConvIsaKernels K;
  const float* x;
  const float* dy;
  float* acc;  // [chunks][KP][OCP]
  int64_t kp, ocp, tapTiles;
  int64_t group;                 // images per item
  int64_t imageSize;             // floats between the (padded) images of a group
  std::vector<int64_t> pixOff;   // [group * OH*OW]: L.pixOff, shifted to each image

  BackwardWeightPass(const ConvGeom& g, const Layout& L, const float* x, const float* dy, float* acc)
      : g(g), L(L), K(convTilesFor(g.oc)), x(x), dy(dy), acc(acc), kp(roundUp(L.kdim, K.mr)), ocp(roundUp(g.oc, K.nr)),
        tapTiles(kp / K.mr), group(std::max<int64_t>(1, std::min<int64_t>(g.n, kWeightPixels / L.pixels))),
        imageSize(L.padded() ? g.c * L.hp * L.wp : g.c * g.h * g.w),
        pixOff(static_cast<size_t>(group * L.pixels)) {
    for (int64_t j = 0; j < group; ++j)
      for (int64_t p = 0; p < L.pixels; ++p) pixOff[j * L.pixels + p] = j * imageSize + L.pixOff[p];
  }
  int64_t items() const { return (g.n + group - 1) / group; }
  int64_t imagesIn(int64_t item) const { return std::min(group, g.n - item * group); }
  int64_t tileCount() const { return tapTiles * (ocp / K.nr); }
  void prepare(int64_t item, Scratch& s) const {
    const int64_t b0 = item * group, images = imagesIn(item), pixels = images * L.pixels;
    if (L.padded()) {
      float* p = grow(s.image, group * imageSize);
      for (int64_t j = 0; j < images; ++j) padImage(x + (b0 + j) * g.c * g.h * g.w, g, L, p + j * imageSize);
    }
    // dy^T in column slivers [OCP/nr][images * pixels][nr], zero beyond OC
    float* t = grow(s.tile, ocp * pixels);
    if (ocp != g.oc) std::memset(t + (ocp - K.nr) * pixels, 0, static_cast<size_t>(K.nr * pixels) * sizeof(float));
    for (int64_t j = 0; j < images; ++j) {
      const float* dyb = dy + (b0 + j) * g.oc * L.pixels;
      for (int64_t o0 = 0; o0 < g.oc; o0 += K.nr)
        K.transpose(std::min<int64_t>(K.nr, g.oc - o0), L.pixels, dyb + o0 * L.pixels, L.pixels,
                    t + (o0 * images + j * K.nr) * L.pixels, K.nr, kTransposeCopy);
    }
  }
  void tiles(int64_t item, Scratch& s, int64_t t0, int64_t t1, int chunk) const {
    const int64_t pixels = imagesIn(item) * L.pixels;
    const float* src = L.padded() ? s.image.data() : x + item * group * g.c * g.h * g.w;
    float* dwT = acc + chunk * kp * ocp;
    const float* rows[kMaxMr];
    float* cRows[kMaxMr];
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t sliver = t / tapTiles, k0 = (t % tapTiles) * K.mr;
      for (int i = 0; i < K.mr; ++i) {
        rows[i] = src + L.tapOff[std::min(k0 + i, L.kdim - 1)];
        cRows[i] = dwT + (k0 + i) * ocp + sliver * K.nr;
      }
      K.micro(pixels, rows, pixOff.data(), s.tile.data() + sliver * pixels * K.nr, cRows, kTileAccumulate, nullptr);
    }
  }
  void finish(int64_t, Scratch&) const {}
};

// With unit strides dx is itself a convolution: of dy padded by k - 1 - pad, with w
// flipped and its channel axes swapped. Its tiles reduce over OC*KH*KW instead of OC,
// but its windows also cover the padding columns (rows are skipped): W/OW times the
// work of the scattering tiles, whose reduction is only OC long and whose store (a
// read-modify-write of dx) costs about as much as kScatterStoreSteps steps of it.
constexpr int64_t kScatterStoreSteps = 12;

bool backwardInputAsConvolution(const ConvGeom& g) {
  return g.strideH == 1 && g.strideW == 1 && g.padH < g.kh && g.padW < g.kw &&
         g.w * g.oc < g.ow * (g.oc + kScatterStoreSteps);
}

// Eight float lanes over one plane (a few hundred pixels), then their sum in double:
// vectorizable, unlike one chain of double adds.
constexpr int kLanes = 8;

double laneSum(const float* lanes, double tail) {
  double s = tail;
  for (int j = 0; j < kLanes; ++j) s += lanes[j];
  return s;
}

// dz[0, n) = out > 0 ? dy : 0 (NaN counts as not > 0); returns the sum of dz. Two
// loops over a plane that stays in L1: each vectorizes, one fused loop did not.
double sumPlane(const float* dy, int64_t n);

double maskPlane(const float* out, const float* dy, int64_t n, float* dz) {
  for (int64_t i = 0; i < n; ++i) {
    const float o = out[i], d = dy[i];  // both loaded, so the select needs no branch
    dz[i] = o > 0.0f ? d : 0.0f;
  }
  return sumPlane(dz, n);
}

double sumPlane(const float* dy, int64_t n) {
  float lanes[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j) lanes[j] += dy[i + j];
  double tail = 0.0;
  for (; i < n; ++i) tail += dy[i];
  return laneSum(lanes, tail);
}

}  // namespace

namespace {
// One input channel, unit strides, no padding and rows of at least a vector: the direct
// kernels (conv_isa.h), which need neither tiles nor transposes. MNIST's first layer.
bool direct(const ConvGeom& g, const ConvIsaKernels& K) {
  return g.c == 1 && g.strideH == 1 && g.strideW == 1 && g.padH == 0 && g.padW == 0 && g.ow >= K.lanes &&
         g.kh * g.kw <= kMaxDirectTaps;
}
}  // namespace

void conv2d(const float* x, const float* w, const float* bias, bool relu, Store store, const ConvGeom& g, float* out) {
  const ConvIsaKernels& K = convKernels();
  if (direct(g, K)) {
    const int flags = (store == Store::Add ? kTileAccumulate : 0) | (relu ? kTileRelu : 0);
    parallelForChunks(g.n, imageChunks(g.n), [&](int64_t b0, int64_t b1, int) {
      for (int64_t b = b0; b < b1; ++b)
        K.directForward(x + b * g.h * g.w, g.h, g.w, g.kh, g.kw, w, bias, g.oc, flags, out + b * g.oc * g.oh * g.ow);
    });
    return;
  }
  if (winogradApplies(g)) {
    conv2dWinograd(x, w, bias, relu, store, g, out);
    return;
  }
  if (rowPathApplies(g)) {
    conv2dRows(x, w, bias, relu, store, g, out);
    return;
  }
  const Layout L(g);
  runPass(ForwardPass(g, L, x, w, bias, relu, store, out), g.n, imageChunks(g.n));
}

void conv2dBackwardInput(const float* dy, const float* w, const ConvGeom& g, Store store, float* dx) {
  if (backwardInputAsConvolution(g)) {
    const ConvGeom t{g.n, g.oc, g.oh, g.ow, g.c, g.kh, g.kw, 1, 1, g.kh - 1 - g.padH, g.kw - 1 - g.padW, g.h, g.w};
    std::vector<float> wt(static_cast<size_t>(g.oc * g.c * g.kh * g.kw));
    for (int64_t o = 0; o < g.oc; ++o)
      for (int64_t ci = 0; ci < g.c; ++ci)
        for (int64_t ky = 0; ky < g.kh; ++ky)
          for (int64_t kx = 0; kx < g.kw; ++kx)
            wt[((ci * g.oc + o) * g.kh + ky) * g.kw + kx] = w[((o * g.c + ci) * g.kh + g.kh - 1 - ky) * g.kw + g.kw - 1 - kx];
    conv2d(dy, wt.data(), nullptr, false, store, t, dx);
    return;
  }
  const Layout L(g);
  runPass(BackwardInputPass(g, L, dy, w, store, dx), g.n, imageChunks(g.n));
}

void conv2dFusedBackward(const float* x, const float* w, const float* out, const float* dy, const ConvGeom& g,
                         bool relu, float* dx, float* dw, float* db) {
  const int64_t P = g.oh * g.ow;
  const float* dz = dy;
  if (relu || db != nullptr) {
    // One pass makes the masked dz (kept between calls: no fresh tensor to fault in) and
    // per-chunk bias sums, added in chunk order.
    thread_local std::vector<float> tDz;
    float* masked = relu ? grow(tDz, g.n * g.oc * P) : nullptr;
    const int chunks = reductionChunks(g.n);
    std::vector<double> sums(static_cast<size_t>(chunks * g.oc), 0.0);
    parallelForChunks(g.n, chunks, [&](int64_t b0, int64_t b1, int chunk) {
      for (int64_t plane = b0 * g.oc; plane < b1 * g.oc; ++plane) {
        const int64_t at = plane * P;
        const double s = relu ? maskPlane(out + at, dy + at, P, masked + at) : sumPlane(dy + at, P);
        sums[chunk * g.oc + plane % g.oc] += s;
      }
    });
    if (db != nullptr)
      for (int64_t o = 0; o < g.oc; ++o) {
        double t = 0.0;
        for (int c = 0; c < chunks; ++c) t += sums[c * g.oc + o];
        db[o] = static_cast<float>(t);
      }
    if (masked != nullptr) dz = masked;
  }
  if (dx != nullptr) conv2dBackwardInput(dz, w, g, Store::Overwrite, dx);
  if (dw != nullptr) conv2dBackwardWeight(x, dz, g, Store::Overwrite, dw);
}

void conv2dBackwardWeight(const float* x, const float* dy, const ConvGeom& g, Store store, float* dw) {
  const ConvIsaKernels& K = convKernels();
  if (direct(g, K)) {
    // per-chunk partials [chunks][OC][taps], summed in chunk order
    const int64_t size = g.oc * g.kh * g.kw;
    const int chunks = reductionChunks(g.n);
    std::vector<float> part(static_cast<size_t>(chunks * size), 0.0f);
    parallelForChunks(g.n, chunks, [&](int64_t b0, int64_t b1, int chunk) {
      for (int64_t b = b0; b < b1; ++b)
        K.directWeight(x + b * g.h * g.w, g.h, g.w, g.kh, g.kw, dy + b * g.oc * g.oh * g.ow, g.oc, part.data() + chunk * size);
    });
    for (int c = 1; c < chunks; ++c)
      for (int64_t i = 0; i < size; ++i) part[i] += part[c * size + i];
    for (int64_t i = 0; i < size; ++i) dw[i] = store == Store::Add ? dw[i] + part[i] : part[i];
    return;
  }
  const Layout L(g);
  std::vector<float> acc;
  BackwardWeightPass pass(g, L, x, dy, nullptr);
  const int64_t kp = pass.kp, ocp = pass.ocp;
  const int chunks = reductionChunks(pass.items());
  acc.assign(static_cast<size_t>(chunks * kp * ocp), 0.0f);
  pass.acc = acc.data();
  runPass(pass, pass.items(), chunks);
  for (int c = 1; c < chunks; ++c) {
    const float* p = acc.data() + c * kp * ocp;
    for (int64_t i = 0; i < kp * ocp; ++i) acc[i] += p[i];
  }
  // dw: [OC][C*KH*KW] (+)= acc^T, taps back in OIHW order
  for (int64_t k = 0; k < L.kdim; ++k) {
    const int64_t col = L.oihw(k);
    for (int64_t o = 0; o < g.oc; ++o) {
      float& d = dw[o * L.kdim + col];
      d = store == Store::Add ? d + acc[k * ocp + o] : acc[k * ocp + o];
    }
  }
}

}  // namespace spur
