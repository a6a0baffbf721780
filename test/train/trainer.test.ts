import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { makeTrainConfig } from '../../src/train/config.ts';
import { loadRun, subsetIndices, train } from '../../src/train/trainer.ts';
import { loadCheckpoint, metadataJson } from '../../src/store/checkpoint.ts';
import { milestonesFor, multiStepLr } from '../../src/nn/optim/scheduler.ts';
import type { Module } from '../../src/nn/module.ts';
import { tempDir } from '../helpers.ts';

const tmp = () => tempDir('spurlab-train-');
const small = { data: 'mnistv8-3-0-0', model: 'MLP', epochs: 2, trainSubset: 256, testSubset: 128, batchSize: 64 } as const;

function weights(m: Module): Float32Array[] {
  return m.parameters().map((p) => Float32Array.from(p.values()));
}

function assertSameWeights(a: Module, b: Module): void {
  const wa = weights(a);
  const wb = weights(b);
  wa.forEach((w, i) => assert.deepEqual(w, wb[i], `parameter ${i} differs`));
}

test('the milestone table and MultiStepLR follow the reference', () => {
  assert.deepEqual(milestonesFor(20), [15, 25]);
  assert.deepEqual(milestonesFor(70), [40, 50, 60]);
  assert.deepEqual(milestonesFor(150), [40, 80, 120, 140]);
  assert.deepEqual(milestonesFor(500), [60, 120]);
  assert.equal(multiStepLr(0.1, 39, [40, 50, 60]), 0.1);
  assert.ok(Math.abs(multiStepLr(0.1, 40, [40, 50, 60]) - 0.01) < 1e-15);
  assert.ok(Math.abs(multiStepLr(0.1, 65, [40, 50, 60]) - 1e-4) < 1e-18);
});

test('subsets are seeded, sorted and always keep the spurious examples', () => {
  const a = subsetIndices(1000, 50, 3, [7, 999]);
  assert.equal(a.length, 50);
  assert.ok(a.includes(7) && a.includes(999));
  assert.deepEqual(a, subsetIndices(1000, 50, 3, [7, 999]));
  assert.deepEqual(
    Array.from(a),
    [...a].sort((x, y) => x - y),
  );
  assert.equal(subsetIndices(10, 0, 3).length, 10);
});

test('training learns, writes its run directory, and is bit-identical for the same seeds', async () => {
  const dir = tmp();
  const cfg = makeTrainConfig(small);
  const a = await train(cfg, { outDir: dir });
  const b = await train(cfg);
  assertSameWeights(a.model, b.model);
  assert.equal(a.history.length, 2);
  assert.ok(a.history[1].loss < a.history[0].loss, 'loss decreases');
  assert.ok(a.testAcc > 0.5, `test accuracy ${a.testAcc}`);
  const ckpt = loadCheckpoint(join(dir, 'model.safetensors'));
  assert.equal(metadataJson<number>(ckpt, 'epoch'), 2);
  assert.deepEqual(metadataJson(ckpt, 'config'), cfg);
  const loaded = loadRun(dir);
  assertSameWeights(loaded.model, a.model);
  const other = await train(makeTrainConfig({ ...small, modelSeed: 1 }));
  assert.notDeepEqual(weights(other.model)[0], weights(a.model)[0]);
});

test('an interrupted run resumes to the same weights as an uninterrupted one', async () => {
  // CNN002 so that the dropout generator's state is part of what must resume exactly
  const cfg = makeTrainConfig({ ...small, epochs: 2, optimizer: 'sgd', lr: 0.05, model: 'CNN002', trainSubset: 16, testSubset: 8, batchSize: 8 });
  const whole = await train(cfg);
  const dir = tmp();
  await assert.rejects(
    train(cfg, {
      outDir: dir,
      events: {
        onEpoch: (r) => {
          if (r.epoch === 1) throw new Error('simulated kill');
        },
      },
    }),
    /simulated kill/,
  );
  const resumed = await train(cfg, { outDir: dir, resumeFrom: join(dir, 'model.safetensors') });
  assertSameWeights(resumed.model, whole.model);
  assert.deepEqual(
    resumed.history.map((h) => h.epoch),
    [1, 2],
  );
  await assert.rejects(
    train(makeTrainConfig({ ...small, lr: 0.5 }), { resumeFrom: join(dir, 'model.safetensors') }),
    /cannot resume, the checkpoint was trained with a different model .*lr/,
  );
});

test('a diverging run stops naming epoch and step, and keeps the last good checkpoint', async () => {
  const dir = tmp();
  const cfg = makeTrainConfig({ ...small, epochs: 1 });
  const good = await train(cfg, { outDir: dir });
  const bad = makeTrainConfig({ ...small, epochs: 2, lr: 1e38, scheduler: false });
  await assert.rejects(
    train(bad, { outDir: dir, continueFrom: join(dir, 'model.safetensors') }),
    /training diverged: the loss is (NaN|Infinity) at epoch 2, step \d+ of 4; the checkpoint of epoch 1 in .* is intact/,
  );
  const after = loadRun(dir);
  assert.equal(after.epoch, 1);
  assertSameWeights(after.model, good.model);
});

test('continuing a run keeps counting epochs and restores the optimizer state', async () => {
  const dir = tmp();
  await train(makeTrainConfig({ ...small, epochs: 1 }), { outDir: dir });
  const cont = await train(makeTrainConfig({ ...small, epochs: 2, scheduler: false }), { continueFrom: join(dir, 'model.safetensors') });
  assert.deepEqual(
    cont.history.map((h) => h.epoch),
    [2],
  );
  await assert.rejects(
    train(makeTrainConfig({ ...small, epochs: 2, optimizer: 'sgd' }), { continueFrom: join(dir, 'model.safetensors') }),
    /was trained with adam, cannot continue with sgd/,
  );
});

test('bad configuration values are named', () => {
  assert.throws(() => makeTrainConfig({ ...small, lr: -1 }), /lr: got -1, expected a positive number/);
  assert.throws(() => makeTrainConfig({ ...small, model: 'ResNet7' }), /unknown model "ResNet7"/);
  assert.throws(() => makeTrainConfig({ ...small, batchSize: 0 }), /batchSize: got 0, expected a positive integer/);
  assert.throws(() => makeTrainConfig({ ...small, data: 'mnistv99-3-0-0' }), /v99/);
});
