// spurlab forget / influence on a tiny MNIST run, the store record, runDeletionExperiment,
// and one-line errors for bad input.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { forgetCommand } from '../../src/cli/commands/forget.ts';
import { influenceCommand } from '../../src/cli/commands/influence.ts';
import { forgetConfig, forgetKind } from '../../src/experiments/kinds/forget.ts';
import { givenRunDir, resultOf, runInStore } from '../../src/experiments/sweep.ts';
import { loadSweepSpec, planSweep } from '../../src/experiments/grids/spec.ts';
import { makeTrainConfig } from '../../src/train/config.ts';
import { train } from '../../src/train/trainer.ts';
import { ResultsStore } from '../../src/store/results.ts';
import { runCommandDirect } from '../cli/runCommandDirect.ts';
import { tempDir } from '../helpers.ts';

const root = tempDir('spurlab-forget-');
const runDir = join(root, 'run');
const cfg = makeTrainConfig({ data: 'mnistv20-5-0-0', model: 'MLP', epochs: 2, trainSubset: 300, testSubset: 100, batchSize: 50 });

before(async () => {
  await train(cfg, { outDir: runDir });
});

const forget = (...argv: string[]) => runCommandDirect(forgetCommand, [runDir, ...argv]);

test('forget --method influence --json: the documented keys, the scaling and mode named, hvps counted', async () => {
  const r = await forget('--method', 'influence', '--depth', '40', '--repeats', '2', '--json');
  assert.equal(r.code, 0, r.err.join('\n'));
  const out = JSON.parse(r.out[0]);
  for (const k of ['method', 'before', 'after', 'retrain', 'seconds', 'hvps']) assert.ok(k in out, k);
  assert.equal(out.method, 'influence');
  assert.equal(out.retrain, null);
  assert.equal(out.hvps, 80);
  assert.equal(out.removed, 5);
  assert.equal(out.influence.scaling, 'reference');
  assert.equal(out.influence.mode, 'fast');
  assert.equal(out.influence.scale, 25);
  assert.equal(out.influence.engine, 'mlp-rop');
  assert.equal(out.influence.lissaNorms.steps.at(-1), 40);
  for (const m of [out.before, out.after]) assert.ok(m.score >= 0 && m.score <= 1 && m.testAcc > 0.3);
});

test('forget --scale auto reports the power-iteration estimate; textbook and reference modes run', async () => {
  const r = await forget(
    '--method',
    'influence',
    '--depth',
    '20',
    '--repeats',
    '1',
    '--scale',
    'auto',
    '--scaling',
    'textbook',
    '--mode',
    'reference',
    '--json',
  );
  assert.equal(r.code, 0, r.err.join('\n'));
  const i = JSON.parse(r.out[0]).influence;
  assert.equal(i.scaleSource, 'auto');
  assert.equal(i.scaling, 'textbook');
  assert.equal(i.mode, 'reference');
  assert.ok(i.scale >= i.lambdaMax && i.scale >= i.lambdaMaxSingle && i.lambdaMax > 0);
  const text = await forget('--method', 'influence', '--depth', '20', '--repeats', '1');
  assert.match(text.out.join('\n'), /reference scaling .* fast mode, damp 0\.01, scale 25, depth 20, r = 1/);
});

test('forget --method incremental trains on from epoch E to 2E; retrain is the from-scratch run without the examples', async () => {
  const inc = JSON.parse((await forget('--method', 'incremental', '--json')).out[0]);
  assert.deepEqual(inc.epochs, { from: 2, to: 4, lr: 'schedule' });
  const fresh = JSON.parse((await forget('--method', 'incremental', '--lr', '0.001', '--json')).out[0]);
  assert.equal(fresh.epochs.lr, 0.001);
  const re = JSON.parse((await forget('--method', 'retrain', '--json')).out[0]);
  assert.deepEqual(re.after, re.retrain);
  const again = await train({ ...cfg, dropSpurious: true }, {});
  assert.equal(again.trainIndices.length, 295);
  // the reference continues for one epoch only (DEPARTURES.md 4)
  const one = JSON.parse((await forget('--method', 'incremental', '--more-epochs', '1', '--json')).out[0]);
  assert.deepEqual(one.epochs, { from: 2, to: 3, lr: 'schedule' });
  const withRetrain = JSON.parse((await forget('--method', 'incremental', '--with-retrain', '--json')).out[0]);
  assert.deepEqual(withRetrain.retrain, re.retrain);
});

test('--store records the run as kind forget once; the second call returns it', async () => {
  const path = join(root, 'store', 'results.db');
  const first = await forget('--method', 'influence', '--depth', '10', '--repeats', '1', '--store', path);
  assert.match(first.out.at(-1)!, /recorded in .* \(kind forget\)/);
  const second = await forget('--method', 'influence', '--depth', '10', '--repeats', '1', '--store', path);
  assert.match(second.out.at(-1)!, /already in/);
  const store = ResultsStore.open(path);
  const rows = store.list({ kind: 'forget' });
  store.close();
  assert.equal(rows.length, 1);
  assert.equal(rows[0].config.method, 'influence');
  assert.equal(rows[0].pattern, 'R3');
  assert.deepEqual((rows[0].config.options as Record<string, unknown>).depth, 10);
});

test('influence --test-index ranks the spurious examples among all training examples', async () => {
  const r = await runCommandDirect(influenceCommand, [runDir, '--test-index', '2', '--top', '3', '--depth', '30', '--repeats', '1', '--json']);
  assert.equal(r.code, 0, r.err.join('\n'));
  const out = JSON.parse(r.out[0]);
  assert.equal(out.spurious.length, 5);
  assert.equal(out.trainSize, 300);
  assert.equal(out.harmful.length, 3);
  assert.ok(out.harmful[0].influence >= out.harmful[2].influence);
  for (const s of out.spurious) assert.ok(s.rankHarmful >= 1 && s.rankHarmful <= 300 && s.rankHarmful + s.rankHelpful === 301);
});

test('runDeletionExperiment reuses a finished base run and records kind forget', async () => {
  const store = ResultsStore.open(join(root, 'sweep', 'results.db'));
  try {
    const config = forgetConfig(cfg, 'influence', { depth: 10, repeats: 1 });
    const run = () => runInStore(store, forgetKind, config, { artifacts: false, trainedModel: givenRunDir(runDir, cfg) });
    const r = resultOf(forgetKind, await run(), store.path);
    assert.equal(r.fromStore, false);
    assert.equal(r.result.removed, 5);
    assert.equal(store.list({ kind: 'forget' }).length, 1);
    const again = resultOf(forgetKind, await run(), store.path);
    assert.equal(again.fromStore, true);
    assert.equal(again.result.after.score, r.result.after.score);
  } finally {
    store.close();
  }
  const preset = planSweep(loadSweepSpec('paper-deletion')).filter((p) => p.kind === 'forget');
  assert.deepEqual([...new Set(preset.map((p) => (p.config as { n: number }).n))], [3, 10, 100]);
  assert.deepEqual([...new Set(preset.map((p) => (p.config as { method: string }).method))], ['incremental', 'influence', 'retrain']);
});

test('bad input: one line naming the value, exit code 2', async () => {
  const empty = join(root, 'empty');
  mkdirSync(empty);
  const cases: [string[], RegExp][] = [
    [['/nonexistent/run', '--method', 'influence'], /\/nonexistent\/run: no such run directory/],
    [[empty, '--method', 'influence'], /empty: no model.safetensors here/],
    [[runDir], /--method is required/],
    [[runDir, '--method', 'unlearn'], /method: got "unlearn", expected one of incremental, influence, retrain/],
    [[runDir, '--method', 'influence', '--scale=-1'], /--scale: got "-1", expected a positive number or auto/],
    [[runDir, '--method', 'influence', '--depth', '0'], /--depth: got "0", expected a positive integer/],
    [[runDir, '--method', 'influence', '--repeats', '2.5'], /--repeats: got "2.5", expected a positive integer/],
    [[runDir, '--method', 'influence', '--damp', '1'], /--damp: got "1", expected a number in \[0, 1\)/],
    [[runDir, '--method', 'influence', '--scaling', 'paper'], /--scaling: got "paper", expected reference or textbook/],
    [[runDir, '--method', 'influence', '--mode', 'slow'], /--mode: got "slow", expected reference or fast/],
    [[runDir, '--method', 'incremental', '--lr', 'fast'], /--lr: got "fast", expected a positive number/],
    [[runDir, '--method', 'influence', '--average', 'median'], /average: got "median", expected mean or reference/],
    [[runDir, '--method', 'influence', '--more-epochs', '1'], /moreEpochs: an option of incremental retraining, not of influence/],
    [[runDir, '--method', 'incremental', '--average', 'reference'], /average: an option of the influence method \(LiSSA\), not of incremental/],
    [[runDir, '--method', 'incremental', '--more-epochs', '0'], /--more-epochs: got "0", expected a positive integer/],
  ];
  for (const [argv, re] of cases) {
    const r = await runCommandDirect(forgetCommand, argv);
    assert.equal(r.code, 2, argv.join(' '));
    assert.equal(r.err.length, 1);
    assert.equal(r.err[0].split('\n').length, 1, r.err[0]);
    assert.match(r.err[0], re);
  }
  const inf: [string[], RegExp][] = [
    [[runDir], /--test-index I is required/],
    [[runDir, '--test-index', '100000'], /test index: got 100000, expected an integer in \[0, 10000\)/],
    [[runDir, '--test-index=-3'], /--test-index: got "-3", expected a non-negative integer/],
    [[runDir, '--test-index', '1', '--top', '0'], /--top: got "0", expected a positive integer/],
    [['/nonexistent/run', '--test-index', '1'], /no such run directory/],
  ];
  for (const [argv, re] of inf) {
    const r = await runCommandDirect(influenceCommand, argv);
    assert.equal(r.code, 2, argv.join(' '));
    assert.match(r.err[0], re);
  }
});

test('the reference-behaviour options join a forget run key only when they are not the default', () => {
  const key = (o: object) => JSON.stringify(forgetKind.storeConfig(forgetConfig(cfg, 'influence', o)));
  assert.equal(key({}), key({ average: 'mean' }), 'the default keeps the keys of runs recorded before the option');
  assert.notEqual(key({}), key({ average: 'reference' }));
  const inc = (o: object) => JSON.stringify(forgetKind.storeConfig(forgetConfig(cfg, 'incremental', o)));
  assert.notEqual(inc({}), inc({ moreEpochs: 1 }));
  assert.ok(!inc({}).includes('moreEpochs'));
});
