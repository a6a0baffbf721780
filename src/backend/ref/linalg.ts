// Matrix products of the reference backend.
import type { FloatArray } from '../kernels.ts';

// a: [M, K] ([K, M] if transA), b: [K, N] ([N, K] if transB) -> out: [M, N]
export function matmul(a: FloatArray, b: FloatArray, m: number, k: number, n: number, transA: boolean, transB: boolean, out: FloatArray): void {
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let acc = 0;
      for (let p = 0; p < k; p++) {
        const av = transA ? a[p * m + i] : a[i * k + p];
        const bv = transB ? b[j * k + p] : b[p * n + j];
        acc += av * bv;
      }
      out[i * n + j] = acc;
    }
  }
}

// x: [M, K], w: [N, K], bias: [N] | null -> out: [M, N] = x @ w^T + bias (ReLU if relu)
export function linear(x: FloatArray, w: FloatArray, bias: FloatArray | null, m: number, k: number, n: number, relu: boolean, out: FloatArray): void {
  matmul(x, w, m, k, n, false, true, out);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let v = out[i * n + j] + (bias ? bias[j] : 0);
      if (relu && !(v > 0)) v = 0;
      out[i * n + j] = v;
    }
  }
}
