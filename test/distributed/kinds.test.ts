// Every kind of run through the queue (two workers, one killed mid-run) and through the
// Slurm path (submit.sh's two stages, sbatch played by a script), each run recorded once
// with a result its kind accepts.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { Queue } from 'bullmq';
import { collectCommand } from '../../src/cli/commands/collect.ts';
import { sweepCommand } from '../../src/cli/commands/sweep.ts';
import { QUEUE_PREFIX, parseRedisUrl } from '../../src/distributed/connection.ts';
import type { RunJobData, RunJobReturn } from '../../src/distributed/jobs.ts';
import { loadSweepSpec, planSweep } from '../../src/experiments/grids/spec.ts';
import { findKind } from '../../src/experiments/kinds/index.ts';
import { ResultsStore } from '../../src/store/results.ts';
import { EVERY_KIND, EVERY_KIND_ORDER, EVERY_KIND_RUNS } from '../experiments/everyKind.ts';
import { ROOT, run, spawnWorker, startRedis, stopWorkers, tmp, waitFor, writeSweep, type TestRedis } from './helpers.ts';

let redis: TestRedis;
before(async () => {
  redis = await startRedis();
});
after(async () => {
  await redis?.stop();
});

/** Every planned run of `file` is in the store once, done at the first attempt, with a result its kind checks. */
function checkRecordedOnce(db: string, file: string): void {
  const planned = planSweep(loadSweepSpec(file));
  const store = ResultsStore.open(db);
  try {
    const rows = store.list();
    assert.deepEqual(rows.map((r) => r.key).sort(), planned.map((p) => p.key).sort());
    for (const r of rows) {
      assert.equal(r.status, 'done', `${r.kind} ${r.error}`);
      assert.equal(r.attempts, 1, `${r.kind} recorded once`);
      findKind(r.kind).checkResult(r.result, r.key);
    }
    assert.deepEqual(rows.map((r) => r.kind).sort(), [...EVERY_KIND_ORDER].sort());
    for (const r of rows.filter((x) => x.kind === 'train')) assert.equal(store.perImage(r.key)!.length, 100);
  } finally {
    store.close();
  }
}

test('queue: every kind on two workers, one killed with SIGKILL mid-run; dependencies trained first, each run recorded once', async () => {
  const dir = tmp();
  const db = join(dir, 'r.db');
  const file = writeSweep(dir, 'every-kind', EVERY_KIND);
  const victim = spawnWorker(redis.url, 'every-kind');
  const coordinator = run(sweepCommand, [file, '--queue', redis.url, '--store', db, '--artifacts-dir', join(dir, 'shared'), '--json', '--quiet']);
  let survivor: ReturnType<typeof spawnWorker> | undefined;
  try {
    await waitFor('the first worker to start a run', () => /: started, attempt 1/.test(victim.stderr()));
    survivor = spawnWorker(redis.url, 'every-kind');
    victim.child.kill('SIGKILL');
    await victim.exited;
    const r = await coordinator;
    assert.equal(r.code, 0, r.err.join('\n'));
    const report = JSON.parse(r.out[0]);
    assert.deepEqual([report.total, report.recorded, report.failed.length], [EVERY_KIND_RUNS, EVERY_KIND_RUNS, 0]);
    checkRecordedOnce(db, file);
    const t = parseRedisUrl(redis.url);
    const queue = new Queue<RunJobData, RunJobReturn>('every-kind', { connection: { host: t.host, port: t.port }, prefix: QUEUE_PREFIX });
    const jobs = await queue.getCompleted();
    await queue.close();
    assert.deepEqual(jobs.map((j) => j.data.kind).sort(), [...EVERY_KIND_ORDER].sort());
    assert.ok(
      jobs.every((j) => j.returnvalue.pid === survivor!.child.pid),
      'the survivor finished every run, the killed one included',
    );
    // the dependent runs found the trained models in the shared directory instead of training them again
    assert.equal((survivor.stderr().match(/: started, attempt/g) ?? []).length, EVERY_KIND_RUNS);
  } finally {
    await stopWorkers([victim, ...(survivor ? [survivor] : [])]);
  }
});

/** A stand-in for sbatch: logs its arguments, runs the array's tasks in order at once, prints a job id. */
function fakeSbatch(dir: string): string {
  const path = join(dir, 'sbatch');
  writeFileSync(
    path,
    [
      '#!/bin/bash',
      'echo "$@" >> "$SBATCH_LOG"',
      'array=""; for a in "$@"; do case $a in --array=*) array=${a#--array=};; esac; done',
      'script="${@: -1}"',
      'for ((i=${array%-*}; i<=${array#*-}; i++)); do SLURM_ARRAY_TASK_ID=$i SLURM_CPUS_PER_TASK=1 bash "$script" >&2 || exit 1; done',
      'echo "$RANDOM;cluster"',
      '',
    ].join('\n'),
  );
  chmodSync(path, 0o755);
  return dir;
}

test('Slurm: every kind in two stages (submit.sh, --dependency=afterok), collected once each', async () => {
  const dir = tmp();
  const out = join(dir, 'slurm');
  const file = writeSweep(dir, 'every-kind-slurm', EVERY_KIND);
  const emitted = await run(sweepCommand, [file, '--emit', 'slurm', '--out', out, '--json']);
  assert.equal(emitted.code, 0, emitted.err.join('\n'));
  const { runs, submit, stages } = JSON.parse(emitted.out[0]);
  assert.equal(runs, EVERY_KIND_RUNS);
  assert.deepEqual(stages, [
    { stage: 0, first: 0, last: 2 },
    { stage: 1, first: 3, last: EVERY_KIND_RUNS - 1 },
  ]);
  assert.match(readFileSync(join(out, 'sweep.sbatch'), 'utf8'), /#SBATCH --array=0-2\n/);
  const log = join(dir, 'sbatch.log');
  const code = await new Promise<number>((ok) => {
    const child = spawn('bash', [submit], {
      cwd: ROOT,
      env: { ...process.env, PATH: `${fakeSbatch(dir)}:${process.env.PATH}`, SBATCH_LOG: log },
      stdio: 'ignore',
    });
    child.on('exit', (c) => ok(c ?? 1));
  });
  assert.equal(code, 0);
  const calls = readFileSync(log, 'utf8').trim().split('\n');
  assert.equal(calls.length, 2);
  assert.match(calls[0], /^--parsable --array=0-2 \S+sweep\.sbatch$/);
  assert.match(calls[1], new RegExp(`^--parsable --array=3-${EVERY_KIND_RUNS - 1} --dependency=afterok:\\d+ \\S+sweep\\.sbatch$`));
  const db = join(dir, 'r.db');
  const c = await run(collectCommand, [out, '--store', db, '--json']);
  assert.equal(c.code, 0, c.err.join('\n'));
  assert.deepEqual([JSON.parse(c.out[0]).loaded, JSON.parse(c.out[0]).missing], [EVERY_KIND_RUNS, []]);
  checkRecordedOnce(db, file);
  const again = await run(collectCommand, [out, '--store', db, '--json']);
  assert.deepEqual([JSON.parse(again.out[0]).loaded, JSON.parse(again.out[0]).alreadyInStore], [0, EVERY_KIND_RUNS]);
});

test('queue: a run whose train run failed is reported, not run; --no-artifacts is refused for runs that need trained models', async () => {
  const dir = tmp();
  const file = writeSweep(dir, 'failed-dependency', [{ ...EVERY_KIND[1], dataset: 'cifar10', method: 'retrain' }]);
  const workers = [spawnWorker(redis.url, 'failed-dependency')];
  try {
    const r = await run(sweepCommand, [
      file,
      '--queue',
      redis.url,
      '--store',
      join(dir, 'r.db'),
      '--artifacts-dir',
      join(dir, 'shared'),
      '--attempts',
      '1',
      '--json',
      '--quiet',
    ]);
    assert.equal(r.code, 1);
    const failed = JSON.parse(r.out[0]).failed as { kind: string; error: string }[];
    assert.deepEqual(
      failed.map((f) => f.kind),
      ['train', 'forget'],
    );
    assert.match(failed[0].error, /CIFAR-10 needs a data directory/);
    assert.match(failed[1].error, /not run: the train run it needs \([0-9a-f]{12}\) failed/);
    assert.equal((workers[0].stderr().match(/: started, attempt/g) ?? []).length, 1, 'only the train run was tried');
  } finally {
    await stopWorkers(workers);
  }
  const every = writeSweep(dir, 'every-kind-no-artifacts', EVERY_KIND);
  for (const mode of [
    ['--queue', redis.url],
    ['--emit', 'slurm', '--out', join(dir, 'slurm')],
  ]) {
    const r = await run(sweepCommand, [every, ...mode, '--no-artifacts', '--store', join(dir, 'r2.db')]);
    assert.equal(r.code, 2);
    assert.match(r.err[0], /--no-artifacts: every-kind-no-artifacts has forget runs, which need the checkpoints of the train runs/);
  }
});
