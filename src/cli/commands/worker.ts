// `spurlab worker`: trains runs from queued sweeps on this machine until stopped.
import { resolve } from 'node:path';
import { numberOption, stringOption, type Command } from '../command.ts';
import { checkRedisReachable, parseRedisUrl, sweepQueueName } from '../../distributed/connection.ts';
import { codeVersion } from '../../distributed/codeVersion.ts';
import { RunWorker } from '../../distributed/worker.ts';
import { UserError } from '../../util/errors.ts';

const USAGE = `spurlab worker --queue redis://HOST:PORT [--concurrency N] [--sweep NAME ...] [--artifacts-dir DIR] [--data-dir DIR] [--lock-seconds S]
  --concurrency N    runs at once, each in its own process, sharing the cores (default 1)
  --sweep NAME       only this sweep's queue (its name or file; repeatable); default every sweep queued on the server
  --artifacts-dir    where this machine sees the shared checkpoint directory (default the coordinator's path)
  --lock-seconds S   a run whose worker is silent this long goes to another worker (default 30)
Stop with Ctrl-C (or SIGTERM): runs under way finish first; a second signal abandons them to other workers.`;

export const workerCommand: Command = {
  name: 'worker',
  summary: 'Train runs of queued sweeps (spurlab sweep --queue) on this machine.',
  usage: USAGE,
  options: {
    queue: { type: 'string' }, concurrency: { type: 'string' }, sweep: { type: 'string', multiple: true },
    'artifacts-dir': { type: 'string' }, 'data-dir': { type: 'string' }, 'lock-seconds': { type: 'string' },
  },
  async run(args, io) {
    const url = stringOption(args, 'queue');
    if (!url) throw new UserError(`which queue? usage: ${USAGE}`);
    if (args.positionals.length > 0) throw new UserError(`unexpected argument "${args.positionals[0]}"; usage: ${USAGE}`);
    const target = parseRedisUrl(url);
    const concurrency = numberOption(args, 'concurrency', 1, (v) => Number.isInteger(v) && v >= 1 && v <= 64, 'an integer from 1 to 64');
    const lockSeconds = numberOption(args, 'lock-seconds', 30, (v) => v >= 1 && v <= 3600, 'a number of seconds from 1 to 3600');
    const artifactsDir = stringOption(args, 'artifacts-dir');
    const dataDir = stringOption(args, 'data-dir');
    await checkRedisReachable(target);
    const version = codeVersion();
    const log = (line: string) => io.err(`${new Date().toISOString()} worker ${process.pid}: ${line}`);
    const worker = new RunWorker({
      target, codeVersion: version, concurrency, lockMs: lockSeconds * 1000,
      sweeps: (args.values.sweep as string[] | undefined)?.map(sweepQueueName),
      artifactsDir: artifactsDir === undefined ? undefined : resolve(artifactsDir),
      dataDir: dataDir === undefined ? undefined : resolve(dataDir),
      onLog: log,
    });
    log(`spurlab ${version} on ${target.url}`);
    await worker.start();
    await new Promise<void>((done) => {
      let signals = 0;
      const stop = (signal: NodeJS.Signals) => {
        signals++;
        log(signals === 1 ? `${signal}: finishing the runs under way (again to abandon them)` : `${signal}: abandoning the runs under way`);
        worker.close(signals > 1).then(done, (e: Error) => {
          log(`closing: ${e.message}`);
          done();
        });
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    log('stopped');
    return 0;
  },
};
