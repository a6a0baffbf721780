// Sweep files: lists of grids whose values (a scalar or a list each) expand to the
// Cartesian product of training configurations. Unknown keys and bad values are
// errors naming the file, the grid and the key.
import { readFileSync } from 'node:fs';
import { UserError } from '../util/errors.ts';
import { makeTrainConfig, type TrainConfig } from '../train/config.ts';
import { PRESETS } from './presets.ts';

export type GridValue = string | number | boolean | null;
export type Grid = Record<string, GridValue | GridValue[]>;

export interface SweepSpec {
  name: string;
  description?: string;
  grids: Grid[];
}

const DATA_KEYS = ['dataset', 'pattern', 'n', 'target', 'targetB', 'seed'];
const TRAIN_KEYS = ['model', 'optimizer', 'lr', 'momentum', 'weightDecay', 'gradClip', 'batchSize', 'epochs', 'aug', 'inputNoise', 'modelSeed', 'scheduler', 'trainSubset', 'testSubset', 'dropSpurious'];
export const GRID_KEYS = [...DATA_KEYS, ...TRAIN_KEYS];
const REQUIRED = ['dataset', 'pattern', 'n', 'target', 'seed', 'model'];

function isScalar(v: unknown): v is GridValue {
  return v === null || ['string', 'number', 'boolean'].includes(typeof v);
}

/** Checks the shape of a parsed sweep document; `where` names it in errors. */
export function validateSweepSpec(doc: unknown, where: string): SweepSpec {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new UserError(`${where}: expected a JSON object with "grids"`);
  const o = doc as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!['name', 'description', 'grids'].includes(k)) throw new UserError(`${where}: unknown key "${k}", expected name, description, grids`);
  if (!Array.isArray(o.grids) || o.grids.length === 0) throw new UserError(`${where}: "grids" must be a non-empty list of grid objects`);
  o.grids.forEach((g, i) => {
    const at = `${where}: grid ${i + 1}`;
    if (typeof g !== 'object' || g === null || Array.isArray(g)) throw new UserError(`${at}: expected an object of key: value or key: [values]`);
    for (const [k, v] of Object.entries(g)) {
      if (!GRID_KEYS.includes(k)) throw new UserError(`${at}: unknown key "${k}", expected one of ${GRID_KEYS.join(', ')}`);
      const values = Array.isArray(v) ? v : [v];
      if (values.length === 0) throw new UserError(`${at}: "${k}" is an empty list`);
      for (const x of values) if (!isScalar(x)) throw new UserError(`${at}: "${k}" has ${JSON.stringify(x)}, expected a string, number or boolean (or a list of them)`);
    }
    for (const k of REQUIRED) if (!(k in g)) throw new UserError(`${at}: missing "${k}"`);
  });
  return { name: typeof o.name === 'string' ? o.name : where, description: typeof o.description === 'string' ? o.description : undefined, grids: o.grids as Grid[] };
}

/** A preset name or the path of a JSON sweep file. */
export function loadSweepSpec(nameOrPath: string): SweepSpec {
  const preset = PRESETS.find((p) => p.name === nameOrPath);
  if (preset) return preset;
  let text: string;
  try {
    text = readFileSync(nameOrPath, 'utf8');
  } catch {
    throw new UserError(`"${nameOrPath}" is neither a sweep preset (${PRESETS.map((p) => p.name).join(', ')}) nor a readable sweep file`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new UserError(`${nameOrPath}: not valid JSON (${(e as Error).message})`);
  }
  return validateSweepSpec(doc, nameOrPath);
}

function* product(grid: Grid): Generator<Record<string, GridValue>> {
  const keys = Object.keys(grid);
  const lists = keys.map((k) => (Array.isArray(grid[k]) ? (grid[k] as GridValue[]) : [grid[k] as GridValue]));
  const idx = new Array<number>(keys.length).fill(0);
  while (true) {
    yield Object.fromEntries(keys.map((k, i) => [k, lists[i][idx[i]]]));
    let d = keys.length - 1;
    while (d >= 0 && ++idx[d] === lists[d].length) idx[d--] = 0;
    if (d < 0) return;
  }
}

export interface ExpandOptions {
  epochs?: number; // override every grid's epochs
}

/** Every distinct training configuration of the sweep, in grid order. */
export function expandSweep(spec: SweepSpec, opts: ExpandOptions = {}): TrainConfig[] {
  const seen = new Set<string>();
  const out: TrainConfig[] = [];
  spec.grids.forEach((grid, gi) => {
    for (const point of product(grid)) {
      const { dataset, pattern, n, target, targetB, seed, ...rest } = point as Record<string, never>;
      let cfg: TrainConfig;
      try {
        cfg = makeTrainConfig({ data: { dataset, pattern, n, target, targetB, seed }, ...rest, ...(opts.epochs !== undefined ? { epochs: opts.epochs } : {}) });
      } catch (e) {
        throw new UserError(`${spec.name}: grid ${gi + 1}, point ${JSON.stringify(point)}: ${(e as Error).message}`);
      }
      const key = JSON.stringify(cfg);
      if (!seen.has(key)) {
        seen.add(key);
        out.push(cfg);
      }
    }
  });
  return out;
}
