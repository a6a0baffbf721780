// Kind 'sensitivity': occlusion curve, its area and the input-gradient norm of a trained
// model (experiments/sensitivity.ts), on the reference's clean training images. It
// depends on the train run named by its train keys.
import { loadDataset } from '../../data/datasets.ts';
import { loadRun } from '../../train/trainer.ts';
import type { TrainConfig } from '../../train/config.ts';
import { UserError } from '../../util/errors.ts';
import { modelSensitivity, SENSITIVITY_DEFAULTS, type SensitivityResult } from '../sensitivity.ts';
import { TRAIN_KEYS, TRAIN_REQUIRED, trainConfigOf, trainPart } from './train.ts';
import { checkKeys, resultWithNumbers, type RunKind } from './types.ts';

export type SensitivityConfig = TrainConfig & { images: number; steps: number };

export interface SensitivityRecord extends SensitivityResult {
  model: string;
  dataset: string;
  epoch: number;
}

const KEYS: readonly string[] = [...TRAIN_KEYS, 'images', 'steps'];

function positiveInt(input: Record<string, unknown>, k: string, fallback: number): number {
  const v = input[k] ?? fallback;
  if (!Number.isInteger(v) || (v as number) < 1) throw new UserError(`${k}: got ${JSON.stringify(v)}, expected a positive integer`);
  return v as number;
}

export const sensitivityKind: RunKind<SensitivityConfig, SensitivityRecord> = {
  name: 'sensitivity',
  description: 'occlusion curve, its area and the mean input-gradient norm of a trained model',
  keys: KEYS,
  required: TRAIN_REQUIRED,
  configure(input) {
    checkKeys(input, 'sensitivity', KEYS, TRAIN_REQUIRED);
    return {
      ...trainConfigOf(input),
      images: positiveInt(input, 'images', SENSITIVITY_DEFAULTS.images),
      steps: positiveInt(input, 'steps', SENSITIVITY_DEFAULTS.steps),
    };
  },
  // the stored shape of `spurlab sensitivity --store` before run kinds, so its keys still match
  storeConfig: (c) => ({
    experiment: 'sensitivity',
    sensitivityVersion: 1,
    ...trainPart(c),
    epoch: c.epochs,
    images: c.images,
    steps: c.steps,
    imageSeed: SENSITIVITY_DEFAULTS.imageSeed,
    maskSeed: SENSITIVITY_DEFAULTS.maskSeed,
  }),
  dependencies: (c) => [trainPart(c)],
  async run(c, ctx) {
    const dir = await ctx.trainedModel(trainPart(c));
    const run = loadRun(dir, ctx.dataDir);
    if (run.epoch !== c.epochs)
      throw new UserError(`${dir}: the run has finished ${run.epoch} of ${c.epochs} epochs; finish it first (spurlab train --resume ${dir})`);
    const clean = loadDataset(c.dataset, { dataDir: ctx.dataDir }).train;
    const m = modelSensitivity(run.model, run.layout, clean, { images: c.images, steps: c.steps });
    return { result: { model: c.model, dataset: c.dataset, epoch: run.epoch, ...m } };
  },
  checkResult: (value, where) => resultWithNumbers<SensitivityRecord>(value, ['images', 'area', 'meanProb', 'inputGradNorm'], where),
  groupBy: ['dataset', 'model'],
  columns: [
    { name: 'area', value: (r) => r.area },
    { name: 'meanProb', value: (r) => r.meanProb },
    { name: 'inputGradNorm', value: (r) => r.inputGradNorm },
  ],
  reportSections: ['sensitivity'],
  label: (c) => `${c.dataset} ${c.pattern} n=${c.n} seed=${c.seed} ${c.model} (sensitivity)`,
  outcome: (r) => `area ${r.area.toFixed(3)}, input-gradient norm ${r.inputGradNorm.toFixed(4)}`,
};
