// Kind 'weights': an MLP's first-layer weight map (max weight per pixel), and with
// `clean` its absolute difference from the map of the same model trained with n = 0
// (experiments/weightmap.ts). Depends on the train run, and on the clean one with clean.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DATASETS } from '../../data/datasets.ts';
import { RandomState } from '../../data/numpyRandom.ts';
import { createModel } from '../../nn/models/index.ts';
import { loadCheckpoint, loadModelState, metadataJson } from '../../store/checkpoint.ts';
import type { TrainConfig } from '../../train/config.ts';
import { UserError } from '../../util/errors.ts';
import { firstLayerWeightMap, requireMlp, weightMapDifference, weightMapStats, type ChannelMode, type WeightMap } from '../weightmap.ts';
import { TRAIN_KEYS, TRAIN_REQUIRED, trainConfigOf, trainPart } from './train.ts';
import { checkKeys, objectAt, resultWithNumbers, type RunKind } from './types.ts';

export type WeightsConfig = TrainConfig & { channels: ChannelMode; clean: boolean };

export interface WeightsRecord {
  model: string;
  dataset: string;
  height: number;
  width: number;
  channelMode: ChannelMode;
  panels: string[];
  /** The map's panels, concatenated (one panel of height * width for grey images or 'max'). */
  map: number[];
  /** |map - clean model's map| (with clean). */
  diff?: number[];
  min: number;
  max: number;
  mean: number;
  /** Of the difference when there is one, else of the map. */
  maxDiff: number;
}

const KEYS: readonly string[] = [...TRAIN_KEYS, 'channels', 'clean'];

/** A directory that holds a spurlab training checkpoint, or a UserError saying what is wrong. */
export function checkRunDir(dir: string): void {
  if (!existsSync(dir)) throw new UserError(`run directory ${dir} does not exist`);
  if (!statSync(dir).isDirectory()) throw new UserError(`${dir} is not a directory; expected a run directory holding model.safetensors`);
  if (!existsSync(join(dir, 'model.safetensors'))) throw new UserError(`${dir} is not a run directory: no model.safetensors in it`);
}

/** The weight map of the run in dir; only the weights are read (the image shape comes from the registry). */
export function weightMapOfRun(dir: string, channelMode: ChannelMode): { map: WeightMap; config: TrainConfig; epoch: number } {
  checkRunDir(dir);
  const ckpt = loadCheckpoint(join(dir, 'model.safetensors'));
  const config = metadataJson<TrainConfig>(ckpt, 'config');
  const info = DATASETS[config.dataset];
  if (!info) throw new UserError(`${dir}: unknown data set "${config.dataset}" in the run's configuration`);
  const shape = { height: info.height, width: info.width, channels: info.channels, numClasses: info.numClasses };
  // The initial weights are replaced by the checkpoint's.
  const model = createModel(config.model, shape, new RandomState(0));
  // Checked before the weights are read, so a CNN run fails with the model's name, not a weight mismatch.
  requireMlp(model, config.model);
  loadModelState(model, ckpt);
  return { map: firstLayerWeightMap(model, config.model, shape, channelMode), config, epoch: metadataJson<number>(ckpt, 'epoch') };
}

/** The clean model a run's map is compared with: the same config with n = 0. */
export function cleanConfigOf(c: TrainConfig): TrainConfig {
  return { ...trainPart(c), n: 0 };
}

function flat(map: WeightMap): number[] {
  return map.panels.flatMap((p) => Array.from(p));
}

export function weightsRecord(run: WeightMap, clean: WeightMap | null, c: TrainConfig): WeightsRecord {
  const diff = clean ? weightMapDifference(run, clean) : null;
  const stats = weightMapStats(run, 1);
  return {
    model: c.model,
    dataset: c.dataset,
    height: run.height,
    width: run.width,
    channelMode: run.channelMode,
    panels: run.panelNames,
    map: flat(run),
    ...(diff ? { diff: flat(diff) } : {}),
    min: stats.min,
    max: stats.max,
    mean: stats.mean,
    maxDiff: diff ? weightMapStats(diff, 1).max : NaN,
  };
}

export const weightsKind: RunKind<WeightsConfig, WeightsRecord> = {
  name: 'weights',
  description: "an MLP's first-layer weight map, and its difference from the clean (n = 0) model's",
  keys: KEYS,
  required: TRAIN_REQUIRED,
  configure(input) {
    checkKeys(input, 'weights', KEYS, TRAIN_REQUIRED);
    const channels = input.channels ?? 'max';
    if (channels !== 'max' && channels !== 'split') throw new UserError(`channels: got ${JSON.stringify(channels)}, expected max or split`);
    const clean = input.clean ?? false;
    if (typeof clean !== 'boolean') throw new UserError(`clean: got ${JSON.stringify(clean)}, expected true or false`);
    return { ...trainConfigOf(input), channels, clean };
  },
  storeConfig: (c) => ({ experiment: 'weights', weightsVersion: 1, ...trainPart(c), channels: c.channels, clean: c.clean }),
  dependencies: (c) => (c.clean && c.n > 0 ? [trainPart(c), cleanConfigOf(c)] : [trainPart(c)]),
  async run(c, ctx) {
    const run = weightMapOfRun(await ctx.trainedModel(trainPart(c)), c.channels);
    const clean = c.clean ? weightMapOfRun(await ctx.trainedModel(cleanConfigOf(c)), c.channels).map : null;
    return { result: weightsRecord(run.map, clean, c) };
  },
  checkResult(value, where) {
    const r = objectAt(value, where);
    if (!Array.isArray(r.map)) throw new UserError(`${where}: result field "map" is not a list of numbers`);
    return resultWithNumbers<WeightsRecord>(r, ['height', 'width', 'min', 'max', 'mean', 'maxDiff'], where);
  },
  groupBy: ['dataset', 'model', 'n'],
  columns: [
    { name: 'maxWeight', value: (r) => r.max },
    { name: 'meanWeight', value: (r) => r.mean },
    { name: 'maxDiff', value: (r) => r.maxDiff },
  ],
  reportSections: ['weights'],
  label: (c) => `${c.dataset} ${c.pattern} n=${c.n} seed=${c.seed} ${c.model} (weights${c.clean ? ' vs clean' : ''})`,
  outcome: (r) => `weights ${r.min.toPrecision(3)} .. ${r.max.toPrecision(3)}${r.diff ? `, largest difference ${r.maxDiff.toPrecision(3)}` : ''}`,
};
