// The coverage-guided mode of npm run fuzz (scripts/fuzz/guided.ts). Its own file, so its
// own process: block coverage only counts blocks of functions compiled after it starts,
// and the seeded runs of parsers.test.ts would have compiled the parsers already.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findTarget } from '../../scripts/fuzz/targets.ts';
import { guidedFuzz, mutateValue } from '../../scripts/fuzz/guided.ts';

test('coverage-guided mode: the corpus grows with new blocks and no target input breaks the property', () => {
  for (const name of ['png', 'safetensors']) {
    const r = guidedFuzz(findTarget(name), 1, 18, 40);
    assert.equal(r.finding, undefined, `${name}: ${r.finding?.error}`);
    assert.ok(r.iterations > 80, `${name}: only ${r.iterations} inputs (40 generated, the rest mutants)`);
    assert.ok(r.corpus >= 5 && r.features >= 20, `${name}: corpus ${r.corpus}, ${r.features} features`);
  }
});

test('mutateValue changes one field of a record and leaves the original alone', () => {
  let s = 1;
  const rng = () => (s = (s * 16807) % 2147483647) / 2147483647;
  const v = { bytes: Uint8Array.from([1, 2, 3, 4]), n: 3 };
  const changed = Array.from({ length: 20 }, () => mutateValue(v, rng) as typeof v);
  assert.ok(changed.some((m) => m.n !== 3 || Buffer.compare(Buffer.from(m.bytes), Buffer.from(v.bytes)) !== 0));
  assert.deepEqual(Array.from(v.bytes), [1, 2, 3, 4]);
  assert.equal(v.n, 3);
});
