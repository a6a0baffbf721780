// Loads test/golden/numpy_random.json and checks its magic number and version, so a
// stale or foreign file fails loudly instead of comparing against the wrong numbers.
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';

export const GOLDEN_MAGIC = 'spurlab-golden';
export const GOLDEN_VERSION = 1;

export type Golden = Record<string, any>;

export function loadNumpyGolden(): Golden {
  const path = new URL('../golden/numpy_random.json', import.meta.url);
  const doc = JSON.parse(readFileSync(path, 'utf8')) as Golden;
  if (doc.magic !== GOLDEN_MAGIC || doc.version !== GOLDEN_VERSION) {
    throw new Error(
      `${path.pathname}: magic/version ${doc.magic}/${doc.version}, expected ${GOLDEN_MAGIC}/${GOLDEN_VERSION}; rerun test/golden/make_numpy_random.py`,
    );
  }
  return doc;
}

/** sha256 of the little-endian bytes of a typed array (numpy's .tobytes() on x86). */
export function sha256Of(a: Float64Array | Float32Array): string {
  return createHash('sha256')
    .update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength))
    .digest('hex');
}
