// Issue 18 case 1: a getter that detaches a typed array while the addon reads the call's
// object or list arguments used to turn adamUpdate into a use-after-free (SIGSEGV under
// --expose-gc) and conv2d into a read of freed memory. Every kernel now reads those
// arguments before taking any pointer and rejects detached arrays with a TypeError.
// The calls run in a child process under --expose-gc, so a crash fails this test
// instead of killing the runner.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { skipReason } from './native-helpers.ts';
import type { Outcome } from './detachChild.ts';

const child = fileURLToPath(new URL('./detachChild.ts', import.meta.url));

test('detached typed arrays are rejected by every kernel, also when a getter detaches them', { skip: skipReason }, () => {
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', child], { encoding: 'utf8', timeout: 60_000 });
  const lastCase = r.stderr.trim().split('\n').at(-1);
  assert.equal(r.signal, null, `child died of ${r.signal} during "${lastCase}"`);
  assert.equal(r.status, 0, `child exited ${r.status} during "${lastCase}":\n${r.stderr.slice(-2000)}`);
  const outcomes = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Outcome[];
  let detachedCases = 0;
  let getterCases = 0;
  for (const o of outcomes) {
    const label = `${o.kernel}: ${o.case}`;
    if (o.case === 'valid' || o.case === 'shape lengthened by its own getter') {
      assert.equal(o.threw, null, label);
    } else if (o.case === 'a throwing getter') {
      assert.equal(o.threw, 'Error: getter says no', label);
    } else if (o.case === 'param shrunk by a getter') {
      assert.match(o.threw ?? '', /^RangeError: native adamUpdate: grad has length 300, expected 1 /, label);
    } else {
      const name = /^arg (\d+)/.exec(o.case);
      assert.ok(name, label);
      assert.match(o.threw ?? 'no error', new RegExp(`^TypeError: native ${o.kernel}: \\w+'s ArrayBuffer is detached$`), label);
      if (o.case.includes('getter')) getterCases++;
      else detachedCases++;
    }
  }
  // 28 kernels with 2-14 typed arrays each; the getter cases are those of the 14 kernels
  // with an object or list argument.
  assert.ok(detachedCases >= 93, `only ${detachedCases} pre-detached cases`);
  assert.ok(getterCases >= 55, `only ${getterCases} getter cases`);
  for (const k of [
    'adamUpdate',
    'sgdUpdate',
    'conv2d',
    'conv2dFusedBackward',
    'maxPool2d',
    'avgPool2dBackward',
    'binary',
    'reduce',
    'stridedCopy',
    'stridedScatterAdd',
  ]) {
    assert.ok(
      outcomes.some((o) => o.kernel === k && o.case.includes('getter')),
      `no getter case for ${k}`,
    );
  }
});
