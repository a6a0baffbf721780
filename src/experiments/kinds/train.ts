// Kind 'train': train a model on a spurious data set and measure its spurious score
// (runner.ts). Its config is the TrainConfig itself, so stores written before run kinds
// existed keep their keys. Every other kind names its model by such a config.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DATASETS, type DatasetName } from '../../data/datasets.ts';
import { makePattern } from '../../data/patterns.ts';
import { loadCheckpoint, metadataJson } from '../../store/checkpoint.ts';
import { runKey } from '../../store/runKey.ts';
import { makeTrainConfig, TRAIN_DEFAULTS, type TrainConfig } from '../../train/config.ts';
import { UserError } from '../../util/errors.ts';
import { runExperiment, type RunResult } from '../runner.ts';
import { checkKeys, resultWithNumbers, type RunKind } from './types.ts';

export const DATA_KEYS = ['dataset', 'pattern', 'n', 'target', 'targetB', 'seed'] as const;
export const TRAINING_KEYS = [
  'model',
  'optimizer',
  'lr',
  'momentum',
  'weightDecay',
  'gradClip',
  'batchSize',
  'epochs',
  'aug',
  'inputNoise',
  'modelSeed',
  'scheduler',
] as const;
const SETTING_KEYS = ['dataset', 'pattern', 'n', 'target', 'seed', ...TRAINING_KEYS] as const;

/** The data set and training settings of a config: what the membership kinds (mia, lira) store beside their own keys. */
export function trainingSettingOf(cfg: TrainConfig): Pick<TrainConfig, (typeof SETTING_KEYS)[number]> {
  return Object.fromEntries(SETTING_KEYS.map((k) => [k, cfg[k]])) as Pick<TrainConfig, (typeof SETTING_KEYS)[number]>;
}

export const TRAIN_KEYS: readonly string[] = [...DATA_KEYS, ...TRAINING_KEYS, 'trainSubset', 'testSubset', 'dropSpurious', 'keepCheckpoints'];
export const TRAIN_REQUIRED = ['dataset', 'pattern', 'n', 'target', 'seed', 'model'] as const;

/**
 * Training images per class (the data sets' published label counts), so a sweep's n is
 * checked before anything is loaded or trained. test/experiments/kinds.test.ts checks
 * MNIST's against its label file.
 */
const TRAIN_CLASS_SIZES: Record<DatasetName, readonly number[]> = {
  mnist: [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949],
  fashion: new Array<number>(10).fill(6000),
  cifar10: new Array<number>(10).fill(5000),
  cifar100: new Array<number>(100).fill(500),
  cifar100coarse: new Array<number>(20).fill(2500),
};

const patternChecked = new Set<string>();

/**
 * What makeTrainConfig cannot see without the data: the pattern can be built for the
 * data set's images, and n fits in the target class(es). Throws a UserError.
 */
export function checkRunnable(cfg: TrainConfig): void {
  const info = DATASETS[cfg.dataset];
  const id = `${cfg.dataset}\u0000${cfg.pattern}`;
  if (!patternChecked.has(id)) {
    makePattern(cfg.pattern, { height: info.height, width: info.width, channels: info.channels }, cfg.seed);
    patternChecked.add(id);
  }
  for (const cls of cfg.targetB === null ? [cfg.target] : [cfg.target, cfg.targetB]) {
    const size = TRAIN_CLASS_SIZES[cfg.dataset][cls];
    if (size === undefined) throw new UserError(`target: got ${cls}, expected a class of ${cfg.dataset} (0 to ${info.numClasses - 1})`);
    if (cfg.n > size) throw new UserError(`n: got ${cfg.n}, larger than class ${cls} of ${cfg.dataset} (${size} training images)`);
  }
}

/** The training config inside a flat config of any kind (its train keys), validated and completed. */
export function trainConfigOf(input: Record<string, unknown>): TrainConfig {
  const v = (k: string) => input[k] as never;
  const rest = Object.fromEntries(
    TRAIN_KEYS.filter((k) => !(DATA_KEYS as readonly string[]).includes(k) && input[k] !== undefined).map((k) => [k, input[k]]),
  );
  for (const [k, value] of Object.entries(rest)) {
    const expected = typeof (TRAIN_DEFAULTS as Record<string, unknown>)[k];
    if (k !== 'model' && expected !== 'undefined' && typeof value !== expected)
      throw new UserError(`${k}: got ${JSON.stringify(value)}, expected a ${expected}`);
  }
  for (const k of ['dataset', 'pattern'] as const)
    if (typeof input[k] !== 'string') throw new UserError(`${k}: got ${JSON.stringify(input[k])}, expected a string`);
  for (const k of ['n', 'target', 'seed'] as const) {
    if (!Number.isInteger(input[k]) || (input[k] as number) < 0)
      throw new UserError(`${k}: got ${JSON.stringify(input[k])}, expected a non-negative integer`);
  }
  const cfg = makeTrainConfig({
    data: { dataset: v('dataset'), pattern: v('pattern'), n: v('n'), target: v('target'), targetB: v('targetB') ?? null, seed: v('seed') },
    ...rest,
  });
  checkRunnable(cfg);
  return cfg;
}

/** The train keys of a config of any kind (made by configure, so already valid) as a TrainConfig. */
export function trainPart(c: TrainConfig): TrainConfig {
  return {
    dataset: c.dataset,
    pattern: c.pattern,
    n: c.n,
    target: c.target,
    targetB: c.targetB,
    seed: c.seed,
    model: c.model,
    optimizer: c.optimizer,
    lr: c.lr,
    momentum: c.momentum,
    weightDecay: c.weightDecay,
    gradClip: c.gradClip,
    batchSize: c.batchSize,
    epochs: c.epochs,
    aug: c.aug,
    inputNoise: c.inputNoise,
    modelSeed: c.modelSeed,
    scheduler: c.scheduler,
    trainSubset: c.trainSubset,
    testSubset: c.testSubset,
    dropSpurious: c.dropSpurious,
    // only when set: a run that keeps no epoch checkpoints keeps its key from before the option
    ...(c.keepCheckpoints ? { keepCheckpoints: c.keepCheckpoints } : {}),
  };
}

export const trainKind: RunKind<TrainConfig, RunResult> = {
  name: 'train',
  description: 'train a model on a spurious data set and measure its spurious score',
  keys: TRAIN_KEYS,
  required: TRAIN_REQUIRED,
  configure(input) {
    checkKeys(input, 'train', TRAIN_KEYS, TRAIN_REQUIRED);
    return trainConfigOf(input);
  },
  storeConfig: (config) => config,
  dependencies: () => [],
  async run(config, ctx) {
    const out = await runExperiment(config, {
      dataDir: ctx.dataDir,
      artifactDir: ctx.artifactDir,
      events: { onStep: ctx.events?.onStep, onEpoch: (r) => ctx.events?.onEpoch?.('train', r) },
    });
    return { result: out.result, perImage: out.perImage, resumedFromEpoch: out.resumedFromEpoch };
  },
  checkResult: (value, where) =>
    resultWithNumbers<RunResult>(
      value,
      ['score', 'scoreNonTarget', 'testAcc', 'patternedTestAcc', 'targetRate', 'trainAcc', 'nTest', 'epochs', 'seconds'],
      where,
    ),
  groupBy: ['dataset', 'pattern', 'model', 'optimizer', 'target', 'n'],
  columns: [
    { name: 'score', value: (r) => r.score },
    { name: 'testAcc', value: (r) => r.testAcc },
  ],
  reportSections: ['train', 'trainSummaries'],
  label: (c) => `${c.dataset} ${c.pattern} n=${c.n} target=${c.target} seed=${c.seed} ${c.model} ${c.optimizer}`,
  outcome: (r) => `score ${r.score.toFixed(4)}, test acc ${(100 * r.testAcc).toFixed(2)}%`,
};

/** Whether dir holds the checkpoint of cfg trained to its last epoch (a dependency that can be reused). */
export function finishedRunIn(dir: string, cfg: TrainConfig): boolean {
  const path = join(dir, 'model.safetensors');
  if (!existsSync(path)) return false;
  try {
    const ckpt = loadCheckpoint(path);
    return runKey(metadataJson<TrainConfig>(ckpt, 'config')) === runKey(cfg) && metadataJson<number>(ckpt, 'epoch') === cfg.epochs;
  } catch {
    return false; // an unreadable checkpoint is trained over
  }
}
