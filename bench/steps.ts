// The per-step workloads of `npm run bench`: one training step, one eval batch, one HVP,
// each validated against the reference backend before it is timed, and the arithmetic
// each step does (for its effective GFLOP/s).
import { activeBackend, kernels, withBackend } from '../src/backend/registry.ts';
import { RandomState } from '../src/data/numpyRandom.ts';
import { createModel } from '../src/nn/models/index.ts';
import type { Module } from '../src/nn/module.ts';
import { Conv2d, Linear } from '../src/nn/layers.ts';
import { Adam, SGD, type Optimizer } from '../src/nn/optim/optimizer.ts';
import * as ops from '../src/ops/index.ts';
import { noGrad } from '../src/autograd/tape.ts';
import { hessianVectorProduct } from '../src/autograd/hvp.ts';
import { hessianEngineFor } from '../src/forget/hessianEngine.ts';
import { Tensor, uniform } from '../src/tensor/tensor.ts';
import { StorageArena } from '../src/tensor/arena.ts';

const MNIST = { height: 28, width: 28, channels: 1, numClasses: 10 };
const CIFAR = { height: 32, width: 32, channels: 3, numClasses: 10 };

/** A training-step workload as the peer (bench/torch_peer.py) defines it. */
export interface StepWorkload {
  key: string;
  model: string;
  shape: number[]; // batch input shape
  optimizer: 'adam' | 'sgd';
  validateShape: number[]; // a small batch for the check against the reference
}

export const TRAIN_WORKLOADS: StepWorkload[] = [
  { key: 'train_LargeMLP', model: 'LargeMLP', shape: [128, 784], optimizer: 'adam', validateShape: [128, 784] },
  { key: 'train_CNN002', model: 'CNN002', shape: [128, 1, 28, 28], optimizer: 'adam', validateShape: [8, 1, 28, 28] },
  { key: 'train_ResNet20', model: 'ResNet20', shape: [128, 3, 32, 32], optimizer: 'sgd', validateShape: [4, 3, 32, 32] },
];

function model(name: string): Module {
  return createModel(name, name.startsWith('ResNet') ? CIFAR : MNIST, new RandomState(0));
}

// The peer's optimizers: Adam lr 0.01 for the MNIST models, SGD lr 0.1 momentum 0.9 wd
// 1e-4 for ResNet20. Validation takes 10x smaller steps: Adam's first steps divide by
// sqrt(v) of tiny gradients, which amplifies float32 rounding in proportion to the rate.
function optimizerFor(w: StepWorkload, m: Module, lrScale = 1): Optimizer {
  return w.optimizer === 'adam'
    ? new Adam(m.parameters(), { lr: 0.01 * lrScale })
    : new SGD(m.parameters(), { lr: 0.1 * lrScale, momentum: 0.9, weightDecay: 1e-4 });
}

function copyWeights(from: Module, to: Module): void {
  const src = from.parameters();
  to.parameters().forEach((p, i) => p.data.set(src[i].values()));
}

function batch(shape: number[], seed: number): { x: Tensor; y: Int32Array } {
  return { x: uniform(shape, 0, 1, new RandomState(seed)), y: Int32Array.from({ length: shape[0] }, (_, i) => (i * 7) % 10) };
}

function trainStep(m: Module, opt: Optimizer, x: Tensor, y: Int32Array): number {
  m.zeroGrad();
  const loss = ops.crossEntropy(m.forward(x), y);
  loss.backward();
  opt.step();
  return loss.item();
}

function maxScaledDiff(a: Module, b: Module): number {
  const pb = b.parameters();
  let worst = 0;
  a.parameters().forEach((p, i) => {
    const va = p.values();
    const vb = pb[i].values();
    for (let j = 0; j < va.length; j++) worst = Math.max(worst, Math.abs(va[j] - vb[j]) / Math.max(1, Math.abs(vb[j])));
  });
  return worst;
}

/** Two training steps on the active backend and on the reference from identical weights. */
export function validateTraining(w: StepWorkload): void {
  const a = model(w.model);
  const b = model(w.model);
  copyWeights(a, b);
  const { x, y } = batch(w.validateShape, 3);
  // dropout off (the two backends must see the same function); batch norm stays in
  // training mode, as in the timed step
  const hasDropout = w.model === 'CNN002';
  a.train(!hasDropout);
  b.train(!hasDropout);
  const oa = optimizerFor(w, a, 0.1);
  const ob = optimizerFor(w, b, 0.1);
  for (let s = 0; s < 2; s++) {
    const la = trainStep(a, oa, x, y);
    const lb = withBackend('ref', () => trainStep(b, ob, x, y));
    if (Math.abs(la - lb) > 1e-4 * Math.max(1, Math.abs(lb)))
      throw new Error(`${w.key}: loss ${la} on ${activeBackend().name}, ${lb} on ref; not timing`);
  }
  const d = maxScaledDiff(a, b);
  if (d > 1e-4) throw new Error(`${w.key}: weights differ by ${d} between ${activeBackend().name} and ref after two steps; not timing`);
}

/** The eval forward pass on the active backend against the reference, on a few images. */
export function validateEval(name: string, shape: number[]): void {
  const m = model(name).eval();
  const { x } = batch(shape, 5);
  const a = noGrad(() => m.forward(x)).values();
  const b = withBackend('ref', () => noGrad(() => m.forward(x))).values();
  for (let i = 0; i < a.length; i++) {
    if (Math.abs(a[i] - b[i]) > 1e-4 * Math.max(1, Math.abs(b[i]))) throw new Error(`eval_${name}: logit ${i} is ${a[i]}, ref ${b[i]}; not timing`);
  }
}

/** Units per second over `iters` calls after `warmup` untimed ones. */
export function rate(fn: () => void, iters: number, unitsPerCall: number, warmup = 1): number {
  for (let i = 0; i < warmup; i++) fn();
  const t0 = performance.now();
  for (let i = 0; i < iters; i++) fn();
  return (iters * unitsPerCall) / ((performance.now() - t0) / 1000);
}

/** Images per second of training steps on one random batch, on recycled storage as the trainer runs them. */
export function trainRate(w: StepWorkload, iters: number): number {
  const m = model(w.model);
  const opt = optimizerFor(w, m);
  const { x, y } = batch(w.shape, 1);
  const arena = new StorageArena();
  return rate(
    () => {
      arena.run(() => trainStep(m, opt, x, y));
      m.zeroGrad();
      arena.recycle();
    },
    iters,
    w.shape[0],
  );
}

/** Images per second of eval-mode forward passes, on recycled storage as predict() runs them. */
export function evalRate(name: string, shape: number[], iters: number): number {
  const m = model(name).eval();
  const { x } = batch(shape, 2);
  const arena = new StorageArena();
  return rate(
    () => {
      arena.run(() => noGrad(() => m.forward(x)));
      arena.recycle();
    },
    iters,
    shape[0],
  );
}

/**
 * Floating-point operations of one training step: every Linear and Conv2d's forward
 * (2 per multiply-add, shapes recorded on a real forward pass) times 3 (forward, input
 * gradient, weight gradient), less the first layer's input gradient, which the data does
 * not need. Element-wise work (batch norm, ReLU, the optimizer) is not counted.
 */
export function trainFlops(w: StepWorkload): number {
  const m = model(w.model);
  const layers: number[] = [];
  for (const [, mod] of m.namedModules()) {
    if (mod instanceof Linear) {
      const wrap = (f: (x: Tensor) => Tensor) => (x: Tensor) => {
        layers.push(2 * x.shape[0] * mod.weight.shape[0] * mod.weight.shape[1]);
        return f.call(mod, x);
      };
      mod.forward = wrap(Linear.prototype.forward);
      mod.forwardRelu = wrap(Linear.prototype.forwardRelu);
    } else if (mod instanceof Conv2d) {
      mod.forward = (x: Tensor) => {
        const y = Conv2d.prototype.forward.call(mod, x);
        const [oc, c, kh, kw] = mod.weight.shape;
        layers.push(2 * y.shape[0] * oc * y.shape[2] * y.shape[3] * c * kh * kw);
        return y;
      };
    }
  }
  noGrad(() => m.forward(batch(w.shape, 6).x));
  return layers.reduce((s, f, i) => s + f * (i === 0 ? 2 : 3), 0);
}

// The exact HVP that influence functions use: the R-operator engine for MLPs.
export function hvpSetup() {
  const m = model('LargeMLP');
  const engine = hessianEngineFor(m);
  const rs = new RandomState(10);
  const v = Float32Array.from({ length: engine.size }, () => rs.standardNormal());
  const { x, y } = batch([1, 784], 4);
  const out = new Float32Array(engine.size);
  return { hvp: () => engine.hvp({ x, y }, v, out), m, v, x, y, out };
}

/** The engine's product against the reference backend's double backward through the tape. */
export function validateHvp(): void {
  const { hvp, m, v, x, y, out } = hvpSetup();
  hvp();
  const params = m.parameters();
  let off = 0;
  const vs = params.map((p) => {
    const t = new Tensor(v.slice(off, off + p.size), p.shape);
    off += p.size;
    return t;
  });
  const ref = withBackend('ref', () => hessianVectorProduct(() => ops.crossEntropy(m.forward(x), y), params, vs));
  off = 0;
  ref.forEach((t, i) => {
    const b = t.values();
    for (let j = 0; j < b.length; j++) {
      if (Math.abs(out[off + j] - b[j]) > 1e-4 * Math.max(1, Math.abs(b[j])))
        throw new Error(`hvp: element ${j} of parameter ${i} is ${out[off + j]}, ref ${b[j]}; not timing`);
    }
    off += b.length;
  });
}

/**
 * The native 1024^3 SGEMM in GFLOP/s, timed in this process beside the steps: the ceiling
 * their effective GFLOP/s are a share of moves with the machine, so it is taken in the same rounds.
 */
export function sgemmCeilingRate(): number {
  const n = 1024;
  const rng = new RandomState(7);
  const a = uniform([n, n], -1, 1, rng).data as Float32Array;
  const b = uniform([n, n], -1, 1, rng).data as Float32Array;
  const out = new Float32Array(n * n);
  const { matmul } = kernels('float32');
  return rate(() => matmul(a, b, n, n, n, false, false, out), 20, (2 * n * n * n) / 1e9);
}
