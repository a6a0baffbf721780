// The self-check behind `spurlab doctor`: gradient checks of a small MLP and CNN, an HVP
// check, and agreement of the active backend with the reference on float32 work.
import { activeBackend, nativeBackendOrNull, withBackend } from '../backend/registry.ts';
import { gradCheck, hvpCheck } from '../autograd/gradcheck.ts';
import { grad } from '../autograd/tape.ts';
import * as ops from '../ops/index.ts';
import { randn, type Tensor } from '../tensor/tensor.ts';
import { SimpleRandom } from '../util/random.ts';

export interface Check {
  name: string;
  ok: boolean;
  maxRelErr: number;
  detail?: string;
}

const GRAD_TOL = 1e-6;
const AGREE_TOL = 1e-4;

function rnd(shape: number[], seed: number, scale = 1, dtype: 'float32' | 'float64' = 'float64'): Tensor {
  return randn(shape, new SimpleRandom(seed), dtype).mul(scale);
}

function mlpLoss(x: Tensor, y: Int32Array) {
  return ([w1, b1, w2, b2]: Tensor[]) => ops.crossEntropy(ops.linear(ops.linear(x, w1, b1, true), w2, b2), y);
}

function cnnLoss(x: Tensor, y: Int32Array) {
  return ([w, b, fc]: Tensor[]) => {
    const h = ops
      .conv2d(x, w, { padding: 1 })
      .add(b.reshape([1, -1, 1, 1]))
      .relu();
    const p = ops.maxPool2d(h, { kernel: 2 });
    return ops.crossEntropy(ops.linear(p.flatten(), fc, null), y);
  };
}

function mlpParams(dtype: 'float32' | 'float64'): Tensor[] {
  return [rnd([7, 5], 2, 0.5, dtype), rnd([7], 3, 0.1, dtype), rnd([3, 7], 4, 0.5, dtype), rnd([3], 5, 0.1, dtype)];
}

function cnnParams(dtype: 'float32' | 'float64'): Tensor[] {
  return [rnd([3, 2, 3, 3], 7, 0.4, dtype), rnd([3], 8, 0.1, dtype), rnd([3, 3 * 3 * 3], 9, 0.3, dtype)];
}

function check(name: string, maxRelErr: number, tol: number, detail?: string): Check {
  return { name, ok: maxRelErr < tol, maxRelErr, ...(maxRelErr < tol ? {} : { detail }) };
}

// Loss and parameter gradients of a model on one backend, as flat float arrays.
function lossAndGrads(backend: string, loss: (p: Tensor[]) => Tensor, params: Tensor[]): Float32Array[] {
  return withBackend(backend, () => {
    const leaves = params.map((p) => p.detach().requireGrad());
    const l = loss(leaves);
    return [l.values(), ...grad(l, leaves).map((g) => g!.values())].map((a) => Float32Array.from(a));
  });
}

function agreement(name: string, backend: string, loss: (p: Tensor[]) => Tensor, params: Tensor[]): Check {
  const a = lossAndGrads(backend, loss, params);
  const r = lossAndGrads('ref', loss, params);
  let worst = 0;
  a.forEach((arr, i) =>
    arr.forEach((v, j) => {
      worst = Math.max(worst, Math.abs(v - r[i][j]) / Math.max(1, Math.abs(r[i][j])));
    }),
  );
  return check(name, worst, AGREE_TOL, `${backend} and ref disagree by ${worst}`);
}

export function runSelfCheck(): Check[] {
  const checks: Check[] = [];
  const y5 = Int32Array.from([0, 2, 1, 1]);
  const x64 = rnd([4, 5], 1);
  const g1 = gradCheck(mlpLoss(x64, y5), mlpParams('float64'));
  checks.push(check('gradcheck: MLP 5-7-3 (linear+ReLU, cross-entropy)', g1.maxRelErr, GRAD_TOL, g1.worst));

  const xi = rnd([2, 2, 6, 6], 6);
  const y2 = Int32Array.from([1, 0]);
  const g2 = gradCheck(cnnLoss(xi, y2), cnnParams('float64'));
  checks.push(check('gradcheck: CNN conv3x3-ReLU-maxpool-linear', g2.maxRelErr, GRAD_TOL, g2.worst));

  const mlp = mlpLoss(x64, y5);
  const tanhMlp = ([w1, b1, w2, b2]: Tensor[]) => ops.crossEntropy(ops.linear(ops.linear(x64, w1, b1).tanh(), w2, b2), y5);
  const params = mlpParams('float64');
  const v = params.map((p, i) => rnd(p.shape, 20 + i));
  const h1 = hvpCheck(tanhMlp, params, v);
  checks.push(check('hvp: MLP with tanh (double backward vs finite differences)', h1.maxRelErr, GRAD_TOL, h1.worst));
  const h2 = hvpCheck(mlp, params, v);
  checks.push(check('hvp: MLP with ReLU', h2.maxRelErr, GRAD_TOL, h2.worst));

  const native = nativeBackendOrNull();
  if (native) {
    const x32 = rnd([4, 5], 1, 1, 'float32');
    checks.push(agreement('native vs ref: MLP loss and gradients (float32)', 'native', mlpLoss(x32, y5), mlpParams('float32')));
    const xc = rnd([2, 2, 6, 6], 6, 1, 'float32');
    checks.push(agreement('native vs ref: CNN loss and gradients (float32)', 'native', cnnLoss(xc, y2), cnnParams('float32')));
    const big = [rnd([129, 257], 30, 0.1, 'float32'), rnd([127, 257], 31, 0.1, 'float32')];
    checks.push(agreement('native vs ref: matmul 129x257x127', 'native', ([a, b]) => ops.matmul(a, b.T).square().mean(), big));
  }
  return checks;
}

export function backendSummary(): { backend: string; threads: number; description: string } {
  const b = activeBackend();
  return { backend: b.name, threads: b.threads, description: b.describe() };
}
