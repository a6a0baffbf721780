import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deletionItem, EXPERIMENT_PRESETS, miaItem, runExperimentSweep } from '../../src/experiments/experimentSweeps.ts';
import { makeTrainConfig } from '../../src/train/config.ts';
import { ResultsStore } from '../../src/store/results.ts';

test('the deletion and membership-inference presets expand to the paper grids', () => {
  const deletion = EXPERIMENT_PRESETS.find((p) => p.name === 'paper-deletion')!;
  // MNIST and Fashion-MNIST x n = 3, 10, 100 x 5 seeds x 3 methods
  assert.equal(deletion.items({}).length, 2 * 3 * 5 * 3);
  const mia = EXPERIMENT_PRESETS.find((p) => p.name === 'paper-mia')!;
  // 2 data sets x 2 targets x 2 optimizers x 7 values of n x 10 seeds
  assert.equal(mia.items({}).length, 2 * 2 * 2 * 7 * 10);
});

test('experiment sweeps record deletion and membership runs once; a rerun reads them back', async () => {
  const store = ResultsStore.open(join(mkdtempSync(join(tmpdir(), 'spurlab-xsweep-')), 'r.db'));
  const cfg = makeTrainConfig({ data: 'mnistv20-3-0-0', model: 'MLP', epochs: 1, trainSubset: 200, testSubset: 100, batchSize: 50 });
  const preset = {
    name: 'tiny', description: 'tiny', kind: 'forget' as const,
    items: () => [
      deletionItem(cfg, 'incremental', {}),
      miaItem({ dataset: 'mnist', n: 3, seed: 0, model: 'MLP', epochs: 1, trainLimit: 300, testLimit: 100 }),
    ],
  };
  const outcomes: string[] = [];
  const first = await runExperimentSweep(preset, store, { onItem: (_i, _t, _l, o) => outcomes.push(o) });
  assert.deepEqual([first.total, first.done, first.failed.length], [2, 2, 0], JSON.stringify(first.failed));
  assert.match(outcomes[0], /^done: score/);
  const again = await runExperimentSweep(preset, store, { onItem: (_i, _t, _l, o) => outcomes.push(o) });
  assert.equal(again.done, 2);
  assert.match(outcomes[2], /^already done/);
  assert.match(outcomes[3], /^already done/);
  assert.equal(store.list({ kind: 'forget' }).length, 1);
  assert.equal(store.list({ kind: 'mia' }).length, 1);
  store.close();
});

test('spurlab sweep runs the experiment presets in-process and refuses queue mode for them', async () => {
  const { main } = await import('../../src/cli/main.ts');
  const out: string[] = [];
  const err: string[] = [];
  const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l), isTTY: false };
  assert.equal(await main(['sweep', 'paper-deletion', '--dry-run', '--json'], io), 0);
  assert.deepEqual(JSON.parse(out[0]), { runs: 90, kind: 'forget' });
  assert.equal(await main(['sweep', 'paper-mia', '--emit', 'slurm', '--out', '/tmp/x'], io), 2);
  assert.match(err[0], /--emit: paper-mia runs membership-inference experiments/);
});
