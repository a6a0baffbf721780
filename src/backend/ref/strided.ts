// Strided gather and scatter-add: the reference for views, permutes and slices.
import type { FloatArray } from '../kernels.ts';

// Visits every multi-index of shape in row-major order with the matching strided offset.
function forEachStrided(shape: number[], offset: number, strides: number[], visit: (flat: number, src: number) => void): void {
  const rank = shape.length;
  const total = shape.reduce((p, d) => p * d, 1);
  const idx = new Array<number>(rank).fill(0);
  let src = offset;
  for (let i = 0; i < total; i++) {
    visit(i, src);
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]++;
      src += strides[d];
      if (idx[d] < shape[d]) break;
      src -= strides[d] * shape[d];
      idx[d] = 0;
    }
  }
}

// x read through (offset, strides) over shape -> out: contiguous shape
export function stridedCopy(x: FloatArray, offset: number, strides: number[], shape: number[], out: FloatArray): void {
  forEachStrided(shape, offset, strides, (flat, src) => {
    out[flat] = x[src];
  });
}

// x: contiguous shape; out[offset + sum(i_d * strides[d])] += x[i]
export function stridedScatterAdd(x: FloatArray, shape: number[], offset: number, strides: number[], out: FloatArray): void {
  forEachStrided(shape, offset, strides, (flat, dst) => {
    out[dst] += x[flat];
  });
}
