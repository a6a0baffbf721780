// The `unlearning` preset: every method on every setting, each forget run after its base
// train run and the run retrained without the spurious examples (both planned once).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadSweepSpec, planSweep } from '../../src/experiments/grids/spec.ts';
import { findKind, kindKey, trainKind } from '../../src/experiments/kinds/index.ts';
import { UNLEARN_METHODS } from '../../src/forget/unlearning/methods.ts';

test('the unlearning preset: 2 models x 2 patterns x 3 n x 3 seeds x (8 methods + incremental and influence) on 72 train runs, dependencies first', () => {
  const runs = planSweep(loadSweepSpec('unlearning'));
  const all = runs.filter((r) => r.kind === 'forget');
  const paper = all.filter((r) => ['incremental', 'influence'].includes((r.config as { method: string }).method));
  assert.equal(paper.length, 2 * 2 * 3 * 3 * 2);
  const forget = all.filter((r) => !paper.includes(r));
  const train = runs.filter((r) => r.kind === 'train');
  assert.equal(forget.length, 2 * 2 * 3 * 3 * UNLEARN_METHODS.length);
  assert.equal(train.length, 2 * (2 * 2 * 3 * 3));
  assert.equal(train.filter((r) => (r.config as { dropSpurious: boolean }).dropSpurious).length, 36);
  assert.ok(train.every((r) => r.stage === 0) && forget.every((r) => r.stage === 1));
  assert.ok(runs.indexOf(forget[0]) > runs.indexOf(train.at(-1)!));
  const keys = new Set(train.map((r) => r.key));
  assert.equal(keys.size, 72);
  for (const r of forget) {
    const deps = findKind('forget').dependencies(r.config);
    assert.deepEqual(
      deps.map((d) => d.dropSpurious),
      [false, true],
    );
    for (const d of deps) assert.ok(keys.has(kindKey(trainKind, trainKind.configure({ ...d }))), 'the dependency is planned');
  }
  const cfg = forget[0].config as { epochs: number; dataset: string; model: string };
  assert.deepEqual([cfg.epochs, cfg.dataset], [20, 'mnist']);
  assert.deepEqual([...new Set(forget.map((r) => (r.config as { model: string }).model))], ['LargeMLP', 'CNN002']);
});

test("unlearning-largemlp is the unlearning preset's LargeMLP runs, the same keys", () => {
  const all = planSweep(loadSweepSpec('unlearning'));
  const mlp = planSweep(loadSweepSpec('unlearning-largemlp'));
  const want = all.filter((r) => (r.config as { model: string }).model === 'LargeMLP').map((r) => r.key);
  assert.deepEqual(new Set(mlp.map((r) => r.key)), new Set(want));
  assert.equal(mlp.length, 36 + 2 * 3 * 3 * (UNLEARN_METHODS.length + 2));
});
