/**
 * Pattern norm against spurious score (PROTOCOL.md section 6; the paper's finding that
 * patterns with a larger l2 norm are learnt more easily), with Pearson's r and its
 * p-value in the title.
 */
import type { VegaLiteSpec } from '../render.ts';
import {
  type ChartTitle,
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
import { formatPValue } from '../format.ts';

export interface NormScorePoint {
  pattern: string;
  /** Empirical pattern norm: mean over test images of ||pattern(x) - x||_2. */
  norm: number;
  score: number;
  sem?: number;
}

/** One panel: the patterns of one setting at one n, and the correlation across them. */
export interface NormScoreGroup {
  label: string;
  r: number;
  pValue: number;
  points: NormScorePoint[];
}

function correlationText(g: NormScoreGroup): string {
  return `Pearson r = ${finite(g.r) ? g.r.toFixed(2) : 'n/a'}, p = ${formatPValue(g.pValue)}`;
}

/**
 * A scatter of patterns, labelled by name. With one group, r and p go in the chart's
 * title; with several, each panel's header carries its own.
 */
export function normScatterChart(groups: NormScoreGroup[], opts: ChartTitle): VegaLiteSpec {
  const single = groups.length === 1;
  const values = groups.flatMap((g) =>
    g.points
      .filter((p) => finite(p.norm) && finite(p.score))
      .map((p) => ({
        pattern: p.pattern,
        norm: p.norm,
        score: p.score,
        ...errorBounds(p.score, p.sem),
        facet: single ? undefined : `${g.label}: ${correlationText(g)}`,
      })),
  );
  // Room right of the largest norm for its name label.
  const maxNorm = Math.max(0, ...values.map((v) => v.norm));
  const x = {
    field: 'norm',
    type: 'quantitative',
    title: 'pattern norm (mean l2 distance)',
    scale: { domain: [0, maxNorm * 1.15 || 1], nice: true },
  };
  const y = { type: 'quantitative', title: 'spurious score', scale: { zero: true } };
  // Points are labelled by name, so the colour needs no legend.
  const color = { field: 'pattern', type: 'nominal', legend: null, scale: colorScale(distinctInOrder(values.map((v) => v.pattern))) };
  const layer: Record<string, unknown>[] = [
    { mark: { type: 'point', filled: true, size: 60 }, encoding: { x, y: { ...y, field: 'score' }, color } },
    { mark: { type: 'text', align: 'left', dx: 6, dy: -6, fontSize: 11 }, encoding: { x, y: { ...y, field: 'score' }, text: { field: 'pattern' } } },
  ];
  if (hasErrorBars(values)) {
    layer.push({
      transform: [{ filter: 'datum.hi > datum.lo' }],
      mark: { type: 'errorbar', ticks: { size: 4 } },
      encoding: { x, y: { ...y, field: 'lo' }, y2: { field: 'hi' }, color },
    });
  }
  const title = single ? { ...opts, title: `${opts.title}: ${correlationText(groups[0])}` } : opts;
  return maybeFacet(values, { width: PANEL_WIDTH, height: PANEL_HEIGHT, layer }, { title: titleSpec(title) });
}
