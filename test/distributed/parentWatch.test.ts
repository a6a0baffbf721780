import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ResultsStore } from '../../src/store/results.ts';
import { isProcessAlive } from '../../src/util/processes.ts';
import { readSafetensors } from '../../src/store/safetensors.ts';
import { kindKey, trainKind } from '../../src/experiments/kinds/index.ts';
import { tempDir } from '../helpers.ts';

const BIN = new URL('../../bin/spurlab.mjs', import.meta.url).pathname;
const RUN_SLOTS = new URL('../../src/distributed/runSlots.ts', import.meta.url).href;

async function waitFor<T>(what: string, seconds: number, probe: () => T | undefined): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${seconds} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// Long runs (many short epochs), so that without the watch the children would train on for minutes.
const longRun = { dataset: 'mnist', pattern: 'R3', target: 0, seed: 0, model: 'MLP', epochs: 200, trainSubset: 300, testSubset: 100, batchSize: 50 };

test('kill -9 of `sweep --workers 2` stops its children; their claims are free to take over and the store is intact', async () => {
  const dir = tempDir('spurlab-parent-');
  const db = join(dir, 'results.db');
  const file = join(dir, 'sweep.json');
  writeFileSync(file, JSON.stringify({ name: 'parent-kill', grids: [{ ...longRun, n: [0, 1, 3, 10] }] }));
  const parent = spawn(process.execPath, [BIN, 'sweep', file, '--workers', '2', '--store', db], { stdio: 'ignore' });
  const probe = ResultsStore.open(db);
  try {
    // both children have claimed a run and trained at least one epoch (heartbeat moved)
    const claims = await waitFor('two children training', 120, () => {
      const rows = probe.list({ status: 'running' }).filter((r) => r.heartbeatAt !== r.startedAt);
      return rows.length === 2 ? rows : undefined;
    });
    const children = claims.map((r) => r.pid!);
    assert.equal(new Set(children).size, 2);
    assert.ok(children.every(isProcessAlive));
    parent.kill('SIGKILL');
    const t0 = Date.now();
    await waitFor('the children to stop', 15, () => (children.some(isProcessAlive) ? undefined : true));
    const seconds = (Date.now() - t0) / 1000;
    assert.ok(seconds < 15, `children stopped ${seconds} s after their parent died`);
    // consistent: quick_check passes on open, nothing is recorded twice, nothing is done
    // that was not finished, and the dead children's runs can be claimed again at once
    const after = ResultsStore.open(db);
    const rows = after.list({ kind: 'train' });
    assert.equal(new Set(rows.map((r) => r.key)).size, rows.length);
    assert.equal(rows.filter((r) => r.status === 'done').length, 0);
    for (const r of rows.filter((x) => x.status === 'running'))
      assert.equal(after.claim(r.key, r.config, 'train'), true, `run ${r.key} of dead pid ${r.pid}`);
    after.close();
  } finally {
    probe.close();
    parent.kill('SIGKILL');
  }
});

test('kill -9 of a worker process stops its run-slot child in the middle of an epoch', async () => {
  // Epochs of a few seconds: without the watch the child would notice only when it
  // reports the next epoch (its IPC send fails), after writing that epoch's checkpoint.
  const artifactDir = tempDir('spurlab-parent-slot-');
  const config = trainKind.configure({ ...longRun, model: 'LargeMLP', n: 3, epochs: 5, trainSubset: 60000 });
  const key = kindKey(trainKind, config);
  const script = `
    import { RunSlots } from ${JSON.stringify(RUN_SLOTS)};
    const slots = new RunSlots(1);
    slots.run({ kind: 'train', config: ${JSON.stringify(config)}, key: ${JSON.stringify(key)}, artifactsDir: ${JSON.stringify(artifactDir)},
      onEpoch: (e) => { if (e === 1) process.stdout.write('epoch 1\\n'); } });`;
  const worker = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await new Promise<void>((resolve, reject) => {
      worker.stdout.once('data', () => resolve());
      worker.once('exit', (code) => reject(new Error(`worker exited early with ${code}`)));
    });
    const children = readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .map(Number)
      .filter((pid) => {
        try {
          const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
          return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === worker.pid;
        } catch {
          return false;
        }
      });
    assert.equal(children.length, 1, `children of the worker: ${children.join(', ')}`);
    worker.kill('SIGKILL');
    await waitFor('the run-slot child to stop', 30, () => (isProcessAlive(children[0]) ? undefined : true));
    const ckpt = readSafetensors(join(artifactDir, key, 'model.safetensors'));
    assert.equal(ckpt.metadata.epoch, '1', 'the child trained on through epoch 2 after its worker died');
  } finally {
    worker.kill('SIGKILL');
  }
});
