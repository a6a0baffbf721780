// Deletion runs as the unit sweeps schedule: train (or reuse) the base run, delete its
// spurious examples by one method, and record the result in the results store as kind
// 'forget'. The stored config is the base run's TrainConfig plus `method` and the
// method's resolved `options`, so equal deletion runs share one key.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { loadCheckpoint, metadataJson } from '../store/checkpoint.ts';
import { type ResultsStore } from '../store/results.ts';
import { runKey } from '../store/runKey.ts';
import { train, type TrainEvents } from '../train/trainer.ts';
import type { TrainConfig } from '../train/config.ts';
import { UserError } from '../util/errors.ts';
import { forgetRun, resolveForgetOptions, type ForgetMethod, type ForgetOptions, type ForgetResult, referenceScale } from './forget.ts';

/** The options that define a deletion run for its method (the rest do not change its result). */
export function forgetStoreConfig(cfg: TrainConfig, method: ForgetMethod, options: ForgetOptions): Record<string, unknown> {
  const o = resolveForgetOptions(cfg, cfg.targetB === null ? cfg.n : 2 * cfg.n, options);
  let chosen: Record<string, unknown> = {};
  if (method === 'incremental') chosen = { lr: o.lr ?? 'schedule' };
  if (method === 'influence') chosen = { damp: o.damp, scale: o.scale, depth: o.depth, repeats: o.repeats, scaling: o.scaling, mode: o.mode, seed: o.seed };
  return { ...cfg, method, options: { ...chosen, withRetrain: method !== 'retrain' && o.withRetrain } };
}

export interface StoredForget {
  result: ForgetResult;
  key: string;
  fromStore: boolean;
}

/** Runs forgetRun on dir and records it in the store, or returns the stored result of an identical run. */
export async function recordForget(store: ResultsStore, dir: string, cfg: TrainConfig, method: ForgetMethod, options: ForgetOptions,
  ctx: { dataDir?: string; outDir?: string; events?: TrainEvents } = {}): Promise<StoredForget> {
  const config = forgetStoreConfig(cfg, method, options);
  const key = runKey(config);
  const existing = store.get(key);
  if (existing?.status === 'done' && existing.result) return { result: existing.result as unknown as ForgetResult, key, fromStore: true };
  if (!store.claim(key, config, 'forget')) throw new UserError(`${store.path}: this deletion run (${key.slice(0, 12)}) is being run by another process`);
  try {
    const events: TrainEvents = { ...ctx.events, onEpoch: (r) => { store.heartbeat(key); ctx.events?.onEpoch?.(r); } };
    const result = await forgetRun(dir, method, options, { ...ctx, events });
    store.complete(key, result as unknown as Record<string, unknown>);
    return { result, key, fromStore: false };
  } catch (e) {
    store.fail(key, e);
    throw e;
  }
}

function finishedRunIn(dir: string, cfg: TrainConfig): boolean {
  const path = join(dir, 'model.safetensors');
  if (!existsSync(path)) return false;
  const ckpt = loadCheckpoint(path);
  return JSON.stringify(metadataJson<TrainConfig>(ckpt, 'config')) === JSON.stringify(cfg) && metadataJson<number>(ckpt, 'epoch') === cfg.epochs;
}

export interface DeletionContext {
  dataDir?: string;
  store?: ResultsStore;
  /** Where the base run is (reused when it holds this config trained to the end) or goes. */
  baseDir?: string;
  events?: TrainEvents;
}

/**
 * One deletion experiment for sweeps: trains the base run of cfg (or reuses it: in
 * baseDir, else in the store's artifact directory of the train run with this config,
 * where `spurlab sweep` puts checkpoints), then deletes by method. With a store the
 * result is recorded as kind 'forget' and an identical finished run is not redone.
 */
export async function runDeletionExperiment(cfg: TrainConfig, method: ForgetMethod, options: ForgetOptions, ctx: DeletionContext = {}): Promise<StoredForget> {
  if (cfg.n === 0 || cfg.dropSpurious) throw new UserError(`deletion needs a run with spurious examples: got n = ${cfg.n}${cfg.dropSpurious ? ' and dropSpurious' : ''}`);
  const dir = ctx.baseDir ?? (ctx.store ? ctx.store.artifactDir(runKey(cfg as unknown as Record<string, unknown>)) : mkdtempSync(join(tmpdir(), 'spurlab-deletion-')));
  if (!finishedRunIn(dir, cfg)) await train(cfg, { outDir: dir, dataDir: ctx.dataDir, events: ctx.events });
  const outDir = join(dir, `forget-${method}`);
  if (ctx.store) return recordForget(ctx.store, dir, cfg, method, options, { dataDir: ctx.dataDir, outDir, events: ctx.events });
  return { result: await forgetRun(dir, method, options, { dataDir: ctx.dataDir, outDir, events: ctx.events }), key: runKey(forgetStoreConfig(cfg, method, options)), fromStore: false };
}

export interface DeletionGrid {
  name: string;
  description: string;
  /** Sweep-grid values for the base training runs (lists are swept). */
  base: Record<string, unknown>;
  /** Each base run is deleted by every one of these. */
  methods: { method: ForgetMethod; options: ForgetOptions }[];
}

/**
 * The paper's deletion grid (section 7): R3 on MNIST with LargeMLP (Adam, lr 0.01),
 * n = 3, 10, 100, target 0, seeds 0-4; incremental retraining, first-order group
 * influence with the reference's settings (damp 0.01, scale 25, depth by k, r = 10) in
 * the fast mode, and retraining from scratch. The Fashion-MNIST grid uses scale 100.
 */
function paperDeletionGrid(dataset: string, title: string, scale: number): DeletionGrid {
  return {
    name: `paper-deletion-${dataset}`,
    description: `Deleting n = 3, 10, 100 R3 examples from LargeMLP on ${title}: incremental retraining, group influence (LiSSA, scale ${scale}), retraining`,
    base: { dataset, pattern: 'R3', n: [3, 10, 100], target: 0, seed: [0, 1, 2, 3, 4], model: 'LargeMLP', optimizer: 'adam', lr: 0.01, epochs: 70 },
    methods: [
      { method: 'incremental', options: {} },
      { method: 'influence', options: { damp: 0.01, scale, repeats: 10, scaling: 'reference', mode: 'fast' } },
      { method: 'retrain', options: {} },
    ],
  };
}

export const DELETION_PRESET_GRID: readonly DeletionGrid[] = [
  paperDeletionGrid('mnist', 'MNIST', referenceScale('mnist')),
  paperDeletionGrid('fashion', 'Fashion-MNIST', referenceScale('fashion')),
];
