// The in-memory form of an image data set: float32 HWC images in [0, 1] in file order,
// integer labels. One `Dataset` per split; `TrainTest` pairs them.

export type Split = 'train' | 'test';

export interface Dataset {
  name: string;
  split: Split;
  images: Float32Array; // [n, height, width, channels], values uint8 / 255
  labels: Int32Array; // [n], in [0, numClasses)
  n: number;
  height: number;
  width: number;
  channels: number;
  numClasses: number;
}

export interface TrainTest {
  name: string;
  train: Dataset;
  test: Dataset;
}

/**
 * bytes -> float32 in [0, 1], written into out[outOffset..]. The reference computes
 * `x.astype(float32) / 255`, a float32 division; dividing in double and rounding to
 * float32 on store gives the same value, because a double carries more than twice
 * float32's precision (no double-rounding error for a quotient).
 */
export function bytesToUnitInto(bytes: Uint8Array, out: Float32Array, outOffset = 0): void {
  for (let i = 0; i < bytes.length; i++) out[outOffset + i] = bytes[i] / 255;
}

export function imageSize(d: Pick<Dataset, 'height' | 'width' | 'channels'>): number {
  return d.height * d.width * d.channels;
}

/** A view (not a copy) of image i: [height, width, channels]. */
export function imageView(d: Dataset, i: number): Float32Array {
  const size = imageSize(d);
  return d.images.subarray(i * size, (i + 1) * size);
}

/** A copy whose images can be modified without touching the (possibly cached) original. */
export function cloneDataset(d: Dataset): Dataset {
  return { ...d, images: d.images.slice(), labels: d.labels.slice() };
}

/** Ascending indices of the examples with label `cls` (the reference's np.where(y == cls)[0]). */
export function classIndices(labels: Int32Array, cls: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < labels.length; i++) if (labels[i] === cls) out.push(i);
  return out;
}

export function classCounts(d: Dataset): number[] {
  const counts = new Array<number>(d.numClasses).fill(0);
  for (const y of d.labels) counts[y]++;
  return counts;
}
