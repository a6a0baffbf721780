// Direct convolution loops of the reference backend (NCHW input, OIHW weight).
import type { ConvGeom, FloatArray } from '../kernels.ts';

// Calls visit(xIndex, wIndex, yIndex) for every (input, weight, output) triple that
// meets in the convolution; the three kernels below are the same loop nest.
function forEachTap(g: ConvGeom, visit: (xi: number, wi: number, yi: number) => void): void {
  const { n, c, h, w, oc, kh, kw, strideH, strideW, padH, padW, oh, ow } = g;
  for (let b = 0; b < n; b++) {
    for (let o = 0; o < oc; o++) {
      for (let y = 0; y < oh; y++) {
        for (let x = 0; x < ow; x++) {
          const yi = ((b * oc + o) * oh + y) * ow + x;
          for (let ci = 0; ci < c; ci++) {
            for (let ky = 0; ky < kh; ky++) {
              const iy = y * strideH - padH + ky;
              if (iy < 0 || iy >= h) continue;
              for (let kx = 0; kx < kw; kx++) {
                const ix = x * strideW - padW + kx;
                if (ix < 0 || ix >= w) continue;
                visit(((b * c + ci) * h + iy) * w + ix, ((o * c + ci) * kh + ky) * kw + kx, yi);
              }
            }
          }
        }
      }
    }
  }
}

// x: [N, C, H, W], w: [OC, C, KH, KW] -> out: [N, OC, OH, OW]
export function conv2d(x: FloatArray, w: FloatArray, g: ConvGeom, out: FloatArray): void {
  forEachTap(g, (xi, wi, yi) => {
    out[yi] += x[xi] * w[wi];
  });
}

// dy: [N, OC, OH, OW], w: [OC, C, KH, KW] -> dx: [N, C, H, W]
export function conv2dBackwardInput(dy: FloatArray, w: FloatArray, g: ConvGeom, dx: FloatArray): void {
  forEachTap(g, (xi, wi, yi) => {
    dx[xi] += dy[yi] * w[wi];
  });
}

// x: [N, C, H, W], dy: [N, OC, OH, OW] -> dw: [OC, C, KH, KW]
export function conv2dBackwardWeight(x: FloatArray, dy: FloatArray, g: ConvGeom, dw: FloatArray): void {
  forEachTap(g, (xi, wi, yi) => {
    dw[wi] += x[xi] * dy[yi];
  });
}
