// Random labelling (RL; Unlearn-Sparse's RL) and SalUn (Fan et al., ICLR 2024,
// "SalUn: empowering machine unlearning via gradient-based weight saliency").
// RL: every epoch the forget examples get labels drawn uniformly from the classes (the
// true one included, as in the reference) and the model trains on them together with the
// retain set, shuffled into one set of batches.
// SalUn: the saliency mask is 1 on the fraction `threshold` of weights with the largest
// |gradient of the forget loss| (summed over forget batches, one global ranking over all
// parameters: the reference's hard mask); then random labelling in the reference's
// CIFAR-10 order (each epoch the randomly labelled forget batches, then the retain
// batches), every gradient multiplied by the mask and the weights outside the mask kept
// where they started.
import type { RandomState } from '../../data/numpyRandom.ts';
import * as ops from '../../ops/index.ts';
import {
  batchInputs,
  mapGradients,
  methodRng,
  seedDropout,
  sgdFor,
  sgdStep,
  shuffledBatches,
  traceOf,
  type SgdSettings,
  type UnlearnInput,
  type UnlearnTrace,
} from './loop.ts';

export interface RandomLabelOptions extends SgdSettings {
  epochs: number;
  batch: number;
}

export interface SalunOptions extends RandomLabelOptions {
  threshold: number; // share of weights in the mask, (0, 1]
}

/** Labels for the forget examples (in their order), uniform over the classes. */
export function randomLabels(count: number, classes: number, rng: RandomState): Int32Array {
  return Int32Array.from({ length: count }, () => Math.floor(rng.random() * classes));
}

function relabel(forget: Int32Array, labels: Int32Array): Map<number, number> {
  return new Map(Array.from(forget, (i, k) => [i, labels[k]]));
}

function labelsOf(idx: Int32Array, y: Int32Array, relabelled: Map<number, number>): Int32Array {
  return Int32Array.from(idx, (i, k) => relabelled.get(i) ?? y[k]);
}

export function randomLabel(input: UnlearnInput, o: RandomLabelOptions): UnlearnTrace {
  const { model, train, layout } = input;
  const rng = methodRng(input.seed, 4);
  const labelRng = methodRng(input.seed, 40);
  seedDropout(model, rng);
  const opt = sgdFor(model, o);
  const all = Int32Array.from([...input.forget, ...input.retain]);
  const losses: number[] = [];
  model.train();
  for (let e = 0; e < o.epochs; e++) {
    const relabelled = relabel(input.forget, randomLabels(input.forget.length, train.numClasses, labelRng));
    for (const idx of shuffledBatches(all, o.batch, rng)) {
      const { x, y } = batchInputs(train, idx, layout, model);
      losses.push(sgdStep(model, opt, () => ops.crossEntropy(model.forward(x), labelsOf(idx, y, relabelled)), `random-label, epoch ${e + 1}`));
      input.onStep?.(losses.length, losses.at(-1)!);
    }
  }
  model.eval();
  return traceOf(losses);
}

/** Per parameter tensor, 1 where |g| is among the top `threshold` share of all |g| (ties broken by position, as a sort). */
export function saliencyMask(grads: Float64Array[], threshold: number): Uint8Array[] {
  const total = grads.reduce((s, g) => s + g.length, 0);
  const flat = new Float64Array(total);
  let off = 0;
  for (const g of grads) {
    for (let k = 0; k < g.length; k++) flat[off + k] = Math.abs(g[k]);
    off += g.length;
  }
  const order = Array.from({ length: total }, (_, i) => i).sort((a, b) => flat[b] - flat[a] || a - b);
  const keep = new Uint8Array(total);
  for (let r = 0; r < Math.floor(total * threshold); r++) keep[order[r]] = 1;
  off = 0;
  return grads.map((g) => {
    const m = keep.subarray(off, off + g.length);
    off += g.length;
    return m;
  });
}

/** The gradient of the forget cross-entropy at the current weights, summed over forget batches (the mask's input). */
export function forgetGradients(input: UnlearnInput, batch: number): Float64Array[] {
  const { model, train, layout } = input;
  const params = model.parameters();
  const sums = params.map((p) => new Float64Array(p.size));
  model.eval();
  for (let s = 0; s < input.forget.length; s += batch) {
    const { x, y } = batchInputs(train, input.forget.subarray(s, s + batch), layout, model);
    model.zeroGrad();
    ops.crossEntropy(model.forward(x), y).backward();
    params.forEach((p, i) => {
      const g = p.grad?.values();
      if (g) for (let k = 0; k < g.length; k++) sums[i][k] += g[k];
    });
  }
  model.zeroGrad();
  return sums;
}

export function salun(input: UnlearnInput, o: SalunOptions): UnlearnTrace {
  const { model, train, layout } = input;
  const mask = saliencyMask(forgetGradients(input, o.batch), o.threshold);
  const params = model.parameters();
  const start = params.map((p) => p.values().slice());
  const rng = methodRng(input.seed, 5);
  const labelRng = methodRng(input.seed, 50);
  seedDropout(model, rng);
  const opt = sgdFor(model, o);
  const masked = (ps: typeof params) =>
    mapGradients(ps, (g, _p, i) => {
      for (let k = 0; k < g.length; k++) if (!mask[i][k]) g[k] = 0;
    });
  // weight decay would still move the weights outside the mask: put them back
  const restore = () =>
    params.forEach((p, i) => {
      const v = p.values();
      for (let k = 0; k < v.length; k++) if (!mask[i][k]) v[k] = start[i][k];
    });
  const losses: number[] = [];
  const stepOn = (idx: Int32Array, labels: (y: Int32Array) => Int32Array, e: number) => {
    const { x, y } = batchInputs(train, idx, layout, model);
    losses.push(sgdStep(model, opt, () => ops.crossEntropy(model.forward(x), labels(y)), `salun, epoch ${e + 1}`, masked));
    restore();
    input.onStep?.(losses.length, losses.at(-1)!);
  };
  model.train();
  for (let e = 0; e < o.epochs; e++) {
    const relabelled = relabel(input.forget, randomLabels(input.forget.length, train.numClasses, labelRng));
    for (const idx of shuffledBatches(input.forget, o.batch, rng)) stepOn(idx, (y) => labelsOf(idx, y, relabelled), e);
    for (const idx of shuffledBatches(input.retain, o.batch, rng)) stepOn(idx, (y) => y, e);
  }
  model.eval();
  const kept = mask.reduce((s, m) => s + m.reduce((a, b) => a + b, 0), 0);
  return { ...traceOf(losses), extra: { maskShare: kept / mask.reduce((s, m) => s + m.length, 0) } };
}
