#include "softmax.h"

#include <cmath>

#include "threadpool.h"

namespace spur {
namespace {

constexpr int64_t kGrainElems = 1 << 14;

inline int64_t rowGrain(int64_t cols) { return cols >= kGrainElems ? 1 : kGrainElems / cols; }

// The row max and the sum of exp(x - max), in double as the reference does.
inline double rowStats(const float* x, int64_t cols, double* sum) {
  float mx = x[0];
  for (int64_t j = 1; j < cols; ++j) mx = x[j] > mx ? x[j] : mx;
  double s = 0.0;
  for (int64_t j = 0; j < cols; ++j) s += std::exp(double{x[j]} - mx);
  *sum = s;
  return mx;
}

}  // namespace

void softmax(const float* x, int64_t rows, int64_t cols, float* out) {
  parallelFor(rows, rowGrain(cols), [&](int64_t r0, int64_t r1, int) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* xr = x + r * cols;
      float* o = out + r * cols;
      double sum;
      const double mx = rowStats(xr, cols, &sum);
      for (int64_t j = 0; j < cols; ++j) o[j] = static_cast<float>(std::exp(double{xr[j]} - mx) / sum);
    }
  });
}

void logSoftmax(const float* x, int64_t rows, int64_t cols, float* out) {
  parallelFor(rows, rowGrain(cols), [&](int64_t r0, int64_t r1, int) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* xr = x + r * cols;
      float* o = out + r * cols;
      double sum;
      const double lse = rowStats(xr, cols, &sum);
      const double shift = lse + std::log(sum);
      for (int64_t j = 0; j < cols; ++j) o[j] = static_cast<float>(double{xr[j]} - shift);
    }
  });
}

void softmaxCrossEntropy(const float* logits, const int32_t* labels, int64_t rows, int64_t cols,
                         float* loss, float* probs) {
  parallelFor(rows, rowGrain(cols), [&](int64_t r0, int64_t r1, int) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* xr = logits + r * cols;
      float* p = probs + r * cols;
      double sum;
      const double mx = rowStats(xr, cols, &sum);
      // The loss reads the logits first, so probs may overwrite them.
      loss[r] = static_cast<float>(mx + std::log(sum) - double{xr[labels[r]]});
      for (int64_t j = 0; j < cols; ++j) p[j] = static_cast<float>(std::exp(double{xr[j]} - mx) / sum);
    }
  });
}

}  // namespace spur
