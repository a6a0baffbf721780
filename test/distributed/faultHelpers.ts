// Fixtures for the queue fault tests: a redis-server that can be stopped and started
// again on the same port (with or without persistence), and timing helpers.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { tempDir } from '../helpers.ts';

export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => ok(port));
    });
  });
}

export interface RestartableRedis {
  url: string;
  port: number;
  dir: string;
  start(): Promise<void>;
  /** SIGTERM, as an operator's restart does (Redis writes its AOF/RDB first when persistence is on). */
  stop(): Promise<void>;
  log(): string;
}

/**
 * A redis-server on 127.0.0.1:<free port> keeping its files in a temporary directory.
 * persist: AOF on (fsync every second) plus RDB, as an operator would run it; otherwise
 * nothing is kept and a restart comes back empty. `prefix` runs it under a wrapper
 * (e.g. ip netns exec NS) with `bind` as its address.
 */
export async function restartableRedis(opts: { persist: boolean; bind?: string; port?: number; prefix?: string[] }): Promise<RestartableRedis> {
  const port = opts.port ?? (await freePort());
  const bind = opts.bind ?? '127.0.0.1';
  const dir = tempDir('spurlab-redis-');
  const persistence = opts.persist ? ['--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '60 1'] : ['--appendonly', 'no', '--save', ''];
  let child: ChildProcess | undefined;
  let log = '';
  const start = async () => {
    const argv = [
      'redis-server',
      '--port',
      String(port),
      '--bind',
      bind,
      '--dir',
      dir,
      '--protected-mode',
      'no',
      '--maxmemory-policy',
      'noeviction',
      ...persistence,
      '--daemonize',
      'no',
    ];
    const full = [...(opts.prefix ?? []), ...argv];
    child = spawn(full[0], full.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (b: Buffer) => (log += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (log += b.toString()));
    const failed = new Promise<never>((_, fail) => {
      child!.once('error', (e: NodeJS.ErrnoException) =>
        fail(
          new Error(
            e.code === 'ENOENT' ? 'redis-server is not installed: the distributed tests need it (apt-get install -y redis-server)' : e.message,
          ),
        ),
      );
    });
    const listening = new Promise<void>((ok, fail) => {
      const deadline = Date.now() + 10_000;
      const check = () => {
        if (/Ready to accept connections/.test(log)) ok();
        else if (child!.exitCode !== null) fail(new Error(`redis-server exited: ${log}`));
        else if (Date.now() > deadline) fail(new Error(`redis-server not ready within 10 s: ${log}`));
        else setTimeout(check, 25);
      };
      check();
    });
    await Promise.race([listening, failed]);
  };
  const stop = () =>
    new Promise<void>((ok) => {
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return ok();
      c.once('exit', () => ok());
      c.kill('SIGTERM');
    });
  await start();
  return { url: `redis://${bind}:${port}`, port, dir, start, stop, log: () => log };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Seconds from `from` (a performance.now() value) to now, for the reported recovery times. */
export const secondsSince = (from: number) => (performance.now() - from) / 1000;

/** SIGTERM, then SIGKILL after `graceMs`: a stuck worker must fail its test, not hang the suite. */
export async function stopOrKill(procs: { child: ChildProcess; exited: Promise<number> }[], graceMs = 15_000): Promise<void> {
  await Promise.all(
    procs.map(async (p) => {
      if (p.child.exitCode !== null || p.child.signalCode !== null) return;
      p.child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), graceMs)));
      if ((await Promise.race([p.exited, late])) === 'late') p.child.kill('SIGKILL');
      clearTimeout(timer);
      await p.exited;
    }),
  );
}
