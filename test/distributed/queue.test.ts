// Queue mode against a real redis-server: workers in child processes, the coordinator
// (spurlab sweep --queue) in this process, the results store checked afterwards.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { sweepCommand } from '../../src/cli/commands/sweep.ts';
import { codeVersion } from '../../src/distributed/codeVersion.ts';
import { QUEUE_PREFIX, parseRedisUrl } from '../../src/distributed/connection.ts';
import { runQueuedSweep } from '../../src/distributed/coordinator.ts';
import type { RunJobData, RunJobReturn } from '../../src/distributed/jobs.ts';
import { expandSweep, loadSweepSpec, planSweep } from '../../src/experiments/grids/spec.ts';
import { configKey } from '../../src/experiments/sweep.ts';
import { ResultsStore } from '../../src/store/results.ts';
import { run, spawnWorker, startRedis, stopWorkers, tiny, tmp, waitFor, writeSweep, type TestRedis } from './helpers.ts';

let redis: TestRedis;
const countStarts = (log: string) => (log.match(/: started, attempt/g) ?? []).length;

before(async () => {
  redis = await startRedis();
});
after(async () => {
  await redis?.stop();
});

function childrenOf(pid: number): number[] {
  const r = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' });
  return r.stdout.split('\n').filter(Boolean).map(Number);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function openQueue(name: string): Queue<RunJobData, RunJobReturn> {
  const t = parseRedisUrl(redis.url);
  return new Queue(name, { connection: { host: t.host, port: t.port }, prefix: QUEUE_PREFIX });
}

test('a sweep on two worker processes: every run recorded once, both workers used, --status counts them', async () => {
  const dir = tmp();
  const db = join(dir, 'r.db');
  const file = writeSweep(dir, 'two-workers', [{ ...tiny, pattern: 'S3', n: [0, 3], seed: [0, 1] }]);
  const workers = [spawnWorker(redis.url, 'two-workers'), spawnWorker(redis.url, 'two-workers')];
  try {
    const r = await run(sweepCommand, [file, '--queue', redis.url, '--store', db, '--no-artifacts', '--json', '--quiet']);
    assert.equal(r.code, 0, r.err.join('\n'));
    const report = JSON.parse(r.out[0]);
    assert.deepEqual([report.total, report.recorded, report.failed.length, report.queue], [4, 4, 0, 'spurlab:two-workers']);
    const store = ResultsStore.open(db);
    const rows = store.list({ kind: 'train' });
    const keys = expandSweep(loadSweepSpec(file)).map(configKey);
    assert.deepEqual(rows.map((x) => x.key).sort(), [...keys].sort());
    for (const row of rows) {
      assert.equal(row.status, 'done');
      assert.equal(row.attempts, 1);
      assert.equal(row.codeVersion, codeVersion());
      assert.equal(store.perImage(row.key)!.length, 100);
    }
    store.close();
    const queue = openQueue('two-workers');
    const pids = new Set((await queue.getCompleted()).map((j) => j.returnvalue.pid));
    await queue.close();
    assert.equal(pids.size, 2, 'both workers ran something');
    const status = await run(sweepCommand, [file, '--status', '--queue', redis.url, '--json', '--quiet']);
    assert.equal(status.code, 0, status.err.join('\n'));
    const [s] = JSON.parse(status.out[0]);
    assert.deepEqual([s.queue, s.queued, s.active, s.done, s.failed, s.workers], ['spurlab:two-workers', 0, 0, 4, 0, 2]);
    const again = await run(sweepCommand, [file, '--queue', redis.url, '--store', db, '--no-artifacts', '--json', '--quiet']);
    assert.equal(again.code, 0);
    assert.deepEqual([JSON.parse(again.out[0]).alreadyDone, JSON.parse(again.out[0]).recorded], [4, 0]);
  } finally {
    await stopWorkers(workers);
  }
});

test('a worker killed with SIGKILL mid-run: its job goes back to the queue and the other worker finishes it', async () => {
  const dir = tmp();
  const db = join(dir, 'r.db');
  const file = writeSweep(dir, 'kill-worker', [{ ...tiny, epochs: 3, trainSubset: 600, pattern: 'R3', n: [0, 3], seed: 0 }]);
  const victim = spawnWorker(redis.url, 'kill-worker');
  const coordinator = run(sweepCommand, [file, '--queue', redis.url, '--store', db, '--artifacts-dir', join(dir, 'shared'), '--json', '--quiet']);
  let survivor: ReturnType<typeof spawnWorker> | undefined;
  try {
    await waitFor('the first worker to start a run', () => /: started, attempt 1/.test(victim.stderr()));
    const trainers = childrenOf(victim.child.pid!);
    assert.equal(trainers.length, 1, 'the worker trains in one child process');
    victim.child.kill('SIGKILL');
    await victim.exited;
    await waitFor("the killed worker's training process to stop too", () => !isAlive(trainers[0]), 10_000);
    survivor = spawnWorker(redis.url, 'kill-worker');
    const r = await coordinator;
    assert.equal(r.code, 0, r.err.join('\n'));
    assert.equal(JSON.parse(r.out[0]).recorded, 2);
    const store = ResultsStore.open(db);
    const rows = store.list({ kind: 'train' });
    assert.equal(rows.length, 2);
    assert.ok(
      rows.every((x) => x.status === 'done' && x.attempts === 1),
      'each run recorded exactly once',
    );
    store.close();
    const queue = openQueue('kill-worker');
    const jobs = await queue.getCompleted();
    await queue.close();
    assert.equal(jobs.length, 2);
    assert.ok(
      jobs.every((j) => j.returnvalue.pid === survivor!.child.pid),
      'the survivor finished both runs',
    );
    assert.match(survivor.stderr(), /done in/);
    for (const j of jobs) assert.ok(existsSync(join(dir, 'shared', j.id!, 'metrics.json')), `checkpoint files of ${j.id} in the shared directory`);
  } finally {
    await stopWorkers([victim, ...(survivor ? [survivor] : [])]);
  }
});

test('a failing run is retried with backoff, then reported with its error; the other runs still finish', async () => {
  const dir = tmp();
  const db = join(dir, 'r.db');
  const file = writeSweep(dir, 'failing', [
    { ...tiny, pattern: 'S3', n: 0, seed: 0 },
    { ...tiny, dataset: 'cifar10', pattern: 'S3', n: 0, seed: 0 },
  ]);
  const workers = [spawnWorker(redis.url, 'failing')];
  try {
    const r = await run(sweepCommand, [
      file,
      '--queue',
      redis.url,
      '--store',
      db,
      '--no-artifacts',
      '--attempts',
      '3',
      '--backoff-seconds',
      '0.2',
      '--json',
      '--quiet',
    ]);
    assert.equal(r.code, 1);
    const report = JSON.parse(r.out[0]);
    assert.equal(report.recorded, 1);
    assert.equal(report.failed.length, 1);
    assert.match(report.failed[0].error, /CIFAR-10 needs a data directory.*\(after 3 attempts\)/);
    assert.equal(countStarts(workers[0].stderr()), 4, 'one good run plus three attempts of the bad one');
    const store = ResultsStore.open(db);
    const failed = store.list({ status: 'failed' });
    assert.equal(failed.length, 1);
    assert.match(failed[0].error!, /CIFAR-10/);
    store.close();
  } finally {
    await stopWorkers(workers);
  }
});

test('a worker refuses a run enqueued by other code, without retrying, naming both versions', async () => {
  const dir = tmp();
  const file = writeSweep(dir, 'versions', [{ ...tiny, pattern: 'S3', n: 0, seed: 0 }]);
  const store = ResultsStore.open(join(dir, 'r.db'));
  const workers = [spawnWorker(redis.url, 'versions')];
  try {
    const summary = await runQueuedSweep({
      target: parseRedisUrl(redis.url),
      sweepName: 'versions',
      runs: planSweep(loadSweepSpec(file)),
      store,
      codeVersion: '0.0.1+src.000000000000',
      artifactsDir: null,
      attempts: 3,
      backoffMs: 100,
      pollMs: 100,
    });
    assert.equal(summary.failed.length, 1);
    const error = summary.failed[0].error;
    assert.match(error, /code version mismatch/);
    assert.ok(error.includes('0.0.1+src.000000000000') && error.includes(codeVersion()), error);
    assert.match(error, /after 1 attempt\)/);
  } finally {
    store.close();
    await stopWorkers(workers);
  }
});
