// Batch norm, one channel per task: a channel's statistics and its outputs depend on no
// other channel, so channels split over the pool with no shared writes.
#include "batchnorm.h"

#include <algorithm>
#include <cmath>

#include "batchnorm_isa.h"
#include "threadpool.h"

namespace spur {
namespace {

inline int64_t channelGrain(int64_t n, int64_t s) {
  const int64_t work = n * s;
  return work >= (1 << 14) ? 1 : (1 << 14) / (work > 0 ? work : 1);
}

// The sums over a channel run in kBnLanes double lanes (batchnorm_isa.h), vectorized:
// one chain of double adds waited on each add's latency (~5 ms per 16-channel layer of
// ResNet20 at batch 128).
double laneTotal(const double* lanes) {
  double t = 0.0;
  for (int j = 0; j < kBnLanes; ++j) t += lanes[j];
  return t;
}

}  // namespace

void batchNorm(const float* x, const float* gamma, const float* beta, int64_t n, int64_t c, int64_t s,
               bool training, double momentum, double eps, float* runningMean, float* runningVar,
               float* out, float* saveMean, float* saveInvStd, bool relu) {
  const double count = static_cast<double>(n * s);
  const BnIsaKernels& K = bnKernels();
  parallelFor(c, channelGrain(n, s), [&](int64_t c0, int64_t c1, int) {
    for (int64_t ch = c0; ch < c1; ++ch) {
      double mean, variance;
      if (training) {
        // One pass over the channel for both moments, about its first value: the
        // variance is then S2/n - (S1/n)^2 with no cancellation unless the values sit
        // far from the first one relative to their spread (the reference's two passes
        // agree to double rounding on any data a network makes).
        const double shift = x[ch * s];
        double s1[kBnLanes] = {}, s2[kBnLanes] = {};
        for (int64_t b = 0; b < n; ++b) K.moments(x + (b * c + ch) * s, s, shift, s1, s2);
        const double m1 = laneTotal(s1) / count;
        mean = shift + m1;
        variance = std::max(0.0, laneTotal(s2) / count - m1 * m1);
        // Running variance uses the unbiased estimate, as PyTorch.
        const double unbiased = count > 1 ? variance * count / (count - 1) : variance;
        runningMean[ch] = static_cast<float>((1 - momentum) * runningMean[ch] + momentum * mean);
        runningVar[ch] = static_cast<float>((1 - momentum) * runningVar[ch] + momentum * unbiased);
      } else {
        mean = runningMean[ch];
        variance = runningVar[ch];
      }
      const double invStd = 1.0 / std::sqrt(variance + eps);
      saveMean[ch] = static_cast<float>(mean);
      saveInvStd[ch] = static_cast<float>(invStd);
      const double scale = invStd * gamma[ch], shift = beta[ch];
      for (int64_t b = 0; b < n; ++b) K.normalize(x + (b * c + ch) * s, s, mean, scale, shift, relu, out + (b * c + ch) * s);
    }
  });
}

void batchNormBackward(const float* x, const float* dy, const float* gamma, const float* saveMean,
                       const float* saveInvStd, int64_t n, int64_t c, int64_t s, bool training,
                       float* dx, float* dgamma, float* dbeta, const float* reluOut) {
  const double count = static_cast<double>(n * s);
  const BnIsaKernels& K = bnKernels();
  parallelFor(c, channelGrain(n, s), [&](int64_t c0, int64_t c1, int) {
    for (int64_t ch = c0; ch < c1; ++ch) {
      const double mean = saveMean[ch], invStd = saveInvStd[ch];
      double s1[kBnLanes] = {}, s2[kBnLanes] = {};
      for (int64_t b = 0; b < n; ++b) {
        const int64_t at = (b * c + ch) * s;
        K.gradSums(x + at, dy + at, reluOut == nullptr ? nullptr : reluOut + at, s, mean, s1, s2);
      }
      const double sumDy = laneTotal(s1), sumDyXhat = laneTotal(s2) * invStd;
      dbeta[ch] = static_cast<float>(sumDy);
      dgamma[ch] = static_cast<float>(sumDyXhat);
      const double g = gamma[ch];
      // training: dx = k (count dy - sumDy - xhat sumDyXhat) = a dy + bx x + c0 per channel;
      // eval: the statistics are constants, dx = g invStd dy
      const double k = g * invStd / count;
      const double a = training ? k * count : g * invStd, bx = -k * invStd * sumDyXhat, c0 = -k * sumDy - bx * mean;
      for (int64_t b = 0; b < n; ++b) {
        const int64_t at = (b * c + ch) * s;
        K.inputGrad(training ? x + at : nullptr, dy + at, reluOut == nullptr ? nullptr : reluOut + at, s, a, bx, c0, dx + at);
      }
    }
  });
}

}  // namespace spur
