// `spurlab sweep`: run a preset or a sweep file into the results store, resumably,
// in one or several worker processes; --dry-run counts runs and estimates the time.
import { resolve } from 'node:path';
import { flag, numberOption, stringOption, type Command } from '../command.ts';
import { expandSweep, loadSweepSpec } from '../../experiments/sweepSpec.ts';
import { PRESETS } from '../../experiments/presets.ts';
import { configKey, estimateSweep, runSweepHere, runSweepWorkers } from '../../experiments/sweep.ts';
import { DEFAULT_RESULTS_PATH, ResultsStore } from '../../store/results.ts';
import { ProgressBar, stderrSink } from '../../util/progress.ts';
import { UserError } from '../../util/errors.ts';
import { progressEvents } from './train.ts';

const USAGE = `spurlab sweep <preset | file.json> [--store PATH] [--workers N] [--epochs E] [--no-artifacts] [--data-dir DIR] [--dry-run] [--json]
  presets: ${PRESETS.map((p) => p.name).join(', ')}`;

function formatDuration(s: number): string {
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 5400) return `${(s / 60).toFixed(1)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

export const sweepCommand: Command = {
  name: 'sweep',
  summary: "Run a grid of training runs (a preset of the paper's grids or a sweep file) into the results store.",
  usage: USAGE,
  options: {
    store: { type: 'string' }, workers: { type: 'string' }, epochs: { type: 'string' }, 'no-artifacts': { type: 'boolean' },
    'data-dir': { type: 'string' }, 'dry-run': { type: 'boolean' }, json: { type: 'boolean' }, quiet: { type: 'boolean' },
  },
  async run(args, io) {
    const specArg = args.positionals[0];
    if (!specArg) throw new UserError(`which sweep? usage: ${USAGE}`);
    const epochsRaw = args.values.epochs;
    const epochs = epochsRaw === undefined ? undefined : numberOption(args, 'epochs', 0, (v) => Number.isInteger(v) && v >= 0, 'a non-negative integer');
    const workers = numberOption(args, 'workers', 1, (v) => Number.isInteger(v) && v >= 1 && v <= 64, 'an integer from 1 to 64');
    const storePath = resolve(stringOption(args, 'store') ?? DEFAULT_RESULTS_PATH);
    const configs = expandSweep(loadSweepSpec(specArg), { epochs });
    const store = ResultsStore.open(storePath);
    try {
      if (flag(args, 'dry-run')) {
        const est = estimateSweep(configs, store);
        if (flag(args, 'json')) io.out(JSON.stringify(est));
        else {
          io.out(`${specArg}: ${est.runs} runs, ${est.done} already done, ${est.remaining} to run; estimated ${formatDuration(est.seconds)} on this machine`);
          for (const m of est.perModel) io.out(`  ${m.model} on ${m.dataset}: ${m.imagesPerSecond.toFixed(0)} training images/s`);
        }
        return 0;
      }
      const quiet = flag(args, 'quiet');
      if (workers > 1) {
        const extra = [
          ...(epochs !== undefined ? ['--epochs', String(epochs)] : []),
          ...(flag(args, 'no-artifacts') ? ['--no-artifacts'] : []),
          ...(args.values['data-dir'] ? ['--data-dir', String(args.values['data-dir'])] : []),
        ];
        const keys = configs.map(configKey);
        const bar = new ProgressBar(stderrSink(), `sweep ${specArg} (${workers} workers)`, keys.length, 'runs');
        const codes = await runSweepWorkers({ workers, sweepArg: specArg, storePath, extraArgs: extra, onPoll: () => bar.update(keys.filter((k) => store.isDone(k)).length) });
        const done = keys.filter((k) => store.isDone(k)).length;
        bar.update(done);
        const report = { total: keys.length, done, failed: keys.length - done, workerExitCodes: codes, store: storePath };
        io.out(flag(args, 'json') ? JSON.stringify(report) : `${done} of ${keys.length} runs done; results in ${storePath}`);
        return done === keys.length ? 0 : 1;
      }
      const bar = new ProgressBar(stderrSink(), `sweep ${specArg}`, configs.length, 'runs');
      const summary = await runSweepHere(configs, store, {
        artifacts: !flag(args, 'no-artifacts'),
        dataDir: stringOption(args, 'data-dir'),
        progress: quiet ? undefined : {
          onRunStart: (cfg, i, total) => process.stderr.write(`run ${i + 1}/${total}: ${cfg.dataset} ${cfg.pattern} n=${cfg.n} target=${cfg.target} seed=${cfg.seed} ${cfg.model} ${cfg.optimizer}\n`),
          onRunEnd: (_cfg, outcome, detail) => {
            process.stderr.write(`  ${outcome}: ${detail}\n`);
            bar.update(configs.filter((c) => store.isDone(configKey(c))).length);
          },
          trainEvents: progressEvents(configs[0]?.epochs ?? 0, '  train'),
        },
      });
      const out = { total: summary.total, ran: summary.ran, skipped: summary.skipped, failed: summary.failed.map((f) => ({ key: configKey(f.config), error: f.error })), store: storePath };
      if (flag(args, 'json')) io.out(JSON.stringify(out));
      else if (!quiet) {
        io.out(`${summary.ran} runs done, ${summary.skipped} skipped (already done or running elsewhere), ${summary.failed.length} failed; results in ${storePath}`);
        for (const f of summary.failed) io.err(`failed: ${JSON.stringify(f.config)}: ${f.error}`);
      }
      return summary.failed.length === 0 ? 0 : 1;
    } finally {
      store.close();
    }
  },
};
