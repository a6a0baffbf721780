// Spurious data sets (PROTOCOL sections 2-3): n training images of a target class get a
// pattern and keep their label. Named as the reference does (`mnistv8-3-0-0`,
// `twoclassmnistv8-3-0-1-0`) or by options; both resolve to one SpuriousSpec and so to
// the same data. The n images are RandomState(seed).choice(I, n, replace=False) with I
// the ascending indices of the target class; the two-class variant draws n for class a
// then n for class b from the same RandomState.
import { UserError } from '../util/errors.ts';
import { RandomState } from './numpyRandom.ts';
import { classIndices, cloneDataset, type Dataset } from './dataset.ts';
import { DATASETS, loadDataset, resolveDatasetName, type DatasetName, type LoadOptions } from './datasets.ts';
import { applyPatternToIndices, findBuiltinPattern, makePattern, type Pattern, type PatternOptions } from './patterns.ts';

export interface SpuriousSpec {
  dataset: DatasetName;
  /** A pattern spec accepted by makePattern; built-ins are stored by paper name (S3, not v8). */
  pattern: string;
  n: number;
  target: number;
  /** The second class of the two-class variant, else null. */
  targetB: number | null;
  seed: number;
}

export interface SpuriousOptions {
  dataset: string;
  pattern: string;
  n: number;
  target: number;
  targetB?: number | null;
  seed: number;
}

export interface SpuriousDataset {
  spec: SpuriousSpec;
  /** The reference name when the pattern has a reference id, else a descriptive one. */
  name: string;
  /** Training split with the pattern on spuriousIndices; the shared clean split when n = 0. Read-only. */
  train: Dataset;
  /** Clean test split (shared, read-only). */
  test: Dataset;
  /** Patterned training indices in draw order (class a's, then class b's). */
  spuriousIndices: number[];
  pattern: Pattern;
  /** The noise image u of a noise pattern ([H, W, C] float64), else null. */
  noise: Float64Array | null;
}

const NAME_SYNTAX =
  '{mnist|fashion|cifar10|cifar100}{pattern id}-{n}-{target}-{seed} (e.g. mnistv8-3-0-0) or twoclass{dataset}{pattern id}-{n}-{a}-{b}-{seed}';

// Lazy dataset match so that "cifar100v8" splits as cifar100 + v8 and "cifar10v8" as cifar10 + v8.
const NAME_RE = /^(twoclass)?([a-z][a-z0-9]*?)(v[0-9a-z]+|S[123]|R[123]|Co)?-(\d+)-(\d+)(?:-(\d+))?-(\d+)$/;

function parseInteger(raw: string, what: string, name: string): number {
  const v = Number(raw);
  if (!Number.isSafeInteger(v)) throw new UserError(`${what} "${raw}" in "${name}" is not an integer`);
  return v;
}

/** Parses a reference name; the pattern defaults to v1 (S1) when absent, as in the reference. */
export function parseSpuriousName(name: string): SpuriousSpec {
  const m = NAME_RE.exec(name.trim());
  if (!m) throw new UserError(`cannot parse data set name "${name}", expected ${NAME_SYNTAX}`);
  const [, twoClass, datasetRaw, patternRaw, nRaw, aRaw, bRaw, seedRaw] = m;
  if (!(datasetRaw in DATASETS)) {
    throw new UserError(`unknown data set "${datasetRaw}" in "${name}", expected one of: ${Object.keys(DATASETS).join(', ')}`);
  }
  if (Boolean(twoClass) !== (bRaw !== undefined)) {
    throw new UserError(
      twoClass
        ? `"${name}": a twoclass name needs -{n}-{a}-{b}-{seed}, expected ${NAME_SYNTAX}`
        : `"${name}": too many numbers for a one-class name, expected ${NAME_SYNTAX}`,
    );
  }
  const patternId = patternRaw ?? 'v1';
  const builtin = findBuiltinPattern(patternId);
  if (!builtin) {
    throw new UserError(`unknown pattern "${patternId}" in "${name}", expected one of: v1, v3, v8, v18, v19, v20, v30 (S1, S2, S3, R1, R2, R3, Co)`);
  }
  return validateSpec({
    dataset: datasetRaw as DatasetName,
    pattern: builtin.name,
    n: parseInteger(nRaw, 'n', name),
    target: parseInteger(aRaw, 'target', name),
    targetB: bRaw === undefined ? null : parseInteger(bRaw, 'second target', name),
    seed: parseInteger(seedRaw, 'seed', name),
  });
}

function validateSpec(spec: SpuriousSpec): SpuriousSpec {
  const info = DATASETS[spec.dataset];
  if (!Number.isInteger(spec.n) || spec.n < 0) throw new UserError(`n: got ${spec.n}, expected a non-negative integer`);
  if (!Number.isInteger(spec.seed) || spec.seed < 0 || spec.seed > 0xffffffff) {
    throw new UserError(`seed: got ${spec.seed}, expected an integer between 0 and 2**32 - 1`);
  }
  const checkClass = (c: number, what: string) => {
    if (!Number.isInteger(c) || c < 0 || c >= info.numClasses) {
      throw new UserError(`${what}: got ${c}, expected a class of ${info.name} in 0..${info.numClasses - 1}`);
    }
  };
  checkClass(spec.target, 'target');
  if (spec.targetB !== null) {
    checkClass(spec.targetB, 'second target (target-b)');
    if (spec.targetB === spec.target) throw new UserError(`target-b: got ${spec.targetB}, expected a class different from target ${spec.target}`);
  }
  return spec;
}

/** Normalizes options (dataset aliases, pattern names) into a validated spec. */
export function specFromOptions(options: SpuriousOptions): SpuriousSpec {
  // Options may come from JSON (a sweep file): the names must be strings before they are parsed.
  for (const key of ['dataset', 'pattern'] as const) {
    if (typeof options[key] !== 'string') throw new UserError(`${key}: got ${JSON.stringify(options[key])}, expected a name (a string)`);
  }
  const builtin = findBuiltinPattern(options.pattern);
  return validateSpec({
    dataset: resolveDatasetName(options.dataset),
    pattern: builtin ? builtin.name : options.pattern.trim(),
    n: options.n,
    target: options.target,
    targetB: options.targetB ?? null,
    seed: options.seed,
  });
}

export function resolveSpuriousSpec(nameOrOptions: string | SpuriousOptions | SpuriousSpec): SpuriousSpec {
  return typeof nameOrOptions === 'string' ? parseSpuriousName(nameOrOptions) : specFromOptions(nameOrOptions);
}

/** The reference name for built-in patterns (mnistv8-3-0-0); `mnist[<pattern>]-3-0-0` otherwise. */
export function spuriousName(spec: SpuriousSpec): string {
  const builtin = findBuiltinPattern(spec.pattern);
  const patternPart = builtin ? builtin.id : `[${spec.pattern}]`;
  const classes = spec.targetB === null ? `${spec.target}` : `${spec.target}-${spec.targetB}`;
  return `${spec.targetB === null ? '' : 'twoclass'}${spec.dataset}${patternPart}-${spec.n}-${classes}-${spec.seed}`;
}

/** The reference's choice of patterned indices, from the training labels. */
export function chooseSpuriousIndices(train: Dataset, spec: SpuriousSpec): number[] {
  const rs = new RandomState(spec.seed);
  const classes = spec.targetB === null ? [spec.target] : [spec.target, spec.targetB];
  return classes.flatMap((cls) => {
    const pool = classIndices(train.labels, cls);
    if (spec.n > pool.length) {
      throw new UserError(`n: got ${spec.n}, larger than class ${cls} of ${spec.dataset} (${pool.length} training images)`);
    }
    return rs.choice(pool, spec.n, { replace: false });
  });
}

export interface SpuriousLoadOptions extends LoadOptions, PatternOptions {}

/** Builds the spurious data set for a reference name, options or a spec. */
export function makeSpuriousDataset(nameOrOptions: string | SpuriousOptions | SpuriousSpec, options: SpuriousLoadOptions = {}): SpuriousDataset {
  const spec = resolveSpuriousSpec(nameOrOptions);
  const info = DATASETS[spec.dataset];
  // The pattern first: a bad pattern spec should fail before a data set is read.
  const pattern = makePattern(spec.pattern, { height: info.height, width: info.width, channels: info.channels }, spec.seed, options);
  const clean = loadDataset(spec.dataset, options);
  const spuriousIndices = chooseSpuriousIndices(clean.train, spec);
  let train = clean.train;
  if (spuriousIndices.length > 0) {
    train = cloneDataset(clean.train);
    applyPatternToIndices(pattern, train, spuriousIndices);
  }
  const noise = pattern.effect.kind === 'noise' ? pattern.effect.noise : null;
  return { spec, name: spuriousName(spec), train, test: clean.test, spuriousIndices, pattern, noise };
}
