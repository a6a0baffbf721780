// Coverage-guided fuzzing without a native fuzzer (Jazzer.js's prebuilt binary needs a
// newer glibc than Debian 12's): V8's block coverage, read after every input through the
// inspector, decides which inputs join the corpus, as libFuzzer's edge counters do. The
// corpus starts from the target's fast-check generator; each step mutates one corpus
// entry (bytes of binary fields, UTF-8 bytes of strings, numbers, one field of a record)
// and keeps it when it reaches a block, or a block count bucket, not seen before.
import { Session } from 'node:inspector';
import fc from 'fast-check';
import { mutate, type Mutation } from './property.ts';
import type { FuzzTarget } from './targets.ts';

export interface GuidedResult {
  iterations: number;
  corpus: number;
  features: number;
  finding?: { error: string; input: unknown };
}

type Rng = () => number;

function mulberry32(seed: number): Rng {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

const INTERESTING = [0, 1, -1, 2, 255, 256, 65535, 100_000, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 53, 0.5, NaN, Infinity];

function randomMutation(rng: Rng): Mutation {
  const at = Math.floor(rng() * 65536);
  const k = Math.floor(rng() * 5);
  if (k === 0) return { kind: 'truncate', at };
  if (k === 1) return { kind: 'byte', at, value: Math.floor(rng() * 256) };
  if (k === 2) return { kind: 'u32', at, value: rng() < 0.5 ? INTERESTING[Math.floor(rng() * 12)] >>> 0 : Math.floor(rng() * 2 ** 32) };
  if (k === 3) return { kind: 'insert', at, bytes: Uint8Array.from({ length: 1 + Math.floor(rng() * 8) }, () => Math.floor(rng() * 256)) };
  return { kind: 'delete', at, length: 1 + Math.floor(rng() * 8) };
}

function mutateBytes(b: Uint8Array, rng: Rng): Uint8Array {
  const n = 1 + Math.floor(rng() * 3);
  return mutate(
    b,
    Array.from({ length: n }, () => randomMutation(rng)),
  );
}

/** A mutant of any generated value: one binary field, string, number or element changes. */
export function mutateValue(v: unknown, rng: Rng): unknown {
  if (v instanceof Uint8Array) return mutateBytes(v, rng);
  if (typeof v === 'string') return Buffer.from(mutateBytes(Buffer.from(v, 'utf8'), rng)).toString('utf8');
  if (typeof v === 'number') return rng() < 0.5 ? INTERESTING[Math.floor(rng() * INTERESTING.length)] : v + Math.round((rng() - 0.5) * 8);
  if (typeof v === 'boolean') return !v;
  if (Array.isArray(v)) {
    if (v.length === 0) return v;
    const out = [...v];
    const i = Math.floor(rng() * v.length);
    out[i] = mutateValue(v[i], rng);
    return out;
  }
  if (v !== null && typeof v === 'object') {
    const keys = Object.keys(v);
    if (keys.length === 0) return v;
    const k = keys[Math.floor(rng() * keys.length)];
    return { ...(v as Record<string, unknown>), [k]: mutateValue((v as Record<string, unknown>)[k], rng) };
  }
  return v;
}

/** libFuzzer's hit-count buckets: 1, 2, 3, 4-7, 8-15, 16-31, 32-127, 128+. */
function bucket(count: number): number {
  if (count <= 3) return count;
  if (count < 8) return 4;
  if (count < 16) return 5;
  if (count < 32) return 6;
  return count < 128 ? 7 : 8;
}

interface Range {
  startOffset: number;
  endOffset: number;
  count: number;
}
interface Coverage {
  result: { url: string; functions: { ranges: Range[] }[] }[];
}

/** Runs `target` for `seconds` (after `initial` generated inputs), keeping inputs that reach new blocks of src/. */
export function guidedFuzz(target: FuzzTarget, seconds: number, seed: number, initial = 200): GuidedResult {
  const session = new Session();
  session.connect();
  // The main-thread inspector answers synchronously: the callbacks run inside post().
  const post = <T>(method: string, params?: object): T => {
    let out: T | undefined;
    let failure: Error | null = null;
    session.post(method, params ?? {}, (err, res) => {
      failure = err;
      out = res as T;
    });
    if (failure) throw failure;
    return out as T;
  };
  post('Profiler.enable');
  post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });
  const seen = new Set<string>();
  const novel = (): boolean => {
    const cov = post<Coverage>('Profiler.takePreciseCoverage'); // also resets the counters
    let fresh = false;
    for (const script of cov.result) {
      if (!script.url.includes('/src/')) continue;
      for (const fn of script.functions) {
        if (fn.ranges[0]?.count === 0) continue; // not called by this input
        for (const r of fn.ranges) {
          const key = `${script.url}:${r.startOffset}:${r.endOffset}:${bucket(r.count)}`;
          if (!seen.has(key)) {
            seen.add(key);
            fresh = true;
          }
        }
      }
    }
    return fresh;
  };
  const rng = mulberry32(seed);
  const corpus: unknown[] = [];
  let deadline = Infinity;
  let iterations = 0;
  const tryInput = (input: unknown): GuidedResult['finding'] | undefined => {
    iterations++;
    try {
      target.run(input);
    } catch (e) {
      return { error: `${(e as Error).name}: ${(e as Error).message}`, input };
    }
    if (novel()) corpus.push(input);
    return undefined;
  };
  novel(); // drop what loading the modules covered
  try {
    for (const input of fc.sample(target.arbitrary, { seed, numRuns: initial })) {
      const finding = tryInput(input);
      if (finding) return { iterations, corpus: corpus.length, features: seen.size, finding };
    }
    if (corpus.length === 0) corpus.push(...fc.sample(target.arbitrary, { seed: seed + 1, numRuns: 10 }));
    // The time runs from here: starting block coverage recompiles every function, slowly at first.
    deadline = performance.now() + seconds * 1000;
    while (performance.now() < deadline) {
      // Newer entries (found later, usually deeper) are picked more often.
      const pick = corpus[Math.floor(corpus.length * Math.sqrt(rng()))];
      let input = mutateValue(pick, rng);
      for (let extra = Math.floor(rng() * 3); extra > 0; extra--) input = mutateValue(input, rng);
      const finding = tryInput(input);
      if (finding) return { iterations, corpus: corpus.length, features: seen.size, finding };
    }
  } finally {
    post('Profiler.stopPreciseCoverage');
    session.disconnect();
  }
  return { iterations, corpus: corpus.length, features: seen.size };
}
