#include "gemm.h"

#include <algorithm>
#include <cstdlib>
#include <utility>
#include <vector>

#include "cpu.h"
#include "gemm_isa.h"
#include "threadpool.h"

namespace spur {
namespace {

// Below this many multiply-adds a GEMM stays on the calling thread: waking a worker costs
// more than it saves (batch-1 matvecs of the Hessian-vector products live here).
constexpr double kParallelMinMacs = 1 << 18;
// Skinny products stream B once and have no packing to amortise: two threads pay off
// much earlier.
constexpr double kSkinnyParallelMacs = 1 << 15;

const GemmIsaKernels& isaKernels() {
  switch (activeIsa()) {
    case Isa::Avx512: return gemmKernelsAvx512();
    case Isa::Avx2: return gemmKernelsAvx2();
    default: return gemmKernelsGeneric();
  }
}

// Per-thread packing buffers, grown on demand and kept: every GEMM after the first in a
// training run allocates nothing.
struct PackBuffer {
  float* data = nullptr;
  size_t cap = 0;
  ~PackBuffer() { std::free(data); }
  float* get(size_t n) {
    if (n > cap) {
      std::free(data);
      size_t bytes = (n * sizeof(float) + 63) / 64 * 64;
      data = static_cast<float*>(std::aligned_alloc(64, bytes));
      if (data == nullptr) throw std::bad_alloc();
      cap = n;
    }
    return data;
  }
};
thread_local PackBuffer tPackA, tPackB, tVec, tOut;

// Applies the epilogue to one value (row i, column j) computed outside the micro-kernel.
inline float finish(float acc, float old, const GemmEpilogue& ep, const float* bias, int64_t i, int64_t j) {
  float v = ep.accumulate ? old + acc : acc;
  if (bias != nullptr) v += bias[j];
  if (ep.rowBias != nullptr) v += ep.rowBias[i];
  if (ep.relu) v = v > 0.0f ? v : 0.0f;
  return v;
}

// A product with at most kSkinnyRows rows of A, or columns of B (then computed as C^T =
// B^T A^T), without packing: B streams past the few rows of A once. This is where the
// batch-1 matvecs of Hessian-vector products live. Returns false when B's layout (neither
// stride 1) needs the packed path.
struct Skinny {
  const GemmIsaKernels* K;
  int64_t m, n, k;
  const float* xs;  // the m rows of A, contiguous: xs[i * k + p]
  MatView b;
  float* c;
  int64_t crs, ccs;  // C's strides (ccs = 1 unless the product was transposed)
  const GemmEpilogue* ep;
  float* tmp;  // [m, n] staging for the epilogue, or null to write C directly (ldo = crs)
};

constexpr int64_t kSkinnyStrip = 32;  // columns per work item: whole register strips

void skinnyColumns(const Skinny& s, int64_t j0, int64_t j1) {
  float* out = s.tmp != nullptr ? s.tmp + j0 : s.c + j0;
  const int64_t ldo = s.tmp != nullptr ? s.n : s.crs;
  const int rows = static_cast<int>(s.m) - 1;
  if (s.b.rs == 1) s.K->dotRows[rows](j1 - j0, s.k, s.xs, s.b.data + j0 * s.b.cs, s.b.cs, out, ldo);
  else s.K->axpyRows[rows](s.k, j1 - j0, s.xs, s.b.data + j0, s.b.rs, out, ldo);
  if (s.tmp == nullptr) return;
  for (int64_t i = 0; i < s.m; ++i)
    for (int64_t j = j0; j < j1; ++j) {
      float* dst = s.c + i * s.crs + j * s.ccs;
      *dst = finish(s.tmp[i * s.n + j], *dst, *s.ep, s.ep->colBias, i, j);
    }
}

bool skinnyGemm(const GemmIsaKernels& K, int64_t m, int64_t n, int64_t k, MatView a, MatView b,
                float* c, int64_t ldc, const GemmEpilogue& ep, bool parallel) {
  int64_t crs = ldc, ccs = 1;
  GemmEpilogue e = ep;
  if (m > kSkinnyRows) {  // few columns: C^T = B^T A^T, the biases trade places
    std::swap(m, n);
    std::swap(a, b);
    std::swap(a.rs, a.cs);
    std::swap(b.rs, b.cs);
    std::swap(crs, ccs);
    std::swap(e.colBias, e.rowBias);
  }
  if (b.rs != 1 && b.cs != 1) return false;
  const float* xs = a.data;
  if (!(a.cs == 1 && (a.rs == k || m == 1))) {
    float* t = tVec.get(static_cast<size_t>(m * k));
    for (int64_t i = 0; i < m; ++i)
      for (int64_t p = 0; p < k; ++p) t[i * k + p] = a.data[i * a.rs + p * a.cs];
    xs = t;
  }
  const bool plain = !e.accumulate && e.colBias == nullptr && e.rowBias == nullptr && !e.relu && ccs == 1;
  float* tmp = plain ? nullptr : tOut.get(static_cast<size_t>(m * n));
  Skinny s{&K, m, n, k, xs, b, c, crs, ccs, &e, tmp};
  const int64_t strips = (n + kSkinnyStrip - 1) / kSkinnyStrip;
  const int threads = parallel && static_cast<double>(m) * n * k >= kSkinnyParallelMacs ? poolThreads() : 1;
  parallelForChunks(strips, threads, [&s](int64_t s0, int64_t s1, int) {
    skinnyColumns(s, s0 * kSkinnyStrip, std::min(s.n, s1 * kSkinnyStrip));
  });
  return true;
}

// A product of rank k <= kSkinnyRows (the outer products of per-example gradients):
// each row of C is a combination of the k rows of B, written once; rows are split over
// the pool. Returns false unless B's rows are contiguous.
bool outerGemm(const GemmIsaKernels& K, int64_t m, int64_t n, int64_t k, MatView a, MatView b,
               float* c, int64_t ldc, const GemmEpilogue& ep, bool parallel) {
  if (b.cs != 1) return false;
  const bool plain = !ep.accumulate && ep.colBias == nullptr && ep.rowBias == nullptr && !ep.relu;
  const int threads = parallel && static_cast<double>(m) * n * k >= kSkinnyParallelMacs ? poolThreads() : 1;
  parallelForChunks(m, threads, [&](int64_t i0, int64_t i1, int) {
    float coef[kSkinnyRows];
    float* staged = plain ? nullptr : tOut.get(static_cast<size_t>(n));
    for (int64_t i = i0; i < i1; ++i) {
      for (int64_t p = 0; p < k; ++p) coef[p] = a.data[i * a.rs + p * a.cs];
      float* row = c + i * ldc;
      K.axpyRows[0](k, n, coef, b.data, b.rs, plain ? row : staged, n);
      if (!plain)
        for (int64_t j = 0; j < n; ++j) row[j] = finish(staged[j], row[j], ep, ep.colBias, i, j);
    }
  });
  return true;
}

// BLIS loop order: B panels (nc x kc) outermost, then A blocks (mc x kc), then micro-tiles.
// packedOnly: a tile of a larger product takes the packed path even when it is skinny
// itself, so that every element is summed in the same order whatever the tiling (the
// thread count) is.
void gemmSerial(const GemmIsaKernels& K, int64_t m, int64_t n, int64_t k, MatView a, MatView b,
                float* c, int64_t ldc, const GemmEpilogue& ep, bool packedOnly = false) {
  if (m <= 0 || n <= 0) return;
  if (!packedOnly && (m <= kSkinnyRows || n <= kSkinnyRows) && skinnyGemm(K, m, n, k, a, b, c, ldc, ep, false)) return;
  if (!packedOnly && k <= kSkinnyRows && outerGemm(K, m, n, k, a, b, c, ldc, ep, false)) return;
  const int mr = K.mr, nr = K.nr;
  // Equal k blocks (288 -> 144 + 144, not 256 + 32): a short last block pays the C tile
  // load and store for little work.
  const int64_t kBlocks = (k + K.kc - 1) / K.kc;
  const int64_t kcMax = std::max<int64_t>(1, (k + kBlocks - 1) / std::max<int64_t>(1, kBlocks));
  const int64_t ncMax = std::min<int64_t>(K.nc, (n + nr - 1) / nr * nr);
  const int64_t mcMax = std::min<int64_t>(K.mc, (m + mr - 1) / mr * mr);
  float* pb = tPackB.get(static_cast<size_t>(kcMax * ((ncMax + nr - 1) / nr * nr)));
  float* pa = tPackA.get(static_cast<size_t>(kcMax * ((mcMax + mr - 1) / mr * mr)));
  alignas(64) float edge[32 * 32];

  for (int64_t jc = 0; jc < n; jc += K.nc) {
    const int64_t nc = std::min<int64_t>(K.nc, n - jc);
    for (int64_t pc = 0; pc < k; pc += kcMax) {
      const int64_t kc = std::min<int64_t>(kcMax, k - pc);
      const bool loadC = ep.accumulate || pc > 0;
      const bool last = pc + kc >= k;
      const int flags = (loadC ? kLoadC : 0) | (last && ep.relu ? kRelu : 0);
      K.packB(kc, nc, b.data + pc * b.rs + jc * b.cs, b.rs, b.cs, pb);
      for (int64_t ic = 0; ic < m; ic += K.mc) {
        const int64_t mc = std::min<int64_t>(K.mc, m - ic);
        K.packA(mc, kc, a.data + ic * a.rs + pc * a.cs, a.rs, a.cs, pa);
        for (int64_t jr = 0; jr < nc; jr += nr) {
          const int64_t cols = std::min<int64_t>(nr, nc - jr);
          const float* bsl = pb + jr * kc;
          const int64_t j0 = jc + jr;
          const float* bias = last && ep.colBias != nullptr ? ep.colBias + j0 : nullptr;
          for (int64_t ir = 0; ir < mc; ir += mr) {
            const int64_t rows = std::min<int64_t>(mr, mc - ir);
            const float* asl = pa + ir * kc;
            float* ct = c + (ic + ir) * ldc + j0;
            const float* rowBias = last && ep.rowBias != nullptr ? ep.rowBias + ic + ir : nullptr;
            if (rows == mr && cols == nr) {
              K.micro(kc, asl, bsl, ct, ldc, flags, bias, rowBias);
              continue;
            }
            K.micro(kc, asl, bsl, edge, nr, 0, nullptr, nullptr);
            GemmEpilogue tail{loadC, bias, rowBias, last && ep.relu};
            for (int64_t i = 0; i < rows; ++i)
              for (int64_t j = 0; j < cols; ++j)
                ct[i * ldc + j] = finish(edge[i * nr + j], ct[i * ldc + j], tail, bias, i, j);
          }
        }
      }
    }
  }
}

struct ParallelGemm {
  const GemmIsaKernels* K;
  int64_t m, n, k;
  MatView a, b;
  float* c;
  int64_t ldc;
  const GemmEpilogue* ep;
  int tn;
  int64_t rowsPer, colsPer;
};

void runTile(void* p, int chunk) {
  const ParallelGemm& g = *static_cast<ParallelGemm*>(p);
  const int64_t i0 = (chunk / g.tn) * g.rowsPer, j0 = (chunk % g.tn) * g.colsPer;
  if (i0 >= g.m || j0 >= g.n) return;
  const int64_t mi = std::min(g.rowsPer, g.m - i0), nj = std::min(g.colsPer, g.n - j0);
  GemmEpilogue ep = *g.ep;
  if (ep.colBias != nullptr) ep.colBias += j0;
  if (ep.rowBias != nullptr) ep.rowBias += i0;
  MatView a{g.a.data + i0 * g.a.rs, g.a.rs, g.a.cs};
  MatView b{g.b.data + j0 * g.b.cs, g.b.rs, g.b.cs};
  gemmSerial(*g.K, mi, nj, g.k, a, b, g.c + i0 * g.ldc + j0, g.ldc, ep, true);
}

}  // namespace

void sgemm(int64_t m, int64_t n, int64_t k, MatView a, MatView b, float* c, int64_t ldc,
           const GemmEpilogue& ep, bool parallel) {
  const GemmIsaKernels& K = isaKernels();
  if (m <= 0 || n <= 0) return;
  if ((m <= kSkinnyRows || n <= kSkinnyRows) && skinnyGemm(K, m, n, k, a, b, c, ldc, ep, parallel)) return;
  if (k <= kSkinnyRows && outerGemm(K, m, n, k, a, b, c, ldc, ep, parallel)) return;
  const int threads = parallel ? poolThreads() : 1;
  if (threads <= 1 || static_cast<double>(m) * n * k < kParallelMinMacs) {
    gemmSerial(K, m, n, k, a, b, c, ldc, ep);
    return;
  }
  // Each thread owns a rectangle of C (no shared writes, so the result does not depend
  // on timing); pick the grid whose tiles have the smallest perimeter, i.e. the least
  // packing per thread.
  int bestTm = 1;
  double bestCost = -1;
  for (int tm = 1; tm <= threads; ++tm) {
    if (threads % tm != 0) continue;
    const int tn = threads / tm;
    if ((tm > 1 && m < tm * K.mr) || (tn > 1 && n < tn * K.nr)) continue;
    const double cost = static_cast<double>(m) / tm + static_cast<double>(n) / tn;
    if (bestCost < 0 || cost < bestCost) { bestCost = cost; bestTm = tm; }
  }
  if (bestCost < 0) {
    gemmSerial(K, m, n, k, a, b, c, ldc, ep);
    return;
  }
  const int tm = bestTm, tn = threads / tm;
  const int64_t rowsPer = ((m + tm - 1) / tm + K.mr - 1) / K.mr * K.mr;
  const int64_t colsPer = ((n + tn - 1) / tn + K.nr - 1) / K.nr * K.nr;
  ParallelGemm g{&K, m, n, k, a, b, c, ldc, &ep, tn, rowsPer, colsPer};
  poolRun(tm * tn, &runTile, &g);
}

void sgemmRowMajor(bool transA, bool transB, int64_t m, int64_t n, int64_t k, const float* a,
                   const float* b, float* c, const GemmEpilogue& ep, bool parallel) {
  MatView av = transA ? MatView{a, 1, m} : MatView{a, k, 1};
  MatView bv = transB ? MatView{b, 1, k} : MatView{b, n, 1};
  sgemm(m, n, k, av, bv, c, n, ep, parallel);
}

}  // namespace spur
