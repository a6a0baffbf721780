/**
 * Weight maps (PROTOCOL.md section 6): for an MLP, the maximum over hidden units of the
 * first-layer weights of each input pixel, as a 28x28 heat map with a colour bar; and
 * its difference from a clean model's map, where a learnt pattern shows up as a bright
 * patch.
 */
import type { VegaLiteSpec } from '../render.ts';
import { CHART_CONFIG, type ChartTitle, asSpec, titleSpec } from './common.ts';

export interface HeatMapPanel {
  title: string;
  /** Row-major values, side x side. */
  values: ArrayLike<number>;
  /**
   * A signed quantity (a difference): a diverging colour scale centred on 0 and
   * symmetric, so the sign reads at a glance. Otherwise a sequential scale.
   */
  diverging?: boolean;
  /** Colour-bar title. */
  legendTitle?: string;
}

/** Pixels per cell: 28 cells make a 224-pixel panel. */
const CELL = 8;

function panelSpec(panel: HeatMapPanel, side: number): Record<string, unknown> {
  if (panel.values.length !== side * side) {
    throw new RangeError(`heat map "${panel.title}": ${panel.values.length} values, expected ${side}x${side} = ${side * side}`);
  }
  const values: { row: number; col: number; value: number }[] = [];
  let maxAbs = 0;
  for (let i = 0; i < panel.values.length; i++) {
    const v = panel.values[i];
    if (!Number.isFinite(v)) continue;
    values.push({ row: Math.floor(i / side), col: i % side, value: v });
    maxAbs = Math.max(maxAbs, Math.abs(v));
  }
  const scale = panel.diverging ? { scheme: 'redblue', reverse: true, domain: [-maxAbs || -1, maxAbs || 1] } : { scheme: 'viridis' };
  const cells = Array.from({ length: side }, (_, i) => i);
  return {
    title: panel.title,
    width: side * CELL,
    height: side * CELL,
    data: { values },
    mark: { type: 'rect' },
    encoding: {
      x: { field: 'col', type: 'ordinal', axis: null, scale: { domain: cells } },
      y: { field: 'row', type: 'ordinal', axis: null, scale: { domain: cells } },
      color: {
        field: 'value',
        type: 'quantitative',
        scale,
        legend: { title: panel.legendTitle ?? 'weight', type: 'gradient', gradientLength: side * CELL - 20, format: '.2~f' },
      },
    },
  };
}

/** Heat maps side by side, each with its own colour scale and colour bar. */
export function weightMapChart(panels: HeatMapPanel[], opts: ChartTitle & { side?: number }): VegaLiteSpec {
  const side = opts.side ?? 28;
  return asSpec({
    title: titleSpec(opts),
    hconcat: panels.map((p) => panelSpec(p, side)),
    resolve: { scale: { color: 'independent' }, legend: { color: 'independent' } },
    config: { ...CHART_CONFIG, view: { stroke: null } },
  });
}
