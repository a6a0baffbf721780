// runDetached (a queue worker's child, a Slurm task) without an artifacts directory: the
// dependency it trains goes to a scratch directory that is removed with the run, so a
// worker does not fill /tmp with checkpoints.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDetached } from '../../src/distributed/execute.ts';
import { planRun } from '../../src/experiments/kinds/index.ts';

test('a detached run without artifacts trains its dependency in scratch space and removes it', async () => {
  const own = mkdtempSync(join(tmpdir(), 'spurlab-execute-'));
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = own; // os.tmpdir() reads it on every call
  try {
    const run = planRun('sensitivity', {
      dataset: 'mnist',
      pattern: 'S3',
      n: 3,
      target: 0,
      seed: 0,
      model: 'MLP',
      epochs: 1,
      trainSubset: 200,
      testSubset: 50,
      images: 20,
      steps: 4,
    });
    const out = await runDetached({ kind: run.kind, config: run.config, key: run.key });
    assert.ok(Number.isFinite((out.result as { area: number }).area));
    assert.deepEqual(readdirSync(own), [], 'the scratch directory is gone');
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  }
});
