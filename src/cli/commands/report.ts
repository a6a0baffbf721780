// `spurlab report`: the paper's figures and tables from a results store, as one
// self-contained HTML file plus every chart as SVG/PNG and every table as Markdown/LaTeX.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from '../command.ts';
import { flag, stringOption } from '../command.ts';
import { UserError } from '../../util/errors.ts';
import { DEFAULT_RESULTS_PATH, ResultsStore } from '../../store/results.ts';
import { buildReport } from '../../report/build.ts';
import { sweepCommand } from '../../report/catalog.ts';
import { buildReproductionReport } from '../../report/reproduction/document.ts';
import { parseBudget } from '../../experiments/reproduction.ts';
import type { CliIo, ParsedArgs } from '../command.ts';

const USAGE =
  'spurlab report [--store PATH] --out DIR [--json]\n       spurlab report --reproduction [--budget fast|paper] [--store PATH] [--out FILE.md] [--json]';
const REPRODUCTION_OUT = join('docs', 'REPRODUCTION.md');

/**
 * The store's database file. A directory holding results.db is accepted too. A missing
 * path is an error rather than a new empty store: a report of nothing is never wanted.
 */
function resolveStorePath(raw: string): string {
  if (!existsSync(raw)) {
    throw new UserError(
      `--store ${raw}: no results store there; expected the results.db written by \`spurlab sweep\` (default ${DEFAULT_RESULTS_PATH})`,
    );
  }
  if (statSync(raw).isDirectory()) {
    const inside = join(raw, 'results.db');
    if (existsSync(inside)) return inside;
    throw new UserError(`--store ${raw}: is a directory without results.db; expected a results store file`);
  }
  return raw;
}

export const reportCommand: Command = {
  name: 'report',
  summary: 'Write the report (HTML, SVG/PNG charts, Markdown/LaTeX tables) from a results store.',
  usage: USAGE,
  options: {
    store: { type: 'string', help: 'PATH: the results store (or a directory holding results.db)', defaultText: DEFAULT_RESULTS_PATH },
    out: {
      type: 'string',
      help: 'DIR: where report.html, charts/ and tables/ go (created if missing); with --reproduction a FILE.md',
      defaultText: `required; with --reproduction ${REPRODUCTION_OUT}`,
    },
    json: { type: 'boolean', help: 'print the result (sections, files, what is missing) as one JSON line' },
    reproduction: { type: 'boolean', help: 'write the reproduction document instead: per finding the claim, its runs and the verdict' },
    budget: { type: 'string', help: 'fast|paper: with --reproduction, the budget whose runs are read', defaultText: 'fast' },
  },
  example: 'spurlab report --store spurlab-results/results.db --out spurlab-results/report',
  async run(args, io) {
    if (flag(args, 'reproduction')) return reproductionReport(args, io);
    if (stringOption(args, 'budget') !== undefined) throw new UserError('report: --budget goes with --reproduction');
    const out = stringOption(args, 'out');
    if (!out) throw new UserError(`report: --out DIR is required\nusage: ${USAGE}`);
    if (args.positionals.length > 0) throw new UserError(`report: unexpected argument "${args.positionals[0]}"\nusage: ${USAGE}`);
    const storePath = resolveStorePath(stringOption(args, 'store', DEFAULT_RESULTS_PATH)!);
    if (existsSync(out) && !statSync(out).isDirectory()) throw new UserError(`--out ${out}: is a file; expected a directory (created if missing)`);
    const store = ResultsStore.open(storePath, { readonly: true });
    try {
      const result = await buildReport(store, out);
      if (flag(args, 'json')) {
        io.out(
          JSON.stringify({ out: result.out, sections: result.sections, missing: result.missing, files: result.files, warnings: result.warnings }),
        );
        return 0;
      }
      for (const w of result.warnings) io.err(`warning: ${w}`);
      io.out(`report: ${result.html}`);
      io.out(
        result.sections.length > 0
          ? `sections filled: ${result.sections.join(', ')}`
          : 'sections filled: none (the store holds no finished runs the report draws)',
      );
      const charts = result.files.filter((f) => f.endsWith('.svg')).length;
      const tables = result.files.filter((f) => f.endsWith('.md')).length;
      io.out(
        `files: ${charts} charts (SVG${charts && result.files.some((f) => f.endsWith('.png')) ? ' + PNG' : ''}) in ${join(out, 'charts')}, ${tables} tables (Markdown + LaTeX) in ${join(out, 'tables')}`,
      );
      if (result.missing.length > 0) {
        io.out('without data (run these, then report again):');
        for (const m of result.missing)
          io.out(`  ${m.title}: ${m.presets.map(sweepCommand).join(' / ')}${m.afterwards ? `, ${m.afterwards.replace(/`/g, '')}` : ''}`);
      }
      return 0;
    } finally {
      store.close();
    }
  },
};

/** `report --reproduction`: docs/REPRODUCTION.md and its figures from the reproduction's runs in the store. */
async function reproductionReport(args: ParsedArgs, io: CliIo): Promise<number> {
  if (args.positionals.length > 0) throw new UserError(`report: unexpected argument "${args.positionals[0]}"\nusage: ${USAGE}`);
  const budget = parseBudget(stringOption(args, 'budget'));
  const out = stringOption(args, 'out', REPRODUCTION_OUT)!;
  if (!out.endsWith('.md'))
    throw new UserError(`--out ${out}: with --reproduction, expected a Markdown file name ending in .md (default ${REPRODUCTION_OUT})`);
  if (existsSync(out) && statSync(out).isDirectory()) throw new UserError(`--out ${out}: is a directory; expected the Markdown file to write`);
  const storeArg = stringOption(args, 'store', DEFAULT_RESULTS_PATH)!;
  const store = ResultsStore.open(resolveStorePath(storeArg), { readonly: true });
  try {
    const result = await buildReproductionReport(store, { budget, out, storeLabel: storeArg });
    if (flag(args, 'json')) {
      io.out(JSON.stringify(result));
      return 0;
    }
    for (const w of result.warnings) io.err(`warning: ${w}`);
    io.out(`reproduction (${budget} budget): ${result.path}, ${result.files.length - 1} figure files`);
    for (const f of result.findings)
      io.out(`  ${f.finding}: ${f.verdict}${f.complete || f.done === 0 ? '' : ' (incomplete)'} (${f.done} of ${f.runs} runs done)`);
    return 0;
  } finally {
    store.close();
  }
}
