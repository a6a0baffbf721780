#pragma once

#include <cstdint>

namespace spur {

struct AdamArgs {
  double lr, beta1, beta2, eps, weightDecay;
  double step;  // 1-based, after this update
  double clip;  // clamp each gradient element to [-clip, clip] first when > 0
};

struct SgdArgs {
  double lr, momentum, dampening, weightDecay;
  bool nesterov, firstStep;
  double clip;
};

// param, grad, m, v: [len]; param, m, v updated in place (torch.optim.Adam).
void adamUpdate(float* param, const float* grad, float* m, float* v, int64_t len, const AdamArgs& a);
// param, grad, buf: [len]; param and buf updated in place (torch.optim.SGD); buf is unused
// when momentum is 0.
void sgdUpdate(float* param, const float* grad, float* buf, int64_t len, const SgdArgs& a);

}  // namespace spur
