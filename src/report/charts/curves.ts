/**
 * Line charts of a mean (with SEM error bars) against a number: spurious score against
 * n, membership-inference accuracy against n, occlusion curves, mitigation sweeps.
 * All are one generic builder, meanCurveChart, with the axis conventions of each figure.
 */
import type { VegaLiteSpec } from '../render.ts';
import {
  type ChartTitle,
  type MeanPoint,
  PANEL_HEIGHT,
  PANEL_WIDTH,
  colorScale,
  distinctInOrder,
  errorBounds,
  finite,
  hasErrorBars,
  maybeFacet,
  titleSpec,
} from './common.ts';

/**
 * The axis title says when the scale is logarithmic (symlog too: logarithmic above 1,
 * with 0 kept at the left). Titles stay within a panel's width: a longer one widens
 * its column and spaces the panels apart.
 */
export function scaleTitle(title: string, scale: 'linear' | 'log' | 'symlog'): string {
  if (scale === 'log') return `${title} (log scale)`;
  if (scale === 'symlog') return `${title} (log scale)`;
  return title;
}

/** A dashed horizontal line across a panel: a reference level (chance, the unregularized model). */
export interface ReferenceLine {
  value: number;
  series: string;
  facet?: string;
}

export interface CurveOptions extends ChartTitle {
  xTitle: string;
  yTitle: string;
  seriesTitle: string;
  /**
   * symlog keeps n = 0 (the baseline) on an otherwise logarithmic axis; log drops
   * points with x <= 0 (draw those as references instead).
   */
  xScale: 'linear' | 'log' | 'symlog';
  /** Tick values; default for log and symlog: the distinct x of the points (the grid that was run). */
  xTicks?: number[];
  yDomain?: [number, number];
  /** Start the y axis at 0 (default true; ignored with yDomain). */
  yZero?: boolean;
  /** Each panel scales its own y axis (for panels of different quantities). */
  independentY?: boolean;
  references?: ReferenceLine[];
  /** Draw a symbol at every point (default true; off for dense curves). */
  showPoints?: boolean;
  /** Legend title of the dash grouping (MeanPoint.dash), when points carry one. */
  dashTitle?: string;
}

/** Means against x, one coloured line per series, SEM error bars, one dot per run when given, panels per facet. */
export function meanCurveChart(points: MeanPoint[], opts: CurveOptions): VegaLiteSpec {
  const kept = points.filter((p) => finite(p.mean) && finite(p.x) && (opts.xScale !== 'log' || p.x > 0));
  const references = (opts.references ?? []).filter((r) => finite(r.value));
  const curveRows = kept.map((p) => ({
    layer: 'curve',
    x: p.x,
    mean: p.mean,
    ...errorBounds(p.mean, p.sem),
    series: p.series,
    facet: p.facet,
    dash: p.dash,
  }));
  const dashes = distinctInOrder(kept.map((p) => p.dash).filter((d): d is string => d !== undefined));
  const runRows = kept.flatMap((p) => (p.runs ?? []).filter(finite).map((v) => ({ layer: 'run', x: p.x, run: v, series: p.series, facet: p.facet })));
  const values: Record<string, unknown>[] = [
    ...curveRows,
    ...runRows,
    ...references.map((r) => ({ layer: 'reference', mean: r.value, series: r.series, facet: r.facet })),
  ];
  const seriesOrder = distinctInOrder([...kept.map((p) => p.series), ...references.map((r) => r.series)]);
  const ticks = opts.xTicks ?? (opts.xScale === 'linear' ? undefined : distinctInOrder(kept.map((p) => p.x)).sort((a, b) => a - b));
  const scale = opts.xScale === 'symlog' ? { type: 'symlog', constant: 1 } : { type: opts.xScale };
  const x = {
    field: 'x',
    type: 'quantitative',
    title: scaleTitle(opts.xTitle, opts.xScale),
    scale,
    axis: { ...(ticks ? { values: ticks } : {}), labelOverlap: true, format: opts.xScale === 'log' ? '~g' : '~r' },
  };
  const y = { type: 'quantitative', title: opts.yTitle, scale: opts.yDomain ? { domain: opts.yDomain } : { zero: opts.yZero ?? true } };
  const color = { field: 'series', type: 'nominal', title: opts.seriesTitle, scale: colorScale(seriesOrder) };
  const layer: Record<string, unknown>[] = [
    {
      transform: [{ filter: "datum.layer === 'curve'" }],
      // Dashed lines carry no point symbols, so that their legend draws the dashes.
      mark: { type: 'line', point: dashes.length > 0 ? false : (opts.showPoints ?? true), strokeWidth: 2, clip: opts.yDomain !== undefined },
      encoding: {
        x,
        y: { ...y, field: 'mean' },
        color,
        ...(dashes.length > 0 ? { strokeDash: { field: 'dash', type: 'nominal', title: opts.dashTitle ?? null, scale: { domain: dashes } } } : {}),
      },
    },
  ];
  if (hasErrorBars(curveRows)) {
    // With independent y scales, a panel without any error bar would leave the layer
    // empty there (vega warns of an infinite extent): keep zero-length bars, drawn without ticks.
    const facets = distinctInOrder(curveRows.map((r) => r.facet));
    const everyPanel = facets.every((f) => hasErrorBars(curveRows.filter((r) => r.facet === f)));
    const keepZero = opts.independentY === true && !everyPanel;
    layer.push({
      transform: [{ filter: `datum.layer === 'curve' && datum.hi ${keepZero ? '>=' : '>'} datum.lo` }],
      mark: { type: 'errorbar', ...(keepZero ? {} : { ticks: { size: 6 } }), clip: opts.yDomain !== undefined },
      encoding: { x, y: { ...y, field: 'lo' }, y2: { field: 'hi' }, color },
    });
  }
  if (runRows.length > 0) {
    layer.push({
      transform: [{ filter: "datum.layer === 'run'" }],
      mark: { type: 'point', shape: 'circle', filled: true, size: 22, opacity: 0.55, clip: opts.yDomain !== undefined },
      encoding: { x, y: { ...y, field: 'run' }, color },
    });
  }
  if (references.length > 0) {
    layer.push({
      transform: [{ filter: "datum.layer === 'reference'" }],
      mark: { type: 'rule', strokeDash: [5, 4], strokeWidth: 1.5 },
      encoding: { y: { ...y, field: 'mean' }, color },
    });
  }
  return maybeFacet(values, { width: PANEL_WIDTH, height: PANEL_HEIGHT, layer }, { title: titleSpec(opts) }, { independentY: opts.independentY });
}

/** Spurious score against n (PROTOCOL.md section 6) on a symlog axis, one line per series (pattern, model, optimizer, data set), a dot per run. */
export function scoreVsNChart(points: MeanPoint[], opts: ChartTitle & { seriesTitle: string }): VegaLiteSpec {
  return meanCurveChart(points, {
    ...opts,
    xTitle: 'n spurious examples',
    yTitle: 'spurious score',
    xScale: 'symlog',
  });
}

/** Attack accuracy against n: one line for the spurious examples, one for all examples; chance is 0.5. */
export function membershipInferenceChart(points: MeanPoint[], opts: ChartTitle): VegaLiteSpec {
  const facets = distinctInOrder(points.map((p) => p.facet));
  return meanCurveChart(points, {
    ...opts,
    xTitle: 'n spurious examples',
    yTitle: 'attack accuracy',
    seriesTitle: 'examples attacked',
    xScale: 'symlog',
    references: facets.map((facet) => ({ value: 0.5, series: 'chance', facet })),
  });
}

/** Occlusion curves (PROTOCOL.md section 6): mean true-class probability against the share p of zeroed pixels, one line per architecture. */
export function sensitivityChart(points: MeanPoint[], opts: ChartTitle): VegaLiteSpec {
  return meanCurveChart(points, {
    ...opts,
    xTitle: 'p (share of non-zero pixels zeroed)',
    yTitle: 'mean probability of the true class',
    seriesTitle: 'architecture',
    dashTitle: 'trained with',
    xScale: 'linear',
    yDomain: [0, 1],
    showPoints: false,
  });
}

/**
 * Training curves: loss, train accuracy and test accuracy against the epoch, a panel per
 * quantity (own y scales), one line per setting (mean ± SEM over its runs).
 */
export function trainingCurvesChart(points: MeanPoint[], opts: ChartTitle, byPattern = false): VegaLiteSpec {
  return meanCurveChart(points, {
    ...opts,
    xTitle: 'epoch',
    yTitle: 'mean over runs',
    seriesTitle: byPattern ? 'pattern' : 'setting',
    dashTitle: 'setting',
    xScale: 'linear',
    yZero: false,
    independentY: true,
    showPoints: new Set(points.map((p) => p.x)).size <= 20,
  });
}

export interface MitigationPoint {
  /** Regularization strength; 0 means off and is drawn as a dashed reference line. */
  strength: number;
  metric: 'spurious score' | 'test accuracy';
  /** The line, e.g. "n = 3". */
  series: string;
  mean: number;
  sem?: number;
}

/**
 * Score and test accuracy against the regularization strength (log axis), a panel per
 * metric, each with its own y scale (accuracy changes by a few points, the score by
 * tens). Unregularized values are dashed lines, for the series that have a curve.
 */
export function mitigationChart(points: MitigationPoint[], opts: ChartTitle & { strengthTitle: string }): VegaLiteSpec {
  const curve = points.filter((p) => p.strength > 0);
  const curveSeries = new Set(curve.map((p) => p.series));
  const unregularized = points.filter((p) => p.strength === 0 && curveSeries.has(p.series));
  return meanCurveChart(
    curve.map((p) => ({ x: p.strength, mean: p.mean, sem: p.sem, series: p.series, facet: p.metric })),
    {
      ...opts,
      xTitle: opts.strengthTitle,
      yTitle: 'mean over seeds',
      seriesTitle: 'setting',
      xScale: 'log',
      yZero: false,
      independentY: true,
      references: unregularized.map((p) => ({ value: p.mean, series: p.series, facet: p.metric })),
      subtitle: [opts.subtitle, unregularized.length > 0 ? 'dashed: without regularization' : undefined].filter(Boolean).join('; ') || undefined,
    },
  );
}
