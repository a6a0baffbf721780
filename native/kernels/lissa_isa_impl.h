// The loops behind LissaIsaKernels on GCC vector types, lowered to the ISA of the
// enclosing `#pragma GCC target`. Included by lissa_isa.cc inside one namespace per ISA;
// no include guard. No FMA contraction: ISO C++ mode compiles a * b + c as two roundings,
// as the reference computes it.

using D8 = double __attribute__((vector_size(64)));
using F8 = float __attribute__((vector_size(32)));

inline D8 load8(const float* p) {
  F8 f;
  std::memcpy(&f, p, sizeof f);
  return __builtin_convertvector(f, D8);
}
inline void store8(float* p, D8 v) {
  const F8 f = __builtin_convertvector(v, F8);
  std::memcpy(p, &f, sizeof f);
}

void scaledSumRow(const float* x, double alpha, const float* y, const float* z, int64_t len, float* out) {
  int64_t i = 0;
  for (; i + 8 <= len; i += 8) store8(out + i, load8(x + i) * alpha + load8(y + i) + load8(z + i));
  for (; i < len; ++i) out[i] = static_cast<float>(double{x[i]} * alpha + double{y[i]} + double{z[i]});
}

void scaledSumOuterRow(const float* x, double alpha, const float* y, const double* c, const float* b, int64_t k, int64_t ldb,
                       int64_t len, float* out) {
  int64_t i = 0;
  for (; i + 8 <= len; i += 8) {
    D8 acc{};
    for (int64_t r = 0; r < k; ++r) acc += c[r] * load8(b + r * ldb + i);
    store8(out + i, load8(x + i) * alpha + load8(y + i) + acc);
  }
  for (; i < len; ++i) {
    double acc = 0;
    for (int64_t r = 0; r < k; ++r) acc += c[r] * double{b[r * ldb + i]};
    out[i] = static_cast<float>(double{x[i]} * alpha + double{y[i]} + acc);
  }
}

const spur::LissaIsaKernels kKernels{scaledSumRow, scaledSumOuterRow};
