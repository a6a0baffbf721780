// Deleting the spurious examples from a trained run (PROTOCOL section 7), three ways:
// - incremental: restore the model AND optimizer state after E epochs, drop the n
//   spurious examples, train on to epoch 2E without the LR scheduler (the learning rate
//   stays where the schedule left it), or at a fresh rate with lr;
// - influence: first-order group influence with LiSSA (src/forget/groupInfluence.ts);
// - retrain: from scratch on the cleaned data with the original configuration and
//   seeds, the ground truth the other two are measured against.
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { spuriousScore } from '../experiments/score.ts';
import type { TrainConfig } from '../train/config.ts';
import { loadRun, runIndices, train, type TrainEvents } from '../train/trainer.ts';
import type { SpuriousDataset } from '../data/spurious.ts';
import type { Module } from '../nn/module.ts';
import type { Layout } from '../train/batches.ts';
import { UserError } from '../util/errors.ts';
import { flatParameters, hessianEngineFor, setFlatParameters, type EngineKind } from './hessianEngine.ts';
import { examplePool, exampleBatch, firstOrderGroupInfluence, INFLUENCE_MODES, type InfluenceMode } from './groupInfluence.ts';
import { SCALINGS, type Scaling } from './lissa.ts';

export type ForgetMethod = 'incremental' | 'influence' | 'retrain';
export const FORGET_METHODS: readonly ForgetMethod[] = ['incremental', 'influence', 'retrain'];

export interface ForgetOptions {
  lr?: number; // incremental: a fresh learning rate instead of the schedule's last one
  damp?: number;
  scale?: number | 'auto';
  depth?: number; // default: the reference's (2000 for k < 100 on MNIST/Fashion, else 1000)
  repeats?: number;
  scaling?: Scaling;
  mode?: InfluenceMode;
  seed?: number; // LiSSA's example draws
  engine?: 'auto' | 'tape'; // 'tape' forces the generic double backward (for comparisons)
  withRetrain?: boolean; // also retrain from scratch and report it beside the method
}

export interface Measured {
  score: number;
  testAcc: number;
}

export interface LissaNormSummary {
  steps: number[];
  norms: number[];
  finalNorms: number[];
  diverged: boolean;
  runsDiverged: number;
}

export interface ForgetResult {
  method: ForgetMethod;
  before: Measured;
  after: Measured;
  retrain: Measured | null;
  seconds: number;
  hvps: number;
  removed: number; // k
  trainSize: number; // N before removal
  epochs?: { from: number; to: number; lr: number | 'schedule' }; // incremental
  influence?: {
    scaling: Scaling; mode: InfluenceMode; damp: number; scale: number; scaleSource: 'given' | 'auto';
    lambdaMax: number | null; lambdaMaxSingle: number | null; scaleMargin: number | null; depth: number; repeats: number; engine: EngineKind;
    lissaNorms: LissaNormSummary; deltaNorm: number;
  };
}

export interface ForgetContext {
  dataDir?: string;
  outDir?: string; // where the incremental / retrained checkpoints go
  events?: TrainEvents;
}

/** The reference's LiSSA scale per data set (PROTOCOL section 7). */
export function referenceScale(dataset: string): number {
  if (dataset === 'fashion') return 100;
  if (dataset.startsWith('cifar')) return 1000;
  return 25;
}

/** The reference's LiSSA depth: 1000 for CIFAR or when 100 or more examples are removed, else 2000. */
export function referenceDepth(dataset: string, k: number): number {
  return dataset.startsWith('cifar') || k >= 100 ? 1000 : 2000;
}

/** Fills the reference defaults and checks every option, naming the bad value. */
export function resolveForgetOptions(cfg: TrainConfig, k: number, o: ForgetOptions): Required<Omit<ForgetOptions, 'lr'>> & { lr: number | undefined } {
  const r = {
    lr: o.lr, damp: o.damp ?? 0.01, scale: o.scale ?? referenceScale(cfg.dataset), depth: o.depth ?? referenceDepth(cfg.dataset, k),
    repeats: o.repeats ?? 10, scaling: o.scaling ?? 'reference', mode: o.mode ?? 'fast', seed: o.seed ?? 0, engine: o.engine ?? 'auto',
    withRetrain: o.withRetrain ?? false,
  };
  const bad = (name: string, v: unknown, expected: string) => new UserError(`${name}: got ${JSON.stringify(v)}, expected ${expected}`);
  if (r.lr !== undefined && !(Number.isFinite(r.lr) && r.lr > 0)) throw bad('lr', r.lr, 'a positive number');
  if (!(Number.isFinite(r.damp) && r.damp >= 0 && r.damp < 1)) throw bad('damp', r.damp, 'a number in [0, 1)');
  if (r.scale !== 'auto' && !(Number.isFinite(r.scale) && r.scale > 0)) throw bad('scale', r.scale, 'a positive number or "auto"');
  if (!(Number.isInteger(r.depth) && r.depth >= 1)) throw bad('depth', r.depth, 'a positive integer');
  if (!(Number.isInteger(r.repeats) && r.repeats >= 1)) throw bad('repeats', r.repeats, 'a positive integer');
  if (!SCALINGS.includes(r.scaling)) throw bad('scaling', r.scaling, SCALINGS.join(' or '));
  if (!INFLUENCE_MODES.includes(r.mode)) throw bad('mode', r.mode, INFLUENCE_MODES.join(' or '));
  if (!(Number.isInteger(r.seed) && r.seed >= 0 && r.seed <= 0xffffffff)) throw bad('seed', r.seed, 'an integer in [0, 2^32)');
  if (r.engine !== 'auto' && r.engine !== 'tape') throw bad('engine', r.engine, 'auto or tape');
  return r;
}

export function checkMethod(method: string): ForgetMethod {
  if (!FORGET_METHODS.includes(method as ForgetMethod)) throw new UserError(`method: got ${JSON.stringify(method)}, expected one of ${FORGET_METHODS.join(', ')}`);
  return method as ForgetMethod;
}

function measure(model: Module, layout: Layout, data: SpuriousDataset, cfg: TrainConfig, testIndices: Int32Array): Measured {
  const s = spuriousScore(model, layout, data.test, { pattern: data.pattern, target: cfg.target, indices: testIndices });
  return { score: s.score, testAcc: s.testAcc };
}

/** The run's config with the spurious examples dropped: what retraining trains. */
export function cleanedConfig(cfg: TrainConfig): TrainConfig {
  return { ...cfg, dropSpurious: true };
}

async function retrain(cfg: TrainConfig, data: SpuriousDataset, ctx: ForgetContext): Promise<Measured> {
  const r = await train(cleanedConfig(cfg), { data, outDir: ctx.outDir ? join(ctx.outDir, 'retrain') : undefined, events: ctx.events });
  return measure(r.model, r.layout, data, cfg, r.testIndices);
}

/** Deletes the run's spurious examples by `method` and measures before and after. */
export async function forgetRun(dir: string, method: ForgetMethod, options: ForgetOptions = {}, ctx: ForgetContext = {}): Promise<ForgetResult> {
  const started = Date.now();
  if (!existsSync(join(dir, 'model.safetensors'))) throw new UserError(`${dir}: no model.safetensors here; expected a run directory written by spurlab train`);
  checkMethod(method);
  const run = loadRun(dir, ctx.dataDir);
  const { config: cfg, data, model, layout, testIndices, trainIndices } = run;
  const removedIdx = data.spuriousIndices;
  if (cfg.dropSpurious) throw new UserError(`${dir}: this run was trained without its spurious examples (dropSpurious); there is nothing to delete`);
  if (removedIdx.length === 0) throw new UserError(`${dir}: the run has n = 0 spurious examples; there is nothing to delete`);
  const opts = resolveForgetOptions(cfg, removedIdx.length, options);
  const before = measure(model, layout, data, cfg, testIndices);
  const base = { before, removed: removedIdx.length, trainSize: trainIndices.length, hvps: 0 };
  const cleanTrain = runIndices(cleanedConfig(cfg), data).train;

  if (method === 'retrain') {
    const after = await retrain(cfg, data, ctx);
    return { method, ...base, after, retrain: after, seconds: (Date.now() - started) / 1000 };
  }

  let result: ForgetResult;
  if (method === 'incremental') {
    const to = 2 * run.epoch;
    const incCfg: TrainConfig = { ...cfg, epochs: to, scheduler: false, lr: opts.lr ?? cfg.lr };
    const r = await train(incCfg, {
      data, continueFrom: join(dir, 'model.safetensors'), trainIndices: cleanTrain, testIndices,
      outDir: ctx.outDir ? join(ctx.outDir, 'incremental') : undefined, events: ctx.events,
    });
    result = { method, ...base, after: measure(r.model, r.layout, data, cfg, testIndices), retrain: null, seconds: 0,
      epochs: { from: run.epoch, to, lr: opts.lr ?? 'schedule' } };
  } else {
    const engine = hessianEngineFor(model, opts.engine);
    const pool = examplePool(data.train, trainIndices, layout);
    const removed = removedIdx.map((i) => exampleBatch(data.train, [i], layout));
    const gi = firstOrderGroupInfluence(engine, pool, removed, { damp: opts.damp, scale: opts.scale, depth: opts.depth, repeats: opts.repeats,
      scaling: opts.scaling, mode: opts.mode, seed: opts.seed });
    const theta = flatParameters(model);
    let sq = 0;
    for (let i = 0; i < theta.length; i++) {
      theta[i] -= gi.delta[i];
      sq += gi.delta[i] * gi.delta[i];
    }
    setFlatParameters(model, theta);
    result = { method, ...base, after: measure(model, layout, data, cfg, testIndices), retrain: null, seconds: 0, hvps: gi.hvps,
      influence: {
        scaling: opts.scaling, mode: opts.mode, damp: opts.damp, scale: gi.scale.scale, scaleSource: gi.scale.source, lambdaMax: gi.scale.lambdaMax, lambdaMaxSingle: gi.scale.lambdaMaxSingle,
        scaleMargin: gi.scale.margin, depth: opts.depth, repeats: opts.repeats, engine: engine.kind,
        lissaNorms: { ...gi.trace, runsDiverged: gi.tracesDiverged }, deltaNorm: Math.sqrt(sq),
      } };
  }
  if (opts.withRetrain) result.retrain = await retrain(cfg, data, ctx);
  result.seconds = (Date.now() - started) / 1000;
  return result;
}
