// Exact HVPs: the MLP R-operator and the tape's double backward against PyTorch's double
// backward (golden values), against central differences of gradients, and against
// each other on LargeMLP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { MlpHessian } from '../../src/forget/mlpHessian.ts';
import { hessianEngineFor, TapeEngine, type Batch } from '../../src/forget/hessianEngine.ts';
import { hessianVectorProduct } from '../../src/autograd/hvp.ts';
import { grad } from '../../src/autograd/tape.ts';
import { hvpCheck } from '../../src/autograd/gradcheck.ts';
import * as ops from '../../src/ops/index.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { createModel } from '../../src/nn/models/index.ts';
import { RandomState } from '../../src/data/numpyRandom.ts';
import { assertClose } from '../helpers.ts';

interface GoldenCase {
  batch: number;
  labels: number[];
  loss: number;
  grad: number[];
  hvp: number[];
}
const golden = JSON.parse(readFileSync(new URL('../golden/torch_hvp.json', import.meta.url), 'utf8')) as {
  magic: string;
  version: number;
  widths: number[];
  cases: GoldenCase[];
};

// the closed formulas of test/golden/make_torch_hvp.py
const formula = (n: number, a: number, b: number, amp: number) => Float64Array.from({ length: n }, (_, i) => amp * Math.sin(a * i + b));
const W = golden.widths;
const layers = W.slice(0, -1).map((inF, l) => ({
  inF,
  outF: W[l + 1],
  weight: formula(W[l + 1] * inF, 0.37, 0.1 + l, 0.6),
  bias: formula(W[l + 1], 0.91, 0.5 + l, 0.2),
}));
const size = layers.reduce((s, l) => s + l.inF * l.outF + l.outF, 0);
const v = formula(size, 0.29, 0.7, 1.0);
const inputs = (batch: number) => formula(batch * W[0], 0.53, 0.3, 0.5).map(Math.abs);

function flatParams(): Tensor[] {
  return layers.flatMap((l) => [new Tensor(Float64Array.from(l.weight), [l.outF, l.inF]), new Tensor(Float64Array.from(l.bias), [l.outF])]);
}

function tapeLoss(ps: Tensor[], x: Tensor, y: Int32Array): Tensor {
  let h = x;
  for (let i = 0; i < ps.length; i += 2) h = ops.linear(h, ps[i], ps[i + 1], i + 2 < ps.length);
  return ops.crossEntropy(h, y);
}

function split(flat: Float64Array, ps: Tensor[]): Tensor[] {
  let off = 0;
  return ps.map((p) => new Tensor(flat.slice(off, (off += p.size)), p.shape));
}

test('golden file header', () => {
  assert.equal(golden.magic, 'spurlab-torch-hvp');
  assert.equal(golden.version, 1);
});

for (const c of golden.cases) {
  test(`R-operator HVP, gradient and loss match PyTorch's double backward (batch ${c.batch}, float64)`, () => {
    const mlp = new MlpHessian(layers, 'float64');
    const x = inputs(c.batch);
    const y = Int32Array.from(c.labels);
    const out = new Float64Array(size);
    mlp.hvp(x, y, v, out);
    assertClose(out, c.hvp, 1e-12, 1e-10, 'hvp');
    mlp.gradient(x, y, out, 'mean');
    assertClose(out, c.grad, 1e-12, 1e-10, 'grad');
    const losses = new Float64Array(c.batch);
    mlp.losses(x, y, losses);
    assert.ok(Math.abs(losses.reduce((s, l) => s + l, 0) / c.batch - c.loss) < 1e-12);
  });

  test(`tape double backward matches PyTorch's (batch ${c.batch}, float64)`, () => {
    const ps = flatParams().map((p) => p.requireGrad());
    const x = new Tensor(inputs(c.batch), [c.batch, W[0]]);
    const y = Int32Array.from(c.labels);
    const hv = hessianVectorProduct(() => tapeLoss(ps, x, y), ps, split(v, ps));
    assertClose(Float64Array.from(hv.flatMap((t) => t.toArray())), c.hvp, 1e-12, 1e-10, 'tape hvp');
  });
}

test('R-operator HVP matches central differences of its own gradients (float64)', () => {
  const x = inputs(3);
  const y = Int32Array.from([1, 2, 3]);
  const h = 1e-6;
  const gradAt = (sign: number) => {
    let off = 0;
    const moved = layers.map((l) => {
      const weight = l.weight.map((w, i) => w + sign * h * v[off + i]);
      off += l.weight.length;
      const bias = l.bias.map((b, i) => b + sign * h * v[off + i]);
      off += l.bias.length;
      return { ...l, weight, bias };
    });
    const g = new Float64Array(size);
    new MlpHessian(moved, 'float64').gradient(x, y, g);
    return g;
  };
  const plus = gradAt(1);
  const minus = gradAt(-1);
  const exact = new Float64Array(size);
  new MlpHessian(layers, 'float64').hvp(x, y, v, exact);
  assertClose(
    exact,
    plus.map((p, i) => (p - minus[i]) / (2 * h)),
    1e-7,
    1e-6,
    'finite differences',
  );
});

test("the tape's HVP passes hvpCheck (finite differences) on the same MLP", () => {
  const x = new Tensor(inputs(3), [3, W[0]]);
  const y = Int32Array.from([1, 2, 3]);
  const ps = flatParams();
  const r = hvpCheck((p) => tapeLoss(p, x, y), ps, split(v, ps));
  assert.ok(r.maxRelErr < 1e-6, r.worst);
});

test('on LargeMLP (float32) the R-operator engine agrees with the tape engine: HVP, gradient, directional derivatives, LiSSA steps', () => {
  const model = createModel('LargeMLP', { height: 28, width: 28, channels: 1, numClasses: 10 }, new RandomState(0));
  const rop = hessianEngineFor(model);
  const tape = new TapeEngine(model);
  assert.equal(rop.kind, 'mlp-rop');
  const rs = new RandomState(1);
  const dir = Float32Array.from({ length: rop.size }, () => rs.standardNormal());
  // batch 1 and 2 take the GEMM's skinny (unpacked) path, batch 4 (8 rows) the packed one
  // up to 4 examples the LiSSA step takes the one-pass update (FUSED_LISSA_MAX_ROWS), 7 the GEMM
  for (const b of [1, 2, 4, 7]) {
    const batch: Batch = {
      x: new Tensor(
        Float32Array.from({ length: 784 * b }, () => rs.random()),
        [b, 784],
      ),
      y: Int32Array.from({ length: b }, (_, i) => (3 + 2 * i) % 10),
    };
    const a = new Float32Array(rop.size);
    const t = new Float32Array(rop.size);
    rop.hvp(batch, dir, a);
    tape.hvp(batch, dir, t);
    const peak = t.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
    assertClose(a, t, 2e-5 * peak, 1e-4, `hvp batch ${b}`);
    rop.gradient(batch, a, 'sum');
    tape.gradient(batch, t, 'sum');
    assertClose(a, t, 1e-6, 1e-4, `gradient batch ${b}`);
    const da = new Float64Array(b);
    const dt = new Float64Array(b);
    rop.lossDirectional(batch, dir, da);
    tape.lossDirectional(batch, dir, dt);
    assertClose(da, dt, 1e-4, 1e-4, `directional batch ${b}`);
    rop.gradient(batch, a);
    rop.lissaStart(a);
    tape.lissaStart(a);
    for (let s = 0; s < 3; s++) {
      rop.lissaStep(batch, a, 0.01, 25);
      tape.lissaStep(batch, a, 0.01, 25);
    }
    const ha = new Float32Array(rop.size);
    const ht = new Float32Array(rop.size);
    rop.lissaRead(ha);
    tape.lissaRead(ht);
    assertClose(ha, ht, 1e-5, 1e-4, `lissa batch ${b}`);
    assert.ok(Math.abs(rop.lissaNormSquared() - tape.lissaNormSquared()) <= 1e-4 * tape.lissaNormSquared());
  }
});

test('the tape gradient of a float64 MLP equals the R-operator gradient (sum reduction is batch x mean)', () => {
  const x = new Tensor(inputs(3), [3, W[0]]);
  const y = Int32Array.from([0, 1, 2]);
  const ps = flatParams().map((p) => p.requireGrad());
  const g = grad(tapeLoss(ps, x, y), ps).flatMap((t) => t!.toArray());
  const sum = new Float64Array(size);
  new MlpHessian(layers, 'float64').gradient(x.values(), y, sum, 'sum');
  assertClose(
    sum.map((s) => s / 3),
    g,
    1e-12,
    1e-10,
    'gradient',
  );
});
