/**
 * Grouped bar charts with SEM error bars: optimizer and gradient-clipping comparisons,
 * and data deletion (before, incremental retraining, influence, retraining from scratch).
 */
import type { VegaLiteSpec } from '../render.ts';
import {
  type ChartTitle,
  type MeanBar,
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

export interface BarOptions extends ChartTitle {
  groupTitle: string;
  seriesTitle: string;
  yTitle: string;
  yDomain?: [number, number];
}

/** Bars of `series` side by side within each `group`, in the order the rows give them. */
export function groupedBarChart(bars: MeanBar[], opts: BarOptions): VegaLiteSpec {
  const kept = bars.filter((b) => finite(b.mean));
  const values = kept.map((b) => ({ group: b.group, series: b.series, mean: b.mean, ...errorBounds(b.mean, b.sem), facet: b.facet }));
  const groups = distinctInOrder(kept.map((b) => b.group));
  const series = distinctInOrder(kept.map((b) => b.series));
  const x = { field: 'group', type: 'nominal', title: opts.groupTitle, sort: groups, axis: { labelAngle: 0 } };
  const xOffset = { field: 'series', type: 'nominal', sort: series };
  const y = { type: 'quantitative', title: opts.yTitle, scale: opts.yDomain ? { domain: opts.yDomain } : { zero: true } };
  const color = { field: 'series', type: 'nominal', title: opts.seriesTitle, scale: colorScale(series) };
  const layer: Record<string, unknown>[] = [{ mark: { type: 'bar' }, encoding: { x, xOffset, y: { ...y, field: 'mean' }, color } }];
  if (hasErrorBars(values)) {
    layer.push({
      transform: [{ filter: 'datum.hi > datum.lo' }],
      mark: { type: 'errorbar', ticks: { size: 4 }, color: '#333' },
      encoding: { x, xOffset, y: { ...y, field: 'lo' }, y2: { field: 'hi' } },
    });
  }
  // Wide enough that every bar keeps a few pixels even with many series.
  const width = Math.max(PANEL_WIDTH, groups.length * series.length * 14);
  return maybeFacet(values, { width, height: PANEL_HEIGHT, layer }, { title: titleSpec(opts) });
}

/** Spurious score per n, one bar per optimizer setting (name, learning rate, clipping). */
export function optimizerBarChart(bars: MeanBar[], opts: ChartTitle): VegaLiteSpec {
  return groupedBarChart(bars, { ...opts, groupTitle: 'n (spurious training examples)', seriesTitle: 'optimizer', yTitle: 'spurious score' });
}

/** The deletion comparison's bar order: the model before deletion, the deletion methods, then retraining from scratch. */
export const DELETION_SERIES_ORDER = ['before', 'incremental', 'influence', 'retrain'] as const;

/**
 * Spurious score before deletion, after each deletion method, and after retraining
 * without the spurious examples (the target every method should reach).
 */
export function deletionChart(bars: MeanBar[], opts: ChartTitle & { yTitle?: string }): VegaLiteSpec {
  const rank = (s: string): number => {
    const i = (DELETION_SERIES_ORDER as readonly string[]).indexOf(s);
    // Unknown methods sit between the known methods and retraining.
    return i >= 0 ? (i === DELETION_SERIES_ORDER.length - 1 ? 1000 : i) : 100;
  };
  const ordered = [...bars].sort((a, b) => rank(a.series) - rank(b.series));
  return groupedBarChart(ordered, {
    ...opts,
    groupTitle: 'n (spurious examples deleted)',
    seriesTitle: 'model',
    yTitle: opts.yTitle ?? 'spurious score',
  });
}
