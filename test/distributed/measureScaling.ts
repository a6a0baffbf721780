// Evidence for the queue (not a test): wall time of one 8-run sweep through a private
// Redis with 1 worker on 2 threads, 2 workers on 1 thread each, and 1 worker on 1
// thread, interleaved, 3 repetitions; the minimum of each is compared.
//   node --import tsx test/distributed/measureScaling.ts
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { sweepCommand } from '../../src/cli/commands/sweep.ts';
import { run, spawnSpurlab, startRedis, stopWorkers, waitFor, type SpawnedSpurlab } from './helpers.ts';
import { tempDir } from '../helpers.ts';

const GRID = {
  dataset: 'mnist',
  target: 0,
  model: 'MLP',
  epochs: 3,
  trainSubset: 10000,
  testSubset: 2000,
  batchSize: 128,
  pattern: 'S3',
  n: [0, 3],
  seed: [0, 1, 2, 3],
};
const SETUPS = { '1 worker x 2 threads': ['2'], '2 workers x 1 thread': ['1', '1'], '1 worker x 1 thread': ['1'] } as const;
type Setup = keyof typeof SETUPS;

const redis = await startRedis();
const times = new Map<Setup, number[]>();
try {
  for (let rep = 0; rep < 3; rep++) {
    for (const setup of Object.keys(SETUPS) as Setup[]) {
      const name = `scaling-${rep}-${SETUPS[setup].length}x${SETUPS[setup][0]}`;
      const dir = tempDir('spurlab-scaling-');
      const file = join(dir, 'sweep.json');
      writeFileSync(file, JSON.stringify({ name, grids: [GRID] }));
      const workers: SpawnedSpurlab[] = SETUPS[setup].map((threads) =>
        spawnSpurlab(['worker', '--queue', redis.url, '--sweep', name], { SPURLAB_THREADS: threads }),
      );
      await waitFor('the workers to listen', () => workers.every((w) => /listening on/.test(w.stderr())), 60_000);
      const t0 = performance.now();
      const r = await run(sweepCommand, [file, '--queue', redis.url, '--store', join(dir, 'r.db'), '--no-artifacts', '--quiet', '--json']);
      const seconds = (performance.now() - t0) / 1000;
      await stopWorkers(workers);
      if (r.code !== 0) throw new Error(r.err.join('\n'));
      times.set(setup, [...(times.get(setup) ?? []), seconds]);
      process.stdout.write(`${setup}: ${seconds.toFixed(1)} s (load average ${loadavg()[0].toFixed(1)})\n`);
    }
  }
} finally {
  await redis.stop();
}
const best = (s: Setup) => Math.min(...times.get(s)!);
for (const s of Object.keys(SETUPS) as Setup[])
  process.stdout.write(
    `${s}: ${times
      .get(s)!
      .map((t) => t.toFixed(1))
      .join(', ')} s, best ${best(s).toFixed(1)} s\n`,
  );
process.stdout.write(
  `ratio 1 worker x 2 threads / 2 workers x 1 thread: ${(best('1 worker x 2 threads') / best('2 workers x 1 thread')).toFixed(2)}\n`,
);
process.stdout.write(
  `ratio 1 worker x 1 thread / 2 workers x 1 thread: ${(best('1 worker x 1 thread') / best('2 workers x 1 thread')).toFixed(2)}\n`,
);
