// `detect` on a trained run: score every training example by one method, measure how
// well the scores find the run's spurious examples, and optionally take the
// practitioner's next step: remove the top-k flagged examples, retrain from scratch with
// the run's own config and seeds, and measure the spurious score and clean accuracy again.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spuriousScore } from '../experiments/score.ts';
import { loadCheckpoint, loadModelState, metadataJson } from '../store/checkpoint.ts';
import type { TrainConfig } from '../train/config.ts';
import { buildModel, EPOCHS_DIR, loadRun, train, type TrainEvents } from '../train/trainer.ts';
import { UserError } from '../util/errors.ts';
import { DETECT_DEFAULTS, detectScores, type DetectInput, type DetectMethod, type DetectOptions, type ModelAt } from './methods.ts';
import { detectionMetrics, topPositions, type DetectionMetrics } from './metrics.ts';

export interface RetrainOutcome {
  k: number;
  removedSpurious: number; // how many of the removed examples were spurious
  scoreBefore: number;
  testAccBefore: number;
  score: number;
  testAcc: number;
  seconds: number;
}

export interface DetectResult extends DetectionMetrics {
  method: DetectMethod;
  seconds: number; // scoring time (not loading, not retraining)
  n: number; // spurious examples in the run's training set
  trainSize: number;
  spuriousIndices: number[];
  details: Record<string, number | string>;
  retrain: RetrainOutcome | null;
}

export interface DetectRunOptions {
  options?: Partial<DetectOptions>;
  dataDir?: string;
  memorizationFile?: string;
  thenRetrain?: number; // k > 0: remove the top k and retrain
  retrainOutDir?: string;
  /** Progress of the retraining, made once the run's config is known. */
  retrainEvents?: (cfg: TrainConfig) => TrainEvents;
}

/** The weights a run kept per epoch (train --keep-checkpoints), ascending by epoch. */
export function loadEpochCheckpoints(dir: string, cfg: TrainConfig, trainSet: Parameters<typeof buildModel>[1]): ModelAt[] {
  const folder = join(dir, EPOCHS_DIR);
  if (!existsSync(folder)) return [];
  const files = readdirSync(folder)
    .filter((f) => /^epoch-\d+\.safetensors$/.test(f))
    .sort();
  return files.map((f) => {
    const ckpt = loadCheckpoint(join(folder, f));
    const { model } = buildModel(cfg, trainSet);
    loadModelState(model, ckpt);
    model.eval();
    return { model, epoch: metadataJson<number>(ckpt, 'epoch'), lr: metadataJson<number>(ckpt, 'lr') };
  });
}

/**
 * Memorization estimates per training position from a `spurlab lira --export` JSON Lines
 * file (rows with "index" and "memorization"). Examples outside LiRA's pool get NaN.
 */
export function readMemorization(path: string, positions: Int32Array): { values: Float64Array; missing: number } {
  if (!existsSync(path)) throw new UserError(`${path}: no such file (expected the JSON Lines export of spurlab lira)`);
  const byIndex = new Map<number, number>();
  readFileSync(path, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (line.trim() === '') return;
      let row: { index?: unknown; memorization?: unknown };
      try {
        row = JSON.parse(line) as typeof row;
      } catch {
        throw new UserError(`${path}:${i + 1}: not JSON; expected one JSON object per line (spurlab lira --export FILE.jsonl)`);
      }
      if (!Number.isInteger(row.index) || (row.memorization !== null && typeof row.memorization !== 'number')) {
        throw new UserError(`${path}:${i + 1}: expected "index" (an integer) and "memorization" (a number or null)`);
      }
      byIndex.set(row.index as number, row.memorization === null ? NaN : (row.memorization as number));
    });
  let missing = 0;
  const values = Float64Array.from(positions, (p) => {
    const v = byIndex.get(p);
    if (v === undefined) missing++;
    return v ?? NaN;
  });
  return { values, missing };
}

export async function detectRun(dir: string, method: DetectMethod, opts: DetectRunOptions = {}): Promise<DetectResult> {
  const run = loadRun(dir, opts.dataDir);
  const cfg = run.config;
  const positions = run.trainIndices;
  const input: DetectInput = {
    model: run.model,
    modelName: cfg.model,
    layout: run.layout,
    train: run.data.train,
    positions,
    checkpoints: method === 'tracin' || method === 'trak' ? loadEpochCheckpoints(dir, cfg, run.data.train) : [],
  };
  let missing = 0;
  if (method === 'memorization') {
    if (!opts.memorizationFile)
      throw new UserError('method memorization needs --memorization FILE: the JSON Lines export of spurlab lira on this data set');
    const m = readMemorization(opts.memorizationFile, positions);
    input.memorization = m.values;
    missing = m.missing;
  }
  const started = Date.now();
  const { scores, details } = detectScores(method, input, { ...DETECT_DEFAULTS, ...opts.options });
  const seconds = (Date.now() - started) / 1000;
  if (method === 'memorization') details.missing = missing;
  const spuriousSet = new Set(run.data.spuriousIndices);
  const positionOf = new Map<number, number>();
  positions.forEach((p, i) => positionOf.set(p, i));
  // ranks in the data set's draw order of the spurious examples
  const spuriousPositions = run.data.spuriousIndices.filter((i) => positionOf.has(i)).map((i) => positionOf.get(i)!);
  const targets = new Set([cfg.target, ...(cfg.targetB === null ? [] : [cfg.targetB])]);
  const inTarget = Uint8Array.from(positions, (p) => (targets.has(run.data.train.labels[p]) ? 1 : 0));
  const metrics = detectionMetrics(scores, spuriousPositions, inTarget);
  let retrain: RetrainOutcome | null = null;
  const k = opts.thenRetrain ?? 0;
  if (k > 0) {
    if (k >= positions.length) throw new UserError(`--then-retrain: got ${k}, expected fewer than the run's ${positions.length} training examples`);
    const t0 = Date.now();
    const removed = topPositions(scores, k);
    const drop = new Set(removed);
    const kept = positions.filter((_, i) => !drop.has(i));
    const measure = (m: typeof run.model) =>
      spuriousScore(m, run.layout, run.data.test, { pattern: run.data.pattern, target: cfg.target, indices: run.testIndices });
    const before = measure(run.model);
    const { keepCheckpoints: _unused, ...plain } = cfg;
    const r = await train(plain, { data: run.data, trainIndices: kept, outDir: opts.retrainOutDir, events: opts.retrainEvents?.(plain) });
    const after = measure(r.model);
    retrain = {
      k,
      removedSpurious: removed.filter((i) => spuriousSet.has(positions[i])).length,
      scoreBefore: before.score,
      testAccBefore: before.testAcc,
      score: after.score,
      testAcc: after.testAcc,
      seconds: (Date.now() - t0) / 1000,
    };
  }
  return {
    method,
    ...metrics,
    seconds,
    n: spuriousPositions.length,
    trainSize: positions.length,
    spuriousIndices: run.data.spuriousIndices,
    details,
    retrain,
  };
}
