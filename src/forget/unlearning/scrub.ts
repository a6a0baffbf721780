// SCRUB (Kurmanji et al., NeurIPS 2023, "Towards unbounded machine unlearning"; their
// code's train_distill): a student starts as the trained model, the teacher is a frozen
// copy of it. Each epoch 1..E: while epoch <= maxSteps, a "max" pass over the forget set
// that ascends KL(teacher || student); then a "min" pass over the retain set that
// descends gamma * CE + alpha * KL(teacher || student). KL is at temperature T and scaled
// by T^2 (DistillKL: sum over the batch, divided by its size). The learning rate is
// divided by 10 after each of the reference's lr_decay_epochs 3, 5, 9 it has passed.
import { noGrad } from '../../autograd/tape.ts';
import type { Module } from '../../nn/module.ts';
import * as ops from '../../ops/index.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import {
  batchInputs,
  copyState,
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

export interface ScrubOptions extends SgdSettings {
  epochs: number;
  maxSteps: number; // epochs with a max pass (msteps)
  batch: number; // retain batch (sgda_batch_size)
  forgetBatch: number; // forget batch (del_batch_size)
  gamma: number; // weight of the retain cross-entropy
  alpha: number; // weight of the retain KL
  temperature: number; // kd_T
}

export const SCRUB_LR_DECAY_EPOCHS: readonly number[] = [3, 5, 9];

/** The learning rate of epoch e (1-based): lr * 0.1^(number of decay epochs below e), the reference's adjust_learning_rate. */
export function scrubLr(lr: number, epoch: number): number {
  return lr * 0.1 ** SCRUB_LR_DECAY_EPOCHS.filter((d) => epoch > d).length;
}

/**
 * DistillKL: T^2 / B * sum_i KL(softmax(t_i / T) || softmax(s_i / T)), differentiable in
 * the student's logits s only.
 */
export function distillKl(student: Tensor, teacherProbs: Tensor, teacherLogProbs: ArrayLike<number>, temperature: number): Tensor {
  const b = student.shape[0];
  let entropyPart = 0; // sum p_t log p_t: no gradient, kept so the value is the KL itself
  const pt = teacherProbs.values();
  for (let k = 0; k < pt.length; k++) if (pt[k] > 0) entropyPart += pt[k] * teacherLogProbs[k];
  const cross = ops.mul(teacherProbs, ops.logSoftmax(student.mul(1 / temperature))).sum();
  const t2 = temperature * temperature;
  return ops.affine(cross, -t2 / b, (t2 / b) * entropyPart);
}

function teacherOutputs(teacher: Module, x: Tensor, temperature: number): { probs: Tensor; logProbs: ArrayLike<number> } {
  return noGrad(() => {
    const scaled = teacher.forward(x).mul(1 / temperature);
    return { probs: ops.softmax(scaled), logProbs: ops.logSoftmax(scaled).values() };
  });
}

export function scrub(input: UnlearnInput, o: ScrubOptions): UnlearnTrace {
  const { model, train, layout } = input;
  const teacher = copyState(model, input.makeModel()).eval();
  const rng = methodRng(input.seed, 6);
  seedDropout(model, rng);
  const opt = sgdFor(model, o);
  const losses: number[] = [];
  const pass = (indices: Int32Array, batch: number, e: number, phase: 'max' | 'min') => {
    for (const idx of shuffledBatches(indices, batch, rng)) {
      const { x, y } = batchInputs(train, idx, layout, model);
      const t = teacherOutputs(teacher, x, o.temperature);
      const loss = () => {
        const s = model.forward(x);
        const kl = distillKl(s, t.probs, t.logProbs, o.temperature);
        return phase === 'max' ? kl.neg() : ops.add(ops.crossEntropy(s, y).mul(o.gamma), kl.mul(o.alpha));
      };
      losses.push(sgdStep(model, opt, loss, `scrub, epoch ${e}, ${phase} step`));
      input.onStep?.(losses.length, losses.at(-1)!);
    }
  };
  model.train();
  for (let e = 1; e <= o.epochs; e++) {
    opt.lr = scrubLr(o.lr, e);
    if (e <= o.maxSteps) pass(input.forget, o.forgetBatch, e, 'max');
    pass(input.retain, o.batch, e, 'min');
  }
  model.eval();
  return traceOf(losses);
}
