import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ResultsStore } from '../../src/store/results.ts';
import { runKey } from '../../src/store/runKey.ts';
import { makeTrainConfig } from '../../src/train/config.ts';
import { runsCommand } from '../../src/cli/commands/runs.ts';
import { runCommandDirect } from './runCommandDirect.ts';
import { tempDir } from '../helpers.ts';

/** A store with three train runs (two with histories) and one failed run, written through the public API. */
function syntheticStore(): { path: string; keys: string[]; dir: string } {
  const dir = tempDir('spurlab-runs-');
  const path = join(dir, 'results.db');
  const store = ResultsStore.open(path);
  const keys: string[] = [];
  const runs = [
    {
      lr: 0.01,
      n: 3,
      score: 0.25,
      testAcc: 0.915,
      history: [
        [1.2, 0.85],
        [0.4, 0.9],
      ],
    },
    {
      lr: 0.001,
      n: 3,
      score: 0.125,
      testAcc: 0.886,
      history: [
        [1.6, 0.77],
        [0.6, 0.82],
        [0.4, 0.886],
      ],
    },
    { lr: 0.01, n: 0, score: 0.0625, testAcc: 0.92, history: null },
  ];
  for (const r of runs) {
    const config = makeTrainConfig({ data: `mnistv8-${r.n}-0-0`, lr: r.lr, epochs: r.history?.length ?? 2, testSubset: 1000 }) as unknown as Record<
      string,
      unknown
    >;
    const key = runKey(config);
    keys.push(key);
    assert.ok(store.claim(key, config, 'train'));
    assert.ok(store.complete(key, { score: r.score, testAcc: r.testAcc, nTest: 1000, spuriousIndices: [1, 2, 3] }));
    if (r.history) {
      const art = join(store.artifactsDir, key);
      mkdirSync(art, { recursive: true });
      writeFileSync(
        join(art, 'history.json'),
        JSON.stringify(r.history.map(([loss, testAcc], i) => ({ epoch: i + 1, loss, trainAcc: testAcc, testAcc, lr: r.lr, seconds: 1 }))),
      );
    }
  }
  const failed = makeTrainConfig({ data: 'mnistv8-10-0-0', epochs: 1, testSubset: 1000 }) as unknown as Record<string, unknown>;
  keys.push(runKey(failed));
  assert.ok(store.claim(runKey(failed), failed, 'train'));
  assert.ok(store.fail(runKey(failed), new Error('out of memory')));
  store.close();
  return { path, keys, dir };
}

test('runs lists every run with settings that vary, status, score, accuracy in % and artifacts; --where filters', async () => {
  const { path, keys } = syntheticStore();
  const all = await runCommandDirect(runsCommand, ['--store', path]);
  assert.equal(all.code, 0, all.err.join('\n'));
  const header = all.out[0].split(/\s+/);
  assert.deepEqual(header, [
    'key',
    'kind',
    'status',
    'dataset',
    'pattern',
    'n',
    'target',
    'seed',
    'model',
    'optimizer',
    'epochs',
    'lr',
    'score',
    'testAcc',
    'artifacts',
  ]);
  assert.equal(all.out.length, 1 + 4 + 1);
  // list() orders by start time, then key: runs claimed in the same millisecond come by key
  const rowOf = (key: string) => all.out.find((l) => l.startsWith(key.slice(0, 12))) ?? '';
  assert.match(
    rowOf(keys[0]),
    new RegExp(
      `^${keys[0].slice(0, 12)}\\s+train\\s+done\\s+mnist\\s+S3\\s+3\\s+0\\s+0\\s+LargeMLP\\s+adam\\s+2\\s+0.01\\s+0.2500\\s+91.50%\\s+\\S+artifacts/${keys[0]}$`,
    ),
  );
  assert.match(rowOf(keys[2]), /\s+0.0625\s+92.00%\s+-$/, 'a run without artifacts says so');
  assert.match(rowOf(keys[3]), /\sfailed\s/);

  const some = await runCommandDirect(runsCommand, ['--store', path, '--where', 'lr=0.01,status=done']);
  assert.deepEqual(
    some.out
      .slice(1, -1)
      .map((l) => l.slice(0, 12))
      .sort(),
    [keys[0].slice(0, 12), keys[2].slice(0, 12)].sort(),
  );
  const byResult = await runCommandDirect(runsCommand, ['--store', path, '--where', 'result.score=0.125', '--json']);
  assert.deepEqual(
    JSON.parse(byResult.out[0]).map((r: { key: string }) => r.key),
    [keys[1]],
  );
  const typo = await runCommandDirect(runsCommand, ['--store', path, '--where', 'patern=S3']);
  assert.equal(typo.code, 2);
  assert.match(typo.err[0], /no run has a setting "patern"; did you mean "pattern"\?/);
  const none = await runCommandDirect(runsCommand, ['--store', path, '--where', 'n=7']);
  assert.deepEqual(none.out, ['no runs match']);
});

test('runs show prints the full config, result and history of a key prefix or an artifact directory', async () => {
  const { path, keys } = syntheticStore();
  const r = await runCommandDirect(runsCommand, ['show', keys[1].slice(0, 6), '--store', path]);
  assert.equal(r.code, 0, r.err.join('\n'));
  assert.equal(r.out[0], `run ${keys[1]} (train, done)`);
  const text = r.out.join('\n');
  for (const line of ['  lr = 0.001', '  weightDecay = 0', '  testSubset = 1000', '  score = 0.1250', '  testAcc = 88.60%'])
    assert.ok(r.out.includes(line), `missing "${line}" in\n${text}`);
  assert.match(text, /history:\n\s+epoch\s+loss\s+trainAcc\s+testAcc\s+lr\s+seconds\n\s+1\s+1.6000\s+77.00%/);
  const dir = join(path, '..', 'artifacts', keys[0]);
  const byDir = JSON.parse((await runCommandDirect(runsCommand, ['show', dir, '--store', path, '--json'])).out[0]);
  assert.equal(byDir.key, keys[0]);
  assert.equal(byDir.history.length, 2);
  assert.equal(byDir.config.lr, 0.01);
  const failed = await runCommandDirect(runsCommand, ['show', keys[3], '--store', path]);
  assert.ok(failed.out.includes('  error: Error: out of memory') || failed.out.some((l) => /error: .*out of memory/.test(l)), failed.out.join('\n'));
  const missing = await runCommandDirect(runsCommand, ['show', 'abcdef12', '--store', path]);
  assert.equal(missing.code, 2);
  assert.match(missing.err[0], /abcdef12: no run of .* has a key starting so/);
  const notKey = await runCommandDirect(runsCommand, ['show', 'my-run', '--store', path]);
  assert.match(notKey.err[0], /my-run: no such run directory, and not a run key/);
});

test('runs compare shows the config difference, both results and both training curves', async () => {
  const { path, keys } = syntheticStore();
  const r = await runCommandDirect(runsCommand, ['compare', keys[0], keys[1], '--store', path]);
  assert.equal(r.code, 0, r.err.join('\n'));
  const text = r.out.join('\n');
  assert.match(text, /config: 2 difference\(s\)/);
  assert.match(text, /\n\s+epochs\s+2\s+3\n/);
  assert.match(text, /\n\s+lr\s+0.01\s+0.001\n/);
  assert.match(text, /\n\s+testAcc\s+91.50%\s+88.60%\n/);
  assert.match(
    text,
    /training curves:\n\s+epoch\s+A loss\s+B loss\s+A testAcc\s+B testAcc\n\s+1\s+1.2000\s+1.6000\s+85.00%\s+77.00%\n\s+2\s+0.4000\s+0.6000\s+90.00%\s+82.00%\n\s+3\s+-\s+0.4000\s+-\s+88.60%/,
  );
  assert.match(text, /loss\s+A \S{2}\s+B \S{3}/);
  const same = await runCommandDirect(runsCommand, ['compare', keys[0], keys[0], '--store', path]);
  assert.ok(same.out.includes('config: identical'));
  const one = await runCommandDirect(runsCommand, ['compare', keys[0], '--store', path]);
  assert.match(one.err[0], /expected two runs \(A B\), got 1 argument/);
});

test('runs export writes every config column and result as CSV or JSON lines', async () => {
  const { path, keys, dir } = syntheticStore();
  const csv = await runCommandDirect(runsCommand, ['export', '--format', 'csv', '--store', path]);
  assert.equal(csv.code, 0, csv.err.join('\n'));
  const header = csv.out[0].split(',');
  const cfg = makeTrainConfig({ data: 'mnistv8-3-0-0' });
  for (const k of Object.keys(cfg)) assert.ok(header.includes(`config.${k}`), `no config.${k} column`);
  for (const k of ['result.score', 'result.testAcc', 'result.nTest', 'result.spuriousIndices', 'key', 'status'])
    assert.ok(header.includes(k), `no ${k} column`);
  assert.equal(csv.out.length, 5);
  const row = csv.out.find((l) => l.startsWith(keys[0]))!.split(/,(?=(?:[^"]*"[^"]*")*[^"]*$)/);
  const at = (c: string) => row[header.indexOf(c)];
  assert.equal(at('key'), keys[0]);
  assert.equal(at('config.lr'), '0.01');
  assert.equal(at('result.testAcc'), '0.915', 'fractions in machine formats');
  assert.equal(at('result.spuriousIndices'), '"[1,2,3]"');
  const out = join(dir, 'runs.jsonl');
  const jl = await runCommandDirect(runsCommand, ['export', '--format', 'jsonl', '--where', 'status=done', '--store', path, '--out', out]);
  assert.deepEqual(jl.out, [`wrote 3 run(s) to ${out}`]);
  const lines = readFileSync(out, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => l.key).sort(), keys.slice(0, 3).sort());
  const second = lines.find((l) => l.key === keys[1]);
  assert.equal(second.config.lr, 0.001);
  assert.equal(second.result.score, 0.125);
  const bad = await runCommandDirect(runsCommand, ['export', '--format', 'xlsx', '--store', path]);
  assert.match(bad.err[0], /--format: got "xlsx", expected csv or jsonl/);
  const noStore = await runCommandDirect(runsCommand, ['--store', join(dir, 'nope.db')]);
  assert.match(noStore.err[0], /nope.db: no results store here/);
});
