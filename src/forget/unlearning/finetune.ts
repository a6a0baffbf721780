// Fine-tuning on the retained data (FT) and its l1-sparse variant (Jia et al., NeurIPS
// 2023, "Model sparsity can simplify machine unlearning"; their Unlearn-Sparse code, FT
// and FT_l1): plain cross-entropy training on the retain set, the l1 variant adding
// alpha_e * ||theta||_1 with alpha_e = alpha (1 - e / E) decaying linearly over the
// epochs e = 0..E-1 (their no_l1_epochs = 0). Neither looks at the forget set.
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

export interface FinetuneOptions extends SgdSettings {
  epochs: number;
  batch: number;
  alpha: number; // l1 coefficient at epoch 0 (0: plain FT)
}

/** The l1 coefficient of epoch e (0-based) of E. */
export function l1Coefficient(alpha: number, epoch: number, epochs: number): number {
  return alpha * (1 - epoch / epochs);
}

/** Adds coef * sign(theta) to each gradient: the (sub)gradient of coef * ||theta||_1, 0 at 0 as torch's abs. */
export function addL1Gradient(coef: number) {
  return (params: Parameters<typeof mapGradients>[0]) =>
    mapGradients(params, (g, p) => {
      for (let k = 0; k < g.length; k++) g[k] += coef * Math.sign(p[k]);
    });
}

export function finetune(input: UnlearnInput, o: FinetuneOptions, name = o.alpha > 0 ? 'l1-sparse' : 'finetune'): UnlearnTrace {
  const { model, train, layout } = input;
  const rng = methodRng(input.seed, 1);
  seedDropout(model, rng);
  const opt = sgdFor(model, o);
  const losses: number[] = [];
  model.train();
  for (let e = 0; e < o.epochs; e++) {
    const coef = l1Coefficient(o.alpha, e, o.epochs);
    for (const idx of shuffledBatches(input.retain, o.batch, rng)) {
      const { x, y } = batchInputs(train, idx, layout, model);
      losses.push(
        sgdStep(model, opt, () => ops.crossEntropy(model.forward(x), y), `${name}, epoch ${e + 1}`, coef > 0 ? addL1Gradient(coef) : undefined),
      );
      input.onStep?.(losses.length, losses.at(-1)!);
    }
  }
  model.eval();
  return traceOf(losses);
}
