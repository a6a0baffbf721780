// Minimal typings for better-sqlite3 v12 (no @types package is installed): only the
// parts spurlab uses. Extend here when another method is needed.
declare module 'better-sqlite3' {
  namespace BetterSqlite3 {
    interface Options {
      readonly?: boolean;
      fileMustExist?: boolean;
      /** Milliseconds to wait on a locked database (SQLite busy_timeout); default 5000. */
      timeout?: number;
      verbose?: (message?: unknown, ...rest: unknown[]) => void;
      nativeBinding?: string;
    }

    interface RunResult {
      changes: number;
      lastInsertRowid: number | bigint;
    }

    interface Statement<Params extends unknown[] = unknown[], Row = unknown> {
      run(...params: Params): RunResult;
      get(...params: Params): Row | undefined;
      all(...params: Params): Row[];
      iterate(...params: Params): IterableIterator<Row>;
      pluck(toggle?: boolean): this;
      readonly reader: boolean;
      readonly source: string;
    }

    interface Transaction<F extends (...args: never[]) => unknown> {
      (...args: Parameters<F>): ReturnType<F>;
      deferred(...args: Parameters<F>): ReturnType<F>;
      immediate(...args: Parameters<F>): ReturnType<F>;
      exclusive(...args: Parameters<F>): ReturnType<F>;
    }

    interface Database {
      prepare<Params extends unknown[] = unknown[], Row = unknown>(sql: string): Statement<Params, Row>;
      exec(sql: string): this;
      pragma(source: string, options?: { simple?: boolean }): unknown;
      transaction<F extends (...args: never[]) => unknown>(fn: F): Transaction<F>;
      close(): this;
      readonly open: boolean;
      readonly inTransaction: boolean;
      readonly name: string;
      readonly memory: boolean;
      readonly readonly: boolean;
    }

    interface SqliteError extends Error {
      /** SQLite's extended result code name, e.g. "SQLITE_NOTADB", "SQLITE_BUSY". */
      code: string;
    }
  }

  interface DatabaseConstructor {
    new (filename?: string | Buffer, options?: BetterSqlite3.Options): BetterSqlite3.Database;
    (filename?: string | Buffer, options?: BetterSqlite3.Options): BetterSqlite3.Database;
    readonly SqliteError: new (message: string, code: string) => BetterSqlite3.SqliteError;
  }

  const Database: DatabaseConstructor & { prototype: BetterSqlite3.Database };
  namespace Database {
    type Options = BetterSqlite3.Options;
    type RunResult = BetterSqlite3.RunResult;
    type Statement<Params extends unknown[] = unknown[], Row = unknown> = BetterSqlite3.Statement<Params, Row>;
    type Transaction<F extends (...args: never[]) => unknown> = BetterSqlite3.Transaction<F>;
    type Database = BetterSqlite3.Database;
    type SqliteError = BetterSqlite3.SqliteError;
  }
  export = Database;
}
