/**
 * Writes the report: report.html (self-contained), charts/<name>.svg and .png, and
 * tables/<name>.md and .tex, from whatever a results store holds (see collect.ts for
 * the conventions runs follow). Also the demo's slim page: the score-versus-n chart
 * and its table from summarizeWithBaseline rows.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ResultsStore } from '../store/results.ts';
import type { BaselineSummary } from '../experiments/summaries.ts';
import { temporaryPathFor } from '../store/atomic.ts';
import { version } from '../version.ts';
import { scoreVsNChart } from './charts.ts';
import { collectReportData } from './collect.ts';
import { type HtmlChart, type HtmlSection, type HtmlTable, renderHtmlPage } from './html.ts';
import { pngTextRenders, renderPng, renderSvgWithWarnings } from './render.ts';
import { type ReportChart, planReport } from './sections.ts';
import { contextLabels, displayValue, fieldTitle, settingFields } from './settings.ts';
import { type Table, settingsTable, toLatex, toMarkdown } from './tables.ts';

export interface BuildReportOptions {
  /** Page title; default "spurlab report". */
  title?: string;
  /** Write a PNG beside every SVG (default true). */
  png?: boolean;
  /** PNG pixels per SVG pixel (default 2). */
  pngScale?: number;
}

export interface MissingSectionSummary {
  id: string;
  title: string;
  presets: string[];
  afterwards?: string;
}

export interface BuildReportResult {
  out: string;
  /** Path of report.html. */
  html: string;
  /** Ids of the sections filled, in page order. */
  sections: string[];
  missing: MissingSectionSummary[];
  /** Every file written, report.html first. */
  files: string[];
  /** Chart warnings and PNG problems (no font found); the report is still written. */
  warnings: string[];
}

const FONT_WARNING =
  'PNG text: resvg found no sans-serif font, so PNG charts have no labels; install one (Debian: apt-get install fonts-dejavu-core)';

interface Writer {
  files: string[];
  warnings: string[];
  png: boolean;
  pngScale: number;
}

/**
 * Replaces a file by rename, so a browser or a viewer never reads half a chart. Without
 * fsync: a report is rebuilt in seconds, and syncing its dozens of files would take
 * longer than drawing them.
 */
function replaceFile(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = temporaryPathFor(path);
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

function writeFile(w: Writer, path: string, data: string | Uint8Array): void {
  replaceFile(path, data);
  w.files.push(path);
}

async function writeChart(w: Writer, outDir: string, chart: ReportChart): Promise<HtmlChart> {
  const { svg, warnings } = await renderSvgWithWarnings(chart.spec, chart.name);
  w.warnings.push(...warnings.map((m) => `chart ${chart.name}: ${m}`));
  writeFile(w, join(outDir, 'charts', `${chart.name}.svg`), svg);
  const links = [{ label: 'SVG', href: `charts/${chart.name}.svg` }];
  if (w.png) {
    writeFile(w, join(outDir, 'charts', `${chart.name}.png`), renderPng(svg, w.pngScale));
    links.push({ label: 'PNG', href: `charts/${chart.name}.png` });
  }
  return { name: chart.name, svg, links };
}

function writeTable(w: Writer, outDir: string, table: Table): HtmlTable {
  writeFile(w, join(outDir, 'tables', `${table.name}.md`), toMarkdown(table));
  writeFile(w, join(outDir, 'tables', `${table.name}.tex`), toLatex(table));
  return {
    table,
    links: [
      { label: 'Markdown', href: `tables/${table.name}.md` },
      { label: 'LaTeX', href: `tables/${table.name}.tex` },
    ],
  };
}

/**
 * One chart as <dir>/<name>.svg and, unless png is false, .png: for documents other than
 * the report page (the reproduction's Markdown). Returns the files and chart warnings.
 */
export async function writeChartFiles(dir: string, chart: ReportChart, png = true): Promise<{ files: string[]; warnings: string[] }> {
  const w = newWriter({ png });
  const { svg, warnings } = await renderSvgWithWarnings(chart.spec, chart.name);
  writeFile(w, join(dir, `${chart.name}.svg`), svg);
  if (w.png) writeFile(w, join(dir, `${chart.name}.png`), renderPng(svg, w.pngScale));
  return { files: w.files, warnings: [...w.warnings, ...warnings.map((m) => `chart ${chart.name}: ${m}`)] };
}

/** Replaces a text file by rename (a reader never sees half of it). */
export function writeTextFile(path: string, text: string): void {
  replaceFile(path, text);
}

function newWriter(opts: BuildReportOptions): Writer {
  const w: Writer = { files: [], warnings: [], png: opts.png ?? true, pngScale: opts.pngScale ?? 2 };
  if (w.png && !pngTextRenders()) w.warnings.push(FONT_WARNING);
  return w;
}

function checkUniqueNames(kind: string, names: string[]): void {
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) throw new Error(`report: two ${kind} named "${n}" would overwrite each other's files`);
    seen.add(n);
  }
}

/** Builds the full report from the store into `outDir` (created; existing files of the same names are replaced). */
export async function buildReport(store: ResultsStore, outDir: string, opts: BuildReportOptions = {}): Promise<BuildReportResult> {
  const data = collectReportData(store);
  const plan = planReport(data);
  checkUniqueNames(
    'charts',
    plan.sections.flatMap((s) => s.charts.map((c) => c.name)),
  );
  checkUniqueNames(
    'tables',
    plan.sections.flatMap((s) => s.tables.map((t) => t.name)),
  );
  const w = newWriter(opts);
  const htmlPath = join(outDir, 'report.html');
  const sections: HtmlSection[] = [];
  for (const s of plan.sections) {
    const charts: HtmlChart[] = [];
    for (const c of s.charts) charts.push(await writeChart(w, outDir, c));
    // Sections with figures show their tables folded, so the page reads as figures first.
    sections.push({ ...s, charts, tables: s.tables.map((t) => writeTable(w, outDir, t)), foldTables: s.charts.length > 0 });
  }
  const kinds = Object.entries(data.runsByKind).sort((a, b) => b[1] - a[1]);
  const total = kinds.reduce((sum, [, count]) => sum + count, 0);
  const html = renderHtmlPage({
    title: opts.title ?? 'spurlab report',
    facts: [
      `store \`${store.path}\``,
      `${total} finished run${total === 1 ? '' : 's'}${kinds.length ? ` (${kinds.map(([k, count]) => `${count} ${k}`).join(', ')})` : ''}`,
      `${plan.sections.length} section${plan.sections.length === 1 ? '' : 's'} filled, ${plan.missing.length} without data`,
      `spurlab ${version}`,
    ],
    sections,
    missing: plan.missing,
  });
  replaceFile(htmlPath, html);
  return {
    out: outDir,
    html: htmlPath,
    sections: plan.sections.map((s) => s.id),
    missing: plan.missing.map(({ id, title, presets, afterwards }) => ({ id, title, presets, ...(afterwards ? { afterwards } : {}) })),
    files: [htmlPath, ...w.files],
    warnings: w.warnings,
  };
}

export interface DemoPageOptions {
  /** The group field whose values are the lines (default 'pattern'). */
  seriesField?: string;
  title?: string;
  /** Short facts under the title (what was run). */
  facts?: string[];
  /** Paragraphs under the chart's introduction: what the table shows, how it was tested. */
  notes?: string[];
  /** HTML file name inside outDir (default 'demo.html'). */
  fileName?: string;
  png?: boolean;
}

export interface DemoPageResult {
  html: string;
  svg: string;
  /** Undefined when PNG output was turned off. */
  png: string | undefined;
  files: string[];
  warnings: string[];
}

/**
 * The demo's page: spurious score against n (one line per `seriesField` value, panels
 * for other fields that vary) and the settings table, from summarizeWithBaseline rows
 * grouped by at least n and the series field. Writes <fileName>, charts/score-vs-n.svg
 * and .png, tables/scores.md and .tex.
 */
export async function buildDemoPage(rows: BaselineSummary[], outDir: string, opts: DemoPageOptions = {}): Promise<DemoPageResult> {
  const seriesField = opts.seriesField ?? 'pattern';
  const usable = rows.filter((r) => typeof r.group.n === 'number');
  const contexts = usable.map((r) => settingFields(r.group, ['n', 'seed', seriesField]));
  const { labels, common } = contextLabels(contexts);
  const several = new Set(labels).size > 1;
  const points = usable.map((r, i) => ({
    x: r.group.n as number,
    mean: r.meanScore,
    sem: r.semScore,
    runs: r.scores,
    series: displayValue(seriesField, r.group[seriesField]),
    facet: several ? labels[i] : undefined,
  }));
  const spec = scoreVsNChart(points, { title: 'Spurious score against n', subtitle: common, seriesTitle: fieldTitle(seriesField) });
  const w = newWriter({ png: opts.png });
  const chart = await writeChart(w, outDir, { name: 'score-vs-n', spec });
  const table = writeTable(w, outDir, settingsTable(usable, { name: 'scores', caption: 'Spurious score per setting' }));
  const htmlPath = join(outDir, opts.fileName ?? 'demo.html');
  replaceFile(
    htmlPath,
    renderHtmlPage({
      title: opts.title ?? 'spurlab demo',
      facts: opts.facts ?? [`spurlab ${version}`],
      sections: [
        {
          id: 'patterns',
          title: 'Spurious score against n',
          intro:
            "The share of test images whose target-class probability rises by more than 0.1 when the pattern is added: one dot per run, the line through the means, error bars ± SEM over runs (n = 0 is the clean baseline). The table tests each setting's per-run scores against the n = 0 runs (one-sided Welch, exact permutation test beside it) and gives a bootstrap interval of the mean. `spurlab report` draws the full report from a results store.",
          notes: opts.notes ?? [],
          charts: [chart],
          tables: [table],
        },
      ],
      missing: [],
    }),
  );
  return {
    html: htmlPath,
    svg: join(outDir, 'charts', 'score-vs-n.svg'),
    png: w.png ? join(outDir, 'charts', 'score-vs-n.png') : undefined,
    files: [htmlPath, ...w.files],
    warnings: w.warnings,
  };
}
