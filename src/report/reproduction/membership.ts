/**
 * Finding 5, membership inference: the paper's shadow-model attack flags the spurious
 * training examples as members more often than training examples in general, and LiRA
 * (Carlini et al. 2022) separates them better than clean examples of the same class.
 * Both tests are over seeds, paired by seed (one target model per seed): the share of
 * spurious examples flagged minus the share of all members flagged, and LiRA's AUC on
 * the spurious examples minus its AUC on matched clean ones, one-sided one-sample
 * t-tests that the difference is above 0. The reference notebook's saved shares (R3,
 * class 0, Adam, 10 seeds, 70 epochs) stand beside them.
 */
import { oneSampleTTest } from '../../experiments/stats.ts';
import type { RunRecord } from '../../store/results.ts';
import { compareFields, contextLabels, settingFields } from '../settings.ts';
import type { Table } from '../tables.ts';
import {
  ALPHA,
  type Assessment,
  type FindingRuns,
  formatAccuracy,
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

/** The share of spurious members the attack flags, saved in the reference's membership-inference notebook, by n. */
export const REFERENCE_SHARES: Record<string, Record<number, number>> = {
  mnist: { 1: 0.7, 3: 0.77, 5: 0.82, 10: 0.76, 20: 0.75, 100: 0.6, 1000: 0.61 },
  fashion: { 1: 0.9, 3: 0.93, 5: 0.82, 10: 0.71, 20: 0.51, 100: 0.2, 1000: 0.3 },
};

/** The effect is claimed for rare examples: n up to this counts. */
const RARE = 10;

interface Paired {
  context: Record<string, string>;
  dataset: string;
  n: number;
  seeds: number;
  a: number[];
  b: number[];
  p: number;
}

function paired(runs: RunRecord[], contextOf: (r: RunRecord) => Record<string, string>, pick: (r: RunRecord) => [number, number]): Paired[] {
  const groups = groupRuns(runs, (r) => JSON.stringify([contextOf(r), r.config.n]));
  return [...groups.values()]
    .map((g) => {
      const values = g.map(pick).filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b));
      return {
        context: contextOf(g[0]),
        dataset: String(g[0].config.dataset),
        n: numberAt(g[0].config, 'n'),
        seeds: values.length,
        a: values.map((v) => v[0]),
        b: values.map((v) => v[1]),
        p: oneSampleTTest(
          values.map(([a, b]) => a - b),
          0,
          'greater',
        ).pValue,
      };
    })
    .sort((x, y) => compareFields(x.context, y.context) || x.n - y.n);
}

function labeller(rows: Paired[]): (p: Paired) => string {
  const { labels } = contextLabels(rows.map((r) => r.context));
  return (p) => [labels[rows.indexOf(p)], `n = ${p.n}`].filter(Boolean).join(', ');
}

export function assessMembership(f: FindingRuns): Assessment {
  const mia = runsOfKind(f.done, 'mia');
  const lira = runsOfKind(f.done, 'lira');
  const miaRows = paired(
    mia,
    (r) => settingFields(r.config, ['seed', 'n']),
    (r) => [numberAt(r.result, 'attackAccSpurious'), numberAt(r.result, 'details', 'attackAccMembers')],
  );
  const liraRows = paired(
    lira,
    (r) => settingFields(r.config, ['seed', 'n', 'liraVersion', 'experiment']),
    (r) => [numberAt(r.result, 'spurious', 'auc'), numberAt(r.result, 'matchedClean', 'auc')],
  );
  const miaLabel = labeller(miaRows);
  const liraLabel = labeller(liraRows);
  const tables: Table[] = [];
  if (miaRows.length > 0) {
    tables.push({
      name: 'reproduction-mia',
      caption:
        "The paper's shadow-model attack: share of the spurious training examples flagged as members against the share of all members flagged, mean ± SEM over seeds, one-sided paired t-test over seeds; the reference notebook's saved share beside it",
      columns: [
        { header: 'setting', format: 'text' },
        { header: 'seeds', format: 'int' },
        ...textColumns('spurious flagged', 'members flagged', 'p (spurious > members)', 'attack AUC', 'target test acc.', 'reference notebook'),
      ],
      rows: miaRows.map((p) => {
        const group = mia.filter((r) => JSON.stringify(settingFields(r.config, ['seed', 'n'])) === JSON.stringify(p.context) && r.config.n === p.n);
        const ref = REFERENCE_SHARES[p.dataset]?.[p.n];
        return [
          miaLabel(p),
          p.seeds,
          formatMeanSem(meanSem(p.a)),
          formatMeanSem(meanSem(p.b)),
          formatP(p.p),
          formatMeanSem(meanSem(group.map((r) => numberAt(r.result, 'auc')))),
          formatAccuracy(meanSem(group.map((r) => numberAt(r.result, 'targetTestAcc')))),
          ref === undefined ? '–' : ref.toFixed(2),
        ];
      }),
    });
  }
  if (liraRows.length > 0) {
    tables.push({
      name: 'reproduction-lira',
      caption:
        'LiRA: AUC and TPR at 0.1% and 1% FPR of the spurious examples against matched clean examples of their class, memorization of the spurious examples against the population, mean ± SEM over seeds; one-sided paired t-test over seeds on the AUC difference',
      columns: [
        { header: 'setting', format: 'text' },
        { header: 'seeds', format: 'int' },
        ...textColumns(
          'AUC spurious',
          'AUC matched clean',
          'p (spurious > clean)',
          'TPR@0.1% spurious',
          'TPR@0.1% clean',
          'TPR@1% spurious',
          'TPR@1% clean',
          'memorization spurious',
          'memorization population',
        ),
      ],
      rows: liraRows.map((p) => {
        const group = lira.filter(
          (r) =>
            JSON.stringify(settingFields(r.config, ['seed', 'n', 'liraVersion', 'experiment'])) === JSON.stringify(p.context) && r.config.n === p.n,
        );
        const m = (...path: string[]) => formatMeanSem(meanSem(group.map((r) => numberAt(r.result, ...path))));
        const pct = (...path: string[]) => formatAccuracy(meanSem(group.map((r) => numberAt(r.result, ...path))));
        return [
          liraLabel(p),
          p.seeds,
          formatMeanSem(meanSem(p.a)),
          formatMeanSem(meanSem(p.b)),
          formatP(p.p),
          pct('spurious', 'tprAt01Fpr'),
          pct('matchedClean', 'tprAt01Fpr'),
          pct('spurious', 'tprAt1Fpr'),
          pct('matchedClean', 'tprAt1Fpr'),
          m('memorization', 'spuriousMean'),
          m('memorization', 'populationMean'),
        ];
      }),
    });
  }
  const rare = (rows: Paired[]) => rows.filter((p) => p.n <= RARE && p.seeds >= 2);
  const tested = [
    ...rare(miaRows).map((p) => ({ p, what: `attack ${miaLabel(p)}` })),
    ...rare(liraRows).map((p) => ({ p, what: `LiRA ${liraLabel(p)}` })),
  ];
  const hits = tested.filter((t) => t.p.p < ALPHA);
  const misses = tested.filter((t) => !hits.includes(t)).map((t) => `${t.what} (p ${formatP(t.p.p)})`);
  const notes: string[] = [];
  if (liraRows.length === 0) notes.push('No LiRA runs in the store: `spurlab reproduce --only mia` runs them.');
  if (miaRows.length === 0) notes.push("No runs of the paper's attack in the store.");
  return {
    verdict: verdictOf(hits.length, tested.length),
    reason:
      `In ${hits.length} of ${tested.length} settings with n ≤ ${RARE}, the spurious examples are exposed more than the comparison group over seeds (p < ${ALPHA}; the paper's attack: all members, LiRA: matched clean examples)` +
      (misses.length > 0 ? `; not: ${listOf(misses)}.` : '.'),
    tables,
    details: [],
    notes,
  };
}
