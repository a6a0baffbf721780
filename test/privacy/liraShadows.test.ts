import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RandomState } from '../../src/data/numpyRandom.ts';
import type { Dataset } from '../../src/data/dataset.ts';
import type { SpuriousDataset } from '../../src/data/spurious.ts';
import { makeTrainConfig } from '../../src/train/config.ts';
import { buildModel } from '../../src/train/trainer.ts';
import { observePool, planShadows } from '../../src/privacy/liraShadows.ts';

function dataset(n: number, h: number, w: number, c: number, seed: number): Dataset {
  const rs = new RandomState(seed);
  return {
    name: 'synthetic',
    split: 'train',
    images: Float32Array.from(rs.rand(n * h * w * c)),
    labels: Int32Array.from({ length: n }, (_, i) => i % 3),
    n,
    height: h,
    width: w,
    channels: c,
    numClasses: 3,
  };
}

function spuriousData(train: Dataset, spurious: number[]): SpuriousDataset {
  return {
    spec: { dataset: 'mnist', pattern: 'S3', n: spurious.length, target: 0, targetB: null, seed: 0 },
    name: 'synthetic',
    train,
    test: train,
    spuriousIndices: spurious,
    pattern: {} as SpuriousDataset['pattern'],
    noise: null,
  };
}

test('plan: a seeded pool with the spurious examples, each in exactly half of the models, matched clean examples of the target class', () => {
  const data = spuriousData(dataset(300, 2, 2, 1, 1), [7, 150, 299]);
  const cfg = makeTrainConfig({ data: { dataset: 'mnist', pattern: 'S3', n: 3, target: 0, seed: 0 }, model: 'MLP', modelSeed: 4 });
  const plan = planShadows(cfg, data, { shadows: 8, trainLimit: 120, testLimit: 50, matched: 10, queries: 'none' });
  assert.equal(plan.pool.length, 120);
  assert.deepEqual(
    plan.spuriousPositions.map((p) => plan.pool[p]),
    [7, 150, 299],
  );
  const counts = new Map<number, number>();
  for (const run of plan.runs) for (const i of run.trainIndices) counts.set(i, (counts.get(i) ?? 0) + 1);
  assert.equal(counts.size, 120);
  assert.ok([...counts.values()].every((c) => c === 4));
  assert.deepEqual(
    plan.runs.map((r) => r.config.modelSeed),
    [4, 5, 6, 7, 8, 9, 10, 11],
  );
  assert.equal(plan.runs[0].testIndices.length, 50);
  assert.equal(plan.matchedPositions.length, 10);
  for (const p of plan.matchedPositions) {
    assert.equal(data.train.labels[plan.pool[p]], 0);
    assert.ok(![7, 150, 299].includes(plan.pool[p]));
  }
  // Reproducible from the seed, and another seed draws another arrangement.
  const again = planShadows(cfg, data, { shadows: 8, trainLimit: 120, testLimit: 50, matched: 10, queries: 'none' });
  assert.deepEqual([...again.keep], [...plan.keep]);
  assert.deepEqual(again.matchedPositions, plan.matchedPositions);
  const other = planShadows({ ...cfg, seed: 1 }, data, { shadows: 8, trainLimit: 120, testLimit: 50, matched: 10, queries: 'none' });
  assert.notDeepEqual([...other.keep], [...plan.keep]);
  // Fewer candidates than asked for: all of them.
  assert.equal(
    planShadows(cfg, data, { shadows: 8, trainLimit: 30, testLimit: 0, matched: 1000, queries: 'none' }).matchedPositions.length,
    30 / 3 - 1,
  );
});

test('flip queries: the second query of each example is the model on its mirror image', () => {
  const d = dataset(10, 3, 4, 2, 2);
  const mirrored: Dataset = { ...d, images: new Float32Array(d.images.length) };
  for (let i = 0; i < d.n; i++) {
    for (let y = 0; y < 3; y++)
      for (let x = 0; x < 4; x++)
        for (let c = 0; c < 2; c++) {
          mirrored.images[((i * 3 + y) * 4 + x) * 2 + c] = d.images[((i * 3 + y) * 4 + (3 - x)) * 2 + c];
        }
  }
  const cfg = makeTrainConfig({ data: { dataset: 'mnist', pattern: 'S3', n: 0, target: 0, seed: 0 }, model: 'MLP' });
  const { model, layout } = buildModel(cfg, d);
  const pool = Int32Array.from([0, 3, 4, 9]);
  const both = observePool(model, layout, d, pool, 'flip', 3);
  const plain = observePool(model, layout, d, pool, 'none');
  const flippedOnly = observePool(model, layout, mirrored, pool, 'none');
  for (let j = 0; j < pool.length; j++) {
    assert.equal(both.stats[2 * j], plain.stats[j]);
    assert.ok(Math.abs(both.stats[2 * j + 1] - flippedOnly.stats[j]) < 1e-12);
    assert.notEqual(both.stats[2 * j + 1], both.stats[2 * j], 'an MLP is not mirror-symmetric');
  }
  assert.deepEqual([...both.correct], [...plain.correct]);
});
