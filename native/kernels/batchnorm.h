#pragma once

#include <cstdint>

namespace spur {

// x, out: [N, C, S]; gamma, beta, runningMean, runningVar, saveMean, saveInvStd: [C].
// Statistics in double; see src/backend/kernels.ts for the training/eval contract.
// relu: out = max(out, 0) in the same pass.
void batchNorm(const float* x, const float* gamma, const float* beta, int64_t n, int64_t c, int64_t s,
               bool training, double momentum, double eps, float* runningMean, float* runningVar,
               float* out, float* saveMean, float* saveInvStd, bool relu);
// x, dy, dx: [N, C, S]; gamma, saveMean, saveInvStd, dgamma, dbeta: [C]; reluOut: null or
// [N, C, S], batchNorm's output with relu (dy then counts where reluOut > 0)
void batchNormBackward(const float* x, const float* dy, const float* gamma, const float* saveMean,
                       const float* saveInvStd, int64_t n, int64_t c, int64_t s, bool training,
                       float* dx, float* dgamma, float* dbeta, const float* reluOut);

}  // namespace spur
