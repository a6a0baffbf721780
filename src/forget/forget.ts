// Deleting the spurious examples from a trained run (PROTOCOL section 7), three ways:
// - incremental: restore the model AND optimizer state after E epochs, drop the n
//   spurious examples, train on to epoch 2E without the LR scheduler (the learning rate
//   stays where the schedule left it), or at a fresh rate with lr;
// - influence: first-order group influence with LiSSA (src/forget/groupInfluence.ts);
// - retrain: from scratch on the cleaned data with the original configuration and
//   seeds, the ground truth the others are measured against;
// - the unlearning methods of src/forget/unlearning/methods.ts (finetune, gradient-ascent,
//   neggrad-plus, scrub, random-label, salun, l1-sparse, ssd), always compared with the
//   retrained model.
import { join } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import type { TrainConfig } from '../train/config.ts';
import { buildModel, loadRun, runIndices, train, type TrainEvents } from '../train/trainer.ts';
import type { SpuriousDataset } from '../data/spurious.ts';
import type { Module } from '../nn/module.ts';
import { loadCheckpoint, loadModelState } from '../store/checkpoint.ts';
import { UserError } from '../util/errors.ts';
import { distanceTo, makeProbe, measureModel, parameterDistance, type Distance, type Measured, type Probe } from './unlearning/measure.ts';
import {
  expectedSteps,
  isUnlearnMethod,
  methodSpec,
  resolveUnlearnOptions,
  UNLEARN_METHODS,
  type UnlearnMethod,
  type UnlearnOptions,
} from './unlearning/methods.ts';
import { copyState, flatCopy } from './unlearning/loop.ts';
import { flatParameters, hessianEngineFor, setFlatParameters, type EngineKind } from './hessianEngine.ts';
import { examplePool, exampleBatch, firstOrderGroupInfluence, INFLUENCE_MODES, type InfluenceMode } from './groupInfluence.ts';
import { AVERAGINGS, type Averaging, SCALINGS, type Scaling } from './lissa.ts';

export type ForgetMethod = 'incremental' | 'influence' | 'retrain' | UnlearnMethod;
export const FORGET_METHODS: readonly ForgetMethod[] = ['incremental', 'influence', 'retrain', ...UNLEARN_METHODS];
export type { Measured } from './unlearning/measure.ts';

export interface ForgetOptions {
  unlearn?: UnlearnOptions; // the unlearning method's own options (its defaults for the rest)
  lr?: number; // incremental: a fresh learning rate instead of the schedule's last one
  moreEpochs?: number; // incremental: epochs trained on without the examples (default E, the base run's; the reference's 1)
  damp?: number;
  scale?: number | 'auto';
  depth?: number; // default: the reference's (2000 for k < 100 on MNIST/Fashion, else 1000)
  repeats?: number;
  scaling?: Scaling;
  average?: Averaging; // how LiSSA's repeats combine (default mean; 'reference': the first divided by r)
  mode?: InfluenceMode;
  seed?: number; // LiSSA's example draws
  engine?: 'auto' | 'tape'; // 'tape' forces the generic double backward (for comparisons)
  withRetrain?: boolean; // also retrain from scratch and report it beside the method
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
  seconds: number; // everything: the method, measurements, retraining when done here
  methodSeconds?: number; // the deletion itself (training, influence, dampening), without measurements
  retrainSeconds?: number | null; // the retrained model's training time (recorded with its run)
  relativeTime?: number | null; // methodSeconds / retrainSeconds
  moved?: number; // ||theta_after - theta_before||_2
  distance?: { before: Distance; after: Distance } | null; // to the retrained model
  hvps: number;
  removed: number; // k
  trainSize: number; // N before removal
  epochs?: { from: number; to: number; lr: number | 'schedule' }; // incremental
  influence?: {
    scaling: Scaling;
    mode: InfluenceMode;
    damp: number;
    scale: number;
    scaleSource: 'given' | 'auto';
    lambdaMax: number | null;
    lambdaMaxSingle: number | null;
    scaleMargin: number | null;
    depth: number;
    repeats: number;
    average?: Averaging;
    engine: EngineKind;
    lissaNorms: LissaNormSummary;
    deltaNorm: number;
  };
  unlearning?: {
    options: Required<UnlearnOptions>;
    data: string;
    needsRetain: boolean;
    source: string;
    steps: number;
    lossFirst: number;
    lossLast: number;
    extra: Record<string, number>;
  };
}

export interface ForgetContext {
  dataDir?: string;
  outDir?: string; // where the incremental / retrained checkpoints go
  events?: TrainEvents;
  /** The directory of the run retrained without the spurious examples (a sweep's dependency); trained here when absent. */
  retrainedModel?: () => Promise<string>;
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

/** The reference's LiSSA settings for group influence (scale and depth depend on the run). */
export const FORGET_DEFAULTS = { damp: 0.01, repeats: 10, scaling: 'reference', average: 'mean', mode: 'fast', seed: 0 } as const;

/** Fills the reference defaults and checks every option, naming the bad value. */
export function resolveForgetOptions(
  cfg: TrainConfig,
  k: number,
  o: ForgetOptions,
): Required<Omit<ForgetOptions, 'lr' | 'unlearn' | 'moreEpochs'>> & {
  lr: number | undefined;
  moreEpochs: number | undefined;
  unlearn: UnlearnOptions;
} {
  const r = {
    unlearn: o.unlearn ?? {},
    lr: o.lr,
    moreEpochs: o.moreEpochs,
    damp: o.damp ?? FORGET_DEFAULTS.damp,
    scale: o.scale ?? referenceScale(cfg.dataset),
    depth: o.depth ?? referenceDepth(cfg.dataset, k),
    repeats: o.repeats ?? FORGET_DEFAULTS.repeats,
    scaling: o.scaling ?? FORGET_DEFAULTS.scaling,
    average: o.average ?? FORGET_DEFAULTS.average,
    mode: o.mode ?? FORGET_DEFAULTS.mode,
    seed: o.seed ?? FORGET_DEFAULTS.seed,
    engine: o.engine ?? 'auto',
    withRetrain: o.withRetrain ?? false,
  };
  const bad = (name: string, v: unknown, expected: string) => new UserError(`${name}: got ${JSON.stringify(v)}, expected ${expected}`);
  if (r.lr !== undefined && !(Number.isFinite(r.lr) && r.lr > 0)) throw bad('lr', r.lr, 'a positive number');
  if (!(Number.isFinite(r.damp) && r.damp >= 0 && r.damp < 1)) throw bad('damp', r.damp, 'a number in [0, 1)');
  if (r.scale !== 'auto' && !(Number.isFinite(r.scale) && r.scale > 0)) throw bad('scale', r.scale, 'a positive number or "auto"');
  if (!(Number.isInteger(r.depth) && r.depth >= 1)) throw bad('depth', r.depth, 'a positive integer');
  if (!(Number.isInteger(r.repeats) && r.repeats >= 1)) throw bad('repeats', r.repeats, 'a positive integer');
  if (!SCALINGS.includes(r.scaling)) throw bad('scaling', r.scaling, SCALINGS.join(' or '));
  if (!AVERAGINGS.includes(r.average)) throw bad('average', r.average, AVERAGINGS.join(' or '));
  if (r.moreEpochs !== undefined && !(Number.isInteger(r.moreEpochs) && r.moreEpochs >= 1))
    throw bad('moreEpochs', r.moreEpochs, 'a positive integer');
  if (!INFLUENCE_MODES.includes(r.mode)) throw bad('mode', r.mode, INFLUENCE_MODES.join(' or '));
  if (!(Number.isInteger(r.seed) && r.seed >= 0 && r.seed <= 0xffffffff)) throw bad('seed', r.seed, 'an integer in [0, 2^32)');
  if (r.engine !== 'auto' && r.engine !== 'tape') throw bad('engine', r.engine, 'auto or tape');
  return r;
}

/** Options that belong to one method only are refused for the others, rather than ignored. */
export function checkOptionsFor(method: ForgetMethod, o: ForgetOptions): void {
  if (o.moreEpochs !== undefined && method !== 'incremental')
    throw new UserError(`moreEpochs: an option of incremental retraining, not of ${method}`);
  if (o.average !== undefined && method !== 'influence') throw new UserError(`average: an option of the influence method (LiSSA), not of ${method}`);
}

export function checkMethod(method: string): ForgetMethod {
  if (!FORGET_METHODS.includes(method as ForgetMethod))
    throw new UserError(`method: got ${JSON.stringify(method)}, expected one of ${FORGET_METHODS.join(', ')}`);
  return method as ForgetMethod;
}

/** The run's config with the spurious examples dropped: what retraining trains. */
export function cleanedConfig(cfg: TrainConfig): TrainConfig {
  return { ...cfg, dropSpurious: true };
}

interface Retrained {
  model: Module;
  seconds: number | null;
}

// The retrained run: the dependency's directory when the caller has one (a sweep trains it
// once for every method of a setting), else trained here.
async function retrained(cfg: TrainConfig, data: SpuriousDataset, ctx: ForgetContext): Promise<Retrained> {
  if (ctx.retrainedModel) {
    const dir = await ctx.retrainedModel();
    const { model } = buildModel(cleanedConfig(cfg), data.train);
    loadModelState(model, loadCheckpoint(join(dir, 'model.safetensors')));
    model.eval();
    let seconds: number | null = null;
    try {
      const m = JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8')) as { seconds?: unknown };
      if (typeof m.seconds === 'number') seconds = m.seconds;
    } catch {
      seconds = null; // a run directory without metrics.json: the time is unknown, not an error
    }
    return { model, seconds };
  }
  const r = await train(cleanedConfig(cfg), { data, outDir: ctx.outDir ? join(ctx.outDir, 'retrain') : undefined, events: ctx.events });
  return { model: r.model, seconds: r.seconds };
}

/** Fills the comparison with the retrained model into a result. */
function compare(result: ForgetResult, original: Module, after: Module, r: Retrained, probe: Probe): void {
  result.retrain = measureModel(r.model, probe);
  result.retrainSeconds = r.seconds;
  result.relativeTime = r.seconds && result.methodSeconds !== undefined ? result.methodSeconds / r.seconds : null;
  result.distance = { before: distanceTo(original, r.model, probe), after: distanceTo(after, r.model, probe) };
}

/** Deletes the run's spurious examples by `method` and measures before and after. */
export async function forgetRun(dir: string, method: ForgetMethod, options: ForgetOptions = {}, ctx: ForgetContext = {}): Promise<ForgetResult> {
  const started = Date.now();
  if (!existsSync(join(dir, 'model.safetensors')))
    throw new UserError(`${dir}: no model.safetensors here; expected a run directory written by spurlab train`);
  checkMethod(method);
  checkOptionsFor(method, options);
  const run = loadRun(dir, ctx.dataDir);
  const { config: cfg, data, model, layout, testIndices, trainIndices } = run;
  const removedIdx = data.spuriousIndices;
  if (cfg.dropSpurious) throw new UserError(`${dir}: this run was trained without its spurious examples (dropSpurious); there is nothing to delete`);
  if (removedIdx.length === 0) throw new UserError(`${dir}: the run has n = 0 spurious examples; there is nothing to delete`);
  const opts = resolveForgetOptions(cfg, removedIdx.length, options);
  const unlearnOpts = isUnlearnMethod(method) ? resolveUnlearnOptions(method, opts.unlearn) : null;
  const cleanTrain = runIndices(cleanedConfig(cfg), data).train;
  const forgetIdx = Int32Array.from(removedIdx).sort();
  const probe = makeProbe(data, cfg, layout, testIndices, forgetIdx, cleanTrain);
  const before = measureModel(model, probe);
  const base = { before, removed: removedIdx.length, trainSize: trainIndices.length, hvps: 0 };
  const fresh = () => buildModel(cfg, data.train).model;
  const original = copyState(model, fresh()).eval();
  const thetaBefore = flatCopy(model);

  if (method === 'retrain') {
    const t0 = Date.now();
    const r = await retrained(cfg, data, ctx);
    const after = measureModel(r.model, probe);
    const methodSeconds = ctx.retrainedModel ? (r.seconds ?? (Date.now() - t0) / 1000) : (Date.now() - t0) / 1000;
    const result: ForgetResult = {
      method,
      ...base,
      after,
      retrain: after,
      seconds: 0,
      methodSeconds,
      moved: parameterDistance(thetaBefore, flatCopy(r.model)),
    };
    compare(result, original, r.model, r, probe);
    result.seconds = (Date.now() - started) / 1000;
    return result;
  }

  let result: ForgetResult;
  let afterModel: Module = model;
  const t0 = Date.now();
  if (unlearnOpts && isUnlearnMethod(method)) {
    const spec = methodSpec(method);
    const total = expectedSteps(method, unlearnOpts, forgetIdx.length, cleanTrain.length);
    const trace = spec.run(
      {
        model,
        layout,
        train: data.train,
        forget: forgetIdx,
        retain: cleanTrain,
        seed: opts.seed,
        makeModel: fresh,
        onStep: ctx.events?.onStep ? (step, loss) => ctx.events!.onStep!(1, step, total, loss) : undefined,
      },
      unlearnOpts,
    );
    const { steps, lossFirst, lossLast, extra = {} } = trace;
    result = {
      method,
      ...base,
      after: measureModel(model, probe),
      retrain: null,
      seconds: 0,
      methodSeconds: (Date.now() - t0) / 1000,
      unlearning: { options: unlearnOpts, data: spec.data, needsRetain: spec.needsRetain, source: spec.source, steps, lossFirst, lossLast, extra },
    };
  } else if (method === 'incremental') {
    const to = run.epoch + (opts.moreEpochs ?? run.epoch);
    const incCfg: TrainConfig = { ...cfg, epochs: to, scheduler: false, lr: opts.lr ?? cfg.lr };
    const r = await train(incCfg, {
      data,
      continueFrom: join(dir, 'model.safetensors'),
      trainIndices: cleanTrain,
      testIndices,
      outDir: ctx.outDir ? join(ctx.outDir, 'incremental') : undefined,
      events: ctx.events,
    });
    afterModel = r.model;
    result = {
      method,
      ...base,
      after: measureModel(r.model, probe),
      retrain: null,
      seconds: 0,
      methodSeconds: (Date.now() - t0) / 1000,
      epochs: { from: run.epoch, to, lr: opts.lr ?? 'schedule' },
    };
  } else {
    const engine = hessianEngineFor(model, opts.engine);
    const pool = examplePool(data.train, trainIndices, layout);
    const removed = removedIdx.map((i) => exampleBatch(data.train, [i], layout));
    const gi = firstOrderGroupInfluence(engine, pool, removed, {
      damp: opts.damp,
      scale: opts.scale,
      depth: opts.depth,
      repeats: opts.repeats,
      scaling: opts.scaling,
      average: opts.average,
      mode: opts.mode,
      seed: opts.seed,
    });
    const theta = flatParameters(model);
    let sq = 0;
    for (let i = 0; i < theta.length; i++) {
      theta[i] -= gi.delta[i];
      sq += gi.delta[i] * gi.delta[i];
    }
    setFlatParameters(model, theta);
    result = {
      method,
      ...base,
      after: measureModel(model, probe),
      retrain: null,
      seconds: 0,
      methodSeconds: (Date.now() - t0) / 1000,
      hvps: gi.hvps,
      influence: {
        scaling: opts.scaling,
        mode: opts.mode,
        damp: opts.damp,
        scale: gi.scale.scale,
        scaleSource: gi.scale.source,
        lambdaMax: gi.scale.lambdaMax,
        lambdaMaxSingle: gi.scale.lambdaMaxSingle,
        scaleMargin: gi.scale.margin,
        depth: opts.depth,
        repeats: opts.repeats,
        average: opts.average,
        engine: engine.kind,
        lissaNorms: { ...gi.trace, runsDiverged: gi.tracesDiverged },
        deltaNorm: Math.sqrt(sq),
      },
    };
  }
  result.moved = parameterDistance(thetaBefore, flatCopy(afterModel));
  for (const v of Object.values(result.after)) {
    if (typeof v === 'number' && Number.isNaN(v) && result.unlearning)
      throw new UserError(`${method}: the unlearned model's measurements are NaN; its weights are not finite`, 1);
  }
  // the unlearning methods are always measured against retraining: that is their question
  if (opts.withRetrain || unlearnOpts) compare(result, original, afterModel, await retrained(cfg, data, ctx), probe);
  else result.distance = null;
  result.seconds = (Date.now() - started) / 1000;
  return result;
}
