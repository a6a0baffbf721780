// Watches the connection to a queue's Redis server for a worker or a coordinator: says
// once when it is lost (which URL, since when) and once when it is back (after how long,
// and whether the server restarted, which a coordinator must know: a Redis without
// persistence comes back empty), and gives up after a bound. BullMQ's own connections
// reconnect by themselves but silently, and its commands wait forever while Redis is
// away, so without this a worker that lost Redis idles and looks healthy.
import { Redis } from 'ioredis';
import { connectionOptions, type RedisTarget } from './connection.ts';
import { UserError } from '../util/errors.ts';

/** Exit code of a worker or coordinator that gave up waiting for Redis. */
export const GAVE_UP_EXIT_CODE = 3;
/** Default of --give-up-after: long enough for a Redis restart or a host reboot. */
export const DEFAULT_GIVE_UP_SECONDS = 900;

/** Thrown when Redis stayed unreachable past --give-up-after; the CLI prints it as one line. */
export class RedisGoneError extends UserError {
  constructor(message: string) {
    super(message, GAVE_UP_EXIT_CODE);
    this.name = 'RedisGoneError';
  }
}

export interface RedisWatchOptions {
  target: RedisTarget;
  giveUpAfterMs: number;
  pingEveryMs?: number; // default 1000
  timeoutMs?: number; // a ping unanswered this long counts as lost (a cut link never refuses)
  onLog?(line: string): void;
  onDown?(): void;
  onBack?(back: { downMs: number; restarted: boolean }): void;
}

const isoSeconds = (t: number) => new Date(t).toISOString().replace(/\.\d+Z$/, 'Z');

export class RedisWatch {
  private readonly client: Redis;
  private timer?: NodeJS.Timeout;
  private runId?: string;
  private downSince?: number;
  private closed = false;
  private gaveUp?: RedisGoneError;
  private readonly giveUpWaiters = new Set<(e: RedisGoneError) => void>();
  private lastError?: Error;

  constructor(private readonly opts: RedisWatchOptions) {
    this.client = new Redis({
      ...connectionOptions(opts.target),
      lazyConnect: true,
      // fail fast while away instead of queueing: the ping loop is the retry
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: opts.timeoutMs ?? 3000,
      connectTimeout: opts.timeoutMs ?? 3000,
    });
    // every failure is reported once by the ping loop; ioredis would print each unhandled one
    this.client.on('error', (e: Error) => (this.lastError = e));
  }

  /** Whether the last ping was answered. */
  get reachable(): boolean {
    return this.downSince === undefined;
  }

  /** The client the watch pings with (for small writes such as the worker's heartbeat). */
  get redis(): Redis {
    return this.client;
  }

  /** Connects (the caller has checked that Redis answers) and starts pinging. */
  async start(): Promise<void> {
    await this.client.connect().catch(() => undefined);
    await this.check();
    this.schedule();
  }

  private schedule(): void {
    if (this.closed) return;
    this.timer = setTimeout(() => void this.check().finally(() => this.schedule()), this.opts.pingEveryMs ?? 1000);
  }

  private async serverRunId(): Promise<string | undefined> {
    const info = await this.client.info('server');
    return /^run_id:(\S+)/m.exec(info)?.[1];
  }

  /** Pings now: a restart is reported (onBack) before this resolves, if there was one. */
  checkNow(): Promise<void> {
    return this.check();
  }

  private async check(): Promise<void> {
    let runId: string | undefined;
    try {
      runId = await this.serverRunId();
    } catch (e) {
      this.lost(e as Error);
      return;
    }
    this.lastError = undefined;
    const restarted = this.runId !== undefined && runId !== undefined && runId !== this.runId;
    this.runId = runId ?? this.runId;
    if (this.downSince !== undefined) {
      const downMs = Date.now() - this.downSince;
      this.downSince = undefined;
      this.opts.onLog?.(
        `Redis at ${this.opts.target.url} is back after ${(downMs / 1000).toFixed(1)} s${restarted ? ' (the server restarted)' : ''}`,
      );
      this.opts.onBack?.({ downMs, restarted });
    } else if (restarted) {
      // restarted between two pings: nothing was seen missing, but its state may be
      this.opts.onLog?.(`Redis at ${this.opts.target.url} restarted`);
      this.opts.onBack?.({ downMs: 0, restarted });
    }
  }

  private lost(e: Error): void {
    if (this.closed) return;
    const now = Date.now();
    if (this.downSince === undefined) {
      this.downSince = now;
      // the socket's own error (ECONNREFUSED, ...) says more than the command's "stream isn't writeable"
      const cause = this.lastError ?? e;
      const why = (cause as NodeJS.ErrnoException).code ?? cause.message;
      this.opts.onLog?.(
        `lost the connection to Redis at ${this.opts.target.url} (${why}) at ${isoSeconds(now)}; retrying with backoff, giving up after ${this.opts.giveUpAfterMs / 1000} s (--give-up-after)`,
      );
      this.opts.onDown?.();
      return;
    }
    if (now - this.downSince >= this.opts.giveUpAfterMs && !this.gaveUp) {
      this.gaveUp = new RedisGoneError(
        `giving up: Redis at ${this.opts.target.url} unreachable since ${isoSeconds(this.downSince)} (${((now - this.downSince) / 1000).toFixed(0)} s; --give-up-after ${this.opts.giveUpAfterMs / 1000})`,
      );
      for (const w of [...this.giveUpWaiters]) w(this.gaveUp);
    }
  }

  /** Calls `then` once if the watch gives up; returns a function that cancels that. */
  onGiveUp(then: (e: RedisGoneError) => void): () => void {
    if (this.gaveUp) {
      then(this.gaveUp);
      return () => undefined;
    }
    const once = (e: RedisGoneError) => {
      this.giveUpWaiters.delete(once);
      then(e);
    };
    this.giveUpWaiters.add(once);
    return () => this.giveUpWaiters.delete(once);
  }

  /** `work`, unless the watch gives up first: then rejects with the RedisGoneError. */
  async guard<T>(work: Promise<T>): Promise<T> {
    let cancel = () => undefined as unknown;
    try {
      return await new Promise<T>((resolve, reject) => {
        cancel = this.onGiveUp(reject);
        work.then(resolve, reject);
      });
    } finally {
      cancel();
    }
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.client.disconnect();
  }
}
