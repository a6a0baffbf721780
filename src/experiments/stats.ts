/**
 * Summary statistics and tests for spurious-score experiments (PROTOCOL.md section 6):
 * mean and standard error over seeds, Welch's t-test of per-image 0/1 vectors against
 * the n = 0 baseline, Pearson r between pattern norm and score, Spearman rho.
 *
 * Every function mirrors scipy 1.10 (scipy.stats.ttest_ind(equal_var=False), pearsonr,
 * spearmanr), including the degenerate cases, so numbers can be compared with the
 * reference implementation's. The Student t CDF comes from @stdlib; only the
 * statistics themselves (means, variances, t) are computed here.
 * test/golden/make_scipy_stats.py pins the agreement.
 */
import tCdf from '@stdlib/stats-base-dists-t-cdf';

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
