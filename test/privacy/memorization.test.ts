import { test } from 'node:test';
import assert from 'node:assert/strict';
import { meanOf, memorizationHistogram, memorizationRanks, memorizationScores } from '../../src/privacy/memorization.ts';
import { assertClose } from '../helpers.ts';

// 4 models x 3 examples, written as rows of models.
//            ex0 ex1 ex2
const keep = [1, 0, 1, 1, 1, 0, 0, 1, 0, 0, 0, 1];
const correct = [1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 0, 1];

test('Feldman-Zhang memorization: accuracy when trained on it minus when not, with its standard error', () => {
  const m = memorizationScores(Uint8Array.from(correct), Uint8Array.from(keep), 4, 3);
  // ex0: in models 0,1 both right; out models 2,3 both wrong -> 1 - 0 = 1, SE 0.
  // ex1: in models 1,2 both right; out models 0,3: right, wrong -> 1 - 0.5.
  // ex2: in models 0,3 both right; out models 1,2: wrong, right -> 1 - 0.5.
  assertClose(m.memorization, [1, 0.5, 0.5], 1e-15, 0);
  assertClose(m.accIn, [1, 1, 1], 0, 0);
  assertClose(m.accOut, [0, 0.5, 0.5], 0, 0);
  assert.deepEqual([...m.countIn], [2, 2, 2]);
  // SE = sqrt(pIn(1-pIn)/nIn + pOut(1-pOut)/nOut) = sqrt(0 + 0.25/2) for ex1, ex2.
  assertClose(m.se, [0, Math.sqrt(0.125), Math.sqrt(0.125)], 1e-15, 0);
});

test('an example never left out has no estimate', () => {
  const m = memorizationScores(Uint8Array.from([1, 1]), Uint8Array.from([1, 1]), 2, 1);
  assert.ok(Number.isNaN(m.memorization[0]) && Number.isNaN(m.se[0]));
  assert.throws(() => memorizationScores(new Uint8Array(3), new Uint8Array(4), 2, 2), /correct has 3 and keep 4 entries/);
  assert.throws(() => memorizationScores(Uint8Array.from([2, 0]), Uint8Array.from([1, 0]), 2, 1), /correct\[0, 0\] is 2/);
});

test('ranks: 1 = most memorized, ties share the best rank; means skip undefined estimates', () => {
  const mem = Float64Array.from([0.1, 0.9, 0.5, 0.9, -0.2]);
  assert.deepEqual(memorizationRanks(mem, [1, 3, 2, 0, 4]), [1, 1, 3, 4, 5]);
  assert.equal(meanOf(Float64Array.from([1, NaN, 3])), 2);
  assert.equal(meanOf(mem, [1, 2]), 0.7);
});

test('histogram of 20 bins of width 0.1 over [-1, 1]', () => {
  const h = memorizationHistogram(Float64Array.from([-1, -0.7, 0, 0.05, 0.3, 1, NaN]));
  assert.equal(h.edges.length, 21);
  assert.equal(h.edges[0], -1);
  assert.equal(h.edges[13], 0.3);
  assert.equal(
    h.counts.reduce((a, b) => a + b, 0),
    6,
  );
  assert.equal(h.counts[0], 1);
  assert.equal(h.counts[3], 1, '-0.7 opens bin [-0.7, -0.6)');
  assert.equal(h.counts[10], 2, '0 and 0.05');
  assert.equal(h.counts[13], 1);
  assert.equal(h.counts[19], 1, '1 closes the last bin');
});
