// The LiRA section on a synthetic store of lira runs: settings averaged over seeds, three
// charts that compile without a warning (log axes say so, the patterns keep their
// colours, one rule per spurious example), the table, and no section without lira runs.
import { test } from 'node:test';
import { formatScore } from '../../src/report/format.ts';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { collectReportData } from '../../src/report/collect.ts';
import { planReport } from '../../src/report/sections.ts';
import { SERIES_COLORS } from '../../src/report/charts/common.ts';
import { chartView } from '../../src/report/render.ts';
import { ResultsStore } from '../../src/store/results.ts';
import { runKey } from '../../src/store/runKey.ts';
import { putLiraRuns, syntheticLiraResult } from './syntheticStore.ts';
import { tempDir } from '../helpers.ts';

function liraStore(): ResultsStore {
  const store = ResultsStore.open(join(tempDir('spurlab-report-lira-'), 'results.db'));
  putLiraRuns(store);
  return store;
}

// every (nested) object of a spec with the given key
function find(spec: unknown, key: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const visit = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(visit);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (key in o) out.push(o);
      Object.values(o).forEach(visit);
    }
  };
  visit(spec);
  return out;
}

test('lira settings: one per pattern and n, seeds averaged; a result the kind refuses is left out', () => {
  const store = liraStore();
  // a run of other code: no memorization
  const bad = syntheticLiraResult('S3', 3, 0);
  delete bad.memorization;
  const key = runKey({ kind: 'lira', bogus: true });
  store.claim(key, { experiment: 'lira', dataset: 'mnist', pattern: 'S3', n: 3, seed: 0 }, 'lira');
  store.complete(key, bad);
  const data = collectReportData(store);
  store.close();
  assert.deepEqual(
    data.lira.map((s) => `${s.pattern} ${s.n} ${s.runs}`),
    ['R3 1 1', 'S3 1 1', 'R3 10 2', 'S3 10 1', 'R3 100 1', 'S3 100 1'],
  );
  const r3 = data.lira.find((s) => s.pattern === 'R3' && s.n === 10)!;
  const [a, b] = [syntheticLiraResult('R3', 10, 0), syntheticLiraResult('R3', 10, 1)] as { spurious: { auc: number; tprAt1Fpr: number } }[];
  assert.ok(Math.abs(r3.auc.spurious.mean - (a.spurious.auc + b.spurious.auc) / 2) < 1e-12);
  assert.ok(Math.abs(r3.tprAt1Fpr.spurious.sem - Math.abs(a.spurious.tprAt1Fpr - b.spurious.tprAt1Fpr) / 2) < 1e-12, 'SEM over the two seeds');
  assert.equal(r3.roc.spurious.length, 51);
  assert.equal(r3.spuriousMemorization.length, 20, "both seeds' spurious examples");
  assert.equal(
    r3.histogram.counts.reduce((x, y) => x + y, 0),
    2 * (9990 + 10),
  );
  assert.deepEqual(r3.fields.model, 'LargeMLP');
  assert.ok(!('liraVersion' in r3.fields) && !('seed' in r3.fields));
});

test('the lira section: ROC on log-log axes, TPR against n, memorization histogram with the spurious examples marked, table', async () => {
  const store = liraStore();
  const plan = planReport(collectReportData(store));
  store.close();
  assert.deepEqual(
    plan.sections.map((s) => s.id),
    ['lira'],
  );
  const section = plan.sections[0];
  assert.deepEqual(
    section.charts.map((c) => c.name),
    ['lira-roc', 'lira-tpr-vs-n', 'lira-memorization'],
  );
  for (const c of section.charts) {
    const { warnings } = await chartView(c.spec);
    assert.deepEqual(warnings, [], c.name);
    // the patterns keep their colours
    for (const scale of find(c.spec, 'range').filter((o) => Array.isArray(o.domain) && (o.domain as string[]).includes('R3'))) {
      const d = scale.domain as string[];
      const r = scale.range as string[];
      assert.equal(r[d.indexOf('R3')], SERIES_COLORS.R3, c.name);
      assert.equal(r[d.indexOf('S3')], SERIES_COLORS.S3, c.name);
    }
  }
  const [roc, tpr, mem] = section.charts.map((c) => c.spec);
  const titles = (spec: unknown) =>
    find(spec, 'title')
      .map((o) => o.title)
      .filter((t): t is string => typeof t === 'string');
  const logScales = (spec: unknown) =>
    find(spec, 'scale').filter((o) => (o.scale as { type?: string })?.type === 'log' || (o.scale as { type?: string })?.type === 'symlog');
  assert.ok(titles(roc).includes('false-positive rate (log scale)') && titles(roc).includes('true-positive rate (log scale)'));
  for (const spec of [roc, tpr, mem]) for (const axis of logScales(spec)) assert.match(String(axis.title), /\(log scale\)$/);
  assert.equal(logScales(roc).length >= 2, true, 'both ROC axes are logarithmic');
  assert.ok(titles(tpr).includes('n spurious examples (log scale)'));
  assert.ok(titles(mem).includes('training examples (log scale)'));
  // the ROC chart: a panel per n, all and spurious examples per pattern, the chance diagonal
  const rocRows = (roc as { data: { values: { layer: string; facet: string; dash?: string; series?: string; tpr: number }[] } }).data.values;
  assert.deepEqual([...new Set(rocRows.map((r) => r.facet))], ['n = 1', 'n = 10', 'n = 100']);
  assert.deepEqual([...new Set(rocRows.filter((r) => r.layer === 'roc').map((r) => `${r.series} ${r.dash}`))].sort(), [
    'R3 all examples',
    'R3 spurious examples',
    'S3 all examples',
    'S3 spurious examples',
  ]);
  assert.ok(
    rocRows.every((r) => r.tpr > 0),
    'zero rates are not drawn on a log axis',
  );
  // one rule per spurious example of every setting (1 + 10 + 100 per pattern, R3 at n = 10 twice)
  const memRows = (mem as { data: { values: { layer: string }[] } }).data.values;
  assert.equal(memRows.filter((r) => r.layer === 'spurious').length, 2 * 111 + 10);
  const { view } = await chartView(mem);
  assert.ok(view.scenegraph(), 'renders');
  // the symlog count axis is labelled at the powers of ten up to the largest bin
  const countAxis = find(mem, 'axis').find((o) => o.field === 'count')!.axis as { values: number[] };
  const largest = Math.max(...(mem as { data: { values: { layer: string; count?: number }[] } }).data.values.map((r) => r.count ?? 0));
  assert.deepEqual(countAxis.values.slice(0, 3), [0, 1, 10]);
  assert.ok(countAxis.values.at(-1)! >= largest && countAxis.values.at(-2)! < largest);
  // TPR against n: two rates x three groups x two patterns x three n
  const tprRows = (tpr as { data: { values: { layer: string }[] } }).data.values;
  assert.equal(tprRows.filter((r) => r.layer === 'curve').length, 2 * 3 * 2 * 3);

  const [table] = section.tables;
  assert.equal(table.name, 'lira');
  assert.equal(table.rows.length, 6);
  const col = (h: string) => table.columns.findIndex((c) => c.header === h);
  const s3n1 = table.rows.find((r) => r[col('pattern')] === 'S3' && r[col('n')] === 1)!;
  const expected = syntheticLiraResult('S3', 1, 0) as { spurious: { auc: number; tprAt01Fpr: number }; memorization: { spuriousMean: number } };
  // one seed: the value alone; two seeds (R3, n = 10): mean ± SEM over them
  assert.equal(s3n1[col('AUC (spurious)')], formatScore(expected.spurious.auc));
  assert.equal(s3n1[col('TPR at 0.1% FPR (spurious)')], `${(100 * expected.spurious.tprAt01Fpr).toFixed(1)}%`);
  assert.equal(s3n1[col('memorization (spurious)')], formatScore(expected.memorization.spuriousMean));
  assert.equal(s3n1[col('K')], 16);
  const r3n10 = table.rows.find((r) => r[col('pattern')] === 'R3' && r[col('n')] === 10)!;
  const [a, b] = [syntheticLiraResult('R3', 10, 0), syntheticLiraResult('R3', 10, 1)] as { spurious: { auc: number } }[];
  assert.equal(r3n10[col('seeds')], 2);
  assert.equal(
    r3n10[col('AUC (spurious)')],
    `${formatScore((a.spurious.auc + b.spurious.auc) / 2)} ± ${formatScore(Math.abs(a.spurious.auc - b.spurious.auc) / 2)}`,
  );
  const [ta, tb] = [syntheticLiraResult('R3', 10, 0), syntheticLiraResult('R3', 10, 1)] as { spurious: { tprAt1Fpr: number } }[];
  const pcts = (v: number) => (100 * v).toFixed(1);
  assert.equal(
    r3n10[col('TPR at 1% FPR (spurious)')],
    `${pcts((ta.spurious.tprAt1Fpr + tb.spurious.tprAt1Fpr) / 2)} ± ${pcts(Math.abs(ta.spurious.tprAt1Fpr - tb.spurious.tprAt1Fpr) / 2)}%`,
  );
  assert.match(table.caption, /mean ± SEM over seeds/);
  assert.match(table.caption, /mnist|MNIST/);
});

test('no lira runs: the section is listed as missing with its preset', () => {
  const store = ResultsStore.open(join(tempDir('spurlab-report-lira-'), 'results.db'));
  const plan = planReport(collectReportData(store));
  store.close();
  assert.deepEqual(plan.missing.find((m) => m.id === 'lira')?.presets, ['paper-lira']);
});
