// Shared test helpers: seeded random tensors and approximate comparison.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Tensor, randn, uniform, type DType } from '../src/tensor/tensor.ts';
import { SimpleRandom } from '../src/util/random.ts';
import { nativeBackendOrNull } from '../src/backend/registry.ts';

export function rng(seed = 1): SimpleRandom {
  return new SimpleRandom(seed);
}

export function rand(shape: number[], seed = 1, dtype: DType = 'float64'): Tensor {
  return randn(shape, rng(seed), dtype);
}

export function randUniform(shape: number[], lo: number, hi: number, seed = 1, dtype: DType = 'float64'): Tensor {
  return uniform(shape, lo, hi, rng(seed), dtype);
}

export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, atol = 1e-6, rtol = 1e-6, what = ''): void {
  assert.equal(actual.length, expected.length, `${what} length ${actual.length} vs ${expected.length}`);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e)) && !(Number.isNaN(a) && Number.isNaN(e))) {
      assert.fail(`${what} element ${i}: got ${a}, expected ${e} (atol ${atol}, rtol ${rtol})`);
    }
  }
}

/** The backends to run a suite on: ref always, native when it loads. */
export function backendNames(): string[] {
  return nativeBackendOrNull() ? ['ref', 'native'] : ['ref'];
}

/** The options of a tiny training run (MLP, 200 training and 100 test images of MNIST with R3 in 3 of them), for CLI tests. */
export const TINY_TRAIN_ARGS = [
  '--dataset',
  'mnist',
  '--pattern',
  'R3',
  '--n',
  '3',
  '--target',
  '0',
  '--seed',
  '0',
  '--model',
  'MLP',
  '--train-subset',
  '200',
  '--test-subset',
  '100',
  '--batch-size',
  '50',
];

const temporaryDirs: string[] = [];

/**
 * A fresh directory under the system's temporary directory, removed when the test
 * process exits (each test file runs in a process of its own), so the suite leaves no
 * stores, runs or checkpoints behind in /tmp.
 */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  if (temporaryDirs.length === 0)
    process.on('exit', () => {
      for (const d of temporaryDirs) rmSync(d, { recursive: true, force: true });
    });
  temporaryDirs.push(dir);
  return dir;
}

/** Runs fn while collecting what is written to process.stderr (progress and start lines), and restores it. */
export async function withStderr<T>(fn: () => Promise<T>): Promise<{ value: T; stderr: string }> {
  const written: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((chunk: string | Uint8Array) => written.push(String(chunk)) > 0) as typeof process.stderr.write;
  try {
    return { value: await fn(), stderr: written.join('') };
  } finally {
    process.stderr.write = write;
  }
}

/** The `train MODEL (...)` start lines among stderr output. */
export const trainStartLines = (stderr: string): string[] => stderr.split('\n').filter((l) => /^train \S+ \(/.test(l));
