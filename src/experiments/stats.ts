/**
 * Summary statistics and tests for spurious-score experiments (PROTOCOL.md section 6):
 * mean and standard error over seeds, Welch's t-test (over runs, or over the per-image
 * 0/1 vectors as the reference does), the exact permutation test and Mann-Whitney U for
 * small run counts, a bootstrap interval of the mean, Pearson r between pattern norm and
 * score, Spearman rho.
 *
 * Every function mirrors scipy 1.10 (scipy.stats.ttest_ind(equal_var=False),
 * permutation_test, mannwhitneyu, bootstrap(method='percentile'), pearsonr, spearmanr),
 * including the degenerate cases, so numbers can be compared with the reference
 * implementation's. The Student t CDF and erfc come from @stdlib; only the statistics
 * themselves are computed here. test/golden/make_scipy_stats.py pins the agreement.
 */
import tCdf from '@stdlib/stats-base-dists-t-cdf';
import erfc from '@stdlib/math-base-special-erfc';
import { SimpleRandom } from '../util/random.ts';

export type Alternative = 'two-sided' | 'greater' | 'less';

export interface TTestResult {
  t: number;
  df: number;
  pValue: number;
}

export interface CorrelationResult {
  /** Pearson r or Spearman rho. */
  r: number;
  pValue: number;
  n: number;
}

/** Arithmetic mean; NaN for an empty sample. */
export function mean(x: ArrayLike<number>): number {
  if (x.length === 0) return NaN;
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += x[i];
  return sum / x.length;
}

/**
 * Sample variance with ddof = 1, two-pass (mean first) as numpy does, which keeps
 * 0/1 vectors of 10^4 elements exact enough for the p-values. NaN when n < 2.
 */
export function sampleVariance(x: ArrayLike<number>): number {
  const n = x.length;
  if (n < 2) return NaN;
  const m = mean(x);
  let ss = 0;
  for (let i = 0; i < n; i++) {
    const d = x[i] - m;
    ss += d * d;
  }
  return ss / (n - 1);
}

/** Sample standard deviation, ddof = 1. */
export function sampleStd(x: ArrayLike<number>): number {
  return Math.sqrt(sampleVariance(x));
}

/** Standard error of the mean, std (ddof = 1) / sqrt(n), as scipy.stats.sem. */
export function standardError(x: ArrayLike<number>): number {
  return sampleStd(x) / Math.sqrt(x.length);
}

/** P-value of a t statistic under Student's t with df degrees of freedom (scipy's _ttest_finish). */
export function tPValue(t: number, df: number, alternative: Alternative): number {
  // The upper tail is taken as cdf(-t) rather than 1 - cdf(t) so that tiny p-values
  // keep their relative precision.
  switch (alternative) {
    case 'less':
      return tCdf(t, df);
    case 'greater':
      return tCdf(-t, df);
    case 'two-sided':
      return Math.min(1, 2 * tCdf(-Math.abs(t), df));
  }
}

/**
 * Welch's two-sample t-test (unequal variances) of mean(a) - mean(b).
 *
 * Degenerate cases follow scipy.stats.ttest_ind(equal_var=False) exactly:
 * - one group has zero variance: df falls back to (n - 1) of the other group;
 * - both groups have zero variance: df is undefined and set to 1, the denominator is 0,
 *   so t = +-Infinity when the means differ (p = 0 or 1 one-sided, 0 two-sided) and
 *   t = NaN, p = NaN when they are equal (two identical constant 0/1 vectors: the test
 *   says nothing, it does not say "not significant");
 * - a group of size 1 has an undefined variance: t, df and p are NaN.
 */
export function welchTTest(a: ArrayLike<number>, b: ArrayLike<number>, alternative: Alternative = 'two-sided'): TTestResult {
  const n1 = a.length;
  const n2 = b.length;
  if (n1 < 2 || n2 < 2) return { t: NaN, df: NaN, pValue: NaN };
  const vn1 = sampleVariance(a) / n1;
  const vn2 = sampleVariance(b) / n2;
  let df = (vn1 + vn2) ** 2 / (vn1 ** 2 / (n1 - 1) + vn2 ** 2 / (n2 - 1));
  if (Number.isNaN(df)) df = 1;
  const t = (mean(a) - mean(b)) / Math.sqrt(vn1 + vn2);
  return { t, df, pValue: Number.isNaN(t) ? NaN : tPValue(t, df, alternative) };
}

/**
 * Student's one-sample t-test of mean(x) - mu (scipy.stats.ttest_1samp): for statistics
 * over runs that pair up per seed (a difference, or a correlation computed per seed).
 * Fewer than 2 values: NaN. No spread: t = +-Infinity when the mean differs from mu,
 * NaN when it equals it, as in scipy.
 */
export function oneSampleTTest(x: ArrayLike<number>, mu = 0, alternative: Alternative = 'two-sided'): TTestResult {
  const n = x.length;
  if (n < 2) return { t: NaN, df: NaN, pValue: NaN };
  const d = mean(x) - mu;
  const se = standardError(x);
  const t = se === 0 ? (d === 0 ? NaN : d > 0 ? Infinity : -Infinity) : d / se;
  return { t, df: n - 1, pValue: Number.isNaN(t) ? NaN : tPValue(t, n - 1, alternative) };
}

function isConstant(x: ArrayLike<number>): boolean {
  for (let i = 1; i < x.length; i++) if (x[i] !== x[0]) return false;
  return true;
}

function checkPaired(x: ArrayLike<number>, y: ArrayLike<number>, what: string): void {
  if (x.length !== y.length) throw new RangeError(`${what}: x and y must have the same length, got ${x.length} and ${y.length}`);
  if (x.length < 2) throw new RangeError(`${what}: need at least 2 pairs, got ${x.length}`);
}

function centred(x: ArrayLike<number>): Float64Array {
  const m = mean(x);
  return Float64Array.from(x, (v) => v - m);
}

function sumOfSquares(x: Float64Array): number {
  let ss = 0;
  for (const v of x) ss += v * v;
  return ss;
}

/**
 * scipy.stats.pearsonr's coefficient: the dot product of the centred vectors, each
 * divided by its norm, clipped to [-1, 1]. The order of operations follows scipy so
 * that exactly collinear inputs give r = +-1 (and p = 0) as they do there.
 */
function pearsonCoefficient(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const dx = centred(x);
  const dy = centred(y);
  const nx = Math.sqrt(sumOfSquares(dx));
  const ny = Math.sqrt(sumOfSquares(dy));
  let r = 0;
  for (let i = 0; i < dx.length; i++) r += (dx[i] / nx) * (dy[i] / ny);
  return Math.max(-1, Math.min(1, r));
}

/** numpy.corrcoef's coefficient (used by scipy.stats.spearmanr): cov / sx / sy, clipped. */
function corrcoef(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = x.length;
  const dx = centred(x);
  const dy = centred(y);
  let sxy = 0;
  for (let i = 0; i < n; i++) sxy += dx[i] * dy[i];
  const r = sxy / (n - 1) / Math.sqrt(sumOfSquares(dx) / (n - 1)) / Math.sqrt(sumOfSquares(dy) / (n - 1));
  return Math.max(-1, Math.min(1, r));
}

/** P-value of a correlation coefficient r of n pairs, via t = r sqrt((n-2) / (1-r^2)) with n - 2 df. */
function correlationPValue(r: number, n: number, alternative: Alternative): number {
  const df = n - 2;
  // (1 - r)(1 + r) rather than 1 - r^2: no cancellation when |r| is close to 1.
  const t = r * Math.sqrt(df / ((1 - r) * (1 + r)));
  return tPValue(t, df, alternative);
}

/**
 * Pearson's r with the p-value of "no linear correlation" (scipy.stats.pearsonr):
 * a constant input gives r = NaN, p = NaN; n = 2 gives r = +-1, p = 1.
 * scipy computes the p-value from a beta distribution; the t form used here is the
 * same distribution (see the golden tests for the agreement).
 */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>, alternative: Alternative = 'two-sided'): CorrelationResult {
  checkPaired(x, y, 'pearson');
  const n = x.length;
  if (isConstant(x) || isConstant(y)) return { r: NaN, pValue: NaN, n };
  if (n === 2) return { r: Math.sign(x[1] - x[0]) * Math.sign(y[1] - y[0]), pValue: 1, n };
  const r = pearsonCoefficient(x, y);
  return { r, pValue: correlationPValue(r, n, alternative), n };
}

/** Ranks 1..n with ties given the average of the ranks they span (scipy.stats.rankdata 'average'). */
export function averageRanks(x: ArrayLike<number>): Float64Array {
  const n = x.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => x[i] - x[j]);
  const ranks = new Float64Array(n);
  let start = 0;
  while (start < n) {
    let end = start + 1;
    while (end < n && x[order[end]] === x[order[start]]) end++;
    // Positions start..end-1 hold ranks start+1..end; their average:
    const rank = (start + 1 + end) / 2;
    for (let k = start; k < end; k++) ranks[order[k]] = rank;
    start = end;
  }
  return ranks;
}

/**
 * Spearman's rho (Pearson r of the average ranks) with scipy.stats.spearmanr's p-value
 * (t with n - 2 df). A constant input gives NaN; with n = 2 the df are 0 and p is NaN
 * unless rho is exactly +-1.
 */
export function spearman(x: ArrayLike<number>, y: ArrayLike<number>, alternative: Alternative = 'two-sided'): CorrelationResult {
  checkPaired(x, y, 'spearman');
  const n = x.length;
  if (isConstant(x) || isConstant(y)) return { r: NaN, pValue: NaN, n };
  const r = corrcoef(averageRanks(x), averageRanks(y));
  return { r, pValue: correlationPValue(r, n, alternative), n };
}

/** Upper tail of the standard normal, P(Z > z), without cancellation for large z. */
export function normalSf(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2);
}

export interface MannWhitneyResult {
  /** U of the first sample: the number of pairs (x_i, y_j) with x_i > y_j, ties counting 1/2. */
  u: number;
  pValue: number;
  method: 'exact' | 'asymptotic';
}

// counts[m][n][u]: how many orderings of m x's and n y's give U = u. The largest value
// is either an x (it beats all n y's) or a y (it beats none), hence the recurrence.
function mannWhitneyCounts(m: number, n: number): Float64Array {
  let prev: Float64Array[] = Array.from({ length: n + 1 }, () => Float64Array.of(1));
  for (let i = 1; i <= m; i++) {
    const row: Float64Array[] = [Float64Array.of(1)];
    for (let j = 1; j <= n; j++) {
      const c = new Float64Array(i * j + 1);
      const fromX = prev[j];
      const fromY = row[j - 1];
      for (let u = 0; u < fromY.length; u++) c[u] += fromY[u];
      for (let u = 0; u < fromX.length; u++) c[u + j] += fromX[u];
      row.push(c);
    }
    prev = row;
  }
  return prev[n];
}

/**
 * Mann-Whitney U test as scipy.stats.mannwhitneyu(method='auto', use_continuity=True):
 * the exact distribution when either sample has at most 8 values and there are no ties,
 * else the normal approximation with tie and continuity corrections.
 */
export function mannWhitneyU(x: ArrayLike<number>, y: ArrayLike<number>, alternative: Alternative = 'two-sided'): MannWhitneyResult {
  const n1 = x.length;
  const n2 = y.length;
  if (n1 === 0 || n2 === 0) throw new RangeError(`mannWhitneyU: both samples need values, got ${n1} and ${n2}`);
  const ranks = averageRanks([...Array.from(x), ...Array.from(y)]);
  let r1 = 0;
  for (let i = 0; i < n1; i++) r1 += ranks[i];
  const u1 = r1 - (n1 * (n1 + 1)) / 2;
  const u2 = n1 * n2 - u1;
  const u = alternative === 'greater' ? u1 : alternative === 'less' ? u2 : Math.max(u1, u2);
  const factor = alternative === 'two-sided' ? 2 : 1;
  const tieCounts = new Map<number, number>();
  for (const r of ranks) tieCounts.set(r, (tieCounts.get(r) ?? 0) + 1);
  const ties = [...tieCounts.values()].some((c) => c > 1);
  if ((n1 <= 8 || n2 <= 8) && !ties) {
    const counts = mannWhitneyCounts(n1, n2);
    let total = 0;
    let tail = 0;
    for (let k = 0; k < counts.length; k++) {
      total += counts[k];
      if (k >= u) tail += counts[k];
    }
    return { u: u1, pValue: Math.min(1, Math.max(0, (factor * tail) / total)), method: 'exact' };
  }
  const n = n1 + n2;
  let tieTerm = 0;
  for (const t of tieCounts.values()) tieTerm += t ** 3 - t;
  const s = Math.sqrt(((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1))));
  const z = (u - (n1 * n2) / 2 - 0.5) / s;
  return { u: u1, pValue: Math.min(1, Math.max(0, factor * normalSf(z))), method: 'asymptotic' };
}

export interface PermutationResult {
  /** mean(x) - mean(y). */
  statistic: number;
  pValue: number;
  /** Every split of the pooled values was visited (else `resamples` random ones). */
  exact: boolean;
  resamples: number;
  /** The smallest p-value the test can give with these sample sizes (1 / C(n1 + n2, n1) one-sided when exact). */
  minP: number;
}

function binomial(n: number, k: number): number {
  let c = 1;
  for (let i = 1; i <= k; i++) c = (c * (n - k + i)) / i;
  return Math.round(c);
}

/**
 * Two-sample permutation test of mean(x) - mean(y), as scipy.stats.permutation_test
 * (permutation_type 'independent'): exact over all C(n1 + n2, n1) splits when there are
 * at most maxExact of them, else `resamples` seeded random splits with scipy's +1
 * adjustment. Null values within a relative 1e-14 of the observed one count as equal.
 */
export function permutationTest(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  alternative: Alternative = 'two-sided',
  opts: { maxExact?: number; resamples?: number; seed?: number } = {},
): PermutationResult {
  const n1 = x.length;
  const n2 = y.length;
  if (n1 === 0 || n2 === 0) throw new RangeError(`permutationTest: both samples need values, got ${n1} and ${n2}`);
  const pooled = Float64Array.from([...Array.from(x), ...Array.from(y)]);
  const n = n1 + n2;
  let total = 0;
  for (const v of pooled) total += v;
  const statOf = (sumX: number) => sumX / n1 - (total - sumX) / n2;
  let sumX0 = 0;
  for (let i = 0; i < n1; i++) sumX0 += pooled[i];
  const observed = statOf(sumX0);
  const gamma = Math.max(1e-14, Math.abs(1e-14 * observed));
  let ge = 0;
  let le = 0;
  const count = (stat: number) => {
    if (stat >= observed - gamma) ge++;
    if (stat <= observed + gamma) le++;
  };
  const splits = binomial(n, n1);
  const exact = splits <= (opts.maxExact ?? 100_000);
  let resamples: number;
  if (exact) {
    // Walk every n1-subset of the pooled indices in lexicographic order.
    const idx = Array.from({ length: n1 }, (_, i) => i);
    for (;;) {
      let s = 0;
      for (const i of idx) s += pooled[i];
      count(statOf(s));
      let k = n1 - 1;
      while (k >= 0 && idx[k] === n - n1 + k) k--;
      if (k < 0) break;
      idx[k]++;
      for (let j = k + 1; j < n1; j++) idx[j] = idx[j - 1] + 1;
    }
    resamples = splits;
  } else {
    resamples = opts.resamples ?? 9999;
    const rng = new SimpleRandom(opts.seed ?? 0);
    const perm = Float64Array.from(pooled);
    for (let r = 0; r < resamples; r++) {
      // A partial Fisher-Yates shuffle: the first n1 slots are a uniform n1-subset.
      let s = 0;
      for (let i = 0; i < n1; i++) {
        const j = i + rng.int(n - i);
        const t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
        s += perm[i];
      }
      count(statOf(s));
    }
  }
  const adjust = exact ? 0 : 1;
  const pGreater = (ge + adjust) / (resamples + adjust);
  const pLess = (le + adjust) / (resamples + adjust);
  const pValue = alternative === 'greater' ? pGreater : alternative === 'less' ? pLess : Math.min(1, 2 * Math.min(pGreater, pLess));
  const minP = (exact ? 1 / splits : 1 / (resamples + 1)) * (alternative === 'two-sided' ? 2 : 1);
  return { statistic: observed, pValue, exact, resamples, minP };
}

/** numpy.percentile's default (linear) interpolation on sorted values. */
function percentileSorted(sorted: Float64Array, q: number): number {
  const pos = (q / 100) * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * Percentile bootstrap interval of the mean (scipy.stats.bootstrap with
 * method='percentile'): `resamples` seeded resamples with replacement, the
 * (1 - level) / 2 and (1 + level) / 2 percentiles of their means. [NaN, NaN] for fewer
 * than 2 values. With few runs the interval is too narrow, as every bootstrap is: it
 * cannot see spread the runs did not show.
 */
export function bootstrapMeanCI(x: ArrayLike<number>, opts: { level?: number; resamples?: number; seed?: number } = {}): [number, number] {
  const n = x.length;
  if (n < 2) return [NaN, NaN];
  const level = opts.level ?? 0.95;
  const resamples = opts.resamples ?? 9999;
  const rng = new SimpleRandom(opts.seed ?? 0);
  const means = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += x[rng.int(n)];
    means[r] = s / n;
  }
  means.sort();
  const alpha = (1 - level) / 2;
  return [percentileSorted(means, 100 * alpha), percentileSorted(means, 100 * (1 - alpha))];
}
