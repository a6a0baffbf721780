// The native backend against the reference (src/backend/ref): GEMM, elementwise,
// reductions, strided copies and the softmax family, on awkward shapes, on every SIMD
// path this CPU has. Layer kernels: native-nn.test.ts; bad calls: native-safety.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BINARY_OPS, UNARY_OPS, type UnaryOp } from '../../src/backend/kernels.ts';
import { refKernels as ref } from '../../src/backend/ref/index.ts';
import { detectedNativeIsa, setNativeIsa, setNativeThreads } from '../../src/backend/native/index.ts';
import { ISAS, assertClose, assertSame, nk, prng, randArray, skipReason, withIsa } from './native-helpers.ts';

const opts = { skip: skipReason };

const MATMUL_SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [1, 784, 256],
  [256, 784, 1],
  [3, 5, 7],
  [127, 129, 257],
  [257, 3, 129],
  [129, 257, 1],
  [1, 257, 3],
  [64, 1, 100],
  [128, 784, 256],
  [128, 256, 256],
  [256, 128, 784],
  [13, 300, 17],
  // skinny (M or N <= 4: unpacked, threaded) and low-rank (K <= 4: outer products) paths
  [2, 784, 512],
  [4, 257, 129],
  [3, 129, 33],
  [257, 300, 2],
  [129, 127, 4],
  [256, 2, 784],
  [257, 4, 129],
  [5, 3, 300],
];

for (const isa of ISAS) {
  test(`matmul matches the reference for every transpose on awkward shapes (${isa})`, opts, () => {
    withIsa(isa, () => {
      const rng = prng(1);
      for (const [m, k, n] of MATMUL_SHAPES) {
        for (const transA of [false, true]) {
          for (const transB of [false, true]) {
            const a = randArray(rng, m * k);
            const b = randArray(rng, k * n);
            const want = new Float32Array(m * n);
            const got = new Float32Array(m * n);
            ref.matmul(a, b, m, k, n, transA, transB, want);
            nk().matmul(a, b, m, k, n, transA, transB, got);
            assertClose(got, want, 1e-5 * Math.sqrt(k), 1e-4, `matmul ${m}x${k}x${n} tA=${transA} tB=${transB}`);
          }
        }
      }
    });
  });

  test(`linear fuses bias and ReLU as the reference (${isa})`, opts, () => {
    withIsa(isa, () => {
      const rng = prng(2);
      for (const [m, k, n] of [
        [1, 784, 256],
        [128, 256, 10],
        [127, 129, 257],
        [3, 1, 5],
        [128, 784, 256],
        [2, 256, 512],
        [4, 129, 33],
        [300, 64, 3],
        [256, 2, 129],
      ]) {
        for (const withBias of [false, true]) {
          for (const relu of [false, true]) {
            const x = randArray(rng, m * k);
            const w = randArray(rng, n * k);
            const bias = withBias ? randArray(rng, n) : null;
            const want = new Float32Array(m * n);
            const got = new Float32Array(m * n);
            ref.linear(x, w, bias, m, k, n, relu, want);
            nk().linear(x, w, bias, m, k, n, relu, got);
            assertClose(got, want, 1e-5 * Math.sqrt(k), 1e-4, `linear ${m}x${k}x${n} bias=${withBias} relu=${relu}`);
          }
        }
      }
    });
  });
}

test('matmul and linear give bit-identical results on repeated calls with the same thread count', opts, () => {
  const rng = prng(3);
  const [m, k, n] = [257, 300, 129];
  const a = randArray(rng, m * k);
  const b = randArray(rng, k * n);
  const first = new Float32Array(m * n);
  nk().matmul(a, b, m, k, n, false, false, first);
  for (let rep = 0; rep < 5; rep++) {
    const again = new Float32Array(m * n);
    nk().matmul(a, b, m, k, n, false, false, again);
    assertSame(again, first, `matmul repeat ${rep}`);
  }
});

test('matmul agrees with the reference on 1 and 3 threads too', opts, () => {
  const rng = prng(4);
  try {
    for (const threads of [1, 3]) {
      setNativeThreads(threads);
      for (const [m, k, n] of [
        [128, 784, 256],
        [257, 129, 127],
        [2, 784, 512],
        [300, 2, 257],
      ]) {
        const a = randArray(rng, m * k);
        const b = randArray(rng, k * n);
        const want = new Float32Array(m * n);
        const got = new Float32Array(m * n);
        ref.matmul(a, b, m, k, n, false, true, want);
        nk().matmul(a, b, m, k, n, false, true, got);
        assertClose(got, want, 1e-5 * Math.sqrt(k), 1e-4, `matmul ${m}x${k}x${n} on ${threads} threads`);
      }
    }
  } finally {
    setNativeThreads(0);
  }
});

function contiguousStrides(shape: number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    s[d] = acc;
    acc *= shape[d];
  }
  return s;
}

// [description, outShape, a (length, offset, strides), b (length, offset, strides)]
type Operand = [number, number, number[]];
const BROADCASTS: [string, number[], Operand, Operand][] = [
  ['same shape', [127, 129], [127 * 129, 0, [129, 1]], [127 * 129, 0, [129, 1]]],
  ['scalar b', [257, 3], [771, 0, [3, 1]], [1, 0, [0, 0]]],
  ['scalar a', [129], [1, 0, [0]], [129, 0, [1]]],
  ['row (bias)', [128, 257], [128 * 257, 0, [257, 1]], [257, 0, [0, 1]]],
  ['column', [128, 10], [1280, 0, [10, 1]], [128, 0, [1, 0]]],
  ['channel', [4, 3, 5, 7], [420, 0, [105, 35, 7, 1]], [3, 0, [0, 1, 0, 0]]],
  ['transposed a with offset', [5, 9], [60, 3, [1, 5]], [45, 0, [9, 1]]],
  ['flipped b', [3, 7], [21, 0, [7, 1]], [21, 20, [-7, -1]]],
  ['rank 0', [], [1, 0, []], [1, 0, []]],
  ['empty', [3, 0, 2], [0, 0, [0, 2, 1]], [0, 0, [0, 2, 1]]],
];

test('binary matches the reference for every op and broadcast pattern', opts, () => {
  const rng = prng(5);
  for (const op of BINARY_OPS) {
    for (const [what, shape, [aLen, aOff, aStrides], [bLen, bOff, bStrides]] of BROADCASTS) {
      // pow on positive bases; div away from zero; eq needs some equal pairs
      const a = op === 'pow' ? randArray(rng, aLen, 0.1, 2) : randArray(rng, aLen);
      const b = op === 'div' ? randArray(rng, bLen, 0.5, 2) : randArray(rng, bLen);
      if (op === 'eq') for (let i = 0; i < Math.min(aLen, bLen); i += 2) a[i] = b[i];
      const n = shape.reduce((p, d) => p * d, 1);
      const want = new Float32Array(n);
      const got = new Float32Array(n);
      ref.binary(op, a, aOff, aStrides, b, bOff, bStrides, shape, want);
      nk().binary(op, a, aOff, aStrides, b, bOff, bStrides, shape, got);
      assertClose(got, want, 0, op === 'pow' ? 1e-6 : 0, `binary ${op} ${what}`);
    }
  }
});

test('binary runs in place when out is a, element for element', opts, () => {
  const rng = prng(6);
  const shape = [300, 257];
  const a = randArray(rng, 300 * 257);
  const b = randArray(rng, 257);
  const want = new Float32Array(a.length);
  ref.binary('add', a, 0, contiguousStrides(shape), b, 0, [0, 1], shape, want);
  nk().binary('add', a, 0, contiguousStrides(shape), b, 0, [0, 1], shape, a);
  assertClose(a, want, 0, 0, 'in-place add');
});

const UNARY_DOMAIN: Partial<Record<UnaryOp, [number, number]>> = { log: [0.01, 5], sqrt: [0, 5], rsqrt: [0.01, 5] };

test('unary, affine, clamp and clampBackward match the reference', opts, () => {
  const rng = prng(7);
  for (const n of [1, 3, 127, 129, 257, 100_003]) {
    for (const op of UNARY_OPS) {
      const [lo, hi] = UNARY_DOMAIN[op] ?? [-4, 4];
      const x = randArray(rng, n, lo, hi);
      if (n > 3) x[1] = 0;
      const want = new Float32Array(n);
      const got = new Float32Array(n);
      ref.unary(op, x, want);
      nk().unary(op, x, got);
      assertClose(got, want, 0, 2e-7, `unary ${op} n=${n}`);
    }
    const x = randArray(rng, n, -3, 3);
    const dy = randArray(rng, n);
    for (const [name, run] of [
      ['affine', (k: typeof ref, out: Float32Array) => k.affine(x, -1.7, 0.25, out)],
      ['scaledSum', (k: typeof ref, out: Float32Array) => k.scaledSum(x, 0.99, dy, x, out)],
      [
        'scaledSum in place',
        (k: typeof ref, out: Float32Array) => {
          out.set(x);
          k.scaledSum(out, -1.7, dy, dy, out);
        },
      ],
      ['clamp', (k: typeof ref, out: Float32Array) => k.clamp(x, -0.5, 1.25, out)],
      ['clamp lo > hi', (k: typeof ref, out: Float32Array) => k.clamp(x, 1, -1, out)],
      ['clampBackward', (k: typeof ref, out: Float32Array) => k.clampBackward(x, dy, -0.5, 1.25, out)],
    ] as const) {
      const want = new Float32Array(n);
      const got = new Float32Array(n);
      run(ref, want);
      run(nk(), got);
      assertClose(got, want, 0, 0, `${name} n=${n}`);
    }
  }
});

test(
  'scaledSumOuter and scaledSum match the reference exactly (awkward shapes, in place, every ISA path and thread count), and the GEMM + scaledSum path closely',
  opts,
  () => {
    const rng = prng(11);
    try {
      for (const [m, k, n] of [
        [1, 1, 1],
        [3, 2, 5],
        [10, 2, 256],
        [256, 1, 784],
        [257, 3, 129],
        [64, 8, 1000],
      ]) {
        const x = randArray(rng, m * n, -3, 3);
        const y = randArray(rng, m * n);
        const a = randArray(rng, k * m);
        const b = randArray(rng, k * n);
        const want = new Float32Array(m * n);
        ref.scaledSumOuter(x, 0.9, y, a, b, m, k, n, want);
        const wantSum = new Float32Array(m * n);
        ref.scaledSum(x, 0.9, y, x, wantSum);
        for (const isa of ['avx512', 'avx2', 'generic'] as const) {
          withIsa(isa, () => {
            for (const threads of [1, 2, 3]) {
              setNativeThreads(threads);
              const got = new Float32Array(m * n);
              nk().scaledSumOuter(x, 0.9, y, a, b, m, k, n, got);
              assertClose(got, want, 0, 0, `scaledSumOuter ${m}x${k}x${n}, ${isa}, ${threads} threads`);
              const inPlace = Float32Array.from(x);
              nk().scaledSumOuter(inPlace, 0.9, y, a, b, m, k, n, inPlace);
              assertClose(inPlace, want, 0, 0, `scaledSumOuter in place ${m}x${k}x${n}, ${isa}`);
              const sum = new Float32Array(m * n);
              nk().scaledSum(x, 0.9, y, x, sum);
              assertClose(sum, wantSum, 0, 0, `scaledSum ${m * n}, ${isa}, ${threads} threads`);
            }
          });
        }
        // the two-pass form it replaces in LiSSA: the float GEMM rounds a^T b once more
        const hv = new Float32Array(m * n);
        const twoPass = new Float32Array(m * n);
        nk().matmul(a, b, m, k, n, true, false, hv);
        nk().scaledSum(x, 0.9, y, hv, twoPass);
        assertClose(twoPass, want, 1e-5, 1e-6, `scaledSumOuter against matmul + scaledSum ${m}x${k}x${n}`);
      }
    } finally {
      setNativeThreads(0);
    }
  },
);

const REDUCTIONS: [number[], boolean[]][] = [
  [
    [127, 129],
    [false, true],
  ],
  [
    [127, 129],
    [true, false],
  ],
  [
    [127, 129],
    [true, true],
  ],
  [
    [127, 129],
    [false, false],
  ],
  [
    [128, 256],
    [true, false],
  ],
  [
    [4, 3, 5, 7],
    [true, false, true, true],
  ],
  [
    [4, 3, 5, 7],
    [false, true, false, true],
  ],
  [
    [2, 1, 257],
    [false, true, true],
  ],
  [[257], [true]],
  [[], []],
  [
    [1, 1],
    [true, true],
  ],
  [
    [128, 64, 30],
    [true, false, true],
  ],
];

test('reduce sum and max match the reference over any axes', opts, () => {
  const rng = prng(8);
  for (const op of ['sum', 'max'] as const) {
    for (const [shape, mask] of REDUCTIONS) {
      const n = shape.reduce((p, d) => p * d, 1);
      const outN = shape.reduce((p, d, i) => p * (mask[i] ? 1 : d), 1);
      const x = randArray(rng, n);
      const want = new Float32Array(outN);
      const got = new Float32Array(outN);
      ref.reduce(op, x, shape, mask, want);
      nk().reduce(op, x, shape, mask, got);
      // the reference sums in float32, so allow its own rounding error
      assertClose(got, want, op === 'sum' ? (2e-7 * n) / outN : 0, op === 'sum' ? 1e-5 : 0, `reduce ${op} [${shape}] mask [${mask}]`);
    }
  }
});

test('stridedCopy and stridedScatterAdd match the reference', opts, () => {
  const rng = prng(9);
  const cases: [string, number, number, number[], number[]][] = [
    ['permute', 60, 0, [1, 12, 4], [4, 5, 3]],
    ['slice with offset', 200, 23, [20, 2], [7, 5]],
    ['broadcast', 5, 1, [0, 1], [129, 4]],
    ['flip', 127, 126, [-1], [127]],
    ['contiguous', 257 * 3, 0, [3, 1], [257, 3]],
    ['rank 0', 4, 2, [], []],
  ];
  for (const [what, len, offset, strides, shape] of cases) {
    const x = randArray(rng, len);
    const n = shape.reduce((p, d) => p * d, 1);
    const want = new Float32Array(n);
    const got = new Float32Array(n);
    ref.stridedCopy(x, offset, strides, shape, want);
    nk().stridedCopy(x, offset, strides, shape, got);
    assertClose(got, want, 0, 0, `stridedCopy ${what}`);
    if (what === 'broadcast') continue; // scatter-add needs injective strides
    const src = randArray(rng, n);
    const base = randArray(rng, len);
    const wantOut = base.slice();
    const gotOut = base.slice();
    ref.stridedScatterAdd(src, shape, offset, strides, wantOut);
    nk().stridedScatterAdd(src, shape, offset, strides, gotOut);
    assertClose(gotOut, wantOut, 0, 0, `stridedScatterAdd ${what}`);
  }
});

test('softmax, logSoftmax and softmaxCrossEntropy match the reference', opts, () => {
  const rng = prng(10);
  for (const rows of [1, 3, 128]) {
    for (const cols of [1, 3, 10, 257]) {
      const x = randArray(rng, rows * cols, -8, 8);
      for (const kernel of ['softmax', 'logSoftmax'] as const) {
        const want = new Float32Array(rows * cols);
        const got = new Float32Array(rows * cols);
        ref[kernel](x, rows, cols, want);
        nk()[kernel](x, rows, cols, got);
        assertClose(got, want, 1e-7, 1e-6, `${kernel} ${rows}x${cols}`);
      }
      const labels = Int32Array.from({ length: rows }, () => Math.floor(rng() * cols));
      const wantLoss = new Float32Array(rows);
      const wantProbs = new Float32Array(rows * cols);
      const gotLoss = new Float32Array(rows);
      const gotProbs = new Float32Array(rows * cols);
      ref.softmaxCrossEntropy(x, labels, rows, cols, wantLoss, wantProbs);
      nk().softmaxCrossEntropy(x, labels, rows, cols, gotLoss, gotProbs);
      assertClose(gotLoss, wantLoss, 1e-6, 1e-6, `softmaxCrossEntropy loss ${rows}x${cols}`);
      assertClose(gotProbs, wantProbs, 1e-7, 1e-6, `softmaxCrossEntropy probs ${rows}x${cols}`);
    }
  }
});

test('softmax and softmaxCrossEntropy run in place', opts, () => {
  const rng = prng(11);
  const x = randArray(rng, 128 * 10, -5, 5);
  const want = new Float32Array(x.length);
  ref.softmax(x, 128, 10, want);
  const inPlace = x.slice();
  nk().softmax(inPlace, 128, 10, inPlace);
  assertClose(inPlace, want, 1e-7, 1e-6, 'softmax in place');
  const labels = Int32Array.from({ length: 128 }, (_, i) => i % 10);
  const wantLoss = new Float32Array(128);
  ref.softmaxCrossEntropy(x, labels, 128, 10, wantLoss, new Float32Array(x.length));
  const probs = x.slice();
  const loss = new Float32Array(128);
  nk().softmaxCrossEntropy(probs, labels, 128, 10, loss, probs);
  assertClose(loss, wantLoss, 1e-6, 1e-6, 'cross-entropy loss with probs over logits');
  assertClose(probs, want, 1e-7, 1e-6, 'cross-entropy probs over logits');
});

test('the SIMD path can be lowered to the portable one and restored', opts, () => {
  assert.equal(setNativeIsa('generic'), 'generic');
  assert.equal(setNativeIsa('avx512'), detectedNativeIsa());
});
