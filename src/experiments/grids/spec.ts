// Sweep files and presets: lists of grids whose values (a scalar or a list each) expand
// to the Cartesian product of runs. Each grid names its kind ("kind": "mia"; default
// train); its other keys are that kind's options in camelCase. The size is counted
// before anything is expanded and refused above MAX_SWEEP_RUNS, and every point is
// configured (validated) before anything runs, so a bad value fails --dry-run too.
import { readFileSync } from 'node:fs';
import { UserError } from '../../util/errors.ts';
import type { TrainConfig } from '../../train/config.ts';
import { findKind, planRun, withDependencies, type PlannedRun } from '../kinds/index.ts';
import { PRESETS } from './presets.ts';
import { reproductionPresets } from './reproduction.ts';

export type GridValue = string | number | boolean | null;
export type Grid = Record<string, GridValue | GridValue[]>;

export interface SweepSpec {
  name: string;
  description?: string;
  grids: Grid[];
}

/**
 * The most runs one sweep may expand to. Far above the paper's largest grid (1,680
 * runs); a sweep file beyond it is almost surely a mistake (10^7 runs would take years
 * here) and expanding it would exhaust the memory.
 */
export const MAX_SWEEP_RUNS = 100_000;

function isScalar(v: unknown): v is GridValue {
  return v === null || ['string', 'number', 'boolean'].includes(typeof v);
}

/** Checks the shape of a parsed sweep document; `where` names it in errors. */
export function validateSweepSpec(doc: unknown, where: string): SweepSpec {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new UserError(`${where}: expected a JSON object with "grids"`);
  const o = doc as Record<string, unknown>;
  for (const k of Object.keys(o))
    if (!['name', 'description', 'grids'].includes(k)) throw new UserError(`${where}: unknown key "${k}", expected name, description, grids`);
  if (!Array.isArray(o.grids) || o.grids.length === 0) throw new UserError(`${where}: "grids" must be a non-empty list of grid objects`);
  o.grids.forEach((g, i) => {
    const at = `${where}: grid ${i + 1}`;
    if (typeof g !== 'object' || g === null || Array.isArray(g)) throw new UserError(`${at}: expected an object of key: value or key: [values]`);
    const grid = g as Record<string, unknown>;
    const kind = findKind(grid.kind ?? 'train', `${at}: "kind"`);
    for (const [k, v] of Object.entries(grid)) {
      if (k === 'kind') continue;
      if (!kind.keys.includes(k)) throw new UserError(`${at}: unknown key "${k}" for kind ${kind.name}, expected one of ${kind.keys.join(', ')}`);
      const values = Array.isArray(v) ? v : [v];
      if (values.length === 0) throw new UserError(`${at}: "${k}" is an empty list`);
      for (const x of values)
        if (!isScalar(x)) throw new UserError(`${at}: "${k}" has ${JSON.stringify(x)}, expected a string, number or boolean (or a list of them)`);
    }
    for (const k of kind.required) if (!(k in grid)) throw new UserError(`${at}: missing "${k}"`);
  });
  return {
    name: typeof o.name === 'string' ? o.name : where,
    description: typeof o.description === 'string' ? o.description : undefined,
    grids: o.grids as Grid[],
  };
}

/** A preset name or the path of a JSON sweep file. */
export function loadSweepSpec(nameOrPath: string): SweepSpec {
  const preset =
    PRESETS.find((p) => p.name === nameOrPath) ??
    (nameOrPath.startsWith('reproduce-') ? reproductionPresets().find((p) => p.name === nameOrPath) : undefined);
  if (preset) return preset;
  let text: string;
  try {
    text = readFileSync(nameOrPath, 'utf8');
  } catch {
    throw new UserError(
      `"${nameOrPath}" is neither a sweep preset (${PRESETS.map((p) => p.name).join(', ')}, reproduce-<fast|paper>-<finding>) nor a readable sweep file`,
    );
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new UserError(`${nameOrPath}: not valid JSON (${(e as Error).message})`);
  }
  return validateSweepSpec(doc, nameOrPath);
}

function listOf(grid: Grid, key: string): GridValue[] {
  const v = grid[key];
  return Array.isArray(v) ? v : [v];
}

/** How many points the grids have, counted without expanding them (duplicates included). */
export function countSweep(spec: SweepSpec): number {
  return spec.grids.reduce(
    (sum, g) =>
      sum +
      Object.keys(g)
        .filter((k) => k !== 'kind')
        .reduce((p, k) => p * listOf(g, k).length, 1),
    0,
  );
}

function* product(grid: Grid): Generator<Record<string, GridValue>> {
  const keys = Object.keys(grid).filter((k) => k !== 'kind');
  const lists = keys.map((k) => listOf(grid, k));
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

/**
 * Every distinct run of the sweep in grid order, each configured by its kind (so every
 * value is checked now), with the train runs they depend on added before them.
 */
export function planSweep(spec: SweepSpec, opts: ExpandOptions = {}): PlannedRun[] {
  const count = countSweep(spec);
  if (count > MAX_SWEEP_RUNS) {
    throw new UserError(
      `${spec.name}: the grids expand to ${count.toLocaleString('en-US')} runs, more than the ${MAX_SWEEP_RUNS.toLocaleString('en-US')} one sweep may have; split it into several sweep files or use fewer values`,
    );
  }
  const seen = new Set<string>();
  const out: PlannedRun[] = [];
  spec.grids.forEach((grid, gi) => {
    const kind = String(grid.kind ?? 'train');
    for (const point of product(grid)) {
      let run: PlannedRun;
      try {
        run = planRun(kind, { ...point, ...(opts.epochs !== undefined ? { epochs: opts.epochs } : {}) });
      } catch (e) {
        if (!(e instanceof UserError)) throw e;
        throw new UserError(`${spec.name}: grid ${gi + 1}, point ${JSON.stringify(point)}: ${e.message}`);
      }
      if (!seen.has(run.key)) {
        seen.add(run.key);
        out.push(run);
      }
    }
  });
  return withDependencies(out);
}

/** The training configurations of a sweep of train grids only (the demo, estimates). */
export function expandSweep(spec: SweepSpec, opts: ExpandOptions = {}): TrainConfig[] {
  const runs = planSweep(spec, opts);
  const other = runs.find((r) => r.kind !== 'train');
  if (other) throw new UserError(`${spec.name}: has runs of kind ${other.kind}; expected training grids only here`);
  return runs.map((r) => r.config as TrainConfig);
}
