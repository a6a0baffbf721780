// Model sensitivity (PROTOCOL section 6; the paper's finding 3: architectures that react
// more to their input pick rare patterns up more easily). Two measures on 500 clean
// training images:
// - the occlusion curve: for p = 0, 0.02, .., 1 each non-zero input value is zeroed with
//   probability p, and the mean softmax probability of the true class is recorded. A
//   model that holds its prediction while pixels disappear has a large area under the
//   curve; one that relies on every pixel has a small one.
// - the mean input-gradient norm ||d loss / d x||_2 (a local, first-order sensitivity).
//
// The masks follow the reference notebook exactly: the images are
// RandomState(0).choice(N, 500, replace=False); for every p a fresh RandomState(0) draws
// choice(2, size=#non-zero values, p=[1-p, p]) over the non-zero values of the 500 images
// in C order (image, pixel, channel), so "pixel" means one channel value. Because every p
// reuses the same uniforms, the zeroed sets grow with p (nested masks), and the ends are
// exact: p = 0 is the clean images, p = 1 blank ones.
import type { Dataset } from '../data/dataset.ts';
import { RandomState } from '../data/numpyRandom.ts';
import { grad } from '../autograd/tape.ts';
import * as ops from '../ops/index.ts';
import type { Module } from '../nn/module.ts';
import { batchLabels, makeBatch, type Layout } from '../train/batches.ts';
import { predict } from '../train/evaluate.ts';
import { UserError } from '../util/errors.ts';

export const SENSITIVITY_DEFAULTS = { images: 500, steps: 50, imageSeed: 0, maskSeed: 0 } as const;

export interface SensitivityOptions {
  images?: number; // how many training images (default 500)
  steps?: number; // p = k / steps for k = 0..steps (default 50: steps of 0.02)
  imageSeed?: number; // RandomState seed of the image choice (default 0)
  maskSeed?: number; // RandomState seed of the masks (default 0)
  batchSize?: number;
}

export interface SensitivityResult {
  images: number;
  ps: number[];
  curve: number[]; // mean probability of the true class at each p
  area: number; // trapezoid rule over p in [0, 1]
  meanProb: number; // mean of the curve's points (the reference notebook's summary number)
  inputGradNorm: number; // mean over the images of ||d loss / d x||_2 on the clean images
}

/** The reference's sample: RandomState(seed).choice(N, count, replace=False). */
export function sensitivityImageIndices(
  trainSize: number,
  count: number = SENSITIVITY_DEFAULTS.images,
  seed: number = SENSITIVITY_DEFAULTS.imageSeed,
): number[] {
  if (!Number.isInteger(count) || count < 1 || count > trainSize) {
    throw new UserError(`images: got ${count}, expected an integer in 1..${trainSize} (the training set size)`);
  }
  return new RandomState(seed).choice(trainSize, count, { replace: false });
}

/** The chosen images as a small data set of their own (copied). */
export function gatherImages(d: Dataset, indices: readonly number[]): Dataset {
  const size = d.height * d.width * d.channels;
  const images = new Float32Array(indices.length * size);
  indices.forEach((idx, i) => images.set(d.images.subarray(idx * size, (idx + 1) * size), i * size));
  return { ...d, images, labels: batchLabels(d, indices), n: indices.length };
}

/** A copy of d with each non-zero value zeroed with probability p (the reference's mask). */
export function occludeImages(d: Dataset, p: number, maskSeed: number = SENSITIVITY_DEFAULTS.maskSeed): Dataset {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`occlusion: p must be in [0, 1], got ${p}`);
  const images = d.images.slice();
  if (p === 1) images.fill(0);
  if (p === 0 || p === 1) return { ...d, images };
  const nonZero: number[] = [];
  for (let i = 0; i < images.length; i++) if (images[i] !== 0) nonZero.push(i);
  const blocked = new RandomState(maskSeed).choice(2, nonZero.length, { replace: true, p: [1 - p, p] });
  for (let k = 0; k < nonZero.length; k++) if (blocked[k] === 1) images[nonZero[k]] = 0;
  return { ...d, images };
}

/** Mean softmax probability of each image's label. */
export function meanTrueClassProbability(model: Module, layout: Layout, d: Dataset, batchSize?: number): number {
  const pred = predict(model, layout, d, undefined, batchSize);
  let sum = 0;
  for (let i = 0; i < d.n; i++) sum += pred.probs[i * pred.classes + d.labels[i]];
  return sum / d.n;
}

export function trapezoidArea(xs: readonly number[], ys: readonly number[]): number {
  let area = 0;
  for (let k = 1; k < xs.length; k++) area += ((xs[k] - xs[k - 1]) * (ys[k] + ys[k - 1])) / 2;
  return area;
}

export function occlusionCurve(model: Module, layout: Layout, images: Dataset, opts: SensitivityOptions = {}): { ps: number[]; curve: number[] } {
  const steps = opts.steps ?? SENSITIVITY_DEFAULTS.steps;
  if (!Number.isInteger(steps) || steps < 1) throw new UserError(`steps: got ${steps}, expected a positive integer`);
  const ps = Array.from({ length: steps + 1 }, (_, k) => k / steps);
  const curve = ps.map((p) => meanTrueClassProbability(model, layout, occludeImages(images, p, opts.maskSeed), opts.batchSize));
  return { ps, curve };
}

/**
 * Mean over the images of the l2 norm of d loss_i / d x_i (cross-entropy of image i with
 * its label), in eval mode. The per-example losses are summed before differentiating;
 * examples do not interact in eval mode, so each row of the gradient is its own.
 */
export function meanInputGradientNorm(model: Module, layout: Layout, images: Dataset, batchSize = 100): number {
  const wasTraining = model.training;
  model.eval();
  let total = 0;
  try {
    for (let start = 0; start < images.n; start += batchSize) {
      const idx = Array.from({ length: Math.min(batchSize, images.n - start) }, (_, i) => start + i);
      const x = makeBatch(images, idx, { layout }).requireGrad();
      const loss = ops.crossEntropyPerExample(model.forward(x), batchLabels(images, idx)).sum();
      const [dX] = grad(loss, [x]);
      const g = dX!.values();
      const per = g.length / idx.length;
      for (let i = 0; i < idx.length; i++) {
        let s = 0;
        for (let j = i * per; j < (i + 1) * per; j++) s += g[j] * g[j];
        total += Math.sqrt(s);
      }
    }
  } finally {
    model.train(wasTraining);
  }
  return total / images.n;
}

/** Both measures on the reference's 500 training images of `train` (use the clean split). */
export function modelSensitivity(model: Module, layout: Layout, train: Dataset, opts: SensitivityOptions = {}): SensitivityResult {
  const indices = sensitivityImageIndices(train.n, opts.images ?? SENSITIVITY_DEFAULTS.images, opts.imageSeed ?? SENSITIVITY_DEFAULTS.imageSeed);
  const images = gatherImages(train, indices);
  const { ps, curve } = occlusionCurve(model, layout, images, opts);
  return {
    images: indices.length,
    ps,
    curve,
    area: trapezoidArea(ps, curve),
    meanProb: curve.reduce((a, b) => a + b, 0) / curve.length,
    inputGradNorm: meanInputGradientNorm(model, layout, images),
  };
}
