import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sensitivityCommand } from '../../src/cli/commands/sensitivity.ts';
import { weightsCommand } from '../../src/cli/commands/weights.ts';
import { makeTrainConfig } from '../../src/train/config.ts';
import { train } from '../../src/train/trainer.ts';
import { createModel } from '../../src/nn/models/index.ts';
import { RandomState } from '../../src/data/numpyRandom.ts';
import { saveCheckpoint } from '../../src/store/checkpoint.ts';
import { ResultsStore } from '../../src/store/results.ts';
import { decodePng } from '../../src/util/png.ts';
import { runCommandDirect } from './runCommandDirect.ts';
import { tempDir } from '../helpers.ts';

let dir = '';
let cleanRun = '';
let patternRun = '';
let cnnRun = '';

// Two small MLP runs (clean, and S3 on 30 images of class 0) and a CNN002 checkpoint that
// is only written, not trained (the weights command must refuse it before reading weights).
before(async () => {
  dir = tempDir('spurlab-probes-');
  cleanRun = join(dir, 'clean');
  patternRun = join(dir, 's3');
  cnnRun = join(dir, 'cnn');
  await train(makeTrainConfig({ data: 'mnistv8-0-0-0', model: 'MLP', epochs: 2, trainSubset: 600, testSubset: 100 }), { outDir: cleanRun });
  await train(makeTrainConfig({ data: 'mnistv8-30-0-0', model: 'MLP', epochs: 2, trainSubset: 600, testSubset: 100 }), { outDir: patternRun });
  const cnnCfg = makeTrainConfig({ data: 'mnistv8-0-0-0', model: 'CNN002', epochs: 1 });
  mkdirSync(cnnRun);
  saveCheckpoint(
    join(cnnRun, 'model.safetensors'),
    createModel('CNN002', { height: 28, width: 28, channels: 1, numClasses: 10 }, new RandomState(0)),
    new Map(),
    {
      config: JSON.stringify(cnnCfg),
      epoch: '1',
      history: '[]',
      rng: 'null',
      optimizer: '{}',
    },
  );
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('spurlab sensitivity: one row per run, exact curve ends, recorded in the store', async () => {
  const storePath = join(dir, 'results.db');
  const r = await runCommandDirect(sensitivityCommand, [cleanRun, patternRun, '--images', '100', '--steps', '10', '--store', storePath, '--json']);
  assert.equal(r.code, 0, r.err.join('\n'));
  const rows = JSON.parse(r.out[0]);
  assert.equal(rows.length, 2);
  for (const row of rows) {
    assert.equal(row.model, 'MLP');
    assert.equal(row.curve.length, 11);
    assert.ok(row.area > 0 && row.area < 1);
    assert.ok(row.curve[0] > row.curve[10], 'occlusion lowers the true-class probability');
    assert.ok(row.inputGradNorm > 0);
  }
  assert.deepEqual(
    rows.map((x: { run: string }) => x.run),
    [cleanRun, patternRun],
  );
  const store = ResultsStore.open(storePath);
  try {
    const runs = store.list({ kind: 'sensitivity' });
    assert.equal(runs.length, 2);
    assert.ok(runs.every((x) => x.status === 'done' && x.model === 'MLP' && x.config.experiment === 'sensitivity'));
    assert.deepEqual(runs.map((x) => x.n).sort(), [0, 30]);
  } finally {
    store.close();
  }
  // Measured again: the stored rows come back unchanged.
  const again = await runCommandDirect(sensitivityCommand, [
    cleanRun,
    patternRun,
    '--images',
    '100',
    '--steps',
    '10',
    '--store',
    storePath,
    '--json',
  ]);
  assert.deepEqual(JSON.parse(again.out[0]), rows);
  const text = await runCommandDirect(sensitivityCommand, [cleanRun, '--images', '50', '--steps', '4']);
  assert.equal(text.code, 0);
  assert.match(text.out[0], /^run\s+model\s+area/);
  assert.match(text.out[1], /MLP\s+0\.\d{3}/);
});

test('spurlab sensitivity: a missing or non-run directory is one clear line, exit 2', async () => {
  const missing = await runCommandDirect(sensitivityCommand, [join(dir, 'nope')]);
  assert.equal(missing.code, 2);
  assert.match(missing.err[0], /run directory .*nope does not exist/);
  const empty = join(dir, 'empty');
  mkdirSync(empty, { recursive: true });
  const notRun = await runCommandDirect(sensitivityCommand, [empty]);
  assert.equal(notRun.code, 2);
  assert.match(notRun.err[0], /empty is not a run directory: no model\.safetensors in it/);
  const none = await runCommandDirect(sensitivityCommand, []);
  assert.equal(none.code, 2);
  assert.match(none.err[0], /which runs\?/);
});

test('spurlab weights: a PNG heat map and its difference from a clean run', async () => {
  const mapPng = join(dir, 'map.png');
  const r = await runCommandDirect(weightsCommand, [patternRun, '--out', mapPng, '--json']);
  assert.equal(r.code, 0, r.err.join('\n'));
  const map = JSON.parse(r.out[0]);
  assert.equal(map.kind, 'map');
  assert.equal(map.values[0].length, 784);
  const png = decodePng(readFileSync(mapPng));
  assert.equal(png.channels, 3);
  assert.equal(png.height, 28 * 10 + 24);
  assert.equal(png.width, map.width);

  const cleanMap = JSON.parse((await runCommandDirect(weightsCommand, [cleanRun, '--out', join(dir, 'clean.png'), '--json'])).out[0]);
  const diffPng = join(dir, 'diff.png');
  const d = await runCommandDirect(weightsCommand, [patternRun, '--diff', cleanRun, '--out', diffPng, '--scale', '4', '--json']);
  assert.equal(d.code, 0, d.err.join('\n'));
  const diff = JSON.parse(d.out[0]);
  assert.equal(diff.kind, 'difference');
  for (const p of [0, 1, 100, 783]) assert.equal(diff.values[0][p], Math.abs(map.values[0][p] - cleanMap.values[0][p]));
  assert.ok(diff.min >= 0);
  assert.ok(existsSync(diffPng));

  const text = await runCommandDirect(weightsCommand, [patternRun, '--out', mapPng]);
  assert.equal(text.code, 0);
  assert.match(text.out[0], new RegExp(`^wrote ${mapPng.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(\\d+x\\d+\\): weight map of`));
  assert.match(text.out[2], /largest at \(row, col\): \(\d+, \d+\)/);
});

test('spurlab weights: a CNN run, a missing run, or no --out are clear errors', async () => {
  const cnn = await runCommandDirect(weightsCommand, [cnnRun, '--out', join(dir, 'x.png')]);
  assert.equal(cnn.code, 2);
  assert.match(cnn.err[0], /weight maps need an MLP .*the model is CNN002/);
  const cnnDiff = await runCommandDirect(weightsCommand, [patternRun, '--diff', cnnRun, '--out', join(dir, 'x.png')]);
  assert.equal(cnnDiff.code, 2);
  assert.match(cnnDiff.err[0], /the model is CNN002/);
  const missing = await runCommandDirect(weightsCommand, [join(dir, 'gone'), '--out', join(dir, 'x.png')]);
  assert.equal(missing.code, 2);
  assert.match(missing.err[0], /run directory .*gone does not exist/);
  const noOut = await runCommandDirect(weightsCommand, [patternRun]);
  assert.equal(noOut.code, 2);
  assert.match(noOut.err[0], /--out FILE\.png is required/);
  const badChannels = await runCommandDirect(weightsCommand, [patternRun, '--out', join(dir, 'x.png'), '--channels', 'mean']);
  assert.equal(badChannels.code, 2);
  assert.match(badChannels.err[0], /--channels: got "mean", expected max or split/);
  writeFileSync(join(dir, 'file'), 'x');
  const notDir = await runCommandDirect(weightsCommand, [join(dir, 'file'), '--out', join(dir, 'x.png')]);
  assert.equal(notDir.code, 2);
  assert.match(notDir.err[0], /is not a directory/);
});

test('spurlab weights --store records the map and its difference from the clean run once (kind weights)', async () => {
  const storePath = join(dir, 'weights.db');
  const out = join(dir, 'diff-stored.png');
  const r = await runCommandDirect(weightsCommand, [patternRun, '--diff', cleanRun, '--out', out, '--store', storePath]);
  assert.equal(r.code, 0, r.err.join('\n'));
  assert.match(r.out.join('\n'), /recorded in .*weights\.db as run [0-9a-f]{12} \(kind weights\)/);
  const again = await runCommandDirect(weightsCommand, [patternRun, '--diff', cleanRun, '--out', out, '--store', storePath]);
  assert.match(again.out.join('\n'), /an identical map was already in/);
  const store = ResultsStore.open(storePath);
  try {
    const [row] = store.list({ kind: 'weights' });
    assert.equal(store.list().length, 1);
    assert.equal(row.attempts, 1);
    const result = row.result as { map: number[]; diff: number[]; maxDiff: number };
    assert.equal(result.map.length, 784);
    assert.equal(result.diff.length, 784);
    assert.ok(result.maxDiff > 0);
  } finally {
    store.close();
  }
  // the store keys the clean model by config: n = 0 of the same run, not any run
  const wrong = await runCommandDirect(weightsCommand, [cleanRun, '--diff', patternRun, '--out', out, '--store', storePath]);
  assert.equal(wrong.code, 2);
  assert.match(wrong.err[0], /--diff .*s3: with --store the clean run must be .*clean's configuration with n = 0/);
});
