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

// Skinny products with M <= 4 rows of A, where packing B would cost as much as the
// product itself (the batch-1 matvecs of Hessian-vector products). xs: M vectors of
// length k, xs[i * k + p]; out: [M, n] with row stride ldo.

// mat: [n, k] (row stride ld), rows are dot products: out[i, r] = dot(xs[i], mat[r, :]).
// Two rows of mat at a time share each load of the M vectors.
template <int M>
void dotRowsT(int64_t n, int64_t k, const float* xs, const float* mat, int64_t ld, float* out, int64_t ldo) {
  constexpr int W = Vec::W;
  int64_t r = 0;
  for (; r + 2 <= n; r += 2) {
    const float* m0 = mat + r * ld;
    const float* m1 = m0 + ld;
    typename Vec::V s0[M], s1[M];
    for (int i = 0; i < M; ++i) s0[i] = s1[i] = Vec::zero();
    int64_t p = 0;
    for (; p + W <= k; p += W) {
      const typename Vec::V a = Vec::load(m0 + p), b = Vec::load(m1 + p);
      for (int i = 0; i < M; ++i) {
        const typename Vec::V xv = Vec::load(xs + i * k + p);
        s0[i] = Vec::fma(xv, a, s0[i]);
        s1[i] = Vec::fma(xv, b, s1[i]);
      }
    }
    for (int i = 0; i < M; ++i) {
      float t0 = Vec::hsum(s0[i]), t1 = Vec::hsum(s1[i]);
      for (int64_t q = p; q < k; ++q) {
        t0 += xs[i * k + q] * m0[q];
        t1 += xs[i * k + q] * m1[q];
      }
      out[i * ldo + r] = t0;
      out[i * ldo + r + 1] = t1;
    }
  }
  for (; r < n; ++r) {
    const float* m0 = mat + r * ld;
    for (int i = 0; i < M; ++i) {
      typename Vec::V s = Vec::zero();
      int64_t p = 0;
      for (; p + W <= k; p += W) s = Vec::fma(Vec::load(xs + i * k + p), Vec::load(m0 + p), s);
      float t = Vec::hsum(s);
      for (; p < k; ++p) t += xs[i * k + p] * m0[p];
      out[i * ldo + r] = t;
    }
  }
}

// mat: [k, n] (row stride ld), rows are swept: out[i, j] = sum_p xs[i][p] * mat[p, j].
// A strip of NV vectors per output row stays in registers while the k rows stream past.
template <int M, int NV>
void axpyStrip(int64_t k, const float* xs, const float* mat, int64_t ld, float* out, int64_t ldo) {
  constexpr int W = Vec::W;
  typename Vec::V s[M][NV];
  for (int i = 0; i < M; ++i)
    for (int v = 0; v < NV; ++v) s[i][v] = Vec::zero();
  for (int64_t p = 0; p < k; ++p) {
    const float* row = mat + p * ld;
    typename Vec::V b[NV];
    for (int v = 0; v < NV; ++v) b[v] = Vec::load(row + v * W);
    for (int i = 0; i < M; ++i) {
      const typename Vec::V xv = Vec::bcast(xs[i * k + p]);
      for (int v = 0; v < NV; ++v) s[i][v] = Vec::fma(xv, b[v], s[i][v]);
    }
  }
  for (int i = 0; i < M; ++i)
    for (int v = 0; v < NV; ++v) Vec::store(out + i * ldo + v * W, s[i][v]);
}

template <int M>
void axpyRowsT(int64_t k, int64_t n, const float* xs, const float* mat, int64_t ld, float* out, int64_t ldo) {
  constexpr int W = Vec::W;
  constexpr int NV = M <= 2 ? 4 : 2;  // M * NV accumulators + NV loads fit the registers
  int64_t j = 0;
  for (; j + NV * W <= n; j += NV * W) axpyStrip<M, NV>(k, xs, mat + j, ld, out + j, ldo);
  for (; j + W <= n; j += W) axpyStrip<M, 1>(k, xs, mat + j, ld, out + j, ldo);
  for (; j < n; ++j)
    for (int i = 0; i < M; ++i) {
      float t = 0.0f;
      for (int64_t p = 0; p < k; ++p) t += xs[i * k + p] * mat[p * ld + j];
      out[i * ldo + j] = t;
    }
}

template <int MR, int NV>
spur::GemmIsaKernels makeKernels(int64_t mc, int64_t kc, int64_t nc) {
  constexpr int NR = NV * Vec::W;
  return spur::GemmIsaKernels{MR, NR, mc, kc, nc, &microKernel<MR, NV>, &packA<MR>, &packB<NR>,
                              {&dotRowsT<1>, &dotRowsT<2>, &dotRowsT<3>, &dotRowsT<4>},
                              {&axpyRowsT<1>, &axpyRowsT<2>, &axpyRowsT<3>, &axpyRowsT<4>}};
}

}  // namespace
