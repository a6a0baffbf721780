// Spurious data sets on the real MNIST (and Fashion-MNIST when installed): the same
// indices and patterned pixels as the reference's numpy code, names and options giving
// identical data, and the bad-input errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { UserError } from '../../src/util/errors.ts';
import { classCounts, imageSize, type Dataset } from '../../src/data/dataset.ts';
import { loadDataset } from '../../src/data/datasets.ts';
import { applyPattern, makePattern } from '../../src/data/patterns.ts';
import {
  chooseSpuriousIndices,
  makeSpuriousDataset,
  parseSpuriousName,
  spuriousName,
  specFromOptions,
  type SpuriousSpec,
} from '../../src/data/spurious.ts';
import { loadNumpyGolden, sha256Of, type Golden } from './golden.ts';

const golden = loadNumpyGolden();
const hasFashion = existsSync('/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz') && golden.fashion !== undefined;

function assertUserError(fn: () => unknown, ...parts: string[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof UserError, `expected a UserError, got ${e}`);
    for (const p of parts) assert.ok(e.message.includes(p), `message "${e.message}" should contain "${p}"`);
    return true;
  });
}

function spec(
  dataset: SpuriousSpec['dataset'],
  pattern: string,
  n: number,
  target: number,
  seed: number,
  targetB: number | null = null,
): SpuriousSpec {
  return { dataset, pattern, n, target, targetB, seed };
}

test('reference names parse into specs and print back', () => {
  assert.deepEqual(parseSpuriousName('mnistv8-3-0-0'), spec('mnist', 'S3', 3, 0, 0));
  assert.deepEqual(parseSpuriousName('mnist-3-0-0'), spec('mnist', 'S1', 3, 0, 0), 'no id means v1, as in the reference');
  assert.deepEqual(parseSpuriousName('fashionv20-100-9-4'), spec('fashion', 'R3', 100, 9, 4));
  assert.deepEqual(parseSpuriousName('cifar10v30-5-3-1'), spec('cifar10', 'Co', 5, 3, 1));
  assert.deepEqual(parseSpuriousName('cifar100v8-5-42-1'), spec('cifar100', 'S3', 5, 42, 1));
  assert.deepEqual(parseSpuriousName('twoclassmnistv8-3-0-1-0'), spec('mnist', 'S3', 3, 0, 0, 1));
  assert.deepEqual(parseSpuriousName('mnistS2-1-7-2'), spec('mnist', 'S2', 1, 7, 2));
  for (const name of ['mnistv8-3-0-0', 'twoclassmnistv19-20-3-8-1', 'cifar10v1-1-0-0']) {
    assert.equal(spuriousName(parseSpuriousName(name)), name);
  }
  assert.equal(spuriousName(specFromOptions({ dataset: 'mnist', pattern: 'noise:l2=3', n: 3, target: 0, seed: 0 })), 'mnist[noise:l2=3]-3-0-0');
});

test('options resolve to the same spec as the name (aliases included)', () => {
  assert.deepEqual(specFromOptions({ dataset: 'MNIST', pattern: 'v8', n: 3, target: 0, seed: 0 }), parseSpuriousName('mnistv8-3-0-0'));
  assert.deepEqual(specFromOptions({ dataset: 'fashion-mnist', pattern: 'r1', n: 5, target: 2, seed: 1 }), parseSpuriousName('fashionv18-5-2-1'));
  assert.deepEqual(
    specFromOptions({ dataset: 'mnist', pattern: 'S3', n: 3, target: 0, targetB: 1, seed: 0 }),
    parseSpuriousName('twoclassmnistv8-3-0-1-0'),
  );
});

test('bad names and options: unknown data set or pattern, malformed, target out of range', () => {
  assertUserError(() => parseSpuriousName('imagenetv8-3-0-0'), 'unknown data set "imagenet"', 'mnist, fashion, cifar10');
  assertUserError(() => parseSpuriousName('mnistv99-3-0-0'), 'unknown pattern "v99"', 'mnistv99-3-0-0', 'v1, v3, v8');
  assertUserError(() => parseSpuriousName('mnistv8-3-0'), 'cannot parse data set name "mnistv8-3-0"', 'mnistv8-3-0-0');
  assertUserError(() => parseSpuriousName('mnistv8-3-0-1-0'), 'too many numbers');
  assertUserError(() => parseSpuriousName('twoclassmnistv8-3-0-0'), 'twoclass name needs');
  assertUserError(() => parseSpuriousName('mnistv8-3-10-0'), 'target: got 10', 'mnist in 0..9');
  assertUserError(() => parseSpuriousName('twoclassmnistv8-3-4-4-0'), 'target-b: got 4', 'different from target 4');
  assertUserError(() => parseSpuriousName('mnistv8-3-0-4294967296'), 'seed: got 4294967296');
  assertUserError(() => specFromOptions({ dataset: 'svhn', pattern: 'S3', n: 3, target: 0, seed: 0 }), 'unknown data set "svhn"');
  assertUserError(() => specFromOptions({ dataset: 'mnist', pattern: 'S3', n: -1, target: 0, seed: 0 }), 'n: got -1');
  assertUserError(() => makeSpuriousDataset({ dataset: 'mnist', pattern: 'blob', n: 3, target: 0, seed: 0 }), 'unknown pattern "blob"');
});

test('real MNIST: sizes, file order and class counts', () => {
  const t0 = performance.now();
  const { train, test: testSplit } = loadDataset('mnist');
  const ms = performance.now() - t0;
  assert.deepEqual([train.n, train.height, train.width, train.channels, testSplit.n], [60000, 28, 28, 1, 10000]);
  assert.equal(train.images.length, 60000 * 784);
  assert.deepEqual(classCounts(train), golden.mnist.trainClassCounts);
  assert.equal(classCounts(train)[0], 5923);
  assert.equal(train.labels[0], 5, 'the first MNIST training digit is a 5');
  assert.equal(testSplit.labels[0], 7, 'the first MNIST test digit is a 7');
  assert.ok(ms < 5000, `loading MNIST took ${ms.toFixed(0)} ms`);
});

function checkChoiceGolden(train: Dataset, cases: Golden[], what: string): void {
  for (const c of cases) {
    const got = chooseSpuriousIndices(train, spec(train.name as SpuriousSpec['dataset'], 'S3', c.n, c.target, c.seed));
    const label = `${what} class ${c.target}, n ${c.n}, seed ${c.seed}`;
    if (c.indices) assert.deepEqual(got, c.indices, label);
    else {
      assert.deepEqual(got.slice(0, 10), c.head, label);
      assert.equal(
        got.reduce((acc, v, i) => acc + v * i, 0),
        c.weighted,
        label,
      );
    }
  }
}

/** The reference's patterned images for a name, by pattern application on copies. */
function checkPatternedGolden(train: Dataset, cases: Golden[]): void {
  const size = imageSize(train);
  for (const c of cases) {
    const s = parseSpuriousName(c.name);
    const indices = chooseSpuriousIndices(train, s);
    assert.deepEqual(indices, c.indices, c.name);
    const pattern = makePattern(s.pattern, train, s.seed);
    const out = new Float32Array(indices.length * size);
    indices.forEach((idx, k) => {
      const img = out.subarray(k * size, (k + 1) * size);
      img.set(train.images.subarray(idx * size, (idx + 1) * size));
      applyPattern(pattern, img);
    });
    assert.equal(sha256Of(out), c.sha256, c.name);
  }
}

test('real MNIST: spurious indices for every class, n and seed match numpy', () => {
  checkChoiceGolden(loadDataset('mnist').train, golden.mnist.choice, 'mnist');
});

test('real MNIST: patterned images of every pattern match numpy bit for bit', () => {
  checkPatternedGolden(loadDataset('mnist').train, golden.mnist.patterned);
});

test('mnistv8-3-0-0 end to end, and the same data from options', () => {
  const byName = makeSpuriousDataset('mnistv8-3-0-0');
  const expected = (golden.mnist.patterned as Golden[]).find((c) => c.name === 'mnistv8-3-0-0');
  assert.deepEqual(byName.spuriousIndices, expected?.indices);
  assert.equal(byName.name, 'mnistv8-3-0-0');
  assert.equal(byName.noise, null);
  const clean = loadDataset('mnist').train;
  const size = 784;
  const bytesOf = (d: Dataset, i: number) => Buffer.from(d.images.buffer, d.images.byteOffset + i * size * 4, size * 4);
  const changed: number[] = [];
  for (let i = 0; i < clean.n; i++) if (!bytesOf(byName.train, i).equals(bytesOf(clean, i))) changed.push(i);
  assert.deepEqual(
    changed,
    [...byName.spuriousIndices].sort((a, b) => a - b),
    'exactly the chosen images change',
  );
  for (const i of byName.spuriousIndices) assert.equal(byName.train.images[i * size + 4 * 28 + 4], 1);
  assert.equal(byName.test, loadDataset('mnist').test, 'test split is the clean one');

  const byOptions = makeSpuriousDataset({ dataset: 'mnist', pattern: 'S3', n: 3, target: 0, seed: 0 });
  assert.deepEqual(byOptions.spec, byName.spec);
  assert.deepEqual(byOptions.spuriousIndices, byName.spuriousIndices);
  assert.equal(Buffer.compare(Buffer.from(byOptions.train.images.buffer), Buffer.from(byName.train.images.buffer)), 0);
});

test('noise patterns: R1 from name and options are identical, noise image exposed', () => {
  const a = makeSpuriousDataset('mnistv18-3-0-3');
  const b = makeSpuriousDataset({ dataset: 'mnist', pattern: 'R1', n: 3, target: 0, seed: 3 });
  assert.ok(a.noise && b.noise);
  assert.deepEqual(a.noise, b.noise);
  const size = 784;
  const pick = (d: Dataset, idx: number[]) => Float32Array.from(idx.flatMap((i) => Array.from(d.images.subarray(i * size, (i + 1) * size))));
  const expected = (golden.mnist.patterned as Golden[]).find((c) => c.name === 'mnistv18-3-0-3');
  assert.equal(sha256Of(pick(a.train, a.spuriousIndices)), expected?.sha256);
  assert.equal(Buffer.compare(Buffer.from(a.train.images.buffer), Buffer.from(b.train.images.buffer)), 0);
});

test('two-class: one RandomState draws n for a, then n for b', () => {
  const g = golden.mnist.twoClass as Golden;
  const d = makeSpuriousDataset(g.name);
  assert.deepEqual(d.spuriousIndices, g.indices);
  assert.deepEqual(d.spec, spec('mnist', 'S3', 5, 3, 0, 8));
});

test('n = 0 is the clean data; n larger than the class is a UserError', () => {
  const d = makeSpuriousDataset('mnistv8-0-0-0');
  assert.deepEqual(d.spuriousIndices, []);
  assert.equal(d.train, loadDataset('mnist').train);
  assertUserError(() => makeSpuriousDataset('mnistv8-6000-5-0'), 'n: got 6000', 'class 5 of mnist', '5421 training images');
});

test('Fashion-MNIST (gzipped IDX): counts, indices and patterned images match numpy', {
  skip: !hasFashion && 'dataset-fashion-mnist not installed',
}, () => {
  const { train, test: testSplit } = loadDataset('fashion');
  assert.deepEqual([train.n, testSplit.n], [60000, 10000]);
  assert.deepEqual(classCounts(train), golden.fashion.trainClassCounts);
  checkChoiceGolden(
    train,
    (golden.fashion.choice as Golden[]).filter((c) => c.seed === 0),
    'fashion',
  );
  checkPatternedGolden(train, golden.fashion.patterned);
});
