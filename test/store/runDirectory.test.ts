import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../src/cli/main.ts';
import { makeTrainConfig } from '../../src/train/config.ts';
import { train } from '../../src/train/trainer.ts';
import { TINY_TRAIN_ARGS, tempDir } from '../helpers.ts';

async function run(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l), isTTY: false });
  return { code, out, err };
}

const base = TINY_TRAIN_ARGS;

test('train --out refuses to replace a run of another config unless --force; the same config is finished or resumable', async () => {
  const dir = join(tempDir('spurlab-rundir-'), 'R');
  const ckpt = join(dir, 'model.safetensors');
  const first = await run(['train', ...base, '--epochs', '1', '--out', dir, '--json']);
  assert.equal(first.code, 0, first.err.join('\n'));
  const original = readFileSync(ckpt);

  const other = await run(['train', ...base, '--epochs', '1', '--lr', '0.1', '--out', dir]);
  assert.equal(other.code, 2);
  assert.equal(other.err.length, 1);
  assert.match(
    other.err[0],
    new RegExp(
      `--out ${dir}: holds a finished run \\(1 epoch\\) of another config \\(lr 0\\.01 there, 0\\.1 here\\); choose another --out, or add --force`,
    ),
  );
  assert.deepEqual(readFileSync(ckpt), original, 'the refused run must not touch the finished one');

  const same = await run(['train', ...base, '--epochs', '1', '--out', dir, '--json']);
  assert.equal(same.code, 0, same.err.join('\n'));
  const told = JSON.parse(same.out[0]);
  assert.equal(told.alreadyFinished, true);
  assert.equal(told.testAcc, JSON.parse(first.out[0]).testAcc);
  assert.deepEqual(readFileSync(ckpt), original);

  // a longer run of the same data and model is another config: refused, then forced
  const longer = await run(['train', ...base, '--epochs', '2', '--out', dir]);
  assert.equal(longer.code, 2);
  assert.match(longer.err[0], /of another config \(epochs 1 there, 2 here\)/);
  const forced = await run(['train', ...base, '--epochs', '2', '--lr', '0.1', '--out', dir, '--force', '--json']);
  assert.equal(forced.code, 0, forced.err.join('\n'));
  assert.equal(JSON.parse(forced.out[0]).epochs, 2);
  assert.notDeepEqual(readFileSync(ckpt), original);
});

test('train --out on an unfinished run of the same config points to --resume', async () => {
  const dir = join(tempDir('spurlab-rundir-'), 'R');
  const cfg = makeTrainConfig({
    data: { dataset: 'mnist', pattern: 'R3', n: 3, target: 0, seed: 0 },
    model: 'MLP',
    epochs: 2,
    trainSubset: 200,
    testSubset: 100,
    batchSize: 50,
  });
  // a run interrupted after its first epoch (its checkpoint is written before onEpoch)
  await assert.rejects(
    train(cfg, {
      outDir: dir,
      events: {
        onEpoch: () => {
          throw new Error('interrupted');
        },
      },
    }),
    /interrupted/,
  );
  const again = await run(['train', ...base, '--epochs', '2', '--out', dir]);
  assert.equal(again.code, 2);
  assert.equal(
    again.err[0],
    `spurlab train: --out ${dir}: holds an unfinished run (epoch 1 of 2) of this same config; continue it with \`spurlab train --resume ${dir}\`, or add --force to train it again from the start`,
  );
  const resumed = await run(['train', '--resume', dir, '--json']);
  assert.equal(resumed.code, 0, resumed.err.join('\n'));
  assert.equal(JSON.parse(resumed.out[0]).epochs, 2);
  const finished = await run(['train', ...base, '--epochs', '2', '--out', dir, '--json']);
  assert.equal(JSON.parse(finished.out[0]).alreadyFinished, true);
  // extending a run in place (--continue-from DIR --out DIR) is that run, not one to protect
  const extended = await run(['train', '--continue-from', dir, '--epochs', '3', '--out', dir, '--json']);
  assert.equal(extended.code, 0, extended.err.join('\n'));
  assert.equal(JSON.parse(extended.out[0]).epochs, 3);
});
