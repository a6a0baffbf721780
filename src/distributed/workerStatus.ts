// What each worker tells the queue about itself, for `spurlab sweep --status`: its host,
// the runs it has under way and when it last renewed each run's lock. BullMQ keeps none
// of this (only a connection count), and a worker cut off from Redis looks like a live
// one to it until its locks expire. Each worker writes one key, spurlab:workers:<host>:<pid>,
// with a time to live, so a worker that vanished drops out after a while.
import { Redis } from 'ioredis';
import { connectionOptions, QUEUE_PREFIX, type RedisTarget } from './connection.ts';

export const WORKER_KEY_PREFIX = `${QUEUE_PREFIX}:workers:`;

export interface WorkerRun {
  queue: string; // queue name (without the prefix)
  key: string; // the run's key (= job id)
  label: string; // e.g. "mnist S3 n=3 seed=0 MLP"
  attempt: number;
  startedAt: string; // ISO time
  lockRenewedAt: string; // ISO time the job's lock was last taken or renewed
}

export interface WorkerInfo {
  host: string;
  pid: number;
  codeVersion: string;
  queues: string[];
  concurrency: number;
  lockMs: number;
  startedAt: string;
  seenAt: string; // when this entry was written
  runs: WorkerRun[];
}

export function workerKey(host: string, pid: number): string {
  return `${WORKER_KEY_PREFIX}${host}:${pid}`;
}

/** Writes a worker's entry; it expires after `ttlMs` unless written again. */
export async function writeWorkerInfo(redis: Redis, info: WorkerInfo, ttlMs: number): Promise<void> {
  await redis.set(workerKey(info.host, info.pid), JSON.stringify(info), 'PX', Math.max(1000, Math.round(ttlMs)));
}

export async function removeWorkerInfo(redis: Redis, host: string, pid: number): Promise<void> {
  await redis.del(workerKey(host, pid));
}

function parseInfo(text: string | null): WorkerInfo | null {
  if (text === null) return null;
  try {
    const v = JSON.parse(text) as WorkerInfo;
    return typeof v.host === 'string' && typeof v.pid === 'number' && Array.isArray(v.runs) && Array.isArray(v.queues) ? v : null;
  } catch {
    // written by other code: not ours to show
    return null;
  }
}

/** Every worker entry on the server, sorted by host and pid. */
export async function listWorkers(redis: Redis): Promise<WorkerInfo[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${WORKER_KEY_PREFIX}*`, 'COUNT', 200);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  if (keys.length === 0) return [];
  const values = await redis.mget(...keys);
  return values
    .map(parseInfo)
    .filter((v): v is WorkerInfo => v !== null)
    .sort((a, b) => a.host.localeCompare(b.host) || a.pid - b.pid);
}

const ago = (iso: string, now: number) => `${Math.max(0, (now - Date.parse(iso)) / 1000).toFixed(1)} s ago`;

/** One line per worker listening on `queue`, for the text of --status. */
export function describeWorkers(workers: WorkerInfo[], queue: string, now = Date.now()): string[] {
  const lines: string[] = [];
  for (const w of workers.filter((x) => x.queues.includes(queue))) {
    const runs = w.runs.filter((r) => r.queue === queue);
    const head = `  worker ${w.host} pid ${w.pid} (seen ${ago(w.seenAt, now)})`;
    if (runs.length === 0) lines.push(`${head}: idle`);
    for (const r of runs)
      lines.push(
        `${head}: run ${r.key.slice(0, 10)} (${r.label}), attempt ${r.attempt}, started ${ago(r.startedAt, now)}, lock renewed ${ago(r.lockRenewedAt, now)}`,
      );
  }
  return lines;
}

/** For --status: the workers listening on each of `queues`, as entries and as text lines. */
export async function workersOnQueues(target: RedisTarget, queues: string[]): Promise<{ perQueue: WorkerInfo[][]; lines: string[][] }> {
  const redis = new Redis({ ...connectionOptions(target), maxRetriesPerRequest: 1 });
  try {
    const all = await listWorkers(redis);
    const now = Date.now();
    return {
      perQueue: queues.map((q) => all.filter((w) => w.queues.includes(q)).map((w) => ({ ...w, runs: w.runs.filter((r) => r.queue === q) }))),
      lines: queues.map((q) => describeWorkers(all, q, now)),
    };
  } finally {
    redis.disconnect();
  }
}
