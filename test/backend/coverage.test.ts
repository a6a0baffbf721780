import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KERNEL_NAMES } from '../../src/backend/kernels.ts';
import { refBackend } from '../../src/backend/ref/index.ts';
import { nativeBackendOrNull, nativeLoadError } from '../../src/backend/registry.ts';

test('the reference backend implements every kernel', () => {
  const missing = KERNEL_NAMES.filter((k) => typeof refBackend.kernels[k] !== 'function');
  assert.deepEqual(missing, []);
});

// npm install builds the addon; a machine where that failed runs on the reference
// backend, but the test suite must say so rather than pass on the slow path.
test('the native backend loads and implements every kernel', () => {
  const native = nativeBackendOrNull();
  assert.ok(native, `the native backend failed to load: ${nativeLoadError()}`);
  const missing = KERNEL_NAMES.filter((k) => typeof native.kernels[k] !== 'function');
  assert.deepEqual(missing, []);
  assert.deepEqual(native.dtypes, ['float32']);
});
