// The shadow models of a LiRA experiment: the pool of training examples, the keep matrix
// that puts every pool example (the n spurious ones included, like any other) in exactly
// half of the K models, one ordinary training run per model, and what each trained model
// reports about every pool example (its logit-scaled confidence per query, and whether
// it classifies the example right).
import { noGrad } from '../autograd/tape.ts';
import type { Dataset } from '../data/dataset.ts';
import { RandomState } from '../data/numpyRandom.ts';
import type { SpuriousDataset } from '../data/spurious.ts';
import type { Module } from '../nn/module.ts';
import { makeBatch, type Layout } from '../train/batches.ts';
import { argmax } from '../train/evaluate.ts';
import type { TrainConfig } from '../train/config.ts';
import { subsetIndices, train, type EpochRecord } from '../train/trainer.ts';
import { UserError } from '../util/errors.ts';
import { checkShadows, keepMatrix } from './lira.ts';
import { scaledConfidence } from './liraStats.ts';

/** Queries per example: the image, or the image and its horizontal mirror (CIFAR). */
export type LiraQueries = 'none' | 'flip';

export const queryCount = (q: LiraQueries) => (q === 'flip' ? 2 : 1);

/** One shadow model = one ordinary training run on its half of the pool. */
export interface ShadowRun {
  index: number; // k in 0..K-1
  shadows: number; // K
  config: TrainConfig; // the experiment's config with this model's modelSeed
  trainIndices: Int32Array; // training-set indices it trains on (ascending)
  testIndices: Int32Array; // test-set indices it is evaluated on
  poolIndices: Int32Array; // training-set indices it reports on (the whole pool)
  queries: LiraQueries;
}

/** What a trained shadow model reports; stats and correct are in pool order. */
export interface ShadowOutput {
  stats: Float64Array; // [N, A]
  correct: Uint8Array; // [N] 1 when the clean query is classified right
  testAcc: number;
  trainAcc: number;
  seconds: number;
}

export type ShadowTrainer = (run: ShadowRun, data: SpuriousDataset, onEpoch?: (record: EpochRecord) => void) => Promise<ShadowOutput>;

export interface ShadowPlan {
  pool: Int32Array; // ascending training-set indices the attack is about
  keep: Uint8Array; // [K, N]
  runs: ShadowRun[];
  spuriousPositions: number[]; // pool positions of the spurious examples
  matchedPositions: number[]; // pool positions of the matched clean examples
}

export interface ShadowPlanOptions {
  shadows: number;
  trainLimit: number; // 0 = the whole training set
  testLimit: number;
  matched: number; // matched clean examples wanted (fewer when the class has fewer)
  queries: LiraQueries;
}

function positionsIn(pool: Int32Array, indices: readonly number[]): number[] {
  const at = new Map<number, number>();
  pool.forEach((idx, pos) => at.set(idx, pos));
  return indices.map((i) => {
    const pos = at.get(i);
    if (pos === undefined) throw new Error(`LiRA: training example ${i} is not in the pool`);
    return pos;
  });
}

/**
 * The pool (a seeded subset when trainLimit > 0, spurious examples always in), the keep
 * matrix from RandomState([seed, 20]), one run per shadow model with modelSeed + k, and a
 * seeded choice of clean pool examples of the target class to compare the spurious ones with.
 */
export function planShadows(cfg: TrainConfig, data: SpuriousDataset, o: ShadowPlanOptions): ShadowPlan {
  checkShadows(o.shadows);
  const pool = subsetIndices(data.train.n, o.trainLimit, cfg.seed, data.spuriousIndices);
  const testIndices = subsetIndices(data.test.n, o.testLimit, cfg.seed + 1);
  const N = pool.length;
  const keep = keepMatrix(o.shadows, N, [cfg.seed, 20]);
  const runs: ShadowRun[] = [];
  for (let k = 0; k < o.shadows; k++) {
    const mine: number[] = [];
    for (let i = 0; i < N; i++) if (keep[k * N + i]) mine.push(pool[i]);
    runs.push({
      index: k,
      shadows: o.shadows,
      config: { ...cfg, modelSeed: (cfg.modelSeed + k) >>> 0 },
      trainIndices: Int32Array.from(mine),
      testIndices,
      poolIndices: pool,
      queries: o.queries,
    });
  }
  const spuriousPositions = positionsIn(pool, data.spuriousIndices);
  const spurious = new Set(data.spuriousIndices);
  const targets = data.spec.targetB === null ? [data.spec.target] : [data.spec.target, data.spec.targetB];
  const candidates: number[] = [];
  for (let i = 0; i < N; i++) if (targets.includes(data.train.labels[pool[i]]) && !spurious.has(pool[i])) candidates.push(i);
  if (!(Number.isInteger(o.matched) && o.matched >= 1))
    throw new UserError(`matched: got ${o.matched}, expected a positive number of clean examples`);
  const m = Math.min(o.matched, candidates.length);
  const matchedPositions = new RandomState([cfg.seed, 21]).choice(candidates, m, { replace: false }).sort((a, b) => a - b);
  return { pool, keep, runs, spuriousPositions, matchedPositions };
}

// A batch of pool images mirrored left to right, as its own small data set so that
// makeBatch lays it out for the model as usual.
function mirrored(d: Dataset, indices: readonly number[]): Dataset {
  const { height: h, width: w, channels: c } = d;
  const size = h * w * c;
  const images = new Float32Array(indices.length * size);
  for (let b = 0; b < indices.length; b++) {
    const src = indices[b] * size;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        for (let ch = 0; ch < c; ch++) images[b * size + (y * w + x) * c + ch] = d.images[src + (y * w + (w - 1 - x)) * c + ch];
      }
    }
  }
  const labels = Int32Array.from(indices, (i) => d.labels[i]);
  return { ...d, images, labels, n: indices.length };
}

/** A trained model's report on the pool: logit-scaled confidence per query, correctness. */
export function observePool(
  model: Module,
  layout: Layout,
  d: Dataset,
  pool: Int32Array,
  queries: LiraQueries,
  batchSize = 1000,
): { stats: Float64Array; correct: Uint8Array } {
  const A = queryCount(queries);
  const classes = d.numClasses;
  const stats = new Float64Array(pool.length * A);
  const correct = new Uint8Array(pool.length);
  const wasTraining = model.training;
  model.eval();
  try {
    noGrad(() => {
      for (let start = 0; start < pool.length; start += batchSize) {
        const chunk = Array.from(pool.subarray(start, Math.min(start + batchSize, pool.length)));
        const views: { data: Dataset; idx: number[] }[] = [{ data: d, idx: chunk }];
        if (queries === 'flip') views.push({ data: mirrored(d, chunk), idx: chunk.map((_, j) => j) });
        views.forEach((view, a) => {
          const logits = model.forward(makeBatch(view.data, view.idx, { layout })).values();
          for (let j = 0; j < chunk.length; j++) {
            const label = d.labels[chunk[j]];
            stats[(start + j) * A + a] = scaledConfidence(logits, j * classes, classes, label);
            if (a === 0) correct[start + j] = argmax(logits, j * classes, classes) === label ? 1 : 0;
          }
        });
      }
    });
  } finally {
    model.train(wasTraining);
  }
  return { stats, correct };
}

/** The default shadow trainer: spurlab's training loop, then the pool report. */
export const trainShadowModel: ShadowTrainer = async (run, data, onEpoch) => {
  const started = Date.now();
  const r = await train(run.config, { data, trainIndices: run.trainIndices, testIndices: run.testIndices, events: { onEpoch } });
  const { stats, correct } = observePool(r.model, r.layout, data.train, run.poolIndices, run.queries);
  return { stats, correct, testAcc: r.testAcc, trainAcc: r.trainAcc, seconds: (Date.now() - started) / 1000 };
};

/** Checks one shadow output against its run (a callback may come from elsewhere). */
export function checkShadowOutput(run: ShadowRun, out: ShadowOutput): void {
  const N = run.poolIndices.length;
  const A = queryCount(run.queries);
  if (!(out.stats instanceof Float64Array) || out.stats.length !== N * A)
    throw new Error(`LiRA: shadow model ${run.index} reported ${out.stats?.length} stats, expected ${N * A}`);
  if (!(out.correct instanceof Uint8Array) || out.correct.length !== N)
    throw new Error(`LiRA: shadow model ${run.index} reported ${out.correct?.length} correctness flags, expected ${N}`);
  for (let i = 0; i < out.stats.length; i++) {
    if (!Number.isFinite(out.stats[i]))
      throw new Error(
        `LiRA: shadow model ${run.index} gave a non-finite confidence (${out.stats[i]}) for pool example ${Math.floor(i / A)}; did training diverge?`,
      );
  }
}
