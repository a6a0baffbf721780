// A queue worker: takes runs of any kind from the sweep queues on a Redis server and
// executes them in child processes (RunSlots), returning the result as the job's return value. It never
// touches a results store; the coordinator records what it returns.
import { hostname } from 'node:os';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { connectionOptions, QUEUE_PREFIX, queueLabel, type RedisTarget } from './connection.ts';
import { describeJob, versionMismatchMessage, type RunJobData, type RunJobReturn } from './jobs.ts';
import { registeredSweeps } from './queueStatus.ts';
import { RunSlots } from './runSlots.ts';

export interface RunWorkerOptions {
  target: RedisTarget;
  codeVersion: string;
  concurrency: number; // runs at once (child processes), per sweep queue
  sweeps?: string[]; // queue names; default every registered sweep, found as they appear
  artifactsDir?: string; // where this machine sees the shared artifacts directory
  dataDir?: string;
  lockMs: number; // a job whose worker stops renewing its lock this long goes back to the queue
  discoverMs?: number;
  onLog?(line: string): void;
}

export class RunWorker {
  private readonly workers = new Map<string, Worker<RunJobData, RunJobReturn>>();
  private readonly slots: RunSlots;
  private discoverTimer?: NodeJS.Timeout;
  private closing = false;

  constructor(private readonly opts: RunWorkerOptions) {
    this.slots = new RunSlots(opts.concurrency);
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
        kind: data.kind, config: data.config, key: data.key,
        artifactsDir: base,
        dataDir: this.opts.dataDir ?? data.dataDir,
        onEpoch: (epoch) => void job.updateProgress(epoch).catch(() => undefined),
      });
      const resumed = out.resumedFromEpoch > 0 ? ` (continued from the checkpoint of epoch ${out.resumedFromEpoch})` : '';
      this.log(`run ${what}: done in ${out.seconds.toFixed(1)} s${resumed}`);
      return { kind: data.kind, result: out.result, perImage: out.perImage, codeVersion: this.opts.codeVersion, host: hostname(), pid: process.pid, seconds: out.seconds };
    } catch (e) {
      this.log(`run ${what}: failed: ${(e as Error).message}`);
      throw e;
    }
  }

  private attach(queueName: string): void {
    if (this.workers.has(queueName) || this.closing) return;
    const w = new Worker<RunJobData, RunJobReturn>(queueName, (job) => this.process(job), {
      connection: connectionOptions(this.opts.target),
      prefix: QUEUE_PREFIX,
      concurrency: this.opts.concurrency,
      lockDuration: this.opts.lockMs,
      stalledInterval: this.opts.lockMs,
      // a job may lose two workers (killed machines) before it is failed as stalled
      maxStalledCount: 2,
    });
    w.on('error', (e) => this.log(`queue ${queueLabel(queueName)}: ${e.message}`));
    this.workers.set(queueName, w);
    this.log(`listening on ${queueLabel(queueName)} (${this.opts.concurrency} at once)`);
  }

  private async discover(): Promise<void> {
    const names = this.opts.sweeps ?? [...(await registeredSweeps(this.opts.target)).keys()];
    for (const n of names) this.attach(n);
  }

  async start(): Promise<void> {
    await this.discover();
    if (this.opts.sweeps) return;
    if (this.workers.size === 0) this.log('no sweep queued yet; waiting for one (spurlab sweep ... --queue URL)');
    const tick = () => {
      this.discoverTimer = setTimeout(() => {
        this.discover().catch((e: Error) => this.log(`looking for sweeps: ${e.message}`)).finally(() => {
          if (!this.closing) tick();
        });
      }, this.opts.discoverMs ?? 2000);
    };
    tick();
  }

  /** Stops taking jobs; waits for the runs under way unless `force`. */
  async close(force = false): Promise<void> {
    this.closing = true;
    clearTimeout(this.discoverTimer);
    await Promise.all([...this.workers.values()].map((w) => w.close(force)));
    this.slots.close();
  }
}
