import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RandomState } from '../../src/data/numpyRandom.ts';
import { groupMetrics, groupTrials, LOG_FPR_GRID, populationThresholds, rocSummary, spread } from '../../src/privacy/liraMetrics.ts';
import { rocAuc, rocCurve, tprAtFpr } from '../../src/privacy/rocMetrics.ts';

test('the one-pass ROC summary agrees with rocAuc and tprAtFpr, ties included', () => {
  const rs = new RandomState(11);
  for (const [n, levels] of [
    [50, 0],
    [400, 7],
    [3000, 0],
    [3000, 40],
  ] as const) {
    const labels = Uint8Array.from({ length: n }, () => (rs.random() < 0.4 ? 1 : 0));
    // Members score higher on average; `levels` rounds scores so that many tie.
    const scores = Float64Array.from(labels, (y) => {
      const v = rs.standardNormal() + 0.8 * y;
      return levels ? Math.round(v * levels) / levels : v;
    });
    const fprs = [0, 0.001, 0.01, 0.1, 0.5, 1];
    const r = rocSummary(scores, labels, fprs);
    assert.ok(Math.abs(r.auc - rocAuc(scores, labels)) < 1e-12, `n ${n}: ${r.auc} vs ${rocAuc(scores, labels)}`);
    fprs.forEach((f, j) => assert.equal(r.tprAt[j], tprAtFpr(scores, labels, f), `n ${n}, FPR ${f}`));
    // The log grid reads the same curve.
    const curve = rocCurve(scores, labels);
    const g = rocSummary(scores, labels, LOG_FPR_GRID);
    LOG_FPR_GRID.forEach((f, j) => assert.equal(g.tprAt[j], Math.max(0, ...curve.filter((p) => p.fpr <= f + 1e-12).map((p) => p.tpr))));
  }
  assert.ok(Number.isNaN(rocSummary([1, 2], [1, 1], [0.1]).auc));
  assert.throws(() => rocSummary([1, NaN], [1, 0], []), /score 1 is NaN/);
  assert.throws(() => rocSummary([1, 2], [1, 2], []), /label 2 at 1/);
});

test('group trials pool every target model; population thresholds flag 0.1% / 1% of all non-members', () => {
  // 2 models x 3 examples.
  const scores = Float64Array.from([0.9, 0.1, 0.5, 0.2, 0.8, 0.4]);
  const keep = Uint8Array.from([1, 0, 1, 0, 1, 0]);
  const g = groupTrials(scores, keep, 2, 3, [0, 2]);
  assert.deepEqual([...g.scores], [0.9, 0.5, 0.2, 0.4]);
  assert.deepEqual([...g.labels], [1, 1, 0, 0]);
  const th = populationThresholds(scores, keep);
  assert.equal(th.at01, 0.4, 'the largest of the 3 non-member scores: none above it');
  const m = groupMetrics(g, th, 2);
  assert.equal(m.auc, 1);
  assert.equal(m.members, 2);
  assert.equal(m.nonMembers, 2);
  assert.equal(m.tprAt01FprPopulation, 1);
  assert.equal(m.roc.length, LOG_FPR_GRID.length);
  assert.deepEqual(spread([1, 2, 3]), { mean: 2, se: Math.sqrt(1 / 3) });
});
