/**
 * Atomic file replacement: a reader (or a resumed run) sees either the old file or the
 * complete new one, never a half-written file, even if the writer is killed with
 * kill -9 or the machine loses power mid-write.
 *
 * Recipe: write a temporary file in the SAME directory (rename is only atomic within one
 * file system), fsync it so its bytes are on disk before the rename makes it visible,
 * rename over the target, then fsync the directory so the rename itself is durable.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

export type AtomicData = string | Uint8Array | readonly Uint8Array[];

/** The temporary name used while writing `path`; hidden, and unique per process and call. */
export function temporaryPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

function writeAll(fd: number, chunk: Uint8Array): void {
  let written = 0;
  while (written < chunk.byteLength) {
    written += writeSync(fd, chunk, written, chunk.byteLength - written);
  }
}

function fsyncDirectory(dir: string): void {
  // Directories cannot be opened for fsync on every platform (Windows); losing only the
  // durability of the rename there is acceptable, losing atomicity is not.
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // best effort, see above
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Writes `data` (a string as UTF-8, a buffer, or a list of buffers written back to back,
 * which avoids concatenating a large checkpoint) to `path` atomically. Creates the
 * parent directory. On failure the temporary file is removed and the target untouched.
 */
export function writeFileAtomicSync(path: string, data: AtomicData): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const tmp = temporaryPathFor(path);
  const chunks = typeof data === 'string' ? [Buffer.from(data, 'utf8')] : data instanceof Uint8Array ? [data] : data;
  const fd = openSync(tmp, 'wx', 0o644);
  try {
    try {
      for (const chunk of chunks) writeAll(fd, chunk);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // already gone; the original error is the one to report
    }
    throw err;
  }
  fsyncDirectory(dir);
}
