import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadDataset } from '../../src/data/datasets.ts';
import type { Dataset } from '../../src/data/dataset.ts';
import { makeTrainConfig } from '../../src/train/config.ts';
import { train } from '../../src/train/trainer.ts';
import { predict } from '../../src/train/evaluate.ts';
import { spearman } from '../../src/experiments/stats.ts';
import {
  gatherImages,
  meanInputGradientNorm,
  meanTrueClassProbability,
  modelSensitivity,
  occludeImages,
  sensitivityImageIndices,
  trapezoidArea,
} from '../../src/experiments/sensitivity.ts';

test("the 500 images are numpy's RandomState(0).choice(60000, 500, replace=False)", () => {
  const idx = sensitivityImageIndices(60000);
  assert.equal(idx.length, 500);
  // Values printed by numpy 1.24.
  assert.deepEqual(idx.slice(0, 8), [3048, 19563, 58303, 8870, 40228, 31488, 21860, 56864]);
  assert.equal(idx[499], 33372);
  assert.throws(() => sensitivityImageIndices(100, 500), /images: got 500, expected an integer in 1\.\.100/);
});

test("occlusion masks equal the reference notebook's (numpy choice over the non-zero values)", () => {
  // Two 3x4x1 images with values (i % 5) / 4; numpy zeroes these non-zero values at p = 0.3:
  const values = Float32Array.from({ length: 24 }, (_, i) => (i % 5) / 4);
  const d: Dataset = {
    name: 't',
    split: 'train',
    images: values,
    labels: Int32Array.from([0, 1]),
    n: 2,
    height: 3,
    width: 4,
    channels: 1,
    numClasses: 2,
  };
  const expected = [0, 1, 0, 3, 4, 0, 1, 2, 3, 0, 0, 0, 2, 0, 4, 0, 1, 0, 3, 4, 0, 1, 0, 0];
  assert.deepEqual(
    Array.from(occludeImages(d, 0.3).images, (v) => v * 4),
    expected,
  );
  assert.deepEqual(Array.from(occludeImages(d, 0).images), Array.from(values));
  assert.ok(occludeImages(d, 1).images.every((v) => v === 0));
  assert.deepEqual(Array.from(d.images), Array.from(values), 'the input is not modified');
  // Nested masks: whatever p = 0.3 zeroes, p = 0.6 zeroes too.
  const a = occludeImages(d, 0.3).images;
  const b = occludeImages(d, 0.6).images;
  for (let i = 0; i < 24; i++) if (a[i] === 0) assert.equal(b[i], 0);
});

test('trapezoid area', () => {
  assert.equal(trapezoidArea([0, 0.5, 1], [1, 1, 0]), 0.75);
  assert.equal(trapezoidArea([0, 1], [0.2, 0.2]), 0.2);
});

test('sensitivity of a trained MLP: exact endpoints, a decreasing curve, per-image gradient norms', async () => {
  const cfg = makeTrainConfig({ data: 'mnistv8-0-0-0', model: 'MLP', epochs: 2, trainSubset: 600, testSubset: 100 });
  const { model, layout } = await train(cfg);
  const clean = loadDataset('mnist').train;
  const s = modelSensitivity(model, layout, clean, { images: 200, steps: 25 });
  assert.equal(s.images, 200);
  assert.equal(s.ps.length, 26);
  assert.equal(s.ps[1], 0.04);

  const images = gatherImages(clean, sensitivityImageIndices(clean.n, 200));
  // p = 0: the clean images' mean probability of the true class.
  assert.equal(s.curve[0], meanTrueClassProbability(model, layout, images));
  // p = 1: the model's output on a blank image, averaged over the labels.
  const blank: Dataset = { ...images, images: new Float32Array(images.images.length), n: 1 };
  const probs = predict(model, layout, blank, [0]).probs;
  const expectedBlank = Array.from(images.labels).reduce((sum, y) => sum + probs[y], 0) / images.n;
  assert.ok(Math.abs(s.curve[25] - expectedBlank) < 1e-6, `${s.curve[25]} vs ${expectedBlank}`);

  assert.ok(s.curve[0] > 0.5 && s.curve[0] - s.curve[25] > 0.2, `curve ${s.curve.map((v) => v.toFixed(3))}`);
  assert.ok(spearman(s.ps, s.curve).r < -0.95, 'the curve falls as more pixels are removed');
  assert.ok(s.area > s.curve[25] && s.area < s.curve[0]);
  assert.ok(Math.abs(s.meanProb - s.curve.reduce((a, b) => a + b) / 26) < 1e-15);

  // The batched gradient norm equals per-image gradients taken one at a time.
  const few = gatherImages(clean, [0, 1, 2, 3, 4]);
  const batched = meanInputGradientNorm(model, layout, few, 5);
  const single = [0, 1, 2, 3, 4].map((i) => meanInputGradientNorm(model, layout, gatherImages(few, [i]), 1));
  const mean = single.reduce((a, b) => a + b) / 5;
  assert.ok(Math.abs(batched - mean) < 1e-5 * mean, `${batched} vs ${mean}`);
  assert.ok(s.inputGradNorm > 0);
  assert.equal(model.training, true, 'the model is handed back in the mode it came in');
});
