/**
 * Finding 2, pattern norm against score: per seed, Pearson's r between the patterns'
 * l2 norms and their spurious scores (one point per pattern, a seed's runs), then the
 * mean r over seeds and a one-sided one-sample t-test that it is above 0. The pooled r
 * of the means over seeds, which the paper's figure shows, is given beside it.
 */
import { oneSampleTTest, pearson } from '../../experiments/stats.ts';
import type { RunRecord } from '../../store/results.ts';
import { compareFields, contextLabels, settingFields } from '../settings.ts';
import type { Table } from '../tables.ts';
import {
  ALPHA,
  type Assessment,
  type FindingRuns,
  formatMeanSem,
  formatP,
  groupRuns,
  listOf,
  meanSem,
  numberAt,
  runsOfKind,
  verdictOf,
  textColumns,
} from './types.ts';
import { mean } from '../../experiments/stats.ts';

export interface NormOutcome {
  /** Display values of the fields the setting's runs share but pattern, seed and n. */
  context: Record<string, string>;
  n: number;
  patterns: number;
  perSeed: number[];
  pooled: number;
  p: number;
}

/** r over patterns of (norm, score), NaN when either side has no spread. */
function correlation(points: { norm: number; score: number }[]): number {
  const usable = points.filter((p) => Number.isFinite(p.norm) && Number.isFinite(p.score));
  if (usable.length < 3) return NaN;
  return pearson(
    usable.map((p) => p.norm),
    usable.map((p) => p.score),
  ).r;
}

export function normOutcomes(runs: RunRecord[]): NormOutcome[] {
  const train = runsOfKind(runs, 'train').filter((r) => numberAt(r.config, 'n') > 0);
  const settings = groupRuns(train, (r) => JSON.stringify(settingFields(r.config, ['pattern', 'seed'])));
  const out: NormOutcome[] = [];
  for (const group of settings.values()) {
    const point = (r: RunRecord) => ({ norm: numberAt(r.result, 'patternNorm'), score: numberAt(r.result, 'score') });
    const perSeed = [...groupRuns(group, (r) => String(r.config.seed)).values()].map((rs) => correlation(rs.map(point))).filter(Number.isFinite);
    const byPattern = [...groupRuns(group, (r) => String(r.config.pattern)).values()];
    const pooled = correlation(byPattern.map((rs) => ({ norm: mean(rs.map((r) => point(r).norm)), score: mean(rs.map((r) => point(r).score)) })));
    out.push({
      context: settingFields(group[0].config, ['pattern', 'seed', 'n']),
      n: numberAt(group[0].config, 'n'),
      patterns: byPattern.length,
      perSeed,
      pooled,
      p: oneSampleTTest(perSeed, 0, 'greater').pValue,
    });
  }
  return out.sort((a, b) => compareFields(a.context, b.context) || a.n - b.n);
}

export function assessNorm(f: FindingRuns): Assessment {
  const outcomes = normOutcomes(f.done);
  const { labels, common } = contextLabels(outcomes.map((o) => o.context));
  const label = (o: NormOutcome) => labels[outcomes.indexOf(o)] || 'all';
  const table: Table = {
    name: 'reproduction-norm',
    caption: `Pearson's r between pattern norm and spurious score over the patterns: per seed (mean ± SEM), one-sided t-test over seeds that r > 0, and r of the seed means (${common})`,
    columns: [
      { header: 'setting', format: 'text' },
      { header: 'n', format: 'int' },
      { header: 'patterns', format: 'int' },
      { header: 'seeds', format: 'int' },
      ...textColumns('r per seed', 'p (r > 0, over seeds)'),
      { header: 'r of the means', format: 'score' },
    ],
    rows: outcomes.map((o) => [
      label(o),
      o.n,
      o.patterns,
      o.perSeed.length,
      formatMeanSem(meanSem(o.perSeed)),
      formatP(o.p, 'scores without spread'),
      o.pooled,
    ]),
  };
  const tested = outcomes.filter((o) => o.perSeed.length >= 2);
  const hits = tested.filter((o) => o.p < ALPHA);
  const negative = tested.filter((o) => meanSem(o.perSeed).mean <= 0).map((o) => `${label(o)} n = ${o.n}`);
  const weak = tested.filter((o) => !hits.includes(o) && meanSem(o.perSeed).mean > 0).map((o) => `${label(o)} n = ${o.n}`);
  const parts = [`${hits.length} of ${tested.length} (data set, n) settings have a positive norm-score correlation over seeds (p < ${ALPHA})`];
  if (weak.length > 0) parts.push(`positive but not significant: ${listOf(weak)}`);
  if (negative.length > 0) parts.push(`zero or negative: ${listOf(negative)}`);
  return { verdict: verdictOf(hits.length, tested.length), reason: `${parts.join('; ')}.`, tables: [table], details: [], notes: [] };
}
