// The types of a results-store row as the store's users see them (RunRecord, the filter,
// an imported run) and as SQLite holds it (RunRow), with the conversion between them.
import { hostname } from 'node:os';

export type RunStatus = 'running' | 'done' | 'failed';

/** Config fields copied into indexed columns for grouping and filtering (top-level config keys). */
export const GROUP_COLUMNS = ['dataset', 'pattern', 'n', 'target', 'seed', 'model', 'optimizer'] as const;
export type GroupColumn = (typeof GROUP_COLUMNS)[number];

export const GROUP_COLUMN_TYPES: Record<GroupColumn, 'TEXT' | 'INTEGER'> = {
  dataset: 'TEXT',
  pattern: 'TEXT',
  n: 'INTEGER',
  target: 'INTEGER',
  seed: 'INTEGER',
  model: 'TEXT',
  optimizer: 'TEXT',
};

export interface RunOwner {
  host: string;
  pid: number;
}

export interface RunRecord {
  key: string;
  config: Record<string, unknown>;
  kind: string;
  status: RunStatus;
  result: Record<string, unknown> | null;
  error: string | null;
  codeVersion: string | null;
  host: string | null;
  pid: number | null;
  attempts: number;
  startedAt: string;
  heartbeatAt: string;
  finishedAt: string | null;
  seconds: number | null;
  dataset: string | null;
  pattern: string | null;
  n: number | null;
  target: number | null;
  seed: number | null;
  model: string | null;
  optimizer: string | null;
}

/** A finished run as an export carries it (store/runExport.ts). */
export interface ImportedRun {
  key: string;
  kind: string;
  config: Record<string, unknown>;
  result: Record<string, unknown>;
  codeVersion: string | null;
  host: string | null;
  startedAt: string;
  finishedAt: string;
  seconds: number | null;
}

/** Equality filters on runs; `null` matches a missing value. */
export type RunFilter = Partial<Record<GroupColumn | 'kind' | 'status', string | number | null>>;

export interface RunRow {
  key: string;
  config: string;
  kind: string;
  status: RunStatus;
  result: string | null;
  error: string | null;
  code_version: string | null;
  host: string | null;
  pid: number | null;
  attempts: number;
  started_at: string;
  heartbeat_at: string;
  finished_at: string | null;
  seconds: number | null;
  dataset: string | null;
  pattern: string | null;
  n: number | null;
  target: number | null;
  seed: number | null;
  model: string | null;
  optimizer: string | null;
}

export function currentOwner(): RunOwner {
  return { host: hostname(), pid: process.pid };
}

export function toRecord(row: RunRow): RunRecord {
  return {
    key: row.key,
    config: JSON.parse(row.config) as Record<string, unknown>,
    kind: row.kind,
    status: row.status,
    result: row.result === null ? null : (JSON.parse(row.result) as Record<string, unknown>),
    error: row.error,
    codeVersion: row.code_version,
    host: row.host,
    pid: row.pid,
    attempts: row.attempts,
    startedAt: row.started_at,
    heartbeatAt: row.heartbeat_at,
    finishedAt: row.finished_at,
    seconds: row.seconds,
    dataset: row.dataset,
    pattern: row.pattern,
    n: row.n,
    target: row.target,
    seed: row.seed,
    model: row.model,
    optimizer: row.optimizer,
  };
}

export function checkIndicator(key: string, perImage: Uint8Array): void {
  for (let i = 0; i < perImage.length; i++) {
    if (perImage[i] > 1) throw new RangeError(`per-image indicator of run ${key} has value ${perImage[i]} at ${i}; expected 0 or 1`);
  }
}
