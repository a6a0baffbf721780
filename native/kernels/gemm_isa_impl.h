// Templates behind GemmIsaKernels. Include only from gemm_{generic,avx2,avx512}.cc after
// `#pragma GCC target(...)` and after defining `struct Vec` (the vector traits: V, W,
// zero, load, store, bcast, fma, add, max, hsum), so every function here is compiled for
// that ISA alone and nothing leaks into the baseline code.

namespace {

using spur::kLoadC;
using spur::kRelu;

// c[mr, nr] (op)= packed a[kc][MR] x packed b[kc][NV*W]: MR*NV accumulators stay in
// registers for the whole kc loop; C is touched once, in the epilogue.
template <int MR, int NV>
void microKernel(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int flags,
                 const float* bias, const float* rowBias) {
  constexpr int W = Vec::W;
  constexpr int NR = NV * W;
  typename Vec::V acc[MR][NV];
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NV; ++j) acc[i][j] = Vec::zero();
  // The C tile is touched only after the k loop: start pulling its lines in now.
  for (int i = 0; i < MR; ++i) {
    __builtin_prefetch(c + i * ldc, 1);
    __builtin_prefetch(c + i * ldc + NR - 1, 1);
  }
#pragma GCC unroll 4
  for (int64_t p = 0; p < kc; ++p) {
    typename Vec::V bv[NV];
    for (int j = 0; j < NV; ++j) bv[j] = Vec::load(b + j * W);
    for (int i = 0; i < MR; ++i) {
      typename Vec::V av = Vec::bcast(a[i]);
      for (int j = 0; j < NV; ++j) acc[i][j] = Vec::fma(av, bv[j], acc[i][j]);
    }
    a += MR;
    b += NR;
  }
  for (int i = 0; i < MR; ++i) {
    float* row = c + i * ldc;
    const typename Vec::V rb = rowBias != nullptr ? Vec::bcast(rowBias[i]) : Vec::zero();
    for (int j = 0; j < NV; ++j) {
      typename Vec::V r = acc[i][j];
      if (flags & kLoadC) r = Vec::add(Vec::load(row + j * W), r);
      if (bias != nullptr) r = Vec::add(r, Vec::load(bias + j * W));
      if (rowBias != nullptr) r = Vec::add(r, rb);
      if (flags & kRelu) r = Vec::max(r, Vec::zero());
      Vec::store(row + j * W, r);
    }
  }
}

template <int MR>
void packA(int64_t mc, int64_t kc, const float* a, int64_t rs, int64_t cs, float* out) {
  for (int64_t i0 = 0; i0 < mc; i0 += MR) {
    int rows = mc - i0 < MR ? static_cast<int>(mc - i0) : MR;
    const float* src = a + i0 * rs;
    if (rs == 1 && rows == MR) {  // transposed A: each k holds MR adjacent values
      for (int64_t p = 0; p < kc; ++p)
        for (int i = 0; i < MR; ++i) out[p * MR + i] = src[p * cs + i];
    } else {
      for (int i = 0; i < rows; ++i) {
        const float* r = src + i * rs;
        for (int64_t p = 0; p < kc; ++p) out[p * MR + i] = r[p * cs];
      }
      for (int i = rows; i < MR; ++i)
        for (int64_t p = 0; p < kc; ++p) out[p * MR + i] = 0.0f;
    }
    out += kc * MR;
  }
}

template <int NR>
void packB(int64_t kc, int64_t nc, const float* b, int64_t rs, int64_t cs, float* out) {
  for (int64_t j0 = 0; j0 < nc; j0 += NR) {
    int cols = nc - j0 < NR ? static_cast<int>(nc - j0) : NR;
    const float* src = b + j0 * cs;
    if (cs == 1 && cols == NR) {  // row-major B: each k holds NR adjacent values
      for (int64_t p = 0; p < kc; ++p)
        for (int j = 0; j < NR; ++j) out[p * NR + j] = src[p * rs + j];
    } else {
      for (int j = 0; j < cols; ++j) {
        const float* col = src + j * cs;
        for (int64_t p = 0; p < kc; ++p) out[p * NR + j] = col[p * rs];
      }
      for (int j = cols; j < NR; ++j)
        for (int64_t p = 0; p < kc; ++p) out[p * NR + j] = 0.0f;
    }
    out += kc * NR;
  }
}

// Four rows at a time share each load of x.
void dotRows(int64_t rows, int64_t k, const float* x, const float* mat, int64_t ld, float* out) {
  constexpr int W = Vec::W;
  int64_t r = 0;
  for (; r + 4 <= rows; r += 4) {
    const float* m0 = mat + r * ld;
    typename Vec::V s0 = Vec::zero(), s1 = Vec::zero(), s2 = Vec::zero(), s3 = Vec::zero();
    int64_t p = 0;
    for (; p + W <= k; p += W) {
      typename Vec::V xv = Vec::load(x + p);
      s0 = Vec::fma(xv, Vec::load(m0 + p), s0);
      s1 = Vec::fma(xv, Vec::load(m0 + ld + p), s1);
      s2 = Vec::fma(xv, Vec::load(m0 + 2 * ld + p), s2);
      s3 = Vec::fma(xv, Vec::load(m0 + 3 * ld + p), s3);
    }
    float t0 = Vec::hsum(s0), t1 = Vec::hsum(s1), t2 = Vec::hsum(s2), t3 = Vec::hsum(s3);
    for (; p < k; ++p) {
      t0 += x[p] * m0[p];
      t1 += x[p] * m0[ld + p];
      t2 += x[p] * m0[2 * ld + p];
      t3 += x[p] * m0[3 * ld + p];
    }
    out[r] = t0; out[r + 1] = t1; out[r + 2] = t2; out[r + 3] = t3;
  }
  for (; r < rows; ++r) {
    const float* m0 = mat + r * ld;
    typename Vec::V s0 = Vec::zero();
    int64_t p = 0;
    for (; p + W <= k; p += W) s0 = Vec::fma(Vec::load(x + p), Vec::load(m0 + p), s0);
    float t0 = Vec::hsum(s0);
    for (; p < k; ++p) t0 += x[p] * m0[p];
    out[r] = t0;
  }
}

// Column blocks of 4 vectors stay in registers while the k rows stream past.
void axpyRows(int64_t k, int64_t n, const float* x, const float* mat, int64_t ld, float* out) {
  constexpr int W = Vec::W;
  int64_t j = 0;
  for (; j + 4 * W <= n; j += 4 * W) {
    typename Vec::V s0 = Vec::zero(), s1 = Vec::zero(), s2 = Vec::zero(), s3 = Vec::zero();
    for (int64_t p = 0; p < k; ++p) {
      const float* row = mat + p * ld + j;
      typename Vec::V xv = Vec::bcast(x[p]);
      s0 = Vec::fma(xv, Vec::load(row), s0);
      s1 = Vec::fma(xv, Vec::load(row + W), s1);
      s2 = Vec::fma(xv, Vec::load(row + 2 * W), s2);
      s3 = Vec::fma(xv, Vec::load(row + 3 * W), s3);
    }
    Vec::store(out + j, s0);
    Vec::store(out + j + W, s1);
    Vec::store(out + j + 2 * W, s2);
    Vec::store(out + j + 3 * W, s3);
  }
  for (; j + W <= n; j += W) {
    typename Vec::V s0 = Vec::zero();
    for (int64_t p = 0; p < k; ++p) s0 = Vec::fma(Vec::bcast(x[p]), Vec::load(mat + p * ld + j), s0);
    Vec::store(out + j, s0);
  }
  for (; j < n; ++j) {
    float s = 0.0f;
    for (int64_t p = 0; p < k; ++p) s += x[p] * mat[p * ld + j];
    out[j] = s;
  }
}

template <int MR, int NV>
spur::GemmIsaKernels makeKernels(int64_t mc, int64_t kc, int64_t nc) {
  constexpr int NR = NV * Vec::W;
  return spur::GemmIsaKernels{MR, NR, mc, kc, nc, &microKernel<MR, NV>, &packA<MR>, &packB<NR>,
                              &dotRows, &axpyRows};
}

}  // namespace
