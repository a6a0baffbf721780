// A LiRA experiment end to end: plan the K shadow models, train each (one ordinary run
// per model, through a callback so that a queue or Slurm can train them elsewhere later),
// then attack every model with the others (online and offline, per-example and global
// variance) and estimate each pool example's memorization from the same models.
import { makeSpuriousDataset, type SpuriousDataset } from '../data/spurious.ts';
import { makeTrainConfig, type TrainConfig } from '../train/config.ts';
import type { EpochRecord } from '../train/trainer.ts';
import { UserError } from '../util/errors.ts';
import type { MiaTrainingOptions } from './membershipInference.ts';
import { liraScores, type LiraScoreOptions, type LiraVariant, type ShadowObservations } from './lira.ts';
import {
  groupMetrics,
  groupTrials,
  perTargetSpread,
  populationThresholds,
  spread,
  type GroupMetrics,
  type LogRocPoint,
  type Spread,
} from './liraMetrics.ts';
import {
  checkShadowOutput,
  planShadows,
  queryCount,
  trainShadowModel,
  type LiraQueries,
  type ShadowOutput,
  type ShadowPlan,
  type ShadowTrainer,
} from './liraShadows.ts';
import { meanOf, memorizationHistogram, memorizationRanks, memorizationScores, type MemorizationEstimate } from './memorization.ts';

/** Bumped when the plan, the statistics or the attack change. */
export const LIRA_VERSION = 1;

export interface LiraOptions extends MiaTrainingOptions {
  dataset: string;
  pattern?: string; // default R3
  n: number;
  target?: number; // default 0
  seed: number; // data set seed: spurious examples, noise, pool, keep matrix, matched set
  shadows?: number; // K, default 16
  trainLimit?: number; // pool size (0 = the whole training set)
  testLimit?: number; // test images each model is evaluated on (0 = all)
  queries?: LiraQueries; // default none; flip for data sets that are mirror-symmetric (CIFAR)
  variant?: LiraVariant; // the headline attack, default online
  globalVariance?: boolean;
  center?: 'median' | 'mean';
  matched?: number; // matched clean examples of the target class, default max(n, 100)
  dataDir?: string;
  data?: SpuriousDataset;
  trainShadow?: ShadowTrainer; // default: spurlab's training loop in this process
  events?: LiraEvents;
}

export interface LiraEvents {
  onShadow?(index: number, shadows: number, output: ShadowOutput): void;
  onEpoch?(index: number, record: EpochRecord): void;
}

export type HeadlineMetrics = Pick<GroupMetrics, 'auc' | 'tprAt01Fpr' | 'tprAt1Fpr'>;

export interface LiraMemorization {
  spuriousMean: number;
  populationMean: number;
  matchedCleanMean: number;
  spuriousRanks: number[]; // 1 = most memorized of the pool
  spurious: { index: number; memorization: number; se: number }[];
  poolSize: number;
  histogram: { edges: number[]; counts: number[] };
}

export interface LiraResult {
  shadows: number;
  attack: Required<LiraScoreOptions> & { queries: LiraQueries };
  all: GroupMetrics;
  spurious: GroupMetrics;
  matchedClean: GroupMetrics;
  memorization: LiraMemorization;
  seconds: number;
  details: {
    roc: { all: LogRocPoint[]; spurious: LogRocPoint[]; matchedClean: LogRocPoint[] };
    /** Every attack variant on the same models. */
    variants: Record<string, { all: HeadlineMetrics; spurious: HeadlineMetrics; matchedClean: HeadlineMetrics }>;
    /** All examples with one model as the target at a time: mean and SE over the K models. */
    perTarget: { auc: Spread; tprAt01Fpr: Spread; tprAt1Fpr: Spread };
    models: { testAcc: Spread; trainAcc: Spread; trainingSeconds: number };
    spuriousIndices: number[];
    matchedIndices: number[];
    poolSize: number;
    modelTrainSizes: number[];
  };
}

/** Per pool example: what the CLI exports. */
export interface LiraExamples {
  pool: Int32Array;
  labels: Int32Array;
  group: ('spurious' | 'matched' | 'other')[];
  scores: Float64Array; // [K, N] headline attack, each model as the target
  keep: Uint8Array; // [K, N]
  memorization: MemorizationEstimate;
}

export interface LiraRun {
  result: LiraResult;
  examples: LiraExamples;
}

export function liraConfig(opts: LiraOptions): { train: TrainConfig; store: Record<string, unknown> } {
  const {
    dataset,
    pattern,
    n,
    target,
    seed,
    shadows,
    trainLimit,
    testLimit,
    queries,
    variant,
    globalVariance,
    center,
    matched,
    dataDir: _d,
    data: _data,
    trainShadow: _t,
    events: _e,
    ...training
  } = opts;
  const cfg = makeTrainConfig({ ...training, data: { dataset, pattern: pattern ?? 'R3', n, target: target ?? 0, seed } });
  for (const [name, v] of [
    ['trainLimit', trainLimit],
    ['testLimit', testLimit],
  ] as const) {
    if (v !== undefined && !(Number.isInteger(v) && v >= 0)) throw new UserError(`${name}: got ${v}, expected a non-negative integer (0 = all)`);
  }
  if (queries !== undefined && queries !== 'none' && queries !== 'flip') throw new UserError(`queries: got "${queries}", expected none or flip`);
  if (variant !== undefined && variant !== 'online' && variant !== 'offline')
    throw new UserError(`variant: got "${variant}", expected online or offline`);
  if (center !== undefined && center !== 'median' && center !== 'mean') throw new UserError(`center: got "${center}", expected median or mean`);
  const { trainSubset: _ts, testSubset: _tt, dropSpurious: _ds, ...kept } = cfg;
  return {
    train: cfg,
    store: {
      experiment: 'lira',
      liraVersion: LIRA_VERSION,
      ...kept,
      shadows: shadows ?? 16,
      trainLimit: trainLimit ?? 0,
      testLimit: testLimit ?? 0,
      queries: queries ?? 'none',
      matched: matched ?? Math.max(n, 100),
    },
  };
}

const headline = (g: GroupMetrics): HeadlineMetrics => ({ auc: g.auc, tprAt01Fpr: g.tprAt01Fpr, tprAt1Fpr: g.tprAt1Fpr });

function withoutRoc(g: GroupMetrics & { roc: LogRocPoint[] }): GroupMetrics {
  const { roc: _r, ...rest } = g;
  return rest;
}

/** The attack and memorization from the shadow models' outputs (pure: no training). */
export function analyzeLira(
  plan: ShadowPlan,
  outputs: ShadowOutput[],
  data: SpuriousDataset,
  attack: Required<LiraScoreOptions> & { queries: LiraQueries },
  started = Date.now(),
): LiraRun {
  const K = plan.runs.length;
  const N = plan.pool.length;
  const A = queryCount(attack.queries);
  const stats = new Float64Array(K * N * A);
  const correct = new Uint8Array(K * N);
  outputs.forEach((o, k) => {
    checkShadowOutput(plan.runs[k], o);
    stats.set(o.stats, k * N * A);
    correct.set(o.correct, k * N);
  });
  const obs: ShadowObservations = { shadows: K, poolSize: N, queries: A, stats, keep: plan.keep };
  const all = Array.from({ length: N }, (_, i) => i);
  const groups = { all, spurious: plan.spuriousPositions, matchedClean: plan.matchedPositions };

  const evaluate = (scores: Float64Array) => {
    const thresholds = populationThresholds(scores, plan.keep);
    return {
      all: groupMetrics(groupTrials(scores, plan.keep, K, N, groups.all), thresholds, N),
      spurious: groupMetrics(groupTrials(scores, plan.keep, K, N, groups.spurious), thresholds, groups.spurious.length),
      matchedClean: groupMetrics(groupTrials(scores, plan.keep, K, N, groups.matchedClean), thresholds, groups.matchedClean.length),
    };
  };
  const variants: LiraResult['details']['variants'] = {};
  let main: ReturnType<typeof evaluate> | null = null;
  let mainScores: Float64Array | null = null;
  for (const variant of ['online', 'offline'] as const) {
    for (const globalVariance of [false, true]) {
      const scores = liraScores(obs, { variant, globalVariance, center: attack.center });
      const ev = evaluate(scores);
      variants[`${variant}${globalVariance ? '-global' : ''}`] = {
        all: headline(ev.all),
        spurious: headline(ev.spurious),
        matchedClean: headline(ev.matchedClean),
      };
      if (variant === attack.variant && globalVariance === attack.globalVariance) {
        main = ev;
        mainScores = scores;
      }
    }
  }
  if (!main || !mainScores) throw new Error('LiRA: the headline attack was not among the variants');

  const mem = memorizationScores(correct, plan.keep, K, N);
  const memorization: LiraMemorization = {
    spuriousMean: meanOf(mem.memorization, plan.spuriousPositions),
    populationMean: meanOf(mem.memorization),
    matchedCleanMean: meanOf(mem.memorization, plan.matchedPositions),
    spuriousRanks: memorizationRanks(mem.memorization, plan.spuriousPositions),
    spurious: plan.spuriousPositions.map((p) => ({ index: plan.pool[p], memorization: mem.memorization[p], se: mem.se[p] })),
    poolSize: N,
    histogram: memorizationHistogram(mem.memorization),
  };
  const spuriousSet = new Set(plan.spuriousPositions);
  const matchedSet = new Set(plan.matchedPositions);
  const result: LiraResult = {
    shadows: K,
    attack,
    all: withoutRoc(main.all),
    spurious: withoutRoc(main.spurious),
    matchedClean: withoutRoc(main.matchedClean),
    memorization,
    seconds: (Date.now() - started) / 1000,
    details: {
      roc: { all: main.all.roc, spurious: main.spurious.roc, matchedClean: main.matchedClean.roc },
      variants,
      perTarget: perTargetSpread(mainScores, plan.keep, K, N),
      models: {
        testAcc: spread(outputs.map((o) => o.testAcc)),
        trainAcc: spread(outputs.map((o) => o.trainAcc)),
        trainingSeconds: outputs.reduce((s, o) => s + o.seconds, 0),
      },
      spuriousIndices: [...data.spuriousIndices],
      matchedIndices: plan.matchedPositions.map((p) => plan.pool[p]),
      poolSize: N,
      modelTrainSizes: plan.runs.map((r) => r.trainIndices.length),
    },
  };
  return {
    result,
    examples: {
      pool: plan.pool,
      labels: Int32Array.from(plan.pool, (i) => data.train.labels[i]),
      group: all.map((i) => (spuriousSet.has(i) ? 'spurious' : matchedSet.has(i) ? 'matched' : 'other')),
      scores: mainScores,
      keep: plan.keep,
      memorization: mem,
    },
  };
}

export interface LiraPlan {
  config: TrainConfig;
  data: SpuriousDataset;
  plan: ShadowPlan; // plan.runs: one training run per shadow model, to train anywhere
  attack: Required<LiraScoreOptions> & { queries: LiraQueries };
}

/** Everything before training: the data, the pool, the keep matrix and the K runs. */
export function planLira(opts: LiraOptions): LiraPlan {
  const { train: cfg, store } = liraConfig(opts);
  const data =
    opts.data ??
    makeSpuriousDataset({ dataset: cfg.dataset, pattern: cfg.pattern, n: cfg.n, target: cfg.target, seed: cfg.seed }, { dataDir: opts.dataDir });
  if (data.spec.n !== cfg.n || data.spec.seed !== cfg.seed || data.spec.target !== cfg.target || data.spec.pattern !== cfg.pattern) {
    throw new Error(`LiRA: the given data set ${data.name} does not match the options`);
  }
  const queries = store.queries as LiraQueries;
  const plan = planShadows(cfg, data, {
    shadows: store.shadows as number,
    trainLimit: store.trainLimit as number,
    testLimit: store.testLimit as number,
    matched: store.matched as number,
    queries,
  });
  const attack = {
    variant: opts.variant ?? 'online',
    globalVariance: opts.globalVariance ?? false,
    center: opts.center ?? 'median',
    queries,
  } as const;
  return { config: cfg, data, plan, attack };
}

/** Plans, trains the K shadow models one after another through the trainer, and attacks. */
export async function runLira(opts: LiraOptions): Promise<LiraRun> {
  const started = Date.now();
  const { data, plan, attack } = planLira(opts);
  const trainer = opts.trainShadow ?? trainShadowModel;
  const outputs: ShadowOutput[] = [];
  for (const run of plan.runs) {
    const out = await trainer(run, data, (r) => opts.events?.onEpoch?.(run.index, r));
    checkShadowOutput(run, out);
    outputs.push(out);
    opts.events?.onShadow?.(run.index, plan.runs.length, out);
  }
  return analyzeLira(plan, outputs, data, attack, started);
}

/**
 * The grid of issue 20's `paper-lira` (MNIST, LargeMLP, R3 and S3, n = 1, 3, 10, 100,
 * K = 16, 20 epochs, Adam lr 0.01), over seeds 0-2 so that its numbers have a spread
 * over runs (each seed: other spurious images, other halves, other shadow models).
 */
export const LIRA_GRID = {
  dataset: ['mnist'],
  pattern: ['R3', 'S3'],
  n: [1, 3, 10, 100],
  target: [0],
  seed: [0, 1, 2],
  model: ['LargeMLP'],
  optimizer: 'adam',
  lr: 0.01,
  epochs: 20,
  shadows: 16,
} as const;
