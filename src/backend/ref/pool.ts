// Pooling kernels of the reference backend (NCHW).
import type { FloatArray, PoolGeom } from '../kernels.ts';

// x: [N, C, H, W] -> out, argmax: [N, C, OH, OW]; argmax is a flat index into x
export function maxPool2d(x: FloatArray, g: PoolGeom, out: FloatArray, argmax: Int32Array): void {
  const { n, c, h, w, kh, kw, strideH, strideW, padH, padW, oh, ow } = g;
  for (let plane = 0; plane < n * c; plane++) {
    for (let y = 0; y < oh; y++) {
      for (let x0 = 0; x0 < ow; x0++) {
        let best = -Infinity;
        let bestIdx = -1;
        for (let ky = 0; ky < kh; ky++) {
          const iy = y * strideH - padH + ky;
          if (iy < 0 || iy >= h) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = x0 * strideW - padW + kx;
            if (ix < 0 || ix >= w) continue;
            const xi = (plane * h + iy) * w + ix;
            // strict > keeps the first maximum; NaN wins as in PyTorch
            if (bestIdx < 0 || x[xi] > best || Number.isNaN(x[xi])) {
              best = x[xi];
              bestIdx = xi;
              if (Number.isNaN(best)) break;
            }
          }
        }
        const oi = (plane * oh + y) * ow + x0;
        out[oi] = best;
        argmax[oi] = bestIdx;
      }
    }
  }
}

// dy, argmax: [N, C, OH, OW] -> dx: [N, C, H, W]
export function maxPool2dBackward(dy: FloatArray, argmax: Int32Array, dx: FloatArray): void {
  dx.fill(0);
  for (let i = 0; i < dy.length; i++) dx[argmax[i]] += dy[i];
}

// g: any, index: [len] -> out: [len]
export function gatherIndex(g: FloatArray, index: Int32Array, out: FloatArray): void {
  for (let i = 0; i < index.length; i++) out[i] = g[index[i]];
}

// The input window [y0, y1) x [x0, x1) of output cell (y, x) and its divisor.
function avgWindow(g: PoolGeom, adaptive: boolean, y: number, x: number): [number, number, number, number, number] {
  if (adaptive) {
    const y0 = Math.floor((y * g.h) / g.oh);
    const y1 = Math.ceil(((y + 1) * g.h) / g.oh);
    const x0 = Math.floor((x * g.w) / g.ow);
    const x1 = Math.ceil(((x + 1) * g.w) / g.ow);
    return [y0, y1, x0, x1, (y1 - y0) * (x1 - x0)];
  }
  const y0 = y * g.strideH - g.padH;
  const x0 = x * g.strideW - g.padW;
  // padding counts in the divisor (count_include_pad), clipped to the padded input
  const div = (Math.min(y0 + g.kh, g.h + g.padH) - y0) * (Math.min(x0 + g.kw, g.w + g.padW) - x0);
  return [Math.max(y0, 0), Math.min(y0 + g.kh, g.h), Math.max(x0, 0), Math.min(x0 + g.kw, g.w), div];
}

// x: [N, C, H, W] -> out: [N, C, OH, OW]
export function avgPool2d(x: FloatArray, g: PoolGeom, adaptive: boolean, out: FloatArray): void {
  for (let plane = 0; plane < g.n * g.c; plane++) {
    for (let y = 0; y < g.oh; y++) {
      for (let xo = 0; xo < g.ow; xo++) {
        const [y0, y1, x0, x1, div] = avgWindow(g, adaptive, y, xo);
        let acc = 0;
        for (let iy = y0; iy < y1; iy++) for (let ix = x0; ix < x1; ix++) acc += x[(plane * g.h + iy) * g.w + ix];
        out[(plane * g.oh + y) * g.ow + xo] = acc / div;
      }
    }
  }
}

// dy: [N, C, OH, OW] -> dx: [N, C, H, W]
export function avgPool2dBackward(dy: FloatArray, g: PoolGeom, adaptive: boolean, dx: FloatArray): void {
  for (let plane = 0; plane < g.n * g.c; plane++) {
    for (let y = 0; y < g.oh; y++) {
      for (let xo = 0; xo < g.ow; xo++) {
        const [y0, y1, x0, x1, div] = avgWindow(g, adaptive, y, xo);
        const share = dy[(plane * g.oh + y) * g.ow + xo] / div;
        for (let iy = y0; iy < y1; iy++) for (let ix = x0; ix < x1; ix++) dx[(plane * g.h + iy) * g.w + ix] += share;
      }
    }
  }
}
