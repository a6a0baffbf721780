// A short seeded run of every fuzz target (scripts/fuzz/targets.ts): each input either
// parses or is refused with a UserError naming its file; `npm run fuzz` runs the same
// targets for minutes. Also checks that the property can fail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { UserError } from '../../src/util/errors.ts';
import { FuzzFinding, mutate, parsesOrRefuses } from '../../scripts/fuzz/property.ts';
import { TARGETS } from '../../scripts/fuzz/targets.ts';

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
  assert.doesNotThrow(() =>
    parsesOrRefuses(['a.bin'], () => {
      throw new UserError('a.bin: truncated');
    }),
  );
  const finding = (fn: () => void, re: RegExp) => assert.throws(fn, (e: Error) => e instanceof FuzzFinding && re.test(e.message));
  finding(
    () =>
      parsesOrRefuses(['a.bin'], () => {
        throw new RangeError('Invalid typed array length: 8');
      }),
    /not a UserError: RangeError/,
  );
  finding(
    () =>
      parsesOrRefuses(['a.bin'], () => {
        throw new Error('a.bin: bad');
      }),
    /not a UserError: Error/,
  );
  finding(
    () =>
      parsesOrRefuses(null, () => {
        throw new UserError("x: Cannot read properties of null (reading 'trim')");
      }),
    /wrapping an engine error/,
  );
  finding(
    () =>
      parsesOrRefuses(['a.bin'], () => {
        throw new UserError('truncated');
      }),
    /names none of a\.bin/,
  );
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
