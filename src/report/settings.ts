/**
 * How the report names an experimental setting: a run's configuration minus its seed,
 * turned into short display values ("adam lr 0.01", "weight decay 1e-4") so settings
 * can be grouped, compared and labelled in charts and tables alike.
 */
import { DATASETS } from '../data/datasets.ts';
import { BUILTIN_PATTERNS, findBuiltinPattern } from '../data/patterns.ts';
import { MISSING, formatNumber } from './format.ts';

/** Regularizers of the mitigation sweeps; absent or 0 means off. */
export const REGULARIZERS = ['weightDecay', 'inputNoise', 'gradClip'] as const;
export type Regularizer = (typeof REGULARIZERS)[number];

/** Config fields in the order labels list them; other config keys follow, sorted. */
export const KNOWN_FIELDS = ['dataset', 'pattern', 'model', 'optimizer', 'target', ...REGULARIZERS, 'epochs'] as const;

/**
 * Flat optimizer options (the training config keeps optimizer, lr and momentum as
 * separate keys): folded into the optimizer's label, so "sgd lr 0.01 momentum 0.9" is
 * one setting value rather than three fields.
 */
const OPTIMIZER_OPTIONS = ['lr', 'momentum'] as const;

/**
 * Other fields a subtitle names only when they differ from these values: the training
 * defaults, and the bookkeeping that experiment commands add to their configs. Any
 * field still names itself when it varies between the settings of one figure. (The
 * store's grouping reads booleans back from SQLite JSON as 1 and 0.)
 */
const QUIET_VALUES: Record<string, string[]> = {
  aug: ['none'],
  batchSize: ['128'],
  scheduler: ['true', '1'],
  dropSpurious: ['false', '0'],
  modelSeed: ['0'],
  trainSubset: ['0'],
  testSubset: ['0'],
  trainLimit: ['0'],
  testLimit: ['0'],
  targetB: [MISSING],
  balance: ['true', '1'],
};
const ALWAYS_QUIET = new Set(['experiment', 'miaVersion', 'sensitivityVersion', 'attack', 'epoch', 'images', 'steps', 'imageSeed', 'maskSeed']);

const FIELD_PREFIX: Record<string, string> = {
  target: 'target ',
  weightDecay: 'weight decay ',
  inputNoise: 'input noise ',
  gradClip: 'clip ',
  batchSize: 'batch ',
  modelSeed: 'model seed ',
  trainSubset: 'train subset ',
  testSubset: 'test subset ',
  trainLimit: 'train limit ',
  testLimit: 'test limit ',
};

/** Human titles of config fields (table headers, axis and legend titles). */
export const FIELD_TITLES: Record<string, string> = {
  dataset: 'data set',
  pattern: 'pattern',
  model: 'architecture',
  optimizer: 'optimizer',
  target: 'target',
  weightDecay: 'weight decay',
  inputNoise: 'input noise σ',
  gradClip: 'gradient clip',
  epochs: 'epochs',
  n: 'n',
  method: 'method',
};

export function fieldTitle(field: string): string {
  return FIELD_TITLES[field] ?? field;
}

/** A stored value that may be JSON text (the store keeps object-valued config fields as canonical JSON). */
function parseMaybeJson(value: unknown): unknown {
  if (typeof value !== 'string' || !/^[{[]/.test(value)) return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}

function compactValue(value: unknown): string {
  if (value === null || value === undefined) return MISSING;
  if (typeof value === 'number') return formatNumber(value);
  if (typeof value === 'string' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.map(compactValue).join(',');
  return Object.entries(value as Record<string, unknown>)
    .map(([k, v]) => `${k} ${compactValue(v)}`)
    .join(' ');
}

/**
 * "adam lr 0.01", "sgd lr 0.01 momentum 0.9": the name, then the learning rate, then
 * any other option. A plain string optimizer is shown as is.
 */
export function optimizerLabel(value: unknown): string {
  const v = parseMaybeJson(value);
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return compactValue(v);
  const { name, lr, ...rest } = v as Record<string, unknown>;
  const parts = [name === undefined ? 'optimizer' : compactValue(name)];
  if (lr !== undefined) parts.push(`lr ${compactValue(lr)}`);
  for (const k of Object.keys(rest).sort()) parts.push(`${k} ${compactValue(rest[k])}`);
  return parts.join(' ');
}

/** The optimizer's name alone ("adam"), for telling optimizer comparisons from learning-rate sweeps. */
export function optimizerName(value: unknown): string {
  const v = parseMaybeJson(value);
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) return compactValue((v as Record<string, unknown>).name);
  return compactValue(v);
}

/** A regularizer's strength; absent (null) counts as 0, i.e. off. */
export function strengthOf(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

/** A data set's title ("Fashion-MNIST") when spurlab knows the name, else the name as stored. */
export function datasetTitle(name: string): string {
  return (DATASETS as Record<string, { title: string } | undefined>)[name.toLowerCase()]?.title ?? name;
}

/**
 * Sort rank of a series value: built-in patterns in the paper's order (S1..S3, R1..R3,
 * Co), then everything else alphabetically (rank Infinity, ties broken by the caller).
 */
export function patternRank(name: string): number {
  const builtin = findBuiltinPattern(name);
  return builtin ? BUILTIN_PATTERNS.indexOf(builtin) : Infinity;
}

/** Orders display values: built-in patterns in the paper's order, then numbers by value, then text. */
export function compareDisplay(a: string, b: string): number {
  const ra = patternRank(a);
  const rb = patternRank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  const na = Number(a);
  const nb = Number(b);
  if (a.trim() !== '' && b.trim() !== '' && Number.isFinite(na) && Number.isFinite(nb) && na !== nb) return na - nb;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Orders settings field by field (known fields first), each by compareDisplay. */
export function compareFields(a: Record<string, string>, b: Record<string, string>): number {
  for (const f of orderedFields([...Object.keys(a), ...Object.keys(b)])) {
    const c = compareDisplay(a[f] ?? '', b[f] ?? '');
    if (c !== 0) return c;
  }
  return 0;
}

/** The display value of one config field (without its prefix). */
export function displayValue(field: string, value: unknown): string {
  if (field === 'optimizer') return optimizerLabel(value);
  if (field === 'dataset' && typeof value === 'string') return datasetTitle(value);
  if ((REGULARIZERS as readonly string[]).includes(field)) return formatNumber(strengthOf(value));
  return compactValue(parseMaybeJson(value));
}

/** A field's value as it reads inside a label: "target 0", "clip 0.1", "20 epochs", "MNIST". */
export function labelPart(field: string, display: string): string {
  if (field === 'epochs') return `${display} epoch${display === '1' ? '' : 's'}`;
  const prefix = FIELD_PREFIX[field] ?? ((KNOWN_FIELDS as readonly string[]).includes(field) ? '' : `${field} `);
  return `${prefix}${display}`;
}

/** Whether a field's value says nothing worth printing (a regularizer that is off, a default, bookkeeping). */
function isQuiet(field: string, display: string): boolean {
  if (display === MISSING || ALWAYS_QUIET.has(field)) return true;
  if ((REGULARIZERS as readonly string[]).includes(field)) return display === '0';
  return QUIET_VALUES[field]?.includes(display) ?? false;
}

/**
 * Display values of a configuration's fields, minus the ones left out (seed, n, ...).
 * A string optimizer absorbs the flat lr and momentum keys (momentum only when not 0).
 */
export function settingFields(config: Record<string, unknown>, leaveOut: readonly string[]): Record<string, string> {
  const folded: Record<string, unknown> = { ...config };
  if (typeof config.optimizer === 'string' && !config.optimizer.startsWith('{')) {
    const options: Record<string, unknown> = { name: config.optimizer };
    for (const k of OPTIMIZER_OPTIONS) {
      if (k in config && !(k === 'momentum' && (config[k] === 0 || config[k] === null))) options[k] = config[k];
      delete folded[k];
    }
    folded.optimizer = options;
  }
  const out: Record<string, string> = {};
  for (const k of orderedFields(Object.keys(folded))) {
    if (!leaveOut.includes(k)) out[k] = displayValue(k, folded[k]);
  }
  return out;
}

/** Known fields first in their usual order, then the rest sorted. */
export function orderedFields(fields: Iterable<string>): string[] {
  const set = new Set(fields);
  const known = (KNOWN_FIELDS as readonly string[]).filter((f) => set.has(f));
  const rest = [...set].filter((f) => !(KNOWN_FIELDS as readonly string[]).includes(f)).sort();
  return [...known, ...rest];
}

/** A stable key of the fields except `except`: settings with equal keys belong together. */
export function contextKey(fields: Record<string, string>, except: readonly string[] = []): string {
  return JSON.stringify(
    orderedFields(Object.keys(fields))
      .filter((f) => !except.includes(f))
      .map((f) => [f, fields[f]]),
  );
}

/** "MNIST · MLP · adam lr 0.01 · target 0", leaving out quiet fields unless `keepQuiet`. */
export function describe(fields: Record<string, string>, only?: readonly string[], keepQuiet = false): string {
  const keys = orderedFields(only ?? Object.keys(fields)).filter((k) => k in fields && (keepQuiet || !isQuiet(k, fields[k])));
  return keys.map((k) => labelPart(k, fields[k])).join(' · ');
}

/**
 * Labels telling several contexts apart: each names only the fields that differ
 * between them; what they share becomes one common description (a chart subtitle).
 */
export function contextLabels(contexts: Record<string, string>[]): { labels: string[]; common: string } {
  const fields = orderedFields(contexts.flatMap((c) => Object.keys(c)));
  const varying = fields.filter((f) => new Set(contexts.map((c) => c[f] ?? MISSING)).size > 1);
  const constant = fields.filter((f) => !varying.includes(f));
  const filled = (c: Record<string, string>): Record<string, string> => Object.fromEntries(fields.map((f) => [f, c[f] ?? MISSING]));
  return {
    labels: contexts.map((c) => describe(filled(c), varying, true)),
    common: contexts.length > 0 ? describe(filled(contexts[0]), constant) : '',
  };
}
