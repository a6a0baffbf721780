// Reductions and row-wise softmax family of the reference backend.
import type { FloatArray, ReduceOp } from '../kernels.ts';

// x: shape -> out: shape with the masked axes set to 1
export function reduce(op: ReduceOp, x: FloatArray, shape: number[], reduceMask: boolean[], out: FloatArray): void {
  const rank = shape.length;
  const outStrides = new Array<number>(rank);
  let s = 1;
  for (let d = rank - 1; d >= 0; d--) {
    outStrides[d] = reduceMask[d] ? 0 : s;
    s *= reduceMask[d] ? 1 : shape[d];
  }
  out.fill(op === 'max' ? -Infinity : 0);
  const idx = new Array<number>(rank).fill(0);
  let o = 0;
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (op === 'sum') out[o] += v;
    else if (v > out[o] || Number.isNaN(v)) out[o] = v;
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]++;
      o += outStrides[d];
      if (idx[d] < shape[d]) break;
      o -= outStrides[d] * shape[d];
      idx[d] = 0;
    }
  }
}

function rowMax(x: FloatArray, base: number, cols: number): number {
  let m = -Infinity;
  for (let j = 0; j < cols; j++) m = Math.max(m, x[base + j]);
  return m;
}

// x, out: [rows, cols], softmax along cols
export function softmax(x: FloatArray, rows: number, cols: number, out: FloatArray): void {
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    const m = rowMax(x, base, cols);
    let z = 0;
    for (let j = 0; j < cols; j++) {
      out[base + j] = Math.exp(x[base + j] - m);
      z += out[base + j];
    }
    for (let j = 0; j < cols; j++) out[base + j] /= z;
  }
}

// x, out: [rows, cols], log-softmax along cols
export function logSoftmax(x: FloatArray, rows: number, cols: number, out: FloatArray): void {
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    const m = rowMax(x, base, cols);
    let z = 0;
    for (let j = 0; j < cols; j++) z += Math.exp(x[base + j] - m);
    const lse = m + Math.log(z);
    for (let j = 0; j < cols; j++) out[base + j] = x[base + j] - lse;
  }
}

// logits, probs: [rows, cols], labels: [rows] -> loss: [rows]
export function softmaxCrossEntropy(logits: FloatArray, labels: Int32Array, rows: number, cols: number, loss: FloatArray, probs: FloatArray): void {
  softmax(logits, rows, cols, probs);
  const logp = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    logSoftmax(logits.subarray(r * cols, (r + 1) * cols), 1, cols, logp);
    loss[r] = -logp[labels[r]];
  }
}
