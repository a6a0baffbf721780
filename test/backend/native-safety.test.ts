// Bad calls into the native addon throw a JS TypeError or RangeError naming the kernel
// and the argument; none may crash the process or reach a kernel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConvGeom, PoolGeom } from '../../src/backend/kernels.ts';
import { nk, skipReason } from './native-helpers.ts';

const opts = { skip: skipReason };
const f32 = (n: number) => new Float32Array(n);
const call =
  (fn: unknown, ...args: unknown[]) =>
  () =>
    (fn as (...a: unknown[]) => void)(...args);

const geom: ConvGeom = { n: 2, c: 3, h: 5, w: 5, oc: 4, kh: 3, kw: 3, strideH: 1, strideW: 1, padH: 0, padW: 0, oh: 3, ow: 3 };
const poolG: PoolGeom = { n: 1, c: 2, h: 4, w: 4, kh: 2, kw: 2, strideH: 2, strideW: 2, padH: 0, padW: 0, oh: 2, ow: 2 };
const adamArgs = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, step: 1, clip: 0 };

test('bad argument counts, types and values throw errors naming the kernel and argument', opts, () => {
  const k = nk();
  const a = f32(6);
  const shared = f32(300);
  const cases: [string, () => void, RegExp, ErrorConstructor][] = [
    ['too few arguments', call(k.matmul, a, a, 2, 3, 2, false, false), /native matmul: expected 8 arguments, got 7/, TypeError],
    ['Float64Array', call(k.matmul, new Float64Array(6), a, 2, 3, 2, false, false, f32(4)), /native matmul: a must be a Float32Array/, TypeError],
    ['wrong length', call(k.matmul, f32(5), a, 2, 3, 2, false, false, f32(4)), /native matmul: a has length 5, expected 6/, RangeError],
    ['fractional dim', call(k.matmul, a, a, 1.5, 4, 1, false, false, f32(1)), /native matmul: m must be an integer/, RangeError],
    ['negative dim', call(k.matmul, a, a, -2, 3, 2, false, false, f32(4)), /native matmul: m must be an integer/, RangeError],
    ['zero dim', call(k.matmul, a, a, 0, 3, 2, false, false, f32(0)), /native matmul: m must be an integer in \[1/, RangeError],
    ['NaN dim', call(k.matmul, a, a, NaN, 3, 2, false, false, f32(4)), /native matmul: m must be finite/, RangeError],
    ['string dim', call(k.matmul, a, a, '2', 3, 2, false, false, f32(4)), /native matmul: m must be a number/, TypeError],
    ['non-boolean flag', call(k.matmul, a, a, 2, 3, 2, 0, false, f32(4)), /native matmul: transA must be a boolean/, TypeError],
    ['huge dims', call(k.matmul, a, a, 2 ** 30, 2 ** 30, 2, false, false, f32(4)), /native matmul: a has more than 2\^31 elements/, RangeError],
    ['scaledSum length', call(k.scaledSum, a, 0.5, a, f32(5), f32(6)), /native scaledSum: z has length 5, expected 6/, RangeError],
    [
      'scaledSum partial overlap',
      call(k.scaledSum, shared.subarray(0, 6), 0.5, a, a, shared.subarray(3, 9)),
      /native scaledSum: out overlaps x in memory/,
      RangeError,
    ],
    [
      'scaledSumOuter a length',
      call(k.scaledSumOuter, a, 0.5, a, f32(3), a, 2, 2, 3, f32(6)),
      /native scaledSumOuter: a has length 3, expected 4/,
      RangeError,
    ],
    [
      'scaledSumOuter out inside b',
      call(k.scaledSumOuter, a, 0.5, a, f32(4), shared.subarray(0, 6), 2, 2, 3, shared.subarray(0, 6)),
      /native scaledSumOuter: out overlaps b in memory/,
      RangeError,
    ],
    ['bias length', call(k.linear, a, a, f32(3), 2, 3, 2, false, f32(4)), /native linear: bias has length 3, expected 2/, RangeError],
    ['unknown op', call(k.binary, 'xor', a, 0, [1], a, 0, [1], [6], f32(6)), /native binary: op "xor" is not a known op/, RangeError],
    [
      'strides out of bounds',
      call(k.binary, 'add', a, 0, [2], a, 0, [1], [6], f32(6)),
      /native binary: a offset and strides reach elements \[0, 10\]/,
      RangeError,
    ],
    ['negative reach', call(k.stridedCopy, a, 0, [-1], [3], f32(3)), /native stridedCopy: x offset and strides reach elements \[-2, 0\]/, RangeError],
    ['rank mismatch', call(k.binary, 'add', a, 0, [1, 1], a, 0, [1], [6], f32(6)), /native binary: aStrides, bStrides and outShape/, RangeError],
    ['scatter beyond out', call(k.stridedScatterAdd, a, [6], 1, [1], f32(6)), /native stridedScatterAdd: out offset and strides reach/, RangeError],
    ['mask length', call(k.reduce, 'sum', a, [2, 3], [true], f32(3)), /native reduce: reduceMask and shape/, RangeError],
    [
      'label out of range',
      call(k.softmaxCrossEntropy, f32(20), Int32Array.from([1, 10]), 2, 10, f32(2), f32(20)),
      /native softmaxCrossEntropy: labels\[1\] = 10 is not a class index in \[0, 10\)/,
      RangeError,
    ],
    ['negative label', call(k.softmaxCrossEntropy, f32(20), Int32Array.from([-1, 0]), 2, 10, f32(2), f32(20)), /labels\[0\] = -1/, RangeError],
    [
      'float labels',
      call(k.softmaxCrossEntropy, f32(20), f32(2), 2, 10, f32(2), f32(20)),
      /native softmaxCrossEntropy: labels must be a Int32Array/,
      TypeError,
    ],
    [
      'argmax out of range',
      call(k.maxPool2dBackward, f32(2), Int32Array.from([0, 9]), f32(9)),
      /native maxPool2dBackward: argmax\[1\] = 9 is outside dx/,
      RangeError,
    ],
    [
      'index out of range',
      call(k.gatherIndex, f32(4), Int32Array.from([-2]), f32(1)),
      /native gatherIndex: index\[0\] = -2 is outside g/,
      RangeError,
    ],
    [
      'conv output size',
      call(k.conv2d, f32(150), f32(108), { ...geom, oh: 4 }, f32(72)),
      /native conv2d: g.oh x g.ow is 4x3, expected 3x3/,
      RangeError,
    ],
    [
      'conv missing field',
      call(k.conv2d, f32(150), f32(108), { ...geom, kw: undefined }, f32(72)),
      /native conv2d: g.kw must be a number/,
      TypeError,
    ],
    [
      'conv geometry not an object',
      call(k.conv2dBackwardWeight, f32(150), f32(72), 7, f32(108)),
      /native conv2dBackwardWeight: g must be an object/,
      TypeError,
    ],
    [
      'fused backward gradient length',
      call(k.conv2dFusedBackward, f32(150), f32(108), f32(72), f32(72), geom, true, f32(150), f32(107), null),
      /native conv2dFusedBackward: dw has length 107, expected 108/,
      RangeError,
    ],
    [
      'fused backward dx over dy',
      call(k.conv2dFusedBackward, f32(150), f32(108), f32(72), shared.subarray(0, 72), geom, true, shared.subarray(50, 200), null, null),
      /native conv2dFusedBackward: dx overlaps dy in memory/,
      RangeError,
    ],
    [
      'fused backward relu flag',
      call(k.conv2dFusedBackward, f32(150), f32(108), f32(72), f32(72), geom, 1, null, null, null),
      /native conv2dFusedBackward: relu must be a boolean/,
      TypeError,
    ],
    [
      'fused backward argument count',
      call(k.conv2dFusedBackward, f32(150), f32(108), f32(72), f32(72), geom, true, null, null),
      /native conv2dFusedBackward: expected 9 arguments, got 8/,
      TypeError,
    ],
    [
      'conv zero stride',
      call(k.conv2dBackwardInput, f32(72), f32(108), { ...geom, strideH: 0 }, f32(150)),
      /native conv2dBackwardInput: g.strideH must be an integer in \[1/,
      RangeError,
    ],
    [
      'pool windows',
      call(k.maxPool2d, f32(32), { ...poolG, oh: 4 }, f32(16), new Int32Array(16)),
      /native maxPool2d: g.oh x g.ow is 4x2, at most 2x2/,
      RangeError,
    ],
    ['pool argmax type', call(k.maxPool2d, f32(32), poolG, f32(8), f32(8)), /native maxPool2d: argmax must be a Int32Array/, TypeError],
    [
      'adam step 0',
      call(k.adamUpdate, f32(3), f32(3), f32(3), f32(3), { ...adamArgs, step: 0 }),
      /native adamUpdate: args.step must be an integer in \[1/,
      RangeError,
    ],
    [
      'adam missing lr',
      call(k.adamUpdate, f32(3), f32(3), f32(3), f32(3), { ...adamArgs, lr: undefined }),
      /native adamUpdate: args.lr must be a number/,
      TypeError,
    ],
    [
      'sgd buffer length',
      call(k.sgdUpdate, f32(3), f32(3), f32(2), { lr: 0.1, momentum: 0.9, dampening: 0, weightDecay: 0, nesterov: false, firstStep: true, clip: 0 }),
      /native sgdUpdate: buf has length 2, expected 3/,
      RangeError,
    ],
    [
      'batchNorm eps',
      call(k.batchNorm, f32(6), f32(2), f32(2), 3, 2, 1, true, 0.1, -1, f32(2), f32(2), f32(6), f32(2), f32(2), false),
      /native batchNorm: eps must be >= 0/,
      RangeError,
    ],
    [
      'batchNormBackward reluOut length',
      call(k.batchNormBackward, f32(6), f32(6), f32(2), f32(2), f32(2), 3, 2, 1, true, f32(6), f32(2), f32(2), f32(5)),
      /native batchNormBackward: reluOut has length 5, expected 6/,
      RangeError,
    ],
    [
      'batchNorm relu not a boolean',
      call(k.batchNorm, f32(6), f32(2), f32(2), 3, 2, 1, true, 0.1, 1e-5, f32(2), f32(2), f32(6), f32(2), f32(2), 1),
      /native batchNorm: relu must be a boolean/,
      TypeError,
    ],
  ];
  for (const [what, fn, message, type] of cases) {
    assert.throws(
      fn,
      (e: Error) => {
        assert.ok(e instanceof type, `${what}: expected a ${type.name}, got ${e.name}: ${e.message}`);
        assert.match(e.message, message, what);
        return true;
      },
      what,
    );
  }
});

test('outputs that overlap inputs are rejected unless elementwise in place', opts, () => {
  const k = nk();
  const buf = f32(256);
  const cases: [string, () => void, RegExp][] = [
    [
      'matmul out is a',
      call(k.matmul, buf.subarray(0, 4), buf.subarray(4, 8), 2, 2, 2, false, false, buf.subarray(0, 4)),
      /native matmul: out overlaps a/,
    ],
    [
      'matmul out overlaps b',
      call(k.matmul, buf.subarray(0, 4), buf.subarray(4, 8), 2, 2, 2, false, false, buf.subarray(6, 10)),
      /native matmul: out overlaps b/,
    ],
    ['unary partial overlap', call(k.unary, 'exp', buf.subarray(0, 10), buf.subarray(5, 15)), /native unary: out overlaps x/],
    [
      'binary shifted',
      call(k.binary, 'add', buf, 1, [1], buf, 0, [1], [10], buf.subarray(0, 10)),
      /native binary: out overlaps a other than element for element/,
    ],
    [
      'conv dw overlaps x',
      call(k.conv2dBackwardWeight, buf.subarray(0, 50), f32(36), { ...geom, n: 1, c: 2 }, buf.subarray(40, 112)),
      /native conv2dBackwardWeight: dw overlaps x/,
    ],
    [
      'conv2dFused out overlaps bias',
      call(k.conv2dFused, f32(150), f32(108), buf.subarray(0, 4), geom, true, buf.subarray(0, 72)),
      /native conv2dFused: out overlaps bias/,
    ],
    ['conv2dFused bias of the wrong length', call(k.conv2dFused, f32(150), f32(108), f32(3), geom, false, f32(72)), /native conv2dFused: bias/],
    [
      'adam m is grad',
      call(k.adamUpdate, buf.subarray(0, 3), buf.subarray(3, 6), buf.subarray(3, 6), buf.subarray(9, 12), adamArgs),
      /native adamUpdate: grad overlaps m/,
    ],
    [
      'batchNorm out overlaps running mean',
      call(k.batchNorm, f32(6), f32(2), f32(2), 3, 2, 1, true, 0.1, 1e-5, buf.subarray(0, 2), f32(2), buf.subarray(0, 6), f32(2), f32(2), false),
      /native batchNorm: out overlaps runningMean/,
    ],
    [
      'cross-entropy loss inside probs',
      call(k.softmaxCrossEntropy, f32(20), Int32Array.from([0, 1]), 2, 10, buf.subarray(0, 2), buf.subarray(0, 20)),
      /native softmaxCrossEntropy: loss overlaps probs/,
    ],
  ];
  for (const [what, fn, message] of cases) assert.throws(fn, message, what);

  const x = Float32Array.from([1, -2, 3]);
  k.unary('relu', x, x);
  assert.deepEqual(Array.from(x), [1, 0, 3]);
  const a = Float32Array.from([1, 2, 3, 4]);
  k.binary('mul', a, 0, [2, 1], Float32Array.from([10, 100]), 0, [0, 1], [2, 2], a);
  assert.deepEqual(Array.from(a), [10, 200, 30, 400]);
});

test('the process survives a burst of bad calls and the kernels still work', opts, () => {
  const k = nk();
  for (let i = 0; i < 1000; i++) {
    assert.throws(() => k.gatherIndex(f32(4), Int32Array.from([i + 4]), f32(1)));
    assert.throws(() => (k.unary as (...a: unknown[]) => void)('exp', null, f32(1)));
  }
  const out = f32(4);
  k.matmul(Float32Array.from([1, 2, 3, 4]), Float32Array.from([1, 0, 0, 1]), 2, 2, 2, false, false, out);
  assert.deepEqual(Array.from(out), [1, 2, 3, 4]);
});
