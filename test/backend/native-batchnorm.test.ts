// The native batch norm (native/kernels/batchnorm*.cc) against the reference, forward and
// backward, on every ISA path.
import { test } from 'node:test';
import { refKernels as ref } from '../../src/backend/ref/index.ts';
import type { NativeIsa } from '../../src/backend/native/index.ts';
import { ISAS, assertClose, nk, prng, randArray, skipReason, withIsa } from './native-helpers.ts';

const opts = { skip: skipReason };
const BN_ISAS: NativeIsa[] = [...ISAS, 'avx2'];

// Sizes around the kernels' groups of 16 lanes (s = 7, 17, 1024) and values far from zero
// relative to their spread (the one-pass moments are taken about a channel's first value);
// with the fused ReLU, forward and (masked by its output) backward.
for (const isa of BN_ISAS) {
  test(`batchNorm and batchNormBackward match the reference in training and eval (${isa})`, opts, () => {
    withIsa(isa, () => {
      const rng = prng(24);
      for (const [n, c, s] of [
        [128, 3, 1],
        [4, 16, 25],
        [1, 1, 1],
        [128, 64, 64],
        [3, 129, 1],
        [2, 16, 1024],
        [3, 5, 17],
        [5, 2, 7],
      ]) {
        for (const [training, relu] of [
          [true, false],
          [false, false],
          [true, true],
          [false, true],
        ]) {
          const x = randArray(rng, n * c * s, -2, 3);
          if (c === 5) for (let i = 0; i < x.length; i++) x[i] += 1000;
          const gamma = randArray(rng, c, 0.5, 1.5);
          const beta = randArray(rng, c);
          const rm0 = randArray(rng, c);
          const rv0 = randArray(rng, c, 0.5, 2);
          const run = (k: typeof ref) => {
            const rm = rm0.slice();
            const rv = rv0.slice();
            const out = new Float32Array(x.length);
            const mean = new Float32Array(c);
            const invStd = new Float32Array(c);
            k.batchNorm(x, gamma, beta, n, c, s, training, 0.1, 1e-5, rm, rv, out, mean, invStd, relu);
            return { rm, rv, out, mean, invStd };
          };
          const want = run(ref);
          const got = run(nk());
          const what = `batchNorm [${n}, ${c}, ${s}] training=${training} relu=${relu}`;
          for (const key of ['rm', 'rv', 'out', 'mean', 'invStd'] as const) assertClose(got[key], want[key], 1e-6, 1e-5, `${what} ${key}`);
          const dy = randArray(rng, x.length);
          const back = (k: typeof ref) => {
            const dx = new Float32Array(x.length);
            const dgamma = new Float32Array(c);
            const dbeta = new Float32Array(c);
            k.batchNormBackward(x, dy, gamma, want.mean, want.invStd, n, c, s, training, dx, dgamma, dbeta, relu ? want.out : null);
            return { dx, dgamma, dbeta };
          };
          const wantB = back(ref);
          const gotB = back(nk());
          const atol = 1e-6 * Math.sqrt(n * s);
          for (const key of ['dx', 'dgamma', 'dbeta'] as const) assertClose(gotB[key], wantB[key], atol, 1e-4, `${what} backward ${key}`);
        }
      }
    });
  });
}
