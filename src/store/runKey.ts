// Run keys: a run's identity is the sha256 of its configuration in canonical JSON, so
// equal configurations get equal keys however they were built (key order, undefined
// fields). Used by the store, the queue (job ids) and Slurm (result files).
import { createHash } from 'node:crypto';
import { UserError } from '../util/errors.ts';

/**
 * JSON with object keys sorted at every level, so equal configurations hash equally no
 * matter how they were built. Rejects values JSON cannot represent faithfully.
 */
export function canonicalJson(value: unknown, nonFinite: 'reject' | 'null' = 'reject'): string {
  return JSON.stringify(canonicalize(value, '$', nonFinite));
}

function canonicalize(value: unknown, path: string, nonFinite: 'reject' | 'null'): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (Number.isFinite(value)) return value;
    if (nonFinite === 'null') return null;
    throw new UserError(`config value at ${path} is ${value}; expected a finite number`);
  }
  if (Array.isArray(value)) return value.map((v, i) => canonicalize(v, `${path}[${i}]`, nonFinite));
  const proto: unknown = typeof value === 'object' ? Object.getPrototypeOf(value) : undefined;
  if (proto === Object.prototype || proto === null) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value as object).sort()) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined) out[k] = canonicalize(v, `${path}.${k}`, nonFinite);
    }
    return out;
  }
  throw new UserError(`config value at ${path} is a ${typeof value}; expected JSON data (null, boolean, number, string, array, plain object)`);
}

/** The stable key of a run: sha256 (hex) of its configuration's canonical JSON. */
export function runKey(config: object): string {
  return createHash('sha256').update(canonicalJson(config)).digest('hex');
}
