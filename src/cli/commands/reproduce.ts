// `spurlab reproduce`: the runs behind each of the paper's six findings, one ordinary
// sweep per finding (the presets reproduce-<budget>-<finding>), run one after the other
// into the results store through `spurlab sweep`, so that --workers, --queue and
// --emit slurm work as they do there and an interrupted reproduction continues.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { flag, stringOption, type Command, type ParsedArgs } from '../command.ts';
import { FINDINGS, estimateReproduction, parseBudget, parseOnly, planReproduction, type FindingEstimate } from '../../experiments/reproduction.ts';
import { DEFAULT_RESULTS_PATH, ResultsStore } from '../../store/results.ts';
import { formatSeconds } from '../../util/progress.ts';
import { UserError } from '../../util/errors.ts';
import { sweepCommand } from './sweep.ts';

const USAGE = `spurlab reproduce [--budget fast|paper] [--only FINDING[,FINDING...]] [--dry-run] [--store PATH] [--workers N] [--data-dir DIR] [--json]
spurlab reproduce --budget paper --queue redis://HOST:PORT [--artifacts-dir DIR]   (then start \`spurlab worker\`s)
spurlab reproduce --budget paper --emit slurm --out DIR                            (one job array per finding in DIR/<finding>)
  findings: ${FINDINGS.map((f) => `${f.number} ${f.id}`).join(', ')}
  fast: 5 seeds, 5 epochs on a 10,000-image subset (under an hour here in all); paper: 5 seeds, 70 epochs, the paper's grids`;

/** The options `spurlab sweep` takes over unchanged. */
const PASSED_ON = [
  'store',
  'workers',
  'data-dir',
  'queue',
  'artifacts-dir',
  'attempts',
  'backoff-seconds',
  'cpus',
  'time',
  'partition',
  'quiet',
  'json',
  'no-artifacts',
] as const;

function describe(e: FindingEstimate): string {
  const kinds = Object.entries(e.kinds)
    .map(([k, c]) => `${c} ${k}`)
    .join(', ');
  const shared = e.reuses.length
    ? `; ${e.runs - e.newRuns} shared with ${e.reuses.map((id) => `(${FINDINGS.find((f) => f.id === id)!.number})`).join(', ')}`
    : '';
  const time =
    e.remaining === 0
      ? 'nothing to run'
      : `${e.remaining} to run, estimated ${formatSeconds(e.seconds)}${e.fromMeasured > 0 ? ` (${e.fromMeasured} from the times of like runs done)` : ''}`;
  return `(${e.number}) ${e.title}: ${e.runs} runs (${kinds})${shared}; ${e.done} already done, ${time}`;
}

export const reproduceCommand: Command = {
  name: 'reproduce',
  summary: "Run the sweeps behind each of the paper's six findings into the results store (resumable; --dry-run lists them with the time here).",
  usage: USAGE,
  options: {
    budget: {
      type: 'string',
      help: "fast|paper: fast: 5 seeds, 5 epochs on 10,000-image subsets, fewer n and values; paper: the paper's grids",
      defaultText: 'fast',
    },
    only: { type: 'string', help: 'FINDING,...: only these findings (names or numbers 1-6)', defaultText: 'all six' },
    'dry-run': { type: 'boolean', help: 'list the findings with their runs, those already done and the time here; run nothing' },
    ...Object.fromEntries(PASSED_ON.map((name) => [name, sweepCommand.options[name]])),
    emit: sweepCommand.options.emit,
    out: { type: 'string', help: 'DIR: with --emit slurm, each finding gets DIR/<finding>', defaultText: 'none' },
  },
  example: 'spurlab reproduce --budget fast --only 1,2 --dry-run',
  async run(args, io) {
    if (args.positionals.length > 0) throw new UserError(`unexpected argument "${args.positionals[0]}"\nusage: ${USAGE}`);
    const budget = parseBudget(stringOption(args, 'budget'));
    const only = parseOnly(stringOption(args, 'only'));
    if (args.values.emit !== undefined && !stringOption(args, 'out'))
      throw new UserError('--emit slurm needs --out DIR (each finding gets DIR/<finding>)');
    const plans = planReproduction(budget, only);
    const storePath = resolve(stringOption(args, 'store') ?? DEFAULT_RESULTS_PATH);

    if (flag(args, 'dry-run')) {
      // a dry run only reads: an existing store is opened read-only (it may be someone else's)
      const store = ResultsStore.open(storePath, { readonly: existsSync(storePath) });
      try {
        const rows = estimateReproduction(plans, store);
        const total = {
          runs: rows.reduce((s, r) => s + r.newRuns, 0),
          remaining: rows.reduce((s, r) => s + r.remaining, 0),
          seconds: rows.reduce((s, r) => s + r.seconds, 0),
          fromMeasured: rows.reduce((s, r) => s + r.fromMeasured, 0),
        };
        if (flag(args, 'json')) {
          io.out(JSON.stringify({ budget, store: storePath, findings: rows, total }));
          return 0;
        }
        io.out(`reproduce --budget ${budget}: ${plans.length} finding${plans.length === 1 ? '' : 's'} into ${storePath}`);
        for (const r of rows) {
          io.out(`  ${describe(r)}`);
          io.out(`      same runs: spurlab sweep ${r.sweep}`);
          if (r.outsideStore) io.out(`      not in this sweep: ${r.outsideStore}`);
        }
        io.out(
          `  total: ${total.runs} distinct runs, ${total.remaining} to run; estimated ${formatSeconds(total.seconds)} on this machine (` +
            (total.fromMeasured > 0 ? `${total.fromMeasured} runs from the times of like runs done, the rest ` : '') +
            'from training throughput: LiSSA, occlusion curves and attacks of runs with no like run done come on top)',
        );
        if (budget === 'paper')
          io.out(
            '  on many machines: add --queue redis://HOST:PORT and start `spurlab worker --queue redis://HOST:PORT` on each, or --emit slurm --out DIR',
          );
        return 0;
      } finally {
        store.close();
      }
    }

    let failed = 0;
    for (const p of plans) {
      if (!flag(args, 'quiet') && !flag(args, 'json')) io.err(`finding (${p.finding.number}) ${p.finding.title}: spurlab sweep ${p.sweep.name}`);
      const code = await sweepCommand.run(sweepArgs(args, p.sweep.name, p.finding.id), io);
      if (code !== 0) failed++;
    }
    if (!flag(args, 'json') && !flag(args, 'quiet')) {
      io.out(
        failed === 0
          ? `reproduce --budget ${budget}: ${plans.length} finding${plans.length === 1 ? '' : 's'} done; results in ${storePath}`
          : `reproduce --budget ${budget}: ${failed} of ${plans.length} findings had failed runs; run it again to retry the ones not recorded`,
      );
    }
    return failed === 0 ? 0 : 1;
  },
};

function sweepArgs(args: ParsedArgs, preset: string, finding: string): ParsedArgs {
  const values: ParsedArgs['values'] = {};
  for (const k of PASSED_ON) if (args.values[k] !== undefined) values[k] = args.values[k];
  if (args.values.emit !== undefined) {
    values.emit = args.values.emit;
    values.out = join(String(args.values.out), finding);
  }
  return { values, positionals: [preset] };
}
