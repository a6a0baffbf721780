/**
 * Atomic file replacement: a reader (or a resumed run) sees either the old file or the
 * complete new one, never a half-written file, even if the writer is killed with
 * kill -9 or the machine loses power mid-write.
 *
 * Recipe: write a temporary file in the SAME directory (rename is only atomic within one
 * file system), fsync it so its bytes are on disk before the rename makes it visible,
 * rename over the target, then fsync the directory so the rename itself is durable.
 *
 * A writer killed mid-write leaves its temporary file behind; the next write into the
 * same directory removes the temporaries of writers that are no longer alive.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileSystemUserError } from '../util/errors.ts';
import { isProcessAlive } from '../util/processes.ts';

export type AtomicData = string | Uint8Array | readonly Uint8Array[];

/**
 * `.<name>.<pid>@<host>.<8 hex>.tmp`; earlier versions wrote `.<name>.<pid>.<8 hex>.tmp`.
 * The host tells whether the pid can be checked here (a shared directory, e.g. NFS, holds
 * temporaries of writers on other machines).
 */
const TEMPORARY = /^\..+\.(\d+)(?:@([^@/]+))?\.[0-9a-f]{8}\.tmp$/;

/** A temporary of another machine is only removed once it is this old: its writer cannot still be writing it. */
export const FOREIGN_TEMPORARY_MAX_AGE_MS = 24 * 3600_000;

function safeHostname(): string {
  return hostname().replace(/[^A-Za-z0-9._-]/g, '_') || 'localhost';
}

/** The temporary name used while writing `path`; hidden, and unique per process and call. */
export function temporaryPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}@${safeHostname()}.${randomBytes(4).toString('hex')}.tmp`);
}

/**
 * Removes the temporary files in `dir` left by writers that died mid-write: those of
 * this host whose pid is not alive, and those of other hosts untouched for a day.
 * Returns the names removed. Best effort: a file another cleaner removed first, or one
 * we may not delete, is left to the next write.
 */
export function removeStaleTemporaries(dir: string, nowMs = Date.now()): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const here = safeHostname();
  const removed: string[] = [];
  for (const name of names) {
    const m = TEMPORARY.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    const host = m[2] ?? here; // the old format carried no host: written on this machine
    const path = join(dir, name);
    try {
      if (host === here) {
        if (pid === process.pid || isProcessAlive(pid)) continue;
      } else if (nowMs - statSync(path).mtimeMs < FOREIGN_TEMPORARY_MAX_AGE_MS) {
        continue;
      }
      unlinkSync(path);
      removed.push(name);
    } catch {
      // gone already, or not ours to remove: see above
    }
  }
  return removed;
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
 * parent directory. On failure the temporary file is removed and the target untouched;
 * a failure the machine causes (EACCES, ENOTDIR, ENOSPC, ...) becomes a UserError that
 * names `path`, even where the system call knew only a file descriptor.
 */
export function writeFileAtomicSync(path: string, data: AtomicData): void {
  const dir = dirname(path);
  let tmp: string | undefined;
  try {
    mkdirSync(dir, { recursive: true });
    removeStaleTemporaries(dir);
    tmp = temporaryPathFor(path);
    const chunks = typeof data === 'string' ? [Buffer.from(data, 'utf8')] : data instanceof Uint8Array ? [data] : data;
    const fd = openSync(tmp, 'wx', 0o644);
    try {
      for (const chunk of chunks) writeAll(fd, chunk);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    if (tmp !== undefined) {
      try {
        unlinkSync(tmp);
      } catch {
        // never created, or already gone; the original error is the one to report
      }
    }
    // the hidden temporary's name means nothing to the user: name the file being written
    const e = err as NodeJS.ErrnoException;
    if (tmp !== undefined && e?.path === tmp) e.path = path;
    throw fileSystemUserError(err, path, 'the previous version of the file, if any, is intact') ?? err;
  }
  fsyncDirectory(dir);
}
