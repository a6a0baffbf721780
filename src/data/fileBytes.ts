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
  if (!isGzip(raw)) return raw;
  try {
    return gunzipSync(raw);
  } catch (e) {
    throw new UserError(`${path}: gzip data is corrupt or truncated (${(e as Error).message})`);
  }
}
