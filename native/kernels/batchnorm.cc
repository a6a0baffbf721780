// Batch norm, one channel per task: a channel's statistics and its outputs depend on no
// other channel, so channels split over the pool with no shared writes.
#include "batchnorm.h"

#include <cmath>

#include "threadpool.h"

namespace spur {
namespace {

inline int64_t channelGrain(int64_t n, int64_t s) {
  const int64_t work = n * s;
  return work >= (1 << 14) ? 1 : (1 << 14) / (work > 0 ? work : 1);
}

}  // namespace

void batchNorm(const float* x, const float* gamma, const float* beta, int64_t n, int64_t c, int64_t s,
               bool training, double momentum, double eps, float* runningMean, float* runningVar,
               float* out, float* saveMean, float* saveInvStd) {
  const double count = static_cast<double>(n * s);
  parallelFor(c, channelGrain(n, s), [&](int64_t c0, int64_t c1, int) {
    for (int64_t ch = c0; ch < c1; ++ch) {
      double mean, variance;
      if (training) {
        double sum = 0.0;
        for (int64_t b = 0; b < n; ++b) {
          const float* xc = x + (b * c + ch) * s;
          for (int64_t i = 0; i < s; ++i) sum += xc[i];
        }
        mean = sum / count;
        double sq = 0.0;
        for (int64_t b = 0; b < n; ++b) {
          const float* xc = x + (b * c + ch) * s;
          for (int64_t i = 0; i < s; ++i) {
            const double d = xc[i] - mean;
            sq += d * d;
          }
        }
        variance = sq / count;
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
      for (int64_t b = 0; b < n; ++b) {
        const float* xc = x + (b * c + ch) * s;
        float* oc = out + (b * c + ch) * s;
        for (int64_t i = 0; i < s; ++i) oc[i] = static_cast<float>((xc[i] - mean) * scale + shift);
      }
    }
  });
}

void batchNormBackward(const float* x, const float* dy, const float* gamma, const float* saveMean,
                       const float* saveInvStd, int64_t n, int64_t c, int64_t s, bool training,
                       float* dx, float* dgamma, float* dbeta) {
  const double count = static_cast<double>(n * s);
  parallelFor(c, channelGrain(n, s), [&](int64_t c0, int64_t c1, int) {
    for (int64_t ch = c0; ch < c1; ++ch) {
      const double mean = saveMean[ch], invStd = saveInvStd[ch];
      double sumDy = 0.0, sumDyXhat = 0.0;
      for (int64_t b = 0; b < n; ++b) {
        const float* xc = x + (b * c + ch) * s;
        const float* dyc = dy + (b * c + ch) * s;
        for (int64_t i = 0; i < s; ++i) {
          sumDy += dyc[i];
          sumDyXhat += dyc[i] * ((xc[i] - mean) * invStd);
        }
      }
      dbeta[ch] = static_cast<float>(sumDy);
      dgamma[ch] = static_cast<float>(sumDyXhat);
      const double g = gamma[ch];
      for (int64_t b = 0; b < n; ++b) {
        const float* xc = x + (b * c + ch) * s;
        const float* dyc = dy + (b * c + ch) * s;
        float* dxc = dx + (b * c + ch) * s;
        if (training) {
          const double k = g * invStd / count;
          for (int64_t i = 0; i < s; ++i) {
            const double xhat = (xc[i] - mean) * invStd;
            dxc[i] = static_cast<float>(k * (count * dyc[i] - sumDy - xhat * sumDyXhat));
          }
        } else {
          const double k = g * invStd;
          for (int64_t i = 0; i < s; ++i) dxc[i] = static_cast<float>(dyc[i] * k);
        }
      }
    }
  });
}

}  // namespace spur
