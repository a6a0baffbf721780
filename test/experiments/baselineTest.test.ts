import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { compareWithBaseline } from '../../src/experiments/baselineTest.ts';
import { formatTestP } from '../../src/report/format.ts';

interface GoldenCase {
  name: string;
  a: number[];
  b: number[];
  greater: { t: number; pValue: number };
}
const golden = JSON.parse(readFileSync(new URL('../golden/scipy_stats.json', import.meta.url), 'utf8')) as {
  welch: GoldenCase[];
  permutation: { name: string; greater: { pValue: number } }[];
  mannwhitneyu: { name: string; greater: { pValue: number } }[];
};
const byName = <T extends { name: string }>(list: T[], name: string): T => {
  const c = list.find((x) => x.name === name);
  assert.ok(c, `golden case "${name}"`);
  return c;
};

test('over runs: Welch one-sided with the permutation test and Mann-Whitney beside it, as scipy gives them', () => {
  const w = byName(golden.welch, '3 runs vs 3 baseline runs (per-run scores)');
  const c = compareWithBaseline(w.a, w.b);
  assert.equal(c.test, 'runs');
  assert.equal(c.runs, 3);
  assert.equal(c.baselineRuns, 3);
  assert.ok(Math.abs(c.t - w.greater.t) < 1e-12 * Math.abs(w.greater.t));
  assert.ok(Math.abs(c.pValue - w.greater.pValue) < 1e-9 * w.greater.pValue);
  assert.equal(c.pPermutation, byName(golden.permutation, '3 runs vs 3 baseline runs').greater.pValue);
  assert.equal(c.pMannWhitney, byName(golden.mannwhitneyu, '3 runs vs 3 baseline runs, no ties').greater.pValue);
  assert.ok(c.ci[0] <= c.mean && c.mean <= c.ci[1]);
  assert.equal(c.note, '');
});

test('a baseline that always scores 0 still gives a finite Welch p (df from the other group)', () => {
  const w = byName(golden.welch, '3 runs vs 3 baseline runs of zero');
  const c = compareWithBaseline(w.a, w.b);
  assert.ok(Math.abs(c.pValue - w.greater.pValue) < 1e-9 * w.greater.pValue);
});

test('one run has no p-value and says so; so does a missing baseline', () => {
  const one = compareWithBaseline([0.9], [0.1, 0.2, 0.0]);
  assert.ok(Number.isNaN(one.pValue));
  assert.equal(one.note, '1 run');
  assert.equal(formatTestP(one.pValue, one.note), '1 run');
  assert.deepEqual(one.ci, [NaN, NaN]);
  assert.equal(compareWithBaseline([0.9, 0.8], []).note, 'no baseline');
  assert.equal(compareWithBaseline([0.9, 0.8], [0.1]).note, 'baseline 1 run');
});

test('identical constant samples give p = 1 ("n.s."), never a dash', () => {
  const c = compareWithBaseline([0, 0, 0], [0, 0, 0]);
  assert.equal(c.pValue, 1);
  assert.equal(c.pPermutation, 1);
  assert.equal(formatTestP(c.pValue, c.note), '1.00 n.s.');
  const images = compareWithBaseline([0.1], [0.1], { setting: new Uint8Array(50), baseline: new Uint8Array(50) });
  assert.equal(images.test, 'per-image');
  assert.equal(images.pValue, 1);
});

test("per-image mode is the reference's pooled test and leaves the run tests out", () => {
  const setting = Uint8Array.from({ length: 1000 }, (_, i) => (i % 10 === 0 ? 1 : 0));
  const baseline = Uint8Array.from({ length: 1000 }, (_, i) => (i % 50 === 0 ? 1 : 0));
  const c = compareWithBaseline([0.1], [0.02], { setting, baseline });
  assert.equal(c.test, 'per-image');
  assert.ok(c.pValue < 1e-10, `pooled images make one model "significant": ${c.pValue}`);
  assert.ok(Number.isNaN(c.pPermutation) && Number.isNaN(c.pMannWhitney));
});

test('formatTestP: n.s. at 0.05 and above, the note when there is no test', () => {
  assert.equal(formatTestP(0.2), '0.20 n.s.');
  assert.equal(formatTestP(0.012), '0.012');
  assert.equal(formatTestP(2e-7), '2.0e-7');
  assert.equal(formatTestP(2e-7, '', 'latex'), '$2.0\\times 10^{-7}$');
  assert.equal(formatTestP(NaN, 'baseline'), 'baseline');
  assert.equal(formatTestP(NaN), '–');
});
