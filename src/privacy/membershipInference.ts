// Membership inference on a model trained with rare spurious examples (PROTOCOL section
// 8): do the n patterned training images leak their membership more than the others?
// Trains a target model on target-train (which holds the n spurious examples) and a
// shadow model on shadow-train, fits the attack on the shadow model's outputs and
// evaluates it on the target model's. Recorded in the results store as kind 'mia'
// (experiments/kinds/mia.ts).
import { RandomState } from '../data/numpyRandom.ts';
import { makeSpuriousDataset, type SpuriousDataset } from '../data/spurious.ts';
import { join } from 'node:path';
import { makeTrainConfig, type TrainConfig, type TrainConfigInput } from '../train/config.ts';
import { train, type EpochRecord } from '../train/trainer.ts';
import { batchLabels } from '../train/batches.ts';
import { predict } from '../train/evaluate.ts';
import type { Module } from '../nn/module.ts';
import type { Layout } from '../train/batches.ts';
import { UserError } from '../util/errors.ts';
import { membershipSplits, type MembershipSplits } from './membershipSplits.ts';
import { evaluateAttack, trainAttack, type AttackEvaluation, type ModelOutputs } from './shadowAttack.ts';
import { ATTACK_C_GRID } from './crossValidation.ts';

/** Bumped when the attack or the splits change, so stored results are not mixed up. */
export const MIA_VERSION = 1;

export type MiaTrainingOptions = Omit<TrainConfigInput, 'data' | 'trainSubset' | 'testSubset' | 'dropSpurious' | 'keepCheckpoints'>;

export interface MembershipOptions extends MiaTrainingOptions {
  dataset: string;
  pattern?: string; // default R3, as in the paper
  n: number;
  target?: number; // default 0
  seed: number; // data set seed: spurious examples, noise pattern, and the halves
  /** Training images used for both halves together (0 = all); for quick runs and tests. */
  trainLimit?: number;
  /** Test images used for both halves together (0 = all). */
  testLimit?: number;
  /** Equal numbers of members and non-members for training and evaluating the attack (default true). */
  balance?: boolean;
  dataDir?: string;
  /** Checkpoints of the target and shadow models go to DIR/target and DIR/shadow; a killed run continues from them. */
  artifactDir?: string;
  data?: SpuriousDataset; // already loaded (sweeps, tests)
  events?: MembershipEvents;
}

export interface MembershipEvents {
  onPhase?(phase: 'target' | 'shadow' | 'attack'): void;
  onEpoch?(phase: 'target' | 'shadow', record: EpochRecord): void;
}

/** The headline numbers (the JSON). */
export interface MembershipSummary {
  n: number;
  attackAcc: number;
  attackAccSpurious: number;
  auc: number;
  tprAt1Fpr: number;
  targetTestAcc: number;
}

export interface MembershipDetails extends Omit<AttackEvaluation, 'attackAcc' | 'attackAccSpurious' | 'auc' | 'tprAt1Fpr'> {
  C: number;
  cvScores: number[]; // mean CV accuracy per C of the grid
  cGrid: number[];
  attackTrainAcc: number;
  attackTrainRows: { members: number; nonMembers: number };
  spuriousIndices: number[];
  targetTrainAcc: number;
  shadowTrainAcc: number;
  shadowTestAcc: number;
  sizes: { targetTrain: number; shadowTrain: number; targetTest: number; shadowTest: number };
  seconds: number;
}

export interface MembershipResult extends MembershipSummary {
  details: MembershipDetails;
}

/** The flat configuration of a run: the training config plus the attack's settings. */
export function membershipConfig(opts: MembershipOptions): { train: TrainConfig; store: Record<string, unknown> } {
  const {
    dataset,
    pattern,
    n,
    target,
    seed,
    trainLimit,
    testLimit,
    balance,
    dataDir: _d,
    artifactDir: _a,
    data: _data,
    events: _e,
    ...training
  } = opts;
  const cfg = makeTrainConfig({ ...training, data: { dataset, pattern: pattern ?? 'R3', n, target: target ?? 0, seed } });
  for (const [name, v] of [
    ['trainLimit', trainLimit],
    ['testLimit', testLimit],
  ] as const) {
    if (v !== undefined && !(Number.isInteger(v) && v >= 0)) throw new UserError(`${name}: got ${v}, expected a non-negative integer (0 = all)`);
  }
  const { trainSubset: _ts, testSubset: _tt, dropSpurious: _ds, ...kept } = cfg;
  return {
    train: cfg,
    store: {
      experiment: 'mia',
      miaVersion: MIA_VERSION,
      ...kept,
      trainLimit: trainLimit ?? 0,
      testLimit: testLimit ?? 0,
      balance: balance ?? true,
      attack: { features: 'sorted-softmax+correct', cGrid: [...ATTACK_C_GRID], folds: 3 },
    },
  };
}

function outputs(model: Module, layout: Layout, data: SpuriousDataset, split: 'train' | 'test', indices: Int32Array): ModelOutputs {
  const d = split === 'train' ? data.train : data.test;
  const p = predict(model, layout, d, indices);
  return { probs: p.probs, labels: batchLabels(d, indices), classes: p.classes };
}

function accuracyOfOutputs(o: ModelOutputs): number {
  let hit = 0;
  for (let i = 0; i < o.labels.length; i++) {
    let best = 0;
    for (let c = 1; c < o.classes; c++) if (o.probs[i * o.classes + c] > o.probs[i * o.classes + best]) best = c;
    if (best === o.labels[i]) hit++;
  }
  return hit / o.labels.length;
}

/** Row positions of the spurious indices inside the (ascending) target-train indices. */
function spuriousRows(splits: MembershipSplits, spurious: readonly number[]): number[] {
  const position = new Map<number, number>();
  splits.targetTrain.forEach((idx, row) => position.set(idx, row));
  return spurious.map((i) => {
    const row = position.get(i);
    if (row === undefined) throw new Error(`membership inference: spurious example ${i} is not in target-train`);
    return row;
  });
}

export async function runMembershipInference(opts: MembershipOptions): Promise<MembershipResult> {
  const started = Date.now();
  const { train: cfg } = membershipConfig(opts);
  const data =
    opts.data ??
    makeSpuriousDataset({ dataset: cfg.dataset, pattern: cfg.pattern, n: cfg.n, target: cfg.target, seed: cfg.seed }, { dataDir: opts.dataDir });
  if (data.spec.n !== cfg.n || data.spec.seed !== cfg.seed || data.spec.target !== cfg.target || data.spec.pattern !== cfg.pattern) {
    throw new Error(`membership inference: the given data set ${data.name} does not match the options`);
  }
  const splits = membershipSplits(data.train.n, data.test.n, data.spuriousIndices, cfg.seed, { train: opts.trainLimit, test: opts.testLimit });

  opts.events?.onPhase?.('target');
  const checkpointDir = (model: string) => (opts.artifactDir === undefined ? {} : { outDir: join(opts.artifactDir, model), resumeIfPresent: true });
  const target = await train(cfg, {
    data,
    trainIndices: splits.targetTrain,
    testIndices: splits.targetTest,
    ...checkpointDir('target'),
    events: { onEpoch: (r) => opts.events?.onEpoch?.('target', r) },
  });
  // A different initialisation and batch order for the shadow model, as the reference's two
  // successive fits from one seeded generator.
  const shadowCfg: TrainConfig = { ...cfg, modelSeed: (cfg.modelSeed + 1) >>> 0 };
  opts.events?.onPhase?.('shadow');
  const shadow = await train(shadowCfg, {
    data,
    trainIndices: splits.shadowTrain,
    testIndices: splits.shadowTest,
    ...checkpointDir('shadow'),
    events: { onEpoch: (r) => opts.events?.onEpoch?.('shadow', r) },
  });

  opts.events?.onPhase?.('attack');
  const shadowMembers = outputs(shadow.model, shadow.layout, data, 'train', splits.shadowTrain);
  const shadowNonMembers = outputs(shadow.model, shadow.layout, data, 'test', splits.shadowTest);
  const targetMembers = outputs(target.model, target.layout, data, 'train', splits.targetTrain);
  const targetNonMembers = outputs(target.model, target.layout, data, 'test', splits.targetTest);
  const balance = opts.balance ?? true;
  const rs = new RandomState([cfg.seed, 8]);
  const attack = trainAttack(shadowMembers, shadowNonMembers, rs, { balance });
  const ev = evaluateAttack(attack, targetMembers, targetNonMembers, spuriousRows(splits, data.spuriousIndices), rs, { balance });

  const { attackAcc, attackAccSpurious, auc, tprAt1Fpr, ...rest } = ev;
  return {
    n: cfg.n,
    attackAcc,
    attackAccSpurious,
    auc,
    tprAt1Fpr,
    targetTestAcc: accuracyOfOutputs(targetNonMembers),
    details: {
      ...rest,
      C: attack.C,
      cvScores: attack.cvScores,
      cGrid: [...ATTACK_C_GRID],
      attackTrainAcc: attack.trainAcc,
      attackTrainRows: { members: attack.members, nonMembers: attack.nonMembers },
      spuriousIndices: [...data.spuriousIndices],
      targetTrainAcc: accuracyOfOutputs(targetMembers),
      shadowTrainAcc: accuracyOfOutputs(shadowMembers),
      shadowTestAcc: accuracyOfOutputs(shadowNonMembers),
      sizes: {
        targetTrain: splits.targetTrain.length,
        shadowTrain: splits.shadowTrain.length,
        targetTest: splits.targetTest.length,
        shadowTest: splits.shadowTest.length,
      },
      seconds: (Date.now() - started) / 1000,
    },
  };
}
