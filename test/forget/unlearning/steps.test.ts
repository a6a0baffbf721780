// Each unlearning method's update on a two-layer ReLU network in float64, checked against
// the same steps computed by hand here: forward, the method's loss gradient with respect
// to the logits, backpropagation, and torch.optim.SGD (momentum, weight decay added to
// the gradient) written out in plain loops.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Dataset } from '../../../src/data/dataset.ts';
import { Module } from '../../../src/nn/module.ts';
import * as ops from '../../../src/ops/index.ts';
import { Tensor } from '../../../src/tensor/tensor.ts';
import { methodRng, type UnlearnInput } from '../../../src/forget/unlearning/loop.ts';
import { methodSpec, resolveUnlearnOptions, type UnlearnMethod, type UnlearnOptions } from '../../../src/forget/unlearning/methods.ts';
import { assertClose } from '../../helpers.ts';

const D = 4; // 2x2x1 images
const H = 3;
const C = 3;
const N = 6;
const FORGET = Int32Array.from([0, 1]);
const RETAIN = Int32Array.from([2, 3, 4, 5]);

class TwoLayer extends Module {
  w1: Tensor;
  b1: Tensor;
  w2: Tensor;
  b2: Tensor;
  constructor(values: Float64Array) {
    super();
    let o = 0;
    const take = (shape: number[]) => {
      const size = shape.reduce((a, b) => a * b, 1);
      const t = new Tensor(values.slice(o, o + size), shape);
      o += size;
      return t;
    };
    this.w1 = this.param('w1', take([H, D]));
    this.b1 = this.param('b1', take([H]));
    this.w2 = this.param('w2', take([C, H]));
    this.b2 = this.param('b2', take([C]));
  }
  forward(x: Tensor): Tensor {
    return ops.linear(ops.linear(x, this.w1, this.b1, true), this.w2, this.b2);
  }
}

const THETA0 = Float64Array.from({ length: H * D + H + C * H + C }, (_, i) => Math.sin(1.7 * i + 0.3) * 0.8);
const IMAGES = Float32Array.from({ length: N * D }, (_, i) => ((i * 37) % 11) / 10);
const LABELS = Int32Array.from([2, 2, 0, 1, 2, 1]);
const DATA: Dataset = { name: 'tiny', split: 'train', images: IMAGES, labels: LABELS, n: N, height: 2, width: 2, channels: 1, numClasses: C };

// ---- the hand computation -------------------------------------------------------------
type Theta = Float64Array<ArrayBuffer>;
const at = { w1: 0, b1: H * D, w2: H * D + H, b2: H * D + H + C * H };

function forward(t: Theta, i: number): { h: number[]; z: number[]; x: number[] } {
  const x = Array.from(IMAGES.subarray(i * D, (i + 1) * D), Number);
  const h = Array.from({ length: H }, (_, j) => Math.max(0, t[at.b1 + j] + x.reduce((s, xv, k) => s + t[at.w1 + j * D + k] * xv, 0)));
  const z = Array.from({ length: C }, (_, c) => t[at.b2 + c] + h.reduce((s, hv, j) => s + t[at.w2 + c * H + j] * hv, 0));
  return { h, z, x };
}

function softmax(z: number[], temperature = 1): number[] {
  const m = Math.max(...z.map((v) => v / temperature));
  const e = z.map((v) => Math.exp(v / temperature - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/** The gradient of sum_i L_i(z_i) given dL_i/dz_i for each example. */
function backprop(t: Theta, rows: number[], dz: (i: number, z: number[]) => number[]): Theta {
  const g = new Float64Array(t.length);
  for (const i of rows) {
    const { h, z, x } = forward(t, i);
    const d = dz(i, z);
    for (let c = 0; c < C; c++) {
      g[at.b2 + c] += d[c];
      for (let j = 0; j < H; j++) g[at.w2 + c * H + j] += d[c] * h[j];
    }
    for (let j = 0; j < H; j++) {
      if (h[j] <= 0) continue;
      const dh = d.reduce((s, dv, c) => s + dv * t[at.w2 + c * H + j], 0);
      g[at.b1 + j] += dh;
      for (let k = 0; k < D; k++) g[at.w1 + j * D + k] += dh * x[k];
    }
  }
  return g;
}

/** Mean cross-entropy over rows (labels from `label`). */
function ceGrad(t: Theta, rows: number[], label: (i: number) => number = (i) => LABELS[i]): Float64Array {
  return backprop(t, rows, (i, z) => softmax(z).map((p, c) => (p - (c === label(i) ? 1 : 0)) / rows.length));
}

/** DistillKL(student t, teacher t0) over rows: T^2 / B sum KL(p_t0 || p_t). */
function klGrad(t: Theta, teacher: Theta, rows: number[], T: number): Float64Array {
  return backprop(t, rows, (i, z) => {
    const q = softmax(z, T);
    const p = softmax(forward(teacher, i).z, T);
    return q.map((qv, c) => (T / rows.length) * (qv - p[c]));
  });
}

const lin = (...terms: [number, Float64Array][]) => Float64Array.from(terms[0][1], (_, k) => terms.reduce((s, [a, v]) => s + a * v[k], 0));

class HandSgd {
  buf: Float64Array | null = null;
  constructor(
    readonly lr: number,
    readonly momentum: number,
    readonly wd: number,
  ) {}
  step(t: Theta, g: Float64Array): Theta {
    const d = lin([1, g], [this.wd, t]);
    this.buf = this.buf ? lin([this.momentum, this.buf], [1, d]) : d;
    return lin([1, t], [-this.lr, this.buf]);
  }
}

// ---- running the library's method -------------------------------------------------------
function runMethod(method: UnlearnMethod, given: UnlearnOptions, seed = 5): { theta: Theta; o: Required<UnlearnOptions> } {
  const model = new TwoLayer(THETA0);
  const input: UnlearnInput = {
    model,
    layout: 'flat',
    train: DATA,
    forget: FORGET,
    retain: RETAIN,
    seed,
    makeModel: () => new TwoLayer(new Float64Array(THETA0.length)),
  };
  const o = resolveUnlearnOptions(method, given);
  methodSpec(method).run(input, o);
  const theta = Float64Array.from(model.parameters().flatMap((p) => Array.from(p.values())));
  assert.equal(model.parameters()[0].dtype, 'float64');
  return { theta, o };
}

const F = Array.from(FORGET);
const R = Array.from(RETAIN);
const BIG = { batch: 64 };
function check(theta: Theta, expected: Theta, what: string): void {
  assertClose(theta, expected, 1e-12, 1e-10, what);
  assert.ok(
    expected.some((v, k) => Math.abs(v - THETA0[k]) > 1e-6),
    `${what}: the hand-computed step moves the weights`,
  );
}

test('finetune: one SGD step on the retain cross-entropy', () => {
  const { theta, o } = runMethod('finetune', { ...BIG, epochs: 1 });
  check(theta, new HandSgd(o.lr, o.momentum, o.weightDecay).step(THETA0, ceGrad(THETA0, R)), 'finetune');
});

test('l1-sparse: two epochs, the l1 coefficient alpha then alpha / 2, with momentum', () => {
  const { theta, o } = runMethod('l1-sparse', { ...BIG, epochs: 2, alpha: 0.05 });
  const sgd = new HandSgd(o.lr, o.momentum, o.weightDecay);
  const sign = (t: Theta) => Float64Array.from(t, Math.sign);
  const t1 = sgd.step(THETA0, lin([1, ceGrad(THETA0, R)], [0.05, sign(THETA0)]));
  check(theta, sgd.step(t1, lin([1, ceGrad(t1, R)], [0.025, sign(t1)])), 'l1-sparse');
});

test('gradient-ascent: one step up the forget cross-entropy', () => {
  const { theta, o } = runMethod('gradient-ascent', { ...BIG, epochs: 1, lr: 0.1 });
  check(theta, new HandSgd(o.lr, o.momentum, o.weightDecay).step(THETA0, lin([-1, ceGrad(THETA0, F)])), 'gradient-ascent');
});

test('neggrad-plus: alpha CE(retain) - (1 - alpha) CE(forget)', () => {
  const { theta, o } = runMethod('neggrad-plus', { ...BIG, epochs: 1, alpha: 0.7 });
  check(theta, new HandSgd(o.lr, o.momentum, o.weightDecay).step(THETA0, lin([0.7, ceGrad(THETA0, R)], [-0.3, ceGrad(THETA0, F)])), 'neggrad-plus');
});

test('scrub: max KL on the forget set, then min gamma CE + alpha KL on the retain set, two epochs', () => {
  const { theta, o } = runMethod('scrub', { batch: 64, forgetBatch: 64, epochs: 2, maxSteps: 2, lr: 0.5, alpha: 0.5, gamma: 0.9, temperature: 2 });
  const sgd = new HandSgd(o.lr, o.momentum, o.weightDecay);
  let t = THETA0;
  for (let e = 1; e <= 2; e++) {
    t = sgd.step(t, lin([-1, klGrad(t, THETA0, F, 2)]));
    t = sgd.step(t, lin([0.9, ceGrad(t, R)], [0.5, klGrad(t, THETA0, R, 2)]));
  }
  check(theta, t, 'scrub');
});

function drawnLabels(seed: number, salt: number): Map<number, number> {
  const rng = methodRng(seed, salt);
  return new Map(F.map((i) => [i, Math.floor(rng.random() * C)]));
}

test('random-label: one step on the forget set with random labels and the retain set, one batch', () => {
  const { theta, o } = runMethod('random-label', { ...BIG, epochs: 1 });
  const labels = drawnLabels(5, 40);
  const all = [...F, ...R];
  check(
    theta,
    new HandSgd(o.lr, o.momentum, o.weightDecay).step(
      THETA0,
      ceGrad(THETA0, all, (i) => labels.get(i) ?? LABELS[i]),
    ),
    'random-label',
  );
});

test('salun: the top half of |forget gradient| is trained (forget with random labels, then retain), the rest kept', () => {
  const { theta, o } = runMethod('salun', { ...BIG, epochs: 1, threshold: 0.5, lr: 0.3 });
  const g0 = ceGrad(THETA0, F);
  const order = Array.from(g0.keys()).sort((a, b) => Math.abs(g0[b]) - Math.abs(g0[a]) || a - b);
  const mask = new Uint8Array(g0.length);
  order.slice(0, Math.floor(g0.length * 0.5)).forEach((k) => (mask[k] = 1));
  const labels = drawnLabels(5, 50);
  const sgd = new HandSgd(o.lr, o.momentum, o.weightDecay);
  const masked = (g: Float64Array) => g.map((v, k) => (mask[k] ? v : 0));
  const keep = (t: Theta) => t.map((v, k) => (mask[k] ? v : THETA0[k]));
  const t1 = keep(sgd.step(THETA0, masked(ceGrad(THETA0, F, (i) => labels.get(i)!))));
  const t2 = keep(sgd.step(t1, masked(ceGrad(t1, R))));
  check(theta, t2, 'salun');
  for (let k = 0; k < mask.length; k++) if (!mask[k]) assert.equal(theta[k], THETA0[k]);
});

test('ssd: weights with I_forget > alpha I_train are multiplied by min(lambda I_train / I_forget, 1)', () => {
  const { theta } = runMethod('ssd', { alpha: 1, lambda: 1, batch: 64 });
  const full = ceGrad(THETA0, [...F, ...R]).map((v) => v * v);
  const forget = ceGrad(THETA0, F).map((v) => v * v);
  const expected = THETA0.map((v, k) => (forget[k] > full[k] ? v * Math.min(full[k] / forget[k], 1) : v));
  check(theta, expected, 'ssd');
});

test('a method refuses an option it does not take and a bad value, naming them', () => {
  assert.throws(() => resolveUnlearnOptions('ssd', { epochs: 3 }), /epochs: not an option of ssd; it takes alpha, lambda, batch/);
  assert.throws(() => resolveUnlearnOptions('salun', { threshold: 1.5 }), /threshold: got 1.5 for salun, expected a number in \(0, 1\]/);
  assert.throws(() => resolveUnlearnOptions('neggrad-plus', { alpha: 2 }), /alpha: got 2 for neggrad-plus/);
});
