/**
 * An error caused by the user's input (a file, a value, a name): the CLI prints its
 * message as one line and exits with code 2, without a stack trace unless --debug.
 * The message names the file or value and what was expected.
 */
export class UserError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 2) {
    super(message);
    this.name = 'UserError';
    this.exitCode = exitCode;
  }
}

/** A shape or dtype mismatch inside the engine; names the op and the shapes. */
export class ShapeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ShapeError';
  }
}

/**
 * What a failed file-system call means for the user: the errno codes that come from the
 * machine (permissions, a file where a directory was expected, a full or read-only disk)
 * rather than from a bug. Each says what to do about it.
 */
const FILE_SYSTEM_ADVICE: Record<string, string> = {
  EACCES: 'permission denied; make it writable (or readable) for this user, or choose another path',
  EPERM: 'operation not permitted; check its permissions and owner, or choose another path',
  ENOTDIR: 'a part of the path is a file, not a directory; choose another path or move that file aside',
  EISDIR: 'is a directory where a file was expected; choose a file path',
  ENOSPC: 'no space left on the device; free some space (or write elsewhere) and run again',
  EDQUOT: 'disk quota exceeded; free some space (or write elsewhere) and run again',
  EROFS: 'the file system is read-only; choose a writable path',
  EMFILE: 'too many open files in this process; raise the limit (ulimit -n) and run again',
  ENAMETOOLONG: 'the path is too long; choose a shorter one',
};

/** True for an errno code that fileSystemUserError maps. */
export function isFileSystemCode(code: unknown): code is string {
  return typeof code === 'string' && Object.hasOwn(FILE_SYSTEM_ADVICE, code);
}

/**
 * A UserError naming the path and what to do, for a Node file-system error caused by the
 * machine (EACCES, ENOTDIR, ENOSPC, ...); undefined for any other error. `path` names the
 * file when the error itself does not (write(2) knows only a file descriptor), and
 * `note` is added to the message (e.g. that the previous file is intact).
 */
export function fileSystemUserError(err: unknown, path?: string, note?: string): UserError | undefined {
  if (err instanceof UserError || typeof err !== 'object' || err === null) return undefined;
  const e = err as NodeJS.ErrnoException;
  // mkdir -p over a file fails with EEXIST: the same trouble as ENOTDIR
  const code = e.code === 'EEXIST' && e.syscall === 'mkdir' ? 'ENOTDIR' : e.code;
  if (!isFileSystemCode(code)) return undefined;
  const where = e.path ?? path;
  const what = e.syscall ? `${e.syscall} failed` : 'failed';
  const target = where ? `${where}: ` : '';
  const other = path && where !== path ? ` (while writing ${path})` : '';
  return new UserError(`${target}${what}${other}: ${FILE_SYSTEM_ADVICE[code]} (${e.code})${note ? `; ${note}` : ''}`);
}

/**
 * The error the CLI should report for `err`: UserErrors as they are, machine-caused
 * file-system errors as UserErrors naming the path; anything else stays an internal error.
 */
export function userFacingError(err: unknown): UserError | undefined {
  if (err instanceof UserError) return err;
  return fileSystemUserError(err);
}
