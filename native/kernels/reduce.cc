#include "reduce.h"

#include <algorithm>
#include <limits>
#include <vector>

#include "strided.h"
#include "threadpool.h"

namespace spur {
namespace {

// The reduction with unit axes dropped and neighbours of the same kind merged, so the
// axes alternate kept/reduced; x and out strides follow from the merged shape.
struct ReduceDims {
  int nd = 0;
  int64_t shape[kMaxDims];
  bool reduced[kMaxDims];
  int64_t xStride[kMaxDims];
  int64_t outStride[kMaxDims];  // 0 on reduced axes
  int64_t outSize = 1;
};

ReduceDims simplify(const int64_t* shape, const bool* mask, int ndim) {
  ReduceDims r;
  for (int d = 0; d < ndim; ++d) {
    if (shape[d] == 1) continue;
    if (r.nd > 0 && r.reduced[r.nd - 1] == mask[d]) {
      r.shape[r.nd - 1] *= shape[d];
      continue;
    }
    r.shape[r.nd] = shape[d];
    r.reduced[r.nd] = mask[d];
    ++r.nd;
  }
  // Always two axes or more, the first one splittable across threads.
  while (r.nd < 2) {
    for (int d = r.nd; d > 0; --d) { r.shape[d] = r.shape[d - 1]; r.reduced[d] = r.reduced[d - 1]; }
    r.shape[0] = 1;
    r.reduced[0] = false;
    ++r.nd;
  }
  int64_t xs = 1, os = 1;
  for (int d = r.nd - 1; d >= 0; --d) {
    r.xStride[d] = xs;
    xs *= r.shape[d];
    r.outStride[d] = r.reduced[d] ? 0 : os;
    if (!r.reduced[d]) os *= r.shape[d];
  }
  r.outSize = os;
  return r;
}

// Folds x rows whose first-axis index is in [b, e) into acc (indexed like out); a row
// along a reduced inner axis goes through foldRow(acc, row, n).
template <class Acc, class Fold, class FoldRow>
void foldRange(const ReduceDims& r, const float* x, int64_t b, int64_t e, Acc* acc, const Fold& fold,
               const FoldRow& foldRow) {
  const int last = r.nd - 1;
  const int64_t inner = r.shape[last];
  const bool innerReduced = r.reduced[last];
  int64_t idx[kMaxDims] = {0};
  idx[0] = b;
  int64_t xOff = b * r.xStride[0], oOff = b * r.outStride[0];
  for (;;) {
    const float* row = x + xOff;
    if (innerReduced) {
      acc[oOff] = foldRow(acc[oOff], row, inner);
    } else {
      Acc* dst = acc + oOff;
      for (int64_t i = 0; i < inner; ++i) dst[i] = fold(dst[i], row[i]);
    }
    int d = last - 1;
    for (; d >= 0; --d) {
      xOff += r.xStride[d];
      oOff += r.outStride[d];
      const int64_t limit = d == 0 ? e : r.shape[d];
      if (++idx[d] < limit) break;
      const int64_t start = d == 0 ? b : 0;
      xOff -= r.xStride[d] * (idx[d] - start);
      oOff -= r.outStride[d] * (idx[d] - start);
      idx[d] = start;
    }
    if (d < 0) return;
  }
}

constexpr int64_t kReduceChunks = 8;

template <class Acc, class Fold, class FoldRow, class Combine>
void reduceImpl(const ReduceDims& r, const float* x, Acc init, const Fold& fold, const FoldRow& foldRow,
                const Combine& combine, float* out) {
  int64_t total = 1;
  for (int d = 0; d < r.nd; ++d) total *= r.shape[d];
  const int64_t grain = std::max<int64_t>(1, (int64_t{1} << 16) / std::max<int64_t>(1, total / r.shape[0]));
  // A kept first axis gives each chunk its own slice of out; a reduced one gives each
  // chunk a private accumulator, combined in chunk order. The chunks depend on the shape
  // alone, never on the pool's size, so a sum is the same at any thread count.
  const int chunks = static_cast<int>(std::min<int64_t>(kReduceChunks, (r.shape[0] + grain - 1) / grain));
  const bool privateAcc = r.reduced[0] && chunks > 1;
  std::vector<Acc> acc(static_cast<size_t>(r.outSize) * (privateAcc ? chunks : 1), init);
  parallelForChunks(r.shape[0], chunks, [&](int64_t b, int64_t e, int chunk) {
    foldRange(r, x, b, e, acc.data() + (privateAcc ? chunk * r.outSize : 0), fold, foldRow);
  });
  for (int64_t i = 0; i < r.outSize; ++i) {
    Acc v = acc[i];
    if (privateAcc)
      for (int c = 1; c < chunks; ++c) v = combine(v, acc[c * r.outSize + i]);
    out[i] = static_cast<float>(v);
  }
}

// acc + the sum of row[0, n) in four interleaved double accumulators: one chain of
// dependent adds would cost an add latency per element (the bias gradient of a conv
// layer sums planes of hundreds of pixels).
double sumRow(double acc, const float* row, int64_t n) {
  double s[4] = {0.0, 0.0, 0.0, 0.0};
  int64_t i = 0;
  for (; i + 4 <= n; i += 4)
    for (int j = 0; j < 4; ++j) s[j] += row[i + j];
  for (; i < n; ++i) s[0] += row[i];
  return acc + ((s[0] + s[1]) + (s[2] + s[3]));
}

}  // namespace

void reduce(ReduceOp op, const float* x, const int64_t* shape, const bool* mask, int ndim, float* out) {
  for (int d = 0; d < ndim; ++d)
    if (shape[d] == 0) {
      // An empty reduction: sum 0, max -Infinity (as the identity of each op).
      int64_t n = 1;
      for (int k = 0; k < ndim; ++k) n *= mask[k] ? 1 : shape[k];
      const float id = op == ReduceOp::Sum ? 0.0f : -std::numeric_limits<float>::infinity();
      for (int64_t i = 0; i < n; ++i) out[i] = id;
      return;
    }
  const ReduceDims r = simplify(shape, mask, ndim);
  if (op == ReduceOp::Sum) {
    auto add = [](double a, double v) { return a + v; };
    reduceImpl<double>(r, x, 0.0, add, sumRow, add, out);
  } else {
    // NaN wins, as Math.max; in order, so a tie keeps the first (the sign of a zero).
    auto mx = [](float a, float v) { return (v > a || v != v) ? v : a; };
    auto mxRow = [&](float a, const float* row, int64_t n) {
      for (int64_t i = 0; i < n; ++i) a = mx(a, row[i]);
      return a;
    };
    reduceImpl<float>(r, x, -std::numeric_limits<float>::infinity(), mx, mxRow, mx, out);
  }
}

}  // namespace spur
