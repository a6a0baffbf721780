// `spurlab worker`: trains runs from queued sweeps on this machine until stopped.
import { resolve } from 'node:path';
import { numberOption, stringOption, type Command, DATA_DIR_OPTION } from '../command.ts';
import { checkRedisReachable, parseRedisUrl, sweepQueueName } from '../../distributed/connection.ts';
import { codeVersion } from '../../distributed/codeVersion.ts';
import { RunWorker } from '../../distributed/worker.ts';
import { DEFAULT_GIVE_UP_SECONDS, GAVE_UP_EXIT_CODE } from '../../distributed/redisWatch.ts';
import { UserError } from '../../util/errors.ts';

const CONCURRENCY = 1;
const LOCK_SECONDS = 30;

const USAGE = `spurlab worker --queue redis://HOST:PORT [--concurrency N] [--sweep NAME ...] [--artifacts-dir DIR] [--data-dir DIR] [--lock-seconds S] [--give-up-after S]
  --concurrency N    runs at once, each in its own process, sharing the cores (default ${CONCURRENCY})
  --sweep NAME       only this sweep's queue (its name or file; repeatable); default every sweep queued on the server
  --artifacts-dir    where this machine sees the shared checkpoint directory (default the coordinator's path)
  --lock-seconds S   a run whose worker is silent this long goes to another worker (default ${LOCK_SECONDS})
  --give-up-after S  exit (code ${GAVE_UP_EXIT_CODE}) when Redis stays unreachable this long (default ${DEFAULT_GIVE_UP_SECONDS}); while it is away the worker says so and retries
Stop with Ctrl-C (or SIGTERM): runs under way finish first (unless Redis is unreachable: then they are abandoned);
a second signal abandons them to other workers. The process ends within seconds of the runs ending or being abandoned.`;

/** After a stop, the process ends this soon even if a connection still holds the event loop. */
const EXIT_BACKSTOP_MS = 2000;

export const workerCommand: Command = {
  name: 'worker',
  summary: 'Train runs of queued sweeps (spurlab sweep --queue) on this machine.',
  usage: USAGE,
  options: {
    queue: { type: 'string', help: 'URL: the Redis server the sweeps were queued on (redis://HOST:PORT)', defaultText: 'required' },
    concurrency: { type: 'string', help: 'N: runs at once, each in its own process, sharing the cores (1 to 64)', defaultText: String(CONCURRENCY) },
    sweep: {
      type: 'string',
      multiple: true,
      help: "NAME: only this sweep's queue (its name or file); repeatable",
      defaultText: 'every sweep queued on the server',
    },
    'artifacts-dir': { type: 'string', help: 'DIR: where this machine sees the shared checkpoint directory', defaultText: "the coordinator's path" },
    'data-dir': DATA_DIR_OPTION,
    'lock-seconds': {
      type: 'string',
      help: 'S: a run whose worker is silent this long goes to another worker (1 to 3600)',
      defaultText: String(LOCK_SECONDS),
    },
    'give-up-after': {
      type: 'string',
      help: `S: exit (code ${GAVE_UP_EXIT_CODE}) when Redis stays unreachable this many seconds`,
      defaultText: String(DEFAULT_GIVE_UP_SECONDS),
    },
  },
  example: 'spurlab worker --queue redis://localhost:6379 --concurrency 2',
  async run(args, io) {
    const url = stringOption(args, 'queue');
    if (!url) throw new UserError(`which queue? usage: ${USAGE}`);
    if (args.positionals.length > 0) throw new UserError(`unexpected argument "${args.positionals[0]}"; usage: ${USAGE}`);
    const target = parseRedisUrl(url);
    const concurrency = numberOption(args, 'concurrency', CONCURRENCY, (v) => Number.isInteger(v) && v >= 1 && v <= 64, 'an integer from 1 to 64');
    const lockSeconds = numberOption(args, 'lock-seconds', LOCK_SECONDS, (v) => v >= 1 && v <= 3600, 'a number of seconds from 1 to 3600');
    const giveUp = numberOption(
      args,
      'give-up-after',
      DEFAULT_GIVE_UP_SECONDS,
      (v) => v >= 1 && v <= 7 * 86400,
      'a number of seconds from 1 to 604800',
    );
    const artifactsDir = stringOption(args, 'artifacts-dir');
    const dataDir = stringOption(args, 'data-dir');
    await checkRedisReachable(target);
    const version = codeVersion();
    const log = (line: string) => io.err(`${new Date().toISOString()} worker ${process.pid}: ${line}`);
    const worker = new RunWorker({
      target,
      codeVersion: version,
      concurrency,
      lockMs: lockSeconds * 1000,
      giveUpAfterMs: giveUp * 1000,
      sweeps: (args.values.sweep as string[] | undefined)?.map(sweepQueueName),
      artifactsDir: artifactsDir === undefined ? undefined : resolve(artifactsDir),
      dataDir: dataDir === undefined ? undefined : resolve(dataDir),
      onLog: log,
    });
    log(`spurlab ${version} on ${target.url}`);
    let signals = 0;
    let stopped: (code: number) => void = () => undefined;
    const finished = new Promise<number>((r) => (stopped = r));
    const close = (force: boolean, code: number) =>
      worker.close(force).then(
        () => stopped(code),
        (e: Error) => {
          log(`closing: ${e.message}`);
          stopped(code);
        },
      );
    const stop = (signal: NodeJS.Signals) => {
      signals++;
      log(signals === 1 ? `${signal}: finishing the runs under way (again to abandon them)` : `${signal}: abandoning the runs under way`);
      void close(signals > 1, 0);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    void worker.whenGivenUp().then((e) => {
      log(e.message);
      void close(true, GAVE_UP_EXIT_CODE);
    });
    // a start that hangs on a Redis gone meanwhile still ends on a signal
    const code = await Promise.race([worker.start().then(() => finished), finished]);
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    log(code === 0 ? 'stopped' : `stopped (exit code ${code})`);
    // a connection BullMQ could not close (Redis away) would keep the process alive
    setTimeout(() => process.exit(code), EXIT_BACKSTOP_MS).unref();
    return code;
  },
};
