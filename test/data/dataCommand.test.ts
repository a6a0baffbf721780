// `spurlab data inspect|preview` through the command's own parser and runner.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCommandArgs, type CliIo } from '../../src/cli/command.ts';
import { dataCommand } from '../../src/cli/commands/data.ts';
import { UserError } from '../../src/util/errors.ts';
import { decodePng } from '../../src/util/png.ts';
import { tempDir } from '../helpers.ts';

async function run(argv: string[]): Promise<{ code: number; out: string[] }> {
  const out: string[] = [];
  const io: CliIo = { out: (l) => out.push(l), err: (l) => out.push(l), isTTY: false };
  const code = await dataCommand.run(parseCommandArgs(dataCommand, argv), io);
  return { code, out };
}

async function assertUserError(argv: string[], ...parts: string[]): Promise<void> {
  await assert.rejects(run(argv), (e: unknown) => {
    assert.ok(e instanceof UserError, `expected a UserError, got ${e}`);
    for (const p of parts) assert.ok(e.message.includes(p), `message "${e.message}" should contain "${p}"`);
    return true;
  });
}

test('inspect --json by name and by options print the same report', async () => {
  const byName = await run(['inspect', 'mnistv8-3-0-0', '--json']);
  assert.equal(byName.code, 0);
  const report = JSON.parse(byName.out[0]);
  assert.deepEqual(Object.keys(report), [
    'name',
    'dataset',
    'pattern',
    'patternId',
    'n',
    'target',
    'seed',
    'trainSize',
    'testSize',
    'spuriousIndices',
    'patternNorm',
  ]);
  assert.equal(report.trainSize, 60000);
  assert.equal(report.testSize, 10000);
  assert.equal(report.spuriousIndices.length, 3);
  // The top-left 5x5 corner of MNIST test digits is (almost always) blank: S3 changes 25 pixels by 1.
  assert.ok(report.patternNorm > 4.99 && report.patternNorm <= 5, `patternNorm ${report.patternNorm}`);
  const byOptions = await run(['inspect', '--dataset', 'mnist', '--pattern', 'S3', '--n', '3', '--target', '0', '--seed', '0', '--json']);
  assert.deepEqual(JSON.parse(byOptions.out[0]), report);
  const text = await run(['inspect', 'twoclassmnistv18-2-1-7-0']);
  assert.match(text.out.join('\n'), /classes 1 and 7/);
});

test('preview writes a PNG grid: 4 rows of 8 upscaled digits', async () => {
  const path = join(tempDir('spurlab-preview-'), 'grid.png');
  const { code, out } = await run(['preview', 'mnistv30-3-2-1', '--out', path]);
  assert.equal(code, 0);
  assert.match(out[0], /grid\.png/);
  const img = decodePng(readFileSync(path));
  const cell = 28 * 4;
  assert.equal(img.channels, 1);
  assert.equal(img.height, 2 + 4 * (cell + 2));
  assert.equal(img.width, 2 + 8 * (cell + 2));
  // Row 4, first cell: the Co bar (rows 3-24, cols 13-15) is white.
  const top = 2 + 3 * (cell + 2);
  assert.equal(img.data[(top + 10 * 4) * img.width + 2 + 14 * 4], 255);
});

test('bad CLI input: subcommand, selector, options', async () => {
  await assertUserError(['show', 'mnistv8-3-0-0'], 'unknown subcommand "show"', 'inspect or preview');
  await assertUserError(['inspect'], 'which data set?');
  await assertUserError(['inspect', 'mnistv8-3-0-0', '--n', '3'], 'either the name', 'not both');
  await assertUserError(['inspect', '--dataset', 'mnist', '--pattern', 'S3', '--n', '3', '--seed', '0'], '--target is required');
  await assertUserError(['inspect', '--dataset', 'mnist', '--pattern', 'S3', '--n', 'three', '--target', '0', '--seed', '0'], '--n: got "three"');
  await assertUserError(['inspect', 'mnistv8-99999-0-0'], 'n: got 99999', 'class 0 of mnist (5923 training images)');
  await assertUserError(['preview', 'mnistv8-3-0-0'], 'preview needs --out');
  await assertUserError(['inspect', 'cifar10v8-3-0-0'], 'CIFAR-10 needs a data directory');
});
