// Summaries of the results store for `results`, the demo and the report: done runs
// grouped by config fields, with mean and SEM of the score and test accuracy, and the
// test against the n = 0 baseline. The store only lists the rows (ResultsStore.groupRows);
// the statistics live here, in the experiments layer.
import { UserError } from '../util/errors.ts';
import type { ResultsStore, RunFilter } from '../store/results.ts';
import { mean, standardError } from './stats.ts';
import { type BaselineTest, compareWithBaseline, type BaselineComparison } from './baselineTest.ts';

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
export function groupedSummary(store: ResultsStore, groupBy: string[], filter: RunFilter = {}, onlyKeys?: ReadonlySet<string>): GroupSummary[] {
  const groups = new Map<string, { values: unknown[]; keys: string[]; scores: number[]; accs: number[] }>();
  for (const row of store.groupRows(groupBy, { ...filter, status: 'done' })) {
    if (onlyKeys && !onlyKeys.has(row.key)) continue;
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
  /** Per-run scores of the group, in store order (one dot per run in the charts). */
  scores: number[];
  /** Done runs of the matching n = 0 group(s); 0 when there is none (or this is one). */
  baselineRuns: number;
  baselineMeanScore: number;
  /** The test against the baseline (over runs unless asked for per-image), with the bootstrap interval. */
  comparison: BaselineComparison;
  /** comparison's headline Welch statistic, df and one-sided p-value; NaN without a test. */
  t: number;
  df: number;
  pValue: number;
}

export interface BaselineOptions {
  /** 'runs' (default): per-run scores against the baseline's; 'per-image': the reference's pooled per-image test. */
  test?: BaselineTest;
  /** Summarize these runs only (e.g. the demo's, in a store that holds others too). */
  onlyKeys?: ReadonlySet<string>;
}

/**
 * groupedSummary plus, for every group with n > 0, the one-sided test against its n = 0
 * baseline (PROTOCOL.md section 6, compareWithBaseline).
 *
 * The baseline of a group is every done run with n = 0 that agrees with it on all
 * groupBy fields except n and seed: the n = 0 models trained over the same seeds. By
 * default the test is over runs (the group's per-run scores against the baseline runs'
 * scores: one number per trained model). With test 'per-image' it is the reference's:
 * the concatenated per-image 0/1 indicators of the group's runs against those of the
 * baseline runs, which treats test images as independent samples of the training
 * randomness; runs stored without an indicator are left out of that test (not of the
 * means). groupBy must include 'n'.
 */
export function summarizeWithBaseline(store: ResultsStore, groupBy: string[], filter: RunFilter = {}, opts: BaselineOptions = {}): BaselineSummary[] {
  if (!groupBy.includes('n')) throw new UserError(`group-by [${groupBy.join(', ')}]: must include "n" to compare with the n = 0 baseline`);
  const summaries = groupedSummary(store, groupBy, filter, opts.onlyKeys);
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
  const scoresOf = (keys: string[]): number[] => keys.map((k) => store.get(k)?.result?.score).filter((v): v is number => typeof v === 'number');
  return summaries.map((s) => {
    const n = s.group.n;
    const scores = scoresOf(s.keys);
    const baselines = typeof n === 'number' && n > 0 ? summaries.filter((b) => b.group.n === 0 && sameSetting(s, b)) : [];
    const baselineKeys = baselines.flatMap((b) => b.keys);
    const baselineScores = scoresOf(baselineKeys);
    const perImage =
      opts.test === 'per-image' && baselineKeys.length > 0
        ? { setting: pooledIndicators(s.keys), baseline: pooledIndicators(baselineKeys) }
        : undefined;
    let comparison = compareWithBaseline(scores, baselineScores, perImage);
    if (typeof n !== 'number' || n <= 0) comparison = { ...comparison, note: n === 0 ? 'baseline' : 'no n', t: NaN, df: NaN, pValue: NaN };
    if (opts.test === 'per-image') comparison = { ...comparison, test: 'per-image' };
    return {
      ...s,
      scores,
      baselineRuns: baselineKeys.length,
      baselineMeanScore: mean(baselineScores),
      comparison,
      t: comparison.t,
      df: comparison.df,
      pValue: comparison.pValue,
    };
  });
}
