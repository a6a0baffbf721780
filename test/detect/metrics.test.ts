// Detection metrics: ranks, precision at n, recall at 10n and AUROC, with ties counted as
// a random tie-break would on average.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { auroc, detectionMetrics, topPositions } from '../../src/detect/metrics.ts';

test('a perfect and a worst ranking', () => {
  const scores = Float64Array.from({ length: 40 }, (_, i) => 40 - i); // position 0 scores highest
  const all = new Uint8Array(40).fill(1);
  const best = detectionMetrics(scores, [0, 1], all);
  assert.deepEqual(best.ranks, [1, 2]);
  assert.equal(best.precisionAtN, 1);
  assert.equal(best.recallAt10N, 1);
  assert.equal(best.auroc, 1);
  const worst = detectionMetrics(scores, [38, 39], all);
  assert.deepEqual(worst.ranks, [39, 40]);
  assert.equal(worst.precisionAtN, 0);
  assert.equal(worst.recallAt10N, 0);
  assert.equal(worst.auroc, 0);
});

test('equal scores give chance, not a perfect or useless ranking', () => {
  const m = detectionMetrics(new Float64Array(100), [3, 50, 97], new Uint8Array(100).fill(1));
  assert.deepEqual(m.ranks, [50.5, 50.5, 50.5]);
  assert.ok(Math.abs(m.precisionAtN - 0.03) < 1e-12);
  assert.ok(Math.abs(m.recallAt10N - 0.3) < 1e-12);
  assert.equal(m.auroc, 0.5);
});

test('AUROC equals the share of (spurious, clean) pairs ordered right, ties one half', () => {
  const scores = [0.3, 0.9, 0.3, 0.1, 0.5, 0.3, 0.7, 0.2];
  const positive = Uint8Array.from([1, 0, 0, 0, 1, 1, 0, 0]);
  let wins = 0;
  let pairs = 0;
  for (let i = 0; i < 8; i++)
    for (let j = 0; j < 8; j++)
      if (positive[i] && !positive[j]) {
        pairs++;
        wins += scores[i] > scores[j] ? 1 : scores[i] === scores[j] ? 0.5 : 0;
      }
  assert.equal(auroc(scores, positive), wins / pairs);
});

test('the target-class AUROC reads only the target class; precision counts the top n', () => {
  // positions 0-4 target class (0 and 1 spurious), 5-9 another class scored higher
  const scores = [5, 4, 6, 1, 0, 9, 9, 9, 9, 9];
  const inTarget = Uint8Array.from([1, 1, 1, 1, 1, 0, 0, 0, 0, 0]);
  const m = detectionMetrics(scores, [0, 1], inTarget);
  assert.equal(m.precisionAtN, 0);
  assert.equal(m.aurocTargetClass, 4 / 6);
  assert.deepEqual(m.ranks, [7, 8]);
  assert.deepEqual(topPositions(scores, 3), [5, 6, 7]);
  assert.throws(() => detectionMetrics([NaN, 1], [0], inTarget), /NaN/);
});
