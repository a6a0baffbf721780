// `spurlab results` never mixes settings: runs that differ in any config key but the
// seed are in different rows; an explicit --group-by that would mix them is refused;
// --kind shows the kind's own columns and refuses kinds that do not exist.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resultsCommand } from '../../src/cli/commands/results.ts';
import { kindKey, miaKind, trainKind } from '../../src/experiments/kinds/index.ts';
import { resultGroups } from '../../src/experiments/resultGroups.ts';
import { ResultsStore } from '../../src/store/results.ts';
import { runCommandDirect } from './runCommandDirect.ts';

const base = { dataset: 'mnist', pattern: 'S3', target: 0, model: 'MLP' };

function trainResult(score: number, testAcc: number) {
  return {
    score,
    scoreNonTarget: score,
    testAcc,
    patternedTestAcc: testAcc,
    targetRate: score,
    patternNorm: 5,
    trainAcc: testAcc,
    nTest: 4,
    epochs: 1,
    seconds: 1,
    spuriousIndices: [],
  };
}

/** Train runs that differ only in epochs (3 against 1) for n = 0 and 10, two seeds each. */
async function storeWithEpochs(): Promise<string> {
  const path = join(mkdtempSync(join(tmpdir(), 'spurlab-results-cli-')), 'results.db');
  const store = ResultsStore.open(path);
  for (const epochs of [1, 3]) {
    for (const n of [0, 10]) {
      for (const seed of [0, 1]) {
        const config = trainKind.configure({ ...base, n, seed, epochs });
        // the 3-epoch runs learn the pattern (0.07 at n = 0, 0.9 at n = 10); the 1-epoch ones barely
        const score = epochs === 3 ? (n === 0 ? 0.07 : 0.9) + 0.01 * seed : 0.5 + 0.01 * seed;
        const o = await store.runOnce({ key: kindKey(trainKind, config), config, kind: 'train' }, () => ({
          result: trainResult(score, 0.9),
          perImage: Uint8Array.from([score > 0.5 ? 1 : 0, 1, 0, 0]),
        }));
        assert.equal(o.status, 'ran');
      }
    }
  }
  for (const seed of [0, 1]) {
    const config = miaKind.configure({ dataset: 'mnist', n: 3, seed, model: 'MLP', epochs: 1 });
    const result = { n: 3, attackAcc: 0.5 + 0.1 * seed, attackAccSpurious: 0.8, auc: 0.6, tprAt1Fpr: 0.02, targetTestAcc: 0.9, details: {} };
    await store.runOnce({ key: kindKey(miaKind, config), config: miaKind.storeConfig(config), kind: 'mia' }, () => ({ result }));
  }
  store.close();
  return path;
}

test('runs that differ only in epochs are grouped apart, with their own baselines', async () => {
  const path = await storeWithEpochs();
  const r = await runCommandDirect(resultsCommand, ['--store', path, '--json']);
  assert.equal(r.code, 0, r.err.join('\n'));
  const rows = JSON.parse(r.out[0]) as { epochs: number; n: number; runs: number; meanScore: number; pValue: number | null }[];
  assert.deepEqual(
    rows.map((x) => [x.epochs, x.n, x.runs]),
    [
      [1, 0, 2],
      [1, 10, 2],
      [3, 0, 2],
      [3, 10, 2],
    ],
  );
  const e3 = rows.find((x) => x.epochs === 3 && x.n === 10)!;
  assert.ok(Math.abs(e3.meanScore - 0.905) < 1e-12, 'never averaged with the 1-epoch runs');
  const store = ResultsStore.open(path);
  const groups = resultGroups(store, 'train');
  assert.deepEqual(groups.differing, ['epochs', 'n']);
  assert.equal(groups.groups.length, 4);
  store.close();
  const table = await runCommandDirect(resultsCommand, ['--store', path]);
  assert.match(table.out[0], /^dataset\s+pattern\s+model\s+optimizer\s+target\s+epochs\s+n\s+runs\s+meanScore.*\s+meanTestAcc$/);
  // the score stays a 0-1 fraction, the accuracy is a percentage
  assert.match(table.out[1], /\s0\.5050\s+0\.0050\s.*\s90\.00%\s*$/);
});

test('an explicit --group-by that would mix settings is refused, naming the keys', async () => {
  const path = await storeWithEpochs();
  const r = await runCommandDirect(resultsCommand, ['--store', path, '--group-by', 'dataset,pattern,n']);
  assert.equal(r.code, 2);
  assert.match(r.err[0], /--group-by dataset,pattern,n: the train runs also differ in epochs; a group would mix them/);
  const ok = await runCommandDirect(resultsCommand, ['--store', path, '--group-by', 'epochs,n', '--json']);
  assert.equal(ok.code, 0, ok.err.join('\n'));
  assert.equal(JSON.parse(ok.out[0]).length, 4);
});

test('--kind mia shows the attack columns (mean and SEM over the runs); an unknown kind is refused', async () => {
  const path = await storeWithEpochs();
  const r = await runCommandDirect(resultsCommand, ['--store', path, '--kind', 'mia', '--json']);
  assert.equal(r.code, 0, r.err.join('\n'));
  const [row] = JSON.parse(r.out[0]);
  assert.equal(row.runs, 2);
  assert.ok(Math.abs(row.attackAcc - 0.55) < 1e-12 && Math.abs(row.attackAccSem - 0.05) < 1e-12);
  for (const c of ['attackAccSpurious', 'auc', 'tprAt1Fpr']) assert.equal(typeof row[c], 'number', c);
  const text = await runCommandDirect(resultsCommand, ['--store', path, '--kind', 'mia']);
  assert.match(text.out[0], /attackAcc\s+attackAccSpurious\s+auc\s+tprAt1Fpr/);
  // accuracies in % in the table (the JSON above keeps 0-1 fractions); AUC and TPR stay 0-1
  assert.match(text.out[1], /55\.00% ± 5\.00%\s+80\.00% ± 0\.00%\s+0\.6000 ± 0\.0000\s+0\.0200 ± 0\.0000\s+90\.00% ± 0\.00%$/);
  const bogus = await runCommandDirect(resultsCommand, ['--store', path, '--kind', 'bogus']);
  assert.equal(bogus.code, 2);
  assert.match(bogus.err[0], /--kind: unknown kind "bogus"; expected one of train, forget, mia, sensitivity, weights/);
  const none = await runCommandDirect(resultsCommand, ['--store', path, '--kind', 'forget']);
  assert.match(none.out[0], /no finished forget runs/);
});
