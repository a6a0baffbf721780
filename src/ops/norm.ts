// Batch normalisation and dropout.
import { grad, isGradEnabled, record } from '../autograd/tape.ts';
import { kernels } from '../backend/registry.ts';
import { type Tensor, zeros, type RandomSource, uninitialized } from '../tensor/tensor.ts';
import { shapeStr } from '../tensor/shape.ts';
import { ShapeError } from '../util/errors.ts';

export interface BatchNormState {
  runningMean: Tensor; // [C], updated in place in training mode
  runningVar: Tensor; // [C]
  momentum: number; // PyTorch default 0.1
  eps: number; // PyTorch default 1e-5
}

// x: [N, C] or [N, C, H, W]; gamma, beta: [C]. relu: max(., 0) of the result in the same
// pass (batchNorm(...).relu() without the extra tensor and pass, forward and backward).
export function batchNorm(x: Tensor, gamma: Tensor, beta: Tensor, state: BatchNormState, training: boolean, relu = false): Tensor {
  if ((x.rank !== 2 && x.rank !== 4) || gamma.size !== x.shape[1] || beta.size !== x.shape[1] || state.runningMean.size !== x.shape[1]) {
    throw new ShapeError(
      `batchNorm: input ${shapeStr(x.shape)}, weight ${shapeStr(gamma.shape)}, bias ${shapeStr(beta.shape)}: expected [N, C(, H, W)] and [C]`,
    );
  }
  const [n, c] = x.shape;
  const s = x.rank === 4 ? x.shape[2] * x.shape[3] : 1;
  if (training && n * s < 2) throw new ShapeError(`batchNorm: training needs more than one value per channel, got input ${shapeStr(x.shape)}`);
  // the kernels overwrite every element of their outputs
  const out = uninitialized(x.shape, x.dtype);
  const saveMean = uninitialized([c], x.dtype);
  const saveInvStd = uninitialized([c], x.dtype);
  const xv = x.values();
  kernels(x.dtype).batchNorm(
    xv,
    gamma.values(),
    beta.values(),
    n,
    c,
    s,
    training,
    state.momentum,
    state.eps,
    state.runningMean.data,
    state.runningVar.data,
    out.data,
    saveMean.data,
    saveInvStd.data,
    relu,
  );
  return record(out, relu ? 'batchNormRelu' : 'batchNorm', [x, gamma, beta], (dy) => {
    // Double backward (createGraph) differentiates the composite form instead.
    if (isGradEnabled()) {
      const bn = batchNormComposite(x, gamma, beta, saveMean, saveInvStd, training, state.eps);
      const y = relu ? bn.relu() : bn;
      return grad(y, [x, gamma, beta], { gradOutputs: [dy], createGraph: true, allowUnused: true });
    }
    const dx = uninitialized(x.shape, x.dtype);
    const dgamma = uninitialized([c], x.dtype);
    const dbeta = uninitialized([c], x.dtype);
    kernels(x.dtype).batchNormBackward(
      xv,
      dy.values(),
      gamma.values(),
      saveMean.data,
      saveInvStd.data,
      n,
      c,
      s,
      training,
      dx.data,
      dgamma.data,
      dbeta.data,
      relu ? out.data : null,
    );
    return [dx, dgamma.reshape(gamma.shape), dbeta.reshape(beta.shape)];
  });
}

// The same function built from differentiable primitives.
function batchNormComposite(x: Tensor, gamma: Tensor, beta: Tensor, saveMean: Tensor, saveInvStd: Tensor, training: boolean, eps: number): Tensor {
  const bshape = x.rank === 4 ? [1, x.shape[1], 1, 1] : [1, x.shape[1]];
  const axes = x.rank === 4 ? [0, 2, 3] : [0];
  let xhat: Tensor;
  if (training) {
    const centered = x.sub(x.mean(axes, true));
    const std = centered.square().mean(axes, true).add(eps).sqrt();
    xhat = centered.div(std);
  } else {
    xhat = x.sub(saveMean.reshape(bshape)).mul(saveInvStd.reshape(bshape));
  }
  return xhat.mul(gamma.reshape(bshape)).add(beta.reshape(bshape));
}

/** Inverted dropout: zero each element with probability p, scale the rest by 1/(1-p). */
export function dropout(x: Tensor, p: number, training: boolean, rng: RandomSource): Tensor {
  if (!(p >= 0 && p < 1)) throw new ShapeError(`dropout: probability ${p} is outside [0, 1)`);
  if (!training || p === 0) return x;
  const mask = zeros(x.shape, x.dtype);
  const keep = 1 / (1 - p);
  for (let i = 0; i < mask.data.length; i++) mask.data[i] = rng.random() < p ? 0 : keep;
  return x.mul(mask);
}
