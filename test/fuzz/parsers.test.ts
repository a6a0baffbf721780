// A short seeded run of every fuzz target (scripts/fuzz/targets.ts): each input either
// parses or is refused with a UserError naming its file; `npm run fuzz` runs the same
// targets for minutes. Also checks that the property can fail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { UserError } from '../../src/util/errors.ts';
import { FuzzFinding, mutate, parsesOrRefuses } from '../../scripts/fuzz/property.ts';
import { findTarget, TARGETS } from '../../scripts/fuzz/targets.ts';
import { guidedFuzz, mutateValue } from '../../scripts/fuzz/guided.ts';

// Inputs per target: the sweep target writes a file per input and is ~30x slower.
const RUNS: Record<string, number> = { sweep: 150 };

for (const t of TARGETS) {
  test(`fuzz ${t.name}: ${t.what}`, () => {
    fc.assert(
      fc.property(t.arbitrary, (input) => t.run(input)),
      { seed: 18, numRuns: RUNS[t.name] ?? 400 },
    );
  });
}

test('the property flags engine errors, wrapped engine messages and unnamed sources', () => {
  assert.doesNotThrow(() => parsesOrRefuses(['a.bin'], () => 1));
  assert.doesNotThrow(() => parsesOrRefuses(['a.bin'], () => { throw new UserError('a.bin: truncated'); }));
  const finding = (fn: () => void, re: RegExp) => assert.throws(fn, (e: Error) => e instanceof FuzzFinding && re.test(e.message));
  finding(() => parsesOrRefuses(['a.bin'], () => { throw new RangeError('Invalid typed array length: 8'); }), /not a UserError: RangeError/);
  finding(() => parsesOrRefuses(['a.bin'], () => { throw new Error('a.bin: bad'); }), /not a UserError: Error/);
  finding(() => parsesOrRefuses(null, () => { throw new UserError("x: Cannot read properties of null (reading 'trim')"); }), /wrapping an engine error/);
  finding(() => parsesOrRefuses(['a.bin'], () => { throw new UserError('truncated'); }), /names none of a\.bin/);
});

test('mutations: truncation, header fields, insertion and deletion', () => {
  const b = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual(Array.from(mutate(b, [{ kind: 'truncate', at: 6 }])), [1, 2, 3]);
  assert.deepEqual(Array.from(mutate(b, [{ kind: 'u32', at: 0, value: 0x01020304 }])), [1, 2, 3, 4, 5, 6, 7, 8], 'big-endian at 0');
  assert.deepEqual(Array.from(mutate(b, [{ kind: 'u32', at: 2, value: 0xffffffff }])), [1, 255, 255, 255, 255, 6, 7, 8]);
  assert.deepEqual(Array.from(mutate(b, [{ kind: 'insert', at: 4, bytes: Uint8Array.from([9, 9]) }])), [1, 2, 9, 9, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual(Array.from(mutate(b, [{ kind: 'delete', at: 2, length: 3 }])), [1, 5, 6, 7, 8]);
  assert.deepEqual(Array.from(b), [1, 2, 3, 4, 5, 6, 7, 8], 'the input is not modified');
});

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
  const rng = () => ((s = (s * 16807) % 2147483647) / 2147483647);
  const v = { bytes: Uint8Array.from([1, 2, 3, 4]), n: 3 };
  const changed = Array.from({ length: 20 }, () => mutateValue(v, rng) as typeof v);
  assert.ok(changed.some((m) => m.n !== 3 || Buffer.compare(Buffer.from(m.bytes), Buffer.from(v.bytes)) !== 0));
  assert.deepEqual(Array.from(v.bytes), [1, 2, 3, 4]);
  assert.equal(v.n, 3);
});
