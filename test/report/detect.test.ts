// The report's detection section from a store of detect runs: grouped over seeds, the
// precision chart and the rank chart compile without a warning, the table has a row per
// (method, pattern, n) with the retraining columns where a run retrained.
import { test } from 'node:test';
import { toLatex } from '../../src/report/tables.ts';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ResultsStore } from '../../src/store/results.ts';
import { runKey } from '../../src/store/runKey.ts';
import { collectReportData } from '../../src/report/collect.ts';
import { planReport } from '../../src/report/sections.ts';
import { chartView } from '../../src/report/render.ts';
import { tempDir } from '../helpers.ts';

test('detection section: charts compile, a table row per method x pattern x n, means over seeds', async () => {
  const s = ResultsStore.open(join(tempDir('spurlab-detect-report-'), 'results.db'));
  const put = (config: Record<string, unknown>, result: Record<string, unknown>) => {
    const key = runKey({ kind: 'detect', ...config });
    assert.ok(s.claim(key, config, 'detect'));
    assert.ok(s.complete(key, result));
  };
  for (const pattern of ['R3', 'S3'])
    for (const method of ['loss', 'spectral'])
      for (const n of [3, 10])
        for (const seed of [0, 1, 2]) {
          const good = method === 'spectral';
          put(
            { dataset: 'mnist', pattern, model: 'LargeMLP', method, n, seed, thenRetrain: good ? 20 : 0 },
            {
              method,
              ranks: Array.from({ length: n }, (_, i) => (good ? i + 1 + seed : 5000 + i)),
              precisionAtN: good ? 0.9 - seed / 10 : 0,
              recallAt10N: good ? 1 : 0,
              auroc: good ? 0.99 : 0.01,
              aurocTargetClass: good ? 1 : 0.02,
              seconds: 1 + seed,
              n,
              trainSize: 6000,
              retrain: good ? { k: 20, removedSpurious: n, scoreBefore: 0.8, testAccBefore: 0.95, score: 0.05, testAcc: 0.949 } : null,
            },
          );
        }
  const data = collectReportData(s);
  s.close();
  assert.equal(data.detect.length, 8);
  const spectral = data.detect.find((d) => d.method === 'spectral' && d.pattern === 'R3' && d.n === 10)!;
  assert.equal(spectral.runs, 3);
  assert.ok(Math.abs(spectral.precisionAtN.mean - 0.8) < 1e-12);
  assert.equal(spectral.ranks.length, 30);
  assert.ok(Math.abs(spectral.scoreAfterRetrain.mean - 0.05) < 1e-12);
  const section = planReport(data).sections.find((x) => x.id === 'detection');
  assert.ok(section, 'detect runs fill the detection section');
  assert.deepEqual(
    section.charts.map((c) => c.name),
    ['detection-precision', 'detection-ranks'],
  );
  for (const c of section.charts) {
    const { view, warnings } = await chartView(c.spec);
    view.finalize();
    assert.deepEqual(warnings, [], c.name);
  }
  const table = section.tables[0];
  assert.equal(table.rows.length, 8);
  const loss = table.rows.find((r) => r[3] === 'loss')!;
  assert.equal(loss[11], null, 'no retraining columns for a run that did not retrain');
  assert.match(String(loss[8]), /^\d\.\d{3} ± \d\.\d{3}$/, 'AUROC as mean ± SEM over the seeds');
  assert.match(toLatex(table), /\d \$\\pm\$ \d/, 'LaTeX writes ± as $\\pm$');
});
