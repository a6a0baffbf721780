import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { main } from '../../src/cli/main.ts';
import { TINY_TRAIN_ARGS, tempDir, trainStartLines, withStderr } from '../helpers.ts';

async function run(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l), isTTY: false });
  return { code, out, err };
}

test('train --json then score --json on the run directory', async () => {
  const dir = join(tempDir('spurlab-cli-'), 'run');
  const t = await run(['train', ...TINY_TRAIN_ARGS, '--epochs', '1', '--out', dir, '--json']);
  assert.equal(t.code, 0, t.err.join('\n'));
  const trained = JSON.parse(t.out[0]);
  assert.deepEqual(Object.keys(trained).sort(), ['epochs', 'nTest', 'out', 'score', 'seconds', 'testAcc', 'trainAcc']);
  assert.equal(trained.nTest, 100);
  assert.equal(trained.out, dir);
  const s = await run(['score', dir, '--json']);
  assert.equal(s.code, 0, s.err.join('\n'));
  const score = JSON.parse(s.out[0]);
  assert.equal(score.nTest, 100);
  assert.equal(score.population, 'all');
  assert.equal(score.threshold, 0.1);
  assert.ok(score.score >= 0 && score.score <= 1);
  assert.equal(score.testAcc, trained.testAcc);
  assert.equal(score.score, trained.score, 'train reports the score that score measures');
  const nt = JSON.parse((await run(['score', dir, '--population', 'non-target', '--json'])).out[0]);
  assert.ok(nt.nTest < 100);
});

test('bad train and score input exits 2 with a one-line message naming the value', async () => {
  const r1 = await run(['train', 'mnistv8-3-0-0', '--model', 'MLP', '--lr', 'fast', '--out', '/tmp/x']);
  assert.equal(r1.code, 2);
  assert.match(r1.err[0], /--lr: got "fast", expected a positive number/);
  const r2 = await run(['train', 'mnistv8-3-0-0', '--model', 'Transformer', '--out', '/tmp/x']);
  assert.equal(r2.code, 2);
  assert.match(r2.err[0], /unknown model "Transformer"/);
  const r3 = await run(['score', '/nonexistent/run']);
  assert.equal(r3.code, 2);
  assert.match(r3.err[0], /\/nonexistent\/run: no such run directory or checkpoint/);
  const r4 = await run(['train', 'mnistv8-3-0-0', '--model', 'MLP']);
  assert.match(r4.err[0], /--out DIR is required/);
  const r5 = await run(['train', '--resume', '/tmp']);
  assert.match(r5.err[0], /\/tmp: no model.safetensors here/);
});

test('models --json pins LargeMLP at 335,114 parameters', async () => {
  const r = await run(['models', '--json']);
  const rows = JSON.parse(r.out[0]) as { name: string; parameters: number }[];
  assert.equal(rows.find((m) => m.name === 'LargeMLP')!.parameters, 335114);
  assert.equal(rows.find((m) => m.name === 'ResNet20')!.parameters, 269722);
});

test('train prints one start line (model, parameters, data, spurious indices, backend) and its spurious score at the end', async () => {
  const dir = join(tempDir('spurlab-cli-'), 'run');
  // the start line is written to stderr with the progress lines, not through the CLI's io
  const { value: t, stderr } = await withStderr(() =>
    run(['train', 'mnistv8-3-0-0', '--model', 'MLP', '--epochs', '1', '--train-subset', '200', '--test-subset', '100', '--out', dir]),
  );
  assert.equal(t.code, 0, t.err.join('\n'));
  const starts = trainStartLines(stderr);
  assert.equal(starts.length, 1, stderr);
  assert.match(
    starts[0],
    /^train MLP \([\d,]+ parameters\) on mnistv8-3-0-0 \(200 of 60000 training images, pattern S3, n = 3 spurious: \d+, \d+, \d+\), 1 epoch, backend \S+/,
  );
  assert.equal(t.out.length, 1);
  assert.match(
    t.out[0],
    /^trained MLP on mnistv8-3-0-0 for 1 epoch in [\d.]+s: spurious score \d\.\d{4} \(S3 -> class 0, 100 test images\), test accuracy [\d.]+%; run in /,
  );
});
