// A picture of a spurious data set for humans: patterned training images above their
// clean originals, then clean test images above the same images with the pattern.
// Images are upscaled by pixel repetition so that 28x28 digits stay legible.
import type { RasterImage } from '../util/png.ts';
import { imageSize, type Dataset } from './dataset.ts';
import { applyPattern, type Pattern } from './patterns.ts';

export interface PreviewOptions {
  /** Training images to show (the first spurious indices); default 8. */
  maxTrain?: number;
  /** Test images to show (the first ones of the test split); default 8. */
  testImages?: number;
  /** Integer upscaling factor; default: the smallest giving images at least 96 px high. */
  scale?: number;
}

export interface PreviewRows {
  image: RasterImage;
  /** What each row of the grid shows, top to bottom. */
  rows: string[];
}

const GAP = 2; // pixels between cells
const BACKGROUND = 96;

/** Builds the preview grid (gray for 1-channel data, RGB for 3-channel). */
export function renderPreview(
  train: Dataset,
  test: Dataset,
  spuriousIndices: readonly number[],
  cleanTrain: Dataset,
  pattern: Pattern,
  options: PreviewOptions = {},
): PreviewRows {
  const size = imageSize(train);
  const scale = options.scale ?? Math.max(1, Math.ceil(96 / train.height));
  const shown = spuriousIndices.slice(0, options.maxTrain ?? 8);
  const testCount = Math.min(options.testImages ?? 8, test.n);
  const rows: { label: string; images: Float32Array[] }[] = [];
  if (shown.length > 0) {
    const slice = (d: Dataset, i: number) => d.images.subarray(i * size, (i + 1) * size);
    rows.push({ label: `patterned training images ${shown.join(', ')}`, images: shown.map((i) => slice(train, i)) });
    rows.push({ label: 'their clean originals', images: shown.map((i) => slice(cleanTrain, i)) });
  }
  const cleanTest = Array.from({ length: testCount }, (_, i) => test.images.subarray(i * size, (i + 1) * size));
  rows.push({ label: `test images 0..${testCount - 1}`, images: cleanTest });
  rows.push({
    label: `the same test images with ${pattern.name}`,
    images: cleanTest.map((img) => {
      const copy = img.slice();
      applyPattern(pattern, copy);
      return copy;
    }),
  });
  const cellH = train.height * scale;
  const cellW = train.width * scale;
  const columns = Math.max(...rows.map((r) => r.images.length), 1);
  const width = GAP + columns * (cellW + GAP);
  const height = GAP + rows.length * (cellH + GAP);
  const channels = train.channels === 1 ? 1 : 3;
  const data = new Uint8Array(width * height * channels).fill(BACKGROUND);
  rows.forEach((row, r) => {
    row.images.forEach((img, c) => {
      const top = GAP + r * (cellH + GAP);
      const left = GAP + c * (cellW + GAP);
      for (let y = 0; y < cellH; y++) {
        for (let x = 0; x < cellW; x++) {
          const src = (Math.floor(y / scale) * train.width + Math.floor(x / scale)) * train.channels;
          const dst = ((top + y) * width + left + x) * channels;
          for (let ch = 0; ch < channels; ch++) data[dst + ch] = Math.round(img[src + Math.min(ch, train.channels - 1)] * 255);
        }
      }
    });
  });
  return { image: { width, height, channels, data }, rows: rows.map((r) => r.label) };
}
