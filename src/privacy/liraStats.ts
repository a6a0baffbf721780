// The numbers LiRA is built from (Carlini et al., "Membership Inference Attacks From First
// Principles", S&P 2022): the logit-scaled confidence of the true class, and the normal
// log density and log upper tail used by the online and offline likelihood-ratio tests.
// Everything is in float64 and stable at the extremes a memorizing network produces
// (true-class probabilities of 1 - 1e-30 and tails far beyond float64's smallest number).

const LN_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);
const LN_SQRT_PI = 0.5 * Math.log(Math.PI);

/**
 * log(p_y / (1 - p_y)) for the softmax of one row of logits, computed from the logits
 * as z_y - logsumexp_{j != y} z_j: exact where the softmax would round p_y to 1.
 * logits: [.., classes] row-major, the row starting at offset.
 */
export function scaledConfidence(logits: ArrayLike<number>, offset: number, classes: number, label: number): number {
  if (!(Number.isInteger(label) && label >= 0 && label < classes)) throw new RangeError(`scaledConfidence: label ${label} outside 0..${classes - 1}`);
  if (classes < 2) throw new RangeError(`scaledConfidence: needs at least 2 classes, got ${classes}`);
  let max = -Infinity;
  for (let j = 0; j < classes; j++) if (j !== label && logits[offset + j] > max) max = logits[offset + j];
  let sum = 0;
  for (let j = 0; j < classes; j++) if (j !== label) sum += Math.exp(logits[offset + j] - max);
  return logits[offset + label] - (max + Math.log(sum));
}

/** log N(x; mu, sigma^2). */
export function normalLogPdf(x: number, mu: number, sigma: number): number {
  const z = (x - mu) / sigma;
  return -0.5 * z * z - Math.log(sigma) - LN_SQRT_2PI;
}

// erfc on [0, 2): 1 - erf with erf's series of positive terms
// erf(x) = 2/sqrt(pi) e^{-x^2} sum_n 2^n x^{2n+1} / (1*3*...*(2n+1)); no cancellation
// inside the sum, and 1 - erf loses at most 2-3 digits at x = 2 (erfc(2) = 0.0047).
function erfcSeries(x: number): number {
  const twoX2 = 2 * x * x;
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= twoX2 / (2 * n + 1);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return 1 - (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x) * sum;
}

// log erfc(x) for x >= 2 from the continued fraction
// erfc(x) = e^{-x^2}/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...))))),
// evaluated bottom-up and kept in log form so that it does not underflow for large x.
function logErfcContinuedFraction(x: number): number {
  const depth = x < 3 ? 120 : x < 6 ? 60 : 30;
  let f = x;
  for (let n = depth; n >= 1; n--) f = x + n / 2 / f;
  return -x * x - LN_SQRT_PI - Math.log(f);
}

/** log erfc(x), finite for every finite x. */
export function logErfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < 0) return Math.log(2 - Math.exp(logErfc(-x)));
  if (x < 2) return Math.log(erfcSeries(x));
  if (x === Infinity) return -Infinity;
  return logErfcContinuedFraction(x);
}

/** log P(X > x) for X ~ N(mu, sigma^2) (scipy.stats.norm.logsf). */
export function normalLogSf(x: number, mu: number, sigma: number): number {
  return logErfc((x - mu) / sigma / Math.SQRT2) - Math.LN2;
}

/** Median of a sorted array, with the element at sorted position `skip` left out (-1: none). */
export function sortedMedianWithout(sorted: ArrayLike<number>, skip: number): number {
  const m = sorted.length - (skip >= 0 ? 1 : 0);
  if (m <= 0) return NaN;
  // Rank r of the remaining values sits at r, or at r + 1 from the left-out position on.
  const hi = m >> 1;
  const upper = sorted[skip >= 0 && hi >= skip ? hi + 1 : hi];
  if (m % 2 === 1) return upper;
  const lo = hi - 1;
  return (sorted[skip >= 0 && lo >= skip ? lo + 1 : lo] + upper) / 2;
}

/** Position of a value in a sorted array (any one of equal values), or -1. */
export function sortedIndexOf(sorted: ArrayLike<number>, v: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] < v) lo = mid + 1;
    else if (sorted[mid] > v) hi = mid - 1;
    else return mid;
  }
  return -1;
}
