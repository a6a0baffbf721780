import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createModel } from '../../src/nn/models/index.ts';
import type { MLP } from '../../src/nn/models/mlp.ts';
import { RandomState } from '../../src/data/numpyRandom.ts';
import { decodePng, encodePng } from '../../src/util/png.ts';
import { firstLayerWeightMap, formatTick, renderWeightMap, viridis, weightMapDifference, weightMapStats } from '../../src/experiments/weightmap.ts';

const MNIST = { height: 28, width: 28, channels: 1, numClasses: 10 };

test('the weight map is the max over hidden units of the first-layer weights, pixel by pixel', () => {
  const model = createModel('LargeMLP', MNIST, new RandomState(1)) as MLP;
  const map = firstLayerWeightMap(model, 'LargeMLP', MNIST);
  assert.equal(map.panels.length, 1);
  assert.equal(map.panels[0].length, 784);
  const w = model.firstLayerWeight();
  assert.deepEqual(w.shape, [256, 784]);
  const v = w.toArray();
  for (const pixel of [0, 1, 27, 28, 400, 783]) {
    let best = -Infinity;
    for (let j = 0; j < 256; j++) best = Math.max(best, v[j * 784 + pixel]);
    assert.equal(map.panels[0][pixel], best, `pixel ${pixel}`);
  }
});

test('colour inputs: one panel per channel, or the max over channels', () => {
  const shape = { height: 2, width: 3, channels: 3, numClasses: 4 };
  const model = createModel('MLP', shape, new RandomState(2)) as MLP;
  const v = model.firstLayerWeight().toArray(); // [256, 18], feature = (row * 3 + col) * 3 + channel
  const split = firstLayerWeightMap(model, 'MLP', shape, 'split');
  assert.deepEqual(split.panelNames, ['R', 'G', 'B']);
  for (let c = 0; c < 3; c++) {
    for (let p = 0; p < 6; p++) {
      let best = -Infinity;
      for (let j = 0; j < 256; j++) best = Math.max(best, v[j * 18 + p * 3 + c]);
      assert.equal(split.panels[c][p], best);
    }
  }
  const combined = firstLayerWeightMap(model, 'MLP', shape, 'max');
  assert.equal(combined.panels.length, 1);
  for (let p = 0; p < 6; p++) assert.equal(combined.panels[0][p], Math.max(split.panels[0][p], split.panels[1][p], split.panels[2][p]));
});

test('difference from a clean map, and clear errors for a CNN or mismatched maps', () => {
  const a = firstLayerWeightMap(createModel('MLP', MNIST, new RandomState(1)), 'MLP', MNIST);
  const b = firstLayerWeightMap(createModel('MLP', MNIST, new RandomState(2)), 'MLP', MNIST);
  const d = weightMapDifference(a, b);
  for (const p of [0, 300, 783]) assert.equal(d.panels[0][p], Math.abs(a.panels[0][p] - b.panels[0][p]));
  const cnn = createModel('CNN002', MNIST, new RandomState(0));
  assert.throws(() => firstLayerWeightMap(cnn, 'CNN002', MNIST), /weight maps need an MLP .*the model is CNN002/);
  const small = firstLayerWeightMap(createModel('MLP', { ...MNIST, height: 2, width: 2 }, new RandomState(0)), 'MLP', {
    ...MNIST,
    height: 2,
    width: 2,
  });
  assert.throws(() => weightMapDifference(a, small), /cannot compare weight maps of 28x28x1 and 2x2x1/);
});

test('stats: range, mean and the brightest pixels with their positions', () => {
  const map = { height: 2, width: 2, channels: 1, channelMode: 'max' as const, panels: [Float64Array.from([1, 5, -2, 3])], panelNames: ['m'] };
  const s = weightMapStats(map, 2);
  assert.deepEqual([s.min, s.max, s.mean], [-2, 5, 1.75]);
  assert.deepEqual(s.top, [
    { panel: 0, row: 0, col: 1, value: 5 },
    { panel: 0, row: 1, col: 1, value: 3 },
  ]);
});

test('viridis table and tick labels', () => {
  assert.deepEqual(viridis(0), [68, 1, 84]);
  assert.deepEqual(viridis(0.5), [38, 130, 142]);
  assert.deepEqual(viridis(1), [253, 231, 37]);
  assert.deepEqual(viridis(2), [253, 231, 37]);
  assert.deepEqual(viridis(1 / 16), [70, 21, 102]);
  assert.equal(formatTick(0.123456), '0.123');
  assert.equal(formatTick(-2.5), '-2.5');
  assert.equal(formatTick(1.5e-5), '1.50e-5');
  assert.equal(formatTick(0), '0');
});

test('the heat map: upscaled viridis blocks and a colour bar from vmax (top) to vmin (bottom)', () => {
  const map = { height: 2, width: 3, channels: 1, channelMode: 'max' as const, panels: [Float64Array.from([0, 1, 2, 3, 4, 5])], panelNames: ['m'] };
  const img = decodePng(encodePng(renderWeightMap(map, { scale: 4 })));
  assert.equal(img.channels, 3);
  assert.equal(img.height, 2 * 4 + 24);
  const px = (x: number, y: number) => Array.from(img.data.subarray((y * img.width + x) * 3, (y * img.width + x) * 3 + 3));
  // Margin 12: weight (row 0, col 0) = vmin fills x, y in 12..15; (row 1, col 2) = vmax.
  assert.deepEqual(px(12, 12), viridis(0));
  assert.deepEqual(px(15, 15), viridis(0));
  assert.deepEqual(px(12 + 2 * 4 + 3, 12 + 4 + 3), viridis(1));
  assert.deepEqual(px(12 + 4, 12), viridis(0.2));
  const barX = 12 + 3 * 4 + 12;
  assert.deepEqual(px(barX, 12), viridis(1));
  assert.deepEqual(px(barX + 15, 12 + 7), viridis(0));
  assert.deepEqual(px(0, 0), [255, 255, 255]);
  // A fixed range clamps values outside it.
  const fixed = decodePng(encodePng(renderWeightMap(map, { scale: 4, vmin: 1, vmax: 2 })));
  assert.deepEqual(Array.from(fixed.data.subarray((12 * fixed.width + 12) * 3, (12 * fixed.width + 12) * 3 + 3)), viridis(0));
  assert.throws(() => renderWeightMap(map, { vmin: 3, vmax: 3 }), /expected vmin < vmax/);
});
