/**
 * Shared pieces of the report's Vega-Lite charts: the look (one config for every
 * figure), the row types the builders take, and error-bar bounds.
 *
 * Builders take plain typed rows (already aggregated over seeds) and return a spec; they
 * never read the store, so the same chart can be drawn from any source.
 */
import type { VegaLiteSpec } from '../render.ts';

/** Size of one panel (one facet cell) in pixels. */
export const PANEL_WIDTH = 300;
export const PANEL_HEIGHT = 200;
/** Facet cells per row before wrapping. */
export const FACET_COLUMNS = 3;

/** The same look for every figure; white background so PNGs read well anywhere. */
export const CHART_CONFIG = {
  background: 'white',
  padding: 8,
  font: 'sans-serif',
  view: { stroke: '#ddd' },
  title: { fontSize: 14, anchor: 'start', subtitleFontSize: 11, subtitleColor: '#555', offset: 10 },
  axis: { labelFontSize: 11, titleFontSize: 12, gridColor: '#eee' },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 320 },
  header: { labelFontSize: 12, titleFontSize: 12 },
  range: { category: { scheme: 'tableau10' } },
} as const;

/**
 * Fixed colours for the names that recur across figures: each pattern (squares in
 * blue-greens, random noise in warm colours) and each architecture keeps its colour in
 * every chart and page. Other series names get a colour from a hash of the name, so a
 * name is drawn alike wherever it appears.
 */
export const SERIES_COLORS: Readonly<Record<string, string>> = {
  S1: '#76b7b2',
  S2: '#59a14f',
  S3: '#4e79a7',
  R1: '#edc948',
  R2: '#e15759',
  R3: '#f28e2b',
  Co: '#b07aa1',
  MLP: '#4e79a7',
  MLPv2: '#76b7b2',
  LargeMLP: '#f28e2b',
  LargeMLPv2: '#edc948',
  CNN002: '#e15759',
  ResNet20: '#59a14f',
  ResNet32: '#b07aa1',
  ResNet110: '#ff9da7',
  Vgg16Norm02: '#9c755f',
  Vgg16BNNorm02: '#bab0ac',
  chance: '#888888',
  clean: '#555555',
};
const HASH_PALETTE = [
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#76b7b2',
  '#59a14f',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#1f77b4',
  '#8c564b',
  '#17becf',
];

/** A series' colour: its fixed one, else one picked by a hash of the name. */
export function seriesColor(name: string): string {
  const fixed = SERIES_COLORS[name];
  if (fixed) return fixed;
  // A leading pattern or architecture name keeps its colour ("R3, clean" or "LargeMLP (n = 3)").
  const head = /^[A-Za-z0-9]+/.exec(name)?.[0];
  if (head && SERIES_COLORS[head]) return SERIES_COLORS[head];
  let h = 0;
  for (let i = 0; i < name.length; i++) h = (Math.imul(h, 31) + name.charCodeAt(i)) >>> 0;
  return HASH_PALETTE[h % HASH_PALETTE.length];
}

/**
 * Vega-Lite colour scale for series names in this order. Two names that would share a
 * colour in one chart (a hash collision, or two variants of one pattern) get distinct
 * palette colours instead, so a chart never draws two series alike.
 */
export function colorScale(names: string[]): { domain: string[]; range: string[] } {
  const used = new Set<string>();
  const range = names.map((n) => {
    let c = seriesColor(n);
    if (used.has(c)) c = HASH_PALETTE.find((p) => !used.has(p)) ?? c;
    used.add(c);
    return c;
  });
  return { domain: names, range };
}

/** A mean over seeds with its standard error, at one x, for one line. */
export interface MeanPoint {
  x: number;
  mean: number;
  /** The runs behind the mean (one dot each); omitted: no dots. */
  runs?: number[];
  /** A second grouping drawn as the line's dash pattern (e.g. clean against patterned models of one architecture). */
  dash?: string;
  /** Standard error of the mean (ddof 1); NaN or undefined when one seed only (no bar drawn). */
  sem?: number;
  /** The line this point belongs to (legend entry). */
  series: string;
  /** The panel, when a figure has several; undefined for a single panel. */
  facet?: string;
}

/** One bar: a mean over seeds with its standard error. */
export interface MeanBar {
  /** Position on the x axis (a group of bars). */
  group: string;
  /** The bar inside the group (legend entry). */
  series: string;
  mean: number;
  sem?: number;
  facet?: string;
}

export interface ChartTitle {
  title: string;
  subtitle?: string;
}

/** A subtitle longer than this wraps at its separators (one line would widen the whole chart). */
export const SUBTITLE_LINE_CHARS = 110;

/** Vega-Lite's title object; subtitle only when given, as lines when it is long. */
export function titleSpec(t: ChartTitle): { text: string; subtitle?: string | string[] } {
  if (!t.subtitle) return { text: t.title };
  const lines = wrapLabel(t.subtitle, SUBTITLE_LINE_CHARS);
  return { text: t.title, subtitle: lines.length > 1 ? lines : t.subtitle };
}

/** Lower and upper ends of a mean +- SEM bar; both equal the mean when the SEM is unknown (a bar of length 0). */
export function errorBounds(mean: number, sem: number | undefined): { lo: number; hi: number } {
  const s = sem !== undefined && Number.isFinite(sem) ? sem : 0;
  return { lo: mean - s, hi: mean + s };
}

/** Whether any row has an error bar of positive length; vega warns about a layer left without data. */
export function hasErrorBars(rows: { lo: number; hi: number }[]): boolean {
  return rows.some((r) => r.hi > r.lo);
}

/** Distinct values in order of first appearance: the legend and axis order the caller chose. */
export function distinctInOrder<T>(values: Iterable<T>): T[] {
  return [...new Set(values)];
}

/** Header lines at most this long: a longer panel label would widen its column and space the panels apart. */
export const HEADER_LINE_CHARS = Math.round(PANEL_WIDTH / 7);

/** Splits a label "a · b · c" into lines of at most `width` characters, breaking at the separators. */
export function wrapLabel(label: string, width = HEADER_LINE_CHARS): string[] {
  const lines: string[] = [];
  for (const part of label.split(' · ')) {
    const last = lines.length - 1;
    if (last >= 0 && lines[last].length + 3 + part.length <= width) lines[last] += ` · ${part}`;
    else lines.push(part);
  }
  return lines;
}

/** A vega expression mapping each facet label to its wrapped lines (a text mark draws an array as lines). */
function wrappedLabels(facets: string[]): string {
  const entries = facets.map((f) => `${JSON.stringify(f)}: ${JSON.stringify(wrapLabel(f))}`);
  return `({${entries.join(', ')}})[datum.label]`;
}

/**
 * Wraps a single-panel spec (layers, size) into a facetted one when the rows carry
 * several facets, else returns it with the data attached. `values` are the rows, each
 * with an optional `facet` field.
 */
export function maybeFacet(
  values: Record<string, unknown>[],
  panel: Record<string, unknown>,
  top: Record<string, unknown>,
  facetOptions: { independentY?: boolean } = {},
): VegaLiteSpec {
  const facets = distinctInOrder(values.map((v) => v.facet).filter((f): f is string => typeof f === 'string'));
  const data = { values };
  if (facets.length <= 1) {
    return asSpec({ ...top, data, ...panel, config: CHART_CONFIG });
  }
  return asSpec({
    ...top,
    data,
    facet: { field: 'facet', type: 'nominal', title: null, sort: facets, header: { labelLimit: 0, labelExpr: wrappedLabels(facets) } },
    columns: Math.min(FACET_COLUMNS, facets.length),
    spec: panel,
    resolve: {
      ...(facetOptions.independentY ? { scale: { y: 'independent' } } : {}),
      // Wrapped facets otherwise draw the bottom row's x axis under empty cells too.
      ...(facets.length > FACET_COLUMNS ? { axis: { x: 'independent' } } : {}),
    },
    config: CHART_CONFIG,
  });
}

/**
 * The builders assemble specs from loosely typed parts (vega-lite's own types make
 * every shared fragment a union to be narrowed); compile() checks the result, and the
 * tests compile every builder with a logger that fails on any warning.
 */
export function asSpec(spec: object): VegaLiteSpec {
  return spec as unknown as VegaLiteSpec;
}

/** Whether a number is finite; non-finite means (a failed run) are left out of charts. */
export function finite(v: number): boolean {
  return Number.isFinite(v);
}
