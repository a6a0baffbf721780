// A fixed pool of child processes that execute runs (of any kind) for a worker, one run
// per child at a time; the cores are split between them. A child that dies is replaced at the next run.
import { fork, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { UserError } from '../util/errors.ts';
import type { SlotReply, SlotRequest } from './jobs.ts';

// The child runs the same form of the code as its parent: compiled dist/*.js under the CLI,
// TypeScript through tsx only when the parent itself runs from src/ (the tests).
const FROM_SOURCE = import.meta.url.endsWith('.ts');
const CHILD = fileURLToPath(new URL(FROM_SOURCE ? './runChild.ts' : './runChild.js', import.meta.url));

export interface SlotRun {
  kind: string;
  config: object;
  key: string;
  artifactsDir?: string; // shared: this run's artifacts go to <dir>/<key>
  dataDir?: string;
  inputs?: Record<string, object>; // results of the run's input runs, by key
  onEpoch?(epoch: number): void;
}

export interface SlotOutcome {
  result: object;
  perImage: string | null;
  seconds: number;
  resumedFromEpoch: number; // > 0: a killed attempt's checkpoint was continued
}

interface Slot {
  child?: ChildProcess;
  busy: boolean;
}

export class RunSlots {
  private readonly slots: Slot[];
  private readonly threads: string;
  private nextId = 1;

  constructor(count: number) {
    this.slots = Array.from({ length: count }, () => ({ busy: false }));
    // A user's SPURLAB_THREADS wins; otherwise the cores are shared evenly.
    this.threads = process.env.SPURLAB_THREADS ?? String(Math.max(1, Math.floor(availableParallelism() / count)));
    // started now, when the worker computes its code version, so they load the code it announces
    for (const s of this.slots) s.child = this.spawnChild();
  }

  private spawnChild(): ChildProcess {
    return fork(CHILD, [], {
      // tsx by absolute URL: the worker may run from any directory
      execArgv: FROM_SOURCE ? ['--import', import.meta.resolve('tsx')] : [],
      env: { ...process.env, SPURLAB_THREADS: this.threads },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
  }

  // Runs that wait for a child: a worker on several sweep queues may take more jobs than children.
  private readonly waiting: ((slot: Slot) => void)[] = [];

  private acquire(): Promise<Slot> {
    const slot = this.slots.find((s) => !s.busy);
    if (slot) {
      slot.busy = true;
      return Promise.resolve(slot);
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private releaseSlot(slot: Slot): void {
    const next = this.waiting.shift();
    if (next) next(slot);
    else slot.busy = false;
  }

  /** Executes one run in a free child; rejects with the run's error (a UserError if it was one). */
  async run(req: SlotRun): Promise<SlotOutcome> {
    const slot = await this.acquire();
    if (!slot.child || slot.child.exitCode !== null || slot.child.signalCode !== null) slot.child = this.spawnChild();
    const child = slot.child;
    const id = this.nextId++;
    return new Promise<SlotOutcome>((resolve, reject) => {
      const finish = () => {
        child.off('message', onMessage);
        child.off('exit', onExit);
        this.releaseSlot(slot);
      };
      const onMessage = (msg: SlotReply) => {
        if (msg.id !== id) return;
        if (msg.type === 'epoch') {
          req.onEpoch?.(msg.epoch);
          return;
        }
        finish();
        if (msg.type === 'done')
          resolve({ result: msg.result, perImage: msg.perImage, seconds: msg.seconds, resumedFromEpoch: msg.resumedFromEpoch });
        else reject(msg.userError ? new UserError(msg.message) : new Error(msg.message));
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
        finish();
        reject(new Error(`the training process ended before finishing the run (${signal ? `signal ${signal}` : `exit code ${code}`})`));
      };
      child.on('message', onMessage);
      child.on('exit', onExit);
      const request: SlotRequest = {
        type: 'run',
        id,
        kind: req.kind,
        config: req.config,
        key: req.key,
        artifactsDir: req.artifactsDir,
        dataDir: req.dataDir,
        inputs: req.inputs,
      };
      child.send(request);
    });
  }

  /** Ends every child (their runs, if any, are abandoned). */
  close(): void {
    for (const s of this.slots) {
      if (s.child && s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGTERM');
      s.child = undefined;
    }
  }
}
