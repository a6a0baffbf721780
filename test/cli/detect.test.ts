// spurlab detect through the command: the --json fields the issue names, TracIn over the
// epochs train --keep-checkpoints kept, --then-retrain, and the errors for bad options and
// for a run that kept no checkpoints.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectCommand } from '../../src/cli/commands/detect.ts';
import { trainCommand } from '../../src/cli/commands/train.ts';
import { runCommandDirect } from './runCommandDirect.ts';

let dir = '';
let kept = '';
let plain = '';

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'spurlab-detect-cli-'));
  kept = join(dir, 'kept');
  plain = join(dir, 'plain');
  const common = ['mnistv8-10-0-0', '--model', 'MLP', '--epochs', '3', '--train-subset', '400', '--test-subset', '200', '--json'];
  const a = await runCommandDirect(trainCommand, [...common, '--keep-checkpoints', '2', '--out', kept]);
  assert.equal(a.code, 0, a.err.join('\n'));
  const b = await runCommandDirect(trainCommand, [...common, '--out', plain]);
  assert.equal(b.code, 0, b.err.join('\n'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('train --keep-checkpoints E keeps every E-th epoch and the last', () => {
  assert.deepEqual(readdirSync(join(kept, 'epochs')), ['epoch-0002.safetensors', 'epoch-0003.safetensors']);
  assert.equal(existsSync(join(plain, 'epochs')), false);
});

test('detect --json: the fields, ranks of the 10 spurious examples, metrics in range', async () => {
  const r = await runCommandDirect(detectCommand, [kept, '--method', 'tracin', '--json']);
  assert.equal(r.code, 0, r.err.join('\n'));
  const j = JSON.parse(r.out[0]);
  for (const k of ['method', 'ranks', 'precisionAtN', 'recallAt10N', 'auroc', 'aurocTargetClass', 'seconds']) assert.ok(k in j, k);
  assert.equal(j.method, 'tracin');
  assert.equal(j.ranks.length, 10);
  assert.ok(j.ranks.every((x: number) => x >= 1 && x <= 400));
  for (const k of ['precisionAtN', 'recallAt10N', 'auroc', 'aurocTargetClass']) assert.ok(j[k] >= 0 && j[k] <= 1, k);
  assert.equal(j.details.checkpoints, 2);
  const text = await runCommandDirect(detectCommand, [kept, '--method', 'spectral']);
  assert.equal(text.code, 0);
  assert.match(text.out.join('\n'), /precision at n = 10: .*recall at 10n = 100/);
});

test('detect --then-retrain K removes the top K and retrains', async () => {
  const r = await runCommandDirect(detectCommand, [kept, '--method', 'spectral', '--then-retrain', '20', '--json']);
  assert.equal(r.code, 0, r.err.join('\n'));
  const t = JSON.parse(r.out[0]).retrain;
  assert.equal(t.k, 20);
  assert.ok(t.removedSpurious >= 0 && t.removedSpurious <= 10);
  for (const k of ['scoreBefore', 'score', 'testAccBefore', 'testAcc']) assert.ok(t[k] >= 0 && t[k] <= 1, k);
  // the text: the score as a 0-1 fraction, the accuracy in %, as every command prints them
  const text = await runCommandDirect(detectCommand, [kept, '--method', 'spectral', '--then-retrain', '20']);
  assert.equal(text.code, 0, text.err.join('\n'));
  assert.match(text.out.join('\n'), /spurious score [01]\.\d{4} -> [01]\.\d{4}, clean test acc \d+\.\d\d% -> \d+\.\d\d%/);
});

test('detect errors name the option or what the run lacks (exit 2)', async () => {
  const cases: [string[], RegExp][] = [
    [[kept], /--method M is required/],
    [[kept, '--method', 'bogus'], /method: got "bogus", expected one of loss, margin/],
    [[plain, '--method', 'tracin'], /kept none: train it with --keep-checkpoints E/],
    [[kept, '--method', 'memorization'], /needs --memorization FILE/],
    [[kept, '--method', 'loss', '--then-retrain', '400'], /--then-retrain: got 400, expected fewer than the run's 400/],
    [[kept, '--method', 'trak', '--projection', '0'], /--projection/],
    [[join(dir, 'none'), '--method', 'loss'], /no such run directory/],
  ];
  for (const [argv, re] of cases) {
    const r = await runCommandDirect(detectCommand, argv);
    assert.equal(r.code, 2, argv.join(' '));
    assert.match(r.err.join('\n'), re);
  }
});
