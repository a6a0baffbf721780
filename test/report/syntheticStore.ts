// A small synthetic results store for the report tests: runs of every kind the report
// draws, written through claim/complete as real sweeps write them, with per-image 0/1
// indicators so p-values are computed. Some sections are left without data on purpose
// (Fashion-MNIST, CIFAR-10, input noise, clipping sweeps) to test the appendix.
import { join } from 'node:path';
import { ResultsStore } from '../../src/store/results.ts';
import { runKey } from '../../src/store/runKey.ts';
import { tempDir } from '../helpers.ts';

/** Test images per run: small, so the store fills in well under a second. */
const N_TEST = 200;

/** A 0/1 vector with round(rate * length) ones at pseudo-random (seeded) positions. */
function indicator(rate: number, seed: number): Uint8Array {
  const v = new Uint8Array(N_TEST);
  const ones = Math.round(Math.min(1, Math.max(0, rate)) * N_TEST);
  let state = (seed * 2654435761) >>> 0 || 1;
  const order = Array.from({ length: N_TEST }, (_, i) => i);
  for (let i = N_TEST - 1; i > 0; i--) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    const j = state % (i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  for (let k = 0; k < ones; k++) v[order[k]] = 1;
  return v;
}

function put(store: ResultsStore, kind: string, config: Record<string, unknown>, result: Record<string, unknown>, perImage?: Uint8Array): void {
  const key = runKey({ kind, ...config });
  if (!store.claim(key, config, kind)) throw new Error(`synthetic run claimed twice: ${JSON.stringify(config)}`);
  if (!store.complete(key, result, perImage)) throw new Error('synthetic run not completed');
}

// Training runs use the flat options of src/train/config.ts; the other kinds the
// { name, lr } object form, so the report is tested on both.
const ADAM = { name: 'adam', lr: 0.01 };
const FLAT_ADAM = { optimizer: 'adam', lr: 0.01, momentum: 0 };
const FLAT_SGD = { optimizer: 'sgd', lr: 0.01, momentum: 0.9 };
/** The training config's bookkeeping fields at their defaults. */
const TRAIN_EXTRAS = {
  targetB: null,
  batchSize: 128,
  aug: 'none',
  modelSeed: 0,
  scheduler: true,
  trainSubset: 0,
  testSubset: 0,
  dropSpurious: false,
};
const NORMS: Record<string, number> = { S1: 1, S2: 3, S3: 5, R1: 4.1, R2: 8.2, R3: 16.3 };

interface TrainOptions {
  pattern: string;
  model?: string;
  optimizer?: typeof FLAT_ADAM;
  weightDecay?: number;
  gradClip?: number;
  ns: number[];
  seeds: number[];
  /** How easily the setting learns the pattern: the score at n is 1 - exp(-strength n). */
  strength: number;
}

function putTrainGrid(store: ResultsStore, o: TrainOptions): void {
  for (const n of o.ns) {
    for (const seed of o.seeds) {
      const rate = 0.01 + 0.9 * (1 - Math.exp(-o.strength * n)) + 0.02 * seed;
      const perImage = indicator(rate, 1000 * n + 17 * seed + o.pattern.length);
      const score = perImage.reduce((s, x) => s + x, 0) / N_TEST;
      put(
        store,
        'train',
        {
          dataset: 'mnist',
          pattern: o.pattern,
          n,
          target: 0,
          seed,
          model: o.model ?? 'MLP',
          ...(o.optimizer ?? FLAT_ADAM),
          weightDecay: o.weightDecay ?? 0,
          inputNoise: 0,
          gradClip: o.gradClip ?? 0,
          epochs: 20,
          ...TRAIN_EXTRAS,
        },
        {
          score,
          testAcc: 0.98 - 0.002 * seed - 3 * (o.weightDecay ?? 0),
          patternNorm: NORMS[o.pattern],
          // Per-epoch histories for the S3 runs only, so the training-curves section has one chart.
          ...(o.pattern === 'S3' && !o.model && !o.weightDecay && !o.gradClip && !o.optimizer
            ? {
                history: [1, 2, 3].map((epoch) => ({
                  epoch,
                  loss: 0.5 / epoch + 0.01 * seed,
                  trainAcc: 0.9 + 0.02 * epoch,
                  testAcc: 0.89 + 0.02 * epoch - 0.001 * seed,
                  lr: 0.01,
                  seconds: 1,
                })),
              }
            : {}),
        },
        perImage,
      );
    }
  }
}

/** The sections the synthetic store fills, in page order. */
export const SYNTHETIC_SECTIONS = [
  'patterns',
  'pattern-norm',
  'architectures',
  'sensitivity',
  'weight-maps',
  'optimizers',
  'deletion',
  'membership-inference',
  'lira',
  'mitigation-weight-decay',
  'training-curves',
  'settings',
];

/** Fills `store` with the synthetic runs; returns the number of runs written. */
export function fillSyntheticStore(store: ResultsStore): number {
  const ns = [0, 1, 3, 10, 100];
  const seeds = [0, 1, 2];
  for (const pattern of Object.keys(NORMS)) putTrainGrid(store, { pattern, ns, seeds, strength: NORMS[pattern] / 40 });
  for (const model of ['LargeMLP', 'CNN002']) putTrainGrid(store, { pattern: 'S3', model, ns, seeds, strength: model === 'CNN002' ? 0.05 : 0.2 });
  putTrainGrid(store, { pattern: 'S3', optimizer: FLAT_SGD, ns, seeds, strength: 0.06 });
  putTrainGrid(store, { pattern: 'S3', gradClip: 0.1, ns, seeds, strength: 0.03 });
  for (const weightDecay of [1e-4, 1e-3, 1e-2]) {
    putTrainGrid(store, { pattern: 'S3', weightDecay, ns: [0, 3, 10], seeds: [0, 1], strength: 0.125 / (1 + 300 * weightDecay) });
  }
  for (const n of [3, 10]) {
    for (const seed of [0, 1]) {
      const before = { score: 0.4 + 0.02 * n, testAcc: 0.98 };
      const retrain = { score: 0.02, testAcc: 0.979 };
      for (const method of ['incremental', 'influence']) {
        const after = { score: method === 'incremental' ? before.score - 0.05 : before.score - 0.1, testAcc: 0.978 };
        put(
          store,
          'forget',
          { dataset: 'mnist', pattern: 'S3', n, target: 0, seed, model: 'MLP', optimizer: ADAM, epochs: 20, method },
          { before, after, retrain: method === 'incremental' ? retrain : null },
        );
      }
    }
  }
  putMiaRuns(store);
  putLiraRuns(store);
  for (const model of ['MLP', 'CNN002']) {
    for (const seed of [0, 1]) {
      const ps = Array.from({ length: 51 }, (_, i) => i / 50);
      const curve = ps.map((p) => Math.max(0.1, 1 - p ** (model === 'MLP' ? 1 : 3)) - 0.01 * seed);
      const area = curve.reduce((s, c) => s + c, 0) / 51;
      // As `spurlab sensitivity --store` writes it (parallel arrays), and as a list of points.
      const result = model === 'MLP' ? { model, ps, curve, area } : { model, curve: ps.map((p, i) => ({ p, prob: curve[i] })), area };
      put(store, 'sensitivity', { experiment: 'sensitivity', dataset: 'mnist', pattern: 'S3', n: 3 * seed, model, seed, images: 500 }, result);
    }
  }
  const map = Array.from({ length: 784 }, (_, i) => 0.1 * Math.sin(i / 29) + 0.05 * Math.cos(i / 3));
  const diff = Array.from({ length: 784 }, (_, i) => (Math.floor(i / 28) < 5 && i % 28 < 5 ? 0.3 : 0.01 * Math.sin(i)));
  put(store, 'weights', { dataset: 'mnist', pattern: 'S3', n: 10, target: 0, seed: 0, model: 'MLP' }, { model: 'MLP', map, diff });
  return store.list().length;
}

function putMiaRuns(store: ResultsStore): void {
  for (const n of [1, 3, 10, 100]) {
    for (const seed of [0, 1, 2]) {
      put(
        store,
        'mia',
        { dataset: 'mnist', pattern: 'R3', n, seed, model: 'MLP', optimizer: ADAM, epochs: 20 },
        {
          n,
          attackAcc: 0.52 + 0.002 * seed,
          attackAccSpurious: 0.6 + 0.03 * Math.log10(n) + 0.01 * seed,
          auc: 0.55,
          tprAt1Fpr: 0.012,
          targetTestAcc: 0.975,
        },
      );
    }
  }
}

/** The log-spaced FPR grid LiRA's ROC summaries use (1e-5 .. 1, 10 per decade). */
const LOG_FPRS = Array.from({ length: 51 }, (_, j) => 10 ** (-5 + j / 10));

/**
 * A lira run's result as the kind stores it: the spurious examples leak more as n falls
 * (TPR = FPR^a with a smaller for them), R3 more than S3; the memorization histogram
 * over 20 bins of [-1, 1] with most examples near 0, the spurious ones high.
 */
export function syntheticLiraResult(pattern: string, n: number, seed: number): Record<string, unknown> {
  const leak = (pattern === 'R3' ? 0.25 : 0.4) + 0.1 * Math.log10(n) + 0.01 * seed;
  const roc = (a: number) => LOG_FPRS.map((fpr) => ({ fpr, tpr: Math.min(1, fpr ** a) }));
  const group = (a: number, examples: number) => ({
    examples,
    members: examples * 8,
    auc: 1 - a / 2,
    tprAt01Fpr: 0.001 ** a,
    tprAt1Fpr: 0.01 ** a,
    tprAt01FprPopulation: 0.001 ** a,
    tprAt1FprPopulation: 0.01 ** a,
  });
  const spurious = Array.from({ length: n }, (_, i) => ({
    index: 100 + i,
    memorization: Math.max(-1, Math.min(1, 0.9 - leak + 0.01 * i)),
    se: 0.05,
  }));
  const counts = new Array<number>(20).fill(0);
  counts[10] = 9000;
  counts[11] = 800;
  counts[12] = 150;
  counts[9] = 40;
  for (const s of spurious) counts[Math.min(19, Math.floor((s.memorization + 1) * 10))]++;
  const mem = spurious.reduce((t, s) => t + s.memorization, 0) / n;
  return {
    shadows: 16,
    attack: { variant: 'online', globalVariance: false, center: 'median', queries: 'none' },
    all: group(0.95, 10000),
    spurious: group(leak, n),
    matchedClean: group(0.9, 100),
    memorization: {
      spuriousMean: mem,
      populationMean: 0.01,
      matchedCleanMean: 0.008,
      spuriousRanks: spurious.map((_, i) => i + 1),
      spurious,
      poolSize: 10000,
      histogram: { edges: Array.from({ length: 21 }, (_, j) => Math.round((-1 + j * 0.1) * 10) / 10), counts },
    },
    seconds: 2,
    details: {
      roc: { all: roc(0.95), spurious: roc(leak), matchedClean: roc(0.9) },
      variants: {},
      perTarget: {},
      models: {},
      spuriousIndices: spurious.map((s) => s.index),
      matchedIndices: [],
      poolSize: 10000,
      modelTrainSizes: [],
    },
  };
}

/** LiRA runs: R3 and S3 at n = 1, 10, 100 (K = 16), two seeds of R3 at n = 10. */
export function putLiraRuns(store: ResultsStore): void {
  for (const pattern of ['R3', 'S3']) {
    for (const n of [1, 10, 100]) {
      for (const seed of pattern === 'R3' && n === 10 ? [0, 1] : [0]) {
        put(
          store,
          'lira',
          {
            experiment: 'lira',
            liraVersion: 1,
            dataset: 'mnist',
            pattern,
            n,
            target: 0,
            seed,
            model: 'LargeMLP',
            ...FLAT_ADAM,
            epochs: 20,
            shadows: 16,
            trainLimit: 0,
            testLimit: 0,
            queries: 'none',
            matched: 100,
            variant: 'online',
            globalVariance: false,
            center: 'median',
          },
          syntheticLiraResult(pattern, n, seed),
        );
      }
    }
  }
}

/** A new store in a fresh temporary directory, filled with the synthetic runs (or, if `small`, the membership-inference runs only). */
export function syntheticStore(small = false): ResultsStore {
  const dir = tempDir('spurlab-report-store-');
  const store = ResultsStore.open(join(dir, 'results.db'));
  if (small) putMiaRuns(store);
  else fillSyntheticStore(store);
  return store;
}
