// The IDX format of MNIST and Fashion-MNIST: bytes 0-1 are zero, byte 2 the element
// type, byte 3 the number of dimensions, then one big-endian uint32 per dimension, then
// the elements in row-major order. Files may be gzipped (detected by magic, not name).
import { UserError } from '../util/errors.ts';
import { readDataFile } from './fileBytes.ts';
import { bytesToUnitInto, type Dataset, type Split } from './dataset.ts';

const IDX_UBYTE = 0x08;
const IDX_TYPE_NAMES: Record<number, string> = {
  8: 'unsigned byte',
  9: 'signed byte',
  11: 'int16',
  12: 'int32',
  13: 'float32',
  14: 'float64',
};

export interface IdxArray {
  dims: number[];
  data: Uint8Array; // unsigned bytes, row-major
}

const hex = (v: number, width: number): string => '0x' + v.toString(16).padStart(width, '0');

/** Parses an uncompressed IDX buffer of unsigned bytes; `source` names it in errors. */
export function parseIdx(bytes: Uint8Array, source: string): IdxArray {
  if (bytes.length < 4) throw new UserError(`${source}: truncated IDX file (${bytes.length} bytes, expected at least a 4-byte header)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0);
  const type = bytes[2];
  const ndim = bytes[3];
  if (bytes[0] !== 0 || bytes[1] !== 0 || !(type in IDX_TYPE_NAMES) || ndim === 0) {
    throw new UserError(`${source}: wrong magic number ${hex(magic, 8)}, expected an IDX header 0x000008NN (unsigned bytes, NN dimensions)`);
  }
  if (type !== IDX_UBYTE) {
    throw new UserError(`${source}: IDX element type ${hex(type, 2)} (${IDX_TYPE_NAMES[type]}), expected 0x08 (unsigned byte)`);
  }
  const headerBytes = 4 + 4 * ndim;
  if (bytes.length < headerBytes) {
    throw new UserError(`${source}: truncated IDX header (${bytes.length} bytes, expected ${headerBytes} for ${ndim} dimensions)`);
  }
  const dims = Array.from({ length: ndim }, (_, i) => view.getUint32(4 + 4 * i));
  const count = dims.reduce((a, b) => a * b, 1);
  const available = bytes.length - headerBytes;
  if (available < count) {
    throw new UserError(`${source}: truncated IDX file: dimensions ${dims.join('x')} need ${count} bytes of data, found ${available}`);
  }
  if (available > count) {
    throw new UserError(`${source}: ${available - count} unexpected bytes after the ${dims.join('x')} IDX data`);
  }
  return { dims, data: bytes.subarray(headerBytes) };
}

export function readIdxFile(path: string, hint = ''): IdxArray {
  return parseIdx(readDataFile(path, hint), path);
}

export interface IdxPairSpec {
  name: string;
  split: Split;
  imagesPath: string;
  labelsPath: string;
  numClasses: number;
  /** The image shape the data set must have, [height, width]; checked when given. */
  expectedShape?: [number, number];
  /** How to obtain the files, appended to "file not found". */
  hint?: string;
}

/** Reads an images file ([N, H, W] or [N, H, W, C]) and its labels file ([N]) into a Dataset. */
export function readIdxDataset(spec: IdxPairSpec): Dataset {
  const { imagesPath, labelsPath } = spec;
  const labelsIdx = readIdxFile(labelsPath, spec.hint);
  if (labelsIdx.dims.length !== 1) {
    throw new UserError(`${labelsPath}: labels have dimensions ${labelsIdx.dims.join('x')}, expected one dimension [N]`);
  }
  const imagesIdx = readIdxFile(imagesPath, spec.hint);
  return idxDataset(spec, labelsIdx, imagesIdx);
}

/** The Dataset of a parsed images file and labels file, checked against each other. */
export function idxDataset(spec: IdxPairSpec, labelsIdx: IdxArray, imagesIdx: IdxArray): Dataset {
  const { imagesPath, labelsPath } = spec;
  if (labelsIdx.dims.length !== 1) {
    throw new UserError(`${labelsPath}: labels have dimensions ${labelsIdx.dims.join('x')}, expected one dimension [N]`);
  }
  const d = imagesIdx.dims;
  if (d.length !== 3 && d.length !== 4) {
    throw new UserError(`${imagesPath}: images have dimensions ${d.join('x')}, expected [N, height, width] or [N, height, width, channels]`);
  }
  const [n, height, width] = d;
  const channels = d.length === 4 ? d[3] : 1;
  // An empty data set or zero-sized images parse but would only fail later, far from the file.
  if (n === 0 || height === 0 || width === 0 || channels === 0) {
    throw new UserError(`${imagesPath}: images have dimensions ${d.join('x')}, expected at least one image of at least 1x1 pixels`);
  }
  if (spec.expectedShape && (height !== spec.expectedShape[0] || width !== spec.expectedShape[1])) {
    throw new UserError(`${imagesPath}: images are ${height}x${width}, expected ${spec.expectedShape[0]}x${spec.expectedShape[1]} for ${spec.name}`);
  }
  if (labelsIdx.dims[0] !== n) {
    throw new UserError(`${imagesPath} has ${n} images but ${labelsPath} has ${labelsIdx.dims[0]} labels; expected equal counts`);
  }
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const y = labelsIdx.data[i];
    if (y >= spec.numClasses) {
      throw new UserError(`${labelsPath}: label ${y} at index ${i} is out of range, expected 0..${spec.numClasses - 1}`);
    }
    labels[i] = y;
  }
  const images = new Float32Array(imagesIdx.data.length);
  bytesToUnitInto(imagesIdx.data, images);
  return { name: spec.name, split: spec.split, images, labels, n, height, width, channels, numClasses: spec.numClasses };
}
