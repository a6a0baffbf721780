// Model selection for the attack, as the reference does it with scikit-learn:
// GridSearchCV(LogisticRegression(), {"C": [0.01, 0.1, 1, 10]}, cv=3). For a classifier,
// cv=3 means StratifiedKFold(3) without shuffling, scored by accuracy; the best mean
// score wins, the first (smallest) C among ties, and the model is refit on all rows.
// Also the StandardScaler the reference fits on the shadow features.
import {
  fitLogisticRegression,
  makeMatrix,
  predictLabels,
  takeRows,
  type LogisticModel,
  type LogisticOptions,
  type Matrix,
} from './logisticRegression.ts';

export const ATTACK_C_GRID: readonly number[] = [0.01, 0.1, 1, 10];

/**
 * The test fold of every row under StratifiedKFold(k, shuffle=False) (scikit-learn >= 0.22):
 * classes are numbered in order of first appearance; the sorted class labels are dealt
 * round-robin to the k folds, which fixes how many rows of each class every fold gets;
 * within a class, rows keep their order and fill fold 0 first, then fold 1, ...
 */
export function stratifiedFolds(y: ArrayLike<number>, k: number): Int32Array {
  if (!Number.isInteger(k) || k < 2) throw new RangeError(`cross-validation: k must be an integer >= 2, got ${k}`);
  const order = new Map<number, number>(); // label -> class number by first appearance
  for (let i = 0; i < y.length; i++) if (!order.has(y[i])) order.set(y[i], order.size);
  const counts = new Array<number>(order.size).fill(0);
  for (let i = 0; i < y.length; i++) counts[order.get(y[i])!]++;
  for (const [label, c] of order) {
    if (counts[c] < k) throw new RangeError(`cross-validation: class ${label} has ${counts[c]} rows, fewer than the ${k} folds`);
  }
  // allocation[f][c]: rows of class c in fold f, from dealing the sorted encoded labels.
  const allocation = Array.from({ length: k }, () => new Array<number>(order.size).fill(0));
  let position = 0;
  for (let c = 0; c < order.size; c++) {
    for (let r = 0; r < counts[c]; r++, position++) allocation[position % k][c]++;
  }
  const folds = new Int32Array(y.length);
  const fold = new Array<number>(order.size).fill(0);
  const used = new Array<number>(order.size).fill(0);
  for (let i = 0; i < y.length; i++) {
    const c = order.get(y[i])!;
    while (used[c] >= allocation[fold[c]][c]) {
      fold[c]++;
      used[c] = 0;
    }
    folds[i] = fold[c];
    used[c]++;
  }
  return folds;
}

export function accuracyOf(predicted: Uint8Array, y: Uint8Array): number {
  let hit = 0;
  for (let i = 0; i < y.length; i++) if (predicted[i] === y[i]) hit++;
  return hit / y.length;
}

export interface CrossValidatedModel {
  model: LogisticModel; // refit on every row with the chosen C
  C: number;
  /** Mean fold accuracy per C, in grid order. */
  meanScores: number[];
  /** Accuracy on each held-out fold, per C. */
  foldScores: number[][];
}

/** Chooses C by k-fold stratified cross-validation, then refits on all rows. */
export function crossValidateC(
  x: Matrix,
  y: Uint8Array,
  grid: readonly number[] = ATTACK_C_GRID,
  k = 3,
  opts: LogisticOptions = {},
): CrossValidatedModel {
  if (grid.length === 0) throw new RangeError('cross-validation: the grid of C values is empty');
  const folds = stratifiedFolds(y, k);
  const foldScores = grid.map((C) => {
    const scores: number[] = [];
    for (let f = 0; f < k; f++) {
      const trainRows: number[] = [];
      const testRows: number[] = [];
      for (let i = 0; i < y.length; i++) (folds[i] === f ? testRows : trainRows).push(i);
      const model = fitLogisticRegression(
        takeRows(x, trainRows),
        Uint8Array.from(trainRows, (i) => y[i]),
        C,
        opts,
      );
      scores.push(
        accuracyOf(
          predictLabels(model, takeRows(x, testRows)),
          Uint8Array.from(testRows, (i) => y[i]),
        ),
      );
    }
    return scores;
  });
  const meanScores = foldScores.map((s) => s.reduce((a, b) => a + b, 0) / s.length);
  let best = 0;
  for (let i = 1; i < grid.length; i++) if (meanScores[i] > meanScores[best]) best = i;
  return { model: fitLogisticRegression(x, y, grid[best], opts), C: grid[best], meanScores, foldScores };
}

export interface Standardizer {
  mean: Float64Array;
  scale: Float64Array;
}

/** Column means and population standard deviations; a constant column keeps scale 1 (as StandardScaler). */
export function fitStandardizer(x: Matrix): Standardizer {
  const mean = new Float64Array(x.cols);
  const scale = new Float64Array(x.cols);
  for (let i = 0; i < x.rows; i++) for (let j = 0; j < x.cols; j++) mean[j] += x.data[i * x.cols + j];
  for (let j = 0; j < x.cols; j++) mean[j] /= x.rows;
  for (let i = 0; i < x.rows; i++) {
    for (let j = 0; j < x.cols; j++) {
      const dv = x.data[i * x.cols + j] - mean[j];
      scale[j] += dv * dv;
    }
  }
  for (let j = 0; j < x.cols; j++) {
    const sd = Math.sqrt(scale[j] / x.rows);
    // Like sklearn, a (near-)constant column is centred but not scaled.
    scale[j] = sd > 10 * Number.EPSILON * Math.max(1, Math.abs(mean[j])) ? sd : 1;
  }
  return { mean, scale };
}

export function standardize(s: Standardizer, x: Matrix): Matrix {
  const out = new Float64Array(x.data.length);
  for (let i = 0; i < x.rows; i++) {
    for (let j = 0; j < x.cols; j++) out[i * x.cols + j] = (x.data[i * x.cols + j] - s.mean[j]) / s.scale[j];
  }
  return makeMatrix(x.rows, x.cols, out);
}
