// A worker whose Redis goes away: it says so once, says when it is back and carries on,
// gives up after --give-up-after with its own exit code, and a SIGTERM ends it within a
// bound whether or not Redis answers (the bug of issue 23: it never exited).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { sweepCommand } from '../../src/cli/commands/sweep.ts';
import { codeVersion } from '../../src/distributed/codeVersion.ts';
import { connectionOptions, parseRedisUrl, QUEUE_PREFIX } from '../../src/distributed/connection.ts';
import { SweepCoordinator } from '../../src/distributed/coordinator.ts';
import { loadSweepSpec, planSweep } from '../../src/experiments/grids/spec.ts';
import { GAVE_UP_EXIT_CODE } from '../../src/distributed/redisWatch.ts';
import { ResultsStore } from '../../src/store/results.ts';
import { restartableRedis, secondsSince, sleep, stopOrKill } from './faultHelpers.ts';
import { run, spawnWorker, tiny, tmp, waitFor, writeSweep } from './helpers.ts';

// what "bounded" means here: closing takes at most 3 s, the exit backstop 2 s, plus a loaded machine
const STOP_BOUND_S = 8;
// a run that lasts a few seconds, so a fault can strike while it trains
export const slowRun = { ...tiny, epochs: 6, trainSubset: 20000 };
const count = (text: string, re: RegExp) => (text.match(new RegExp(re.source, 'g')) ?? []).length;

test('a worker losing Redis says so once, says when it is back, then trains again; SIGTERM with Redis gone ends it in seconds', {
  timeout: 120_000,
}, async (t) => {
  const redis = await restartableRedis({ persist: false });
  const dir = tmp();
  const worker = spawnWorker(redis.url, 'outage');
  try {
    await waitFor('the worker to listen', () => /listening on spurlab:outage/.test(worker.stderr()));
    await redis.stop();
    const lostAt = performance.now();
    await waitFor('the worker to say Redis is lost', () => /lost the connection to Redis/.test(worker.stderr()), 15_000);
    const noticed = secondsSince(lostAt);
    await sleep(2000);
    const log = worker.stderr();
    assert.equal(
      count(log, /lost the connection to Redis at redis:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\) at \d{4}-\d\d-\d\dT[\d:]+Z; retrying/),
      1,
      log,
    );
    assert.equal(count(log, /ECONNREFUSED/), 1, `one line about the lost connection, not one per retry:\n${log}`);
    await redis.start();
    const backAt = performance.now();
    await waitFor(
      'the worker to say Redis is back',
      () => /Redis at redis:\/\/127\.0\.0\.1:\d+ is back after \d+\.\d s/.test(worker.stderr()),
      15_000,
    );
    const back = secondsSince(backAt);
    // it carries on: a run queued now is trained and recorded
    const file = writeSweep(dir, 'outage', [{ ...tiny, pattern: 'S3', n: 0, seed: 0 }]);
    const r = await run(sweepCommand, [file, '--queue', redis.url, '--store', join(dir, 'r.db'), '--no-artifacts', '--json', '--quiet']);
    assert.equal(r.code, 0, r.err.join('\n'));
    assert.equal(JSON.parse(r.out[0]).recorded, 1);
    const status = await run(sweepCommand, [file, '--status', '--queue', redis.url, '--json']);
    const [row] = JSON.parse(status.out[0]);
    assert.deepEqual(
      row.workerList.map((w: { host: string; pid: number; runs: unknown[]; lockMs: number }) => [w.host, w.pid, w.runs, w.lockMs]),
      [[hostname(), worker.child.pid, [], 3000]],
    );
    await redis.stop();
    await waitFor('the worker to notice the second outage', () => count(worker.stderr(), /lost the connection/) === 2, 15_000);
    const t0 = performance.now();
    worker.child.kill('SIGTERM');
    const code = await worker.exited;
    const stopS = secondsSince(t0);
    assert.equal(code, 0, worker.stderr());
    assert.ok(stopS < STOP_BOUND_S, `exited ${stopS.toFixed(1)} s after SIGTERM, bound ${STOP_BOUND_S} s`);
    assert.match(worker.stderr(), /SIGTERM: finishing the runs under way[\s\S]*stopped/);
    t.diagnostic(
      `lost noticed after ${noticed.toFixed(1)} s, back noticed ${back.toFixed(1)} s after Redis restarted, SIGTERM with Redis gone: exit after ${stopS.toFixed(1)} s`,
    );
  } finally {
    await stopOrKill([worker]);
    await redis.stop();
  }
});

test('SIGTERM with Redis gone mid-run: the run is abandoned and the worker exits within the bound; the run is not lost', {
  timeout: 120_000,
}, async (t) => {
  const redis = await restartableRedis({ persist: true });
  const dir = tmp();
  const file = writeSweep(dir, 'midrun', [{ ...slowRun, pattern: 'S3', n: 0, seed: 0 }]);
  const db = join(dir, 'r.db');
  const worker = spawnWorker(redis.url, 'midrun');
  const coordinator = run(sweepCommand, [file, '--queue', redis.url, '--store', db, '--no-artifacts', '--give-up-after', '60', '--json', '--quiet']);
  let second: ReturnType<typeof spawnWorker> | undefined;
  try {
    await waitFor('the worker to start the run', () => /: started, attempt 1/.test(worker.stderr()));
    await redis.stop();
    await waitFor('the worker to say Redis is lost', () => /lost the connection to Redis/.test(worker.stderr()), 15_000);
    const t0 = performance.now();
    worker.child.kill('SIGTERM');
    await worker.exited;
    const stopS = secondsSince(t0);
    assert.ok(stopS < STOP_BOUND_S, `exited ${stopS.toFixed(1)} s after SIGTERM, bound ${STOP_BOUND_S} s`);
    assert.match(worker.stderr(), /abandoning 1 run under way \(Redis is unreachable/);
    // Redis comes back with its AOF: the abandoned job's lock lapses and another worker finishes it
    await redis.start();
    second = spawnWorker(redis.url, 'midrun');
    const r = await coordinator;
    assert.equal(r.code, 0, r.err.join('\n'));
    const store = ResultsStore.open(db);
    const rows = store.list({ kind: 'train' });
    store.close();
    assert.deepEqual(
      rows.map((x) => [x.status, x.attempts]),
      [['done', 1]],
    );
    t.diagnostic(`SIGTERM mid-run with Redis gone: exit after ${stopS.toFixed(1)} s`);
  } finally {
    await stopOrKill([worker, ...(second ? [second] : [])]);
    await redis.stop();
  }
});

test('--give-up-after: a worker whose Redis stays away exits with its own code and a clear line', { timeout: 60_000 }, async (t) => {
  const redis = await restartableRedis({ persist: false });
  const worker = spawnWorker(redis.url, 'give-up', ['--give-up-after', '2']);
  try {
    await waitFor('the worker to listen', () => /listening on spurlab:give-up/.test(worker.stderr()));
    await redis.stop();
    const t0 = performance.now();
    const code = await worker.exited;
    const s = secondsSince(t0);
    assert.equal(code, GAVE_UP_EXIT_CODE, worker.stderr());
    assert.match(worker.stderr(), /giving up: Redis at redis:\/\/127\.0\.0\.1:\d+ unreachable since \S+Z \(\d+ s; --give-up-after 2\)/);
    assert.ok(s >= 2 && s < 2 + STOP_BOUND_S, `gave up ${s.toFixed(1)} s after Redis stopped`);
    t.diagnostic(`gave up and exited ${s.toFixed(1)} s after Redis stopped (--give-up-after 2)`);
  } finally {
    await stopOrKill([worker]);
    await redis.stop();
  }
});

test('a second SIGTERM abandons the run under way at once: the process ends, and the run is not counted as a failed attempt', {
  timeout: 90_000,
}, async (t) => {
  const redis = await restartableRedis({ persist: false });
  const dir = tmp();
  const file = writeSweep(dir, 'second-signal', [{ ...slowRun, pattern: 'S3', n: 0, seed: 0 }]);
  const store = ResultsStore.open(join(dir, 'r.db'));
  const worker = spawnWorker(redis.url, 'second-signal');
  const queue = new Queue('second-signal', { connection: connectionOptions(parseRedisUrl(redis.url)), prefix: QUEUE_PREFIX });
  try {
    const coordinator = new SweepCoordinator({
      target: parseRedisUrl(redis.url),
      sweepName: 'second-signal',
      runs: planSweep(loadSweepSpec(file)),
      store,
      codeVersion: codeVersion(),
      artifactsDir: null,
      attempts: 3,
      backoffMs: 100,
    });
    await coordinator.enqueue();
    await coordinator.close();
    await waitFor('the worker to start the run', () => /: started, attempt 1/.test(worker.stderr()));
    const t0 = performance.now();
    worker.child.kill('SIGTERM');
    await waitFor('the first signal to be heard', () => /SIGTERM: finishing the runs under way/.test(worker.stderr()), 10_000);
    worker.child.kill('SIGTERM');
    await worker.exited;
    const s = secondsSince(t0);
    assert.ok(s < STOP_BOUND_S, `exited ${s.toFixed(1)} s after the first SIGTERM, bound ${STOP_BOUND_S} s`);
    assert.match(
      worker.stderr(),
      /SIGTERM: abandoning the runs under way[\s\S]*abandoning 1 run under way: handed back to the queue for another worker/,
    );
    assert.doesNotMatch(worker.stderr(), /done in/, 'the run was abandoned, not finished');
    const [job] = await queue.getJobs(['waiting']);
    assert.ok(job, 'the run is waiting in the queue for another worker');
    assert.equal(job.attemptsMade, 0, 'an abandoned run is not a failed attempt');
    t.diagnostic(`two SIGTERMs mid-run: exit ${s.toFixed(1)} s after the first`);
  } finally {
    await queue.close();
    store.close();
    await stopOrKill([worker]);
    await redis.stop();
  }
});
