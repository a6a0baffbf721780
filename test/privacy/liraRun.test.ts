import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RandomState } from '../../src/data/numpyRandom.ts';
import type { Dataset } from '../../src/data/dataset.ts';
import type { SpuriousDataset } from '../../src/data/spurious.ts';
import { analyzeLira, planLira, runLira, type LiraOptions } from '../../src/privacy/liraRun.ts';
import { trainShadowModel, type ShadowOutput, type ShadowTrainer } from '../../src/privacy/liraShadows.ts';

// A tiny two-class task of 4x4 images: class 0 bright on the left half, class 1 on the
// right, plus noise. Example 0 is the planted outlier: a class-0 image labelled 1, which
// a model only gets right by memorizing it. It stands in for "the spurious example".
function syntheticData(poolSize: number): SpuriousDataset {
  const rs = new RandomState(5);
  const make = (n: number, split: 'train' | 'test', outlier: boolean): Dataset => {
    const images = new Float32Array(n * 16);
    const labels = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const y = i % 2;
      labels[i] = y;
      for (let p = 0; p < 16; p++) {
        const left = p % 4 < 2;
        images[i * 16 + p] = Math.min(1, Math.max(0, (left === (y === 0) ? 0.8 : 0.2) + 0.15 * rs.standardNormal()));
      }
    }
    if (outlier) labels[0] = 1; // image 0 was drawn as class 0
    return { name: `synthetic-${split}`, split, images, labels, n, height: 4, width: 4, channels: 1, numClasses: 2 };
  };
  const train = make(poolSize, 'train', true);
  return {
    spec: { dataset: 'mnist', pattern: 'S3', n: 1, target: 1, targetB: null, seed: 0 },
    name: 'synthetic',
    train,
    test: make(60, 'test', false),
    spuriousIndices: [0],
    pattern: { kind: 'none' } as unknown as SpuriousDataset['pattern'],
    noise: null,
  };
}

const OPTIONS: LiraOptions = {
  dataset: 'mnist',
  pattern: 'S3',
  n: 1,
  target: 1,
  seed: 0,
  model: 'MLP',
  epochs: 60,
  batchSize: 16,
  lr: 0.01,
  shadows: 8,
  matched: 20,
};

test('LiRA on shadow models trained by spurlab flags a planted outlier, and memorization ranks it first', async () => {
  const data = syntheticData(80);
  const done: number[] = [];
  const { result, examples } = await runLira({ ...OPTIONS, data, events: { onShadow: (k) => done.push(k) } });
  assert.deepEqual(done, [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.equal(result.shadows, 8);
  assert.equal(result.details.poolSize, 80);
  assert.ok(
    result.details.modelTrainSizes.every((s) => s > 20 && s < 60),
    `${result.details.modelTrainSizes}`,
  );
  assert.ok(result.details.models.testAcc.mean > 0.9, `clean task learnt: ${result.details.models.testAcc.mean}`);
  // The outlier: each model that trained on it is more confident than each that did not.
  assert.equal(result.spurious.members, 4);
  assert.equal(result.spurious.nonMembers, 4);
  assert.equal(result.spurious.auc, 1);
  assert.equal(result.spurious.tprAt1FprPopulation, 1, 'above the 1%-FPR threshold of all examples');
  assert.ok(result.spurious.auc > result.all.auc, `outlier ${result.spurious.auc} vs all ${result.all.auc}`);
  assert.ok(result.details.variants.offline.spurious.auc === 1, 'the offline attack flags it too');
  // Memorization: in-models right, out-models wrong.
  assert.equal(result.memorization.spuriousRanks[0], 1);
  assert.ok(result.memorization.spuriousMean >= 0.75, `${result.memorization.spuriousMean}`);
  assert.ok(result.memorization.populationMean < 0.2, `${result.memorization.populationMean}`);
  assert.equal(result.memorization.spurious[0].index, 0);
  assert.equal(result.details.matchedIndices.length, 20);
  assert.ok(result.details.matchedIndices.every((i) => data.train.labels[i] === 1 && i !== 0));
  assert.equal(examples.group[0], 'spurious');
  assert.equal(examples.scores.length, 8 * 80);
  // The ROC summary runs from FPR 1e-5 to 1 and ends at TPR 1.
  assert.equal(result.details.roc.all.length, 51);
  assert.equal(result.details.roc.all[50].tpr, 1);
});

test('runLira trains through a given callback: one call per shadow model with its half of the pool', async () => {
  const data = syntheticData(40);
  const seen: { index: number; size: number; seed: number }[] = [];
  // A fake "model" that is confident exactly on what it trained on.
  const trainer: ShadowTrainer = async (run) => {
    seen.push({ index: run.index, size: run.trainIndices.length, seed: run.config.modelSeed });
    const mine = new Set(run.trainIndices);
    const stats = Float64Array.from(run.poolIndices, (i) => (mine.has(i) ? 3 : 0) + ((i * 7919 + run.index * 31) % 13) / 13);
    const correct = Uint8Array.from(run.poolIndices, (i) => (mine.has(i) ? 1 : 0));
    return { stats, correct, testAcc: 0.5, trainAcc: 1, seconds: 0 };
  };
  const { result } = await runLira({ ...OPTIONS, shadows: 6, data, trainShadow: trainer, modelSeed: 10 });
  assert.deepEqual(
    seen.map((s) => s.seed),
    [10, 11, 12, 13, 14, 15],
  );
  assert.equal(
    seen.reduce((a, s) => a + s.size, 0),
    40 * 3,
    'every example in exactly half of the 6 models',
  );
  // Per-example variances from 2 values per side are rough; the global one is not.
  assert.ok(result.all.auc > 0.99, `${result.all.auc}`);
  assert.equal(result.details.variants['online-global'].all.auc, 1);
  assert.equal(result.memorization.populationMean, 1);
  const broken: ShadowTrainer = async (run) => ({
    stats: new Float64Array(3),
    correct: new Uint8Array(run.poolIndices.length),
    testAcc: 0,
    trainAcc: 0,
    seconds: 0,
  });
  await assert.rejects(runLira({ ...OPTIONS, shadows: 6, data, trainShadow: broken }), /shadow model 0 reported 3 stats, expected 40/);
});

test('bad LiRA options are user errors naming the value', async () => {
  const data = syntheticData(40);
  await assert.rejects(runLira({ ...OPTIONS, shadows: 7, data }), /shadows: got 7, expected an even number/);
  await assert.rejects(runLira({ ...OPTIONS, data, center: 'mode' as 'mean' }), /center: got "mode"/);
  await assert.rejects(runLira({ ...OPTIONS, data, trainLimit: -1 }), /trainLimit: got -1/);
});

test('plan, train the runs elsewhere, analyze: the same result as runLira, reproducible from the seed', async () => {
  const data = syntheticData(40);
  const opts: LiraOptions = { ...OPTIONS, shadows: 6, epochs: 5, data };
  const { plan, attack } = planLira(opts);
  assert.equal(plan.runs.length, 6);
  // Trained in reverse order, as a queue might finish them.
  const outputs = new Array<ShadowOutput>(6);
  for (const run of [...plan.runs].reverse()) outputs[run.index] = await trainShadowModel(run, data);
  const split = analyzeLira(plan, outputs, data, attack);
  const whole = await runLira(opts);
  assert.deepEqual([...split.examples.scores], [...whole.examples.scores]);
  assert.deepEqual([...split.examples.memorization.memorization], [...whole.examples.memorization.memorization]);
  assert.equal(split.result.all.auc, whole.result.all.auc);
  assert.ok(new Set(split.examples.scores).size > 200, 'real, varied scores');
});
