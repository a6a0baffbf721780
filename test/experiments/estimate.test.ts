// estimateSweep: the remaining runs of a kind, model, data and schedule like done ones
// are estimated from those runs' measured times (their median, one run per core at a
// time); the others from training throughput.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { planSweep, validateSweepSpec } from '../../src/experiments/grids/spec.ts';
import { findKind } from '../../src/experiments/kinds/index.ts';
import { estimateSweep } from '../../src/experiments/sweep.ts';
import { ResultsStore } from '../../src/store/results.ts';
import { tempDir } from '../helpers.ts';

const grid = { dataset: 'mnist', pattern: 'S3', n: [0, 3], target: 0, seed: [0, 1, 2], model: 'MLP', epochs: 1, trainSubset: 300, testSubset: 100 };

test('remaining runs like done ones take the median of their measured times', () => {
  const runs = planSweep(validateSweepSpec({ name: 'estimate', grids: [grid] }, 'estimate.json'));
  assert.equal(runs.length, 6);
  const store = ResultsStore.open(join(tempDir('spurlab-estimate-'), 'results.db'));
  const done = (i: number, seconds: number) => ({
    key: runs[i].key,
    kind: 'train',
    config: findKind('train').storeConfig(runs[i].config as never) as Record<string, unknown>,
    result: { score: 0 },
    codeVersion: null,
    host: null,
    startedAt: '2026-12-01T10:00:00.000Z',
    finishedAt: '2026-12-01T10:01:00.000Z',
    seconds,
  });
  const before = estimateSweep(runs, store);
  assert.equal(before.fromMeasured, 0);
  assert.ok(before.seconds > 0 && before.seconds < 60, 'throughput: a tiny run takes seconds');
  store.importRuns([done(0, 30), done(1, 50), done(2, 400)]);
  const after = estimateSweep(runs, store);
  assert.deepEqual([after.done, after.remaining, after.fromMeasured], [3, 3, 3]);
  assert.ok(Math.abs(after.seconds - (3 * 50) / availableParallelism()) < 1e-9, `median 50 s a run, one per core: ${after.seconds}`);
  // another schedule is not "like" them: back to the throughput estimate
  const longer = planSweep(validateSweepSpec({ name: 'estimate', grids: [{ ...grid, epochs: 2 }] }, 'estimate.json'));
  assert.equal(estimateSweep(longer, store).fromMeasured, 0);
  store.close();
});
