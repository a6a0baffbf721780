// `spurlab sweep --status`: how many runs of a sweep's queue are queued, active, done
// and failed, read from Redis (not from the results store, which only the coordinator
// writes).
import { Queue } from 'bullmq';
import { connectionOptions, QUEUE_PREFIX, queueLabel, SWEEP_REGISTRY_KEY, type RedisTarget } from './connection.ts';

export interface QueueStatus {
  queue: string; // spurlab:<sweep>
  codeVersion: string | null; // of the coordinator that last enqueued it
  queued: number; // waiting, delayed (backing off before a retry), prioritized or paused
  active: number;
  done: number;
  failed: number;
  workers: number; // workers connected to this queue now
}

/** Names of the sweep queues coordinators have registered on this Redis. */
export async function registeredSweeps(target: RedisTarget): Promise<Map<string, { codeVersion: string | null }>> {
  const probe = new Queue(SWEEP_REGISTRY_KEY.replace(/:/g, '-'), { connection: connectionOptions(target), prefix: QUEUE_PREFIX });
  try {
    const entries = await (await probe.client).hgetall(SWEEP_REGISTRY_KEY);
    const out = new Map<string, { codeVersion: string | null }>();
    for (const [name, text] of Object.entries(entries).sort(([a], [b]) => a.localeCompare(b))) {
      let codeVersion: string | null = null;
      try {
        codeVersion = (JSON.parse(text) as { codeVersion?: string }).codeVersion ?? null;
      } catch {
        // an entry written by hand or by a future version: still a queue name
      }
      out.set(name, { codeVersion });
    }
    return out;
  } finally {
    await probe.close();
  }
}

export async function queueStatus(target: RedisTarget, queueName: string, codeVersion: string | null = null): Promise<QueueStatus> {
  const queue = new Queue(queueName, { connection: connectionOptions(target), prefix: QUEUE_PREFIX });
  try {
    const c = await queue.getJobCounts('waiting', 'delayed', 'prioritized', 'paused', 'active', 'completed', 'failed');
    const workers = await queue.getWorkersCount().catch(() => 0);
    return {
      queue: queueLabel(queueName),
      codeVersion,
      queued: (c.waiting ?? 0) + (c.delayed ?? 0) + (c.prioritized ?? 0) + (c.paused ?? 0),
      active: c.active ?? 0,
      done: c.completed ?? 0,
      failed: c.failed ?? 0,
      workers,
    };
  } finally {
    await queue.close();
  }
}
