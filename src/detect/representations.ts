// Backdoor defences on the penultimate representation, class by class:
// - spectral signatures (Tran, Li, Madry 2018): centre the class's representations, take
//   the top right singular vector v of the centred matrix, score (r - mean) . v squared;
//   poisoned examples, if they share a feature the class does not, stand out along v.
// - activation clustering (Chen et al. 2018): reduce the centred representations to a
//   few dimensions, split them into two clusters by k-means, and flag the smaller one.
//   The paper reduces with ICA; here the top principal components (deterministic, no
//   extra fitting), which is where a shared planted feature shows up first.
// Scores are made comparable across classes (each class's scores divided by their mean),
// so a ranking over the whole training set does not favour the class with the widest
// spread; the target-class AUROC reads one class alone.
import { kernels } from '../backend/registry.ts';
import { RandomState } from '../data/numpyRandom.ts';

/** Examples grouped by label: positions of each class in the representation matrix. */
function byClass(labels: Int32Array): Map<number, number[]> {
  const out = new Map<number, number[]>();
  labels.forEach((c, i) => {
    if (!out.has(c)) out.set(c, []);
    out.get(c)!.push(i);
  });
  return out;
}

/** The class's representations, centred: [m, h]. */
function centred(reps: Float32Array, h: number, members: number[]): Float32Array {
  const m = members.length;
  const mean = new Float64Array(h);
  for (const i of members) for (let j = 0; j < h; j++) mean[j] += reps[i * h + j] / m;
  const out = new Float32Array(m * h);
  members.forEach((i, r) => {
    for (let j = 0; j < h; j++) out[r * h + j] = reps[i * h + j] - mean[j];
  });
  return out;
}

/**
 * The top `count` eigenvectors of M^T M (M: [m, h]), i.e. M's top right singular vectors,
 * by power iteration with deflation on the h x h Gram matrix.
 */
export function topRightSingularVectors(m: Float32Array, rows: number, h: number, count: number, seed = 0): Float64Array[] {
  const gram32 = new Float32Array(h * h);
  kernels('float32').matmul(m, m, h, rows, h, true, false, gram32);
  const gram = Float64Array.from(gram32);
  const rng = new RandomState([seed, 37]);
  const vectors: Float64Array[] = [];
  const w = new Float64Array(h);
  for (let c = 0; c < Math.min(count, h); c++) {
    let q = Float64Array.from({ length: h }, () => rng.standardNormal());
    let lambda = 0;
    for (let it = 0; it < 300; it++) {
      for (const v of vectors) orthogonalize(q, v);
      normalize(q);
      for (let i = 0; i < h; i++) {
        let s = 0;
        for (let j = 0; j < h; j++) s += gram[i * h + j] * q[j];
        w[i] = s;
      }
      for (const v of vectors) orthogonalize(w, v);
      let dot = 0;
      for (let i = 0; i < h; i++) dot += w[i] * q[i];
      const converged = it > 5 && Math.abs(dot - lambda) <= 1e-9 * Math.abs(dot);
      lambda = dot;
      q = Float64Array.from(w);
      if (normalize(q) === 0 || converged) break;
    }
    vectors.push(q);
  }
  return vectors;
}

function orthogonalize(x: Float64Array, v: Float64Array): void {
  let dot = 0;
  for (let i = 0; i < x.length; i++) dot += x[i] * v[i];
  for (let i = 0; i < x.length; i++) x[i] -= dot * v[i];
}

function normalize(x: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  const n = Math.sqrt(s);
  if (n > 0) for (let i = 0; i < x.length; i++) x[i] /= n;
  return n;
}

function divideByMean(scores: Float64Array, members: number[]): void {
  let mean = 0;
  for (const i of members) mean += scores[i] / members.length;
  if (mean > 0) for (const i of members) scores[i] /= mean;
}

/** reps: [N, h] penultimate representations, labels: [N]. One score per example. */
export function spectralScores(reps: Float32Array, h: number, labels: Int32Array, seed = 0): Float64Array {
  const scores = new Float64Array(labels.length);
  for (const members of byClass(labels).values()) {
    const m = centred(reps, h, members);
    const [v] = topRightSingularVectors(m, members.length, h, 1, seed);
    members.forEach((i, r) => {
      let dot = 0;
      for (let j = 0; j < h; j++) dot += m[r * h + j] * v[j];
      scores[i] = dot * dot;
    });
    divideByMean(scores, members);
  }
  return scores;
}

export interface ClusteringOptions {
  components: number; // dimensions kept before clustering (the paper: 10)
  iterations: number; // Lloyd iterations of 2-means
  seed: number;
}

export const CLUSTERING_DEFAULTS: ClusteringOptions = { components: 10, iterations: 50, seed: 0 };

/** 2-means on [m, d] points (k-means++ start): the assignment and the two centroids. */
export function twoMeans(x: Float64Array, m: number, d: number, iterations: number, seed: number): { assign: Uint8Array; centroids: Float64Array[] } {
  const rng = new RandomState([seed, 41]);
  const dist2 = (i: number, c: Float64Array) => {
    let s = 0;
    for (let j = 0; j < d; j++) s += (x[i * d + j] - c[j]) ** 2;
    return s;
  };
  const first = rng.randint(0, m);
  const c0 = x.slice(first * d, first * d + d);
  // k-means++: the second centre drawn in proportion to the squared distance from the first
  const w = Float64Array.from({ length: m }, (_, i) => dist2(i, c0));
  const total = w.reduce((a, b) => a + b, 0);
  let pick = m - 1;
  let u = rng.random() * total;
  for (let i = 0; i < m; i++)
    if ((u -= w[i]) <= 0) {
      pick = i;
      break;
    }
  const centroids = [c0, x.slice(pick * d, pick * d + d)];
  const assign = new Uint8Array(m);
  for (let it = 0; it < iterations; it++) {
    let changed = false;
    for (let i = 0; i < m; i++) {
      const a = dist2(i, centroids[1]) < dist2(i, centroids[0]) ? 1 : 0;
      if (a !== assign[i]) changed = true;
      assign[i] = a;
    }
    for (const k of [0, 1]) {
      const c = new Float64Array(d);
      let count = 0;
      for (let i = 0; i < m; i++)
        if (assign[i] === k) {
          count++;
          for (let j = 0; j < d; j++) c[j] += x[i * d + j];
        }
      if (count > 0) for (let j = 0; j < d; j++) centroids[k][j] = c[j] / count;
    }
    if (!changed && it > 0) break;
  }
  return { assign, centroids };
}

/**
 * Per example: its distance from the larger cluster's centre over the class's
 * root-mean-square distance, times (1 - the smaller cluster's share of the class). The
 * smaller cluster lies far from that centre, and so do outliers 2-means left in the larger
 * one (planted examples of two kinds need not fall in one cluster); a class split into a
 * tiny cluster and the rest ranks above a class split in halves.
 */
export function activationClusteringScores(
  reps: Float32Array,
  h: number,
  labels: Int32Array,
  opts: ClusteringOptions = CLUSTERING_DEFAULTS,
): Float64Array {
  const scores = new Float64Array(labels.length);
  for (const members of byClass(labels).values()) {
    const m = members.length;
    if (m < 2) continue;
    const c = centred(reps, h, members);
    const dims = Math.min(opts.components, h);
    const basis = topRightSingularVectors(c, m, h, dims, opts.seed);
    const low = new Float64Array(m * dims);
    for (let r = 0; r < m; r++)
      for (let k = 0; k < dims; k++) {
        let dot = 0;
        for (let j = 0; j < h; j++) dot += c[r * h + j] * basis[k][j];
        low[r * dims + k] = dot;
      }
    const { assign, centroids } = twoMeans(low, m, dims, opts.iterations, opts.seed);
    const ones = assign.reduce((a, b) => a + b, 0);
    const small = ones <= m - ones ? 1 : 0;
    const share = (small === 1 ? ones : m - ones) / m;
    const dist = (r: number, k: number) => {
      let s = 0;
      for (let j = 0; j < dims; j++) s += (low[r * dims + j] - centroids[k][j]) ** 2;
      return Math.sqrt(s);
    };
    let rms = 0;
    for (let r = 0; r < m; r++) for (let j = 0; j < dims; j++) rms += low[r * dims + j] ** 2 / m;
    rms = Math.sqrt(rms) || 1;
    members.forEach((i, r) => {
      scores[i] = (dist(r, 1 - small) / rms) * (1 - share);
    });
  }
  return scores;
}
