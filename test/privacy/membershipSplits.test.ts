import { test } from 'node:test';
import assert from 'node:assert/strict';
import { membershipSplits } from '../../src/privacy/membershipSplits.ts';

test('the four parts are disjoint halves and hold every spurious example in target-train', () => {
  const spurious = [7, 123, 999];
  const s = membershipSplits(1000, 200, spurious, 0);
  assert.equal(s.targetTrain.length, 500);
  assert.equal(s.shadowTrain.length, 500);
  assert.equal(s.targetTest.length, 100);
  assert.equal(s.shadowTest.length, 100);
  const target = new Set(s.targetTrain);
  for (const i of spurious) assert.ok(target.has(i), `spurious ${i} in target-train`);
  for (const i of s.shadowTrain) assert.ok(!target.has(i), `${i} in both training halves`);
  assert.equal(new Set([...s.targetTrain, ...s.shadowTrain]).size, 1000);
  assert.equal(new Set([...s.targetTest, ...s.shadowTest]).size, 200);
  for (const part of [s.targetTrain, s.shadowTrain, s.targetTest, s.shadowTest]) {
    for (let k = 1; k < part.length; k++) assert.ok(part[k - 1] < part[k], 'ascending');
  }
});

test('splits are seeded: same seed same halves, another seed other halves', () => {
  const a = membershipSplits(100, 50, [3], 5);
  const b = membershipSplits(100, 50, [3], 5);
  const c = membershipSplits(100, 50, [3], 6);
  assert.deepEqual(a, b);
  assert.notDeepEqual([...a.shadowTrain], [...c.shadowTrain]);
});

test('limits take a seeded subset, still split in equal halves', () => {
  const s = membershipSplits(60000, 10000, [5, 6], 1, { train: 601, test: 301 });
  assert.equal(s.targetTrain.length, 300);
  assert.equal(s.shadowTrain.length, 300);
  assert.equal(s.targetTest.length, 150);
  assert.equal(s.shadowTest.length, 150);
  assert.ok(s.targetTrain.includes(5) && s.targetTrain.includes(6));
});

test('too many spurious examples or bad limits are clear errors', () => {
  assert.throws(
    () => membershipSplits(10, 10, [0, 1, 2, 3, 4, 5], 0),
    /n: got 6 spurious examples, more than the target model's half of the training images \(5\)/,
  );
  assert.throws(() => membershipSplits(10, 10, [], 0, { train: -1 }), /training limit: got -1/);
  assert.throws(() => membershipSplits(10, 1, [], 0), /at least 2 training and 2 test images/);
});
