// A queue worker: takes runs of any kind from the sweep queues on a Redis server and
// executes them in child processes (RunSlots), returning the result as the job's return value. It never
// touches a results store; the coordinator records what it returns.
// Its lifecycle is built for faults: a RedisWatch says when Redis is lost and back and
// gives up after a bound, and close() ends within a bounded time whether Redis answers
// or not (runs under way are abandoned when their results could not be delivered).
import { hostname } from 'node:os';
import { UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import { connectionOptions, QUEUE_PREFIX, queueLabel, type RedisTarget } from './connection.ts';
import { describeJob, versionMismatchMessage, type RunJobData, type RunJobReturn } from './jobs.ts';
import { registeredSweeps } from './queueStatus.ts';
import { RedisWatch, type RedisGoneError } from './redisWatch.ts';
import { RunSlots } from './runSlots.ts';
import { removeWorkerInfo, writeWorkerInfo, type WorkerRun } from './workerStatus.ts';

/** How long closing the connections may take before they are dropped. */
const CLOSE_TIMEOUT_MS = 3000;

// Connection failures are reported once by the RedisWatch; BullMQ repeats them every retry.
const CONNECTION_ERROR =
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EPIPE|Connection is closed|Command timed out|Stream isn't writeable/i;

function within<T>(ms: number, work: Promise<T>): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([work, new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), ms)))]).finally(() => clearTimeout(timer));
}

export interface RunWorkerOptions {
  target: RedisTarget;
  codeVersion: string;
  concurrency: number; // runs at once (child processes), per sweep queue
  sweeps?: string[]; // queue names; default every registered sweep, found as they appear
  artifactsDir?: string; // where this machine sees the shared artifacts directory
  dataDir?: string;
  lockMs: number; // a job whose worker stops renewing its lock this long goes back to the queue
  giveUpAfterMs: number; // Redis unreachable this long: the worker stops (whenGivenUp)
  discoverMs?: number;
  onLog?(line: string): void;
}

export class RunWorker {
  private readonly workers = new Map<string, Worker<RunJobData, RunJobReturn>>();
  private readonly slots: RunSlots;
  private discoverTimer?: NodeJS.Timeout;
  private heartbeatTimer?: NodeJS.Timeout;
  private closing = false;
  private closed?: Promise<void>;
  private abandonNow?: () => void;
  private forceRequested = false;
  private readonly watch: RedisWatch;
  private readonly host = hostname();
  private readonly startedAt = new Date().toISOString();
  private readonly runs = new Map<string, WorkerRun>(); // by queue and job id
  private readonly abandon = new Map<string, (reachable: boolean) => void>(); // same keys

  constructor(private readonly opts: RunWorkerOptions) {
    this.slots = new RunSlots(opts.concurrency);
    this.watch = new RedisWatch({
      target: opts.target,
      giveUpAfterMs: opts.giveUpAfterMs,
      onLog: (l) => this.log(l),
      // while Redis was away the runs' locks may have lapsed; say where they stand at once
      onBack: () => void this.heartbeat(),
      onDown: () => this.abandonNow?.(),
    });
  }

  private log(line: string): void {
    this.opts.onLog?.(line);
  }

  private async process(job: Job<RunJobData, RunJobReturn>): Promise<RunJobReturn> {
    const data = job.data;
    // refused without retry: no other attempt of this worker could succeed
    if (data.codeVersion !== this.opts.codeVersion) throw new UnrecoverableError(versionMismatchMessage(data.codeVersion, this.opts.codeVersion));
    const base = data.artifactsDir === null ? undefined : (this.opts.artifactsDir ?? data.artifactsDir);
    const what = `${data.key.slice(0, 10)} (${describeJob(data)})`;
    this.log(`run ${what}: started, attempt ${job.attemptsMade + 1}`);
    try {
      const out = await this.slots.run({
        kind: data.kind,
        config: data.config,
        key: data.key,
        artifactsDir: base,
        dataDir: this.opts.dataDir ?? data.dataDir,
        inputs: data.inputs,
        onEpoch: (epoch) => void job.updateProgress(epoch).catch(() => undefined),
      });
      const resumed = out.resumedFromEpoch > 0 ? ` (continued from the checkpoint of epoch ${out.resumedFromEpoch})` : '';
      this.log(`run ${what}: done in ${out.seconds.toFixed(1)} s${resumed}`);
      return {
        kind: data.kind,
        result: out.result,
        perImage: out.perImage,
        codeVersion: this.opts.codeVersion,
        host: hostname(),
        pid: process.pid,
        seconds: out.seconds,
      };
    } catch (e) {
      this.log(`run ${what}: failed: ${(e as Error).message}`);
      throw e;
    }
  }

  private attach(queueName: string): void {
    if (this.workers.has(queueName) || this.closing) return;
    const w = new Worker<RunJobData, RunJobReturn>(queueName, (job, token) => this.tracked(queueName, job, token), {
      connection: connectionOptions(this.opts.target),
      prefix: QUEUE_PREFIX,
      concurrency: this.opts.concurrency,
      lockDuration: this.opts.lockMs,
      stalledInterval: this.opts.lockMs,
      // a job may lose two workers (killed machines) before it is failed as stalled
      maxStalledCount: 2,
    });
    w.on('error', (e) => {
      if (!CONNECTION_ERROR.test(e.message)) this.log(`queue ${queueLabel(queueName)}: ${e.message}`);
    });
    w.on('locksRenewed', ({ jobIds }) => {
      const now = new Date().toISOString();
      for (const id of jobIds) {
        const r = this.runs.get(`${queueName}\n${id}`);
        if (r) r.lockRenewedAt = now;
      }
    });
    w.on('lockRenewalFailed', (ids) =>
      this.log(
        `queue ${queueLabel(queueName)}: lost the lock of run ${ids.map((i) => i.slice(0, 10)).join(', ')}; another worker may take it over, and this one's result will be refused`,
      ),
    );
    this.workers.set(queueName, w);
    this.log(`listening on ${queueLabel(queueName)} (${this.opts.concurrency} at once)`);
  }

  /**
   * Runs a job, keeping it in the list this worker announces for --status, and lets
   * shutDown abandon it: handed back to the queue (no attempt counted) when Redis answers,
   * else left unsettled so nothing is reported and its lock lapses.
   */
  private tracked(queueName: string, job: Job<RunJobData, RunJobReturn>, token: string | undefined): Promise<RunJobReturn> {
    const id = `${queueName}\n${job.id}`;
    const now = new Date().toISOString();
    this.runs.set(id, {
      queue: queueName,
      key: job.data.key,
      label: describeJob(job.data),
      attempt: job.attemptsMade + 1,
      startedAt: now,
      lockRenewedAt: now,
    });
    void this.heartbeat();
    const forget = () => {
      this.runs.delete(id);
      this.abandon.delete(id);
      void this.heartbeat();
    };
    return new Promise<RunJobReturn>((resolve, reject) => {
      let abandoned = false;
      this.abandon.set(id, (reachable) => {
        abandoned = true;
        forget();
        // a WaitingError after moveToWait tells BullMQ the job went back on purpose; a failed
        // hand-back leaves the job to its lapsing lock (BullMQ would retry a rejection forever while closing)
        if (reachable)
          job.moveToWait(token).then(
            () => reject(new WaitingError()),
            () => undefined,
          );
      });
      this.process(job).then(
        (v) => abandoned || (forget(), resolve(v)),
        (e: unknown) => abandoned || (forget(), reject(e)),
      );
    });
  }

  private async heartbeat(): Promise<void> {
    if (!this.watch.reachable || this.closing) return;
    const info = {
      host: this.host,
      pid: process.pid,
      codeVersion: this.opts.codeVersion,
      queues: [...this.workers.keys()],
      concurrency: this.opts.concurrency,
      lockMs: this.opts.lockMs,
      startedAt: this.startedAt,
      seenAt: new Date().toISOString(),
      runs: [...this.runs.values()],
    };
    // a lost heartbeat only makes --status older; the watch reports why
    await writeWorkerInfo(this.watch.redis, info, Math.max(60_000, 3 * this.opts.lockMs)).catch(() => undefined);
  }

  private async discover(): Promise<void> {
    const names = this.opts.sweeps ?? [...(await registeredSweeps(this.opts.target)).keys()];
    for (const n of names) this.attach(n);
  }

  async start(): Promise<void> {
    await this.watch.start();
    await this.discover();
    const beat = () => {
      this.heartbeatTimer = setTimeout(() => void this.heartbeat().finally(() => !this.closing && beat()), Math.min(5000, this.opts.lockMs / 2));
    };
    void this.heartbeat();
    beat();
    if (this.opts.sweeps) return;
    if (this.workers.size === 0) this.log('no sweep queued yet; waiting for one (spurlab sweep ... --queue URL)');
    const tick = () => {
      this.discoverTimer = setTimeout(() => {
        // while Redis is away the lookup would only wait; the watch says so
        const look = this.watch.reachable ? this.discover() : Promise.resolve();
        look
          .catch((e: Error) => this.log(`looking for sweeps: ${e.message}`))
          .finally(() => {
            if (!this.closing) tick();
          });
      }, this.opts.discoverMs ?? 2000);
    };
    tick();
  }

  /** Resolves with the error if Redis stays unreachable past giveUpAfterMs. */
  whenGivenUp(): Promise<RedisGoneError> {
    return new Promise((resolve) => this.watch.onGiveUp(resolve));
  }

  /**
   * Stops taking jobs and closes every connection. Waits for the runs under way unless
   * `force`, or Redis is unreachable (now or later while waiting): their results could
   * not be delivered, so they are abandoned; their locks lapse and another worker takes
   * them over. Called again with `force` while waiting, abandons them at once. Once the
   * runs are settled it takes at most about CLOSE_TIMEOUT_MS.
   */
  async close(force = false): Promise<void> {
    if (this.closed) {
      if (force) {
        this.forceRequested = true;
        this.abandonNow?.();
      }
      return this.closed;
    }
    this.closing = true;
    clearTimeout(this.discoverTimer);
    clearTimeout(this.heartbeatTimer);
    this.closed = this.shutDown(force);
    return this.closed;
  }

  private async shutDown(force: boolean): Promise<void> {
    const workers = [...this.workers.values()];
    const late = (what: string) => this.log(`${what} took over ${CLOSE_TIMEOUT_MS / 1000} s; left it`);
    if (!force && this.watch.reachable) {
      const graceful = Promise.all(workers.map((w) => w.close(false)));
      const outcome = await new Promise<'finished' | 'abandon'>((resolve) => {
        this.abandonNow = () => resolve('abandon');
        if (this.forceRequested || !this.watch.reachable) resolve('abandon');
        graceful.then(
          () => resolve('finished'),
          () => resolve('finished'),
        );
      });
      if (outcome === 'abandon') {
        this.abandonRuns();
        this.slots.close();
        // with Redis away, BullMQ's polite close would only wait for it
        if (
          this.watch.reachable &&
          (await within(
            CLOSE_TIMEOUT_MS,
            graceful.catch(() => undefined),
          )) === 'timeout'
        )
          late('closing the Redis connections');
      }
    } else {
      this.abandonRuns();
      if (
        (await within(
          CLOSE_TIMEOUT_MS,
          Promise.all(workers.map((w) => w.close(true))).catch(() => undefined),
        )) === 'timeout'
      )
        late('closing the Redis connections');
    }
    this.slots.close();
    if (this.watch.reachable)
      await within(
        1000,
        removeWorkerInfo(this.watch.redis, this.host, process.pid).catch(() => undefined),
      );
    this.watch.close();
  }

  private abandonRuns(): void {
    const n = this.abandon.size;
    if (n === 0) return;
    const reachable = this.watch.reachable;
    const runs = `${n} run${n === 1 ? '' : 's'} under way`;
    this.log(
      reachable
        ? `abandoning ${runs}: handed back to the queue for another worker`
        : `abandoning ${runs} (Redis is unreachable: the results could not be delivered); another worker takes ${n === 1 ? 'it' : 'them'} over when the lock lapses`,
    );
    for (const give of [...this.abandon.values()]) give(reachable);
  }
}
