// How well a per-example score finds the spurious examples: their ranks, precision at n
// (the share of the n top-scored examples that are spurious), recall at 10n (the share
// of the spurious examples among the 10n top-scored) and AUROC of spurious against
// clean. Ties are counted as a random tie-break would on average (mid-ranks, fractional
// counts), so a method that gives every example the same score scores exactly chance
// instead of looking perfect or useless by the order of the data.

export interface DetectionMetrics {
  /** 1-based mid-rank of each spurious example (in the order given), 1 = flagged first. */
  ranks: number[];
  precisionAtN: number;
  recallAt10N: number;
  auroc: number;
  /** AUROC among the examples of the target class(es) only. */
  aurocTargetClass: number;
}

interface TieGroup {
  start: number; // 0-based position of the group's first member in descending order
  size: number;
  positives: number;
}

/** Groups of equal scores in descending order, with how many positives each holds. */
function tieGroups(scores: ArrayLike<number>, positive: Uint8Array): { groups: TieGroup[]; groupOf: Int32Array } {
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[b] - scores[a]);
  const groups: TieGroup[] = [];
  const groupOf = new Int32Array(scores.length);
  for (let i = 0; i < order.length; i++) {
    if (i === 0 || scores[order[i]] !== scores[order[i - 1]]) groups.push({ start: i, size: 0, positives: 0 });
    const g = groups[groups.length - 1];
    g.size++;
    g.positives += positive[order[i]];
    groupOf[order[i]] = groups.length - 1;
  }
  return { groups, groupOf };
}

/** Expected number of positives among the top t under a random tie-break. */
function positivesInTop(groups: TieGroup[], t: number): number {
  let count = 0;
  for (const g of groups) {
    if (g.start >= t) break;
    count += (g.positives * Math.min(g.size, t - g.start)) / g.size;
  }
  return count;
}

/** Mann-Whitney AUROC of positives against negatives (ties count one half); NaN without both. */
export function auroc(scores: ArrayLike<number>, positive: Uint8Array): number {
  const { groups } = tieGroups(scores, positive);
  let pos = 0;
  for (const g of groups) pos += g.positives;
  const neg = scores.length - pos;
  if (pos === 0 || neg === 0) return NaN;
  // walk from the lowest scores up: each positive beats the negatives below it
  let negativesBelow = 0;
  let wins = 0;
  for (let k = groups.length - 1; k >= 0; k--) {
    const g = groups[k];
    const negatives = g.size - g.positives;
    wins += g.positives * (negativesBelow + negatives / 2);
    negativesBelow += negatives;
  }
  return wins / (pos * neg);
}

/**
 * scores: one per training position (higher = more suspicious); spurious: positions of
 * the spurious examples; inTargetClass: 1 where the position's label is a target class.
 */
export function detectionMetrics(scores: ArrayLike<number>, spurious: readonly number[], inTargetClass: Uint8Array): DetectionMetrics {
  const n = spurious.length;
  for (let i = 0; i < scores.length; i++) if (Number.isNaN(scores[i])) throw new RangeError(`detection score at position ${i} is NaN`);
  const positive = new Uint8Array(scores.length);
  for (const p of spurious) positive[p] = 1;
  const { groups, groupOf } = tieGroups(scores, positive);
  const ranks = spurious.map((p) => {
    const g = groups[groupOf[p]];
    return g.start + (g.size + 1) / 2;
  });
  const target: number[] = [];
  for (let i = 0; i < scores.length; i++) if (inTargetClass[i]) target.push(i);
  const targetScores = Float64Array.from(target, (i) => scores[i]);
  const targetPositive = Uint8Array.from(target, (i) => positive[i]);
  return {
    ranks,
    precisionAtN: n === 0 ? NaN : positivesInTop(groups, n) / n,
    recallAt10N: n === 0 ? NaN : positivesInTop(groups, 10 * n) / n,
    auroc: auroc(scores, positive),
    aurocTargetClass: auroc(targetScores, targetPositive),
  };
}

/** The positions of the k highest scores (ties broken by position, for a reproducible removal). */
export function topPositions(scores: ArrayLike<number>, k: number): number[] {
  return Array.from({ length: scores.length }, (_, i) => i)
    .sort((a, b) => scores[b] - scores[a] || a - b)
    .slice(0, k);
}
