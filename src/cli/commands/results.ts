// `spurlab results`: per setting, the number of runs, mean score, SEM, p-value against
// the n = 0 baseline, and test accuracy.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { flag, stringOption, type Command } from '../command.ts';
import { DEFAULT_RESULTS_PATH, ResultsStore } from '../../store/results.ts';
import { summarizeWithBaseline, type BaselineSummary } from '../../experiments/summaries.ts';
import { UserError } from '../../util/errors.ts';

const USAGE = 'spurlab results [--store PATH] [--json | --csv] [--group-by dataset,pattern,model,optimizer,n] [--kind train] [--test runs|per-image]';
const DEFAULT_GROUP = ['dataset', 'pattern', 'model', 'optimizer', 'target', 'n'];

// pValue is Welch over runs unless --test per-image (the reference's test); the column names the test.
function row(s: BaselineSummary, groupBy: string[]): Record<string, unknown> {
  const c = s.comparison;
  const tests = c.test === 'runs' ? { pValue: s.pValue, pPermutation: c.pPermutation } : { pValuePerImage: s.pValue };
  return {
    ...Object.fromEntries(groupBy.map((g) => [g, s.group[g] ?? null])), runs: s.runs, meanScore: s.meanScore, sem: s.semScore,
    ciLow: c.ci[0], ciHigh: c.ci[1], ...tests, note: c.note, meanTestAcc: s.meanTestAcc,
  };
}

function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : typeof v === 'number' ? String(v) : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function fmt(v: unknown): string {
  if (typeof v !== 'number') return v === null || v === undefined ? '-' : String(v);
  if (Number.isNaN(v)) return '-';
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) < 1e-3 && v !== 0 ? v.toExponential(2) : v.toFixed(4);
}

export const resultsCommand: Command = {
  name: 'results',
  summary: 'Summarize the results store per setting: runs, mean score, SEM, p-value vs n = 0, test accuracy.',
  usage: USAGE,
  options: { store: { type: 'string' }, json: { type: 'boolean' }, csv: { type: 'boolean' }, 'group-by': { type: 'string' }, kind: { type: 'string' }, test: { type: 'string' } },
  async run(args, io) {
    const path = resolve(stringOption(args, 'store') ?? DEFAULT_RESULTS_PATH);
    if (!existsSync(path)) throw new UserError(`${path}: no results store here; run a sweep first or pass --store PATH`);
    const groupBy = stringOption(args, 'group-by')?.split(',').map((s) => s.trim()).filter(Boolean) ?? DEFAULT_GROUP;
    const store = ResultsStore.open(path, { readonly: true });
    try {
      const test = stringOption(args, 'test') ?? 'runs';
      if (test !== 'runs' && test !== 'per-image') throw new UserError(`--test ${test}: expected runs (Welch over per-run scores) or per-image (the reference's test)`);
      const rows = summarizeWithBaseline(store, groupBy, { kind: stringOption(args, 'kind') ?? 'train', status: 'done' }, { test }).map((s) => row(s, groupBy));
      if (flag(args, 'json')) {
        io.out(JSON.stringify(rows));
      } else if (flag(args, 'csv')) {
        const cols = rows.length > 0 ? Object.keys(rows[0]) : [...groupBy, 'runs', 'meanScore', 'sem', 'ciLow', 'ciHigh', 'pValue', 'pPermutation', 'note', 'meanTestAcc'];
        io.out(cols.join(','));
        for (const r of rows) io.out(cols.map((c) => csvCell(r[c])).join(','));
      } else {
        if (rows.length === 0) {
          io.out(`no finished runs in ${path}`);
          return 0;
        }
        const cols = Object.keys(rows[0]);
        // a p-value that underflows double precision is below 1e-300, not zero
        const cells = rows.map((r) => cols.map((c) => ((c === 'pValue' || c === 'pValuePerImage') && r[c] === 0 ? '< 1e-300' : fmt(r[c]))));
        const widths = cols.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i].length)));
        io.out(cols.map((c, i) => c.padEnd(widths[i])).join('  '));
        for (const r of cells) io.out(r.map((v, i) => v.padEnd(widths[i])).join('  '));
      }
      return 0;
    } finally {
      store.close();
    }
  },
};
