// Direct convolution loops of the reference backend (NCHW input, OIHW weight).
// The three kernels share one loop nest; only the accumulation differs.
import type { ConvGeom, FloatArray } from '../kernels.ts';

type Mode = 'forward' | 'dInput' | 'dWeight';

function convLoops(g: ConvGeom, mode: Mode, x: FloatArray, w: FloatArray, y: FloatArray): void {
  const { n, c, h, w: width, oc, kh, kw, strideH, strideW, padH, padW, oh, ow } = g;
  for (let b = 0; b < n; b++) {
    for (let o = 0; o < oc; o++) {
      for (let ci = 0; ci < c; ci++) {
        const xBase = (b * c + ci) * h * width;
        const wBase = (o * c + ci) * kh * kw;
        const yBase = (b * oc + o) * oh * ow;
        for (let ky = 0; ky < kh; ky++) {
          for (let kx = 0; kx < kw; kx++) {
            const wi = wBase + ky * kw + kx;
            for (let oy = 0; oy < oh; oy++) {
              const iy = oy * strideH - padH + ky;
              if (iy < 0 || iy >= h) continue;
              for (let ox = 0; ox < ow; ox++) {
                const ix = ox * strideW - padW + kx;
                if (ix < 0 || ix >= width) continue;
                const xi = xBase + iy * width + ix;
                const yi = yBase + oy * ow + ox;
                if (mode === 'forward') y[yi] += x[xi] * w[wi];
                else if (mode === 'dInput') x[xi] += y[yi] * w[wi];
                else w[wi] += x[xi] * y[yi];
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
  convLoops(g, 'forward', x, w, out);
}

// conv2d, then + bias[o] on every output of channel o, then ReLU when relu.
export function conv2dFused(x: FloatArray, w: FloatArray, bias: FloatArray | null, g: ConvGeom, relu: boolean, out: FloatArray): void {
  out.fill(0);
  convLoops(g, 'forward', x, w, out);
  const plane = g.oh * g.ow;
  for (let i = 0; i < out.length; i++) {
    let v = out[i] + (bias ? bias[Math.floor(i / plane) % g.oc] : 0);
    if (relu && !(v > 0)) v = 0;
    out[i] = v;
  }
}

// dy: [N, OC, OH, OW], w: [OC, C, KH, KW] -> dx: [N, C, H, W]
export function conv2dBackwardInput(dy: FloatArray, w: FloatArray, g: ConvGeom, dx: FloatArray): void {
  convLoops(g, 'dInput', dx, w, dy);
}

// x: [N, C, H, W], dy: [N, OC, OH, OW] -> dw: [OC, C, KH, KW]
export function conv2dBackwardWeight(x: FloatArray, dy: FloatArray, g: ConvGeom, dw: FloatArray): void {
  convLoops(g, 'dWeight', x, dw, dy);
}

// The backward of conv2dFused: dz = relu ? (out > 0 ? dy : 0) : dy, then the two
// backward passes and db: [OC] = dz summed over N, OH, OW; null gradients are skipped.
export function conv2dFusedBackward(
  x: FloatArray,
  w: FloatArray,
  out: FloatArray,
  dy: FloatArray,
  g: ConvGeom,
  relu: boolean,
  dx: FloatArray | null,
  dw: FloatArray | null,
  db: FloatArray | null,
): void {
  for (const grad of [dx, dw, db]) grad?.fill(0);
  const dz = relu ? dy.map((v, i) => (out[i] > 0 ? v : 0)) : dy;
  if (dx) conv2dBackwardInput(dz, w, g, dx);
  if (dw) conv2dBackwardWeight(x, dz, g, dw);
  if (db) {
    const plane = g.oh * g.ow;
    for (let i = 0; i < dz.length; i++) db[Math.floor(i / plane) % g.oc] += dz[i];
  }
}
