import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MITIGATION_BASE, MITIGATION_GRIDS, mitigationSettings } from '../../src/experiments/mitigations.ts';
import { makeTrainConfig } from '../../src/train/config.ts';

test("the paper's ranges: weight decay 1e-5..1e-1, sigma 0.05..5, clipping 1e-1..1e-5 on MNIST", () => {
  const g = MITIGATION_GRIDS.mnist;
  assert.deepEqual([Math.min(...g.weightDecay), Math.max(...g.weightDecay)], [1e-5, 1e-1]);
  assert.deepEqual([Math.min(...g.inputNoise), Math.max(...g.inputNoise)], [0.05, 5]);
  assert.deepEqual([Math.max(...g.gradClip), Math.min(...g.gradClip)], [1e-1, 1e-5]);
  assert.ok(g.weightDecay.includes(1e-3) && g.inputNoise.includes(0.5), 'the values the issue asks to report');
});

test('every setting is a valid training configuration, baseline first', () => {
  for (const dataset of ['mnist', 'fashion', 'cifar10'] as const) {
    const settings = mitigationSettings(dataset);
    const g = MITIGATION_GRIDS[dataset];
    assert.equal(settings.length, 1 + g.weightDecay.length + g.inputNoise.length + g.gradClip.length);
    assert.deepEqual(settings[0], { mitigation: 'none', value: 0, overrides: {} });
    const base = MITIGATION_BASE[dataset];
    for (const s of settings) {
      const cfg = makeTrainConfig({
        data: { dataset, pattern: base.patterns[0], n: base.n[0], target: 0, seed: 0 },
        model: base.model,
        optimizer: base.optimizer,
        lr: base.lr,
        aug: base.aug,
        ...s.overrides,
      });
      if (s.mitigation !== 'none') assert.equal(cfg[s.mitigation], s.value);
    }
  }
  assert.deepEqual(
    mitigationSettings('mnist', 'gradClip').map((s) => s.value),
    [0, 1e-1, 1e-2, 1e-3, 1e-4, 1e-5],
  );
});
