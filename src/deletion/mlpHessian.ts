// Exact Hessian-vector products for the paper's MLPs (Linear, ReLU, ..., Linear, softmax
// cross-entropy) by Pearlmutter's R-operator: the forward pass and its directional
// derivative R{.} along v, then the backward pass and its directional derivative. The
// result is the same exact product the tape's double backward gives (ReLU's second
// derivative is zero almost everywhere), with a handful of GEMM calls per layer instead
// of hundreds of recorded ops, which is what makes LiSSA's thousands of products cheap.
//
// Each layer keeps W and the direction V stacked in one buffer WV = [W; V] ([2*out, in]),
// so one GEMM computes the forward and R-forward products ([a; Ra] WV^T) and one GEMM the
// backward and R-backward products ([Rd, d; d, 0] WV). A LiSSA iterate lives in the V
// halves and is updated in place.
import { kernels } from '../backend/registry.ts';
import type { DType, FloatArray } from '../backend/kernels.ts';
import { allocate, type Tensor } from '../tensor/tensor.ts';
import { MLP } from '../nn/models/mlp.ts';
import type { Module } from '../nn/module.ts';

interface Layer {
  inF: number;
  outF: number;
  wv: FloatArray; // [2*out, in]: W then V
  bias: FloatArray; // [out]
  vb: FloatArray; // [out]: the direction's bias part
  aRa: FloatArray; // [2B, in]: the layer input a, then R{a}
  dRd: FloatArray; // [2B, out]: R{d}, then d (d = dLoss/dz of this layer's output)
  zz: FloatArray; // [2B, 2*out]: [a; Ra] WV^T
  back: FloatArray; // [2B, 2*out]: [Rd, d; d, 0] for the backward GEMM
  hv: FloatArray; // [out, in]: R{dLoss/dW}
}

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

  constructor(weights: { weight: FloatArray; bias: FloatArray; inF: number; outF: number }[], dtype: DType = 'float32') {
    this.dtype = dtype;
    this.offsets = [];
    let offset = 0;
    this.layers = weights.map((w) => {
      const wv = allocate(dtype, 2 * w.outF * w.inF);
      wv.set(w.weight);
      const bias = allocate(dtype, w.outF);
      bias.set(w.bias);
      this.offsets.push(offset, offset + w.outF * w.inF);
      offset += w.outF * w.inF + w.outF;
      return { inF: w.inF, outF: w.outF, wv, bias, vb: allocate(dtype, w.outF), aRa: allocate(dtype, 0), dRd: allocate(dtype, 0),
        zz: allocate(dtype, 0), back: allocate(dtype, 0), hv: allocate(dtype, w.outF * w.inF) };
    });
    this.size = offset;
    this.numClasses = weights[weights.length - 1].outF;
  }

  /** The engine for a model when it is an MLP (weights copied), else null. */
  static of(model: Module, dtype: DType = 'float32'): MlpHessian | null {
    const layers = mlpLayers(model);
    if (!layers) return null;
    return new MlpHessian(layers.map(({ weight, bias }) => ({ weight: weight.values(), bias: bias.values(), inF: weight.shape[1], outF: weight.shape[0] })), dtype);
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
      l.zz = allocate(this.dtype, 2 * b * 2 * l.outF);
      l.back = allocate(this.dtype, 2 * b * 2 * l.outF);
    }
    this.probs = allocate(this.dtype, b * this.numClasses);
  }

  /** Puts the direction v (a flat parameter vector) into the V halves. */
  setDirection(v: FloatArray): void {
    this.layers.forEach((l, i) => {
      const n = l.outF * l.inF;
      l.wv.set(v.subarray(this.offsets[2 * i], this.offsets[2 * i] + n), n);
      l.vb.set(v.subarray(this.offsets[2 * i + 1], this.offsets[2 * i + 1] + l.outF));
    });
  }

  /** Copies the V halves out as a flat parameter vector. */
  getDirection(out: FloatArray): void {
    this.layers.forEach((l, i) => {
      const n = l.outF * l.inF;
      out.set(l.wv.subarray(n, 2 * n), this.offsets[2 * i]);
      out.set(l.vb, this.offsets[2 * i + 1]);
    });
  }

  // x: [B, in0], labels: [B]. Forward and R-forward; leaves a, Ra in each layer's aRa
  // and the softmax probabilities in this.probs; returns R{logits} in the last zz rows.
  private forward(x: FloatArray, b: number): void {
    this.ensureBatch(b);
    const k = kernels(this.dtype);
    const last = this.layers.length - 1;
    this.layers[0].aRa.set(x.length === b * this.inputSize ? x : x.subarray(0, b * this.inputSize));
    this.layers.forEach((l, i) => {
      const { inF, outF, zz } = l;
      // the first layer's input does not depend on the parameters: R{x} = 0, skip its rows
      const rows = i === 0 ? b : 2 * b;
      k.matmul(l.aRa.subarray(0, rows * inF), l.wv, rows, inF, 2 * outF, false, true, zz.subarray(0, rows * 2 * outF));
      const next = i < last ? this.layers[i + 1].aRa : null;
      for (let r = 0; r < b; r++) {
        for (let j = 0; j < outF; j++) {
          const z = zz[r * 2 * outF + j] + l.bias[j];
          const rz = zz[r * 2 * outF + outF + j] + (i === 0 ? 0 : zz[(b + r) * 2 * outF + j]) + l.vb[j];
          if (next) {
            const on = z > 0;
            next[r * outF + j] = on ? z : 0;
            next[(b + r) * outF + j] = on ? rz : 0;
          } else {
            zz[r * 2 * outF + j] = z; // logits
            zz[r * 2 * outF + outF + j] = rz; // R{logits}
          }
        }
      }
    });
    const top = this.layers[last];
    const c = this.numClasses;
    for (let r = 0; r < b; r++) {
      const row = r * 2 * c;
      let max = -Infinity;
      for (let j = 0; j < c; j++) max = Math.max(max, top.zz[row + j]);
      let sum = 0;
      for (let j = 0; j < c; j++) sum += (this.probs[r * c + j] = Math.exp(top.zz[row + j] - max));
      for (let j = 0; j < c; j++) this.probs[r * c + j] /= sum;
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
      for (let j = 0; j < c; j++) pRz += this.probs[r * c + j] * top.zz[r * 2 * c + c + j];
      for (let j = 0; j < c; j++) {
        const p = this.probs[r * c + j];
        top.dRd[(b + r) * c + j] = weight * (p - (j === labels[r] ? 1 : 0));
        // R{softmax} = p * (Rz - p . Rz)
        top.dRd[r * c + j] = withR ? weight * p * (top.zz[r * 2 * c + c + j] - pRz) : 0;
      }
    }
    for (let i = last; i > 0; i--) {
      const l = this.layers[i];
      const below = this.layers[i - 1];
      const { outF, back } = l;
      // [Rd, d; d, 0] [W; V] = [Rd W + d V; d W]
      for (let r = 0; r < b; r++) {
        for (let j = 0; j < outF; j++) {
          const rd = l.dRd[r * outF + j];
          const d = l.dRd[(b + r) * outF + j];
          back[r * 2 * outF + j] = rd;
          back[r * 2 * outF + outF + j] = d;
          back[(b + r) * 2 * outF + j] = d;
          back[(b + r) * 2 * outF + outF + j] = 0;
        }
      }
      k.matmul(back, l.wv, 2 * b, 2 * outF, l.inF, false, false, below.dRd);
      const a = l.aRa; // this layer's input = the ReLU output below: the mask
      for (let r = 0; r < b; r++) {
        for (let j = 0; j < l.inF; j++) {
          if (!(a[r * l.inF + j] > 0)) {
            below.dRd[r * l.inF + j] = 0;
            below.dRd[(b + r) * l.inF + j] = 0;
          }
        }
      }
    }
  }

  // R{dLoss/dW} = Rd^T a + d^T Ra into l.hv; R{dLoss/db} = sum of Rd rows into hb.
  private hessianBlock(i: number, b: number, hb: FloatArray): void {
    const l = this.layers[i];
    const rows = i === 0 ? b : 2 * b; // R{x} = 0: only Rd^T x
    kernels(this.dtype).matmul(l.dRd.subarray(0, rows * l.outF), l.aRa.subarray(0, rows * l.inF), l.outF, rows, l.inF, true, false, l.hv);
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
    this.layers.forEach((l, i) => {
      this.hessianBlock(i, b, out.subarray(this.offsets[2 * i + 1], this.offsets[2 * i + 1] + l.outF));
      out.set(l.hv, this.offsets[2 * i]);
    });
  }

  hvp(x: FloatArray, labels: Int32Array, v: FloatArray, out: FloatArray): void {
    this.setDirection(v);
    this.hvpCurrent(x, labels, out);
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
      k.matmul(l.dRd.subarray(b * l.outF, 2 * b * l.outF), l.aRa.subarray(0, b * l.inF), l.outF, b, l.inF, true, false, l.hv);
      out.set(l.hv, this.offsets[2 * i]);
      const gb = out.subarray(this.offsets[2 * i + 1], this.offsets[2 * i + 1] + l.outF);
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
      for (let j = 0; j < c; j++) acc += (this.probs[r * c + j] - (j === labels[r] ? 1 : 0)) * top.zz[r * 2 * c + c + j];
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
      l.wv.fill(0, l.outF * l.inF);
      l.vb.fill(0);
    }
  }

  /**
   * One LiSSA step on the iterate h held as the direction: h <- v + (1 - damp) h -
   * (H_z h) / scale, H_z the Hessian of the loss on the batch (x, labels). v is a flat
   * parameter vector. Four native passes per weight block: the rank-2B outer products
   * of H_z h (pre-scaled by -1/scale) into a scratch block, then scale h, add v, add the
   * block; faster than one fused loop in JS, which does not vectorise.
   */
  lissaStep(x: FloatArray, labels: Int32Array, v: FloatArray, damp: number, scale: number): void {
    const b = labels.length;
    const k = kernels(this.dtype);
    this.forward(x, b);
    this.backward(labels, b, -1 / (b * scale), true);
    this.layers.forEach((l, i) => {
      const n = l.outF * l.inF;
      const h = l.wv.subarray(n, 2 * n);
      const rows = i === 0 ? b : 2 * b;
      // l.dRd holds -R{d}/scale and -d/scale: the outer products give -(H_z h)/scale
      k.matmul(l.dRd.subarray(0, rows * l.outF), l.aRa.subarray(0, rows * l.inF), l.outF, rows, l.inF, true, false, l.hv);
      k.affine(h, 1 - damp, 0, h);
      const flat = [1];
      k.binary('add', h, 0, flat, v, this.offsets[2 * i], flat, [n], h);
      k.binary('add', h, 0, flat, l.hv, 0, flat, [n], h);
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
    let s = 0;
    for (const l of this.layers) {
      const n = l.outF * l.inF;
      for (let j = n; j < 2 * n; j++) s += l.wv[j] * l.wv[j];
      for (let j = 0; j < l.outF; j++) s += l.vb[j] * l.vb[j];
    }
    return s;
  }
}
