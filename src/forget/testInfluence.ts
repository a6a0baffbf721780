// Influence of every training example on one test prediction (PROTOCOL section 7; the
// reference's calc_influence_single): s_test = LiSSA(grad loss(z_test)), then
// influence(z_i) = -grad loss(z_i) . s_test / N. Positive: up-weighting z_i raises the
// test loss (harmful); negative: lowers it (helpful). As in the reference, the test
// image gets the run's pattern unless asked for the clean one, so the question is
// whether the spurious training examples are the ones that drive that prediction.
import { applyPattern } from '../data/patterns.ts';
import { UserError } from '../util/errors.ts';
import { makeBatch, type Layout } from '../train/batches.ts';
import type { Module } from '../nn/module.ts';
import type { SpuriousDataset } from '../data/spurious.ts';
import { hessianEngineFor, type EngineKind } from './hessianEngine.ts';
import { examplePool, exampleBatch } from './groupInfluence.ts';
import { type Averaging, lissaInverseHvp, type LissaTrace, type Scaling } from './lissa.ts';

export interface TestInfluenceOptions {
  testIndex: number;
  patterned: boolean;
  damp: number;
  scale: number;
  depth: number;
  repeats: number;
  scaling: Scaling;
  /** How the repeats combine (default 'mean'; 'reference': the first divided by r, as calc_influence_single does). */
  average?: Averaging;
  seed: number;
}

/** The reference's settings for calc_influence_single: damp 0.01, scale 25, depth 2000, r = 10. */
export const TEST_INFLUENCE_DEFAULTS = {
  damp: 0.01,
  scale: 25,
  depth: 2000,
  repeats: 10,
  scaling: 'reference',
  average: 'mean',
  seed: 0,
  patterned: true,
} as const;

export interface TestInfluence {
  testIndex: number;
  label: number;
  patterned: boolean;
  influences: Float64Array; // per training position (run.trainIndices order)
  trainIndices: Int32Array; // data set index of each position
  spurious: { index: number; influence: number; rankHarmful: number; rankHelpful: number; rankAbs: number }[]; // ranks are 1-based
  trace: LissaTrace;
  hvps: number;
  engine: EngineKind;
}

/** 1-based rank of each position when sorted by key descending (ties keep position order). */
function ranks(values: Float64Array, key: (v: number) => number): Int32Array {
  const order = Array.from(values.keys()).sort((a, b) => key(values[b]) - key(values[a]) || a - b);
  const rank = new Int32Array(values.length);
  order.forEach((pos, r) => (rank[pos] = r + 1));
  return rank;
}

export function testInfluence(
  model: Module,
  layout: Layout,
  data: SpuriousDataset,
  trainIndices: Int32Array,
  opts: TestInfluenceOptions,
): TestInfluence {
  const test = data.test;
  if (!Number.isInteger(opts.testIndex) || opts.testIndex < 0 || opts.testIndex >= test.n) {
    throw new UserError(`test index: got ${opts.testIndex}, expected an integer in [0, ${test.n})`);
  }
  const engine = hessianEngineFor(model);
  const z = exampleBatch(test, [opts.testIndex], layout);
  if (opts.patterned) {
    const size = test.height * test.width * test.channels;
    const img = test.images.slice(opts.testIndex * size, (opts.testIndex + 1) * size);
    applyPattern(data.pattern, img);
    z.x = makeBatch({ ...test, images: img, n: 1 }, [0], { layout });
  }
  const v = new Float32Array(engine.size);
  engine.gradient(z, v, 'sum');
  const pool = examplePool(data.train, trainIndices, layout);
  const s = lissaInverseHvp(engine, v, pool, {
    damp: opts.damp,
    scale: opts.scale,
    depth: opts.depth,
    repeats: opts.repeats,
    scaling: opts.scaling,
    average: opts.average,
    seed: [opts.seed, 2],
  });
  const n = trainIndices.length;
  const influences = new Float64Array(n);
  const chunk = 500;
  for (let start = 0; start < n; start += chunk) {
    const idx = trainIndices.subarray(start, Math.min(n, start + chunk));
    const b = exampleBatch(data.train, idx, layout);
    const out = new Float64Array(idx.length);
    engine.lossDirectional(b, s.h, out);
    for (let i = 0; i < idx.length; i++) influences[start + i] = -out[i] / n;
  }
  const harmful = ranks(influences, (x) => x);
  const helpful = ranks(influences, (x) => -x);
  const byAbs = ranks(influences, (x) => Math.abs(x));
  const position = new Map<number, number>();
  trainIndices.forEach((t, i) => position.set(t, i));
  const spurious = data.spuriousIndices
    .filter((i) => position.has(i))
    .map((i) => {
      const p = position.get(i)!;
      return { index: i, influence: influences[p], rankHarmful: harmful[p], rankHelpful: helpful[p], rankAbs: byAbs[p] };
    });
  return {
    testIndex: opts.testIndex,
    label: test.labels[opts.testIndex],
    patterned: opts.patterned,
    influences,
    trainIndices,
    spurious,
    trace: s.trace,
    hvps: s.hvps,
    engine: engine.kind,
  };
}
