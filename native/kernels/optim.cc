// Fused optimizer steps: one pass over the parameters instead of PyTorch's chain of
// foreach kernels, with the same float32 arithmetic per element and the step-dependent
// scalars (bias corrections) computed once in double, as Python floats are.
#include "optim.h"

#include <cmath>

#include "threadpool.h"

namespace spur {
namespace {

constexpr int64_t kGrain = 1 << 15;

inline float clipped(float g, float clip) {
  if (clip > 0.0f) g = g < -clip ? -clip : (g > clip ? clip : g);
  return g;
}

}  // namespace

void adamUpdate(float* param, const float* grad, float* m, float* v, int64_t len, const AdamArgs& a) {
  const double bc1 = 1.0 - std::pow(a.beta1, a.step);
  const double bc2Sqrt = std::sqrt(1.0 - std::pow(a.beta2, a.step));
  const float stepSize = static_cast<float>(a.lr / bc1);
  const float beta1 = static_cast<float>(a.beta1), beta2 = static_cast<float>(a.beta2);
  const float oneMinusBeta1 = static_cast<float>(1.0 - a.beta1), oneMinusBeta2 = static_cast<float>(1.0 - a.beta2);
  const float eps = static_cast<float>(a.eps), wd = static_cast<float>(a.weightDecay);
  const float clip = static_cast<float>(a.clip), bc2 = static_cast<float>(bc2Sqrt);
  parallelFor(len, kGrain, [&](int64_t i0, int64_t i1, int) {
    for (int64_t i = i0; i < i1; ++i) {
      float g = clipped(grad[i], clip);
      if (wd != 0.0f) g += wd * param[i];
      const float mi = beta1 * m[i] + oneMinusBeta1 * g;
      const float vi = beta2 * v[i] + oneMinusBeta2 * g * g;
      m[i] = mi;
      v[i] = vi;
      param[i] -= stepSize * mi / (std::sqrt(vi) / bc2 + eps);
    }
  });
}

void sgdUpdate(float* param, const float* grad, float* buf, int64_t len, const SgdArgs& a) {
  const float lr = static_cast<float>(a.lr), momentum = static_cast<float>(a.momentum);
  const float oneMinusDamp = static_cast<float>(1.0 - a.dampening);
  const float wd = static_cast<float>(a.weightDecay), clip = static_cast<float>(a.clip);
  const bool useMomentum = a.momentum != 0.0, nesterov = a.nesterov, first = a.firstStep;
  parallelFor(len, kGrain, [&](int64_t i0, int64_t i1, int) {
    for (int64_t i = i0; i < i1; ++i) {
      float g = clipped(grad[i], clip);
      if (wd != 0.0f) g += wd * param[i];
      if (useMomentum) {
        const float b = first ? g : momentum * buf[i] + oneMinusDamp * g;
        buf[i] = b;
        g = nesterov ? g + momentum * b : b;
      }
      param[i] -= lr * g;
    }
  });
}

}  // namespace spur
