// Fuzz targets: every parser of user-supplied files, each with a fast-check generator of
// valid files that are then mutated (truncated, bytes and header fields overwritten with
// values that break size arithmetic, bytes inserted and deleted), or of structured JSON
// with hostile values. `run` applies the shared property (property.ts).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { CIFAR10_LAYOUT, CIFAR100_COARSE_LAYOUT, CIFAR100_FINE_LAYOUT, decodeCifar } from '../../src/data/cifar.ts';
import { parseInlineCustomPattern } from '../../src/data/customPatterns.ts';
import { decodeDataBytes } from '../../src/data/fileBytes.ts';
import { idxDataset, parseIdx } from '../../src/data/idx.ts';
import { countSweep, loadSweepSpec, planSweep } from '../../src/experiments/grids/spec.ts';
import { KINDS, KIND_NAMES } from '../../src/experiments/kinds/index.ts';
import { decodeSafetensors, encodeSafetensors, type SafetensorsTensor } from '../../src/store/safetensors.ts';
import { crc32, decodePng, encodePng } from '../../src/util/png.ts';
import { FuzzFinding, mutated, parsesOrRefuses, seededBytes } from './property.ts';

export interface FuzzTarget {
  name: string;
  what: string;
  arbitrary: fc.Arbitrary<unknown>;
  /** Throws a FuzzFinding when the input breaks the property. */
  run(input: unknown): void;
}

function target<T>(name: string, what: string, arbitrary: fc.Arbitrary<T>, run: (input: T) => void): FuzzTarget {
  return { name, what, arbitrary: arbitrary as fc.Arbitrary<unknown>, run: run as (input: unknown) => void };
}

// ---- IDX (MNIST, Fashion-MNIST) ----

function idxBytes(dims: number[], seed: number, maxLabel = 0): Uint8Array {
  const count = dims.reduce((a, b) => a * b, 1);
  const out = new Uint8Array(4 + 4 * dims.length + count);
  out[2] = 0x08;
  out[3] = dims.length;
  dims.forEach((d, i) => new DataView(out.buffer).setUint32(4 + 4 * i, d));
  const body = seededBytes(seed, count);
  out.set(maxLabel > 0 ? body.map((v) => v % maxLabel) : body, 4 + 4 * dims.length);
  return out;
}

const idxPair = fc
  .record({
    n: fc.integer({ min: 0, max: 5 }),
    h: fc.integer({ min: 0, max: 6 }),
    w: fc.integer({ min: 0, max: 6 }),
    channels: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
    seed: fc.nat(),
    labelSpread: fc.constantFrom(10, 11, 256),
  })
  .chain((p) =>
    fc.record({
      images: mutated(fc.constant(idxBytes(p.channels ? [p.n, p.h, p.w, p.channels] : [p.n, p.h, p.w], p.seed))),
      labels: mutated(fc.constant(idxBytes([p.n], p.seed + 1, p.labelSpread)), 2),
      expected: fc.option(fc.constant<[number, number]>([p.h, p.w]), { nil: undefined }),
    }),
  );

const idx = target('idx', 'IDX images + labels (parseIdx, idxDataset)', idxPair, ({ images, labels, expected }) =>
  parsesOrRefuses(['images.idx', 'labels.idx'], () => {
    const spec = {
      name: 'fuzz',
      split: 'train' as const,
      imagesPath: 'images.idx',
      labelsPath: 'labels.idx',
      numClasses: 10,
      expectedShape: expected,
    };
    idxDataset(spec, parseIdx(labels, 'labels.idx'), parseIdx(images, 'images.idx'));
  }),
);

// ---- gzip (data files), then IDX inside ----

// Precomputed: 2 MiB of zeros in 2 KiB of gzip, over the 1 MiB limit the target uses.
const BOMB = gzipSync(new Uint8Array(2 << 20));
const gzipInput = fc.oneof(
  mutated(
    fc.tuple(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 8 }), fc.nat()).map(([n, s, seed]) => gzipSync(idxBytes([n, s, s], seed))),
  ),
  mutated(
    fc.uint8Array({ maxLength: 256 }).map((b) => gzipSync(b)),
    6,
    32,
  ),
  mutated(fc.constant(BOMB), 2, 32),
  fc.uint8Array({ maxLength: 64 }).map((b) => Uint8Array.from([0x1f, 0x8b, ...b])),
);

const gzip = target('gzip', 'gzipped data files (decodeDataBytes, then parseIdx)', gzipInput, (raw) =>
  parsesOrRefuses(['data.gz'], () => parseIdx(decodeDataBytes(raw, 'data.gz', 1 << 20), 'data.gz')),
);

// ---- CIFAR binary ----

const LAYOUTS = [CIFAR10_LAYOUT, CIFAR100_FINE_LAYOUT, CIFAR100_COARSE_LAYOUT];
const cifarInput = fc
  .record({ layout: fc.constantFrom(0, 1, 2), records: fc.integer({ min: 0, max: 3 }), seed: fc.nat(), files: fc.integer({ min: 1, max: 2 }) })
  .chain(({ layout, records, seed, files }) => {
    const l = LAYOUTS[layout];
    const recordSize = l.labelBytes + 3072;
    const file = (k: number) => {
      const b = seededBytes(seed + k, records * recordSize);
      for (let r = 0; r < records; r++) for (let j = 0; j < l.labelBytes; j++) b[r * recordSize + j] %= l.numClasses + 1;
      return b;
    };
    return fc.record({
      layout: fc.constant(layout),
      files: fc.tuple(...Array.from({ length: files }, (_, k) => mutated(fc.constant(file(k)), 3, 8))),
    });
  });

// Parameters of the harness (a layout index, an image shape) are clamped: the guided mode
// mutates every field of an input, and only the files' contents are user input.
const pick = <T>(list: readonly T[], i: number): T => list[Number.isFinite(i) ? Math.abs(Math.trunc(i)) % list.length : 0];

const cifar = target('cifar', 'CIFAR-10/100 binary records (decodeCifar)', cifarInput, ({ layout, files }) =>
  parsesOrRefuses(['batch_0.bin', 'batch_1.bin'], () =>
    decodeCifar(
      files.map((bytes, k) => ({ bytes, source: `batch_${k}.bin` })),
      pick(LAYOUTS, layout),
      'fuzz',
      'train',
    ),
  ),
);

// ---- safetensors ----

const hostileNumber = fc.oneof(
  { arbitrary: fc.nat({ max: 5 }), weight: 6 },
  fc.integer(),
  fc.double(),
  fc.constantFrom(-1, 2 ** 53, 2 ** 64, 1e308, 0.5),
);
const tensorName = fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('__metadata__', '__proto__', 'constructor', 'toString', 'w', ''));
const headerEntry = fc.oneof(
  fc.record({
    dtype: fc.constantFrom('F32', 'F64', 'I32', 'I64', 'U8', 'F16', 'BOOL', 'x', 7),
    shape: fc.oneof(fc.array(hostileNumber, { maxLength: 4 }), fc.jsonValue({ maxDepth: 1 })),
    data_offsets: fc.oneof(fc.tuple(hostileNumber, hostileNumber), fc.array(hostileNumber, { maxLength: 3 }), fc.jsonValue({ maxDepth: 1 })),
  }),
  fc.jsonValue({ maxDepth: 2 }),
);
const forgedHeader = fc.record({
  header: fc.dictionary(tensorName, headerEntry, { maxKeys: 4 }),
  metadata: fc.option(fc.oneof(fc.dictionary(fc.string({ maxLength: 4 }), fc.string({ maxLength: 4 })), fc.jsonValue({ maxDepth: 1 })), {
    nil: undefined,
  }),
  data: fc.uint8Array({ maxLength: 64 }),
  lengthDelta: fc.oneof(fc.constant(0), fc.integer({ min: -4, max: 4 })),
});
function framed({
  header,
  metadata,
  data,
  lengthDelta,
}: {
  header: Record<string, unknown>;
  metadata: unknown;
  data: Uint8Array;
  lengthDelta: number;
}): Uint8Array {
  const doc = metadata === undefined ? header : { ...header, __metadata__: metadata };
  const json = Buffer.from(JSON.stringify(doc));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(Math.max(0, json.length + lengthDelta)), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}
// Named entries rather than fc.dictionary: an own "__proto__" key needs defineProperty.
const validTensors = fc.uniqueArray(
  fc.tuple(
    fc.oneof({ arbitrary: fc.string({ minLength: 1, maxLength: 4 }), weight: 8 }, fc.constantFrom('__proto__', 'constructor', 'hasOwnProperty')),
    fc.record({ dtype: fc.constantFrom('F32', 'F64', 'I32', 'U8' as const), shape: fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }) }),
  ),
  { selector: (t) => t[0], maxLength: 3 },
);
const encoded = validTensors.map((spec) => {
  const tensors: Record<string, SafetensorsTensor> = {};
  // The writer refuses "__proto__" (the round-trip target checks that); the reader gets it forged.
  for (const [name, { dtype, shape }] of spec.filter(([name]) => name !== '__proto__')) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data =
      dtype === 'F32' ? new Float32Array(n) : dtype === 'F64' ? new Float64Array(n) : dtype === 'I32' ? new Int32Array(n) : new Uint8Array(n);
    const value: SafetensorsTensor = { dtype: dtype as SafetensorsTensor['dtype'], shape, data };
    Object.defineProperty(tensors, name, { value, enumerable: true, writable: true, configurable: true });
  }
  return new Uint8Array(encodeSafetensors(tensors));
});
const safetensorsInput = fc.oneof(mutated(encoded, 3, 16), forgedHeader.map(framed), mutated(forgedHeader.map(framed), 2, 16));

const safetensors = target('safetensors', 'safetensors files (decodeSafetensors; every header tensor comes out)', safetensorsInput, (bytes) =>
  parsesOrRefuses(['model.safetensors'], () => {
    const { tensors } = decodeSafetensors(bytes, 'model.safetensors');
    // Parsed: the header was valid JSON, and each of its tensors must be an own key of the result.
    const length = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
    const header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + length)).toString('utf8')) as Record<string, unknown>;
    const names = Object.keys(header).filter((k) => k !== '__metadata__');
    const missing = names.filter((k) => !Object.hasOwn(tensors, k));
    if (missing.length > 0 || Object.keys(tensors).length !== names.length) {
      throw new FuzzFinding(`decodeSafetensors lost tensors ${JSON.stringify(missing)} of ${JSON.stringify(names)}`);
    }
  }),
);

// Writing then reading gives back every tensor, or the writer refuses.
const safetensorsRoundTrip = target(
  'safetensors-roundtrip',
  'safetensors write then read (encodeSafetensors, decodeSafetensors)',
  validTensors,
  (spec) =>
    parsesOrRefuses(['safetensors'], () => {
      if (new Set(spec.map(([name]) => name)).size !== spec.length) return; // a mutant with a name twice
      const tensors: Record<string, SafetensorsTensor> = {};
      for (const [name, { dtype, shape }] of spec) {
        const n = shape.reduce((a, b) => a * b, 1);
        if (!(n <= 4096)) return; // the harness would allocate the tensor itself: outside the target
        const data =
          dtype === 'F32'
            ? Float32Array.from({ length: n }, (_, i) => i + 0.5)
            : dtype === 'F64'
              ? Float64Array.from({ length: n }, (_, i) => -i)
              : dtype === 'I32'
                ? Int32Array.from({ length: n }, (_, i) => i * 7)
                : Uint8Array.from({ length: n }, (_, i) => i);
        Object.defineProperty(tensors, name, { value: { dtype, shape, data }, enumerable: true, writable: true, configurable: true });
      }
      const back = decodeSafetensors(encodeSafetensors(tensors), 'roundtrip.safetensors').tensors;
      for (const [name, t] of spec) {
        const got = Object.hasOwn(back, name) ? back[name] : undefined;
        const want = tensors[name];
        if (
          !got ||
          got.dtype !== t.dtype ||
          JSON.stringify(got.shape) !== JSON.stringify(t.shape) ||
          Buffer.compare(
            Buffer.from(got.data.buffer, got.data.byteOffset, got.data.byteLength),
            Buffer.from(want.data.buffer, want.data.byteOffset, want.data.byteLength),
          ) !== 0
        ) {
          throw new FuzzFinding(`tensor ${JSON.stringify(name)} did not survive a write and read`);
        }
      }
    }),
);

// ---- PNG ----

function pngChunk(type: string, body: Uint8Array): Uint8Array {
  const b = Buffer.alloc(12 + body.length);
  b.writeUInt32BE(body.length, 0);
  b.write(type, 4, 'latin1');
  b.set(body, 8);
  b.writeUInt32BE(crc32(b.subarray(4, 8 + body.length)), 8 + body.length);
  return b;
}
const SIGNATURE = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const encodedPng = fc
  .record({
    width: fc.integer({ min: 1, max: 6 }),
    height: fc.integer({ min: 1, max: 6 }),
    channels: fc.constantFrom(1, 2, 3, 4 as const),
    seed: fc.nat(),
  })
  .map(
    ({ width, height, channels, seed }) =>
      new Uint8Array(encodePng({ width, height, channels: channels as 1 | 2 | 3 | 4, data: seededBytes(seed, width * height * channels) })),
  );
// Chunk by chunk: an IHDR of any fields, palettes, and IDAT holding rows with any filter byte.
const chunkedPng = fc
  .record({
    width: fc.oneof(fc.integer({ min: 0, max: 6 }), fc.constantFrom(100_000, 0xffffffff)),
    height: fc.oneof(fc.integer({ min: 0, max: 6 }), fc.constantFrom(100_000, 0x80000000)),
    depth: fc.constantFrom(8, 8, 8, 1, 16),
    colorType: fc.constantFrom(0, 2, 3, 4, 6, 1, 7),
    interlace: fc.constantFrom(0, 0, 0, 1),
    ihdrLength: fc.constantFrom(13, 13, 13, 0, 8, 12, 14),
    palette: fc.option(fc.uint8Array({ maxLength: 12 }), { nil: undefined }),
    trns: fc.option(fc.uint8Array({ maxLength: 4 }), { nil: undefined }),
    rows: fc.array(fc.uint8Array({ minLength: 1, maxLength: 25 }), { maxLength: 7 }),
    idatSplit: fc.nat({ max: 3 }),
    extra: fc.option(fc.tuple(fc.string({ minLength: 4, maxLength: 4 }), fc.uint8Array({ maxLength: 8 })), { nil: undefined }),
  })
  .map((p) => {
    const ihdr = new Uint8Array(13);
    const v = new DataView(ihdr.buffer);
    v.setUint32(0, p.width);
    v.setUint32(4, p.height);
    ihdr.set([p.depth, p.colorType, 0, 0, p.interlace], 8);
    // rows: a filter byte in 0..5 (5 is invalid) then the row's bytes
    const raw = Uint8Array.from(p.rows.flatMap((r) => [r[0] % 6, ...r.subarray(1)]));
    const z = deflateSync(raw);
    const cut = Math.floor((z.length * p.idatSplit) / 4);
    const chunks = [pngChunk('IHDR', ihdr.subarray(0, Math.min(13, p.ihdrLength)))];
    if (p.extra) chunks.push(pngChunk(p.extra[0], p.extra[1]));
    if (p.palette) chunks.push(pngChunk('PLTE', p.palette));
    if (p.trns) chunks.push(pngChunk('tRNS', p.trns));
    chunks.push(pngChunk('IDAT', z.subarray(0, cut)), pngChunk('IDAT', z.subarray(cut)), pngChunk('IEND', new Uint8Array(0)));
    return Buffer.concat([SIGNATURE, ...chunks]);
  });
const pngInput = fc.record({
  bytes: fc.oneof(mutated(encodedPng, 3, 40), chunkedPng, mutated(chunkedPng, 2, 40)),
  expect: fc.option(fc.record({ width: fc.integer({ min: 1, max: 6 }), height: fc.integer({ min: 1, max: 6 }) }), { nil: undefined }),
});

const png = target('png', 'PNG images and pattern masks (decodePng)', pngInput, ({ bytes, expect }) =>
  parsesOrRefuses(['mask.png'], () => decodePng(bytes, 'mask.png', expect && { ...expect, what: 'mask' })),
);

// ---- custom pattern JSON ----

const cell = fc.oneof(
  { arbitrary: fc.constantFrom(0, 1, true, false, null), weight: 40 },
  fc.constantFrom(2, -1, 0.5, 'x'),
  fc.jsonValue({ maxDepth: 0 }),
);
const patch = fc.oneof(
  {
    arbitrary: fc.record(
      {
        row: hostileNumber,
        col: hostileNumber,
        height: hostileNumber,
        width: hostileNumber,
        value: fc.oneof(
          fc.double({ min: 0, max: 1 }),
          fc.array(fc.double({ min: 0, max: 1 }), { minLength: 1, maxLength: 3 }),
          fc.double(),
          fc.jsonValue({ maxDepth: 1 }),
        ),
      },
      { requiredKeys: ['row', 'col'] },
    ),
    weight: 6,
  },
  fc.jsonValue({ maxDepth: 1 }),
);
const patternDoc = fc.oneof(
  fc.array(patch, { maxLength: 4 }),
  fc.record({ patches: fc.oneof(fc.array(patch, { maxLength: 3 }), fc.jsonValue({ maxDepth: 1 })) }),
  fc.record({
    mask: fc.oneof(
      { arbitrary: fc.array(fc.array(cell, { minLength: 4, maxLength: 4 }), { minLength: 4, maxLength: 4 }), weight: 3 },
      fc.array(fc.array(cell, { minLength: 3, maxLength: 5 }), { minLength: 3, maxLength: 5 }),
      fc.jsonValue({ maxDepth: 2 }),
    ),
    value: fc.option(fc.oneof(fc.double(), fc.array(fc.double({ min: 0, max: 1 }), { maxLength: 4 })), { nil: undefined }),
  }),
  fc.jsonValue({ maxDepth: 2 }),
);
const patternInput = fc.record({
  text: fc.oneof({ arbitrary: patternDoc.map((d) => JSON.stringify(d) ?? 'null'), weight: 5 }, fc.string({ maxLength: 40 })),
  channels: fc.constantFrom(1, 3),
});

const patternJson = target('pattern-json', 'custom pattern JSON (parseInlineCustomPattern)', patternInput, ({ text, channels }) =>
  parsesOrRefuses(['pattern JSON'], () => parseInlineCustomPattern(text, { height: 4, width: 4, channels: pick([1, 3], channels === 3 ? 1 : 0) })),
);

// ---- sweep JSON ----

// Every key any run kind accepts, and the kind key itself.
const GRID_KEYS = ['kind', ...new Set(KINDS.flatMap((k) => k.keys))];

const gridScalar = fc.oneof(
  fc.constantFrom(
    'mnist',
    'fashion',
    'cifar10',
    'cifar100',
    'bogus',
    'S1',
    'S3',
    'noise:l2=1',
    'noise:l2=x',
    '[]',
    'LargeMLP',
    'CNN002',
    'adam',
    'sgd',
    ...KIND_NAMES,
  ),
  fc.constantFrom(0, 1, 3, 100, 9000, -1, 1.5, 1e-3, 1e308, true, false, null),
  fc.string({ maxLength: 6 }),
  fc.double(),
);
const gridValue = fc.oneof(gridScalar, fc.array(gridScalar, { maxLength: 3 }), fc.jsonValue({ maxDepth: 2 }));
const grid = fc.oneof(
  fc.dictionary(fc.oneof(fc.constantFrom(...GRID_KEYS), fc.string({ maxLength: 5 })), gridValue, { maxKeys: 8 }),
  fc.record(
    { dataset: gridValue, pattern: gridValue, n: gridValue, target: gridValue, seed: gridValue, model: gridValue },
    { requiredKeys: ['dataset', 'pattern', 'n', 'target', 'seed', 'model'] },
  ),
);
// A valid grid with a few of its keys overridden (or added) by hostile values.
const one = <T>(...values: T[]) => fc.oneof(fc.constantFrom(...values), fc.array(fc.constantFrom(...values), { minLength: 1, maxLength: 2 }));
const validGrid = fc.record({
  dataset: one('mnist', 'fashion', 'cifar10'),
  pattern: one('S1', 'S3', 'Co', 'noise:l2=1'),
  n: one(0, 3, 100),
  target: one(0, 1, 9),
  seed: one(0, 1),
  model: one('LargeMLP', 'CNN002'),
});
const perturbedGrid = fc
  .tuple(
    validGrid,
    fc.dictionary(fc.oneof({ arbitrary: fc.constantFrom(...GRID_KEYS), weight: 4 }, fc.string({ maxLength: 5 })), gridValue, { maxKeys: 2 }),
  )
  .map(([g, extra]) => ({ ...g, ...extra }));
const sweepDoc = fc.oneof(
  {
    arbitrary: fc.record(
      {
        name: fc.oneof(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 0 })),
        description: fc.string({ maxLength: 6 }),
        grids: fc.oneof(
          { arbitrary: fc.array(fc.oneof({ arbitrary: perturbedGrid, weight: 3 }, grid), { maxLength: 3 }), weight: 5 },
          fc.jsonValue({ maxDepth: 1 }),
        ),
      },
      { requiredKeys: ['grids'] },
    ),
    weight: 5,
  },
  fc.jsonValue({ maxDepth: 2 }),
);
const sweepInput = fc.oneof(
  sweepDoc.map((d) => JSON.stringify(d) ?? 'null'),
  fc.string({ maxLength: 40 }),
);

let sweepDir: string | undefined;
/** Grids expand only up to this many points per input (case 2's huge grids are not this target's). */
const MAX_SWEEP_POINTS = 2000;

const sweep = target('sweep', 'sweep files (loadSweepSpec, countSweep, planSweep)', sweepInput, (text) => {
  sweepDir ??= mkdtempSync(join(tmpdir(), 'spurlab-fuzz-sweep-'));
  const path = join(sweepDir, 'sweep.json');
  writeFileSync(path, text);
  // Errors from planSweep name the sweep's "name", which the file sets: any UserError.
  parsesOrRefuses(null, () => {
    const spec = loadSweepSpec(path);
    if (countSweep(spec) <= MAX_SWEEP_POINTS) planSweep(spec);
  });
});

export const TARGETS: FuzzTarget[] = [idx, gzip, cifar, safetensors, safetensorsRoundTrip, png, patternJson, sweep];

export function findTarget(name: string): FuzzTarget {
  const t = TARGETS.find((x) => x.name === name);
  if (!t) throw new Error(`unknown fuzz target "${name}", expected one of ${TARGETS.map((x) => x.name).join(', ')}`);
  return t;
}
