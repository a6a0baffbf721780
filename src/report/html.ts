/**
 * The report as one self-contained HTML file: charts inlined as SVG, tables as HTML,
 * styles inline, no scripts and no external fonts, so it opens offline and can be
 * mailed or archived as one file. A Content-Security-Policy forbids the page any
 * request at all, so a stray reference could not fetch anything even if one slipped in.
 * Links to the side files (SVG, PNG, Markdown, LaTeX) are plain relative anchors.
 */
import { type Table, formatCell, isNumeric } from './tables.ts';
import type { SectionInfo } from './catalog.ts';
import { sweepCommand } from './catalog.ts';

export interface HtmlChart {
  name: string;
  svg: string;
  /** Relative links to the chart's files, shown under it. */
  links?: { label: string; href: string }[];
}

export interface HtmlTable {
  table: Table;
  links?: { label: string; href: string }[];
}

export interface HtmlSection {
  id: string;
  title: string;
  intro: string;
  notes: string[];
  charts: HtmlChart[];
  tables: HtmlTable[];
  /** Show the tables folded (<details>): long tables that would bury the figures. */
  foldTables?: boolean;
}

export interface HtmlPage {
  title: string;
  /** Short facts under the title: the store, run counts, the version. */
  facts: string[];
  sections: HtmlSection[];
  /** Sections left out for lack of data, listed in an appendix with the presets that would fill them. */
  missing: SectionInfo[];
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);
}

/** `code` spans for backticked parts of a sentence (the notes name commands that way), the rest escaped. */
function inlineText(text: string): string {
  return text
    .split(/(`[^`]*`)/)
    .map((part) =>
      part.startsWith('`') && part.endsWith('`') && part.length > 1 ? `<code>${escapeHtml(part.slice(1, -1))}</code>` : escapeHtml(part),
    )
    .join('');
}

const STYLE = `
  :root { color-scheme: light; }
  body { font-family: system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; margin: 0 auto; max-width: 1100px;
    padding: 1.5rem 2rem 4rem; color: #222; line-height: 1.45; background: #fff; }
  h1 { font-size: 1.7rem; margin-bottom: 0.2rem; }
  h2 { font-size: 1.3rem; margin-top: 2.5rem; border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; }
  .facts { color: #555; margin: 0 0 1rem; padding: 0; list-style: none; }
  .facts li { display: inline; }
  .facts li + li::before { content: " · "; }
  nav ol { columns: 2; padding-left: 1.2rem; }
  figure { margin: 1rem 0 1.5rem; overflow-x: auto; }
  figure svg { max-width: 100%; height: auto; display: block; }
  figcaption, .files { font-size: 0.85rem; color: #666; }
  table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; font-size: 0.88rem; font-variant-numeric: tabular-nums; }
  caption { text-align: left; font-weight: 600; padding-bottom: 0.3rem; }
  th, td { padding: 0.2rem 0.6rem; border-bottom: 1px solid #eee; }
  thead th { border-bottom: 2px solid #999; text-align: left; }
  td.num, th.num { text-align: right; }
  code { background: #f4f4f4; padding: 0.05rem 0.3rem; border-radius: 3px; }
  .note { color: #444; font-size: 0.92rem; }
  details > summary { cursor: pointer; color: #333; }
`;

function links(list: { label: string; href: string }[] | undefined): string {
  if (!list || list.length === 0) return '';
  return list.map((l) => `<a href="${escapeHtml(l.href)}">${escapeHtml(l.label)}</a>`).join(' · ');
}

/** A table as HTML, numbers right-aligned, formatted as in the Markdown and LaTeX files. */
export function htmlTable(table: Table): string {
  const cls = (i: number): string => (isNumeric(table.columns[i].format) ? ' class="num"' : '');
  const head = table.columns.map((c, i) => `<th${cls(i)}>${escapeHtml(c.header)}</th>`).join('');
  const body = table.rows.map(
    (row) => `<tr>${row.map((v, i) => `<td${cls(i)}>${escapeHtml(formatCell(v, table.columns[i].format))}</td>`).join('')}</tr>`,
  );
  return [
    `<table id="table-${escapeHtml(table.name)}">`,
    `<caption>${escapeHtml(table.caption)}</caption>`,
    `<thead><tr>${head}</tr></thead>`,
    `<tbody>${body.join('\n')}</tbody>`,
    '</table>',
  ].join('\n');
}

/** Inline charts are shown this much larger than their SVG size (still capped at the page width by CSS). */
const INLINE_SCALE = 1.3;

/**
 * An SVG document made inlinable: no XML prolog (HTML does not allow one
 * mid-document), and its size scaled, which the viewBox keeps sharp.
 */
function inlineSvg(svg: string): string {
  return svg
    .replace(/^\s*<\?xml[^>]*\?>\s*/, '')
    .replace(
      /^(<svg\b[^>]*?)\bwidth="([\d.]+)" height="([\d.]+)"/,
      (_, head: string, w: string, h: string) =>
        `${head}width="${Math.round(Number(w) * INLINE_SCALE)}" height="${Math.round(Number(h) * INLINE_SCALE)}"`,
    );
}

function sectionHtml(s: HtmlSection): string {
  const parts = [`<section id="${escapeHtml(s.id)}">`, `<h2>${escapeHtml(s.title)}</h2>`, `<p>${inlineText(s.intro)}</p>`];
  for (const note of s.notes) parts.push(`<p class="note">${inlineText(note)}</p>`);
  for (const c of s.charts) {
    const caption = links(c.links);
    parts.push(
      `<figure class="chart" data-chart="${escapeHtml(c.name)}">${inlineSvg(c.svg)}${caption ? `<figcaption>${caption}</figcaption>` : ''}</figure>`,
    );
  }
  for (const t of s.tables) {
    const body = `${htmlTable(t.table)}${t.links ? `<p class="files">${links(t.links)}</p>` : ''}`;
    parts.push(
      s.foldTables ? `<details><summary>Table: ${escapeHtml(t.table.caption)} (${t.table.rows.length} rows)</summary>${body}</details>` : body,
    );
  }
  parts.push('</section>');
  return parts.join('\n');
}

function appendixHtml(missing: SectionInfo[]): string {
  if (missing.length === 0) return '';
  const rows = missing.map(
    (m) =>
      `<tr><td>${escapeHtml(m.title)}</td><td>${m.presets.map((p) => `<code>${escapeHtml(sweepCommand(p))}</code>`).join('<br>')}${m.afterwards ? `<br>${inlineText(m.afterwards)}` : ''}</td></tr>`,
  );
  return [
    '<section id="appendix-missing">',
    '<h2>Appendix: sections without data</h2>',
    '<p>These sections are left out because the results store holds no runs for them. Running these sweeps (into the same store) and then <code>spurlab report</code> again fills them.</p>',
    '<table><thead><tr><th>section</th><th>run</th></tr></thead>',
    `<tbody>${rows.join('\n')}</tbody></table>`,
    '</section>',
  ].join('\n');
}

/** The whole page. Deterministic: the same input gives the same bytes (no dates, no random ids). */
export function renderHtmlPage(page: HtmlPage): string {
  const toc =
    page.sections.length > 1
      ? `<nav><ol>${page.sections.map((s) => `<li><a href="#${escapeHtml(s.id)}">${escapeHtml(s.title)}</a></li>`).join('')}${page.missing.length ? '<li><a href="#appendix-missing">Appendix: sections without data</a></li>' : ''}</ol></nav>`
      : '';
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    `<title>${escapeHtml(page.title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    '<header>',
    `<h1>${escapeHtml(page.title)}</h1>`,
    page.facts.length ? `<ul class="facts">${page.facts.map((f) => `<li>${inlineText(f)}</li>`).join('')}</ul>` : '',
    '</header>',
    toc,
    '<main>',
    ...page.sections.map(sectionHtml),
    appendixHtml(page.missing),
    '</main>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
