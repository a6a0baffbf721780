// A minimal PNG codec on node:zlib. Encodes 8-bit grayscale, gray+alpha, RGB and RGBA;
// decodes the same (and 8-bit palette images) when non-interlaced. Enough for preview
// grids, weight maps and user-drawn pattern masks; not a general image library.
import { deflateSync, inflateSync } from 'node:zlib';
import { UserError } from './errors.ts';

export interface RasterImage {
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4; // gray, gray+alpha, RGB, RGBA
  data: Uint8Array; // [height, width, channels]
}

const SIGNATURE = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const COLOR_TYPE_BY_CHANNELS: Record<number, number> = { 1: 0, 2: 4, 3: 2, 4: 6 };
const CHANNELS_BY_COLOR_TYPE: Record<number, 1 | 2 | 3 | 4> = { 0: 1, 4: 2, 2: 3, 6: 4, 3: 1 };

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** The CRC-32 that PNG chunks (and zip, gzip) carry. */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, body: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + body.length);
  out.writeUInt32BE(body.length, 0);
  out.write(type, 4, 'latin1');
  out.set(body, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + body.length)), 8 + body.length);
  return out;
}

/** Encodes an 8-bit image; each row is stored with filter "none" and deflated. */
export function encodePng(image: RasterImage): Buffer {
  const { width, height, channels, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new RangeError(`encodePng: width and height must be positive integers, got ${width}x${height}`);
  }
  if (!(channels in COLOR_TYPE_BY_CHANNELS)) throw new RangeError(`encodePng: channels must be 1, 2, 3 or 4, got ${channels}`);
  const stride = width * channels;
  if (data.length !== stride * height) {
    throw new RangeError(`encodePng: data has ${data.length} bytes, expected ${height}x${width}x${channels} = ${stride * height}`);
  }
  const raw = new Uint8Array((stride + 1) * height);
  for (let y = 0; y < height; y++) raw.set(data.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = COLOR_TYPE_BY_CHANNELS[channels];
  return Buffer.concat([SIGNATURE, chunk('IHDR', header), chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0))]);
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Undoes the per-row filters; raw holds (filter byte + stride bytes) per row. */
function unfilter(raw: Uint8Array, height: number, stride: number, bpp: number, source: string): Uint8Array {
  const out = new Uint8Array(height * stride);
  if (raw.length < (stride + 1) * height) throw new UserError(`${source}: PNG image data is truncated`);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const row = y * stride;
    for (let x = 0; x < stride; x++) {
      const a = x >= bpp ? out[row + x - bpp] : 0;
      const b = y > 0 ? out[row - stride + x] : 0;
      const c = x >= bpp && y > 0 ? out[row - stride + x - bpp] : 0;
      let v: number;
      switch (filter) {
        case 0:
          v = line[x];
          break;
        case 1:
          v = line[x] + a;
          break;
        case 2:
          v = line[x] + b;
          break;
        case 3:
          v = line[x] + ((a + b) >> 1);
          break;
        case 4:
          v = line[x] + paeth(a, b, c);
          break;
        default:
          throw new UserError(`${source}: unknown PNG row filter ${filter} in row ${y}`);
      }
      out[row + x] = v & 0xff;
    }
  }
  return out;
}

/** What the caller expects of an image; checked against the header before decoding. */
export interface PngExpectation {
  width: number;
  height: number;
  /** What the image is, for the message: "mask is 4x4, expected the image size 28x28". */
  what?: string;
}

/** Larger decoded images are refused before anything is allocated (256 MiB). */
export const MAX_PNG_BYTES = 2 ** 28;

/**
 * Decodes an 8-bit, non-interlaced PNG. Palette images come out as RGB, or RGBA when
 * the palette has transparency. Throws a UserError naming `source` for anything else,
 * including a header whose size differs from `expect` or exceeds MAX_PNG_BYTES: both are
 * checked before the image data is inflated, so a forged header cannot exhaust memory.
 */
export function decodePng(bytes: Uint8Array, source = 'PNG', expect?: PngExpectation): RasterImage {
  if (bytes.length < 8 || SIGNATURE.some((v, i) => bytes[i] !== v)) throw new UserError(`${source}: not a PNG file (bad signature)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 8;
  let width = 0;
  let height = 0;
  let colorType = -1;
  let palette: Uint8Array | undefined;
  let paletteAlpha: Uint8Array | undefined;
  const idat: Uint8Array[] = [];
  while (pos + 8 <= bytes.length) {
    const len = view.getUint32(pos);
    const type = String.fromCharCode(...bytes.subarray(pos + 4, pos + 8));
    if (pos + 12 + len > bytes.length) throw new UserError(`${source}: PNG chunk ${JSON.stringify(type)} is truncated`);
    const body = bytes.subarray(pos + 8, pos + 8 + len);
    if (type === 'IHDR') {
      if (colorType >= 0) throw new UserError(`${source}: PNG has more than one IHDR chunk`);
      if (len !== 13) throw new UserError(`${source}: PNG IHDR chunk has ${len} bytes, expected 13`);
      width = view.getUint32(pos + 8);
      height = view.getUint32(pos + 12);
      const depth = body[8];
      if (depth !== 8) throw new UserError(`${source}: PNG bit depth ${depth} is not supported, expected 8`);
      if (body[12] !== 0) throw new UserError(`${source}: interlaced PNGs are not supported`);
      if (!(body[9] in CHANNELS_BY_COLOR_TYPE)) throw new UserError(`${source}: PNG color type ${body[9]} is not supported`);
      colorType = body[9];
      checkSize(width, height, source, expect);
    } else if (type === 'PLTE') palette = body.slice();
    else if (type === 'tRNS') paletteAlpha = body.slice();
    else if (type === 'IDAT') idat.push(body);
    else if (type === 'IEND') break;
    pos += 12 + len;
  }
  if (colorType < 0 || idat.length === 0) throw new UserError(`${source}: PNG has no IHDR or no image data`);
  const stored = CHANNELS_BY_COLOR_TYPE[colorType];
  const rawSize = (width * stored + 1) * height;
  let raw: Uint8Array;
  try {
    // The header's size bounds the output: more data is as corrupt as less.
    raw = inflateSync(Buffer.concat(idat), { maxOutputLength: Math.max(rawSize, 1) });
  } catch (e) {
    const tooLong = (e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
    throw new UserError(
      `${source}: PNG image data is corrupt (${tooLong ? `more than the ${width}x${height} the header says` : (e as Error).message})`,
    );
  }
  const pixels = unfilter(raw, height, width * stored, stored, source);
  if (colorType !== 3) return { width, height, channels: stored, data: pixels };
  if (!palette) throw new UserError(`${source}: palette PNG without a PLTE chunk`);
  const channels = paletteAlpha ? 4 : 3;
  const data = new Uint8Array(width * height * channels);
  for (let i = 0; i < width * height; i++) {
    const p = pixels[i];
    if (3 * p + 2 >= palette.length) throw new UserError(`${source}: palette index ${p} out of range`);
    data.set(palette.subarray(3 * p, 3 * p + 3), i * channels);
    if (paletteAlpha) data[i * channels + 3] = p < paletteAlpha.length ? paletteAlpha[p] : 255;
  }
  return { width, height, channels, data };
}

function checkSize(width: number, height: number, source: string, expect?: PngExpectation): void {
  if (width === 0 || height === 0) throw new UserError(`${source}: PNG header says ${width}x${height}, expected a positive width and height`);
  if (expect && (width !== expect.width || height !== expect.height)) {
    throw new UserError(`${source}: ${expect.what ?? 'PNG'} is ${height}x${width}, expected the image size ${expect.height}x${expect.width}`);
  }
  // At most 4 bytes per decoded pixel (RGBA, or a palette with transparency).
  if (width * height * 4 > MAX_PNG_BYTES) {
    throw new UserError(`${source}: PNG header says ${width}x${height} pixels, more than this decoder accepts (${MAX_PNG_BYTES} bytes)`);
  }
}
