// The loops behind BnIsaKernels on GCC vector types, which lower to the ISA of the
// enclosing `#pragma GCC target` (4 SSE2 registers per 8 doubles, 2 AVX2, 1 AVX-512).
// Included by batchnorm_isa.cc inside one namespace per ISA; no include guard.

using D8 = double __attribute__((vector_size(64)));
using F8 = float __attribute__((vector_size(32)));
constexpr int kHalf = spur::kBnLanes / 2;
static_assert(kHalf == 8, "two vectors of 8 doubles per group");

inline D8 load8(const float* p) {
  F8 f;
  std::memcpy(&f, p, sizeof f);
  return __builtin_convertvector(f, D8);
}
inline D8 loadLanes(const double* p) {
  D8 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void storeLanes(double* p, D8 v) { std::memcpy(p, &v, sizeof v); }
inline void store8(float* p, D8 v) {
  const F8 f = __builtin_convertvector(v, F8);
  std::memcpy(p, &f, sizeof f);
}
// g = mask > 0 ? dy : 0, lane-wise (NaN in the mask passes nothing)
inline D8 masked(D8 dy, const float* mask) {
  if (mask == nullptr) return dy;
  const D8 m = load8(mask);
  return m > 0.0 ? dy : D8{};
}
inline double maskedScalar(const float* dy, const float* mask, int64_t i) {
  return mask == nullptr || mask[i] > 0.0f ? static_cast<double>(dy[i]) : 0.0;
}

void moments(const float* x, int64_t len, double shift, double* s1, double* s2) {
  D8 a1 = loadLanes(s1), b1 = loadLanes(s1 + kHalf), a2 = loadLanes(s2), b2 = loadLanes(s2 + kHalf);
  int64_t i = 0;
  for (; i + spur::kBnLanes <= len; i += spur::kBnLanes) {
    const D8 d0 = load8(x + i) - shift, d1 = load8(x + i + kHalf) - shift;
    a1 += d0;
    b1 += d1;
    a2 += d0 * d0;
    b2 += d1 * d1;
  }
  storeLanes(s1, a1);
  storeLanes(s1 + kHalf, b1);
  storeLanes(s2, a2);
  storeLanes(s2 + kHalf, b2);
  for (; i < len; ++i) {
    const double d = x[i] - shift;
    s1[0] += d;
    s2[0] += d * d;
  }
}

void normalize(const float* x, int64_t len, double mean, double scale, double shift, bool relu, float* out) {
  int64_t i = 0;
  for (; i + kHalf <= len; i += kHalf) {
    D8 v = (load8(x + i) - mean) * scale + shift;
    if (relu) v = v > 0.0 ? v : D8{};
    store8(out + i, v);
  }
  for (; i < len; ++i) {
    const double v = (x[i] - mean) * scale + shift;
    out[i] = static_cast<float>(relu && !(v > 0.0) ? 0.0 : v);
  }
}

void gradSums(const float* x, const float* dy, const float* mask, int64_t len, double mean, double* s1, double* s2) {
  D8 a1 = loadLanes(s1), b1 = loadLanes(s1 + kHalf), a2 = loadLanes(s2), b2 = loadLanes(s2 + kHalf);
  int64_t i = 0;
  for (; i + spur::kBnLanes <= len; i += spur::kBnLanes) {
    const D8 g0 = masked(load8(dy + i), mask == nullptr ? nullptr : mask + i);
    const D8 g1 = masked(load8(dy + i + kHalf), mask == nullptr ? nullptr : mask + i + kHalf);
    a1 += g0;
    b1 += g1;
    a2 += g0 * (load8(x + i) - mean);
    b2 += g1 * (load8(x + i + kHalf) - mean);
  }
  storeLanes(s1, a1);
  storeLanes(s1 + kHalf, b1);
  storeLanes(s2, a2);
  storeLanes(s2 + kHalf, b2);
  for (; i < len; ++i) {
    const double g = maskedScalar(dy, mask, i);
    s1[0] += g;
    s2[0] += g * (x[i] - mean);
  }
}

void inputGrad(const float* x, const float* dy, const float* mask, int64_t len, double a, double bx, double c0,
               float* dx) {
  int64_t i = 0;
  for (; i + kHalf <= len; i += kHalf) {
    const D8 g = masked(load8(dy + i), mask == nullptr ? nullptr : mask + i);
    store8(dx + i, x == nullptr ? g * a : g * a + load8(x + i) * bx + c0);
  }
  for (; i < len; ++i) {
    const double g = maskedScalar(dy, mask, i);
    dx[i] = static_cast<float>(x == nullptr ? g * a : g * a + x[i] * bx + c0);
  }
}

constexpr spur::BnIsaKernels kKernels{&moments, &normalize, &gradSums, &inputGrad};
