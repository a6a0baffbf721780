// `spurlab results`: the done runs of one kind, one row per setting. Rows never mix
// settings: besides the kind's usual keys they are grouped by every config key that
// differs among the runs (only seeds are averaged). Kind train shows the mean score,
// SEM, p-value against the n = 0 baseline and test accuracy; other kinds their own
// columns (mean and SEM over the runs).
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { flag, stringOption, type Command } from '../command.ts';
import { DEFAULT_RESULTS_PATH, ResultsStore } from '../../store/results.ts';
import { findKind, KIND_NAMES } from '../../experiments/kinds/index.ts';
import { resultGroups, type ResultGroup } from '../../experiments/resultGroups.ts';
import { UserError } from '../../util/errors.ts';

const USAGE = `spurlab results [--store PATH] [--kind ${KIND_NAMES.join('|')}] [--group-by KEY,...] [--test runs|per-image] [--json | --csv]
  rows are grouped by the kind's keys and every other config key that differs among the runs;
  --group-by must name every key that differs (it is refused otherwise, naming them)
  accuracies are percentages in the table, 0-1 fractions in --json and --csv (as in the store); scores are 0-1 everywhere`;

// pValue is Welch over runs unless --test per-image (the reference's test); the column names the test.
function trainRow(s: ResultGroup, groupBy: string[]): Record<string, unknown> {
  const b = s.baseline!;
  const c = b.comparison;
  const tests = c.test === 'runs' ? { pValue: b.pValue, pPermutation: c.pPermutation } : { pValuePerImage: b.pValue };
  return {
    ...Object.fromEntries(groupBy.map((g) => [g, s.group[g] ?? null])),
    runs: s.runs,
    meanScore: b.meanScore,
    sem: b.semScore,
    ciLow: c.ci[0],
    ciHigh: c.ci[1],
    ...tests,
    note: c.note,
    meanTestAcc: b.meanTestAcc,
  };
}

function kindRow(s: ResultGroup, groupBy: string[]): Record<string, unknown> {
  const cols = Object.entries(s.columns).flatMap(([name, m]) => [
    [name, m.mean],
    [`${name}Sem`, m.sem],
  ]);
  return { ...Object.fromEntries(groupBy.map((g) => [g, s.group[g] ?? null])), runs: s.runs, ...Object.fromEntries(cols) };
}

function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function fmt(v: unknown): string {
  if (typeof v !== 'number') return v === null || v === undefined ? '-' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  if (Number.isNaN(v)) return '-';
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) < 1e-3 && v !== 0 ? v.toExponential(2) : v.toFixed(4);
}

// a mean and its SEM always with the same decimals, so a column lines up
const fixed = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(4) : fmt(v));

/** Accuracy columns (testAcc, meanTestAcc, attackAccSpurious, forgetAccAfter, ...): shown in %. */
const isAccuracy = (column: string) => /Acc(?![a-z])/.test(column);
const percent = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? `${(100 * v).toFixed(2)}%` : fmt(v));

export const resultsCommand: Command = {
  name: 'results',
  summary:
    "Summarize the results store per setting and kind: runs, means and SEMs of the kind's columns (train: score, p-value vs n = 0, test accuracy).",
  usage: USAGE,
  options: {
    store: { type: 'string', help: 'PATH: the results store', defaultText: DEFAULT_RESULTS_PATH },
    json: { type: 'boolean', help: 'print the rows as one JSON array (accuracies as 0-1 fractions)' },
    csv: { type: 'boolean', help: 'print the rows as CSV, one column per value and SEM (accuracies as 0-1 fractions)' },
    'group-by': {
      type: 'string',
      help: 'KEY,...: the config keys a row is grouped by; must name every key that differs',
      defaultText: "the kind's keys and every differing key",
    },
    kind: { type: 'string', help: `K: the kind of run (${KIND_NAMES.join(', ')})`, defaultText: 'train' },
    test: {
      type: 'string',
      help: "runs|per-image: kind train's test against n = 0 (Welch over runs, or the reference's per-image test)",
      defaultText: 'runs',
    },
  },
  example: 'spurlab results --kind train --test per-image',
  async run(args, io) {
    const kind = findKind(stringOption(args, 'kind') ?? 'train', '--kind');
    const path = resolve(stringOption(args, 'store') ?? DEFAULT_RESULTS_PATH);
    if (!existsSync(path)) throw new UserError(`${path}: no results store here; run a sweep first or pass --store PATH`);
    const asked = stringOption(args, 'group-by')
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const store = ResultsStore.open(path, { readonly: true });
    try {
      const test = stringOption(args, 'test') ?? 'runs';
      if (test !== 'runs' && test !== 'per-image')
        throw new UserError(`--test ${test}: expected runs (Welch over per-run scores) or per-image (the reference's test)`);
      const { groupBy, groups } = resultGroups(store, kind.name, { groupBy: asked, test });
      const rows = groups.map((g) => (g.baseline ? trainRow(g, groupBy) : kindRow(g, groupBy)));
      if (flag(args, 'json')) {
        io.out(JSON.stringify(rows));
      } else if (flag(args, 'csv')) {
        const cols = rows.length > 0 ? Object.keys(rows[0]) : [...groupBy, 'runs'];
        io.out(cols.join(','));
        for (const r of rows) io.out(cols.map((c) => csvCell(r[c])).join(','));
      } else {
        if (rows.length === 0) {
          io.out(`no finished ${kind.name} runs in ${path}`);
          return 0;
        }
        // mean ± SEM in one cell for the kinds' own columns
        const shown = rows.map((r) => {
          const out: Record<string, string> = {};
          for (const [c, v] of Object.entries(r)) {
            if (c.endsWith('Sem') && `${c.slice(0, -3)}` in r) continue;
            const sem = r[`${c}Sem`];
            // a p-value that underflows double precision is below 1e-300, not zero
            const show = isAccuracy(c) ? percent : fixed;
            out[c] =
              (c === 'pValue' || c === 'pValuePerImage') && v === 0
                ? '< 1e-300'
                : typeof sem === 'number' && Number.isFinite(sem)
                  ? `${show(v)} ± ${show(sem)}`
                  : isAccuracy(c)
                    ? percent(v)
                    : fmt(v);
          }
          return out;
        });
        const cols = Object.keys(shown[0]);
        const widths = cols.map((c) => Math.max(c.length, ...shown.map((r) => r[c].length)));
        io.out(cols.map((c, i) => c.padEnd(widths[i])).join('  '));
        for (const r of shown) io.out(cols.map((c, i) => r[c].padEnd(widths[i])).join('  '));
      }
      return 0;
    } finally {
      store.close();
    }
  },
};
