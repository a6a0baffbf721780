// How well LiRA's scores separate members from non-members, for a group of pool examples
// (all, the spurious ones, matched clean ones), pooled over every model as the target:
// each (target model, example of the group) is one trial, a member when the target trained
// on it. TPR at a low FPR is the headline (an attack matters when it is sure about some
// members), read off the group's own ROC and, for small groups whose ROC has too few
// non-members for an FPR of 0.1%, at the threshold that gives that FPR on all examples.
import { scoreThresholdAtFpr } from './rocMetrics.ts';

export interface GroupMetrics {
  auc: number;
  tprAt01Fpr: number; // group ROC, FPR <= 0.1%
  tprAt1Fpr: number; // group ROC, FPR <= 1%
  /** Share of the group's members above the population threshold of 0.1% / 1% FPR. */
  tprAt01FprPopulation: number;
  tprAt1FprPopulation: number;
  members: number; // member trials (target, example)
  nonMembers: number;
  examples: number;
}

export interface LogRocPoint {
  fpr: number;
  tpr: number;
}

/** FPRs of the log-spaced ROC summary: 1e-5 .. 1, 10 per decade. */
export const LOG_FPR_GRID: readonly number[] = Array.from({ length: 51 }, (_, j) => 10 ** (-5 + j / 10));

export interface RocSummary {
  auc: number;
  /** Best TPR at FPR <= each asked-for FPR (no interpolation), in the order asked. */
  tprAt: number[];
  positives: number;
  negatives: number;
}

/**
 * AUC (ties count 1/2) and TPR at the given FPRs in one pass over the member and
 * non-member scores, each sorted natively: the same numbers as rocMetrics' rocAuc and
 * tprAtFpr, without a point object or a comparator per trial, which matters for the
 * K * N (64 * 60,000) trials of all examples.
 */
export function rocSummary(scores: ArrayLike<number>, labels: ArrayLike<number>, fprs: readonly number[]): RocSummary {
  if (scores.length !== labels.length) throw new RangeError(`ROC: ${scores.length} scores for ${labels.length} labels`);
  let positives = 0;
  for (let j = 0; j < labels.length; j++) {
    if (labels[j] !== 0 && labels[j] !== 1) throw new RangeError(`ROC: label ${labels[j]} at ${j}; expected 0 or 1`);
    if (Number.isNaN(scores[j])) throw new RangeError(`ROC: score ${j} is NaN`);
    positives += labels[j];
  }
  const negatives = labels.length - positives;
  if (positives === 0 || negatives === 0) return { auc: NaN, tprAt: fprs.map(() => NaN), positives, negatives };
  const pos = new Float64Array(positives);
  const neg = new Float64Array(negatives);
  let p = 0;
  let q = 0;
  for (let j = 0; j < labels.length; j++) {
    if (labels[j]) pos[p++] = scores[j];
    else neg[q++] = scores[j];
  }
  pos.sort();
  neg.sort();
  // Walk the thresholds from the highest score down; each distinct score is one ROC point.
  const tprAt = fprs.map(() => 0);
  let i = positives - 1;
  let k = negatives - 1;
  let tp = 0;
  let fp = 0;
  let area = 0;
  while (i >= 0 || k >= 0) {
    const v = Math.max(i >= 0 ? pos[i] : -Infinity, k >= 0 ? neg[k] : -Infinity);
    const tp0 = tp;
    const fp0 = fp;
    while (i >= 0 && pos[i] === v) {
      tp++;
      i--;
    }
    while (k >= 0 && neg[k] === v) {
      fp++;
      k--;
    }
    area += ((fp - fp0) * (tp + tp0)) / 2;
    const fpr = fp / negatives;
    const tpr = tp / positives;
    for (let f = 0; f < fprs.length; f++) if (fpr <= fprs[f] + 1e-12 && tpr > tprAt[f]) tprAt[f] = tpr;
  }
  return { auc: area / (positives * negatives), tprAt, positives, negatives };
}

/** Trials of a group: every target model t and example i of the group. */
export function groupTrials(
  scores: Float64Array,
  keep: Uint8Array,
  shadows: number,
  poolSize: number,
  examples: readonly number[],
): { scores: Float64Array; labels: Uint8Array } {
  const s = new Float64Array(shadows * examples.length);
  const l = new Uint8Array(shadows * examples.length);
  let j = 0;
  for (let t = 0; t < shadows; t++) {
    for (const i of examples) {
      s[j] = scores[t * poolSize + i];
      l[j++] = keep[t * poolSize + i];
    }
  }
  return { scores: s, labels: l };
}

export interface PopulationThresholds {
  at01: number;
  at1: number;
}

/** Score thresholds that flag 0.1% and 1% of all non-member trials. */
export function populationThresholds(scores: Float64Array, keep: Uint8Array): PopulationThresholds {
  const nonMembers: number[] = [];
  for (let j = 0; j < scores.length; j++) if (!keep[j]) nonMembers.push(scores[j]);
  return { at01: scoreThresholdAtFpr(nonMembers, 0.001), at1: scoreThresholdAtFpr(nonMembers, 0.01) };
}

export function groupMetrics(
  trials: { scores: Float64Array; labels: Uint8Array },
  thresholds: PopulationThresholds,
  examples: number,
): GroupMetrics & { roc: LogRocPoint[] } {
  let members = 0;
  let above01 = 0;
  let above1 = 0;
  for (let j = 0; j < trials.labels.length; j++) {
    if (!trials.labels[j]) continue;
    members++;
    if (trials.scores[j] > thresholds.at01) above01++;
    if (trials.scores[j] > thresholds.at1) above1++;
  }
  const r = rocSummary(trials.scores, trials.labels, [0.001, 0.01, ...LOG_FPR_GRID]);
  return {
    auc: r.auc,
    tprAt01Fpr: r.tprAt[0],
    tprAt1Fpr: r.tprAt[1],
    tprAt01FprPopulation: members ? above01 / members : NaN,
    tprAt1FprPopulation: members ? above1 / members : NaN,
    members,
    nonMembers: r.negatives,
    examples,
    roc: Number.isNaN(r.auc) ? [] : LOG_FPR_GRID.map((fpr, j) => ({ fpr, tpr: r.tprAt[2 + j] })),
  };
}

export interface Spread {
  mean: number;
  se: number; // standard error of the mean over target models (ddof 1)
}

export function spread(values: readonly number[]): Spread {
  const v = values.filter((x) => Number.isFinite(x));
  if (v.length === 0) return { mean: NaN, se: NaN };
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  if (v.length < 2) return { mean, se: NaN };
  const variance = v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1);
  return { mean, se: Math.sqrt(variance / v.length) };
}

/** AUC and TPRs of all examples with each model as the only target: a spread over models. */
export function perTargetSpread(
  scores: Float64Array,
  keep: Uint8Array,
  shadows: number,
  poolSize: number,
): { auc: Spread; tprAt01Fpr: Spread; tprAt1Fpr: Spread } {
  const aucs: number[] = [];
  const low: number[] = [];
  const one: number[] = [];
  for (let t = 0; t < shadows; t++) {
    const r = rocSummary(scores.subarray(t * poolSize, (t + 1) * poolSize), keep.subarray(t * poolSize, (t + 1) * poolSize), [0.001, 0.01]);
    aucs.push(r.auc);
    low.push(r.tprAt[0]);
    one.push(r.tprAt[1]);
  }
  return { auc: spread(aucs), tprAt01Fpr: spread(low), tprAt1Fpr: spread(one) };
}
