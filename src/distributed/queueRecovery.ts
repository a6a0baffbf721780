// A coordinator's recovery after Redis lost its state (restarted without persistence, or
// evicted keys under memory pressure): the results store is the truth, so every run the
// coordinator still waits for that is neither in the store nor anywhere in the queue is
// put back. Runs finished meanwhile but not yet recorded are lost with the queue and run
// again; the store's claim still records each run once.
import type { Queue } from 'bullmq';

// Every state a BullMQ job id can be listed under; a pending run missing from all was removed.
const ALL_STATES = ['completed', 'failed', 'active', 'waiting', 'delayed', 'prioritized', 'paused', 'waiting-children'] as const;

export interface Requeued {
  missing: number; // runs waited for that the queue no longer had
  pending: number; // runs waited for in all
}

/**
 * Re-adds the pending runs the queue has lost. `add` enqueues one run as the coordinator
 * does (same job id and options); `isDone` asks the store, which may have recorded a run
 * since it was listed as pending.
 */
export async function requeueMissing<C>(
  queue: Queue,
  pending: ReadonlyMap<string, C>,
  isDone: (key: string) => boolean,
  add: (key: string, config: C) => Promise<void>,
): Promise<Requeued> {
  const known = new Set(await queue.getRanges([...ALL_STATES], 0, -1));
  let missing = 0;
  for (const [key, cfg] of pending) {
    if (known.has(key) || isDone(key)) continue;
    await add(key, cfg);
    missing++;
  }
  return { missing, pending: pending.size };
}

/** What the coordinator says after a Redis restart: `r.missing` counts every run re-queued since Redis went away. */
export function restartMessage(url: string, r: Requeued): string {
  if (r.pending === 0) return `Redis at ${url} restarted after every run was recorded`;
  if (r.missing === 0) return `Redis at ${url} restarted with the queue intact (${r.pending} runs still to record)`;
  return `Redis at ${url} restarted without the queue's state (persistence off?): ${r.missing} of ${r.pending} runs still to record were missing; re-queued them from the results store`;
}

/** What the coordinator says when a routine check finds runs gone from the queue. */
export function lostJobsMessage(url: string, r: Requeued): string {
  return `the queue at ${url} had lost ${r.missing} of ${r.pending} runs still to record (a restart without persistence, or eviction: see maxmemory-policy); re-queued them from the results store`;
}
