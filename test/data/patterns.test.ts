// Patterns: the paper's definitions, numpy-exact 3-channel results, custom patterns, and
// the property that patterns stay in [0,1] and change only the pixels they should.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../src/util/errors.ts';
import { encodePng } from '../../src/util/png.ts';
import { RandomState } from '../../src/data/numpyRandom.ts';
import type { Dataset } from '../../src/data/dataset.ts';
import {
  applyPattern,
  applyPatternToIndices,
  BUILTIN_PATTERNS,
  makePattern,
  noiseImage,
  patternNorm,
  type ImageShape,
  type Pattern,
} from '../../src/data/patterns.ts';
import { loadNumpyGolden, sha256Of, type Golden } from './golden.ts';
import { tempDir } from '../helpers.ts';

const golden = loadNumpyGolden();
const GRAY: ImageShape = { height: 28, width: 28, channels: 1 };
const RGB: ImageShape = { height: 32, width: 32, channels: 3 };
const dir = tempDir('spurlab-patterns-');

function setPositions(p: Pattern): number[] {
  assert.equal(p.effect.kind, 'set');
  return p.effect.kind === 'set' ? Array.from(p.effect.indices) : [];
}

function hwc(shape: ImageShape, rows: number[], cols: number[]): number[] {
  const out: number[] = [];
  for (const r of rows) for (const c of cols) for (let ch = 0; ch < shape.channels; ch++) out.push((r * shape.width + c) * shape.channels + ch);
  return out.sort((a, b) => a - b);
}

const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

function assertUserError(fn: () => unknown, ...parts: string[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof UserError, `expected a UserError, got ${e}`);
    for (const p of parts) assert.ok(e.message.includes(p), `message "${e.message}" should contain "${p}"`);
    return true;
  });
}

test('S1, S2, S3 and Co set exactly the protocol rectangles to 1, on 1 and 3 channels', () => {
  for (const shape of [GRAY, RGB]) {
    assert.deepEqual(setPositions(makePattern('S1', shape, 0)), hwc(shape, [0], [0]));
    assert.deepEqual(setPositions(makePattern('S2', shape, 0)), hwc(shape, range(0, 2), range(0, 2)));
    assert.deepEqual(setPositions(makePattern('S3', shape, 0)), hwc(shape, range(0, 4), range(0, 4)));
    assert.deepEqual(setPositions(makePattern('Co', shape, 0)), hwc(shape, range(3, 24), range(13, 15)));
    const p = makePattern('S3', shape, 0);
    assert.ok(p.effect.kind === 'set' && p.effect.values.every((v) => v === 1));
  }
});

test('reference ids and case variants are aliases', () => {
  const pairs: [string, string][] = [
    ['v1', 'S1'],
    ['v3', 'S2'],
    ['v8', 'S3'],
    ['v18', 'R1'],
    ['v19', 'R2'],
    ['v20', 'R3'],
    ['v30', 'Co'],
    ['s3', 'S3'],
    ['core', 'Co'],
    ['CO', 'Co'],
  ];
  for (const [alias, name] of pairs) {
    const p = makePattern(alias, GRAY, 3);
    assert.equal(p.name, name);
    assert.deepEqual(p, makePattern(name, GRAY, 3));
  }
  assert.deepEqual(
    BUILTIN_PATTERNS.map((p) => p.id),
    ['v1', 'v3', 'v8', 'v18', 'v19', 'v20', 'v30'],
  );
});

test('R1, R2, R3 add 0.25, 0.5, 1 times the seed noise image u = rand(H, W, C)', () => {
  for (const [name, scale] of [
    ['R1', 0.25],
    ['R2', 0.5],
    ['R3', 1],
  ] as const) {
    const p = makePattern(name, RGB, 12345);
    assert.ok(p.effect.kind === 'noise');
    assert.equal(p.effect.scale, scale);
    assert.deepEqual(p.effect.noise, new RandomState(12345).rand(32, 32, 3));
  }
});

test('3-channel patterns match numpy bit for bit (reference add_colored_spurious_correlation)', () => {
  const g = golden.colored as Golden;
  const bytes = new RandomState(7).randint(0, 256, 4 * 32 * 32 * 3);
  for (const c of g.cases as Golden[]) {
    const images = Float32Array.from(bytes, (b) => b / 255);
    const p = makePattern(c.version, RGB, c.seed);
    for (let i = 0; i < 4; i++) applyPattern(p, images.subarray(i * 3072, (i + 1) * 3072));
    assert.equal(sha256Of(images), c.sha256, `${c.version}`);
  }
});

test('noise:l2=c scales u to l2 norm c; noise:scale=s multiplies it', () => {
  const p = makePattern('noise:l2=3.5', GRAY, 0);
  assert.ok(p.effect.kind === 'noise');
  const { noise, scale } = p.effect;
  assert.ok(Math.abs(Math.sqrt(noise.reduce((a, v) => a + (scale * v) ** 2, 0)) - 3.5) < 1e-12);
  const zero = new Float32Array(784); // no clipping from below; 3.5 / ||u|| < 1 so none above
  applyPattern(p, zero);
  assert.ok(Math.abs(Math.hypot(...zero) - 3.5) < 1e-5);
  const s = makePattern('noise:scale=0.25', GRAY, 4);
  assert.deepEqual(s.effect, makePattern('R1', GRAY, 4).effect);
  assert.equal(s.name, 'noise:scale=0.25');
  assertUserError(() => makePattern('noise:l2=-1', GRAY, 0), 'noise:l2=-1', 'non-negative number');
  assertUserError(() => makePattern('noise:l2=abc', GRAY, 0), '"abc"');
});

test('property: patterns never leave [0,1] and change only the intended pixels', () => {
  const rs = new RandomState(2024);
  const specs = ['S1', 'S2', 'S3', 'Co', 'R1', 'R2', 'R3', 'noise:l2=9', '[{"row":2,"col":5,"height":3,"width":4,"value":0.3}]'];
  for (let trial = 0; trial < 30; trial++) {
    const shape = trial % 2 === 0 ? GRAY : RGB;
    const size = shape.height * shape.width * shape.channels;
    // Images with many exact 0s and 1s, where clipping and "already set" cases live.
    const x = Float32Array.from({ length: size }, () => {
      const r = rs.random();
      return r < 0.3 ? 0 : r < 0.5 ? 1 : Math.fround(rs.random());
    });
    for (const spec of specs) {
      const p = makePattern(spec, shape, trial);
      const y = x.slice();
      applyPattern(p, y);
      for (let j = 0; j < size; j++) assert.ok(y[j] >= 0 && y[j] <= 1, `${spec}: pixel ${j} = ${y[j]}`);
      if (p.effect.kind === 'set') {
        const set = new Map<number, number>();
        p.effect.indices.forEach((idx, k) => set.set(idx, (p.effect as { values: Float32Array }).values[k]));
        for (let j = 0; j < size; j++) assert.equal(y[j], set.has(j) ? set.get(j) : x[j], `${spec}: pixel ${j}`);
      } else {
        const { noise, scale } = p.effect;
        for (let j = 0; j < size; j++) assert.equal(y[j], Math.fround(Math.min(1, Math.max(0, x[j] + scale * noise[j]))), `${spec}: pixel ${j}`);
      }
    }
  }
});

test('custom patterns: patches file, inline JSON, JSON mask, PNG masks (gray, RGBA)', () => {
  const patches = join(dir, 'patches.json');
  writeFileSync(
    patches,
    JSON.stringify({
      patches: [
        { row: 30, col: 0, height: 2, width: 2, value: [1, 0, 0.5] },
        { row: 31, col: 1, value: 0 },
      ],
    }),
  );
  const p = makePattern(patches, RGB, 0);
  assert.equal(p.name, `custom:${patches}`);
  assert.ok(p.effect.kind === 'set');
  const pos = (r: number, c: number, ch: number) => (r * 32 + c) * 3 + ch;
  const got = new Map(Array.from(p.effect.indices, (idx, k) => [idx, (p.effect as { values: Float32Array }).values[k]]));
  assert.equal(got.size, 12);
  assert.equal(got.get(pos(30, 0, 0)), 1);
  assert.equal(got.get(pos(30, 0, 2)), 0.5);
  assert.equal(got.get(pos(31, 1, 0)), 0, 'the later patch wins');

  const inline = makePattern('[{"row":0,"col":27,"value":1}]', GRAY, 0);
  assert.deepEqual(setPositions(inline), [27]);

  const mask = Array.from({ length: 28 }, (_, r) => Array.from({ length: 28 }, (_, c) => (r === c ? 1 : 0)));
  const maskFile = join(dir, 'diag.json');
  writeFileSync(maskFile, JSON.stringify({ mask, value: 0.5 }));
  const diag = makePattern(maskFile, GRAY, 0);
  assert.deepEqual(
    setPositions(diag),
    range(0, 27).map((i) => i * 28 + i),
  );

  const gray = new Uint8Array(28 * 28);
  gray[5 * 28 + 6] = 255;
  gray[0] = 51;
  const grayPng = join(dir, 'gray.png');
  writeFileSync(grayPng, encodePng({ width: 28, height: 28, channels: 1, data: gray }));
  const gp = makePattern(grayPng, GRAY, 0);
  assert.ok(gp.effect.kind === 'set');
  assert.deepEqual(Array.from(gp.effect.indices), [0, 5 * 28 + 6]);
  assert.deepEqual(Array.from(gp.effect.values), [Math.fround(0.2), 1]);

  const rgba = new Uint8Array(32 * 32 * 4);
  rgba.set([0, 0, 0, 255], (2 * 32 + 3) * 4); // opaque black: set to 0
  const rgbaPng = join(dir, 'rgba.png');
  writeFileSync(rgbaPng, encodePng({ width: 32, height: 32, channels: 4, data: rgba }));
  const rp = makePattern(rgbaPng, RGB, 0);
  assert.ok(rp.effect.kind === 'set');
  assert.deepEqual(
    Array.from(rp.effect.indices),
    [0, 1, 2].map((ch) => pos(2, 3, ch)),
  );
  assert.deepEqual(Array.from(rp.effect.values), [0, 0, 0]);
});

test('bad custom patterns name the file or value', () => {
  const write = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  assertUserError(() => makePattern('triangle', GRAY, 0), 'unknown pattern "triangle"', 'S1, S2, S3');
  assertUserError(() => makePattern(join(dir, 'none.json'), GRAY, 0), 'none.json', 'pattern file not found');
  const broken = write('broken.json', '{"patches": [');
  assertUserError(() => makePattern(broken, GRAY, 0), broken, 'invalid JSON');
  const outside = write('outside.json', '[{"row":26,"col":0,"height":5,"width":1}]');
  assertUserError(() => makePattern(outside, GRAY, 0), outside, 'patch 0', 'rows 26..30', 'do not fit in a 28x28 image');
  const channels = write('channels.json', '[{"row":0,"col":0,"value":[1,0]}]');
  assertUserError(() => makePattern(channels, RGB, 0), channels, 'value has 2 entries', 'one per channel (3)');
  const big = write('big.json', '[{"row":0,"col":0,"value":2}]');
  assertUserError(() => makePattern(big, GRAY, 0), big, 'value 2 must be a number in [0, 1]');
  const maskSize = write('mask.json', '{"mask": [[1, 0], [0, 1]]}');
  assertUserError(() => makePattern(maskSize, GRAY, 0), maskSize, '28 rows of 28 entries');
  const png = join(dir, 'small.png');
  writeFileSync(png, encodePng({ width: 4, height: 4, channels: 1, data: new Uint8Array(16) }));
  assertUserError(() => makePattern(png, GRAY, 0), png, 'mask is 4x4, expected the image size 28x28');
  const color = new Uint8Array(28 * 28 * 3);
  color.set([255, 0, 0], 0);
  const colorPng = join(dir, 'red.png');
  writeFileSync(colorPng, encodePng({ width: 28, height: 28, channels: 3, data: color }));
  assertUserError(() => makePattern(colorPng, GRAY, 0), colorPng, 'colour 255,0,0', '1 channel(s)');
  const notPng = write('fake.png', 'hello');
  assertUserError(() => makePattern(notPng, GRAY, 0), notPng, 'not a PNG');
});

function toyDataset(images: Float32Array, shape: ImageShape): Dataset {
  const n = images.length / (shape.height * shape.width * shape.channels);
  return { name: 'toy', split: 'test', images, labels: new Int32Array(n), n, ...shape, numClasses: 10 };
}

test('patternNorm is the mean l2 change; applyPatternToIndices touches only those images', () => {
  const shape: ImageShape = { height: 4, width: 4, channels: 1 };
  const images = new Float32Array(3 * 16);
  images[16] = 1; // image 1 already has pixel (0,0) on: S1 changes nothing there
  const d = toyDataset(images, shape);
  const s1 = makePattern('S1', shape, 0);
  assert.equal(patternNorm(s1, d), 2 / 3);
  applyPatternToIndices(s1, d, [2]);
  assert.deepEqual([d.images[0], d.images[16], d.images[32]], [0, 1, 1]);
  assert.throws(() => applyPatternToIndices(s1, d, [3]), /index 3 outside 0..2/);
  const u = noiseImage(shape, 1);
  const r3 = makePattern('R3', shape, 1);
  const zeros = toyDataset(new Float32Array(16), shape);
  assert.ok(Math.abs(patternNorm(r3, zeros) - Math.hypot(...Array.from(u, (v) => Math.fround(v)))) < 1e-12);
  assertUserError(() => patternNorm(makePattern('S1', GRAY, 0), d), 'made for 28x28x1 images', 'toy has 4x4x1');
});
