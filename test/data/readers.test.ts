// IDX and CIFAR readers on small synthetic files (plain and gzip), and every bad-input
// case: each must be a UserError whose message names the file and what was expected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { UserError } from '../../src/util/errors.ts';
import { parseIdx, readIdxDataset } from '../../src/data/idx.ts';
import { CIFAR100_COARSE_LAYOUT, CIFAR100_FINE_LAYOUT, CIFAR10_LAYOUT, readCifarFiles } from '../../src/data/cifar.ts';
import { clearDatasetCache, loadDataset } from '../../src/data/datasets.ts';
import { tempDir } from '../helpers.ts';

const root = tempDir('spurlab-readers-');
let fileCounter = 0;

function idxBytes(dims: number[], data: Uint8Array, type = 0x08): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = type;
  header[3] = dims.length;
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, data]);
}

function writeFile(bytes: Uint8Array, name = `f${fileCounter++}`, dir = root): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

function assertUserError(fn: () => unknown, ...patterns: (RegExp | string)[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof UserError, `expected a UserError, got ${e}`);
    for (const p of patterns) {
      if (typeof p === 'string') assert.ok(e.message.includes(p), `message "${e.message}" should contain "${p}"`);
      else assert.match(e.message, p);
    }
    assert.ok(!e.message.includes('\n'), 'one line');
    return true;
  });
}

const N = 5;
const H = 4;
const W = 3;
const pixels = Uint8Array.from({ length: N * H * W }, (_, i) => (i * 11) % 256);
const labels = Uint8Array.from([3, 0, 9, 1, 3]);

function pairSpec(imagesPath: string, labelsPath: string) {
  return { name: 'toy', split: 'train' as const, imagesPath, labelsPath, numClasses: 10 };
}

for (const gzip of [false, true]) {
  test(`IDX pair reads ${gzip ? 'gzipped' : 'plain'} files into float32 HWC in [0,1]`, () => {
    const wrap = (b: Buffer) => (gzip ? gzipSync(b) : b);
    const imagesPath = writeFile(wrap(idxBytes([N, H, W], pixels)));
    const labelsPath = writeFile(wrap(idxBytes([N], labels)));
    const d = readIdxDataset(pairSpec(imagesPath, labelsPath));
    assert.equal(d.n, N);
    assert.deepEqual([d.height, d.width, d.channels], [H, W, 1]);
    assert.deepEqual(Array.from(d.labels), Array.from(labels));
    assert.equal(d.images.length, N * H * W);
    for (let i = 0; i < pixels.length; i++) assert.equal(d.images[i], Math.fround(pixels[i] / 255));
  });
}

test('IDX with a channel dimension is HWC', () => {
  const px = Uint8Array.from({ length: 2 * 2 * 2 * 3 }, (_, i) => i);
  const d = readIdxDataset(pairSpec(writeFile(idxBytes([2, 2, 2, 3], px)), writeFile(idxBytes([2], Uint8Array.from([0, 1])))));
  assert.equal(d.channels, 3);
  assert.equal(d.images[5], Math.fround(5 / 255));
});

test('bad IDX: missing file names the path', () => {
  const missing = join(root, 'nope-idx3-ubyte');
  assertUserError(() => readIdxDataset({ ...pairSpec(missing, missing), hint: 'get it somewhere' }), missing, 'file not found', 'get it somewhere');
});

test('bad IDX: wrong magic number', () => {
  const path = writeFile(Buffer.from('PK\x03\x04 this is a zip file'));
  assertUserError(
    () => parseIdx(new Uint8Array(Buffer.from('PK\x03\x04 zip')), path),
    path,
    'wrong magic number 0x504b0304',
    'expected an IDX header',
  );
  const labelsPath = writeFile(idxBytes([N], labels));
  assertUserError(() => readIdxDataset(pairSpec(path, labelsPath)), path, 'wrong magic number');
});

test('bad IDX: non-byte element type', () => {
  const path = writeFile(idxBytes([2], new Uint8Array(8), 0x0c));
  assertUserError(() => readIdxDataset(pairSpec(writeFile(idxBytes([N, H, W], pixels)), path)), path, '0x0c (int32)', 'expected 0x08');
});

test('bad IDX: truncated data, truncated header, trailing bytes, truncated gzip', () => {
  const labelsPath = writeFile(idxBytes([N], labels));
  const short = writeFile(idxBytes([N, H, W], pixels).subarray(0, 40));
  assertUserError(() => readIdxDataset(pairSpec(short, labelsPath)), short, 'truncated', `need ${N * H * W} bytes`, 'found 24');
  const header = writeFile(idxBytes([N, H, W], pixels).subarray(0, 9));
  assertUserError(() => readIdxDataset(pairSpec(header, labelsPath)), header, 'truncated IDX header');
  const tiny = writeFile(Uint8Array.from([0, 0]));
  assertUserError(() => readIdxDataset(pairSpec(tiny, labelsPath)), tiny, 'truncated');
  const long = writeFile(Buffer.concat([idxBytes([N, H, W], pixels), Buffer.from([1, 2, 3])]));
  assertUserError(() => readIdxDataset(pairSpec(long, labelsPath)), long, '3 unexpected bytes');
  const gz = gzipSync(idxBytes([N, H, W], pixels));
  const cut = writeFile(gz.subarray(0, gz.length - 10));
  assertUserError(() => readIdxDataset(pairSpec(cut, labelsPath)), cut, 'gzip data is corrupt or truncated');
});

test('bad IDX: dimension and count mismatches', () => {
  const imagesPath = writeFile(idxBytes([N, H, W], pixels));
  const fewer = writeFile(idxBytes([N - 1], labels.subarray(0, N - 1)));
  assertUserError(() => readIdxDataset(pairSpec(imagesPath, fewer)), imagesPath, fewer, `has ${N} images`, `has ${N - 1} labels`);
  const twoDimLabels = writeFile(idxBytes([N, 1], labels));
  assertUserError(() => readIdxDataset(pairSpec(imagesPath, twoDimLabels)), twoDimLabels, 'expected one dimension');
  const flatImages = writeFile(idxBytes([N * H * W], pixels));
  assertUserError(() => readIdxDataset(pairSpec(flatImages, writeFile(idxBytes([N], labels)))), flatImages, 'expected [N, height, width]');
  const labelsPath = writeFile(idxBytes([N], labels));
  assertUserError(
    () => readIdxDataset({ ...pairSpec(imagesPath, labelsPath), expectedShape: [28, 28] }),
    imagesPath,
    'are 4x3, expected 28x28 for toy',
  );
});

test('bad IDX: label out of range', () => {
  const imagesPath = writeFile(idxBytes([N, H, W], pixels));
  const badLabels = writeFile(idxBytes([N], Uint8Array.from([0, 1, 10, 2, 3])));
  assertUserError(() => readIdxDataset(pairSpec(imagesPath, badLabels)), badLabels, 'label 10 at index 2', 'expected 0..9');
});

function cifarRecords(labelBytes: number[][], seed: number): Buffer {
  const records = labelBytes.map((lb, r) => {
    const px = Uint8Array.from({ length: 3072 }, (_, i) => (i * 7 + r * 13 + seed) % 256);
    return Buffer.concat([Buffer.from(lb), px]);
  });
  return Buffer.concat(records);
}

test('CIFAR-10: records in file order, planes turned into HWC, plain and gzip', () => {
  const a = writeFile(cifarRecords([[4], [9]], 1));
  const b = writeFile(gzipSync(cifarRecords([[0]], 2)));
  const d = readCifarFiles([a, b], CIFAR10_LAYOUT, 'cifar10', 'train');
  assert.equal(d.n, 3);
  assert.deepEqual([d.height, d.width, d.channels, d.numClasses], [32, 32, 3, 10]);
  assert.deepEqual(Array.from(d.labels), [4, 9, 0]);
  // record 1 of file a: pixel (row 2, col 5), green plane byte at 1024 + 2*32 + 5
  const byteAt = (r: number, seed: number, i: number) => (i * 7 + r * 13 + seed) % 256;
  const p = 2 * 32 + 5;
  assert.equal(d.images[3072 + p * 3 + 1], Math.fround(byteAt(1, 1, 1024 + p) / 255));
  assert.equal(d.images[2 * 3072 + p * 3 + 2], Math.fround(byteAt(0, 2, 2048 + p) / 255));
});

test('CIFAR-100: fine labels by default layout, coarse on request', () => {
  const path = writeFile(
    cifarRecords(
      [
        [3, 77],
        [19, 5],
      ],
      0,
    ),
  );
  assert.deepEqual(Array.from(readCifarFiles([path], CIFAR100_FINE_LAYOUT, 'cifar100', 'test').labels), [77, 5]);
  assert.deepEqual(Array.from(readCifarFiles([path], CIFAR100_COARSE_LAYOUT, 'cifar100coarse', 'test').labels), [3, 19]);
});

test('bad CIFAR: truncated file, label out of range, missing file', () => {
  const cut = writeFile(cifarRecords([[1], [2]], 0).subarray(0, 5000));
  assertUserError(() => readCifarFiles([cut], CIFAR10_LAYOUT, 'cifar10', 'train'), cut, '5000 bytes', '3073-byte records', '1927 bytes left over');
  const bad = writeFile(cifarRecords([[1], [12]], 0));
  assertUserError(() => readCifarFiles([bad], CIFAR10_LAYOUT, 'cifar10', 'train'), bad, 'label 12 in record 1', 'expected 0..9');
  const badFine = writeFile(cifarRecords([[1, 100]], 0));
  assertUserError(() => readCifarFiles([badFine], CIFAR100_FINE_LAYOUT, 'cifar100', 'train'), badFine, 'label 100', 'expected 0..99');
  assertUserError(() => readCifarFiles([join(root, 'data_batch_9.bin')], CIFAR10_LAYOUT, 'cifar10', 'train'), 'data_batch_9.bin', 'file not found');
});

test('loadDataset reads CIFAR-10 and MNIST-style IDX from a user data directory', () => {
  clearDatasetCache();
  const dataDir = join(root, 'userdata');
  const cifarDir = join(dataDir, 'cifar-10-batches-bin');
  mkdirSync(cifarDir, { recursive: true });
  for (let k = 1; k <= 5; k++) writeFile(cifarRecords([[k]], k), `data_batch_${k}.bin`, cifarDir);
  writeFile(cifarRecords([[7], [8]], 0), 'test_batch.bin', cifarDir);
  const c = loadDataset('cifar10', { dataDir });
  assert.deepEqual([c.train.n, c.test.n], [5, 2]);
  assert.deepEqual(Array.from(c.train.labels), [1, 2, 3, 4, 5]);
  assert.equal(loadDataset('CIFAR-10', { dataDir }), c, 'cached, alias resolved');

  const mnistDir = join(dataDir, 'mnist');
  mkdirSync(mnistDir);
  const img = Uint8Array.from({ length: 2 * 28 * 28 }, (_, i) => i % 256);
  writeFile(gzipSync(idxBytes([2, 28, 28], img)), 'train-images-idx3-ubyte.gz', mnistDir);
  writeFile(idxBytes([2], Uint8Array.from([5, 6])), 'train-labels-idx1-ubyte', mnistDir);
  writeFile(idxBytes([2, 28, 28], img), 't10k-images.idx3-ubyte', mnistDir);
  writeFile(idxBytes([2], Uint8Array.from([1, 2])), 't10k-labels.idx1-ubyte', mnistDir);
  const m = loadDataset('mnist', { dataDir });
  assert.deepEqual(Array.from(m.train.labels), [5, 6]);
  assert.deepEqual(Array.from(m.test.labels), [1, 2]);
  clearDatasetCache();
});

test('bad loadDataset: unknown name, missing directory, empty directory, CIFAR without a directory', () => {
  assertUserError(() => loadDataset('imagenet'), 'unknown data set "imagenet"', 'mnist, fashion, cifar10');
  assertUserError(() => loadDataset('mnist', { dataDir: join(root, 'absent') }), 'absent', 'directory not found');
  const empty = join(root, 'empty');
  mkdirSync(empty);
  assertUserError(() => loadDataset('fashion', { dataDir: empty }), 'Fashion-MNIST', 'train-images-idx3-ubyte', 'dataset-fashion-mnist');
  assertUserError(() => loadDataset('cifar100'), 'CIFAR-100', 'needs a data directory', 'cifar-100-binary');
});
