// A child process that trains for a parent (a `sweep --workers N` process, a worker's run
// slot) must stop when its parent dies, even by kill -9, instead of training on for
// hours unseen. Training is synchronous and holds the main thread for a whole run, so
// neither a timer nor the IPC 'disconnect' event would fire in time; a worker thread
// watches instead and ends the process with SIGTERM (SIGKILL if that is not enough).
// Ending it is safe: checkpoints and the store's rows are written atomically, and the
// run's claim names this dead pid, so the next sweep takes the run over and continues
// it from its last finished epoch.
import { Worker } from 'node:worker_threads';

/** Set by a parent on the children it spawns: its own pid. */
export const PARENT_PID_ENV = 'SPURLAB_PARENT_PID';

// Plain JavaScript: eval'd worker threads load no TypeScript loader.
const WATCHER = `
const { workerData } = require('node:worker_threads');
const fs = require('node:fs');
const { parentPid, selfPid, intervalMs, message } = workerData;
function currentParent() {
  // Linux: the parent as it is now (an orphan is re-parented); elsewhere undefined
  try {
    const stat = fs.readFileSync('/proc/self/stat', 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}
function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}
const timer = setInterval(() => {
  const now = currentParent();
  if (now === undefined ? alive(parentPid) : now === parentPid) return;
  clearInterval(timer);
  try { fs.writeSync(2, message); } catch {}
  process.kill(selfPid, 'SIGTERM');
  // a SIGTERM handler in a busy main thread would never run: make sure
  setTimeout(() => process.kill(selfPid, 'SIGKILL'), 5000);
}, intervalMs);
`;

export interface ParentWatch {
  stop(): Promise<void>;
}

/**
 * Ends this process soon after `parentPid` dies (checked every `intervalMs`). Returns
 * null, watching nothing, when `parentPid` is not this process's parent (the variable
 * was inherited from further up). The watcher does not keep the process alive.
 */
export function exitWhenParentDies(parentPid: number, what: string, intervalMs = 500): ParentWatch | null {
  if (!Number.isSafeInteger(parentPid) || parentPid <= 1 || parentPid !== process.ppid) return null;
  const message = `spurlab: ${what} (pid ${process.pid}): its parent process ${parentPid} has died; stopping (the run under way is taken over by the next sweep)\n`;
  const worker = new Worker(WATCHER, { eval: true, workerData: { parentPid, selfPid: process.pid, intervalMs, message } });
  worker.unref();
  return { stop: async () => void (await worker.terminate()) };
}

/** exitWhenParentDies for the parent named by SPURLAB_PARENT_PID, if any. */
export function exitWithSpawningParent(what: string): ParentWatch | null {
  const raw = process.env[PARENT_PID_ENV];
  return raw === undefined ? null : exitWhenParentDies(Number(raw), what);
}
