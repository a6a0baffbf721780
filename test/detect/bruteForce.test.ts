// The gradient-based detection scores against brute force on a tiny MLP: every example's
// gradient from the tape one at a time, and the Hessian built column by column from the
// tape's double backward (not the R-operator the scores use), solved directly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { grad } from '../../src/autograd/tape.ts';
import { hessianVectorProduct } from '../../src/autograd/hvp.ts';
import type { Dataset } from '../../src/data/dataset.ts';
import { exampleStats } from '../../src/detect/gradients.ts';
import { DETECT_DEFAULTS, detectScores, leverages, type DetectInput } from '../../src/detect/methods.ts';
import { KroneckerProjection, MlpProbe } from '../../src/detect/mlpProbe.ts';
import { MLP } from '../../src/nn/models/mlp.ts';
import { Module } from '../../src/nn/module.ts';
import * as ops from '../../src/ops/index.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { assertClose, rng } from '../helpers.ts';

const N = 12;
const F = 4;
const train: Dataset = {
  name: 'tiny',
  split: 'train',
  n: N,
  height: 1,
  width: F,
  channels: 1,
  numClasses: 3,
  images: Float32Array.from({ length: N * F }, (_, i) => Math.abs(Math.sin(0.37 * i + 0.2))),
  labels: Int32Array.from({ length: N }, (_, i) => i % 3),
};
const positions = Int32Array.from({ length: N }, (_, i) => i);
const tiny = (seed: number) => new MLP(F, [5], 3, rng(seed));

/** The same MLP behind another class, so the scores take the tape path. */
class Wrapped extends Module {
  constructor(readonly inner: MLP) {
    super();
    this.child('inner', inner);
  }
  forward(x: Tensor): Tensor {
    return this.inner.forward(x);
  }
}

function bruteGradient(model: Module, i: number): Float64Array {
  const x = new Tensor(train.images.slice(i * F, (i + 1) * F), [1, F]);
  const gs = grad(ops.crossEntropyPerExample(model.forward(x), train.labels.subarray(i, i + 1)).sum(), model.parameters());
  return Float64Array.from(gs.flatMap((g) => Array.from(g!.values())));
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, v, i) => s + v * b[i], 0);
const input = (model: Module, extra: Partial<DetectInput> = {}): DetectInput => ({
  model,
  modelName: 'tiny MLP',
  layout: 'flat',
  train,
  positions,
  checkpoints: [],
  ...extra,
});

test('grad-norm: the probe and the tape path both equal the brute-force per-example gradient norms', () => {
  const model = tiny(1);
  const expected = Array.from({ length: N }, (_, i) => Math.sqrt(dot(bruteGradient(model, i), bruteGradient(model, i))));
  assertClose(detectScores('grad-norm', input(model)).scores, expected, 1e-6, 1e-4, 'probe');
  assertClose(detectScores('grad-norm', input(new Wrapped(model))).scores, expected, 1e-6, 1e-4, 'tape');
});

test('TracIn: the sum over checkpoints of lr times the squared gradient norm', () => {
  const [a, b] = [tiny(2), tiny(3)];
  const cps = [
    { model: a, epoch: 1, lr: 0.1 },
    { model: b, epoch: 2, lr: 0.01 },
  ];
  const expected = Array.from({ length: N }, (_, i) => cps.reduce((s, c) => s + c.lr * dot(bruteGradient(c.model, i), bruteGradient(c.model, i)), 0));
  assertClose(detectScores('tracin', input(b, { checkpoints: cps })).scores, expected, 1e-7, 1e-4, 'tracin');
  assert.throws(() => detectScores('tracin', input(b)), /--keep-checkpoints/);
});

test('the Kronecker projection of a gradient equals its explicit formula on the brute-force gradient', () => {
  const model = tiny(4);
  const probe = MlpProbe.of(model)!;
  const k = 6;
  const proj = new KroneckerProjection(k, probe.layers, 7);
  const s = exampleStats(model, 'flat', train, positions, { projection: { k, of: 'loss', seed: 7 } });
  for (let i = 0; i < N; i++) {
    const g = bruteGradient(model, i);
    for (let j = 0; j < k; j++) {
      let off = 0;
      let phi = 0;
      probe.layers.forEach((l, li) => {
        for (let o = 0; o < l.outF; o++)
          for (let q = 0; q < l.inF; q++) phi += proj.u[li][j * l.outF + o] * proj.v[li][j * l.inF + q] * g[off + o * l.inF + q];
        off += l.outF * l.inF;
        for (let o = 0; o < l.outF; o++) phi += proj.c[li][j * l.outF + o] * g[off + o];
        off += l.outF;
      });
      assert.ok(Math.abs(s.projected![i * k + j] - phi / Math.sqrt(k)) <= 1e-5 + 1e-4 * Math.abs(phi), `example ${i}, component ${j}`);
    }
  }
});

test('leverages equal phi^T (Phi^T Phi)^-1 phi by a direct solve', () => {
  const k = 3;
  const phi = Float32Array.from({ length: N * k }, (_, i) => Math.sin(1.3 * i) + 0.1 * i);
  const lev = leverages(phi, N, k);
  // Gram matrix and its inverse by Cramer's rule (3 x 3)
  const g = Array.from({ length: 9 }, (_, e) => {
    let s = 0;
    for (let i = 0; i < N; i++) s += phi[i * k + Math.floor(e / 3)] * phi[i * k + (e % 3)];
    return s;
  });
  const [a, b, c, d, e, f, gg, h, ii] = g;
  const det = a * (e * ii - f * h) - b * (d * ii - f * gg) + c * (d * h - e * gg);
  const inv = [
    e * ii - f * h,
    c * h - b * ii,
    b * f - c * e,
    f * gg - d * ii,
    a * ii - c * gg,
    c * d - a * f,
    d * h - e * gg,
    b * gg - a * h,
    a * e - b * d,
  ].map((v) => v / det);
  const expected = Array.from({ length: N }, (_, i) => {
    const p = [0, 1, 2].map((j) => phi[i * k + j]);
    return [0, 1, 2].reduce((s, r) => s + p[r] * [0, 1, 2].reduce((t, cc) => t + inv[r * 3 + cc] * p[cc], 0), 0);
  });
  assertClose(lev, expected, 1e-5, 1e-3, 'leverage');
  assert.ok(Math.abs(lev.reduce((s, v) => s + v, 0) - k) < 1e-3, 'leverages sum to the rank');
});

/** Solves (H + c I) x = b by Gaussian elimination with partial pivoting. */
function solve(h: Float64Array[], c: number, b: Float64Array): Float64Array {
  const n = b.length;
  const a = Array.from({ length: n }, (_, i) => [...Array.from({ length: n }, (_, j) => h[j][i] + (i === j ? c : 0)), b[i]]);
  for (let col = 0; col < n; col++) {
    let p = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(a[r][col]) > Math.abs(a[p][col])) p = r;
    [a[col], a[p]] = [a[p], a[col]];
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const m = a[r][col] / a[col][col];
      for (let j = col; j <= n; j++) a[r][j] -= m * a[col][j];
    }
  }
  return Float64Array.from({ length: n }, (_, i) => a[i][n] / a[i][i]);
}

test('self-influence: LiSSA on exact products equals g^T (H + lambda I)^-1 g solved directly', () => {
  const model = tiny(5);
  const params = model.parameters();
  const P = params.reduce((s, p) => s + p.size, 0);
  const x = new Tensor(train.images.slice(), [N, F]);
  const meanLoss = () => ops.crossEntropy(model.forward(x), train.labels);
  const hessian = Array.from({ length: P }, (_, j) => {
    let off = 0;
    const unit = params.map((p) => {
      const t = new Float32Array(p.size);
      if (j >= off && j < off + p.size) t[j - off] = 1;
      off += p.size;
      return new Tensor(t, p.shape);
    });
    return Float64Array.from(hessianVectorProduct(meanLoss, params, unit).flatMap((t) => Array.from(t.values())));
  });
  // the full-batch Hessian makes LiSSA deterministic; this untrained net's Hessian is
  // indefinite, so lambda = scale * damp = 1 lies above its most negative eigenvalue
  const opts = { ...DETECT_DEFAULTS, damp: 0.5, scale: 2, depth: 200, hessianBatch: N };
  const { scores, details } = detectScores('self-influence', input(model), opts);
  assert.equal(details.lambda, 1);
  const expected = Array.from({ length: N }, (_, i) => {
    const g = bruteGradient(model, i);
    return Math.abs(dot(g, solve(hessian, 1, g)));
  });
  assertClose(scores, expected, 1e-5, 2e-3, 'self-influence');
  // the reference's one-example sampling estimates the same quantity, noisily
  const sampled = detectScores('self-influence', input(model), { ...opts, hessianBatch: 1, depth: 200, repeats: 32 }).scores;
  for (let i = 0; i < N; i++)
    assert.ok(Math.abs(sampled[i] - expected[i]) < 0.25 * expected[i] + 1e-3, `sampled example ${i}: ${sampled[i]} vs ${expected[i]}`);
});
