/**
 * Finding 1, a handful of examples suffices: for every data set and pattern, the
 * smallest n whose per-run scores exceed the n = 0 runs' (one-sided Welch over seeds,
 * the test `spurlab results` prints). The effect is claimed for n of 1 to 10.
 */
import type { TrainSetting } from '../collect.ts';
import { contextKey } from '../settings.ts';
import { settingsTable, type Table } from '../tables.ts';
import { ALPHA, type Assessment, type FindingRuns, formatMeanSem, formatP, groupRuns, listOf, verdictOf, textColumns } from './types.ts';

/** The largest n that still counts as "a handful". */
export const HANDFUL = 10;

export interface PatternOutcome {
  dataset: string;
  pattern: string;
  settings: TrainSetting[];
  /** The smallest n > 0 with p < ALPHA, or undefined. */
  firstN: number | undefined;
}

export function patternOutcomes(train: TrainSetting[]): PatternOutcome[] {
  const groups = groupRuns(train, (s) => contextKey(s.fields));
  return [...groups.values()].map((settings) => {
    const sorted = [...settings].sort((a, b) => a.n - b.n);
    const first = sorted.find((s) => s.n > 0 && s.pValue < ALPHA);
    return { dataset: sorted[0].fields.dataset ?? '–', pattern: sorted[0].fields.pattern ?? '–', settings: sorted, firstN: first?.n };
  });
}

export function assessExamples(f: FindingRuns): Assessment {
  const outcomes = patternOutcomes(f.data.train);
  const ns = [...new Set(f.data.train.map((s) => s.n))].sort((a, b) => a - b);
  const table: Table = {
    name: 'reproduction-examples',
    caption: `Spurious score (mean ± SEM over seeds) per n, and the smallest n above the n = 0 runs (one-sided Welch over seeds, p < ${ALPHA})`,
    columns: [
      ...textColumns('data set', 'pattern'),
      ...ns.map((n) => ({ header: `n = ${n}`, format: 'text' as const })),
      ...textColumns('smallest n with p < 0.05', 'p there'),
    ],
    rows: outcomes.map((o) => {
      const at = (n: number) => o.settings.find((s) => s.n === n);
      const first = o.firstN === undefined ? undefined : at(o.firstN);
      return [
        o.dataset,
        o.pattern,
        ...ns.map((n) => {
          const s = at(n);
          return s ? formatMeanSem(s.score) : '–';
        }),
        o.firstN === undefined ? 'none' : String(o.firstN),
        first ? formatP(first.pValue) : '–',
      ];
    }),
  };
  const hits = outcomes.filter((o) => o.firstN !== undefined && o.firstN <= HANDFUL);
  const misses = outcomes
    .filter((o) => !hits.includes(o))
    .map((o) => `${o.dataset} ${o.pattern} (${o.firstN === undefined ? 'never' : `first at n = ${o.firstN}`})`);
  const datasets = [...new Set(outcomes.map((o) => o.dataset))];
  let verdict = verdictOf(hits.length, outcomes.length);
  const notes: string[] = [
    `Each n is tested on its own, without a correction for the ${Math.max(0, ns.filter((n) => n > 0 && n <= HANDFUL).length)} values of n ≤ ${HANDFUL} tried per pattern; with so few seeds the exact permutation test cannot go below its floor (${permutationFloor(f)}), so the Welch p-values carry the verdict.`,
  ];
  if (datasets.length < 2 && verdict === 'reproduced') {
    verdict = 'partly reproduced';
    notes.push(`Only ${datasets.join(', ')} is in the store; the paper shows MNIST and Fashion-MNIST.`);
  }
  const reason =
    `${hits.length} of ${outcomes.length} (data set, pattern) pairs score above their n = 0 runs at some n ≤ ${HANDFUL} (one-sided Welch over seeds, p < ${ALPHA})` +
    (misses.length > 0 ? `; not: ${listOf(misses)}.` : '.');
  return {
    verdict,
    reason,
    tables: [table],
    details: [
      settingsTable(
        f.data.train.map((s) => s.summary),
        { name: 'reproduction-examples-settings', caption: 'Every setting of finding 1' },
      ),
    ],
    notes,
  };
}

/** The smallest p the exact permutation test can give with the finding's run counts. */
function permutationFloor(f: FindingRuns): string {
  const floors = f.data.train.map((s) => s.summary.comparison.pPermutationMin).filter(Number.isFinite);
  return floors.length > 0 ? Math.min(...floors).toFixed(3) : 'none here';
}
