// The report's detection section (kind detect): precision at n of each method against n,
// one panel per data set, pattern and model; the rank of every spurious example per
// method (one dot per example and seed, log scale: rank 1 is found first); and a table
// of method x pattern x n with precision at n, recall at 10n, AUROC (all and target
// class), seconds, and the spurious score after removing the top k and retraining.
import type { RunRecord } from '../store/results.ts';
import { meanCurveChart } from './charts/curves.ts';
import { distinctInOrder, maybeFacet, PANEL_HEIGHT, PANEL_WIDTH, titleSpec } from './charts/common.ts';
import { meanSem, type MeanSem } from './collect.ts';
import type { VegaLiteSpec } from './render.ts';
import type { Table } from './tables.ts';
import { formatMeanSem, formatPercent } from './format.ts';

export interface DetectSetting {
  dataset: string;
  pattern: string;
  model: string;
  method: string;
  n: number;
  runs: number;
  precisionAtN: MeanSem;
  recallAt10N: MeanSem;
  auroc: MeanSem;
  aurocTargetClass: MeanSem;
  seconds: MeanSem;
  /** Every spurious example's rank, over the seeds. */
  ranks: number[];
  perRunPrecision: number[];
  retrainK: number;
  scoreAfterRetrain: MeanSem;
  testAccAfterRetrain: MeanSem;
}

const num = (v: unknown) => (typeof v === 'number' ? v : v === null ? NaN : undefined);

/** Detect runs grouped over seeds; runs without the metrics (a hand-made store) are skipped. */
export function collectDetect(records: RunRecord[]): DetectSetting[] {
  const groups = new Map<string, RunRecord[]>();
  for (const r of records) {
    const res = r.result;
    if (!res || num(res.precisionAtN) === undefined || !Array.isArray(res.ranks)) continue;
    const c = r.config;
    const id = JSON.stringify([c.dataset, c.pattern, c.model, c.method, c.n, c.thenRetrain ?? 0]);
    if (!groups.has(id)) groups.set(id, []);
    groups.get(id)!.push(r);
  }
  return [...groups.values()]
    .map((rs) => {
      const c = rs[0].config;
      const field = (f: string) => meanSem(rs.map((r) => num(r.result![f])));
      const retrain = (f: string) => meanSem(rs.map((r) => num((r.result!.retrain as Record<string, unknown> | null)?.[f] ?? null)));
      return {
        dataset: String(c.dataset),
        pattern: String(c.pattern),
        model: String(c.model),
        method: String(c.method),
        n: Number(c.n),
        runs: rs.length,
        precisionAtN: field('precisionAtN'),
        recallAt10N: field('recallAt10N'),
        auroc: field('auroc'),
        aurocTargetClass: field('aurocTargetClass'),
        seconds: field('seconds'),
        ranks: rs.flatMap((r) => (r.result!.ranks as unknown[]).filter((x): x is number => typeof x === 'number')),
        perRunPrecision: rs.map((r) => num(r.result!.precisionAtN) ?? NaN),
        retrainK: Number(c.thenRetrain ?? 0),
        scoreAfterRetrain: retrain('score'),
        testAccAfterRetrain: retrain('testAcc'),
      };
    })
    .sort(
      (a, b) =>
        a.dataset.localeCompare(b.dataset) ||
        a.pattern.localeCompare(b.pattern) ||
        a.model.localeCompare(b.model) ||
        a.method.localeCompare(b.method) ||
        a.n - b.n,
    );
}

// Dark2 (ColorBrewer): distinguishable side by side and in grey
const N_COLORS = ['#1b9e77', '#d95f02', '#7570b3', '#e7298a', '#66a61e', '#e6ab02'];

const panelOf = (s: DetectSetting) => `${s.dataset} ${s.pattern} ${s.model}`;

/** Precision at n against n, one line per method. */
export function precisionChart(settings: DetectSetting[]): VegaLiteSpec {
  const panels = new Set(settings.map(panelOf));
  return meanCurveChart(
    settings.map((s) => ({
      x: s.n,
      mean: s.precisionAtN.mean,
      sem: s.precisionAtN.sem,
      runs: s.perRunPrecision,
      series: s.method,
      facet: panels.size > 1 ? panelOf(s) : undefined,
    })),
    {
      title: 'Precision at n of each detection method',
      subtitle: 'the share of the n top-scored training examples that are spurious (mean and SEM over seeds)',
      xTitle: 'n spurious examples',
      yTitle: 'precision at n',
      seriesTitle: 'method',
      xScale: 'log',
      yDomain: [0, 1],
    },
  );
}

/** The rank of every spurious example (log scale), one column of dots per method, coloured by n. */
export function rankChart(settings: DetectSetting[]): VegaLiteSpec {
  const panels = new Set(settings.map(panelOf));
  const rows = settings.flatMap((s) =>
    s.ranks.map((rank) => ({ method: s.method, rank, n: `n = ${s.n}`, facet: panels.size > 1 ? panelOf(s) : undefined })),
  );
  const ns = distinctInOrder(rows.map((r) => r.n));
  const panel = {
    width: PANEL_WIDTH,
    height: PANEL_HEIGHT,
    mark: { type: 'point', filled: true, opacity: 0.6 },
    encoding: {
      x: { field: 'method', type: 'nominal', title: 'method', axis: { labelAngle: -30, labelLimit: 240 } },
      xOffset: { field: 'n', type: 'nominal', sort: ns },
      y: { field: 'rank', type: 'quantitative', scale: { type: 'log' }, title: 'rank (1 = flagged first)' },
      // n is ordered and has few values: distinct fixed colours (hashed names gave n = 3 and n = 10 two browns)
      color: { field: 'n', type: 'nominal', title: 'n', sort: ns, scale: { domain: ns, range: ns.map((_, i) => N_COLORS[i % N_COLORS.length]) } },
    },
  };
  return maybeFacet(rows, panel, {
    title: titleSpec({ title: 'Where the spurious examples rank', subtitle: 'every spurious example of every seed' }),
  });
}

// cells as "mean ± SEM" text, right-aligned like the numbers they are
const ms = (m: MeanSem) => formatMeanSem(m.mean, m.sem);
const seconds = (v: number) => v.toFixed(v < 10 ? 2 : 0);

export function detectTable(settings: DetectSetting[]): Table {
  return {
    name: 'detection',
    caption: 'Finding the spurious training examples: method x pattern x n (mean ± SEM over seeds)',
    columns: [
      { header: 'data set', format: 'text' },
      { header: 'pattern', format: 'text' },
      { header: 'model', format: 'text' },
      { header: 'method', format: 'text' },
      { header: 'n', format: 'int' },
      { header: 'seeds', format: 'int' },
      { header: 'precision at n', format: 'score' },
      { header: 'recall at 10n', format: 'score' },
      { header: 'AUROC', format: 'score' },
      { header: 'AUROC target class', format: 'score' },
      { header: 'seconds', format: 'number' },
      { header: 'removed k', format: 'int' },
      { header: 'score after retraining', format: 'score' },
      { header: 'test acc after', format: 'percent' },
    ],
    rows: settings.map((s) => [
      s.dataset,
      s.pattern,
      s.model,
      s.method,
      s.n,
      s.runs,
      ms(s.precisionAtN),
      ms(s.recallAt10N),
      ms(s.auroc),
      ms(s.aurocTargetClass),
      formatMeanSem(s.seconds.mean, s.seconds.sem, seconds),
      s.retrainK > 0 ? s.retrainK : null,
      s.retrainK > 0 ? ms(s.scoreAfterRetrain) : null,
      s.retrainK > 0 ? formatMeanSem(s.testAccAfterRetrain.mean, s.testAccAfterRetrain.sem, formatPercent) : null,
    ]),
  };
}
