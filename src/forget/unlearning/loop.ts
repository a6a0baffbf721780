// What every unlearning method shares: the forget/retain split of a trained run, seeded
// mini-batches, one SGD step (torch.optim.SGD semantics through the library's optimizer)
// with hooks between backward and step (gradient masks, an l1 term), and model copies
// (SCRUB's frozen teacher, SalUn's starting point).
import type { Dataset } from '../../data/dataset.ts';
import { RandomState } from '../../data/numpyRandom.ts';
import type { Module } from '../../nn/module.ts';
import { Dropout } from '../../nn/layers.ts';
import { SGD } from '../../nn/optim/optimizer.ts';
import { Tensor } from '../../tensor/tensor.ts';
import { batchLabels, makeBatch, type Layout } from '../../train/batches.ts';
import { UserError } from '../../util/errors.ts';

/** The trained model, its data and the split the method sees. */
export interface UnlearnInput {
  model: Module; // changed in place
  layout: Layout;
  train: Dataset;
  forget: Int32Array; // training indices to forget (the n spurious examples)
  retain: Int32Array; // the rest of the run's training indices (gradient-ascent never reads it; SSD only for its Fisher)
  seed: number; // batch order, random labels, dropout
  /** A fresh model of the same architecture (SCRUB's teacher is a copy into one). */
  makeModel(): Module;
  onStep?(step: number, loss: number): void;
}

export interface UnlearnTrace {
  steps: number; // optimizer steps (SSD: 0)
  lossFirst: number; // the method's loss at its first step (NaN without steps)
  lossLast: number;
  extra?: Record<string, number>; // what a method reports of itself (SalUn's mask share, SSD's dampened weights)
}

/** The SGD settings every method states (momentum, weight decay added to the gradient). */
export interface SgdSettings {
  lr: number;
  momentum: number;
  weightDecay: number;
}

export function sgdFor(model: Module, s: SgdSettings): SGD {
  return new SGD(model.parameters(), { lr: s.lr, momentum: s.momentum, weightDecay: s.weightDecay });
}

/** Shuffled mini-batches of `indices` (a permutation from rng), the last one short. */
export function shuffledBatches(indices: Int32Array, batchSize: number, rng: RandomState): Int32Array[] {
  const order = rng.permutation(indices.length);
  const out: Int32Array[] = [];
  for (let s = 0; s < order.length; s += batchSize) out.push(Int32Array.from(order.slice(s, s + batchSize), (k) => indices[k]));
  return out;
}

/** A batch as the model's input (in the model's dtype: float64 models are the tests' exact references). */
export function batchInputs(d: Dataset, idx: Int32Array, layout: Layout, model: Module): { x: Tensor; y: Int32Array } {
  const x = makeBatch(d, idx, { layout });
  const dtype = model.parameters()[0]?.dtype ?? 'float32';
  return { x: dtype === 'float64' ? new Tensor(Float64Array.from(x.values()), x.shape) : x, y: batchLabels(d, idx) };
}

/** Replaces each parameter's gradient by f(gradient values, parameter values) (masks, penalties). */
export function mapGradients(params: Tensor[], f: (g: Float64Array | Float32Array, p: ArrayLike<number>, i: number) => void): void {
  params.forEach((p, i) => {
    if (!p.grad) return;
    const g = p.grad.values().slice();
    f(g, p.values(), i);
    p.grad = new Tensor(g, p.shape);
  });
}

/**
 * One optimizer step on `loss()`: zero the gradients, backward, `beforeStep` (masks,
 * penalties: it sees the gradients and may change them), step. A non-finite loss is an
 * error naming the method and the step, so a diverging method never writes NaN weights.
 */
export function sgdStep(model: Module, opt: SGD, loss: () => Tensor, what: string, beforeStep?: (params: Tensor[]) => void): number {
  model.zeroGrad();
  const l = loss();
  const value = l.item();
  if (!Number.isFinite(value)) throw new UserError(`${what}: the loss is ${value}; lower the learning rate (--lr) or the budget (--epochs)`, 1);
  l.backward();
  beforeStep?.(model.parameters());
  opt.step();
  return value;
}

/** Points the model's dropout layers at rng (a seeded method never draws from elsewhere). */
export function seedDropout(model: Module, rng: RandomState): void {
  for (const [, m] of model.namedModules()) if (m instanceof Dropout) m.rng = rng;
}

/** Copies parameters and buffers of `from` into `to` (same architecture). */
export function copyState(from: Module, to: Module): Module {
  const src = from.stateDict();
  for (const [name, t] of to.stateDict()) {
    const s = src.get(name);
    if (!s || s.size !== t.size) throw new Error(`copyState: ${name} is missing or has another size`);
    t.data.set(s.values(), t.offset);
  }
  return to;
}

/** Parameters as one Float64Array (for distances and dampening). */
export function flatCopy(model: Module): Float64Array {
  const params = model.parameters();
  const out = new Float64Array(params.reduce((s, p) => s + p.size, 0));
  let off = 0;
  for (const p of params) {
    out.set(p.values(), off);
    off += p.size;
  }
  return out;
}

/** The trace of a loop from its per-step losses. */
export function traceOf(losses: number[]): UnlearnTrace {
  return { steps: losses.length, lossFirst: losses[0] ?? NaN, lossLast: losses.at(-1) ?? NaN };
}

/** A method's generator, distinct from the training run's. */
export function methodRng(seed: number, salt: number): RandomState {
  return new RandomState([seed, 0x756e6c, salt]);
}
