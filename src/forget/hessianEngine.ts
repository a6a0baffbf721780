// The second-order operations deletion needs (gradients, exact Hessian-vector products,
// a LiSSA iterate, per-example directional derivatives of the loss) over the model's
// parameters as one flat vector in model.parameters() order. MLPs get the R-operator
// engine (src/forget/mlpHessian.ts); every other model the tape's double backward.
import type { DType, FloatArray } from '../backend/kernels.ts';
import { grad, noGrad } from '../autograd/tape.ts';
import { hessianVectorProduct } from '../autograd/hvp.ts';
import type { Module } from '../nn/module.ts';
import * as ops from '../ops/index.ts';
import { allocate, Tensor } from '../tensor/tensor.ts';
import { MlpHessian } from './mlpHessian.ts';

/** Model inputs (flat or NCHW, as the model takes them) and their labels. */
export interface Batch {
  x: Tensor;
  y: Int32Array;
}

export type EngineKind = 'mlp-rop' | 'tape';

export interface HessianEngine {
  readonly kind: EngineKind;
  readonly size: number; // number of parameters
  /** Gradient of the loss summed or averaged over the batch. */
  gradient(batch: Batch, out: FloatArray, reduction?: 'sum' | 'mean'): void;
  /** H v, H the Hessian of the batch-mean loss. */
  hvp(batch: Batch, v: FloatArray, out: FloatArray): void;
  /** grad l(z_r) . s for every example r of the batch (one value each). */
  lossDirectional(batch: Batch, s: FloatArray, out: Float64Array): void;
  /** Starts a LiSSA iterate at h0. */
  lissaStart(h0: FloatArray): void;
  /** h <- v + (1 - damp) h - (H_batch h) / scale. */
  lissaStep(batch: Batch, v: FloatArray, damp: number, scale: number): void;
  lissaRead(out: FloatArray): void;
  lissaNormSquared(): number;
}

export class MlpEngine implements HessianEngine {
  readonly kind = 'mlp-rop';
  constructor(readonly mlp: MlpHessian) {}
  get size(): number {
    return this.mlp.size;
  }
  gradient(b: Batch, out: FloatArray, reduction: 'sum' | 'mean' = 'mean'): void {
    this.mlp.gradient(b.x.values(), b.y, out, reduction);
  }
  hvp(b: Batch, v: FloatArray, out: FloatArray): void {
    this.mlp.hvp(b.x.values(), b.y, v, out);
  }
  lossDirectional(b: Batch, s: FloatArray, out: Float64Array): void {
    this.mlp.lossDirectional(b.x.values(), b.y, s, out);
  }
  lissaStart(h0: FloatArray): void {
    this.mlp.setDirection(h0);
  }
  lissaStep(b: Batch, v: FloatArray, damp: number, scale: number): void {
    this.mlp.lissaStep(b.x.values(), b.y, v, damp, scale);
  }
  lissaRead(out: FloatArray): void {
    this.mlp.getDirection(out);
  }
  lissaNormSquared(): number {
    return this.mlp.directionNormSquared();
  }
}

/** Any model, through the tape: exact products by double backward, in eval mode. */
export class TapeEngine implements HessianEngine {
  readonly kind = 'tape';
  readonly size: number;
  private readonly params: Tensor[];
  private h: FloatArray;
  private readonly scratch: FloatArray;

  constructor(private readonly model: Module) {
    this.params = model.parameters();
    this.size = this.params.reduce((s, p) => s + p.size, 0);
    this.h = allocate(this.dtype, this.size);
    this.scratch = allocate(this.dtype, this.size);
  }

  private get dtype(): DType {
    return this.params[0].dtype;
  }

  private loss(b: Batch, reduction: 'sum' | 'mean'): Tensor {
    this.model.eval();
    const perExample = ops.crossEntropyPerExample(this.model.forward(b.x), b.y);
    return reduction === 'sum' ? perExample.sum() : perExample.mean();
  }

  private tensors(v: FloatArray): Tensor[] {
    let off = 0;
    return this.params.map((p) => {
      const t = new Tensor(v.subarray(off, off + p.size), p.shape);
      off += p.size;
      return t;
    });
  }

  private flatten(ts: (Tensor | null)[], out: FloatArray): void {
    let off = 0;
    ts.forEach((t, i) => {
      if (t) out.set(t.values(), off);
      else out.fill(0, off, off + this.params[i].size);
      off += this.params[i].size;
    });
  }

  gradient(b: Batch, out: FloatArray, reduction: 'sum' | 'mean' = 'mean'): void {
    this.flatten(grad(this.loss(b, reduction), this.params, { allowUnused: true }), out);
  }

  hvp(b: Batch, v: FloatArray, out: FloatArray): void {
    this.flatten(
      hessianVectorProduct(() => this.loss(b, 'mean'), this.params, this.tensors(v)),
      out,
    );
  }

  lossDirectional(b: Batch, s: FloatArray, out: Float64Array): void {
    // one gradient per example: the tape has no forward mode
    const g = this.scratch;
    for (let r = 0; r < b.y.length; r++) {
      const one = { x: b.x.slice(0, r, r + 1).contiguous(), y: b.y.subarray(r, r + 1) };
      this.gradient(one, g, 'sum');
      let acc = 0;
      for (let j = 0; j < g.length; j++) acc += g[j] * s[j];
      out[r] = acc;
    }
  }

  lissaStart(h0: FloatArray): void {
    this.h = allocate(this.dtype, this.size);
    this.h.set(h0);
  }

  lissaStep(b: Batch, v: FloatArray, damp: number, scale: number): void {
    const hv = this.scratch;
    this.hvp(b, this.h, hv);
    noGrad(() => {
      const keep = 1 - damp;
      for (let j = 0; j < this.size; j++) this.h[j] = v[j] + keep * this.h[j] - hv[j] / scale;
    });
  }

  lissaRead(out: FloatArray): void {
    out.set(this.h);
  }

  lissaNormSquared(): number {
    let s = 0;
    for (let j = 0; j < this.size; j++) s += this.h[j] * this.h[j];
    return s;
  }
}

/** The fastest exact engine for the model: the R-operator for MLPs, else the tape. */
export function hessianEngineFor(model: Module, prefer: 'auto' | 'tape' = 'auto'): HessianEngine {
  const mlp = prefer === 'auto' ? MlpHessian.of(model) : null;
  return mlp ? new MlpEngine(mlp) : new TapeEngine(model);
}

/** The model's parameters as one flat vector (a copy). */
export function flatParameters(model: Module): Float32Array {
  const params = model.parameters();
  const out = new Float32Array(params.reduce((s, p) => s + p.size, 0));
  let off = 0;
  for (const p of params) {
    out.set(p.values(), off);
    off += p.size;
  }
  return out;
}

/** Writes a flat vector back into the model's parameters. */
export function setFlatParameters(model: Module, flat: FloatArray): void {
  let off = 0;
  for (const p of model.parameters()) {
    p.data.set(flat.subarray(off, off + p.size), p.offset);
    off += p.size;
  }
}
