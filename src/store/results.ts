/**
 * The results store: one SQLite row per run, keyed by the sha256 of the run's complete
 * configuration in canonical JSON (runKey.ts), so rerunning a sweep finds finished runs and skips
 * them. Several worker processes share one database file (WAL mode, busy timeout);
 * claim() is the only way to start a run, and it is atomic, so a run is executed and
 * recorded exactly once even when workers race or one is killed with kill -9.
 */
import type Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { openResultsDatabase } from './openDatabase.ts';
import { isProcessAlive } from '../util/processes.ts';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { UserError } from '../util/errors.ts';
import { version } from '../version.ts';
import { canonicalJson } from './runKey.ts';
import {
  checkIndicator,
  currentOwner,
  GROUP_COLUMN_TYPES,
  GROUP_COLUMNS,
  type ImportedRun,
  type RunFilter,
  type RunOwner,
  type RunRecord,
  type RunRow,
  type RunStatus,
  toRecord,
} from './runRecord.ts';

export {
  currentOwner,
  GROUP_COLUMNS,
  type GroupColumn,
  type ImportedRun,
  type RunFilter,
  type RunOwner,
  type RunRecord,
  type RunStatus,
} from './runRecord.ts';

export const DEFAULT_RESULTS_PATH = join('spurlab-results', 'results.db');

/**
 * Schema migrations; MIGRATIONS[v] takes user_version v to v + 1. Append, never edit.
 * The group columns are generated from the config, so they can never disagree with it;
 * an optimizer given as an object is kept as its canonical JSON text.
 */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE runs (
    key TEXT PRIMARY KEY,
    config TEXT NOT NULL CHECK (json_valid(config)),
    kind TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),
    result TEXT CHECK (result IS NULL OR json_valid(result)),
    error TEXT,
    code_version TEXT,
    host TEXT,
    pid INTEGER,
    attempts INTEGER NOT NULL DEFAULT 1,
    started_at TEXT NOT NULL,
    heartbeat_at TEXT NOT NULL,
    finished_at TEXT,
    seconds REAL,
    ${GROUP_COLUMNS.map((c) => `${c} ${GROUP_COLUMN_TYPES[c]} GENERATED ALWAYS AS (json_extract(config, '$.${c}')) VIRTUAL`).join(',\n    ')}
  );
  CREATE INDEX runs_setting ON runs (dataset, pattern, model, optimizer, target, n, seed);
  CREATE INDEX runs_kind_status ON runs (kind, status);
  CREATE TABLE per_image (
    key TEXT PRIMARY KEY REFERENCES runs (key) ON DELETE CASCADE,
    length INTEGER NOT NULL,
    indicator BLOB NOT NULL
  );`,
];

/** Which process holds a claim; a run is owned by (host, pid). */

export interface ResultsStoreOptions {
  /**
   * A 'running' row whose heartbeat is older than this may be reclaimed by anyone (its
   * owner may be on another host, where we cannot check its pid). Long runs should call
   * heartbeat() more often than this. Default 6 hours.
   */
  leaseMs?: number;
  /** Whether claim() restarts runs recorded as failed. Default true. */
  retryFailed?: boolean;
  /** Recorded with every claim; default the package version. */
  codeVersion?: string;
  /** How long a writer waits for another process's lock. Default 30 s. */
  busyTimeoutMs?: number;
  /** Open an existing store without writing it (for commands that only read). */
  readonly?: boolean;
}

const FILTER_COLUMNS = new Set<string>([...GROUP_COLUMNS, 'kind', 'status']);

export class ResultsStore {
  readonly path: string;
  /** Directory for run artifacts (checkpoints, histories), beside the database. */
  readonly artifactsDir: string;
  private readonly db: Database.Database;
  private readonly leaseMs: number;
  private readonly retryFailed: boolean;
  private readonly codeVersion: string;

  private constructor(path: string, db: Database.Database, options: ResultsStoreOptions) {
    this.path = path;
    this.artifactsDir = join(dirname(path), 'artifacts');
    this.db = db;
    this.leaseMs = options.leaseMs ?? 6 * 3600_000;
    this.retryFailed = options.retryFailed ?? true;
    this.codeVersion = options.codeVersion ?? version;
  }

  /**
   * Opens (creating directories and schema as needed) the store at `path`, or with
   * `readonly` an existing store without writing it. A file that is not a SQLite
   * database, a damaged one, one of something else or one this user may not write is a
   * UserError naming the file (see openDatabase.ts).
   */
  static open(path: string = DEFAULT_RESULTS_PATH, options: ResultsStoreOptions = {}): ResultsStore {
    const db = openResultsDatabase(path, {
      schemaVersion: MIGRATIONS.length,
      readonly: options.readonly,
      busyTimeoutMs: options.busyTimeoutMs,
      prepare: (d) => (options.readonly ? checkSchemaVersion(d, path) : migrate(d, path)),
    });
    return new ResultsStore(path, db, options);
  }

  /**
   * Atomically claims a run: records it as 'running' by `owner` and returns true, unless
   * it is done, or running under a live claim, in which case returns false. A running
   * claim is stale, and taken over, when its owner is on this host and its pid is dead,
   * or when its heartbeat is older than the lease. Failed runs are retried if the store
   * was opened with retryFailed (the default).
   */
  claim(key: string, config: object, kind: string, owner: RunOwner = currentOwner()): boolean {
    const configJson = canonicalJson(config);
    const tx = this.db.transaction((): boolean => {
      const row = this.db
        .prepare<[string], Pick<RunRow, 'status' | 'host' | 'pid' | 'heartbeat_at'>>('SELECT status, host, pid, heartbeat_at FROM runs WHERE key = ?')
        .get(key);
      const now = new Date();
      const stamp = now.toISOString();
      if (!row) {
        this.db
          .prepare(`INSERT INTO runs (key, config, kind, status, code_version, host, pid, attempts, started_at, heartbeat_at)
          VALUES (?, ?, ?, 'running', ?, ?, ?, 1, ?, ?)`)
          .run(key, configJson, kind, this.codeVersion, owner.host, owner.pid, stamp, stamp);
        return true;
      }
      if (row.status === 'done') return false;
      if (row.status === 'failed' && !this.retryFailed) return false;
      if (row.status === 'running' && !this.isStale(row, now.getTime())) return false;
      this.db
        .prepare(`UPDATE runs SET config = ?, kind = ?, status = 'running', result = NULL, error = NULL, code_version = ?,
          host = ?, pid = ?, attempts = attempts + 1, started_at = ?, heartbeat_at = ?, finished_at = NULL, seconds = NULL
        WHERE key = ?`)
        .run(configJson, kind, this.codeVersion, owner.host, owner.pid, stamp, stamp, key);
      this.db.prepare('DELETE FROM per_image WHERE key = ?').run(key);
      return true;
    });
    // IMMEDIATE takes the write lock before reading, so two claimers cannot both see "free".
    return tx.immediate();
  }

  private isStale(row: Pick<RunRow, 'host' | 'pid' | 'heartbeat_at'>, nowMs: number): boolean {
    // A pid can be reused by an unrelated process after a crash; the lease covers that case.
    if (row.host === hostname() && row.pid !== null && !isProcessAlive(row.pid)) return true;
    return nowMs - Date.parse(row.heartbeat_at) > this.leaseMs;
  }

  /** Extends the owner's lease; false means the claim was lost (the run should stop). */
  heartbeat(key: string, owner: RunOwner = currentOwner()): boolean {
    return (
      this.db
        .prepare(`UPDATE runs SET heartbeat_at = ? WHERE key = ? AND status = 'running' AND host = ? AND pid = ?`)
        .run(new Date().toISOString(), key, owner.host, owner.pid).changes === 1
    );
  }

  /**
   * Records a claimed run as done with its result (JSON; NaN and Infinity become null)
   * and, for spurious scores, the per-image 0/1 indicator. Returns false, recording
   * nothing, if `owner` no longer holds the claim (it went stale and another worker
   * took the run over).
   */
  complete(key: string, result: object, perImage?: Uint8Array, owner: RunOwner = currentOwner()): boolean {
    // A result may hold NaN (an undefined statistic); JSON cannot, so it is stored as null.
    const resultJson = canonicalJson(result, 'null');
    if (perImage) checkIndicator(key, perImage);
    const tx = this.db.transaction((): boolean => {
      const now = new Date();
      const changed = this.db
        .prepare(`UPDATE runs SET status = 'done', result = ?, error = NULL, finished_at = ?, heartbeat_at = ?,
          seconds = (julianday(?) - julianday(started_at)) * 86400.0
        WHERE key = ? AND status = 'running' AND host = ? AND pid = ?`)
        .run(resultJson, now.toISOString(), now.toISOString(), now.toISOString(), key, owner.host, owner.pid).changes;
      if (changed === 0) return false;
      if (perImage) {
        this.db
          .prepare('INSERT OR REPLACE INTO per_image (key, length, indicator) VALUES (?, ?, ?)')
          .run(key, perImage.length, Buffer.from(perImage.buffer, perImage.byteOffset, perImage.byteLength));
      }
      return true;
    });
    return tx.immediate();
  }

  /**
   * Records a finished run exported from another store (\`spurlab runs import\`) as it was:
   * its key, config, result, code version, host and times. A key already in this store is
   * left alone (returns false): importing never overwrites a result. All or nothing:
   * the runs go in one transaction.
   */
  importRuns(runs: readonly ImportedRun[]): { imported: number; present: number } {
    let imported = 0;
    const insert = this.db.prepare(`INSERT OR IGNORE INTO runs (key, config, kind, status, result, code_version, host, pid, attempts,
        started_at, heartbeat_at, finished_at, seconds)
      VALUES (?, ?, ?, 'done', ?, ?, ?, NULL, 1, ?, ?, ?, ?)`);
    this.db
      .transaction(() => {
        for (const r of runs) {
          imported += insert.run(
            r.key,
            canonicalJson(r.config),
            r.kind,
            canonicalJson(r.result, 'null'),
            r.codeVersion,
            r.host,
            r.startedAt,
            r.finishedAt,
            r.finishedAt,
            r.seconds,
          ).changes;
        }
      })
      .immediate();
    return { imported, present: runs.length - imported };
  }

  /** Records a claimed run as failed; false if `owner` no longer holds the claim. */
  fail(key: string, error: unknown, owner: RunOwner = currentOwner()): boolean {
    const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
    const now = new Date().toISOString();
    return (
      this.db
        .prepare(`UPDATE runs SET status = 'failed', error = ?, finished_at = ?, heartbeat_at = ?,
        seconds = (julianday(?) - julianday(started_at)) * 86400.0
      WHERE key = ? AND status = 'running' AND host = ? AND pid = ?`)
        .run(text, now, now, now, key, owner.host, owner.pid).changes === 1
    );
  }

  /**
   * The one way every caller runs or records a run, exactly once: returns the stored
   * record if the run is done; 'busy' if another live process holds it; otherwise claims
   * it, calls `work` (which renews the lease through `lease.renew()` on progress, and a
   * timer renews it while `work` awaits), and records its result, or its failure with
   * the stack (and rethrows). 'lost' means the claim went stale meanwhile and another
   * process took the run over: nothing was recorded by this one.
   */
  async runOnce<R extends object>(
    run: { key: string; config: object; kind: string },
    work: (lease: RunLease) => Promise<RunProduct<R>> | RunProduct<R>,
    options: { owner?: RunOwner; renewMs?: number } = {},
  ): Promise<RunOnceOutcome<R>> {
    const owner = options.owner ?? currentOwner();
    const existing = this.get(run.key);
    if (existing?.status === 'done') return { status: 'done', record: existing };
    if (!this.claim(run.key, run.config, run.kind, owner)) {
      const now = this.get(run.key);
      if (now?.status === 'done') return { status: 'done', record: now };
      // a failed run not retried (the store was opened with retryFailed: false)
      return now?.status === 'failed' ? { status: 'failed', record: now } : { status: 'busy' };
    }
    let lost = false;
    const lease: RunLease = {
      renew: () => {
        if (!lost && !this.heartbeat(run.key, owner)) lost = true;
        return !lost;
      },
      get lost() {
        return lost;
      },
    };
    const timer = setInterval(() => lease.renew(), options.renewMs ?? Math.max(1000, Math.min(60_000, this.leaseMs / 4)));
    timer.unref();
    let product: RunProduct<R>;
    try {
      product = await work(lease);
    } catch (e) {
      clearInterval(timer);
      this.fail(run.key, e, owner);
      throw e;
    }
    clearInterval(timer);
    if (!this.complete(run.key, product.result, product.perImage, owner)) return { status: 'lost' };
    return { status: 'ran', result: product.result, record: this.get(run.key)! };
  }

  /** Gives a claim back (e.g. on Ctrl-C) so the run can be claimed again at once. */
  release(key: string, owner: RunOwner = currentOwner()): boolean {
    return (
      this.db.prepare(`DELETE FROM runs WHERE key = ? AND status = 'running' AND host = ? AND pid = ?`).run(key, owner.host, owner.pid).changes === 1
    );
  }

  /** Kind, config and seconds of every done run (no results parsed): what run times to expect. */
  doneTimings(): { kind: string; config: Record<string, unknown>; seconds: number }[] {
    return this.db
      .prepare<[], { kind: string; config: string; seconds: number }>(
        "SELECT kind, config, seconds FROM runs WHERE status = 'done' AND seconds IS NOT NULL",
      )
      .all()
      .map((r) => ({ kind: r.kind, config: JSON.parse(r.config) as Record<string, unknown>, seconds: r.seconds }));
  }

  get(key: string): RunRecord | undefined {
    const row = this.db.prepare<[string], RunRow>(`SELECT ${RUN_COLUMNS} FROM runs WHERE key = ?`).get(key);
    return row && toRecord(row);
  }

  isDone(key: string): boolean {
    return this.db.prepare<[string], { status: RunStatus }>('SELECT status FROM runs WHERE key = ?').get(key)?.status === 'done';
  }

  /** Runs matching every given column, oldest first. */
  list(filter: RunFilter = {}): RunRecord[] {
    const { where, params } = whereClause(filter);
    return this.db
      .prepare<unknown[], RunRow>(`SELECT ${RUN_COLUMNS} FROM runs ${where} ORDER BY started_at, key`)
      .all(...params)
      .map(toRecord);
  }

  /** The per-image 0/1 spurious-score indicator stored with a run, if any. */
  perImage(key: string): Uint8Array | undefined {
    const row = this.db.prepare<[string], { indicator: Buffer }>('SELECT indicator FROM per_image WHERE key = ?').get(key);
    return row && new Uint8Array(row.indicator.buffer, row.indicator.byteOffset, row.indicator.byteLength);
  }

  /** A run's artifact directory (created), named by its key. */
  artifactDir(key: string): string {
    const dir = join(this.artifactsDir, key);
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  /**
   * Done runs (or those matching `filter`) with the values of `groupBy`: each name is a
   * grouping column (dataset, pattern, n, target, seed, model, optimizer), 'kind', or a
   * dotted path into the config ('training.lr'); a missing value is null. Ordered by the
   * group values, then key. The experiments layer summarizes them (summaries.ts).
   */
  groupRows(groupBy: string[], filter: RunFilter = {}): GroupRow[] {
    const expressions = groupBy.map(groupExpression);
    const { where, params } = whereClause({ status: 'done', ...filter });
    const select = expressions.map((e, i) => `${e} AS g${i}`).join(', ');
    const order = expressions.map((_, i) => `g${i}`).join(', ');
    const rows = this.db
      .prepare<unknown[], Record<string, unknown> & { key: string; result: string | null }>(
        `SELECT key, result${select ? `, ${select}` : ''} FROM runs ${where} ORDER BY ${order ? `${order}, ` : ''}key`,
      )
      .all(...params);
    return rows.map((row) => ({
      key: row.key,
      values: groupBy.map((_, i) => row[`g${i}`] ?? null),
      result: row.result === null ? null : (JSON.parse(row.result) as Record<string, unknown>),
    }));
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/** What a run's work returns: its result and, for spurious scores, the per-image indicator. */
export interface RunProduct<R extends object> {
  result: R;
  perImage?: Uint8Array;
}

/** A claim being held by runOnce's work. */
export interface RunLease {
  /** Extends the lease; false once the claim was lost (the work may stop). */
  renew(): boolean;
  readonly lost: boolean;
}

export type RunOnceOutcome<R extends object> =
  | { status: 'done'; record: RunRecord } // finished earlier: nothing was run
  | { status: 'ran'; result: R; record: RunRecord }
  | { status: 'busy' } // another live process holds the run
  | { status: 'failed'; record: RunRecord } // failed earlier and the store does not retry failed runs
  | { status: 'lost' }; // this process's claim went stale and was taken over; nothing recorded

/** One run as groupRows returns it. */
export interface GroupRow {
  key: string;
  /** The groupBy values, in order (null when the config lacks one). */
  values: unknown[];
  result: Record<string, unknown> | null;
}

const RUN_COLUMNS = `key, config, kind, status, result, error, code_version, host, pid, attempts, started_at, heartbeat_at,
  finished_at, seconds, ${GROUP_COLUMNS.join(', ')}`;

const CONFIG_PATH = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

function groupExpression(name: string): string {
  if (FILTER_COLUMNS.has(name)) return name;
  if (!CONFIG_PATH.test(name)) {
    throw new UserError(`group-by "${name}": expected one of ${[...FILTER_COLUMNS].join(', ')} or a dotted config path like training.lr`);
  }
  return `json_extract(config, '$.${name}')`;
}

function whereClause(filter: RunFilter): { where: string; params: unknown[] } {
  const parts: string[] = [];
  const params: unknown[] = [];
  for (const [column, value] of Object.entries(filter)) {
    if (value === undefined) continue;
    if (!FILTER_COLUMNS.has(column)) throw new UserError(`results filter "${column}": expected one of ${[...FILTER_COLUMNS].join(', ')}`);
    if (value === null) {
      parts.push(`${column} IS NULL`);
    } else {
      parts.push(`${column} = ?`);
      params.push(value);
    }
  }
  return { where: parts.length ? `WHERE ${parts.join(' AND ')}` : '', params };
}

/** A store opened read-only cannot be migrated: it must have this spurlab's schema. */
function checkSchemaVersion(db: Database.Database, path: string): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length)
    throw new UserError(`${path}: results schema version ${current} is newer than this spurlab understands (${MIGRATIONS.length}); upgrade spurlab`);
  if (current < MIGRATIONS.length)
    throw new UserError(
      `${path}: results schema version ${current} is older than this spurlab's (${MIGRATIONS.length}), and this command only reads; run a command that records runs (e.g. spurlab sweep --dry-run) on it once to upgrade it`,
    );
}

/** Brings the schema to the latest version inside one write transaction (safe when workers open concurrently). */
function migrate(db: Database.Database, path: string): void {
  db.transaction(() => {
    const current = db.pragma('user_version', { simple: true }) as number;
    if (current > MIGRATIONS.length) {
      throw new UserError(
        `${path}: results schema version ${current} is newer than this spurlab understands (${MIGRATIONS.length}); upgrade spurlab`,
      );
    }
    if (current === 0) {
      const foreign = db.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all();
      if (foreign.length > 0) {
        throw new UserError(
          `${path}: is a SQLite database of something else (tables ${foreign.map((t) => t.name).join(', ')}); expected a spurlab results store or a new file path`,
        );
      }
    }
    for (let v = current; v < MIGRATIONS.length; v++) db.exec(MIGRATIONS[v]);
    db.pragma(`user_version = ${MIGRATIONS.length}`);
  }).immediate();
}
