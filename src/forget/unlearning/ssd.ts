// Selective Synaptic Dampening (Foster et al., AAAI 2024; their ssd.py, ParameterPerturber):
// no training at all. The importance of each weight on a data set is the diagonal of the
// empirical Fisher as the reference computes it, the mean over mini-batches of the
// squared gradient of the batch's mean cross-entropy. With importances I_D on the whole
// training set and I_f on the forget set, every weight with I_f > alpha I_D is
// multiplied by min(lambda I_D / I_f, 1) (the reference's exponent 1, lower bound 1).
// It needs the full training set's Fisher but no retain training.
import * as ops from '../../ops/index.ts';
import { batchInputs, type UnlearnInput, type UnlearnTrace } from './loop.ts';

export interface SsdOptions {
  alpha: number; // selection weighting
  lambda: number; // dampening constant
  batch: number;
}

/** Mean over batches of the squared gradient of each batch's mean loss, per parameter tensor. */
export function fisherDiagonal(input: UnlearnInput, indices: Int32Array, batch: number): Float64Array[] {
  const { model, train, layout } = input;
  const params = model.parameters();
  const imp = params.map((p) => new Float64Array(p.size));
  let batches = 0;
  model.eval();
  for (let s = 0; s < indices.length; s += batch) {
    const { x, y } = batchInputs(train, indices.subarray(s, s + batch), layout, model);
    model.zeroGrad();
    ops.crossEntropy(model.forward(x), y).backward();
    params.forEach((p, i) => {
      const g = p.grad?.values();
      if (g) for (let k = 0; k < g.length; k++) imp[i][k] += g[k] * g[k];
    });
    batches++;
  }
  model.zeroGrad();
  for (const a of imp) for (let k = 0; k < a.length; k++) a[k] /= Math.max(1, batches);
  return imp;
}

/** Dampens the model's weights in place; returns how many were selected. */
export function dampen(input: UnlearnInput, full: Float64Array[], forget: Float64Array[], o: SsdOptions): number {
  let selected = 0;
  input.model.parameters().forEach((p, i) => {
    const v = p.values();
    for (let k = 0; k < v.length; k++) {
      const fi = forget[i][k];
      const di = full[i][k];
      if (fi > o.alpha * di) {
        v[k] *= Math.min((o.lambda * di) / fi, 1);
        selected++;
      }
    }
  });
  return selected;
}

export function ssd(input: UnlearnInput, o: SsdOptions): UnlearnTrace {
  const all = Int32Array.from([...input.forget, ...input.retain]).sort();
  const full = fisherDiagonal(input, all, o.batch);
  const forget = fisherDiagonal(input, input.forget, o.batch);
  return { steps: 0, lossFirst: NaN, lossLast: NaN, extra: { selected: dampen(input, full, forget, o) } };
}
