// The fuzzing property shared by every parser target, and byte-level mutations of valid
// files. The property: an input either parses or is refused with a UserError that names
// its source; a TypeError, RangeError, plain Error, an engine message wrapped into a
// UserError, or an input that takes longer than SLOW_MS is a finding.
import fc from 'fast-check';
import { UserError } from '../../src/util/errors.ts';

/** A single input slower than this counts as a hang. */
export const SLOW_MS = 2000;

/** Messages V8 itself produces: a parser bug even when wrapped into a UserError. */
const ENGINE_MESSAGES = [
  'Cannot read properties of',
  'Cannot set properties of',
  'is not a function',
  'is not iterable',
  'Invalid typed array length',
  'Invalid array length',
  'Array buffer allocation failed',
  'Maximum call stack size exceeded',
  'Cannot convert',
  'Offset is outside the bounds',
  'out of memory',
];

/**
 * What the inputs did: how many parsed, and each kind of refusal (its message with
 * numbers and quoted parts blanked) with a count. Shows how much of each parser's
 * checking the generators reach.
 */
export const outcomes = { parsed: 0, refusals: new Map<string, number>() };

function refusalKind(message: string): string {
  return message
    .replace(/\{.*\}|\[.*\]|\(.*\)/g, '…')
    .replace(/"[^"]*"?/g, '"…"')
    .replace(/\S*\d\S*/g, 'N')
    .slice(0, 100);
}

export class FuzzFinding extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FuzzFinding';
  }
}

/**
 * Runs `parse` and throws a FuzzFinding unless it returns, or throws a UserError whose
 * message names one of `sources` (null: any UserError) and no engine message.
 */
export function parsesOrRefuses(sources: string[] | null, parse: () => unknown): void {
  const start = performance.now();
  let error: unknown;
  try {
    parse();
  } catch (e) {
    if (e instanceof FuzzFinding) throw e; // a target's own check on what parsed
    error = e;
  }
  const ms = performance.now() - start;
  if (ms > SLOW_MS) throw new FuzzFinding(`took ${ms.toFixed(0)} ms (more than ${SLOW_MS} ms)`);
  if (error === undefined) {
    outcomes.parsed++;
    return;
  }
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  if (!(error instanceof UserError)) throw new FuzzFinding(`not a UserError: ${message}`, { cause: error });
  const engine = ENGINE_MESSAGES.find((m) => error.message.includes(m));
  if (engine) throw new FuzzFinding(`a UserError wrapping an engine error ("${engine}"): ${message}`, { cause: error });
  if (sources && !sources.some((s) => error.message.includes(s))) {
    throw new FuzzFinding(`the UserError names none of ${sources.join(', ')}: ${message}`, { cause: error });
  }
  const kind = refusalKind(error.message);
  outcomes.refusals.set(kind, (outcomes.refusals.get(kind) ?? 0) + 1);
}

export type Mutation =
  | { kind: 'truncate'; at: number }
  | { kind: 'byte'; at: number; value: number }
  | { kind: 'u32'; at: number; value: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; length: number };

/** Values that break size arithmetic: zero, one, sign bits, the maximum, 10^5. */
const INTERESTING_U32 = [0, 1, 2, 255, 256, 0x7fff, 0xffff, 100_000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

/** A mutation; positions are taken modulo the buffer's length when applied. */
export function mutationArb(): fc.Arbitrary<Mutation> {
  const at = fc.nat({ max: 1 << 16 });
  return fc.oneof(
    fc.record({ kind: fc.constant('truncate' as const), at }),
    fc.record({ kind: fc.constant('byte' as const), at, value: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ kind: fc.constant('u32' as const), at, value: fc.oneof(fc.constantFrom(...INTERESTING_U32), fc.nat({ max: 0xffffffff })) }),
    fc.record({ kind: fc.constant('insert' as const), at, bytes: fc.uint8Array({ maxLength: 16 }) }),
    fc.record({ kind: fc.constant('delete' as const), at, length: fc.integer({ min: 1, max: 16 }) }),
  );
}

/** Applies mutations in order to a copy of `bytes`; `near` biases positions to the header. */
export function mutate(bytes: Uint8Array, mutations: Mutation[], near = 64): Uint8Array {
  let b = Uint8Array.from(bytes);
  for (const m of mutations) {
    // Half of the positions fall in the first `near` bytes, where the headers are.
    const pos = (n: number) => (n === 0 ? 0 : m.at % 2 === 0 ? (m.at >> 1) % Math.min(n, near) : (m.at >> 1) % n);
    switch (m.kind) {
      case 'truncate':
        b = b.slice(0, pos(b.length + 1));
        break;
      case 'byte':
        if (b.length > 0) b[pos(b.length)] = m.value;
        break;
      case 'u32':
        if (b.length >= 4) {
          const p = pos(b.length - 3);
          const big = m.at % 4 < 2; // big-endian (IDX, PNG) or little-endian (safetensors)
          new DataView(b.buffer).setUint32(p, m.value, !big);
        }
        break;
      case 'insert': {
        const p = pos(b.length + 1);
        const out = new Uint8Array(b.length + m.bytes.length);
        out.set(b.subarray(0, p));
        out.set(m.bytes, p);
        out.set(b.subarray(p), p + m.bytes.length);
        b = out;
        break;
      }
      case 'delete': {
        const p = pos(b.length + 1);
        b = Uint8Array.from([...b.subarray(0, p), ...b.subarray(p + m.length)]);
        break;
      }
    }
  }
  return b;
}

/** A valid file from `valid`, then up to `max` mutations (none in about a quarter of cases). */
export function mutated(valid: fc.Arbitrary<Uint8Array>, max = 4, near = 64): fc.Arbitrary<Uint8Array> {
  return fc.tuple(valid, fc.array(mutationArb(), { maxLength: max })).map(([b, ms]) => mutate(b, ms, near));
}

/** n bytes from a seed (mulberry32): large random payloads without generating each byte. */
export function seededBytes(seed: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (t ^ (t >>> 14)) & 0xff;
  }
  return out;
}
