// `spurlab sweep`: run a preset or a sweep file (grids of any kind of run) into the
// results store, resumably, in one or several worker processes; --dry-run counts and
// checks every run and estimates the time.
// --queue hands the runs to `spurlab worker`s through Redis, --emit slurm to a cluster.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { flag, numberOption, stringOption, type CliIo, type Command, type ParsedArgs, DATA_DIR_OPTION } from '../command.ts';
import { loadSweepSpec, planSweep } from '../../experiments/grids/spec.ts';
import { PRESETS } from '../../experiments/grids/presets.ts';
import { findKind, type PlannedRun } from '../../experiments/kinds/index.ts';
import { estimateSweep, runPlannedHere, runSweepWorkers } from '../../experiments/sweep.ts';
import { DEFAULT_RESULTS_PATH, ResultsStore } from '../../store/results.ts';
import { ProgressBar, SweepStatus, stderrSink } from '../../util/progress.ts';
import { UserError } from '../../util/errors.ts';
import { checkRedisReachable, parseRedisUrl, sweepQueueName } from '../../distributed/connection.ts';
import { codeVersion } from '../../distributed/codeVersion.ts';
import { runQueuedSweep } from '../../distributed/coordinator.ts';
import { queueStatus, registeredSweeps } from '../../distributed/queueStatus.ts';
import { DEFAULT_GIVE_UP_SECONDS } from '../../distributed/redisWatch.ts';
import { workersOnQueues } from '../../distributed/workerStatus.ts';
import { emitSlurmSweep } from '../../distributed/slurmFiles.ts';
import { exitWithSpawningParent } from '../../distributed/parentWatch.ts';

const USAGE = `spurlab sweep <preset | file.json> [--store PATH] [--workers N] [--epochs E] [--no-artifacts] [--data-dir DIR] [--dry-run] [--json]
  presets: ${PRESETS.map((p) => p.name).join(', ')}
  a grid names its kind ("kind": "mia"; train, forget, mia, sensitivity, weights; default train)
spurlab sweep <sweep> --queue redis://HOST:PORT [--store PATH] [--artifacts-dir DIR | --no-artifacts] [--attempts N] [--backoff-seconds S] [--give-up-after S]
  enqueues the runs not done yet for \`spurlab worker\`s and records their results as they finish;
  exits (code 3) when Redis stays unreachable --give-up-after seconds (default ${DEFAULT_GIVE_UP_SECONDS})
spurlab sweep [<sweep>] --status --queue redis://HOST:PORT [--json]
  queued, active, done and failed runs of the sweep's queue (of every sweep without <sweep>),
  and per worker its host, current run and last lock renewal
spurlab sweep <sweep> --emit slurm --out DIR [--cpus N] [--time HH:MM:SS] [--partition P] [--no-artifacts]
  writes DIR/sweep.json and the job array DIR/sweep.sbatch; then sbatch it and \`spurlab collect DIR\``;

const QUEUE_ATTEMPTS = 3;
const QUEUE_BACKOFF_SECONDS = 10;
const SLURM_CPUS = 2;
const SLURM_TIME = '04:00:00';

function formatDuration(s: number): string {
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 5400) return `${(s / 60).toFixed(1)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

export const sweepCommand: Command = {
  name: 'sweep',
  summary: "Run grids of runs of any kind (a preset of the paper's grids or a sweep file) into the results store.",
  usage: USAGE,
  options: {
    store: { type: 'string', help: 'PATH: the results store (runs already done there are skipped)', defaultText: DEFAULT_RESULTS_PATH },
    workers: { type: 'string', help: 'N: worker processes on this machine, sharing the cores (1 to 64)', defaultText: '1' },
    epochs: { type: 'string', help: "E: train every run for E epochs instead of the grid's (0 = untrained models)", defaultText: "the grid's" },
    'no-artifacts': { type: 'boolean', help: 'keep no checkpoints or history per run (only the results in the store)' },
    'data-dir': DATA_DIR_OPTION,
    'dry-run': { type: 'boolean', help: 'count the runs, those already done and the time they would take here; run nothing' },
    json: { type: 'boolean', help: 'print the summary as one JSON line' },
    quiet: { type: 'boolean', help: 'no progress lines and no summary (the exit code tells)' },
    queue: {
      type: 'string',
      help: 'URL: enqueue the runs on this Redis server for `spurlab worker`s (redis://HOST:PORT)',
      defaultText: 'none: run here',
    },
    status: { type: 'boolean', help: 'with --queue: show the queued, active, done and failed runs and the workers' },
    'artifacts-dir': {
      type: 'string',
      help: 'DIR: with --queue, the checkpoint directory every worker sees',
      defaultText: "the store's artifacts/ beside it",
    },
    attempts: { type: 'string', help: 'N: with --queue, tries per run before it counts as failed (1 to 100)', defaultText: String(QUEUE_ATTEMPTS) },
    'backoff-seconds': {
      type: 'string',
      help: 'S: with --queue, wait before a failed run is tried again',
      defaultText: String(QUEUE_BACKOFF_SECONDS),
    },
    emit: { type: 'string', help: 'slurm: write a Slurm job array instead of running (needs --out)', defaultText: 'none' },
    out: { type: 'string', help: 'DIR: with --emit slurm, where sweep.json, sweep.sbatch and the results go', defaultText: 'none' },
    cpus: { type: 'string', help: 'N: with --emit slurm, CPUs per array task', defaultText: String(SLURM_CPUS) },
    time: { type: 'string', help: 'T: with --emit slurm, the time limit per task, [D-]HH[:MM[:SS]]', defaultText: SLURM_TIME },
    partition: { type: 'string', help: 'P: with --emit slurm, the Slurm partition', defaultText: "the cluster's default" },
    'give-up-after': {
      type: 'string',
      help: 'S: with --queue, exit (code 3) when Redis stays unreachable this many seconds',
      defaultText: String(DEFAULT_GIVE_UP_SECONDS),
    },
  },
  example: 'spurlab sweep paper-mnist-patterns --dry-run',
  async run(args, io) {
    const specArg = args.positionals[0];
    if (flag(args, 'status')) return showQueueStatus(args, io, specArg);
    if (!specArg) throw new UserError(`which sweep? usage: ${USAGE}`);
    const epochsRaw = args.values.epochs;
    const epochs =
      epochsRaw === undefined ? undefined : numberOption(args, 'epochs', 0, (v) => Number.isInteger(v) && v >= 0, 'a non-negative integer');
    const workers = numberOption(args, 'workers', 1, (v) => Number.isInteger(v) && v >= 1 && v <= 64, 'an integer from 1 to 64');
    const storePath = resolve(stringOption(args, 'store') ?? DEFAULT_RESULTS_PATH);
    const spec = loadSweepSpec(specArg);
    const runs = planSweep(spec, { epochs });
    const dependent = runs.find((r) => findKind(r.kind).dependencies(r.config).length > 0);
    if (dependent && flag(args, 'no-artifacts') && (args.values.emit !== undefined || args.values.queue !== undefined)) {
      // locally the store's artifact directory keeps those checkpoints anyway
      throw new UserError(
        `--no-artifacts: ${spec.name} has ${dependent.kind} runs, which need the checkpoints of the train runs they depend on in a directory every worker or task sees; leave --no-artifacts out${args.values.queue !== undefined ? ' (or give --artifacts-dir DIR)' : ''}`,
      );
    }
    if (args.values.emit !== undefined) return emitSlurm(args, io, spec.name, runs);
    if (args.values.queue !== undefined) return runOnQueue(args, io, spec.name, runs, storePath);
    if (args.values['artifacts-dir'] !== undefined)
      throw new UserError('--artifacts-dir is for --queue (a directory the workers share); a local sweep keeps checkpoints beside the store');
    // a dry run only reads: an existing store is opened read-only (it may be someone else's)
    const store = ResultsStore.open(storePath, { readonly: flag(args, 'dry-run') && existsSync(storePath) });
    try {
      if (flag(args, 'dry-run')) {
        const est = estimateSweep(runs, store);
        const kinds = kindCounts(runs);
        if (flag(args, 'json')) io.out(JSON.stringify({ ...est, kinds }));
        else {
          io.out(
            `${specArg}: ${est.runs} runs (${Object.entries(kinds)
              .map(([k, c]) => `${c} ${k}`)
              .join(', ')}), ${est.done} already done, ${est.remaining} to run; estimated ${formatDuration(est.seconds)} on this machine` +
              (est.fromMeasured > 0 ? ` (${est.fromMeasured} from the times of like runs done)` : ''),
          );
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
        const keys = runs.map((r) => r.key);
        const bar = new ProgressBar(stderrSink(), `sweep ${specArg} (${workers} workers)`, keys.length, 'runs');
        bar.skip(keys.filter((k) => store.isDone(k)).length);
        const codes = await runSweepWorkers({
          workers,
          sweepArg: specArg,
          storePath,
          extraArgs: extra,
          onPoll: () => bar.update(keys.filter((k) => store.isDone(k)).length),
        });
        const done = keys.filter((k) => store.isDone(k)).length;
        bar.update(done);
        const report = { total: keys.length, done, failed: keys.length - done, workerExitCodes: codes, store: storePath };
        io.out(flag(args, 'json') ? JSON.stringify(report) : `${done} of ${keys.length} runs done; results in ${storePath}`);
        return done === keys.length ? 0 : 1;
      }
      // a child of `sweep --workers N`: stop when that parent dies, even by kill -9
      exitWithSpawningParent('sweep worker');
      // One status line (runs done, overall ETA, the current run's epoch) stays in view; run and epoch lines go above it.
      const status = new SweepStatus(stderrSink(), `sweep ${specArg}`, runs.length);
      status.skip(runs.filter((r) => store.isDone(r.key)).length);
      let current = '';
      let currentEpochs = 1;
      const summary = await runPlannedHere(runs, store, {
        artifacts: !flag(args, 'no-artifacts'),
        dataDir: stringOption(args, 'data-dir'),
        progress: quiet
          ? undefined
          : {
              onRunStart: (run) => {
                current = findKind(run.kind).label(run.config);
                currentEpochs = Math.max(1, Number((run.config as { epochs?: number }).epochs ?? 1));
                status.startRun(current);
              },
              onRunEnd: (_run, outcome, detail) => status.endRun(`  ${outcome}: ${detail}`),
              events: {
                onStep: (epoch, step, steps, loss) =>
                  status.runProgress(
                    (epoch - 1 + step / steps) / currentEpochs,
                    `${current}: epoch ${epoch} step ${step}/${steps} loss ${loss.toFixed(4)}`,
                  ),
                onEpoch: (phase, r) =>
                  status.log(
                    `  ${phase} epoch ${r.epoch}: loss ${r.loss.toFixed(4)}, train acc ${(100 * r.trainAcc).toFixed(2)}%, test acc ${(100 * r.testAcc).toFixed(2)}%, ${r.seconds.toFixed(1)}s`,
                  ),
              },
            },
      });
      if (!quiet) status.finish();
      const out = {
        total: summary.total,
        ran: summary.ran,
        skipped: summary.skipped,
        failed: summary.failed.map((f) => ({ key: f.run.key, kind: f.run.kind, error: f.error })),
        store: storePath,
      };
      if (flag(args, 'json')) io.out(JSON.stringify(out));
      else if (!quiet) {
        io.out(
          `${summary.ran} runs done, ${summary.skipped} skipped (already done or running elsewhere), ${summary.failed.length} failed; results in ${storePath}`,
        );
        for (const f of summary.failed) io.err(`failed (${f.run.kind}): ${JSON.stringify(f.run.config)}: ${f.error}`);
      }
      return summary.failed.length === 0 ? 0 : 1;
    } finally {
      store.close();
    }
  },
};

function kindCounts(runs: PlannedRun[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of runs) out[r.kind] = (out[r.kind] ?? 0) + 1;
  return out;
}

function queueTarget(args: ParsedArgs) {
  const url = stringOption(args, 'queue');
  if (!url) throw new UserError(`--status needs --queue redis://HOST:PORT; usage: ${USAGE}`);
  return parseRedisUrl(url);
}

async function showQueueStatus(args: ParsedArgs, io: CliIo, specArg: string | undefined): Promise<number> {
  const target = queueTarget(args);
  await checkRedisReachable(target);
  const registered = await registeredSweeps(target);
  const names = specArg ? [sweepQueueName(loadSweepSpec(specArg).name)] : [...registered.keys()];
  const rows = [];
  for (const name of names) rows.push(await queueStatus(target, name, registered.get(name)?.codeVersion ?? null));
  const seen = await workersOnQueues(target, names);
  if (flag(args, 'json')) io.out(JSON.stringify(rows.map((r, i) => ({ ...r, workerList: seen.perQueue[i] }))));
  else if (rows.length === 0) io.out(`no sweeps queued on ${target.url}`);
  else {
    for (const [i, r] of rows.entries()) {
      io.out(
        `${r.queue}: ${r.queued} queued, ${r.active} active, ${r.done} done, ${r.failed} failed; ${r.workers} worker${r.workers === 1 ? '' : 's'} connected${r.codeVersion ? `; code ${r.codeVersion}` : ''}`,
      );
      for (const line of seen.lines[i]) io.out(line);
    }
  }
  return 0;
}

async function runOnQueue(args: ParsedArgs, io: CliIo, name: string, runs: PlannedRun[], storePath: string): Promise<number> {
  const target = queueTarget(args);
  const attempts = numberOption(args, 'attempts', QUEUE_ATTEMPTS, (v) => Number.isInteger(v) && v >= 1 && v <= 100, 'an integer from 1 to 100');
  const backoff = numberOption(args, 'backoff-seconds', QUEUE_BACKOFF_SECONDS, (v) => v >= 0, 'a non-negative number of seconds');
  const explicitDir = stringOption(args, 'artifacts-dir');
  if (explicitDir !== undefined && flag(args, 'no-artifacts'))
    throw new UserError('--artifacts-dir and --no-artifacts contradict each other; give one');
  await checkRedisReachable(target);
  const version = codeVersion();
  const store = ResultsStore.open(storePath, { codeVersion: version });
  const quiet = flag(args, 'quiet');
  try {
    const artifactsDir = flag(args, 'no-artifacts') ? null : resolve(explicitDir ?? store.artifactsDir);
    const bar = new ProgressBar(stderrSink(), `sweep ${name} (queue)`, runs.length, 'runs');
    bar.skip(runs.filter((r) => store.isDone(r.key)).length);
    if (!quiet)
      io.err(
        `sweep ${name}: ${runs.length} runs on queue spurlab:${sweepQueueName(name)} at ${target.url} (code ${version}); start workers with: spurlab worker --queue ${target.url}`,
      );
    const summary = await runQueuedSweep({
      target,
      sweepName: name,
      runs,
      store,
      codeVersion: version,
      artifactsDir,
      dataDir: stringOption(args, 'data-dir'),
      attempts,
      backoffMs: backoff * 1000,
      giveUpAfterMs:
        numberOption(args, 'give-up-after', DEFAULT_GIVE_UP_SECONDS, (v) => v >= 1 && v <= 7 * 86400, 'a number of seconds from 1 to 604800') * 1000,
      onLog: (line) => io.err(`${new Date().toISOString()} sweep ${name}: ${line}`),
      onProgress: quiet ? undefined : (p) => bar.update(p.done + p.failed, `${p.active} active, ${p.failed} failed, ${p.workers} workers`),
      onRunEnd:
        quiet || process.stderr.isTTY
          ? undefined
          : (run, outcome, detail) => io.err(`${outcome}: ${findKind(run.kind).label(run.config)}: ${detail}`),
    });
    const report = {
      queue: `spurlab:${summary.queue}`,
      total: summary.total,
      alreadyDone: summary.alreadyDone,
      recorded: summary.recorded,
      failed: summary.failed.map((f) => ({ key: f.key, kind: f.run.kind, config: f.run.config, error: f.error })),
      store: storePath,
      codeVersion: version,
    };
    if (flag(args, 'json')) io.out(JSON.stringify(report));
    else {
      io.out(
        `${summary.alreadyDone + summary.recorded} of ${summary.total} runs done (${summary.recorded} recorded now), ${summary.failed.length} failed; results in ${storePath}`,
      );
      for (const f of summary.failed) io.err(`failed (${f.run.kind}): ${JSON.stringify(f.run.config)}: ${f.error}`);
    }
    return summary.failed.length === 0 ? 0 : 1;
  } finally {
    store.close();
  }
}

function emitSlurm(args: ParsedArgs, io: CliIo, name: string, runs: PlannedRun[]): number {
  if (args.values.emit !== 'slurm') throw new UserError(`--emit ${String(args.values.emit)}: expected slurm`);
  const out = stringOption(args, 'out');
  if (!out) throw new UserError('--emit slurm needs --out DIR (where sweep.json, sweep.sbatch and the results go)');
  const time = stringOption(args, 'time') ?? SLURM_TIME;
  if (!/^(\d+-)?\d{1,2}(:\d{2}){0,2}$/.test(time)) throw new UserError(`--time ${time}: expected Slurm's [D-]HH[:MM[:SS]], e.g. 04:00:00`);
  const partition = stringOption(args, 'partition');
  if (partition !== undefined && !/^[A-Za-z0-9_.,-]+$/.test(partition))
    throw new UserError(`--partition ${partition}: expected a partition name (letters, digits, _ . , -)`);
  const { sweepFile, script, submit, stages } = emitSlurmSweep(out, {
    name,
    codeVersion: codeVersion(),
    runs,
    artifacts: !flag(args, 'no-artifacts'),
    cpusPerTask: numberOption(args, 'cpus', SLURM_CPUS, (v) => Number.isInteger(v) && v >= 1 && v <= 1024, 'an integer from 1 to 1024'),
    time,
    partition,
  });
  if (flag(args, 'json')) io.out(JSON.stringify({ runs: runs.length, sweepFile, script, submit, stages }));
  else {
    const how =
      stages.length > 1 ? `bash ${submit}   (${stages.length} stages, each after the one before: --dependency=afterok)` : `sbatch ${script}`;
    io.out(`${runs.length} runs: ${sweepFile}\nsubmit with: ${how}\nthen load the results: spurlab collect ${resolve(out)} [--store PATH]`);
  }
  return 0;
}
