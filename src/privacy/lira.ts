// The likelihood-ratio attack (LiRA, Carlini et al. 2022) on K shadow models, each of
// which trained on a random half of a pool of N examples. Every model is the target in
// turn (leave-one-model-out): the other K - 1 models give, per example, the Gaussians of
// its logit-scaled confidence when it was trained on ("in") and when it was not ("out");
// the target's own confidence is scored against them.
//
// - online: log N(x; in) - log N(x; out), the two-sided likelihood ratio;
// - offline: -log P(Z > x), Z ~ N(out): one-sided, a member is more confident than the
//   out models (the paper's offline test; the public code's two-sided out density is not);
// - variance per example, or one global variance per target model (and augmentation),
//   pooled within examples: sum of squared deviations from each example's own mean over
//   the total count. (The public code's np.std over the whole matrix adds the spread of
//   the examples' means, and uses the in-variance for out too.)
// - both sides always hold K/2 - 1 models: the side of the target's own membership loses the
//   target, the other side its last model (in model order). Unequal sides bias the
//   likelihood ratio (a Gaussian fitted to fewer values is narrower on average), which
//   with K = 8 pushes the AUC of examples without any signal to 0.4; the public code
//   truncates every side to the smallest count for the same reason;
// - centre: the median, as the public code, or the mean;
// - augmented queries (stats[.., a]) get one Gaussian each; their scores are averaged.
import { RandomState } from '../data/numpyRandom.ts';
import { UserError } from '../util/errors.ts';
import { normalLogPdf, normalLogSf, sortedIndexOf, sortedMedianWithout } from './liraStats.ts';

/**
 * keep[k * N + i] = 1 when shadow model k trains on pool example i. The construction of
 * the paper's code: uniform (K, N) draws, argsort down each column, keep where the sorted
 * position holds a model index below K/2, so every example is in exactly K/2 models and
 * each model gets about N/2 examples. RandomState(seed) is numpy's legacy generator.
 */
export function keepMatrix(shadows: number, poolSize: number, seed: number | readonly number[]): Uint8Array {
  checkShadows(shadows);
  if (!(Number.isInteger(poolSize) && poolSize >= 2)) throw new UserError(`LiRA needs a pool of at least 2 training examples, got ${poolSize}`);
  const u = new RandomState(seed).rand(shadows, poolSize);
  const keep = new Uint8Array(shadows * poolSize);
  const column = new Array<number>(shadows);
  for (let i = 0; i < poolSize; i++) {
    for (let k = 0; k < shadows; k++) column[k] = k;
    column.sort((a, b) => u[a * poolSize + i] - u[b * poolSize + i] || a - b);
    for (let r = 0; r < shadows; r++) keep[r * poolSize + i] = column[r] < shadows / 2 ? 1 : 0;
  }
  return keep;
}

export function checkShadows(shadows: number): void {
  if (!(Number.isInteger(shadows) && shadows >= 6 && shadows <= 256 && shadows % 2 === 0)) {
    throw new UserError(
      `shadows: got ${shadows}, expected an even number of shadow models from 6 to 256 (16 or 64 usual; each Gaussian is fitted to K/2 - 1 of them)`,
    );
  }
}

export type LiraVariant = 'online' | 'offline';

export interface LiraScoreOptions {
  variant?: LiraVariant; // default online
  globalVariance?: boolean; // default false: per-example variance
  center?: 'median' | 'mean'; // default median
}

/** The observations of K shadow models on a pool of N examples, A queries each. */
export interface ShadowObservations {
  shadows: number; // K
  poolSize: number; // N
  queries: number; // A (1, or 2 with flips)
  stats: Float64Array; // [K, N, A] logit-scaled confidence of the true class
  keep: Uint8Array; // [K, N] membership
}

export function checkObservations(o: ShadowObservations): void {
  const { shadows: K, poolSize: N, queries: A } = o;
  if (o.stats.length !== K * N * A) throw new RangeError(`LiRA: stats has ${o.stats.length} values, expected K*N*A = ${K}*${N}*${A}`);
  if (o.keep.length !== K * N) throw new RangeError(`LiRA: keep has ${o.keep.length} entries, expected K*N = ${K}*${N}`);
  for (let i = 0; i < o.stats.length; i++) if (!Number.isFinite(o.stats[i])) throw new RangeError(`LiRA: stat ${i} is ${o.stats[i]}`);
  for (let i = 0; i < N; i++) {
    let count = 0;
    for (let k = 0; k < K; k++) count += o.keep[k * N + i];
    if (count !== K / 2) throw new RangeError(`LiRA: pool example ${i} is in ${count} of ${K} models, expected exactly half (see keepMatrix)`);
  }
}

// Sigma of a fitted Gaussian; the public code's + 1e-30 keeps a zero spread finite.
const SIGMA_FLOOR = 1e-30;

// Running sums of one side (in or out) of one example and query, shifted by its first
// value so that leaving one value out does not cancel digits.
interface Side {
  sorted: Float64Array;
  shift: number;
  sum: number;
  sumSq: number;
}

function side(values: number[]): Side {
  const sorted = Float64Array.from(values).sort();
  const shift = values.length ? values[0] : 0;
  let sum = 0;
  let sumSq = 0;
  for (const v of values) {
    sum += v - shift;
    sumSq += (v - shift) ** 2;
  }
  return { sorted, shift, sum, sumSq };
}

// The Gaussian of one side with one value left out (the target's, or the side's last
// model's), written at position j: centre and sum of squared deviations from the mean.
function fitWithout(s: Side, leftOut: number, median: boolean, centers: Float64Array, ssds: Float64Array, j: number): void {
  const skip = sortedIndexOf(s.sorted, leftOut);
  if (skip < 0) throw new Error('LiRA: a left-out value is missing from its side');
  const count = s.sorted.length - 1;
  const sum = s.sum - (leftOut - s.shift);
  const sumSq = s.sumSq - (leftOut - s.shift) ** 2;
  const mean = sum / count;
  ssds[j] = Math.max(0, sumSq - sum * mean);
  centers[j] = median ? sortedMedianWithout(s.sorted, skip) : mean + s.shift;
}

/**
 * LiRA scores of every model as the target: scores[t * N + i] is the membership score of
 * pool example i against model t, from the other K - 1 models (higher = member).
 */
export function liraScores(o: ShadowObservations, opts: LiraScoreOptions = {}): Float64Array {
  checkObservations(o);
  const variant = opts.variant ?? 'online';
  const center = opts.center ?? 'median';
  const { shadows: K, poolSize: N, queries: A } = o;
  const stat = (k: number, i: number, a: number) => o.stats[(k * N + i) * A + a];
  const sides: { inSide: Side; outSide: Side; lastIn: number; lastOut: number }[] = new Array(N * A);
  for (let i = 0; i < N; i++) {
    for (let a = 0; a < A; a++) {
      const ins: number[] = [];
      const outs: number[] = [];
      for (let k = 0; k < K; k++) (o.keep[k * N + i] ? ins : outs).push(stat(k, i, a));
      sides[i * A + a] = { inSide: side(ins), outSide: side(outs), lastIn: ins[ins.length - 1], lastOut: outs[outs.length - 1] };
    }
  }
  const scores = new Float64Array(K * N);
  // Every side holds K/2 - 1 values once one is left out (checkObservations: K/2 per example).
  const count = K / 2 - 1;
  const median = center === 'median';
  const inCenter = new Float64Array(N * A);
  const inSsd = new Float64Array(N * A);
  const outCenter = new Float64Array(N * A);
  const outSsd = new Float64Array(N * A);
  for (let t = 0; t < K; t++) {
    for (let i = 0; i < N; i++) {
      const member = o.keep[t * N + i] === 1;
      for (let a = 0; a < A; a++) {
        const j = i * A + a;
        const { inSide, outSide, lastIn, lastOut } = sides[j];
        const x = stat(t, i, a);
        fitWithout(inSide, member ? x : lastIn, median, inCenter, inSsd, j);
        fitWithout(outSide, member ? lastOut : x, median, outCenter, outSsd, j);
      }
    }
    // Global variance: one per side and query for this target, pooled over examples.
    const globalIn = new Float64Array(A);
    const globalOut = new Float64Array(A);
    if (opts.globalVariance) {
      for (let a = 0; a < A; a++) {
        let ssdIn = 0;
        let ssdOut = 0;
        for (let i = 0; i < N; i++) {
          ssdIn += inSsd[i * A + a];
          ssdOut += outSsd[i * A + a];
        }
        globalIn[a] = Math.sqrt(ssdIn / (N * count));
        globalOut[a] = Math.sqrt(ssdOut / (N * count));
      }
    }
    for (let i = 0; i < N; i++) {
      let total = 0;
      for (let a = 0; a < A; a++) {
        const j = i * A + a;
        const sdIn = (opts.globalVariance ? globalIn[a] : Math.sqrt(inSsd[j] / count)) + SIGMA_FLOOR;
        const sdOut = (opts.globalVariance ? globalOut[a] : Math.sqrt(outSsd[j] / count)) + SIGMA_FLOOR;
        const x = stat(t, i, a);
        total +=
          variant === 'online' ? normalLogPdf(x, inCenter[j], sdIn) - normalLogPdf(x, outCenter[j], sdOut) : -normalLogSf(x, outCenter[j], sdOut);
      }
      scores[t * N + i] = total / A;
    }
  }
  return scores;
}
