// Whether a process is still running, for claims and temporary files named by pid.
import { readFileSync } from 'node:fs';

/**
 * True when `pid` names a live process of this machine. A zombie (dead, not yet reaped:
 * an orphan waits for init to reap it) counts as dead; on Linux its state is read from
 * /proc, elsewhere a zombie counts as alive, which only delays a takeover.
 */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: the process exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}
