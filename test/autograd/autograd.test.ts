import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensor, zeros, type Tensor } from '../../src/tensor/tensor.ts';
import * as ops from '../../src/ops/index.ts';
import { backward, grad, noGrad } from '../../src/autograd/tape.ts';
import { hessianVectorProduct } from '../../src/autograd/hvp.ts';
import { hvpCheck } from '../../src/autograd/gradcheck.ts';
import { assertClose, rand } from '../helpers.ts';

test('gradients accumulate into .grad across backward calls and over shared uses', () => {
  const x = tensor([1, 2, 3], [3], 'float64').requireGrad();
  const y = x.mul(x).add(x).sum(); // dy/dx = 2x + 1
  y.backward();
  assert.deepEqual(x.grad!.toArray(), [3, 5, 7]);
  x.sum().backward();
  assert.deepEqual(x.grad!.toArray(), [4, 6, 8]);
});

test('no-grad mode records nothing', () => {
  const x = tensor([1, 2], [2]).requireGrad();
  const y = noGrad(() => x.mul(2));
  assert.equal(y.requiresGrad, false);
  assert.equal(y.node, null);
});

test('a 50,000-op chain back-propagates without overflowing the stack', () => {
  const x = tensor([1], [1], 'float64').requireGrad();
  let y: Tensor = x;
  for (let i = 0; i < 50000; i++) y = y.mul(1.00001);
  y.sum().backward();
  assertClose(x.grad!.toArray(), [1.00001 ** 50000], 0, 1e-10);
});

test('grad() returns gradients for chosen inputs and rejects unused ones', () => {
  const a = tensor([2], [1], 'float64').requireGrad();
  const b = tensor([3], [1], 'float64').requireGrad();
  const c = tensor([4], [1], 'float64').requireGrad();
  const [ga, gb] = grad(a.mul(b).sum(), [a, b]);
  assert.deepEqual([ga!.item(), gb!.item()], [3, 2]);
  assert.throws(() => grad(a.mul(b).sum(), [c]), /does not affect the outputs/);
  assert.deepEqual(grad(a.mul(b).sum(), [c], { allowUnused: true }), [null]);
  assert.throws(() => backward(a.mul(tensor([1, 2], [2], 'float64'))), /non-scalar output of shape \[2\]/);
});

test('HVP of a quadratic form equals (A + A^T) v exactly', () => {
  const A = rand([4, 4], 3);
  const x = rand([4, 1], 4).requireGrad();
  const v = rand([4, 1], 5);
  const [hv] = hessianVectorProduct(() => ops.matmul(ops.matmul(x.T, A), x).sum(), [x], [v]);
  const expected = ops.matmul(A.add(A.T), v);
  assertClose(hv.toArray(), expected.toArray(), 1e-12, 1e-12);
});

test('HVP of a small MLP with cross-entropy matches finite differences of gradients', () => {
  const x = rand([5, 6], 11);
  const y = Int32Array.from([0, 2, 1, 2, 0]);
  const params = [rand([8, 6], 12).mul(0.5), rand([8], 13), rand([3, 8], 14).mul(0.5), rand([3], 15)];
  const loss = ([w1, b1, w2, b2]: Tensor[]) => ops.crossEntropy(ops.linear(ops.linear(x, w1, b1).tanh(), w2, b2), y);
  const r = hvpCheck(
    loss,
    params,
    params.map((p, i) => rand(p.shape, 30 + i)),
  );
  assert.ok(r.maxRelErr < 1e-6, `HVP error ${r.maxRelErr} at ${r.worst}`);
});

test('HVP through ReLU, conv, max-pool and batch norm matches finite differences', () => {
  const x = rand([3, 2, 6, 6], 21);
  const y = Int32Array.from([1, 0, 1]);
  const bn = { runningMean: zeros([4], 'float64'), runningVar: zeros([4], 'float64').add(1), momentum: 0.1, eps: 1e-5 };
  const params = [rand([4, 2, 3, 3], 22).mul(0.4), rand([4], 23), rand([4], 24), rand([2, 16], 25).mul(0.3)];
  const loss = ([w, g, b, fc]: Tensor[]) => {
    const h = ops.maxPool2d(ops.batchNorm(ops.conv2d(x, w, { padding: 1 }), g, b, bn, true).relu(), { kernel: 3, stride: 3 });
    return ops.crossEntropy(ops.linear(h.reshape([3, 16]), fc, null), y);
  };
  const r = hvpCheck(
    loss,
    params,
    params.map((p, i) => rand(p.shape, 40 + i)),
  );
  assert.ok(r.maxRelErr < 1e-6, `HVP error ${r.maxRelErr} at ${r.worst}`);
});
