// `spurlab train --store` records one run as kind train, keyed as a sweep keys it, so a
// sweep of the same config finds it done; an identical second call trains nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { trainCommand } from '../../src/cli/commands/train.ts';
import { configKey } from '../../src/experiments/sweep.ts';
import { trainKind } from '../../src/experiments/kinds/index.ts';
import { ResultsStore } from '../../src/store/results.ts';
import { runCommandDirect } from './runCommandDirect.ts';
import { tempDir, trainStartLines, withStderr } from '../helpers.ts';

const ARGS = ['mnistv20-3-0-0', '--model', 'MLP', '--epochs', '1', '--train-subset', '200', '--test-subset', '100', '--batch-size', '50'];

test('train --store records a single run once, with the score and the per-image indicator', async () => {
  const dir = tempDir('spurlab-train-store-');
  const storePath = join(dir, 'results.db');
  const r = await runCommandDirect(trainCommand, [...ARGS, '--out', join(dir, 'run'), '--store', storePath, '--json']);
  assert.equal(r.code, 0, r.err.join('\n'));
  const out = JSON.parse(r.out[0]);
  assert.equal(out.fromStore, false);
  assert.ok(out.score >= 0 && out.score <= 1);
  assert.ok(existsSync(join(dir, 'run', 'model.safetensors')));
  const again = await runCommandDirect(trainCommand, [...ARGS, '--out', join(dir, 'run2'), '--store', storePath]);
  assert.equal(again.code, 0, again.err.join('\n'));
  assert.match(again.out[0], /an identical run was already in .*nothing was trained: spurious score/);
  const store = ResultsStore.open(storePath);
  try {
    const rows = store.list();
    assert.equal(rows.length, 1);
    const [row] = rows;
    assert.deepEqual([row.kind, row.status, row.attempts, row.n, row.pattern, row.model], ['train', 'done', 1, 3, 'R3', 'MLP']);
    assert.equal(row.key, configKey(trainKind.configure(row.config)), 'the key a sweep gives this config');
    assert.equal(row.key, out.key);
    assert.equal(trainKind.checkResult(row.result, row.key).score, out.score);
    assert.equal(store.perImage(row.key)!.length, 100);
  } finally {
    store.close();
  }
  const cont = await runCommandDirect(trainCommand, [
    '--continue-from',
    join(dir, 'run'),
    '--epochs',
    '2',
    '--out',
    join(dir, 'run3'),
    '--store',
    storePath,
  ]);
  assert.equal(cont.code, 2);
  assert.match(cont.err[0], /--store records runs defined by their config alone/);
});

test('train --store prints the start line of plain train and ends with the spurious score', async () => {
  const dir = tempDir('spurlab-train-store-lines-');
  const storePath = join(dir, 'results.db');
  // the start line goes to stderr with the progress lines, not through the CLI's io
  const { value: r, stderr } = await withStderr(() => runCommandDirect(trainCommand, [...ARGS, '--out', join(dir, 'run'), '--store', storePath]));
  assert.equal(r.code, 0, r.err.join('\n'));
  const starts = trainStartLines(stderr);
  assert.equal(starts.length, 1, stderr);
  assert.match(
    starts[0],
    /^train MLP \([\d,]+ parameters\) on mnistv20-3-0-0 \(200 of 60000 training images, pattern R3, n = 3 spurious: \d+, \d+, \d+\), 1 epoch, backend \S+/,
  );
  assert.equal(r.out.length, 1);
  assert.match(
    r.out[0],
    /^trained MLP on mnistv20-3-0-0 for 1 epoch in [\d.]+s: spurious score \d\.\d{4} \(R3 -> class 0, 100 test images\), test accuracy \d+\.\d\d%; run in .*; recorded in .*results\.db as run [0-9a-f]{12} \(kind train\)$/,
  );
});
