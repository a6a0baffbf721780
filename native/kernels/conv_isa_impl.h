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

// Output row chunks of W pixels; the last chunk of a row starts at OW - W and overlaps
// the one before, so its first `skip` lanes were already done.
inline void chunkAt(int64_t c0, int64_t ow, int64_t* c, int* skip) {
  *c = c0 + Vec::W <= ow ? c0 : ow - Vec::W;
  *skip = static_cast<int>(c0 - *c);
}

// KH, KW > 0 fix the kernel size at compile time (3x3: the taps stay in registers and the
// loops unroll); 0 takes the runtime kh, kw.
template <int KH, int KW>
void directForwardT(const float* x, int64_t h, int64_t w, int64_t khArg, int64_t kwArg, const float* wts,
                    const float* bias, int64_t oc, int flags, float* out) {
  constexpr int W = Vec::W;
  const int64_t kh = KH > 0 ? KH : khArg, kw = KW > 0 ? KW : kwArg;
  const int64_t oh = h - kh + 1, ow = w - kw + 1, taps = kh * kw;
  typename Vec::V xv[spur::kMaxDirectTaps];
  for (int64_t oy = 0; oy < oh; ++oy)
    for (int64_t c0 = 0; c0 < ow; c0 += W) {
      int64_t c;
      int skip;
      chunkAt(c0, ow, &c, &skip);
      for (int64_t ky = 0; ky < kh; ++ky)
        for (int64_t kx = 0; kx < kw; ++kx) xv[ky * kw + kx] = Vec::load(x + (oy + ky) * w + c + kx);
      for (int64_t o = 0; o < oc; ++o) {
        const float* wo = wts + o * taps;
        typename Vec::V acc = bias != nullptr ? Vec::bcast(bias[o]) : Vec::zero();
        for (int64_t t = 0; t < taps; ++t) acc = Vec::fma(Vec::bcast(wo[t]), xv[t], acc);
        float* dst = out + (o * oh + oy) * ow + c;
        if (skip == 0) {
          if (flags & kTileAccumulate) acc = Vec::add(Vec::load(dst), acc);
          if (flags & kTileRelu) acc = Vec::max(acc, Vec::zero());
          Vec::store(dst, acc);
          continue;
        }
        alignas(64) float v[W];
        Vec::store(v, acc);
        for (int j = skip; j < W; ++j) {
          float r = (flags & kTileAccumulate) ? dst[j] + v[j] : v[j];
          if ((flags & kTileRelu) && !(r > 0.0f)) r = 0.0f;
          dst[j] = r;
        }
      }
    }
}

template <int KH, int KW>
void directWeightT(const float* x, int64_t h, int64_t w, int64_t khArg, int64_t kwArg, const float* dz, int64_t oc,
                   float* dw) {
  constexpr int W = Vec::W;
  const int64_t kh = KH > 0 ? KH : khArg, kw = KW > 0 ? KW : kwArg;
  const int64_t oh = h - kh + 1, ow = w - kw + 1, taps = kh * kw;
  typename Vec::V acc[spur::kMaxDirectTaps];
  for (int64_t o = 0; o < oc; ++o) {
    for (int64_t t = 0; t < taps; ++t) acc[t] = Vec::zero();
    const float* dzo = dz + o * oh * ow;
    for (int64_t oy = 0; oy < oh; ++oy)
      for (int64_t c0 = 0; c0 < ow; c0 += W) {
        int64_t c;
        int skip;
        chunkAt(c0, ow, &c, &skip);
        typename Vec::V d = Vec::load(dzo + oy * ow + c);
        if (skip > 0) {  // lanes already counted by the previous chunk pass nothing
          alignas(64) float v[W];
          Vec::store(v, d);
          for (int j = 0; j < skip; ++j) v[j] = 0.0f;
          d = Vec::load(v);
        }
        for (int64_t ky = 0; ky < kh; ++ky)
          for (int64_t kx = 0; kx < kw; ++kx)
            acc[ky * kw + kx] = Vec::fma(d, Vec::load(x + (oy + ky) * w + c + kx), acc[ky * kw + kx]);
      }
    for (int64_t t = 0; t < taps; ++t) dw[o * taps + t] += Vec::hsum(acc[t]);
  }
}

void directForward(const float* x, int64_t h, int64_t w, int64_t kh, int64_t kw, const float* wts,
                   const float* bias, int64_t oc, int flags, float* out) {
  if (kh == 3 && kw == 3) return directForwardT<3, 3>(x, h, w, kh, kw, wts, bias, oc, flags, out);
  directForwardT<0, 0>(x, h, w, kh, kw, wts, bias, oc, flags, out);
}

void directWeight(const float* x, int64_t h, int64_t w, int64_t kh, int64_t kw, const float* dz, int64_t oc, float* dw) {
  if (kh == 3 && kw == 3) return directWeightT<3, 3>(x, h, w, kh, kw, dz, oc, dw);
  directWeightT<0, 0>(x, h, w, kh, kw, dz, oc, dw);
}

// B^T d B of a 4x4 patch: rows d0 - d2, d1 + d2, d2 - d1, d1 - d3, then the same
// combinations of columns. T is a vector of channels or one float (the tail).
template <class T, class Ld, class St, class Add, class Sub>
inline void winogradInputStep(Ld ld, St st, Add add, Sub sub) {
  T t[4][4];
  for (int j = 0; j < 4; ++j) {
    const T d0 = ld(0, j), d1 = ld(1, j), d2 = ld(2, j), d3 = ld(3, j);
    t[0][j] = sub(d0, d2);
    t[1][j] = add(d1, d2);
    t[2][j] = sub(d2, d1);
    t[3][j] = sub(d1, d3);
  }
  for (int i = 0; i < 4; ++i) {
    st(i * 4 + 0, sub(t[i][0], t[i][2]));
    st(i * 4 + 1, add(t[i][1], t[i][2]));
    st(i * 4 + 2, sub(t[i][2], t[i][1]));
    st(i * 4 + 3, sub(t[i][1], t[i][3]));
  }
}

void winogradInput(const float* src, int64_t rowStride, int64_t c, float* v, int64_t xiStride) {
  constexpr int W = Vec::W;
  using V = typename Vec::V;
  int64_t ch = 0;
  for (; ch + W <= c; ch += W)
    winogradInputStep<V>([&](int i, int j) { return Vec::load(src + i * rowStride + j * c + ch); },
                         [&](int xi, V x) { Vec::store(v + xi * xiStride + ch, x); }, Vec::add, Vec::sub);
  for (; ch < c; ++ch)
    winogradInputStep<float>([&](int i, int j) { return src[i * rowStride + j * c + ch]; },
                             [&](int xi, float x) { v[xi * xiStride + ch] = x; },
                             [](float a, float b) { return a + b; }, [](float a, float b) { return a - b; });
}

// A^T m A + bias of one tile's 16 products: rows m0 + m1 + m2, m1 - m2 - m3, then the same
// of columns.
template <class T, class Ld, class St, class Add, class Sub>
inline void winogradOutputStep(Ld ld, St st, T b0, Add add, Sub sub) {
  T t[2][4];
  for (int j = 0; j < 4; ++j) {
    const T a = ld(j), b = ld(4 + j), cc = ld(8 + j), d = ld(12 + j);
    t[0][j] = add(add(a, b), cc);
    t[1][j] = sub(sub(b, cc), d);
  }
  for (int i = 0; i < 2; ++i) {
    st(2 * i, add(add(add(t[i][0], t[i][1]), t[i][2]), b0));
    st(2 * i + 1, add(sub(sub(t[i][1], t[i][2]), t[i][3]), b0));
  }
}

void winogradOutput(const float* m, int64_t xiStride, int64_t oc, const float* bias, float* const* dst) {
  constexpr int W = Vec::W;
  using V = typename Vec::V;
  int64_t o = 0;
  for (; o + W <= oc; o += W)
    winogradOutputStep<V>([&](int xi) { return Vec::load(m + xi * xiStride + o); },
                          [&](int k, V x) { Vec::store(dst[k] + o, x); },
                          bias != nullptr ? Vec::load(bias + o) : Vec::zero(), Vec::add, Vec::sub);
  for (; o < oc; ++o)
    winogradOutputStep<float>([&](int xi) { return m[xi * xiStride + o]; }, [&](int k, float x) { dst[k][o] = x; },
                              bias != nullptr ? bias[o] : 0.0f, [](float a, float b) { return a + b; },
                              [](float a, float b) { return a - b; });
}

// The row kernel (conv_isa.h): MR channels x NV vectors of pixels; the weights are the
// broadcast operand (one pointer, no gathered rows) and the image the vector one.
template <int MR, int NV>
void rowMicro(int64_t kc, const float* src, const int64_t* koff, const float* w, float* const* outRows, int flags,
              const float* bias) {
  constexpr int W = Vec::W;
  typename Vec::V acc[MR][NV];
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NV; ++j) acc[i][j] = Vec::zero();
#pragma GCC unroll 2
  for (int64_t p = 0; p < kc; ++p) {
    const float* s = src + koff[p];
    typename Vec::V xv[NV];
    for (int j = 0; j < NV; ++j) xv[j] = Vec::load(s + j * W);
    for (int i = 0; i < MR; ++i) {
      const typename Vec::V wv = Vec::bcast(w[i]);
      for (int j = 0; j < NV; ++j) acc[i][j] = Vec::fma(wv, xv[j], acc[i][j]);
    }
    w += MR;
  }
  for (int i = 0; i < MR; ++i) {
    float* row = outRows[i];
    for (int j = 0; j < NV; ++j) {
      typename Vec::V v = acc[i][j];
      if (flags & kTileAccumulate) v = Vec::add(Vec::load(row + j * W), v);
      if (bias != nullptr) v = Vec::add(v, Vec::bcast(bias[i]));
      if (flags & kTileRelu) v = Vec::max(v, Vec::zero());
      Vec::store(row + j * W, v);
    }
  }
}

template <int MR, int NV, int MRN, int RMR, int RNV>
spur::ConvIsaKernels makeConvKernels() {
  return spur::ConvIsaKernels{MR,        NV * Vec::W,    &gatherMicro<MR, NV>, MRN,           Vec::W,
                              &gatherMicro<MRN, 1>, &transpose, Vec::W, &directForward, &directWeight,
                              &winogradInput,       &winogradOutput, RMR, RNV * Vec::W, &rowMicro<RMR, RNV>};
}

}  // namespace
