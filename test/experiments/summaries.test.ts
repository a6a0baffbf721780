import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ResultsStore } from '../../src/store/results.ts';
import { runKey } from '../../src/store/runKey.ts';
import { groupedSummary, summarizeWithBaseline } from '../../src/experiments/summaries.ts';
import { tempDir } from '../helpers.ts';

function freshPath(): string {
  return join(tempDir('spurlab-summaries-'), 'results.db');
}

const config = (n: number, seed: number, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  dataset: 'mnist',
  pattern: 'S3',
  n,
  target: 0,
  seed,
  model: 'LargeMLP',
  optimizer: { name: 'adam', lr: 0.01 },
  epochs: 5,
  ...extra,
});

test('grouped summaries and Welch p-values against the n = 0 baseline (known numbers)', () => {
  const store = ResultsStore.open(freshPath());
  const add = (c: Record<string, unknown>, result: Record<string, unknown>, perImage?: number[]): void => {
    const key = runKey(c);
    assert.ok(store.claim(key, c, 'train'));
    assert.ok(store.complete(key, result, perImage && Uint8Array.from(perImage)));
  };
  const ten = (ones: number[]): number[] => Array.from({ length: 10 }, (_, i) => (ones.includes(i) ? 1 : 0));
  add(config(0, 0), { score: 0.01, testAcc: 0.97 }, ten([9]));
  add(config(0, 1), { score: 0.02, testAcc: 0.98 }, ten([]));
  add(config(0, 2), { score: 0.03, testAcc: 0.99 }, ten([8, 9]));
  add(config(3, 0), { score: 0.2, testAcc: 0.96 }, ten([0, 1]));
  add(config(3, 1), { score: 0.3, testAcc: 0.97 }, ten([0, 1, 2]));
  add(config(3, 2), { score: 0.4, testAcc: 0.98 }, ten([0, 1, 2, 3]));
  add(config(3, 0, { pattern: 'R3' }), { score: 0.9, testAcc: 0.5 }, ten([0]));
  const running = runKey(config(5, 0));
  assert.ok(store.claim(running, config(5, 0), 'train'));

  const summary = groupedSummary(store, ['pattern', 'n']);
  assert.deepEqual(
    summary.map((s) => [s.group.pattern, s.group.n, s.runs]),
    [
      ['R3', 3, 1],
      ['S3', 0, 3],
      ['S3', 3, 3],
    ],
  );
  const s3 = summary[2];
  assert.ok(Math.abs(s3.meanScore - 0.3) < 1e-15);
  assert.ok(Math.abs(s3.semScore - 0.05773502691896258) < 1e-15);
  assert.ok(Math.abs(s3.meanTestAcc - 0.97) < 1e-15);
  assert.ok(Number.isNaN(summary[0].semScore), 'SEM of one run is undefined');

  const withBaseline = summarizeWithBaseline(store, ['dataset', 'pattern', 'n']);
  const row = withBaseline.find((s) => s.group.pattern === 'S3' && s.group.n === 3)!;
  assert.equal(row.baselineRuns, 3);
  assert.ok(Math.abs(row.baselineMeanScore - 0.02) < 1e-15);
  assert.equal(row.comparison.test, 'runs');
  assert.deepEqual(row.scores, [0.2, 0.3, 0.4]);
  // scipy.stats.ttest_ind([.2, .3, .4], [.01, .02, .03], equal_var=False, alternative='greater'), permutation_test exact:
  assert.ok(Math.abs(row.t - 4.825673912819979) < 1e-12);
  assert.ok(Math.abs(row.pValue / 0.01940384813491437 - 1) < 1e-9);
  assert.equal(row.comparison.pPermutation, 0.05);
  const perImage = summarizeWithBaseline(store, ['dataset', 'pattern', 'n'], {}, { test: 'per-image' }).find(
    (s) => s.group.pattern === 'S3' && s.group.n === 3,
  )!;
  assert.equal(perImage.comparison.test, 'per-image');
  // scipy.stats.ttest_ind(group, baseline, equal_var=False, alternative='greater') on the pooled vectors:
  assert.ok(Math.abs(perImage.t - 1.96638416050035) < 1e-12);
  assert.ok(Math.abs(perImage.pValue / 0.02740893562425083 - 1) < 1e-9);
  const r3 = withBaseline.find((s) => s.group.pattern === 'R3')!;
  assert.equal(r3.baselineRuns, 0, 'no n = 0 run with pattern R3');
  assert.ok(Number.isNaN(r3.pValue));
  assert.ok(withBaseline.filter((s) => s.group.n === 0).every((s) => Number.isNaN(s.pValue)));

  const perSeed = summarizeWithBaseline(store, ['pattern', 'n', 'seed']).find(
    (s) => s.group.pattern === 'S3' && s.group.n === 3 && s.group.seed === 1,
  )!;
  assert.equal(perSeed.runs, 1);
  assert.equal(perSeed.baselineRuns, 3, 'seeds are ignored when matching the baseline');
  assert.ok(Number.isNaN(perSeed.pValue));
  assert.equal(perSeed.comparison.note, '1 run', 'one run has no test over runs');
  assert.equal(groupedSummary(store, ['optimizer.lr'])[0].group['optimizer.lr'], 0.01);
  assert.throws(() => summarizeWithBaseline(store, ['pattern']), /must include "n"/);
  assert.throws(() => groupedSummary(store, ['n; DROP TABLE runs']), /group-by "n; DROP TABLE runs"/);
  store.close();
});
