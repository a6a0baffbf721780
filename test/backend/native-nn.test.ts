// The native layer kernels against the reference: convolution (CNN002 and ResNet shapes),
// pooling and the optimizer updates, forward and backward (batch norm: native-batchnorm.test.ts).
import { test } from 'node:test';
import type { ConvGeom, PoolGeom } from '../../src/backend/kernels.ts';
import { refKernels as ref } from '../../src/backend/ref/index.ts';
import { setNativeThreads, type NativeIsa } from '../../src/backend/native/index.ts';
import { ISAS, assertClose, assertSame, nk, prng, randArray, skipReason, withIsa } from './native-helpers.ts';

const opts = { skip: skipReason };

function conv(n: number, c: number, h: number, w: number, oc: number, k: number, stride: number, pad: number, kw = k): ConvGeom {
  const oh = Math.floor((h + 2 * pad - k) / stride) + 1;
  const ow = Math.floor((w + 2 * pad - kw) / stride) + 1;
  return { n, c, h, w, oc, kh: k, kw, strideH: stride, strideW: stride, padH: pad, padW: pad, oh, ow };
}

const CONVS: [string, ConvGeom][] = [
  ['CNN002 conv1', conv(3, 1, 28, 28, 32, 3, 1, 0)],
  ['CNN002 conv2', conv(2, 32, 26, 26, 32, 3, 1, 0)],
  ['CNN002 conv3', conv(1, 32, 12, 12, 64, 3, 1, 0)],
  ['ResNet stride 2', conv(2, 16, 32, 32, 32, 3, 2, 1)],
  ['ResNet 64ch', conv(3, 64, 8, 8, 64, 3, 1, 1)],
  ['1x1 shortcut', conv(2, 16, 9, 9, 32, 1, 2, 0)],
  ['pointwise', conv(3, 5, 7, 6, 3, 1, 1, 0)],
  ['odd kernel', { ...conv(2, 3, 7, 5, 4, 3, 1, 1, 2), strideW: 2, ow: Math.floor((5 + 2 - 2) / 2) + 1 }],
  ['batch 128', conv(128, 3, 6, 6, 4, 3, 1, 1)],
];

for (const isa of ISAS) {
  test(`conv2d and both backward passes match the reference (${isa})`, opts, () => {
    withIsa(isa, () => {
      const rng = prng(20);
      for (const [what, g] of CONVS) {
        const x = randArray(rng, g.n * g.c * g.h * g.w);
        const w = randArray(rng, g.oc * g.c * g.kh * g.kw);
        const dy = randArray(rng, g.n * g.oc * g.oh * g.ow);
        const k = g.c * g.kh * g.kw;
        const atol = 1e-5 * Math.sqrt(k);
        const run = (kernels: typeof ref) => {
          const y = new Float32Array(dy.length);
          const dx = new Float32Array(x.length);
          const dw = new Float32Array(w.length);
          kernels.conv2d(x, w, g, y);
          kernels.conv2dBackwardInput(dy, w, g, dx);
          kernels.conv2dBackwardWeight(x, dy, g, dw);
          return { y, dx, dw };
        };
        const want = run(ref);
        const got = run(nk());
        assertClose(got.y, want.y, atol, 1e-4, `conv2d ${what}`);
        assertClose(got.dx, want.dx, 1e-5 * Math.sqrt(g.oc * g.kh * g.kw), 1e-4, `conv2dBackwardInput ${what}`);
        assertClose(got.dw, want.dw, 1e-5 * Math.sqrt(g.n * g.oh * g.ow), 1e-4, `conv2dBackwardWeight ${what}`);
      }
    });
  });
}

// The gathered-tile paths of native/kernels/conv.cc: channel counts around the tile
// widths (1, 3, 127, 129), batches below and above the thread count, padding, stride,
// non-square kernels; bias and ReLU fused; outputs that already hold values, which
// conv2d and the backward passes add to and conv2dFused overwrites, as the reference.
const AWKWARD_CONVS: [string, ConvGeom][] = [
  ['1 -> 129 channels, batch 1', conv(1, 1, 9, 8, 129, 3, 1, 0)],
  ['129 -> 127 channels', conv(2, 129, 5, 6, 127, 3, 1, 1)],
  ['127 -> 3 channels, batch 1', conv(1, 127, 6, 5, 3, 3, 2, 1)],
  ['3 -> 1 channel, batch 128', conv(128, 3, 5, 5, 1, 3, 1, 0)],
  ['batch 128, 17 channels, stride 2', conv(128, 5, 7, 7, 17, 3, 2, 0)],
  ['padding 2, 5x3 kernel', conv(3, 4, 6, 7, 6, 5, 1, 2, 3)],
  ['padding wider than the kernel', conv(2, 2, 3, 3, 5, 1, 1, 2)],
  ['1x1 stride 2 on 129 channels', conv(2, 129, 5, 5, 20, 1, 2, 0)],
  // outputs (or, for the scattering input gradient, inputs) that fit the narrow tile of
  // one vector: 16 and 13 channels (AVX-512), 8 and 7 (AVX2), 16 -> 16 on ResNet's padding
  ['16 -> 16 channels, padding 1', conv(2, 16, 9, 11, 16, 3, 1, 1)],
  ['3 -> 13 channels, batch 128', conv(128, 3, 6, 5, 13, 3, 1, 1)],
  ['16 -> 7 channels, stride 2', conv(3, 16, 9, 9, 7, 3, 2, 1)],
  ['13 -> 8 channels, stride 2', conv(2, 13, 8, 7, 8, 3, 2, 1)],
  // the row kernels (unit strides, at most 16 output channels, rows a multiple of 32
  // pixels): a partial channel block, padding 0 and 1, a 1x1 kernel, a batch of 128; the
  // input gradients of the first ones take the same path
  ['rows: 5 -> 13 channels, padding 1', conv(2, 5, 6, 32, 13, 3, 1, 1)],
  ['rows: 16 -> 16 channels, no padding', conv(3, 16, 5, 34, 16, 3, 1, 0)],
  ['rows: 1x1, 4 -> 5 channels', conv(2, 4, 3, 32, 5, 1, 1, 0)],
  ['rows: batch 128, 2 -> 3 channels', conv(128, 2, 3, 32, 3, 3, 1, 1)],
  // Winograd F(2x2, 3x3) (64 channels and more, 3x3, unit strides): odd output sizes
  // (edge tiles), channels off the vector width, padding 0 and 2, small images grouped
  // several to a GEMM with a partial last group
  ['Winograd 65 -> 64, 7x9, no padding', conv(5, 65, 7, 9, 64, 3, 1, 0)],
  ['Winograd 64 -> 66, 4x5, padding 2, batch 21', conv(21, 64, 4, 5, 66, 3, 1, 2)],
  // one input channel, unit stride, no padding: the direct kernels, rows of exactly one
  // vector (8 AVX2 lanes), just over one, and a 5x3 kernel on a batch of 128
  ['1 channel, rows of 8', conv(3, 1, 10, 10, 5, 3, 1, 0)],
  ['1 channel, rows of 17, 129 outputs', conv(2, 1, 19, 19, 129, 3, 1, 0)],
  ['1 channel, 5x3 kernel, batch 128', conv(128, 1, 12, 23, 7, 5, 1, 0, 3)],
];

// AVX2 too: its tiles differ from both AVX-512's and the portable ones.
const CONV_ISAS: NativeIsa[] = [...ISAS, 'avx2'];

for (const isa of CONV_ISAS) {
  test(`conv2dFused and both backward passes match the reference on awkward shapes (${isa})`, opts, () => {
    withIsa(isa, () => {
      const rng = prng(22);
      for (const [what, g] of AWKWARD_CONVS) {
        const x = randArray(rng, g.n * g.c * g.h * g.w);
        const w = randArray(rng, g.oc * g.c * g.kh * g.kw);
        const bias = randArray(rng, g.oc);
        const dy = randArray(rng, g.n * g.oc * g.oh * g.ow);
        const start = { y: randArray(rng, dy.length), dx: randArray(rng, x.length), dw: randArray(rng, w.length) };
        const run = (kernels: typeof ref) => {
          const y = start.y.slice();
          const plain = start.y.slice();
          const dx = start.dx.slice();
          const dw = start.dw.slice();
          kernels.conv2dFused(x, w, bias, g, true, y);
          kernels.conv2d(x, w, g, plain);
          kernels.conv2dBackwardInput(dy, w, g, dx);
          kernels.conv2dBackwardWeight(x, dy, g, dw);
          return { y, plain, dx, dw };
        };
        const want = run(ref);
        const got = run(nk());
        assertClose(got.y, want.y, 1e-5 * Math.sqrt(g.c * g.kh * g.kw), 1e-4, `conv2dFused ${what}`);
        assertClose(got.plain, want.plain, 1e-5 * Math.sqrt(g.c * g.kh * g.kw), 1e-4, `conv2d ${what}`);
        assertClose(got.dx, want.dx, 1e-5 * Math.sqrt(g.oc * g.kh * g.kw), 1e-4, `conv2dBackwardInput ${what}`);
        assertClose(got.dw, want.dw, 1e-5 * Math.sqrt(g.n * g.oh * g.ow), 1e-4, `conv2dBackwardWeight ${what}`);
      }
    });
  });
}

for (const isa of CONV_ISAS) {
  test(`conv2dFusedBackward matches the reference, with and without ReLU and each gradient (${isa})`, opts, () => {
    withIsa(isa, () => {
      const rng = prng(25);
      const cases: [string, ConvGeom][] = [['CNN002 conv2', conv(4, 32, 26, 26, 32, 3, 1, 0)], ...AWKWARD_CONVS];
      cases.forEach(([what, g], i) => {
        const x = randArray(rng, g.n * g.c * g.h * g.w);
        const w = randArray(rng, g.oc * g.c * g.kh * g.kw);
        const out = randArray(rng, g.n * g.oc * g.oh * g.ow);
        for (let j = 0; j < out.length; j += 5) out[j] = 0; // ReLU's zeros pass no gradient
        const dy = randArray(rng, out.length);
        const relu = i % 2 === 0;
        const want = { dx: randArray(rng, x.length), dw: randArray(rng, w.length), db: randArray(rng, g.oc) };
        // every gradient, then each one alone (the others null)
        for (const only of [null, 'dx', 'dw', 'db'] as const) {
          const wanted = (k: 'dx' | 'dw' | 'db') => only === null || only === k;
          const run = (kernels: typeof ref) => {
            const got = { dx: want.dx.slice(), dw: want.dw.slice(), db: want.db.slice() };
            kernels.conv2dFusedBackward(
              x,
              w,
              out,
              dy,
              g,
              relu,
              wanted('dx') ? got.dx : null,
              wanted('dw') ? got.dw : null,
              wanted('db') ? got.db : null,
            );
            return got;
          };
          const r = run(ref);
          const n = run(nk());
          const tag = `${what}, relu ${relu}, ${only ?? 'all'}`;
          assertClose(n.dx, r.dx, 1e-5 * Math.sqrt(g.oc * g.kh * g.kw), 1e-4, `dx ${tag}`);
          assertClose(n.dw, r.dw, 1e-5 * Math.sqrt(g.n * g.oh * g.ow), 1e-4, `dw ${tag}`);
          assertClose(n.db, r.db, 1e-5 * Math.sqrt(g.n * g.oh * g.ow), 1e-4, `db ${tag}`);
        }
      });
    });
  });
}

// Batches smaller than the pool split each image's tiles over it; larger ones split the
// images (in more chunks than threads); the weight gradient reduces per-chunk partials.
test('the convolutions match the reference on 1 and 3 threads, batches below and above the pool', opts, () => {
  const rng = prng(27);
  try {
    for (const threads of [1, 3]) {
      setNativeThreads(threads);
      for (const g of [conv(1, 32, 26, 26, 32, 3, 1, 0), conv(2, 3, 9, 9, 8, 3, 2, 1), conv(7, 32, 12, 12, 64, 3, 1, 0)]) {
        const x = randArray(rng, g.n * g.c * g.h * g.w);
        const w = randArray(rng, g.oc * g.c * g.kh * g.kw);
        const bias = randArray(rng, g.oc);
        const dy = randArray(rng, g.n * g.oc * g.oh * g.ow);
        const run = (kernels: typeof ref) => {
          const y = new Float32Array(dy.length);
          const got = { y, dx: new Float32Array(x.length), dw: new Float32Array(w.length), db: new Float32Array(g.oc) };
          kernels.conv2dFused(x, w, bias, g, true, y);
          kernels.conv2dFusedBackward(x, w, y, dy, g, true, got.dx, got.dw, got.db);
          return got;
        };
        const want = run(ref);
        const got = run(nk());
        const tag = `${g.n}x${g.c}x${g.h} -> ${g.oc} on ${threads} threads`;
        assertClose(got.y, want.y, 1e-5 * Math.sqrt(g.c * g.kh * g.kw), 1e-4, `conv2dFused ${tag}`);
        assertClose(got.dx, want.dx, 1e-5 * Math.sqrt(g.oc * g.kh * g.kw), 1e-4, `dx ${tag}`);
        assertClose(got.dw, want.dw, 1e-5 * Math.sqrt(g.n * g.oh * g.ow), 1e-4, `dw ${tag}`);
        assertClose(got.db, want.db, 1e-5 * Math.sqrt(g.n * g.oh * g.ow), 1e-4, `db ${tag}`);
      }
    }
  } finally {
    setNativeThreads(0);
  }
});

test('the kernels that overwrite their outputs ignore what the outputs held', opts, () => {
  // NaN survives any addition: an output element that is added to, or never written,
  // stays NaN.
  const rng = prng(26);
  const nanLike = (n: number) => new Float32Array(n).fill(NaN);
  for (const [what, g] of [['CNN002 conv2', conv(3, 32, 26, 26, 32, 3, 1, 0)], ...AWKWARD_CONVS] as [string, ConvGeom][]) {
    const x = randArray(rng, g.n * g.c * g.h * g.w);
    const w = randArray(rng, g.oc * g.c * g.kh * g.kw);
    const bias = randArray(rng, g.oc);
    const dy = randArray(rng, g.n * g.oc * g.oh * g.ow);
    const out = nanLike(dy.length);
    nk().conv2dFused(x, w, bias, g, true, out);
    const wantOut = new Float32Array(dy.length);
    ref.conv2dFused(x, w, bias, g, true, wantOut);
    assertClose(out, wantOut, 1e-5 * Math.sqrt(g.c * g.kh * g.kw), 1e-4, `conv2dFused ${what}`);
    const got = { dx: nanLike(x.length), dw: nanLike(w.length), db: nanLike(g.oc) };
    nk().conv2dFusedBackward(x, w, out, dy, g, true, got.dx, got.dw, got.db);
    const want = { dx: new Float32Array(x.length), dw: new Float32Array(w.length), db: new Float32Array(g.oc) };
    ref.conv2dFusedBackward(x, w, out, dy, g, true, want.dx, want.dw, want.db);
    assertClose(got.dx, want.dx, 1e-5 * Math.sqrt(g.oc * g.kh * g.kw), 1e-4, `conv2dFusedBackward dx ${what}`);
    assertClose(got.dw, want.dw, 1e-5 * Math.sqrt(g.n * g.oh * g.ow), 1e-4, `conv2dFusedBackward dw ${what}`);
    assertClose(got.db, want.db, 1e-5 * Math.sqrt(g.n * g.oh * g.ow), 1e-4, `conv2dFusedBackward db ${what}`);
  }
  const pg = pool(5, 3, 7, 9, 2, 2, 0);
  const px = randArray(rng, pg.n * pg.c * pg.h * pg.w);
  const outN = pg.n * pg.c * pg.oh * pg.ow;
  const pout = nanLike(outN);
  const parg = new Int32Array(outN).fill(-7);
  nk().maxPool2d(px, pg, pout, parg);
  const wantPool = new Float32Array(outN);
  const wantArg = new Int32Array(outN);
  ref.maxPool2d(px, pg, wantPool, wantArg);
  assertClose(pout, wantPool, 0, 0, 'maxPool2d out');
  assertClose(parg, wantArg, 0, 0, 'maxPool2d argmax');
  const pdy = randArray(rng, outN);
  const pdx = nanLike(px.length);
  nk().maxPool2dBackward(pdy, parg, pdx);
  const wantDx = new Float32Array(px.length);
  ref.maxPool2dBackward(pdy, wantArg, wantDx);
  assertClose(pdx, wantDx, 0, 0, 'maxPool2dBackward');
});

test('the convolutions are bit-identical on repeated calls', opts, () => {
  const rng = prng(23);
  for (const g of [conv(16, 8, 12, 12, 16, 3, 1, 0), conv(1, 8, 12, 12, 16, 3, 1, 1)]) {
    const x = randArray(rng, g.n * g.c * g.h * g.w);
    const w = randArray(rng, g.oc * g.c * g.kh * g.kw);
    const dy = randArray(rng, g.n * g.oc * g.oh * g.ow);
    const run = () => {
      const y = new Float32Array(dy.length);
      const dx = new Float32Array(x.length);
      const dw = new Float32Array(w.length);
      nk().conv2dFused(x, w, null, g, false, y);
      nk().conv2dBackwardInput(dy, w, g, dx);
      nk().conv2dBackwardWeight(x, dy, g, dw);
      const fused = [new Float32Array(x.length), new Float32Array(w.length), new Float32Array(g.oc)];
      nk().conv2dFusedBackward(x, w, y, dy, g, true, fused[0], fused[1], fused[2]);
      return [y, dx, dw, ...fused];
    };
    const first = run();
    const names = ['conv2dFused', 'conv2dBackwardInput', 'conv2dBackwardWeight', 'fused dx', 'fused dw', 'fused db'];
    run().forEach((again, i) => assertSame(again, first[i], `${names[i]} n=${g.n}`));
  }
});

test('conv2dBackwardWeight is bit-identical on repeated calls', opts, () => {
  const rng = prng(21);
  const g = conv(16, 8, 12, 12, 16, 3, 1, 0);
  const x = randArray(rng, g.n * g.c * g.h * g.w);
  const dy = randArray(rng, g.n * g.oc * g.oh * g.ow);
  const first = new Float32Array(g.oc * g.c * 9);
  nk().conv2dBackwardWeight(x, dy, g, first);
  const again = new Float32Array(first.length);
  nk().conv2dBackwardWeight(x, dy, g, again);
  assertSame(again, first, 'conv2dBackwardWeight');
});

function pool(n: number, c: number, h: number, w: number, k: number, stride: number, pad: number, ceil = false): PoolGeom {
  const out = (size: number) => (ceil ? Math.ceil : Math.floor)((size + 2 * pad - k) / stride) + 1;
  return { n, c, h, w, kh: k, kw: k, strideH: stride, strideW: stride, padH: pad, padW: pad, oh: out(h), ow: out(w) };
}

const POOLS: [string, PoolGeom][] = [
  ['2x2 stride 2', pool(128, 32, 24, 24, 2, 2, 0)],
  ['odd input 2x2', pool(3, 5, 7, 9, 2, 2, 0)],
  ['3x3 stride 2 pad 1', pool(2, 3, 11, 10, 3, 2, 1)],
  ['ceil mode', pool(2, 2, 7, 7, 2, 2, 0, true)],
  ['1x1 input', pool(4, 3, 1, 1, 1, 1, 0)],
];

test('maxPool2d, its backward and gatherIndex match the reference', opts, () => {
  const rng = prng(22);
  for (const [what, g] of POOLS) {
    const x = randArray(rng, g.n * g.c * g.h * g.w);
    for (let i = 0; i < x.length; i += 7) x[i] = x[i + 1] ?? x[i]; // ties keep the first maximum
    for (let i = 3; i < x.length; i += 53) x[i] = NaN; // the first NaN of a window wins
    for (let i = 5; i < x.length; i += 97) x[i] = -0; // a signed zero ties with 0
    const outN = g.n * g.c * g.oh * g.ow;
    const wantOut = new Float32Array(outN);
    const wantArg = new Int32Array(outN);
    const gotOut = new Float32Array(outN);
    const gotArg = new Int32Array(outN);
    ref.maxPool2d(x, g, wantOut, wantArg);
    nk().maxPool2d(x, g, gotOut, gotArg);
    assertClose(gotOut, wantOut, 0, 0, `maxPool2d ${what}`);
    assertClose(gotArg, wantArg, 0, 0, `maxPool2d argmax ${what}`);
    const dy = randArray(rng, outN);
    const wantDx = new Float32Array(x.length);
    const gotDx = new Float32Array(x.length);
    ref.maxPool2dBackward(dy, wantArg, wantDx);
    nk().maxPool2dBackward(dy, gotArg, gotDx);
    assertClose(gotDx, wantDx, 0, 0, `maxPool2dBackward ${what}`);
    const wantG = new Float32Array(outN);
    const gotG = new Float32Array(outN);
    ref.gatherIndex(wantDx, wantArg, wantG);
    nk().gatherIndex(gotDx, gotArg, gotG);
    assertClose(gotG, wantG, 0, 0, `gatherIndex ${what}`);
  }
});

test('avgPool2d (fixed and adaptive) and its backward match the reference', opts, () => {
  const rng = prng(23);
  const cases: [string, PoolGeom, boolean][] = [
    ...POOLS.map(([what, g]) => [what, g, false] as [string, PoolGeom, boolean]),
    ['adaptive 7 -> 3', { ...pool(2, 3, 7, 7, 1, 1, 0), oh: 3, ow: 3 }, true],
    ['adaptive 5x8 -> 2x3', { ...pool(3, 2, 5, 8, 1, 1, 0), oh: 2, ow: 3 }, true],
    ['global 8 -> 1', { ...pool(128, 64, 8, 8, 1, 1, 0), oh: 1, ow: 1 }, true],
  ];
  for (const [what, g, adaptive] of cases) {
    const x = randArray(rng, g.n * g.c * g.h * g.w);
    const outN = g.n * g.c * g.oh * g.ow;
    const want = new Float32Array(outN);
    const got = new Float32Array(outN);
    ref.avgPool2d(x, g, adaptive, want);
    nk().avgPool2d(x, g, adaptive, got);
    assertClose(got, want, 0, 1e-6, `avgPool2d ${what}`);
    const dy = randArray(rng, outN);
    const wantDx = new Float32Array(x.length);
    const gotDx = new Float32Array(x.length);
    ref.avgPool2dBackward(dy, g, adaptive, wantDx);
    nk().avgPool2dBackward(dy, g, adaptive, gotDx);
    assertClose(gotDx, wantDx, 1e-7, 1e-6, `avgPool2dBackward ${what}`);
  }
});

test('adamUpdate and sgdUpdate follow the reference over several steps', opts, () => {
  const rng = prng(25);
  for (const len of [1, 3, 257, 100_003]) {
    for (const [wd, clip] of [
      [0, 0],
      [0.01, 0.05],
    ]) {
      const p0 = randArray(rng, len);
      const grads = [0, 1, 2].map(() => randArray(rng, len, -0.1, 0.1));
      const adam = (k: typeof ref) => {
        const p = p0.slice();
        const m = new Float32Array(len);
        const v = new Float32Array(len);
        grads.forEach((g, i) => k.adamUpdate(p, g, m, v, { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: wd, step: i + 1, clip }));
        return { p, m, v };
      };
      const wantA = adam(ref);
      const gotA = adam(nk());
      for (const key of ['p', 'm', 'v'] as const) assertClose(gotA[key], wantA[key], 1e-7, 1e-5, `adam len=${len} wd=${wd} clip=${clip} ${key}`);
      for (const [momentum, dampening, nesterov] of [
        [0, 0, false],
        [0.9, 0, false],
        [0.9, 0.1, false],
        [0.9, 0, true],
      ] as const) {
        const sgd = (k: typeof ref) => {
          const p = p0.slice();
          const buf = new Float32Array(momentum === 0 ? 0 : len);
          grads.forEach((g, i) => k.sgdUpdate(p, g, buf, { lr: 0.1, momentum, dampening, weightDecay: wd, nesterov, firstStep: i === 0, clip }));
          return { p, buf };
        };
        const wantS = sgd(ref);
        const gotS = sgd(nk());
        const what = `sgd len=${len} momentum=${momentum} dampening=${dampening} nesterov=${nesterov} wd=${wd}`;
        assertClose(gotS.p, wantS.p, 1e-7, 1e-5, `${what} param`);
        assertClose(gotS.buf, wantS.buf, 1e-7, 1e-5, `${what} buf`);
      }
    }
  }
});

// The native updates' float32 arithmetic, operation by operation, without flushing
// (each double result rounded once is the float32 result: 53 >= 2 * 24 + 2 bits).
const f = Math.fround;
function adamF32(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, lr: number, step: number): void {
  const b1 = f(0.9),
    b2 = f(0.999),
    o1 = f(1 - 0.9),
    o2 = f(1 - 0.999),
    eps = f(1e-8);
  const stepSize = f(lr / (1 - 0.9 ** step)),
    bc2 = f(Math.sqrt(1 - 0.999 ** step));
  for (let i = 0; i < p.length; i++) {
    m[i] = f(f(b1 * m[i]) + f(o1 * g[i]));
    v[i] = f(f(b2 * v[i]) + f(f(o2 * g[i]) * g[i]));
    p[i] = f(p[i] - f(f(stepSize * m[i]) / f(f(f(Math.sqrt(v[i])) / bc2) + eps)));
  }
}

function sgdF32(p: Float32Array, g: Float32Array, buf: Float32Array, lr: number): void {
  for (let i = 0; i < p.length; i++) {
    buf[i] = f(f(f(0.9) * buf[i]) + g[i]);
    p[i] = f(p[i] - f(f(lr) * buf[i]));
  }
}

test('adamUpdate and sgdUpdate flush subnormal state to zero and move weights as without flushing', opts, () => {
  // Moments decaying through the subnormal range made every multiply ~100x slower; the
  // kernels flush them, which must leave the weights exactly where unflushed float32
  // arithmetic puts them.
  const len = 70_001; // over two chunks of the pool
  const tiny = 1e-39; // subnormal in float32
  const p0 = Float32Array.from({ length: len }, (_, i) => ((i % 13) - 6.5) * 0.01); // no weight at 0: a step of 1e-33 would show there
  const grad = Float32Array.from({ length: len }, (_, i) => (i % 3 === 0 ? 0 : i % 3 === 1 ? tiny : 1e-3));
  const state = () => ({
    p: p0.slice(),
    m: new Float32Array(len).fill(tiny),
    v: new Float32Array(len).fill(tiny),
    q: p0.slice(),
    buf: new Float32Array(len).fill(tiny),
  });
  const want = state();
  const got = state();
  for (let s = 1; s <= 3; s++) {
    adamF32(want.p, grad, want.m, want.v, 1e-2, s);
    sgdF32(want.q, grad, want.buf, 0.1);
    nk().adamUpdate(got.p, grad, got.m, got.v, { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, step: s, clip: 0 });
    nk().sgdUpdate(got.q, grad, got.buf, { lr: 0.1, momentum: 0.9, dampening: 0, weightDecay: 0, nesterov: false, firstStep: false, clip: 0 });
  }
  assertSame(got.p, want.p, 'adam weights');
  assertSame(got.q, want.q, 'sgd weights');
  for (let i = 0; i < len; i += 3) {
    // zero gradient: unflushed arithmetic keeps a subnormal moment, the kernel holds 0
    if (!(want.m[i] !== 0 && want.m[i] < 1.2e-38)) throw new Error(`the unflushed moment ${i} is ${want.m[i]}: the case does not test flushing`);
    if (got.m[i] !== 0 || got.v[i] !== 0 || got.buf[i] !== 0)
      throw new Error(`state ${i}: m ${got.m[i]}, v ${got.v[i]}, buf ${got.buf[i]}, expected 0 (flushed)`);
  }
  for (let i = 2; i < len; i += 3) {
    if (got.m[i] !== want.m[i] || got.v[i] !== want.v[i] || got.buf[i] !== want.buf[i])
      throw new Error(`normal state ${i} changed: m ${got.m[i]} vs ${want.m[i]}`);
  }
});
