// The coordinator of a queued sweep: enqueues the runs (of any kind) the results store
// does not have yet (job id = the run's key, so a run is in the queue at most once),
// stage by stage (the train runs others depend on first, then those), and records each
// finished job in the store through runOnce, after its kind has checked the result. Only the coordinator writes the store: workers may run on
// machines that cannot see it, and a job that ran twice (stalled, then finished by two
// workers) is still recorded once, because the store's claim refuses a done run.
import { Queue, type Job, type JobsOptions } from 'bullmq';
import { findKind, kindKey, prerequisiteKeys, type PlannedRun } from '../experiments/kinds/index.ts';
import { configKey } from '../experiments/sweep.ts';
import type { TrainConfig } from '../train/config.ts';
import { decodePerImage, type RunJobData, type RunJobReturn } from './jobs.ts';
import { connectionOptions, QUEUE_PREFIX, SWEEP_REGISTRY_KEY, sweepQueueName, type RedisTarget } from './connection.ts';
import { lostJobsMessage, requeueMissing, restartMessage } from './queueRecovery.ts';
import { DEFAULT_GIVE_UP_SECONDS, RedisWatch } from './redisWatch.ts';
import type { ResultsStore } from '../store/results.ts';

export interface QueuedSweepOptions {
  target: RedisTarget;
  sweepName: string;
  runs: PlannedRun[]; // planSweep's: dependencies first, by stage
  store: ResultsStore; // opened with codeVersion = this.codeVersion
  codeVersion: string;
  artifactsDir: string | null; // null: --no-artifacts
  dataDir?: string;
  attempts: number; // tries per run before it is reported failed
  backoffMs: number; // first retry delay; doubles each time
  pollMs?: number;
  giveUpAfterMs?: number; // Redis unreachable this long: enqueue() and collect() reject with a RedisGoneError
  onLog?(line: string): void; // Redis lost, back, restarted
  onProgress?(p: QueuedSweepProgress): void;
  onRunEnd?(run: PlannedRun, outcome: 'done' | 'failed', detail: string): void;
}

export interface QueuedSweepProgress {
  total: number;
  done: number;
  failed: number;
  active: number;
  workers: number;
}

export interface QueuedSweepSummary {
  queue: string;
  total: number;
  alreadyDone: number;
  enqueued: number;
  recorded: number;
  failed: { key: string; run: PlannedRun; error: string }[];
}

const RECHECK_EVERY_POLLS = 10;

export class SweepCoordinator {
  readonly queueName: string;
  private readonly queue: Queue<RunJobData, RunJobReturn>;
  private readonly pending = new Map<string, PlannedRun>();
  private readonly summary: QueuedSweepSummary;
  private restarted = false; // Redis restarted since the last poll: check for lost jobs now
  private watch?: RedisWatch;
  private requeuedSinceDown = 0;

  constructor(private readonly opts: QueuedSweepOptions) {
    this.queueName = sweepQueueName(opts.sweepName);
    this.queue = new Queue<RunJobData, RunJobReturn>(this.queueName, { connection: connectionOptions(opts.target), prefix: QUEUE_PREFIX });
    this.summary = { queue: this.queueName, total: opts.runs.length, alreadyDone: 0, enqueued: 0, recorded: 0, failed: [] };
  }

  private jobOptions(key: string): JobsOptions {
    return {
      jobId: key,
      attempts: this.opts.attempts,
      backoff: { type: 'exponential', delay: this.opts.backoffMs },
      // kept after they end: --status counts them, and a coordinator that died before
      // recording a result finds it again
      removeOnComplete: false,
      removeOnFail: false,
    };
  }

  private jobData(run: PlannedRun): RunJobData {
    const data: RunJobData = {
      key: run.key,
      kind: run.kind,
      config: run.config,
      codeVersion: this.opts.codeVersion,
      sweep: this.queueName,
      artifactsDir: this.opts.artifactsDir,
      dataDir: this.opts.dataDir,
    };
    // a run reading other runs' results (LiRA's shadow models) gets them from the store: its stage comes after theirs
    const inputs = findKind(run.kind).inputs?.(run.config) ?? [];
    if (inputs.length > 0) {
      data.inputs = {};
      for (const ref of inputs) {
        const kind = findKind(ref.kind);
        const key = kindKey(kind, kind.configure({ ...ref.config }));
        const rec = this.opts.store.get(key);
        if (rec?.status === 'done' && rec.result) data.inputs[key] = rec.result;
      }
    }
    return data;
  }

  private async reenqueue(job: Job<RunJobData, RunJobReturn>): Promise<void> {
    const run = this.pending.get(job.id!)!;
    await job.remove();
    await this.queue.add('run', this.jobData(run), this.jobOptions(job.id!));
    this.summary.enqueued++;
  }

  /** The stages of the sweep in order (0: runs that need nothing; 1: runs that need stage 0's). */
  stages(): number[] {
    return [...new Set(this.opts.runs.map((r) => r.stage))].sort((a, b) => a - b);
  }

  /** Lists the sweep where workers look for queues (again after Redis lost it). */
  private async register(): Promise<void> {
    const client = await this.queue.client;
    await client.hset(SWEEP_REGISTRY_KEY, {
      [this.queueName]: JSON.stringify({ codeVersion: this.opts.codeVersion, runs: this.opts.runs.length, at: new Date().toISOString() }),
    });
  }

  /** Puts back the pending runs the queue lost; says what it found after a restart. */
  private async recover(afterRestart: boolean): Promise<void> {
    if (afterRestart) await this.register();
    const found = await requeueMissing(
      this.queue,
      this.pending,
      (key) => this.opts.store.isDone(key),
      async (key, run) => {
        await this.queue.add('run', this.jobData(run), this.jobOptions(key));
        this.summary.enqueued++;
      },
    );
    // a periodic check may have found the loss before the restart was known
    this.requeuedSinceDown += found.missing;
    if (afterRestart) this.opts.onLog?.(restartMessage(this.opts.target.url, { missing: this.requeuedSinceDown, pending: found.pending }));
    else if (found.missing > 0) this.opts.onLog?.(lostJobsMessage(this.opts.target.url, found));
    if (afterRestart) this.requeuedSinceDown = 0;
  }

  /** The watch on the Redis connection, started on first use and ended by close(). */
  private async watching(): Promise<RedisWatch> {
    if (this.watch) return this.watch;
    // while Redis is away the queue's commands wait for it; the watch says so and bounds the wait
    this.watch = new RedisWatch({
      target: this.opts.target,
      giveUpAfterMs: this.opts.giveUpAfterMs ?? DEFAULT_GIVE_UP_SECONDS * 1000,
      onLog: this.opts.onLog,
      onDown: () => (this.requeuedSinceDown = 0),
      onBack: ({ restarted }) => {
        if (restarted) this.restarted = true;
      },
    });
    await this.watch.start();
    return this.watch;
  }

  /** Enqueues the runs of `stage` (every stage if omitted) not done in the store; returns how many are left to wait for. */
  async enqueue(stage?: number): Promise<number> {
    const watch = await this.watching();
    return watch.guard(this.enqueueStage(stage));
  }

  private async enqueueStage(stage?: number): Promise<number> {
    const { store } = this.opts;
    const runs = this.opts.runs.filter((r) => stage === undefined || r.stage === stage);
    await this.register();
    const fresh: { name: string; data: RunJobData; opts: JobsOptions }[] = [];
    const failedKeys = new Set(this.summary.failed.map((f) => f.key));
    for (const run of runs) {
      const key = run.key;
      if (store.isDone(key)) {
        this.summary.alreadyDone++;
        continue;
      }
      // a run whose train run failed would only fail the same way (or train it again)
      const needs = prerequisiteKeys(run);
      const failedDep = needs.find((k: string) => failedKeys.has(k));
      if (failedDep !== undefined) {
        const what = findKind(run.kind)
          .dependencies(run.config)
          .some((c: TrainConfig) => configKey(c) === failedDep)
          ? 'train run'
          : 'input run';
        const error = `not run: the ${what} it needs (${failedDep.slice(0, 12)}) failed`;
        this.summary.failed.push({ key, run, error });
        this.opts.onRunEnd?.(run, 'failed', error);
        continue;
      }
      this.pending.set(key, run);
      const job = await this.queue.getJob(key);
      if (!job) {
        fresh.push({ name: 'run', data: this.jobData(run), opts: this.jobOptions(key) });
        continue;
      }
      const state = await job.getState();
      // a failed run is tried again by a new invocation; a waiting job of other code is replaced
      if (state === 'failed' || (state !== 'active' && state !== 'completed' && job.data.codeVersion !== this.opts.codeVersion))
        await this.reenqueue(job);
    }
    for (let i = 0; i < fresh.length; i += 500) await this.queue.addBulk(fresh.slice(i, i + 500));
    this.summary.enqueued += fresh.length;
    return this.pending.size;
  }

  private async record(key: string, job: Job<RunJobData, RunJobReturn>): Promise<'done' | 'wait'> {
    const run = this.pending.get(key)!;
    const kind = findKind(run.kind);
    const ret = job.returnvalue;
    const result = kind.checkResult(ret.result, `job ${key} (kind ${run.kind})`);
    const perImage = ret.perImage === null ? undefined : decodePerImage(ret.perImage, `job ${key}`);
    const o = await this.opts.store.runOnce({ key, config: kind.storeConfig(run.config), kind: run.kind }, () => ({ result, perImage }));
    // 'busy': another process holds a live claim and will record it
    if (o.status === 'busy') return 'wait';
    if (o.status === 'ran') {
      this.summary.recorded++;
      this.opts.onRunEnd?.(run, 'done', `${kind.outcome(result)} on ${ret.host} (pid ${ret.pid}) in ${ret.seconds.toFixed(1)} s`);
    }
    return 'done';
  }

  private async recordFailure(key: string, job: Job<RunJobData, RunJobReturn>): Promise<void> {
    const run = this.pending.get(key)!;
    const error = `${job.failedReason} (after ${job.attemptsMade} attempt${job.attemptsMade === 1 ? '' : 's'})`;
    const failure = new Error(error);
    // the worker's stack (BullMQ keeps one per attempt) is the useful one
    failure.stack = [error, ...(job.stacktrace ?? []).slice(-1)].join('\n');
    await this.opts.store
      .runOnce({ key, config: findKind(run.kind).storeConfig(run.config), kind: run.kind }, () => {
        throw failure;
      })
      .catch(() => undefined);
    this.summary.failed.push({ key, run, error });
    this.opts.onRunEnd?.(run, 'failed', error);
  }

  private async pollOnce(poll: number): Promise<void> {
    const [completed, failed] = await Promise.all([this.queue.getRanges(['completed'], 0, -1), this.queue.getRanges(['failed'], 0, -1)]);
    for (const id of completed) {
      if (!this.pending.has(id)) continue;
      const job = await this.queue.getJob(id);
      if (!job) continue;
      if (job.returnvalue?.codeVersion !== this.opts.codeVersion) {
        // a worker of other code finished a job enqueued by an earlier coordinator
        await this.reenqueue(job);
        continue;
      }
      if ((await this.record(id, job)) === 'done') this.pending.delete(id);
    }
    for (const id of failed) {
      if (!this.pending.has(id)) continue;
      const job = await this.queue.getJob(id);
      if (!job) continue;
      await this.recordFailure(id, job);
      this.pending.delete(id);
    }
    if (this.restarted || poll % RECHECK_EVERY_POLLS === RECHECK_EVERY_POLLS - 1) {
      // the queue's connection may be back before the watch's: let it tell a restart first
      await this.watch?.checkNow();
      const afterRestart = this.restarted;
      this.restarted = false;
      await this.recover(afterRestart);
    }
  }

  private async progress(): Promise<void> {
    if (!this.opts.onProgress) return;
    const [active, workers] = await Promise.all([this.queue.getActiveCount(), this.queue.getWorkersCount().catch(() => 0)]);
    const s = this.summary;
    this.opts.onProgress({ total: s.total, done: s.alreadyDone + s.recorded, failed: s.failed.length, active, workers });
  }

  /** Waits until every enqueued run is recorded as done or failed. */
  async collect(): Promise<QueuedSweepSummary> {
    const pollMs = this.opts.pollMs ?? 1000;
    const watch = await this.watching();
    for (let poll = 0; this.pending.size > 0; poll++) {
      await watch.guard(this.pollOnce(poll));
      await watch.guard(this.progress());
      if (this.pending.size > 0) await new Promise((r) => setTimeout(r, pollMs));
    }
    // the last results can arrive on the queue's connection before the watch's next ping
    // sees Redis back (or restarted): ask once more, so the log says what happened
    await watch.guard(watch.checkNow());
    if (this.restarted) {
      this.restarted = false;
      await watch.guard(this.recover(true));
    }
    return this.summary;
  }

  async close(): Promise<void> {
    const redisGone = this.watch !== undefined && !this.watch.reachable;
    this.watch?.close();
    this.watch = undefined;
    // a Redis that is gone would hold a polite QUIT forever
    if (redisGone) return (await this.queue.client).disconnect();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), 3000)));
    // then drop the socket without waiting for its end (which never comes while ioredis is between retries)
    if ((await Promise.race([this.queue.close(), late]).finally(() => clearTimeout(timer))) === 'late') (await this.queue.client).disconnect();
  }
}

/**
 * Enqueues a sweep and records its results as they finish, stage by stage: a run that
 * needs a trained model is queued once that model's train run is recorded (a worker
 * finds its checkpoint in the shared artifacts directory, or trains it if it is missing).
 */
export async function runQueuedSweep(opts: QueuedSweepOptions): Promise<QueuedSweepSummary> {
  const c = new SweepCoordinator(opts);
  try {
    let summary: QueuedSweepSummary | undefined;
    for (const stage of c.stages()) {
      await c.enqueue(stage);
      summary = await c.collect();
    }
    return summary ?? (await c.collect());
  } finally {
    await c.close();
  }
}
