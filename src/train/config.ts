// The complete configuration of one training run. Flat keys so the results store can
// group on them (dataset, pattern, n, target, seed, model, optimizer); everything that
// changes the trained weights is in here, so its hash identifies the run.
import { UserError } from '../util/errors.ts';
import { resolveSpuriousSpec, type SpuriousOptions, type SpuriousSpec } from '../data/spurious.ts';
import { findModel } from '../nn/models/index.ts';

export interface TrainConfig {
  dataset: SpuriousSpec['dataset'];
  pattern: string;
  n: number;
  target: number;
  targetB: number | null;
  seed: number; // the data set seed: which images get the pattern, and the noise u
  model: string;
  optimizer: 'adam' | 'sgd';
  lr: number;
  momentum: number;
  weightDecay: number;
  gradClip: number; // clamp every gradient element to [-c, c] when > 0
  batchSize: number;
  epochs: number;
  aug: 'none' | 'aug01';
  inputNoise: number; // sigma of Gaussian noise added to training inputs
  modelSeed: number; // initial weights, shuffling, dropout, augmentation, noise
  scheduler: boolean; // MultiStepLR with the reference's milestones
  trainSubset: number; // 0: every training image; k: a seeded subset of k (spurious ones always in)
  testSubset: number; // 0: every test image; k: a seeded subset of k
  dropSpurious: boolean; // train without the spurious examples (retraining for deletion)
  // keep the weights of every k-th epoch (and the last) under <out>/epochs/, for TracIn and
  // TRAK; absent when 0, so configs that keep none hash as before the key existed
  keepCheckpoints?: number;
}

/** The paper's MNIST/Fashion setting: LargeMLP would be chosen by the caller. */
export const TRAIN_DEFAULTS = {
  optimizer: 'adam',
  lr: 0.01,
  momentum: 0.9,
  weightDecay: 0,
  gradClip: 0,
  batchSize: 128,
  epochs: 70,
  aug: 'none',
  inputNoise: 0,
  modelSeed: 0,
  scheduler: true,
  trainSubset: 0,
  testSubset: 0,
  dropSpurious: false,
} as const;

const NUMERIC: [keyof TrainConfig, (v: number) => boolean, string][] = [
  ['lr', (v) => v > 0, 'a positive number'],
  ['momentum', (v) => v >= 0 && v < 1, 'a number in [0, 1)'],
  ['weightDecay', (v) => v >= 0, 'a non-negative number'],
  ['gradClip', (v) => v >= 0, 'a non-negative number (0 = no clipping)'],
  ['batchSize', (v) => Number.isInteger(v) && v >= 1, 'a positive integer'],
  ['epochs', (v) => Number.isInteger(v) && v >= 0, 'a non-negative integer'],
  ['inputNoise', (v) => v >= 0, 'a non-negative number'],
  ['modelSeed', (v) => Number.isInteger(v) && v >= 0 && v <= 0xffffffff, 'an integer in [0, 2^32)'],
  ['trainSubset', (v) => Number.isInteger(v) && v >= 0, 'a non-negative integer (0 = all)'],
  ['testSubset', (v) => Number.isInteger(v) && v >= 0, 'a non-negative integer (0 = all)'],
];

export type TrainConfigInput = { data: string | SpuriousOptions } & Partial<Omit<TrainConfig, keyof SpuriousSpec>>;

/** Fills defaults, resolves the data set name and validates every value. */
export function makeTrainConfig(input: TrainConfigInput): TrainConfig {
  checkJsonTypes(input);
  const spec = resolveSpuriousSpec(input.data);
  const model = findModel(input.model ?? 'LargeMLP').name;
  const cfg: TrainConfig = {
    dataset: spec.dataset,
    pattern: spec.pattern,
    n: spec.n,
    target: spec.target,
    targetB: spec.targetB,
    seed: spec.seed,
    model,
    optimizer: input.optimizer ?? TRAIN_DEFAULTS.optimizer,
    lr: input.lr ?? TRAIN_DEFAULTS.lr,
    momentum: input.momentum ?? (input.optimizer === 'sgd' ? TRAIN_DEFAULTS.momentum : 0),
    weightDecay: input.weightDecay ?? TRAIN_DEFAULTS.weightDecay,
    gradClip: input.gradClip ?? TRAIN_DEFAULTS.gradClip,
    batchSize: input.batchSize ?? TRAIN_DEFAULTS.batchSize,
    epochs: input.epochs ?? TRAIN_DEFAULTS.epochs,
    aug: input.aug ?? TRAIN_DEFAULTS.aug,
    inputNoise: input.inputNoise ?? TRAIN_DEFAULTS.inputNoise,
    modelSeed: input.modelSeed ?? TRAIN_DEFAULTS.modelSeed,
    scheduler: input.scheduler ?? TRAIN_DEFAULTS.scheduler,
    trainSubset: input.trainSubset ?? TRAIN_DEFAULTS.trainSubset,
    testSubset: input.testSubset ?? TRAIN_DEFAULTS.testSubset,
    dropSpurious: input.dropSpurious ?? TRAIN_DEFAULTS.dropSpurious,
  };
  if (input.keepCheckpoints !== undefined && input.keepCheckpoints !== 0) cfg.keepCheckpoints = input.keepCheckpoints;
  validateTrainConfig(cfg);
  return cfg;
}

// Inputs may come from JSON (a sweep file), where any value can have any type.
function checkJsonTypes(input: TrainConfigInput): void {
  const expect = (key: keyof TrainConfigInput, type: 'string' | 'boolean') => {
    const v = input[key];
    if (v !== undefined && typeof v !== type) throw new UserError(`${key}: got ${JSON.stringify(v)}, expected a ${type}`);
  };
  for (const key of ['model', 'optimizer', 'aug'] as const) expect(key, 'string');
  for (const key of ['scheduler', 'dropSpurious'] as const) expect(key, 'boolean');
}

export function validateTrainConfig(cfg: TrainConfig): void {
  if (cfg.optimizer !== 'adam' && cfg.optimizer !== 'sgd') throw new UserError(`optimizer: got "${cfg.optimizer}", expected "adam" or "sgd"`);
  if (cfg.aug !== 'none' && cfg.aug !== 'aug01') throw new UserError(`aug: got "${cfg.aug}", expected "none" or "aug01"`);
  for (const [key, ok, expected] of NUMERIC) {
    const v = cfg[key] as number;
    if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) throw new UserError(`${key}: got ${JSON.stringify(v)}, expected ${expected}`);
  }
  const keep = cfg.keepCheckpoints;
  if (keep !== undefined && (typeof keep !== 'number' || !Number.isInteger(keep) || keep < 1)) {
    throw new UserError(`keepCheckpoints: got ${JSON.stringify(keep)}, expected a positive integer (keep every k-th epoch) or 0 (none)`);
  }
}

/** The data set part of a config, as the data layer names it. */
export function spuriousSpecOf(cfg: TrainConfig): SpuriousSpec {
  return { dataset: cfg.dataset, pattern: cfg.pattern, n: cfg.n, target: cfg.target, targetB: cfg.targetB, seed: cfg.seed };
}
