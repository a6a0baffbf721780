// Every unlearning method through `spurlab forget` on a tiny MNIST run: it must move the
// weights, keep every measurement finite, and report the comparison with retraining;
// --store records it as kind forget with the retrained run as a dependency.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { forgetCommand } from '../../../src/cli/commands/forget.ts';
import { forgetConfig, forgetKind } from '../../../src/experiments/kinds/forget.ts';
import { expectedSteps, UNLEARN_METHODS } from '../../../src/forget/unlearning/methods.ts';
import { ResultsStore } from '../../../src/store/results.ts';
import { makeTrainConfig } from '../../../src/train/config.ts';
import { train } from '../../../src/train/trainer.ts';
import { runCommandDirect } from '../../cli/runCommandDirect.ts';
import { tempDir } from '../../helpers.ts';

const root = tempDir('spurlab-unlearn-');
const runDir = join(root, 'run');
const cfg = makeTrainConfig({ data: 'mnistv20-5-0-0', model: 'MLP', epochs: 2, trainSubset: 300, testSubset: 100, batchSize: 50 });

before(async () => {
  await train(cfg, { outDir: runDir });
});

const forget = (...argv: string[]) => runCommandDirect(forgetCommand, [runDir, ...argv]);
const MEASURED = ['score', 'scoreNonTarget', 'testAcc', 'patternedTestAcc', 'forgetAcc', 'retainAcc', 'forgetMemberRate'];

// small budgets that still change a tiny model (SSD: a selection weighting that picks weights here)
const BUDGET: Record<string, string[]> = {
  'gradient-ascent': ['--epochs', '3', '--lr', '0.05'],
  ssd: ['--alpha', '1'],
  scrub: ['--epochs', '1'],
};

for (const method of UNLEARN_METHODS) {
  test(`forget --method ${method} --json: moves the weights, finite measurements, compared with retraining`, async () => {
    const r = await forget('--method', method, ...(BUDGET[method] ?? ['--epochs', '1']), '--json');
    assert.equal(r.code, 0, r.err.join('\n'));
    const out = JSON.parse(r.out[0]);
    assert.equal(out.method, method);
    for (const part of ['before', 'after', 'retrain']) {
      for (const k of MEASURED) assert.ok(Number.isFinite(out[part][k]) && out[part][k] >= 0 && out[part][k] <= 1, `${part}.${k} = ${out[part][k]}`);
    }
    assert.ok(out.moved > 1e-6, `${method} moved the weights by ${out.moved}`);
    assert.ok(out.distance.after.paramL2 > 0 && Number.isFinite(out.distance.after.testKl) && out.distance.after.testKl >= 0);
    assert.notEqual(out.distance.after.paramL2, out.distance.before.paramL2);
    assert.ok(out.methodSeconds > 0 && out.retrainSeconds > 0 && out.relativeTime > 0);
    assert.ok(out.unlearning.steps > 0 || method === 'ssd');
    assert.equal(out.unlearning.steps, expectedSteps(method, out.unlearning.options, 5, 295));
    if (method === 'ssd') assert.ok(out.unlearning.extra.selected > 0);
    assert.equal(out.unlearning.needsRetain, !['gradient-ascent', 'ssd'].includes(method));
  });
}

test('the text report names the data a method reads, its options, the distance and the time against retraining', async () => {
  const r = await forget('--method', 'gradient-ascent', '--epochs', '1');
  assert.equal(r.code, 0, r.err.join('\n'));
  const text = r.out.join('\n');
  assert.match(text, /gradient-ascent reads the forget set only; epochs 1, lr 0.0001, batch 256, momentum 0.9, weightDecay 0.0005; 1 steps/);
  assert.match(text, /to the retrained model: l2 .* test KL/);
  assert.match(text, /time: .* s for the method, retraining .* s \(x/);
});

test('an option the method does not take, or one for a deletion method, is one clear error', async () => {
  const a = await forget('--method', 'finetune', '--threshold', '0.3');
  assert.equal(a.code, 2);
  assert.match(a.err.join('\n'), /threshold: not an option of finetune; it takes epochs, lr, batch, momentum, weightDecay/);
  const b = await forget('--method', 'incremental', '--epochs', '3');
  assert.equal(b.code, 2);
  assert.match(b.err.join('\n'), /--epochs: an option of the unlearning methods/);
});

test('--store: recorded once as kind forget; the retrained run is a dependency and options are in the key', async () => {
  const path = join(root, 'store', 'results.db');
  const first = await forget('--method', 'ssd', '--store', path);
  assert.equal(first.code, 0, first.err.join('\n'));
  assert.match(first.out.at(-1)!, /recorded in .* \(kind forget\)/);
  const second = await forget('--method', 'ssd', '--store', path, '--json');
  assert.ok('forgetAcc' in JSON.parse(second.out[0]).after && 'retainAcc' in JSON.parse(second.out[0]).after);
  const store = ResultsStore.open(path);
  const rows = store.list({ kind: 'forget' });
  store.close();
  assert.equal(rows.length, 1);
  const c = forgetConfig(cfg, 'ssd', { unlearn: { alpha: 3 } });
  const deps = forgetKind.dependencies(c);
  assert.equal(deps.length, 2);
  assert.equal(deps[1].dropSpurious, true);
  assert.deepEqual((forgetKind.storeConfig(c) as { options: object }).options, { alpha: 3, lambda: 1, batch: 128, seed: 0, withRetrain: true });
  assert.throws(() => forgetKind.configure({ ...c, forgetThreshold: 0.5 }), /threshold: not an option of ssd/);
});
