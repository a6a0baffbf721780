// A Redis restart in the middle of a queued sweep. With persistence (AOF, as an operator
// runs it) the queue survives and every run is recorded once; without, the coordinator
// notices the lost queue state and re-queues from its results store what it lacks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { sweepCommand } from '../../src/cli/commands/sweep.ts';
import { expandSweep, loadSweepSpec, planSweep } from '../../src/experiments/grids/spec.ts';
import { configKey } from '../../src/experiments/sweep.ts';
import { ResultsStore } from '../../src/store/results.ts';
import { parseRedisUrl } from '../../src/distributed/connection.ts';
import { runQueuedSweep } from '../../src/distributed/coordinator.ts';
import { restartMessage } from '../../src/distributed/queueRecovery.ts';
import { GAVE_UP_EXIT_CODE, RedisGoneError } from '../../src/distributed/redisWatch.ts';
import { restartableRedis, sleep, stopOrKill } from './faultHelpers.ts';
import { run, spawnWorker, tiny, tmp, waitFor, writeSweep, type SpawnedSpurlab } from './helpers.ts';

const OUTAGE_MS = 1500;

/** Seconds from `since` to the first log line matching `re` after it (lines start with an ISO time). */
function delayOf(log: string, re: RegExp, since: number): number | undefined {
  for (const line of log.split('\n')) {
    const t = Date.parse(line.slice(0, 24));
    if (re.test(line) && t >= since) return (t - since) / 1000;
  }
  return undefined;
}

function doneRuns(db: string): number {
  const store = ResultsStore.open(db);
  try {
    return store.list({ kind: 'train' }).filter((x) => x.status === 'done').length;
  } finally {
    store.close();
  }
}

async function sweepThroughRestart(persist: boolean, name: string) {
  const redis = await restartableRedis({ persist });
  const dir = tmp();
  const db = join(dir, 'r.db');
  // runs long enough (12 epochs) that the restart falls mid-sweep: with 4 epochs the two
  // workers could record every run before the test stopped Redis, and nothing was restarted
  const file = writeSweep(dir, name, [{ ...tiny, epochs: 12, trainSubset: 12000, pattern: 'S3', n: [0, 3], seed: [0, 1] }]);
  const workers: SpawnedSpurlab[] = [spawnWorker(redis.url, name), spawnWorker(redis.url, name)];
  try {
    const coordinator = run(sweepCommand, [
      file,
      '--queue',
      redis.url,
      '--store',
      db,
      '--no-artifacts',
      '--give-up-after',
      '60',
      '--json',
      '--quiet',
    ]);
    // restart once the coordinator has recorded a run: that one must not be queued again
    await waitFor('a first run to be recorded', () => doneRuns(db) > 0);
    await redis.stop();
    const recordedBefore = doneRuns(db);
    assert.ok(recordedBefore < 4, `Redis stopped mid-sweep (${recordedBefore} of 4 runs recorded before the restart)`);
    await sleep(OUTAGE_MS);
    await redis.start();
    const backAt = Date.now();
    const r = await coordinator;
    const doneAt = Date.now();
    assert.equal(r.code, 0, r.err.join('\n'));
    const report = JSON.parse(r.out[0]);
    assert.equal(report.failed.length, 0);
    const store = ResultsStore.open(db);
    const rows = store.list({ kind: 'train' });
    store.close();
    const keys = expandSweep(loadSweepSpec(file)).map(configKey).sort();
    assert.deepEqual(rows.map((x) => x.key).sort(), keys, 'every run in the store');
    assert.ok(
      rows.every((x) => x.status === 'done' && x.attempts === 1),
      `each run recorded once: ${JSON.stringify(rows.map((x) => [x.status, x.attempts]))}`,
    );
    const coordLog = r.err.join('\n');
    assert.match(coordLog, /lost the connection to Redis at redis:\/\/127\.0\.0\.1:\d+/);
    for (const w of workers) await waitFor('each worker to see Redis back', () => /is back after/.test(w.stderr()), 15_000);
    const workerBack = workers.map((w) => delayOf(w.stderr(), /is back after/, backAt)!);
    const times = `coordinator back ${delayOf(coordLog, /is back after|restarted/, backAt)?.toFixed(1)} s and workers back ${workerBack.map((x) => x.toFixed(1)).join(' s, ')} s after Redis restarted; sweep finished ${((doneAt - backAt) / 1000).toFixed(1)} s after`;
    return { coordLog, report, times };
  } finally {
    await stopOrKill(workers);
    await redis.stop();
  }
}

test('Redis restarts mid-sweep with persistence (AOF): the sweep finishes with every run recorded once', { timeout: 180_000 }, async (t) => {
  const { coordLog, report, times } = await sweepThroughRestart(true, 'restart-aof');
  // the last runs may be recorded through the queue's connection before the watch sees Redis back
  assert.match(coordLog, /restarted with the queue intact|restarted after every run was recorded/);
  assert.equal(report.recorded, 4);
  t.diagnostic(times);
});

test('Redis restarts mid-sweep without persistence: the coordinator re-queues from the store what the queue lost', {
  timeout: 180_000,
}, async (t) => {
  const { coordLog, report, times } = await sweepThroughRestart(false, 'restart-empty');
  assert.match(
    coordLog,
    /restarted without the queue's state \(persistence off\?\): \d+ of \d+ runs still to record were missing; re-queued them from the results store/,
  );
  const m = /: (\d+) of (\d+) runs still to record/.exec(coordLog)!;
  assert.ok(Number(m[2]) <= 3 && Number(m[1]) >= 1, `runs recorded before the restart are not waited for, the others were re-queued: ${m[0]}`);
  assert.equal(report.recorded, 4);
  t.diagnostic(`${times}; ${m[0].slice(2)} (re-queued)`);
});

test('a coordinator whose Redis stays away gives up after --give-up-after with a clear error, and loses nothing recorded', {
  timeout: 60_000,
}, async (t) => {
  const redis = await restartableRedis({ persist: false });
  const dir = tmp();
  const file = writeSweep(dir, 'coord-gives-up', [{ ...tiny, pattern: 'S3', n: 0, seed: [0, 1] }]);
  const store = ResultsStore.open(join(dir, 'r.db'));
  const lines: string[] = [];
  try {
    // no worker: the runs stay queued while Redis goes away
    const sweep = runQueuedSweep({
      target: parseRedisUrl(redis.url),
      sweepName: 'coord-gives-up',
      runs: planSweep(loadSweepSpec(file)),
      store,
      codeVersion: 'test',
      artifactsDir: null,
      attempts: 1,
      backoffMs: 100,
      pollMs: 100,
      giveUpAfterMs: 1500,
      onLog: (l) => lines.push(l),
    });
    const outcome = sweep.then(
      () => 'finished',
      (e: unknown) => e,
    );
    await waitFor('the coordinator to enqueue', () =>
      /^2$/.test(spawnSync('redis-cli', ['-p', String(redis.port), 'llen', 'spurlab:coord-gives-up:wait'], { encoding: 'utf8' }).stdout.trim()),
    );
    await redis.stop();
    const t0 = performance.now();
    const e = await outcome;
    const s = (performance.now() - t0) / 1000;
    assert.ok(e instanceof RedisGoneError, String(e));
    assert.equal(e.exitCode, GAVE_UP_EXIT_CODE);
    assert.match(e.message, /^giving up: Redis at redis:\/\/127\.0\.0\.1:\d+ unreachable since \S+Z \(\d+ s; --give-up-after 1\.5\)$/);
    assert.equal(lines.filter((l) => /lost the connection/.test(l)).length, 1, lines.join('\n'));
    assert.ok(s < 1.5 + 6, `gave up ${s.toFixed(1)} s after Redis stopped`);
    assert.equal(store.list({ kind: 'train' }).length, 0);
    t.diagnostic(`coordinator gave up ${s.toFixed(1)} s after Redis stopped (--give-up-after 1.5)`);
  } finally {
    store.close();
    await redis.stop();
  }
});

test('what the coordinator says after a restart names what the queue kept', () => {
  const url = 'redis://127.0.0.1:6379';
  assert.equal(restartMessage(url, { missing: 0, pending: 3 }), `Redis at ${url} restarted with the queue intact (3 runs still to record)`);
  assert.match(restartMessage(url, { missing: 2, pending: 3 }), /persistence off\?\): 2 of 3 runs still to record were missing/);
  // seen only after the last result came through: nothing to wait for, nothing to claim about the queue
  assert.equal(restartMessage(url, { missing: 0, pending: 0 }), `Redis at ${url} restarted after every run was recorded`);
});
