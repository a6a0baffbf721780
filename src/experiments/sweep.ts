// Running a sweep: every configuration not yet done is claimed in the results store,
// trained, measured and recorded. Claims make it resumable and exactly-once: a rerun
// skips finished runs and reclaims the runs of a killed process. Several worker
// processes share one store the same way.
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { DATASETS } from '../data/datasets.ts';
import { RandomState } from '../data/numpyRandom.ts';
import { createModel, findModel } from '../nn/models/index.ts';
import { Adam } from '../nn/optim/optimizer.ts';
import * as ops from '../ops/index.ts';
import { Tensor, uniform } from '../tensor/tensor.ts';
import { type ResultsStore } from '../store/results.ts';
import { runKey } from '../store/runKey.ts';
import type { TrainConfig } from '../train/config.ts';
import type { TrainEvents } from '../train/trainer.ts';
import { runExperiment } from './runner.ts';
import { PARENT_PID_ENV } from '../distributed/parentWatch.ts';

export interface SweepProgress {
  onRunStart?(cfg: TrainConfig, index: number, total: number): void;
  onRunEnd?(cfg: TrainConfig, outcome: 'done' | 'failed', detail: string): void;
  trainEvents?: TrainEvents;
}

export interface SweepSummary {
  total: number;
  ran: number;
  skipped: number; // already done, or claimed by another live worker
  failed: { config: TrainConfig; error: string }[];
}

export function configKey(cfg: TrainConfig): string {
  return runKey(cfg as unknown as Record<string, unknown>);
}

/** Runs the sweep in this process. */
export async function runSweepHere(configs: TrainConfig[], store: ResultsStore, opts: { artifacts: boolean; dataDir?: string; progress?: SweepProgress }): Promise<SweepSummary> {
  const summary: SweepSummary = { total: configs.length, ran: 0, skipped: 0, failed: [] };
  for (let i = 0; i < configs.length; i++) {
    const cfg = configs[i];
    const key = configKey(cfg);
    if (store.isDone(key) || !store.claim(key, cfg as unknown as Record<string, unknown>, 'train')) {
      summary.skipped++;
      continue;
    }
    opts.progress?.onRunStart?.(cfg, i, configs.length);
    const events: TrainEvents = {
      onStep: opts.progress?.trainEvents?.onStep,
      onEpoch: (r) => {
        store.heartbeat(key);
        opts.progress?.trainEvents?.onEpoch?.(r);
      },
    };
    try {
      const { result, perImage, resumedFromEpoch } = await runExperiment(cfg, { dataDir: opts.dataDir, artifactDir: opts.artifacts ? store.artifactDir(key) : undefined, events });
      store.complete(key, result as unknown as Record<string, unknown>, perImage);
      summary.ran++;
      const resumed = resumedFromEpoch > 0 ? ` (continued from the checkpoint of epoch ${resumedFromEpoch})` : '';
      opts.progress?.onRunEnd?.(cfg, 'done', `score ${result.score.toFixed(4)}, test acc ${(100 * result.testAcc).toFixed(2)}%${resumed}`);
    } catch (e) {
      const message = (e as Error).message ?? String(e);
      store.fail(key, message);
      summary.failed.push({ config: cfg, error: message });
      opts.progress?.onRunEnd?.(cfg, 'failed', message);
    }
  }
  return summary;
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
    }));
  const timer = setInterval(() => opts.onPoll?.(), 1000);
  try {
    return await Promise.all(children.map((c) => new Promise<number>((resolve) => c.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1))))));
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
export function estimateSweep(configs: TrainConfig[], store: ResultsStore): SweepEstimate {
  const remaining = configs.filter((c) => !store.isDone(configKey(c)));
  const rates = new Map<string, number>();
  let seconds = 0;
  for (const cfg of remaining) {
    const k = `${cfg.model}|${cfg.dataset}|${cfg.batchSize}`;
    if (!rates.has(k)) rates.set(k, measureThroughput(cfg));
    const info = DATASETS[cfg.dataset];
    const trainImages = cfg.trainSubset > 0 ? Math.min(cfg.trainSubset, info.trainSize) : info.trainSize;
    const testImages = cfg.testSubset > 0 ? Math.min(cfg.testSubset, info.testSize) : info.testSize;
    // an epoch's evaluation and the final three test passes cost about a third of a training image each
    seconds += (cfg.epochs * (trainImages + testImages / 3) + testImages) / rates.get(k)!;
  }
  const perModel = [...rates].map(([k, r]) => {
    const [model, dataset] = k.split('|');
    return { model, dataset, imagesPerSecond: r };
  });
  return { runs: configs.length, done: configs.length - remaining.length, remaining: remaining.length, seconds, perModel };
}
