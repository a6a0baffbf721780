// Exact Hessian-vector products for the paper's MLPs (Linear, ReLU, ..., Linear, softmax
// cross-entropy) by Pearlmutter's R-operator: the forward pass and its directional
// derivative R{.} along v, then the backward pass and its directional derivative. The
// result is the same exact product the tape's double backward gives (ReLU's second
// derivative is zero almost everywhere), with a handful of GEMM calls per layer instead
// of hundreds of recorded ops, which is what makes LiSSA's thousands of products cheap.
//
// Per layer, one GEMM gives the forward and R-forward products with W ([a; Ra] W^T) and
// one the a V^T part; backward, [Rd; d] W and d V. At batch 1 these are matvecs that
// stream W and V once each (the native GEMM's skinny path). hvp() reads V straight from
// the caller's vector and writes H v straight into the output: no copy of the weights
// is made per product. A LiSSA iterate lives in the engine's own V and is updated in
// place.
import { kernels } from '../backend/registry.ts';
import type { DType, FloatArray } from '../backend/kernels.ts';
import { allocate, type Tensor } from '../tensor/tensor.ts';
import { MLP } from '../nn/models/mlp.ts';
import type { Module } from '../nn/module.ts';

interface Layer {
  inF: number;
  outF: number;
  w: FloatArray; // [out, in]
  bias: FloatArray; // [out]
  v: FloatArray; // [out, in]: the direction's weight part (ownV, or a view of hvp()'s v)
  vb: FloatArray; // [out]: the direction's bias part (ownVb, or a view)
  ownV: FloatArray;
  ownVb: FloatArray;
  aRa: FloatArray; // [2B, in]: the layer input a, then R{a}
  dRd: FloatArray; // [2B, out]: R{d}, then d (d = dLoss/dz of this layer's output)
  zz: FloatArray; // [2B, out]: [a; Ra] W^T
  av: FloatArray; // [B, out]: a V^T
  dv: FloatArray; // [B, in]: d V (the part of R{d} below that comes from V)
  hv: FloatArray; // [out, in]: scratch for a weight block
}

/** Up to this many outer products (2 per example), a LiSSA step updates h in one pass; above, a GEMM pays. */
export const FUSED_LISSA_MAX_ROWS = 8;

/** The Linear layers of an MLP as (weight [out, in], bias [out]) pairs, or null for other models. */
export function mlpLayers(model: Module): { weight: Tensor; bias: Tensor }[] | null {
  if (!(model instanceof MLP)) return null;
  const params = model.parameters();
  const layers: { weight: Tensor; bias: Tensor }[] = [];
  for (let i = 0; i + 1 < params.length; i += 2) {
    const [weight, bias] = [params[i], params[i + 1]];
    if (weight.rank !== 2 || bias.rank !== 1 || bias.shape[0] !== weight.shape[0]) return null;
    layers.push({ weight, bias });
  }
  return layers.length * 2 === params.length ? layers : null;
}

export class MlpHessian {
  readonly dtype: DType;
  readonly size: number; // parameters, in model.parameters() order: W1, b1, W2, b2, ...
  readonly offsets: number[]; // where each parameter starts in a flat vector
  readonly numClasses: number;
  private readonly layers: Layer[];
  private batch = 0;
  private probs: FloatArray = new Float64Array(0);
  private readonly sumScratch: FloatArray; // one element: a native reduction's result

  constructor(weights: { weight: FloatArray; bias: FloatArray; inF: number; outF: number }[], dtype: DType = 'float32') {
    this.dtype = dtype;
    this.sumScratch = allocate(dtype, 1);
    this.offsets = [];
    let offset = 0;
    this.layers = weights.map((w) => {
      const weight = allocate(dtype, w.outF * w.inF);
      weight.set(w.weight);
      const bias = allocate(dtype, w.outF);
      bias.set(w.bias);
      this.offsets.push(offset, offset + w.outF * w.inF);
      offset += w.outF * w.inF + w.outF;
      const ownV = allocate(dtype, w.outF * w.inF);
      const ownVb = allocate(dtype, w.outF);
      return {
        inF: w.inF,
        outF: w.outF,
        w: weight,
        bias,
        v: ownV,
        vb: ownVb,
        ownV,
        ownVb,
        aRa: allocate(dtype, 0),
        dRd: allocate(dtype, 0),
        zz: allocate(dtype, 0),
        av: allocate(dtype, 0),
        dv: allocate(dtype, 0),
        hv: allocate(dtype, w.outF * w.inF),
      };
    });
    this.size = offset;
    this.numClasses = weights[weights.length - 1].outF;
  }

  /** The engine for a model when it is an MLP (weights copied), else null. */
  static of(model: Module, dtype: DType = 'float32'): MlpHessian | null {
    const layers = mlpLayers(model);
    if (!layers) return null;
    return new MlpHessian(
      layers.map(({ weight, bias }) => ({ weight: weight.values(), bias: bias.values(), inF: weight.shape[1], outF: weight.shape[0] })),
      dtype,
    );
  }

  get inputSize(): number {
    return this.layers[0].inF;
  }

  private ensureBatch(b: number): void {
    if (b === this.batch) return;
    this.batch = b;
    for (const l of this.layers) {
      l.aRa = allocate(this.dtype, 2 * b * l.inF);
      l.dRd = allocate(this.dtype, 2 * b * l.outF);
      l.zz = allocate(this.dtype, 2 * b * l.outF);
      l.av = allocate(this.dtype, b * l.outF);
      l.dv = allocate(this.dtype, b * l.inF);
    }
    this.probs = allocate(this.dtype, b * this.numClasses);
  }

  /** Puts the direction v (a flat parameter vector) into the engine's own V. */
  setDirection(v: FloatArray): void {
    this.layers.forEach((l, i) => {
      l.v = l.ownV;
      l.vb = l.ownVb;
      l.v.set(this.weightBlock(v, i));
      l.vb.set(this.biasBlock(v, i));
    });
  }

  /** Copies the direction out as a flat parameter vector. */
  getDirection(out: FloatArray): void {
    this.layers.forEach((l, i) => {
      out.set(l.v, this.offsets[2 * i]);
      out.set(l.vb, this.offsets[2 * i + 1]);
    });
  }

  // Layer i's weight and bias parts of a flat parameter vector, as views.
  private weightBlock(flat: FloatArray, i: number): FloatArray {
    const l = this.layers[i];
    return flat.subarray(this.offsets[2 * i], this.offsets[2 * i] + l.outF * l.inF);
  }

  private biasBlock(flat: FloatArray, i: number): FloatArray {
    return flat.subarray(this.offsets[2 * i + 1], this.offsets[2 * i + 1] + this.layers[i].outF);
  }

  // x: [B, in0]. Forward and R-forward; leaves a, Ra in each layer's aRa, the softmax
  // probabilities in this.probs, the logits in the last layer's zz rows [0, B) and
  // R{logits} in its av.
  private forward(x: FloatArray, b: number): void {
    this.ensureBatch(b);
    const k = kernels(this.dtype);
    const last = this.layers.length - 1;
    this.layers[0].aRa.set(x.length === b * this.inputSize ? x : x.subarray(0, b * this.inputSize));
    this.layers.forEach((l, i) => {
      const { inF, outF, zz, av } = l;
      // the first layer's input does not depend on the parameters: R{x} = 0, skip its rows
      const rows = i === 0 ? b : 2 * b;
      k.matmul(l.aRa.subarray(0, rows * inF), l.w, rows, inF, outF, false, true, zz.subarray(0, rows * outF));
      k.matmul(l.aRa.subarray(0, b * inF), l.v, b, inF, outF, false, true, av);
      const next = i < last ? this.layers[i + 1].aRa : null;
      for (let r = 0; r < b; r++) {
        for (let j = 0; j < outF; j++) {
          const z = zz[r * outF + j] + l.bias[j];
          const rz = av[r * outF + j] + (i === 0 ? 0 : zz[(b + r) * outF + j]) + l.vb[j];
          if (next) {
            const on = z > 0;
            next[r * outF + j] = on ? z : 0;
            next[(b + r) * outF + j] = on ? rz : 0;
          } else {
            zz[r * outF + j] = z; // logits
            av[r * outF + j] = rz; // R{logits}
          }
        }
      }
    });
    const top = this.layers[last];
    const c = this.numClasses;
    for (let r = 0; r < b; r++) {
      const row = r * c;
      let max = -Infinity;
      for (let j = 0; j < c; j++) max = Math.max(max, top.zz[row + j]);
      let sum = 0;
      for (let j = 0; j < c; j++) sum += this.probs[row + j] = Math.exp(top.zz[row + j] - max);
      for (let j = 0; j < c; j++) this.probs[row + j] /= sum;
    }
  }

  // Backward and R-backward from dLoss/dlogits = weight * (p - onehot): fills every
  // layer's dRd (R{d} rows, then d rows).
  private backward(labels: Int32Array, b: number, weight: number, withR: boolean): void {
    const k = kernels(this.dtype);
    const last = this.layers.length - 1;
    const top = this.layers[last];
    const c = this.numClasses;
    for (let r = 0; r < b; r++) {
      let pRz = 0;
      for (let j = 0; j < c; j++) pRz += this.probs[r * c + j] * top.av[r * c + j];
      for (let j = 0; j < c; j++) {
        const p = this.probs[r * c + j];
        top.dRd[(b + r) * c + j] = weight * (p - (j === labels[r] ? 1 : 0));
        // R{softmax} = p * (Rz - p . Rz)
        top.dRd[r * c + j] = withR ? weight * p * (top.av[r * c + j] - pRz) : 0;
      }
    }
    for (let i = last; i > 0; i--) {
      const l = this.layers[i];
      const below = this.layers[i - 1];
      const { inF, outF, dv } = l;
      // [Rd; d] W = [Rd W; d W], then R{d} below also gets d V
      k.matmul(l.dRd, l.w, 2 * b, outF, inF, false, false, below.dRd);
      if (withR) k.matmul(l.dRd.subarray(b * outF, 2 * b * outF), l.v, b, outF, inF, false, false, dv);
      const a = l.aRa; // this layer's input = the ReLU output below: the mask
      for (let r = 0; r < b; r++) {
        for (let j = 0; j < inF; j++) {
          if (!(a[r * inF + j] > 0)) {
            below.dRd[r * inF + j] = 0;
            below.dRd[(b + r) * inF + j] = 0;
          } else if (withR) {
            below.dRd[r * inF + j] += dv[r * inF + j];
          }
        }
      }
    }
  }

  // R{dLoss/dW} = Rd^T a + d^T Ra into hw; R{dLoss/db} = sum of Rd rows into hb.
  private hessianBlock(i: number, b: number, hw: FloatArray, hb: FloatArray): void {
    const l = this.layers[i];
    const rows = i === 0 ? b : 2 * b; // R{x} = 0: only Rd^T x
    kernels(this.dtype).matmul(l.dRd.subarray(0, rows * l.outF), l.aRa.subarray(0, rows * l.inF), l.outF, rows, l.inF, true, false, hw);
    hb.fill(0);
    for (let r = 0; r < b; r++) for (let j = 0; j < l.outF; j++) hb[j] += l.dRd[r * l.outF + j];
  }

  /**
   * H v for the loss mean over the batch (x: [B, in] flat, labels: [B]) into out (a flat
   * parameter vector); v must have been put in with setDirection.
   */
  hvpCurrent(x: FloatArray, labels: Int32Array, out: FloatArray): void {
    const b = labels.length;
    this.forward(x, b);
    this.backward(labels, b, 1 / b, true);
    this.layers.forEach((_, i) => this.hessianBlock(i, b, this.weightBlock(out, i), this.biasBlock(out, i)));
  }

  /** H v (see hvpCurrent), reading v in place: the engine's own direction is left as it was. */
  hvp(x: FloatArray, labels: Int32Array, v: FloatArray, out: FloatArray): void {
    if (v.length !== this.size) throw new Error(`MlpHessian.hvp: v has ${v.length} values, the model has ${this.size} parameters`);
    const sameType = this.dtype === 'float32' ? v instanceof Float32Array : v instanceof Float64Array;
    if (!sameType) {
      this.setDirection(v);
      this.hvpCurrent(x, labels, out);
      return;
    }
    const own = this.layers.map((l) => [l.v, l.vb]);
    this.layers.forEach((l, i) => {
      l.v = this.weightBlock(v, i);
      l.vb = this.biasBlock(v, i);
    });
    try {
      this.hvpCurrent(x, labels, out);
    } finally {
      this.layers.forEach((l, i) => {
        [l.v, l.vb] = own[i];
      });
    }
  }

  /**
   * The gradient of the loss summed (reduction 'sum') or averaged over the batch, into
   * out. Leaves the direction as it was.
   */
  gradient(x: FloatArray, labels: Int32Array, out: FloatArray, reduction: 'sum' | 'mean' = 'mean'): void {
    const b = labels.length;
    this.forward(x, b);
    this.backward(labels, b, reduction === 'mean' ? 1 / b : 1, false);
    const k = kernels(this.dtype);
    this.layers.forEach((l, i) => {
      // dW = d^T a: the d rows of dRd against the a rows of aRa
      k.matmul(l.dRd.subarray(b * l.outF, 2 * b * l.outF), l.aRa.subarray(0, b * l.inF), l.outF, b, l.inF, true, false, this.weightBlock(out, i));
      const gb = this.biasBlock(out, i);
      gb.fill(0);
      for (let r = 0; r < b; r++) for (let j = 0; j < l.outF; j++) gb[j] += l.dRd[(b + r) * l.outF + j];
    });
  }

  /**
   * Per-example directional derivatives of the loss, grad l(z_r) . s, for a batch (the
   * forward-mode product: no per-example gradient is formed). Sets the direction to s.
   */
  lossDirectional(x: FloatArray, labels: Int32Array, s: FloatArray, out: Float64Array): void {
    const b = labels.length;
    this.setDirection(s);
    this.forward(x, b);
    const top = this.layers[this.layers.length - 1];
    const c = this.numClasses;
    for (let r = 0; r < b; r++) {
      let acc = 0;
      for (let j = 0; j < c; j++) acc += (this.probs[r * c + j] - (j === labels[r] ? 1 : 0)) * top.av[r * c + j];
      out[r] = acc;
    }
  }

  /** Per-example losses (cross-entropy) of a batch. */
  losses(x: FloatArray, labels: Int32Array, out: Float64Array): void {
    const b = labels.length;
    this.forward(x, b);
    for (let r = 0; r < b; r++) out[r] = -Math.log(this.probs[r * this.numClasses + labels[r]]);
  }

  clearDirection(): void {
    for (const l of this.layers) {
      l.v = l.ownV.fill(0);
      l.vb = l.ownVb.fill(0);
    }
  }

  /**
   * One LiSSA step on the iterate h held as the direction: h <- v + (1 - damp) h -
   * (H_z h) / scale, H_z the Hessian of the loss on the batch (x, labels). v is a flat
   * parameter vector. For one or a few examples, one native pass per weight block:
   * h <- (1 - damp) h + v + the rank-2B outer products of H_z h (pre-scaled by -1/scale),
   * the block never formed (a GEMM into scratch and a second sweep would write and read
   * the block once more each). Larger batches keep the GEMM.
   */
  lissaStep(x: FloatArray, labels: Int32Array, v: FloatArray, damp: number, scale: number): void {
    const b = labels.length;
    const k = kernels(this.dtype);
    this.forward(x, b);
    this.backward(labels, b, -1 / (b * scale), true);
    this.layers.forEach((l, i) => {
      const h = l.v;
      const rows = i === 0 ? b : 2 * b;
      // l.dRd holds -R{d}/scale and -d/scale: the outer products give -(H_z h)/scale
      const d = l.dRd.subarray(0, rows * l.outF);
      const a = l.aRa.subarray(0, rows * l.inF);
      if (rows <= FUSED_LISSA_MAX_ROWS) k.scaledSumOuter(h, 1 - damp, this.weightBlock(v, i), d, a, l.outF, rows, l.inF, h);
      else {
        k.matmul(d, a, l.outF, rows, l.inF, true, false, l.hv);
        k.scaledSum(h, 1 - damp, this.weightBlock(v, i), l.hv, h);
      }
      const vbOff = this.offsets[2 * i + 1];
      for (let o = 0; o < l.outF; o++) {
        let hb = 0;
        for (let r = 0; r < b; r++) hb += l.dRd[r * l.outF + o];
        l.vb[o] = v[vbOff + o] + (1 - damp) * l.vb[o] + hb;
      }
    });
  }

  /** The squared Euclidean norm of the direction (the LiSSA iterate). */
  directionNormSquared(): number {
    // natively, through the weight block's scratch: a JavaScript loop over the 335,114
    // weights of LargeMLP took longer than the LiSSA step whose iterate it measures
    const k = kernels(this.dtype);
    const total = this.sumScratch;
    let s = 0;
    for (const l of this.layers) {
      k.unary('square', l.v, l.hv);
      k.reduce('sum', l.hv, [l.hv.length], [true], total);
      s += total[0];
      for (let j = 0; j < l.outF; j++) s += l.vb[j] * l.vb[j];
    }
    return s;
  }
}
