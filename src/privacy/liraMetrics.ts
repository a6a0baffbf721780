// How well LiRA's scores separate members from non-members, for a group of pool examples
// (all, the spurious ones, matched clean ones), pooled over every model as the target:
// each (target model, example of the group) is one trial, a member when the target trained
// on it. TPR at a low FPR is the headline (an attack matters when it is sure about some
// members), read off the group's own ROC and, for small groups whose ROC has too few
// non-members for an FPR of 0.1%, at the threshold that gives that FPR on all examples.
import { rocAuc, rocCurve, scoreThresholdAtFpr, type RocPoint } from './rocMetrics.ts';

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

/** Best TPR at FPR <= grid value, for each grid value (points sorted by rising FPR). */
export function rocOnGrid(points: readonly RocPoint[], grid: readonly number[] = LOG_FPR_GRID): LogRocPoint[] {
  return grid.map((g) => {
    let best = 0;
    for (const p of points) if (p.fpr <= g + 1e-12 && p.tpr > best) best = p.tpr;
    return { fpr: g, tpr: best };
  });
}

function tprAt(points: readonly RocPoint[], maxFpr: number, positives: number, negatives: number): number {
  if (positives === 0 || negatives === 0) return NaN;
  let best = 0;
  for (const p of points) if (p.fpr <= maxFpr + 1e-12 && p.tpr > best) best = p.tpr;
  return best;
}

/** Trials of a group: every target model t and example i of the group. */
export function groupTrials(scores: Float64Array, keep: Uint8Array, shadows: number, poolSize: number, examples: readonly number[]): { scores: Float64Array; labels: Uint8Array } {
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

export function groupMetrics(trials: { scores: Float64Array; labels: Uint8Array }, thresholds: PopulationThresholds, examples: number): GroupMetrics & { roc: LogRocPoint[] } {
  let members = 0;
  let above01 = 0;
  let above1 = 0;
  for (let j = 0; j < trials.labels.length; j++) {
    if (!trials.labels[j]) continue;
    members++;
    if (trials.scores[j] > thresholds.at01) above01++;
    if (trials.scores[j] > thresholds.at1) above1++;
  }
  const nonMembers = trials.labels.length - members;
  const points = members && nonMembers ? rocCurve(trials.scores, trials.labels) : [];
  return {
    auc: members && nonMembers ? rocAuc(trials.scores, trials.labels) : NaN,
    tprAt01Fpr: tprAt(points, 0.001, members, nonMembers),
    tprAt1Fpr: tprAt(points, 0.01, members, nonMembers),
    tprAt01FprPopulation: members ? above01 / members : NaN,
    tprAt1FprPopulation: members ? above1 / members : NaN,
    members, nonMembers, examples,
    roc: points.length ? rocOnGrid(points) : [],
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
export function perTargetSpread(scores: Float64Array, keep: Uint8Array, shadows: number, poolSize: number): { auc: Spread; tprAt01Fpr: Spread; tprAt1Fpr: Spread } {
  const aucs: number[] = [];
  const low: number[] = [];
  const one: number[] = [];
  for (let t = 0; t < shadows; t++) {
    const s = scores.subarray(t * poolSize, (t + 1) * poolSize);
    const l = keep.subarray(t * poolSize, (t + 1) * poolSize);
    let members = 0;
    for (const x of l) members += x;
    const points = rocCurve(s, l);
    aucs.push(rocAuc(s, l));
    low.push(tprAt(points, 0.001, members, poolSize - members));
    one.push(tprAt(points, 0.01, members, poolSize - members));
  }
  return { auc: spread(aucs), tprAt01Fpr: spread(low), tprAt1Fpr: spread(one) };
}
