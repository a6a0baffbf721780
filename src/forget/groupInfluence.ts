// First-order group influence (PROTOCOL section 7; the reference's
// first_order_group_influence): removing the set S of k out of N training examples,
// p = k / N, moves the parameters by
//     delta = -1 / ((1 - p) N) * sum_{z in S} h(z),   theta_new = theta - delta,
// h(z) the LiSSA estimate of H^-1 grad loss(z). Sign: with textbook scaling theta - delta
// = theta + H^-1 sum grad / ((1 - p) N), the Newton step that un-fits S (up-weighting z
// by eps moves theta by -eps H^-1 grad loss(z); removal is eps = -1/N); the reference
// subtracts its returned list from the parameters exactly so. With reference scaling the
// step is about scale times longer (h is not divided by scale).
//
// Modes: 'reference' runs LiSSA once per removed example (r repeats each) and sums;
// 'fast' runs it once on the summed gradient of S. LiSSA is linear in v for a fixed
// example sequence, so the two agree exactly when every example's LiSSA uses the same
// sequences (sharedSequences) and in expectation otherwise, at 1/k of the cost.
import type { Dataset } from '../data/dataset.ts';
import { Tensor } from '../tensor/tensor.ts';
import { makeBatch, batchLabels, type Layout } from '../train/batches.ts';
import type { Batch, HessianEngine } from './hessianEngine.ts';
import {
  AUTO_SCALE_MARGIN,
  AUTO_SCALE_SINGLES,
  largestEigenvalue,
  lissaInverseHvp,
  type Averaging,
  type ExamplePool,
  type LissaTrace,
  type Scaling,
} from './lissa.ts';
import { RandomState } from '../data/numpyRandom.ts';

export type InfluenceMode = 'reference' | 'fast';
export const INFLUENCE_MODES: readonly InfluenceMode[] = ['reference', 'fast'];

export interface GroupInfluenceOptions {
  damp: number;
  scale: number | 'auto';
  depth: number;
  repeats: number;
  scaling: Scaling;
  /** How LiSSA's repeats combine (default 'mean'; 'reference': the first divided by r). */
  average?: Averaging;
  mode: InfluenceMode;
  seed: number;
  /** Reference mode: every removed example's LiSSA draws the same example sequences. */
  sharedSequences?: boolean;
  /** Examples in the power-iteration batch for scale 'auto'. */
  eigenBatch?: number;
}

export interface ScaleChoice {
  scale: number;
  source: 'given' | 'auto';
  lambdaMax: number | null; // power-iteration estimate on the mean Hessian of a batch, when auto
  lambdaMaxSingle: number | null; // the largest over AUTO_SCALE_SINGLES one-example Hessians, when auto
  margin: number | null;
  hvps: number;
}

export interface GroupInfluenceResult {
  delta: Float32Array; // parameters become theta - delta
  k: number;
  n: number;
  p: number;
  scale: ScaleChoice;
  trace: LissaTrace; // fast: the one LiSSA; reference: the first removed example's
  tracesDiverged: number; // how many LiSSA runs looked divergent
  hvps: number;
}

/** The run's training examples in training order, as batches of one in the model's layout. */
export function examplePool(train: Dataset, indices: ArrayLike<number>, layout: Layout): ExamplePool {
  return { size: indices.length, example: (i) => exampleBatch(train, [indices[i]], layout) };
}

export function exampleBatch(d: Dataset, indices: ArrayLike<number>, layout: Layout): Batch {
  return { x: makeBatch(d, indices, { layout }), y: batchLabels(d, indices) };
}

/** The scale to use: the given one, or 'auto' (see AUTO_SCALE_MARGIN) from power iterations. */
export function chooseScale(engine: HessianEngine, pool: ExamplePool, scale: number | 'auto', seed: number, eigenBatch = 1000): ScaleChoice {
  if (scale !== 'auto') return { scale, source: 'given', lambdaMax: null, lambdaMaxSingle: null, margin: null, hvps: 0 };
  const rng = new RandomState([seed, 13]);
  const picks = rng.choice(pool.size, Math.min(eigenBatch, pool.size), { replace: false });
  const batch = concatBatches(picks.map((i) => pool.example(i)));
  const est = largestEigenvalue(engine, batch, { seed });
  let hvps = est.hvps;
  let single = 0;
  for (const i of picks.slice(0, AUTO_SCALE_SINGLES)) {
    const e = largestEigenvalue(engine, pool.example(i), { seed: seed + i });
    hvps += e.hvps;
    single = Math.max(single, Math.abs(e.lambda));
  }
  const lambdaMax = Math.abs(est.lambda);
  return {
    scale: Math.max(AUTO_SCALE_MARGIN * Math.max(lambdaMax, single), 1e-6),
    source: 'auto',
    lambdaMax,
    lambdaMaxSingle: single,
    margin: AUTO_SCALE_MARGIN,
    hvps,
  };
}

function concatBatches(batches: Batch[]): Batch {
  const first = batches[0].x;
  const per = first.size;
  const data = new Float32Array(per * batches.length);
  batches.forEach((b, i) => data.set(b.x.values(), i * per));
  const y = Int32Array.from(batches.flatMap((b) => Array.from(b.y)));
  return { x: new Tensor(data, [batches.length, ...first.shape.slice(1)]), y };
}

/** delta for removing `removed` (batches of one) from the N = pool.size training examples. */
export function firstOrderGroupInfluence(
  engine: HessianEngine,
  pool: ExamplePool,
  removed: Batch[],
  opts: GroupInfluenceOptions,
): GroupInfluenceResult {
  const k = removed.length;
  const n = pool.size;
  const p = k / n;
  const scale = chooseScale(engine, pool, opts.scale, opts.seed, opts.eigenBatch);
  const lissa = { damp: opts.damp, scale: scale.scale, depth: opts.depth, repeats: opts.repeats, scaling: opts.scaling, average: opts.average };
  const sum = new Float64Array(engine.size);
  const g = new Float32Array(engine.size);
  let hvps = scale.hvps;
  let trace: LissaTrace | null = null;
  let tracesDiverged = 0;
  const add = (h: Float32Array) => {
    for (let i = 0; i < h.length; i++) sum[i] += h[i];
  };
  if (opts.mode === 'fast') {
    const v = new Float32Array(engine.size);
    for (const z of removed) {
      engine.gradient(z, g, 'sum');
      for (let i = 0; i < g.length; i++) v[i] += g[i];
    }
    const r = lissaInverseHvp(engine, v, pool, { ...lissa, seed: [opts.seed, 0] });
    add(r.h);
    hvps += r.hvps;
    trace = r.trace;
    tracesDiverged += r.trace.diverged ? 1 : 0;
  } else {
    removed.forEach((z, idx) => {
      engine.gradient(z, g, 'sum');
      const r = lissaInverseHvp(engine, Float32Array.from(g), pool, { ...lissa, seed: opts.sharedSequences ? [opts.seed, 0] : [opts.seed, 1, idx] });
      add(r.h);
      hvps += r.hvps;
      trace ??= r.trace;
      tracesDiverged += r.trace.diverged ? 1 : 0;
    });
  }
  const delta = new Float32Array(engine.size);
  const factor = -1 / ((1 - p) * n);
  for (let i = 0; i < delta.length; i++) delta[i] = factor * sum[i];
  return { delta, k, n, p, scale, trace: trace!, tracesDiverged, hvps };
}
