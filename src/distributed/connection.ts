// Where the job queue lives: a redis:// URL parsed into BullMQ connection options, a
// quick reachability check (BullMQ itself would retry forever and look hung), and the
// naming of the per-sweep queues.
import { createConnection } from 'node:net';
import { basename, extname } from 'node:path';
import { UserError } from '../util/errors.ts';

/** BullMQ key prefix: a sweep's queue lives under Redis keys spurlab:<sweep>:... */
export const QUEUE_PREFIX = 'spurlab';
/** A Redis set of the sweep queue names coordinators have used, so workers can find them. */
export const SWEEP_REGISTRY_KEY = `${QUEUE_PREFIX}:sweeps`;

export interface RedisTarget {
  url: string; // as given, for messages (password removed)
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  tls: boolean;
}

/** Parses redis://[user:password@]host[:port][/db] (or rediss:// for TLS). */
export function parseRedisUrl(raw: string): RedisTarget {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new UserError(`--queue ${raw}: not a URL; expected redis://HOST:PORT`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:')
    throw new UserError(`--queue ${raw}: scheme "${u.protocol}", expected redis:// or rediss://`);
  if (!u.hostname) throw new UserError(`--queue ${raw}: no host; expected redis://HOST:PORT`);
  const port = u.port ? Number(u.port) : 6379;
  const dbText = u.pathname.replace(/^\//, '');
  const db = dbText === '' ? 0 : Number(dbText);
  if (!Number.isInteger(db) || db < 0) throw new UserError(`--queue ${raw}: database "${dbText}", expected a non-negative integer`);
  const password = u.password ? decodeURIComponent(u.password) : undefined;
  const username = u.username ? decodeURIComponent(u.username) : undefined;
  // IPv6 literals come back bracketed from URL; net and ioredis want them bare
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  const shown = `${u.protocol}//${host.includes(':') ? `[${host}]` : host}:${port}${db ? `/${db}` : ''}`;
  return { url: shown, host, port, db, username, password, tls: u.protocol === 'rediss:' };
}

/** Delay before the n-th reconnection attempt (n from 1): doubling from 0.4 s up to 2 s (a connection attempt is cheap; a worker idling longer than needed is not). */
export function reconnectDelayMs(attempt: number): number {
  return Math.min(200 * 2 ** Math.min(attempt, 4), 2000);
}

export interface ConnectionOptions {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  tls?: object;
  retryStrategy(attempt: number): number;
  maxRetriesPerRequest: null;
}

/**
 * ioredis options for BullMQ. Commands wait for the connection to come back instead of
 * failing after a number of retries (which would end a coordinator on a Redis restart);
 * RedisWatch says when Redis is away and bounds how long anyone waits.
 */
export function connectionOptions(t: RedisTarget): ConnectionOptions {
  return {
    host: t.host,
    port: t.port,
    db: t.db,
    username: t.username,
    password: t.password,
    ...(t.tls ? { tls: {} } : {}),
    retryStrategy: reconnectDelayMs,
    maxRetriesPerRequest: null,
  };
}

/**
 * Fails fast with a clear message when nothing answers at the address. Only a TCP
 * connect: authentication and protocol errors surface from BullMQ with their own text.
 */
export async function checkRedisReachable(t: RedisTarget, timeoutMs = 3000): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const socket = createConnection({ host: t.host, port: t.port });
    const fail = (why: string) => {
      socket.destroy();
      reject(new UserError(`cannot reach Redis at ${t.url} (${why}); start redis-server there or fix --queue`));
    };
    socket.setTimeout(timeoutMs, () => fail(`no answer within ${timeoutMs / 1000} s`));
    socket.once('error', (e: NodeJS.ErrnoException) => fail(e.code ?? e.message));
    socket.once('connect', () => {
      socket.end();
      resolve();
    });
  });
}

/**
 * The queue name of a sweep: its name with anything but letters, digits, '.', '_' and
 * '-' replaced (BullMQ forbids ':' in queue names). A sweep file without a "name" is
 * named after the file.
 */
export function sweepQueueName(sweepName: string): string {
  const base = /[\\/]/.test(sweepName) || sweepName.endsWith('.json') ? basename(sweepName, extname(sweepName)) : sweepName;
  const safe = base.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '');
  if (!safe)
    throw new UserError(
      `sweep name ${JSON.stringify(sweepName)}: nothing left to name its queue after removing characters other than letters, digits, '.', '_' and '-'`,
    );
  return safe;
}

/** How the queue shows in messages: its Redis key prefix. */
export function queueLabel(queueName: string): string {
  return `${QUEUE_PREFIX}:${queueName}`;
}
