// Groups of done runs that `results` and the report show, one kind at a time. A group
// never mixes settings: runs are grouped by the kind's usual keys and by every other
// config key that differs among the selected runs (epochs, learning rate, subsets, ...);
// only the seed is averaged over. Asked for an explicit grouping that leaves a
// differing key out, resultGroups refuses and names the keys.
import type { ResultsStore, RunFilter, RunRecord } from '../store/results.ts';
import { canonicalJson } from '../store/runKey.ts';
import { UserError } from '../util/errors.ts';
import { findKind, type AnyRunKind } from './kinds/index.ts';
import { mean, standardError } from './stats.ts';
import { summarizeWithBaseline, type BaselineSummary, type BaselineOptions } from './summaries.ts';

/** Config keys that are replicates, averaged over within a group. */
export const REPLICATE_KEYS = ['seed'] as const;

export interface MeanSem {
  mean: number;
  sem: number;
  /** Finite values averaged. */
  count: number;
}

export interface ResultGroup {
  /** groupBy key -> value (null where a run's config lacks it). */
  group: Record<string, unknown>;
  runs: number;
  keys: string[];
  /** The kind's columns (ResultColumn), averaged over the group's runs. */
  columns: Record<string, MeanSem>;
  /** For kind train: the test against the n = 0 baseline (summarizeWithBaseline). */
  baseline?: BaselineSummary;
}

export interface ResultGroups {
  kind: string;
  groupBy: string[];
  /** Config keys (besides the seed) whose values differ among the selected runs. */
  differing: string[];
  groups: ResultGroup[];
}

function meanSem(values: number[]): MeanSem {
  const xs = values.filter((v) => Number.isFinite(v));
  return { mean: mean(xs), sem: standardError(xs), count: xs.length };
}

/** Top-level config keys whose values are not the same in every run (a key some runs lack counts). */
export function differingKeys(runs: readonly RunRecord[]): string[] {
  const keys = new Set(runs.flatMap((r) => Object.keys(r.config)));
  const out: string[] = [];
  for (const k of keys) {
    if ((REPLICATE_KEYS as readonly string[]).includes(k)) continue;
    const values = new Set(runs.map((r) => (k in r.config ? canonicalJson(r.config[k], 'null') : 'missing')));
    if (values.size > 1) out.push(k);
  }
  return out.sort();
}

/** The typed result of a stored run of `kind`, or undefined (and the run left out) if it does not check. */
function typedResult(kind: AnyRunKind, r: RunRecord): object | undefined {
  try {
    return kind.checkResult(r.result, `run ${r.key}`);
  } catch {
    return undefined;
  }
}

/**
 * The done runs of `kindName` (matching `filter`) in groups that each hold one setting.
 * groupBy: the grouping asked for (it must cover every differing key); default the
 * kind's keys plus every differing key, n last. test: kind train's test against n = 0.
 */
export function resultGroups(
  store: ResultsStore,
  kindName: string,
  opts: { groupBy?: string[]; filter?: RunFilter; test?: BaselineOptions['test'] } = {},
): ResultGroups {
  const kind = findKind(kindName, '--kind');
  const filter: RunFilter = { ...opts.filter, kind: kind.name, status: 'done' };
  const runs = store.list(filter);
  const differing = differingKeys(runs);
  let groupBy: string[];
  if (opts.groupBy) {
    const missing = differing.filter((k) => !opts.groupBy!.includes(k));
    if (missing.length > 0) {
      throw new UserError(
        `--group-by ${opts.groupBy.join(',')}: the ${kind.name} runs also differ in ${missing.join(', ')}; a group would mix them, so add ${missing.length === 1 ? 'it' : 'them'} to --group-by (or leave --group-by out to group by every key that differs)`,
      );
    }
    groupBy = opts.groupBy;
  } else {
    const present = new Set(runs.flatMap((r) => Object.keys(r.config)));
    const base = kind.groupBy.filter((k) => present.has(k) || runs.length === 0);
    const extra = differing.filter((k) => !base.includes(k));
    groupBy = [...base.filter((k) => k !== 'n'), ...extra, ...(base.includes('n') ? ['n'] : [])];
  }
  if (kind.name === 'train' && groupBy.includes('n')) {
    const summaries = summarizeWithBaseline(store, groupBy, filter, { test: opts.test });
    const byKey = new Map(runs.map((r) => [r.key, r]));
    return {
      kind: kind.name,
      groupBy,
      differing,
      groups: summaries.map((s) => ({
        group: s.group,
        runs: s.runs,
        keys: s.keys,
        columns: columnsOf(
          kind,
          s.keys.map((k) => byKey.get(k)).filter((r): r is RunRecord => r !== undefined),
        ),
        baseline: s,
      })),
    };
  }
  const groups = new Map<string, { values: unknown[]; records: RunRecord[] }>();
  const byKey = new Map(runs.map((r) => [r.key, r]));
  for (const row of store.groupRows(groupBy, filter)) {
    const id = JSON.stringify(row.values);
    const record = byKey.get(row.key);
    if (!record) continue;
    let g = groups.get(id);
    if (!g) groups.set(id, (g = { values: row.values, records: [] }));
    g.records.push(record);
  }
  return {
    kind: kind.name,
    groupBy,
    differing,
    groups: [...groups.values()].map((g) => ({
      group: Object.fromEntries(groupBy.map((k, i) => [k, g.values[i]])),
      runs: g.records.length,
      keys: g.records.map((r) => r.key),
      columns: columnsOf(kind, g.records),
    })),
  };
}

function columnsOf(kind: AnyRunKind, records: RunRecord[]): Record<string, MeanSem> {
  const results = records.map((r) => typedResult(kind, r)).filter((r) => r !== undefined);
  return Object.fromEntries(kind.columns.map((c: { name: string; value(r: object): number }) => [c.name, meanSem(results.map((r) => c.value(r)))]));
}
