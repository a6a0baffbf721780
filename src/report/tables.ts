/**
 * The report's tables: one format-free model (columns with a number format, rows of raw
 * values) and one writer per output format, Markdown and LaTeX (booktabs) here, HTML in
 * html.ts, so every format shows the same numbers formatted the same way.
 */
import type { BaselineSummary } from '../experiments/summaries.ts';
import type { ForgetSetting, MiaSetting, SensitivityCurve } from './collect.ts';
import { MISSING, type TextTarget, formatInterval, formatNumber, formatPValue, formatPercent, formatScore, formatTestP } from './format.ts';
import { contextLabels, fieldTitle, orderedFields, settingFields } from './settings.ts';

export type ColumnFormat = 'text' | 'int' | 'score' | 'pvalue' | 'percent' | 'number';

export interface TableColumn {
  header: string;
  format: ColumnFormat;
}

export type CellValue = string | number | null;

export interface Table {
  /** File name stem: tables/<name>.md and .tex. */
  name: string;
  caption: string;
  columns: TableColumn[];
  rows: CellValue[][];
}

/** One cell as text for `target`; null and NaN print as an en dash. */
export function formatCell(value: CellValue, format: ColumnFormat, target: TextTarget = 'plain'): string {
  if (value === null) return MISSING;
  if (typeof value === 'string') return value;
  switch (format) {
    case 'text':
    case 'number':
      return formatNumber(value);
    case 'int':
      return Number.isFinite(value) ? String(Math.round(value)) : MISSING;
    case 'score':
      return formatScore(value);
    case 'pvalue':
      return formatPValue(value, target);
    case 'percent':
      return formatPercent(value, target);
  }
}

/** Text columns align left, numbers right. */
export function isNumeric(format: ColumnFormat): boolean {
  return format !== 'text';
}

function escapeMarkdown(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|');
}

/** A GitHub-flavoured Markdown table, caption as a bold line above it. */
export function toMarkdown(table: Table): string {
  const header = `| ${table.columns.map((c) => escapeMarkdown(c.header)).join(' | ')} |`;
  const rule = `|${table.columns.map((c) => (isNumeric(c.format) ? '---:' : ':---')).join('|')}|`;
  const body = table.rows.map((row) => `| ${row.map((v, i) => escapeMarkdown(formatCell(v, table.columns[i].format))).join(' | ')} |`);
  return [`**${escapeMarkdown(table.caption)}**`, '', header, rule, ...body, ''].join('\n');
}

const LATEX_SPECIALS: Record<string, string> = {
  '\\': '\\textbackslash{}',
  '&': '\\&',
  '%': '\\%',
  $: '\\$',
  '#': '\\#',
  _: '\\_',
  '{': '\\{',
  '}': '\\}',
  '~': '\\textasciitilde{}',
  '^': '\\textasciicircum{}',
  '–': '--',
  σ: '$\\sigma$',
  '±': '$\\pm$',
  '·': '$\\cdot$',
};

export function escapeLatex(text: string): string {
  return text.replace(/[\\&%$#_{}~^–σ·±]/g, (ch) => LATEX_SPECIALS[ch]);
}

/** A booktabs table float (needs \usepackage{booktabs}); label tab:<name>. */
export function toLatex(table: Table): string {
  const spec = table.columns.map((c) => (isNumeric(c.format) ? 'r' : 'l')).join('');
  const cell = (v: CellValue, c: TableColumn): string => {
    const text = formatCell(v, c.format, 'latex');
    // formatCell's LaTeX output for numbers is already valid LaTeX (math, \%); text and dashes are escaped.
    return typeof v === 'string' || text === MISSING ? escapeLatex(text) : text;
  };
  return [
    '% Requires \\usepackage{booktabs}. Written by spurlab report.',
    '\\begin{table}[ht]',
    '\\centering',
    `\\caption{${escapeLatex(table.caption)}}`,
    `\\label{tab:${table.name}}`,
    `\\begin{tabular}{${spec}}`,
    '\\toprule',
    `${table.columns.map((c) => escapeLatex(c.header)).join(' & ')} \\\\`,
    '\\midrule',
    ...table.rows.map((row) => `${row.map((v, i) => cell(v, table.columns[i])).join(' & ')} \\\\`),
    '\\bottomrule',
    '\\end{tabular}',
    '\\end{table}',
    '',
  ].join('\n');
}

/**
 * Per setting: runs, mean spurious score, SEM, 95% bootstrap interval, the p-value
 * against the n = 0 baseline (Welch over runs with the exact permutation test beside it,
 * or the reference's per-image test, named so in the header), and test accuracy, from
 * summarizeWithBaseline rows. Group fields that take one value in every row move to the
 * caption; the others become the first columns.
 */
export function settingsTable(rows: BaselineSummary[], opts: { name: string; caption: string }): Table {
  const settings = rows.map((r) => settingFields(r.group, ['n', 'seed']));
  const fields = orderedFields(settings.flatMap((s) => Object.keys(s)));
  const display = settings.map((s) => Object.fromEntries(fields.map((f) => [f, s[f] ?? MISSING])));
  const { common } = contextLabels(display);
  const varying = fields.filter((f) => new Set(display.map((d) => d[f])).size > 1);
  const hasN = rows.some((r) => 'n' in r.group);
  const perImage = rows.some((r) => r.comparison.test === 'per-image');
  const columns: TableColumn[] = [
    ...varying.map((f) => ({ header: fieldTitle(f), format: 'text' as const })),
    ...(hasN ? [{ header: 'n', format: 'int' as const }] : []),
    { header: 'runs', format: 'int' },
    { header: 'score', format: 'score' },
    { header: 'SEM', format: 'score' },
    { header: '95% CI (bootstrap)', format: 'text' },
    ...(perImage
      ? [{ header: 'p vs n = 0 (per-image, reference test)', format: 'pvalue' as const }]
      : [
          { header: 'p vs n = 0 (Welch over runs)', format: 'pvalue' as const },
          { header: 'p (permutation)', format: 'pvalue' as const },
        ]),
    { header: 'test acc.', format: 'percent' },
  ];
  // Numbers keep their LaTeX form; "n.s." and the reasons for no test are text.
  const pCell = (p: number, note: string): CellValue => (Number.isNaN(p) ? note || null : p >= 0.05 ? formatTestP(p) : p);
  const body = rows.map((r, i) => [
    ...varying.map((f) => display[i][f]),
    ...(hasN ? [typeof r.group.n === 'number' ? r.group.n : null] : []),
    r.runs,
    r.meanScore,
    r.semScore,
    formatInterval(r.comparison.ci[0], r.comparison.ci[1]),
    pCell(r.pValue, r.comparison.note),
    ...(perImage
      ? []
      : [
          r.comparison.pPermutation === r.comparison.pPermutationMin
            ? // With 3 runs against 3 no split is more extreme than all-above: say that the test is at its floor.
              `${r.comparison.pPermutation.toFixed(3)} (min.)`
            : pCell(r.comparison.pPermutation, r.comparison.note),
        ]),
    r.meanTestAcc,
  ]);
  return { name: opts.name, caption: common ? `${opts.caption} (${common})` : opts.caption, columns, rows: body };
}

/** Deletion: per setting, n and model state (before, each method, retrain), the score and test accuracy over seeds. */
export function deletionTable(settings: ForgetSetting[], opts: { name: string; caption: string }): Table {
  const { labels, common } = contextLabels(settings.map((s) => s.fields));
  const several = new Set(labels).size > 1;
  const columns: TableColumn[] = [
    ...(several ? [{ header: 'setting', format: 'text' as const }] : []),
    { header: 'n', format: 'int' },
    { header: 'seeds', format: 'int' },
    { header: 'model', format: 'text' },
    { header: 'score', format: 'score' },
    { header: 'SEM', format: 'score' },
    { header: 'test acc.', format: 'percent' },
  ];
  const rows = settings.flatMap((s, i) =>
    s.series.map((series) => [...(several ? [labels[i]] : []), s.n, s.seeds, series.name, series.score.mean, series.score.sem, series.testAcc.mean]),
  );
  return { name: opts.name, caption: common ? `${opts.caption} (${common})` : opts.caption, columns, rows };
}

/** Membership inference: attack accuracy on all and on the spurious examples, AUC, TPR at 1% FPR, per n. */
export function membershipInferenceTable(settings: MiaSetting[], opts: { name: string; caption: string }): Table {
  const { labels, common } = contextLabels(settings.map((s) => s.fields));
  const several = new Set(labels).size > 1;
  const columns: TableColumn[] = [
    ...(several ? [{ header: 'setting', format: 'text' as const }] : []),
    { header: 'n', format: 'int' },
    { header: 'seeds', format: 'int' },
    { header: 'attack acc. (all)', format: 'percent' },
    { header: 'attack acc. (spurious)', format: 'percent' },
    { header: 'SEM (spurious)', format: 'percent' },
    { header: 'AUC', format: 'score' },
    { header: 'TPR at 1% FPR', format: 'percent' },
    { header: 'target test acc.', format: 'percent' },
  ];
  const rows = settings.map((s, i) => [
    ...(several ? [labels[i]] : []),
    s.n,
    s.attackAcc.count,
    s.attackAcc.mean,
    s.attackAccSpurious.mean,
    s.attackAccSpurious.sem,
    s.auc.mean,
    s.tprAt1Fpr.mean,
    s.targetTestAcc.mean,
  ]);
  return { name: opts.name, caption: common ? `${opts.caption} (${common})` : opts.caption, columns, rows };
}

/** Sensitivity: the area under each architecture's occlusion curve (larger: less sensitive to its input). */
export function sensitivityTable(curves: SensitivityCurve[], opts: { name: string; caption: string }): Table {
  const { labels, common } = contextLabels(curves.map((c) => c.fields));
  const several = new Set(labels).size > 1;
  const columns: TableColumn[] = [
    ...(several ? [{ header: 'setting', format: 'text' as const }] : []),
    { header: 'architecture', format: 'text' },
    { header: 'trained with', format: 'text' },
    { header: 'runs', format: 'int' },
    { header: 'area under curve', format: 'score' },
    { header: 'SEM', format: 'score' },
  ];
  const rows = curves.map((c, i) => [...(several ? [labels[i]] : []), c.model, c.trainedWith, c.runs, c.area.mean, c.area.sem]);
  return { name: opts.name, caption: common ? `${opts.caption} (${common})` : opts.caption, columns, rows };
}
