// The report section "Unlearning methods against retraining" (issue 19): per setting
// (data set, pattern, model, n) and unlearning method, the spurious score after the
// method against its wall time, with the retrained model as the reference (a horizontal
// line at its score, a vertical one at its training time), and the table behind it.
// It reads forget runs whose result carries the unlearning fields (forget/forget.ts).
import { UNLEARN_METHODS } from '../forget/unlearning/methods.ts';
import { mean, standardError } from '../experiments/stats.ts';
import type { MeanSem } from './collect.ts';
import type { Table } from './tables.ts';
import { distinctInOrder } from './charts/common.ts';

export const UNLEARNING_SECTION = { id: 'unlearning', title: 'Unlearning methods against retraining' } as const;

export interface UnlearningRow {
  setting: string; // "mnist R3 LargeMLP"
  n: number;
  method: string;
  seeds: number;
  scoreBefore: MeanSem;
  scoreAfter: MeanSem;
  scoreRetrain: MeanSem;
  testAccAfter: MeanSem;
  testAccRetrain: MeanSem;
  forgetAccAfter: MeanSem;
  retainAccAfter: MeanSem;
  memberRateAfter: MeanSem;
  memberRateRetrain: MeanSem;
  klToRetrain: MeanSem;
  seconds: MeanSem; // the method's own time
  retrainSeconds: MeanSem;
}

interface ForgetRun {
  config: Record<string, unknown>;
  result: unknown;
}

type R = Record<string, unknown>;
function meanSem(values: unknown[]): MeanSem {
  const xs = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  return { mean: mean(xs), sem: standardError(xs), count: xs.length };
}
const obj = (v: unknown): R | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as R) : undefined);
const at = (v: unknown, ...path: string[]): unknown => path.reduce<unknown>((o, k) => obj(o)?.[k], v);

/** The paper's deletion methods, shown beside the unlearning methods where a setting has both. */
const PAPER_METHODS = ['incremental', 'influence'] as const;
const METHOD_ORDER: readonly string[] = [...PAPER_METHODS, ...UNLEARN_METHODS];

/**
 * Rows over seeds, in method order within each setting and n. Incremental retraining
 * and influence deletion join a setting that has unlearning runs; they do not retrain
 * themselves, so their retrained-model columns are the setting's (the same retrained
 * run per seed).
 */
export function unlearningRows(runs: readonly ForgetRun[]): UnlearningRow[] {
  const groups = new Map<string, ForgetRun[]>();
  const settingOf = (r: ForgetRun) => JSON.stringify([r.config.dataset, r.config.pattern, r.config.model, r.config.n]);
  const unlearned = new Set(
    runs.filter((r) => (UNLEARN_METHODS as readonly unknown[]).includes(r.config.method) && obj(at(r.result, 'unlearning'))).map(settingOf),
  );
  for (const r of runs) {
    const paper = (PAPER_METHODS as readonly unknown[]).includes(r.config.method);
    if (!unlearned.has(settingOf(r)) || !obj(at(r.result, 'after'))) continue;
    if (!paper && !((UNLEARN_METHODS as readonly unknown[]).includes(r.config.method) && obj(at(r.result, 'unlearning')))) continue;
    const key = JSON.stringify([r.config.dataset, r.config.pattern, r.config.model, r.config.n, r.config.method]);
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const rows = [...groups.values()].map((g): UnlearningRow => {
    const c = g[0].config;
    const m = (...path: string[]) => meanSem(g.map((r) => at(r.result, ...path)));
    return {
      setting: `${c.dataset} ${c.pattern} ${c.model}`,
      n: Number(c.n),
      method: String(c.method),
      seeds: new Set(g.map((r) => r.config.seed)).size,
      scoreBefore: m('before', 'score'),
      scoreAfter: m('after', 'score'),
      scoreRetrain: m('retrain', 'score'),
      testAccAfter: m('after', 'testAcc'),
      testAccRetrain: m('retrain', 'testAcc'),
      forgetAccAfter: m('after', 'forgetAcc'),
      retainAccAfter: m('after', 'retainAcc'),
      memberRateAfter: m('after', 'forgetMemberRate'),
      memberRateRetrain: m('retrain', 'forgetMemberRate'),
      klToRetrain: m('distance', 'after', 'testKl'),
      seconds: m('methodSeconds'),
      retrainSeconds: m('retrainSeconds'),
    };
  });
  for (const row of rows) {
    if (row.scoreRetrain.count > 0) continue;
    const sibling = rows.find((o) => o.setting === row.setting && o.n === row.n && o.scoreRetrain.count > 0);
    if (sibling) Object.assign(row, pick(sibling, ['scoreRetrain', 'testAccRetrain', 'memberRateRetrain', 'retrainSeconds']));
  }
  const order = (m: string) => METHOD_ORDER.indexOf(m);
  return rows.sort((a, b) => a.setting.localeCompare(b.setting) || a.n - b.n || order(a.method) - order(b.method));
}

function pick<T extends object, K extends keyof T>(o: T, keys: K[]): Pick<T, K> {
  return Object.fromEntries(keys.map((k) => [k, o[k]])) as Pick<T, K>;
}

export function unlearningTable(rows: readonly UnlearningRow[]): Table {
  return {
    name: 'unlearning',
    caption: "Unlearning methods against retraining (mean over seeds; seconds are the method's own, retraining's is its training time)",
    columns: [
      { header: 'setting', format: 'text' },
      { header: 'n', format: 'int' },
      { header: 'method', format: 'text' },
      { header: 'seeds', format: 'int' },
      { header: 'score before', format: 'score' },
      { header: 'score after', format: 'score' },
      { header: 'SEM', format: 'score' },
      { header: 'score retrain', format: 'score' },
      { header: 'test acc. after', format: 'percent' },
      { header: 'test acc. retrain', format: 'percent' },
      { header: 'forget acc.', format: 'percent' },
      { header: 'retain acc.', format: 'percent' },
      { header: 'member rate after', format: 'percent' },
      { header: 'member rate retrain', format: 'percent' },
      { header: 'KL to retrain', format: 'number' },
      { header: 'seconds', format: 'number' },
      { header: 'retrain seconds', format: 'number' },
    ],
    rows: rows.map((r) => [
      r.setting,
      r.n,
      r.method,
      r.seeds,
      r.scoreBefore.mean,
      r.scoreAfter.mean,
      r.scoreAfter.sem,
      r.scoreRetrain.mean,
      r.testAccAfter.mean,
      r.testAccRetrain.mean,
      r.forgetAccAfter.mean,
      r.retainAccAfter.mean,
      r.memberRateAfter.mean,
      r.memberRateRetrain.mean,
      r.klToRetrain.mean,
      r.seconds.mean,
      r.retrainSeconds.mean,
    ]),
  };
}

/** Vega-Lite: score after against seconds, one colour per method, one panel per setting and n; retraining as rules. */
export function unlearningChart(rows: readonly UnlearningRow[]): object {
  const values = rows.map((r) => ({
    panel: `${r.setting}, n = ${r.n}`,
    method: r.method,
    seconds: r.seconds.mean,
    score: r.scoreAfter.mean,
    sem: r.scoreAfter.sem,
    retrainScore: r.scoreRetrain.mean,
    retrainSeconds: r.retrainSeconds.mean,
  }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: { text: UNLEARNING_SECTION.title, subtitle: 'dashed: the retrained model (its score; its training time)' },
    data: { values },
    // panels in the rows' order (n = 3, 10, 100), not alphabetical (n = 10 before n = 3)
    facet: { field: 'panel', type: 'nominal', title: null, sort: distinctInOrder(values.map((v) => v.panel)) },
    columns: 3,
    spec: {
      layer: [
        {
          mark: { type: 'point', filled: true },
          encoding: {
            x: { field: 'seconds', type: 'quantitative', scale: { type: 'log' }, title: 'seconds (method)' },
            y: { field: 'score', type: 'quantitative', scale: { domain: [0, 1] }, title: 'spurious score after' },
            color: { field: 'method', type: 'nominal', sort: [...METHOD_ORDER] },
            tooltip: [{ field: 'method' }, { field: 'score' }, { field: 'sem' }, { field: 'seconds' }],
          },
        },
        {
          // mean ± SEM over seeds
          transform: [
            { calculate: 'datum.score - datum.sem', as: 'lo' },
            { calculate: 'datum.score + datum.sem', as: 'hi' },
          ],
          mark: { type: 'rule', clip: true },
          encoding: {
            x: { field: 'seconds', type: 'quantitative', scale: { type: 'log' } },
            y: { field: 'lo', type: 'quantitative' },
            y2: { field: 'hi' },
            color: { field: 'method', type: 'nominal', sort: [...METHOD_ORDER] },
          },
        },
        {
          mark: { type: 'rule', strokeDash: [4, 4], color: 'black' },
          encoding: { y: { aggregate: 'mean', field: 'retrainScore', type: 'quantitative' } },
        },
        {
          mark: { type: 'rule', strokeDash: [4, 4], color: 'gray' },
          encoding: { x: { aggregate: 'mean', field: 'retrainSeconds', type: 'quantitative' } },
        },
      ],
    },
  };
}
