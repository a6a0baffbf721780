// LiSSA inverse Hessian-vector products (PROTOCOL section 7) and the power iteration
// that tells whether a scale lets LiSSA converge.
//
// v = grad loss(z); h_0 = v; h_{t+1} = v + (1 - damp) h_t - (H_t h_t) / scale, H_t the
// Hessian of the loss on one training example drawn uniformly (with replacement, as the
// reference's freshly shuffled batch-1 DataLoader does); depth steps; the mean over r
// repeats. The fixed point is h = scale (H + scale damp I)^-1 v: the reference keeps h as
// is ('reference' scaling), textbook LiSSA divides by scale ('textbook'), which gives
// (H + scale damp I)^-1 v. Each step contracts only when every eigenvalue of H_t lies in
// (-scale damp, scale (2 - damp)); above that the iterate grows geometrically, which the
// recorded norms make visible.
import { RandomState } from '../data/numpyRandom.ts';
import type { Batch, HessianEngine } from './hessianEngine.ts';

export type Scaling = 'reference' | 'textbook';
export const SCALINGS: readonly Scaling[] = ['reference', 'textbook'];

/**
 * How the r repeats combine: 'mean' (spurlab) averages them; 'reference' is what the
 * reference code computes (its `+=` on Python lists concatenates, DEPARTURES.md 1): the
 * first repeat's estimate divided by r. Repeats 2..r then change nothing, so they are
 * not computed.
 */
export type Averaging = 'mean' | 'reference';
export const AVERAGINGS: readonly Averaging[] = ['mean', 'reference'];

/** Training examples LiSSA samples from: position i in [0, size) gives a batch of one. */
export interface ExamplePool {
  size: number;
  example(i: number): Batch;
}

export interface LissaOptions {
  damp: number;
  scale: number;
  depth: number;
  repeats: number;
  scaling: Scaling;
  /** Default 'mean'. */
  average?: Averaging;
  /** Repeat j draws its examples from RandomState([...seed, j]). */
  seed: number[];
  /** How many iterate norms to record per repeat (evenly spaced, the last step included). */
  normPoints?: number;
}

export interface LissaTrace {
  steps: number[]; // the steps at which norms were recorded (0 = h_0 = v)
  norms: number[]; // ||h_t|| at those steps, mean over repeats (reference scaling, before any division)
  finalNorms: number[]; // ||h_depth|| of each repeat
  diverged: boolean; // see looksDiverged
}

export interface LissaResult {
  h: Float32Array; // the estimate, scaled as opts.scaling says
  trace: LissaTrace;
  hvps: number;
}

/**
 * The divergence rule: a norm became non-finite, or the last norm is more than 100 times
 * the median of the recorded ones. A converging iterate levels off; one-example
 * Hessians above scale give transient jumps (a factor of a few to ten); divergence
 * grows geometrically and leaves the median far behind.
 */
export function looksDiverged(norms: number[]): boolean {
  if (norms.some((n) => !Number.isFinite(n))) return true;
  const sorted = [...norms].sort((a, b) => a - b);
  return norms.length > 2 && norms[norms.length - 1] > 100 * sorted[Math.floor(sorted.length / 2)];
}

/** The LiSSA estimate for v (a flat parameter vector). */
export function lissaInverseHvp(engine: HessianEngine, v: Float32Array, pool: ExamplePool, opts: LissaOptions): LissaResult {
  const points = Math.max(1, opts.normPoints ?? 20);
  const every = Math.max(1, Math.floor(opts.depth / points));
  const h = new Float32Array(engine.size);
  // the repeats' sum, only when there are several (one repeat is read straight into h)
  let sum: Float64Array | undefined;
  const steps: number[] = [];
  const normSums: number[] = [];
  const finalNorms: number[] = [];
  let hvps = 0;
  const computed = opts.average === 'reference' ? 1 : opts.repeats;
  for (let j = 0; j < computed; j++) {
    const rng = new RandomState([...opts.seed, j]);
    engine.lissaStart(v);
    let k = 0;
    const note = (t: number) => {
      const norm = Math.sqrt(engine.lissaNormSquared());
      if (j === 0) {
        steps.push(t);
        normSums.push(0);
      }
      normSums[k++] += norm / computed;
      return norm;
    };
    note(0);
    let norm = 0;
    for (let t = 1; t <= opts.depth; t++) {
      engine.lissaStep(pool.example(rng.randint(0, pool.size)), v, opts.damp, opts.scale);
      hvps++;
      if (t % every === 0 || t === opts.depth) norm = note(t);
    }
    finalNorms.push(norm);
    engine.lissaRead(h);
    if (computed > 1) {
      sum ??= new Float64Array(engine.size);
      for (let i = 0; i < h.length; i++) sum[i] += h[i];
    }
  }
  const factor = (opts.scaling === 'textbook' ? 1 / opts.scale : 1) / opts.repeats;
  // the same floats either way: a sum of one is exact, and each product is rounded once
  if (sum !== undefined) for (let i = 0; i < h.length; i++) h[i] = sum[i] * factor;
  else if (factor !== 1) for (let i = 0; i < h.length; i++) h[i] *= factor;
  return { h, trace: { steps, norms: normSums, finalNorms, diverged: looksDiverged(normSums) }, hvps };
}

export interface EigenEstimate {
  lambda: number; // the Rayleigh quotient at the dominant eigenvector (largest |eigenvalue|)
  iterations: number;
  hvps: number;
  history: number[]; // the Rayleigh quotient per iteration
}

/** Power iteration on exact HVPs of the batch-mean loss for the largest |eigenvalue| of H. */
export function largestEigenvalue(
  engine: HessianEngine,
  batch: Batch,
  opts: { iterations?: number; tol?: number; seed?: number } = {},
): EigenEstimate {
  const maxIter = opts.iterations ?? 50;
  const tol = opts.tol ?? 1e-3;
  const rng = new RandomState([opts.seed ?? 0, 11]);
  let q = Float32Array.from({ length: engine.size }, () => rng.standardNormal());
  normalize(q);
  const w = new Float32Array(engine.size);
  const history: number[] = [];
  let lambda = 0;
  for (let it = 1; it <= maxIter; it++) {
    engine.hvp(batch, q, w);
    let dot = 0;
    for (let i = 0; i < w.length; i++) dot += q[i] * w[i];
    history.push(dot);
    const converged = it > 1 && Math.abs(dot - lambda) <= tol * Math.abs(dot);
    lambda = dot;
    if (converged) return { lambda, iterations: it, hvps: it, history };
    q = Float32Array.from(w);
    if (normalize(q) === 0) return { lambda: 0, iterations: it, hvps: it, history };
  }
  return { lambda, iterations: maxIter, hvps: maxIter, history };
}

function normalize(x: Float32Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  const n = Math.sqrt(s);
  if (n > 0) for (let i = 0; i < x.length; i++) x[i] /= n;
  return n;
}

/**
 * scale 'auto' = AUTO_SCALE_MARGIN * max(|lambda_max| of the mean Hessian on a batch,
 * |lambda_max| of AUTO_SCALE_SINGLES one-example Hessians). LiSSA multiplies by one-example
 * Hessians, whose top eigenvalues scatter far above the mean's (on a 2-epoch MNIST MLP:
 * 0 to 240 against 6 for the mean), and a step contracts up to lambda < (2 - damp) scale;
 * so scale at the largest sampled one-example eigenvalue leaves about a factor 2 for
 * examples beyond the sample.
 */
export const AUTO_SCALE_MARGIN = 1;
export const AUTO_SCALE_SINGLES = 20;
