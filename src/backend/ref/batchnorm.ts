// Batch normalisation of the reference backend, x viewed as [N, C, S].
import type { FloatArray } from '../kernels.ts';

function channelSums(x: FloatArray, n: number, c: number, s: number, ch: number, f: (v: number, i: number) => number): number {
  let acc = 0;
  for (let b = 0; b < n; b++) {
    const base = (b * c + ch) * s;
    for (let i = 0; i < s; i++) acc += f(x[base + i], base + i);
  }
  return acc;
}

// x, out: [N, C, S]; gamma, beta, running*, save*: [C]
export function batchNorm(
  x: FloatArray,
  gamma: FloatArray,
  beta: FloatArray,
  n: number,
  c: number,
  s: number,
  training: boolean,
  momentum: number,
  eps: number,
  runningMean: FloatArray,
  runningVar: FloatArray,
  out: FloatArray,
  saveMean: FloatArray,
  saveInvStd: FloatArray,
  relu: boolean,
): void {
  const count = n * s;
  for (let ch = 0; ch < c; ch++) {
    let mean: number;
    let variance: number;
    if (training) {
      mean = channelSums(x, n, c, s, ch, (v) => v) / count;
      variance = channelSums(x, n, c, s, ch, (v) => (v - mean) * (v - mean)) / count;
      const unbiased = count > 1 ? (variance * count) / (count - 1) : variance;
      runningMean[ch] = (1 - momentum) * runningMean[ch] + momentum * mean;
      runningVar[ch] = (1 - momentum) * runningVar[ch] + momentum * unbiased;
    } else {
      mean = runningMean[ch];
      variance = runningVar[ch];
    }
    const invStd = 1 / Math.sqrt(variance + eps);
    saveMean[ch] = mean;
    saveInvStd[ch] = invStd;
    for (let b = 0; b < n; b++) {
      const base = (b * c + ch) * s;
      for (let i = 0; i < s; i++) {
        const v = (x[base + i] - mean) * invStd * gamma[ch] + beta[ch];
        out[base + i] = relu && !(v > 0) ? 0 : v;
      }
    }
  }
}

// x, dy, dx: [N, C, S]; gamma, save*, dgamma, dbeta: [C]
export function batchNormBackward(
  x: FloatArray,
  dyIn: FloatArray,
  gamma: FloatArray,
  saveMean: FloatArray,
  saveInvStd: FloatArray,
  n: number,
  c: number,
  s: number,
  training: boolean,
  dx: FloatArray,
  dgamma: FloatArray,
  dbeta: FloatArray,
  reluOut: FloatArray | null,
): void {
  // with a fused ReLU, the gradient passes only where its output is positive
  const dy = reluOut === null ? dyIn : Float64Array.from(dyIn, (v, i) => (reluOut[i] > 0 ? v : 0));
  const count = n * s;
  for (let ch = 0; ch < c; ch++) {
    const mean = saveMean[ch];
    const invStd = saveInvStd[ch];
    const sumDy = channelSums(dy, n, c, s, ch, (v) => v);
    const sumDyXhat = channelSums(dy, n, c, s, ch, (v, i) => v * (x[i] - mean) * invStd);
    dbeta[ch] = sumDy;
    dgamma[ch] = sumDyXhat;
    for (let b = 0; b < n; b++) {
      const base = (b * c + ch) * s;
      for (let i = 0; i < s; i++) {
        if (training) {
          const xhat = (x[base + i] - mean) * invStd;
          dx[base + i] = ((gamma[ch] * invStd) / count) * (count * dy[base + i] - sumDy - xhat * sumDyXhat);
        } else {
          dx[base + i] = dy[base + i] * gamma[ch] * invStd;
        }
      }
    }
  }
}
