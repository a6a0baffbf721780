import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rocAuc, rocCurve, scoreThresholdAtFpr, tprAtFpr } from '../../src/privacy/rocMetrics.ts';

test('AUC of small hand-computed cases', () => {
  // Pairs (member, non-member): (0.35, 0.1) yes, (0.35, 0.4) no, (0.8, *) yes: 3 of 4.
  assert.equal(rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]), 0.75);
  assert.equal(rocAuc([0.9, 0.8, 0.2, 0.1], [1, 1, 0, 0]), 1);
  assert.equal(rocAuc([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1]), 0);
  // All tied: every pair counts 1/2.
  assert.equal(rocAuc([0.5, 0.5, 0.5, 0.5, 0.5], [1, 0, 1, 0, 0]), 0.5);
  // One tie across classes: members {3, 2}, non-members {2, 1}: pairs 1 + 1 + 0.5 + 1 = 3.5 of 4.
  assert.equal(rocAuc([3, 2, 2, 1], [1, 1, 0, 0]), 0.875);
  assert.ok(Number.isNaN(rocAuc([1, 2], [1, 1])));
});

test('ROC curve: one point per distinct score, from (0, 0) to (1, 1)', () => {
  const pts = rocCurve([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]);
  assert.deepEqual(
    pts.map((p) => [p.fpr, p.tpr]),
    [
      [0, 0],
      [0, 0.5],
      [0.5, 0.5],
      [0.5, 1],
      [1, 1],
    ],
  );
  assert.deepEqual(
    pts.map((p) => p.threshold),
    [Infinity, 0.8, 0.4, 0.35, 0.1],
  );
  const tied = rocCurve([2, 2, 1], [1, 0, 0]);
  assert.deepEqual(
    tied.map((p) => [p.fpr, p.tpr]),
    [
      [0, 0],
      [0.5, 1],
      [1, 1],
    ],
  );
});

test('TPR at 1% FPR on a hand-computed case', () => {
  // 100 non-members scored 0.00 .. 0.99; 10 members, four above 0.98.
  const scores: number[] = [];
  const labels: number[] = [];
  for (let i = 0; i < 100; i++) {
    scores.push(i / 100);
    labels.push(0);
  }
  for (const s of [1.5, 1.4, 0.995, 0.985, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05]) {
    scores.push(s);
    labels.push(1);
  }
  // Threshold 0.985 admits one non-member (0.99): FPR 1%, TPR 4/10. Threshold 0.98 admits two.
  assert.equal(tprAtFpr(scores, labels, 0.01), 0.4);
  // FPR 0: only members above every non-member (1.5, 1.4, 0.995).
  assert.equal(tprAtFpr(scores, labels, 0), 0.3);
  assert.equal(tprAtFpr(scores, labels, 1), 1);
  // A non-member above every member: nothing is usable at FPR 0.
  assert.equal(tprAtFpr([5, 1, 0], [0, 1, 0], 0), 0);
  assert.throws(() => tprAtFpr([1], [1], 2), /maxFpr must be in \[0, 1\]/);
});

test('the score threshold at 1% FPR reproduces tprAtFpr on all members', () => {
  const nonMembers = Array.from({ length: 100 }, (_, i) => i / 100);
  const members = [1.5, 1.4, 0.995, 0.985, 0.99, 0.5, 0.4];
  const t = scoreThresholdAtFpr(nonMembers, 0.01);
  assert.equal(t, 0.98);
  const above = members.filter((s) => s > t).length / members.length;
  assert.equal(above, tprAtFpr([...members, ...nonMembers], [...members.map(() => 1), ...nonMembers.map(() => 0)], 0.01));
  assert.equal(scoreThresholdAtFpr(nonMembers, 0), 0.99);
  assert.equal(scoreThresholdAtFpr(nonMembers, 1), -Infinity);
});
