/**
 * Rendering of Vega-Lite specs in Node: SVG through vega's headless view, PNG through
 * resvg (a Rust renderer shipped as a prebuilt binary inside its npm package, so no
 * browser or canvas is needed).
 *
 * Both outputs are deterministic: vega numbers the ids of gradients and clip paths with
 * a process-wide counter, so the same chart rendered twice (or after other charts) would
 * differ; renumberSvgIds replaces them with ids derived from the chart's name, which
 * also keeps ids unique when several charts are inlined into one HTML page.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { Resvg } from '@resvg/resvg-js';

export type VegaLiteSpec = TopLevelSpec;

/**
 * A compiled chart's headless view and every warning vega-lite (compile) and vega
 * (dataflow) reported: a warning usually means a spec mistake (an unknown field, a
 * scale that cannot hold the data), so tests require none.
 */
export interface ChartView {
  view: vega.View;
  warnings: string[];
}

function collectingLogger(warnings: string[]): ReturnType<typeof vega.logger> {
  return vega.logger(vega.Warn, 'warn', (method, _level, args) => {
    warnings.push(`${method === 'error' ? 'error: ' : ''}${args.map(String).join(' ')}`);
  });
}

/** Compiles a Vega-Lite spec and runs its dataflow headlessly (no renderer, no DOM). */
export async function chartView(spec: VegaLiteSpec): Promise<ChartView> {
  const warnings: string[] = [];
  const logger = collectingLogger(warnings);
  const runtime = vega.parse(compile(spec, { logger }).spec);
  const view = new vega.View(runtime, { renderer: 'none', logger, logLevel: vega.Warn });
  await view.runAsync();
  return { view, warnings };
}

/**
 * The chart as a standalone SVG document. `idPrefix` (default "chart") namespaces the
 * ids inside it; give each chart of a page its own prefix.
 */
export async function renderSvg(spec: VegaLiteSpec, idPrefix = 'chart'): Promise<string> {
  return (await renderSvgWithWarnings(spec, idPrefix)).svg;
}

/** renderSvg, also returning the warnings vega-lite and vega reported. */
export async function renderSvgWithWarnings(spec: VegaLiteSpec, idPrefix = 'chart'): Promise<{ svg: string; warnings: string[] }> {
  const { view, warnings } = await chartView(spec);
  try {
    return { svg: renumberSvgIds(await view.toSVG(), idPrefix), warnings };
  } finally {
    view.finalize();
  }
}

/** Rewrites every id="..." (and its url(#...) / href="#..." references) to `${prefix}-${k}`, k in order of appearance. */
export function renumberSvgIds(svg: string, prefix: string): string {
  const safePrefix = prefix.replace(/[^A-Za-z0-9_-]/g, '-');
  const ids = new Map<string, string>();
  for (const m of svg.matchAll(/\bid="([^"]+)"/g)) {
    if (!ids.has(m[1])) ids.set(m[1], `${safePrefix}-${ids.size}`);
  }
  if (ids.size === 0) return svg;
  const rename = (id: string): string => ids.get(id) ?? id;
  return svg
    .replace(/\bid="([^"]+)"/g, (_, id: string) => `id="${rename(id)}"`)
    .replace(/url\(#([^)]+)\)/g, (_, id: string) => `url(#${rename(id)})`)
    .replace(/href="#([^"]+)"/g, (_, id: string) => `href="#${rename(id)}"`);
}

/** The sans-serif family resvg uses for vega's default font ("sans-serif"); Debian's fonts-dejavu-core. */
const SANS_SERIF = 'DejaVu Sans';

/** Rasterizes an SVG document to PNG bytes at `scale` times its size (2 = crisp on high-DPI screens). */
export function renderPng(svg: string, scale = 2): Buffer {
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    font: { loadSystemFonts: true, defaultFontFamily: SANS_SERIF, sansSerifFamily: SANS_SERIF },
  });
  return resvg.render().asPng();
}

let textRendersCache: boolean | undefined;

/**
 * Whether resvg finds a font for chart text: without one it silently drops every label,
 * leaving PNGs with axes but no words. Checked once by rendering a line of text on white
 * and looking for dark pixels.
 */
export function pngTextRenders(): boolean {
  if (textRendersCache !== undefined) return textRendersCache;
  const svg =
    '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="30"><rect width="120" height="30" fill="white"/>' +
    '<text x="4" y="22" font-family="sans-serif" font-size="18" fill="black">score 0.5</text></svg>';
  const rendered = new Resvg(svg, { font: { loadSystemFonts: true, defaultFontFamily: SANS_SERIF, sansSerifFamily: SANS_SERIF } }).render();
  const pixels = rendered.pixels; // RGBA
  let dark = 0;
  for (let i = 0; i < pixels.length; i += 4) if (pixels[i] < 128) dark++;
  textRendersCache = dark > 20;
  return textRendersCache;
}
