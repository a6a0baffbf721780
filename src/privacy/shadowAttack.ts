// The shadow-model membership attack of PROTOCOL section 8 (Shokri et al. 2017, one
// shadow model): features are a model's softmax vector sorted in descending order plus
// 1 if its prediction is correct; they are standardized with statistics of the shadow
// rows, and a logistic regression with C chosen by 3-fold CV learns "member" (shadow-train)
// against "non-member" (shadow-test). It is then applied to the target model's outputs.
//
// Sorting makes the features class-agnostic. The reference sorts in ascending order; the
// order only permutes the features and so gives the same classifier.
import type { RandomState } from '../data/numpyRandom.ts';
import { ATTACK_C_GRID, accuracyOf, crossValidateC, fitStandardizer, standardize, type Standardizer } from './crossValidation.ts';
import { decisionFunction, makeMatrix, type LogisticModel, type Matrix } from './logisticRegression.ts';
import { rocAuc, scoreThresholdAtFpr, tprAtFpr } from './rocMetrics.ts';

/** A model's outputs on some images: softmax rows and the true labels. */
export interface ModelOutputs {
  probs: Float32Array | Float64Array; // [rows, classes]
  labels: Int32Array; // [rows]
  classes: number;
}

/** [rows, classes + 1]: sorted probabilities (descending), then 1 if argmax = label. */
export function attackFeatures(out: ModelOutputs): Matrix {
  const { probs, labels, classes } = out;
  const rows = labels.length;
  if (probs.length !== rows * classes) throw new RangeError(`attack features: ${probs.length} probabilities for ${rows} rows of ${classes} classes`);
  const cols = classes + 1;
  const x = new Float64Array(rows * cols);
  const row = new Float64Array(classes);
  for (let i = 0; i < rows; i++) {
    let best = 0;
    for (let c = 0; c < classes; c++) {
      row[c] = probs[i * classes + c];
      if (row[c] > row[best]) best = c;
    }
    row.sort().reverse();
    x.set(row, i * cols);
    x[i * cols + classes] = best === labels[i] ? 1 : 0;
  }
  return makeMatrix(rows, cols, x);
}

export function selectOutputs(out: ModelOutputs, rows: ArrayLike<number>): ModelOutputs {
  const probs = new Float64Array(rows.length * out.classes);
  const labels = new Int32Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    for (let c = 0; c < out.classes; c++) probs[i * out.classes + c] = out.probs[rows[i] * out.classes + c];
    labels[i] = out.labels[rows[i]];
  }
  return { probs, labels, classes: out.classes };
}

function concatOutputs(a: ModelOutputs, b: ModelOutputs): ModelOutputs {
  const probs = new Float64Array(a.probs.length + b.probs.length);
  probs.set(a.probs);
  probs.set(b.probs, a.probs.length);
  const labels = new Int32Array(a.labels.length + b.labels.length);
  labels.set(a.labels);
  labels.set(b.labels, a.labels.length);
  return { probs, labels, classes: a.classes };
}

/** k of 0..n-1, seeded, ascending (all of them when k >= n). */
export function sampleRows(n: number, k: number, rs: RandomState): number[] {
  if (k >= n) return Array.from({ length: n }, (_, i) => i);
  return rs.choice(n, k, { replace: false }).sort((a, b) => a - b);
}

export interface TrainedAttack {
  model: LogisticModel;
  standardizer: Standardizer;
  C: number;
  cvScores: number[]; // mean 3-fold accuracy per C of the grid
  members: number; // shadow rows used as members
  nonMembers: number;
  trainAcc: number; // accuracy on its own (shadow) rows
}

export interface AttackOptions {
  /** Subsample the larger group so members and non-members are equally many (default true). */
  balance?: boolean;
  cGrid?: readonly number[];
  folds?: number;
}

/** Trains the attack on a shadow model's outputs on its members and non-members. */
export function trainAttack(members: ModelOutputs, nonMembers: ModelOutputs, rs: RandomState, opts: AttackOptions = {}): TrainedAttack {
  const balance = opts.balance ?? true;
  const m = balance ? Math.min(members.labels.length, nonMembers.labels.length) : members.labels.length;
  const nm = balance ? m : nonMembers.labels.length;
  const memberRows = selectOutputs(members, sampleRows(members.labels.length, m, rs));
  const nonMemberRows = selectOutputs(nonMembers, sampleRows(nonMembers.labels.length, nm, rs));
  const raw = attackFeatures(concatOutputs(memberRows, nonMemberRows));
  const y = new Uint8Array(m + nm);
  y.fill(1, 0, m);
  const standardizer = fitStandardizer(raw);
  const x = standardize(standardizer, raw);
  const cv = crossValidateC(x, y, opts.cGrid ?? ATTACK_C_GRID, opts.folds ?? 3);
  const trainPred = Uint8Array.from(decisionFunction(cv.model, x), (v) => (v > 0 ? 1 : 0));
  return { model: cv.model, standardizer, C: cv.C, cvScores: cv.meanScores, members: m, nonMembers: nm, trainAcc: accuracyOf(trainPred, y) };
}

/** The attack's decision values (> 0: "member") on a model's outputs. */
export function attackScores(attack: TrainedAttack, out: ModelOutputs): Float64Array {
  return decisionFunction(attack.model, standardize(attack.standardizer, attackFeatures(out)));
}

export interface AttackEvaluation {
  attackAcc: number; // on the evaluation members and non-members together
  attackAccMembers: number; // share of members called members (TPR at the 0.5 threshold)
  attackAccNonMembers: number; // share of non-members called non-members
  attackAccSpurious: number; // share of the spurious examples called members
  auc: number;
  tprAt1Fpr: number;
  aucSpurious: number; // spurious examples against the non-members
  tprAt1FprSpurious: number; // share of spurious examples above the threshold giving 1% FPR
  members: number;
  nonMembers: number;
  spuriousScores: number[]; // decision values of the spurious examples, in their order
}

/**
 * Scores the target model's members and non-members. spuriousRows index `members`; with
 * balancing, the spurious rows are always kept and the other members are subsampled so
 * that members and non-members are equally many (when n allows).
 */
export function evaluateAttack(
  attack: TrainedAttack,
  members: ModelOutputs,
  nonMembers: ModelOutputs,
  spuriousRows: readonly number[],
  rs: RandomState,
  opts: AttackOptions = {},
): AttackEvaluation {
  const balance = opts.balance ?? true;
  const spurious = new Set(spuriousRows);
  const others = Array.from({ length: members.labels.length }, (_, i) => i).filter((i) => !spurious.has(i));
  const wanted = balance ? Math.max(0, nonMembers.labels.length - spuriousRows.length) : others.length;
  const keptOthers = sampleRows(others.length, wanted, rs).map((k) => others[k]);
  const memberScores = attackScores(attack, selectOutputs(members, [...spuriousRows, ...keptOthers]));
  const nonMemberScores = attackScores(attack, nonMembers);
  const scores = Float64Array.from([...memberScores, ...nonMemberScores]);
  const labels = Uint8Array.from(scores, (_, i) => (i < memberScores.length ? 1 : 0));
  const spuriousScores = Array.from(memberScores.subarray(0, spuriousRows.length));
  const hits = (xs: ArrayLike<number>, member: boolean) => Array.from(xs).filter((v) => v > 0 === member).length;
  const memberHits = hits(memberScores, true);
  const nonMemberHits = hits(nonMemberScores, false);
  const threshold = scoreThresholdAtFpr(nonMemberScores, 0.01);
  const spuriousLabels = Uint8Array.from({ length: spuriousScores.length + nonMemberScores.length }, (_, i) => (i < spuriousScores.length ? 1 : 0));
  return {
    attackAcc: (memberHits + nonMemberHits) / scores.length,
    attackAccMembers: memberHits / memberScores.length,
    attackAccNonMembers: nonMemberHits / nonMemberScores.length,
    attackAccSpurious: spuriousScores.length ? hits(spuriousScores, true) / spuriousScores.length : NaN,
    auc: rocAuc(scores, labels),
    tprAt1Fpr: tprAtFpr(scores, labels, 0.01),
    aucSpurious: spuriousScores.length ? rocAuc([...spuriousScores, ...nonMemberScores], spuriousLabels) : NaN,
    tprAt1FprSpurious: spuriousScores.length ? spuriousScores.filter((s) => s > threshold).length / spuriousScores.length : NaN,
    members: memberScores.length,
    nonMembers: nonMemberScores.length,
    spuriousScores,
  };
}
