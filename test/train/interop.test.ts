// Interop with the reference's PyTorch models (goldens from test/golden/make_torch_training.py):
// state_dicts saved by torch under the reference's names load into spurlab's models and
// give torch's logits; bad weight files are rejected with the file and the key; the
// parameter counts equal torch's for every architecture of the registry.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { noGrad } from '../../src/autograd/tape.ts';
import { withBackend } from '../../src/backend/registry.ts';
import { createModel, MODELS, type InputInfo } from '../../src/nn/models/index.ts';
import { MLP } from '../../src/nn/models/mlp.ts';
import type { Module } from '../../src/nn/module.ts';
import { loadCheckpoint, loadModelState, type Checkpoint } from '../../src/store/checkpoint.ts';
import { writeSafetensors, type SafetensorsTensor } from '../../src/store/safetensors.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { UserError } from '../../src/util/errors.ts';
import { SimpleRandom } from '../../src/util/random.ts';
import { backendNames, tempDir } from '../helpers.ts';

const GOLDEN = fileURLToPath(new URL('../golden/', import.meta.url));
// Logits: max |a - e| / max(1, max |e|) <= 1e-5, i.e. absolute for logits up to 1 and
// relative above (ResNet20Norm02's reach 37, where torch's own float32 result is 8.6e-6
// from its float64 one). Running statistics: max absolute error <= 1e-5.
const TOL = 1e-5;
const golden = JSON.parse(readFileSync(`${GOLDEN}torch_train.json`, 'utf8')) as {
  magic: string;
  interop: Record<string, { file: string; floats: number }>;
  parameterCounts: Record<string, number>;
};
const io = loadCheckpoint(`${GOLDEN}torch_interop_io.safetensors`);
const tmp = tempDir('spurlab-interop-');
after(() => rmSync(tmp, { recursive: true, force: true }));

const MNIST: InputInfo = { height: 28, width: 28, channels: 1, numClasses: 10 };
const CIFAR: InputInfo = { height: 32, width: 32, channels: 3, numClasses: 10 };

/** The torch state_dict of a reference model, unpacked to a plain .safetensors file and loaded. */
function torchWeights(model: string): Checkpoint {
  const gz = golden.interop[model].file;
  const path = join(tmp, gz.replace(/\.gz$/, ''));
  writeFileSync(path, gunzipSync(readFileSync(join(GOLDEN, gz))));
  return loadCheckpoint(path);
}

function ioTensor(name: string): Tensor {
  const t = io.tensors.get(name);
  assert.ok(t, `${io.path} has no "${name}"`);
  return t;
}

function maxAbs(actual: Tensor, expected: Tensor, what: string): number {
  assert.deepEqual(actual.shape, expected.shape, what);
  const a = actual.values();
  const e = expected.values();
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - e[i]));
  return worst;
}

/** max |a - e| / max(1, max |e|). */
function scaledErr(actual: Tensor, expected: Tensor, what: string): number {
  const scale = Math.max(1, ...Array.from(expected.values(), Math.abs));
  return maxAbs(actual, expected, what) / scale;
}

function loaded(name: string, info: InputInfo, weights: Checkpoint): Module {
  const model = createModel(name, info, new SimpleRandom(3));
  loadModelState(model, weights);
  return model;
}

for (const backend of backendNames()) {
  test(`LargeMLP with torch's weights gives torch's logits on HWC-flattened images (${backend})`, (t) => {
    const weights = torchWeights('LargeMLP');
    const x = ioTensor('largemlp.x'); // [3, 28, 28, 1] HWC
    const logits = withBackend(backend, () =>
      noGrad(() =>
        loaded('LargeMLP', MNIST, weights)
          .eval()
          .forward(x.reshape([x.shape[0], -1])),
      ),
    );
    const err = scaledErr(logits, ioTensor('largemlp.logits'), 'LargeMLP logits');
    t.diagnostic(`LargeMLP [${backend}]: scaled logit error ${err.toExponential(2)}`);
    assert.ok(err <= TOL, `LargeMLP logits differ by ${err}`);
  });

  test(`CNN002 with torch's weights gives torch's logits on NCHW images in eval mode (${backend})`, (t) => {
    const weights = torchWeights('CNN002');
    const logits = withBackend(backend, () => noGrad(() => loaded('CNN002', MNIST, weights).eval().forward(ioTensor('cnn002.x'))));
    const err = scaledErr(logits, ioTensor('cnn002.logits'), 'CNN002 logits');
    t.diagnostic(`CNN002 [${backend}]: scaled logit error ${err.toExponential(2)}`);
    assert.ok(err <= TOL, `CNN002 logits differ by ${err}`);
  });

  test(`ResNet20 with torch's weights and BN statistics: eval, Norm02 eval, train-mode logits and running statistics (${backend})`, (t) => {
    const weights = torchWeights('ResNet20');
    const x = ioTensor('resnet20.x'); // [4, 3, 32, 32]
    withBackend(backend, () =>
      noGrad(() => {
        const model = loaded('ResNet20', CIFAR, weights);
        const errEval = scaledErr(model.eval().forward(x), ioTensor('resnet20.logits_eval'), 'ResNet20 eval logits');
        const errNorm = scaledErr(
          loaded('ResNet20Norm02', CIFAR, weights).eval().forward(x),
          ioTensor('resnet20norm02.logits_eval'),
          'ResNet20Norm02 eval logits',
        );
        const errTrain = scaledErr(model.train().forward(x), ioTensor('resnet20.logits_train'), 'ResNet20 train logits');
        let errStats = 0;
        let stats = 0;
        for (const [name, buf] of model.namedBuffers()) {
          errStats = Math.max(errStats, maxAbs(buf, ioTensor(`resnet20.after_train.${name}`), name));
          stats++;
        }
        t.diagnostic(
          `ResNet20 [${backend}]: scaled logit error: eval ${errEval.toExponential(2)}, Norm02 eval ${errNorm.toExponential(2)}, train ${errTrain.toExponential(2)}; max abs error of the updated running stats (${stats} buffers) ${errStats.toExponential(2)}`,
        );
        assert.equal(stats, 2 * 19, 'ResNet20 has 19 BatchNorm layers with running_mean and running_var');
        assert.ok(
          errEval <= TOL && errNorm <= TOL && errTrain <= TOL,
          `ResNet20 logits differ: eval ${errEval}, Norm02 ${errNorm}, train ${errTrain}`,
        );
        assert.ok(errStats <= TOL, `running statistics after a train-mode forward differ by ${errStats}`);
      }),
    );
  });
}

test('the interop goldens are not trivial: eval and train logits differ, BN statistics are not 0/1', () => {
  assert.ok(maxAbs(ioTensor('resnet20.logits_eval'), ioTensor('resnet20.logits_train'), 'eval vs train') > 100 * TOL);
  assert.ok(maxAbs(ioTensor('resnet20.logits_eval'), ioTensor('resnet20norm02.logits_eval'), 'plain vs Norm02') > 100 * TOL);
  const w = torchWeights('ResNet20');
  const mean = w.tensors.get('layer2.0.bn1.running_mean')!.values();
  const variance = w.tensors.get('layer2.0.bn1.running_var')!.values();
  assert.ok(mean.some((v) => Math.abs(v) > 0.01) && variance.some((v) => Math.abs(v - 1) > 0.01));
  const cnn = torchWeights('CNN002');
  assert.ok(
    cnn.tensors
      .get('classifier.fc3.weight')!
      .values()
      .some((v) => v !== 0),
    'CNN002 fc3 must not be all zero',
  );
  for (const [name, info] of Object.entries(golden.interop)) {
    const floats = [...torchWeights(name).tensors.values()].reduce((s, t) => s + t.size, 0);
    assert.equal(floats, info.floats, `${info.file}: float tensors`);
  }
});

// ------------------------------------------------------------ bad weight files

function smallMlp(): MLP {
  return new MLP(20, [16, 16], 3, new SimpleRandom(5));
}

/** The small MLP's state with `edit` applied, written as a safetensors file. */
function weightsFile(name: string, edit: (tensors: Record<string, SafetensorsTensor>) => void): string {
  const tensors: Record<string, SafetensorsTensor> = {};
  for (const [k, t] of smallMlp().stateDict()) tensors[k] = { dtype: 'F32', shape: t.shape, data: Float32Array.from(t.values()) };
  edit(tensors);
  const path = join(tmp, name);
  writeSafetensors(path, tensors);
  return path;
}

function rejects(path: string, model: Module, ...mustName: string[]): void {
  assert.throws(
    () => loadModelState(model, loadCheckpoint(path)),
    (e: unknown) => {
      assert.ok(e instanceof UserError, `expected a UserError, got ${String(e)}`);
      for (const s of [path, ...mustName]) assert.ok(e.message.includes(s), `message "${e.message}" does not name ${s}`);
      return true;
    },
  );
}

test('a weights file without a key is rejected with a UserError naming the file and the key', () => {
  rejects(
    weightsFile('missing.safetensors', (ts) => delete ts['hidden2.bias']),
    smallMlp(),
    '"hidden2.bias"',
  );
});

test('a weights file with a wrong shape is rejected with a UserError naming the file, the key and both shapes', () => {
  const path = weightsFile('transposed.safetensors', (ts) => {
    ts['hidden.weight'] = { dtype: 'F32', shape: [20, 16], data: new Float32Array(320) };
  });
  rejects(path, smallMlp(), '"hidden.weight"', '[20, 16]', '[16, 20]');
});

test('a weights file with an unknown key, or of another architecture, is rejected naming the file and the key', () => {
  rejects(
    weightsFile('extra.safetensors', (ts) => {
      ts['hidden4.weight'] = { dtype: 'F32', shape: [1], data: new Float32Array(1) };
    }),
    smallMlp(),
    '"hidden4.weight"',
  );
  const cnn = torchWeights('CNN002');
  rejects(cnn.path, createModel('LargeMLP', MNIST, new SimpleRandom(1)), '"hidden.weight"');
});

test('a missing or truncated weights file is a UserError naming the file', () => {
  const missing = join(tmp, 'nope.safetensors');
  assert.throws(
    () => loadCheckpoint(missing),
    (e: unknown) => e instanceof UserError && e.message.includes(missing),
  );
  const truncated = join(tmp, 'truncated.safetensors');
  writeFileSync(truncated, readFileSync(`${GOLDEN}torch_train_mlp.safetensors`).subarray(0, 100));
  assert.throws(
    () => loadCheckpoint(truncated),
    (e: unknown) => e instanceof UserError && e.message.includes(truncated),
  );
});

// ------------------------------------------------------------ parameter counts

test('LargeMLP has 335,114 parameters, as torch counts the reference', () => {
  assert.equal(golden.parameterCounts.LargeMLP, 335_114);
  assert.equal(createModel('LargeMLP', MNIST, new SimpleRandom(1)).parameterCount(), 335_114);
});

test('every registry model has the parameter count torch reports for the reference architecture', (t) => {
  assert.deepEqual(MODELS.map((m) => m.name).sort(), Object.keys(golden.parameterCounts).sort(), 'registry models vs torch-counted models');
  // Values do not change a count: a constant source keeps VGG's 134M-float init to seconds.
  // Vgg16BNNorm02 (not a reference model) is left out to keep the suite fast: building
  // one VGG costs 4-9 s here, and it differs from Vgg16Norm02 only by its BN layers.
  const constant = { random: () => 0.5, normal: () => 0 };
  for (const spec of MODELS.filter((m) => m.name !== 'Vgg16BNNorm02')) {
    const info = spec.layout === 'flat' || spec.name === 'CNN002' ? MNIST : CIFAR;
    const t0 = Date.now();
    const count = createModel(spec.name, info, spec.name.startsWith('Vgg') ? constant : new SimpleRandom(1)).parameterCount();
    t.diagnostic(`${spec.name}: ${count} parameters (torch ${golden.parameterCounts[spec.name]}), built in ${Date.now() - t0} ms`);
    assert.equal(count, golden.parameterCounts[spec.name], spec.name);
  }
});
