// Training equivalence with PyTorch 1.13 (goldens from test/golden/make_torch_training.py):
// optimizer steps of Adam and SGD (weight decay, clipping by value) on a 20-16-16-3 MLP,
// the MultiStepLR schedule with the reference's milestone table, and a whole 20-epoch run
// of spurlab's trainer against the reference's fit loop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withBackend } from '../../src/backend/registry.ts';
import type { Dataset } from '../../src/data/dataset.ts';
import { RandomState } from '../../src/data/numpyRandom.ts';
import type { SpuriousDataset } from '../../src/data/spurious.ts';
import { MLP } from '../../src/nn/models/mlp.ts';
import type { Module } from '../../src/nn/module.ts';
import { Adam, SGD, type Optimizer } from '../../src/nn/optim/optimizer.ts';
import { milestonesFor, multiStepLr } from '../../src/nn/optim/scheduler.ts';
import * as ops from '../../src/ops/index.ts';
import { loadCheckpoint, loadModelState, saveCheckpoint, type Checkpoint } from '../../src/store/checkpoint.ts';
import { makeTrainConfig } from '../../src/train/config.ts';
import { train } from '../../src/train/trainer.ts';
import { SimpleRandom } from '../../src/util/random.ts';
import { backendNames, tempDir } from '../helpers.ts';

const GOLDEN = fileURLToPath(new URL('../golden/', import.meta.url));
const TOL = 1e-5; // max absolute error over every weight (weights are O(0.1..1))
// 60 Adam steps amplify float32 rounding (m / sqrt(v) of near-zero gradients): torch's own
// float32 run ends 9.3e-6 from its float64 run, so the whole-run check allows 1e-4.
const RUN_TOL = 1e-4;

interface CaseGolden {
  settings: { optimizer: 'adam' | 'sgd'; lr: number; momentum?: number; weightDecay: number; clip: number };
  losses: number[];
  clippedPerStep: number[];
  float32VsFloat64MaxAbs: number;
}

interface TrainerGolden {
  model: string;
  height: number;
  width: number;
  channels: number;
  classes: number;
  trainN: number;
  testN: number;
  optimizer: 'adam';
  lr: number;
  weightDecay: number;
  gradClip: number;
  batchSize: number;
  epochs: number;
  modelSeed: number;
  labels: number[];
  testLabels: number[];
  orders: number[][];
  history: { epoch: number; lr: number; loss: number }[];
  float32VsFloat64MaxAbs: number;
}

interface Golden {
  magic: string;
  version: number;
  generator: string;
  training: {
    shape: { features: number; widths: number[]; classes: number };
    steps: number;
    labels: number[][];
    gradientCount: number;
    cases: Record<string, CaseGolden>;
    trainer: TrainerGolden;
  };
  schedule: { epochs: number; lr0: number; milestones: number[]; lrs: number[] }[];
}

const golden = JSON.parse(readFileSync(`${GOLDEN}torch_train.json`, 'utf8')) as Golden;
const file = loadCheckpoint(`${GOLDEN}torch_train_mlp.safetensors`);

/** The tensors of `ckpt` whose names start with prefix, with the prefix removed. */
function section(ckpt: Checkpoint, prefix: string): Checkpoint {
  const tensors = new Map([...ckpt.tensors].filter(([k]) => k.startsWith(prefix)).map(([k, t]) => [k.slice(prefix.length), t]));
  return { path: `${ckpt.path} [${prefix}*]`, tensors, metadata: ckpt.metadata };
}

/** max |a - b| over every tensor of the model's state and the expected section. */
function maxAbsDiff(model: Module, expected: Checkpoint): number {
  let worst = 0;
  for (const [name, t] of model.stateDict()) {
    const e = expected.tensors.get(name);
    assert.ok(e, `${expected.path} has no "${name}"`);
    const a = t.values();
    const b = e.values();
    assert.equal(a.length, b.length, name);
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  }
  return worst;
}

function makeOptimizer(model: Module, s: CaseGolden['settings']): Optimizer {
  if (s.optimizer === 'adam') return new Adam(model.parameters(), { lr: s.lr, weightDecay: s.weightDecay, clip: s.clip });
  return new SGD(model.parameters(), { lr: s.lr, momentum: s.momentum, weightDecay: s.weightDecay, clip: s.clip });
}

/** k steps as the reference takes them: zero grads, mean cross-entropy, backward, (clip +) step. */
function runCase(name: string): { model: Module; losses: number[] } {
  const { shape, steps, labels } = golden.training;
  const model = new MLP(shape.features, shape.widths, shape.classes, new SimpleRandom(1));
  loadModelState(model, section(file, 'init.'));
  const optimizer = makeOptimizer(model, golden.training.cases[name].settings);
  const losses: number[] = [];
  for (let k = 0; k < steps; k++) {
    const x = file.tensors.get(`batch.${k}.x`)!;
    model.zeroGrad();
    const loss = ops.crossEntropy(model.forward(x), Int32Array.from(labels[k]));
    losses.push(loss.item());
    loss.backward();
    optimizer.step();
  }
  return { model, losses };
}

test('golden file carries its magic, version and generator', () => {
  assert.equal(golden.magic, 'spurlab-golden-torch-training');
  assert.equal(golden.version, 1);
  assert.equal(golden.generator, 'test/golden/make_torch_training.py');
  assert.equal(file.metadata.magic, golden.magic);
});

test('the golden cases discriminate: clipping is active and each setting moves the weights by >> tolerance', () => {
  const cases = golden.training.cases;
  for (const [name, c] of Object.entries(cases)) {
    if (c.settings.clip > 0)
      assert.ok(
        c.clippedPerStep.every((n) => n > 0.05 * golden.training.gradientCount),
        `${name}: too few clipped gradients ${c.clippedPerStep}`,
      );
  }
  const apart = (a: string, b: string) => {
    const x = section(file, `${a}.`);
    let worst = 0;
    for (const [k, t] of section(file, `${b}.`).tensors) {
      const u = t.values();
      const v = x.tensors.get(k)!.values();
      for (let i = 0; i < u.length; i++) worst = Math.max(worst, Math.abs(u[i] - v[i]));
    }
    return worst;
  };
  for (const opt of ['adam', 'sgd']) {
    assert.ok(apart(`${opt}_wd_clip`, `${opt}_clip`) > 10 * TOL, `${opt}: weight decay changes too little`);
    assert.ok(apart(`${opt}_wd_clip`, `${opt}_wd`) > 10 * TOL, `${opt}: clipping changes too little`);
    assert.ok(apart(`${opt}_plain`, `${opt}_wd`) > 10 * TOL, `${opt}: weight decay without clipping changes too little`);
  }
  assert.ok(apart('adam_plain', 'init') > 100 * TOL);
});

for (const backend of backendNames()) {
  for (const name of Object.keys(golden.training.cases)) {
    test(`${golden.training.steps} steps of ${name} match torch.optim to ${TOL} (${backend} backend, float32)`, (t) => {
      const c = golden.training.cases[name];
      const { model, losses } = withBackend(backend, () => runCase(name));
      losses.forEach((l, k) => assert.ok(Math.abs(l - c.losses[k]) <= TOL, `${name} step ${k}: loss ${l} vs torch ${c.losses[k]}`));
      const err = maxAbsDiff(model, section(file, `${name}.`));
      t.diagnostic(
        `${name} [${backend}]: max |w - w_torch| = ${err.toExponential(2)} (torch float32 vs float64: ${c.float32VsFloat64MaxAbs.toExponential(2)})`,
      );
      assert.ok(err <= TOL, `${name}: max abs weight error ${err} > ${TOL}`);
    });
  }
}

test('MultiStepLR: milestones and per-epoch learning rates equal torch (bit for bit) for 20, 30, 70, 100, 300 epochs', () => {
  for (const s of golden.schedule) {
    assert.deepEqual(milestonesFor(s.epochs), s.milestones, `milestones for ${s.epochs} epochs`);
    assert.equal(s.lrs.length, s.epochs);
    // epoch i + 1 trains with the rate after i scheduler steps
    s.lrs.forEach((expected, i) =>
      assert.equal(multiStepLr(s.lr0, i, milestonesFor(s.epochs)), expected, `${s.epochs} epochs, lr0 ${s.lr0}, epoch ${i + 1}`),
    );
    assert.ok(s.lrs[s.lrs.length - 1] < s.lr0, `${s.epochs} epochs: the tested schedule never decays`);
  }
});

function fakeSplit(g: TrainerGolden, split: 'train' | 'test'): Dataset {
  const images = file.tensors.get(`trainer.${split}_images`)!.values() as Float32Array;
  const labels = Int32Array.from(split === 'train' ? g.labels : g.testLabels);
  return {
    name: 'torch-golden',
    split,
    images,
    labels,
    n: labels.length,
    height: g.height,
    width: g.width,
    channels: g.channels,
    numClasses: g.classes,
  };
}

for (const backend of backendNames()) {
  test(`a 20-epoch run of the trainer (Adam, weight decay, clipping, partial batches, MultiStepLR) ends at torch's weights (${backend})`, async (t) => {
    const g = golden.training.trainer;
    // The trainer shuffles with numpy's RandomState([modelSeed, 1]); the generator drew the same orders.
    const rs = new RandomState([g.modelSeed, 1]);
    g.orders.forEach((order, e) => assert.deepEqual(rs.permutation(g.trainN), order, `epoch ${e + 1} order`));
    const cfg = makeTrainConfig({
      data: 'mnistv1-0-0-0',
      model: g.model,
      optimizer: g.optimizer,
      lr: g.lr,
      weightDecay: g.weightDecay,
      gradClip: g.gradClip,
      batchSize: g.batchSize,
      epochs: g.epochs,
      modelSeed: g.modelSeed,
    });
    const data = {
      spec: {},
      name: 'torch-golden',
      train: fakeSplit(g, 'train'),
      test: fakeSplit(g, 'test'),
      spuriousIndices: [],
      pattern: null,
      noise: null,
    } as unknown as SpuriousDataset;
    // Start from torch's initial weights: a checkpoint at epoch 0 with a fresh optimizer state.
    const dir = tempDir('spurlab-torch-trainer-');
    try {
      const start = new MLP(g.height * g.width * g.channels, [256], g.classes, new SimpleRandom(1));
      loadModelState(start, section(file, 'trainer.init.'));
      const fresh = new Adam(start.parameters(), { lr: g.lr });
      saveCheckpoint(join(dir, 'start.safetensors'), start, fresh.stateTensors(), {
        config: JSON.stringify(cfg),
        epoch: '0',
        optimizer: JSON.stringify(fresh.stateScalars()),
      });
      const result = await withBackend(backend, () => train(cfg, { data, continueFrom: join(dir, 'start.safetensors') }));
      assert.equal(result.history.length, g.epochs);
      result.history.forEach((h, i) => {
        assert.equal(h.lr, g.history[i].lr, `epoch ${i + 1} learning rate`);
        assert.ok(Math.abs(h.loss - g.history[i].loss) <= RUN_TOL, `epoch ${i + 1}: mean loss ${h.loss} vs torch ${g.history[i].loss}`);
      });
      const err = maxAbsDiff(result.model, section(file, 'trainer.final.'));
      t.diagnostic(
        `trainer run [${backend}]: max |w - w_torch| after ${g.epochs} epochs = ${err.toExponential(2)} (torch float32 vs float64: ${g.float32VsFloat64MaxAbs.toExponential(2)})`,
      );
      assert.ok(err <= RUN_TOL, `trainer: max abs weight error ${err} > ${RUN_TOL}`);
      assert.ok(maxAbsDiff(start, section(file, 'trainer.final.')) > 100 * RUN_TOL, 'the run must move the weights');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
