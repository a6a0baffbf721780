/**
 * Opening the results store's SQLite file so that what goes wrong with the file, rather
 * than with spurlab, reaches the user as one line naming the file and what to do:
 *
 * - damage (SQLITE_CORRUPT, SQLITE_NOTADB) is looked for on open with PRAGMA quick_check
 *   and, should a query meet it later, reported the same way, with how to recover;
 * - a full disk, a read-only file or directory, an unopenable path (SQLITE_FULL,
 *   SQLITE_READONLY*, SQLITE_CANTOPEN, SQLITE_IOERR*) name the file and the remedy;
 * - commands that only read open the file read-only, so they work on a store they may
 *   not write, even in a read-only directory (where SQLite cannot create the WAL index).
 */
import Database from 'better-sqlite3';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { UserError } from '../util/errors.ts';

export interface OpenDatabaseOptions {
  /** The schema version (PRAGMA user_version) the store's code writes; named in recovery advice. */
  schemaVersion: number;
  readonly?: boolean;
  busyTimeoutMs?: number;
  /** Runs on the opened database (schema check or migration); its errors are mapped too. */
  prepare?(db: Database.Database): void;
}

function sqliteCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : undefined;
}

/**
 * How to get the readable runs out of a damaged store, or start afresh. sqlite3's .dump
 * skips what it cannot read but then ends with a ROLLBACK, which the sed turns into a
 * COMMIT; the schema version is not dumped, so it is set again. (.recover would be
 * simpler, but sqlite3 3.40 fails on the store's generated columns.)
 */
export function recoveryAdvice(path: string, schemaVersion: number): string {
  const recovered = `${path}.recovered`;
  return (
    `to keep the readable runs: sqlite3 ${path} .dump | sed 's/^ROLLBACK; -- due to errors$/COMMIT;/' | sqlite3 ${recovered} && sqlite3 ${recovered} 'PRAGMA user_version = ${schemaVersion}', ` +
    `then move ${path} (and ${path}-wal, ${path}-shm if present) aside and rename ${recovered} to ${path}; or just move ${path} aside to start a new store (its runs are then redone)`
  );
}

/**
 * The UserError for a SQLite error that is about the file (damage, space, permissions),
 * naming `path`; undefined for any other error (a bug, a busy lock, a constraint).
 */
export function storeFileError(err: unknown, path: string, schemaVersion: number): UserError | undefined {
  if (err instanceof UserError) return err;
  const code = sqliteCode(err);
  if (!code) return undefined;
  const sqlite = `SQLite: ${(err as Error).message}`;
  if (code === 'SQLITE_CORRUPT' || code.startsWith('SQLITE_CORRUPT_'))
    return new UserError(`${path}: the results store is damaged (${sqlite}); ${recoveryAdvice(path, schemaVersion)}`);
  if (code === 'SQLITE_NOTADB')
    return new UserError(
      `${path}: cannot open as a results store (${sqlite}); expected a SQLite database made by spurlab or a new file path (move this file aside if it is a damaged store)`,
    );
  if (code === 'SQLITE_FULL')
    return new UserError(
      `${path}: the disk holding the results store is full (${sqlite}); free some space and run again (what was recorded before is kept: SQLite rolled the failed write back)`,
    );
  if (code.startsWith('SQLITE_READONLY'))
    return new UserError(
      `${path}: the results store cannot be written (${sqlite}); make the file and its directory writable for this user, or give --store a writable path`,
    );
  if (code.startsWith('SQLITE_CANTOPEN'))
    return new UserError(
      `${path}: cannot open the results store (${sqlite}); check that the path and its directory exist and that this user may read them (and write them, for commands that record runs)`,
    );
  if (code.startsWith('SQLITE_IOERR'))
    return new UserError(`${path}: input/output error on the results store (${sqlite}); check the disk (and its free space), then run again`);
  return undefined;
}

function guarded<A extends unknown[], R>(path: string, schemaVersion: number, fn: (...args: A) => R): (...args: A) => R {
  return (...args: A): R => {
    try {
      return fn(...args);
    } catch (err) {
      throw storeFileError(err, path, schemaVersion) ?? err;
    }
  };
}

/**
 * Makes every statement, pragma, exec and transaction of `db` report file trouble as a
 * storeFileError naming `path`; other errors pass unchanged. Done on the instance, so
 * the store's code keeps using the plain better-sqlite3 API.
 */
function guardDatabase(db: Database.Database, path: string, v: number): Database.Database {
  const prepare = db.prepare.bind(db);
  const statementMethods = ['run', 'get', 'all', 'iterate'] as const;
  db.prepare = ((source: string) => {
    const stmt = guarded(path, v, prepare)(source) as unknown as Record<string, unknown>;
    for (const m of statementMethods) stmt[m] = guarded(path, v, (stmt[m] as (...a: unknown[]) => unknown).bind(stmt));
    return stmt;
  }) as unknown as typeof db.prepare;
  db.exec = guarded(path, v, db.exec.bind(db)) as typeof db.exec;
  db.pragma = guarded(path, v, db.pragma.bind(db)) as typeof db.pragma;
  const transaction = db.transaction.bind(db);
  db.transaction = ((fn: (...a: unknown[]) => unknown) => {
    const tx = transaction(fn);
    return Object.assign(guarded(path, v, tx), {
      deferred: guarded(path, v, tx.deferred),
      immediate: guarded(path, v, tx.immediate),
      exclusive: guarded(path, v, tx.exclusive),
      database: db,
    });
  }) as typeof db.transaction;
  return db;
}

function quickCheck(db: Database.Database, path: string, schemaVersion: number): void {
  const verdict = db.pragma('quick_check', { simple: true });
  if (verdict !== 'ok')
    throw new UserError(
      `${path}: the results store is damaged (SQLite quick_check: ${String(verdict).replace(/\s*\n\s*/g, ' ')}); ${recoveryAdvice(path, schemaVersion)}`,
    );
}

/**
 * A read-only connection. In a directory this user may not write, SQLite cannot create
 * the -shm index a WAL database needs; then, if no -wal holds unmerged changes, the file
 * is read into memory (its header switched from WAL to rollback mode, which is how a
 * WAL file is read without its index) and opened read-only from there.
 */
function openReadonly(path: string, timeout: number): Database.Database {
  if (!existsSync(path)) throw new UserError(`${path}: no results store here; expected the results.db a sweep writes (give --store PATH)`);
  if (statSync(path).isDirectory()) throw new UserError(`${path}: is a directory; expected a results store file (e.g. ${path}/results.db)`);
  const db = new Database(path, { readonly: true, fileMustExist: true, timeout });
  try {
    db.pragma('user_version', { simple: true });
    return db;
  } catch (err) {
    db.close();
    const code = sqliteCode(err) ?? '';
    if (code !== 'SQLITE_READONLY_DIRECTORY' && !code.startsWith('SQLITE_CANTOPEN')) throw err;
  }
  const wal = `${path}-wal`;
  if (existsSync(wal) && statSync(wal).size > 0) {
    throw new UserError(
      `${path}: the results store is in a directory this user cannot write, and ${wal} holds changes SQLite can only read with a -shm index it cannot create there; make the directory writable, or copy ${path} and ${wal} to a writable directory and use --store on the copy`,
    );
  }
  const bytes = readFileSync(path);
  if (bytes.length >= 20 && bytes[18] === 2 && bytes[19] === 2) {
    bytes[18] = 1;
    bytes[19] = 1;
  }
  return new Database(bytes, { readonly: true });
}

/**
 * Opens the results store's database at `path`: read-only, or read-write (creating the
 * directory and the file, in WAL mode). Checks it with quick_check, runs `prepare`,
 * and returns a connection whose later queries report file trouble naming `path`.
 */
export function openResultsDatabase(path: string, options: OpenDatabaseOptions): Database.Database {
  const v = options.schemaVersion;
  const timeout = options.busyTimeoutMs ?? 30_000;
  let db: Database.Database | undefined;
  try {
    if (options.readonly) {
      db = openReadonly(path, timeout);
    } else {
      mkdirSync(dirname(path), { recursive: true });
      db = new Database(path, { timeout });
    }
    guardDatabase(db, path, v);
    quickCheck(db, path, v);
    if (!options.readonly) {
      db.pragma('journal_mode = WAL');
      // In WAL mode NORMAL survives any process crash (kill -9); only a power loss can
      // drop the last commits, and then those runs are simply redone.
      db.pragma('synchronous = NORMAL');
    }
    db.pragma('foreign_keys = ON');
    options.prepare?.(db);
    return db;
  } catch (err) {
    db?.close();
    const mapped = storeFileError(err, path, v);
    if (mapped) throw mapped;
    const code = sqliteCode(err);
    // a busy lock is a bug in waiting (the timeout should cover it), not the user's file
    if (code && code !== 'SQLITE_BUSY')
      throw new UserError(
        `${path}: cannot open as a results store (SQLite: ${(err as Error).message}); expected a SQLite database made by spurlab or a new file path`,
      );
    throw err;
  }
}
