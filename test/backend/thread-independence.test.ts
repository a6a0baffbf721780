// A run's weights are a function of its config on a given SIMD path, not of the thread
// count: every native reduction (GEMM tiles, convolution weight and bias gradients, sums)
// splits its work into chunks fixed by the shape. Two training steps of LargeMLP, CNN002
// and ResNet20 at 1, 2 and 3 threads must give bit-identical weights on every ISA path.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setNativeIsa, setNativeThreads, type NativeIsa } from '../../src/backend/native/index.ts';
import { withBackend } from '../../src/backend/registry.ts';
import { RandomState } from '../../src/data/numpyRandom.ts';
import { createModel } from '../../src/nn/models/index.ts';
import { Adam, SGD } from '../../src/nn/optim/optimizer.ts';
import * as ops from '../../src/ops/index.ts';
import { uniform } from '../../src/tensor/tensor.ts';
import { skipReason } from './native-helpers.ts';

const opts = { skip: skipReason };

interface Case {
  model: string;
  shape: number[];
  info: { height: number; width: number; channels: number; numClasses: number };
  sgd: boolean;
}
const MNIST = { height: 28, width: 28, channels: 1, numClasses: 10 };
const CASES: Case[] = [
  { model: 'LargeMLP', shape: [128, 784], info: MNIST, sgd: false }, // big enough for tiled GEMMs
  { model: 'CNN002', shape: [13, 1, 28, 28], info: MNIST, sgd: false }, // odd batch: uneven chunks
  { model: 'ResNet20', shape: [5, 3, 16, 16], info: { height: 16, width: 16, channels: 3, numClasses: 10 }, sgd: true },
];

// The weights after two training steps (dropout and batch norm in training mode).
function trainedWeights(c: Case): Float32Array[] {
  const m = createModel(c.model, c.info, new RandomState(0));
  const x = uniform(c.shape, 0, 1, new RandomState(1));
  const y = Int32Array.from({ length: c.shape[0] }, (_, i) => (i * 7) % 10);
  const opt = c.sgd ? new SGD(m.parameters(), { lr: 0.1, momentum: 0.9, weightDecay: 1e-4 }) : new Adam(m.parameters(), { lr: 0.01 });
  for (let s = 0; s < 2; s++) {
    m.zeroGrad();
    ops.crossEntropy(m.forward(x), y).backward();
    opt.step();
  }
  return m.parameters().map((p) => Float32Array.from(p.values()));
}

function sameBits(a: Float32Array[], b: Float32Array[], what: string): void {
  a.forEach((t, i) => {
    const ua = new Uint32Array(t.buffer, t.byteOffset, t.length);
    const ub = new Uint32Array(b[i].buffer, b[i].byteOffset, b[i].length);
    for (let j = 0; j < ua.length; j++) if (ua[j] !== ub[j]) assert.fail(`${what}: parameter ${i} element ${j} is ${b[i][j]}, at 1 thread ${t[j]}`);
  });
}

const tested = new Set<string>(); // a CPU without AVX-512 runs AVX2 for both requests
for (const isa of ['avx512', 'avx2', 'generic'] as NativeIsa[]) {
  test(`training steps give bit-identical weights at 1, 2 and 3 threads (${isa})`, opts, (t) => {
    const got = setNativeIsa(isa);
    try {
      if (tested.has(got)) {
        t.skip(`this CPU runs ${got} for ${isa}, already tested`);
        return;
      }
      tested.add(got);
      withBackend('native', () => {
        for (const c of CASES) {
          setNativeThreads(1);
          const one = trainedWeights(c);
          for (const threads of [2, 3]) {
            setNativeThreads(threads);
            sameBits(one, trainedWeights(c), `${c.model} on ${got} at ${threads} threads`);
          }
        }
      });
    } finally {
      setNativeThreads(0);
      setNativeIsa('avx512');
    }
  });
}
