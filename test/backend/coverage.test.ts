import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KERNEL_NAMES } from '../../src/backend/kernels.ts';
import { refBackend } from '../../src/backend/ref/index.ts';

test('the reference backend implements every kernel', () => {
  const missing = KERNEL_NAMES.filter((k) => typeof refBackend.kernels[k] !== 'function');
  assert.deepEqual(missing, []);
});
