// Optimizer updates of the reference backend, with torch.optim semantics.
import type { AdamArgs, FloatArray, SgdArgs } from '../kernels.ts';

function clipped(g: number, clip: number): number {
  return clip > 0 ? Math.min(Math.max(g, -clip), clip) : g;
}

// param, grad, m, v: [len], updated in place (grad is read only)
export function adamUpdate(param: FloatArray, grad: FloatArray, m: FloatArray, v: FloatArray, a: AdamArgs): void {
  const bc1 = 1 - a.beta1 ** a.step;
  const bc2Sqrt = Math.sqrt(1 - a.beta2 ** a.step);
  const stepSize = a.lr / bc1;
  for (let i = 0; i < param.length; i++) {
    const g = clipped(grad[i], a.clip) + a.weightDecay * param[i];
    m[i] = a.beta1 * m[i] + (1 - a.beta1) * g;
    v[i] = a.beta2 * v[i] + (1 - a.beta2) * g * g;
    param[i] -= (stepSize * m[i]) / (Math.sqrt(v[i]) / bc2Sqrt + a.eps);
  }
}

// param, grad, buf: [len], updated in place
export function sgdUpdate(param: FloatArray, grad: FloatArray, buf: FloatArray, a: SgdArgs): void {
  for (let i = 0; i < param.length; i++) {
    let g = clipped(grad[i], a.clip) + a.weightDecay * param[i];
    if (a.momentum !== 0) {
      buf[i] = a.firstStep ? g : a.momentum * buf[i] + (1 - a.dampening) * g;
      g = a.nesterov ? g + a.momentum * buf[i] : buf[i];
    }
    param[i] -= a.lr * g;
  }
}
