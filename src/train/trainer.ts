// One training run with PyTorch semantics: per-epoch shuffling, mean cross-entropy,
// gradient clipping by value, Adam or SGD, MultiStepLR stepped after each epoch.
// Checkpoints are written atomically after every epoch, so --resume continues exactly.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { RandomState, type RandomStateSnapshot } from '../data/numpyRandom.ts';
import { makeSpuriousDataset, type SpuriousDataset } from '../data/spurious.ts';
import type { Dataset } from '../data/dataset.ts';
import { createModel, findModel } from '../nn/models/index.ts';
import type { Module } from '../nn/module.ts';
import { Dropout } from '../nn/layers.ts';
import { Adam, SGD, type Optimizer } from '../nn/optim/optimizer.ts';
import { milestonesFor, multiStepLr } from '../nn/optim/scheduler.ts';
import * as ops from '../ops/index.ts';
import { StorageArena } from '../tensor/arena.ts';
import { loadCheckpoint, loadModelState, metadataJson, optimizerTensors, saveCheckpoint, type Checkpoint } from '../store/checkpoint.ts';
import { writeFileAtomicSync } from '../store/atomic.ts';
import { UserError } from '../util/errors.ts';
import { version } from '../version.ts';
import { batchLabels, makeBatch, type Layout } from './batches.ts';
import { accuracy, argmax, predict } from './evaluate.ts';
import { spuriousSpecOf, type TrainConfig } from './config.ts';

export interface EpochRecord {
  epoch: number;
  loss: number;
  trainAcc: number;
  testAcc: number;
  lr: number;
  seconds: number;
}

export interface TrainEvents {
  onStep?(epoch: number, step: number, steps: number, loss: number): void;
  onEpoch?(record: EpochRecord): void;
}

export interface TrainOptions {
  outDir?: string; // where model.safetensors, history.json, metrics.json go
  resumeFrom?: string; // a checkpoint of this same config: continue to cfg.epochs
  // continue from outDir's checkpoint when it holds one of this same config (a run killed
  // part-way: a lost queue worker, a preempted Slurm task); otherwise start afresh
  resumeIfPresent?: boolean;
  continueFrom?: string; // a checkpoint of another run: start from its model and optimizer state
  dataDir?: string;
  events?: TrainEvents;
  data?: SpuriousDataset; // already loaded data (sweeps reuse it)
  trainIndices?: Int32Array; // train on exactly these images instead of the config's (membership inference halves)
  testIndices?: Int32Array; // evaluate on these test images instead of the config's
}

export interface TrainResult {
  config: TrainConfig;
  model: Module;
  layout: Layout;
  data: SpuriousDataset;
  trainIndices: Int32Array;
  testIndices: Int32Array;
  history: EpochRecord[];
  testAcc: number;
  trainAcc: number;
  epochs: number;
  seconds: number;
  out: string | null;
  resumedFromEpoch: number; // the checkpoint's epoch training continued from, 0 for a fresh run
}

const CHECKPOINT = 'model.safetensors';
export const EPOCHS_DIR = 'epochs';

/** Where a run kept (keepCheckpoints) the weights of one epoch. */
export function epochCheckpointPath(dir: string, epoch: number): string {
  return join(dir, EPOCHS_DIR, `epoch-${String(epoch).padStart(4, '0')}.safetensors`);
}

/** Seeded subset of k indices of d (all when k = 0 or k >= n), plus `always`, ascending. */
export function subsetIndices(n: number, k: number, seed: number, always: readonly number[] = []): Int32Array {
  if (k === 0 || k >= n) return Int32Array.from({ length: n }, (_, i) => i);
  const keep = new Set(always);
  const rest = new RandomState([seed, 7]).permutation(n).filter((i) => !keep.has(i));
  const chosen = [...always, ...rest.slice(0, Math.max(0, k - keep.size))];
  return Int32Array.from(chosen.sort((a, b) => a - b));
}

/** The training and test indices a config trains and evaluates on. */
export function runIndices(cfg: TrainConfig, data: SpuriousDataset): { train: Int32Array; test: Int32Array } {
  let train = subsetIndices(data.train.n, cfg.trainSubset, cfg.seed, data.spuriousIndices);
  if (cfg.dropSpurious) {
    const drop = new Set(data.spuriousIndices);
    train = train.filter((i) => !drop.has(i));
  }
  return { train, test: subsetIndices(data.test.n, cfg.testSubset, cfg.seed + 1) };
}

function makeOptimizer(cfg: TrainConfig, model: Module): Optimizer {
  const params = model.parameters();
  if (cfg.optimizer === 'adam') return new Adam(params, { lr: cfg.lr, weightDecay: cfg.weightDecay, clip: cfg.gradClip });
  return new SGD(params, { lr: cfg.lr, momentum: cfg.momentum, weightDecay: cfg.weightDecay, clip: cfg.gradClip });
}

export function buildModel(cfg: TrainConfig, train: Dataset): { model: Module; layout: Layout } {
  const spec = findModel(cfg.model);
  const model = createModel(
    cfg.model,
    { height: train.height, width: train.width, channels: train.channels, numClasses: train.numClasses },
    new RandomState(cfg.modelSeed),
  );
  return { model, layout: spec.layout };
}

function pointDropoutAt(model: Module, rng: RandomState): void {
  for (const [, m] of model.namedModules()) if (m instanceof Dropout) m.rng = rng;
}

interface Resumed {
  epoch: number;
  history: EpochRecord[];
  rng: RandomStateSnapshot | null;
}

// Continuing another run keeps the learning rate where its schedule left it, unless the
// new config asks for a different one (incremental retraining with a fresh rate).
function restore(ckpt: Checkpoint, model: Module, optimizer: Optimizer, sameRun: boolean, cfg: TrainConfig): Resumed {
  const saved = metadataJson<TrainConfig>(ckpt, 'config');
  if (saved.optimizer !== optimizer.name)
    throw new UserError(
      `${ckpt.path}: the model was trained with ${saved.optimizer}, cannot continue with ${optimizer.name} (its state would be lost)`,
    );
  loadModelState(model, ckpt);
  const scalars = metadataJson<Record<string, number>>(ckpt, 'optimizer');
  try {
    optimizer.loadState(optimizerTensors(ckpt), scalars);
  } catch (e) {
    throw new UserError(`${ckpt.path}: ${(e as Error).message}; expected a checkpoint written by spurlab train`);
  }
  if (!sameRun && cfg.lr !== saved.lr) optimizer.lr = cfg.lr;
  if (!sameRun) return { epoch: metadataJson<number>(ckpt, 'epoch'), history: [], rng: null };
  return {
    epoch: metadataJson<number>(ckpt, 'epoch'),
    history: metadataJson<EpochRecord[]>(ckpt, 'history'),
    rng: metadataJson<RandomStateSnapshot>(ckpt, 'rng'),
  };
}

function checkResumable(ckpt: Checkpoint, cfg: TrainConfig): void {
  const saved = metadataJson<TrainConfig>(ckpt, 'config');
  const diff = (Object.keys(cfg) as (keyof TrainConfig)[]).filter((k) => JSON.stringify(saved[k]) !== JSON.stringify(cfg[k]));
  if (diff.length > 0)
    throw new UserError(
      `${ckpt.path}: cannot resume, the checkpoint was trained with a different ${diff.map((k) => `${k} (${JSON.stringify(saved[k])} vs ${JSON.stringify(cfg[k])})`).join(', ')}`,
    );
}

// outDir's checkpoint when it can be resumed for cfg; an unreadable one or one of another
// config is trained over.
function ownCheckpoint(outDir: string | undefined, cfg: TrainConfig): Checkpoint | null {
  if (!outDir || !existsSync(join(outDir, CHECKPOINT))) return null;
  try {
    const ckpt = loadCheckpoint(join(outDir, CHECKPOINT));
    checkResumable(ckpt, cfg);
    return ckpt;
  } catch {
    return null;
  }
}

export async function train(cfg: TrainConfig, opts: TrainOptions = {}): Promise<TrainResult> {
  const started = Date.now();
  const data = opts.data ?? makeSpuriousDataset(spuriousSpecOf(cfg), { dataDir: opts.dataDir });
  const chosen = runIndices(cfg, data);
  const trainIdx = opts.trainIndices ?? chosen.train;
  const testIdx = opts.testIndices ?? chosen.test;
  if (trainIdx.length === 0) throw new UserError('no training images left to train on');
  const { model, layout } = buildModel(cfg, data.train);
  const optimizer = makeOptimizer(cfg, model);
  const rng = new RandomState([cfg.modelSeed, 1]);
  pointDropoutAt(model, rng);
  const milestones = milestonesFor(cfg.epochs);

  let startEpoch = 0;
  let history: EpochRecord[] = [];
  const ckpt = opts.resumeFrom ? loadCheckpoint(opts.resumeFrom) : opts.resumeIfPresent ? ownCheckpoint(opts.outDir, cfg) : null;
  if (ckpt) {
    checkResumable(ckpt, cfg);
    const r = restore(ckpt, model, optimizer, true, cfg);
    startEpoch = r.epoch;
    history = r.history;
    if (r.rng) rng.setState(r.rng);
  } else if (opts.continueFrom) {
    startEpoch = restore(loadCheckpoint(opts.continueFrom), model, optimizer, false, cfg).epoch;
  }
  if (opts.outDir) mkdirSync(opts.outDir, { recursive: true });

  const trainSet = data.train;
  const arena = new StorageArena();
  for (let epoch = startEpoch + 1; epoch <= cfg.epochs; epoch++) {
    const t0 = Date.now();
    if (cfg.scheduler) optimizer.lr = multiStepLr(cfg.lr, epoch - 1, milestones);
    const lr = optimizer.lr;
    const order = rng.permutation(trainIdx.length);
    const steps = Math.ceil(order.length / cfg.batchSize);
    let lossSum = 0;
    let correct = 0;
    model.train();
    const idxBuf = new Int32Array(cfg.batchSize);
    for (let s = 0; s < steps; s++) {
      const start = s * cfg.batchSize;
      const idx = idxBuf.subarray(0, Math.min(cfg.batchSize, order.length - start));
      for (let i = 0; i < idx.length; i++) idx[i] = trainIdx[order[start + i]];
      // Every tensor of the step lives in the arena; the gradients are dropped before the
      // storage is taken back, and nothing else made in the step outlives it.
      const lossValue = arena.run(() => {
        const x = makeBatch(trainSet, idx, { layout, aug: cfg.aug, inputNoise: cfg.inputNoise, rng });
        const y = batchLabels(trainSet, idx);
        model.zeroGrad();
        const logits = model.forward(x);
        const loss = ops.crossEntropy(logits, y);
        const value = loss.item();
        if (!Number.isFinite(value)) {
          throw new UserError(
            `training diverged: the loss is ${value} at epoch ${epoch}, step ${s + 1} of ${steps}${opts.outDir && epoch > 1 ? `; the checkpoint of epoch ${epoch - 1} in ${opts.outDir} is intact` : ''}`,
            1,
          );
        }
        loss.backward();
        optimizer.step();
        const lv = logits.values();
        for (let i = 0; i < idx.length; i++) if (argmax(lv, i * logits.shape[1], logits.shape[1]) === y[i]) correct++;
        return value;
      });
      model.zeroGrad();
      arena.recycle();
      lossSum += lossValue * idx.length;
      opts.events?.onStep?.(epoch, s + 1, steps, lossValue);
    }
    if (cfg.scheduler) optimizer.lr = multiStepLr(cfg.lr, epoch, milestones);
    const testAcc = accuracy(predict(model, layout, data.test, testIdx).predicted, batchLabels(data.test, testIdx));
    const record: EpochRecord = {
      epoch,
      loss: lossSum / order.length,
      trainAcc: correct / order.length,
      testAcc,
      lr,
      seconds: (Date.now() - t0) / 1000,
    };
    history.push(record);
    if (opts.outDir) {
      saveCheckpoint(join(opts.outDir, CHECKPOINT), model, optimizer.stateTensors(), {
        config: JSON.stringify(cfg),
        epoch: JSON.stringify(epoch),
        history: JSON.stringify(history),
        rng: JSON.stringify(rng.getState()),
        optimizer: JSON.stringify(optimizer.stateScalars()),
        codeVersion: version,
      });
      writeFileAtomicSync(join(opts.outDir, 'history.json'), JSON.stringify(history, null, 2) + '\n');
      if (cfg.keepCheckpoints && (epoch % cfg.keepCheckpoints === 0 || epoch === cfg.epochs)) {
        // weights only: TracIn and TRAK read the model at this epoch and the rate it was trained with
        mkdirSync(join(opts.outDir, EPOCHS_DIR), { recursive: true });
        saveCheckpoint(epochCheckpointPath(opts.outDir, epoch), model, new Map(), {
          config: JSON.stringify(cfg),
          epoch: JSON.stringify(epoch),
          lr: JSON.stringify(lr),
          codeVersion: version,
        });
      }
    }
    opts.events?.onEpoch?.(record);
  }

  const last = history[history.length - 1];
  const testAcc = last ? last.testAcc : accuracy(predict(model, layout, data.test, testIdx).predicted, batchLabels(data.test, testIdx));
  const result: TrainResult = {
    config: cfg,
    model,
    layout,
    data,
    trainIndices: trainIdx,
    testIndices: testIdx,
    history,
    testAcc,
    trainAcc: last ? last.trainAcc : NaN,
    epochs: cfg.epochs,
    seconds: (Date.now() - started) / 1000,
    out: opts.outDir ?? null,
    resumedFromEpoch: ckpt ? metadataJson<number>(ckpt, 'epoch') : 0,
  };
  if (opts.outDir) {
    const metrics = {
      testAcc,
      trainAcc: result.trainAcc,
      epochs: cfg.epochs,
      seconds: result.seconds,
      spuriousIndices: data.spuriousIndices,
      config: cfg,
      codeVersion: version,
    };
    writeFileAtomicSync(join(opts.outDir, 'metrics.json'), JSON.stringify(metrics, null, 2) + '\n');
  }
  return result;
}

/** Loads a finished (or interrupted) run directory: its config and trained model. */
export function loadRun(dir: string, dataDir?: string): Omit<TrainResult, 'history' | 'seconds' | 'resumedFromEpoch'> & { epoch: number } {
  const ckpt = loadCheckpoint(join(dir, CHECKPOINT));
  const cfg = metadataJson<TrainConfig>(ckpt, 'config');
  const data = makeSpuriousDataset(spuriousSpecOf(cfg), { dataDir });
  const { model, layout } = buildModel(cfg, data.train);
  loadModelState(model, ckpt);
  model.eval();
  const { train: trainIndices, test: testIndices } = runIndices(cfg, data);
  return {
    config: cfg,
    model,
    layout,
    data,
    trainIndices,
    testIndices,
    testAcc: NaN,
    trainAcc: NaN,
    epochs: cfg.epochs,
    out: dir,
    epoch: metadataJson<number>(ckpt, 'epoch'),
  };
}
