/**
 * The safetensors format (https://github.com/huggingface/safetensors), so that weights
 * move between spurlab and PyTorch:
 *
 *   u64 little-endian N | N bytes of JSON header | raw little-endian tensor bytes
 *
 * The header maps each tensor name to {dtype, shape, data_offsets: [begin, end]} (offsets
 * relative to the start of the byte buffer) and may hold "__metadata__", a map of strings.
 * Like the official writer, the header is padded with spaces to a multiple of 8 bytes and
 * tensors are laid out largest element size first, so every tensor starts aligned to
 * its element size and can be read without a copy.
 */
import { readFileSync } from 'node:fs';
import { endianness } from 'node:os';
import { UserError } from '../util/errors.ts';
import { writeFileAtomicSync } from './atomic.ts';

export type SafetensorsDtype = 'F32' | 'F64' | 'I32' | 'I64' | 'U8';
export type SafetensorsData = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array;

export interface SafetensorsTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  data: SafetensorsData;
}

export interface SafetensorsContents {
  tensors: Record<string, SafetensorsTensor>;
  metadata: Record<string, string>;
}

interface DtypeInfo {
  bytes: number;
  make: (buffer: ArrayBuffer, byteOffset: number, length: number) => SafetensorsData;
  is: (data: SafetensorsData) => boolean;
}

const DTYPES: Record<SafetensorsDtype, DtypeInfo> = {
  F64: { bytes: 8, make: (b, o, n) => new Float64Array(b, o, n), is: (d) => d instanceof Float64Array },
  I64: { bytes: 8, make: (b, o, n) => new BigInt64Array(b, o, n), is: (d) => d instanceof BigInt64Array },
  F32: { bytes: 4, make: (b, o, n) => new Float32Array(b, o, n), is: (d) => d instanceof Float32Array },
  I32: { bytes: 4, make: (b, o, n) => new Int32Array(b, o, n), is: (d) => d instanceof Int32Array },
  U8: { bytes: 1, make: (b, o, n) => new Uint8Array(b, o, n), is: (d) => d instanceof Uint8Array },
};

const METADATA_KEY = '__metadata__';
// Assigning obj["__proto__"] sets the prototype instead of a key: such a tensor would vanish.
const PROTO_KEY = '__proto__';
/** The official reader refuses headers above 100 MB; a larger length means a corrupt file. */
const MAX_HEADER_BYTES = 100_000_000;

function isDtype(name: unknown): name is SafetensorsDtype {
  return typeof name === 'string' && Object.hasOwn(DTYPES, name);
}

function assertLittleEndianHost(): void {
  // Typed arrays use the host byte order; safetensors is little-endian.
  if (endianness() !== 'LE') throw new Error('safetensors: big-endian hosts are not supported');
}

function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Tensors ordered by element size (largest first), then name: the official writer's layout. */
function layoutOrder(names: string[], tensors: Record<string, SafetensorsTensor>): string[] {
  return [...names].sort((a, b) => DTYPES[tensors[b].dtype].bytes - DTYPES[tensors[a].dtype].bytes || (a < b ? -1 : a > b ? 1 : 0));
}

function checkTensorToWrite(name: string, t: SafetensorsTensor): void {
  if (name === METADATA_KEY) throw new UserError(`safetensors: "${METADATA_KEY}" is reserved and cannot name a tensor`);
  if (name === PROTO_KEY) throw new UserError(`safetensors: "${PROTO_KEY}" cannot name a tensor (a JavaScript object would drop it)`);
  if (!isDtype(t.dtype))
    throw new UserError(`safetensors: tensor "${name}" has dtype ${String(t.dtype)}; expected one of ${Object.keys(DTYPES).join(', ')}`);
  if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new UserError(`safetensors: tensor "${name}" has shape [${t.shape.join(', ')}]; expected non-negative integers`);
  }
  if (!DTYPES[t.dtype].is(t.data)) {
    throw new UserError(`safetensors: tensor "${name}" is declared ${t.dtype} but its data is a ${t.data.constructor.name}`);
  }
  if (t.data.length !== elementCount(t.shape)) {
    throw new UserError(
      `safetensors: tensor "${name}" has shape [${t.shape.join(', ')}] (${elementCount(t.shape)} elements) but ${t.data.length} values`,
    );
  }
}

/**
 * Serializes tensors to safetensors bytes as a list of chunks (8-byte length + header,
 * then each tensor's bytes), so large tensors are written without being copied.
 */
export function encodeSafetensorsChunks(tensors: Record<string, SafetensorsTensor>, metadata?: Record<string, string>): Uint8Array[] {
  assertLittleEndianHost();
  const names = Object.keys(tensors);
  for (const name of names) checkTensorToWrite(name, tensors[name]);
  const header: Record<string, unknown> = {};
  if (metadata) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new UserError(`safetensors: metadata "${k}" must be a string, got ${typeof v}`);
    }
    header[METADATA_KEY] = metadata;
  }
  const order = layoutOrder(names, tensors);
  let offset = 0;
  for (const name of order) {
    const t = tensors[name];
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  const jsonBytes = Buffer.byteLength(json, 'utf8');
  json += ' '.repeat((8 - (jsonBytes % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(headerBytes.length));
  return [prefix, headerBytes, ...order.map((n) => new Uint8Array(tensors[n].data.buffer, tensors[n].data.byteOffset, tensors[n].data.byteLength))];
}

/** Serializes tensors (and optional string metadata) to one safetensors Buffer. */
export function encodeSafetensors(tensors: Record<string, SafetensorsTensor>, metadata?: Record<string, string>): Buffer {
  return Buffer.concat(encodeSafetensorsChunks(tensors, metadata));
}

/**
 * Writes a safetensors file atomically (temporary file + fsync + rename), so a killed
 * process leaves either the previous file or the complete new one.
 */
export function writeSafetensors(path: string, tensors: Record<string, SafetensorsTensor>, metadata?: Record<string, string>): void {
  writeFileAtomicSync(path, encodeSafetensorsChunks(tensors, metadata));
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

interface HeaderEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  begin: number;
  end: number;
}

function parseEntry(source: string, name: string, raw: unknown, bufferBytes: number): HeaderEntry {
  const bad = (what: string): UserError => new UserError(`${source}: tensor "${name}" ${what}`);
  if (name === PROTO_KEY) throw bad('cannot be read: the name "__proto__" is not supported');
  if (!isPlainObject(raw)) throw bad('has no {dtype, shape, data_offsets} entry in the header');
  const { dtype, shape, data_offsets: offsets } = raw;
  if (!isDtype(dtype)) throw bad(`has unsupported dtype ${JSON.stringify(dtype)}; expected one of ${Object.keys(DTYPES).join(', ')}`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw bad(`has shape ${JSON.stringify(shape)}; expected a list of non-negative integers`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
    throw bad(`has data_offsets ${JSON.stringify(offsets)}; expected [begin, end] with non-negative integers`);
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end || end > bufferBytes) {
    throw bad(`has data_offsets [${begin}, ${end}] outside the ${bufferBytes}-byte data buffer`);
  }
  const expected = elementCount(shape) * DTYPES[dtype].bytes;
  if (end - begin !== expected) {
    throw bad(`has ${end - begin} bytes but shape [${shape.join(', ')}] of ${dtype} needs ${expected}`);
  }
  return { name, dtype, shape: shape as number[], begin, end };
}

/** Offsets must tile the buffer exactly, as the official reader requires: no gaps, no overlaps. */
function checkCoverage(source: string, entries: HeaderEntry[], bufferBytes: number): void {
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  let previous = '';
  for (const e of sorted) {
    if (e.begin < cursor) throw new UserError(`${source}: tensor "${e.name}" at bytes [${e.begin}, ${e.end}] overlaps tensor "${previous}"`);
    if (e.begin > cursor) throw new UserError(`${source}: bytes [${cursor}, ${e.begin}) before tensor "${e.name}" belong to no tensor`);
    cursor = e.end;
    previous = e.name;
  }
  if (cursor !== bufferBytes) {
    throw new UserError(`${source}: the data buffer has ${bufferBytes} bytes but the tensors cover only ${cursor}`);
  }
}

function parseMetadata(source: string, raw: unknown): Record<string, string> {
  if (raw === undefined) return {};
  if (!isPlainObject(raw) || !Object.values(raw).every((v) => typeof v === 'string')) {
    throw new UserError(`${source}: "${METADATA_KEY}" must map names to strings, got ${JSON.stringify(raw)}`);
  }
  return raw as Record<string, string>;
}

/**
 * Parses safetensors bytes, validating everything. `source` names the file in errors.
 * Tensors whose bytes are aligned are views sharing `bytes`' memory; others are copies.
 */
export function decodeSafetensors(bytes: Uint8Array, source = '<safetensors buffer>'): SafetensorsContents {
  assertLittleEndianHost();
  if (bytes.byteLength < 8) {
    throw new UserError(`${source}: file is too short (${bytes.byteLength} bytes) to be safetensors; expected at least the 8-byte header length`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(bytes.byteLength - 8) || headerLength > BigInt(MAX_HEADER_BYTES)) {
    throw new UserError(
      `${source}: header length ${headerLength} exceeds the ${bytes.byteLength - 8} bytes after the length field; not a safetensors file or truncated`,
    );
  }
  const dataStart = 8 + Number(headerLength);
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 8, Number(headerLength)).toString('utf8'));
  } catch (err) {
    throw new UserError(`${source}: header is not valid JSON (${(err as Error).message})`);
  }
  if (!isPlainObject(header)) throw new UserError(`${source}: header must be a JSON object of tensors`);
  const bufferBytes = bytes.byteLength - dataStart;
  const metadata = parseMetadata(source, header[METADATA_KEY]);
  const entries = Object.entries(header)
    .filter(([name]) => name !== METADATA_KEY)
    .map(([name, raw]) => parseEntry(source, name, raw, bufferBytes));
  checkCoverage(source, entries, bufferBytes);

  const tensors: Record<string, SafetensorsTensor> = {};
  for (const e of entries) {
    const info = DTYPES[e.dtype];
    const absolute = bytes.byteOffset + dataStart + e.begin;
    const length = (e.end - e.begin) / info.bytes;
    let data: SafetensorsData;
    if (absolute % info.bytes === 0) {
      data = info.make(bytes.buffer as ArrayBuffer, absolute, length);
    } else {
      // Typed arrays need aligned offsets: copy (files from other writers may not align).
      const copy = new Uint8Array(e.end - e.begin);
      copy.set(bytes.subarray(dataStart + e.begin, dataStart + e.end));
      data = info.make(copy.buffer, 0, length);
    }
    tensors[e.name] = { dtype: e.dtype, shape: e.shape, data };
  }
  return { tensors, metadata };
}

/** Reads and validates a safetensors file; errors name the file and the tensor. */
export function readSafetensors(path: string): SafetensorsContents {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new UserError(`${path}: cannot read safetensors file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return decodeSafetensors(bytes, path);
}
