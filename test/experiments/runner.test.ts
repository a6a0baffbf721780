// runExperiment continues a run that a killed attempt left part-way in its artifact
// directory (a lost queue worker, a preempted Slurm task, a killed sweep), with the same
// result as an uninterrupted run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runExperiment } from '../../src/experiments/runner.ts';
import { makeTrainConfig } from '../../src/train/config.ts';
import { tempDir } from '../helpers.ts';

const tmp = () => tempDir('spurlab-runner-');
const cfg = makeTrainConfig({ data: 'mnistR3-3-0-0', model: 'CNN002', epochs: 3, trainSubset: 192, testSubset: 96, batchSize: 64 });

class Killed extends Error {}

test('a run killed after epoch 1 continues from its checkpoint to the same result as an unbroken run', async () => {
  const whole = await runExperiment(cfg, { artifactDir: tmp() });
  assert.equal(whole.resumedFromEpoch, 0);

  const dir = tmp();
  // CNN002 has dropout: its random state must come back from the checkpoint too
  await assert.rejects(
    runExperiment(cfg, {
      artifactDir: dir,
      events: {
        onEpoch: (r) => {
          if (r.epoch === 1) throw new Killed('killed');
        },
      },
    }),
    Killed,
  );
  const resumed = await runExperiment(cfg, { artifactDir: dir });
  assert.equal(resumed.resumedFromEpoch, 1);
  assert.deepEqual(resumed.perImage, whole.perImage);
  for (const k of ['score', 'scoreNonTarget', 'testAcc', 'trainAcc', 'targetRate'] as const) assert.equal(resumed.result[k], whole.result[k], k);
  const history = JSON.parse(readFileSync(join(dir, 'history.json'), 'utf8')) as { epoch: number }[];
  assert.deepEqual(
    history.map((h) => h.epoch),
    [1, 2, 3],
  );

  // a finished run's checkpoint is only measured again
  const again = await runExperiment(cfg, { artifactDir: dir });
  assert.equal(again.resumedFromEpoch, 3);
  assert.equal(again.result.score, whole.result.score);
});

test('a checkpoint that cannot be read, or is of another config, is trained over from the start', async () => {
  const dir = tmp();
  writeFileSync(join(dir, 'model.safetensors'), 'not a checkpoint');
  const fresh = await runExperiment({ ...cfg, epochs: 1 }, { artifactDir: dir });
  assert.equal(fresh.resumedFromEpoch, 0);
  const other = await runExperiment({ ...cfg, epochs: 1, lr: 0.001 }, { artifactDir: dir });
  assert.equal(other.resumedFromEpoch, 0);
});
