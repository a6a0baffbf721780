// Kind 'detect': score a trained run's training examples by one detection method
// (detect/methods.ts) and measure how well the scores find its spurious examples,
// optionally removing the top k and retraining. Its config is the base run's TrainConfig
// plus the method and the options that method reads (others are dropped, so equal runs
// share a key); it depends on that train run. TracIn and TRAK need the base run's epoch
// checkpoints: without keepCheckpoints they get one every tenth of the epochs, which makes
// their base run a different one from the other methods' (give keepCheckpoints to all
// methods of a grid, as the detect preset does, to share one).
import { join } from 'node:path';
import { detectRun, type DetectResult } from '../../detect/detect.ts';
import { checkDetectMethod, DETECT_DEFAULTS, type DetectMethod, type DetectOptions } from '../../detect/methods.ts';
import type { TrainConfig } from '../../train/config.ts';
import { UserError } from '../../util/errors.ts';
import { TRAIN_KEYS, TRAIN_REQUIRED, trainConfigOf, trainPart } from './train.ts';
import { checkKeys, objectAt, resultWithNumbers, type RunKind } from './types.ts';

export interface DetectFields {
  method: DetectMethod;
  projection?: number;
  trakModels?: number;
  damp?: number;
  scale?: number | 'auto';
  depth?: number;
  repeats?: number;
  hessianBatch?: number;
  components?: number;
  detectSeed?: number;
  thenRetrain: number;
}

export type DetectConfig = TrainConfig & DetectFields;

const OPTION_FIELDS = ['projection', 'trakModels', 'damp', 'scale', 'depth', 'repeats', 'hessianBatch', 'components', 'detectSeed'] as const;
const KEYS: readonly string[] = [...TRAIN_KEYS, 'method', ...OPTION_FIELDS, 'thenRetrain'];
const REQUIRED: readonly string[] = [...TRAIN_REQUIRED, 'method'];

/** The options each method reads (the rest would only split equal runs into different keys). */
const READS: Record<DetectMethod, readonly (typeof OPTION_FIELDS)[number][]> = {
  loss: [],
  margin: [],
  'grad-norm': [],
  tracin: [],
  memorization: [],
  'self-influence': ['damp', 'scale', 'depth', 'repeats', 'hessianBatch', 'detectSeed'],
  trak: ['projection', 'trakModels', 'detectSeed'],
  spectral: ['detectSeed'],
  'activation-clustering': ['components', 'detectSeed'],
};

function optionValue(input: Record<string, unknown>, k: (typeof OPTION_FIELDS)[number]): number | 'auto' {
  const v = input[k] ?? (k === 'detectSeed' ? DETECT_DEFAULTS.seed : DETECT_DEFAULTS[k]);
  if (k === 'scale' && v === 'auto') return v;
  const ok =
    k === 'damp'
      ? typeof v === 'number' && v > 0 && v < 1
      : k === 'scale'
        ? typeof v === 'number' && v > 0
        : Number.isInteger(v) && (v as number) >= (k === 'detectSeed' ? 0 : 1);
  if (!ok)
    throw new UserError(
      `${k}: got ${JSON.stringify(v)}, expected ${k === 'damp' ? 'a number in (0, 1)' : k === 'scale' ? '"auto" or a positive number' : k === 'detectSeed' ? 'a non-negative integer' : 'a positive integer'}`,
    );
  return v as number | 'auto';
}

export function detectOptionsOf(c: DetectConfig): Partial<DetectOptions> {
  const o: Partial<DetectOptions> = {};
  for (const k of READS[c.method]) {
    if (k === 'detectSeed') o.seed = c.detectSeed;
    else (o as Record<string, unknown>)[k] = c[k];
  }
  return o;
}

export const detectKind: RunKind<DetectConfig, DetectResult> = {
  name: 'detect',
  description: "score a trained run's training examples by a detection method: are the spurious ones found?",
  keys: KEYS,
  required: REQUIRED,
  configure(input) {
    checkKeys(input, 'detect', KEYS, REQUIRED);
    const method = checkDetectMethod(String(input.method));
    if (method === 'memorization')
      throw new UserError(
        'method memorization reads a LiRA export of the data set, which a sweep does not make; use spurlab detect RUN --method memorization --memorization FILE',
      );
    const withCheckpoints =
      (method === 'tracin' || method === 'trak') && input.keepCheckpoints === undefined
        ? { ...input, keepCheckpoints: Math.max(1, Math.floor(Number(input.epochs ?? 70) / 10)) }
        : input;
    const train = trainConfigOf(withCheckpoints);
    if (train.n === 0 || train.dropSpurious)
      throw new UserError(`detect needs a run with spurious examples to find: got n = ${train.n}${train.dropSpurious ? ' and dropSpurious' : ''}`);
    const thenRetrain = input.thenRetrain ?? 0;
    if (!Number.isInteger(thenRetrain) || (thenRetrain as number) < 0)
      throw new UserError(`thenRetrain: got ${JSON.stringify(thenRetrain)}, expected a non-negative integer (0 = no retraining)`);
    const config: DetectConfig = { ...train, method, thenRetrain: thenRetrain as number };
    for (const k of READS[method]) (config as unknown as Record<string, unknown>)[k] = optionValue(input, k);
    return config;
  },
  storeConfig: (c) => c,
  dependencies: (c) => [trainPart(c)],
  async run(c, ctx) {
    const dir = await ctx.trainedModel(trainPart(c));
    const result = await detectRun(dir, c.method, {
      options: detectOptionsOf(c),
      dataDir: ctx.dataDir,
      thenRetrain: c.thenRetrain,
      retrainOutDir: ctx.artifactDir ? join(ctx.artifactDir, 'retrain') : undefined,
      retrainEvents: () => ({ onStep: ctx.events?.onStep, onEpoch: (r) => ctx.events?.onEpoch?.('retrain', r) }),
    });
    return { result };
  },
  checkResult(value, where) {
    const r = objectAt(value, where);
    if (!Array.isArray(r.ranks) || r.ranks.some((x) => typeof x !== 'number'))
      throw new UserError(`${where}: result field "ranks" is ${JSON.stringify(r.ranks)}; expected an array of numbers`);
    if (r.retrain !== null)
      resultWithNumbers(r.retrain, ['k', 'removedSpurious', 'scoreBefore', 'testAccBefore', 'score', 'testAcc'], `${where}: retrain`);
    checkDetectMethod(String(r.method));
    return resultWithNumbers<DetectResult>(r, ['precisionAtN', 'recallAt10N', 'auroc', 'aurocTargetClass', 'seconds', 'n', 'trainSize'], where);
  },
  groupBy: ['dataset', 'pattern', 'model', 'method', 'n'],
  columns: [
    { name: 'precisionAtN', value: (r) => r.precisionAtN },
    { name: 'recallAt10N', value: (r) => r.recallAt10N },
    { name: 'auroc', value: (r) => r.auroc },
    { name: 'aurocTargetClass', value: (r) => r.aurocTargetClass },
    { name: 'seconds', value: (r) => r.seconds },
    { name: 'scoreAfterRetrain', value: (r) => r.retrain?.score ?? NaN },
    { name: 'testAccAfterRetrain', value: (r) => r.retrain?.testAcc ?? NaN },
  ],
  reportSections: ['detect'],
  label: (c) => `${c.dataset} ${c.pattern} n=${c.n} seed=${c.seed} ${c.model} detect by ${c.method}`,
  outcome: (r) =>
    `precision at n ${r.precisionAtN.toFixed(3)}, AUROC ${r.auroc.toFixed(3)}, ${r.seconds.toFixed(1)} s${r.retrain ? `; after removing ${r.retrain.k}: score ${r.retrain.score.toFixed(4)}` : ''}`,
};
