import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { miaCommand } from '../../src/cli/commands/mia.ts';
import { miaKind } from '../../src/experiments/kinds/index.ts';
import { resultOf, runInStore } from '../../src/experiments/sweep.ts';
import { makeSpuriousDataset } from '../../src/data/spurious.ts';
import { ResultsStore } from '../../src/store/results.ts';
import { runCommandDirect } from './runCommandDirect.ts';

// A small, fast setting: 600 training and 300 test images (halves of 300 and 150), the
// 784-256-10 MLP, 2 epochs.
const SMALL = ['--dataset', 'mnist', '--n', '10', '--seed', '0', '--model', 'MLP', '--epochs', '2', '--train-limit', '600', '--test-limit', '300'];

test('spurlab mia trains, attacks, reports numbers in [0, 1] and records the run once', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'spurlab-mia-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const storePath = join(dir, 'results.db');

  const r = await runCommandDirect(miaCommand, [...SMALL, '--store', storePath, '--json']);
  assert.equal(r.code, 0, r.err.join('\n'));
  assert.equal(r.out.length, 1);
  const res = JSON.parse(r.out[0]);
  assert.equal(res.n, 10);
  for (const k of ['attackAcc', 'attackAccSpurious', 'auc', 'tprAt1Fpr', 'targetTestAcc']) {
    assert.ok(typeof res[k] === 'number' && res[k] >= 0 && res[k] <= 1, `${k} = ${res[k]}`);
  }
  assert.ok(res.targetTestAcc > 0.3, `the target model learnt something: ${res.targetTestAcc}`);
  // The spurious examples are the data set's (R3 = v20, target 0, seed 0) and are all scored.
  const expected = makeSpuriousDataset('mnistv20-10-0-0').spuriousIndices;
  assert.deepEqual(res.details.spuriousIndices, expected);
  assert.equal(res.details.spuriousScores.length, 10);
  const calledMembers = res.details.spuriousScores.filter((s: number) => s > 0).length;
  assert.equal(res.attackAccSpurious, calledMembers / 10);
  assert.deepEqual(res.details.sizes, { targetTrain: 300, shadowTrain: 300, targetTest: 150, shadowTest: 150 });
  assert.equal(res.details.members, 150, 'balanced evaluation: 10 spurious + 140 other members');
  assert.equal(res.details.nonMembers, 150);
  assert.ok([0.01, 0.1, 1, 10].includes(res.details.C));

  const store = ResultsStore.open(storePath);
  try {
    const runs = store.list({ kind: 'mia' });
    assert.equal(runs.length, 1);
    assert.equal(runs[0].status, 'done');
    assert.deepEqual(
      [runs[0].dataset, runs[0].pattern, runs[0].n, runs[0].target, runs[0].seed, runs[0].model, runs[0].optimizer],
      ['mnist', 'R3', 10, 0, 0, 'MLP', 'adam'],
    );
    assert.equal(runs[0].config.experiment, 'mia');
    // The same options through the API find the finished run instead of training again.
    const config = miaKind.configure({ dataset: 'mnist', n: 10, seed: 0, model: 'MLP', epochs: 2, trainLimit: 600, testLimit: 300 });
    const outcome = await runInStore(store, miaKind, config, { artifacts: false });
    assert.equal(outcome.status, 'done');
    const again = resultOf(miaKind, outcome, storePath);
    assert.equal(again.fromStore, true);
    assert.equal(again.result.attackAcc, res.attackAcc);
  } finally {
    store.close();
  }

  const text = await runCommandDirect(miaCommand, [...SMALL, '--store', storePath]);
  assert.equal(text.code, 0, text.err.join('\n'));
  // accuracies in %, AUC and TPR as 0-1 fractions
  assert.match(text.out.join('\n'), /attack accuracy: all \d+\.\d\d% .*spurious \d+\.\d\d% \(\d+ of 10 called members\)/);
  assert.match(text.out.join('\n'), /target model: train acc \d+\.\d\d%, test acc \d+\.\d\d%/);
  assert.match(text.out.join('\n'), /ROC AUC [01]\.\d{3}, TPR at 1% FPR [01]\.\d{3}/);
  assert.match(text.out.join('\n'), /already in .*nothing was trained/);
});

test('spurlab mia: missing or bad options exit 2 with one clear line', async () => {
  const missing = await runCommandDirect(miaCommand, ['--dataset', 'mnist', '--seed', '0', '--no-store']);
  assert.equal(missing.code, 2);
  assert.match(missing.err[0], /--n is required/);
  const badOpt = await runCommandDirect(miaCommand, [...SMALL, '--optimizer', 'rmsprop', '--no-store']);
  assert.equal(badOpt.code, 2);
  assert.match(badOpt.err[0], /--optimizer: got "rmsprop", expected adam or sgd/);
  const badModel = await runCommandDirect(miaCommand, [...SMALL, '--model', 'GPT', '--no-store']);
  assert.equal(badModel.code, 2);
  assert.match(badModel.err[0], /unknown model "GPT"/);
  const tooMany = await runCommandDirect(miaCommand, ['--dataset', 'mnist', '--n', '400', '--seed', '0', '--train-limit', '600', '--no-store']);
  assert.equal(tooMany.code, 2);
  assert.match(tooMany.err[0], /n: got 400 spurious examples, more than the target model's half of the training images \(300\)/);
  const both = await runCommandDirect(miaCommand, [...SMALL, '--no-store', '--store', 'x.db']);
  assert.equal(both.code, 2);
  assert.match(both.err[0], /--store PATH or --no-store, not both/);
});
