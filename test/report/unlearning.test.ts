// The "Unlearning methods against retraining" rows, table and chart from forget runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildReport } from '../../src/report/build.ts';
import { unlearningChart, unlearningRows, unlearningTable } from '../../src/report/unlearning.ts';
import { ResultsStore } from '../../src/store/results.ts';
import { runKey } from '../../src/store/runKey.ts';

const run = (method: string, seed: number, after: number, seconds: number) => ({
  config: { dataset: 'mnist', pattern: 'R3', model: 'LargeMLP', n: 10, seed, method },
  result: {
    before: { score: 0.9, testAcc: 0.98 },
    after: { score: after, testAcc: 0.97, forgetAcc: 1, retainAcc: 0.99, forgetMemberRate: 1 },
    retrain: { score: 0.05, testAcc: 0.98, forgetMemberRate: 0.4 },
    distance: { after: { testKl: 0.01 } },
    methodSeconds: seconds,
    retrainSeconds: 100,
    unlearning: { steps: 3 },
  },
});

test('rows average seeds per setting and method in method order; deletion runs and old results are left out', () => {
  const rows = unlearningRows([
    run('ssd', 0, 0.8, 2),
    run('finetune', 0, 0.6, 40),
    run('finetune', 1, 0.4, 60),
    run('ssd', 1, 0.6, 4),
    { config: { method: 'incremental', n: 10 }, result: { before: {}, after: {} } },
    { config: { method: 'finetune', n: 3 }, result: { after: {} } },
  ]);
  assert.deepEqual(
    rows.map((r) => [r.method, r.seeds]),
    [
      ['finetune', 2],
      ['ssd', 2],
    ],
  );
  assert.ok(Math.abs(rows[0].scoreAfter.mean - 0.5) < 1e-12 && Math.abs(rows[0].scoreAfter.sem - 0.1) < 1e-12);
  assert.equal(rows[1].seconds.mean, 3);
  const table = unlearningTable(rows);
  assert.equal(table.rows.length, 2);
  assert.equal(table.rows[0][table.columns.findIndex((c) => c.header === 'score retrain')], 0.05);
  const chart = unlearningChart(rows) as { data: { values: { method: string; retrainSeconds: number }[] } };
  assert.deepEqual(
    chart.data.values.map((v) => [v.method, v.retrainSeconds]),
    [
      ['finetune', 100],
      ['ssd', 100],
    ],
  );
});

test("the paper's incremental retraining and influence join a setting that has unlearning runs, with its retrained model", () => {
  const inc = (seed: number) => {
    const r = run('incremental', seed, 0.85, 20);
    const { unlearning: _u, ...result } = r.result;
    return { config: { ...r.config, method: 'incremental' }, result: { ...result, retrain: null } };
  };
  const rows = unlearningRows([run('ssd', 0, 0.8, 2), run('ssd', 1, 0.6, 4), inc(0), inc(1)]);
  assert.deepEqual(
    rows.map((r) => r.method),
    ['incremental', 'ssd'],
  );
  assert.equal(rows[0].scoreAfter.mean, 0.85);
  assert.equal(rows[0].scoreRetrain.mean, 0.05, "the setting's retrained model");
  assert.equal(rows[0].retrainSeconds.mean, 100);
  // alone (no unlearning run of the setting), it stays in the deletion section only
  assert.deepEqual(unlearningRows([inc(0)]), []);
});

test('the report draws the section from a store of forget runs, the deletion section keeps only the deletion methods', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'spurlab-report-unlearning-'));
  const store = ResultsStore.open(join(dir, 'results.db'));
  const runs = [run('finetune', 0, 0.6, 40), run('finetune', 1, 0.4, 60), run('salun', 0, 0.1, 30), run('salun', 1, 0.2, 35)];
  runs.push({ config: { ...runs[0].config, method: 'retrain' }, result: { ...runs[0].result, after: { ...runs[0].result.after, score: 0.05 } } });
  for (const r of runs) {
    const key = runKey({ kind: 'forget', ...r.config });
    assert.ok(store.claim(key, r.config, 'forget'));
    assert.ok(store.complete(key, r.result));
  }
  const report = await buildReport(store, join(dir, 'out'));
  store.close();
  assert.deepEqual(report.sections, ['deletion', 'unlearning']);
  for (const f of ['charts/unlearning.svg', 'charts/unlearning.png', 'tables/unlearning.md']) assert.ok(existsSync(join(dir, 'out', f)), f);
  const md = readFileSync(join(dir, 'out', 'tables', 'unlearning.md'), 'utf8');
  assert.match(md, /salun/);
  assert.doesNotMatch(readFileSync(join(dir, 'out', 'tables', 'deletion.md'), 'utf8'), /salun|finetune/);
});
