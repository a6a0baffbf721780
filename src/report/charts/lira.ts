/**
 * The LiRA figures: ROC curves on log-log axes (the low-FPR end is what matters for
 * membership inference), TPR at a low FPR against n, and the histogram of the per-example
 * memorization estimate with the spurious examples marked. Colours are the patterns'.
 */
import type { VegaLiteSpec } from '../render.ts';
import {
  type ChartTitle,
  type MeanPoint,
  PANEL_HEIGHT,
  PANEL_WIDTH,
  SERIES_COLORS,
  colorScale,
  distinctInOrder,
  finite,
  maybeFacet,
  titleSpec,
} from './common.ts';
import { meanCurveChart, scaleTitle } from './curves.ts';

/** One ROC curve: a series (pattern), the examples it is about (the dash), its panel. */
export interface RocCurve {
  series: string;
  dash: string;
  facet?: string;
  points: { fpr: number; tpr: number }[];
}

/**
 * TPR against FPR, both on log axes, one line per curve; the chance diagonal (TPR = FPR)
 * dashed grey. Points with a zero rate cannot be drawn on a log axis and are left out.
 */
export function rocLogLogChart(curves: RocCurve[], opts: ChartTitle): VegaLiteSpec {
  const rows = curves.flatMap((c) =>
    c.points
      .filter((p) => finite(p.fpr) && finite(p.tpr) && p.fpr > 0 && p.tpr > 0)
      .map((p) => ({ layer: 'roc', fpr: p.fpr, tpr: p.tpr, series: c.series, dash: c.dash, facet: c.facet })),
  );
  const fprs = rows.map((r) => r.fpr);
  const lo = fprs.length > 0 ? Math.min(...fprs) : 1e-5;
  const facets = distinctInOrder(curves.map((c) => c.facet));
  const chance = facets.flatMap((facet) => [lo, 1].map((v) => ({ layer: 'chance', fpr: v, tpr: v, facet })));
  const series = distinctInOrder(rows.map((r) => r.series));
  const dashes = distinctInOrder(rows.map((r) => r.dash));
  const x = {
    field: 'fpr',
    type: 'quantitative',
    title: scaleTitle('false-positive rate', 'log'),
    scale: { type: 'log', domain: [lo, 1] },
    axis: { format: '~e', labelOverlap: true },
  };
  const y = {
    field: 'tpr',
    type: 'quantitative',
    title: scaleTitle('true-positive rate', 'log'),
    scale: { type: 'log' },
    axis: { format: '~e', labelOverlap: true },
  };
  const layer: Record<string, unknown>[] = [
    {
      transform: [{ filter: "datum.layer === 'chance'" }],
      mark: { type: 'line', strokeDash: [4, 4], color: SERIES_COLORS.chance, strokeWidth: 1 },
      encoding: { x, y },
    },
    {
      transform: [{ filter: "datum.layer === 'roc'" }],
      mark: { type: 'line', strokeWidth: 2, clip: true },
      encoding: {
        x,
        y,
        color: { field: 'series', type: 'nominal', title: 'pattern', scale: colorScale(series) },
        strokeDash: { field: 'dash', type: 'nominal', title: 'examples', scale: { domain: dashes } },
        detail: { field: 'dash' },
      },
    },
  ];
  return maybeFacet(
    [...rows, ...chance],
    { width: PANEL_WIDTH, height: PANEL_HEIGHT, layer },
    { title: titleSpec({ ...opts, subtitle: [opts.subtitle, 'dashed grey: chance (TPR = FPR)'].filter(Boolean).join('; ') }) },
  );
}

/** TPR at 0.1% and 1% FPR against n (log axis), a panel per rate, a colour per pattern, a dash per group of examples. */
export function tprVsNChart(points: MeanPoint[], opts: ChartTitle): VegaLiteSpec {
  return meanCurveChart(points, {
    ...opts,
    xTitle: 'n spurious examples',
    yTitle: 'true-positive rate',
    seriesTitle: 'pattern',
    dashTitle: 'examples',
    xScale: 'log',
    independentY: true,
  });
}

/** One setting's memorization histogram: bin counts over [edges[i], edges[i+1]) and the spurious examples' values. */
export interface MemorizationPanel {
  series: string; // the pattern (its colour)
  facet?: string;
  edges: number[];
  counts: number[];
  spurious: number[];
}

/** 0, 1, 10, ... up to the first power of ten at or above max. */
export function powersOfTen(max: number): number[] {
  const out = [0, 1];
  while (out[out.length - 1] < max) out.push(out[out.length - 1] * 10);
  return out;
}

/**
 * Histogram of the Feldman-Zhang memorization of every pool example (counts on a log
 * axis: most examples sit near 0), one rule per spurious example.
 */
export function memorizationHistogramChart(panels: MemorizationPanel[], opts: ChartTitle): VegaLiteSpec {
  const bars = panels.flatMap((p) =>
    p.counts
      .map((count, i) => ({ layer: 'bin', start: p.edges[i], end: p.edges[i + 1], count, series: p.series, facet: p.facet }))
      .filter((b) => b.count > 0),
  );
  const marks = panels.flatMap((p) =>
    p.spurious.filter(finite).map((v) => ({ layer: 'spurious', start: v, series: p.series, facet: p.facet, examples: 'spurious example' })),
  );
  const series = distinctInOrder(panels.map((p) => p.series));
  const x = { field: 'start', type: 'quantitative', title: 'memorization (accuracy in - accuracy out)', scale: { domain: [-1, 1] } };
  const layer: Record<string, unknown>[] = [
    {
      transform: [{ filter: "datum.layer === 'bin'" }],
      mark: { type: 'bar', opacity: 0.8 },
      encoding: {
        x,
        x2: { field: 'end' },
        y: {
          field: 'count',
          type: 'quantitative',
          title: scaleTitle('training examples', 'symlog'),
          scale: { type: 'symlog' },
          // a symlog axis left to itself labels 0, 50,000 and 100,000 only: label the powers of ten
          axis: { values: powersOfTen(Math.max(1, ...bars.map((b) => b.count))), format: ',d' },
        },
        y2: { datum: 0 },
        color: { field: 'series', type: 'nominal', title: 'pattern', scale: colorScale(series) },
      },
    },
  ];
  if (marks.length > 0) {
    layer.push({
      transform: [{ filter: "datum.layer === 'spurious'" }],
      mark: { type: 'rule', strokeWidth: 1, opacity: 0.7, color: SERIES_COLORS.clean },
      encoding: { x, strokeDash: { field: 'examples', type: 'nominal', title: 'marked', scale: { domain: ['spurious example'], range: [[3, 2]] } } },
    });
  }
  return maybeFacet([...bars, ...marks], { width: PANEL_WIDTH, height: PANEL_HEIGHT, layer }, { title: titleSpec(opts) });
}
