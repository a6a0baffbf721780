import { test } from 'node:test';
import assert from 'node:assert/strict';
import { customPattern } from '../../src/data/patternSpec.ts';
import { makePattern } from '../../src/data/patterns.ts';
import { makeSpuriousDataset } from '../../src/data/spurious.ts';
import { imageView } from '../../src/data/dataset.ts';

const MNIST = { height: 28, width: 28, channels: 1 };

test('customPattern builds pattern strings that makePattern and spurious data sets accept', () => {
  const square = customPattern([{ row: 0, col: 0, height: 3, width: 3, value: 1 }]);
  const p = makePattern(square, MNIST, 0);
  const s2 = makePattern('S2', MNIST, 0);
  assert.equal(p.effect.kind, 'set');
  assert.deepEqual(
    p.effect.kind === 'set' && Array.from(p.effect.indices),
    s2.effect.kind === 'set' && Array.from(s2.effect.indices),
    'the same pixels as S2',
  );

  const bar = customPattern({
    mask: Array.from({ length: 28 }, (_, r) => Array.from({ length: 28 }, (_, c) => (c === 27 && r < 10 ? 1 : 0))),
    value: 0.5,
  });
  const data = makeSpuriousDataset({ dataset: 'mnist', pattern: bar, n: 2, target: 4, seed: 1, targetB: null });
  assert.equal(data.spuriousIndices.length, 2);
  for (const i of data.spuriousIndices) {
    const img = imageView(data.train, i);
    for (let r = 0; r < 10; r++) assert.equal(img[r * 28 + 27], 0.5, `image ${i} row ${r}`);
  }
  assert.throws(() => makePattern(customPattern([{ row: 27, col: 27, height: 2 }]), MNIST, 0), /do not fit in a 28x28 image/);
});
