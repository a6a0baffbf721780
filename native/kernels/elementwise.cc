#include "elementwise.h"

#include <cmath>
#include <algorithm>
#include <cstring>
#include <vector>

#include "lissa_isa.h"
#include "strided.h"
#include "threadpool.h"

namespace spur {
namespace {

// Elements per chunk below which a loop is not worth a second thread.
constexpr int64_t kGrain = 1 << 15;

// Transcendentals go through double, as the reference's Math.* does, so both backends
// round the same value once to float32.
inline float viaDouble(double v) { return static_cast<float>(v); }

template <class F>
void binaryRow(const F& f, const float* a, int64_t sa, const float* b, int64_t sb, float* out, int64_t n) {
  if (sa == 1 && sb == 1) {
    for (int64_t i = 0; i < n; ++i) out[i] = f(a[i], b[i]);
  } else if (sa == 0 && sb == 1) {
    const float av = a[0];
    for (int64_t i = 0; i < n; ++i) out[i] = f(av, b[i]);
  } else if (sa == 1 && sb == 0) {
    const float bv = b[0];
    for (int64_t i = 0; i < n; ++i) out[i] = f(a[i], bv);
  } else {
    for (int64_t i = 0; i < n; ++i) out[i] = f(a[i * sa], b[i * sb]);
  }
}

template <class F>
void binaryImpl(const F& f, const float* a, const float* b, const StridedShape& s, float* out) {
  const int last = s.ndim - 1;
  const int64_t inner = s.shape[last], sa = s.strides[0][last], sb = s.strides[1][last];
  int64_t rows = 1;
  for (int d = 0; d < last; ++d) rows *= s.shape[d];
  if (rows == 1) {
    parallelFor(inner, kGrain, [&](int64_t i0, int64_t i1, int) {
      binaryRow(f, a + i0 * sa, sa, b + i0 * sb, sb, out + i0, i1 - i0);
    });
    return;
  }
  const int64_t grain = inner >= kGrain ? 1 : kGrain / inner;
  parallelFor(rows, grain, [&](int64_t r0, int64_t r1, int) {
    int64_t idx[kMaxDims];
    rowIndex(s, r0, idx);
    int64_t off[2] = {rowOffset(s, 0, r0), rowOffset(s, 1, r0)};
    for (int64_t r = r0; r < r1; ++r) {
      binaryRow(f, a + off[0], sa, b + off[1], sb, out + r * inner, inner);
      nextRow(s, idx, off, 2);
    }
  });
}

template <class F>
void mapImpl(const F& f, const float* x, int64_t n, float* out) {
  parallelFor(n, kGrain, [&](int64_t i0, int64_t i1, int) {
    for (int64_t i = i0; i < i1; ++i) out[i] = f(x[i]);
  });
}

}  // namespace

void binary(BinaryOp op, const float* a, const int64_t* aStrides, const float* b,
            const int64_t* bStrides, const int64_t* shape, int ndim, float* out) {
  const int64_t* strides[2] = {aStrides, bStrides};
  const StridedShape s = simplifyStrides(shape, ndim, strides, 2);
  switch (op) {
    case BinaryOp::Add: return binaryImpl([](float x, float y) { return x + y; }, a, b, s, out);
    case BinaryOp::Sub: return binaryImpl([](float x, float y) { return x - y; }, a, b, s, out);
    case BinaryOp::Mul: return binaryImpl([](float x, float y) { return x * y; }, a, b, s, out);
    case BinaryOp::Div: return binaryImpl([](float x, float y) { return x / y; }, a, b, s, out);
    // NaN propagates from either side; ties keep a (the reference's rule).
    case BinaryOp::Max: return binaryImpl([](float x, float y) { return (x >= y || x != x) ? x : y; }, a, b, s, out);
    case BinaryOp::Min: return binaryImpl([](float x, float y) { return (x <= y || x != x) ? x : y; }, a, b, s, out);
    case BinaryOp::Eq: return binaryImpl([](float x, float y) { return x == y ? 1.0f : 0.0f; }, a, b, s, out);
    case BinaryOp::Gt: return binaryImpl([](float x, float y) { return x > y ? 1.0f : 0.0f; }, a, b, s, out);
    case BinaryOp::MaskPos: return binaryImpl([](float x, float y) { return x > 0.0f ? y : 0.0f; }, a, b, s, out);
    case BinaryOp::AddRelu:
      return binaryImpl([](float x, float y) { const float v = x + y; return v > 0.0f ? v : 0.0f; }, a, b, s, out);
    case BinaryOp::Pow:
      return binaryImpl([](float x, float y) { return viaDouble(std::pow(double{x}, double{y})); }, a, b, s, out);
  }
}

void unary(UnaryOp op, const float* x, int64_t n, float* out) {
  switch (op) {
    case UnaryOp::Neg: return mapImpl([](float v) { return -v; }, x, n, out);
    case UnaryOp::Exp: return mapImpl([](float v) { return viaDouble(std::exp(double{v})); }, x, n, out);
    case UnaryOp::Log: return mapImpl([](float v) { return viaDouble(std::log(double{v})); }, x, n, out);
    case UnaryOp::Relu: return mapImpl([](float v) { return v > 0.0f ? v : 0.0f; }, x, n, out);
    case UnaryOp::Sqrt: return mapImpl([](float v) { return std::sqrt(v); }, x, n, out);
    case UnaryOp::Rsqrt: return mapImpl([](float v) { return viaDouble(1.0 / std::sqrt(double{v})); }, x, n, out);
    case UnaryOp::Abs: return mapImpl([](float v) { return std::fabs(v); }, x, n, out);
    case UnaryOp::Sign: return mapImpl([](float v) { return v > 0.0f ? 1.0f : (v < 0.0f ? -1.0f : 0.0f); }, x, n, out);
    case UnaryOp::Step: return mapImpl([](float v) { return v > 0.0f ? 1.0f : 0.0f; }, x, n, out);
    case UnaryOp::Square: return mapImpl([](float v) { return v * v; }, x, n, out);
    case UnaryOp::Reciprocal: return mapImpl([](float v) { return 1.0f / v; }, x, n, out);
    case UnaryOp::Tanh: return mapImpl([](float v) { return viaDouble(std::tanh(double{v})); }, x, n, out);
    case UnaryOp::Sigmoid:
      return mapImpl([](float v) { return viaDouble(1.0 / (1.0 + std::exp(-double{v}))); }, x, n, out);
  }
}

void affine(const float* x, int64_t n, double alpha, double beta, float* out) {
  mapImpl([=](float v) { return viaDouble(double{v} * alpha + beta); }, x, n, out);
}

void scaledSum(const float* x, double alpha, const float* y, const float* z, int64_t n, float* out) {
  const auto row = lissaKernels().scaledSumRow;
  parallelFor(n, kGrain, [&](int64_t i0, int64_t i1, int) { row(x + i0, alpha, y + i0, z + i0, i1 - i0, out + i0); });
}

void scaledSumOuter(const float* x, double alpha, const float* y, const float* a, const float* b, int64_t m, int64_t k, int64_t n,
                    float* out) {
  // rows are independent, so the split over threads cannot change a value
  const auto row = lissaKernels().scaledSumOuterRow;
  const int64_t grain = n >= kGrain ? 1 : kGrain / n;
  parallelFor(m, grain, [&](int64_t o0, int64_t o1, int) {
    std::vector<double> c(static_cast<size_t>(k));
    for (int64_t o = o0; o < o1; ++o) {
      for (int64_t r = 0; r < k; ++r) c[static_cast<size_t>(r)] = a[r * m + o];
      row(x + o * n, alpha, y + o * n, c.data(), b, k, n, n, out + o * n);
    }
  });
}

void clamp(const float* x, int64_t n, double lo, double hi, float* out) {
  const float flo = static_cast<float>(lo), fhi = static_cast<float>(hi);
  // The reference's order of tests: with lo > hi every x below lo gives lo; NaN stays NaN.
  mapImpl([=](float v) {
    const double d = v;
    return d < lo ? flo : (d > hi ? fhi : v);
  }, x, n, out);
}

void clampBackward(const float* x, const float* dy, int64_t n, double lo, double hi, float* dx) {
  parallelFor(n, kGrain, [&](int64_t i0, int64_t i1, int) {
    for (int64_t i = i0; i < i1; ++i) {
      const double d = x[i];
      dx[i] = (d >= lo && d <= hi) ? dy[i] : 0.0f;
    }
  });
}

void stridedCopy(const float* x, const int64_t* strides, const int64_t* shape, int ndim, float* out) {
  const StridedShape s = simplifyStrides(shape, ndim, &strides, 1);
  const int last = s.ndim - 1;
  const int64_t inner = s.shape[last], sx = s.strides[0][last];
  int64_t rows = 1;
  for (int d = 0; d < last; ++d) rows *= s.shape[d];
  const int64_t grain = inner >= kGrain ? 1 : kGrain / inner;
  parallelFor(rows, grain, [&](int64_t r0, int64_t r1, int) {
    int64_t idx[kMaxDims];
    rowIndex(s, r0, idx);
    int64_t off[1] = {rowOffset(s, 0, r0)};
    for (int64_t r = r0; r < r1; ++r) {
      const float* src = x + off[0];
      float* dst = out + r * inner;
      if (sx == 1) std::memcpy(dst, src, static_cast<size_t>(inner) * sizeof(float));
      else for (int64_t i = 0; i < inner; ++i) dst[i] = src[i * sx];
      nextRow(s, idx, off, 1);
    }
  });
}

// Serial on purpose: strides that are not injective would make parallel adds race.
void stridedScatterAdd(const float* x, const int64_t* shape, int ndim, const int64_t* strides, float* out) {
  const StridedShape s = simplifyStrides(shape, ndim, &strides, 1);
  const int last = s.ndim - 1;
  const int64_t inner = s.shape[last], so = s.strides[0][last];
  int64_t rows = 1;
  for (int d = 0; d < last; ++d) rows *= s.shape[d];
  int64_t idx[kMaxDims] = {0};
  int64_t off[1] = {0};
  for (int64_t r = 0; r < rows; ++r) {
    const float* src = x + r * inner;
    float* dst = out + off[0];
    for (int64_t i = 0; i < inner; ++i) dst[i * so] += src[i];
    nextRow(s, idx, off, 1);
  }
}

}  // namespace spur
