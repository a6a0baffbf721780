// What the report draws from a store: every training setting (settings that differ only
// in epochs are separate panels, one pattern at two n values still gets its chart), a
// dot per run, fixed colours, log axes that say so, clean and patterned occlusion curves
// apart, training curves from the runs' histories.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ResultsStore } from '../../src/store/results.ts';
import { runKey } from '../../src/store/runKey.ts';
import { collectReportData } from '../../src/report/collect.ts';
import { planReport } from '../../src/report/sections.ts';
import { SERIES_COLORS, colorScale, scoreVsNChart, seriesColor } from '../../src/report/charts.ts';
import { chartView } from '../../src/report/render.ts';
import { tempDir } from '../helpers.ts';

function store(): ResultsStore {
  return ResultsStore.open(join(tempDir('spurlab-sections-'), 'results.db'));
}

function put(s: ResultsStore, kind: string, config: Record<string, unknown>, result: Record<string, unknown>): void {
  const key = runKey({ kind, ...config });
  assert.ok(s.claim(key, config, kind));
  assert.ok(s.complete(key, result));
}

const base = { dataset: 'mnist', target: 0, model: 'LargeMLP', optimizer: 'adam', lr: 0.01, trainSubset: 0 };
const history = (epochs: number, seed: number) =>
  Array.from({ length: epochs }, (_, i) => ({ epoch: i + 1, loss: 1 / (i + 1) + seed / 100, trainAcc: 0.9, testAcc: 0.89, lr: 0.01, seconds: 1 }));

interface Spec {
  data?: { values: Record<string, unknown>[] };
  facet?: unknown;
  spec?: { layer: Record<string, unknown>[] };
  layer?: Record<string, unknown>[];
}

test('runs that differ only in epochs are drawn apart; one pattern at two n values gets its chart; a dot per run', async () => {
  const s = store();
  for (const epochs of [1, 3]) {
    for (const seed of [0, 1]) {
      for (const n of [0, 10]) {
        put(
          s,
          'train',
          { ...base, pattern: 'S3', n, seed, modelSeed: seed, epochs },
          { score: n === 0 ? 0.01 * seed : (epochs === 1 ? 0.5 : 0.07) + 0.01 * seed, testAcc: 0.95, history: history(epochs, seed) },
        );
      }
    }
  }
  const data = collectReportData(s);
  s.close();
  assert.equal(data.train.length, 4, 'two settings (1 and 3 epochs) at two n; the model seed does not split them');
  assert.ok(data.train.every((t) => t.runs === 2));
  const plan = planReport(data);
  const patterns = plan.sections.find((x) => x.id === 'patterns');
  assert.ok(patterns, 'one pattern still draws score against n');
  const spec = patterns.charts[0].spec as unknown as Spec;
  const facets = new Set(spec.data!.values.map((v) => v.facet));
  assert.deepEqual([...facets].sort(), ['1 epoch', '3 epochs'], 'one panel per epochs value, none dropped');
  const runDots = spec.data!.values.filter((v) => v.layer === 'run');
  assert.equal(runDots.length, 8, 'a dot per run');
  const { view, warnings } = await chartView(patterns.charts[0].spec);
  view.finalize();
  assert.deepEqual(warnings, []);
  const table = patterns.tables[0];
  assert.equal(table.rows.length, 4);
  assert.ok(table.columns.some((c) => c.header === 'epochs'));
  assert.ok(
    plan.sections.some((x) => x.id === 'training-curves'),
    'histories draw training curves',
  );
});

test('occlusion curves of clean and patterned models of one architecture stay apart, same colour, own dash', () => {
  const s = store();
  const curve = (drop: number) => ({ ps: [0, 0.5, 1], curve: [1, 1 - drop, 0.1], area: 0.6 });
  put(
    s,
    'sensitivity',
    { experiment: 'sensitivity', ...base, pattern: 'R3', n: 0, seed: 0, epochs: 3 },
    { model: 'LargeMLP', dataset: 'mnist', ...curve(0.2) },
  );
  put(
    s,
    'sensitivity',
    { experiment: 'sensitivity', ...base, pattern: 'R3', n: 3, seed: 0, epochs: 3 },
    { model: 'LargeMLP', dataset: 'mnist', ...curve(0.5) },
  );
  const data = collectReportData(s);
  s.close();
  assert.deepEqual(data.sensitivity.map((c) => c.trainedWith).sort(), ['R3, n = 3', 'clean']);
  const section = planReport(data).sections.find((x) => x.id === 'sensitivity')!;
  const values = (section.charts[0].spec as unknown as Spec).data!.values.filter((v) => v.layer === 'curve');
  assert.deepEqual([...new Set(values.map((v) => v.dash))].sort(), ['R3, n = 3', 'clean']);
  assert.deepEqual([...new Set(values.map((v) => v.series))], ['LargeMLP']);
  assert.ok(section.tables[0].columns.some((c) => c.header === 'trained with'));
});

test('colours: fixed per pattern and architecture in every chart, distinct within one', () => {
  assert.equal(seriesColor('R3'), SERIES_COLORS.R3);
  assert.equal(seriesColor('S3'), SERIES_COLORS.S3);
  assert.equal(seriesColor('ResNet20'), SERIES_COLORS.ResNet20);
  assert.equal(seriesColor('some custom pattern'), seriesColor('some custom pattern'), 'a hashed colour is stable');
  const a = colorScale(['S3', 'R3']);
  const b = colorScale(['R3', 'Co', 'S3']);
  assert.equal(a.range[a.domain.indexOf('R3')], b.range[b.domain.indexOf('R3')]);
  const both = colorScale(['MLP', 'S3']);
  assert.notEqual(both.range[0], both.range[1], 'two series never share a colour in one chart');
});

test('a logarithmic axis says so in its title', () => {
  const spec = scoreVsNChart(
    [
      { x: 0, mean: 0, series: 'S3' },
      { x: 10, mean: 0.5, series: 'S3' },
    ],
    { title: 't', seriesTitle: 'pattern' },
  ) as unknown as Spec;
  const layer = spec.layer![0] as { encoding: { x: { title: string } } };
  assert.match(layer.encoding.x.title, /log scale/);
});
