import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spuriousScore } from '../../src/experiments/score.ts';
import { makePattern } from '../../src/data/patterns.ts';
import type { Dataset } from '../../src/data/dataset.ts';
import { Module } from '../../src/nn/module.ts';
import { type Tensor, zeros } from '../../src/tensor/tensor.ts';

// 6 flat 2x2 images; the label is in the data, the pixel (0,0) is 0 everywhere
function dataset(): Dataset {
  const images = new Float32Array(6 * 4);
  for (let i = 0; i < 6; i++) images[i * 4 + 3] = i / 10;
  return { name: 'toy', split: 'test', images, labels: Int32Array.from([0, 1, 2, 0, 1, 2]), n: 6, height: 2, width: 2, channels: 1, numClasses: 3 };
}

// Logits: class 0 gets k * pixel(0,0); class (label-ish) 1 gets pixel 3 * 10.
class PixelDetector extends Module {
  constructor(private readonly k: number) {
    super();
  }

  forward(x: Tensor): Tensor {
    const v = x.values();
    const out = zeros([x.shape[0], 3]);
    for (let i = 0; i < x.shape[0]; i++) {
      out.data[i * 3] = this.k * v[i * 4];
      out.data[i * 3 + 1] = 10 * v[i * 4 + 3];
    }
    return out;
  }
}

const shape = { height: 2, width: 2, channels: 1 };

test('a model that reacts to the patterned pixel scores 1, one that ignores it 0', () => {
  const d = dataset();
  const s1 = makePattern('S1', shape, 0);
  const hit = spuriousScore(new PixelDetector(50), 'flat', d, { pattern: s1, target: 0 });
  assert.equal(hit.score, 1);
  assert.equal(hit.nTest, 6);
  assert.equal(hit.targetRate, 1);
  assert.deepEqual(Array.from(hit.perImage), [1, 1, 1, 1, 1, 1]);
  const none = spuriousScore(new PixelDetector(0), 'flat', d, { pattern: s1, target: 0 });
  assert.equal(none.score, 0);
  assert.equal(none.testAcc, none.patternedTestAcc);
});

test('the threshold and the non-target population are applied', () => {
  const d = dataset();
  const s1 = makePattern('S1', shape, 0);
  // k = 1: the target probability rises by a moderate amount that depends on the image
  const mild = spuriousScore(new PixelDetector(1), 'flat', d, { pattern: s1, target: 0, threshold: 0.1 });
  const strict = spuriousScore(new PixelDetector(1), 'flat', d, { pattern: s1, target: 0, threshold: 0.2 });
  assert.ok(mild.score > strict.score, `${mild.score} vs ${strict.score}`);
  const nonTarget = spuriousScore(new PixelDetector(50), 'flat', d, { pattern: s1, target: 0, population: 'non-target' });
  assert.equal(nonTarget.nTest, 4);
  assert.throws(() => spuriousScore(new PixelDetector(1), 'flat', d, { pattern: s1, target: 3 }), /target: got 3, expected a class in \[0, 3\)/);
  assert.throws(() => spuriousScore(new PixelDetector(1), 'flat', d, { pattern: s1, target: 0, threshold: 1.5 }), /threshold: got 1.5/);
});
