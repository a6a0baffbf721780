// LiRA through the queue and the Slurm path: the K shadow models are jobs of their own
// (stage 0), the attack a job of stage 1 that gets their recorded results with it (the
// coordinator reads them from the store; a Slurm task from the earlier tasks' result
// files) instead of training them again.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { collectCommand } from '../../src/cli/commands/collect.ts';
import { sweepCommand } from '../../src/cli/commands/sweep.ts';
import { QUEUE_PREFIX, parseRedisUrl } from '../../src/distributed/connection.ts';
import type { RunJobData, RunJobReturn } from '../../src/distributed/jobs.ts';
import { readSlurmSweep, resultPath } from '../../src/distributed/slurmFiles.ts';
import { runIndex } from '../../src/distributed/slurmRuns.ts';
import { liraKind } from '../../src/experiments/kinds/index.ts';
import { ResultsStore } from '../../src/store/results.ts';
import { run, spawnWorker, startRedis, stopWorkers, tmp, writeSweep, type TestRedis } from './helpers.ts';

const TINY_LIRA = {
  kind: 'lira',
  dataset: 'mnist',
  pattern: 'S3',
  n: 3,
  seed: 0,
  model: 'MLP',
  epochs: 1,
  batchSize: 50,
  trainLimit: 200,
  testLimit: 100,
  shadows: 6,
};

let redis: TestRedis;
before(async () => {
  redis = await startRedis();
});
after(async () => {
  await redis?.stop();
});

function recorded(db: string) {
  const store = ResultsStore.open(db);
  try {
    const rows = store.list();
    assert.deepEqual(rows.map((r) => r.kind).sort(), ['lira', ...Array(6).fill('lira-shadow')]);
    for (const r of rows) assert.deepEqual([r.status, r.attempts], ['done', 1], `${r.kind} recorded once`);
    const lira = rows.find((r) => r.kind === 'lira')!;
    return {
      result: liraKind.checkResult(lira.result, lira.key),
      shadowKeys: rows
        .filter((r) => r.kind === 'lira-shadow')
        .map((r) => r.key)
        .sort(),
    };
  } finally {
    store.close();
  }
}

test('queue: a lira sweep spreads its 6 shadow models as jobs; the attack job carries their stored results', async () => {
  const dir = tmp();
  const db = join(dir, 'r.db');
  const file = writeSweep(dir, 'lira-queue', [TINY_LIRA]);
  const worker = spawnWorker(redis.url, 'lira-queue');
  try {
    const r = await run(sweepCommand, [file, '--queue', redis.url, '--store', db, '--no-artifacts', '--json', '--quiet']);
    assert.equal(r.code, 0, r.err.join('\n'));
    const report = JSON.parse(r.out[0]);
    assert.deepEqual([report.total, report.recorded, report.failed.length], [7, 7, 0]);
    const { result, shadowKeys } = recorded(db);
    assert.equal(result.shadows, 6);
    assert.equal(result.spurious.examples, 3);
    const t = parseRedisUrl(redis.url);
    const queue = new Queue<RunJobData, RunJobReturn>('lira-queue', { connection: { host: t.host, port: t.port }, prefix: QUEUE_PREFIX });
    const jobs = await queue.getCompleted();
    await queue.close();
    const attack = jobs.find((j) => j.data.kind === 'lira')!;
    assert.deepEqual(Object.keys(attack.data.inputs ?? {}).sort(), shadowKeys, 'the six shadow results went with the attack job');
    assert.ok(jobs.filter((j) => j.data.kind === 'lira-shadow').every((j) => j.data.inputs === undefined));
    assert.equal((worker.stderr().match(/: started, attempt/g) ?? []).length, 7);
  } finally {
    await stopWorkers([worker]);
  }
});

test("Slurm: the attack task reads the shadow tasks' result files; collect records all 7 once", async () => {
  const dir = tmp();
  const out = join(dir, 'slurm');
  const file = writeSweep(dir, 'lira-slurm', [TINY_LIRA]);
  const emitted = await run(sweepCommand, [file, '--emit', 'slurm', '--out', out, '--no-artifacts', '--json']);
  assert.equal(emitted.code, 0, emitted.err.join('\n'));
  assert.deepEqual(JSON.parse(emitted.out[0]).stages, [
    { stage: 0, first: 0, last: 5 },
    { stage: 1, first: 6, last: 6 },
  ]);
  const sweepFile = join(out, 'sweep.json');
  const { codeVersion } = readSlurmSweep(sweepFile);
  const outDir = join(out, 'results');
  const testAccs: number[] = [];
  for (let i = 0; i < 6; i++)
    testAccs.push(((await runIndex({ sweepFile, index: i, outDir, codeVersion, artifacts: 'none' })).file!.result as { testAcc: number }).testAcc);
  // a marked value in shadow task 0's file: the attack must take the file's result, not train model 0 again
  const path0 = resultPath(outDir, 0);
  const file0 = JSON.parse(readFileSync(path0, 'utf8'));
  file0.result.testAcc = testAccs[0] = 0.123456;
  writeFileSync(path0, JSON.stringify(file0));
  const attack = await runIndex({ sweepFile, index: 6, outDir, codeVersion, artifacts: 'none' });
  assert.equal(attack.status, 'ran');
  const models = (attack.file!.result as { details: { models: { testAcc: { mean: number } } } }).details.models;
  assert.ok(Math.abs(models.testAcc.mean - testAccs.reduce((x, y) => x + y, 0) / 6) < 1e-12, `${models.testAcc.mean} against ${testAccs.join(', ')}`);
  const db = join(dir, 'r.db');
  const c = await run(collectCommand, [out, '--store', db, '--json']);
  assert.equal(c.code, 0, c.err.join('\n'));
  assert.equal(JSON.parse(c.out[0]).loaded, 7);
  assert.equal(recorded(db).result.shadows, 6);
});
