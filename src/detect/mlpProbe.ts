// Per-example quantities of an MLP (Linear, ReLU, ..., Linear, softmax cross-entropy) in
// one batched forward and backward pass, without forming any per-example gradient: for a
// Linear layer the gradient of one example's loss is the outer product d (x) a of the
// layer's output delta d and its input a, so ||grad||^2 = sum over layers of
// |d|^2 (|a|^2 + 1) (the 1 is the bias), and a random projection of the gradient needs
// only d U^T and a V^T (KroneckerProjection). That is what lets grad-norm, TracIn and
// TRAK score all 60,000 MNIST examples in seconds per checkpoint.
import { kernels } from '../backend/registry.ts';
import type { DType, FloatArray } from '../backend/kernels.ts';
import { RandomState } from '../data/numpyRandom.ts';
import { allocate } from '../tensor/tensor.ts';
import { mlpLayers } from '../forget/mlpHessian.ts';
import type { Module } from '../nn/module.ts';

export interface ProbeLayer {
  inF: number;
  outF: number;
  weight: FloatArray; // [out, in]
  bias: FloatArray; // [out]
}

/**
 * A JL projection of flat gradients to k numbers whose inner products are unbiased for
 * the gradients' inner products: phi_j = sum over layers (U_j . d)(V_j . a) + C_j . d,
 * divided by sqrt(k), with U, V, C independent standard normals. (A Kronecker-structured
 * projection: E[(u.d)(v.a)(u.d')(v.a')] = (d.d')(a.a') = <d (x) a, d' (x) a'>.)
 */
export class KroneckerProjection {
  readonly u: Float32Array[] = []; // per layer [k, out]
  readonly v: Float32Array[] = []; // per layer [k, in]
  readonly c: Float32Array[] = []; // per layer [k, out]
  constructor(
    readonly k: number,
    layers: readonly ProbeLayer[],
    seed: number,
  ) {
    const rng = new RandomState([seed, 31]);
    const normals = (n: number) => Float32Array.from({ length: n }, () => rng.standardNormal());
    for (const l of layers) {
      this.u.push(normals(k * l.outF));
      this.v.push(normals(k * l.inF));
      this.c.push(normals(k * l.outF));
    }
  }
}

export interface ProbeWants {
  /** Per-example squared norm of the loss gradient over all parameters. */
  gradNormSq?: boolean;
  /** Project the gradient of the loss ('loss') or of TRAK's margin log(p/(1-p)) ('margin'). */
  projection?: { proj: KroneckerProjection; of: 'loss' | 'margin' };
  /** The last hidden layer's activations (the penultimate representation). */
  penultimate?: boolean;
}

export interface ProbeResult {
  loss: Float64Array; // [B] cross-entropy
  margin: Float64Array; // [B] logit of the label minus the largest other logit
  pLabel: Float64Array; // [B] softmax probability of the label
  gradNormSq: Float64Array | null; // [B]
  projected: Float32Array | null; // [B, k]
  penultimate: Float32Array | null; // [B, hidden]
}

export class MlpProbe {
  constructor(
    readonly layers: readonly ProbeLayer[],
    readonly dtype: DType = 'float32',
  ) {}

  /** The probe of a model when it is an MLP (weights shared, not copied), else null. */
  static of(model: Module): MlpProbe | null {
    const layers = mlpLayers(model);
    if (!layers) return null;
    return new MlpProbe(
      layers.map(({ weight, bias }) => ({ weight: weight.values(), bias: bias.values(), inF: weight.shape[1], outF: weight.shape[0] })),
      layers[0].weight.dtype,
    );
  }

  get hiddenSize(): number {
    return this.layers[this.layers.length - 1].inF;
  }

  // x: [B, in], y: [B]
  pass(x: FloatArray, y: Int32Array, want: ProbeWants = {}): ProbeResult {
    const B = y.length;
    const K = kernels(this.dtype);
    const L = this.layers.length;
    const acts: FloatArray[] = [x]; // acts[l]: input of layer l, [B, in_l]
    let z: FloatArray = x;
    for (let l = 0; l < L; l++) {
      const { inF, outF, weight, bias } = this.layers[l];
      z = allocate(this.dtype, B * outF);
      K.matmul(acts[l], weight, B, inF, outF, false, true, z);
      for (let r = 0; r < B; r++)
        for (let o = 0; o < outF; o++) {
          const v = z[r * outF + o] + bias[o];
          z[r * outF + o] = l < L - 1 && v < 0 ? 0 : v;
        }
      if (l < L - 1) acts.push(z);
    }
    const C = this.layers[L - 1].outF;
    const loss = new Float64Array(B);
    const margin = new Float64Array(B);
    const pLabel = new Float64Array(B);
    let d = allocate(this.dtype, B * C); // dLoss/dlogits per example (or the margin's)
    const p = new Float64Array(C);
    for (let r = 0; r < B; r++) {
      const label = y[r];
      let max = -Infinity;
      let otherMax = -Infinity;
      for (let c = 0; c < C; c++) {
        const v = z[r * C + c];
        if (v > max) max = v;
        if (c !== label && v > otherMax) otherMax = v;
      }
      let sum = 0;
      for (let c = 0; c < C; c++) sum += p[c] = Math.exp(z[r * C + c] - max);
      let others = 0;
      for (let c = 0; c < C; c++) {
        p[c] /= sum;
        if (c !== label) others += p[c];
      }
      loss[r] = Math.log(sum) + max - z[r * C + label];
      margin[r] = z[r * C + label] - otherMax;
      pLabel[r] = p[label];
      // the margin f = log p_y - log(1 - p_y) has gradient -(p - e_y) / (1 - p_y); the sign
      // does not matter to the quadratic forms TRAK takes of it
      const scale = want.projection?.of === 'margin' ? 1 / Math.max(others, 1e-30) : 1;
      for (let c = 0; c < C; c++) d[r * C + c] = (c === label ? -others : p[c]) * scale;
    }
    const gradNormSq = want.gradNormSq ? new Float64Array(B) : null;
    const proj = want.projection?.proj ?? null;
    const projected = proj ? new Float32Array(B * proj.k) : null;
    const du = proj ? allocate(this.dtype, B * proj.k) : null;
    const av = proj ? allocate(this.dtype, B * proj.k) : null;
    const dc = proj ? allocate(this.dtype, B * proj.k) : null;
    const projScale = proj ? 1 / Math.sqrt(proj.k) : 0;
    for (let l = L - 1; l >= 0; l--) {
      const { inF, outF, weight } = this.layers[l];
      const a = acts[l];
      if (gradNormSq) {
        for (let r = 0; r < B; r++) {
          let dd = 0;
          let aa = 1;
          for (let o = 0; o < outF; o++) dd += d[r * outF + o] * d[r * outF + o];
          for (let i = 0; i < inF; i++) aa += a[r * inF + i] * a[r * inF + i];
          gradNormSq[r] += dd * aa;
        }
      }
      if (proj && projected && du && av && dc) {
        const k = proj.k;
        K.matmul(d, proj.u[l], B, outF, k, false, true, du);
        K.matmul(a, proj.v[l], B, inF, k, false, true, av);
        K.matmul(d, proj.c[l], B, outF, k, false, true, dc);
        for (let j = 0; j < B * k; j++) projected[j] += (du[j] * av[j] + dc[j]) * projScale;
      }
      if (l > 0) {
        const prev = allocate(this.dtype, B * inF);
        K.matmul(d, weight, B, outF, inF, false, false, prev);
        for (let j = 0; j < B * inF; j++) if (!(a[j] > 0)) prev[j] = 0;
        d = prev;
      }
    }
    const penultimate = want.penultimate ? Float32Array.from(acts[L - 1]) : null;
    return { loss, margin, pLabel, gradNormSq, projected, penultimate };
  }
}
