// The fused convolution layer (conv2d + bias + ReLU in one kernel): same values as the
// composite of primitives on every backend, and first and second derivatives against
// finite differences in float64.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Tensor } from '../../src/tensor/tensor.ts';
import * as ops from '../../src/ops/index.ts';
import { grad } from '../../src/autograd/tape.ts';
import { gradCheck } from '../../src/autograd/gradcheck.ts';
import { withBackend } from '../../src/backend/registry.ts';
import { assertClose, backendNames, rand } from '../helpers.ts';

const TOL = 1e-6;

function weightedSum(t: Tensor, seed = 99): Tensor {
  return t.mul(rand(t.shape, seed, t.dtype)).sum();
}

function composite(x: Tensor, w: Tensor, b: Tensor | null, opts: ops.Conv2dOptions, relu: boolean): Tensor {
  const y = ops.conv2d(x, w, opts);
  const z = b ? y.add(b.reshape([1, -1, 1, 1])) : y;
  return relu ? z.relu() : z;
}

interface Case {
  name: string;
  x: number[];
  w: number[];
  bias: boolean;
  relu: boolean;
  opts: ops.Conv2dOptions;
}
const cases: Case[] = [
  { name: '3x3 + bias + ReLU', x: [2, 2, 5, 6], w: [3, 2, 3, 3], bias: true, relu: true, opts: {} },
  { name: 'stride 2 pad 1 + bias', x: [2, 2, 5, 4], w: [3, 2, 3, 2], bias: true, relu: false, opts: { stride: 2, padding: 1 } },
  { name: '1x1 + ReLU, no bias', x: [1, 3, 3, 3], w: [2, 3, 1, 1], bias: false, relu: true, opts: {} },
];

for (const backend of backendNames()) {
  describe(`conv2dFused forward on ${backend}`, () => {
    // Awkward sizes: 7 output channels (not a multiple of any micro-tile), batch 1 and 9.
    const shapes: [number[], number[]][] = [
      [
        [1, 3, 9, 11],
        [7, 3, 3, 3],
      ],
      [
        [9, 5, 8, 8],
        [7, 5, 3, 3],
      ],
      [
        [3, 1, 28, 28],
        [32, 1, 3, 3],
      ],
    ];
    for (const [xs, ws] of shapes) {
      for (const relu of [false, true]) {
        test(`x ${xs.join('x')}, w ${ws.join('x')}, relu ${relu}`, () =>
          withBackend(backend, () => {
            const x = rand(xs, 1, 'float32'),
              w = rand(ws, 2, 'float32'),
              b = rand([ws[0]], 3, 'float32');
            for (const opts of [{}, { padding: 1 }, { stride: 2, padding: 1 }]) {
              const want = composite(x, w, b, opts, relu).values();
              assertClose(ops.conv2dFused(x, w, b, opts, relu).values(), want, 1e-5, 1e-4, `${backend} ${JSON.stringify(opts)}`);
            }
          }));
      }
    }
  });
}

describe('conv2dFused first derivatives', () => {
  for (const c of cases) {
    test(c.name, () => {
      const inputs = [rand(c.x, 1), rand(c.w, 2), ...(c.bias ? [rand([c.w[0]], 3)] : [])];
      const f = ([x, w, b]: Tensor[]) => weightedSum(ops.conv2dFused(x, w, b ?? null, c.opts, c.relu));
      const r = gradCheck(f, inputs);
      assert.ok(r.maxRelErr < TOL, `${c.name}: max scaled error ${r.maxRelErr} at ${r.worst}`);
      // and the same gradients as the composite of primitives
      const xs = inputs.map((t) => t.detach().requireGrad());
      const ys = inputs.map((t) => t.detach().requireGrad());
      const gf = grad(f(xs), xs);
      const gc = grad(weightedSum(composite(ys[0], ys[1], ys[2] ?? null, c.opts, c.relu)), ys);
      gf.forEach((g, i) => assertClose(g!.values(), gc[i]!.values(), 1e-12, 1e-10, `${c.name} input ${i}`));
    });
  }
});

// Without createGraph the backward is one kernel (conv2dFusedBackward): on every backend
// its float32 gradients match those of the composite, also when x needs none (a first layer).
for (const backend of backendNames()) {
  describe(`conv2dFused float32 gradients on ${backend}`, () => {
    for (const c of cases) {
      for (const xNeedsGrad of [true, false]) {
        test(`${c.name}, x ${xNeedsGrad ? 'with' : 'without'} gradient`, () =>
          withBackend(backend, () => {
            const fresh = () => [
              rand(c.x, 1, 'float32'),
              rand(c.w, 2, 'float32').requireGrad(),
              ...(c.bias ? [rand([c.w[0]], 3, 'float32').requireGrad()] : []),
            ];
            const xs = fresh();
            const ys = fresh();
            if (xNeedsGrad) {
              xs[0].requireGrad();
              ys[0].requireGrad();
            }
            const wanted = (ts: Tensor[]) => ts.filter((t) => t.requiresGrad);
            const gf = grad(weightedSum(ops.conv2dFused(xs[0], xs[1], xs[2] ?? null, c.opts, c.relu)), wanted(xs));
            const gc = grad(weightedSum(composite(ys[0], ys[1], ys[2] ?? null, c.opts, c.relu)), wanted(ys));
            gf.forEach((g, i) => assertClose(g!.values(), gc[i]!.values(), 1e-5, 1e-4, `${backend} ${c.name} gradient ${i}`));
          }));
      }
    }
  });
}

// d/dx of <grad f(x), u>, squared so that the ReLU's piecewise-linear case still has a
// non-zero second derivative.
describe('conv2dFused second derivatives (double backward)', () => {
  for (const c of cases) {
    test(c.name, () => {
      const inputs = [rand(c.x, 1), rand(c.w, 2), ...(c.bias ? [rand([c.w[0]], 3)] : [])];
      const directions = inputs.map((t, i) => rand(t.shape, 50 + i));
      const gradDot = (xs: Tensor[]): Tensor => {
        const gs = grad(weightedSum(ops.conv2dFused(xs[0], xs[1], xs[2] ?? null, c.opts, c.relu)), xs, { createGraph: true, allowUnused: true });
        let acc: Tensor | null = null;
        gs.forEach((g, i) => {
          if (!g) return;
          const term = g.mul(directions[i]).sum().square();
          acc = acc ? acc.add(term) : term;
        });
        return acc!;
      };
      const r = gradCheck(gradDot, inputs);
      assert.ok(r.maxRelErr < TOL, `${c.name}: max scaled error ${r.maxRelErr} at ${r.worst}`);
    });
  }
});
