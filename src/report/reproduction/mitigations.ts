/**
 * Finding 6, mitigations: weight decay and Gaussian input noise lower the spurious score
 * (at a cost in test accuracy), gradient clipping does not. For each mitigation,
 * strength and n, the per-seed scores are paired with the unmitigated runs of the same
 * seed and n; a one-sided one-sample t-test over seeds asks whether the mitigation
 * lowers the score. A mitigation "reduces" at n when some strength does (p < ALPHA).
 */
import { oneSampleTTest } from '../../experiments/stats.ts';
import type { RunRecord } from '../../store/results.ts';
import { formatNumber } from '../format.ts';
import { type Regularizer, REGULARIZERS, settingFields, strengthOf } from '../settings.ts';
import type { Table } from '../tables.ts';
import {
  ALPHA,
  type Assessment,
  type FindingRuns,
  formatAccuracy,
  formatMeanSem,
  formatP,
  groupRuns,
  meanSem,
  numberAt,
  runsOfKind,
  verdictOf,
  textColumns,
} from './types.ts';

const NAMES: Record<Regularizer, string> = { weightDecay: 'weight decay', inputNoise: 'input noise', gradClip: 'gradient clipping' };
/** What the paper says each mitigation does to the score. */
const CLAIMED: Record<Regularizer, 'reduces' | 'does not reduce'> = { weightDecay: 'reduces', inputNoise: 'reduces', gradClip: 'does not reduce' };

interface Row {
  mitigation: Regularizer;
  strength: number;
  n: number;
  seeds: number;
  score: number[];
  base: number[];
  acc: number[];
  baseAcc: number[];
  p: number;
}

const mitigationOf = (r: RunRecord): Regularizer | 'none' | 'several' => {
  const on = REGULARIZERS.filter((k) => strengthOf(r.config[k]) !== 0);
  return on.length === 0 ? 'none' : on.length === 1 ? on[0] : 'several';
};

export function mitigationRows(runs: RunRecord[]): Row[] {
  const train = runsOfKind(runs, 'train').filter((r) => numberAt(r.config, 'n') > 0);
  const contextOf = (r: RunRecord) => JSON.stringify([settingFields(r.config, ['seed', ...REGULARIZERS]), r.config.seed]);
  const unmitigated = new Map(train.filter((r) => mitigationOf(r) === 'none').map((r) => [contextOf(r), r]));
  const rows: Row[] = [];
  const groups = groupRuns(
    train.filter((r) => REGULARIZERS.includes(mitigationOf(r) as Regularizer)),
    (r) => JSON.stringify([mitigationOf(r), strengthOf(r.config[mitigationOf(r)]), settingFields(r.config, ['seed', ...REGULARIZERS])]),
  );
  for (const g of groups.values()) {
    const m = mitigationOf(g[0]) as Regularizer;
    const pairs = g.map((r) => [r, unmitigated.get(contextOf(r))] as const).filter((p): p is readonly [RunRecord, RunRecord] => p[1] !== undefined);
    const score = pairs.map(([r]) => numberAt(r.result, 'score'));
    const base = pairs.map(([, b]) => numberAt(b.result, 'score'));
    rows.push({
      mitigation: m,
      strength: strengthOf(g[0].config[m]),
      n: numberAt(g[0].config, 'n'),
      seeds: pairs.length,
      score,
      base,
      acc: pairs.map(([r]) => numberAt(r.result, 'testAcc')),
      baseAcc: pairs.map(([, b]) => numberAt(b.result, 'testAcc')),
      p: oneSampleTTest(
        base.map((b, i) => b - score[i]),
        0,
        'greater',
      ).pValue,
    });
  }
  return rows.sort((a, b) => REGULARIZERS.indexOf(a.mitigation) - REGULARIZERS.indexOf(b.mitigation) || a.n - b.n || a.strength - b.strength);
}

export function assessMitigations(f: FindingRuns): Assessment {
  const rows = mitigationRows(f.done);
  const table: Table = {
    name: 'reproduction-mitigations',
    caption:
      'Spurious score and test accuracy with each mitigation against the unmitigated runs of the same seeds, mean ± SEM over seeds; p from a one-sided paired t-test over seeds that the mitigation lowers the score',
    columns: [
      ...textColumns('mitigation', 'strength'),
      { header: 'n', format: 'int' },
      { header: 'seeds', format: 'int' },
      ...textColumns('score', 'unmitigated score', 'p (lower)', 'test acc.', 'unmitigated test acc.'),
    ],
    rows: rows.map((r) => [
      NAMES[r.mitigation],
      formatNumber(r.strength),
      r.n,
      r.seeds,
      formatMeanSem(meanSem(r.score)),
      formatMeanSem(meanSem(r.base)),
      formatP(r.p),
      formatAccuracy(meanSem(r.acc)),
      formatAccuracy(meanSem(r.baseAcc)),
    ]),
  };
  const claims: string[] = [];
  let held = 0;
  let tested = 0;
  for (const m of REGULARIZERS) {
    const mine = rows.filter((r) => r.mitigation === m && r.seeds >= 2);
    if (mine.length === 0) continue;
    tested++;
    const ns = [...new Set(mine.map((r) => r.n))];
    const reducedAt = ns.filter((n) => mine.some((r) => r.n === n && r.p < ALPHA));
    const holds = CLAIMED[m] === 'reduces' ? reducedAt.length === ns.length : reducedAt.length === 0;
    if (holds) held++;
    // the largest mean drop, significant or not: with few seeds a large drop can miss p < ALPHA
    const drop = (r: Row) => meanSem(r.base).mean - meanSem(r.score).mean;
    const largest = [...mine].sort((a, b) => drop(b) - drop(a))[0];
    const accPoints = (r: Row) => (100 * (meanSem(r.acc).mean - meanSem(r.baseAcc).mean)).toFixed(1);
    claims.push(
      `${NAMES[m]} lowers the score at ${reducedAt.length} of ${ns.length} n (largest mean drop ${drop(largest).toFixed(3)} at ${formatNumber(largest.strength)}, n = ${largest.n}, p ${formatP(largest.p)}, test accuracy ${accPoints(largest)} points): the paper's "${CLAIMED[m]}" ${holds ? 'holds' : 'does not hold'}`,
    );
  }
  return {
    verdict: verdictOf(held, tested),
    reason: `${held} of ${tested} mitigation claims hold (p < ${ALPHA} over seeds): ${claims.join('; ')}.`,
    tables: [table],
    details: [],
    notes: [],
  };
}
