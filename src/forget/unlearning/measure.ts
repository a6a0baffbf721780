// Before/after measurements of a deletion (any method) and its comparison with the model
// retrained without the forget set: spurious score (all test images and the non-target
// ones), clean and patterned test accuracy, accuracy on the forget set and on a seeded
// sample of the retain set, the distance to the retrained model (parameter l2, mean KL of
// its test predictions from theirs) and a membership check of the forget set.
//
// The membership check is the unlearning literature's "MIA efficacy" (Jia et al. 2023,
// Fan et al. 2024) with the lab's attack (privacy/shadowAttack.ts): per model, the
// attack learns members (retain images) from non-members (test images) on that model's
// own outputs, then says which forget examples look like members. A model that forgot
// them as retraining does has the retrained model's member rate.
import { RandomState } from '../../data/numpyRandom.ts';
import type { SpuriousDataset } from '../../data/spurious.ts';
import { spuriousScore } from '../../experiments/score.ts';
import type { Module } from '../../nn/module.ts';
import { attackScores, trainAttack, type ModelOutputs } from '../../privacy/shadowAttack.ts';
import { batchLabels, type Layout } from '../../train/batches.ts';
import type { TrainConfig } from '../../train/config.ts';
import { accuracy, predict } from '../../train/evaluate.ts';
import { flatCopy } from './loop.ts';

export interface Measured {
  score: number; // all test images
  testAcc: number;
  scoreNonTarget?: number; // test images whose label is not the target
  patternedTestAcc?: number; // accuracy on the patterned test images
  forgetAcc?: number; // accuracy on the forget set (their true labels)
  retainAcc?: number; // on RETAIN_SAMPLE seeded retain images
  forgetMemberRate?: number; // share of forget examples the attack calls members
}

/** Retain images the retain accuracy and the attack's members are measured on (seeded, at most). */
export const RETAIN_SAMPLE = 5000;
/** Members and non-members the per-model attack is trained on (each). */
export const ATTACK_ROWS = 1000;

export interface Probe {
  data: SpuriousDataset;
  cfg: TrainConfig;
  layout: Layout;
  testIndices: Int32Array;
  forget: Int32Array;
  retainSample: Int32Array;
}

export function makeProbe(
  data: SpuriousDataset,
  cfg: TrainConfig,
  layout: Layout,
  testIndices: Int32Array,
  forget: Int32Array,
  retain: Int32Array,
): Probe {
  const perm = new RandomState([cfg.seed, 0x6d6961]).permutation(retain.length);
  const retainSample = Int32Array.from(perm.slice(0, Math.min(RETAIN_SAMPLE, retain.length)), (k) => retain[k]).sort();
  return { data, cfg, layout, testIndices, forget, retainSample };
}

function outputs(model: Module, p: Probe, d: 'train' | 'test', idx: Int32Array): ModelOutputs & { acc: number } {
  const set = d === 'train' ? p.data.train : p.data.test;
  const pr = predict(model, p.layout, set, idx);
  const labels = batchLabels(set, idx);
  return { probs: pr.probs, labels, classes: pr.classes, acc: accuracy(pr.predicted, labels) };
}

/** Everything of Measured for one model. */
export function measureModel(model: Module, p: Probe): Measured {
  const s = spuriousScore(model, p.layout, p.data.test, { pattern: p.data.pattern, target: p.cfg.target, indices: p.testIndices });
  let rises = 0;
  let nonTarget = 0;
  p.testIndices.forEach((i, k) => {
    if (p.data.test.labels[i] === p.cfg.target) return;
    nonTarget++;
    rises += s.perImage[k];
  });
  const forget = outputs(model, p, 'train', p.forget);
  const retain = outputs(model, p, 'train', p.retainSample);
  const test = outputs(model, p, 'test', p.testIndices);
  const rs = new RandomState([p.cfg.seed, 0x617474]);
  const pick = (o: ModelOutputs, k: number): ModelOutputs => {
    const rows = o.labels.length <= k ? o.labels.length : k;
    return { probs: o.probs.subarray(0, rows * o.classes), labels: o.labels.subarray(0, rows), classes: o.classes };
  };
  const attack = trainAttack(pick(retain, ATTACK_ROWS), pick(test, ATTACK_ROWS), rs);
  const memberScores = attackScores(attack, forget);
  return {
    score: s.score,
    testAcc: s.testAcc,
    scoreNonTarget: nonTarget ? rises / nonTarget : NaN,
    patternedTestAcc: s.patternedTestAcc,
    forgetAcc: forget.acc,
    retainAcc: retain.acc,
    forgetMemberRate: memberScores.filter((v) => v > 0).length / memberScores.length,
  };
}

export interface Distance {
  paramL2: number; // ||theta - theta_retrained||_2
  testKl: number; // mean over test images of KL(p_retrained || p)
}

export function distanceTo(model: Module, retrained: Module, p: Probe): Distance {
  const a = flatCopy(model);
  const b = flatCopy(retrained);
  let sq = 0;
  for (let k = 0; k < a.length; k++) sq += (a[k] - b[k]) ** 2;
  const pa = predict(model, p.layout, p.data.test, p.testIndices);
  const pb = predict(retrained, p.layout, p.data.test, p.testIndices);
  const c = pa.classes;
  let kl = 0;
  const tiny = 1e-12; // float32 softmax can underflow to 0
  for (let i = 0; i < p.testIndices.length; i++) {
    for (let j = 0; j < c; j++) {
      const q = pb.probs[i * c + j];
      if (q > 0) kl += q * (Math.log(q) - Math.log(Math.max(pa.probs[i * c + j], tiny)));
    }
  }
  return { paramL2: Math.sqrt(sq), testKl: kl / p.testIndices.length };
}

/** ||theta_a - theta_b||_2: how far a method moved the weights. */
export function parameterDistance(a: Float64Array, b: Float64Array): number {
  let sq = 0;
  for (let k = 0; k < a.length; k++) sq += (a[k] - b[k]) ** 2;
  return Math.sqrt(sq);
}
