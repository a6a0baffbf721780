import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expandSweep, loadSweepSpec, planSweep, validateSweepSpec } from '../../src/experiments/grids/spec.ts';
import { PRESETS } from '../../src/experiments/grids/presets.ts';
import { configKey, runSweepHere } from '../../src/experiments/sweep.ts';
import { ResultsStore } from '../../src/store/results.ts';
import { main } from '../../src/cli/main.ts';
import { tempDir } from '../helpers.ts';

const tmp = () => tempDir('spurlab-sweep-');
const tiny = { dataset: 'mnist', target: 0, model: 'MLP', epochs: 1, trainSubset: 200, testSubset: 100, batchSize: 50 };

async function cli(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l), isTTY: false });
  return { code, out, err };
}

test('grids expand to the Cartesian product, without duplicates, with an epochs override', () => {
  const spec = validateSweepSpec(
    {
      grids: [
        { ...tiny, pattern: ['S3', 'R3'], n: [0, 3], seed: [0, 1] },
        { ...tiny, pattern: 'S3', n: 0, seed: 0 },
      ],
    },
    'inline',
  );
  const configs = expandSweep(spec);
  assert.equal(configs.length, 8);
  assert.equal(new Set(configs.map(configKey)).size, 8);
  assert.ok(expandSweep(spec, { epochs: 5 }).every((c) => c.epochs === 5));
  for (const p of PRESETS) assert.ok(planSweep(p).length > 0, p.name);
  assert.equal(expandSweep(loadSweepSpec('paper-mnist-patterns')).length, 7 * 9 * 5);
});

test('bad sweep files are named with the grid and key', () => {
  const dir = tmp();
  const write = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  assert.throws(
    () => loadSweepSpec(write('a.json', '{"grids": [{"dataset": "mnist", "lrr": 1}]}')),
    /a\.json: grid 1: unknown key "lrr" for kind train, expected one of/,
  );
  assert.throws(() => loadSweepSpec(write('b.json', '{"grids": [')), /b\.json: not valid JSON/);
  assert.throws(
    () => loadSweepSpec(write('c.json', '{"grids": [{"dataset": "mnist", "pattern": [], "n": 0, "target": 0, "seed": 0, "model": "MLP"}]}')),
    /grid 1: "pattern" is an empty list/,
  );
  assert.throws(
    () => loadSweepSpec(write('d.json', '{"grids": [{"dataset": "mnist", "pattern": "S3", "n": 0, "target": 0, "seed": 0}]}')),
    /grid 1: missing "model"/,
  );
  assert.throws(
    () =>
      expandSweep(
        loadSweepSpec(
          write('e.json', '{"grids": [{"dataset": "mnist", "pattern": "S3", "n": 0, "target": 0, "seed": 0, "model": "MLP", "lr": [0.1, -1]}]}'),
        ),
      ),
    /grid 1, point .*"lr":-1.*lr: got -1, expected a positive number/,
  );
  assert.throws(() => loadSweepSpec('no-such-preset'), /"no-such-preset" is neither a sweep preset .* nor a readable sweep file/);
});

test('a sweep records each run once and a rerun skips finished runs', async () => {
  const store = ResultsStore.open(join(tmp(), 'r.db'));
  const configs = expandSweep(validateSweepSpec({ grids: [{ ...tiny, pattern: 'R3', n: [0, 3], seed: 0 }] }, 'inline'));
  const first = await runSweepHere(configs, store, { artifacts: false });
  assert.deepEqual([first.ran, first.skipped, first.failed.length], [2, 0, 0]);
  const again = await runSweepHere(configs, store, { artifacts: false });
  assert.deepEqual([again.ran, again.skipped], [0, 2]);
  const rows = store.list({ kind: 'train' });
  assert.equal(rows.length, 2);
  for (const r of rows) {
    assert.equal(r.status, 'done');
    assert.equal(typeof r.result!.score, 'number');
    assert.equal(store.perImage(r.key)!.length, 100);
  }
  store.close();
});

test('a sweep killed with SIGKILL mid-run is finished by a rerun, every run recorded exactly once', async () => {
  const dir = tmp();
  const db = join(dir, 'r.db');
  const file = join(dir, 'sweep.json');
  writeFileSync(file, JSON.stringify({ name: 'kill-test', grids: [{ ...tiny, epochs: 2, pattern: 'R3', n: [0, 1, 3], seed: 0 }] }));
  const child = spawn(process.execPath, ['bin/spurlab.mjs', 'sweep', file, '--store', db, '--no-artifacts', '--quiet'], { stdio: 'ignore' });
  const configs = expandSweep(loadSweepSpec(file));
  const keys = configs.map(configKey);
  const probe = ResultsStore.open(db);
  // kill once the first run is done and the second is under way
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const rows = probe.list({ kind: 'train' });
    if (rows.some((r) => r.status === 'done') && rows.some((r) => r.status === 'running')) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  await new Promise((r) => child.on('exit', r));
  const killedKey = probe.list({ kind: 'train', status: 'running' })[0]?.key;
  assert.ok(killedKey, 'a run was in progress when the sweep was killed');
  const rerun = await cli(['sweep', file, '--store', db, '--no-artifacts', '--quiet', '--json']);
  assert.equal(rerun.code, 0, rerun.err.join('\n'));
  const rows = probe.list({ kind: 'train' });
  assert.equal(rows.length, 3);
  assert.deepEqual(rows.map((r) => r.key).sort(), [...keys].sort());
  assert.ok(rows.every((r) => r.status === 'done'));
  assert.equal(rows.find((r) => r.key === killedKey)!.attempts, 2);
  probe.close();
});

test('two worker processes share a sweep; results and dry-run report on it', async () => {
  const dir = tmp();
  const db = join(dir, 'r.db');
  const file = join(dir, 'sweep.json');
  writeFileSync(file, JSON.stringify({ name: 'two', grids: [{ ...tiny, pattern: 'S3', n: [0, 3], seed: [0, 1] }] }));
  const dry = await cli(['sweep', file, '--store', db, '--dry-run', '--json']);
  const est = JSON.parse(dry.out[0]);
  assert.deepEqual([est.runs, est.done, est.remaining], [4, 0, 4]);
  assert.ok(est.seconds > 0 && est.perModel[0].imagesPerSecond > 0);
  const r = await cli(['sweep', file, '--store', db, '--workers', '2', '--no-artifacts', '--json']);
  assert.equal(r.code, 0, r.err.join('\n'));
  assert.equal(JSON.parse(r.out[0]).done, 4);
  const store = ResultsStore.open(db);
  const rows = store.list({ kind: 'train' });
  assert.equal(rows.length, 4);
  assert.equal(new Set(rows.map((x) => x.pid)).size, 2, 'both workers ran something');
  store.close();
  const res = await cli(['results', '--store', db, '--json']);
  const table = JSON.parse(res.out[0]) as { n: number; runs: number; pValue: number; meanScore: number }[];
  assert.deepEqual(
    table.map((t) => [t.n, t.runs]),
    [
      [0, 2],
      [3, 2],
    ],
  );
  assert.ok(Number.isNaN(table[0].pValue ?? NaN) || table[0].pValue === null);
  assert.ok(table[1].pValue >= 0 && table[1].pValue <= 1);
  const csv = await cli(['results', '--store', db, '--csv']);
  assert.match(csv.out[0], /^dataset,pattern,model,optimizer,target,n,runs,meanScore,sem,ciLow,ciHigh,pValue,pPermutation,note,meanTestAcc$/);
  const perImage = JSON.parse((await cli(['results', '--store', db, '--json', '--test', 'per-image'])).out[0]) as Record<string, unknown>[];
  assert.ok('pValuePerImage' in perImage[1] && !('pValue' in perImage[1]), 'the per-image test is named as such');
  const missing = await cli(['results', '--store', join(dir, 'none.db')]);
  assert.equal(missing.code, 2);
  assert.match(missing.err[0], /none\.db: no results store here/);
});
