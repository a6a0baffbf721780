// Elementwise kernels of the reference backend: plain loops, the specification.
import type { BinaryOp, FloatArray, UnaryOp } from '../kernels.ts';

const binaryFns: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  max: (a, b) => (a >= b || Number.isNaN(a) ? a : b),
  min: (a, b) => (a <= b || Number.isNaN(a) ? a : b),
  eq: (a, b) => (a === b ? 1 : 0),
  gt: (a, b) => (a > b ? 1 : 0),
  maskPos: (a, b) => (a > 0 ? b : 0),
  addRelu: (a, b) => (a + b > 0 ? a + b : 0),
  pow: (a, b) => a ** b,
};

const unaryFns: Record<UnaryOp, (x: number) => number> = {
  neg: (x) => -x,
  exp: Math.exp,
  log: Math.log,
  relu: (x) => (x > 0 ? x : 0),
  sqrt: Math.sqrt,
  rsqrt: (x) => 1 / Math.sqrt(x),
  abs: Math.abs,
  sign: (x) => (x > 0 ? 1 : x < 0 ? -1 : 0),
  step: (x) => (x > 0 ? 1 : 0),
  square: (x) => x * x,
  reciprocal: (x) => 1 / x,
  tanh: Math.tanh,
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
};

// a, b read through strides over outShape -> out: contiguous outShape
export function binary(
  op: BinaryOp,
  a: FloatArray,
  aOffset: number,
  aStrides: number[],
  b: FloatArray,
  bOffset: number,
  bStrides: number[],
  outShape: number[],
  out: FloatArray,
): void {
  const f = binaryFns[op];
  const rank = outShape.length;
  const idx = new Array<number>(rank).fill(0);
  let ai = aOffset;
  let bi = bOffset;
  for (let i = 0; i < out.length; i++) {
    out[i] = f(a[ai], b[bi]);
    // odometer increment of the multi-index, moving both read positions along
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]++;
      ai += aStrides[d];
      bi += bStrides[d];
      if (idx[d] < outShape[d]) break;
      ai -= aStrides[d] * outShape[d];
      bi -= bStrides[d] * outShape[d];
      idx[d] = 0;
    }
  }
}

// x, out: [len]
export function unary(op: UnaryOp, x: FloatArray, out: FloatArray): void {
  const f = unaryFns[op];
  for (let i = 0; i < x.length; i++) out[i] = f(x[i]);
}

// x, out: [len]; out = x * alpha + beta
export function affine(x: FloatArray, alpha: number, beta: number, out: FloatArray): void {
  for (let i = 0; i < x.length; i++) out[i] = x[i] * alpha + beta;
}

// x, y, z, out: [len]; out = x * alpha + y + z
export function scaledSum(x: FloatArray, alpha: number, y: FloatArray, z: FloatArray, out: FloatArray): void {
  for (let i = 0; i < x.length; i++) out[i] = x[i] * alpha + y[i] + z[i];
}

// x, y, out: [m, n]; a: [k, m]; b: [k, n]; out = x * alpha + y + a^T b
export function scaledSumOuter(
  x: FloatArray,
  alpha: number,
  y: FloatArray,
  a: FloatArray,
  b: FloatArray,
  m: number,
  k: number,
  n: number,
  out: FloatArray,
): void {
  for (let o = 0; o < m; o++) {
    for (let i = 0; i < n; i++) {
      let acc = 0;
      for (let r = 0; r < k; r++) acc += a[r * m + o] * b[r * n + i];
      out[o * n + i] = x[o * n + i] * alpha + y[o * n + i] + acc;
    }
  }
}

// x, out: [len]
export function clamp(x: FloatArray, lo: number, hi: number, out: FloatArray): void {
  for (let i = 0; i < x.length; i++) out[i] = x[i] < lo ? lo : x[i] > hi ? hi : x[i];
}

// x, dy, dx: [len]; the gradient passes where lo <= x <= hi, as in PyTorch
export function clampBackward(x: FloatArray, dy: FloatArray, lo: number, hi: number, dx: FloatArray): void {
  for (let i = 0; i < x.length; i++) dx[i] = x[i] >= lo && x[i] <= hi ? dy[i] : 0;
}
