// The "binary version" of CIFAR-10 and CIFAR-100: fixed-size records of label byte(s)
// then 1024 red, 1024 green, 1024 blue bytes (each a row-major 32x32 plane). CIFAR-10
// has one label byte; CIFAR-100 two (coarse, then fine). Images come out HWC.
import { UserError } from '../util/errors.ts';
import { readDataFile } from './fileBytes.ts';
import type { Dataset, Split } from './dataset.ts';

const SIDE = 32;
const PLANE = SIDE * SIDE;
const PIXEL_BYTES = 3 * PLANE;

export interface CifarLayout {
  /** 1 for CIFAR-10, 2 for CIFAR-100. */
  labelBytes: 1 | 2;
  /** Which label byte is the label: 0 (CIFAR-10, CIFAR-100 coarse) or 1 (CIFAR-100 fine). */
  labelIndex: 0 | 1;
  numClasses: number;
}

export const CIFAR10_LAYOUT: CifarLayout = { labelBytes: 1, labelIndex: 0, numClasses: 10 };
export const CIFAR100_FINE_LAYOUT: CifarLayout = { labelBytes: 2, labelIndex: 1, numClasses: 100 };
export const CIFAR100_COARSE_LAYOUT: CifarLayout = { labelBytes: 2, labelIndex: 0, numClasses: 20 };

interface Records {
  bytes: Uint8Array;
  source: string;
  count: number;
}

function checkRecords(bytes: Uint8Array, source: string, layout: CifarLayout): Records {
  const recordSize = layout.labelBytes + PIXEL_BYTES;
  if (bytes.length === 0 || bytes.length % recordSize !== 0) {
    const whole = Math.floor(bytes.length / recordSize);
    throw new UserError(
      `${source}: truncated or wrong format: ${bytes.length} bytes is not a whole number of ${recordSize}-byte records ` +
        `(${whole} whole records, ${bytes.length - whole * recordSize} bytes left over; expected ${layout.labelBytes} label byte(s) + 3072 pixel bytes each)`,
    );
  }
  return { bytes, source, count: bytes.length / recordSize };
}

/**
 * Decodes record files in the order given (train: data_batch_1..5) into one Dataset.
 * inputs: [{bytes, source}] where source names the file in errors.
 */
export function decodeCifar(inputs: { bytes: Uint8Array; source: string }[], layout: CifarLayout, name: string, split: Split): Dataset {
  const files = inputs.map((f) => checkRecords(f.bytes, f.source, layout));
  const n = files.reduce((a, f) => a + f.count, 0);
  const images = new Float32Array(n * PIXEL_BYTES);
  const labels = new Int32Array(n);
  const recordSize = layout.labelBytes + PIXEL_BYTES;
  let i = 0;
  for (const f of files) {
    for (let r = 0; r < f.count; r++, i++) {
      const base = r * recordSize;
      const y = f.bytes[base + layout.labelIndex];
      if (y >= layout.numClasses) {
        throw new UserError(`${f.source}: label ${y} in record ${r} is out of range, expected 0..${layout.numClasses - 1}`);
      }
      labels[i] = y;
      const px = base + layout.labelBytes;
      const out = i * PIXEL_BYTES;
      // record planes are CHW: (c, p) -> HWC position p * 3 + c
      for (let p = 0; p < PLANE; p++) {
        images[out + 3 * p] = f.bytes[px + p] / 255;
        images[out + 3 * p + 1] = f.bytes[px + PLANE + p] / 255;
        images[out + 3 * p + 2] = f.bytes[px + 2 * PLANE + p] / 255;
      }
    }
  }
  return { name, split, images, labels, n, height: SIDE, width: SIDE, channels: 3, numClasses: layout.numClasses };
}

export function readCifarFiles(paths: string[], layout: CifarLayout, name: string, split: Split, hint = ''): Dataset {
  return decodeCifar(
    paths.map((p) => ({ bytes: readDataFile(p, hint), source: p })),
    layout,
    name,
    split,
  );
}
