// Running runs of any kind in this process: each is looked up or claimed in the results
// store, run and recorded through the store's runOnce, so a rerun skips finished runs,
// a killed process's runs are redone and every run is recorded exactly once. Several
// worker processes (--workers N) share one store the same way. A run that needs a
// trained model (forget, sensitivity, weights) finds it in the artifact directory of
// its train run, or has it trained (and recorded) first, once.
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { DATASETS } from '../data/datasets.ts';
import { RandomState } from '../data/numpyRandom.ts';
import { createModel, findModel } from '../nn/models/index.ts';
import { Adam } from '../nn/optim/optimizer.ts';
import * as ops from '../ops/index.ts';
import { type Tensor, uniform } from '../tensor/tensor.ts';
import type { ResultsStore, RunOnceOutcome } from '../store/results.ts';
import type { TrainConfig } from '../train/config.ts';
import { train, type TrainEvents } from '../train/trainer.ts';
import { PARENT_PID_ENV } from '../distributed/parentWatch.ts';
import { findKind, kindKey, planRun, trainKind, type PlannedRun, type RunContext, type RunEvents, type RunKind } from './kinds/index.ts';
import { finishedRunIn, trainPart } from './kinds/train.ts';
import { UserError } from '../util/errors.ts';

export function configKey(cfg: TrainConfig): string {
  return kindKey(trainKind, cfg);
}

export interface LocalRunOptions {
  dataDir?: string;
  /** Keep checkpoints in the store's artifact directory (DIR/artifacts/<key>) and continue from them. */
  artifacts: boolean;
  events?: RunEvents;
  /** How long to wait between looks at a dependency another process is training. Default 2 s. */
  waitMs?: number;
}

/** Outcome of one run in the store, with the run's own continuation note. */
export type LocalOutcome<R extends object> = RunOnceOutcome<R> & { resumedFromEpoch?: number };

/**
 * The directory of a finished train run of cfg for a dependent run: the store's artifact
 * directory of that run, reused when it holds the checkpoint; otherwise the run is
 * trained and recorded there (or waited for, while another process holds it), or, if
 * the store has it done without a checkpoint, trained there again unrecorded.
 */
export async function trainedModelInStore(store: ResultsStore, cfg: TrainConfig, opts: LocalRunOptions): Promise<string> {
  const dir = store.artifactDir(configKey(cfg));
  if (finishedRunIn(dir, cfg)) return dir;
  for (;;) {
    const o = await runInStore(store, trainKind, cfg, { ...opts, artifacts: true });
    if (o.status !== 'busy') break;
    await new Promise((r) => setTimeout(r, opts.waitMs ?? 2000));
  }
  if (!finishedRunIn(dir, cfg)) await train(cfg, { outDir: dir, dataDir: opts.dataDir, resumeIfPresent: true });
  return dir;
}

/**
 * The result of an input run (another kind's run a run reads, e.g. a LiRA shadow model):
 * from the store when done, otherwise run and recorded here (or waited for while another
 * process holds it). A failed input is an error naming it.
 */
export async function inputResultInStore(store: ResultsStore, kindName: string, config: object, opts: LocalRunOptions): Promise<object> {
  const kind = findKind(kindName);
  const cfg = kind.configure({ ...config });
  for (;;) {
    const o = await runInStore(store, kind, cfg, { ...opts, artifactDir: undefined, trainedModel: undefined });
    if (o.status === 'ran') return o.result;
    if (o.status === 'done') return kind.checkResult(o.record.result, `run ${o.record.key.slice(0, 12)} (kind ${kind.name})`);
    if (o.status === 'failed')
      throw new UserError(
        `the ${kind.name} run ${kindKey(kind, cfg).slice(0, 12)} this run needs failed before (${o.record.error?.split('\n')[0]}); the store does not retry failed runs`,
      );
    await new Promise((r) => setTimeout(r, opts.waitMs ?? 2000));
  }
}

/** Runs (or finds) one run of any kind in the store, exactly once, its dependencies first. */
export async function runInStore<C extends object, R extends object>(
  store: ResultsStore,
  kind: RunKind<C, R>,
  config: C,
  opts: LocalRunOptions & { artifactDir?: string; trainedModel?: RunContext['trainedModel'] },
): Promise<LocalOutcome<R>> {
  const key = kindKey(kind, config);
  let resumedFromEpoch = 0;
  const outcome = await store.runOnce({ key, config: kind.storeConfig(config), kind: kind.name }, async (lease) => {
    const ctx: RunContext = {
      dataDir: opts.dataDir,
      artifactDir: opts.artifactDir ?? (opts.artifacts ? store.artifactDir(key) : undefined),
      events: {
        ...opts.events,
        onEpoch: (phase, r) => {
          lease.renew();
          opts.events?.onEpoch?.(phase, r);
        },
      },
      trainedModel: opts.trainedModel ?? ((cfg) => trainedModelInStore(store, cfg, opts)),
      resultOf: (kindName, cfg) => inputResultInStore(store, kindName, cfg, opts),
    };
    const out = await kind.run(config, ctx);
    resumedFromEpoch = out.resumedFromEpoch ?? 0;
    return { result: out.result, perImage: out.perImage };
  });
  return { ...outcome, resumedFromEpoch };
}

export interface SweepProgress {
  onRunStart?(run: PlannedRun, index: number, total: number): void;
  onRunEnd?(run: PlannedRun, outcome: 'done' | 'failed', detail: string): void;
  events?: RunEvents;
}

export interface SweepSummary {
  total: number;
  ran: number;
  skipped: number; // already done, or claimed by another live worker
  failed: { run: PlannedRun; error: string }[];
}

/** Runs a planned sweep (planSweep: dependencies first) in this process. */
export async function runPlannedHere(
  runs: PlannedRun[],
  store: ResultsStore,
  opts: { artifacts: boolean; dataDir?: string; progress?: SweepProgress },
): Promise<SweepSummary> {
  const summary: SweepSummary = { total: runs.length, ran: 0, skipped: 0, failed: [] };
  // train runs others depend on keep their checkpoint even without artifacts
  const needed = new Set(
    runs.flatMap((r) =>
      findKind(r.kind)
        .dependencies(r.config)
        .map((c: TrainConfig) => configKey(trainPart(c))),
    ),
  );
  for (let i = 0; i < runs.length; i++) {
    const run = runs[i];
    const kind = findKind(run.kind);
    if (store.isDone(run.key)) {
      summary.skipped++;
      continue;
    }
    opts.progress?.onRunStart?.(run, i, runs.length);
    try {
      const o = await runInStore(store, kind, run.config, {
        artifacts: opts.artifacts || needed.has(run.key),
        dataDir: opts.dataDir,
        events: opts.progress?.events,
      });
      if (o.status === 'ran') {
        summary.ran++;
        const resumed = o.resumedFromEpoch ? ` (continued from the checkpoint of epoch ${o.resumedFromEpoch})` : '';
        opts.progress?.onRunEnd?.(run, 'done', `${kind.outcome(o.result)}${resumed}`);
      } else {
        summary.skipped++;
      }
    } catch (e) {
      const message = (e as Error).message ?? String(e);
      summary.failed.push({ run, error: message });
      opts.progress?.onRunEnd?.(run, 'failed', message);
    }
  }
  return summary;
}

/** Trains a list of training configurations (the demo's way in). */
export async function runSweepHere(
  configs: TrainConfig[],
  store: ResultsStore,
  opts: {
    artifacts: boolean;
    dataDir?: string;
    progress?: {
      onRunStart?(cfg: TrainConfig, index: number, total: number): void;
      onRunEnd?(cfg: TrainConfig, outcome: 'done' | 'failed', detail: string): void;
      trainEvents?: TrainEvents;
    };
  },
): Promise<SweepSummary> {
  const runs = configs.map((c) => planRun('train', { ...c }));
  const p = opts.progress;
  const t = p?.trainEvents;
  return runPlannedHere(runs, store, {
    artifacts: opts.artifacts,
    dataDir: opts.dataDir,
    progress: p && {
      onRunStart: (r, i, total) => p.onRunStart?.(r.config as TrainConfig, i, total),
      onRunEnd: (r, outcome, detail) => p.onRunEnd?.(r.config as TrainConfig, outcome, detail),
      events: t && { onStep: t.onStep, onEpoch: (_phase, rec) => t.onEpoch?.(rec) },
    },
  });
}

export interface WorkerPoolOptions {
  workers: number;
  sweepArg: string; // preset name or file path, passed on to the workers
  storePath: string;
  extraArgs: string[]; // --epochs, --no-artifacts, --data-dir ... passed on unchanged
  onPoll?(): void; // called about once a second while the workers run
}

/** Runs the sweep in N child processes that share the store, splitting the cores between them. */
export async function runSweepWorkers(opts: WorkerPoolOptions): Promise<number[]> {
  const bin = fileURLToPath(new URL('../../bin/spurlab.mjs', import.meta.url));
  const threads = Math.max(1, Math.floor(availableParallelism() / opts.workers));
  const children = Array.from({ length: opts.workers }, () =>
    spawn(process.execPath, [bin, 'sweep', opts.sweepArg, '--store', opts.storePath, '--workers', '1', '--quiet', ...opts.extraArgs], {
      env: { ...process.env, SPURLAB_THREADS: String(threads), [PARENT_PID_ENV]: String(process.pid) },
      stdio: ['ignore', 'ignore', 'inherit'],
    }),
  );
  const timer = setInterval(() => opts.onPoll?.(), 1000);
  try {
    return await Promise.all(
      children.map((c) => new Promise<number>((resolve) => c.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1))))),
    );
  } finally {
    clearInterval(timer);
  }
}

export interface SweepEstimate {
  runs: number;
  done: number;
  remaining: number;
  seconds: number; // estimated wall time of the remaining runs on this machine
  perModel: { model: string; dataset: string; imagesPerSecond: number }[];
  /** Remaining runs estimated from the measured times of done runs like them (the rest from training throughput). */
  fromMeasured: number;
}

/**
 * What decides a run's cost: its kind, model, data, schedule and method. Runs that agree
 * on these take about as long as each other, whatever their pattern, n or seed.
 */
function costSignature(kind: string, config: Record<string, unknown>): string {
  return JSON.stringify([
    kind,
    ...[
      'model',
      'dataset',
      'epochs',
      'batchSize',
      'trainSubset',
      'trainLimit',
      'method',
      'options',
      'depth',
      'repeats',
      'shadows',
      'thenRetrain',
    ].map((k) => config[k] ?? null),
  ]);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

// Training throughput of one model on random inputs of the data set's shape.
function measureThroughput(cfg: TrainConfig): number {
  const info = DATASETS[cfg.dataset];
  const spec = findModel(cfg.model);
  const model = createModel(cfg.model, info, new RandomState(0));
  const opt = new Adam(model.parameters(), { lr: 1e-3 });
  const rng = new RandomState(1);
  const b = cfg.batchSize;
  const shape = spec.layout === 'flat' ? [b, info.height * info.width * info.channels] : [b, info.channels, info.height, info.width];
  const x: Tensor = uniform(shape, 0, 1, rng);
  const y = Int32Array.from({ length: b }, (_, i) => i % info.numClasses);
  const step = () => {
    model.zeroGrad();
    ops.crossEntropy(model.forward(x), y).backward();
    opt.step();
  };
  step();
  const steps = 3;
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) step();
  return (steps * b) / ((performance.now() - t0) / 1000);
}

/** How many runs remain and roughly how long they take here (a few timed steps per model). */
export function estimateSweep(runs: PlannedRun[], store: ResultsStore): SweepEstimate {
  const remaining = runs.filter((r) => !store.isDone(r.key));
  const rates = new Map<string, number>();
  // Done runs like a remaining one (same kind, model, data, schedule, method) tell how
  // long it takes here, sensitivity, LiSSA and attacks included; the median of theirs.
  const measured = new Map<string, number[]>();
  for (const t of store.doneTimings()) {
    const sig = costSignature(t.kind, t.config);
    const list = measured.get(sig);
    if (list) list.push(t.seconds);
    else measured.set(sig, [t.seconds]);
  }
  const medians = new Map([...measured].map(([sig, xs]) => [sig, median(xs)]));
  let seconds = 0;
  let fromMeasured = 0;
  for (const run of remaining) {
    // compared in the form the store keeps configs in (a forget run's method options nested)
    const like = medians.get(costSignature(run.kind, findKind(run.kind).storeConfig(run.config as never) as Record<string, unknown>));
    if (like !== undefined) {
      // a sweep records runs made one per core (--workers splits the threads), so the
      // machine finishes about one such run per core at a time
      seconds += like / availableParallelism();
      fromMeasured++;
      continue;
    }
    // every kind but sensitivity and weights trains about one model's worth (mia: two halves; forget: E more epochs or a retraining)
    if (run.kind === 'sensitivity' || run.kind === 'weights' || run.kind === 'lira') continue;
    const cfg = trainPart(run.config as TrainConfig);
    const k = `${cfg.model}|${cfg.dataset}|${cfg.batchSize}`;
    if (!rates.has(k)) rates.set(k, measureThroughput(cfg));
    const info = DATASETS[cfg.dataset];
    // mia trains two models on halves of trainLimit (all images when 0)
    const limits = run.config as { trainLimit?: number; testLimit?: number };
    // a LiRA shadow model trains one model on half of its pool (trainLimit)
    const limited = run.kind === 'mia' || run.kind === 'lira-shadow';
    const trainLimit = limited ? (limits.trainLimit ?? 0) : cfg.trainSubset;
    const testLimit = limited ? (limits.testLimit ?? 0) : cfg.testSubset;
    const trainImages = (trainLimit > 0 ? Math.min(trainLimit, info.trainSize) : info.trainSize) * (run.kind === 'lira-shadow' ? 0.5 : 1);
    const testImages = testLimit > 0 ? Math.min(testLimit, info.testSize) : info.testSize;
    // an epoch's evaluation and the final three test passes cost about a third of a training image each
    seconds += (cfg.epochs * (trainImages + testImages / 3) + testImages) / rates.get(k)!;
  }
  const perModel = [...rates].map(([k, r]) => {
    const [model, dataset] = k.split('|');
    return { model, dataset, imagesPerSecond: r };
  });
  return { runs: runs.length, done: runs.length - remaining.length, remaining: remaining.length, seconds, perModel, fromMeasured };
}

/**
 * The typed result of a run a command asked for (runInStore), from the store when it was
 * done before; a run another live process holds, or one taken over meanwhile, is a UserError.
 */
export function resultOf<C extends object, R extends object>(
  kind: RunKind<C, R>,
  outcome: LocalOutcome<R>,
  storePath: string,
): { result: R; fromStore: boolean } {
  switch (outcome.status) {
    case 'ran':
      return { result: outcome.result, fromStore: false };
    case 'done':
      return { result: kind.checkResult(outcome.record.result, `${storePath}: run ${outcome.record.key.slice(0, 12)}`), fromStore: true };
    case 'failed':
      throw new UserError(
        `${storePath}: this ${kind.name} run failed before (${outcome.record.error?.split('\n')[0]}); the store does not retry failed runs`,
      );
    case 'busy':
      throw new UserError(`${storePath}: this ${kind.name} run is being run by another process; wait for it (spurlab results --kind ${kind.name})`);
    case 'lost':
      throw new UserError(
        `${storePath}: another process took this ${kind.name} run over while it ran here (its lease expired); its result is recorded by that process`,
      );
  }
}

/** A trainedModel for commands given a run directory: that directory, for its own config only. */
export function givenRunDir(dir: string, config: TrainConfig): RunContext['trainedModel'] {
  return async (cfg) => {
    if (configKey(cfg) !== configKey(config))
      throw new UserError(
        `${dir}: holds a run of another configuration than the one asked for (${cfg.dataset} ${cfg.pattern} n=${cfg.n} seed=${cfg.seed} ${cfg.model})`,
      );
    return dir;
  };
}
