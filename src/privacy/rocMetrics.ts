// Threshold-free measures of a membership attack: ROC AUC and the true-positive rate at
// a low false-positive rate (Carlini et al. 2022: an attack is only worrying if it is
// confident about some members, which average accuracy hides).

export interface RocPoint {
  threshold: number; // predict "member" when score >= threshold
  fpr: number;
  tpr: number;
}

function countClasses(labels: ArrayLike<number>): { positives: number; negatives: number } {
  let positives = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] !== 0 && labels[i] !== 1) throw new RangeError(`ROC: label ${labels[i]} at ${i}; expected 0 or 1`);
    positives += labels[i];
  }
  return { positives, negatives: labels.length - positives };
}

function checkScores(scores: ArrayLike<number>, labels: ArrayLike<number>): void {
  if (scores.length !== labels.length) throw new RangeError(`ROC: ${scores.length} scores for ${labels.length} labels`);
  for (let i = 0; i < scores.length; i++) if (Number.isNaN(scores[i])) throw new RangeError(`ROC: score ${i} is NaN`);
}

/**
 * The ROC curve at every distinct score, from (0, 0) (threshold +Infinity) to (1, 1);
 * tied scores form one point, as in sklearn's roc_curve (without dropping collinear points).
 */
export function rocCurve(scores: ArrayLike<number>, labels: ArrayLike<number>): RocPoint[] {
  checkScores(scores, labels);
  const { positives, negatives } = countClasses(labels);
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[b] - scores[a]);
  const points: RocPoint[] = [{ threshold: Infinity, fpr: 0, tpr: 0 }];
  let tp = 0;
  let fp = 0;
  for (let k = 0; k < order.length; k++) {
    const i = order[k];
    if (labels[i] === 1) tp++;
    else fp++;
    if (k + 1 < order.length && scores[order[k + 1]] === scores[i]) continue;
    points.push({ threshold: scores[i], fpr: negatives ? fp / negatives : NaN, tpr: positives ? tp / positives : NaN });
  }
  return points;
}

/** Area under the ROC curve = P(score of a random member > that of a random non-member), ties counting 1/2. */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  checkScores(scores, labels);
  const { positives, negatives } = countClasses(labels);
  if (positives === 0 || negatives === 0) return NaN;
  // Mann-Whitney U from average ranks: exact for ties, O(n log n).
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let rankSum = 0;
  for (let start = 0; start < order.length; ) {
    let end = start + 1;
    while (end < order.length && scores[order[end]] === scores[order[start]]) end++;
    const averageRank = (start + 1 + end) / 2;
    for (let k = start; k < end; k++) if (labels[order[k]] === 1) rankSum += averageRank;
    start = end;
  }
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/**
 * The highest TPR among the ROC points whose FPR is at most maxFpr (no interpolation
 * between points: a threshold the attacker can actually use). 0 when even the strictest
 * threshold that admits a non-member exceeds maxFpr and no member scores above all of them.
 */
export function tprAtFpr(scores: ArrayLike<number>, labels: ArrayLike<number>, maxFpr: number): number {
  if (!(maxFpr >= 0 && maxFpr <= 1)) throw new RangeError(`tprAtFpr: maxFpr must be in [0, 1], got ${maxFpr}`);
  const { positives, negatives } = countClasses(labels);
  if (positives === 0 || negatives === 0) return NaN;
  let best = 0;
  for (const p of rocCurve(scores, labels)) if (p.fpr <= maxFpr + 1e-12 && p.tpr > best) best = p.tpr;
  return best;
}

/**
 * The score t such that calling "member" every score strictly above t flags at most
 * maxFpr of the given non-member scores: the (k+1)-th largest of them, k = floor(maxFpr * N).
 * Applying it to a subgroup of members (the spurious ones) gives that subgroup's TPR at
 * the same FPR; on all members it agrees with tprAtFpr.
 */
export function scoreThresholdAtFpr(nonMemberScores: ArrayLike<number>, maxFpr: number): number {
  if (!(maxFpr >= 0 && maxFpr <= 1)) throw new RangeError(`scoreThresholdAtFpr: maxFpr must be in [0, 1], got ${maxFpr}`);
  const sorted = Float64Array.from(nonMemberScores).sort().reverse();
  const k = Math.floor(maxFpr * sorted.length + 1e-9);
  return k >= sorted.length ? -Infinity : sorted[k];
}
