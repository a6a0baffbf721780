// LiSSA against a direct solve, power iteration against the explicit Hessian, and the
// two group-influence modes against each other, on a tiny MLP in float64.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MlpHessian } from '../../src/forget/mlpHessian.ts';
import { MlpEngine, type Batch } from '../../src/forget/hessianEngine.ts';
import { largestEigenvalue, lissaInverseHvp, looksDiverged, type ExamplePool } from '../../src/forget/lissa.ts';
import { firstOrderGroupInfluence } from '../../src/forget/groupInfluence.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { assertClose } from '../helpers.ts';

const formula = (n: number, a: number, b: number, amp: number) => Float64Array.from({ length: n }, (_, i) => amp * Math.sin(a * i + b));
const widths = [5, 4, 3];
const layers = widths.slice(0, -1).map((inF, l) => ({
  inF,
  outF: widths[l + 1],
  weight: formula(widths[l + 1] * inF, 0.61, 0.2 + l, 0.7),
  bias: formula(widths[l + 1], 0.83, 0.4 + l, 0.3),
}));
const N = 8;
const xs = formula(N * widths[0], 0.47, 0.9, 1).map(Math.abs);
const ys = Int32Array.from({ length: N }, (_, i) => i % 3);
const engine = () => new MlpEngine(new MlpHessian(layers, 'float64'));
const one = (i: number): Batch => ({ x: new Tensor(xs.slice(i * 5, i * 5 + 5), [1, 5]), y: ys.subarray(i, i + 1) });
const all: Batch = { x: new Tensor(Float64Array.from(xs), [N, 5]), y: ys };

/** The mean Hessian over all N examples, built column by column from HVPs of unit vectors. */
function explicitHessian(e: MlpEngine): Float64Array[] {
  const n = e.size;
  return Array.from({ length: n }, (_, j) => {
    const unit = new Float64Array(n);
    unit[j] = 1;
    const col = new Float64Array(n);
    e.hvp(all, unit as unknown as Float32Array, col as unknown as Float32Array);
    return col;
  });
}

/** Solves (H + c I) x = b by Gaussian elimination with partial pivoting, in float64. */
function solve(cols: Float64Array[], c: number, b: ArrayLike<number>): Float64Array {
  const n = b.length;
  const a = Array.from({ length: n }, (_, i) => [...Array.from({ length: n }, (_, j) => cols[j][i] + (i === j ? c : 0)), b[i]]);
  for (let k = 0; k < n; k++) {
    let p = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(a[i][k]) > Math.abs(a[p][k])) p = i;
    [a[k], a[p]] = [a[p], a[k]];
    for (let i = k + 1; i < n; i++) {
      const f = a[i][k] / a[k][k];
      for (let j = k; j <= n; j++) a[i][j] -= f * a[k][j];
    }
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = a[i][n];
    for (let j = i + 1; j < n; j++) s -= a[i][j] * x[j];
    x[i] = s / a[i][i];
  }
  return x;
}

// With the full batch as every step's "example", H_t = H and LiSSA is the deterministic
// Neumann series, so its limit can be compared with the direct solve exactly.
const fullBatchPool: ExamplePool = { size: N, example: () => all };

test('the explicit Hessian is symmetric (exact HVPs of unit vectors)', () => {
  const cols = explicitHessian(engine());
  for (let i = 0; i < cols.length; i++) for (let j = 0; j < i; j++) assert.ok(Math.abs(cols[j][i] - cols[i][j]) < 1e-12);
});

test('LiSSA converges to the direct solve: textbook -> (H + scale damp I)^-1 v, reference -> scale times that', () => {
  const e = engine();
  const cols = explicitHessian(e);
  const v = Float32Array.from(formula(e.size, 0.33, 0.1, 1));
  const lambda = largestEigenvalue(e, all, { iterations: 500, tol: 1e-9 }).lambda;
  // the spectrum is about [-0.95, 2.76]: scale above 2.76 / (2 - damp), scale damp above 0.95
  const scale = 2 * Math.abs(lambda);
  const damp = 0.3;
  const want = solve(cols, scale * damp, v);
  const textbook = lissaInverseHvp(e, v, fullBatchPool, { damp, scale, depth: 3000, repeats: 1, scaling: 'textbook', seed: [0] });
  assertClose(textbook.h, want, 1e-4, 1e-4, 'textbook');
  assert.equal(textbook.trace.diverged, false);
  const reference = lissaInverseHvp(e, v, fullBatchPool, { damp, scale, depth: 3000, repeats: 2, scaling: 'reference', seed: [0] });
  assertClose(
    reference.h,
    want.map((w) => w * scale),
    1e-4 * scale,
    1e-4,
    'reference',
  );
  assert.equal(reference.hvps, 6000);
});

test('LiSSA with damp d / scale solves (H + d I)^-1 v', () => {
  const e = engine();
  const cols = explicitHessian(e);
  const lambda = Math.abs(largestEigenvalue(e, all, { iterations: 500, tol: 1e-9 }).lambda);
  const v = Float32Array.from(formula(e.size, 0.21, 0.3, 1));
  const d = 1.5; // above the most negative eigenvalue (about -0.95): H + d I is positive definite
  const scale = 1.1 * lambda;
  const h = lissaInverseHvp(e, v, fullBatchPool, { damp: d / scale, scale, depth: 3000, repeats: 1, scaling: 'textbook', seed: [0] }).h;
  assertClose(h, solve(cols, d, v), 1e-4, 1e-4, '(H + d I)^-1 v');
});

test('power iteration finds an eigenpair of the explicit Hessian', () => {
  const e = engine();
  const cols = explicitHessian(e);
  const est = largestEigenvalue(e, all, { iterations: 1000, tol: 1e-12 });
  // the dominant eigenvalue bounds every Rayleigh quotient: check against unit vectors
  for (let j = 0; j < cols.length; j++) assert.ok(Math.abs(cols[j][j]) <= Math.abs(est.lambda) + 1e-9);
  assert.ok(est.iterations > 1 && est.history.length === est.iterations);
});

test('LiSSA diverges visibly when scale is below the largest eigenvalue', () => {
  const e = engine();
  const lambda = Math.abs(largestEigenvalue(e, all, { iterations: 500, tol: 1e-9 }).lambda);
  const v = Float32Array.from(formula(e.size, 0.33, 0.1, 1));
  const r = lissaInverseHvp(e, v, fullBatchPool, { damp: 0.01, scale: lambda / 4, depth: 400, repeats: 1, scaling: 'reference', seed: [0] });
  assert.equal(r.trace.diverged, true);
  assert.equal(looksDiverged([1, 2, 2, 2.1, 2]), false);
  assert.equal(looksDiverged([1, 2, NaN]), true);
});

test("average 'reference' is the reference code's result: the first repeat's estimate divided by r", () => {
  const e = engine();
  const v = Float32Array.from(formula(e.size, 0.33, 0.1, 1));
  const sampled: ExamplePool = { size: N, example: one };
  const base = { damp: 0.1, scale: 10, depth: 200, scaling: 'reference' as const, seed: [3] };
  const first = lissaInverseHvp(e, v, sampled, { ...base, repeats: 1 });
  const reference = lissaInverseHvp(e, v, sampled, { ...base, repeats: 4, average: 'reference' });
  assertClose(
    reference.h,
    first.h.map((x) => x / 4),
    1e-7,
    1e-6,
    'first / r',
  );
  assert.equal(reference.hvps, 200, 'repeats 2..r change nothing and are not computed');
  const mean = lissaInverseHvp(e, v, sampled, { ...base, repeats: 4 });
  const gap = mean.h.reduce((m, x, i) => Math.max(m, Math.abs(x - first.h[i])), 0);
  assert.ok(gap > 1e-4, 'the mean of 4 sampled repeats differs from the first alone');
  assert.equal(mean.hvps, 800);
});

const pool: ExamplePool = { size: N, example: one };
const removed = [one(1), one(4), one(6)];
const opts = { damp: 0.2, scale: 10, depth: 300, repeats: 3, scaling: 'reference' as const, seed: 5 };

test('fast and reference group influence agree exactly when every LiSSA draws the same example sequences', () => {
  const fast = firstOrderGroupInfluence(engine(), pool, removed, { ...opts, mode: 'fast' });
  const ref = firstOrderGroupInfluence(engine(), pool, removed, { ...opts, mode: 'reference', sharedSequences: true });
  const peak = fast.delta.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
  assert.ok(peak > 0 && Number.isFinite(peak) && !fast.trace.diverged);
  assertClose(ref.delta, fast.delta, 1e-5 * peak, 1e-5, 'delta');
  assert.equal(fast.hvps, 900);
  assert.equal(ref.hvps, 2700);
  assert.equal(fast.k, 3);
  assert.ok(Math.abs(fast.p - 3 / 8) < 1e-15);
});

test('fast and reference agree in expectation with independent sequences (mean over seeds)', () => {
  const mean = (mode: 'fast' | 'reference') => {
    const acc = new Float64Array(engine().size);
    for (let s = 0; s < 12; s++) {
      const d = firstOrderGroupInfluence(engine(), pool, removed, { ...opts, seed: 100 + s, depth: 200, repeats: 4, mode }).delta;
      d.forEach((x, i) => (acc[i] += x / 12));
    }
    return acc;
  };
  const f = mean('fast');
  const r = mean('reference');
  const norm = (a: Float64Array) => Math.sqrt(a.reduce((s, x) => s + x * x, 0));
  const diff = norm(f.map((x, i) => x - r[i]));
  assert.ok(diff < 0.25 * norm(f), `means differ by ${diff} against ${norm(f)}`);
});

test('sign convention: with the full-batch Hessian, theta - delta = theta + (H + scale damp I)^-1 sum grad / ((1 - p) N)', () => {
  const e = engine();
  const cols = explicitHessian(e);
  const scale = 6;
  const damp = 0.3;
  const gi = firstOrderGroupInfluence(e, fullBatchPool, removed, {
    damp,
    scale,
    depth: 3000,
    repeats: 1,
    scaling: 'textbook',
    seed: 0,
    mode: 'fast',
  });
  const g = new Float64Array(e.size);
  const gz = new Float64Array(e.size);
  for (const z of removed) {
    e.gradient(z, gz as unknown as Float32Array, 'sum');
    gz.forEach((x, i) => (g[i] += x));
  }
  const step = solve(cols, scale * damp, g).map((x) => x / ((1 - 3 / 8) * 8));
  assertClose(
    gi.delta.map((d) => -d),
    step,
    1e-5,
    1e-4,
    '-delta',
  );
});
