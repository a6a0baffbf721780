// LiRA as run kinds: a tiny sweep (K = 6 shadow models of the MLP, one epoch, a pool of
// 300 MNIST images) through the results store, the attack equal to the in-memory one,
// `results --kind lira`, the paper-lira preset, and bad configurations refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadSweepSpec, planSweep, validateSweepSpec } from '../../src/experiments/grids/spec.ts';
import { findKind, kindKey, liraKind, liraShadowKind } from '../../src/experiments/kinds/index.ts';
import { shadowConfigOf } from '../../src/experiments/kinds/lira.ts';
import { runPlannedHere } from '../../src/experiments/sweep.ts';
import { runLira } from '../../src/privacy/liraRun.ts';
import { ResultsStore } from '../../src/store/results.ts';
import { resultsCommand } from '../../src/cli/commands/results.ts';
import { runCommandDirect } from '../cli/runCommandDirect.ts';
import { tempDir } from '../helpers.ts';

const TINY = { dataset: 'mnist', pattern: 'S3', n: 3, seed: 0, model: 'MLP', epochs: 1, batchSize: 50, trainLimit: 300, testLimit: 100, shadows: 6 };

test('a tiny lira sweep: 6 shadow runs then the attack, each recorded once with a typed result; the attack equals the in-memory one; a rerun runs nothing', async (t) => {
  const dir = tempDir('spurlab-lira-kind-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const runs = planSweep(validateSweepSpec({ name: 'lira-tiny', grids: [{ kind: 'lira', ...TINY }] }, 'inline'));
  assert.deepEqual(
    runs.map((r) => `${r.kind}:${r.stage}`),
    [...Array(6).fill('lira-shadow:0'), 'lira:1'],
  );
  const store = ResultsStore.open(join(dir, 'r.db'));
  t.after(() => store.close());
  const first = await runPlannedHere(runs, store, { artifacts: false });
  assert.deepEqual([first.ran, first.skipped, first.failed.map((f) => f.error)], [7, 0, []]);

  const shadows = store.list({ kind: 'lira-shadow' });
  assert.equal(shadows.length, 6);
  const indices = shadows.map((r) => {
    assert.equal(r.attempts, 1);
    const s = liraShadowKind.checkResult(r.result, r.key);
    assert.equal(s.poolSize, 300);
    assert.equal(Buffer.from(s.stats, 'base64').length, 300 * 8, 'one float64 per pool example');
    assert.equal(r.config.shadow, s.shadow);
    return s.shadow;
  });
  assert.deepEqual(indices.sort(), [0, 1, 2, 3, 4, 5]);
  const [row] = store.list({ kind: 'lira' });
  assert.equal(row.attempts, 1);
  assert.equal(row.key, kindKey(liraKind, liraKind.configure({ ...TINY })));
  const r = liraKind.checkResult(row.result, row.key);
  assert.equal(r.shadows, 6);
  assert.equal(r.spurious.examples, 3);
  assert.equal(r.all.examples, 300);
  assert.equal(r.memorization.spuriousRanks.length, 3);
  assert.ok(r.details.roc.all.length > 2);

  // the same setting attacked in memory (liraRun's own loop, no store): the same numbers
  const direct = (await runLira({ ...TINY })).result;
  for (const g of ['all', 'spurious', 'matchedClean'] as const) {
    for (const k of ['auc', 'tprAt01Fpr', 'tprAt1Fpr'] as const) assert.equal(r[g][k], direct[g][k], `${g}.${k}`);
  }
  assert.equal(r.memorization.spuriousMean, direct.memorization.spuriousMean);
  assert.deepEqual(r.memorization.spuriousRanks, direct.memorization.spuriousRanks);

  const again = await runPlannedHere(runs, store, { artifacts: false });
  assert.deepEqual([again.ran, again.skipped], [0, 7]);
  // another attack variant on the same models: one new lira run, the shadow runs reused
  const offline = planSweep(validateSweepSpec({ name: 'lira-offline', grids: [{ kind: 'lira', ...TINY, variant: 'offline' }] }, 'inline'));
  const third = await runPlannedHere(offline, store, { artifacts: false });
  assert.deepEqual([third.ran, third.skipped], [1, 6]);
  assert.equal(store.list({ kind: 'lira-shadow' }).length, 6);
  const off = liraKind.checkResult(store.list({ kind: 'lira' }).find((x) => x.config.variant === 'offline')!.result, 'offline');
  assert.equal(off.all.auc, r.details.variants.offline.all.auc);

  // results --kind lira: the attack's columns, one row per variant (the setting differs)
  const res = await runCommandDirect(resultsCommand, ['--store', join(dir, 'r.db'), '--kind', 'lira', '--json']);
  assert.equal(res.code, 0, res.err.join('\n'));
  const rows = JSON.parse(res.out[0]) as Record<string, unknown>[];
  assert.equal(rows.length, 2);
  const online = rows.find((x) => x.variant === 'online')!;
  assert.deepEqual([online.dataset, online.pattern, online.n, online.shadows, online.runs], ['mnist', 'S3', 3, 6, 1]);
  assert.equal(online.aucSpurious, r.spurious.auc);
  assert.equal(online.tpr01All, r.all.tprAt01Fpr);
  assert.equal(online.memSpurious, r.memorization.spuriousMean);
  for (const c of ['aucAll', 'aucMatchedClean', 'tpr01Spurious', 'tpr01MatchedClean', 'tpr1Spurious', 'tpr1MatchedClean', 'memPopulation'])
    assert.equal(typeof online[c], 'number', c);
  const text = await runCommandDirect(resultsCommand, ['--store', join(dir, 'r.db'), '--kind', 'lira']);
  assert.match(text.out[0], /aucSpurious.*tpr01Spurious.*memSpurious/);
});

test('paper-lira: MNIST LargeMLP, R3 and S3, n = 1, 3, 10, 100, seeds 0-2, K = 16 shadow runs of 20 epochs each before each attack', () => {
  const runs = planSweep(loadSweepSpec('paper-lira'));
  const attacks = runs.filter((r) => r.kind === 'lira');
  const shadows = runs.filter((r) => r.kind === 'lira-shadow');
  assert.equal(attacks.length, 2 * 4 * 3);
  assert.equal(shadows.length, 2 * 4 * 3 * 16);
  assert.ok(shadows.every((r) => r.stage === 0) && attacks.every((r) => r.stage === 1));
  assert.deepEqual(
    runs.slice(0, shadows.length).map((r) => r.kind),
    shadows.map(() => 'lira-shadow'),
  );
  const configs = attacks.map((r) => r.config as Record<string, unknown>);
  assert.deepEqual([...new Set(configs.map((c) => `${c.pattern}`))].sort(), ['R3', 'S3']);
  assert.deepEqual(
    [...new Set(configs.map((c) => c.n))].sort((a, b) => Number(a) - Number(b)),
    [1, 3, 10, 100],
  );
  for (const c of configs)
    assert.deepEqual([c.dataset, c.model, c.shadows, c.epochs, c.optimizer, c.lr], ['mnist', 'LargeMLP', 16, 20, 'adam', 0.01]);
  // each setting's K shadow runs are models 0..15 (model k trains with modelSeed + k)
  const mine = shadows.filter(
    (r) =>
      JSON.stringify({ ...shadowConfigOf(attacks[0].config as never, 0), shadow: undefined }) ===
      JSON.stringify({ ...(r.config as object), shadow: undefined }),
  );
  assert.deepEqual(
    mine.map((r) => (r.config as { shadow: number }).shadow).sort((a, b) => a - b),
    [...Array(16).keys()],
  );
});

test('lira configurations: the shadow key ignores the attack options; bad keys and indices are refused', () => {
  const a = liraKind.configure({ ...TINY });
  const b = liraKind.configure({ ...TINY, variant: 'offline', globalVariance: true, matched: 20 });
  assert.notEqual(kindKey(liraKind, a), kindKey(liraKind, b));
  assert.equal(kindKey(liraShadowKind, shadowConfigOf(a, 2)), kindKey(liraShadowKind, shadowConfigOf(b, 2)));
  assert.notEqual(kindKey(liraShadowKind, shadowConfigOf(a, 2)), kindKey(liraShadowKind, shadowConfigOf(a, 3)));
  assert.deepEqual(liraKind.configure({ ...a }), a, 'configure is idempotent');
  assert.deepEqual(liraShadowKind.configure({ ...shadowConfigOf(a, 1) }), shadowConfigOf(a, 1));
  assert.throws(() => liraShadowKind.configure({ ...TINY, shadow: 6 }), /shadow: got 6, expected a model number from 0 to 5 \(shadows = 6\)/);
  assert.throws(() => liraKind.configure({ ...TINY, shadows: 5 }), /shadows: got 5, expected an even number/);
  assert.throws(() => liraKind.configure({ ...TINY, trainSubset: 10 }), /unknown key "trainSubset" for kind lira/);
  assert.throws(() => liraKind.configure({ ...TINY, variant: 'both' }), /variant: got "both", expected online or offline/);
  assert.throws(() => liraShadowKind.configure({ ...TINY, shadow: 0, matched: 5 }), /unknown key "matched" for kind lira-shadow/);
  assert.throws(() => findKind('lira').checkResult({ shadows: 6, seconds: 1 }, 'row x'), /row x: all: expected a JSON object/);
  const s = {
    shadow: 0,
    shadows: 6,
    poolSize: 4,
    queries: 'none',
    stats: Buffer.alloc(24).toString('base64'),
    correct: Buffer.alloc(4).toString('base64'),
    testAcc: 1,
    trainAcc: 1,
    seconds: 1,
  };
  assert.throws(() => liraShadowKind.checkResult(s, 'row y'), /row y: shadow model 0 holds 3 statistics and 4 correctness flags; expected 4 and 4/);
});
