// Tables: number formats, Markdown and LaTeX (booktabs) writers, and the settings table
// built from summarizeWithBaseline rows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BaselineSummary } from '../../src/experiments/summaries.ts';
import { formatNumber, formatPValue, formatPercent, formatScore } from '../../src/report/format.ts';
import { type Table, escapeLatex, formatCell, settingsTable, toLatex, toMarkdown } from '../../src/report/tables.ts';
import { optimizerLabel } from '../../src/report/settings.ts';

test('number formats: scores, percentages, p-values (scientific when small), missing values', () => {
  assert.equal(formatScore(0.12345), '0.123');
  assert.equal(formatScore(NaN), '–');
  assert.equal(formatPercent(0.9812), '98.1%');
  assert.equal(formatPercent(0.9812, 'latex'), '98.1\\%');
  assert.equal(formatPValue(0.04213), '0.042');
  assert.equal(formatPValue(0.001), '0.001');
  // either side of 0.05 stays distinguishable
  assert.equal(formatPValue(0.04962), '0.0496');
  assert.equal(formatPValue(0.05031), '0.0503');
  assert.equal(formatPValue(0.0512), '0.051');
  assert.equal(formatPValue(0.04996), '0.04996');
  assert.equal(formatPValue(0.05004), '0.05004');
  assert.equal(formatPValue(0.05), '0.050');
  assert.equal(formatPValue(0.0495), '0.0495');
  assert.equal(formatPValue(3.21e-5), '3.2e-5');
  assert.equal(formatPValue(3.21e-5, 'latex'), '$3.2\\times 10^{-5}$');
  assert.equal(formatPValue(2.5e-120), '2.5e-120');
  assert.equal(formatPValue(0), '< 1e-300');
  assert.equal(formatPValue(NaN), '–');
  assert.equal(formatNumber(1e-4), '1e-4');
  assert.equal(formatNumber(0.01), '0.01');
  assert.equal(formatNumber(20), '20');
  assert.equal(formatCell(null, 'score'), '–');
});

test('optimizer labels: name, learning rate, then other options', () => {
  assert.equal(optimizerLabel('{"lr":0.01,"momentum":0.9,"name":"sgd"}'), 'sgd lr 0.01 momentum 0.9');
  assert.equal(optimizerLabel({ name: 'adam', lr: 0.01 }), 'adam lr 0.01');
  assert.equal(optimizerLabel('adam'), 'adam');
});

const TABLE: Table = {
  name: 'demo',
  caption: 'Scores_1 & more',
  columns: [
    { header: 'pattern', format: 'text' },
    { header: 'n', format: 'int' },
    { header: 'p', format: 'pvalue' },
    { header: 'acc', format: 'percent' },
  ],
  rows: [
    ['S3|x', 3, 1.5e-7, 0.98],
    ['R3', 0, NaN, 0.975],
  ],
};

test('Markdown: aligned columns, escaped pipes, formatted numbers', () => {
  assert.equal(
    toMarkdown(TABLE),
    [
      '**Scores_1 & more**',
      '',
      '| pattern | n | p | acc |',
      '|:---|---:|---:|---:|',
      '| S3\\|x | 3 | 1.5e-7 | 98.0% |',
      '| R3 | 0 | – | 97.5% |',
      '',
    ].join('\n'),
  );
});

test('LaTeX: a booktabs float with escaped text and math-mode exponents', () => {
  const tex = toLatex(TABLE);
  assert.match(tex, /\\begin\{tabular\}\{lrrr\}\n\\toprule\npattern & n & p & acc \\\\\n\\midrule\n/);
  assert.match(tex, /S3\|x & 3 & \$1\.5\\times 10\^\{-7\}\$ & 98\.0\\% \\\\/);
  assert.match(tex, /R3 & 0 & -- & 97\.5\\% \\\\\n\\bottomrule/);
  assert.match(tex, /\\caption\{Scores\\_1 \\& more\}/);
  assert.match(tex, /\\label\{tab:demo\}/);
  assert.equal(escapeLatex('50% of $x_i^2 {a} #1 ~ \\'), '50\\% of \\$x\\_i\\textasciicircum{}2 \\{a\\} \\#1 \\textasciitilde{} \\textbackslash{}');
});

function summary(
  group: Record<string, unknown>,
  meanScore: number,
  pValue: number,
  opts: { pPermutation?: number; note?: string; test?: 'runs' | 'per-image' } = {},
): BaselineSummary {
  const comparison = {
    test: opts.test ?? 'runs',
    runs: 3,
    mean: meanScore,
    sem: 0.01,
    ci: [meanScore - 0.02, meanScore + 0.02] as [number, number],
    baselineRuns: group.n === 0 ? 0 : 3,
    baselineMean: 0.02,
    t: 5,
    df: 4,
    pValue,
    pPermutation: opts.pPermutation ?? NaN,
    pPermutationMin: 0.05,
    pMannWhitney: NaN,
    note: opts.note ?? '',
  };
  return {
    group,
    runs: 3,
    meanScore,
    semScore: 0.01,
    meanTestAcc: 0.98,
    keys: [],
    scores: [meanScore - 0.01, meanScore, meanScore + 0.01],
    baselineRuns: comparison.baselineRuns,
    baselineMeanScore: 0.02,
    comparison,
    t: 5,
    df: 4,
    pValue,
  };
}

test('settings table: varying group fields as columns, constant ones in the caption; p over runs with n.s. and reasons', () => {
  const rows = [
    summary({ dataset: 'mnist', pattern: 'S3', optimizer: '{"lr":0.01,"name":"adam"}', weightDecay: 0, n: 0 }, 0.02, NaN, { note: 'baseline' }),
    summary({ dataset: 'mnist', pattern: 'S3', optimizer: '{"lr":0.01,"name":"adam"}', weightDecay: 0, n: 3 }, 0.31, 2.2e-12, { pPermutation: 0.05 }),
    summary({ dataset: 'mnist', pattern: 'R3', optimizer: '{"lr":0.01,"name":"adam"}', weightDecay: 0, n: 3 }, 0.66, 0.0123, {
      pPermutation: 0.0143,
    }),
    summary({ dataset: 'mnist', pattern: 'R3', optimizer: '{"lr":0.01,"name":"adam"}', weightDecay: 0, n: 1 }, 0.03, 0.31, { pPermutation: 0.4 }),
    summary({ dataset: 'mnist', pattern: 'R3', optimizer: '{"lr":0.01,"name":"adam"}', weightDecay: 0, n: 10 }, 0.7, NaN, { note: '1 run' }),
  ];
  const table = settingsTable(rows, { name: 'scores', caption: 'Spurious score' });
  assert.equal(table.caption, 'Spurious score (MNIST · adam lr 0.01)');
  assert.deepEqual(
    table.columns.map((c) => c.header),
    ['pattern', 'n', 'runs', 'score', 'SEM', '95% CI (bootstrap)', 'p vs n = 0 (Welch over runs)', 'p (permutation)', 'test acc.'],
  );
  const md = toMarkdown(table).split('\n');
  assert.equal(md[4], '| S3 | 0 | 3 | 0.020 | 0.010 | 0.000–0.040 | baseline | baseline | 98.0% |');
  assert.equal(md[5], '| S3 | 3 | 3 | 0.310 | 0.010 | 0.290–0.330 | 2.2e-12 | 0.050 (min.) | 98.0% |');
  assert.equal(md[6], '| R3 | 3 | 3 | 0.660 | 0.010 | 0.640–0.680 | 0.012 | 0.014 | 98.0% |');
  assert.equal(md[7], '| R3 | 1 | 3 | 0.030 | 0.010 | 0.010–0.050 | 0.31 n.s. | 0.40 n.s. | 98.0% |');
  assert.equal(md[8], '| R3 | 10 | 3 | 0.700 | 0.010 | 0.680–0.720 | 1 run | 1 run | 98.0% |');
});

test("settings table names the reference's per-image test in its header", () => {
  const rows = [summary({ pattern: 'S3', n: 3 }, 0.31, 1e-40, { test: 'per-image' })];
  const table = settingsTable(rows, { name: 'scores', caption: 'Spurious score' });
  assert.ok(table.columns.some((c) => c.header === 'p vs n = 0 (per-image, reference test)'));
  assert.ok(!table.columns.some((c) => c.header === 'p (permutation)'));
});
