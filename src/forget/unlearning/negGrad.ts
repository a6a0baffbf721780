// Gradient ascent on the forget set (GA, "NegGrad"; Unlearn-Sparse's GA: 5 epochs at lr
// 1e-4) and NegGrad+ (Kurmanji et al., NeurIPS 2023, "Towards unbounded machine
// unlearning"): descend alpha * CE(retain batch) - (1 - alpha) * CE(forget batch), one
// epoch being a pass over the retain set with the forget batches cycled beside it.
import * as ops from '../../ops/index.ts';
import {
  batchInputs,
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

export interface AscentOptions extends SgdSettings {
  epochs: number;
  batch: number;
}

export interface NegGradPlusOptions extends AscentOptions {
  alpha: number; // weight of the retain loss; the forget loss gets 1 - alpha
}

export function gradientAscent(input: UnlearnInput, o: AscentOptions): UnlearnTrace {
  const { model, train, layout } = input;
  const rng = methodRng(input.seed, 2);
  seedDropout(model, rng);
  const opt = sgdFor(model, o);
  const losses: number[] = [];
  model.train();
  for (let e = 0; e < o.epochs; e++) {
    for (const idx of shuffledBatches(input.forget, o.batch, rng)) {
      const { x, y } = batchInputs(train, idx, layout, model);
      losses.push(sgdStep(model, opt, () => ops.crossEntropy(model.forward(x), y).neg(), `gradient-ascent, epoch ${e + 1}`));
      input.onStep?.(losses.length, losses.at(-1)!);
    }
  }
  model.eval();
  return traceOf(losses);
}

export function negGradPlus(input: UnlearnInput, o: NegGradPlusOptions): UnlearnTrace {
  const { model, train, layout } = input;
  const rng = methodRng(input.seed, 3);
  seedDropout(model, rng);
  const opt = sgdFor(model, o);
  const losses: number[] = [];
  model.train();
  for (let e = 0; e < o.epochs; e++) {
    const forgetBatches = shuffledBatches(input.forget, o.batch, rng);
    shuffledBatches(input.retain, o.batch, rng).forEach((idx, i) => {
      const r = batchInputs(train, idx, layout, model);
      const f = batchInputs(train, forgetBatches[i % forgetBatches.length], layout, model);
      const loss = () => ops.sub(ops.crossEntropy(model.forward(r.x), r.y).mul(o.alpha), ops.crossEntropy(model.forward(f.x), f.y).mul(1 - o.alpha));
      losses.push(sgdStep(model, opt, loss, `neggrad-plus, epoch ${e + 1}`));
      input.onStep?.(losses.length, losses.at(-1)!);
    });
  }
  model.eval();
  return traceOf(losses);
}
