// Reads a data file whole, gunzipping it when it starts with the gzip magic 0x1f 0x8b,
// and turns I/O failures into UserErrors that name the file.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { UserError } from '../util/errors.ts';

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** The file's bytes, decompressed if gzipped. `hint` says how to obtain a missing file. */
export function readDataFile(path: string, hint = ''): Uint8Array {
  let raw: Buffer;
  try {
    raw = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserError(`${path}: file not found${hint ? ` (${hint})` : ''}`);
    if (code === 'EISDIR') throw new UserError(`${path}: is a directory, expected a data file`);
    throw new UserError(`${path}: cannot read (${(e as Error).message})`);
  }
  return decodeDataBytes(raw, path);
}

/**
 * Larger decompressed files are refused (1 GiB; CIFAR-100's training file, the largest
 * data set file, is 150 MiB): a small corrupt or hostile .gz must not exhaust memory.
 */
export const MAX_GUNZIPPED_BYTES = 2 ** 30;

/** A data file's bytes as read: decompressed if gzipped; `path` names it in errors. */
export function decodeDataBytes(raw: Uint8Array, path: string, maxBytes = MAX_GUNZIPPED_BYTES): Uint8Array {
  if (!isGzip(raw)) return raw;
  try {
    return gunzipSync(raw, { maxOutputLength: maxBytes });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new UserError(`${path}: gzip data decompresses to more than ${maxBytes} bytes, expected a data set file`);
    }
    throw new UserError(`${path}: gzip data is corrupt or truncated (${(e as Error).message})`);
  }
}
