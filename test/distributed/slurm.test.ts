// Slurm mode without Slurm: the emitted array script is run by bash with the variables
// Slurm would set, then collect loads the result files into a store exactly once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { collectCommand } from '../../src/cli/commands/collect.ts';
import { runIndexCommand } from '../../src/cli/commands/runIndex.ts';
import { sweepCommand } from '../../src/cli/commands/sweep.ts';
import { commands } from '../../src/cli/commands/index.ts';
import { codeVersion } from '../../src/distributed/codeVersion.ts';
import { expandSweep, loadSweepSpec } from '../../src/experiments/grids/spec.ts';
import { configKey } from '../../src/experiments/sweep.ts';
import { ResultsStore } from '../../src/store/results.ts';
import { ROOT, run, spurlabArgv, tiny, tmp, writeSweep } from './helpers.ts';

/** Runs array task i of the emitted script as Slurm would. */
function runTask(script: string, i: number): Promise<{ code: number; out: string }> {
  // until run-index is in the command table, the script's $SPURLAB override starts it
  const env: Record<string, string> = { ...(process.env as Record<string, string>), SLURM_ARRAY_TASK_ID: String(i), SLURM_CPUS_PER_TASK: '1' };
  if (!commands.some((c) => c.name === 'run-index')) env.SPURLAB = [process.execPath, ...spurlabArgv(['run-index']).slice(0, -1)].join(' ');
  return new Promise((ok) => {
    const child = spawn('bash', [script], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    child.on('exit', (code) => ok({ code: code ?? 1, out }));
  });
}

test('emit a Slurm array, run its tasks, collect each result once; corrupt files are named', async () => {
  const dir = tmp();
  const out = join(dir, 'slurm');
  const file = writeSweep(dir, 'slurm-small', [{ ...tiny, pattern: 'S3', n: [0, 3, 10], seed: 0 }]);
  const emitted = await run(sweepCommand, [file, '--emit', 'slurm', '--out', out, '--cpus', '4', '--time', '00:30:00', '--no-artifacts', '--json']);
  assert.equal(emitted.code, 0, emitted.err.join('\n'));
  const { runs, sweepFile, script } = JSON.parse(emitted.out[0]);
  assert.equal(runs, 3);
  const sweep = JSON.parse(readFileSync(sweepFile, 'utf8'));
  assert.equal(sweep.codeVersion, codeVersion());
  assert.deepEqual(
    sweep.runs.map((r: { key: string }) => r.key),
    expandSweep(loadSweepSpec(file)).map(configKey),
  );
  const text = readFileSync(script, 'utf8');
  for (const line of ['#SBATCH --array=0-2', '#SBATCH --cpus-per-task=4', '#SBATCH --time=00:30:00', '#   sbatch '])
    assert.ok(text.includes(line), line);

  for (const i of [0, 1]) {
    const r = await runTask(script, i);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, new RegExp(`run ${i} \\(train\\): score `));
  }
  const again = await runTask(script, 1);
  assert.match(again.out, /run 1: already done/, 'a requeued task does not train again');
  assert.deepEqual(readdirSync(join(out, 'results')).sort(), ['0.json', '1.json'], 'only finished files, no temporaries');
  const result = JSON.parse(readFileSync(join(out, 'results', '0.json'), 'utf8'));
  assert.equal(result.codeVersion, codeVersion());
  assert.equal(Buffer.from(result.perImage, 'base64').length, 100);
  assert.ok(result.seconds > 0 && result.startedAt && result.finishedAt && result.host);

  const db = join(dir, 'r.db');
  const first = await run(collectCommand, [out, '--store', db, '--json']);
  assert.equal(first.code, 0, first.err.join('\n'));
  const c = JSON.parse(first.out[0]);
  assert.deepEqual([c.runs, c.loaded, c.alreadyInStore, c.missing], [3, 2, 0, [2]]);
  const second = await run(collectCommand, [out, '--store', db]);
  assert.match(second.out[0], /0 runs loaded, 2 already in the store, 1 of 3 not finished yet/);
  assert.match(second.out[1], /not finished: 2 \(resubmit with sbatch --array=2 /);
  const store = ResultsStore.open(db);
  const rows = store.list({ kind: 'train' });
  assert.equal(rows.length, 2);
  assert.ok(rows.every((r) => r.status === 'done' && r.attempts === 1 && r.codeVersion === codeVersion()));
  assert.deepEqual(store.perImage(rows[0].key)!.length, 100);
  store.close();

  writeFileSync(join(out, 'results', '2.json'), '{"format": "spurlab-run-result", "formatVersion": 1, "index": 2, "conf');
  const corrupt = await run(collectCommand, [out, '--store', db]);
  assert.equal(corrupt.code, 2);
  assert.match(corrupt.err[0], /results\/2\.json: the run result is not valid JSON .*delete it/);
  writeFileSync(join(out, 'results', '2.json'), JSON.stringify({ ...result, index: 2 }));
  const mismatched = await run(collectCommand, [out, '--store', db]);
  assert.match(mismatched.err[0], /results\/2\.json: its kind, configuration or key is not run 2 of the sweep; delete the file and rerun task 2/);
});

test('run-index refuses a sweep emitted by other code and an index out of range', async () => {
  const dir = tmp();
  const out = join(dir, 'slurm');
  const file = writeSweep(dir, 'slurm-version', [{ ...tiny, pattern: 'S3', n: 0, seed: 0 }]);
  assert.equal((await run(sweepCommand, [file, '--emit', 'slurm', '--out', out])).code, 0);
  const sweepFile = join(out, 'sweep.json');
  const range = await run(runIndexCommand, [sweepFile, '5', '--out', join(out, 'results')]);
  assert.match(range.err[0], /index 5: .*sweep\.json has runs 0 to 0/);
  const doc = JSON.parse(readFileSync(sweepFile, 'utf8'));
  writeFileSync(sweepFile, JSON.stringify({ ...doc, codeVersion: '0.0.1+src.000000000000' }));
  const r = await run(runIndexCommand, [sweepFile, '0', '--out', join(out, 'results')]);
  assert.equal(r.code, 2);
  assert.match(r.err[0], /code version mismatch: .*emitted by spurlab 0\.0\.1\+src\.000000000000, this is /);
  assert.ok(r.err[0].includes(codeVersion()));
});
