import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fitLogisticRegression, logisticObjective, makeMatrix, predictLabels, predictProba } from '../../src/privacy/logisticRegression.ts';
import { ATTACK_C_GRID, crossValidateC, fitStandardizer, standardize, stratifiedFolds } from '../../src/privacy/crossValidation.ts';
import { RandomState } from '../../src/data/numpyRandom.ts';

interface GoldenCase {
  name: string;
  rows: number;
  cols: number;
  x: number[];
  y: number[];
  optima: { C: number; coef: number[]; intercept: number; objective: number }[];
}
const golden = JSON.parse(readFileSync(new URL('../golden/logreg_golden.json', import.meta.url), 'utf8')) as {
  magic: string;
  version: number;
  cases: GoldenCase[];
};

test('golden file is the logistic-regression one', () => {
  assert.equal(golden.magic, 'spurlab-golden-logreg');
  assert.equal(golden.version, 1);
});

// scipy's trust-region solution and spurlab's Newton solution are both converged to a
// gradient of ~1e-12, so parameters agree to ~1e-8 relative (the conditioning of the
// C = 100 case costs a few digits) and objectives to 1e-12.
for (const c of golden.cases) {
  for (const o of c.optima) {
    test(`logistic regression matches scipy's optimum: ${c.name}, C = ${o.C}`, () => {
      const x = makeMatrix(c.rows, c.cols, Float64Array.from(c.x));
      const y = Uint8Array.from(c.y);
      const model = fitLogisticRegression(x, y, o.C);
      const scale = Math.max(1, ...o.coef.map(Math.abs), Math.abs(o.intercept));
      for (let j = 0; j < c.cols; j++) assert.ok(Math.abs(model.coef[j] - o.coef[j]) <= 1e-7 * scale, `coef ${j}: ${model.coef[j]} vs ${o.coef[j]}`);
      assert.ok(Math.abs(model.intercept - o.intercept) <= 1e-7 * scale, `intercept ${model.intercept} vs ${o.intercept}`);
      assert.ok(Math.abs(model.objective - o.objective) <= 1e-12 * Math.max(1, o.objective), `objective ${model.objective} vs ${o.objective}`);
      assert.ok(model.objective <= logisticObjective(x, y, o.C, [...o.coef, o.intercept]) + 1e-12 * o.objective);
      assert.ok(model.iterations < 30, `${model.iterations} Newton steps`);
    });
  }
}

test('predictions follow the sign of the decision value', () => {
  const x = makeMatrix(4, 1, Float64Array.from([-2, -1, 1, 2]));
  const model = fitLogisticRegression(x, Uint8Array.from([0, 0, 1, 1]), 1);
  assert.ok(model.coef[0] > 0);
  assert.ok(Math.abs(model.intercept) < 1e-12);
  assert.deepEqual([...predictLabels(model, x)], [0, 0, 1, 1]);
  const p = predictProba(model, x);
  assert.ok(Math.abs(p[0] + p[3] - 1) < 1e-12, 'symmetric data give symmetric probabilities');
});

test('bad inputs are rejected with a clear message', () => {
  const x = makeMatrix(3, 1, Float64Array.from([1, 2, 3]));
  assert.throws(() => fitLogisticRegression(x, Uint8Array.from([1, 1, 1]), 1), /both classes/);
  assert.throws(() => fitLogisticRegression(x, Uint8Array.from([0, 1]), 1), /2 labels for 3 rows/);
  assert.throws(() => fitLogisticRegression(x, Uint8Array.from([0, 1, 0]), 0), /C must be a positive number/);
});

test('stratified folds follow scikit-learn (classes dealt round-robin, rows in order)', () => {
  // Label 1 appears first (class 0, 6 rows), label 0 second (class 1, 4 rows). The
  // sorted encoded labels [0x6, 1x4] dealt to folds 0,1,2,0,1,2,0,1,2,0 give class 0
  // two rows per fold and class 1 folds of 2, 1, 1 rows.
  const y = [1, 1, 0, 0, 1, 0, 1, 1, 0, 1];
  assert.deepEqual([...stratifiedFolds(y, 3)], [0, 0, 0, 0, 1, 1, 1, 2, 2, 2]);
  // KFold-like sizes for one class: 7 rows -> 3, 2, 2.
  assert.deepEqual([...stratifiedFolds([5, 5, 5, 5, 5, 5, 5, 6, 6, 6], 3)], [0, 0, 0, 1, 1, 2, 2, 0, 1, 2]);
  assert.throws(() => stratifiedFolds([0, 0, 1], 3), /class 0 has 2 rows, fewer than the 3 folds/);
});

test('standardizer: zero mean, unit population variance, constant columns left unscaled', () => {
  const x = makeMatrix(4, 2, Float64Array.from([1, 7, 2, 7, 3, 7, 4, 7]));
  const s = fitStandardizer(x);
  assert.deepEqual([...s.mean], [2.5, 7]);
  assert.ok(Math.abs(s.scale[0] - Math.sqrt(1.25)) < 1e-15);
  assert.equal(s.scale[1], 1);
  const z = standardize(s, x);
  assert.deepEqual([z.data[1], z.data[3]], [0, 0]);
  assert.ok(Math.abs(z.data[0] + z.data[6]) < 1e-15);
});

// Class 1 (25%) sits in a narrow cluster at x0 = sep, class 0 is N(0, I). With C = 0.01
// the penalty keeps w so small that the unpenalized intercept wins and everything is
// predicted as the majority class (accuracy 0.75).
function clusterProblem(sep: number, rows: number) {
  const rs = new RandomState(3);
  const data = new Float64Array(rows * 2);
  const y = new Uint8Array(rows);
  for (let i = 0; i < rows; i++) {
    y[i] = i % 4 === 0 ? 1 : 0;
    data[2 * i] = y[i] ? sep + 0.1 * rs.standardNormal() : rs.standardNormal();
    data[2 * i + 1] = rs.standardNormal();
  }
  const x = makeMatrix(rows, 2, data);
  return { x: standardize(fitStandardizer(x), x), y };
}

test('cross-validation picks the one C that generalizes on a constructed problem', () => {
  // At sep = 4 the clusters nearly touch: C = 0.1 separates every held-out fold, while
  // C >= 1 bends the boundary towards the noise feature and misclassifies 3 of 240.
  const { x, y } = clusterProblem(4, 240);
  const cv = crossValidateC(x, y, ATTACK_C_GRID, 3);
  assert.equal(cv.meanScores[0], 0.75, `C = 0.01 should predict the majority class: ${cv.meanScores}`);
  assert.equal(cv.meanScores[1], 1);
  assert.ok(cv.meanScores[2] < 1 && cv.meanScores[3] < 1, `${cv.meanScores}`);
  assert.equal(cv.C, 0.1);
  assert.equal(cv.model.C, 0.1);
  assert.equal(cv.foldScores.length, 4);
  assert.equal(cv.foldScores[0].length, 3);
});

test('cross-validation breaks ties towards the first C of the grid, as GridSearchCV', () => {
  const { x, y } = clusterProblem(8, 240);
  const cv = crossValidateC(x, y, ATTACK_C_GRID, 3);
  assert.deepEqual(cv.meanScores, [0.75, 1, 1, 1]);
  assert.equal(cv.C, 0.1);
  assert.equal(crossValidateC(x, y, [10, 1, 0.1], 3).C, 10);
});
