// Summaries of the results store for `results`, the demo and the report: done runs
// grouped by config fields, with mean and SEM of the score and test accuracy, and the
// test against the n = 0 baseline. The store only lists the rows (ResultsStore.groupRows);
// the statistics live here, in the experiments layer.
import { UserError } from '../util/errors.ts';
import type { ResultsStore, RunFilter } from '../store/results.ts';
import { mean, standardError, welchTTest } from './stats.ts';

export interface GroupSummary {
  /** groupBy name -> value (null when the config lacks it). */
  group: Record<string, unknown>;
  runs: number;
  meanScore: number;
  semScore: number;
  meanTestAcc: number;
  keys: string[];
}

/**
 * Done runs grouped by `groupBy`: each name is a grouping column (dataset, pattern, n,
 * target, seed, model, optimizer), 'kind', or a dotted path into the config
 * ('training.lr'). Per group: number of runs, mean and SEM (ddof 1) of result.score,
 * and mean result.testAcc (over the runs that report them; NaN when none do).
 */
export function groupedSummary(store: ResultsStore, groupBy: string[], filter: RunFilter = {}): GroupSummary[] {
  const groups = new Map<string, { values: unknown[]; keys: string[]; scores: number[]; accs: number[] }>();
  for (const row of store.groupRows(groupBy, { ...filter, status: 'done' })) {
    const id = JSON.stringify(row.values);
    let g = groups.get(id);
    if (!g) groups.set(id, (g = { values: row.values, keys: [], scores: [], accs: [] }));
    const result = row.result ?? {};
    g.keys.push(row.key);
    if (typeof result.score === 'number') g.scores.push(result.score);
    if (typeof result.testAcc === 'number') g.accs.push(result.testAcc);
  }
  return [...groups.values()].map((g) => ({
    group: Object.fromEntries(groupBy.map((name, i) => [name, g.values[i]])),
    runs: g.keys.length,
    meanScore: mean(g.scores),
    semScore: standardError(g.scores),
    meanTestAcc: mean(g.accs),
    keys: g.keys,
  }));
}

export interface BaselineSummary extends GroupSummary {
  /** Done runs of the matching n = 0 group(s); 0 when there is none (or this is one). */
  baselineRuns: number;
  baselineMeanScore: number;
  /** Welch's one-sided ("greater") test of the pooled per-image indicators; NaN without data. */
  t: number;
  df: number;
  pValue: number;
}

/**
 * groupedSummary plus, for every group with n > 0, Welch's one-sided t-test ("greater",
 * PROTOCOL.md section 6) against its n = 0 baseline.
 *
 * The baseline of a group is every done run with n = 0 that agrees with it on all
 * groupBy fields except n and seed: seeds are ignored because one baseline model per
 * seed is compared with the pooled seeds of the group. The test compares the
 * concatenation of the group's per-image 0/1 indicators (all its runs, all seeds) with
 * the concatenation of the baseline runs' indicators; images of different seeds are
 * thus treated as independent samples, which is the reference's per-model test applied
 * to all seeds at once. Runs stored without an indicator are left out of the test (not
 * of the means). groupBy must include 'n'.
 */
export function summarizeWithBaseline(store: ResultsStore, groupBy: string[], filter: RunFilter = {}): BaselineSummary[] {
  if (!groupBy.includes('n')) throw new UserError(`group-by [${groupBy.join(', ')}]: must include "n" to compare with the n = 0 baseline`);
  const summaries = groupedSummary(store, groupBy, filter);
  const matchFields = groupBy.filter((f) => f !== 'n' && f !== 'seed');
  const sameSetting = (a: GroupSummary, b: GroupSummary): boolean =>
    matchFields.every((f) => JSON.stringify(a.group[f]) === JSON.stringify(b.group[f]));
  const pooledIndicators = (keys: string[]): Uint8Array => {
    const parts = keys.map((k) => store.perImage(k)).filter((v): v is Uint8Array => v !== undefined);
    const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
    let offset = 0;
    for (const p of parts) {
      out.set(p, offset);
      offset += p.length;
    }
    return out;
  };
  return summaries.map((s) => {
    const n = s.group.n;
    const baselines = typeof n === 'number' && n > 0 ? summaries.filter((b) => b.group.n === 0 && sameSetting(s, b)) : [];
    const baselineKeys = baselines.flatMap((b) => b.keys);
    const baselineScores = baselineKeys.map((k) => store.get(k)?.result?.score).filter((v): v is number => typeof v === 'number');
    const test = baselineKeys.length > 0
      ? welchTTest(pooledIndicators(s.keys), pooledIndicators(baselineKeys), 'greater')
      : { t: NaN, df: NaN, pValue: NaN };
    return { ...s, baselineRuns: baselineKeys.length, baselineMeanScore: mean(baselineScores), ...test };
  });
}
