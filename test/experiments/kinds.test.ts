import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { countSweep, loadSweepSpec, MAX_SWEEP_RUNS, planSweep, validateSweepSpec } from '../../src/experiments/grids/spec.ts';
import { findKind, KINDS } from '../../src/experiments/kinds/index.ts';
import { runPlannedHere } from '../../src/experiments/sweep.ts';
import { loadDataset } from '../../src/data/datasets.ts';
import { ResultsStore } from '../../src/store/results.ts';
import { main } from '../../src/cli/main.ts';
import { EVERY_KIND, EVERY_KIND_ORDER, EVERY_KIND_RUNS, tinyTrain } from './everyKind.ts';
import { tempDir } from '../helpers.ts';

const tmp = () => tempDir('spurlab-kinds-');
const tiny = tinyTrain;

async function cli(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l), isTTY: false });
  return { code, out, err };
}

test('the deletion and membership-inference presets expand to the paper grids, dependencies first', () => {
  const deletion = planSweep(loadSweepSpec('paper-deletion'));
  // MNIST and Fashion-MNIST x n = 3, 10, 100 x 5 seeds x 3 methods, after their 30 train runs
  assert.equal(deletion.filter((r) => r.kind === 'forget').length, 2 * 3 * 5 * 3);
  assert.equal(deletion.filter((r) => r.kind === 'train').length, 2 * 3 * 5);
  assert.ok(deletion.slice(0, 30).every((r) => r.kind === 'train' && r.stage === 0) && deletion.slice(30).every((r) => r.stage === 1));
  // 2 data sets x 2 targets x 2 optimizers x 7 values of n x 10 seeds, no dependencies
  const mia = planSweep(loadSweepSpec('paper-mia'));
  assert.equal(mia.length, 2 * 2 * 2 * 7 * 10);
  assert.ok(mia.every((r) => r.kind === 'mia' && r.stage === 0));
});

test('every kind: a tiny sweep records each run once with a typed result; a rerun runs nothing', async () => {
  const store = ResultsStore.open(join(tmp(), 'r.db'));
  const runs = planSweep(validateSweepSpec({ name: 'every-kind', grids: EVERY_KIND }, 'inline'));
  // train n=0 and n=3 (the forget, sensitivity and weights runs share the n=3 model, weights also needs n=0)
  assert.deepEqual(
    runs.map((r) => r.kind),
    EVERY_KIND_ORDER,
  );
  const first = await runPlannedHere(runs, store, { artifacts: false });
  assert.deepEqual([first.ran, first.skipped, first.failed.map((f) => f.error)], [EVERY_KIND_RUNS, 0, []]);
  // LiRA's two kinds have their own sweep tests (liraKind.test.ts)
  for (const kind of KINDS.filter((k) => !k.name.startsWith('lira'))) {
    const rows = store.list({ kind: kind.name });
    assert.ok(rows.length > 0, kind.name);
    for (const r of rows) {
      assert.equal(r.status, 'done');
      assert.equal(r.attempts, 1, `${kind.name} ran once`);
      kind.checkResult(r.result, r.key); // typed: throws if a field is missing
    }
  }
  const forget = store.list({ kind: 'forget' }).map((r) => findKind('forget').checkResult(r.result, r.key));
  assert.deepEqual(forget.map((f) => f.method).sort(), ['incremental', 'retrain']);
  assert.equal(store.perImage(store.list({ kind: 'train' })[0].key)!.length, 100);
  const weights = findKind('weights').checkResult(store.list({ kind: 'weights' })[0].result, 'weights');
  assert.equal(weights.map.length, 784);
  assert.equal(weights.diff.length, 784);
  const again = await runPlannedHere(runs, store, { artifacts: false });
  assert.deepEqual([again.ran, again.skipped], [0, EVERY_KIND_RUNS]);
  assert.equal(store.list().length, EVERY_KIND_RUNS);
  store.close();
});

test('sweep validation is up front: a bad pattern or n fails --dry-run with exit 2 and names the point', async () => {
  const dir = tmp();
  const file = (name: string, grids: object[]) => {
    const path = join(dir, name);
    writeFileSync(path, JSON.stringify({ name, grids }));
    return path;
  };
  const cases: [string, RegExp][] = [
    [file('pattern.json', [{ ...tiny, n: 0, pattern: 'bogus' }]), /pattern\.json: grid 1, point .*"pattern":"bogus".*bogus/],
    [
      file('n.json', [{ ...tiny, n: [3, 9000] }]),
      /n\.json: grid 1, point .*"n":9000.*n: got 9000, larger than class 0 of mnist \(5923 training images\)/,
    ],
    [
      file('kind.json', [{ ...tiny, n: 0, kind: 'bogus' }]),
      /kind\.json: grid 1: "kind": unknown kind "bogus"; expected one of train, forget, mia, sensitivity, weights, .*detect/,
    ],
    [file('key.json', [{ ...tiny, n: 0, kind: 'mia', trainSubset: 10 }]), /key\.json: grid 1: unknown key "trainSubset" for kind mia/],
    [file('forget0.json', [{ ...tiny, n: 0, kind: 'forget', method: 'retrain' }]), /forget needs a run with spurious examples: got n = 0/],
  ];
  for (const [path, re] of cases) {
    const r = await cli(['sweep', path, '--dry-run', '--store', join(dir, 'r.db')]);
    assert.equal(r.code, 2, path);
    assert.equal(r.err.length, 1);
    assert.match(r.err[0], re);
  }
});

test('a sweep file of 10^7 runs is refused at once, counted without expanding it', async () => {
  const range = (k: number) => Array.from({ length: k }, (_, i) => i);
  const spec = validateSweepSpec(
    { name: 'huge', grids: [{ ...tiny, n: range(10), target: range(10), seed: range(10_000), lr: range(10).map((i) => 0.001 * (i + 1)) }] },
    'huge.json',
  );
  assert.equal(countSweep(spec), 1e7);
  const t0 = performance.now();
  assert.throws(
    () => planSweep(spec),
    new RegExp(`huge: the grids expand to 10,000,000 runs, more than the ${MAX_SWEEP_RUNS.toLocaleString('en-US')} one sweep may have`),
  );
  assert.ok(performance.now() - t0 < 1000, 'refused without expanding');
  const dir = tmp();
  writeFileSync(join(dir, 'huge.json'), JSON.stringify(spec));
  const r = await cli(['sweep', join(dir, 'huge.json'), '--dry-run', '--store', join(dir, 'r.db')]);
  assert.equal(r.code, 2);
  assert.match(r.err[0], /10,000,000 runs/);
});

test("the per-class sizes sweeps check n against are MNIST's label counts", () => {
  const labels = loadDataset('mnist').train.labels;
  const counts = new Array<number>(10).fill(0);
  for (const l of labels) counts[l]++;
  const plan = (n: number, target: number) => planSweep(validateSweepSpec({ grids: [{ ...tiny, n, target }] }, 'x'));
  for (let c = 0; c < 10; c++) {
    assert.equal(plan(counts[c], c).length, 1);
    assert.throws(() => plan(counts[c] + 1, c), new RegExp(`larger than class ${c} of mnist \\(${counts[c]} training images\\)`));
  }
});

test('every kind with --workers 2: two processes share the store, dependencies are waited for, each run recorded once', async () => {
  const dir = tmp();
  const db = join(dir, 'r.db');
  const file = join(dir, 'every-kind.json');
  writeFileSync(file, JSON.stringify({ name: 'every-kind-workers', grids: EVERY_KIND }));
  const r = await cli(['sweep', file, '--workers', '2', '--store', db, '--no-artifacts', '--json']);
  assert.equal(r.code, 0, r.err.join('\n'));
  const report = JSON.parse(r.out[0]);
  assert.deepEqual([report.total, report.done, report.workerExitCodes], [EVERY_KIND_RUNS, EVERY_KIND_RUNS, [0, 0]]);
  const store = ResultsStore.open(db);
  const rows = store.list();
  assert.deepEqual(rows.map((x) => x.kind).sort(), [...EVERY_KIND_ORDER].sort());
  for (const x of rows) {
    assert.equal(x.attempts, 1, `${x.kind} recorded once`);
    findKind(x.kind).checkResult(x.result, x.key);
  }
  assert.equal(new Set(rows.map((x) => x.pid)).size, 2, 'both processes ran something');
  store.close();
});

test('a mia run keeps its target and shadow checkpoints in its artifact directory and continues from them', async () => {
  const kind = findKind('mia');
  const config = kind.configure({ dataset: 'mnist', n: 3, seed: 0, model: 'MLP', epochs: 2, batchSize: 50, trainLimit: 300, testLimit: 100 });
  const artifactDir = join(tmp(), 'mia');
  const epochs: string[] = [];
  const ctx = {
    artifactDir,
    events: { onEpoch: (phase: string, r: { epoch: number }) => epochs.push(`${phase} ${r.epoch}`) },
    trainedModel: () => Promise.reject(new Error('mia needs no trained model')),
  };
  const first = await kind.run(config, ctx);
  assert.deepEqual(epochs, ['target 1', 'target 2', 'shadow 1', 'shadow 2']);
  epochs.length = 0;
  // as after a kill once both models were trained: nothing is trained again, the result is the same
  const again = await kind.run(config, ctx);
  assert.deepEqual(epochs, []);
  assert.deepEqual(again.result.attackAcc, first.result.attackAcc);
  assert.deepEqual(again.result.auc, first.result.auc);
});
