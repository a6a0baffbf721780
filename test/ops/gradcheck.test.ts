// Every op's gradient against central finite differences in float64 (max scaled error
// < 1e-6), and its second derivative through double backward, which HVPs rely on.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type Tensor, zeros } from '../../src/tensor/tensor.ts';
import * as ops from '../../src/ops/index.ts';
import { grad } from '../../src/autograd/tape.ts';
import { gradCheck } from '../../src/autograd/gradcheck.ts';
import { SimpleRandom } from '../../src/util/random.ts';
import { rand, randUniform } from '../helpers.ts';

const TOL = 1e-6;
const labels = Int32Array.from([2, 0, 1]);

// A scalar from any tensor: a weighted sum with fixed weights, so every gradient element matters.
function weightedSum(t: Tensor, seed = 99): Tensor {
  return t.mul(rand(t.shape, seed)).sum();
}

// Values kept away from 0 so ReLU/abs/clamp kinks are not straddled by the differences.
function awayFromZero(shape: number[], seed: number): Tensor {
  const t = rand(shape, seed);
  const v = t.data;
  for (let i = 0; i < v.length; i++) v[i] = Math.sign(v[i] || 1) * (0.1 + Math.abs(v[i]));
  return t;
}

interface Case {
  name: string;
  inputs: () => Tensor[];
  f: (xs: Tensor[]) => Tensor;
}

const bnState = () => ({ runningMean: zeros([3], 'float64'), runningVar: zeros([3], 'float64').add(1), momentum: 0.1, eps: 1e-5 });

const cases: Case[] = [
  { name: 'add (broadcast)', inputs: () => [rand([2, 3], 1), rand([3], 2)], f: ([a, b]) => weightedSum(a.add(b)) },
  { name: 'sub (broadcast)', inputs: () => [rand([2, 1, 3], 1), rand([4, 1], 2)], f: ([a, b]) => weightedSum(a.sub(b)) },
  { name: 'mul (broadcast)', inputs: () => [rand([2, 3], 1), rand([2, 1], 2)], f: ([a, b]) => weightedSum(a.mul(b)) },
  { name: 'div (broadcast)', inputs: () => [rand([2, 3], 1), randUniform([3], 0.5, 2, 2)], f: ([a, b]) => weightedSum(a.div(b)) },
  { name: 'affine', inputs: () => [rand([5], 1)], f: ([a]) => weightedSum(a.mul(3).add(-2)) },
  { name: 'maximum', inputs: () => [rand([6], 1), rand([6], 2)], f: ([a, b]) => weightedSum(ops.maximum(a, b)) },
  { name: 'neg', inputs: () => [rand([4], 1)], f: ([a]) => weightedSum(a.neg()) },
  { name: 'exp', inputs: () => [rand([4], 1)], f: ([a]) => weightedSum(a.exp()) },
  { name: 'log', inputs: () => [randUniform([4], 0.5, 3, 1)], f: ([a]) => weightedSum(a.log()) },
  { name: 'relu', inputs: () => [awayFromZero([7], 1)], f: ([a]) => weightedSum(a.relu()) },
  // b small beside a, which stays at least 0.1 from 0: so does a + b, and the finite
  // differences do not straddle the kink
  {
    name: 'addRelu (broadcast)',
    inputs: () => [awayFromZero([2, 3], 1), awayFromZero([3], 2).mul(0.01)],
    f: ([a, b]) => weightedSum(ops.addRelu(a, b)),
  },
  { name: 'sqrt', inputs: () => [randUniform([4], 0.5, 3, 1)], f: ([a]) => weightedSum(a.sqrt()) },
  { name: 'rsqrt', inputs: () => [randUniform([4], 0.5, 3, 1)], f: ([a]) => weightedSum(ops.unaryOp('rsqrt', a)) },
  { name: 'abs', inputs: () => [awayFromZero([5], 1)], f: ([a]) => weightedSum(a.abs()) },
  { name: 'square', inputs: () => [rand([5], 1)], f: ([a]) => weightedSum(a.square()) },
  { name: 'reciprocal', inputs: () => [randUniform([4], 0.5, 3, 1)], f: ([a]) => weightedSum(ops.unaryOp('reciprocal', a)) },
  { name: 'tanh', inputs: () => [rand([4], 1)], f: ([a]) => weightedSum(a.tanh()) },
  { name: 'sigmoid', inputs: () => [rand([4], 1)], f: ([a]) => weightedSum(a.sigmoid()) },
  { name: 'clamp', inputs: () => [rand([8], 1).mul(2)], f: ([a]) => weightedSum(a.clamp(-0.7, 0.9)) },
  { name: 'sum over axes', inputs: () => [rand([2, 3, 4], 1)], f: ([a]) => weightedSum(a.sum([0, 2])) },
  { name: 'mean keepDims', inputs: () => [rand([2, 3, 4], 1)], f: ([a]) => weightedSum(a.mean(1, true)) },
  { name: 'max over axis', inputs: () => [rand([3, 5], 1)], f: ([a]) => weightedSum(a.max(1)) },
  { name: 'matmul', inputs: () => [rand([3, 4], 1), rand([4, 2], 2)], f: ([a, b]) => weightedSum(ops.matmul(a, b)) },
  { name: 'matmul of transposed views', inputs: () => [rand([4, 3], 1), rand([2, 4], 2)], f: ([a, b]) => weightedSum(ops.matmul(a.T, b.T)) },
  { name: 'linear', inputs: () => [rand([3, 4], 1), rand([5, 4], 2), rand([5], 3)], f: ([x, w, b]) => weightedSum(ops.linear(x, w, b)) },
  { name: 'linear + ReLU', inputs: () => [rand([3, 4], 1), rand([5, 4], 2), rand([5], 3)], f: ([x, w, b]) => weightedSum(ops.linear(x, w, b, true)) },
  { name: 'softmax', inputs: () => [rand([3, 4], 1)], f: ([a]) => weightedSum(ops.softmax(a)) },
  { name: 'logSoftmax', inputs: () => [rand([3, 4], 1)], f: ([a]) => weightedSum(ops.logSoftmax(a)) },
  { name: 'cross-entropy', inputs: () => [rand([3, 4], 1)], f: ([a]) => ops.crossEntropy(a, labels) },
  {
    name: 'conv2d stride 2 pad 1',
    inputs: () => [rand([2, 2, 5, 4], 1), rand([3, 2, 3, 2], 2)],
    f: ([x, w]) => weightedSum(ops.conv2d(x, w, { stride: 2, padding: 1 })),
  },
  { name: 'conv2d 1x1', inputs: () => [rand([1, 3, 3, 3], 1), rand([2, 3, 1, 1], 2)], f: ([x, w]) => weightedSum(ops.conv2d(x, w)) },
  { name: 'maxPool2d', inputs: () => [rand([2, 2, 4, 5], 1)], f: ([x]) => weightedSum(ops.maxPool2d(x, { kernel: 2 })) },
  {
    name: 'maxPool2d overlapping, padded',
    inputs: () => [rand([1, 2, 5, 5], 1)],
    f: ([x]) => weightedSum(ops.maxPool2d(x, { kernel: 3, stride: 2, padding: 1 })),
  },
  {
    name: 'avgPool2d padded',
    inputs: () => [rand([2, 2, 4, 4], 1)],
    f: ([x]) => weightedSum(ops.avgPool2d(x, { kernel: 3, stride: 2, padding: 1 })),
  },
  { name: 'adaptiveAvgPool2d', inputs: () => [rand([1, 2, 5, 3], 1)], f: ([x]) => weightedSum(ops.adaptiveAvgPool2d(x, 3, 2)) },
  {
    name: 'batchNorm training',
    inputs: () => [rand([4, 3, 2, 2], 1), rand([3], 2), rand([3], 3)],
    f: ([x, g, b]) => weightedSum(ops.batchNorm(x, g, b, bnState(), true)),
  },
  {
    name: 'batchNorm eval',
    inputs: () => [rand([4, 3], 1), rand([3], 2), rand([3], 3)],
    f: ([x, g, b]) => weightedSum(ops.batchNorm(x, g, b, bnState(), false)),
  },
  {
    name: 'batchNorm + ReLU training',
    inputs: () => [rand([4, 3, 2, 2], 4), rand([3], 5), rand([3], 6)],
    f: ([x, g, b]) => weightedSum(ops.batchNorm(x, g, b, bnState(), true, true)),
  },
  {
    name: 'batchNorm + ReLU eval',
    inputs: () => [rand([4, 3, 2, 2], 7), rand([3], 8), rand([3], 9)],
    f: ([x, g, b]) => weightedSum(ops.batchNorm(x, g, b, bnState(), false, true)),
  },
  { name: 'dropout (fixed mask)', inputs: () => [rand([20], 1)], f: ([x]) => weightedSum(ops.dropout(x, 0.3, true, new SimpleRandom(5))) },
  { name: 'reshape, permute, transpose', inputs: () => [rand([2, 3, 4], 1)], f: ([x]) => weightedSum(x.permute([2, 0, 1]).reshape([4, 6]).T) },
  { name: 'expand', inputs: () => [rand([3, 1], 1)], f: ([x]) => weightedSum(x.expand([2, 3, 4])) },
  { name: 'slice with step', inputs: () => [rand([3, 7], 1)], f: ([x]) => weightedSum(x.slice(1, 1, 7, 3)) },
  {
    name: 'pad',
    inputs: () => [rand([2, 3], 1)],
    f: ([x]) =>
      weightedSum(
        ops.pad(x, [
          [1, 2],
          [0, 1],
        ]),
      ),
  },
  { name: 'concat', inputs: () => [rand([2, 3], 1), rand([2, 2], 2)], f: ([a, b]) => weightedSum(ops.concat([a, b], 1)) },
];

describe('first derivatives', () => {
  for (const c of cases) {
    test(c.name, () => {
      const r = gradCheck(c.f, c.inputs());
      assert.ok(r.maxRelErr < TOL, `${c.name}: max scaled error ${r.maxRelErr} at ${r.worst}`);
    });
  }
});

// d/dx of <grad f(x), u>: exercises the backward functions' own backward.
describe('second derivatives (double backward)', () => {
  const smooth = new Set(['maximum', 'relu', 'abs', 'clamp', 'max over axis', 'linear + ReLU', 'maxPool2d', 'maxPool2d overlapping, padded']);
  for (const c of cases) {
    test(c.name, () => {
      const inputs = c.inputs();
      const directions = inputs.map((t, i) => rand(t.shape, 50 + i));
      const gradDot = (xs: Tensor[]): Tensor => {
        const gs = grad(c.f(xs), xs, { createGraph: true, allowUnused: true });
        let acc: Tensor | null = null;
        gs.forEach((g, i) => {
          if (!g) return;
          // a nonlinear use of the gradient so that piecewise-linear ops still have a
          // non-zero second derivative through it
          const term = smooth.has(c.name) ? g.mul(directions[i]).sum().square() : g.mul(directions[i]).sum();
          acc = acc ? acc.add(term) : term;
        });
        return acc ?? zeros([], 'float64');
      };
      const probe = gradDot(inputs.map((t) => t.detach().requireGrad()));
      if (!probe.requiresGrad) return; // linear in every input: the second derivative is zero
      const r = gradCheck(gradDot, inputs);
      assert.ok(r.maxRelErr < TOL, `${c.name}: max scaled error ${r.maxRelErr} at ${r.worst}`);
    });
  }
});
