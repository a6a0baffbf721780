// Mini-batches from a Dataset: gather, augmentation (aug01), Gaussian input noise, and
// the model's input layout. Images are HWC in the data set; MLPs take them flattened,
// convolutional models as NCHW (the reference's X.transpose(0, 3, 1, 2)).
import type { Dataset } from '../data/dataset.ts';
import { allocateUninitialized, Tensor } from '../tensor/tensor.ts';
import type { RandomSource } from '../tensor/tensor.ts';

export type Layout = 'flat' | 'nchw';

export interface BatchOptions {
  layout: Layout;
  aug?: 'none' | 'aug01';
  inputNoise?: number;
  rng?: RandomSource; // needed for aug01 and input noise
}

// One HWC image, randomly cropped from its 4-pixel zero padding and flipped with
// probability 1/2 (torchvision's RandomCrop(size, padding=4) + RandomHorizontalFlip).
function aug01Into(src: Float32Array, h: number, w: number, c: number, rng: RandomSource, out: Float32Array): void {
  const pad = 4;
  const top = Math.floor(rng.random() * (2 * pad + 1)) - pad;
  const left = Math.floor(rng.random() * (2 * pad + 1)) - pad;
  const flip = rng.random() < 0.5;
  out.fill(0);
  for (let y = 0; y < h; y++) {
    const sy = y + top;
    if (sy < 0 || sy >= h) continue;
    for (let x = 0; x < w; x++) {
      const sx = (flip ? w - 1 - x : x) + left;
      if (sx < 0 || sx >= w) continue;
      for (let ch = 0; ch < c; ch++) out[(y * w + x) * c + ch] = src[(sy * w + sx) * c + ch];
    }
  }
}

/** The images at indices as a model input tensor ([B, H*W*C] or [B, C, H, W]). */
export function makeBatch(d: Dataset, indices: ArrayLike<number>, opts: BatchOptions): Tensor {
  const { height: h, width: w, channels: c } = d;
  const size = h * w * c;
  const b = indices.length;
  const hwc = allocateUninitialized('float32', b * size); // every element is written below
  const scratch = new Float32Array(size);
  for (let i = 0; i < b; i++) {
    const img = d.images.subarray(indices[i] * size, (indices[i] + 1) * size);
    if (opts.aug === 'aug01') {
      aug01Into(img, h, w, c, opts.rng!, scratch);
      hwc.set(scratch, i * size);
    } else {
      hwc.set(img, i * size);
    }
  }
  const sigma = opts.inputNoise ?? 0;
  if (sigma > 0) for (let i = 0; i < hwc.length; i++) hwc[i] += sigma * opts.rng!.normal();
  if (opts.layout === 'flat') return new Tensor(hwc, [b, size]);
  if (c === 1) return new Tensor(hwc, [b, 1, h, w]);
  const chw = allocateUninitialized('float32', b * size);
  for (let i = 0; i < b; i++) {
    for (let p = 0; p < h * w; p++) for (let ch = 0; ch < c; ch++) chw[i * size + ch * h * w + p] = hwc[i * size + p * c + ch];
  }
  return new Tensor(chw, [b, c, h, w]);
}

/** The labels at indices. */
export function batchLabels(d: Dataset, indices: ArrayLike<number>): Int32Array {
  const out = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) out[i] = d.labels[indices[i]];
  return out;
}
