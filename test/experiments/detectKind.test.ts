// The detect kind's configuration: normalized, only the options a method reads are kept
// (so equal runs share a key), TracIn and TRAK's base run keeps epoch checkpoints, and
// configs it cannot run are refused up front; the detect preset's runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectKind } from '../../src/experiments/kinds/detect.ts';
import { planRun, withDependencies } from '../../src/experiments/kinds/index.ts';
import { loadSweepSpec, planSweep } from '../../src/experiments/grids/spec.ts';

const base = { dataset: 'mnist', pattern: 'R3', n: 3, target: 0, seed: 0, model: 'LargeMLP', epochs: 20 };

test('detect configs: normalized, the options a method reads, checkpoints for TracIn and TRAK', () => {
  const c = detectKind.configure({ ...base, method: 'trak', projection: 64, depth: 7 });
  assert.equal(c.projection, 64);
  assert.equal(c.trakModels, 3);
  assert.equal('depth' in c, false, 'trak does not read depth');
  assert.equal(c.keepCheckpoints, 2, 'a tenth of the epochs when not given');
  assert.deepEqual(detectKind.configure(c as unknown as Record<string, unknown>), c);
  const loss = detectKind.configure({ ...base, method: 'loss', depth: 7 });
  assert.equal(loss.keepCheckpoints, undefined);
  assert.equal(planRun('detect', { ...base, method: 'loss' }).key, planRun('detect', { ...base, method: 'loss', depth: 99 }).key);
  const plan = withDependencies([planRun('detect', { ...base, method: 'tracin', keepCheckpoints: 5 })]);
  assert.deepEqual(
    plan.map((r) => r.kind),
    ['train', 'detect'],
  );
  assert.equal((plan[0].config as { keepCheckpoints?: number }).keepCheckpoints, 5, 'the train run keeps the checkpoints TracIn reads');
  const plainTrain = withDependencies([planRun('detect', { ...base, method: 'loss' })])[0];
  assert.equal('keepCheckpoints' in plainTrain.config, false, 'no checkpoints asked: the plain train run and its key');
  assert.equal(plainTrain.key, planRun('train', base).key);
});

test('detect configs it cannot run are refused with the reason', () => {
  assert.throws(() => detectKind.configure({ ...base, n: 0, method: 'loss' }), /detect needs a run with spurious examples to find: got n = 0/);
  assert.throws(() => detectKind.configure({ ...base, method: 'memorization' }), /memorization reads a LiRA export/);
  assert.throws(() => detectKind.configure({ ...base, method: 'nope' }), /method: got "nope"/);
  assert.throws(() => detectKind.configure({ ...base, method: 'self-influence', damp: 2 }), /damp: got 2, expected a number in \(0, 1\)/);
  assert.throws(() => detectKind.configure({ ...base, method: 'loss', thenRetrain: -1 }), /thenRetrain: got -1/);
  assert.throws(() => detectKind.configure({ ...base, method: 'loss', bogus: 1 }), /unknown key "bogus" for kind detect/);
});

test('the detect preset: 9 detections per setting on 18 shared 20-epoch base runs; grad-norm and spectral retrain without their top 100', () => {
  const runs = planSweep(loadSweepSpec('detect'));
  const train = runs.filter((r) => r.kind === 'train');
  const detect = runs.filter((r) => r.kind === 'detect');
  assert.equal(train.length, 2 * 3 * 3);
  assert.equal(detect.length, 18 * 9);
  assert.ok(train.every((r) => (r.config as { epochs: number; keepCheckpoints: number }).epochs === 20));
  const retrained = detect
    .filter((r) => (r.config as { thenRetrain: number }).thenRetrain === 100)
    .map((r) => (r.config as { method: string }).method);
  assert.deepEqual([...new Set(retrained)].sort(), ['grad-norm', 'spectral']);
  assert.equal(retrained.length, 36);
});
