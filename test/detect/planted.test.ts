// Every detection method on a synthetic task with planted examples: 8x8 images of three
// classes (a bright band of rows per class), and six class-0 examples whose band is
// another class's but which carry a corner pattern: the network can only fit them by
// learning "pattern => class 0", the rare spurious correlation in miniature. Each method
// must rank the planted examples above chance.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Dataset } from '../../src/data/dataset.ts';
import { RandomState } from '../../src/data/numpyRandom.ts';
import { makePattern } from '../../src/data/patterns.ts';
import type { SpuriousDataset } from '../../src/data/spurious.ts';
import { loadEpochCheckpoints, readMemorization } from '../../src/detect/detect.ts';
import { DETECT_DEFAULTS, DETECT_METHODS, detectScores } from '../../src/detect/methods.ts';
import { detectionMetrics } from '../../src/detect/metrics.ts';
import { makeTrainConfig } from '../../src/train/config.ts';
import { train } from '../../src/train/trainer.ts';
import { tempDir } from '../helpers.ts';

const S = 8;
function images(count: number, seed: number, planted: number): { images: Float32Array; labels: Int32Array; spurious: number[] } {
  const rng = new RandomState([seed]);
  const img = new Float32Array(count * S * S);
  const labels = new Int32Array(count);
  const spurious: number[] = [];
  for (let i = 0; i < count; i++) {
    const label = i % 3;
    const isPlanted = label === 0 && spurious.length < planted && i % 30 === 0;
    const band = isPlanted ? 1 + (spurious.length % 2) : label;
    for (let r = 0; r < S; r++)
      for (let c = 0; c < S; c++) img[(i * S + r) * S + c] = (r >= 2 * band && r < 2 * band + 2 ? 0.7 : 0) + 0.3 * rng.random();
    if (isPlanted) {
      spurious.push(i);
      for (const [r, c] of [
        [7, 7],
        [7, 6],
        [6, 7],
      ])
        img[(i * S + r) * S + c] = 1;
    }
    labels[i] = label;
  }
  return { images: img, labels, spurious };
}

function dataset(): SpuriousDataset {
  const tr = images(300, 1, 6);
  const te = images(60, 2, 0);
  const base = { height: S, width: S, channels: 1, numClasses: 3 };
  const trainSet: Dataset = { name: 'planted', split: 'train', n: 300, images: tr.images, labels: tr.labels, ...base };
  const testSet: Dataset = { name: 'planted', split: 'test', n: 60, images: te.images, labels: te.labels, ...base };
  return {
    spec: { dataset: 'mnist', pattern: 'S1', n: 6, target: 0, targetB: null, seed: 0 },
    name: 'planted',
    train: trainSet,
    test: testSet,
    spuriousIndices: tr.spurious,
    pattern: makePattern('S1', { height: S, width: S, channels: 1 }, 0),
    noise: null,
  };
}

test('every method ranks the planted examples above chance', async () => {
  const data = dataset();
  assert.equal(data.spuriousIndices.length, 6);
  const cfg = makeTrainConfig({
    data: { dataset: 'mnist', pattern: 'S1', n: 6, target: 0, seed: 0 },
    model: 'MLP',
    epochs: 20,
    batchSize: 32,
    keepCheckpoints: 5,
  });
  const dir = tempDir('spurlab-detect-');
  try {
    const run = await train(cfg, { data, outDir: dir });
    const checkpoints = loadEpochCheckpoints(dir, cfg, data.train);
    assert.deepEqual(
      checkpoints.map((c) => c.epoch),
      [5, 10, 15, 20],
    );
    const positions = run.trainIndices;
    const spuriousPositions = data.spuriousIndices.map((i) => positions.indexOf(i));
    const inTarget = Uint8Array.from(positions, (p) => (data.train.labels[p] === 0 ? 1 : 0));
    // a LiRA export where the planted examples are the memorized ones
    const memFile = join(dir, 'lira.jsonl');
    writeFileSync(
      memFile,
      Array.from(positions, (p) => JSON.stringify({ index: p, memorization: data.spuriousIndices.includes(p) ? 0.6 + p / 1000 : (p % 7) / 20 })).join(
        '\n',
      ),
    );
    const memorization = readMemorization(memFile, positions);
    assert.equal(memorization.missing, 0);
    const input = {
      model: run.model,
      modelName: 'MLP',
      layout: run.layout,
      train: data.train,
      positions,
      checkpoints,
      memorization: memorization.values,
    };
    for (const method of DETECT_METHODS) {
      const { scores } = detectScores(method, input, { ...DETECT_DEFAULTS, depth: 30, projection: 64 });
      const m = detectionMetrics(scores, spuriousPositions, inTarget);
      assert.ok(m.auroc > 0.75, `${method}: AUROC ${m.auroc.toFixed(3)}, expected well above chance (0.5)`);
      assert.ok(m.aurocTargetClass > 0.75, `${method}: target-class AUROC ${m.aurocTargetClass.toFixed(3)}`);
      assert.ok(m.recallAt10N > 60 / 300, `${method}: recall at 10n ${m.recallAt10N}, chance ${60 / 300}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
