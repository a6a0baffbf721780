// Shared by test/backend/native*.test.ts: the native backend (or a skip reason), a seeded
// PRNG for inputs, and a comparison against the reference within atol + rtol*|ref|.
import assert from 'node:assert/strict';
import type { Backend } from '../../src/backend/backend.ts';
import { loadNativeBackend, setNativeIsa, type NativeIsa } from '../../src/backend/native/index.ts';

export let native: Backend | null = null;
export let skipReason: string | false = false;
try {
  native = loadNativeBackend();
} catch (e) {
  skipReason = `native addon unavailable: ${(e as Error).message}`;
}

/** The native kernels; only called inside tests that are skipped without the addon. */
export function nk() {
  if (!native) throw new Error(String(skipReason));
  return native.kernels as Required<Backend['kernels']>;
}

/** The SIMD paths to test: the widest this CPU has and the portable one. */
export const ISAS: NativeIsa[] = ['avx512', 'generic'];

export function withIsa(isa: NativeIsa, fn: () => void): void {
  setNativeIsa(isa);
  try {
    fn();
  } finally {
    setNativeIsa('avx512');
  }
}

/** mulberry32: a small seeded PRNG, so a failing input can be reproduced. */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n values uniform in [lo, hi) as float32. */
export function randArray(rng: () => number, n: number, lo = -1, hi = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * rng();
  return a;
}

/** Asserts |got - want| <= atol + rtol*|want| elementwise (NaN matches NaN). */
export function assertClose(got: ArrayLike<number>, want: ArrayLike<number>, atol: number, rtol: number, what: string): void {
  assert.equal(got.length, want.length, `${what}: length ${got.length} != ${want.length}`);
  for (let i = 0; i < got.length; i++) {
    const g = got[i];
    const w = want[i];
    if (Number.isNaN(w) && Number.isNaN(g)) continue;
    if (g === w) continue;
    if (!(Math.abs(g - w) <= atol + rtol * Math.abs(w))) {
      assert.fail(`${what}: element ${i} is ${g}, reference ${w} (atol ${atol}, rtol ${rtol})`);
    }
  }
}

/** Asserts two arrays are bit-identical. */
export function assertSame(got: Float32Array, want: Float32Array, what: string): void {
  assert.ok(
    Buffer.from(got.buffer, got.byteOffset, got.byteLength).equals(Buffer.from(want.buffer, want.byteOffset, want.byteLength)),
    `${what}: results differ`,
  );
}
